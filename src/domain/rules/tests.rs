//! The table of rule cases and the properties every rule shares.

use super::*;
use crate::domain::cluster::annotations as ann;
use crate::domain::form::{
    ClusterForm, Cni, ContainerRuntime, ImageRegistry, IpStack, MonitoringKind, NodeForm,
    NodeNaming, NodeType, ProxyForm, Secret, SshAuth, TransmitMode, VmDeploy,
};

pub(super) fn node(ip: &str, role: NodeType) -> NodeForm {
    NodeForm {
        role,
        ip: ip.into(),
        password: Secret::new("pw"),
        ..NodeForm::default()
    }
}

/// A form that passes every rule with no error or warning.
pub(super) fn good() -> ClusterForm {
    let mut f = ClusterForm::new();
    f.basic.name = "prod-01".into();
    f.basic.kubernetes_version = "1.30.14".into();
    f.basic.endpoint.address = "192.168.0.100".into();
    f.node_settings.nic = "eth0".into();
    f.node_settings.nodes = vec![
        node("192.168.0.11", NodeType::ControlPlane),
        node("192.168.0.12", NodeType::ControlPlane),
        node("192.168.0.13", NodeType::ControlPlane),
        node("192.168.0.21", NodeType::Worker),
    ];
    f.node_settings.monitoring.nodes = vec!["192.168.0.21".into()];
    f
}

pub(super) fn problems(f: &ClusterForm) -> Vec<Finding> {
    check(f, &RuleContext::default())
        .into_iter()
        .filter(|x| x.severity != Severity::Info)
        .collect()
}

#[test]
fn the_good_form_is_clean() {
    assert_eq!(problems(&good()), vec![]);
    assert!(!has_errors(&check(&good(), &RuleContext::default())));
}

struct Case {
    name: &'static str,
    edit: fn(&mut ClusterForm),
    field: &'static str,
    severity: Severity,
    contains: &'static str,
}

