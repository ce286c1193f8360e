//! Network checks on one node: the NIC the plugin will use (by the docs' priority rules),
//! the entered addresses, the hostname, and the registry's /etc/hosts line.

use std::net::IpAddr;

use super::evaluate::{Ctx, NetworkPlugin, NodeInput};
use super::facts::NodeFacts;
use super::verdict::{CheckResult, Verdict};

/// Where the NIC the plugin uses comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NicSource {
    NodeNic,
    ClusterNic,
    DefaultRoute,
}

impl NicSource {
    fn label(self) -> &'static str {
        match self {
            Self::NodeNic => "the node NIC",
            Self::ClusterNic => "the cluster NIC",
            Self::DefaultRoute => "the default route's NIC",
        }
    }
}

/// The NIC choice, or why there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NicChoice {
    Chosen {
        name: String,
        source: NicSource,
    },
    /// Underlay needs a NIC entered; it never falls back to the default route.
    NoneEntered,
    /// The rule falls back to the default route and the node has none.
    NoDefaultRoute,
    /// The rule falls back to the default route and the probe could not list routes.
    RoutesUnknown,
}

/// The NIC the network plugin will use, by the ACP docs' priority (Node Settings):
/// Kube-OVN Underlay: node NIC > cluster NIC; Kube-OVN Overlay: node NIC > cluster NIC >
/// default-route NIC; Calico and Flannel: cluster NIC > default-route NIC. The custom mode
/// installs no plugin, so it is read like Overlay.
pub fn effective_nic(input: &NodeInput, facts: &NodeFacts) -> NicChoice {
    let entered = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let node = entered(&input.node_nic).map(|n| (n, NicSource::NodeNic));
    let cluster = entered(&input.cluster_nic).map(|n| (n, NicSource::ClusterNic));
    let picked = match input.network {
        NetworkPlugin::KubeOvnUnderlay => match node.or(cluster) {
            Some(p) => p,
            None => return NicChoice::NoneEntered,
        },
        NetworkPlugin::KubeOvnOverlay | NetworkPlugin::Custom => match node.or(cluster) {
            Some(p) => p,
            None => return default_route(facts),
        },
        NetworkPlugin::Calico | NetworkPlugin::Flannel => match cluster {
            Some(p) => p,
            None => return default_route(facts),
        },
    };
    NicChoice::Chosen {
        name: picked.0,
        source: picked.1,
    }
}

fn default_route(facts: &NodeFacts) -> NicChoice {
    let listed = facts.default_routes_v4.is_some() || facts.default_routes_v6.is_some();
    match (listed, facts.default_route_dev()) {
        (false, _) => NicChoice::RoutesUnknown,
        (true, None) => NicChoice::NoDefaultRoute,
        (true, Some(dev)) => NicChoice::Chosen {
            name: dev.to_string(),
            source: NicSource::DefaultRoute,
        },
    }
}

pub(super) fn node_check(c: &Ctx<'_>, id: &'static str) -> Option<CheckResult> {
    Some(match id {
        "nic-present" => nic_present(c),
        "nic-up" => nic_up(c),
        "nic-underlay-dedicated" => {
            if c.input.network != NetworkPlugin::KubeOvnUnderlay {
                return None;
            }
            underlay_dedicated(c)
        }
        "ipv4-on-node" => address_on_node(c, id, c.input.ipv4?),
        "ipv6-on-node" => address_on_node(c, id, c.input.ipv6?),
        "hostname-valid" => hostname_valid(c),
        "registry-hosts-line" => registry_hosts_line(c)?,
        _ => return None,
    })
}

/// A note when the node NIC is set but the plugin reads only the cluster NIC.
fn ignored_node_nic(c: &Ctx<'_>) -> String {
    match (&c.input.node_nic, c.input.network) {
        (Some(n), NetworkPlugin::Calico | NetworkPlugin::Flannel) if !n.trim().is_empty() => {
            format!(
                "; the node NIC `{}` is not used by {}",
                n.trim(),
                c.input.network.label()
            )
        }
        _ => String::new(),
    }
}

