use std::collections::BTreeMap;
use std::net::IpAddr;

use super::*;
use crate::domain::preflight::catalogue::{self, AppliesTo};
use crate::domain::preflight::facts::{
    Addr, DiskFree, DmiUuid, HostsEntry, Link, Listener, OsRelease, Route,
};
use crate::domain::preflight::matrix::SupportMatrix;
use crate::domain::preflight::probe::{LEFTOVER_PATHS, PROBED_BINARIES};
use crate::domain::preflight::verdict::Summary;

pub(crate) fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// A node every node-level check passes on.
pub(crate) fn good_facts() -> NodeFacts {
    NodeFacts {
        probe_version: Some(1),
        complete: true,
        clock: Some(1_700_000_000.0),
        uid: Some(0),
        user: Some("root".into()),
        sudo: Some(SudoAccess::Root),
        arch: Some("x86_64".into()),
        long_bit: Some(64),
        kernel: Some("5.15.0-91-generic".into()),
        os: Some(OsRelease {
            id: "ubuntu".into(),
            version_id: "22.04".into(),
            pretty_name: "Ubuntu 22.04.3 LTS".into(),
        }),
        hostname: Some("node-a".into()),
        cpus: Some(8),
        mem_total_kib: Some(16 * 1024 * 1024 - 400_000),
        machine_id: Some("0123456789abcdef0123456789abcdef".into()),
        product_uuid: Some(DmiUuid::Value(
            "a1b2c3d4-0000-1111-2222-333344445555".into(),
        )),
        iptable_nat: Some(true),
        var_lib: Some(DiskFree {
            filesystem: "/dev/sdb1".into(),
            avail_kib: 200 * 1024 * 1024,
            mount: "/var/lib".into(),
        }),
        var_log: Some(DiskFree {
            filesystem: "/dev/sda1".into(),
            avail_kib: 40 * 1024 * 1024,
            mount: "/".into(),
        }),
        listeners: Some(vec![Listener {
            proto: "tcp".into(),
            addr: "0.0.0.0".into(),
            port: 22,
            process: Some("sshd".into()),
            pid: Some(900),
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
        firewalld: Some("inactive".into()),
        selinux: Some("absent".into()),
        ufw: Some("inactive".into()),
        ip_forward: Some("1".into()),
        bridge_nf_call_iptables: Some("1".into()),
        swaps: Some(vec![]),
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
                name: "eth0".into(),
                up: true,
                state: "UP".into(),
                mac: Some("52:54:00:00:00:0a".into()),
            },
            Link {
                name: "eth1".into(),
                up: true,
                state: "UP".into(),
                mac: Some("52:54:00:00:01:0a".into()),
            },
        ]),
        addrs: Some(vec![
            Addr {
                dev: "lo".into(),
                ip: ip("127.0.0.1"),
                prefix: 8,
            },
            Addr {
                dev: "eth0".into(),
                ip: ip("192.168.10.11"),
                prefix: 24,
            },
            Addr {
                dev: "eth0".into(),
                ip: ip("fd00:10::11"),
                prefix: 64,
            },
        ]),
        default_routes_v4: Some(vec![Route {
            via: Some("192.168.10.1".into()),
            dev: Some("eth0".into()),
        }]),
        default_routes_v6: Some(vec![]),
        hosts: Some(vec![HostsEntry {
            ip: "127.0.0.1".into(),
            names: vec!["localhost".into()],
        }]),
        ..NodeFacts::default()
    }
}

pub(crate) fn good_input(role: Role) -> NodeInput {
    NodeInput {
        ipv4: Some(ip("192.168.10.11")),
        ipv6: Some(ip("fd00:10::11")),
        registry: Some(RegistryTarget {
            domain: "registry.example.com".into(),
            ip: Some(ip("192.168.10.5")),
        }),
        ..NodeInput::new("192.168.10.11", role)
    }
}

fn req() -> Requirements {
    Requirements {
        platform_arch: Some("amd64".into()),
        ..Requirements::default()
    }
}

fn result_of(
    input: &NodeInput,
    facts: &NodeFacts,
    req: &Requirements,
    id: &str,
) -> Option<CheckResult> {
    evaluate_node(input, facts, req)
        .into_iter()
        .find(|r| r.id == id)
}