#[rustfmt::skip]
const CASES: &[Case] = &[
    Case { name: "empty name", edit: |f| f.basic.name.clear(), field: "metadata.name", severity: Severity::Error, contains: "empty" },
    Case { name: "long name", edit: |f| f.basic.name = "a".repeat(33), field: "metadata.name", severity: Severity::Error, contains: "33 characters" },
    Case { name: "long name in characters", edit: |f| f.basic.name = "ü".repeat(33), field: "metadata.name", severity: Severity::Error, contains: "has 33 characters" },
    Case { name: "bad name", edit: |f| f.basic.name = "Prod_1".into(), field: "metadata.name", severity: Severity::Error, contains: "not a valid" },
    Case { name: "global name", edit: |f| f.basic.name = "global".into(), field: "metadata.name", severity: Severity::Error, contains: "global" },
    Case { name: "no version", edit: |f| f.basic.kubernetes_version.clear(), field: "spec.version", severity: Severity::Error, contains: "no Kubernetes version" },
    Case { name: "unsupported version", edit: |f| f.basic.kubernetes_version = "1.27.16".into(), field: "spec.version", severity: Severity::Error, contains: "not a supported" },
    Case { name: "minor without a patch", edit: |f| f.basic.kubernetes_version = "1.31".into(), field: "spec.version", severity: Severity::Error, contains: "names a minor version" },
    Case { name: "build suffix not listed", edit: |f| f.basic.kubernetes_version = "1.30.14-1".into(), field: "spec.version", severity: Severity::Error, contains: "not a release" },
    Case { name: "docker needs cri-docker", edit: |f| f.basic.container_runtime = ContainerRuntime::Docker, field: "metadata.annotations[\"cpaas.io/container-runtime\"]", severity: Severity::Warning, contains: "cri-docker" },
    Case { name: "docker args on containerd", edit: |f| { f.extended .docker_args .insert("log-level".into(), "warn".into()); }, field: "spec.dockerExtraArgs", severity: Severity::Warning, contains: "ignored" },
    Case { name: "no control plane", edit: |f| { f.node_settings .nodes .iter_mut() .for_each(|n| n.role = NodeType::Worker) }, field: "spec.machines", severity: Severity::Error, contains: "no control-plane" },
    Case { name: "even control plane", edit: |f| f.node_settings.nodes[3].role = NodeType::ControlPlane, field: "spec.machines", severity: Severity::Warning, contains: "even count" },
    Case { name: "missing ip", edit: |f| f.node_settings.nodes[3].ip.clear(), field: "spec.machines[3].ip", severity: Severity::Error, contains: "no IP" },
    Case { name: "bad ip", edit: |f| f.node_settings.nodes[3].ip = "192.168.0.300".into(), field: "spec.machines[3].ip", severity: Severity::Error, contains: "not an IP" },
    Case { name: "duplicate ip", edit: |f| f.node_settings.nodes[3].ip = "192.168.0.11".into(), field: "spec.machines[3].ip", severity: Severity::Error, contains: "also the address of node 1" },
    Case { name: "bad ssh ip", edit: |f| f.node_settings.nodes[0].ssh_ip = "nat-host".into(), field: "spec.machines[0].publicIP", severity: Severity::Error, contains: "not an IP" },
    Case { name: "bridge network at creation", edit: |f| f.node_settings.nodes[0].bridge_network = "br1".into(), field: "form.nodes[0].bridgeNetwork", severity: Severity::Error, contains: "bridge network" },
    Case { name: "ssh port 0", edit: |f| f.node_settings.nodes[0].ssh_port = 0, field: "spec.machines[0].port", severity: Severity::Error, contains: "port is 0" },
    Case { name: "no username", edit: |f| f.node_settings.nodes[0].ssh_username.clear(), field: "spec.machines[0].username", severity: Severity::Error, contains: "username" },
    Case { name: "no password", edit: |f| f.node_settings.nodes[0].password = Secret::default(), field: "spec.machines[0].password", severity: Severity::Error, contains: "no SSH password" },
    Case { name: "no key", edit: |f| f.node_settings.nodes[0].auth = SshAuth::Key, field: "spec.machines[0].privateKey", severity: Severity::Error, contains: "no private key" },
    Case { name: "not a key", edit: |f| { f.node_settings.nodes[0].auth = SshAuth::Key; f.node_settings.nodes[0].private_key = Secret::new("hunter2"); }, field: "spec.machines[0].privateKey", severity: Severity::Warning, contains: "does not look like" },
    Case { name: "proxy address", edit: |f| { f.node_settings.nodes[0].proxy = ProxyForm { enabled: true, address: "192.168.1.1".into(), ..ProxyForm::default() } }, field: "spec.machines[0].proxy.address", severity: Severity::Error, contains: "no port" },
    Case { name: "proxy user without password", edit: |f| { f.node_settings.nodes[0].proxy = ProxyForm { enabled: true, address: "192.168.1.1:1080".into(), username: "u".into(), ..ProxyForm::default() } }, field: "spec.machines[0].proxy.password", severity: Severity::Warning, contains: "without a password" },
    Case { name: "ipv6 node in ipv4 cluster", edit: |f| f.node_settings.nodes[3].ip = "fd00::21".into(), field: "spec.machines[3].ip", severity: Severity::Error, contains: "not an IPv4" },
    Case { name: "dual stack needs node ipv6", edit: |f| { f.basic.ip_stack = IpStack::DualStack; f.network.reset_cidrs(IpStack::DualStack); }, field: "spec.machines[0].ipv6", severity: Severity::Error, contains: "no IPv6" },
    Case { name: "dual stack needs cidr pairs", edit: |f| { f.basic.ip_stack = IpStack::DualStack; f.node_settings .nodes .iter_mut() .enumerate() .for_each(|(i, n)| n.ipv6 = format!("fd00::{}", i + 1)); }, field: "spec.clusterCIDR", severity: Severity::Error, contains: "IPv4,IPv6 pair" },
    Case { name: "ipv6 ignored in single stack", edit: |f| f.node_settings.nodes[0].ipv6 = "fd00::1".into(), field: "spec.machines[0].ipv6", severity: Severity::Warning, contains: "not dual stack" },
    Case { name: "bad node ipv6", edit: |f| f.node_settings.nodes[0].ipv6 = "10.0.0.1".into(), field: "spec.machines[0].ipv6", severity: Severity::Error, contains: "not an IPv6" },
    Case { name: "no endpoint with HA", edit: |f| f.basic.endpoint.address.clear(), field: "spec.features.ha", severity: Severity::Error, contains: "need a load balancer" },
    Case { name: "no endpoint single", edit: |f| { f.basic.endpoint.address.clear(); f.node_settings.nodes.truncate(1); f.node_settings.nodes[0].app_deployable = true; f.node_settings.monitoring.nodes = vec!["192.168.0.11".into()]; }, field: "spec.features.ha", severity: Severity::Warning, contains: "never be scaled" },
    Case { name: "endpoint is the single master", edit: |f| { f.basic.endpoint.address = "192.168.0.11".into(); f.node_settings.nodes.truncate(1); f.node_settings.nodes[0].app_deployable = true; f.node_settings.monitoring.nodes = vec!["192.168.0.11".into()]; }, field: "spec.features.ha.thirdParty.vip", severity: Severity::Warning, contains: "never be scaled" },
    Case { name: "endpoint is a master", edit: |f| f.basic.endpoint.address = "192.168.0.12".into(), field: "spec.features.ha.thirdParty.vip", severity: Severity::Warning, contains: "API is down" },
    Case { name: "endpoint is a worker", edit: |f| f.basic.endpoint.address = "192.168.0.21".into(), field: "spec.features.ha.thirdParty.vip", severity: Severity::Error, contains: "worker" },
    Case { name: "endpoint garbage", edit: |f| f.basic.endpoint.address = "https://lb:6443".into(), field: "spec.features.ha.thirdParty.vip", severity: Severity::Error, contains: "neither an IP" },
    Case { name: "lb port", edit: |f| f.basic.endpoint.lb_port = 8443, field: "spec.features.ha.thirdParty.vport", severity: Severity::Warning, contains: "not 6443" },
    Case { name: "vip empty", edit: |f| { f.basic.endpoint.self_built_vip = true; f.basic.endpoint.address.clear(); }, field: "spec.features.ha.tke.vip", severity: Severity::Error, contains: "no VIP" },
    Case { name: "vip domain", edit: |f| { f.basic.endpoint.self_built_vip = true; f.basic.endpoint.address = "k8s.example.com".into(); }, field: "spec.features.ha.tke.vip", severity: Severity::Error, contains: "is a domain" },
    Case { name: "vrid range", edit: |f| { f.basic.endpoint.self_built_vip = true; f.basic.endpoint.vrid = 256; }, field: "spec.features.ha.tke.vrid", severity: Severity::Error, contains: "1-255" },
    Case { name: "vrid zero", edit: |f| { f.basic.endpoint.self_built_vip = true; f.basic.endpoint.vrid = 0; }, field: "spec.features.ha.tke.vrid", severity: Severity::Error, contains: "VRID 0 is outside 1-255" },
    Case { name: "vrid checked without a vip", edit: |f| { f.basic.endpoint.self_built_vip = true; f.basic.endpoint.address.clear(); f.basic.endpoint.vrid = 300; }, field: "spec.features.ha.tke.vrid", severity: Severity::Error, contains: "VRID 300 is outside 1-255" },
    Case { name: "vrid 300", edit: |f| { f.basic.endpoint.self_built_vip = true; f.basic.endpoint.vrid = 300; }, field: "spec.features.ha.tke.vrid", severity: Severity::Error, contains: "VRID 300 is outside 1-255" },
    Case { name: "vip is a node ip", edit: |f| { f.basic.endpoint.self_built_vip = true; f.basic.endpoint.address = "192.168.0.21".into(); }, field: "spec.features.ha.tke.vip", severity: Severity::Error, contains: "address of node 4" },
    Case { name: "vip other subnet", edit: |f| { f.basic.endpoint.self_built_vip = true; f.basic.endpoint.address = "192.168.1.100".into(); }, field: "spec.features.ha.tke.vip", severity: Severity::Warning, contains: "same /24" },
    Case { name: "vip apart from every master, said once", edit: |f| { f.basic.endpoint.self_built_vip = true; f.basic.endpoint.address = "192.168.1.100".into(); }, field: "spec.features.ha.tke.vip", severity: Severity::Warning, contains: "nodes 1 (192.168.0.11), 2 (192.168.0.12), 3 (192.168.0.13)" },
    Case { name: "external access without platform url", edit: |f| f.basic.external_access = "203.0.113.5".into(), field: "metadata.annotations[\"cpaas.io/platform-url\"]", severity: Severity::Warning, contains: "no Platform URL" },
    Case { name: "external access not applied", edit: |f| f.basic.external_access = "203.0.113.10".into(), field: "form.externalAccess", severity: Severity::Warning, contains: "not applied" },
    Case { name: "registry choice not applied", edit: |f| f.basic.image_registry = ImageRegistry::Public, field: "form.imageRegistry", severity: Severity::Warning, contains: "not applied" },
    Case { name: "victoriametrics not applied", edit: |f| f.node_settings.monitoring.kind = MonitoringKind::VictoriaMetrics, field: "form.monitoring.kind", severity: Severity::Warning, contains: "not applied" },
    Case { name: "external access garbage", edit: |f| f.basic.external_access = "not a host".into(), field: "form.externalAccess", severity: Severity::Error, contains: "not an IP" },
    Case { name: "external access not in SANs", edit: |f| f.basic.external_access = "203.0.113.10".into(), field: "spec.publicAlternativeNames", severity: Severity::Warning, contains: "certificate" },
    Case { name: "platform url", edit: |f| f.basic.platform_url = "ftp://x y".into(), field: "metadata.annotations[\"cpaas.io/platform-url\"]", severity: Severity::Error, contains: "not an address" },
    Case { name: "private registry empty", edit: |f| f.basic.image_registry = ImageRegistry::Private, field: "form.privateRegistry", severity: Severity::Error, contains: "address is empty" },
    Case { name: "private registry garbage", edit: |f| { f.basic.image_registry = ImageRegistry::Private; f.basic.private_registry = "https://reg/x".into(); }, field: "form.privateRegistry", severity: Severity::Error, contains: "not a registry address" },
    Case { name: "cluster cidr empty", edit: |f| f.network.cluster_cidr.clear(), field: "spec.clusterCIDR", severity: Severity::Error, contains: "empty" },
    Case { name: "cluster cidr host bits", edit: |f| f.network.cluster_cidr = "10.3.1.0/16".into(), field: "spec.clusterCIDR", severity: Severity::Error, contains: "host bits" },
    Case { name: "service cidr pair without dual", edit: |f| f.network.service_cidr = "10.4.0.0/16,fd00::/112".into(), field: "spec.serviceCIDR", severity: Severity::Error, contains: "dual stack" },
    Case { name: "cidrs overlap", edit: |f| f.network.service_cidr = "10.3.128.0/17".into(), field: "spec.clusterCIDR", severity: Severity::Error, contains: "overlaps the service CIDR" },
    Case { name: "join cidr empty", edit: |f| f.network.kube_ovn.join_cidr.clear(), field: "metadata.annotations[\"kube-ovn.cpaas.io/join-cidr\"]", severity: Severity::Error, contains: "join CIDR is empty" },
    Case { name: "join overlaps", edit: |f| f.network.kube_ovn.join_cidr = "10.4.0.0/24".into(), field: "spec.serviceCIDR", severity: Severity::Error, contains: "overlaps the join CIDR" },
    Case { name: "cidr contains node", edit: |f| f.network.cluster_cidr = "192.168.0.0/16".into(), field: "spec.clusterCIDR", severity: Severity::Error, contains: "contains node 1" },
    Case { name: "service cidr too small", edit: |f| f.network.service_cidr = "10.4.0.0/29".into(), field: "spec.serviceCIDR", severity: Severity::Error, contains: "at least 10" },
    Case { name: "service cidr small", edit: |f| f.network.service_cidr = "10.4.0.0/25".into(), field: "spec.serviceCIDR", severity: Severity::Warning, contains: "only 126" },
    Case { name: "service cidr too large", edit: |f| f.network.service_cidr = "10.0.0.0/8".into(), field: "spec.serviceCIDR", severity: Severity::Error, contains: "2^20" },
    Case { name: "node ip count zero", edit: |f| f.network.node_ip_count = 0, field: "spec.properties.maxNodePodNum", severity: Severity::Error, contains: "is 0" },
    Case { name: "node ip count high", edit: |f| f.network.node_ip_count = 512, field: "spec.properties.maxNodePodNum", severity: Severity::Warning, contains: "above the recommended" },
    Case { name: "underlay nic", edit: |f| { f.network.kube_ovn.transmit = TransmitMode::Underlay; f.network.kube_ovn.gateway = "10.3.0.1".into(); f.node_settings.nic.clear(); }, field: "spec.networkDevice", severity: Severity::Error, contains: "cluster NIC" },
    Case { name: "underlay gateway outside", edit: |f| { f.network.kube_ovn.transmit = TransmitMode::Underlay; f.network.kube_ovn.gateway = "10.9.0.1".into(); }, field: "metadata.annotations[\"kube-ovn.cpaas.io/gateway\"]", severity: Severity::Error, contains: "outside the cluster CIDR" },
    Case { name: "underlay gateway is the network address", edit: |f| { f.network.kube_ovn.transmit = TransmitMode::Underlay; f.network.kube_ovn.gateway = "10.3.0.0".into(); }, field: "metadata.annotations[\"kube-ovn.cpaas.io/gateway\"]", severity: Severity::Error, contains: "network address of 10.3.0.0/16" },
    Case { name: "underlay gateway is the broadcast address", edit: |f| { f.network.kube_ovn.transmit = TransmitMode::Underlay; f.network.kube_ovn.gateway = "10.3.255.255".into(); }, field: "metadata.annotations[\"kube-ovn.cpaas.io/gateway\"]", severity: Severity::Error, contains: "broadcast address" },
    Case { name: "underlay gateway missing", edit: |f| f.network.kube_ovn.transmit = TransmitMode::Underlay, field: "metadata.annotations[\"kube-ovn.cpaas.io/gateway\"]", severity: Severity::Error, contains: "needs the default gateway" },
    Case { name: "underlay vlan", edit: |f| { f.network.kube_ovn.transmit = TransmitMode::Underlay; f.network.kube_ovn.gateway = "10.3.0.1".into(); f.network.kube_ovn.vlan_id = 4096; }, field: "metadata.annotations[\"kube-ovn.cpaas.io/vlan-id\"]", severity: Severity::Error, contains: "0-4095" },
    Case { name: "underlay reserved outside", edit: |f| { f.network.kube_ovn.transmit = TransmitMode::Underlay; f.network.kube_ovn.gateway = "10.3.0.1".into(); f.network.kube_ovn.reserved_ips = "10.3.0.2,10.9.0.1".into(); }, field: "metadata.annotations[\"kube-ovn.cpaas.io/exclude-ips\"]", severity: Severity::Error, contains: "not inside" },
    Case { name: "underlay reserved garbage", edit: |f| { f.network.kube_ovn.transmit = TransmitMode::Underlay; f.network.kube_ovn.gateway = "10.3.0.1".into(); f.network.kube_ovn.reserved_ips = "x".into(); }, field: "metadata.annotations[\"kube-ovn.cpaas.io/exclude-ips\"]", severity: Severity::Error, contains: "reserved IPs" },
    Case { name: "flannel too many nodes", edit: |f| { f.network.cni = Cni::Flannel; f.network.cluster_cidr = "10.3.0.0/24".into(); f.network.node_ip_count = 128; }, field: "spec.clusterCIDR", severity: Severity::Error, contains: "at most 2 nodes, but 4" },
    Case { name: "flannel one pod ip per node", edit: |f| { f.network.cni = Cni::Flannel; f.network.node_ip_count = 1; }, field: "spec.properties.maxNodePodNum", severity: Severity::Error, contains: "gives each node a /32, which has no address left" },
    Case { name: "flannel two pod ips per node", edit: |f| { f.network.cni = Cni::Flannel; f.network.node_ip_count = 2; }, field: "spec.properties.maxNodePodNum", severity: Severity::Error, contains: "a /31" },
    Case { name: "flannel block fills the cidr", edit: |f| { f.network.cni = Cni::Flannel; f.network.node_ip_count = 65536; }, field: "spec.clusterCIDR", severity: Severity::Error, contains: "holds at most 1 node, but 4 are listed" },
    Case { name: "flannel cidr too small", edit: |f| { f.network.cni = Cni::Flannel; f.network.cluster_cidr = "10.3.0.0/25".into(); }, field: "spec.clusterCIDR", severity: Severity::Error, contains: "holds no node" },
    Case { name: "nic invalid", edit: |f| f.node_settings.nic = "eth0:1".into(), field: "spec.networkDevice", severity: Severity::Error, contains: "not a valid interface" },
    Case { name: "nic not monitored", edit: |f| f.node_settings.nic = "bond0".into(), field: "spec.networkDevice", severity: Severity::Warning, contains: "not be monitored" },
    Case { name: "node nic with calico", edit: |f| { f.network.cni = Cni::Calico; f.node_settings.nodes[0].nic = "eth1".into(); }, field: "spec.machines[0].networkDevice", severity: Severity::Warning, contains: "only takes effect with Kube-OVN" },
    Case { name: "vm agent needs instance", edit: |f| { f.node_settings.monitoring.kind = MonitoringKind::VictoriaMetrics; f.node_settings.monitoring.vm_deploy = VmDeploy::AgentOnly; }, field: "form.monitoring.vmInstance", severity: Severity::Error, contains: "existing VictoriaMetrics" },
    Case { name: "no monitoring nodes", edit: |f| f.node_settings.monitoring.nodes.clear(), field: "form.monitoring.nodes", severity: Severity::Warning, contains: "no monitoring nodes" },
    Case { name: "monitoring node unknown", edit: |f| f.node_settings.monitoring.nodes = vec!["10.9.9.9".into()], field: "form.monitoring.nodes[0]", severity: Severity::Error, contains: "not one of" },
    Case { name: "monitoring on tainted master", edit: |f| f.node_settings.monitoring.nodes = vec!["192.168.0.11".into()], field: "form.monitoring.nodes[0]", severity: Severity::Error, contains: "does not allow applications" },
    Case { name: "monitoring duplicate", edit: |f| f.node_settings.monitoring.nodes.push("192.168.0.21".into()), field: "form.monitoring.nodes[1]", severity: Severity::Warning, contains: "twice" },
    Case { name: "max-pods override", edit: |f| { f.extended .kubelet_args .insert("max-pods".into(), "110".into()); }, field: "spec.kubeletExtraArgs[\"max-pods\"]", severity: Severity::Warning, contains: "overrides the default" },
    Case { name: "max-pods not a number", edit: |f| { f.extended .kubelet_args .insert("max-pods".into(), "-3".into()); }, field: "spec.kubeletExtraArgs[\"max-pods\"]", severity: Severity::Error, contains: "positive integer" },
    Case { name: "arg with dashes", edit: |f| { f.extended.scheduler_args.insert("--v".into(), "4".into()); }, field: "spec.schedulerExtraArgs[\"--v\"]", severity: Severity::Error, contains: "starts with" },
    Case { name: "controller-manager default", edit: |f| { f.extended .controller_manager_args .insert("cluster-cidr".into(), "10.0.0.0/8".into()); }, field: "spec.controllerManagerExtraArgs[\"cluster-cidr\"]", severity: Severity::Warning, contains: "overrides the platform's default" },
    Case { name: "apiserver url garbage", edit: |f| f.extended.apiserver_urls = vec!["https://k8s.example.com".into()], field: "spec.publicAlternativeNames[0]", severity: Severity::Error, contains: "not an IP address or domain" },
    Case { name: "apiserver url too long", edit: |f| f.extended.apiserver_urls = vec![format!("{}.com", "a.".repeat(126))], field: "spec.publicAlternativeNames[0]", severity: Severity::Error, contains: "at most 253" },
    Case { name: "apiserver url duplicate", edit: |f| { f.extended.apiserver_urls = vec!["k8s.example.com".into(), "k8s.example.com".into()] }, field: "spec.publicAlternativeNames[1]", severity: Severity::Warning, contains: "twice" },
    Case { name: "annotation key", edit: |f| { f.extended.annotations.insert("bad key!".into(), "x".into()); }, field: "metadata.annotations[\"bad key!\"]", severity: Severity::Error, contains: "not valid" },
    Case { name: "annotation overrides form", edit: |f| { f.extended .annotations .insert(ann::NETWORK_TYPE.into(), "calico".into()); }, field: "metadata.annotations[\"cpaas.io/network-type\"]", severity: Severity::Warning, contains: "overrides the value" },
    Case { name: "known annotation bad value", edit: |f| { f.extended .annotations .insert(ann::VLAN_ID.into(), "9999".into()); }, field: "metadata.annotations[\"kube-ovn.cpaas.io/vlan-id\"]", severity: Severity::Error, contains: "not a valid value" },
];

