//! What the platform knows that the creation rules need: the Kubernetes releases it
//! publishes and the node addresses other clusters already use.
//!
//! Both are advisory: a fact that cannot be read leaves the rules with their defaults (and a
//! note saying so), because a user without read access to one object must still be able to
//! create a cluster; the platform itself checks again at creation.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};

use super::client::FailureKind;
use super::ops;
use crate::domain::cluster::{Cluster, ClusterMachine, Machine};
use crate::domain::rules::RuleContext;

/// Namespace and name of the ConfigMap on `global` that publishes the versions.
pub const VERSIONS_NAMESPACE: &str = "kube-public";
pub const VERSIONS_CONFIG_MAP: &str = "cluster-info";
/// Its key: a JSON list of the exact releases a new cluster may use.
pub const VERSIONS_KEY: &str = "k8sValidVersions";

/// Platform facts for the rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlatformFacts {
    /// The published releases, newest first; `None` when the platform does not publish them
    /// or they cannot be read, so the rules keep their built-in list.
    pub versions: Option<Vec<String>>,
    /// Node address -> the cluster that node belongs to.
    pub nodes_in_use: BTreeMap<String, String>,
    /// Names of the clusters on the platform; empty when they could not be listed.
    pub cluster_names: BTreeSet<String>,
    /// Why a fact is missing, for the user; empty when everything was read.
    pub notes: Vec<String>,
}

impl PlatformFacts {
    /// The rule context for creating cluster `creating`: the platform's versions when known,
    /// the names of the clusters already there, and the addresses of the nodes of every
    /// other cluster. Machines naming `creating` are not a conflict while no cluster has that
    /// name; once one has, the name is refused and its nodes are reported too, so the name
    /// collision does not hide the node collision.
    pub fn rule_context(&self, creating: &str) -> RuleContext {
        let mut ctx = RuleContext::default()
            .with_published_versions(self.versions.clone().unwrap_or_default());
        ctx.existing_clusters = self.cluster_names.clone();
        let exists = self.cluster_names.contains(creating);
        ctx.nodes_in_use = self
            .nodes_in_use
            .iter()
            .filter(|(_, c)| exists || c.as_str() != creating)
            .map(|(ip, c)| (ip.clone(), c.clone()))
            .collect();
        ctx
    }
}

/// The releases in a `k8sValidVersions` value, parsed exactly as the rules read it.
pub fn parse_versions(raw: &str) -> Result<Vec<String>, String> {
    RuleContext::default()
        .with_platform_versions(raw)
        .map(|c| c.supported_versions)
}

/// Node address -> cluster, from the clusters' `spec.machines` (and `scalingMachines`) and
/// the Machines added to clusters later. The first owner seen wins, clusters before machines,
/// so the answer is stable across lists.
pub fn nodes_in_use(clusters: &[Cluster], machines: &[Machine]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut add = |m: &ClusterMachine, cluster: &str| {
        if cluster.is_empty() {
            return;
        }
        for addr in [Some(m.ip.as_str()), m.ipv6.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|a| !a.is_empty())
        {
            out.entry(addr.to_string())
                .or_insert_with(|| cluster.to_string());
        }
    };
    for c in clusters {
        let name = c.metadata.name.as_deref().unwrap_or_default();
        for m in c.spec.machines.iter().chain(&c.spec.scaling_machines) {
            add(m, name);
        }
    }
    for m in machines {
        add(&m.spec.machine, &m.spec.cluster_name);
    }
    out
}

/// Reads the facts from the `global` cluster. Never fails: what cannot be read is left out
/// and explained in `notes`.
pub async fn fetch(client: &Client) -> PlatformFacts {
    let mut facts = PlatformFacts::default();
    let (versions, clusters, machines) = tokio::join!(
        fetch_versions(client),
        ops::list_clusters(client),
        ops::list_machines(client)
    );
    match versions {
        Ok(v) => facts.versions = v,
        Err(note) => facts.notes.push(note),
    }
    let clusters = clusters.unwrap_or_else(|e| {
        facts.notes.push(format!(
            "the platform's clusters could not be listed ({}), so node addresses are not checked against them",
            e.message
        ));
        Vec::new()
    });
    let machines = machines.unwrap_or_else(|e| {
        facts.notes.push(format!(
            "the platform's machines could not be listed ({}), so node addresses are not checked against them",
            e.message
        ));
        Vec::new()
    });
    facts.nodes_in_use = nodes_in_use(&clusters, &machines);
    facts.cluster_names = clusters
        .iter()
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    facts
}