#[test]
fn a_healthy_node_passes_every_node_check_except_the_hosts_line_the_installer_writes() {
    for role in [Role::ControlPlane, Role::Worker] {
        let results = evaluate_node(&good_input(role), &good_facts(), &req());
        for r in &results {
            let want = if r.id == "registry-hosts-line" {
                Verdict::PlatformFixes
            } else {
                Verdict::Pass
            };
            assert_eq!(r.verdict, want, "{role:?} {}: {}", r.id, r.evidence);
        }
        let expected: Vec<&str> = catalogue::CATALOGUE
            .iter()
            .filter(|d| {
                d.scope == Scope::Node
                    && d.applies_to.includes(role)
                    && d.id != "nic-underlay-dedicated"
            })
            .map(|d| d.id)
            .collect();
        assert_eq!(
            results.iter().map(|r| r.id).collect::<Vec<_>>(),
            expected,
            "{role:?}"
        );
    }
}

#[test]
fn workers_get_no_control_plane_ports() {
    let results = evaluate_node(&good_input(Role::Worker), &good_facts(), &req());
    for r in &results {
        assert_eq!(
            catalogue::check(r.id).map(|d| d.applies_to),
            Some(AppliesTo::AllNodes),
            "{}",
            r.id
        );
    }
    assert!(results.iter().any(|r| r.id == "port-10250"));
    assert!(!results.iter().any(|r| r.id == "port-6443"));
    assert!(
        !results.iter().any(|r| r.id == "leftover-var-lib-etcd"),
        "etcd runs on control-plane nodes only"
    );
}

type Edit = fn(&mut NodeInput, &mut NodeFacts, &mut Requirements);

struct Case {
    id: &'static str,
    role: Role,
    edit: Edit,
    verdict: Verdict,
    evidence: &'static str,
}

