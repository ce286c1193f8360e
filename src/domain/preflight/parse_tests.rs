use std::net::IpAddr;

use proptest::prelude::*;

use super::*;
use crate::domain::preflight::facts::render_probe_output;

/// What a CentOS 7 control-plane candidate with an earlier install left on it prints.
pub(crate) const CENTOS_NODE: &str = r#"@@acp-probe 1
@@kv clock
now=1700000000.250000000
@@kv identity
uid=1000
user=deploy
whoami=deploy
sudo=passwordless
@@kv platform
arch=x86_64
kernel=3.10.0-1160.el7.x86_64
hostname=node-a
long_bit=64
cpus=8
mem_total_kb=16265612
machine_id=5f0c1d2e3b4a49c8a1b2c3d4e5f60718
product_uuid=4C4C4544-0042-3510-8051-B7C04F4E3232
iptable_nat=found
@@raw os-release
|NAME="CentOS Linux"
|VERSION="7 (Core)"
|ID="centos"
|VERSION_ID="7"
|PRETTY_NAME="CentOS Linux 7 (Core)"
@@raw df /var/lib
|Filesystem     1024-blocks     Used Available Capacity Mounted on
|/dev/mapper/centos-root 52403200 10485760 41917440 21% /
@@raw df /var/log
|Filesystem     1024-blocks     Used Available Capacity Mounted on
|/dev/sdb1 20961280 1048576 19912704 6% /var/log
@@raw ss
|tcp   LISTEN 0      128          0.0.0.0:22         0.0.0.0:*    users:(("sshd",pid=1021,fd=3))
|tcp   LISTEN 0      4096               *:6443               *:*    users:(("kube-apiserver",pid=2301,fd=7))
|tcp   LISTEN 0      4096       127.0.0.1:2379       0.0.0.0:*    users:(("etcd",pid=2200,fd=9))
|udp   UNCONN 0      0            0.0.0.0:8472       0.0.0.0:*
|tcp   LISTEN 0      128             [::]:22            [::]:*    users:(("sshd",pid=1021,fd=4))
@@kv paths
privileged=yes
/var/lib/etcd=dir
/var/lib/etcd.entries=member
/var/lib/cni=absent
/etc/cni/net.d=empty-dir
/etc/kubernetes/manifests=absent
/root/.kube/config=file
@@kv binaries
sysctl=/usr/sbin/sysctl
conntrack=missing
iptables=/usr/sbin/iptables
@@kv security
firewalld=active
selinux=Enforcing
ufw=absent
@@kv sysctl
ip_forward=0
bridge_nf_call_iptables=absent
@@raw swaps
|Filename				Type		Size	Used	Priority
|/dev/dm-1                               partition	8388604	0	-2
@@kv time
ntp_synced=no
timezone=Asia/Shanghai
@@raw ip-link
|1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00
|2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc mq state UP mode DEFAULT group default qlen 1000\    link/ether 52:54:00:AB:CD:01 brd ff:ff:ff:ff:ff:ff
|3: eth1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\    link/ether 52:54:00:ab:cd:02 brd ff:ff:ff:ff:ff:ff
|4: vlan10@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\    link/ether 52:54:00:ab:cd:01 brd ff:ff:ff:ff:ff:ff
@@raw ip-addr
|1: lo    inet 127.0.0.1/8 scope host lo\       valid_lft forever preferred_lft forever
|2: eth0    inet 192.168.10.11/24 brd 192.168.10.255 scope global eth0\       valid_lft forever preferred_lft forever
|2: eth0    inet6 fd00:10::11/64 scope global \       valid_lft forever preferred_lft forever
|2: eth0    inet6 fe80::5054:ff:feab:cd01/64 scope link \       valid_lft forever preferred_lft forever
@@raw ip-route
|default via 192.168.10.1 dev eth0 proto static metric 100
@@raw ip-route6
@@raw hosts
|127.0.0.1   localhost localhost.localdomain
|10.0.0.9 registry.example.com # old mirror
@@end
"#;

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

