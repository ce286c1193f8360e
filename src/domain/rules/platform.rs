//! What the rules know of the platform beyond the form, and the page choices the platform
//! does not read.

use std::collections::{BTreeMap, BTreeSet};

use super::finding::Out;
use crate::domain::form::{ANN_EXTERNAL_ACCESS, ClusterForm, ImageRegistry, MonitoringKind};

/// What the rules know about the platform beyond the form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleContext {
    /// The Kubernetes releases a new cluster may use, newest first: the platform's own list
    /// when [`Self::versions_published`], else one release per minor the docs support.
    pub supported_versions: Vec<String>,
    /// Whether `supported_versions` is the platform's published `k8sValidVersions`. The
    /// platform accepts a `spec.version` only when it is exactly one of those entries, so then
    /// a version is checked for exact membership; without the platform's list, any patch
    /// release of a supported minor passes (with a note that the platform confirms it).
    pub versions_published: bool,
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
    /// Names of the clusters already on the platform: a new cluster needs a name of its own.
    pub existing_clusters: BTreeSet<String>,
}

/// Kubernetes releases offered when the platform's own list is not known, newest first.
///
/// The docs name the supported minors (1.28, 1.29, 1.30, 1.31); which patch releases a platform
/// offers is the platform's to say. This fallback names one release per minor (those the
/// sandbox platform publishes) for the wizard to offer; the rules accept any patch release of
/// these minors until the platform's `k8sValidVersions` replaces the list.
pub const DEFAULT_SUPPORTED_VERSIONS: [&str; 4] = ["1.31.9", "1.30.14", "1.29.15", "1.28.13"];

impl Default for RuleContext {
    fn default() -> Self {
        Self {
            supported_versions: DEFAULT_SUPPORTED_VERSIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
            versions_published: false,
            cri_docker_enabled: None,
            hostnames: BTreeMap::new(),
            vm_instances: None,
            subnet_prefix_v4: None,
            subnet_prefix_v6: None,
            nodes_in_use: BTreeMap::new(),
            existing_clusters: BTreeSet::new(),
        }
    }
}

impl RuleContext {
    /// The context with the platform's own version list, read from the `k8sValidVersions`
    /// value (a JSON array of strings) of ConfigMap `kube-public/cluster-info` on `global`.
    pub fn with_platform_versions(self, k8s_valid_versions: &str) -> Result<Self, String> {
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
        Ok(self.with_published_versions(list))
    }

    /// The context with the releases the platform publishes, which then decide exactly; an
    /// empty list says nothing and keeps the context as it is.
    pub fn with_published_versions(mut self, list: Vec<String>) -> Self {
        if !list.is_empty() {
            self.supported_versions = list;
            self.versions_published = true;
        }
        self
    }
}

/// Choices of ACP's page that have no documented place in the Cluster resource. The form
/// keeps them in `acp-cockpit.io/` annotations so they survive an export, but the platform
/// does not read those, so the user must know the choice is not applied at creation.
pub(super) fn check_not_applied(form: &ClusterForm, o: &mut Out) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::{ContainerRuntime, NodeNaming, VmDeploy};
    use crate::domain::rules::tests::{good, problems_with};
    use crate::domain::rules::*;

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
}
