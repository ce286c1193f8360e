//! The check catalogue: every preflight check as data, with a stable kebab-case id (what
//! `--ignore` and JSON use), what it looks at, which roles it applies to, where the
//! requirement comes from, and how to fix a failure. Wording lives here; results carry ids.
//!
//! Sources named below: "ACP docs" = the cluster creation guide (node requirements, load
//! balancing, node settings); "TKE preflight" = the `EnsurePreflight` step of ACP's installer
//! (TKE baremetal `preflight/checks.go`), which refuses a node on any finding, warnings
//! included; "TKE validation" = its `anywhere-validate` checks; "kubeadm" = kubeadm's own
//! preflight, which the installer runs underneath.

use serde::Serialize;

/// A node's role in the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    ControlPlane,
    Worker,
}

/// Which nodes a check runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppliesTo {
    AllNodes,
    ControlPlane,
}

impl AppliesTo {
    pub fn includes(self, role: Role) -> bool {
        match self {
            Self::AllNodes => true,
            Self::ControlPlane => role == Role::ControlPlane,
        }
    }
}

/// Where a check's answer comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scope {
    /// Reaching the node over SSH.
    Connection,
    /// One node's probe.
    Node,
    /// Comparing nodes with each other (and with this machine's clock).
    Fleet,
}

/// What the check is parameterised by, for the families that share one evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Plain,
    /// A TCP port that must be free.
    Port(u16),
    /// A binary that must be on root's PATH; `blocking` when the platform refuses the node
    /// without it.
    Binary {
        name: &'static str,
        blocking: bool,
    },
    /// A path an earlier install leaves behind; `empty_ok` when an empty directory passes.
    Leftover {
        path: &'static str,
        empty_ok: bool,
    },
}

/// One check. Serialises as the catalogue a `--list-checks` style command prints.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CheckDef {
    pub id: &'static str,
    pub title: &'static str,
    /// What is looked at, and what passes.
    pub checks: &'static str,
    pub applies_to: AppliesTo,
    pub scope: Scope,
    #[serde(skip)]
    pub kind: Kind,
    /// Where the requirement comes from.
    pub source: &'static str,
    /// What to do about a finding.
    pub fix: &'static str,
}

const fn plain(
    id: &'static str,
    title: &'static str,
    checks: &'static str,
    applies_to: AppliesTo,
    scope: Scope,
    source: &'static str,
    fix: &'static str,
) -> CheckDef {
    CheckDef {
        id,
        title,
        checks,
        applies_to,
        scope,
        kind: Kind::Plain,
        source,
        fix,
    }
}

macro_rules! port {
    ($port:literal, $who:literal, $applies:expr, $source:expr) => {
        CheckDef {
            id: concat!("port-", $port),
            title: concat!("Port ", $port, " free"),
            checks: concat!("No socket listens on TCP port ", $port, ", which ", $who, " binds."),
            applies_to: $applies,
            scope: Scope::Node,
            kind: Kind::Port($port),
            source: $source,
            fix: concat!(
                "Stop or reconfigure the process the evidence names (`ss -tlnp sport = :",
                $port,
                "` shows it); a leftover of an earlier install goes with `kubeadm reset` or its service."
            ),
        }
    };
}

macro_rules! binary {
    ($name:literal, $blocking:literal, $source:expr) => {
        CheckDef {
            id: concat!("binary-", $name),
            title: concat!("`", $name, "` installed"),
            checks: concat!(
                "`command -v ",
                $name,
                "` finds it with root's PATH (/usr/sbin and /sbin included)."
            ),
            applies_to: AppliesTo::AllNodes,
            scope: Scope::Node,
            kind: Kind::Binary {
                name: $name,
                blocking: $blocking,
            },
            source: $source,
            fix: concat!(
                "Install the package that provides `",
                $name,
                "` with the OS package manager."
            ),
        }
    };
}

