//! The ACP flavour of `platform.tkestack.io/v1`: `Cluster`, `Machine` and `ClusterCredential`.
//!
//! ACP's schema is a fork of TKEStack's; where they differ these types follow ACP's own OpenAPI
//! (for example `machines[].role`, `machines[].proxy` and the container runtime as an annotation
//! instead of `features.containerRuntime`).
//!
//! Secrets (`password`, `privateKey`, `passPhrase`, proxy `password`, credential tokens and keys)
//! travel as base64 text. They are kept here as that text, never decoded, and every `Debug`
//! impl in this module prints them as `<redacted>`.
//!
//! Fields the types do not model are kept in `extra` maps on import, so that a YAML read and
//! written again keeps them. The kube derive uses a derived schema; the `extra` maps show up in
//! it as `additionalProperties`.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// API group of every resource in this module.
pub const GROUP: &str = "platform.tkestack.io";
/// API version of every resource in this module.
pub const VERSION: &str = "v1";
/// `spec.type` for clusters the platform installs on machines it is given.
pub const CLUSTER_TYPE_BAREMETAL: &str = "Baremetal";
/// `machines[].role` of a control-plane node.
pub const ROLE_MASTER: &str = "master";
/// `machines[].role` of a worker node.
pub const ROLE_NODE: &str = "node";
/// `machines[].proxy.type` of a SOCKS5 proxy, the only kind ACP supports.
pub const PROXY_SOCKS5: &str = "SOCKS5";

/// ACP annotation keys on a `Cluster`.
pub mod annotations {
    /// `<runtime>://<version>`, e.g. `containerd://1.6.28-4`.
    pub const CONTAINER_RUNTIME: &str = "cpaas.io/container-runtime";
    /// `kube-ovn`, `calico`, `flannel` (or the custom mode's value).
    pub const NETWORK_TYPE: &str = "cpaas.io/network-type";
    /// Kube-OVN join CIDR (overlay), `v4` or `v4,v6`.
    pub const JOIN_CIDR: &str = "kube-ovn.cpaas.io/join-cidr";
    /// Kube-OVN transmit mode, `overlay` or `underlay`.
    pub const TRANSMIT_TYPE: &str = "kube-ovn.cpaas.io/transmit-type";
    /// Kube-OVN underlay bridge NIC.
    pub const PROVIDER_NETWORK_INTERFACE: &str = "ovn.cpaas.io/provider-network-interface";
    /// Kube-OVN underlay VLAN id, 0-4095 as a string.
    pub const VLAN_ID: &str = "kube-ovn.cpaas.io/vlan-id";
    /// Kube-OVN default subnet gateway.
    pub const GATEWAY: &str = "kube-ovn.cpaas.io/gateway";
    /// Kube-OVN default subnet reserved IPs.
    pub const EXCLUDE_IPS: &str = "kube-ovn.cpaas.io/exclude-ips";
    /// Public address of `global` for a workload cluster that cannot reach it directly.
    pub const PLATFORM_URL: &str = "cpaas.io/platform-url";
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Reads a timestamp, treating `null`, `""` and anything unparsable as absent: a status
/// written by an older controller must not make the whole object unreadable.
fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Time>, D::Error> {
    let raw = Option::<Value>::deserialize(d)?;
    Ok(match raw {
        Some(Value::String(s)) => s.parse::<k8s_openapi::jiff::Timestamp>().ok().map(Time),
        _ => None,
    })
}

/// `Cluster.spec`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "platform.tkestack.io",
    version = "v1",
    kind = "Cluster",
    status = "ClusterStatus",
    shortname = "cls",
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
    /// Required by ACP's schema, yet overwritten by the server with the caller's tenant.
    #[serde(rename = "tenantID", default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// `Baremetal` for on-premises creation.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// Kubernetes version, e.g. `1.28.13`.
    #[serde(default)]
    pub version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_device: Option<String>,
    /// Pod CIDR; dual stack is `"v4cidr,v6cidr"`.
    #[serde(
        rename = "clusterCIDR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_cidr: Option<String>,
    /// Service CIDR; leave out rather than send `""`.
    #[serde(
        rename = "serviceCIDR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub service_cidr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_domain: Option<String>,
    /// Extra apiserver certificate SANs (UI: "APIServer URL").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public_alternative_names: Vec<String>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub features: ClusterFeature,
    #[serde(default, skip_serializing_if = "is_default")]
    pub properties: ClusterProperty,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<ClusterMachine>,
    /// Set by the server while scaling; never sent on create.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scaling_machines: Vec<ClusterMachine>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub docker_extra_args: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kubelet_extra_args: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_server_extra_args: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub controller_manager_extra_args: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scheduler_extra_args: BTreeMap<String, String>,
    /// Filled in by the controller once it has created the `ClusterCredential`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_credential_ref: Option<LocalObjectReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etcd: Option<Etcd>,
    /// `true`: node name is the hostname; `false`: the machine IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname_as_nodename: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub network_args: BTreeMap<String, String>,
    /// Fields this type does not model, kept so that import/export is lossless.
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
}

