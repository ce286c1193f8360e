//! Facts of a simulated node, for a sandbox that answers the probe from a profile: start from
//! [`healthy_node`], which passes every node-level check, and change what the scenario wants
//! wrong (another architecture, a missing NIC, a busy port). `render_probe_output` of the
//! result is what the simulated node prints.

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::facts::{
    Addr, DiskFree, DmiUuid, HostsEntry, Link, Listener, NodeFacts, OsRelease, PathState, Route,
    SudoAccess,
};
use super::probe::{LEFTOVER_PATHS, PROBE_VERSION, PROBED_BINARIES};

/// What distinguishes one simulated node from another.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimulatedNode {
    pub hostname: String,
    /// As `uname -m` prints it.
    pub arch: String,
    pub ipv4: IpAddr,
    pub prefix_v4: u8,
    pub ipv6: Option<IpAddr>,
    /// The NIC holding the addresses and the default route.
    pub nic: String,
    pub mac: String,
    pub machine_id: String,
    pub product_uuid: String,
}

/// A node every node-level check passes on: root, Ubuntu 22.04, 8 CPUs, 16 GiB, enough disk,
/// nothing listening but sshd, no leftovers, every tool, no firewall, sysctls set, NTP
/// synchronised. `clock` is the node's clock in seconds since the epoch.
pub fn healthy_node(n: &SimulatedNode, clock: f64) -> NodeFacts {
    let mut addrs = vec![
        Addr {
            dev: "lo".into(),
            ip: IpAddr::from([127, 0, 0, 1]),
            prefix: 8,
        },
        Addr {
            dev: n.nic.clone(),
            ip: n.ipv4,
            prefix: n.prefix_v4,
        },
    ];
    if let Some(v6) = n.ipv6 {
        addrs.push(Addr {
            dev: n.nic.clone(),
            ip: v6,
            prefix: 64,
        });
    }
    let gib = 1024 * 1024;
    NodeFacts {
        probe_version: Some(PROBE_VERSION),
        complete: true,
        missing_tools: BTreeSet::new(),
        clock: Some(clock),
        uid: Some(0),
        user: Some("root".into()),
        sudo: Some(SudoAccess::Root),
        arch: Some(n.arch.clone()),
        long_bit: Some(64),
        kernel: Some("5.15.0-91-generic".into()),
        os: Some(OsRelease {
            id: "ubuntu".into(),
            version_id: "22.04".into(),
            pretty_name: "Ubuntu 22.04.4 LTS".into(),
        }),
        hostname: Some(n.hostname.clone()),
        cpus: Some(8),
        mem_total_kib: Some(16 * gib - 350_000),
        machine_id: Some(n.machine_id.clone()),
        product_uuid: Some(DmiUuid::Value(n.product_uuid.clone())),
        iptable_nat: Some(true),
        var_lib: Some(DiskFree {
            filesystem: "/dev/vdb1".into(),
            avail_kib: 180 * gib,
            mount: "/var/lib".into(),
        }),
        var_log: Some(DiskFree {
            filesystem: "/dev/vda1".into(),
            avail_kib: 30 * gib,
            mount: "/".into(),
        }),
        listeners: Some(vec![Listener {
            proto: "tcp".into(),
            addr: "0.0.0.0".into(),
            port: 22,
            process: Some("sshd".into()),
            pid: Some(812),
        }]),
        privileged: Some(true),
        paths: LEFTOVER_PATHS
            .iter()
            .map(|p| (p.to_string(), PathState::Absent))
            .collect(),
        binaries: PROBED_BINARIES
            .iter()
            .map(|b| (b.to_string(), Some(format!("/usr/sbin/{b}"))))
            .collect(),
        firewalld: Some("absent".into()),
        selinux: Some("absent".into()),
        ufw: Some("inactive".into()),
        ip_forward: Some("1".into()),
        bridge_nf_call_iptables: Some("1".into()),
        swaps: Some(Vec::new()),
        ntp_synced: Some("yes".into()),
        timezone: Some("UTC".into()),
        links: Some(vec![
            Link {
                name: "lo".into(),
                up: true,
                state: "UNKNOWN".into(),
                mac: None,
            },
            Link {
                name: n.nic.clone(),
                up: true,
                state: "UP".into(),
                mac: Some(n.mac.to_ascii_lowercase()),
            },
        ]),
        addrs: Some(addrs),
        default_routes_v4: Some(vec![Route {
            via: None,
            dev: Some(n.nic.clone()),
        }]),
        default_routes_v6: Some(Vec::new()),
        hosts: Some(vec![HostsEntry {
            ip: "127.0.0.1".into(),
            names: vec!["localhost".into()],
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::preflight::catalogue::Role;
    use crate::domain::preflight::evaluate::{NodeInput, Requirements, evaluate_node};
    use crate::domain::preflight::facts::{parse_probe_output, render_probe_output};
    use crate::domain::preflight::verdict::Verdict;

    fn node() -> SimulatedNode {
        SimulatedNode {
            hostname: "edge-cp-1".into(),
            arch: "x86_64".into(),
            ipv4: IpAddr::from([192, 168, 67, 59]),
            prefix_v4: 24,
            ipv6: None,
            nic: "eth0".into(),
            mac: "52:54:00:6B:00:3B".into(),
            machine_id: "6b003b".repeat(5),
            product_uuid: "6b003b00-0000-0000-0000-000000000001".into(),
        }
    }

    #[test]
    fn a_healthy_simulated_node_passes_and_answers_the_probe_faithfully() {
        let facts = healthy_node(&node(), 1_700_000_000.5);
        assert_eq!(parse_probe_output(&render_probe_output(&facts)), facts);
        let mut input = NodeInput::new("192.168.67.59", Role::ControlPlane);
        input.ipv4 = Some(node().ipv4);
        let req = Requirements {
            platform_arch: Some("amd64".into()),
            ..Requirements::default()
        };
        for r in evaluate_node(&input, &facts, &req) {
            assert_eq!(r.verdict, Verdict::Pass, "{}: {}", r.id, r.evidence);
        }
    }

    #[test]
    fn a_scenario_breaks_it_where_it_wants() {
        let mut facts = healthy_node(
            &SimulatedNode {
                arch: "aarch64".into(),
                ..node()
            },
            0.0,
        );
        facts
            .links
            .get_or_insert_default()
            .retain(|l| l.name == "lo");
        let mut input = NodeInput::new("192.168.67.60", Role::Worker);
        input.node_nic = Some("eth0".into());
        let req = Requirements {
            platform_arch: Some("x86_64".into()),
            ..Requirements::default()
        };
        let results = evaluate_node(&input, &facts, &req);
        let verdict = |id: &str| results.iter().find(|r| r.id == id).map(|r| r.verdict);
        assert_eq!(verdict("arch"), Some(Verdict::Fail));
        assert_eq!(verdict("nic-present"), Some(Verdict::Fail));
    }
}