#[test]
fn a_full_probe_output_parses_into_typed_facts() {
    let f = parse_probe_output(CENTOS_NODE);
    assert_eq!(f.probe_version, Some(1));
    assert!(f.complete);
    assert_eq!(f.clock, Some(1_700_000_000.25));
    assert_eq!(
        (f.uid, f.user.as_deref(), f.sudo),
        (Some(1000), Some("deploy"), Some(SudoAccess::Passwordless))
    );
    assert_eq!(f.arch.as_deref(), Some("x86_64"));
    assert_eq!(f.kernel.as_deref(), Some("3.10.0-1160.el7.x86_64"));
    assert_eq!(
        (f.long_bit, f.cpus, f.mem_total_kib),
        (Some(64), Some(8), Some(16_265_612))
    );
    assert_eq!(
        f.product_uuid,
        Some(DmiUuid::Value(
            "4C4C4544-0042-3510-8051-B7C04F4E3232".into()
        ))
    );
    assert_eq!(f.iptable_nat, Some(true));
    let os = f.os.clone().expect("os-release");
    assert_eq!(
        (
            os.id.as_str(),
            os.version_id.as_str(),
            os.pretty_name.as_str()
        ),
        ("centos", "7", "CentOS Linux 7 (Core)")
    );
    let lib = f.var_lib.clone().expect("df /var/lib");
    assert_eq!((lib.avail_kib, lib.mount.as_str()), (41_917_440, "/"));
    assert_eq!(
        f.var_log.as_ref().map(|d| d.mount.as_str()),
        Some("/var/log")
    );
    let ls = f.listeners.clone().expect("listeners");
    assert_eq!(ls.len(), 5);
    assert_eq!(
        (
            ls[1].addr.as_str(),
            ls[1].port,
            ls[1].process.as_deref(),
            ls[1].pid
        ),
        ("*", 6443, Some("kube-apiserver"), Some(2301))
    );
    assert_eq!(
        (ls[3].proto.as_str(), ls[3].port, ls[3].process.as_deref()),
        ("udp", 8472, None)
    );
    assert_eq!(ls[4].addr, "[::]");
    assert_eq!(
        f.paths["/var/lib/etcd"],
        PathState::Dir(vec!["member".into()])
    );
    assert_eq!(f.paths["/etc/cni/net.d"], PathState::EmptyDir);
    assert_eq!(f.paths["/root/.kube/config"], PathState::File);
    assert_eq!(f.binaries["sysctl"].as_deref(), Some("/usr/sbin/sysctl"));
    assert_eq!(f.binaries["conntrack"], None);
    assert_eq!(
        (
            f.firewalld.as_deref(),
            f.selinux.as_deref(),
            f.ufw.as_deref()
        ),
        (Some("active"), Some("Enforcing"), Some("absent"))
    );
    assert_eq!(
        (f.ip_forward_enabled(), f.bridge_nf_enabled()),
        (Some(false), Some(false))
    );
    assert_eq!(f.swaps, Some(vec!["/dev/dm-1".to_string()]));
    assert_eq!(
        (f.ntp_synced_flag(), f.timezone.as_deref()),
        (Some(false), Some("Asia/Shanghai"))
    );
    let links = f.links.clone().expect("links");
    assert_eq!(
        links.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
        ["lo", "eth0", "eth1", "vlan10"]
    );
    assert_eq!(
        links[1].mac.as_deref(),
        Some("52:54:00:ab:cd:01"),
        "MACs are lower-cased"
    );
    assert!(links[1].is_up() && !links[2].is_up() && links[0].is_up());
    assert_eq!(f.devices_with(&ip("192.168.10.11")), ["eth0"]);
    assert_eq!(f.devices_with(&ip("fd00:10::11")), ["eth0"]);
    assert_eq!(f.default_route_dev(), Some("eth0"));
    assert_eq!(f.default_routes_v6, Some(vec![]));
    let hosts = f.hosts.clone().expect("hosts");
    assert_eq!(
        hosts[1],
        HostsEntry {
            ip: "10.0.0.9".into(),
            names: vec!["registry.example.com".into()]
        }
    );
}

#[test]
fn rendering_the_facts_and_parsing_them_again_gives_the_same_facts() {
    let f = parse_probe_output(CENTOS_NODE);
    let again = parse_probe_output(&render_probe_output(&f));
    assert_eq!(again, f);
    let empty = NodeFacts::default();
    assert_eq!(
        parse_probe_output(&render_probe_output(&empty)).probe_version,
        Some(1)
    );
}