const CP: Role = Role::ControlPlane;
const WK: Role = Role::Worker;

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { id: "probe-complete", role: CP, edit: |_, f, _| f.complete = false, verdict: Verdict::Warn, evidence: "cut off" },
    Case { id: "probe-complete", role: CP, edit: |_, f, _| f.probe_version = None, verdict: Verdict::CannotCheck, evidence: "header" },
    Case { id: "root-or-sudo", role: CP, edit: |_, f, _| { f.uid = Some(1000); f.sudo = Some(SudoAccess::Passwordless); }, verdict: Verdict::Pass, evidence: "passwordless sudo" },
    Case { id: "root-or-sudo", role: CP, edit: |_, f, _| { f.uid = Some(1000); f.sudo = Some(SudoAccess::Denied); }, verdict: Verdict::Fail, evidence: "refused" },
    Case { id: "root-or-sudo", role: CP, edit: |_, f, _| { f.uid = Some(1000); f.sudo = Some(SudoAccess::Missing); }, verdict: Verdict::Fail, evidence: "not installed" },
    Case { id: "root-or-sudo", role: CP, edit: |_, f, _| { f.uid = None; f.missing_tools.insert("id".into()); }, verdict: Verdict::CannotCheck, evidence: "`id` is not installed" },
    Case { id: "arch", role: CP, edit: |_, f, _| f.arch = Some("aarch64".into()), verdict: Verdict::Fail, evidence: "the platform runs x86_64" },
    Case { id: "arch", role: CP, edit: |_, f, _| f.long_bit = Some(32), verdict: Verdict::Fail, evidence: "LONG_BIT: 32" },
    Case { id: "arch", role: CP, edit: |_, f, r| { f.arch = Some("aarch64".into()); r.platform_arch = Some("arm64".into()); }, verdict: Verdict::Pass, evidence: "aarch64" },
    Case { id: "arch", role: CP, edit: |_, _, r| r.platform_arch = None, verdict: Verdict::Pass, evidence: "not known" },
    Case { id: "arch", role: CP, edit: |_, f, r| { r.platform_arch = None; f.arch = Some("riscv64".into()); }, verdict: Verdict::Warn, evidence: "riscv64" },
    Case { id: "arch", role: CP, edit: |_, f, _| { f.arch = None; f.missing_tools.insert("uname".into()); }, verdict: Verdict::CannotCheck, evidence: "uname" },
    Case { id: "os-supported", role: CP, edit: |_, f, _| f.os = Some(OsRelease { id: "ubuntu".into(), version_id: "18.04".into(), pretty_name: "Ubuntu 18.04".into() }), verdict: Verdict::Warn, evidence: "listed for" },
    Case { id: "os-supported", role: CP, edit: |_, f, _| f.os = Some(OsRelease { id: "gentoo".into(), version_id: "2.15".into(), pretty_name: "Gentoo".into() }), verdict: Verdict::Warn, evidence: "not in the support matrix" },
    Case { id: "os-supported", role: CP, edit: |_, f, r| { r.matrix = SupportMatrix::shipped().merged_with("[policy]\nunsupported_os = \"fail\"\n", "o").expect("policy"); f.os = Some(OsRelease { id: "gentoo".into(), version_id: "2.15".into(), pretty_name: "Gentoo".into() }); }, verdict: Verdict::Fail, evidence: "not in the support matrix" },
    Case { id: "os-supported", role: CP, edit: |_, f, _| { f.os = Some(OsRelease { id: "centos".into(), version_id: "7".into(), pretty_name: "CentOS 7".into() }); f.arch = Some("aarch64".into()); }, verdict: Verdict::Warn, evidence: "not aarch64" },
    Case { id: "os-supported", role: CP, edit: |_, f, _| f.os = None, verdict: Verdict::CannotCheck, evidence: "os-release" },
    Case { id: "kernel", role: CP, edit: |_, f, _| f.kernel = Some("3.8.13".into()), verdict: Verdict::Fail, evidence: "below 3.10" },
    Case { id: "kernel", role: CP, edit: |_, f, _| f.kernel = Some("4.15.0-20-generic".into()), verdict: Verdict::Warn, evidence: "5.4.0 or later on Ubuntu" },
    Case { id: "kernel", role: CP, edit: |_, f, _| f.os = Some(OsRelease { id: "gentoo".into(), version_id: "2".into(), pretty_name: "Gentoo".into() }), verdict: Verdict::Pass, evidence: "no matrix minimum" },
    Case { id: "kernel", role: CP, edit: |_, f, _| f.kernel = Some("custom".into()), verdict: Verdict::CannotCheck, evidence: "no version number" },
    Case { id: "kernel-module-iptable-nat", role: WK, edit: |_, f, _| f.iptable_nat = Some(false), verdict: Verdict::Fail, evidence: "not found" },
    Case { id: "kernel-module-iptable-nat", role: WK, edit: |_, f, _| { f.iptable_nat = None; f.missing_tools.insert("modinfo".into()); }, verdict: Verdict::CannotCheck, evidence: "modinfo" },
    Case { id: "cpu", role: CP, edit: |_, f, _| f.cpus = Some(1), verdict: Verdict::Fail, evidence: "needs 2" },
    Case { id: "cpu", role: WK, edit: |_, f, _| f.cpus = Some(1), verdict: Verdict::Warn, evidence: "4 recommended" },
    Case { id: "cpu", role: CP, edit: |_, f, _| f.cpus = Some(2), verdict: Verdict::Warn, evidence: "4 recommended" },
    Case { id: "cpu", role: CP, edit: |_, f, _| f.cpus = None, verdict: Verdict::CannotCheck, evidence: "CPU count" },
    Case { id: "memory", role: CP, edit: |_, f, _| f.mem_total_kib = Some(1024 * 1024), verdict: Verdict::Fail, evidence: "1700 MiB" },
    Case { id: "memory", role: WK, edit: |_, f, _| f.mem_total_kib = Some(1024 * 1024), verdict: Verdict::Warn, evidence: "8 GiB recommended" },
    Case { id: "memory", role: WK, edit: |_, f, _| f.mem_total_kib = Some(7_990_000), verdict: Verdict::Pass, evidence: "7.6 GiB" },
    Case { id: "memory", role: WK, edit: |_, f, _| f.mem_total_kib = None, verdict: Verdict::CannotCheck, evidence: "MemTotal" },
    Case { id: "disk-var-lib", role: WK, edit: |_, f, _| f.var_lib = Some(DiskFree { filesystem: "/dev/vda1".into(), avail_kib: 30 * 1024 * 1024, mount: "/".into() }), verdict: Verdict::Warn, evidence: "30.0 GiB free on / (/dev/vda1)" },
    Case { id: "disk-var-lib", role: WK, edit: |_, f, _| { f.var_lib = None; f.missing_tools.insert("df".into()); }, verdict: Verdict::CannotCheck, evidence: "`df`" },
    Case { id: "disk-var-log", role: WK, edit: |_, f, _| f.var_log = Some(DiskFree { filesystem: "/dev/vda1".into(), avail_kib: 1024 * 1024, mount: "/".into() }), verdict: Verdict::Warn, evidence: "10 GiB recommended" },
    Case { id: "port-6443", role: CP, edit: |_, f, _| f.listeners = Some(vec![Listener { proto: "tcp".into(), addr: "*".into(), port: 6443, process: Some("haproxy".into()), pid: Some(77) }]), verdict: Verdict::Fail, evidence: "*:6443 haproxy (pid 77)" },
    Case { id: "port-11780", role: CP, edit: |_, f, _| f.listeners = Some(vec![Listener { proto: "tcp".into(), addr: "[::]".into(), port: 11780, process: None, pid: None }]), verdict: Verdict::Fail, evidence: "process hidden" },
    Case { id: "port-2379", role: CP, edit: |_, f, _| f.listeners = Some(vec![Listener { proto: "udp".into(), addr: "0.0.0.0".into(), port: 2379, process: None, pid: None }]), verdict: Verdict::Pass, evidence: "nothing listens" },
    Case { id: "port-10250", role: WK, edit: |_, f, _| { f.listeners = None; f.missing_tools.insert("ss".into()); }, verdict: Verdict::CannotCheck, evidence: "`ss`" },
    Case { id: "leftover-var-lib-etcd", role: CP, edit: |_, f, _| { f.paths.insert("/var/lib/etcd".into(), PathState::Dir(vec!["member".into()])); }, verdict: Verdict::Fail, evidence: "holding member" },
    Case { id: "leftover-var-lib-etcd", role: CP, edit: |_, f, _| { f.paths.insert("/var/lib/etcd".into(), PathState::EmptyDir); }, verdict: Verdict::Fail, evidence: "empty directory" },
    Case { id: "leftover-static-pods", role: CP, edit: |_, f, _| { f.paths.insert("/etc/kubernetes/manifests".into(), PathState::EmptyDir); }, verdict: Verdict::Pass, evidence: "empty directory" },
    Case { id: "leftover-root-kube-config", role: WK, edit: |_, f, _| { f.paths.insert("/root/.kube/config".into(), PathState::File); }, verdict: Verdict::Fail, evidence: "exists" },
    Case { id: "leftover-root-kube-config", role: WK, edit: |_, f, _| { f.paths.insert("/root/.kube/config".into(), PathState::Unknown); }, verdict: Verdict::CannotCheck, evidence: "only root" },
    Case { id: "leftover-etc-cni-net-d", role: WK, edit: |_, f, _| f.paths = BTreeMap::new(), verdict: Verdict::CannotCheck, evidence: "did not report" },
    Case { id: "binary-iptables", role: WK, edit: |_, f, _| { f.binaries.insert("iptables".into(), None); }, verdict: Verdict::Fail, evidence: "refuses" },
    Case { id: "binary-conntrack", role: WK, edit: |_, f, _| { f.binaries.insert("conntrack".into(), None); }, verdict: Verdict::Warn, evidence: "not found" },
    Case { id: "binary-socat", role: WK, edit: |_, f, _| f.binaries = BTreeMap::new(), verdict: Verdict::CannotCheck, evidence: "socat" },
    Case { id: "firewalld", role: WK, edit: |_, f, _| f.firewalld = Some("active".into()), verdict: Verdict::Warn, evidence: "active" },
    Case { id: "firewalld", role: WK, edit: |_, f, _| f.firewalld = Some("absent".into()), verdict: Verdict::Pass, evidence: "not installed" },
    Case { id: "firewalld", role: WK, edit: |_, f, _| f.firewalld = None, verdict: Verdict::CannotCheck, evidence: "firewalld" },
    Case { id: "ufw", role: WK, edit: |_, f, _| f.ufw = Some("active".into()), verdict: Verdict::Warn, evidence: "active" },
    Case { id: "ufw", role: WK, edit: |_, f, _| f.ufw = Some("unknown".into()), verdict: Verdict::CannotCheck, evidence: "root" },
    Case { id: "selinux", role: WK, edit: |_, f, _| f.selinux = Some("Enforcing".into()), verdict: Verdict::Warn, evidence: "Enforcing" },
    Case { id: "selinux", role: WK, edit: |_, f, _| f.selinux = Some("Permissive".into()), verdict: Verdict::Pass, evidence: "Permissive" },
    Case { id: "selinux", role: WK, edit: |_, f, _| { f.selinux = None; f.missing_tools.insert("getenforce".into()); }, verdict: Verdict::CannotCheck, evidence: "getenforce" },
    Case { id: "ip-forward", role: WK, edit: |_, f, _| f.ip_forward = Some("0".into()), verdict: Verdict::PlatformFixes, evidence: "ip_forward = 0" },
    Case { id: "ip-forward", role: WK, edit: |_, f, _| f.ip_forward = None, verdict: Verdict::CannotCheck, evidence: "ip_forward" },
    Case { id: "bridge-nf", role: WK, edit: |_, f, _| f.bridge_nf_call_iptables = Some("absent".into()), verdict: Verdict::PlatformFixes, evidence: "br_netfilter not loaded" },
    Case { id: "swap", role: WK, edit: |_, f, _| f.swaps = Some(vec!["/swap.img".into()]), verdict: Verdict::PlatformFixes, evidence: "/swap.img" },
    Case { id: "swap", role: WK, edit: |_, f, _| f.swaps = None, verdict: Verdict::CannotCheck, evidence: "/proc/swaps" },
    Case { id: "ntp-synced", role: WK, edit: |_, f, _| f.ntp_synced = Some("no".into()), verdict: Verdict::Warn, evidence: "synchronized: no, time zone UTC" },
    Case { id: "ntp-synced", role: WK, edit: |_, f, _| { f.ntp_synced = None; f.missing_tools.insert("timedatectl".into()); }, verdict: Verdict::CannotCheck, evidence: "timedatectl" },
    // Network: NIC priority per plugin.
    Case { id: "nic-present", role: WK, edit: |i, _, _| i.node_nic = Some("ens9".into()), verdict: Verdict::Fail, evidence: "ens9 (the node NIC) not found; the node has: eth0, eth1" },
    Case { id: "nic-present", role: WK, edit: |i, _, _| { i.network = NetworkPlugin::Calico; i.node_nic = Some("ens9".into()); }, verdict: Verdict::Pass, evidence: "eth0 (the default route's NIC); the node NIC `ens9` is not used by Calico" },
    Case { id: "nic-present", role: WK, edit: |i, _, _| { i.network = NetworkPlugin::Flannel; i.cluster_nic = Some("eth1".into()); i.node_nic = Some("eth0".into()); }, verdict: Verdict::Pass, evidence: "eth1 (the cluster NIC)" },
    Case { id: "nic-present", role: WK, edit: |i, _, _| { i.cluster_nic = Some("eth1".into()); i.node_nic = Some("eth0".into()); }, verdict: Verdict::Pass, evidence: "eth0 (the node NIC)" },
    Case { id: "nic-present", role: WK, edit: |i, _, _| i.network = NetworkPlugin::KubeOvnUnderlay, verdict: Verdict::Fail, evidence: "none entered" },
    Case { id: "nic-present", role: WK, edit: |_, f, _| f.default_routes_v4 = Some(vec![]), verdict: Verdict::Fail, evidence: "no default route" },
    Case { id: "nic-present", role: WK, edit: |_, f, _| { f.default_routes_v4 = Some(vec![]); f.default_routes_v6 = Some(vec![Route { via: None, dev: Some("eth1".into()) }]); }, verdict: Verdict::Pass, evidence: "eth1 (the default route's NIC)" },
    Case { id: "nic-present", role: WK, edit: |_, f, _| { f.default_routes_v4 = None; f.default_routes_v6 = None; f.missing_tools.insert("ip".into()); }, verdict: Verdict::CannotCheck, evidence: "`ip`" },
    Case { id: "nic-present", role: WK, edit: |i, f, _| { i.node_nic = Some("bond0".into()); f.links.get_or_insert_default().push(Link { name: "bond0".into(), up: true, state: "UP".into(), mac: None }); }, verdict: Verdict::Pass, evidence: "traffic monitoring" },
    Case { id: "nic-up", role: WK, edit: |i, _, _| i.node_nic = Some("eth1".into()), verdict: Verdict::Pass, evidence: "eth1: state UP" },
    Case { id: "nic-up", role: WK, edit: |_, f, _| f.links = Some(vec![Link { name: "eth0".into(), up: false, state: "DOWN".into(), mac: None }]), verdict: Verdict::Fail, evidence: "administratively down" },
    Case { id: "nic-up", role: WK, edit: |i, _, _| i.node_nic = Some("ens9".into()), verdict: Verdict::CannotCheck, evidence: "see nic-present" },
    Case { id: "nic-underlay-dedicated", role: WK, edit: |i, _, _| { i.network = NetworkPlugin::KubeOvnUnderlay; i.node_nic = Some("eth1".into()); }, verdict: Verdict::Pass, evidence: "neither" },
    Case { id: "nic-underlay-dedicated", role: WK, edit: |i, _, _| { i.network = NetworkPlugin::KubeOvnUnderlay; i.cluster_nic = Some("eth0".into()); }, verdict: Verdict::Fail, evidence: "eth0 holds the node address 192.168.10.11 and carries the default route" },
    Case { id: "ipv4-on-node", role: WK, edit: |i, _, _| i.ipv4 = Some(ip("192.168.10.99")), verdict: Verdict::Fail, evidence: "192.168.10.99 is not on the node; it has: 192.168.10.11/24 on eth0" },
    Case { id: "ipv4-on-node", role: WK, edit: |_, f, _| { f.addrs = None; f.missing_tools.insert("ip".into()); }, verdict: Verdict::CannotCheck, evidence: "`ip`" },
    Case { id: "ipv6-on-node", role: WK, edit: |i, _, _| i.ipv6 = Some(ip("fd00:10::99")), verdict: Verdict::Fail, evidence: "it has: fd00:10::11/64 on eth0" },
    Case { id: "hostname-valid", role: WK, edit: |_, f, _| f.hostname = Some("Node-A".into()), verdict: Verdict::Warn, evidence: "registers as `node-a`" },
    Case { id: "hostname-valid", role: WK, edit: |_, f, _| f.hostname = Some("node_a".into()), verdict: Verdict::Warn, evidence: "`_` is not allowed" },
    Case { id: "hostname-valid", role: WK, edit: |_, f, r| { f.hostname = Some("node_a".into()); r.hostname_is_node_name = true; }, verdict: Verdict::Fail, evidence: "`_` is not allowed" },
    Case { id: "hostname-valid", role: WK, edit: |_, f, r| { f.hostname = Some("localhost".into()); r.hostname_is_node_name = true; }, verdict: Verdict::Fail, evidence: "unconfigured" },
    Case { id: "registry-hosts-line", role: WK, edit: |_, f, _| f.hosts.get_or_insert_default().push(HostsEntry { ip: "192.168.10.5".into(), names: vec!["Registry.Example.com".into()] }), verdict: Verdict::Pass, evidence: "`192.168.10.5 Registry.Example.com`" },
    Case { id: "registry-hosts-line", role: WK, edit: |_, f, _| f.hosts.get_or_insert_default().push(HostsEntry { ip: "10.0.0.9".into(), names: vec!["mirror".into(), "registry.example.com".into()] }), verdict: Verdict::Warn, evidence: "points elsewhere than 192.168.10.5" },
    Case { id: "registry-hosts-line", role: WK, edit: |i, f, _| { i.registry = Some(RegistryTarget { domain: "registry.example.com".into(), ip: None }); f.hosts.get_or_insert_default().push(HostsEntry { ip: "10.0.0.9".into(), names: vec!["registry.example.com".into()] }); }, verdict: Verdict::Pass, evidence: "not compared" },
    Case { id: "registry-hosts-line", role: WK, edit: |_, f, _| f.hosts = None, verdict: Verdict::CannotCheck, evidence: "/etc/hosts" },
];