macro_rules! leftover {
    ($id:literal, $path:literal, $empty_ok:literal, $applies:expr, $checks:literal, $source:expr) => {
        CheckDef {
            id: $id,
            title: concat!($path, " not left over"),
            checks: concat!($path, " ", $checks, " (an earlier install leaves it behind)."),
            applies_to: $applies,
            scope: Scope::Node,
            kind: Kind::Leftover { path: $path, empty_ok: $empty_ok },
            source: $source,
            fix: concat!(
                "Clean up the earlier install (`kubeadm reset -f`, then remove ",
                $path,
                "); a dedicated disk mounted there must be mounted elsewhere, as the installer refuses the path existing."
            ),
        }
    };
}

use AppliesTo::{AllNodes, ControlPlane};
use Scope::{Connection, Fleet, Node};

const TKE_PREFLIGHT: &str = "TKE preflight (refuses the node)";
const KUBEADM: &str = "kubeadm preflight";
const TKE_SYSCTL: &str = "TKE steps 4-8 set it before the preflight step";

/// Every check, in the order results are shown.
pub const CATALOGUE: &[CheckDef] = &[
    plain(
        "ssh-connect",
        "SSH reachable",
        "TCP, SOCKS5 proxy, SSH handshake, host key and login all succeed from this machine within their timeouts. The platform connects from the global cluster, not from here.",
        AllNodes,
        Connection,
        "ACP docs: the global cluster reaches every node over SSH, directly or through a SOCKS5 proxy",
        "Fix the stage named in the evidence: address and port (TCP), proxy address and credentials (proxy), host key (see the known_hosts hint), user and password or key (auth).",
    ),
    plain(
        "probe-complete",
        "Probe ran to the end",
        "The node's probe printed its last line; a cut-off run leaves later checks unable to tell.",
        AllNodes,
        Node,
        "acp-cockpit: a cut-off probe leaves later checks unread",
        "Re-run; if it keeps stopping, look for a hung command on the node (`timedatectl`, `df` on a stale NFS mount).",
    ),
    plain(
        "root-or-sudo",
        "Root, or passwordless sudo",
        "`id -u` is 0, or `sudo -n true` succeeds for the SSH user.",
        AllNodes,
        Node,
        "ACP docs: the SSH user needs root privileges; TKE validation requires `whoami` to print root and runs a non-root user's commands through sudo",
        "Log in as root, or give the SSH user NOPASSWD sudo (`user ALL=(ALL) NOPASSWD: ALL` in /etc/sudoers.d/).",
    ),
    plain(
        "arch",
        "CPU architecture",
        "`uname -m` is the platform's architecture (read from the global cluster's nodes unless overridden) and `getconf LONG_BIT` is 64.",
        AllNodes,
        Node,
        "ACP docs: with a single-architecture install package, nodes need the package's architecture; TKE preflight: 64-bit",
        "Use a machine of the platform's architecture, or install the other architecture's package on the platform first.",
    ),
    plain(
        "os-supported",
        "Operating system supported",
        "/etc/os-release ID and VERSION_ID appear in the support matrix for this architecture.",
        AllNodes,
        Node,
        "ACP docs: Supported OS and Kernels (the shipped support matrix; override it with your release's list)",
        "Install a listed OS release, or add this one to a support-matrix override file if your ACP release supports it.",
    ),
    plain(
        "kernel",
        "Kernel version",
        "`uname -r` is at least 3.10 (the installer refuses older) and at least the support matrix's minimum for this OS.",
        AllNodes,
        Node,
        "TKE preflight: kernel >= 3.10; ACP docs: Supported OS and Kernels",
        "Upgrade the kernel to the OS vendor's supported release and reboot.",
    ),
    plain(
        "kernel-module-iptable-nat",
        "iptable_nat module available",
        "`modinfo iptable_nat` succeeds.",
        AllNodes,
        Node,
        TKE_PREFLIGHT,
        "Install the kernel modules package for the running kernel (e.g. kernel-modules or linux-modules-extra).",
    ),
    plain(
        "cpu",
        "CPUs",
        "Online CPUs (`getconf _NPROCESSORS_ONLN`): control-plane nodes need 2 or the installer refuses them; 4 are recommended on every node.",
        AllNodes,
        Node,
        "TKE preflight: >= 2 on control-plane nodes; TKE validation: >= 4",
        "Give the machine more vCPUs.",
    ),
    plain(
        "memory",
        "Memory",
        "MemTotal: control-plane nodes below 1700 MiB are refused by kubeadm; 8 GiB (rounded up) is recommended on every node.",
        AllNodes,
        Node,
        "kubeadm: >= 1700 MB on control-plane nodes; TKE validation: >= 8 GiB",
        "Give the machine more memory.",
    ),
    plain(
        "disk-var-lib",
        "Free disk on /var/lib",
        "`df -P -k /var/lib` shows at least 100 GiB available (images, etcd, kubelet).",
        AllNodes,
        Node,
        "TKE validation: /var/lib >= 100 GiB",
        "Grow the filesystem holding /var/lib or mount a larger disk there before installing.",
    ),
    plain(
        "disk-var-log",
        "Free disk on /var/log",
        "`df -P -k /var/log` shows at least 10 GiB available.",
        AllNodes,
        Node,
        "TKE validation: /var/log >= 10 GiB",
        "Grow the filesystem holding /var/log or free space in it.",
    ),
    port!(
        6443,
        "kube-apiserver",
        ControlPlane,
        "TKE preflight; kubeadm; ACP docs (load balancer target)"
    ),
    port!(
        2379,
        "etcd (clients)",
        ControlPlane,
        "TKE preflight; kubeadm"
    ),
    port!(2380, "etcd (peers)", ControlPlane, "TKE preflight; kubeadm"),
    port!(10249, "kube-proxy (metrics)", AllNodes, "TKE preflight"),
    port!(10250, "kubelet", AllNodes, "TKE preflight; kubeadm"),
    port!(
        10251,
        "kube-scheduler (insecure port)",
        ControlPlane,
        "TKE preflight"
    ),
    port!(
        10252,
        "kube-controller-manager (insecure port)",
        ControlPlane,
        "TKE preflight"
    ),
    port!(10256, "kube-proxy (healthz)", AllNodes, "TKE preflight"),
    port!(10257, "kube-controller-manager", ControlPlane, "kubeadm"),
    port!(10259, "kube-scheduler", ControlPlane, "kubeadm"),
    port!(
        11780,
        "the ACP control plane",
        ControlPlane,
        "ACP docs: the load balancer forwards 6443, 11780 and 11781 to every control-plane node"
    ),
    port!(
        11781,
        "the ACP control plane",
        ControlPlane,
        "ACP docs: the load balancer forwards 6443, 11780 and 11781 to every control-plane node"
    ),
    leftover!(
        "leftover-var-lib-etcd",
        "/var/lib/etcd",
        false,
        ControlPlane,
        "does not exist",
        "TKE preflight, control-plane nodes: the directory must not exist"
    ),
    leftover!(
        "leftover-var-lib-cni",
        "/var/lib/cni",
        false,
        AllNodes,
        "does not exist",
        "TKE preflight: the directory must not exist"
    ),
    leftover!(
        "leftover-etc-cni-net-d",
        "/etc/cni/net.d",
        false,
        AllNodes,
        "does not exist",
        "TKE preflight: the directory must not exist"
    ),
    leftover!(
        "leftover-static-pods",
        "/etc/kubernetes/manifests",
        true,
        AllNodes,
        "is absent or empty",
        "kubeadm: static-pod manifests from an earlier install"
    ),
    leftover!(
        "leftover-root-kube-config",
        "/root/.kube/config",
        false,
        AllNodes,
        "does not exist",
        "TKE preflight: the file must not exist"
    ),
    binary!("sysctl", true, TKE_PREFLIGHT),
    binary!("swapoff", true, TKE_PREFLIGHT),
    binary!("sed", true, TKE_PREFLIGHT),
    binary!("getconf", true, TKE_PREFLIGHT),
    binary!("ss", true, TKE_PREFLIGHT),
    binary!("grep", true, TKE_PREFLIGHT),
    binary!("id", true, TKE_PREFLIGHT),
    binary!("uname", true, TKE_PREFLIGHT),
    binary!("modinfo", true, TKE_PREFLIGHT),
    binary!("ip", true, TKE_PREFLIGHT),
    binary!("awk", true, TKE_PREFLIGHT),
    binary!("iptables", true, TKE_PREFLIGHT),
    binary!(
        "which",
        true,
        "TKE preflight looks every tool up with `which`: without it all of them count as missing"
    ),
    binary!("conntrack", false, KUBEADM),
    binary!("socat", false, KUBEADM),
    binary!("nsenter", false, KUBEADM),
    binary!("ebtables", false, KUBEADM),
    binary!("ethtool", false, KUBEADM),
    binary!("tc", false, KUBEADM),
    binary!("mount", false, KUBEADM),
    plain(
        "firewalld",
        "firewalld stopped",
        "`systemctl is-active firewalld` is not `active`.",
        AllNodes,
        Node,
        "TKE validation: firewall off; kubeadm warns",
        "`systemctl disable --now firewalld`, or open every port the cluster uses (6443, 2379-2380, 10249-10259, 11780-11781, the CNI's ports).",
    ),
    plain(
        "ufw",
        "ufw inactive",
        "`ufw status` is not `active`.",
        AllNodes,
        Node,
        "TKE validation: firewall off",
        "`ufw disable`, or allow every port the cluster uses.",
    ),
    plain(
        "selinux",
        "SELinux not enforcing",
        "`getenforce` is not `Enforcing`.",
        AllNodes,
        Node,
        "TKE validation: SELinux off",
        "`setenforce 0` and SELINUX=permissive in /etc/selinux/config.",
    ),
    plain(
        "nic-present",
        "Network interface exists",
        "The NIC the network plugin will use exists, chosen by the docs' priority: Kube-OVN Underlay: node NIC > cluster NIC; Kube-OVN Overlay: node NIC > cluster NIC > default-route NIC; Calico and Flannel: cluster NIC > default-route NIC.",
        AllNodes,
        Node,
        "ACP docs: Node Settings, NIC priority per network plugin",
        "Enter the NIC name `ip -o link` shows on the node (or give the node a default route when none is entered).",
    ),
    plain(
        "nic-up",
        "Network interface up",
        "That NIC is administratively up and not reported down.",
        AllNodes,
        Node,
        "ACP docs: Node Settings",
        "`ip link set <nic> up`, and check its cable or virtual switch.",
    ),
    plain(
        "nic-underlay-dedicated",
        "Underlay NIC carries no other traffic",
        "With Kube-OVN Underlay, the bridged NIC does not hold the node's address or default route.",
        AllNodes,
        Node,
        "ACP docs: the Underlay NIC must be used by Underlay only, not for SSH or other traffic",
        "Give the node a second NIC for Underlay and enter that one.",
    ),
    plain(
        "ipv4-on-node",
        "IPv4 address on the node",
        "The IPv4 address entered for the node is configured on one of its interfaces.",
        AllNodes,
        Node,
        "ACP docs: node IPv4 address (the private IP in internal network mode)",
        "Enter the address `ip -o addr` shows on the node, or configure it there.",
    ),
    plain(
        "ipv6-on-node",
        "IPv6 address on the node",
        "The IPv6 address entered for the node (dual stack) is configured on one of its interfaces.",
        AllNodes,
        Node,
        "ACP docs: with dual stack every node needs a correctly configured IPv6 address",
        "Configure the IPv6 address on the node, or correct the one entered.",
    ),
    plain(
        "hostname-valid",
        "Hostname valid",
        "The hostname is a lower-case RFC 1123 name (labels of a-z, 0-9 and -, at most 63 characters each, 253 in all).",
        AllNodes,
        Node,
        "kubeadm; Kubernetes node names are RFC 1123 subdomains",
        "`hostnamectl set-hostname <lower-case-name>`.",
    ),
    plain(
        "registry-hosts-line",
        "/etc/hosts line for the registry",
        "If /etc/hosts already names the registry domain, it points at the registry's address. The installer writes the line itself when absent, and replaces a line naming the domain.",
        AllNodes,
        Node,
        "TKE step 4 writes `<ip> <registry domain>` into /etc/hosts",
        "Remove or correct the stale line; any other names on it are lost when the installer rewrites it.",
    ),
    plain(
        "ip-forward",
        "IPv4 forwarding",
        "/proc/sys/net/ipv4/ip_forward is 1.",
        AllNodes,
        Node,
        TKE_SYSCTL,
        "Nothing to do: the installer sets net.ipv4.ip_forward=1.",
    ),
    plain(
        "bridge-nf",
        "bridge-nf-call-iptables",
        "br_netfilter is loaded and net.bridge.bridge-nf-call-iptables is 1.",
        AllNodes,
        Node,
        TKE_SYSCTL,
        "Nothing to do: the installer loads br_netfilter and sets the sysctl.",
    ),
    plain(
        "swap",
        "Swap off",
        "/proc/swaps lists no active swap.",
        AllNodes,
        Node,
        "TKE step 8 runs swapoff; kubeadm warns",
        "Nothing to do for the install; to keep it off after a reboot, remove the swap line from /etc/fstab.",
    ),
    plain(
        "ntp-synced",
        "Clock synchronised",
        "`timedatectl` reports the system clock synchronised (NTP).",
        AllNodes,
        Node,
        "TKE docs ask for clocks within 2 s; etcd and certificates need agreeing clocks",
        "Enable chrony or systemd-timesyncd against the same NTP servers on every node.",
    ),
    plain(
        "hostname-unique",
        "Hostname unique",
        "No other node has the same hostname (compared case-insensitively).",
        AllNodes,
        Fleet,
        "ACP docs: with hostnames as node names they must be unique",
        "Give each node its own hostname (`hostnamectl set-hostname`).",
    ),
    plain(
        "mac-unique",
        "MAC address unique",
        "The MAC address of the node's main NIC differs from every other node's.",
        AllNodes,
        Fleet,
        "kubeadm install docs: MAC addresses must be unique",
        "Regenerate the MAC of cloned VMs in the hypervisor.",
    ),
    plain(
        "product-uuid-unique",
        "product_uuid unique",
        "/sys/class/dmi/id/product_uuid differs from every other node's.",
        AllNodes,
        Fleet,
        "kubeadm install docs: product_uuid must be unique",
        "Give each cloned VM its own UUID in the hypervisor.",
    ),
    plain(
        "machine-id-unique",
        "machine-id unique",
        "/etc/machine-id differs from every other node's.",
        AllNodes,
        Fleet,
        "k0sctl refuses duplicates; cloned images share it",
        "`rm /etc/machine-id && systemd-machine-id-setup`, then reboot.",
    ),
    plain(
        "vip-unused",
        "Self-built VIP unused",
        "The self-built VIP is configured on no node, and differs from every node address.",
        AllNodes,
        Fleet,
        "ACP docs: the VIP must be different from any node IP",
        "Pick an unused address in the control-plane subnet, or remove it from the node holding it.",
    ),
    plain(
        "clock-skew",
        "Clock skew",
        "The node's clock against this machine and against every other node, compensated for the SSH round trip: warn above 2 s, fail above 5 s.",
        AllNodes,
        Fleet,
        "TKE validation: control-plane skew <= 5 s; TKE docs ask for <= 2 s",
        "Synchronise clocks with NTP (chrony) on every node, then re-run.",
    ),
];

