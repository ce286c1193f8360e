//! The create-cluster wizard's model, [`ClusterForm`], and its pure mapping to and from the
//! `Cluster` resource, plus YAML import and export.
//!
//! The form follows ACP's "Create Cluster" page section by section (Basic Info, Container
//! Network, Node Settings, Extended Parameters) with the page's defaults.
//!
//! Mapping rules worth knowing:
//! * Secrets live in [`Secret`] (zeroized on drop, never `Debug`-printed, never serialized);
//!   the resource carries them base64-encoded.
//! * ACP reads the CNI, runtime and Kube-OVN settings from cluster annotations, so the form
//!   generates those annotations. As the docs say for extended parameters, a key the user
//!   enters that duplicates a generated one overrides it (the rules warn about that). The
//!   same holds for the kubelet `max-pods` generated from "Node IP Count".
//! * Application Deployable on a control-plane node is the absence of the
//!   `node-role.kubernetes.io/master:NoSchedule` taint, as ACP's installer writes it.
//! * ACP's public docs do not say where the page keeps "External Access" and the monitoring
//!   choice; the form keeps them in annotations under [`COCKPIT_PREFIX`] so they survive an
//!   export and re-import.
//! * [`ClusterForm::from_cluster`] keeps everything the form does not model in
//!   [`ClusterForm::base`], so importing and exporting again loses nothing.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::domain::cluster::{
    CLUSTER_TYPE_BAREMETAL, Cluster, ClusterMachine, ClusterSpec, Ha, MachineProxy, PROXY_SOCKS5,
    ROLE_MASTER, ROLE_NODE, Taint, ThirdPartyHa, TkeHa, annotations as ann,
};
use crate::domain::draft::{NodeDraft, ProxyDraft};
pub use crate::domain::draft::{NodeType, SshAuth};

/// Prefix of the annotations this program writes for form fields ACP keeps elsewhere.
pub const COCKPIT_PREFIX: &str = "acp-cockpit.io/";
/// "External Access" address of the workload cluster.
pub const ANN_EXTERNAL_ACCESS: &str = "acp-cockpit.io/external-access";
/// `prometheus` or `victoriametrics`.
pub const ANN_MONITORING_TYPE: &str = "acp-cockpit.io/monitoring-type";
/// VictoriaMetrics deploy type: `full` or `agent`.
pub const ANN_MONITORING_DEPLOY: &str = "acp-cockpit.io/monitoring-deploy";
/// The existing VictoriaMetrics instance an agent-only deployment reports to.
pub const ANN_MONITORING_INSTANCE: &str = "acp-cockpit.io/monitoring-instance";
/// Comma-separated node IPs for the monitoring components.
pub const ANN_MONITORING_NODES: &str = "acp-cockpit.io/monitoring-nodes";
/// Where cluster images come from: `builtin`, `private` or `public`.
pub const ANN_IMAGE_REGISTRY: &str = "acp-cockpit.io/image-registry";
/// The private registry's address.
pub const ANN_IMAGE_REGISTRY_ADDRESS: &str = "acp-cockpit.io/image-registry-address";

/// Taint ACP's installer puts on control-plane nodes that must not run applications.
pub const MASTER_TAINT_KEY: &str = "node-role.kubernetes.io/master";
/// kubelet flag generated from "Node IP Count".
pub const KUBELET_MAX_PODS: &str = "max-pods";

/// Default VRID for a self-built VIP (ACP's installer and Terraform modules).
pub const DEFAULT_VRID: u32 = 137;
/// Port an external load balancer forwards to kube-apiserver.
pub const DEFAULT_LB_PORT: u16 = 6443;
pub const DEFAULT_CLUSTER_CIDR_V4: &str = "10.3.0.0/16";
pub const DEFAULT_SERVICE_CIDR_V4: &str = "10.4.0.0/16";
pub const DEFAULT_JOIN_CIDR_V4: &str = "100.64.0.0/16";
pub const DEFAULT_CLUSTER_CIDR_V6: &str = "fd00:10:16::/64";
pub const DEFAULT_SERVICE_CIDR_V6: &str = "fd00:10:96::/112";
pub const DEFAULT_JOIN_CIDR_V6: &str = "fd00:100:64::/64";
/// Default "Node IP Count" (pod IPs per node, and kubelet `max-pods`).
pub const DEFAULT_NODE_IP_COUNT: u32 = 256;

/// A secret typed into the form: wiped from memory on drop, shown as `<redacted>` by `Debug`.
/// It implements neither `Serialize` nor `Deserialize`, so no draft or log can carry it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(Zeroizing::new(s.into()))
    }

    /// The secret text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn to_base64(&self) -> Option<String> {
        (!self.is_empty()).then(|| B64.encode(self.0.as_bytes()))
    }

    /// Decodes a base64 field; text that is not base64 of UTF-8 gives an empty secret (the
    /// rules report such fields on the resource).
    fn from_base64(b64: Option<&str>) -> Self {
        b64.and_then(|s| B64.decode(s.trim()).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Self::new)
            .unwrap_or_default()
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ContainerRuntime {
    #[default]
    Containerd,
    Docker,
}

impl ContainerRuntime {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Containerd => "containerd",
            Self::Docker => "docker",
        }
    }
}

/// "Cluster Network Protocol"; cannot be changed after creation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IpStack {
    #[default]
    Ipv4,
    Ipv6,
    DualStack,
}

/// "Cluster Endpoint".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct EndpointForm {
    /// "IP Address / Domain": the load balancer's VIP or a domain resolving to it; with
    /// `self_built_vip`, the VIP keepalived will hold.
    pub address: String,
    /// "Self-Built VIP": keepalived on the control-plane nodes. Off by default.
    pub self_built_vip: bool,
    /// VRRP router id, 1-255, unique in the subnet.
    pub vrid: u32,
    /// Port of an external load balancer (always 6443 on ACP's page).
    pub lb_port: u16,
}

impl Default for EndpointForm {
    fn default() -> Self {
        Self {
            address: String::new(),
            self_built_vip: false,
            vrid: DEFAULT_VRID,
            lb_port: DEFAULT_LB_PORT,
        }
    }
}

/// "Basic Info".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct BasicInfo {
    /// Cluster name (`metadata.name`).
    pub name: String,
    pub display_name: String,
    pub kubernetes_version: String,
    pub container_runtime: ContainerRuntime,
    /// Runtime package version, e.g. `1.6.28-4`; empty lets the platform choose.
    pub runtime_version: String,
    pub ip_stack: IpStack,
    pub endpoint: EndpointForm,
    /// "External Access": the address `global` uses when the cluster is on another network.
    pub external_access: String,
    /// `cpaas.io/platform-url`: `global`'s address as seen from this cluster.
    pub platform_url: String,
    /// Where the cluster's images come from.
    pub image_registry: ImageRegistry,
    /// Private registry only: `host[:port]`.
    pub private_registry: String,
}

/// The cluster's image registry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ImageRegistry {
    /// The registry of the `global` cluster.
    #[default]
    PlatformBuiltIn,
    /// The user's own registry, holding the platform's images.
    Private,
    /// The platform's registry on the internet (needs its credentials updated first).
    Public,
}

impl ImageRegistry {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlatformBuiltIn => "builtin",
            Self::Private => "private",
            Self::Public => "public",
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Cni {
    #[default]
    KubeOvn,
    Calico,
    Flannel,
    /// No CNI installed; the user installs one after creation.
    Custom,
}

impl Cni {
    /// Value of `cpaas.io/network-type`. The custom mode's value is not documented publicly.
    pub fn annotation_value(self) -> &'static str {
        match self {
            Self::KubeOvn => "kube-ovn",
            Self::Calico => "calico",
            Self::Flannel => "flannel",
            Self::Custom => "custom",
        }
    }

