//! One node's facts against the catalogue: [`evaluate_node`]. The node-level checks on
//! identity, OS, capacity, ports, leftovers, binaries and kernel settings live here; the
//! network ones in [`super::network`]; the cross-node ones in [`super::fleet`].

use std::net::IpAddr;

use serde::Serialize;

use super::catalogue::{CATALOGUE, CheckDef, Kind, Role, Scope};
use super::facts::{NodeFacts, PathState, SudoAccess};
use super::matrix::{KernelVersion, Level, OsMatch, SupportMatrix, normalize_arch};
use super::probe::PROBE_VERSION;
use super::verdict::{CheckResult, Verdict, apply_ignore};

/// The network plugin, as far as the NIC priority rules go (ACP docs, Node Settings).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkPlugin {
    #[default]
    KubeOvnOverlay,
    KubeOvnUnderlay,
    Calico,
    Flannel,
    /// No plugin installed by the platform.
    Custom,
}

impl NetworkPlugin {
    pub fn label(self) -> &'static str {
        match self {
            Self::KubeOvnOverlay => "Kube-OVN Overlay",
            Self::KubeOvnUnderlay => "Kube-OVN Underlay",
            Self::Calico => "Calico",
            Self::Flannel => "Flannel",
            Self::Custom => "the custom network mode",
        }
    }

    /// From the cluster's `cpaas.io/network-type` and `kube-ovn.cpaas.io/transmit-type`
    /// annotation values. Unknown types count as custom.
    pub fn from_annotations(network_type: &str, transmit_type: Option<&str>) -> Self {
        match network_type.trim().to_ascii_lowercase().as_str() {
            "kube-ovn" | "ovn" => match transmit_type.map(|t| t.trim().to_ascii_lowercase()) {
                Some(t) if t == "underlay" => Self::KubeOvnUnderlay,
                _ => Self::KubeOvnOverlay,
            },
            "calico" => Self::Calico,
            "flannel" => Self::Flannel,
            _ => Self::Custom,
        }
    }
}

/// The registry the nodes pull from, when its domain may appear in /etc/hosts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistryTarget {
    pub domain: String,
    /// The address the domain should point at, when known.
    pub ip: Option<IpAddr>,
}

/// What the wizard or the manifest says about one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeInput {
    /// How the node is named in results (its address, or display name).
    pub name: String,
    pub role: Role,
    pub ipv4: Option<IpAddr>,
    pub ipv6: Option<IpAddr>,
    /// The node's own NIC setting (`spec.machines[].networkDevice`).
    pub node_nic: Option<String>,
    /// The cluster NIC setting (`spec.networkDevice`).
    pub cluster_nic: Option<String>,
    pub network: NetworkPlugin,
    pub registry: Option<RegistryTarget>,
}

impl NodeInput {
    pub fn new(name: impl Into<String>, role: Role) -> Self {
        Self {
            name: name.into(),
            role,
            ipv4: None,
            ipv6: None,
            node_nic: None,
            cluster_nic: None,
            network: NetworkPlugin::default(),
            registry: None,
        }
    }
}

/// Documented minimums; each number's source is beside it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Minimums {
    /// TKE preflight `NumCPUCheck` on masters (constants.MinNumCPU); kubeadm init agrees.
    pub control_plane_cpus: u32,
    /// TKE validation (`validation/constants.go`), every node.
    pub recommended_cpus: u32,
    /// kubeadm preflight refuses a control-plane node below 1700 MB.
    pub control_plane_memory_mib: u64,
    /// TKE validation: 8 GiB, MemTotal rounded up to whole GiB.
    pub recommended_memory_gib: u64,
    /// TKE validation: /var/lib >= 100 GiB free.
    pub var_lib_free_gib: u64,
    /// TKE validation: /var/log >= 10 GiB free.
    pub var_log_free_gib: u64,
    /// TKE preflight `KernelCheck`: 3.10.
    pub kernel_floor: String,
    /// TKE docs ask for clocks within 2 s.
    pub clock_warn_secs: f64,
    /// TKE validation `MaxTimeOffset`: 5 s.
    pub clock_fail_secs: f64,
}