fn link_names(facts: &NodeFacts) -> String {
    let names: Vec<&str> = facts
        .links
        .iter()
        .flatten()
        .filter(|l| l.name != "lo")
        .map(|l| l.name.as_str())
        .take(8)
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

fn nic_present(c: &Ctx<'_>) -> CheckResult {
    let id = "nic-present";
    match effective_nic(c.input, c.facts) {
        NicChoice::NoneEntered => CheckResult::new(
            id,
            Verdict::Fail,
            "Kube-OVN Underlay needs a node or cluster NIC; none entered",
        )
        .with_hint("Enter the NIC Underlay bridges (a second NIC, not the one carrying SSH)."),
        NicChoice::NoDefaultRoute => CheckResult::new(
            id,
            Verdict::Fail,
            "no NIC entered and the node has no default route to fall back on",
        ),
        NicChoice::RoutesUnknown => c.unknown(id, "ip", "the default route"),
        NicChoice::Chosen { name, source } => {
            if c.facts.links.is_none() {
                return c.unknown(id, "ip", "the node's interfaces");
            }
            let note = ignored_node_nic(c);
            match c.facts.link(&name) {
                Some(_) => {
                    // ACP's traffic monitoring only counts NICs named like these by default.
                    let monitored = ["eth", "en", "wl", "ww"]
                        .iter()
                        .any(|p| name.starts_with(p));
                    let mon = if monitored {
                        ""
                    } else {
                        "; not named eth*/en*/wl*/ww*, so ACP's NIC traffic monitoring needs configuring"
                    };
                    CheckResult::new(
                        id,
                        Verdict::Pass,
                        format!("{name} ({}){note}{mon}", source.label()),
                    )
                }
                None => CheckResult::new(
                    id,
                    Verdict::Fail,
                    format!(
                        "{name} ({}) not found; the node has: {}{note}",
                        source.label(),
                        link_names(c.facts)
                    ),
                ),
            }
        }
    }
}

fn nic_up(c: &Ctx<'_>) -> CheckResult {
    let id = "nic-up";
    let NicChoice::Chosen { name, .. } = effective_nic(c.input, c.facts) else {
        return CheckResult::new(
            id,
            Verdict::CannotCheck,
            "no NIC to look at (see nic-present)",
        );
    };
    if c.facts.links.is_none() {
        return c.unknown(id, "ip", "the node's interfaces");
    }
    match c.facts.link(&name) {
        None => CheckResult::new(
            id,
            Verdict::CannotCheck,
            format!("{name} not found (see nic-present)"),
        ),
        Some(l) if l.is_up() => {
            CheckResult::new(id, Verdict::Pass, format!("{name}: state {}", l.state))
        }
        Some(l) => CheckResult::new(
            id,
            Verdict::Fail,
            format!(
                "{name}: {} state {}",
                if l.up {
                    "up,"
                } else {
                    "administratively down,"
                },
                l.state
            ),
        ),
    }
}

fn underlay_dedicated(c: &Ctx<'_>) -> CheckResult {
    let id = "nic-underlay-dedicated";
    let NicChoice::Chosen { name, .. } = effective_nic(c.input, c.facts) else {
        return CheckResult::new(
            id,
            Verdict::CannotCheck,
            "no Underlay NIC entered (see nic-present)",
        );
    };
    let mut uses = Vec::new();
    if let Some(ip) = c.input.ipv4
        && c.facts.devices_with(&ip).contains(&name.as_str())
    {
        uses.push(format!("holds the node address {ip}"));
    }
    if c.facts.default_route_dev() == Some(name.as_str()) {
        uses.push("carries the default route".to_string());
    }
    if c.facts.addrs.is_none() {
        return c.unknown(id, "ip", "the node's addresses");
    }
    if uses.is_empty() {
        CheckResult::new(
            id,
            Verdict::Pass,
            format!("{name} carries neither the node address nor the default route"),
        )
    } else {
        CheckResult::new(id, Verdict::Fail, format!("{name} {}", uses.join(" and ")))
    }
}

fn address_on_node(c: &Ctx<'_>, id: &'static str, ip: IpAddr) -> CheckResult {
    let Some(addrs) = &c.facts.addrs else {
        return c.unknown(id, "ip", "the node's addresses");
    };
    let devs = c.facts.devices_with(&ip);
    if !devs.is_empty() {
        return CheckResult::new(id, Verdict::Pass, format!("{ip} on {}", devs.join(", ")));
    }
    let same_family: Vec<String> = addrs
        .iter()
        .filter(|a| a.ip.is_ipv4() == ip.is_ipv4() && !a.ip.is_loopback() && !is_link_local(&a.ip))
        .take(6)
        .map(|a| format!("{}/{} on {}", a.ip, a.prefix, a.dev))
        .collect();
    let has = if same_family.is_empty() {
        "none".to_string()
    } else {
        same_family.join(", ")
    };
    CheckResult::new(
        id,
        Verdict::Fail,
        format!("{ip} is not on the node; it has: {has}"),
    )
}

fn is_link_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_link_local(),
        IpAddr::V6(a) => (a.segments()[0] & 0xffc0) == 0xfe80,
    }
}