    fn from_annotation(v: &str) -> Option<Self> {
        match v {
            "kube-ovn" | "ovn" => Some(Self::KubeOvn),
            "calico" => Some(Self::Calico),
            "flannel" => Some(Self::Flannel),
            "custom" => Some(Self::Custom),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TransmitMode {
    #[default]
    Overlay,
    Underlay,
}

impl TransmitMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overlay => "overlay",
            Self::Underlay => "underlay",
        }
    }
}

/// Kube-OVN's own fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KubeOvnForm {
    pub transmit: TransmitMode,
    /// Overlay only: node-to-pod range; `v4` or `v4,v6`.
    pub join_cidr: String,
    /// Underlay only: the physical gateway, inside the cluster CIDR.
    pub gateway: String,
    /// Underlay only: 0-4095.
    pub vlan_id: u32,
    /// Underlay only: addresses never allocated, e.g. `10.3.0.1,10.3.0.10..10.3.0.20`.
    pub reserved_ips: String,
}

impl Default for KubeOvnForm {
    fn default() -> Self {
        Self {
            transmit: TransmitMode::Overlay,
            join_cidr: DEFAULT_JOIN_CIDR_V4.into(),
            gateway: String::new(),
            vlan_id: 0,
            reserved_ips: String::new(),
        }
    }
}

/// "Container Network".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NetworkForm {
    pub cni: Cni,
    /// "Subnet" / "Default Subnet" / "Cluster CIDR": `v4`, `v6` or `v4,v6`.
    pub cluster_cidr: String,
    pub service_cidr: String,
    /// "Node IP Count": pod IPs per node; also the default kubelet `max-pods`.
    pub node_ip_count: u32,
    pub kube_ovn: KubeOvnForm,
}

impl Default for NetworkForm {
    fn default() -> Self {
        Self {
            cni: Cni::KubeOvn,
            cluster_cidr: DEFAULT_CLUSTER_CIDR_V4.into(),
            service_cidr: DEFAULT_SERVICE_CIDR_V4.into(),
            node_ip_count: DEFAULT_NODE_IP_COUNT,
            kube_ovn: KubeOvnForm::default(),
        }
    }
}

impl NetworkForm {
    /// Replaces the three CIDRs with ACP's defaults for `stack` (see [`Self::adapt_cidrs`] for
    /// a protocol change that keeps what the user entered).
    pub fn reset_cidrs(&mut self, stack: IpStack) {
        let (c, s, j) = match stack {
            IpStack::Ipv4 => (
                DEFAULT_CLUSTER_CIDR_V4.to_string(),
                DEFAULT_SERVICE_CIDR_V4.to_string(),
                DEFAULT_JOIN_CIDR_V4.to_string(),
            ),
            IpStack::Ipv6 => (
                DEFAULT_CLUSTER_CIDR_V6.to_string(),
                DEFAULT_SERVICE_CIDR_V6.to_string(),
                DEFAULT_JOIN_CIDR_V6.to_string(),
            ),
            IpStack::DualStack => (
                format!("{DEFAULT_CLUSTER_CIDR_V4},{DEFAULT_CLUSTER_CIDR_V6}"),
                format!("{DEFAULT_SERVICE_CIDR_V4},{DEFAULT_SERVICE_CIDR_V6}"),
                format!("{DEFAULT_JOIN_CIDR_V4},{DEFAULT_JOIN_CIDR_V6}"),
            ),
        };
        self.cluster_cidr = c;
        self.service_cidr = s;
        self.kube_ovn.join_cidr = j;
    }

    /// Fits the three CIDRs to a new network protocol, keeping every CIDR the user entered
    /// of a family the protocol still uses and filling the missing family with ACP's
    /// default (IPv4 to dual stack keeps the IPv4 ranges and adds the IPv6 defaults).
    /// Returns whether anything other than a default was kept.
    pub fn adapt_cidrs(&mut self, stack: IpStack) -> bool {
        let fit = |text: &str, v4d: &str, v6d: &str| -> (String, bool) {
            let parts: Vec<&str> = text
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect();
            let v4 = parts.iter().find(|p| !p.contains(':')).copied();
            let v6 = parts.iter().find(|p| p.contains(':')).copied();
            let kept = |p: Option<&str>, d: &str| p.is_some_and(|p| p != d);
            match stack {
                IpStack::Ipv4 => (v4.unwrap_or(v4d).to_string(), kept(v4, v4d)),
                IpStack::Ipv6 => (v6.unwrap_or(v6d).to_string(), kept(v6, v6d)),
                IpStack::DualStack => (
                    format!("{},{}", v4.unwrap_or(v4d), v6.unwrap_or(v6d)),
                    kept(v4, v4d) || kept(v6, v6d),
                ),
            }
        };
        let (c, kc) = fit(
            &self.cluster_cidr,
            DEFAULT_CLUSTER_CIDR_V4,
            DEFAULT_CLUSTER_CIDR_V6,
        );
        let (s, ks) = fit(
            &self.service_cidr,
            DEFAULT_SERVICE_CIDR_V4,
            DEFAULT_SERVICE_CIDR_V6,
        );
        let (j, kj) = fit(
            &self.kube_ovn.join_cidr,
            DEFAULT_JOIN_CIDR_V4,
            DEFAULT_JOIN_CIDR_V6,
        );
        self.cluster_cidr = c;
        self.service_cidr = s;
        self.kube_ovn.join_cidr = j;
        kc || ks || kj
    }
}

/// The node's SOCKS5 proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProxyForm {
    pub enabled: bool,
    /// "Access URL": `host:port`, e.g. `192.168.1.1:1080`.
    pub address: String,
    pub username: String,
    #[serde(skip)]
    pub password: Secret,
}

/// One node, with every parameter of ACP's "Add Node" dialog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeForm {
    pub role: NodeType,
    /// "IPv4 Address" (the node's IPv6 address in an IPv6 single-stack cluster).
    pub ip: String,
    /// Dual stack only.
    pub ipv6: String,
    /// Control-plane nodes only: may business pods run here.
    pub app_deployable: bool,
    pub display_name: String,
    /// "SSH Connection IP": only when `ssh user@ip` does not reach the node.
    pub ssh_ip: String,
    /// Node NIC, overriding the cluster NIC.
    pub nic: String,
    /// "Associated Bridge Network": not supported at creation; kept for adding nodes later.
    pub bridge_network: String,
    pub ssh_port: u16,
    pub ssh_username: String,
    pub proxy: ProxyForm,
    pub auth: SshAuth,
    /// Where the private key is read from; the key text itself goes in `private_key`.
    pub key_path: String,
    #[serde(skip)]
    pub password: Secret,
    /// PEM text of the private key.
    #[serde(skip)]
    pub private_key: Secret,
    #[serde(skip)]
    pub passphrase: Secret,
    pub labels: BTreeMap<String, String>,
    /// Taints besides the one Application Deployable controls.
    pub taints: Vec<Taint>,
    pub annotations: BTreeMap<String, String>,
    /// Machine fields this version does not model, kept from an import.
    pub extra: BTreeMap<String, Value>,
}

