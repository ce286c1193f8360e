//! Every rule ACP's docs state for creating an on-premises cluster, as data.
//!
//! [`check`] looks at the wizard's [`ClusterForm`]; [`check_cluster`] looks at a `Cluster`
//! resource (e.g. `acp-cockpit validate -f cluster.yaml`) by mapping it to the form and adding
//! the checks only the resource can fail (bad base64, unknown roles, conflicting fields).
//!
//! A [`Finding`]'s `field` is the resource path the problem lives at, such as
//! `spec.machines[1].ip` or `metadata.annotations["kube-ovn.cpaas.io/join-cidr"]`; node
//! indexes are the same in the form and the resource. Fields only the form has use
//! `form.<name>`, e.g. `form.monitoring.nodes[0]` or `form.nodes[2].bridgeNetwork`.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::domain::cluster::{
    CLUSTER_TYPE_BAREMETAL, Cluster, PROXY_SOCKS5, ROLE_MASTER, ROLE_NODE, annotations as ann,
};
use crate::domain::form::{
    ANN_EXTERNAL_ACCESS, ANN_IMAGE_REGISTRY, ANN_MONITORING_TYPE, ClusterForm, Cni,
    ContainerRuntime, DEFAULT_CLUSTER_CIDR_V4, DEFAULT_CLUSTER_CIDR_V6, DEFAULT_JOIN_CIDR_V4,
    DEFAULT_JOIN_CIDR_V6, DEFAULT_LB_PORT, DEFAULT_SERVICE_CIDR_V4, DEFAULT_SERVICE_CIDR_V6,
    ImageRegistry, IpStack, KUBELET_MAX_PODS, MonitoringKind, NodeNaming, SshAuth, VmDeploy,
};
use crate::domain::network::{
    CidrError, Cidrs, IpFamily, MIN_SERVICE_ADDRESSES, assumed_host_prefix, flannel_max_nodes,
    is_domain, node_mask_size, parse_host_port, parse_ip, parse_ip_ranges, same_subnet,
    service_capacity,
};

/// How serious a finding is; ordered most serious first, so sorting puts errors on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// Creation will fail or the cluster will not work.
    Error,
    /// Allowed, but likely a mistake or a limit the user should know of.
    Warning,
    /// Something the docs want the user to be aware of.
    Info,
}

/// One problem with the cluster definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Resource path, or `form.<name>` for fields only the form has.
    pub field: String,
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

/// What the rules know about the platform beyond the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleContext {
    /// The Kubernetes releases a new cluster may use, newest first. The platform accepts a
    /// `spec.version` only when it is exactly one of its `k8sValidVersions` entries, so a
    /// version is checked for exact membership. The platform's list when known.
    pub supported_versions: Vec<String>,
    /// Whether the platform's `cri-docker` feature gate is on; `None` when unknown.
    pub cri_docker_enabled: Option<bool>,
    /// Hostnames by node IP, once known (e.g. from node checks), for unique node names.
    pub hostnames: BTreeMap<String, String>,
    /// VictoriaMetrics instances on the platform, when known.
    pub vm_instances: Option<Vec<String>>,
    /// The nodes' IPv4 / IPv6 subnet prefix lengths when known; otherwise /24 and /64 are
    /// assumed and the same-subnet check only warns.
    pub subnet_prefix_v4: Option<u8>,
    pub subnet_prefix_v6: Option<u8>,
    /// Addresses of machines that already belong to a cluster on the platform, with that
    /// cluster's name: a node can be in only one cluster.
    pub nodes_in_use: BTreeMap<String, String>,
}

/// Kubernetes releases offered when the platform's own list is not known, newest first.
///
/// The docs name the supported minors (1.28, 1.29, 1.30, 1.31) but the platform takes only the
/// exact releases it publishes, so a bare minor would be refused at creation; this fallback
/// names one release per minor (those the sandbox platform publishes). The platform's
/// `k8sValidVersions` replaces it whenever it is known.
pub const DEFAULT_SUPPORTED_VERSIONS: [&str; 4] = ["1.31.9", "1.30.14", "1.29.15", "1.28.13"];

impl Default for RuleContext {
    fn default() -> Self {
        Self {
            supported_versions: DEFAULT_SUPPORTED_VERSIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            cri_docker_enabled: None,
            hostnames: BTreeMap::new(),
            vm_instances: None,
            subnet_prefix_v4: None,
            subnet_prefix_v6: None,
            nodes_in_use: BTreeMap::new(),
        }
    }
}

impl RuleContext {
    /// The context with the platform's own version list, read from the `k8sValidVersions`
    /// value (a JSON array of strings) of ConfigMap `kube-public/cluster-info` on `global`.
    pub fn with_platform_versions(mut self, k8s_valid_versions: &str) -> Result<Self, String> {
        let list: Vec<String> = serde_json::from_str(k8s_valid_versions)
            .map_err(|e| format!("k8sValidVersions is not a JSON list of strings: {e}"))?;
        let list: Vec<String> = list
            .into_iter()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        if list.is_empty() {
            return Err("k8sValidVersions lists no version".into());
        }
        self.supported_versions = list;
        Ok(self)
    }
}

/// Ports ACP needs on every control-plane node behind the endpoint.
pub const CONTROL_PLANE_PORTS: [u16; 3] = [6443, 11780, 11781];
/// Most pods per node the docs recommend.
pub const RECOMMENDED_MAX_PODS: u32 = 256;
/// Longest cluster name ACP accepts.
pub const MAX_CLUSTER_NAME: usize = 32;
/// Longest APIServer URL entry.
pub const MAX_APISERVER_URL: usize = 253;

/// Flags the platform sets itself; a user key with the same name overrides them.
const CONTROLLER_MANAGER_DEFAULTS: [&str; 7] = [
    "allocate-node-cidrs",
    "cluster-cidr",
    "node-cidr-mask-size",
    "node-cidr-mask-size-ipv4",
    "node-cidr-mask-size-ipv6",
    "service-cluster-ip-range",
    "bind-address",
];
const APISERVER_DEFAULTS: [&str; 5] = [
    "token-auth-file",
    "authorization-mode",
    "authorization-webhook-config-file",
    "service-cluster-ip-range",
    "service-node-port-range",
];

struct Out(Vec<Finding>);

impl Out {
    fn push(&mut self, sev: Severity, field: impl Into<String>, msg: String, hint: &str) {
        self.0.push(Finding {
            field: field.into(),
            severity: sev,
            message: msg,
            hint: hint.to_string(),
        });
    }
    fn err(&mut self, field: impl Into<String>, msg: impl Into<String>, hint: impl AsRef<str>) {
        self.push(Severity::Error, field, msg.into(), hint.as_ref());
    }
    fn warn(&mut self, field: impl Into<String>, msg: impl Into<String>, hint: impl AsRef<str>) {
        self.push(Severity::Warning, field, msg.into(), hint.as_ref());
    }
    fn info(&mut self, field: impl Into<String>, msg: impl Into<String>, hint: impl AsRef<str>) {
        self.push(Severity::Info, field, msg.into(), hint.as_ref());
    }
}

fn machine(i: usize, f: &str) -> String {
    format!("spec.machines[{i}].{f}")
}

fn annotation(key: &str) -> String {
    format!("metadata.annotations[\"{key}\"]")
}

/// Checks the wizard's form.
pub fn check(form: &ClusterForm, ctx: &RuleContext) -> Vec<Finding> {
    let mut o = Out(Vec::new());
    let ips = NodeIps::of(form);
    check_name(form, &mut o);
    check_version(form, ctx, &mut o);
    check_runtime(form, ctx, &mut o);
    check_nodes(form, &ips, &mut o);
    check_nodes_in_use(form, ctx, &mut o);
    check_stack(form, &ips, &mut o);
    check_endpoint(form, ctx, &ips, &mut o);
    check_access(form, &mut o);
    check_registry(form, &mut o);
    check_network(form, &ips, &mut o);
    check_nics(form, &mut o);
    check_node_naming(form, ctx, &mut o);
    check_monitoring(form, ctx, &mut o);
    check_extended(form, &mut o);
    check_not_applied(form, &mut o);
    o.0
}