#[test]
fn each_check_gives_each_verdict_it_can() {
    for (n, c) in CASES.iter().enumerate() {
        let (mut input, mut facts, mut req) = (good_input(c.role), good_facts(), req());
        (c.edit)(&mut input, &mut facts, &mut req);
        let r = result_of(&input, &facts, &req, c.id)
            .unwrap_or_else(|| panic!("case {n}: no {} result", c.id));
        assert_eq!(r.verdict, c.verdict, "case {n} {}: {}", c.id, r.evidence);
        assert!(
            r.evidence.contains(c.evidence),
            "case {n} {}: `{}` lacks `{}`",
            c.id,
            r.evidence,
            c.evidence
        );
    }
}

#[test]
fn checks_without_an_input_are_not_reported() {
    let mut input = good_input(Role::Worker);
    input.ipv6 = None;
    input.registry = None;
    let results = evaluate_node(&input, &good_facts(), &req());
    for id in [
        "ipv6-on-node",
        "registry-hosts-line",
        "nic-underlay-dedicated",
    ] {
        assert!(!results.iter().any(|r| r.id == id), "{id}");
    }
    input.registry = Some(RegistryTarget {
        domain: "10.0.0.9".into(),
        ip: None,
    });
    assert!(
        result_of(&input, &good_facts(), &req(), "registry-hosts-line").is_none(),
        "an IP needs no hosts line"
    );
}

