//! `EtcdEncryptionConfig` (`cluster.alauda.io/v1alpha1`): the object ACP's
//! etcd-encryption-manager reads its settings from and reports key rotation progress on.
//!
//! The manager rotates the key, rewrites `encryption-provider.conf` on every control-plane node
//! (`status.deployStatus`, one entry per node), hot-reloads kube-apiserver, then re-encrypts
//! the listed resources (`status.migration`). A rotation is done when every node and the
//! migration report `Success` at the current `status.revision`.

pub mod health;
pub mod node_files;
pub mod rotation_log;

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// API group of the resource.
pub const GROUP: &str = "cluster.alauda.io";
/// The only version.
pub const VERSION: &str = "v1alpha1";
/// The object the manager uses; it is cluster-scoped.
pub const DEFAULT_NAME: &str = "default";
/// `spec.type` of the only supported algorithm (256-bit AES-GCM).
pub const TYPE_AESGCM: &str = "aesgcm";
/// The rotation interval ACP ships with: seven days.
pub const DEFAULT_ROTATION_INTERVAL: &str = "168h0m0s";
/// Resources ACP encrypts by default.
pub const DEFAULT_RESOURCES: [&str; 2] = ["secrets", "configmaps"];
/// How many keys the manager keeps, newest first.
pub const KEPT_KEYS: usize = 8;

/// The platform's own cluster, which the etcd Encryption Manager does not support.
pub const GLOBAL_CLUSTER: &str = "global";
/// The docs' rule, quoted (etcd Encryption > Installation > Note).
pub const SUPPORT_RULE: &str =
    "Currently supported: On-Premises clusters, DCS clusters. Not supported: global cluster.";

/// Why etcd encryption cannot be used on `cluster`, if it cannot: only global is excluded by
/// the docs; which other clusters have the plugin is read from the cluster itself.
pub fn unsupported_reason(cluster: &str) -> Option<String> {
    (cluster == GLOBAL_CLUSTER).then(|| {
        format!(
            "etcd encryption is not supported on the global cluster (ACP docs, etcd Encryption: \"{SUPPORT_RULE}\")"
        )
    })
}

/// `EtcdEncryptionConfig.spec`.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[kube(
    group = "cluster.alauda.io",
    version = "v1alpha1",
    kind = "EtcdEncryptionConfig",
    status = "EtcdEncryptionStatus",
    shortname = "eec",
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct EtcdEncryptionConfigSpec {
    /// Resources to encrypt, e.g. `secrets`, `configmaps`.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Go duration text, e.g. `168h0m0s`.
    #[serde(default)]
    pub rotation_interval: String,
    /// `aesgcm`.
    #[serde(rename = "type", default)]
    pub type_: String,
}

impl EtcdEncryptionConfigSpec {
    /// ACP's defaults: secrets and configmaps, AES-GCM, every 168 h.
    pub fn acp_default() -> Self {
        EtcdEncryptionConfigSpec {
            resources: DEFAULT_RESOURCES.iter().map(|s| s.to_string()).collect(),
            rotation_interval: DEFAULT_ROTATION_INTERVAL.to_string(),
            type_: TYPE_AESGCM.to_string(),
        }
    }

    /// The rotation interval, or why it cannot be read.
    pub fn rotation_interval(&self) -> Result<Duration, String> {
        parse_go_duration(&self.rotation_interval)
    }
}

/// `EtcdEncryptionConfig.status`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EtcdEncryptionStatus {
    /// The key revision the manager is rolling out (or has rolled out).
    #[serde(default)]
    pub revision: i64,
    /// Per control-plane node (keyed by node IP in ACP's own example).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub deploy_status: BTreeMap<String, NodeDeployStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration: Option<MigrationStatus>,
}

/// `status.deployStatus[<node>]`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
pub struct NodeDeployStatus {
    #[serde(default)]
    pub revision: i64,
    /// `Processing`, `Updated`, `Success`, `UpdateFailed`, `RestartFailed`.
    #[serde(default)]
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `status.migration`: re-encryption of the listed resources with the newest key.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MigrationStatus {
    #[serde(default)]
    pub revision: i64,
    /// `Processing`, `Success`, `Failed`.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// RFC 3339; kept as text so that an odd value never makes the object unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete_timestamp: Option<String>,
}

/// `deployStatus[].state` values.
pub mod deploy_state {
    pub const PROCESSING: &str = "Processing";
    pub const UPDATED: &str = "Updated";
    pub const SUCCESS: &str = "Success";
    pub const UPDATE_FAILED: &str = "UpdateFailed";
    pub const RESTART_FAILED: &str = "RestartFailed";
}

/// `migration.state` values.
pub mod migration_state {
    pub const PROCESSING: &str = "Processing";
    pub const SUCCESS: &str = "Success";
    pub const FAILED: &str = "Failed";
}

/// How one node stands in the current rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeVerdict {
    /// On the current revision and reloaded.
    Done,
    /// Working on the current revision (`Processing` or `Updated`).
    InProgress,
    /// Still reports an older revision: the manager has not reached it yet, or it is stuck.
    Behind { node_revision: i64 },
    /// `UpdateFailed` or `RestartFailed`.
    Failed { state: String, message: String },
    /// A state this version does not know.
    Unknown(String),
}

