//! One verdict per cluster for the fleet overview, the single view and the CLI alike: the
//! rotation's state, the due date (last completion + `rotationInterval`) and whether it is
//! overdue, judged against one clock the caller passes in.

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::Serialize;

use super::{EtcdEncryptionConfig, RotationSummary, migration_state, unsupported_reason};

/// What was learned about a cluster's etcd encryption, in domain terms.
#[derive(Debug, Clone, Copy)]
pub enum Observed<'a> {
    /// Nothing yet: the watch has not answered.
    Pending,
    Config(&'a EtcdEncryptionConfig),
    /// The cluster answers but has no `EtcdEncryptionConfig` `default`.
    NotInstalled,
    /// The cluster could not be read; the reason in words.
    Unreachable(&'a str),
}

/// A cluster's etcd-encryption health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    /// A node failed to take the key, or the migration failed.
    FailedNode,
    /// The migration started while a node still serves an older key.
    LaggingNode,
    /// The last rotation completed longer than `rotationInterval` ago and none is under way.
    Overdue,
    /// The cluster could not be read.
    Unreachable,
    /// The manager exists but has not reported a rotation.
    NotReported,
    /// Nodes are loading the new key.
    Rotating,
    /// Every node has the key; the resources are being re-encrypted.
    Migrating,
    /// The etcd-encryption-manager is not installed.
    NotInstalled,
    /// Not read yet.
    Checking,
    Healthy,
    /// The global cluster: the docs exclude it.
    NotSupported,
}

/// What the exit code of the CLI makes of a verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitClass {
    Fine,
    Unhealthy,
    CouldNotCheck,
}

impl Health {
    /// Worst first: the overview sorts by this.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// The tag scripts read (`-o json`), and the word the tables show.
    pub fn tag(self) -> &'static str {
        match self {
            Health::FailedNode => "failed-node",
            Health::LaggingNode => "lagging-node",
            Health::Overdue => "overdue",
            Health::Unreachable => "unreachable",
            Health::NotReported => "not-reported",
            Health::Rotating => "rotating",
            Health::Migrating => "migrating",
            Health::NotInstalled => "not-installed",
            Health::Checking => "checking",
            Health::Healthy => "healthy",
            Health::NotSupported => "not-supported",
        }
    }

    /// A rotation under way, a cluster without the plugin and global are not faults; a cluster
    /// not read (yet) is a question left open.
    pub fn exit_class(self) -> ExitClass {
        match self {
            Health::FailedNode | Health::LaggingNode | Health::Overdue => ExitClass::Unhealthy,
            Health::Unreachable | Health::Checking => ExitClass::CouldNotCheck,
            Health::NotReported
            | Health::Rotating
            | Health::Migrating
            | Health::NotInstalled
            | Health::Healthy
            | Health::NotSupported => ExitClass::Fine,
        }
    }
}

/// A cluster's verdict with the figures the overview shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    pub health: Health,
    /// One line for a person.
    pub headline: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_completed: Option<DateTime<Utc>>,
    /// Last completion plus the rotation interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_due: Option<DateTime<Utc>>,
    /// Seconds past `next_due` when overdue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_secs: Option<i64>,
    /// `Success rev 3`, `Processing rev 4`; `None` before any migration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub migration: Option<String>,
    /// Nodes that failed or lag, for the overview's "where".
    pub nodes_in_trouble: Vec<String>,
}

impl Assessment {
    fn bare(health: Health, headline: String) -> Assessment {
        Assessment {
            health,
            headline,
            revision: None,
            last_completed: None,
            next_due: None,
            overdue_secs: None,
            migration: None,
            nodes_in_trouble: Vec::new(),
        }
    }
}

/// The due date of the next rotation: the last completed migration plus the interval, whether
/// or not a rotation is under way now (then the date says how late this one started).
pub fn next_due(cfg: &EtcdEncryptionConfig) -> Option<DateTime<Utc>> {
    let last = cfg.status.as_ref()?.completed_at()?;
    let interval = ChronoDuration::from_std(cfg.spec.rotation_interval().ok()?).ok()?;
    last.checked_add_signed(interval)
}

