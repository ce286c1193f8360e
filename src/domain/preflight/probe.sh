# acp-cockpit node probe, format 1. Read-only, non-interactive, bounded.
# Output: "@@acp-probe 1", then sections "@@kv NAME" (key=value lines) or "@@raw NAME"
# (tool output, each line prefixed by "|"), "@@missing TOOL" for a tool that is absent,
# and "@@end" last, so that a cut-off run is recognisable.
# Written without exclamation marks and without single quotes, so that it survives the
# quoting of any login shell when sent as one single-quoted sh -c argument. The body is
# one function so that sh -s can read it from stdin while every command inside reads
# /dev/null.
acp_probe() {
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH
LC_ALL=C
export PATH LC_ALL
have() { command -v "$1" >/dev/null 2>&1; }
T=
if have timeout && timeout 5 true; then T="timeout 5"; fi
raw() {
  n=0
  while IFS= read -r l || [ -n "$l" ]; do
    n=$((n + 1))
    if [ "$n" -le 400 ]; then printf "|%s\n" "$l"; fi
  done
  if [ "$n" -gt 400 ]; then echo "@@truncated $n"; fi
}
missing() { echo "@@missing $1"; }
# One line of a file into $r; `read` reports failure on some /proc files even when it read.
rd() {
  r=
  read -r r <"$1" 2>/dev/null
  [ -n "$r" ] || r=$(cat "$1" 2>/dev/null)
}

echo "@@acp-probe 1"
echo "@@kv clock"
echo "now=$(date +%s.%N)"

echo "@@kv identity"
uid=
if have id; then
  uid=$(id -u)
  echo "uid=$uid"
  echo "user=$(id -un)"
else
  missing id
fi
have whoami && echo "whoami=$(whoami)"
SUDO=
if [ "$uid" = 0 ]; then
  echo "sudo=root"
elif have sudo; then
  if $T sudo -n true >/dev/null 2>&1; then
    echo "sudo=passwordless"
    SUDO="sudo -n"
  else
    echo "sudo=denied"
  fi
else
  missing sudo
  echo "sudo=missing"
fi
priv=no
if [ "$uid" = 0 ] || [ -n "$SUDO" ]; then priv=yes; fi

echo "@@kv platform"
if have uname; then
  echo "arch=$(uname -m)"
  echo "kernel=$(uname -r)"
  echo "hostname=$(uname -n)"
else
  missing uname
  if [ -r /proc/sys/kernel/hostname ]; then
    rd /proc/sys/kernel/hostname && echo "hostname=$r"
  fi
fi
if have getconf; then
  echo "long_bit=$(getconf LONG_BIT)"
  echo "cpus=$(getconf _NPROCESSORS_ONLN)"
else
  missing getconf
  if have nproc; then
    echo "cpus=$(nproc --all)"
  elif [ -r /proc/cpuinfo ]; then
    c=0
    while read -r k rest; do
      case "$k" in processor) c=$((c + 1)) ;; esac
    done </proc/cpuinfo
    echo "cpus=$c"
  fi
fi
if [ -r /proc/meminfo ]; then
  while read -r k v rest; do
    case "$k" in MemTotal:) echo "mem_total_kb=$v" ;; esac
  done </proc/meminfo
fi
if [ -r /etc/machine-id ]; then
  rd /etc/machine-id
  echo "machine_id=$r"
fi
f=/sys/class/dmi/id/product_uuid
if [ -e "$f" ]; then
  p=$($T $SUDO cat "$f" 2>/dev/null)
  if [ -n "$p" ]; then echo "product_uuid=$p"; else echo "product_uuid=unreadable"; fi
else
  echo "product_uuid=absent"
fi
if have modinfo; then
  if $T modinfo iptable_nat >/dev/null 2>&1; then
    echo "iptable_nat=found"
  else
    echo "iptable_nat=notfound"
  fi
else
  missing modinfo
fi

for f in /etc/os-release /usr/lib/os-release; do
  if [ -r "$f" ]; then
    echo "@@raw os-release"
    raw <"$f"
    break
  fi
done

if have df; then
  for d in /var/lib /var/log; do
    echo "@@raw df $d"
    $T df -P -k "$d" 2>/dev/null | raw
  done
else
  missing df
fi

if have ss; then
  echo "@@raw ss"
  { $T $SUDO ss -Htlnup 2>/dev/null || $T $SUDO ss -tlnup 2>/dev/null; } | raw