impl Default for Minimums {
    fn default() -> Self {
        Self {
            control_plane_cpus: 2,
            recommended_cpus: 4,
            control_plane_memory_mib: 1700,
            recommended_memory_gib: 8,
            var_lib_free_gib: 100,
            var_log_free_gib: 10,
            kernel_floor: "3.10".into(),
            clock_warn_secs: 2.0,
            clock_fail_secs: 5.0,
        }
    }
}

/// What the nodes are held against.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirements {
    /// The platform's architecture (from the global cluster's nodes, or the user's override).
    pub platform_arch: Option<String>,
    pub matrix: SupportMatrix,
    pub minimums: Minimums,
    /// The self-built VIP, when one is configured.
    pub vip: Option<IpAddr>,
    /// Node names come from hostnames (not IPs), so hostnames must be valid and unique.
    pub hostname_is_node_name: bool,
    /// Check ids (or `prefix*` patterns) to report as ignored.
    pub ignore: Vec<String>,
}

impl Default for Requirements {
    fn default() -> Self {
        Self {
            platform_arch: None,
            matrix: SupportMatrix::shipped(),
            minimums: Minimums::default(),
            vip: None,
            hostname_is_node_name: false,
            ignore: Vec::new(),
        }
    }
}

/// The node-level checks that apply to this node's role, in catalogue order, with the
/// ignore list applied. The `ssh-connect` result comes from the engine (see
/// [`super::verdict::connection_ok_result`]), the cross-node ones from
/// [`super::fleet::evaluate_fleet`].
pub fn evaluate_node(input: &NodeInput, facts: &NodeFacts, req: &Requirements) -> Vec<CheckResult> {
    let ctx = Ctx { input, facts, req };
    let results = CATALOGUE
        .iter()
        .filter(|d| d.scope == Scope::Node && d.applies_to.includes(input.role))
        .filter_map(|d| node_check(&ctx, d))
        .collect();
    apply_ignore(results, req.ignore.iter().map(String::as_str))
}

pub(super) struct Ctx<'a> {
    pub input: &'a NodeInput,
    pub facts: &'a NodeFacts,
    pub req: &'a Requirements,
}

impl Ctx<'_> {
    /// Why a value is unknown: a missing tool, a cut-off run, or nothing reported.
    pub fn unknown(&self, id: &'static str, tool: &str, what: &str) -> CheckResult {
        let why = if self.facts.is_missing(tool) {
            format!("`{tool}` is not installed on the node, so {what} is unknown")
        } else if !self.facts.complete {
            format!("the probe stopped before reporting {what}")
        } else {
            format!("the probe did not report {what}")
        };
        CheckResult::new(id, Verdict::CannotCheck, why)
    }
}

fn node_check(c: &Ctx<'_>, d: &'static CheckDef) -> Option<CheckResult> {
    Some(match d.kind {
        Kind::Port(p) => port(c, d.id, p),
        Kind::Binary { name, blocking } => binary(c, d.id, name, blocking),
        Kind::Leftover { path, empty_ok } => leftover(c, d.id, path, empty_ok),
        Kind::Plain => match d.id {
            "probe-complete" => probe_complete(c),
            "root-or-sudo" => root_or_sudo(c),
            "arch" => arch(c),
            "os-supported" => os_supported(c),
            "kernel" => kernel(c),
            "kernel-module-iptable-nat" => iptable_nat(c),
            "cpu" => cpu(c),
            "memory" => memory(c),
            "disk-var-lib" => disk(
                c,
                d.id,
                "/var/lib",
                c.facts.var_lib.as_ref(),
                c.req.minimums.var_lib_free_gib,
            ),
            "disk-var-log" => disk(
                c,
                d.id,
                "/var/log",
                c.facts.var_log.as_ref(),
                c.req.minimums.var_log_free_gib,
            ),
            "firewalld" => firewalld(c),
            "ufw" => ufw(c),
            "selinux" => selinux(c),
            "ip-forward" => platform_fixes_flag(
                c,
                d.id,
                c.facts.ip_forward_enabled(),
                "net.ipv4.ip_forward",
                c.facts.ip_forward.as_deref(),
            ),
            "bridge-nf" => platform_fixes_flag(
                c,
                d.id,
                c.facts.bridge_nf_enabled(),
                "net.bridge.bridge-nf-call-iptables",
                c.facts.bridge_nf_call_iptables.as_deref(),
            ),
            "swap" => swap(c),
            "ntp-synced" => ntp(c),
            id => return super::network::node_check(c, id),
        },
    })
}