/// How the whole rotation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationVerdict {
    /// No status yet: the manager has not reported (not installed, or just started).
    NotReported,
    /// Every node and the migration are done at the current revision.
    Healthy,
    /// Nodes or the migration are still working; nothing has failed.
    Rotating,
    /// At least one node failed or the migration failed.
    Failed,
}

impl fmt::Display for RotationVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RotationVerdict::NotReported => "not reported",
            RotationVerdict::Healthy => "healthy",
            RotationVerdict::Rotating => "rotating",
            RotationVerdict::Failed => "failed",
        })
    }
}

impl EtcdEncryptionStatus {
    /// The verdict for one node's entry, judged against the overall revision.
    pub fn node_verdict(&self, node: &NodeDeployStatus) -> NodeVerdict {
        match node.state.as_str() {
            deploy_state::UPDATE_FAILED | deploy_state::RESTART_FAILED => NodeVerdict::Failed {
                state: node.state.clone(),
                message: node.message.clone().unwrap_or_default(),
            },
            _ if node.revision < self.revision => NodeVerdict::Behind {
                node_revision: node.revision,
            },
            deploy_state::SUCCESS => NodeVerdict::Done,
            deploy_state::PROCESSING | deploy_state::UPDATED => NodeVerdict::InProgress,
            other => NodeVerdict::Unknown(other.to_string()),
        }
    }

    /// Each node with its verdict, in key order.
    pub fn node_verdicts(&self) -> Vec<(&str, NodeVerdict)> {
        self.deploy_status
            .iter()
            .map(|(k, v)| (k.as_str(), self.node_verdict(v)))
            .collect()
    }

    /// Nodes that did not reach the current revision, or failed on it.
    pub fn lagging_nodes(&self) -> Vec<&str> {
        self.node_verdicts()
            .into_iter()
            .filter(|(_, v)| !matches!(v, NodeVerdict::Done | NodeVerdict::InProgress))
            .map(|(k, _)| k)
            .collect()
    }

    /// Whether the migration finished at the current revision.
    pub fn migration_done(&self) -> bool {
        self.migration
            .as_ref()
            .is_some_and(|m| m.state == migration_state::SUCCESS && m.revision >= self.revision)
    }

    /// The overall verdict.
    pub fn verdict(&self) -> RotationVerdict {
        if self.revision == 0 && self.deploy_status.is_empty() && self.migration.is_none() {
            return RotationVerdict::NotReported;
        }
        let verdicts = self.node_verdicts();
        let migration_failed = self
            .migration
            .as_ref()
            .is_some_and(|m| m.state == migration_state::FAILED);
        if migration_failed
            || verdicts
                .iter()
                .any(|(_, v)| matches!(v, NodeVerdict::Failed { .. }))
        {
            return RotationVerdict::Failed;
        }
        let nodes_done = verdicts.iter().all(|(_, v)| *v == NodeVerdict::Done);
        if nodes_done && self.migration_done() {
            RotationVerdict::Healthy
        } else {
            RotationVerdict::Rotating
        }
    }
}

/// How the whole rotation stands, in the words the pane and the CLI use: [`RotationVerdict`]
/// with the lagging case told apart from an ordinary rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotationSummary {
    /// No status yet: the manager has not reported.
    NotReported,
    /// Nodes or the migration are working; `done` of `total` nodes are on the new key.
    InProgress { done: usize, total: usize },
    /// Every node and the migration are done at the current revision.
    Complete,
    /// The manager moved on (the migration started) while these nodes still hold an older
    /// revision: they did not load the new key, and the migration cannot finish without them.
    Lagging { nodes: Vec<String> },
    /// These nodes failed (`UpdateFailed`/`RestartFailed`), or the migration failed.
    Failed {
        nodes: Vec<String>,
        migration_failed: bool,
    },
}