/// `{name}` reference to another cluster-scoped object.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct LocalObjectReference {
    #[serde(default)]
    pub name: String,
}

/// `spec.etcd`: `local` or `external`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct Etcd {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalEtcd>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalEtcd>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LocalEtcd {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra_args: BTreeMap<String, String>,
    #[serde(
        rename = "serverCertSANs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub server_cert_sans: Vec<String>,
    #[serde(
        rename = "peerCertSANs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub peer_cert_sans: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalEtcd {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
}

/// `spec.features`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterFeature {
    /// kube-proxy in ipvs mode (default iptables); needs `serviceCIDR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipvs: Option<bool>,
    #[serde(rename = "publicLB", default, skip_serializing_if = "Option::is_none")]
    pub public_lb: Option<bool>,
    #[serde(
        rename = "internalLB",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub internal_lb: Option<bool>,
    /// `Physical` or `Virtual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu_type: Option<String>,
    /// Workloads may run on control-plane nodes (UI: "Application Deployable").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_master_schedule: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ha: Option<Ha>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_conditions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileSpec>,
    /// Hook type (`PreInstall`, `PostClusterInstall`, ...) -> script path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hooks: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csi_operator: Option<CsiOperator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authz_webhook_addr: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_metrics_server: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_dual_stack: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<Upgrade>,
    /// ACP only; its format is not documented, so it is carried as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_proxy_configuration: Option<String>,
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
}

/// `features.ha`: set at most one of the two.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Ha {
    /// Self-built VIP (keepalived on the control-plane nodes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tke: Option<TkeHa>,
    /// An external load balancer, by IP or domain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub third_party: Option<ThirdPartyHa>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct TkeHa {
    #[serde(default)]
    pub vip: String,
    /// 1-255; ACP defaults to 137.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrid: Option<i32>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ThirdPartyHa {
    #[serde(default)]
    pub vip: String,
    #[serde(default)]
    pub vport: i32,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct FileSpec {
    #[serde(default)]
    pub src: String,
    #[serde(default)]
    pub dst: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct CsiOperator {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Upgrade {
    /// `Auto` (default) or `Manual`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<UpgradeStrategy>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeStrategy {
    /// int-or-string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unready: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_node_before_upgrade: Option<bool>,
}

/// `spec.properties`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterProperty {
    /// Forbidden together with `serviceCIDR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cluster_service_num: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_node_pod_num: Option<i32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub oversold_ratio: BTreeMap<String, String>,
}

/// A core/v1 taint. Own type because k8s-openapi's has no `JsonSchema` in this build.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Taint {
    #[serde(default)]
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    #[serde(default)]
    pub effect: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_added: Option<String>,
}

/// `spec.machines[]`: one node to install.
#[derive(Serialize, Deserialize, Clone, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterMachine {
    /// Node IPv4 address used inside the cluster.
    #[serde(default)]
    pub ip: String,
    /// SSH port.
    #[serde(default)]
    pub port: i32,
    #[serde(default)]
    pub username: String,
    /// base64 of the SSH password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// base64 of the PEM private key text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<String>,
    /// base64 of the private key's passphrase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_phrase: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// `master` or `node`; kept as text so that an unknown value can be reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Required in a dual-stack cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<String>,
    /// SSH-only address; `ip` is used when empty.
    #[serde(rename = "publicIP", default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<String>,
    /// Overrides `spec.networkDevice` for this node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_device: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<MachineProxy>,
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
}