/// The check with this id.
pub fn check(id: &str) -> Option<&'static CheckDef> {
    CATALOGUE.iter().find(|c| c.id == id)
}

/// Whether `pattern` names `id`: exactly, or as a prefix ending in `*` (`port-*`).
pub fn id_matches(pattern: &str, id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => id.starts_with(prefix),
        None => pattern == id,
    }
}

/// Entries of an ignore list that name no check, for a usage error that lists them.
pub fn unknown_ids<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    patterns
        .into_iter()
        .filter(|p| !CATALOGUE.iter().any(|c| id_matches(p, c.id)))
        .collect()
}

/// The checks whose kind is a port, as `(port, def)`.
pub fn port_checks() -> impl Iterator<Item = (u16, &'static CheckDef)> {
    CATALOGUE.iter().filter_map(|c| match c.kind {
        Kind::Port(p) => Some((p, c)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::preflight::probe::{LEFTOVER_PATHS, PROBED_BINARIES};

    #[test]
    fn ids_are_unique_kebab_case_and_every_entry_is_filled_in() {
        let mut seen = BTreeSet::new();
        for c in CATALOGUE {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            assert!(
                c.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{} is not kebab-case",
                c.id
            );
            for (what, text) in [
                ("title", c.title),
                ("checks", c.checks),
                ("source", c.source),
                ("fix", c.fix),
            ] {
                assert!(!text.trim().is_empty(), "{} has no {what}", c.id);
            }
        }
    }

    #[test]
    fn the_ports_acp_names_are_checked_on_control_plane_nodes() {
        let ports: BTreeSet<u16> = port_checks().map(|(p, _)| p).collect();
        for p in [
            6443, 2379, 2380, 10250, 10251, 10252, 10256, 10257, 10259, 11780, 11781,
        ] {
            assert!(ports.contains(&p), "port {p}");
            assert!(
                check(&format!("port-{p}"))
                    .is_some_and(|c| c.applies_to.includes(Role::ControlPlane))
            );
        }
        assert!(!check("port-6443").is_some_and(|c| c.applies_to.includes(Role::Worker)));
        assert!(check("port-10250").is_some_and(|c| c.applies_to.includes(Role::Worker)));
    }

    #[test]
    fn every_probed_binary_and_leftover_path_has_a_check() {
        for b in PROBED_BINARIES {
            assert!(check(&format!("binary-{b}")).is_some(), "binary-{b}");
        }
        for p in LEFTOVER_PATHS {
            assert!(
                CATALOGUE
                    .iter()
                    .any(|c| matches!(c.kind, Kind::Leftover { path, .. } if path == p)),
                "{p}"
            );
        }
    }

    #[test]
    fn the_brief_s_ids_exist() {
        for id in [
            "ssh-connect",
            "root-or-sudo",
            "arch",
            "os-supported",
            "kernel",
            "cpu",
            "memory",
            "disk-var-lib",
            "disk-var-log",
            "port-6443",
            "port-11780",
            "port-11781",
            "leftover-var-lib-etcd",
            "firewalld",
            "selinux",
            "nic-present",
            "nic-up",
            "ipv4-on-node",
            "ipv6-on-node",
            "hostname-valid",
            "hostname-unique",
            "mac-unique",
            "product-uuid-unique",
            "machine-id-unique",
            "vip-unused",
            "clock-skew",
            "ntp-synced",
            "registry-hosts-line",
            "ip-forward",
            "bridge-nf",
            "swap",
        ] {
            assert!(check(id).is_some(), "{id}");
        }
    }

    #[test]
    fn the_catalogue_serialises_with_its_wording() {
        let json = serde_json::to_value(check("port-11780").expect("port-11780")).expect("json");
        assert_eq!(json["id"], "port-11780");
        assert_eq!(json["applies_to"], "control-plane");
        assert_eq!(json["scope"], "node");
        assert!(json["source"].as_str().is_some_and(|s| s.contains("11780")));
        assert!(json.get("kind").is_none());
    }

    #[test]
    fn ignore_patterns_match_exactly_or_by_prefix() {
        assert!(id_matches("port-*", "port-6443"));
        assert!(id_matches("swap", "swap"));
        assert!(!id_matches("swap", "swap-extra"));
        assert!(!id_matches("port", "port-6443"));
        assert_eq!(
            unknown_ids(["swap", "port-*", "nosuch", "binary-nope"]),
            vec!["nosuch", "binary-nope"]
        );
    }
}