impl Default for NodeForm {
    fn default() -> Self {
        Self {
            role: NodeType::ControlPlane,
            ip: String::new(),
            ipv6: String::new(),
            app_deployable: false,
            display_name: String::new(),
            ssh_ip: String::new(),
            nic: String::new(),
            bridge_network: String::new(),
            ssh_port: 22,
            ssh_username: "root".into(),
            proxy: ProxyForm::default(),
            auth: SshAuth::Password,
            key_path: String::new(),
            password: Secret::default(),
            private_key: Secret::default(),
            passphrase: Secret::default(),
            labels: BTreeMap::new(),
            taints: Vec::new(),
            annotations: BTreeMap::new(),
            extra: BTreeMap::new(),
        }
    }
}

impl NodeForm {
    pub fn is_control_plane(&self) -> bool {
        self.role == NodeType::ControlPlane
    }

    /// Whether business pods may run on this node (workers always, control plane if allowed).
    pub fn allows_applications(&self) -> bool {
        !self.is_control_plane() || self.app_deployable
    }

    /// A node restored from a draft; its secrets must be asked for again.
    pub fn from_draft(d: &NodeDraft) -> Self {
        Self {
            role: d.node_type,
            ip: d.ipv4.clone(),
            ipv6: d.ipv6.clone(),
            app_deployable: d.app_deployable,
            display_name: d.display_name.clone(),
            ssh_ip: d.ssh_ip.clone(),
            nic: d.nic.clone(),
            bridge_network: d.bridge_network.clone(),
            ssh_port: d.ssh_port,
            ssh_username: d.ssh_user.clone(),
            proxy: ProxyForm {
                enabled: d.proxy.enabled,
                address: d.proxy.address.clone(),
                username: d.proxy.username.clone(),
                password: Secret::default(),
            },
            auth: d.auth,
            key_path: d.key_path.clone(),
            ..Self::default()
        }
    }

    /// The draft of this node: every dialog field except secrets.
    pub fn to_draft(&self) -> NodeDraft {
        NodeDraft {
            node_type: self.role,
            ipv4: self.ip.clone(),
            ipv6: self.ipv6.clone(),
            app_deployable: self.app_deployable,
            display_name: self.display_name.clone(),
            ssh_ip: self.ssh_ip.clone(),
            nic: self.nic.clone(),
            bridge_network: self.bridge_network.clone(),
            ssh_port: self.ssh_port,
            ssh_user: self.ssh_username.clone(),
            proxy: ProxyDraft {
                enabled: self.proxy.enabled,
                address: self.proxy.address.clone(),
                username: self.proxy.username.clone(),
            },
            auth: self.auth,
            key_path: self.key_path.clone(),
        }
    }

    fn to_machine(&self) -> ClusterMachine {
        let mut taints = self.taints.clone();
        if self.is_control_plane() && !self.app_deployable && !taints.iter().any(is_master_taint) {
            taints.push(master_taint());
        }
        let (password, private_key, pass_phrase) = match self.auth {
            SshAuth::Password => (self.password.to_base64(), None, None),
            SshAuth::Key => (
                None,
                self.private_key.to_base64(),
                self.passphrase.to_base64(),
            ),
        };
        ClusterMachine {
            ip: self.ip.clone(),
            port: i32::from(self.ssh_port),
            username: self.ssh_username.clone(),
            password,
            private_key,
            pass_phrase,
            labels: self.labels.clone(),
            taints,
            role: Some(
                match self.role {
                    NodeType::ControlPlane => ROLE_MASTER,
                    NodeType::Worker => ROLE_NODE,
                }
                .into(),
            ),
            display_name: non_empty(&self.display_name),
            ipv6: non_empty(&self.ipv6),
            public_ip: non_empty(&self.ssh_ip),
            network_device: non_empty(&self.nic),
            annotations: self.annotations.clone(),
            proxy: self.proxy.enabled.then(|| MachineProxy {
                type_: PROXY_SOCKS5.into(),
                address: self.proxy.address.clone(),
                username: non_empty(&self.proxy.username),
                password: self.proxy.password.to_base64(),
            }),
            extra: self.extra.clone(),
        }
    }

    fn from_machine(m: &ClusterMachine) -> Self {
        let role = if m.is_worker() {
            NodeType::Worker
        } else {
            NodeType::ControlPlane
        };
        let mut taints = m.taints.clone();
        let mut app_deployable = false;
        if role == NodeType::ControlPlane {
            let before = taints.len();
            taints.retain(|t| !is_master_taint(t));
            app_deployable = taints.len() == before;
        }
        let auth = if m.password.is_none() && (m.private_key.is_some() || m.pass_phrase.is_some()) {
            SshAuth::Key
        } else {
            SshAuth::Password
        };
        Self {
            role,
            ip: m.ip.clone(),
            ipv6: m.ipv6.clone().unwrap_or_default(),
            app_deployable,
            display_name: m.display_name.clone().unwrap_or_default(),
            ssh_ip: m.public_ip.clone().unwrap_or_default(),
            nic: m.network_device.clone().unwrap_or_default(),
            bridge_network: String::new(),
            ssh_port: u16::try_from(m.port).unwrap_or(0),
            ssh_username: m.username.clone(),
            proxy: m
                .proxy
                .as_ref()
                .map(|p| ProxyForm {
                    enabled: true,
                    address: p.address.clone(),
                    username: p.username.clone().unwrap_or_default(),
                    password: Secret::from_base64(p.password.as_deref()),
                })
                .unwrap_or_default(),
            auth,
            key_path: String::new(),
            password: Secret::from_base64(m.password.as_deref()),
            private_key: Secret::from_base64(m.private_key.as_deref()),
            passphrase: Secret::from_base64(m.pass_phrase.as_deref()),
            labels: m.labels.clone(),
            taints,
            annotations: m.annotations.clone(),
            extra: m.extra.clone(),
        }
    }
}

fn master_taint() -> Taint {
    Taint {
        key: MASTER_TAINT_KEY.into(),
        value: None,
        effect: "NoSchedule".into(),
        time_added: None,
    }
}

fn is_master_taint(t: &Taint) -> bool {
    *t == master_taint()
}

/// "Node Name": what the platform calls each node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeNaming {
    #[default]
    Ip,
    /// Hostnames must then be unique.
    Hostname,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum MonitoringKind {
    #[default]
    Prometheus,
    VictoriaMetrics,
}

/// VictoriaMetrics "Deploy Type".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum VmDeploy {
    /// VMStorage, VMAlert, VMAgent, ...
    #[default]
    Full,
    /// VMAgent only, reporting to an instance on another cluster.
    AgentOnly,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MonitoringForm {
    pub kind: MonitoringKind,
    pub vm_deploy: VmDeploy,
    /// Agent only: the VictoriaMetrics instance (on another cluster) to report to.
    pub vm_instance: String,
    /// "Monitoring Nodes": node IPs; workers or application-deployable control-plane nodes.
    pub nodes: Vec<String>,
}

/// "Node Settings".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct NodeSettings {
    /// Cluster NIC used by the network plugin (`spec.networkDevice`); required for underlay.
    pub nic: String,
    pub node_naming: NodeNaming,
    pub nodes: Vec<NodeForm>,
    pub monitoring: MonitoringForm,
}

/// "Extended Parameters". Keys are flag names without `--`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ExtendedParams {
    /// Written to `/etc/sysconfig/docker`; Docker runtime only.
    pub docker_args: BTreeMap<String, String>,
    pub kubelet_args: BTreeMap<String, String>,
    pub controller_manager_args: BTreeMap<String, String>,
    pub scheduler_args: BTreeMap<String, String>,
    pub apiserver_args: BTreeMap<String, String>,
    /// "APIServer URL": extra certificate SANs, IPs or domains.
    pub apiserver_urls: Vec<String>,
    /// "Cluster Annotations".
    pub annotations: BTreeMap<String, String>,
}