fn probe_complete(c: &Ctx<'_>) -> CheckResult {
    let id = "probe-complete";
    match (c.facts.probe_version, c.facts.complete) {
        (None, _) => CheckResult::new(
            id,
            Verdict::CannotCheck,
            "no `@@acp-probe` header: the node's output was not the probe's",
        ),
        (Some(v), _) if v != PROBE_VERSION => CheckResult::new(
            id,
            Verdict::Warn,
            format!("probe format {v}, expected {PROBE_VERSION}"),
        ),
        (Some(_), false) => CheckResult::new(
            id,
            Verdict::Warn,
            "the output stops before `@@end`: the probe was cut off",
        ),
        (Some(v), true) => {
            CheckResult::new(id, Verdict::Pass, format!("probe format {v}, complete"))
        }
    }
}

fn root_or_sudo(c: &Ctx<'_>) -> CheckResult {
    let id = "root-or-sudo";
    let f = c.facts;
    let Some(uid) = f.uid else {
        return c.unknown(id, "id", "the user id");
    };
    let who = format!("user {} (uid {uid})", f.user.as_deref().unwrap_or("?"));
    match (uid, f.sudo) {
        (0, _) => CheckResult::new(id, Verdict::Pass, who),
        (_, Some(SudoAccess::Passwordless)) => {
            CheckResult::new(id, Verdict::Pass, format!("{who}, passwordless sudo"))
        }
        (_, Some(SudoAccess::Denied)) => CheckResult::new(
            id,
            Verdict::Fail,
            format!(
                "{who}; `sudo -n true` refused (a password is required or sudo is not allowed)"
            ),
        ),
        (_, Some(SudoAccess::Missing)) => {
            CheckResult::new(id, Verdict::Fail, format!("{who}; sudo is not installed"))
        }
        (_, Some(SudoAccess::Root) | None) => c.unknown(id, "sudo", "whether sudo works"),
    }
}

fn arch(c: &Ctx<'_>) -> CheckResult {
    let id = "arch";
    let Some(raw) = c.facts.arch.as_deref() else {
        return c.unknown(id, "uname", "the architecture");
    };
    let arch = normalize_arch(raw);
    if let Some(bits) = c.facts.long_bit.filter(|b| *b != 64) {
        return CheckResult::new(
            id,
            Verdict::Fail,
            format!("uname -m: {raw}; getconf LONG_BIT: {bits} (64 needed)"),
        );
    }
    match c.req.platform_arch.as_deref().map(normalize_arch) {
        Some(p) if p == arch => CheckResult::new(
            id,
            Verdict::Pass,
            format!("uname -m: {raw} (platform: {p})"),
        ),
        Some(p) => CheckResult::new(
            id,
            Verdict::Fail,
            format!("uname -m: {raw}; the platform runs {p}"),
        ),
        None if super::matrix::KNOWN_ARCHES.contains(&arch.as_str()) => CheckResult::new(
            id,
            Verdict::Pass,
            format!("uname -m: {raw} (the platform's architecture is not known; not compared)"),
        ),
        None => CheckResult::new(
            id,
            Verdict::Warn,
            format!("uname -m: {raw}, an architecture ACP does not build for"),
        ),
    }
}

fn level(l: Level) -> Verdict {
    match l {
        Level::Warn => Verdict::Warn,
        Level::Fail => Verdict::Fail,
    }
}

fn os_supported(c: &Ctx<'_>) -> CheckResult {
    let id = "os-supported";
    let Some(os) = &c.facts.os else {
        return CheckResult::new(id, Verdict::CannotCheck, "/etc/os-release was not readable");
    };
    let Some(arch) = c.facts.arch.as_deref() else {
        return c.unknown(id, "uname", "the architecture");
    };
    let arch = normalize_arch(arch);
    let shown = format!(
        "{} (ID={} VERSION_ID={})",
        os.pretty_name, os.id, os.version_id
    );
    let policy = level(c.req.matrix.policy.unsupported_os);
    match c.req.matrix.lookup(&os.id, &os.version_id, &arch) {
        OsMatch::Supported(o) => CheckResult::new(
            id,
            Verdict::Pass,
            format!(
                "{shown}: listed ({} {}, {arch})",
                o.name,
                o.versions.join("/")
            ),
        ),
        OsMatch::VersionNotListed(o) => CheckResult::new(
            id,
            policy,
            format!(
                "{shown}: {} is listed for {} only",
                o.name,
                o.versions.join(", ")
            ),
        ),
        OsMatch::ArchNotListed(o) => CheckResult::new(
            id,
            policy,
            format!(
                "{shown}: {} is listed for {} only, not {arch}",
                o.name,
                o.arch.join(", ")
            ),
        ),
        OsMatch::NotListed => {
            CheckResult::new(id, policy, format!("{shown}: not in the support matrix"))
        }
    }
}