impl ClusterMachine {
    /// A control-plane node. A missing role counts as control plane, as TKE treats every
    /// entry of `spec.machines` as a master.
    pub fn is_control_plane(&self) -> bool {
        matches!(self.role.as_deref(), None | Some(ROLE_MASTER))
    }

    pub fn is_worker(&self) -> bool {
        self.role.as_deref() == Some(ROLE_NODE)
    }

    /// The address SSH connects to: `publicIP` when set, else `ip`.
    pub fn ssh_address(&self) -> &str {
        match self.public_ip.as_deref() {
            Some(p) if !p.trim().is_empty() => p,
            _ => &self.ip,
        }
    }

    /// Replaces every secret with a fixed marker, keeping which ones were present.
    pub fn mask_secrets(&mut self) {
        for s in [
            &mut self.password,
            &mut self.private_key,
            &mut self.pass_phrase,
        ] {
            if s.is_some() {
                *s = Some(MASK.to_string());
            }
        }
        if let Some(p) = &mut self.proxy
            && p.password.is_some()
        {
            p.password = Some(MASK.to_string());
        }
    }
}

/// What masked secrets are replaced with.
pub const MASK: &str = "<redacted>";

fn redact(s: &Option<String>) -> Option<&'static str> {
    s.as_ref().map(|_| MASK)
}

impl fmt::Debug for ClusterMachine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterMachine")
            .field("ip", &self.ip)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &redact(&self.password))
            .field("private_key", &redact(&self.private_key))
            .field("pass_phrase", &redact(&self.pass_phrase))
            .field("labels", &self.labels)
            .field("taints", &self.taints)
            .field("role", &self.role)
            .field("display_name", &self.display_name)
            .field("ipv6", &self.ipv6)
            .field("public_ip", &self.public_ip)
            .field("network_device", &self.network_device)
            .field("annotations", &self.annotations)
            .field("proxy", &self.proxy)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// `machines[].proxy` (ACP's `MachineProxy`).
#[derive(Serialize, Deserialize, Clone, Default, PartialEq, JsonSchema)]
pub struct MachineProxy {
    /// `SOCKS5`.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `host:port`.
    #[serde(default)]
    pub address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// base64 of the proxy password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl fmt::Debug for MachineProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MachineProxy")
            .field("type", &self.type_)
            .field("address", &self.address)
            .field("username", &self.username)
            .field("password", &redact(&self.password))
            .finish()
    }
}

/// `Cluster.status`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// In execution order: a new type is appended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<ClusterAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Value>,
    #[serde(
        rename = "serviceCIDR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub service_cidr: Option<String>,
    #[serde(
        rename = "clusterCIDR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cluster_cidr: Option<String>,
    #[serde(
        rename = "secondaryServiceCIDR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secondary_service_cidr: Option<String>,
    #[serde(
        rename = "secondaryClusterCIDR",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secondary_cluster_cidr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_cidr_mask_size: Option<i32>,
    #[serde(
        rename = "nodeCIDRMaskSizeIPv4",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub node_cidr_mask_size_ipv4: Option<i32>,
    #[serde(
        rename = "nodeCIDRMaskSizeIPv6",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub node_cidr_mask_size_ipv6: Option<i32>,
    #[serde(rename = "dnsIP", default, skip_serializing_if = "Option::is_none")]
    pub dns_ip: Option<String>,
    #[serde(rename = "registryIPs", default, skip_serializing_if = "Vec::is_empty")]
    pub registry_ips: Vec<String>,
    #[serde(flatten, default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, Value>,
}

/// One step of creation (cluster or machine): `type` is the handler name.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: String,
    #[serde(
        default,
        deserialize_with = "lenient_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub last_probe_time: Option<Time>,
    #[serde(
        default,
        deserialize_with = "lenient_time",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub last_transition_time: Option<Time>,
    /// `Waiting`, `FailedInit`, `FailedUpdate`, `Skip`, `FailedHealthCheck`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Historical name used by the API for the cluster's condition type.
pub type ClusterCondition = Condition;

impl Condition {
    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
    pub fn is_false(&self) -> bool {
        self.status == "False"
    }
}