/// The whole create-cluster page.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClusterForm {
    pub basic: BasicInfo,
    pub network: NetworkForm,
    pub node_settings: NodeSettings,
    pub extended: ExtendedParams,
    /// What an imported resource holds beyond the form, without what the server fills in
    /// (uid, resourceVersion, status, clusterCredentialRef, ...) and without machines, hence
    /// without secrets; [`ClusterForm::to_cluster`] starts from it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<Box<Cluster>>,
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Infers single-stack family from the cluster CIDR's first entry.
fn stack_of_cidr(cidr: &str) -> IpStack {
    if cidr.split(',').next().is_some_and(|s| s.contains(':')) {
        IpStack::Ipv6
    } else {
        IpStack::Ipv4
    }
}

impl ClusterForm {
    /// A new page with ACP's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    pub fn nodes(&self) -> &[NodeForm] {
        &self.node_settings.nodes
    }

    pub fn is_dual_stack(&self) -> bool {
        self.basic.ip_stack == IpStack::DualStack
    }

    /// Kube-OVN in overlay mode (the only mode with a join CIDR).
    pub fn is_kube_ovn_overlay(&self) -> bool {
        self.network.cni == Cni::KubeOvn && self.network.kube_ovn.transmit == TransmitMode::Overlay
    }

    pub fn is_kube_ovn_underlay(&self) -> bool {
        self.network.cni == Cni::KubeOvn && self.network.kube_ovn.transmit == TransmitMode::Underlay
    }

    /// The annotations the form generates; a user annotation with the same key wins.
    pub fn generated_annotations(&self) -> BTreeMap<String, String> {
        let mut a = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            a.insert(k.to_string(), v);
        };
        let b = &self.basic;
        let runtime = if b.runtime_version.is_empty() {
            b.container_runtime.as_str().to_string()
        } else {
            format!("{}://{}", b.container_runtime.as_str(), b.runtime_version)
        };
        put(ann::CONTAINER_RUNTIME, runtime);
        put(
            ann::NETWORK_TYPE,
            self.network.cni.annotation_value().into(),
        );
        if self.network.cni == Cni::KubeOvn {
            let k = &self.network.kube_ovn;
            put(ann::TRANSMIT_TYPE, k.transmit.as_str().into());
            match k.transmit {
                TransmitMode::Overlay => {
                    if !k.join_cidr.is_empty() {
                        put(ann::JOIN_CIDR, k.join_cidr.clone());
                    }
                }
                TransmitMode::Underlay => {
                    if !self.node_settings.nic.is_empty() {
                        put(
                            ann::PROVIDER_NETWORK_INTERFACE,
                            self.node_settings.nic.clone(),
                        );
                    }
                    put(ann::VLAN_ID, k.vlan_id.to_string());
                    if !k.gateway.is_empty() {
                        put(ann::GATEWAY, k.gateway.clone());
                    }
                    if !k.reserved_ips.is_empty() {
                        put(ann::EXCLUDE_IPS, k.reserved_ips.clone());
                    }
                }
            }
        }
        if !b.platform_url.is_empty() {
            put(ann::PLATFORM_URL, b.platform_url.clone());
        }
        if !b.external_access.is_empty() {
            put(ANN_EXTERNAL_ACCESS, b.external_access.clone());
        }
        put(ANN_IMAGE_REGISTRY, b.image_registry.as_str().into());
        if b.image_registry == ImageRegistry::Private && !b.private_registry.is_empty() {
            put(ANN_IMAGE_REGISTRY_ADDRESS, b.private_registry.clone());
        }
        let m = &self.node_settings.monitoring;
        match m.kind {
            MonitoringKind::Prometheus => put(ANN_MONITORING_TYPE, "prometheus".into()),
            MonitoringKind::VictoriaMetrics => {
                put(ANN_MONITORING_TYPE, "victoriametrics".into());
                match m.vm_deploy {
                    VmDeploy::Full => put(ANN_MONITORING_DEPLOY, "full".into()),
                    VmDeploy::AgentOnly => {
                        put(ANN_MONITORING_DEPLOY, "agent".into());
                        if !m.vm_instance.is_empty() {
                            put(ANN_MONITORING_INSTANCE, m.vm_instance.clone());
                        }
                    }
                }
            }
        }
        if !m.nodes.is_empty() {
            put(ANN_MONITORING_NODES, m.nodes.join(","));
        }
        a
    }

    /// The kubelet args the form generates (`max-pods` from Node IP Count).
    pub fn generated_kubelet_args(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(
            KUBELET_MAX_PODS.to_string(),
            self.node_ip_count_i32().to_string(),
        )])
    }

    /// Node IP Count as the resource's `int32` holds it.
    fn node_ip_count_i32(&self) -> i32 {
        i32::try_from(self.network.node_ip_count).unwrap_or(i32::MAX)
    }

    /// The resource to create. Secrets are base64-encoded into it.
    pub fn to_cluster(&self) -> Cluster {
        let mut c = self
            .base
            .as_deref()
            .cloned()
            .unwrap_or_else(|| Cluster::new("", ClusterSpec::default()));
        let b = &self.basic;
        c.metadata.name = Some(b.name.clone());

        let mut annotations = self.extended.annotations.clone();
        for (k, v) in self.generated_annotations() {
            annotations.entry(k).or_insert(v);
        }
        c.metadata.annotations = (!annotations.is_empty()).then_some(annotations);

        let s = &mut c.spec;
        s.type_ = CLUSTER_TYPE_BAREMETAL.into();
        s.display_name = non_empty(&b.display_name);
        s.version = b.kubernetes_version.clone();
        s.cluster_cidr = non_empty(&self.network.cluster_cidr);
        s.service_cidr = non_empty(&self.network.service_cidr);
        s.network_device = non_empty(&self.node_settings.nic);
        s.hostname_as_nodename = Some(self.node_settings.node_naming == NodeNaming::Hostname);
        s.public_alternative_names = self.extended.apiserver_urls.clone();

        s.features.ipv6_dual_stack = Some(self.is_dual_stack());
        s.features.enable_master_schedule = Some(
            self.nodes()
                .iter()
                .any(|n| n.is_control_plane() && n.app_deployable),
        );
        s.features.ha = if b.endpoint.self_built_vip {
            Some(Ha {
                tke: Some(TkeHa {
                    vip: b.endpoint.address.clone(),
                    vrid: Some(i32::try_from(b.endpoint.vrid).unwrap_or(i32::MAX)),
                }),
                third_party: None,
            })
        } else if b.endpoint.address.trim().is_empty() {
            None
        } else {
            Some(Ha {
                tke: None,
                third_party: Some(ThirdPartyHa {
                    vip: b.endpoint.address.clone(),
                    vport: i32::from(b.endpoint.lb_port),
                }),
            })
        };
        s.properties.max_node_pod_num = Some(self.node_ip_count_i32());

        let e = &self.extended;
        s.docker_extra_args = e.docker_args.clone();
        s.kubelet_extra_args = e.kubelet_args.clone();
        for (k, v) in self.generated_kubelet_args() {
            s.kubelet_extra_args.entry(k).or_insert(v);
        }
        s.controller_manager_extra_args = e.controller_manager_args.clone();
        s.scheduler_extra_args = e.scheduler_args.clone();
        s.api_server_extra_args = e.apiserver_args.clone();
        s.machines = self.nodes().iter().map(NodeForm::to_machine).collect();
        c
    }

    /// The form for an existing resource (an imported YAML or a cluster on the platform).
    /// Everything the form holds comes back exactly as [`ClusterForm::to_cluster`] wrote it;
    /// everything else is kept in [`ClusterForm::base`].
    pub fn from_cluster(c: &Cluster) -> Self {
        let s = &c.spec;
        let mut user_ann = c.metadata.annotations.clone().unwrap_or_default();
        let get = |k: &str| user_ann.get(k).cloned();

        let (container_runtime, runtime_version) = match get(ann::CONTAINER_RUNTIME) {
            Some(v) => {
                let (rt, ver) = v.split_once("://").unwrap_or((v.as_str(), ""));
                match rt {
                    "docker" => (ContainerRuntime::Docker, ver.to_string()),
                    _ => (ContainerRuntime::Containerd, ver.to_string()),
                }
            }
            None => (ContainerRuntime::Containerd, String::new()),
        };
        let cluster_cidr = s.cluster_cidr.clone().unwrap_or_default();
        let ip_stack = if s.features.ipv6_dual_stack == Some(true) {
            IpStack::DualStack
        } else {
            stack_of_cidr(&cluster_cidr)
        };
        let mut endpoint = EndpointForm::default();
        if let Some(ha) = &s.features.ha {
            if let Some(t) = &ha.tke {
                endpoint.self_built_vip = true;
                endpoint.address = t.vip.clone();
                endpoint.vrid = t
                    .vrid
                    .map_or(DEFAULT_VRID, |v| u32::try_from(v).unwrap_or(0));
            } else if let Some(t) = &ha.third_party {
                endpoint.address = t.vip.clone();
                endpoint.lb_port = u16::try_from(t.vport).unwrap_or(0);
            }
        }

        let cni = get(ann::NETWORK_TYPE)
            .and_then(|v| Cni::from_annotation(&v))
            .unwrap_or_default();
        let nic = s.network_device.clone().unwrap_or_default();
        let mut kube_ovn = KubeOvnForm::default();
        if cni == Cni::KubeOvn {
            if get(ann::TRANSMIT_TYPE).as_deref() == Some("underlay") {
                kube_ovn.transmit = TransmitMode::Underlay;
                kube_ovn.gateway = get(ann::GATEWAY).unwrap_or_default();
                kube_ovn.reserved_ips = get(ann::EXCLUDE_IPS).unwrap_or_default();
                kube_ovn.vlan_id = get(ann::VLAN_ID).and_then(|v| v.parse().ok()).unwrap_or(0);
            } else {
                kube_ovn.join_cidr = get(ann::JOIN_CIDR).unwrap_or_default();
            }
        }

        let (image_registry, private_registry) = match get(ANN_IMAGE_REGISTRY).as_deref() {
            Some("private") => (
                ImageRegistry::Private,
                get(ANN_IMAGE_REGISTRY_ADDRESS).unwrap_or_default(),
            ),
            Some("public") => (ImageRegistry::Public, String::new()),
            _ => (ImageRegistry::PlatformBuiltIn, String::new()),
        };

        let mut monitoring = MonitoringForm::default();
        if get(ANN_MONITORING_TYPE).as_deref() == Some("victoriametrics") {
            monitoring.kind = MonitoringKind::VictoriaMetrics;
            if get(ANN_MONITORING_DEPLOY).as_deref() == Some("agent") {
                monitoring.vm_deploy = VmDeploy::AgentOnly;
                monitoring.vm_instance = get(ANN_MONITORING_INSTANCE).unwrap_or_default();
            }
        }
        if let Some(v) = get(ANN_MONITORING_NODES) {
            monitoring.nodes = v.split(',').map(str::to_string).collect();
        }

        let max_pods_arg = s
            .kubelet_extra_args
            .get(KUBELET_MAX_PODS)
            .and_then(|v| v.parse::<u32>().ok());
        let node_ip_count = match s.properties.max_node_pod_num {
            Some(n) => u32::try_from(n).unwrap_or(0),
            None => max_pods_arg.unwrap_or(DEFAULT_NODE_IP_COUNT),
        };

        let mut form = Self {
            basic: BasicInfo {
                name: c.metadata.name.clone().unwrap_or_default(),
                display_name: s.display_name.clone().unwrap_or_default(),
                kubernetes_version: s.version.clone(),
                container_runtime,
                runtime_version,
                ip_stack,
                endpoint,
                external_access: get(ANN_EXTERNAL_ACCESS).unwrap_or_default(),
                platform_url: get(ann::PLATFORM_URL).unwrap_or_default(),
                image_registry,
                private_registry,
            },
            network: NetworkForm {
                cni,
                cluster_cidr,
                service_cidr: s.service_cidr.clone().unwrap_or_default(),
                node_ip_count,
                kube_ovn,
            },
            node_settings: NodeSettings {
                nic,
                node_naming: if s.hostname_as_nodename == Some(true) {
                    NodeNaming::Hostname
                } else {
                    NodeNaming::Ip
                },
                nodes: s.machines.iter().map(NodeForm::from_machine).collect(),
                monitoring,
            },
            extended: ExtendedParams {
                docker_args: s.docker_extra_args.clone(),
                kubelet_args: s.kubelet_extra_args.clone(),
                controller_manager_args: s.controller_manager_extra_args.clone(),
                scheduler_args: s.scheduler_extra_args.clone(),
                apiserver_args: s.api_server_extra_args.clone(),
                apiserver_urls: s.public_alternative_names.clone(),
                annotations: BTreeMap::new(),
            },
            base: None,
        };

        // A value the form regenerates identically is the form's; anything else stays the
        // user's and, being the user's, wins on export.
        for (k, v) in form.generated_annotations() {
            if user_ann.get(&k) == Some(&v) {
                user_ann.remove(&k);
            }
        }
        form.extended.annotations = user_ann;
        for (k, v) in form.generated_kubelet_args() {
            if form.extended.kubelet_args.get(&k) == Some(&v) {
                form.extended.kubelet_args.remove(&k);
            }
        }

        let mut base = c.clone();
        let m = &mut base.metadata;
        m.uid = None;
        m.resource_version = None;
        m.creation_timestamp = None;
        m.deletion_timestamp = None;
        m.deletion_grace_period_seconds = None;
        m.generation = None;
        m.managed_fields = None;
        m.self_link = None;
        m.annotations = None;
        base.status = None;
        // Filled in by the controller for that one cluster; a new cluster must not inherit it.
        base.spec.cluster_credential_ref = None;
        base.spec.machines.clear();
        base.spec.scaling_machines.clear();
        form.base = Some(Box::new(base));
        form
    }

    /// This form with every field the resource cannot carry in the current mode set to what
    /// an import would give: fields of other CNIs and modes, the unselected SSH secret, a
    /// worker's Application Deployable, and so on. `from_cluster(&f.to_cluster())` equals
    /// `f.canonical()` except when a user annotation or kubelet arg overrides a generated one.
    pub fn canonical(&self) -> Self {
        let mut f = self.clone();
        let b = &mut f.basic;
        if b.ip_stack != IpStack::DualStack {
            b.ip_stack = stack_of_cidr(&f.network.cluster_cidr);
        }
        if b.image_registry != ImageRegistry::Private {
            b.private_registry.clear();
        }
        let e = &mut b.endpoint;
        if e.self_built_vip {
            e.lb_port = DEFAULT_LB_PORT;
        } else {
            e.vrid = DEFAULT_VRID;
            if e.address.trim().is_empty() {
                *e = EndpointForm::default();
            }
        }
        e.vrid = e.vrid.min(i32::MAX as u32);
        let n = &mut f.network;
        n.node_ip_count = n.node_ip_count.min(i32::MAX as u32);
        match (n.cni, n.kube_ovn.transmit) {
            (Cni::KubeOvn, TransmitMode::Overlay) => {
                n.kube_ovn = KubeOvnForm {
                    join_cidr: n.kube_ovn.join_cidr.clone(),
                    ..KubeOvnForm::default()
                };
            }
            (Cni::KubeOvn, TransmitMode::Underlay) => {
                n.kube_ovn.join_cidr = DEFAULT_JOIN_CIDR_V4.into();
            }
            _ => n.kube_ovn = KubeOvnForm::default(),
        }
        let m = &mut f.node_settings.monitoring;
        match (m.kind, m.vm_deploy) {
            (MonitoringKind::Prometheus, _) => {
                m.vm_deploy = VmDeploy::default();
                m.vm_instance.clear();
            }
            (MonitoringKind::VictoriaMetrics, VmDeploy::Full) => m.vm_instance.clear(),
            (MonitoringKind::VictoriaMetrics, VmDeploy::AgentOnly) => {}
        }
        for node in &mut f.node_settings.nodes {
            node.bridge_network.clear();
            node.key_path.clear();
            match node.auth {
                SshAuth::Password => {
                    node.private_key = Secret::default();
                    node.passphrase = Secret::default();
                }
                SshAuth::Key => node.password = Secret::default(),
            }
            if node.auth == SshAuth::Key
                && node.private_key.is_empty()
                && node.passphrase.is_empty()
            {
                node.auth = SshAuth::Password;
            }
            if !node.proxy.enabled {
                node.proxy = ProxyForm::default();
            }
            if node.is_control_plane() {
                if node.taints.iter().any(is_master_taint) {
                    node.app_deployable = false;
                    node.taints.retain(|t| !is_master_taint(t));
                }
            } else {
                node.app_deployable = false;
            }
        }
        let gen_kubelet = f.generated_kubelet_args();
        f.extended
            .kubelet_args
            .retain(|k, v| gen_kubelet.get(k) != Some(v));
        f
    }
}