/// Choices of ACP's page that have no documented place in the Cluster resource. The form
/// keeps them in `acp-cockpit.io/` annotations so they survive an export, but the platform
/// does not read those, so the user must know the choice is not applied at creation.
fn check_not_applied(form: &ClusterForm, o: &mut Out) {
    let not_read = "is kept only in an acp-cockpit.io annotation, which the platform does not read, so it is not applied at creation";
    if !form.basic.external_access.trim().is_empty() {
        o.warn(
            "form.externalAccess",
            format!("External Access {not_read}"),
            format!("After creation, configure the external access address on the platform; the manifest keeps it under {ANN_EXTERNAL_ACCESS} for reference"),
        );
    }
    if form.basic.image_registry != ImageRegistry::PlatformBuiltIn {
        o.warn(
            "form.imageRegistry",
            format!("the image registry choice {not_read}: the cluster pulls from the platform's default registry"),
            "Create the cluster from the platform's own Create Cluster page to use another registry, or switch to Platform Built-in",
        );
    }
    let m = &form.node_settings.monitoring;
    if m.kind == MonitoringKind::VictoriaMetrics {
        o.warn(
            "form.monitoring.kind",
            format!("the VictoriaMetrics choice {not_read}: the platform sets up its default monitoring"),
            "Choose Prometheus here, and deploy or connect VictoriaMetrics on the platform after creation",
        );
    } else if !m.nodes.is_empty() {
        o.info(
            "form.monitoring.nodes",
            format!("the monitoring nodes {not_read}"),
            "Choose the monitoring nodes on the platform after creation",
        );
    }
}

/// Checks a `Cluster` resource: the form's rules through the import mapping, plus what only
/// a resource can get wrong.
pub fn check_cluster(c: &Cluster, ctx: &RuleContext) -> Vec<Finding> {
    let mut found = check(&ClusterForm::from_cluster(c), ctx);
    // A resource written elsewhere says nothing about the page's monitoring and registry
    // choices; the defaults the import fills in are not the user's, so rules on them would
    // only be noise.
    let has = |k: &str| c.annotation(k).is_some();
    found.retain(|f| {
        let monitoring = f.field.starts_with("form.monitoring");
        let registry = f.field == "form.imageRegistry" || f.field == "form.privateRegistry";
        let unspoken =
            (monitoring && !has(ANN_MONITORING_TYPE)) || (registry && !has(ANN_IMAGE_REGISTRY));
        !unspoken
    });
    let s = &c.spec;
    // A port the form cannot hold reaches it as 0; the resource check below reports the
    // real number, so the form's "port is 0" would only contradict it.
    let bad_ports: BTreeSet<String> = s
        .machines
        .iter()
        .enumerate()
        .filter(|(_, m)| !(1..=65535).contains(&m.port))
        .map(|(i, _)| machine(i, "port"))
        .collect();
    found.retain(|f| !bad_ports.contains(&f.field));
    let mut o = Out(found);
    // ACP picks the network plugin from this annotation; without it the form's default
    // (Kube-OVN overlay) is what the rules above judged, which the file may not mean.
    if c.annotation(ann::NETWORK_TYPE).is_none() {
        o.warn(
            annotation(ann::NETWORK_TYPE),
            "the manifest names no network plugin, so it was checked as Kube-OVN (overlay), the Create page's default",
            "Add the annotation cpaas.io/network-type: kube-ovn, calico, flannel or custom",
        );
    }
    if s.type_ != CLUSTER_TYPE_BAREMETAL {
        o.err(
            "spec.type",
            format!("spec.type is `{}`, not `Baremetal`", s.type_),
            "Set spec.type to Baremetal: only on-premises clusters are created from a definition",
        );
    }
    if s.service_cidr.as_deref() == Some("") {
        o.err(
            "spec.serviceCIDR",
            "spec.serviceCIDR is an empty string",
            "Leave serviceCIDR out or give a CIDR such as 10.4.0.0/16",
        );
    }
    if s.service_cidr.is_some() && s.properties.max_cluster_service_num.is_some() {
        o.err(
            "spec.properties.maxClusterServiceNum",
            "maxClusterServiceNum cannot be combined with serviceCIDR",
            "Remove spec.properties.maxClusterServiceNum; the service CIDR sets the service count",
        );
    }
    if s.features.ipvs == Some(true) && s.service_cidr.is_none() {
        o.err(
            "spec.features.ipvs",
            "kube-proxy in ipvs mode needs spec.serviceCIDR",
            "Set spec.serviceCIDR, e.g. 10.4.0.0/16",
        );
    }
    if let Some(ha) = &s.features.ha
        && ha.tke.is_some()
        && ha.third_party.is_some()
    {
        o.err(
            "spec.features.ha",
            "both a self-built VIP (ha.tke) and a load balancer (ha.thirdParty) are set",
            "Keep only one: ha.tke for keepalived on the control-plane nodes, ha.thirdParty for an external load balancer",
        );
    }
    for (i, m) in s.machines.iter().enumerate() {
        if let Some(r) = m.role.as_deref()
            && r != ROLE_MASTER
            && r != ROLE_NODE
        {
            o.err(
                machine(i, "role"),
                format!("role `{r}` is neither `master` nor `node`"),
                "Use master for a control-plane node or node for a worker",
            );
        }
        if !(1..=65535).contains(&m.port) {
            o.err(
                machine(i, "port"),
                format!("SSH port {} is outside 1-65535", m.port),
                "Use the node's SSH port, usually 22",
            );
        }
        let secrets = [
            ("password", &m.password),
            ("privateKey", &m.private_key),
            ("passPhrase", &m.pass_phrase),
        ];
        for (name, v) in secrets {
            if let Some(v) = v
                && !is_base64_text(v)
            {
                o.err(
                    machine(i, name),
                    format!("{name} is not base64-encoded text"),
                    format!("Put the base64 of the {name} in the file, e.g. `printf %s '<value>' | base64 -w0`"),
                );
            }
        }
        if let Some(p) = &m.proxy {
            if p.type_ != PROXY_SOCKS5 {
                o.err(
                    machine(i, "proxy.type"),
                    format!("proxy type `{}` is not supported", p.type_),
                    "Only SOCKS5 proxies are supported; set proxy.type to SOCKS5",
                );
            }
            if let Some(pw) = &p.password
                && !is_base64_text(pw)
            {
                o.err(
                    machine(i, "proxy.password"),
                    "proxy password is not base64-encoded text",
                    "Put the base64 of the proxy password in the file",
                );
            }
        }
    }
    o.0
}

fn is_base64_text(s: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .is_some_and(|b| String::from_utf8(b).is_ok())
}

/// Each node's parsed addresses, indexed like the nodes.
struct NodeIps {
    ip: Vec<Option<IpAddr>>,
    ipv6: Vec<Option<IpAddr>>,
}

impl NodeIps {
    fn of(form: &ClusterForm) -> Self {
        Self {
            ip: form.nodes().iter().map(|n| parse_ip(&n.ip)).collect(),
            ipv6: form.nodes().iter().map(|n| parse_ip(&n.ipv6)).collect(),
        }
    }

    fn all(&self) -> impl Iterator<Item = (usize, &'static str, IpAddr)> + '_ {
        let v4 = self
            .ip
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.map(|a| (i, "ip", a)));
        let v6 = self
            .ipv6
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.map(|a| (i, "ipv6", a)));
        v4.chain(v6)
    }
}