/// The one verdict for `cluster` given what was observed, at `now`.
pub fn assess(cluster: &str, observed: Observed<'_>, now: DateTime<Utc>) -> Assessment {
    if let Some(reason) = unsupported_reason(cluster) {
        return Assessment::bare(Health::NotSupported, reason);
    }
    let cfg = match observed {
        Observed::Pending => return Assessment::bare(Health::Checking, "checking".into()),
        Observed::NotInstalled => {
            return Assessment::bare(
                Health::NotInstalled,
                "etcd encryption is not installed".into(),
            );
        }
        Observed::Unreachable(why) => {
            return Assessment::bare(Health::Unreachable, format!("cannot read: {why}"));
        }
        Observed::Config(c) => c,
    };
    let st = cfg.status.clone().unwrap_or_default();
    let summary = st.summary();
    let last_completed = st.completed_at();
    let due = next_due(cfg);
    let mut a = Assessment::bare(Health::Healthy, summary.headline());
    a.revision = (st.revision > 0).then_some(st.revision);
    a.last_completed = last_completed;
    a.next_due = due;
    a.migration = st
        .migration
        .as_ref()
        .map(|m| format!("{} rev {}", m.state, m.revision));
    a.health = match &summary {
        RotationSummary::NotReported => Health::NotReported,
        RotationSummary::Failed { nodes, .. } => {
            a.nodes_in_trouble = nodes.clone();
            Health::FailedNode
        }
        RotationSummary::Lagging { nodes } => {
            a.nodes_in_trouble = nodes.clone();
            Health::LaggingNode
        }
        RotationSummary::InProgress { .. } => {
            let nodes_done = st
                .node_verdicts()
                .iter()
                .all(|(_, v)| *v == super::NodeVerdict::Done);
            let migrating = st.migration.as_ref().is_some_and(|m| {
                m.revision >= st.revision && m.state == migration_state::PROCESSING
            });
            if nodes_done && migrating {
                a.headline = format!("re-encrypting {}", cfg.spec.resources.join(", "));
                Health::Migrating
            } else {
                Health::Rotating
            }
        }
        RotationSummary::Complete => match due {
            Some(d) if d < now => {
                let late = (now - d).num_seconds();
                a.overdue_secs = Some(late);
                a.headline = format!(
                    "rotation overdue by {}: is etcd-encryption-manager running in kube-system?",
                    crate::domain::timeline::format_secs(late)
                );
                Health::Overdue
            }
            _ => Health::Healthy,
        },
    };
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::etcd::{EtcdEncryptionConfigSpec, EtcdEncryptionStatus};
    use serde_json::json;

    fn cfg(status: serde_json::Value, interval: &str) -> EtcdEncryptionConfig {
        let mut c = EtcdEncryptionConfig::new("default", EtcdEncryptionConfigSpec::acp_default());
        c.spec.rotation_interval = interval.into();
        c.status = Some(serde_json::from_value::<EtcdEncryptionStatus>(status).expect("status"));
        c
    }

    fn at(s: &str) -> DateTime<Utc> {
        crate::domain::etcd::parse_time(s).expect("time")
    }

    fn complete(rev: i64, done: &str) -> serde_json::Value {
        json!({"revision": rev,
            "deployStatus": {"a": {"revision": rev, "state": "Success"}, "b": {"revision": rev, "state": "Success"}},
            "migration": {"revision": rev, "state": "Success", "completeTimestamp": done}})
    }

    #[test]
    fn due_is_last_completion_plus_interval_and_overdue_past_it() {
        let c = cfg(complete(3, "2030-01-01T00:00:00Z"), "168h0m0s");
        let before = assess("c", Observed::Config(&c), at("2030-01-07T23:59:59Z"));
        assert_eq!(before.health, Health::Healthy);
        assert_eq!(before.next_due, Some(at("2030-01-08T00:00:00Z")));
        assert_eq!(before.overdue_secs, None);
        // Exactly at the due time it is not late yet.
        let on_time = assess("c", Observed::Config(&c), at("2030-01-08T00:00:00Z"));
        assert_eq!(on_time.health, Health::Healthy);
        let late = assess("c", Observed::Config(&c), at("2030-01-08T02:00:00Z"));
        assert_eq!(late.health, Health::Overdue);
        assert_eq!(late.overdue_secs, Some(7200));
        assert!(late.headline.contains("overdue by 2h"), "{}", late.headline);
        assert_eq!(late.health.exit_class(), ExitClass::Unhealthy);
        assert_eq!(late.last_completed, Some(at("2030-01-01T00:00:00Z")));
        assert_eq!(late.migration.as_deref(), Some("Success rev 3"));
    }

    #[test]
    fn each_rotation_state_has_its_verdict() {
        let now = at("2030-01-02T00:00:00Z");
        let mut rotating = complete(4, "2030-01-01T00:00:00Z");
        rotating["deployStatus"]["a"] = json!({"revision": 4, "state": "Processing"});
        rotating["deployStatus"]["b"] = json!({"revision": 3, "state": "Success"});
        rotating["migration"]["revision"] = json!(3);
        let r = assess("c", Observed::Config(&cfg(rotating, "168h")), now);
        assert_eq!(r.health, Health::Rotating);
        // Still due a week after the last completion while the next one runs.
        assert_eq!(r.next_due, Some(at("2030-01-08T00:00:00Z")));

        let mut migrating = complete(4, "2030-01-01T00:00:00Z");
        migrating["migration"]["state"] = json!("Processing");
        let m = assess("c", Observed::Config(&cfg(migrating, "168h")), now);
        assert_eq!(m.health, Health::Migrating);
        assert_eq!(m.health.exit_class(), ExitClass::Fine);

        let mut lagging = complete(4, "2030-01-01T00:00:00Z");
        lagging["deployStatus"]["b"]["revision"] = json!(3);
        lagging["migration"]["state"] = json!("Processing");
        let l = assess("c", Observed::Config(&cfg(lagging, "168h")), now);
        assert_eq!(
            (l.health, l.nodes_in_trouble.clone()),
            (Health::LaggingNode, vec!["b".to_string()])
        );

        let mut failed = complete(4, "2030-01-01T00:00:00Z");
        failed["deployStatus"]["a"]["state"] = json!("RestartFailed");
        let f = assess("c", Observed::Config(&cfg(failed, "168h")), now);
        assert_eq!(f.health, Health::FailedNode);
        assert_eq!(f.health.exit_class(), ExitClass::Unhealthy);

        let quiet = assess("c", Observed::Config(&cfg(json!({}), "168h")), now);
        assert_eq!(quiet.health, Health::NotReported);
    }

    #[test]
    fn clusters_without_a_rotation_say_why() {
        let now = at("2030-01-02T00:00:00Z");
        let c = cfg(complete(3, "2030-01-01T00:00:00Z"), "168h");
        assert_eq!(
            assess("global", Observed::Config(&c), now).health,
            Health::NotSupported
        );
        assert_eq!(
            assess("x", Observed::NotInstalled, now).health,
            Health::NotInstalled
        );
        let u = assess("x", Observed::Unreachable("timed out"), now);
        assert_eq!(u.health, Health::Unreachable);
        assert!(u.headline.contains("timed out"));
        assert_eq!(u.health.exit_class(), ExitClass::CouldNotCheck);
        assert_eq!(
            assess("x", Observed::Pending, now).health.exit_class(),
            ExitClass::CouldNotCheck
        );
        assert_eq!(Health::NotInstalled.exit_class(), ExitClass::Fine);
    }

    #[test]
    fn worst_sorts_first() {
        let mut v = [
            Health::Healthy,
            Health::Overdue,
            Health::NotSupported,
            Health::FailedNode,
        ];
        v.sort_by_key(|h| h.rank());
        assert_eq!(
            v,
            [
                Health::FailedNode,
                Health::Overdue,
                Health::Healthy,
                Health::NotSupported
            ]
        );
        assert_eq!(Health::LaggingNode.tag(), "lagging-node");
    }
}