#[test]
fn measured_checks_carry_their_numbers() {
    let mut facts = good_facts();
    facts.cpus = Some(3);
    let r = result_of(&good_input(Role::Worker), &facts, &req(), "cpu").expect("cpu");
    assert_eq!((r.observed, r.required), (Some(3.0), Some(4.0)));
    let r = result_of(&good_input(Role::Worker), &facts, &req(), "disk-var-lib").expect("disk");
    assert_eq!((r.observed, r.required), (Some(200.0), Some(100.0)));
}

#[test]
fn the_ignore_list_keeps_the_original_verdict() {
    let mut facts = good_facts();
    facts.cpus = Some(1);
    facts.firewalld = Some("active".into());
    let mut r = req();
    r.ignore = vec!["cpu".into(), "fire*".into()];
    let results = evaluate_node(&good_input(Role::ControlPlane), &facts, &r);
    let cpu = results.iter().find(|x| x.id == "cpu").expect("cpu");
    assert_eq!(
        (cpu.verdict, cpu.ignored_verdict),
        (Verdict::Ignored, Some(Verdict::Fail))
    );
    assert!(
        cpu.evidence
            .starts_with("ignored (was fail): 1 online CPUs")
    );
    let fw = results
        .iter()
        .find(|x| x.id == "firewalld")
        .expect("firewalld");
    assert_eq!(fw.ignored_verdict, Some(Verdict::Warn));
    assert!(!Summary::of(&results).blocks_create());
}

