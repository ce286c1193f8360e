//! `Cluster.status`: phase, conditions and addresses as the controller reports them.

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;

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
    #[serde(
        rename = "nodeCIDRMaskSize",
        default,
        skip_serializing_if = "Option::is_none"
    )]
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
