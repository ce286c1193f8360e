//! [`NodeFacts`] back to probe output, in the tools' own formats, so that a simulated node
//! answers the real probe and the parser reads it exactly as it reads a real node.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::facts::{DiskFree, DmiUuid, NodeFacts, PathState};
use super::probe::{PROBE_VERSION, section};

/// The probe output a node with these facts would print. `parse_probe_output` of the result
/// gives `facts` back.
pub fn render_probe_output(facts: &NodeFacts) -> String {
    let mut o = Out(String::new());
    o.line(&format!(
        "@@acp-probe {}",
        facts.probe_version.unwrap_or(PROBE_VERSION)
    ));
    for t in &facts.missing_tools {
        o.line(&format!("@@missing {t}"));
    }
    o.kv_section(
        section::CLOCK,
        &[("now", facts.clock.map(|c| c.to_string()))],
    );
    o.kv_section(
        section::IDENTITY,
        &[
            ("uid", facts.uid.map(|u| u.to_string())),
            ("user", facts.user.clone()),
            ("sudo", facts.sudo.map(|s| s.as_str().to_string())),
        ],
    );
    platform(&mut o, facts);
    if let Some(os) = &facts.os {
        o.raw_section(
            section::OS_RELEASE,
            [
                format!("PRETTY_NAME=\"{}\"", os.pretty_name),
                format!("ID={}", os.id),
                format!("VERSION_ID=\"{}\"", os.version_id),
            ],
        );
    }
    for (name, disk) in [
        (section::DF_VAR_LIB, &facts.var_lib),
        (section::DF_VAR_LOG, &facts.var_log),
    ] {
        if let Some(d) = disk {
            o.raw_section(name, df_lines(d));
        }
    }
    listeners(&mut o, facts);
    paths(&mut o, facts);
    if !facts.binaries.is_empty() {
        o.line(&format!("@@kv {}", section::BINARIES));
        for (b, p) in &facts.binaries {
            o.line(&format!("{b}={}", p.as_deref().unwrap_or("missing")));
        }
    }
    o.kv_section(
        section::SECURITY,
        &[
            ("firewalld", facts.firewalld.clone()),
            ("selinux", facts.selinux.clone()),
            ("ufw", facts.ufw.clone()),
        ],
    );
    o.kv_section(
        section::SYSCTL,
        &[
            ("ip_forward", facts.ip_forward.clone()),
            (
                "bridge_nf_call_iptables",
                facts.bridge_nf_call_iptables.clone(),
            ),
        ],
    );
    swaps(&mut o, facts);
    o.kv_section(
        section::TIME,
        &[
            ("ntp_synced", facts.ntp_synced.clone()),
            ("timezone", facts.timezone.clone()),
        ],
    );
    network(&mut o, facts);
    if let Some(hosts) = &facts.hosts {
        o.raw_section(
            section::HOSTS,
            hosts
                .iter()
                .map(|h| format!("{} {}", h.ip, h.names.join(" "))),
        );
    }
    if facts.complete {
        o.line("@@end");
    }
    o.0
}

struct Out(String);

impl Out {
    fn line(&mut self, l: &str) {
        self.0.push_str(l);
        self.0.push('\n');
    }

    fn kv_section(&mut self, name: &str, pairs: &[(&str, Option<String>)]) {
        if pairs.iter().all(|(_, v)| v.is_none()) {
            return;
        }
        self.line(&format!("@@kv {name}"));
        for (k, v) in pairs {
            if let Some(v) = v {
                self.line(&format!("{k}={}", one_line(v)));
            }
        }
    }

    fn raw_section(&mut self, name: &str, lines: impl IntoIterator<Item = String>) {
        self.line(&format!("@@raw {name}"));
        for l in lines {
            let _ = writeln!(self.0, "|{}", one_line(&l));
        }
    }
}

/// Values are one line each in the probe's format.
fn one_line(v: &str) -> String {
    v.replace(['\n', '\r'], " ")
}

fn platform(o: &mut Out, f: &NodeFacts) {
    o.kv_section(
        section::PLATFORM,
        &[
            ("arch", f.arch.clone()),
            ("kernel", f.kernel.clone()),
            ("hostname", f.hostname.clone()),
            ("long_bit", f.long_bit.map(|v| v.to_string())),
            ("cpus", f.cpus.map(|v| v.to_string())),
            ("mem_total_kb", f.mem_total_kib.map(|v| v.to_string())),
            ("machine_id", f.machine_id.clone()),
            (
                "product_uuid",
                f.product_uuid.as_ref().map(|u| match u {
                    DmiUuid::Value(v) => v.clone(),
                    DmiUuid::Unreadable => "unreadable".into(),
                    DmiUuid::Absent => "absent".into(),
                }),
            ),
            (
                "iptable_nat",
                f.iptable_nat
                    .map(|v| if v { "found" } else { "notfound" }.to_string()),
            ),
        ],
    );
}