/// `status.addresses[]`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct ClusterAddress {
    /// `Public`, `Advertise`, `Real`, `Internal`, `Support`.
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub port: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A cluster's lifecycle phase; an empty phase means `Initializing`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClusterPhase {
    Initializing,
    Waiting,
    Running,
    Failed,
    Confined,
    Idling,
    Upgrading,
    Terminating,
    Upscaling,
    Downscaling,
    Recovering,
    /// A phase this version does not know; ACP types it as free text.
    Other(String),
}

impl ClusterPhase {
    pub fn parse(s: &str) -> Self {
        match s {
            "" | "Initializing" => Self::Initializing,
            "Waiting" => Self::Waiting,
            "Running" => Self::Running,
            "Failed" => Self::Failed,
            "Confined" => Self::Confined,
            "Idling" => Self::Idling,
            "Upgrading" => Self::Upgrading,
            "Terminating" => Self::Terminating,
            "Upscaling" => Self::Upscaling,
            "Downscaling" => Self::Downscaling,
            "Recovering" => Self::Recovering,
            other => Self::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Initializing => "Initializing",
            Self::Waiting => "Waiting",
            Self::Running => "Running",
            Self::Failed => "Failed",
            Self::Confined => "Confined",
            Self::Idling => "Idling",
            Self::Upgrading => "Upgrading",
            Self::Terminating => "Terminating",
            Self::Upscaling => "Upscaling",
            Self::Downscaling => "Downscaling",
            Self::Recovering => "Recovering",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for ClusterPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Cluster {
    /// The phase, `Initializing` when status or phase is missing.
    pub fn phase(&self) -> ClusterPhase {
        ClusterPhase::parse(
            self.status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .unwrap_or(""),
        )
    }

    pub fn control_plane_count(&self) -> usize {
        self.spec
            .machines
            .iter()
            .filter(|m| m.is_control_plane())
            .count()
    }

    pub fn worker_count(&self) -> usize {
        self.spec.machines.iter().filter(|m| m.is_worker()).count()
    }

    /// An annotation on the cluster's metadata.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(key))
            .map(String::as_str)
    }

    /// A copy safe to show or write to disk: every machine secret replaced by [`MASK`].
    pub fn with_masked_secrets(&self) -> Cluster {
        let mut c = self.clone();
        for m in c
            .spec
            .machines
            .iter_mut()
            .chain(c.spec.scaling_machines.iter_mut())
        {
            m.mask_secrets();
        }
        c
    }
}

/// `Machine.spec`: a node added to an existing cluster.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "platform.tkestack.io",
    version = "v1",
    kind = "Machine",
    status = "MachineStatus",
    shortname = "mc",
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct MachineSpec {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
    #[serde(rename = "tenantID", default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default)]
    pub cluster_name: String,
    /// `Baremetal`.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// Every per-node field is shared with `spec.machines[]`.
    #[serde(flatten)]
    pub machine: ClusterMachine,
}

/// `Machine.status`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MachineStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<bool>,
    /// `Initializing`, `Running`, `Failed`, `Upgrading`, `Terminating`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<MachineAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_info: Option<MachineSystemInfo>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct MachineAddress {
    /// `Hostname`, `ExternalIP`, `InternalIP`, `ExternalDNS`, `InternalDNS`.
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub address: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MachineSystemInfo {
    #[serde(rename = "machineID", default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
    #[serde(
        rename = "systemUUID",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub system_uuid: Option<String>,
    #[serde(rename = "bootID", default, skip_serializing_if = "Option::is_none")]
    pub boot_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_runtime_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_proxy_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operating_system: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
}

impl Machine {
    pub fn phase(&self) -> &str {
        self.status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Initializing")
    }
}

/// `ClusterCredential` fields; they sit at the top level of the object (no `spec`).
#[derive(CustomResource, Serialize, Deserialize, Clone, Default, PartialEq, JsonSchema)]
#[kube(
    group = "platform.tkestack.io",
    version = "v1",
    kind = "ClusterCredential",
    shortname = "cc",
    no_spec,
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterCredentialFields {
    #[serde(default)]
    pub cluster_name: String,
    #[serde(rename = "tenantID", default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Bearer token for kube-apiserver (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// base64 of the CA certificate PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    #[serde(
        rename = "etcdCACert",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etcd_ca_cert: Option<String>,
    #[serde(rename = "etcdCAKey", default, skip_serializing_if = "Option::is_none")]
    pub etcd_ca_key: Option<String>,
    #[serde(
        rename = "etcdAPIClientCert",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etcd_api_client_cert: Option<String>,
    #[serde(
        rename = "etcdAPIClientKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etcd_api_client_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_password: Option<String>,
}

impl fmt::Debug for ClusterCredentialFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Certificates are public, but listing which secrets exist is enough for debugging.
        f.debug_struct("ClusterCredentialFields")
            .field("cluster_name", &self.cluster_name)
            .field("tenant_id", &self.tenant_id)
            .field("token", &redact(&self.token))
            .field("ca_cert", &redact(&self.ca_cert))
            .field("ca_key", &redact(&self.ca_key))
            .field("client_cert", &redact(&self.client_cert))
            .field("client_key", &redact(&self.client_key))
            .field("etcd_ca_cert", &redact(&self.etcd_ca_cert))
            .field("etcd_ca_key", &redact(&self.etcd_ca_key))
            .field("etcd_api_client_cert", &redact(&self.etcd_api_client_cert))
            .field("etcd_api_client_key", &redact(&self.etcd_api_client_key))
            .field("bootstrap_token", &redact(&self.bootstrap_token))
            .field("certificate_key", &redact(&self.certificate_key))
            .field("registry_username", &self.registry_username)
            .field("registry_password", &redact(&self.registry_password))
            .finish()
    }
}