fn check_name(form: &ClusterForm, o: &mut Out) {
    let name = &form.basic.name;
    let hint = "Use 1-32 lowercase letters, digits and '-', starting and ending with a letter or digit, e.g. prod-bj-01";
    if name.is_empty() {
        o.err("metadata.name", "the cluster name is empty", hint);
    } else if name.chars().count() > MAX_CLUSTER_NAME {
        o.err(
            "metadata.name",
            format!(
                "the cluster name has {} characters; at most 32 are allowed",
                name.chars().count()
            ),
            hint,
        );
    } else if !is_dns_label(name) {
        o.err(
            "metadata.name",
            format!("`{name}` is not a valid cluster name"),
            hint,
        );
    } else if name == "global" {
        o.err(
            "metadata.name",
            "`global` is the name of the platform's own cluster",
            "Choose another name",
        );
    }
}

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `major.minor` of a version such as `v1.30.4-1`.
fn minor_version(v: &str) -> Option<(u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let mut parts = v.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Whether `v` is exactly one of the offered releases (surrounding blanks aside): the
/// platform compares `spec.version` with its list as a string.
fn version_supported(v: &str, supported: &[String]) -> bool {
    let v = v.trim();
    supported.iter().any(|s| s.trim() == v)
}

fn check_version(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    let v = form.basic.kubernetes_version.trim();
    let list = ctx.supported_versions.join(", ");
    if v.is_empty() {
        o.err(
            "spec.version",
            "no Kubernetes version is chosen",
            format!("Choose one of the supported versions ({list}); the latest gives the best features and support"),
        );
        return;
    }
    if version_supported(v, &ctx.supported_versions) {
        return;
    }
    // Releases of the same minor, to point at the one the user most likely meant.
    let same_minor: Vec<&str> = ctx
        .supported_versions
        .iter()
        .map(|s| s.trim())
        .filter(|s| minor_version(s).is_some() && minor_version(s) == minor_version(v))
        .collect();
    let is_minor_only = v.trim_start_matches('v').split(['.', '-', '+']).count() == 2;
    let (msg, hint) = match (same_minor.is_empty(), is_minor_only) {
        (false, true) => (
            format!("Kubernetes `{v}` names a minor version, not a release the platform offers"),
            format!("Choose the full release: {}", same_minor.join(", ")),
        ),
        (false, false) => (
            format!("Kubernetes {v} is not a release the platform offers"),
            format!(
                "Choose {} (the offered {} release), or another of: {list}",
                same_minor.join(" or "),
                minor_version(v).map_or(String::new(), |(a, b)| format!("{a}.{b}"))
            ),
        ),
        (true, _) => (
            format!("Kubernetes {v} is not a supported version"),
            format!("Choose one of: {list}"),
        ),
    };
    o.err("spec.version", msg, hint);
}

fn check_runtime(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    let docker = form.basic.container_runtime == ContainerRuntime::Docker;
    let ver = minor_version(&form.basic.kubernetes_version);
    if docker && ver.is_some_and(|v| v >= (1, 24)) {
        let hint = "Enable the cri-docker feature gate on the platform first (Feature Gate Configuration), or use containerd, the recommended runtime";
        match ctx.cri_docker_enabled {
            Some(true) => {}
            Some(false) => o.err(
                annotation(ann::CONTAINER_RUNTIME),
                "Docker on Kubernetes 1.24+ needs the cri-docker feature gate, which is off on this platform",
                hint,
            ),
            None => o.warn(
                annotation(ann::CONTAINER_RUNTIME),
                "Kubernetes 1.24 and later no longer support Docker without the cri-docker feature gate",
                hint,
            ),
        }
    }
    if !docker && !form.extended.docker_args.is_empty() {
        o.warn(
            "spec.dockerExtraArgs",
            "Docker parameters are set but the runtime is containerd, so they are ignored",
            "Remove the Docker parameters, or choose Docker as the runtime",
        );
    }
}

fn check_nodes(form: &ClusterForm, ips: &NodeIps, o: &mut Out) {
    let nodes = form.nodes();
    let cp = nodes.iter().filter(|n| n.is_control_plane()).count();
    if cp == 0 {
        o.err(
            "spec.machines",
            "the cluster has no control-plane node",
            "Add at least one control-plane node (three for high availability)",
        );
    } else if cp % 2 == 0 {
        o.warn(
            "spec.machines",
            format!(
                "{cp} control-plane nodes tolerate no more failures than {}: etcd needs a majority, so an even count adds no safety",
                cp - 1
            ),
            "Use an odd number of control-plane nodes: 1, 3 or 5",
        );
    }
    let mut seen: BTreeMap<IpAddr, usize> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let hint_ip = "Enter the node's private IP address, e.g. 192.168.0.11";
        if n.ip.trim().is_empty() {
            o.err(
                machine(i, "ip"),
                format!("node {} has no IP address", i + 1),
                hint_ip,
            );
        } else if ips.ip[i].is_none() {
            o.err(
                machine(i, "ip"),
                format!("`{}` is not an IP address", n.ip),
                hint_ip,
            );
        }
        if !n.ipv6.trim().is_empty() {
            match ips.ipv6[i] {
                Some(IpAddr::V6(_)) => {}
                _ => o.err(
                    machine(i, "ipv6"),
                    format!("`{}` is not an IPv6 address", n.ipv6),
                    "Enter the node's IPv6 address, e.g. fd00::11",
                ),
            }
        }
        for (field, addr) in [("ip", ips.ip[i]), ("ipv6", ips.ipv6[i])] {
            let Some(a) = addr else { continue };
            match seen.get(&a) {
                Some(first) => o.err(
                    machine(i, field),
                    format!("{a} is also the address of node {}", first + 1),
                    "Every node needs its own address; remove the duplicate node or correct the IP",
                ),
                None => {
                    seen.insert(a, i);
                }
            }
        }
        if !n.ssh_ip.trim().is_empty() && parse_ip(&n.ssh_ip).is_none() {
            o.err(
                machine(i, "publicIP"),
                format!("SSH connection IP `{}` is not an IP address", n.ssh_ip),
                "Enter the node's public or NAT address, or leave it empty when ssh user@<node IP> works",
            );
        }
        if !n.bridge_network.is_empty() {
            o.err(
                format!("form.nodes[{i}].bridgeNetwork"),
                "a bridge network cannot be associated while creating a cluster",
                "Leave it empty; associate bridge networks when adding nodes to a cluster that has underlay subnets",
            );
        }
        check_ssh(i, n, o);
    }
}

fn check_nodes_in_use(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    if ctx.nodes_in_use.is_empty() {
        return;
    }
    for (i, n) in form.nodes().iter().enumerate() {
        for (field, addr) in [("ip", n.ip.trim()), ("ipv6", n.ipv6.trim())] {
            let Some(cluster) = ctx.nodes_in_use.get(addr).filter(|_| !addr.is_empty()) else {
                continue;
            };
            o.err(
                machine(i, field),
                format!("{addr} is already a node of cluster {cluster}"),
                format!(
                    "Use a machine that belongs to no cluster, or remove it from {cluster} first"
                ),
            );
        }
    }
}

fn check_ssh(i: usize, n: &crate::domain::form::NodeForm, o: &mut Out) {
    if n.ssh_port == 0 {
        o.err(
            machine(i, "port"),
            "the SSH port is 0",
            "Use the node's SSH port, 1-65535, usually 22",
        );
    }
    let user = n.ssh_username.trim();
    if user.is_empty() {
        o.err(
            machine(i, "username"),
            "no SSH username",
            "Enter a user with root privileges, e.g. root",
        );
    } else if user != "root" {
        o.info(
            machine(i, "username"),
            format!("`{user}` must have root privileges"),
            "Use root, or make sure the user has passwordless sudo",
        );
    }
    match n.auth {
        SshAuth::Password if n.password.is_empty() => o.err(
            machine(i, "password"),
            "no SSH password or private key is given",
            "Enter the SSH password, or switch to key login and give the private key",
        ),
        SshAuth::Key if n.private_key.is_empty() && n.key_path.trim().is_empty() => o.err(
            machine(i, "privateKey"),
            "key login is chosen but no private key is given",
            "Choose the private key file (with root privileges), or switch to password login",
        ),
        SshAuth::Key
            if n.key_path.trim().is_empty()
                && !n.private_key.is_empty()
                && !n.private_key.expose().contains("PRIVATE KEY") =>
        {
            o.warn(
                machine(i, "privateKey"),
                "the private key does not look like a PEM or OpenSSH private key",
                "Give the key file's full text, starting with -----BEGIN ... PRIVATE KEY-----",
            )
        }
        _ => {}
    }
    if n.proxy.enabled {
        if let Err(e) = parse_host_port(&n.proxy.address) {
            o.err(
                machine(i, "proxy.address"),
                format!("proxy access URL: {e}"),
                "Enter the SOCKS5 proxy as host:port, e.g. 192.168.1.1:1080",
            );
        }
        if !n.proxy.username.is_empty() && n.proxy.password.is_empty() {
            o.warn(
                machine(i, "proxy.password"),
                "a proxy username is set without a password",
                "Enter the proxy password, or clear the username if the proxy needs no login",
            );
        }
    }
}

fn family_ok(stack: IpStack, a: &IpAddr) -> bool {
    match stack {
        IpStack::Ipv4 | IpStack::DualStack => IpFamily::of_addr(a) == IpFamily::V4,
        IpStack::Ipv6 => IpFamily::of_addr(a) == IpFamily::V6,
    }
}

fn check_stack(form: &ClusterForm, ips: &NodeIps, o: &mut Out) {
    let stack = form.basic.ip_stack;
    for (i, n) in form.nodes().iter().enumerate() {
        if let Some(a) = ips.ip[i]
            && !family_ok(stack, &a)
        {
            let want = if stack == IpStack::Ipv6 {
                "IPv6"
            } else {
                "IPv4"
            };
            o.err(
                machine(i, "ip"),
                format!("{a} is not an {want} address, as the cluster's network protocol requires"),
                format!(
                    "Enter the node's {want} address here, or change the cluster network protocol"
                ),
            );
        }
        match stack {
            IpStack::DualStack if n.ipv6.trim().is_empty() => o.err(
                machine(i, "ipv6"),
                format!(
                    "node {} has no IPv6 address, which dual stack requires",
                    i + 1
                ),
                "Configure an IPv6 address on the node and enter it",
            ),
            IpStack::Ipv4 | IpStack::Ipv6 if !n.ipv6.trim().is_empty() => o.warn(
                machine(i, "ipv6"),
                "an IPv6 address is set but the cluster is not dual stack, so it is ignored",
                "Clear it, or choose IPv4/IPv6 dual stack",
            ),
            _ => {}
        }
    }
    if stack == IpStack::DualStack {
        o.info(
            "spec.features.ipv6DualStack",
            "the network protocol cannot be changed after creation",
            "Make sure every node has a working IPv6 address before creating",
        );
    }
}