/// Why `name` is not a valid lower-case RFC 1123 hostname, if it is not.
pub fn hostname_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("empty".into());
    }
    if name.len() > 253 {
        return Some(format!("{} characters (at most 253)", name.len()));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("an empty label (two dots, or a dot at an end)".into());
        }
        if label.len() > 63 {
            return Some(format!("label `{label}` is longer than 63 characters"));
        }
        if let Some(ch) = label
            .chars()
            .find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '-'))
        {
            return Some(format!("`{ch}` is not allowed (a-z, 0-9, - and . only)"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("label `{label}` starts or ends with -"));
        }
    }
    None
}

fn hostname_valid(c: &Ctx<'_>) -> CheckResult {
    let id = "hostname-valid";
    let Some(h) = c.facts.hostname.as_deref() else {
        return c.unknown(id, "uname", "the hostname");
    };
    let bad = if c.req.hostname_is_node_name {
        Verdict::Fail
    } else {
        Verdict::Warn
    };
    if let Some(p) = hostname_problem(h) {
        return CheckResult::new(id, bad, format!("hostname `{h}`: {p}"));
    }
    if h.chars().any(|ch| ch.is_ascii_uppercase()) {
        return CheckResult::new(
            id,
            Verdict::Warn,
            format!(
                "hostname `{h}` has upper case; the node registers as `{}`",
                h.to_ascii_lowercase()
            ),
        );
    }
    if h == "localhost" || h.starts_with("localhost.") {
        return CheckResult::new(
            id,
            bad,
            format!("hostname `{h}`: every unconfigured machine has it"),
        );
    }
    CheckResult::new(id, Verdict::Pass, format!("hostname `{h}`"))
}

fn registry_hosts_line(c: &Ctx<'_>) -> Option<CheckResult> {
    let id = "registry-hosts-line";
    let target = c.input.registry.as_ref()?;
    let domain = target.domain.trim();
    if domain.is_empty() || domain.parse::<IpAddr>().is_ok() {
        return None;
    }
    let Some(hosts) = &c.facts.hosts else {
        return Some(CheckResult::new(
            id,
            Verdict::CannotCheck,
            "/etc/hosts was not readable",
        ));
    };
    let lines: Vec<_> = hosts
        .iter()
        .filter(|h| h.names.iter().any(|n| n.eq_ignore_ascii_case(domain)))
        .collect();
    let shown = |h: &&super::facts::HostsEntry| format!("`{} {}`", h.ip, h.names.join(" "));
    if lines.is_empty() {
        return Some(CheckResult::new(
            id,
            Verdict::PlatformFixes,
            format!("no /etc/hosts line for {domain}; the installer writes one"),
        ));
    }
    let shown_all = lines.iter().map(shown).collect::<Vec<_>>().join(", ");
    let Some(want) = target.ip else {
        return Some(CheckResult::new(
            id,
            Verdict::Pass,
            format!("{shown_all} (the registry's address is not known; not compared)"),
        ));
    };
    let elsewhere = lines
        .iter()
        .any(|h| h.ip.parse::<IpAddr>().ok() != Some(want));
    Some(if elsewhere {
        CheckResult::new(
            id,
            Verdict::Warn,
            format!("{shown_all} points elsewhere than {want}; the installer replaces it"),
        )
    } else {
        CheckResult::new(id, Verdict::Pass, shown_all)
    })
}