/// `Ok(None)` when the platform does not publish versions or hides them from this user;
/// `Err` (a note) when they are published but unreadable.
pub async fn fetch_versions(client: &Client) -> Result<Option<Vec<String>>, String> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), VERSIONS_NAMESPACE);
    let cm = match api.get(VERSIONS_CONFIG_MAP).await {
        Ok(cm) => cm,
        Err(e) => {
            let what = format!("get configmap {VERSIONS_NAMESPACE}/{VERSIONS_CONFIG_MAP}");
            let f = super::KubeFailure::from_kube(&e, &what);
            return match f.kind {
                FailureKind::NotFound | FailureKind::Forbidden => Ok(None),
                _ => Err(format!(
                    "the platform's Kubernetes versions could not be read ({}); the built-in list is used",
                    f.message
                )),
            };
        }
    };
    let Some(raw) = cm.data.as_ref().and_then(|d| d.get(VERSIONS_KEY)) else {
        return Ok(None);
    };
    parse_versions(raw).map(Some).map_err(|e| {
        format!(
            "{VERSIONS_NAMESPACE}/{VERSIONS_CONFIG_MAP} has an unusable {VERSIONS_KEY} ({e}); the built-in list is used"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cluster::{ClusterSpec, MachineSpec};
    use crate::domain::rules::{Severity, check_cluster};

    fn cluster(name: &str, ips: &[&str]) -> Cluster {
        let mut c = Cluster::new(name, ClusterSpec::default());
        c.spec.machines = ips
            .iter()
            .map(|ip| ClusterMachine {
                ip: ip.to_string(),
                ..Default::default()
            })
            .collect();
        c
    }

    fn machine(name: &str, cluster: &str, ip: &str) -> Machine {
        Machine::new(
            name,
            MachineSpec {
                cluster_name: cluster.into(),
                machine: ClusterMachine {
                    ip: ip.into(),
                    ipv6: Some("fd00::9".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
    }

    #[test]
    fn nodes_in_use_come_from_clusters_and_machines() {
        let used = nodes_in_use(
            &[cluster("prod", &["10.0.0.1", " 10.0.0.2 ", ""])],
            &[
                machine("m1", "edge", "10.0.0.9"),
                // Already named by a cluster: the cluster's own list wins.
                machine("m2", "edge", "10.0.0.1"),
                // A machine not yet bound to a cluster conflicts with nothing.
                machine("m3", "", "10.0.0.7"),
            ],
        );
        let want: BTreeMap<String, String> = [
            ("10.0.0.1", "prod"),
            ("10.0.0.2", "prod"),
            ("10.0.0.9", "edge"),
            ("fd00::9", "edge"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(used, want);
    }

    #[test]
    fn rule_context_uses_published_versions_and_other_clusters_nodes() {
        let facts = PlatformFacts {
            versions: Some(vec!["1.32.7".into(), "1.31.9".into()]),
            nodes_in_use: [("10.0.0.1", "prod"), ("10.0.0.5", "mine")]
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect(),
            notes: Vec::new(),
            ..Default::default()
        };
        let ctx = facts.rule_context("mine");
        assert_eq!(ctx.supported_versions, vec!["1.32.7", "1.31.9"]);
        assert_eq!(
            ctx.nodes_in_use.into_iter().collect::<Vec<_>>(),
            vec![("10.0.0.1".to_string(), "prod".to_string())]
        );
    }

    #[test]
    fn unknown_facts_keep_the_defaults() {
        let ctx = PlatformFacts::default().rule_context("x");
        assert_eq!(ctx, RuleContext::default());
        let ctx = PlatformFacts {
            versions: Some(Vec::new()),
            ..Default::default()
        }
        .rule_context("x");
        assert_eq!(
            ctx.supported_versions,
            RuleContext::default().supported_versions
        );
    }

    #[test]
    fn parse_versions_reads_the_json_list() {
        assert_eq!(
            parse_versions(r#"["1.32.7", " 1.31.9 "]"#),
            Ok(vec!["1.32.7".to_string(), "1.31.9".to_string()])
        );
        assert!(parse_versions("1.32.7").is_err());
        assert!(parse_versions("[]").is_err());
    }

    #[test]
    fn the_rules_refuse_with_the_facts() {
        let mut c = cluster("new", &["10.0.0.1"]);
        c.spec.version = "1.28.13".into();
        let facts = PlatformFacts {
            versions: Some(vec!["1.32.7".into()]),
            nodes_in_use: [("10.0.0.1".to_string(), "prod".to_string())].into(),
            notes: Vec::new(),
            ..Default::default()
        };
        let findings = check_cluster(&c, &facts.rule_context("new"));
        let err = |field: &str| {
            findings
                .iter()
                .find(|f| f.field == field && f.severity == Severity::Error)
                .map(|f| f.message.clone())
        };
        assert!(
            err("spec.version").is_some_and(|m| m.contains("1.28.13")),
            "{findings:#?}"
        );
        assert!(
            err("spec.machines[0].ip").is_some_and(|m| m.contains("cluster prod")),
            "{findings:#?}"
        );
    }

    #[test]
    fn an_existing_name_is_refused_and_keeps_its_nodes() {
        let facts = PlatformFacts {
            nodes_in_use: [("10.0.0.1".to_string(), "prod".to_string())].into(),
            cluster_names: ["prod".to_string()].into(),
            ..Default::default()
        };
        let c = cluster("prod", &["10.0.0.1"]);
        let findings = check_cluster(&c, &facts.rule_context("prod"));
        for field in ["metadata.name", "spec.machines[0].ip"] {
            assert!(
                findings
                    .iter()
                    .any(|f| f.field == field && f.severity == Severity::Error),
                "no error at {field}: {findings:#?}"
            );
        }
    }
}