impl ClusterCredential {
    /// The decoded CA certificate PEM, when present and valid base64.
    pub fn ca_cert_pem(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let b64 = self.spec.ca_cert.as_deref()?;
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::{CustomResourceExt, Resource};

    const EXAMPLE: &str = r#"{
      "apiVersion": "platform.tkestack.io/v1",
      "kind": "Cluster",
      "metadata": {"name": "demo", "annotations": {"cpaas.io/network-type": "kube-ovn"}},
      "spec": {
        "type": "Baremetal",
        "version": "1.28.13",
        "clusterCIDR": "10.3.0.0/16",
        "serviceCIDR": "10.4.0.0/16",
        "properties": {"maxNodePodNum": 256},
        "features": {"ipvs": true, "ha": {"tke": {"vip": "192.168.0.10", "vrid": 137}}, "futureFlag": 1},
        "machines": [
          {"ip": "192.168.0.11", "port": 22, "role": "master", "username": "root", "password": "c2VjcmV0"},
          {"ip": "192.168.0.21", "port": 22, "role": "node", "username": "root", "privateKey": "a2V5", "passPhrase": "cHA=",
           "proxy": {"type": "SOCKS5", "address": "10.0.0.1:1080", "password": "cHc="}, "gpu": "yes"}
        ],
        "unknownTopLevel": {"a": [1, 2]}
      },
      "status": {
        "phase": "Initializing",
        "conditions": [
          {"type": "EnsureCopyFiles", "status": "True", "lastProbeTime": "2025-01-01T00:00:00Z", "lastTransitionTime": null},
          {"type": "EnsurePreflight", "status": "False", "reason": "FailedInit", "lastProbeTime": ""}
        ]
      }
    }"#;

    fn example() -> Cluster {
        serde_json::from_str(EXAMPLE).expect("example parses")
    }

    #[test]
    fn parses_acp_example_and_counts_roles() {
        let c = example();
        assert_eq!(c.phase(), ClusterPhase::Initializing);
        assert_eq!(c.control_plane_count(), 1);
        assert_eq!(c.worker_count(), 1);
        assert_eq!(c.annotation(annotations::NETWORK_TYPE), Some("kube-ovn"));
        let ha = c.spec.features.ha.as_ref().and_then(|h| h.tke.as_ref());
        assert_eq!(ha.map(|t| t.vrid), Some(Some(137)));
        let conds = &c.status.as_ref().expect("status").conditions;
        assert!(conds[0].last_probe_time.is_some());
        assert!(conds[0].last_transition_time.is_none());
        assert!(conds[1].last_probe_time.is_none());
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let c = example();
        assert!(c.spec.extra.contains_key("unknownTopLevel"));
        assert!(c.spec.features.extra.contains_key("futureFlag"));
        assert!(c.spec.machines[1].extra.contains_key("gpu"));
        let back: Cluster =
            serde_json::from_value(serde_json::to_value(&c).expect("ser")).expect("de");
        assert_eq!(back, c);
    }