fn check_endpoint(form: &ClusterForm, ctx: &RuleContext, ips: &NodeIps, o: &mut Out) {
    let e = &form.basic.endpoint;
    let addr = e.address.trim();
    let cps: Vec<(usize, IpAddr)> = form
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| n.is_control_plane())
        .filter_map(|(i, _)| ips.ip[i].map(|a| (i, a)))
        .collect();
    let cp_count = form.nodes().iter().filter(|n| n.is_control_plane()).count();
    let field = if e.self_built_vip {
        "spec.features.ha.tke.vip"
    } else {
        "spec.features.ha.thirdParty.vip"
    };
    // The VRID is judged whatever the VIP holds, so a bad one is never hidden behind a
    // missing address.
    if e.self_built_vip && !(1..=255).contains(&e.vrid) {
        o.err(
            "spec.features.ha.tke.vrid",
            format!("VRID {} is outside 1-255", e.vrid),
            "Use a VRID from 1 to 255 that no other VRRP router in the subnet uses (default 137)",
        );
    }
    if addr.is_empty() {
        if e.self_built_vip {
            o.err(
                field,
                "self-built VIP is on but no VIP is entered",
                "Enter a free IP address in the control-plane nodes' subnet",
            );
        } else if cp_count > 1 {
            o.err(
                "spec.features.ha",
                format!("{cp_count} control-plane nodes need a load balancer, but no cluster endpoint is set"),
                "Enter the load balancer's VIP or a domain resolving to it, or enable self-built VIP",
            );
        } else if cp_count == 1 {
            o.warn(
                "spec.features.ha",
                "no cluster endpoint: the control-plane node's own IP becomes the endpoint, and the cluster can never be scaled to several control-plane nodes",
                "Provide a load balancer address even for a single-node cluster",
            );
        }
        return;
    }
    let ip = parse_ip(addr);
    if e.self_built_vip {
        let Some(vip) = ip else {
            let msg = if is_domain(addr) {
                format!("`{addr}` is a domain; a self-built VIP must be an IP address")
            } else {
                format!("`{addr}` is not an IP address")
            };
            o.err(
                field,
                msg,
                "Enter a free IP address in the control-plane nodes' subnet, or use a load balancer for a domain",
            );
            return;
        };
        if !family_ok(form.basic.ip_stack, &vip) {
            o.err(
                field,
                format!("the VIP {vip} is not of the cluster's IP family"),
                "Use an address of the family the nodes' primary IPs use",
            );
        }
        for (i, _, a) in ips.all() {
            if a == vip {
                o.err(
                    field,
                    format!("the VIP {vip} is the address of node {}", i + 1),
                    "The VIP must be a free address, different from every node IP",
                );
            }
        }
        let (prefix, known) = match IpFamily::of_addr(&vip) {
            IpFamily::V4 => (ctx.subnet_prefix_v4, ctx.subnet_prefix_v4.is_some()),
            IpFamily::V6 => (ctx.subnet_prefix_v6, ctx.subnet_prefix_v6.is_some()),
        };
        let prefix = prefix.unwrap_or_else(|| assumed_host_prefix(IpFamily::of_addr(&vip)));
        // One finding for the VIP, naming every node it does not share a subnet with.
        let apart: Vec<String> = cps
            .iter()
            .filter(|(_, a)| !same_subnet(&vip, a, prefix))
            .map(|(i, a)| format!("{} ({a})", i + 1))
            .collect();
        if !apart.is_empty() {
            let msg = format!(
                "the VIP {vip} is not in the same /{prefix} subnet as control-plane node{} {}",
                if apart.len() == 1 { "" } else { "s" },
                apart.join(", ")
            );
            let hint = "All control-plane nodes and the VIP must share one subnet";
            if known {
                o.err(field, msg, hint);
            } else {
                o.warn(
                    field,
                    msg,
                    format!(
                        "{hint}; /{prefix} is assumed because the nodes' netmask is not known yet"
                    ),
                );
            }
        }
        o.info(
            "spec.features.ha.tke",
            "a self-built VIP needs a host network that allows VRRP and a VRID unique in the subnet",
            "A hardware load balancer performs better and is simpler to run; use one when available",
        );
        return;
    }
    match ip {
        Some(lb) => {
            if let Some((i, _)) = cps.iter().find(|(_, a)| *a == lb) {
                if cp_count == 1 {
                    o.warn(
                        field,
                        format!("the endpoint {lb} is the only control-plane node's own IP, so the cluster can never be scaled to several control-plane nodes"),
                        "Put a load balancer (or a domain resolving to it) in front, even for a single node",
                    );
                } else {
                    o.warn(
                        field,
                        format!("the endpoint {lb} is control-plane node {}'s own IP, so the API is down whenever that node is", i + 1),
                        "Use a load balancer's VIP that forwards to every control-plane node, or enable self-built VIP",
                    );
                }
                return;
            }
            if let Some((i, _, _)) = ips.all().find(|(_, _, a)| *a == lb) {
                o.err(
                    field,
                    format!(
                        "the endpoint {lb} is worker node {}'s IP, which runs no API server",
                        i + 1
                    ),
                    "Use a load balancer's VIP or domain",
                );
                return;
            }
        }
        None if !is_domain(addr) => {
            o.err(
                field,
                format!("`{addr}` is neither an IP address nor a domain"),
                "Enter the load balancer's VIP, or a domain that resolves to it, without a port",
            );
            return;
        }
        None => {}
    }
    if e.lb_port != DEFAULT_LB_PORT {
        o.warn(
            "spec.features.ha.thirdParty.vport",
            format!("load balancer port {} is not 6443", e.lb_port),
            "ACP expects the load balancer to listen on 6443",
        );
    }
    o.info(
        field,
        "the load balancer must forward ports 6443, 11780 and 11781 to every control-plane node",
        "Configure these three ports on the load balancer before creating the cluster",
    );
}

fn host_of(s: &str) -> &str {
    let s = s.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let s = s.split('/').next().unwrap_or(s);
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.parse::<u16>().is_ok() => h,
        _ => s,
    }
}

fn is_host(s: &str) -> bool {
    parse_ip(s).is_some() || is_domain(s)
}

fn check_access(form: &ClusterForm, o: &mut Out) {
    let ext = form.basic.external_access.trim();
    if !ext.is_empty() {
        let host = host_of(ext);
        if !is_host(host) {
            o.err(
                "form.externalAccess",
                format!("external access `{ext}` is not an IP address or domain"),
                "Enter the address global uses to reach this cluster, e.g. 203.0.113.10 or k8s.example.com",
            );
        } else {
            o.info(
                "form.externalAccess",
                "global must reach ports 6443, 11780 and 11781 on every control-plane node through the external access address",
                "Open these ports on the path from global to the cluster",
            );
            // The docs pair the two: on another network, each side needs the other's address.
            if form.basic.platform_url.trim().is_empty() {
                o.warn(
                    annotation(ann::PLATFORM_URL),
                    "External Access says the cluster is on another network than global, but no Platform URL tells the cluster how to reach global",
                    "Enter global's address reachable from this cluster as Platform URL (cpaas.io/platform-url), or clear External Access if both are on one network",
                );
            }
            let sans: BTreeSet<&str> = form
                .extended
                .apiserver_urls
                .iter()
                .map(|s| s.trim())
                .collect();
            if !sans.contains(host) && form.basic.endpoint.address.trim() != host {
                o.warn(
                    "spec.publicAlternativeNames",
                    format!("the external access address {host} is not among the APIServer URLs, so the API server certificate will not cover it"),
                    "Add it to APIServer URL under Extended Parameters",
                );
            }
        }
    }
    let url = form.basic.platform_url.trim();
    if !url.is_empty() {
        let ok = match url::Url::parse(url) {
            Ok(u) => matches!(u.scheme(), "https" | "http") && u.host_str().is_some(),
            Err(_) => is_host(host_of(url)),
        };
        if !ok {
            o.err(
                annotation(ann::PLATFORM_URL),
                format!("`{url}` is not an address of global"),
                "Enter global's public access address, e.g. https://acp.example.com",
            );
        }
    }
}

fn check_registry(form: &ClusterForm, o: &mut Out) {
    let b = &form.basic;
    match b.image_registry {
        ImageRegistry::Private => {
            let addr = b.private_registry.trim();
            if addr.is_empty() {
                o.err(
                    "form.privateRegistry",
                    "a private registry is chosen but its address is empty",
                    "Enter the registry as host or host:port, e.g. registry.example.com:5000",
                );
            } else if !is_host(host_of(addr)) || addr.contains("://") {
                o.err(
                    "form.privateRegistry",
                    format!("`{addr}` is not a registry address"),
                    "Enter the registry as host or host:port, without a scheme or path",
                );
            } else {
                o.info(
                    "form.privateRegistry",
                    "the private registry must already hold every image the cluster needs",
                    "Contact technical support for pushing the platform's images to your registry",
                );
            }
        }
        ImageRegistry::Public => o.info(
            "form.imageRegistry",
            "the public repository needs the platform's public-registry-credential to be up to date",
            "Complete \"Updating Public Repository Credentials\" (Clusters > Cloud Credential) before creating",
        ),
        ImageRegistry::PlatformBuiltIn if !b.external_access.trim().is_empty() => o.info(
            "form.imageRegistry",
            "the cluster is on another network than global, so its nodes may not reach the built-in registry",
            "If they cannot, follow \"Add External Address for Built-in Registry\"",
        ),
        ImageRegistry::PlatformBuiltIn => {}
    }
}