#[test]
fn an_empty_probe_answer_is_cannot_check_never_fail() {
    let results = evaluate_node(
        &good_input(Role::ControlPlane),
        &NodeFacts::default(),
        &req(),
    );
    for r in &results {
        assert_eq!(r.verdict, Verdict::CannotCheck, "{}: {}", r.id, r.evidence);
    }
    let s = Summary::of(&results);
    assert_eq!(s.fail, 0);
    assert_eq!(s.exit_code(), 2, "no check could run");
}

#[test]
fn network_plugins_come_from_the_cluster_annotations() {
    assert_eq!(
        NetworkPlugin::from_annotations("kube-ovn", Some("underlay")),
        NetworkPlugin::KubeOvnUnderlay
    );
    assert_eq!(
        NetworkPlugin::from_annotations("kube-ovn", None),
        NetworkPlugin::KubeOvnOverlay
    );
    assert_eq!(
        NetworkPlugin::from_annotations("Calico", None),
        NetworkPlugin::Calico
    );
    assert_eq!(
        NetworkPlugin::from_annotations("flannel", Some("overlay")),
        NetworkPlugin::Flannel
    );
    assert_eq!(
        NetworkPlugin::from_annotations("cilium", None),
        NetworkPlugin::Custom
    );
}

proptest::proptest! {
    /// Whatever a node prints, evaluation gives one result per applicable check, each a
    /// catalogue id with evidence, and never panics.
    #[test]
    fn any_probe_output_evaluates_without_panicking(
        lines in proptest::collection::vec("(@@(kv|raw) [a-z/ -]{1,16}|[|]?[ -~]{0,80}|[a-z_]{1,16}=[ -~]{0,40})", 0..60),
        worker in proptest::bool::ANY,
    ) {
        let facts = crate::domain::preflight::facts::parse_probe_output(&lines.join("\n"));
        let role = if worker { Role::Worker } else { Role::ControlPlane };
        let results = evaluate_node(&good_input(role), &facts, &req());
        for r in &results {
            proptest::prop_assert!(catalogue::check(r.id).is_some(), "{}", r.id);
            proptest::prop_assert!(!r.evidence.is_empty(), "{}", r.id);
        }
        let ids: std::collections::BTreeSet<&str> = results.iter().map(|r| r.id).collect();
        proptest::prop_assert_eq!(ids.len(), results.len(), "one result per check");
    }
}