impl RotationSummary {
    /// A short tag for scripts: `not-reported`, `in-progress`, `complete`, `lagging`, `failed`.
    pub fn tag(&self) -> &'static str {
        match self {
            RotationSummary::NotReported => "not-reported",
            RotationSummary::InProgress { .. } => "in-progress",
            RotationSummary::Complete => "complete",
            RotationSummary::Lagging { .. } => "lagging",
            RotationSummary::Failed { .. } => "failed",
        }
    }

    /// One line for a person.
    pub fn headline(&self) -> String {
        match self {
            RotationSummary::NotReported => "no status reported yet".to_string(),
            RotationSummary::InProgress { done, total } => {
                format!("rotation in progress ({done}/{total} nodes on the new key)")
            }
            RotationSummary::Complete => "rotation complete".to_string(),
            RotationSummary::Lagging { nodes } => match nodes.as_slice() {
                [one] => format!("node {one} lagging"),
                many => format!("{} nodes lagging", many.len()),
            },
            RotationSummary::Failed {
                nodes,
                migration_failed,
            } => match (nodes.as_slice(), migration_failed) {
                ([], _) => "migration failed".to_string(),
                ([one], _) => format!("node {one} failed"),
                (many, _) => format!("{} nodes failed", many.len()),
            },
        }
    }
}

impl EtcdEncryptionStatus {
    /// The rotation summary: failures first, then nodes left behind by a migration that has
    /// already started, then progress.
    pub fn summary(&self) -> RotationSummary {
        if self.verdict() == RotationVerdict::NotReported {
            return RotationSummary::NotReported;
        }
        let verdicts = self.node_verdicts();
        let failed: Vec<String> = verdicts
            .iter()
            .filter(|(_, v)| matches!(v, NodeVerdict::Failed { .. }))
            .map(|(k, _)| k.to_string())
            .collect();
        let migration_failed = self
            .migration
            .as_ref()
            .is_some_and(|m| m.state == migration_state::FAILED);
        if !failed.is_empty() || migration_failed {
            return RotationSummary::Failed {
                nodes: failed,
                migration_failed,
            };
        }
        // The manager migrates only once it is done with the nodes, so a node still behind
        // after the migration started is one it could not bring along, not one it has yet to reach.
        let migrating = self
            .migration
            .as_ref()
            .is_some_and(|m| m.revision >= self.revision && self.revision > 0);
        let behind: Vec<String> = verdicts
            .iter()
            .filter(|(_, v)| matches!(v, NodeVerdict::Behind { .. }))
            .map(|(k, _)| k.to_string())
            .collect();
        if migrating && !behind.is_empty() {
            return RotationSummary::Lagging { nodes: behind };
        }
        if self.verdict() == RotationVerdict::Healthy {
            return RotationSummary::Complete;
        }
        RotationSummary::InProgress {
            done: verdicts
                .iter()
                .filter(|(_, v)| *v == NodeVerdict::Done)
                .count(),
            total: verdicts.len(),
        }
    }

    /// When the last rotation's migration finished, if the status says.
    pub fn completed_at(&self) -> Option<DateTime<Utc>> {
        let m = self.migration.as_ref()?;
        if m.state != migration_state::SUCCESS {
            return None;
        }
        parse_time(m.complete_timestamp.as_deref()?)
    }
}

impl EtcdEncryptionConfig {
    /// When the next rotation is due: the last completed migration plus the rotation interval.
    /// `None` while a rotation is under way or when either is unknown.
    pub fn next_rotation_due(&self) -> Option<DateTime<Utc>> {
        let st = self.status.as_ref()?;
        if st.summary() != RotationSummary::Complete {
            return None;
        }
        let interval = self.spec.rotation_interval().ok()?;
        let interval = chrono::Duration::from_std(interval).ok()?;
        st.completed_at()?.checked_add_signed(interval)
    }
}

/// An RFC 3339 time; `None` for anything else, so a malformed value never hides the rest.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Where the manager keeps its files on each control-plane node.
pub const PROVIDER_CONF: &str = "/etc/kubernetes/encryption-provider.conf";
/// Historical key records, for recovery.
pub const PROVIDER_HISTORY: &str = "/etc/kubernetes/encryption-provider-history.bak";