#[test]
fn every_rule_fails_its_case_and_passes_the_good_form() {
    let clean = problems(&good());
    assert!(clean.is_empty(), "good form has findings: {clean:#?}");
    for c in CASES {
        let mut f = good();
        (c.edit)(&mut f);
        let found = check(&f, &RuleContext::default());
        assert!(
            found.iter().any(|x| x.field == c.field
                && x.severity == c.severity
                && x.message.contains(c.contains)
                && !x.hint.is_empty()),
            "case `{}`: expected {:?} at {} containing `{}`, got {found:#?}",
            c.name,
            c.severity,
            c.field,
            c.contains
        );
    }
}

pub(super) fn problems_with(f: &ClusterForm, ctx: &RuleContext) -> Vec<Finding> {
    check(f, ctx)
        .into_iter()
        .filter(|x| x.severity != Severity::Info)
        .collect()
}

#[test]
fn passing_variants_of_modes() {
    // Self-built VIP in the nodes' subnet.
    let mut f = good();
    f.basic.endpoint.self_built_vip = true;
    assert!(problems(&f).is_empty(), "{:#?}", problems(&f));
    // A domain for the load balancer.
    let mut f = good();
    f.basic.endpoint.address = "k8s.example.com".into();
    assert!(problems(&f).is_empty());
    // Dual stack with every node's IPv6 and CIDR pairs.
    let mut f = good();
    f.basic.ip_stack = IpStack::DualStack;
    f.network.reset_cidrs(IpStack::DualStack);
    for (i, n) in f.node_settings.nodes.iter_mut().enumerate() {
        n.ipv6 = format!("fd00:192::{}", i + 1);
    }
    assert!(problems(&f).is_empty(), "{:#?}", problems(&f));
    // IPv6 single stack with an IPv6 load balancer.
    let mut f = good();
    f.basic.ip_stack = IpStack::Ipv6;
    f.network.reset_cidrs(IpStack::Ipv6);
    f.basic.endpoint.address = "fd00:192::100".into();
    for (i, n) in f.node_settings.nodes.iter_mut().enumerate() {
        n.ip = format!("fd00:192::{}", i + 1);
    }
    f.node_settings.monitoring.nodes = vec!["fd00:192::4".into()];
    assert!(problems(&f).is_empty(), "{:#?}", problems(&f));
    // Underlay with gateway, VLAN and reserved IPs inside the CIDR.
    let mut f = good();
    f.network.kube_ovn.transmit = TransmitMode::Underlay;
    f.network.kube_ovn.gateway = "10.3.0.1".into();
    f.network.kube_ovn.vlan_id = 100;
    assert!(problems(&f).is_empty(), "{:#?}", problems(&f));
    f.network.kube_ovn.gateway = "10.3.255.254".into();
    f.network.kube_ovn.reserved_ips = "10.3.0.1..10.3.0.9".into();
    assert!(problems(&f).is_empty(), "{:#?}", problems(&f));
    // Flannel with room for the nodes, and its hint.
    let mut f = good();
    f.network.cni = Cni::Flannel;
    assert!(problems(&f).is_empty());
    assert_eq!(
        flannel_hint(&f),
        Some((
            Severity::Info,
            "10.3.0.0/16 gives each node 256 pod IPs and holds at most 256 nodes".into()
        ))
    );
    assert_eq!(flannel_hint(&good()), None);
    // The smallest block that holds a pod, and a CIDR holding exactly the listed nodes.
    f.network.node_ip_count = 4;
    assert!(problems(&f).is_empty(), "{:#?}", problems(&f));
    f.network.cluster_cidr = "10.3.0.0/24".into();
    f.network.node_ip_count = 64;
    assert_eq!(
        flannel_hint(&f),
        Some((
            Severity::Info,
            "10.3.0.0/24 gives each node 64 pod IPs and holds at most 4 nodes".into()
        ))
    );
    assert!(problems(&f).is_empty(), "{:#?}", problems(&f));
    // The hint carries the verdict of the rules: an error is never shown as a mere hint.
    f.network.node_ip_count = 65536;
    f.network.cluster_cidr = "10.3.0.0/16".into();
    assert!(
        matches!(flannel_hint(&f), Some((Severity::Error, m)) if m.contains("at most 1 node,"))
    );
    f.node_settings.nodes.truncate(1);
    f.node_settings.monitoring.nodes.clear();
    assert!(
        matches!(flannel_hint(&f), Some((Severity::Info, m)) if m.ends_with("holds at most 1 node"))
    );
    // Key login, proxy, external access listed in the SANs, platform URL.
    let mut f = good();
    f.node_settings.nodes[0].auth = SshAuth::Key;
    f.node_settings.nodes[0].private_key =
        Secret::new("-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n");
    f.node_settings.nodes[1].proxy = ProxyForm {
        enabled: true,
        address: "[fd00::1]:1080".into(),
        username: "u".into(),
        password: Secret::new("p"),
    };
    f.basic.external_access = "203.0.113.10:6443".into();
    f.extended.apiserver_urls = vec!["203.0.113.10".into()];
    f.basic.platform_url = "https://acp.example.com".into();
    f.extended
        .annotations
        .insert("example.com/owner".into(), "sre".into());
    f.extended
        .kubelet_args
        .insert("max-pods".into(), "256".into());
    f.basic.image_registry = ImageRegistry::Private;
    f.basic.private_registry = "registry.example.com:5000".into();
    // Only the page choices the platform does not read remain, each said once.
    let found = problems(&f);
    let left: Vec<&str> = found.iter().map(|x| x.field.as_str()).collect();
    assert_eq!(
        left,
        ["form.externalAccess", "form.imageRegistry"],
        "{found:#?}"
    );
    // Monitoring on an application-deployable control-plane node.
    let mut f = good();
    f.node_settings.nodes[0].app_deployable = true;
    f.node_settings.monitoring.nodes = vec!["192.168.0.11".into()];
    assert!(problems(&f).is_empty());
}
#[test]
fn every_finding_explains_itself() {
    let mut f = good();
    for c in CASES {
        (c.edit)(&mut f);
    }
    for x in check(&f, &RuleContext::default()) {
        assert!(!x.message.is_empty() && !x.hint.is_empty(), "{x:?}");
        assert!(!x.field.is_empty());
    }
}
proptest::proptest! {
#[test]
fn rules_never_panic(
    strings in proptest::collection::vec(".{0,40}", 12),
    nums in proptest::collection::vec(proptest::prelude::any::<u32>(), 3),
    flags in proptest::collection::vec(proptest::prelude::any::<bool>(), 6),
) {
    let mut f = good();
    f.basic.name = strings[0].clone();
    f.basic.kubernetes_version = strings[1].clone();
    f.basic.endpoint.address = strings[2].clone();
    f.basic.endpoint.self_built_vip = flags[0];
    f.basic.endpoint.vrid = nums[0];
    f.basic.external_access = strings[3].clone();
    f.basic.platform_url = strings[4].clone();
    f.basic.ip_stack = if flags[1] { IpStack::DualStack } else { IpStack::Ipv4 };
    f.network.cni = if flags[2] { Cni::Flannel } else { Cni::KubeOvn };
    f.network.kube_ovn.transmit = if flags[3] { TransmitMode::Underlay } else { TransmitMode::Overlay };
    f.network.cluster_cidr = strings[5].clone();
    f.network.service_cidr = strings[6].clone();
    f.network.kube_ovn.join_cidr = strings[7].clone();
    f.network.kube_ovn.gateway = strings[8].clone();
    f.network.kube_ovn.reserved_ips = strings[9].clone();
    f.network.kube_ovn.vlan_id = nums[1];
    f.network.node_ip_count = nums[2];
    f.node_settings.nic = strings[10].clone();
    f.node_settings.nodes[0].ip = strings[11].clone();
    f.node_settings.nodes[1].ipv6 = strings[2].clone();
    f.node_settings.nodes[2].proxy.enabled = flags[4];
    f.node_settings.nodes[2].proxy.address = strings[3].clone();
    f.node_settings.node_naming = if flags[5] { NodeNaming::Hostname } else { NodeNaming::Ip };
    f.extended.apiserver_urls = vec![strings[4].clone()];
    f.extended.annotations.insert(strings[0].clone(), strings[1].clone());
    f.extended.kubelet_args.insert("max-pods".into(), strings[6].clone());
    let found = check(&f, &RuleContext::default());
    proptest::prop_assert!(found.iter().all(|x| !x.message.is_empty() && !x.hint.is_empty()));
    let _ = check_cluster(&f.to_cluster(), &RuleContext::default());
}}

/// ACP's documented example manifest, valid as written.
pub(super) const EXAMPLE: &str = r#"
apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata:
  name: demo
  annotations:
    cpaas.io/container-runtime: "containerd://1.6.28-4"
    cpaas.io/network-type: "kube-ovn"
    kube-ovn.cpaas.io/join-cidr: "100.64.0.0/16"
    kube-ovn.cpaas.io/transmit-type: "overlay"
spec:
  type: Baremetal
  version: "1.28.13"
  displayName: "demo"
  clusterCIDR: "10.3.0.0/16"
  serviceCIDR: "10.4.0.0/16"
  networkDevice: "eth0"
  properties: {maxNodePodNum: 256}
  features:
    ipvs: true
    ipv6DualStack: false
    enableMasterSchedule: false
    ha: {tke: {vip: "192.168.0.10", vrid: 137}}
  publicAlternativeNames: ["k8s.example.com"]
  machines:
  - {ip: "192.168.0.11", port: 22, role: master, username: root, password: "c2VjcmV0"}
  - {ip: "192.168.0.21", port: 22, role: node, username: root, privateKey: "LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K", passPhrase: "cHA="}
"#;