/// "1 node" / "2 nodes".
fn nodes(n: u128) -> String {
    if n == 1 {
        "1 node".into()
    } else {
        format!("{n} nodes")
    }
}

/// Flannel's verdict on the node IP count and the cluster CIDR: the finding [`check`]
/// reports, and the docs' capacity hint under the field when nothing is wrong.
fn flannel_verdict(form: &ClusterForm, net: &ipnet::IpNet) -> Option<Finding> {
    let per_node = u64::from(form.network.node_ip_count);
    let family = IpFamily::of_net(net);
    let mask = node_mask_size(family, per_node)?;
    let finding = |severity, field: &str, message: String, hint: &str| Finding {
        field: field.into(),
        severity,
        message,
        hint: hint.into(),
    };
    // Each node's block loses its network address and the cni0 gateway (and, in IPv4, the
    // broadcast address), so a /31 or /32 (/127, /128) block has no address left for a pod.
    if family.bits() - mask < 2 {
        return Some(finding(
            Severity::Error,
            "spec.properties.maxNodePodNum",
            format!(
                "a node IP count of {per_node} gives each node a /{mask}, which has no address left for a pod"
            ),
            "Enter at least 4 pod IPs per node (ACP's default is 256)",
        ));
    }
    let max = flannel_max_nodes(net, per_node)?;
    let listed = form.nodes().len() as u128;
    let fix = "Use a larger cluster CIDR or a smaller node IP count";
    Some(if max == 0 {
        finding(
            Severity::Error,
            "spec.clusterCIDR",
            format!(
                "{net} is smaller than one node's block of {per_node} pod IPs, so it holds no node"
            ),
            fix,
        )
    } else if listed > max {
        finding(
            Severity::Error,
            "spec.clusterCIDR",
            format!(
                "{net} with {per_node} pod IPs per node holds at most {}, but {listed} are listed",
                nodes(max)
            ),
            fix,
        )
    } else {
        finding(
            Severity::Info,
            "spec.clusterCIDR",
            format!(
                "{net} gives each node {per_node} pod IPs and holds at most {}",
                nodes(max)
            ),
            "The cluster network cannot be changed later; leave room for the nodes you will add",
        )
    })
}

/// The docs' hint under Flannel's cluster CIDR: how many nodes the CIDR can hold, or why it
/// cannot hold the form's nodes. The same verdict [`check`] reports, so a row showing it
/// never contradicts the findings.
pub fn flannel_hint(form: &ClusterForm) -> Option<(Severity, String)> {
    if form.network.cni != Cni::Flannel {
        return None;
    }
    let cidrs = Cidrs::parse(&form.network.cluster_cidr, form.is_dual_stack()).ok()?;
    let net = cidrs.v4().or_else(|| cidrs.nets().first())?;
    flannel_verdict(form, net).map(|f| (f.severity, f.message))
}

/// How to fix a CIDR; the example is the form's default for that CIDR, so following the
/// hint never suggests a range that overlaps another default.
fn cidr_hint(e: &CidrError, dual: bool, label: &str) -> String {
    let (v4, v6) = match label {
        "service CIDR" => (DEFAULT_SERVICE_CIDR_V4, DEFAULT_SERVICE_CIDR_V6),
        "join CIDR" => (DEFAULT_JOIN_CIDR_V4, DEFAULT_JOIN_CIDR_V6),
        _ => (DEFAULT_CLUSTER_CIDR_V4, DEFAULT_CLUSTER_CIDR_V6),
    };
    match e {
        CidrError::HostBits(_, n) => format!("Use the network address: {n}"),
        CidrError::NotDualStack => {
            "Give one CIDR, or choose IPv4/IPv6 dual stack for a v4,v6 pair".into()
        }
        _ if dual => {
            format!("Give an IPv4 and an IPv6 CIDR separated by a comma, e.g. {v4},{v6}")
        }
        _ => format!("Give a CIDR such as {v4}"),
    }
}

fn check_network(form: &ClusterForm, ips: &NodeIps, o: &mut Out) {
    let dual = form.is_dual_stack();
    let stack = form.basic.ip_stack;
    let net = &form.network;
    let mut parsed: Vec<(&str, String, Cidrs)> = Vec::new();
    let join_field = annotation(ann::JOIN_CIDR);
    let mut fields: Vec<(&str, String, &str)> = vec![
        (
            "cluster CIDR",
            "spec.clusterCIDR".to_string(),
            net.cluster_cidr.as_str(),
        ),
        (
            "service CIDR",
            "spec.serviceCIDR".to_string(),
            net.service_cidr.as_str(),
        ),
    ];
    if form.is_kube_ovn_overlay() {
        fields.push((
            "join CIDR",
            join_field.clone(),
            net.kube_ovn.join_cidr.as_str(),
        ));
    }
    for (label, field, text) in fields {
        match Cidrs::parse(text, dual) {
            Err(CidrError::Empty) => o.err(
                field,
                format!("the {label} is empty"),
                cidr_hint(&CidrError::Empty, dual, label),
            ),
            Err(e) => o.err(field, format!("{label}: {e}"), cidr_hint(&e, dual, label)),
            Ok(c) => {
                let family_ok = match stack {
                    IpStack::DualStack => c.is_dual(),
                    IpStack::Ipv4 => c.v4().is_some(),
                    IpStack::Ipv6 => c.v6().is_some(),
                };
                if !family_ok {
                    let want = match stack {
                        IpStack::DualStack => "an IPv4,IPv6 pair for dual stack",
                        IpStack::Ipv4 => "an IPv4 CIDR",
                        IpStack::Ipv6 => "an IPv6 CIDR",
                    };
                    o.err(
                        field.clone(),
                        format!("the {label} {c} is not {want}"),
                        cidr_hint(&CidrError::Empty, dual, label),
                    );
                }
                parsed.push((label, field, c));
            }
        }
    }
    for i in 0..parsed.len() {
        for j in i + 1..parsed.len() {
            let (la, fa, a) = &parsed[i];
            let (lb, _, b) = &parsed[j];
            if let Some((x, y)) = a.overlap_with(b) {
                o.err(
                    fa.clone(),
                    format!("the {la} {x} overlaps the {lb} {y}"),
                    "The cluster, service and join CIDRs must not share any address; pick disjoint ranges",
                );
            }
        }
    }
    for (label, field, c) in &parsed {
        for (i, kind, a) in ips.all() {
            if c.contains(&a) {
                o.err(
                    field.clone(),
                    format!("the {label} {c} contains node {}'s address {a}", i + 1),
                    format!(
                        "Choose a {label} outside the node network (node {} is {kind} {a})",
                        i + 1
                    ),
                );
            }
        }
        if let Some(vip) = parse_ip(&form.basic.endpoint.address)
            && c.contains(&vip)
        {
            o.err(
                field.clone(),
                format!("the {label} {c} contains the cluster endpoint {vip}"),
                format!("Choose a {label} outside the node network"),
            );
        }
    }
    if let Some((_, field, svc)) = parsed.iter().find(|(l, _, _)| *l == "service CIDR") {
        for n in svc.nets() {
            let cap = service_capacity(n);
            let max_bits = n.max_prefix_len().saturating_sub(n.prefix_len());
            if cap < MIN_SERVICE_ADDRESSES {
                o.err(
                    field.clone(),
                    format!("the service CIDR {n} has {cap} usable addresses; at least 10 are needed (the DNS service takes the 10th)"),
                    "Use a larger service CIDR, e.g. a /16 such as 10.4.0.0/16",
                );
            } else if max_bits > 20 {
                o.err(
                    field.clone(),
                    format!("the service CIDR {n} is larger than kube-apiserver accepts (at most 2^20 addresses)"),
                    match n {
                        ipnet::IpNet::V4(_) => "Use a /12 or smaller, e.g. 10.4.0.0/16",
                        ipnet::IpNet::V6(_) => "Use a /108 or smaller, e.g. fd00:10:96::/112",
                    },
                );
            } else if cap < 256 {
                o.warn(
                    field.clone(),
                    format!("the service CIDR {n} allows only {cap} services"),
                    "Use a larger range (e.g. a /16) unless the cluster will have very few services; it cannot be changed later",
                );
            }
        }
    }
    let cluster = parsed
        .iter()
        .find(|(l, _, _)| *l == "cluster CIDR")
        .map(|(_, _, c)| c);
    check_node_ip_count(form, o);
    match net.cni {
        Cni::KubeOvn if form.is_kube_ovn_underlay() => check_underlay(form, cluster, o),
        Cni::Flannel => {
            if let Some(c) = cluster {
                check_flannel(form, c, o);
            }
        }
        _ => {}
    }
    o.info(
        "spec.clusterCIDR",
        "the cluster network cannot be changed after creation",
        "Plan the CIDRs with room for growth",
    );
}