/// What a node's verdict means and what to check on the node, for the pane and the CLI.
/// `None` for a node that is fine or still working.
pub fn node_advice(node: &str, verdict: &NodeVerdict, revision: i64) -> Option<NodeAdvice> {
    let manager_logs =
        "kubectl -n kube-system logs deploy/etcd-encryption-manager (the manager's view)"
            .to_string();
    match verdict {
        NodeVerdict::Done | NodeVerdict::InProgress => None,
        NodeVerdict::Behind { node_revision } => Some(NodeAdvice {
            meaning: format!(
                "{node} still serves key rev {node_revision} of {revision}: the new encryption-provider.conf was not written there, or kube-apiserver did not reload it. The migration waits for it."
            ),
            reported: None,
            checks: vec![
                format!("on {node}: ls -l {PROVIDER_CONF} (rewritten at the last rotation?)"),
                format!(
                    "on {node}: crictl ps --name kube-apiserver (running, with --encryption-provider-config?)"
                ),
                manager_logs,
            ],
        }),
        NodeVerdict::Failed { state, message } => {
            let meaning = if state == deploy_state::RESTART_FAILED {
                format!(
                    "kube-apiserver on {node} did not come back healthy after loading the new encryption-provider.conf."
                )
            } else {
                format!("The manager could not write the new {PROVIDER_CONF} on {node}.")
            };
            let mut checks = vec![
                format!(
                    "on {node}: crictl ps -a --name kube-apiserver, then crictl logs <id> (encryption config errors?)"
                ),
                format!(
                    "on {node}: sha256sum {PROVIDER_CONF} (the same on every control-plane node?)"
                ),
                format!("earlier keys, to restore from: {PROVIDER_HISTORY}"),
            ];
            if state == deploy_state::UPDATE_FAILED {
                checks.insert(
                    0,
                    format!("on {node}: free space and permissions under /etc/kubernetes"),
                );
            }
            Some(NodeAdvice {
                meaning,
                reported: Some(message.clone()).filter(|m| !m.is_empty()),
                checks,
            })
        }
        NodeVerdict::Unknown(s) => Some(NodeAdvice {
            meaning: format!("{node} reports state {s:?}, which this version does not know."),
            reported: None,
            checks: vec![manager_logs],
        }),
    }
}

/// A node that needs attention: what it means, what it reported, and what to check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeAdvice {
    pub meaning: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reported: Option<String>,
    pub checks: Vec<String>,
}

impl EtcdEncryptionStatus {
    /// Whether a node needs a person: it failed, reports an unknown state, or was left behind
    /// by a migration that already started. A node merely waiting for its turn does not.
    pub fn needs_attention(&self, node: &str) -> bool {
        let Some(d) = self.deploy_status.get(node) else {
            return false;
        };
        match self.node_verdict(d) {
            NodeVerdict::Failed { .. } | NodeVerdict::Unknown(_) => true,
            NodeVerdict::Behind { .. } => matches!(
                self.summary(),
                RotationSummary::Lagging { ref nodes } if nodes.iter().any(|n| n == node)
            ),
            NodeVerdict::Done | NodeVerdict::InProgress => false,
        }
    }
}

/// Since when each node has held its current (revision, state), as seen by a watcher: the
/// API has no per-node timestamps, so the time of the first observation is the best there is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSince {
    entries: BTreeMap<String, SinceEntry>,
}

/// One node's observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinceEntry {
    pub revision: i64,
    pub state: String,
    pub at: DateTime<Utc>,
    /// False when the node already was in this state at the first observation: then `at` is
    /// only a lower bound ("at least since").
    pub exact: bool,
}

impl NodeSince {
    /// Folds an observation of `status` made at `at` into the record.
    pub fn observe(&mut self, status: &EtcdEncryptionStatus, at: DateTime<Utc>) {
        let first = self.entries.is_empty();
        let mut next = BTreeMap::new();
        for (node, d) in &status.deploy_status {
            let entry = match self.entries.remove(node) {
                Some(e) if e.revision == d.revision && e.state == d.state => e,
                old => SinceEntry {
                    revision: d.revision,
                    state: d.state.clone(),
                    at,
                    exact: !first && old.is_some(),
                },
            };
            next.insert(node.clone(), entry);
        }
        self.entries = next;
    }

    pub fn get(&self, node: &str) -> Option<&SinceEntry> {
        self.entries.get(node)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

/// Parses a Go `time.Duration` string such as `168h0m0s`, `90m`, `1.5h` or `500ms`.
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    let bad = |why: &str| {
        format!("rotation interval {text:?} is not a duration ({why}); write it like 168h0m0s")
    };
    if s.is_empty() {
        return Err(bad("it is empty"));
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.starts_with('-') {
        return Err(bad("it is negative"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad("a number is missing"));
        }
        let value: f64 = rest[..num_len]
            .parse()
            .map_err(|_| bad("a number is malformed"))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(bad("a unit is missing")),
            _ => return Err(bad("the unit is not one of h, m, s, ms, us, ns")),
        };
        rest = &rest[unit_len..];
        total += value * seconds;
    }
    if !total.is_finite() || total > u64::MAX as f64 / 2.0 {
        return Err(bad("it is too large"));
    }
    Ok(Duration::from_secs_f64(total))
}

/// Formats a duration the way Go prints one with whole seconds: `168h0m0s`, `5m0s`, `30s`.
pub fn format_go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests;