else
  missing ss
  for f in tcp tcp6; do
    if [ -r "/proc/net/$f" ]; then
      echo "@@raw proc-net-$f"
      raw <"/proc/net/$f"
    fi
  done
fi

echo "@@kv paths"
echo "privileged=$priv"
for d in /var/lib/etcd /var/lib/cni /etc/cni/net.d /etc/kubernetes/manifests /root/.kube/config; do
  case "$d:$priv" in
    /root/*:no) echo "$d=unknown"; continue ;;
  esac
  if $SUDO test -d "$d"; then
    e=$($T $SUDO ls -A "$d" 2>/dev/null | { i=0; s=; while read -r x; do i=$((i + 1)); if [ "$i" -le 5 ]; then s="$s $x"; fi; done; echo "$i$s"; })
    case "$e" in
      0*) echo "$d=empty-dir" ;;
      *) echo "$d=dir"; echo "$d.entries=${e#* }" ;;
    esac
  elif $SUDO test -e "$d"; then
    echo "$d=file"
  else
    echo "$d=absent"
  fi
done

echo "@@kv binaries"
for b in sysctl swapoff sed getconf ss grep id uname modinfo ip awk iptables which conntrack socat nsenter ebtables ethtool tc mount; do
  w=$(command -v "$b" 2>/dev/null)
  echo "$b=${w:-missing}"
done

echo "@@kv security"
if have firewalld || have firewall-cmd; then
  if have systemctl; then
    echo "firewalld=$($T systemctl is-active firewalld 2>/dev/null)"
  else
    echo "firewalld=$($T firewall-cmd --state 2>/dev/null)"
  fi
else
  echo "firewalld=absent"
fi
if have getenforce; then
  echo "selinux=$(getenforce 2>/dev/null)"
elif [ -r /sys/fs/selinux/enforce ]; then
  rd /sys/fs/selinux/enforce
  case "$r" in 1) echo "selinux=Enforcing" ;; *) echo "selinux=Permissive" ;; esac
elif [ -d /sys/fs/selinux ]; then
  missing getenforce
else
  echo "selinux=absent"
fi
if have ufw; then
  s=$($T $SUDO ufw status 2>/dev/null | { read -r a b rest; echo "$b"; })
  echo "ufw=${s:-unknown}"
else
  echo "ufw=absent"
fi

echo "@@kv sysctl"
if [ -r /proc/sys/net/ipv4/ip_forward ]; then
  rd /proc/sys/net/ipv4/ip_forward
  echo "ip_forward=$r"
fi
f=/proc/sys/net/bridge/bridge-nf-call-iptables
if [ -r "$f" ]; then
  rd "$f"
  echo "bridge_nf_call_iptables=$r"
else
  echo "bridge_nf_call_iptables=absent"
fi
if [ -r /proc/swaps ]; then
  echo "@@raw swaps"
  raw </proc/swaps
fi

echo "@@kv time"
if have timedatectl; then
  s=$($T timedatectl show -p NTPSynchronized --value 2>/dev/null)
  if [ -z "$s" ]; then
    s=$($T timedatectl status 2>/dev/null | while IFS= read -r l; do
      case "$l" in *ynchronized:*) echo "${l##*: }" ;; esac
    done)
  fi
  echo "ntp_synced=${s:-unknown}"
  z=$($T timedatectl show -p Timezone --value 2>/dev/null)
  echo "timezone=${z:-$(date +%Z)}"
else
  missing timedatectl
  echo "timezone=$(date +%Z)"
fi

if have ip; then
  echo "@@raw ip-link"
  $T ip -o link show 2>/dev/null | raw
  echo "@@raw ip-addr"
  $T ip -o addr show 2>/dev/null | raw
  echo "@@raw ip-route"
  $T ip -4 route show default 2>/dev/null | raw
  echo "@@raw ip-route6"
  $T ip -6 route show default 2>/dev/null | raw
else
  missing ip
  echo "@@raw sys-class-net"
  for d in /sys/class/net/*; do
    [ -e "$d/operstate" ] || continue
    rd "$d/operstate"
    o=$r
    rd "$d/address"
    echo "${d##*/} $o $r"
  done | raw
fi

if [ -r /etc/hosts ]; then
  echo "@@raw hosts"
  raw </etc/hosts
fi
echo "@@end"
}
acp_probe </dev/null 2>/dev/null