fn listeners(o: &mut Out, facts: &NodeFacts) {
    let Some(ls) = &facts.listeners else { return };
    o.raw_section(
        section::SS,
        ls.iter().map(|l| {
            let users = match (&l.process, l.pid) {
                (Some(p), Some(pid)) => format!(" users:((\"{p}\",pid={pid},fd=3))"),
                (Some(p), None) => format!(" users:((\"{p}\",fd=3))"),
                (None, Some(pid)) => format!(" users:((\"\",pid={pid},fd=3))"),
                (None, None) => String::new(),
            };
            let peer = if l.addr.starts_with('[') {
                "[::]:*"
            } else {
                "0.0.0.0:*"
            };
            let state = if l.proto == "udp" { "UNCONN" } else { "LISTEN" };
            format!(
                "{} {state} 0 4096 {}:{} {peer}{users}",
                l.proto, l.addr, l.port
            )
        }),
    );
}

fn swaps(o: &mut Out, facts: &NodeFacts) {
    let Some(swaps) = &facts.swaps else { return };
    let header = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority".to_string();
    let rows = swaps
        .iter()
        .map(|s| format!("{s}\tpartition\t4194300\t\t0\t\t-2"));
    o.raw_section(section::SWAPS, std::iter::once(header).chain(rows));
}

fn df_lines(d: &DiskFree) -> [String; 2] {
    [
        "Filesystem     1024-blocks     Used Available Capacity Mounted on".to_string(),
        format!(
            "{} {} 0 {} 0% {}",
            d.filesystem, d.avail_kib, d.avail_kib, d.mount
        ),
    ]
}

fn paths(o: &mut Out, f: &NodeFacts) {
    if f.paths.is_empty() && f.privileged.is_none() {
        return;
    }
    o.line(&format!("@@kv {}", section::PATHS));
    if let Some(p) = f.privileged {
        o.line(&format!("privileged={}", if p { "yes" } else { "no" }));
    }
    for (path, state) in &f.paths {
        let word = match state {
            PathState::Absent => "absent",
            PathState::EmptyDir => "empty-dir",
            PathState::Dir(_) => "dir",
            PathState::File => "file",
            PathState::Unknown => "unknown",
        };
        o.line(&format!("{path}={word}"));
        if let PathState::Dir(entries) = state {
            o.line(&format!("{path}.entries={}", entries.join(" ")));
        }
    }
}

fn network(o: &mut Out, f: &NodeFacts) {
    if let Some(links) = &f.links {
        o.raw_section(section::IP_LINK, links.iter().enumerate().map(|(i, l)| {
            let flags = if l.up { "BROADCAST,MULTICAST,UP,LOWER_UP" } else { "BROADCAST,MULTICAST" };
            let mac = l.mac.as_deref().map_or(String::new(), |m| format!("\\    link/ether {m} brd ff:ff:ff:ff:ff:ff"));
            format!("{}: {}: <{flags}> mtu 1500 qdisc mq state {} mode DEFAULT group default qlen 1000{mac}", i + 1, l.name, l.state)
        }));
    }
    if let Some(addrs) = &f.addrs {
        o.raw_section(section::IP_ADDR, addrs.iter().enumerate().map(|(i, a)| {
            let family = match a.ip {
                IpAddr::V4(_) => "inet",
                IpAddr::V6(_) => "inet6",
            };
            format!("{}: {}    {family} {}/{} scope global {}\\       valid_lft forever preferred_lft forever", i + 1, a.dev, a.ip, a.prefix, a.dev)
        }));
    }
    for (name, routes) in [
        (section::IP_ROUTE, &f.default_routes_v4),
        (section::IP_ROUTE6, &f.default_routes_v6),
    ] {
        if let Some(routes) = routes {
            o.raw_section(
                name,
                routes.iter().map(|r| {
                    let mut l = "default".to_string();
                    if let Some(v) = &r.via {
                        l.push_str(&format!(" via {v}"));
                    }
                    if let Some(d) = &r.dev {
                        l.push_str(&format!(" dev {d}"));
                    }
                    l.push_str(" proto static metric 100");
                    l
                }),
            );
        }
    }
}
