//! Nodes: `spec.machines[]` of a cluster, and `Machine`, a node added to a cluster later.

use std::collections::BTreeMap;
use std::fmt;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::*;

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