    #[test]
    fn empty_fields_are_not_serialized() {
        let mut c = Cluster::new("x", ClusterSpec::default());
        c.spec.type_ = CLUSTER_TYPE_BAREMETAL.into();
        c.spec.version = "1.30.1".into();
        let v = serde_json::to_value(&c).expect("ser");
        let spec = v["spec"].as_object().expect("spec object");
        let keys: Vec<_> = spec.keys().cloned().collect();
        assert_eq!(keys, vec!["type".to_string(), "version".to_string()]);
        assert_eq!(v["apiVersion"], "platform.tkestack.io/v1");
        assert_eq!(v["kind"], "Cluster");
    }

    #[test]
    fn debug_never_prints_secrets() {
        let c = example();
        let dbg = format!("{c:?}");
        for secret in ["c2VjcmV0", "a2V5", "cHA=", "cHw="] {
            assert!(!dbg.contains(secret), "{secret} leaked in {dbg}");
        }
        assert!(dbg.contains(MASK));
        let mut cred = ClusterCredential::new("cc-1", ClusterCredentialFields::default());
        cred.spec.token = Some("tok-123".into());
        assert!(!format!("{cred:?}").contains("tok-123"));
    }

    #[test]
    fn masking_replaces_every_machine_secret() {
        let masked = example().with_masked_secrets();
        let json = serde_json::to_string(&masked).expect("ser");
        for secret in ["c2VjcmV0", "a2V5", "cHA=", "cHw="] {
            assert!(!json.contains(secret));
        }
        assert_eq!(masked.spec.machines[0].password.as_deref(), Some(MASK));
        assert_eq!(masked.spec.machines[0].private_key, None);
    }

    #[test]
    fn resource_identity() {
        assert_eq!(Cluster::group(&()), GROUP);
        assert_eq!(Cluster::version(&()), VERSION);
        assert_eq!(Cluster::plural(&()), "clusters");
        assert_eq!(Machine::plural(&()), "machines");
        assert_eq!(ClusterCredential::plural(&()), "clustercredentials");
        assert_eq!(
            Cluster::url_path(&(), None),
            "/apis/platform.tkestack.io/v1/clusters"
        );
        let crd = Cluster::crd();
        assert_eq!(crd.spec.scope, "Cluster");
        assert_eq!(crd.spec.names.short_names, Some(vec!["cls".to_string()]));
        assert!(Machine::crd().spec.versions[0].schema.is_some());
        assert!(ClusterCredential::crd().spec.versions[0].schema.is_some());
    }

    #[test]
    fn credential_fields_sit_at_the_root() {
        let cc: ClusterCredential = serde_json::from_str(
            r#"{"apiVersion":"platform.tkestack.io/v1","kind":"ClusterCredential",
                "metadata":{"name":"cc-abc"},"clusterName":"demo","token":"t","caCert":"Y2E="}"#,
        )
        .expect("credential parses");
        assert_eq!(cc.spec.cluster_name, "demo");
        assert_eq!(cc.ca_cert_pem().as_deref(), Some(&b"ca"[..]));
    }

    #[test]
    fn machine_shares_node_fields() {
        let m: Machine = serde_json::from_str(
            r#"{"apiVersion":"platform.tkestack.io/v1","kind":"Machine","metadata":{"name":"mc-1"},
                "spec":{"clusterName":"demo","type":"Baremetal","ip":"10.0.0.5","port":22,"username":"root","role":"node"},
                "status":{"phase":"Running"}}"#,
        )
        .expect("machine parses");
        assert_eq!(m.spec.machine.ip, "10.0.0.5");
        assert!(m.spec.machine.is_worker());
        assert_eq!(m.phase(), "Running");
        assert!(m.spec.machine.extra.is_empty());
    }

    #[test]
    fn phase_parsing() {
        assert_eq!(ClusterPhase::parse(""), ClusterPhase::Initializing);
        assert_eq!(ClusterPhase::parse("Running").as_str(), "Running");
        assert_eq!(
            ClusterPhase::parse("Creating"),
            ClusterPhase::Other("Creating".into())
        );
    }
}