/// Why a YAML document is not a usable `Cluster`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the document is empty")]
    Empty,
    #[error("the document is {0} bytes; the limit is {MAX_YAML_BYTES}")]
    TooLarge(usize),
    #[error("not valid YAML: {0}")]
    Yaml(String),
    #[error(
        "expected apiVersion platform.tkestack.io/v1 and kind Cluster, found {api_version} {kind}"
    )]
    WrongKind { api_version: String, kind: String },
    #[error("{path}: {message}")]
    Field { path: String, message: String },
    #[error("not a Cluster resource: {0}")]
    Shape(String),
}

/// Why a resource could not be written as YAML.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot write the cluster as YAML: {0}")]
pub struct ExportError(String);

/// Largest document [`from_yaml`] reads.
pub const MAX_YAML_BYTES: usize = 4 * 1024 * 1024;

/// The resource as YAML; with `mask_secrets` every secret is replaced by a marker, for
/// showing on screen or saving as an example.
pub fn to_yaml(c: &Cluster, mask_secrets: bool) -> Result<String, ExportError> {
    let masked;
    let c = if mask_secrets {
        masked = c.with_masked_secrets();
        &masked
    } else {
        c
    };
    serde_saphyr::to_string(c).map_err(|e| ExportError(e.to_string()))
}