fn check_node_ip_count(form: &ClusterForm, o: &mut Out) {
    let n = form.network.node_ip_count;
    let field = "spec.properties.maxNodePodNum";
    if n == 0 {
        o.err(
            field,
            "the node IP count is 0",
            "Enter how many pod IPs each node gets, e.g. 256",
        );
    } else if n > RECOMMENDED_MAX_PODS {
        o.warn(
            field,
            format!("{n} pods per node is above the recommended 256"),
            "Use 256 or fewer unless the nodes are sized for it",
        );
    }
}

fn check_flannel(form: &ClusterForm, cluster: &Cidrs, o: &mut Out) {
    let Some(net) = cluster.v4().or_else(|| cluster.nets().first()) else {
        return;
    };
    if let Some(f) = flannel_verdict(form, net) {
        o.0.push(f);
    }
}

fn check_underlay(form: &ClusterForm, cluster: Option<&Cidrs>, o: &mut Out) {
    let k = &form.network.kube_ovn;
    if form.node_settings.nic.trim().is_empty() {
        o.err(
            "spec.networkDevice",
            "Kube-OVN underlay needs the cluster NIC: the default NIC for bridge networking",
            "Enter the NIC dedicated to underlay traffic (not the one carrying SSH), e.g. eth1",
        );
    }
    let gw_field = annotation(ann::GATEWAY);
    if k.gateway.trim().is_empty() {
        o.err(
            gw_field,
            "Kube-OVN underlay needs the default gateway",
            "Enter the physical network's gateway for the cluster CIDR",
        );
    } else {
        match parse_ip(&k.gateway) {
            None => o.err(
                gw_field,
                format!("gateway `{}` is not an IP address", k.gateway),
                "Enter the physical gateway's IP address",
            ),
            Some(gw) => {
                let net = cluster.and_then(|c| c.nets().iter().find(|n| n.contains(&gw)));
                if cluster.is_some() && net.is_none() {
                    o.err(
                        gw_field,
                        format!(
                            "gateway {gw} is outside the cluster CIDR {}",
                            form.network.cluster_cidr
                        ),
                        "The gateway must be the cluster CIDR's gateway, inside its range",
                    );
                } else if let Some(net) = net
                    && let Some(what) = reserved_address(net, &gw)
                {
                    o.err(
                        gw_field,
                        format!("gateway {gw} is the {what} of {net}, not a host address"),
                        format!(
                            "Enter the physical gateway's own address, a host inside {net} such as {}",
                            first_host(net)
                        ),
                    );
                }
            }
        }
    }
    if k.vlan_id > 4095 {
        o.err(
            annotation(ann::VLAN_ID),
            format!("VLAN ID {} is outside 0-4095", k.vlan_id),
            "Enter the VLAN number of the physical network, 0 for untagged",
        );
    }
    match parse_ip_ranges(&k.reserved_ips) {
        Err(e) => o.err(
            annotation(ann::EXCLUDE_IPS),
            format!("reserved IPs: {e}"),
            "List addresses or ranges separated by commas, e.g. 10.3.0.1,10.3.0.10..10.3.0.20",
        ),
        Ok(ranges) => {
            if let Some(c) = cluster {
                for r in ranges {
                    if !c.contains(&r.start) || !c.contains(&r.end) {
                        o.err(
                            annotation(ann::EXCLUDE_IPS),
                            format!("reserved IPs {r} are not inside the cluster CIDR {c}"),
                            "Reserve only addresses of the cluster CIDR that other devices use",
                        );
                    }
                }
            }
        }
    }
    o.info(
        "spec.networkDevice",
        "underlay nodes need several NICs; the bridge NIC must carry only underlay traffic, not SSH",
        "Prepare the physical network for Kube-OVN underlay before creating the cluster",
    );
}

/// Why `ip` cannot be a host of `net`: its network address, or its IPv4 broadcast address.
/// A /31 or /32 (/127, /128) has no such addresses to set aside.
fn reserved_address(net: &ipnet::IpNet, ip: &IpAddr) -> Option<&'static str> {
    if net.max_prefix_len() - net.prefix_len() < 2 {
        return None;
    }
    if *ip == net.network() {
        Some("network address")
    } else if matches!(net, ipnet::IpNet::V4(_)) && *ip == net.broadcast() {
        Some("broadcast address")
    } else {
        None
    }
}

/// The first host address of a network, for hints.
fn first_host(net: &ipnet::IpNet) -> IpAddr {
    match net {
        ipnet::IpNet::V4(n) => IpAddr::V4(n.hosts().next().unwrap_or_else(|| n.network())),
        ipnet::IpNet::V6(n) => IpAddr::V6(u128::from(n.network()).saturating_add(1).into()),
    }
}

fn is_nic_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
}

fn monitored_nic(s: &str) -> bool {
    ["eth", "en", "wl", "ww"].iter().any(|p| s.starts_with(p))
}

fn check_nic(field: String, nic: &str, o: &mut Out) {
    if nic.is_empty() {
        return;
    }
    if !is_nic_name(nic) {
        o.err(
            field,
            format!("`{nic}` is not a valid interface name"),
            "Use the NIC name shown by `ip link`, at most 15 characters, e.g. eth0",
        );
    } else if !monitored_nic(nic) {
        o.warn(
            field,
            format!("traffic on `{nic}` will not be monitored: platform monitoring only recognizes NICs named like eth*, en*, wl*, ww*"),
            "After the cluster is added, follow \"Collect Network Data from Custom-Named Network Interfaces\"",
        );
    }
}

fn check_nics(form: &ClusterForm, o: &mut Out) {
    check_nic("spec.networkDevice".into(), &form.node_settings.nic, o);
    let node_nic_used = matches!(form.network.cni, Cni::KubeOvn);
    for (i, n) in form.nodes().iter().enumerate() {
        check_nic(machine(i, "networkDevice"), &n.nic, o);
        if !n.nic.is_empty() && !node_nic_used {
            o.warn(
                machine(i, "networkDevice"),
                "a node NIC only takes effect with Kube-OVN; Calico and Flannel use the cluster NIC or the default route's NIC",
                "Set the cluster NIC instead, or clear the node NIC",
            );
        }
    }
}