fn kernel(c: &Ctx<'_>) -> CheckResult {
    let id = "kernel";
    let Some(release) = c.facts.kernel.as_deref() else {
        return c.unknown(id, "uname", "the kernel release");
    };
    let Some(v) = KernelVersion::parse(release) else {
        return CheckResult::new(
            id,
            Verdict::CannotCheck,
            format!("uname -r: `{release}` has no version number"),
        );
    };
    let floor =
        KernelVersion::parse(&c.req.minimums.kernel_floor).unwrap_or(KernelVersion(vec![3, 10]));
    if v < floor {
        return CheckResult::new(
            id,
            Verdict::Fail,
            format!(
                "uname -r: {release}; the installer refuses kernels below {}",
                c.req.minimums.kernel_floor
            ),
        );
    }
    let entry = c.facts.os.as_ref().and_then(|os| {
        let arch = normalize_arch(c.facts.arch.as_deref().unwrap_or(""));
        match c.req.matrix.lookup(&os.id, &os.version_id, &arch) {
            OsMatch::Supported(o) | OsMatch::VersionNotListed(o) | OsMatch::ArchNotListed(o) => {
                Some(o)
            }
            OsMatch::NotListed => None,
        }
    });
    let min = entry.and_then(|o| Some((o, o.kernel_min.as_deref()?)));
    match min {
        Some((o, m)) if KernelVersion::parse(m).is_some_and(|m| v < m) => CheckResult::new(
            id,
            level(c.req.matrix.policy.kernel_below_minimum),
            format!(
                "uname -r: {release}; the support matrix asks for {m} or later on {}",
                o.name
            ),
        ),
        Some((o, m)) => CheckResult::new(
            id,
            Verdict::Pass,
            format!("uname -r: {release} (>= {m}, {}'s minimum)", o.name),
        ),
        None => CheckResult::new(
            id,
            Verdict::Pass,
            format!(
                "uname -r: {release} (>= {}; no matrix minimum for this OS)",
                c.req.minimums.kernel_floor
            ),
        ),
    }
}

fn iptable_nat(c: &Ctx<'_>) -> CheckResult {
    let id = "kernel-module-iptable-nat";
    match c.facts.iptable_nat {
        Some(true) => CheckResult::new(id, Verdict::Pass, "modinfo iptable_nat: found"),
        Some(false) => CheckResult::new(id, Verdict::Fail, "modinfo iptable_nat: module not found"),
        None => c.unknown(id, "modinfo", "whether iptable_nat exists"),
    }
}

fn cpu(c: &Ctx<'_>) -> CheckResult {
    let id = "cpu";
    let m = &c.req.minimums;
    let Some(n) = c.facts.cpus else {
        return c.unknown(id, "getconf", "the CPU count");
    };
    let cp = c.input.role == Role::ControlPlane;
    let (verdict, required) = if cp && n < m.control_plane_cpus {
        (Verdict::Fail, m.control_plane_cpus)
    } else if n < m.recommended_cpus {
        (Verdict::Warn, m.recommended_cpus)
    } else {
        (Verdict::Pass, m.recommended_cpus)
    };
    let evidence = match verdict {
        Verdict::Fail => format!("{n} online CPUs; a control-plane node needs {required}"),
        Verdict::Warn => format!("{n} online CPUs; {required} recommended"),
        _ => format!("{n} online CPUs"),
    };
    CheckResult::new(id, verdict, evidence).measured(f64::from(n), f64::from(required))
}

const KIB_PER_GIB: f64 = 1024.0 * 1024.0;