/// Reads one `platform.tkestack.io/v1` `Cluster` from YAML (or JSON).
pub fn from_yaml(text: &str) -> Result<Cluster, ImportError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(ImportError::TooLarge(text.len()));
    }
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let v: Value = serde_saphyr::from_str(text).map_err(|e| ImportError::Yaml(e.to_string()))?;
    let Value::Object(obj) = &v else {
        return Err(ImportError::Shape(
            "the document is not a mapping with apiVersion, kind, metadata and spec".into(),
        ));
    };
    let field = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (api_version, kind) = (field("apiVersion"), field("kind"));
    if api_version != "platform.tkestack.io/v1" || kind != "Cluster" {
        return Err(ImportError::WrongKind { api_version, kind });
    }
    if let Some(ver) = v.pointer("/spec/version")
        && ver.is_number()
    {
        return Err(ImportError::Field {
            path: "spec.version".into(),
            message: format!("{ver} is a number; quote the version, e.g. \"1.30.4\""),
        });
    }
    serde_json::from_value(v).map_err(|e| ImportError::Shape(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_protocol_change_keeps_the_users_cidrs_of_the_remaining_family() {
        let mut n = ClusterForm::new().network;
        n.cluster_cidr = "10.8.0.0/16".into();
        assert!(n.adapt_cidrs(IpStack::DualStack));
        assert_eq!(
            n.cluster_cidr,
            format!("10.8.0.0/16,{DEFAULT_CLUSTER_CIDR_V6}")
        );
        assert_eq!(
            n.service_cidr,
            format!("{DEFAULT_SERVICE_CIDR_V4},{DEFAULT_SERVICE_CIDR_V6}")
        );
        assert!(n.adapt_cidrs(IpStack::Ipv4));
        assert_eq!(n.cluster_cidr, "10.8.0.0/16");
        assert!(!n.adapt_cidrs(IpStack::Ipv6), "only defaults for IPv6");
        assert_eq!(n.cluster_cidr, DEFAULT_CLUSTER_CIDR_V6);
    }
    use proptest::collection::{btree_map, vec};
    use proptest::prelude::*;

    fn sample() -> ClusterForm {
        let mut f = ClusterForm::new();
        f.basic.name = "demo".into();
        f.basic.kubernetes_version = "1.30.4".into();
        f.basic.runtime_version = "1.6.28-4".into();
        f.basic.endpoint = EndpointForm {
            address: "192.168.0.10".into(),
            self_built_vip: true,
            ..EndpointForm::default()
        };
        f.node_settings.nic = "eth0".into();
        f.node_settings.nodes = vec![
            NodeForm {
                ip: "192.168.0.11".into(),
                password: "s3cret!".into(),
                app_deployable: true,
                ..NodeForm::default()
            },
            NodeForm {
                role: NodeType::Worker,
                ip: "192.168.0.21".into(),
                auth: SshAuth::Key,
                private_key: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n".into(),
                passphrase: "pp".into(),
                proxy: ProxyForm {
                    enabled: true,
                    address: "10.0.0.1:1080".into(),
                    username: "u".into(),
                    password: "proxy-pw".into(),
                },
                ..NodeForm::default()
            },
        ];
        f
    }

    #[test]
    fn defaults_follow_the_docs() {
        let f = ClusterForm::new();
        assert_eq!(f.basic.container_runtime, ContainerRuntime::Containerd);
        assert_eq!(f.basic.ip_stack, IpStack::Ipv4);
        assert!(!f.basic.endpoint.self_built_vip);
        assert_eq!(f.basic.endpoint.vrid, 137);
        assert_eq!(f.network.cni, Cni::KubeOvn);
        assert_eq!(f.network.kube_ovn.transmit, TransmitMode::Overlay);
        assert_eq!(f.network.cluster_cidr, "10.3.0.0/16");
        assert_eq!(f.network.service_cidr, "10.4.0.0/16");
        assert_eq!(f.network.kube_ovn.join_cidr, "100.64.0.0/16");
        let n = NodeForm::default();
        assert_eq!((n.ssh_port, n.ssh_username.as_str()), (22, "root"));
        let mut net = NetworkForm::default();
        net.reset_cidrs(IpStack::DualStack);
        assert_eq!(net.cluster_cidr, "10.3.0.0/16,fd00:10:16::/64");
        assert_eq!(net.kube_ovn.join_cidr, "100.64.0.0/16,fd00:100:64::/64");
    }

    #[test]
    fn maps_form_to_acp_resource() {
        let c = sample().to_cluster();
        assert_eq!(c.metadata.name.as_deref(), Some("demo"));
        assert_eq!(
            c.annotation(ann::CONTAINER_RUNTIME),
            Some("containerd://1.6.28-4")
        );
        assert_eq!(c.annotation(ann::NETWORK_TYPE), Some("kube-ovn"));
        assert_eq!(c.annotation(ann::TRANSMIT_TYPE), Some("overlay"));
        assert_eq!(c.annotation(ann::JOIN_CIDR), Some("100.64.0.0/16"));
        assert_eq!(c.spec.type_, "Baremetal");
        assert_eq!(c.spec.cluster_cidr.as_deref(), Some("10.3.0.0/16"));
        assert_eq!(c.spec.network_device.as_deref(), Some("eth0"));
        let ha = c.spec.features.ha.as_ref().and_then(|h| h.tke.as_ref());
        assert_eq!(
            ha.map(|t| (t.vip.as_str(), t.vrid)),
            Some(("192.168.0.10", Some(137)))
        );
        assert_eq!(c.spec.features.enable_master_schedule, Some(true));
        assert_eq!(c.spec.properties.max_node_pod_num, Some(256));
        assert_eq!(
            c.spec
                .kubelet_extra_args
                .get("max-pods")
                .map(String::as_str),
            Some("256")
        );
        let m0 = &c.spec.machines[0];
        assert_eq!(m0.password.as_deref(), Some(B64.encode("s3cret!").as_str()));
        assert!(m0.taints.is_empty());
        let m1 = &c.spec.machines[1];
        assert_eq!(m1.role.as_deref(), Some("node"));
        assert!(m1.password.is_none());
        assert_eq!(m1.pass_phrase.as_deref(), Some(B64.encode("pp").as_str()));
        let p = m1.proxy.as_ref().expect("proxy");
        assert_eq!(p.type_, "SOCKS5");
        assert_eq!(p.password.as_deref(), Some(B64.encode("proxy-pw").as_str()));
    }

    #[test]
    fn control_plane_without_apps_gets_the_master_taint() {
        let mut f = sample();
        f.node_settings.nodes[0].app_deployable = false;
        let c = f.to_cluster();
        assert_eq!(c.spec.machines[0].taints, vec![master_taint()]);
        assert_eq!(c.spec.features.enable_master_schedule, Some(false));
        let back = ClusterForm::from_cluster(&c);
        assert!(!back.nodes()[0].app_deployable);
        assert!(back.nodes()[0].taints.is_empty());
    }

    #[test]
    fn user_keys_override_generated_ones() {
        let mut f = sample();
        f.extended
            .kubelet_args
            .insert("max-pods".into(), "110".into());
        f.extended
            .annotations
            .insert(ann::NETWORK_TYPE.into(), "cilium".into());
        let c = f.to_cluster();
        assert_eq!(c.spec.kubelet_extra_args["max-pods"], "110");
        assert_eq!(c.annotation(ann::NETWORK_TYPE), Some("cilium"));
        // Imported, the overrides stay user entries and so stay overrides.
        let back = ClusterForm::from_cluster(&c);
        assert_eq!(back.extended.kubelet_args["max-pods"], "110");
        assert_eq!(back.extended.annotations[ann::NETWORK_TYPE], "cilium");
        assert_eq!(back.to_cluster(), c);
    }

    #[test]
    fn round_trip_of_the_sample() {
        let f = sample();
        let back = ClusterForm::from_cluster(&f.to_cluster());
        assert_eq!(
            ClusterForm {
                base: None,
                ..back.clone()
            },
            f.canonical()
        );
        assert_eq!(back.nodes()[0].password.expose(), "s3cret!");
        assert_eq!(back.nodes()[1].proxy.password.expose(), "proxy-pw");
    }

    #[test]
    fn import_keeps_what_the_form_does_not_model() {
        let yaml = r#"
apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata:
  name: demo
  resourceVersion: "42"
  labels: {team: sre}
  annotations:
    cpaas.io/network-type: calico
    cpaas.io/container-runtime: "cri-o://1.29"
    example.com/owner: me
spec:
  type: Baremetal
  version: "1.31.2"
  clusterCIDR: 10.3.0.0/16
  dnsDomain: corp.local
  features: {ipvs: true, gpuType: Physical}
  etcd: {local: {dataDir: /data/etcd}}
  clusterCredentialRef: {name: cc-abcde}
  machines:
  - {ip: 10.0.0.1, port: 22, username: root, password: cHc=, futureField: 1}
status: {phase: Running}
"#;
        let c = from_yaml(yaml).expect("imports");
        let f = ClusterForm::from_cluster(&c);
        assert_eq!(f.network.cni, Cni::Calico);
        assert_eq!(
            f.extended.annotations["cpaas.io/container-runtime"],
            "cri-o://1.29"
        );
        assert_eq!(f.extended.annotations["example.com/owner"], "me");
        assert!(!f.extended.annotations.contains_key(ann::NETWORK_TYPE));
        assert_eq!(f.nodes()[0].password.expose(), "pw");
        assert!(f.nodes()[0].app_deployable);
        let out = f.to_cluster();
        assert_eq!(out.spec.dns_domain.as_deref(), Some("corp.local"));
        assert_eq!(out.spec.features.ipvs, Some(true));
        assert_eq!(out.spec.features.gpu_type.as_deref(), Some("Physical"));
        assert!(out.spec.etcd.is_some());
        assert!(out.spec.machines[0].extra.contains_key("futureField"));
        assert_eq!(
            out.annotation("cpaas.io/container-runtime"),
            Some("cri-o://1.29")
        );
        assert_eq!(out.metadata.resource_version, None);
        assert_eq!(out.spec.cluster_credential_ref, None);
        assert!(out.status.is_none());
        assert_eq!(
            out.metadata.labels.as_ref().map(|l| l["team"].as_str()),
            Some("sre")
        );
    }

    #[test]
    fn yaml_round_trip_and_masking() {
        let c = sample().to_cluster();
        let text = to_yaml(&c, false).expect("yaml");
        assert_eq!(from_yaml(&text).expect("reads back"), c);
        let masked = to_yaml(&c, true).expect("masked yaml");
        assert!(!masked.contains(&B64.encode("s3cret!")));
        assert!(!masked.contains(&B64.encode("proxy-pw")));
        assert!(masked.contains(crate::domain::cluster::MASK));
    }

    #[test]
    fn exported_yaml_snapshot() {
        let text = to_yaml(&sample().to_cluster(), true).expect("yaml");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn import_errors() {
        assert_eq!(from_yaml("  \n"), Err(ImportError::Empty));
        assert!(matches!(from_yaml("a: [b"), Err(ImportError::Yaml(_))));
        assert!(matches!(from_yaml("- 1\n- 2"), Err(ImportError::Shape(_))));
        assert!(matches!(
            from_yaml("apiVersion: v1\nkind: ConfigMap\n"),
            Err(ImportError::WrongKind { .. })
        ));
        assert!(matches!(
            from_yaml("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nspec: {version: 1.30}\n"),
            Err(ImportError::Field { path, .. }) if path == "spec.version"
        ));
        assert!(matches!(
            from_yaml("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nspec: {machines: 3}\n"),
            Err(ImportError::Shape(_))
        ));
        let big = "#".repeat(MAX_YAML_BYTES + 1);
        assert!(matches!(from_yaml(&big), Err(ImportError::TooLarge(_))));
    }

    #[test]
    fn hostile_yaml_is_refused_quickly() {
        let mut bomb = String::from("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nspec:\n");
        bomb.push_str("  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            bomb.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
        }
        assert!(matches!(from_yaml(&bomb), Err(ImportError::Yaml(_))));
        let deep = format!("spec: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(from_yaml(&deep), Err(ImportError::Yaml(_))));
    }

    #[test]
    fn secrets_never_reach_debug_or_drafts() {
        let f = sample();
        let dbg = format!("{f:?}");
        let json = serde_json::to_string(&f).expect("draft json");
        for s in ["s3cret!", "proxy-pw", "OPENSSH", "\"pp\""] {
            assert!(!dbg.contains(s), "{s} in Debug");
            assert!(!json.contains(s), "{s} in serialized form");
        }
        let restored: ClusterForm = serde_json::from_str(&json).expect("draft loads");
        assert!(restored.nodes()[0].password.is_empty());
        assert_eq!(restored.nodes()[0].ip, "192.168.0.11");
    }

    #[test]
    fn node_draft_conversion_keeps_every_dialog_field() {
        let mut n = sample().node_settings.nodes[1].clone();
        n.key_path = "/home/u/.ssh/id_ed25519".into();
        n.bridge_network = "br-1".into();
        let d = n.to_draft();
        let back = NodeForm::from_draft(&d);
        assert_eq!(back.to_draft(), d);
        assert_eq!(back.key_path, n.key_path);
        assert!(back.private_key.is_empty() && back.proxy.password.is_empty());
    }

    fn text() -> impl Strategy<Value = String> {
        "[a-z0-9./:,-]{0,12}"
    }

    fn secret() -> impl Strategy<Value = Secret> {
        ".{0,16}".prop_map(Secret::new)
    }

    fn args() -> impl Strategy<Value = BTreeMap<String, String>> {
        btree_map("[a-z][a-z-]{0,8}", text(), 0..3)
    }

    fn node() -> impl Strategy<Value = NodeForm> {
        (
            (any::<bool>(), text(), text(), any::<bool>(), text(), text()),
            (text(), text(), any::<u16>(), text(), any::<bool>()),
            (
                any::<bool>(),
                text(),
                text(),
                secret(),
                secret(),
                secret(),
                secret(),
            ),
            (
                args(),
                vec(
                    (
                        "[a-z/.]{1,10}",
                        proptest::option::of(text()),
                        "NoSchedule|NoExecute",
                    ),
                    0..3,
                ),
                args(),
                btree_map("x-[a-z]{1,6}", any::<i32>().prop_map(Value::from), 0..2),
            ),
        )
            .prop_map(|(a, b, c, d)| NodeForm {
                role: if a.0 {
                    NodeType::ControlPlane
                } else {
                    NodeType::Worker
                },
                ip: a.1,
                ipv6: a.2,
                app_deployable: a.3,
                display_name: a.4,
                ssh_ip: a.5,
                nic: b.0,
                bridge_network: b.1,
                ssh_port: b.2,
                ssh_username: b.3,
                auth: if b.4 { SshAuth::Key } else { SshAuth::Password },
                proxy: ProxyForm {
                    enabled: c.0,
                    address: c.1,
                    username: c.2,
                    password: c.3,
                },
                password: c.4,
                private_key: c.5,
                passphrase: c.6,
                labels: d.0,
                taints: d
                    .1
                    .into_iter()
                    .map(|(key, value, effect)| Taint {
                        key,
                        value,
                        effect,
                        time_added: None,
                    })
                    .collect(),
                annotations: d.2,
                extra: d.3,
                key_path: String::new(),
            })
    }

    prop_compose! {
        fn form()(
            basic in (text(), text(), text(), any::<bool>(), text(), 0u8..3, text(), any::<bool>(), any::<u32>(), any::<u16>(), text(), text()),
            registry in (0u8..3, text()),
            net in (0u8..4, text(), text(), any::<u32>(), any::<bool>(), text(), text(), any::<u32>(), text()),
            ns in (text(), any::<bool>(), vec(node(), 0..4), any::<bool>(), any::<bool>(), text(), vec("[0-9.]{1,8}", 0..3)),
            ext in (args(), args(), args(), args(), args(), vec(text(), 0..3), btree_map("example\\.com/[a-z]{1,6}", text(), 0..3)),
        ) -> ClusterForm {
            ClusterForm {
                basic: BasicInfo {
                    name: basic.0,
                    display_name: basic.1,
                    kubernetes_version: basic.2,
                    container_runtime: if basic.3 { ContainerRuntime::Docker } else { ContainerRuntime::Containerd },
                    runtime_version: basic.4,
                    ip_stack: [IpStack::Ipv4, IpStack::Ipv6, IpStack::DualStack][usize::from(basic.5)],
                    endpoint: EndpointForm { address: basic.6, self_built_vip: basic.7, vrid: basic.8, lb_port: basic.9 },
                    external_access: basic.10,
                    platform_url: basic.11,
                    image_registry: [ImageRegistry::PlatformBuiltIn, ImageRegistry::Private, ImageRegistry::Public][usize::from(registry.0)],
                    private_registry: registry.1,
                },
                network: NetworkForm {
                    cni: [Cni::KubeOvn, Cni::Calico, Cni::Flannel, Cni::Custom][usize::from(net.0)],
                    cluster_cidr: net.1,
                    service_cidr: net.2,
                    node_ip_count: net.3,
                    kube_ovn: KubeOvnForm {
                        transmit: if net.4 { TransmitMode::Underlay } else { TransmitMode::Overlay },
                        join_cidr: net.5,
                        gateway: net.6,
                        vlan_id: net.7,
                        reserved_ips: net.8,
                    },
                },
                node_settings: NodeSettings {
                    nic: ns.0,
                    node_naming: if ns.1 { NodeNaming::Hostname } else { NodeNaming::Ip },
                    nodes: ns.2,
                    monitoring: MonitoringForm {
                        kind: if ns.3 { MonitoringKind::VictoriaMetrics } else { MonitoringKind::Prometheus },
                        vm_deploy: if ns.4 { VmDeploy::AgentOnly } else { VmDeploy::Full },
                        vm_instance: ns.5,
                        nodes: ns.6,
                    },
                },
                extended: ExtendedParams {
                    docker_args: ext.0,
                    kubelet_args: ext.1,
                    controller_manager_args: ext.2,
                    scheduler_args: ext.3,
                    apiserver_args: ext.4,
                    apiserver_urls: ext.5,
                    annotations: ext.6,
                },
                base: None,
            }
        }
    }

    proptest! {
        #[test]
        fn form_resource_form_round_trip(f in form()) {
            let c = f.to_cluster();
            let back = ClusterForm::from_cluster(&c);
            prop_assert_eq!(ClusterForm { base: None, ..back.clone() }, f.canonical());
            // And the resource itself is stable from there on, YAML included.
            prop_assert_eq!(back.to_cluster(), c.clone());
            let yaml = to_yaml(&c, false).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(from_yaml(&yaml).map_err(|e| TestCaseError::fail(e.to_string()))?, c);
        }

        #[test]
        fn from_yaml_never_panics(s in ".{0,200}") {
            let _ = from_yaml(&s);
        }

        #[test]
        fn from_yaml_never_panics_on_cluster_like_input(
            body in "[a-zA-Z0-9 :,\\[\\]{}\"'\n-]{0,200}"
        ) {
            let doc = format!("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nspec:\n  {body}");
            if let Ok(c) = from_yaml(&doc) {
                let _ = ClusterForm::from_cluster(&c).to_cluster();
            }
        }
    }
}
