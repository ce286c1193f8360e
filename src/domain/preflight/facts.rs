//! What one node's probe reported, typed. Every field a tool on the node provides is an
//! `Option` (or a map entry): `None` means the probe could not tell, which the checks turn
//! into `cannot-check`, never into `fail`.
//!
//! [`parse_probe_output`] reads the probe's stdout (see [`super::probe`]) and never panics on
//! any input; [`render_probe_output`] writes the same format back, so a simulated node answers
//! the probe from a profile.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use super::parse::parse_probe_output;
pub use super::render::render_probe_output;

/// Facts about one node, as its probe printed them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NodeFacts {
    /// The probe format the node answered in (`@@acp-probe N`).
    pub probe_version: Option<u32>,
    /// The output ended with `@@end`; a cut-off run leaves this false.
    pub complete: bool,
    /// Tools the probe looked for and did not find.
    pub missing_tools: BTreeSet<String>,
    /// `date +%s.%N` on the node when the probe started, in seconds since the epoch.
    pub clock: Option<f64>,
    pub uid: Option<u32>,
    pub user: Option<String>,
    pub sudo: Option<SudoAccess>,
    /// `uname -m`, as printed (`x86_64`, `aarch64`).
    pub arch: Option<String>,
    /// `getconf LONG_BIT`.
    pub long_bit: Option<u32>,
    /// `uname -r`.
    pub kernel: Option<String>,
    pub os: Option<OsRelease>,
    pub hostname: Option<String>,
    /// Online CPUs (`getconf _NPROCESSORS_ONLN`, else `nproc --all`, else /proc/cpuinfo).
    pub cpus: Option<u32>,
    /// MemTotal from /proc/meminfo, in KiB.
    pub mem_total_kib: Option<u64>,
    pub machine_id: Option<String>,
    pub product_uuid: Option<DmiUuid>,
    /// `modinfo iptable_nat` succeeded.
    pub iptable_nat: Option<bool>,
    pub var_lib: Option<DiskFree>,
    pub var_log: Option<DiskFree>,
    /// Listening sockets (`ss -Htlnup`, or /proc/net/tcp* without processes).
    pub listeners: Option<Vec<Listener>>,
    /// The probe could read root-only places (root, or passwordless sudo).
    pub privileged: Option<bool>,
    /// Leftover paths of an earlier install, by absolute path.
    pub paths: BTreeMap<String, PathState>,
    /// Binary name to its resolved path; `None` when `command -v` found nothing.
    pub binaries: BTreeMap<String, Option<String>>,
    /// `systemctl is-active firewalld` (or `firewall-cmd --state`), or `absent`.
    pub firewalld: Option<String>,
    /// `getenforce` (`Enforcing`, `Permissive`, `Disabled`), or `absent`.
    pub selinux: Option<String>,
    /// Second word of `ufw status` (`active`, `inactive`), or `absent`.
    pub ufw: Option<String>,
    /// /proc/sys/net/ipv4/ip_forward.
    pub ip_forward: Option<String>,
    /// /proc/sys/net/bridge/bridge-nf-call-iptables, or `absent` (br_netfilter not loaded).
    pub bridge_nf_call_iptables: Option<String>,
    /// Active swap devices from /proc/swaps.
    pub swaps: Option<Vec<String>>,
    /// `timedatectl show -p NTPSynchronized --value` (`yes`, `no`, `unknown`).
    pub ntp_synced: Option<String>,
    pub timezone: Option<String>,
    pub links: Option<Vec<Link>>,
    pub addrs: Option<Vec<Addr>>,
    pub default_routes_v4: Option<Vec<Route>>,
    pub default_routes_v6: Option<Vec<Route>>,
    pub hosts: Option<Vec<HostsEntry>>,
}

/// How the probe's user gets root.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SudoAccess {
    /// Logged in as root.
    Root,
    /// `sudo -n true` succeeded.
    Passwordless,
    /// sudo exists but asks for a password or refuses.
    Denied,
    /// No sudo on the node.
    Missing,
}

impl SudoAccess {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Passwordless => "passwordless",
            Self::Denied => "denied",
            Self::Missing => "missing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "root" => Some(Self::Root),
            "passwordless" => Some(Self::Passwordless),
            "denied" => Some(Self::Denied),
            "missing" => Some(Self::Missing),
            _ => None,
        }
    }
}

