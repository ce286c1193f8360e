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

mod from_resource;
mod model;
mod secret;
#[cfg(test)]
mod tests;
mod to_resource;
mod yaml;

pub use crate::domain::draft::{NodeType, SshAuth};
pub use model::*;
pub use secret::Secret;
pub use yaml::{ExportError, ImportError, MAX_YAML_BYTES, from_yaml, from_yaml_bytes, to_yaml};

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
