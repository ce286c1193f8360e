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

mod basic_info;
mod container_network;
mod endpoint;
mod extended;
mod finding;
mod node_settings;
mod platform;
mod resource;
#[cfg(test)]
mod tests;
mod unknown_fields;

pub use container_network::flannel_hint;
pub use finding::{Finding, Severity, has_errors};
pub use platform::{DEFAULT_SUPPORTED_VERSIONS, RuleContext};
pub use resource::{check_cluster, unreadable_secrets};
pub use unknown_fields::unknown_fields;

use crate::domain::form::ClusterForm;
use basic_info::{check_access, check_name, check_registry, check_runtime, check_version};
use container_network::check_network;
use endpoint::check_endpoint;
use extended::check_extended;
use finding::Out;
use node_settings::{
    check_monitoring, check_nics, check_node_naming, check_nodes, check_nodes_in_use, check_stack,
};
use platform::check_not_applied;

/// Ports ACP needs on every control-plane node behind the endpoint.
pub const CONTROL_PLANE_PORTS: [u16; 3] = [6443, 11780, 11781];
/// Most pods per node the docs recommend.
pub const RECOMMENDED_MAX_PODS: u32 = 256;
/// Longest cluster name ACP accepts.
pub const MAX_CLUSTER_NAME: usize = 32;
/// Longest APIServer URL entry.
pub const MAX_APISERVER_URL: usize = 253;

/// Checks the wizard's form.
pub fn check(form: &ClusterForm, ctx: &RuleContext) -> Vec<Finding> {
    let mut o = Out(Vec::new());
    let ips = node_settings::NodeIps::of(form);
    check_name(form, ctx, &mut o);
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