/// `/sys/class/dmi/id/product_uuid`: only root may read it, and some machines (many ARM
/// boards and VMs) have no DMI table at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DmiUuid {
    Value(String),
    Unreadable,
    Absent,
}

/// The fields of /etc/os-release the checks use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OsRelease {
    pub id: String,
    pub version_id: String,
    pub pretty_name: String,
}

/// One line of `df -P -k PATH`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DiskFree {
    pub filesystem: String,
    pub avail_kib: u64,
    pub mount: String,
}

/// One listening socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    /// `tcp` or `udp`.
    pub proto: String,
    /// The local address as printed, without the port (`0.0.0.0`, `[::]`, `*`).
    pub addr: String,
    pub port: u16,
    /// Owning process name, when `ss -p` could see it.
    pub process: Option<String>,
    pub pid: Option<u32>,
}

/// What the probe found at a path an earlier install leaves behind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "state", content = "entries")]
pub enum PathState {
    Absent,
    EmptyDir,
    /// A directory with entries; at most the first five names are kept.
    Dir(Vec<String>),
    /// Exists and is not a directory.
    File,
    /// The probe could not look (a root-only path without root).
    Unknown,
}

impl PathState {
    pub fn exists(&self) -> Option<bool> {
        match self {
            Self::Absent => Some(false),
            Self::EmptyDir | Self::Dir(_) | Self::File => Some(true),
            Self::Unknown => None,
        }
    }
}

/// One network interface from `ip -o link` (or /sys/class/net when `ip` is missing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub name: String,
    /// The administrative `UP` flag.
    pub up: bool,
    /// Operational state as printed (`UP`, `DOWN`, `UNKNOWN`).
    pub state: String,
    /// `link/ether` address, lower case.
    pub mac: Option<String>,
}

impl Link {
    /// Carrying traffic: administratively up and not reported down. Loopback and some
    /// virtual devices report `UNKNOWN` while working.
    pub fn is_up(&self) -> bool {
        self.up && !self.state.eq_ignore_ascii_case("down")
    }
}

/// One address from `ip -o addr`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addr {
    pub dev: String,
    pub ip: IpAddr,
    pub prefix: u8,
}

/// One default route from `ip route show default`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Route {
    pub via: Option<String>,
    pub dev: Option<String>,
}

/// One line of /etc/hosts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostsEntry {
    pub ip: String,
    pub names: Vec<String>,
}

impl NodeFacts {
    /// True when the probe reported that `tool` is absent.
    pub fn is_missing(&self, tool: &str) -> bool {
        self.missing_tools.contains(tool)
    }

    /// ip_forward as a flag; `None` when unread or not `0`/`1`.
    pub fn ip_forward_enabled(&self) -> Option<bool> {
        flag(self.ip_forward.as_deref()?)
    }

    /// `Some(false)` when br_netfilter is not loaded (the sysctl file is absent).
    pub fn bridge_nf_enabled(&self) -> Option<bool> {
        match self.bridge_nf_call_iptables.as_deref()? {
            "absent" => Some(false),
            v => flag(v),
        }
    }

    /// The NTP sync flag; `None` when unknown.
    pub fn ntp_synced_flag(&self) -> Option<bool> {
        match self
            .ntp_synced
            .as_deref()?
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "yes" | "true" | "1" => Some(true),
            "no" | "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// The link named `name`, if the probe listed links and has it.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.as_ref()?.iter().find(|l| l.name == name)
    }

    /// Device of the first IPv4 default route, else of the first IPv6 one (an IPv6-only
    /// node has only that).
    pub fn default_route_dev(&self) -> Option<&str> {
        first_dev(&self.default_routes_v4).or_else(|| first_dev(&self.default_routes_v6))
    }

    /// Devices carrying `ip`.
    pub fn devices_with(&self, ip: &IpAddr) -> Vec<&str> {
        self.addrs
            .iter()
            .flatten()
            .filter(|a| a.ip == *ip)
            .map(|a| a.dev.as_str())
            .collect()
    }
}

fn first_dev(routes: &Option<Vec<Route>>) -> Option<&str> {
    routes.as_ref()?.iter().find_map(|r| r.dev.as_deref())
}

fn flag(v: &str) -> Option<bool> {
    match v.trim() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}