#[test]
fn missing_tools_leave_their_facts_unknown() {
    let out = "@@acp-probe 1\n@@missing ss\n@@missing ip\n@@missing timedatectl\n@@kv platform\narch=aarch64\n\
               @@raw proc-net-tcp\n|  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
               |   0: 00000000:2B67 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n\
               |   1: 0100007F:0016 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0\n\
               @@raw proc-net-tcp6\n|   0: 00000000000000000000000000000000:2DF4 00000000000000000000000000000000:0000 0A 0:0 0 0 0 0 0\n\
               @@raw sys-class-net\n|eth0 up 52:54:00:00:00:01\n|eth1 down 52:54:00:00:00:02\n@@end\n";
    let f = parse_probe_output(out);
    assert!(f.is_missing("ss") && f.is_missing("ip"));
    let ls = f.listeners.expect("from /proc/net/tcp");
    assert_eq!(ls.len(), 2, "only LISTEN rows");
    assert_eq!(
        (ls[0].addr.as_str(), ls[0].port, ls[0].process.clone()),
        ("0.0.0.0", 11111, None)
    );
    assert_eq!((ls[1].addr.as_str(), ls[1].port), ("[::]", 11764));
    let links = f.links.expect("from sysfs");
    assert!(links[0].is_up() && !links[1].is_up());
    assert_eq!(f.addrs, None, "no address list without ip");
    assert_eq!(f.ntp_synced, None);
    assert_eq!(f.cpus, None);
}

#[test]
fn hex_addresses_from_proc_are_little_endian_words() {
    assert_eq!(hex_addr("0100007F"), Some(ip("127.0.0.1")));
    assert_eq!(hex_addr("0B0AA8C0"), Some(ip("192.168.10.11")));
    assert_eq!(
        hex_addr("00000000000000000000000001000000"),
        Some(ip("::1"))
    );
    assert_eq!(hex_addr("zz"), None);
    assert_eq!(hex_addr("é0000000"), None);
}

#[test]
fn ss_without_h_prints_a_header_that_is_skipped() {
    let out = "@@acp-probe 1\n@@raw ss\n|Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n|tcp LISTEN 0 128 10.0.0.5%eth0:11780 0.0.0.0:* users:((\"nginx\",pid=7,fd=6),(\"nginx\",pid=8,fd=6))\n";
    let ls = parse_probe_output(out).listeners.expect("listeners");
    assert_eq!(ls.len(), 1);
    assert_eq!(
        (ls[0].port, ls[0].process.as_deref(), ls[0].pid),
        (11780, Some("nginx"), Some(7))
    );
}

#[test]
fn crlf_and_noise_between_sections_are_tolerated() {
    let out = "Last login: yesterday\r\n@@acp-probe 1\r\n@@kv platform\r\ncpus=4\r\nnot a pair\r\n@@bogus x\r\n@@kv time\r\nntp_synced=yes\r\n@@end\r\n";
    let f = parse_probe_output(out);
    assert_eq!(
        (f.cpus, f.ntp_synced_flag(), f.complete),
        (Some(4), Some(true), true)
    );
}

#[test]
fn a_cut_off_run_is_not_complete() {
    let cut = &CENTOS_NODE[..CENTOS_NODE.find("@@kv binaries").expect("marker")];
    let f = parse_probe_output(cut);
    assert!(!f.complete);
    assert_eq!(f.cpus, Some(8));
    assert!(f.binaries.is_empty());
    assert_eq!(f.links, None);
}

#[test]
fn epoch_values_with_odd_fractions() {
    assert_eq!(parse_epoch("1700000000"), Some(1_700_000_000.0));
    assert_eq!(parse_epoch("1700000000.5x"), Some(1_700_000_000.5));
    assert_eq!(parse_epoch("-5"), None);
    assert_eq!(parse_epoch("99999999999999999999"), None);
}

proptest! {
    #[test]
    fn arbitrary_text_never_panics(s in ".{0,2000}") {
        let _ = parse_probe_output(&s);
    }

    #[test]
    fn arbitrary_lines_inside_every_section_never_panic(
        lines in proptest::collection::vec("[ -~]{0,120}", 0..40),
        section in prop::sample::select(vec![
            "@@kv platform", "@@kv paths", "@@kv identity", "@@raw ss", "@@raw ip-link", "@@raw ip-addr",
            "@@raw df /var/lib", "@@raw proc-net-tcp", "@@raw proc-net-tcp6", "@@raw hosts",
            "@@raw ip-route", "@@raw os-release", "@@raw swaps", "@@raw sys-class-net", "@@kv clock",
        ]),
    ) {
        let mut out = format!("@@acp-probe 1\n{section}\n");
        for l in &lines {
            out.push('|');
            out.push_str(l);
            out.push('\n');
            out.push_str(l);
            out.push('\n');
        }
        let f = parse_probe_output(&out);
        let again = parse_probe_output(&render_probe_output(&f));
        // Whatever was read survives a render and a parse.
        prop_assert_eq!(again.listeners, f.listeners);
        prop_assert_eq!(again.links, f.links);
        prop_assert_eq!(again.addrs, f.addrs);
    }
}
