//! The create-cluster page as data: one struct per section, with the page's defaults.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;
use crate::domain::cluster::{Cluster, Taint};
use crate::domain::draft::{NodeDraft, ProxyDraft};

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

    pub(super) fn from_annotation(v: &str) -> Option<Self> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::tests::sample;

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
}
