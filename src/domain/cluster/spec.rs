//! `Cluster` and its spec: what a cluster is asked to be.

use std::collections::BTreeMap;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;

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