fn memory(c: &Ctx<'_>) -> CheckResult {
    let id = "memory";
    let m = &c.req.minimums;
    let Some(kib) = c.facts.mem_total_kib else {
        return CheckResult::new(id, Verdict::CannotCheck, "/proc/meminfo had no MemTotal");
    };
    let mib = kib / 1024;
    let gib = kib as f64 / KIB_PER_GIB;
    let shown = format!("MemTotal {kib} kB ({gib:.1} GiB)");
    if c.input.role == Role::ControlPlane && mib < m.control_plane_memory_mib {
        return CheckResult::new(
            id,
            Verdict::Fail,
            format!(
                "{shown}; kubeadm refuses a control-plane node below {} MiB",
                m.control_plane_memory_mib
            ),
        )
        .measured(gib, m.control_plane_memory_mib as f64 / 1024.0);
    }
    // The validation rounds MemTotal up to whole GiB, so a nominal 8 GiB machine passes.
    let rounded = kib.div_ceil(1024 * 1024);
    let required = m.recommended_memory_gib as f64;
    if rounded < m.recommended_memory_gib {
        CheckResult::new(
            id,
            Verdict::Warn,
            format!("{shown}; {} GiB recommended", m.recommended_memory_gib),
        )
        .measured(gib, required)
    } else {
        CheckResult::new(id, Verdict::Pass, shown).measured(gib, required)
    }
}

fn disk(
    c: &Ctx<'_>,
    id: &'static str,
    path: &str,
    d: Option<&super::facts::DiskFree>,
    min_gib: u64,
) -> CheckResult {
    let Some(d) = d else {
        return c.unknown(id, "df", &format!("the free space on {path}"));
    };
    let gib = d.avail_kib as f64 / KIB_PER_GIB;
    let shown = format!(
        "{gib:.1} GiB free on {} ({}) holding {path}",
        d.mount, d.filesystem
    );
    let verdict = if gib < min_gib as f64 {
        Verdict::Warn
    } else {
        Verdict::Pass
    };
    let evidence = if verdict == Verdict::Warn {
        format!("{shown}; {min_gib} GiB recommended")
    } else {
        shown
    };
    CheckResult::new(id, verdict, evidence).measured(gib, min_gib as f64)
}

fn port(c: &Ctx<'_>, id: &'static str, port: u16) -> CheckResult {
    let Some(listeners) = &c.facts.listeners else {
        return c.unknown(id, "ss", "which ports are in use");
    };
    let busy: Vec<String> = listeners
        .iter()
        .filter(|l| l.proto == "tcp" && l.port == port)
        .take(4)
        .map(|l| {
            let who = match (&l.process, l.pid) {
                (Some(p), Some(pid)) => format!("{p} (pid {pid})"),
                (Some(p), None) => p.clone(),
                (None, _) if c.facts.is_missing("ss") => {
                    "process unknown: read from /proc/net/tcp".into()
                }
                (None, _) => "process hidden: the probe was not root".into(),
            };
            format!("{}:{port} {who}", l.addr)
        })
        .collect();
    if busy.is_empty() {
        CheckResult::new(id, Verdict::Pass, format!("nothing listens on TCP {port}"))
    } else {
        CheckResult::new(id, Verdict::Fail, format!("in use: {}", busy.join(", ")))
    }
}

fn leftover(c: &Ctx<'_>, id: &'static str, path: &str, empty_ok: bool) -> CheckResult {
    match c.facts.paths.get(path) {
        None => c.unknown(id, "test", &format!("whether {path} exists")),
        Some(PathState::Unknown) => CheckResult::new(
            id,
            Verdict::CannotCheck,
            format!("{path}: only root can look (no root, no passwordless sudo)"),
        ),
        Some(PathState::Absent) => CheckResult::new(id, Verdict::Pass, format!("{path}: absent")),
        Some(PathState::EmptyDir) if empty_ok => {
            CheckResult::new(id, Verdict::Pass, format!("{path}: empty directory"))
        }
        Some(PathState::EmptyDir) => CheckResult::new(
            id,
            Verdict::Fail,
            format!("{path}: exists (empty directory)"),
        ),
        Some(PathState::Dir(entries)) => CheckResult::new(
            id,
            Verdict::Fail,
            format!("{path}: exists, holding {}", entries.join(" ")),
        ),
        Some(PathState::File) => CheckResult::new(id, Verdict::Fail, format!("{path}: exists")),
    }
}