fn check_node_naming(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    if form.node_settings.node_naming != NodeNaming::Hostname {
        return;
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dup = false;
    for (i, n) in form.nodes().iter().enumerate() {
        let Some(h) = ctx.hostnames.get(n.ip.trim()) else {
            continue;
        };
        match seen.get(h.as_str()) {
            Some(first) => {
                dup = true;
                o.err(
                    "spec.hostnameAsNodename",
                    format!("nodes {} and {} both have the hostname `{h}`", first + 1, i + 1),
                    "Give every node a unique hostname (hostnamectl set-hostname), or name nodes by IP",
                );
            }
            None => {
                seen.insert(h.as_str(), i);
            }
        }
    }
    if !dup {
        o.info(
            "spec.hostnameAsNodename",
            "nodes will be named by hostname, so every node's hostname must be unique",
            "Check the hostnames of all nodes, including ones added later",
        );
    }
}

fn check_monitoring(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    let m = &form.node_settings.monitoring;
    if m.kind == MonitoringKind::VictoriaMetrics && m.vm_deploy == VmDeploy::AgentOnly {
        let inst = m.vm_instance.trim();
        if inst.is_empty() {
            o.err(
                "form.monitoring.vmInstance",
                "VictoriaMetrics agent only needs an existing VictoriaMetrics instance",
                "Choose the VictoriaMetrics instance deployed on another cluster, or deploy full VictoriaMetrics",
            );
        } else if let Some(list) = &ctx.vm_instances
            && !list.iter().any(|l| l == inst)
        {
            o.err(
                "form.monitoring.vmInstance",
                format!("there is no VictoriaMetrics instance `{inst}` on the platform"),
                format!("Choose one of: {}", list.join(", ")),
            );
        }
    }
    let needs_nodes =
        !(m.kind == MonitoringKind::VictoriaMetrics && m.vm_deploy == VmDeploy::AgentOnly);
    if needs_nodes && m.nodes.is_empty() && !form.nodes().is_empty() {
        o.warn(
            "form.monitoring.nodes",
            "no monitoring nodes are selected",
            "Select the nodes for the monitoring components (preferably worker nodes)",
        );
    }
    let mut seen = BTreeSet::new();
    let has_workers = form.nodes().iter().any(|n| !n.is_control_plane());
    for (k, ip) in m.nodes.iter().enumerate() {
        let field = format!("form.monitoring.nodes[{k}]");
        if !seen.insert(ip.trim()) {
            o.warn(
                field,
                format!("{ip} is selected twice"),
                "Remove the duplicate",
            );
            continue;
        }
        match form.nodes().iter().find(|n| n.ip.trim() == ip.trim()) {
            None => o.err(
                field,
                format!("monitoring node {ip} is not one of the cluster's nodes"),
                "Select monitoring nodes among the nodes added above",
            ),
            Some(n) if !n.allows_applications() => o.err(
                field,
                format!("control-plane node {ip} does not allow applications, so it cannot host monitoring"),
                "Choose a worker node, or enable Application Deployable on this node",
            ),
            Some(n) if n.is_control_plane() && has_workers => o.info(
                field,
                format!("monitoring on control-plane node {ip} may affect cluster performance"),
                "Prefer worker nodes for monitoring components",
            ),
            Some(_) => {}
        }
    }
}

fn is_qualified_name(s: &str) -> bool {
    let name_ok = |n: &str| {
        let b = n.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    };
    match s.split_once('/') {
        Some((prefix, name)) => {
            prefix.len() <= 253
                && !prefix.is_empty()
                && prefix.split('.').all(is_dns_label)
                && name_ok(name)
        }
        None => name_ok(s),
    }
}

fn check_args(
    field: &str,
    label: &str,
    args: &BTreeMap<String, String>,
    defaults: &[&str],
    o: &mut Out,
) {
    for k in args.keys() {
        let f = format!("{field}[\"{k}\"]");
        if k.trim().is_empty() || k.chars().any(char::is_whitespace) {
            o.err(
                f,
                format!("{label} key `{k}` is empty or contains spaces"),
                "Enter the flag name only, e.g. max-pods",
            );
        } else if k.starts_with('-') {
            o.err(
                f,
                format!("{label} key `{k}` starts with '-'"),
                format!(
                    "Write the flag without dashes: {}",
                    k.trim_start_matches('-')
                ),
            );
        } else if defaults.contains(&k.as_str()) {
            o.warn(
                f,
                format!("{label} key `{k}` overrides the platform's default"),
                "Remove it unless you need to change the default; a wrong value can make the cluster unusable",
            );
        }
    }
}

fn check_extended(form: &ClusterForm, o: &mut Out) {
    let e = &form.extended;
    let any_args = [
        &e.docker_args,
        &e.kubelet_args,
        &e.controller_manager_args,
        &e.scheduler_args,
        &e.apiserver_args,
    ]
    .iter()
    .any(|m| !m.is_empty());
    if any_args {
        o.info(
            "spec",
            "extended parameters cannot be changed after creation, and wrong values can make the cluster unusable",
            "Set only the parameters you need",
        );
    }
    check_args(
        "spec.dockerExtraArgs",
        "Docker parameter",
        &e.docker_args,
        &[],
        o,
    );
    check_args(
        "spec.kubeletExtraArgs",
        "kubelet parameter",
        &e.kubelet_args,
        &[],
        o,
    );
    check_args(
        "spec.controllerManagerExtraArgs",
        "controller-manager parameter",
        &e.controller_manager_args,
        &CONTROLLER_MANAGER_DEFAULTS,
        o,
    );
    check_args(
        "spec.schedulerExtraArgs",
        "scheduler parameter",
        &e.scheduler_args,
        &[],
        o,
    );
    check_args(
        "spec.apiServerExtraArgs",
        "APIServer parameter",
        &e.apiserver_args,
        &APISERVER_DEFAULTS,
        o,
    );
    if let Some(v) = e.kubelet_args.get(KUBELET_MAX_PODS) {
        let f = format!("spec.kubeletExtraArgs[\"{KUBELET_MAX_PODS}\"]");
        match v.trim().parse::<u32>() {
            Ok(n) if n > 0 => {
                if n != form.network.node_ip_count {
                    o.warn(
                        f.clone(),
                        format!(
                            "max-pods {n} overrides the default from the node IP count ({})",
                            form.network.node_ip_count
                        ),
                        "Remove it to use the node IP count, or keep it at 256 or less",
                    );
                }
                if n > RECOMMENDED_MAX_PODS {
                    o.warn(
                        f,
                        format!("max-pods {n} is above the recommended 256"),
                        "Use 256 or fewer",
                    );
                }
            }
            _ => o.err(
                f,
                format!("max-pods `{v}` is not a positive integer"),
                "Enter a positive whole number, e.g. 110",
            ),
        }
    }
    let mut seen = BTreeSet::new();
    for (k, url) in e.apiserver_urls.iter().enumerate() {
        let f = format!("spec.publicAlternativeNames[{k}]");
        let t = url.trim();
        if t.len() > MAX_APISERVER_URL {
            o.err(
                f,
                format!(
                    "APIServer URL has {} characters; at most 253 are allowed",
                    t.len()
                ),
                "Shorten it",
            );
        } else if !is_host(t) {
            o.err(
                f,
                format!("APIServer URL `{url}` is not an IP address or domain"),
                "Enter only an IP or a domain, without scheme or port, e.g. k8s.example.com",
            );
        } else if !seen.insert(t) {
            o.warn(
                f,
                format!("APIServer URL {t} is listed twice"),
                "Remove the duplicate",
            );
        }
    }
    let generated = form.generated_annotations();
    for (k, v) in &e.annotations {
        let f = annotation(k);
        if !is_qualified_name(k) {
            o.err(
                f,
                format!("annotation key `{k}` is not valid"),
                "Use an optional DNS prefix and a name of letters, digits, '-', '_' or '.', e.g. example.com/owner",
            );
            continue;
        }
        if let Some(g) = generated.get(k)
            && g != v
        {
            o.warn(
                f.clone(),
                format!("annotation `{k}` overrides the value the form sets (`{g}`)"),
                "Remove it to use the form's setting",
            );
        }
        check_known_annotation(k, v, f, o);
    }
}

/// Values of ACP's own annotation keys entered by hand.
fn check_known_annotation(k: &str, v: &str, field: String, o: &mut Out) {
    let bad = match k {
        ann::NETWORK_TYPE => !["kube-ovn", "ovn", "calico", "flannel", "custom"].contains(&v),
        ann::TRANSMIT_TYPE => v != "overlay" && v != "underlay",
        ann::VLAN_ID => !v.parse::<u32>().is_ok_and(|n| n <= 4095),
        ann::JOIN_CIDR => Cidrs::parse(v, true).is_err(),
        ann::GATEWAY => parse_ip(v).is_none(),
        ann::EXCLUDE_IPS => parse_ip_ranges(v).is_err(),
        _ => false,
    };
    if bad {
        o.err(
            field,
            format!("`{v}` is not a valid value for {k}"),
            "Remove the annotation and set the value through the form",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::{NodeForm, NodeType, ProxyForm, Secret, TransmitMode};

    fn node(ip: &str, role: NodeType) -> NodeForm {
        NodeForm {
            role,
            ip: ip.into(),
            password: Secret::new("pw"),
            ..NodeForm::default()
        }
    }

    /// A form that passes every rule with no error or warning.
    fn good() -> ClusterForm {
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

    fn problems(f: &ClusterForm) -> Vec<Finding> {
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
        Case { name: "unknown patch of a supported minor", edit: |f| f.basic.kubernetes_version = "1.31.99".into(), field: "spec.version", severity: Severity::Error, contains: "not a release the platform offers" },
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

    #[test]
    fn context_changes_the_verdict() {
        let mut f = good();
        f.basic.kubernetes_version = "1.32.7".into();
        let ctx = RuleContext {
            supported_versions: vec!["1.32.7".into()],
            ..RuleContext::default()
        };
        assert!(!check(&f, &ctx).iter().any(|x| x.field == "spec.version"));
        assert!(has_errors(&check(&f, &RuleContext::default())));

        f.basic.kubernetes_version = "1.30.14".into();
        f.basic.container_runtime = ContainerRuntime::Docker;
        let gate_on = RuleContext {
            cri_docker_enabled: Some(true),
            ..RuleContext::default()
        };
        assert!(problems_with(&f, &gate_on).is_empty());
        let gate_off = RuleContext {
            cri_docker_enabled: Some(false),
            ..RuleContext::default()
        };
        assert!(has_errors(&check(&f, &gate_off)));

        let mut f = good();
        f.node_settings.node_naming = NodeNaming::Hostname;
        let mut ctx = RuleContext::default();
        ctx.hostnames.insert("192.168.0.11".into(), "node-a".into());
        ctx.hostnames.insert("192.168.0.12".into(), "node-a".into());
        let found = check(&f, &ctx);
        assert!(found.iter().any(|x| x.severity == Severity::Error
            && x.field == "spec.hostnameAsNodename"
            && x.message.contains("node-a")));
        ctx.hostnames.insert("192.168.0.12".into(), "node-b".into());
        assert!(!has_errors(&check(&f, &ctx)));

        let mut f = good();
        f.basic.endpoint.self_built_vip = true;
        f.basic.endpoint.address = "192.168.1.100".into();
        let known = RuleContext {
            subnet_prefix_v4: Some(24),
            ..RuleContext::default()
        };
        assert!(has_errors(&check(&f, &known)));
        let wide = RuleContext {
            subnet_prefix_v4: Some(16),
            ..RuleContext::default()
        };
        assert!(problems_with(&f, &wide).is_empty());

        let mut f = good();
        let mut taken = RuleContext::default();
        taken
            .nodes_in_use
            .insert("192.168.0.21".into(), "qa-test".into());
        let found = check(&f, &taken);
        assert!(found.iter().any(|x| x.severity == Severity::Error
            && x.field == "spec.machines[3].ip"
            && x.message == "192.168.0.21 is already a node of cluster qa-test"));
        taken.nodes_in_use.clear();
        taken
            .nodes_in_use
            .insert("192.168.0.99".into(), "qa-test".into());
        assert!(!has_errors(&check(&f, &taken)));

        f.node_settings.monitoring.kind = MonitoringKind::VictoriaMetrics;
        f.node_settings.monitoring.vm_deploy = VmDeploy::AgentOnly;
        f.node_settings.monitoring.vm_instance = "vm-east".into();
        let listed = RuleContext {
            vm_instances: Some(vec!["vm-west".into()]),
            ..RuleContext::default()
        };
        assert!(has_errors(&check(&f, &listed)));
        assert!(!has_errors(&check(&f, &RuleContext::default())));
    }

    fn problems_with(f: &ClusterForm, ctx: &RuleContext) -> Vec<Finding> {
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
        f.node_settings.nodes[0].private_key = Secret::new(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n",
        );
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
    fn check_cluster_adds_resource_only_rules() {
        let good_cluster = good().to_cluster();
        let clean: Vec<_> = check_cluster(&good_cluster, &RuleContext::default())
            .into_iter()
            .filter(|x| x.severity != Severity::Info)
            .collect();
        assert!(clean.is_empty(), "{clean:#?}");

        let mut c = good_cluster.clone();
        c.spec.type_ = "Imported".into();
        c.spec.machines[0].role = Some("etcd".into());
        c.spec.machines[0].password = Some("***".into());
        c.spec.machines[1].port = 70000;
        c.spec.properties.max_cluster_service_num = Some(256);
        c.spec.features.ha.get_or_insert_default().tke = Some(Default::default());
        c.spec.machines[2].proxy = Some(crate::domain::cluster::MachineProxy {
            type_: "HTTP".into(),
            address: "10.0.0.1:3128".into(),
            ..Default::default()
        });
        let found = check_cluster(&c, &RuleContext::default());
        for field in [
            "spec.type",
            "spec.machines[0].role",
            "spec.machines[0].password",
            "spec.machines[1].port",
            "spec.properties.maxClusterServiceNum",
            "spec.features.ha",
            "spec.machines[2].proxy.type",
        ] {
            assert!(
                found
                    .iter()
                    .any(|x| x.field == field && x.severity == Severity::Error),
                "no error at {field}: {found:#?}"
            );
        }

        let ports: Vec<_> = found
            .iter()
            .filter(|x| x.field == "spec.machines[1].port")
            .collect();
        assert_eq!(ports.len(), 1, "one finding for one bad port: {ports:#?}");
        assert!(ports[0].message.contains("70000"), "{ports:#?}");

        let mut no_cni = good_cluster.clone();
        no_cni
            .metadata
            .annotations
            .get_or_insert_default()
            .remove(ann::NETWORK_TYPE);
        assert!(
            check_cluster(&no_cni, &RuleContext::default())
                .iter()
                .any(|x| x.severity == Severity::Warning
                    && x.field == annotation(ann::NETWORK_TYPE)
                    && x.message.contains("checked as Kube-OVN"))
        );

        let mut c = good_cluster;
        c.spec.service_cidr = None;
        c.spec.features.ipvs = Some(true);
        let found = check_cluster(&c, &RuleContext::default());
        assert!(found.iter().any(|x| x.field == "spec.features.ipvs"));
    }

    #[test]
    fn platform_version_list() {
        let ctx = RuleContext::default()
            .with_platform_versions(r#"["1.30.4", " 1.31.2 ", ""]"#)
            .expect("list parses");
        assert_eq!(ctx.supported_versions, vec!["1.30.4", "1.31.2"]);
        assert!(RuleContext::default().with_platform_versions("[]").is_err());
        assert!(
            RuleContext::default()
                .with_platform_versions("1.30")
                .is_err()
        );
        let mut f = good();
        f.basic.kubernetes_version = "1.30.5".into();
        assert!(check(&f, &ctx).iter().any(|x| x.field == "spec.version"));
    }

    #[test]
    fn version_matching() {
        let list: Vec<String> = DEFAULT_SUPPORTED_VERSIONS
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(version_supported("1.28.13", &list));
        assert!(version_supported(" 1.31.9 ", &list));
        // Only the exact releases: the platform compares the string with its list.
        for v in [
            "1.31",
            "1.31.99",
            "v1.31.9",
            "1.31.9-1",
            "1.280.1",
            "1.27.16-1",
        ] {
            assert!(!version_supported(v, &list), "{v}");
        }
        assert!(version_supported("1.27.16-1", &["1.27.16-1".into()]));
        assert_eq!(minor_version("1.24.0"), Some((1, 24)));
        assert_eq!(minor_version("x"), None);
        // Every default is a full release, so choosing one can never be refused as a minor.
        for v in DEFAULT_SUPPORTED_VERSIONS {
            assert_eq!(v.split('.').count(), 3, "{v}");
        }
    }

    #[test]
    fn cidr_hints_suggest_each_cidr_its_own_default() {
        let mut f = good();
        f.network.kube_ovn.join_cidr.clear();
        f.network.service_cidr.clear();
        let found = check(&f, &RuleContext::default());
        let hint = |field: &str| {
            found
                .iter()
                .find(|x| x.field == field)
                .map(|x| x.hint.clone())
                .unwrap_or_default()
        };
        assert!(hint(&annotation(ann::JOIN_CIDR)).ends_with("100.64.0.0/16"));
        assert!(hint("spec.serviceCIDR").ends_with("10.4.0.0/16"));
        let vip: Vec<_> = {
            let mut f = good();
            f.basic.endpoint.self_built_vip = true;
            f.basic.endpoint.address = "192.168.1.100".into();
            check(&f, &RuleContext::default())
                .into_iter()
                .filter(|x| x.field == "spec.features.ha.tke.vip")
                .collect()
        };
        assert_eq!(vip.len(), 1, "{vip:#?}");
    }

    #[test]
    fn version_findings_name_the_release_to_choose() {
        let mut f = good();
        f.basic.kubernetes_version = "1.31.99".into();
        let found = check(&f, &RuleContext::default());
        let v = found.iter().find(|x| x.field == "spec.version").unwrap();
        assert!(v.hint.starts_with("Choose 1.31.9"), "{v:?}");
        f.basic.kubernetes_version = "1.31".into();
        let found = check(&f, &RuleContext::default());
        let v = found.iter().find(|x| x.field == "spec.version").unwrap();
        assert_eq!(v.hint, "Choose the full release: 1.31.9");
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

    const EXAMPLE: &str = r#"
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

    #[test]
    fn documented_example_validates() {
        let c = crate::domain::form::from_yaml(EXAMPLE).expect("example imports");
        let found = check_cluster(&c, &RuleContext::default());
        assert!(!has_errors(&found), "{found:#?}");
        // Nothing is said about monitoring, so nothing is reported about it.
        let warnings: Vec<_> = found
            .iter()
            .filter(|x| x.severity == Severity::Warning)
            .collect();
        assert!(warnings.is_empty(), "{warnings:#?}");
        let mut with_monitoring = c.clone();
        with_monitoring
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(ANN_MONITORING_TYPE.into(), "prometheus".into());
        assert!(
            check_cluster(&with_monitoring, &RuleContext::default())
                .iter()
                .any(|x| x.field == "form.monitoring.nodes")
        );

        let broken = EXAMPLE
            .replace("vrid: 137", "vrid: 0")
            .replace("192.168.0.21", "192.168.0.11");
        let c = crate::domain::form::from_yaml(&broken).expect("still YAML");
        let found = check_cluster(&c, &RuleContext::default());
        for field in ["spec.features.ha.tke.vrid", "spec.machines[1].ip"] {
            assert!(
                found
                    .iter()
                    .any(|x| x.field == field && x.severity == Severity::Error),
                "no error at {field}: {found:#?}"
            );
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
        }
    }
}