fn binary(c: &Ctx<'_>, id: &'static str, name: &str, blocking: bool) -> CheckResult {
    match c.facts.binaries.get(name) {
        Some(Some(path)) => CheckResult::new(id, Verdict::Pass, path.clone()),
        Some(None) if blocking => CheckResult::new(
            id,
            Verdict::Fail,
            format!("{name}: not found; the installer's preflight refuses the node"),
        ),
        Some(None) => CheckResult::new(id, Verdict::Warn, format!("{name}: not found")),
        None => c.unknown(id, "command", &format!("whether {name} is installed")),
    }
}

fn firewalld(c: &Ctx<'_>) -> CheckResult {
    let id = "firewalld";
    match c.facts.firewalld.as_deref() {
        None => c.unknown(id, "systemctl", "the firewalld state"),
        Some("absent") => CheckResult::new(id, Verdict::Pass, "firewalld not installed"),
        Some(s @ ("active" | "activating" | "reloading" | "running")) => {
            CheckResult::new(id, Verdict::Warn, format!("firewalld: {s}"))
        }
        Some(s) => CheckResult::new(id, Verdict::Pass, format!("firewalld: {s}")),
    }
}

fn ufw(c: &Ctx<'_>) -> CheckResult {
    let id = "ufw";
    match c.facts.ufw.as_deref() {
        None | Some("unknown") => {
            CheckResult::new(id, Verdict::CannotCheck, "`ufw status` needs root")
        }
        Some("absent") => CheckResult::new(id, Verdict::Pass, "ufw not installed"),
        Some("active") => CheckResult::new(id, Verdict::Warn, "ufw status: active"),
        Some(s) => CheckResult::new(id, Verdict::Pass, format!("ufw status: {s}")),
    }
}

fn selinux(c: &Ctx<'_>) -> CheckResult {
    let id = "selinux";
    match c.facts.selinux.as_deref() {
        None => c.unknown(id, "getenforce", "the SELinux mode"),
        Some("absent") => CheckResult::new(id, Verdict::Pass, "SELinux not present"),
        Some(s) if s.eq_ignore_ascii_case("enforcing") => {
            CheckResult::new(id, Verdict::Warn, "getenforce: Enforcing")
        }
        Some(s) => CheckResult::new(id, Verdict::Pass, format!("getenforce: {s}")),
    }
}

fn platform_fixes_flag(
    c: &Ctx<'_>,
    id: &'static str,
    on: Option<bool>,
    name: &str,
    raw: Option<&str>,
) -> CheckResult {
    match (on, raw) {
        (Some(true), _) => CheckResult::new(id, Verdict::Pass, format!("{name} = 1")),
        (Some(false), Some("absent")) => CheckResult::new(
            id,
            Verdict::PlatformFixes,
            format!("{name} absent (br_netfilter not loaded)"),
        ),
        (Some(false), _) => CheckResult::new(id, Verdict::PlatformFixes, format!("{name} = 0")),
        (None, Some(v)) => CheckResult::new(id, Verdict::CannotCheck, format!("{name} = `{v}`")),
        (None, None) => c.unknown(id, "sysctl", name),
    }
}

fn swap(c: &Ctx<'_>) -> CheckResult {
    let id = "swap";
    match &c.facts.swaps {
        None => CheckResult::new(id, Verdict::CannotCheck, "/proc/swaps was not readable"),
        Some(s) if s.is_empty() => CheckResult::new(id, Verdict::Pass, "no active swap"),
        Some(s) => CheckResult::new(
            id,
            Verdict::PlatformFixes,
            format!("active swap: {}", s.join(", ")),
        ),
    }
}

fn ntp(c: &Ctx<'_>) -> CheckResult {
    let id = "ntp-synced";
    let tz = c
        .facts
        .timezone
        .as_deref()
        .map(|z| format!(", time zone {z}"))
        .unwrap_or_default();
    match c.facts.ntp_synced_flag() {
        Some(true) => CheckResult::new(id, Verdict::Pass, format!("NTP synchronized: yes{tz}")),
        Some(false) => CheckResult::new(id, Verdict::Warn, format!("NTP synchronized: no{tz}")),
        None if c.facts.is_missing("timedatectl") => {
            c.unknown(id, "timedatectl", "the NTP sync state")
        }
        None => CheckResult::new(
            id,
            Verdict::CannotCheck,
            format!("timedatectl did not report the sync state{tz}"),
        ),
    }
}

#[cfg(test)]
#[path = "evaluate_tests.rs"]
pub(super) mod tests;
