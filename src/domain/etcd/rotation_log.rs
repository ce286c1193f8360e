//! Rotations as a watcher sees them happen: when a new revision appeared, when every node
//! reached it, when the migration finished, and how long each took. The API keeps no such
//! history, so it exists only for the session, and only the last [`LOG_CAP`] rotations.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use super::{EtcdEncryptionStatus, NodeVerdict, SinceEntry, migration_state};

/// Rotations kept per cluster.
pub const LOG_CAP: usize = 16;

/// One rotation seen live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRotation {
    pub revision: i64,
    /// When the new revision was first seen; `None` when the watch started mid-rotation.
    pub started: Option<DateTime<Utc>>,
    pub nodes_done: Option<DateTime<Utc>>,
    pub migrated: Option<DateTime<Utc>>,
}

impl SeenRotation {
    /// Seconds from the start to every node having the key.
    pub fn nodes_secs(&self) -> Option<i64> {
        Some((self.nodes_done? - self.started?).num_seconds())
    }

    /// Seconds from the start to the end of the migration.
    pub fn total_secs(&self) -> Option<i64> {
        Some((self.migrated? - self.started?).num_seconds())
    }
}

/// The rotations of one cluster seen this session, newest last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RotationLog {
    seen: VecDeque<SeenRotation>,
}

impl RotationLog {
    /// Folds an observation in. The first observation only sets the starting point.
    pub fn observe(&mut self, st: &EtcdEncryptionStatus, at: DateTime<Utc>) {
        let first = self.seen.is_empty();
        if self.seen.back().is_none_or(|r| r.revision != st.revision) {
            self.seen.push_back(SeenRotation {
                revision: st.revision,
                started: (!first).then_some(at),
                nodes_done: None,
                migrated: None,
            });
            while self.seen.len() > LOG_CAP {
                self.seen.pop_front();
            }
        }
        let Some(cur) = self.seen.back_mut() else {
            return;
        };
        let all_done = !st.deploy_status.is_empty()
            && st
                .node_verdicts()
                .iter()
                .all(|(_, v)| *v == NodeVerdict::Done);
        if all_done && cur.nodes_done.is_none() && cur.started.is_some() {
            cur.nodes_done = Some(at);
        }
        let migrated = st
            .migration
            .as_ref()
            .is_some_and(|m| m.state == migration_state::SUCCESS && m.revision >= st.revision);
        if migrated && cur.migrated.is_none() && cur.started.is_some() {
            cur.migrated = Some(at);
        }
    }

    /// Rotations seen start to end or under way, newest last; the one the watch started in
    /// (no start seen) is left out.
    pub fn rotations(&self) -> impl Iterator<Item = &SeenRotation> {
        self.seen.iter().filter(|r| r.started.is_some())
    }
}

/// The best known "since when" for a node's current state: the live observation when the
/// change was seen; else, for a node done on a completed rotation, the migration's end (the
/// manager migrates only after every node took the key), which beats "since the pane opened".
pub fn node_held_since(
    st: &EtcdEncryptionStatus,
    node: &str,
    seen: Option<&SinceEntry>,
) -> Option<(DateTime<Utc>, bool)> {
    let seen = seen?;
    if seen.exact {
        return Some((seen.at, true));
    }
    let done = st
        .deploy_status
        .get(node)
        .is_some_and(|d| st.node_verdict(d) == NodeVerdict::Done);
    let bound = st
        .completed_at()
        .filter(|_| done && st.migration_done())
        .filter(|t| *t < seen.at);
    Some((bound.unwrap_or(seen.at), false))
}

/// Nodes by name with their (since, exact) pair, for a table.
pub fn held_since_all(
    st: &EtcdEncryptionStatus,
    since: &super::NodeSince,
) -> BTreeMap<String, (DateTime<Utc>, bool)> {
    st.deploy_status
        .keys()
        .filter_map(|n| node_held_since(st, n, since.get(n)).map(|v| (n.clone(), v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::etcd::NodeSince;
    use serde_json::json;

    fn st(v: serde_json::Value) -> EtcdEncryptionStatus {
        serde_json::from_value(v).expect("status")
    }

    fn t(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_900_000_000 + s, 0).expect("time")
    }

    fn at(rev: i64, a: (i64, &str), b: (i64, &str), mig: (i64, &str)) -> EtcdEncryptionStatus {
        st(json!({"revision": rev,
            "deployStatus": {"a": {"revision": a.0, "state": a.1}, "b": {"revision": b.0, "state": b.1}},
            "migration": {"revision": mig.0, "state": mig.1, "completeTimestamp": "2030-01-01T00:00:00Z"}}))
    }

    #[test]
    fn a_rotation_seen_live_has_its_times_and_durations() {
        let mut log = RotationLog::default();
        log.observe(&at(3, (3, "Success"), (3, "Success"), (3, "Success")), t(0));
        assert_eq!(
            log.rotations().count(),
            0,
            "the starting point is no rotation seen"
        );
        log.observe(
            &at(4, (4, "Processing"), (3, "Success"), (3, "Success")),
            t(10),
        );
        log.observe(
            &at(4, (4, "Success"), (4, "Success"), (3, "Success")),
            t(40),
        );
        log.observe(
            &at(4, (4, "Success"), (4, "Success"), (4, "Processing")),
            t(45),
        );
        log.observe(
            &at(4, (4, "Success"), (4, "Success"), (4, "Success")),
            t(70),
        );
        let r: Vec<&SeenRotation> = log.rotations().collect();
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].revision, r[0].nodes_secs(), r[0].total_secs()),
            (4, Some(30), Some(60))
        );
        for i in 0..(LOG_CAP as i64 + 5) {
            log.observe(
                &at(
                    5 + i,
                    (5 + i, "Success"),
                    (5 + i, "Success"),
                    (5 + i, "Success"),
                ),
                t(100 + i),
            );
        }
        assert_eq!(log.rotations().count(), LOG_CAP, "bounded");
    }

    #[test]
    fn since_falls_back_to_the_migration_end_not_to_the_first_look() {
        let s = at(3, (3, "Success"), (3, "Success"), (3, "Success"));
        let mut since = NodeSince::default();
        let opened = crate::domain::etcd::parse_time("2030-01-02T00:00:00Z").expect("t");
        since.observe(&s, opened);
        let (when, exact) = node_held_since(&s, "a", since.get("a")).expect("known");
        assert_eq!(when.to_rfc3339(), "2030-01-01T00:00:00+00:00");
        assert!(!exact);
        // A node still working has only the first look to go by.
        let busy = at(4, (4, "Processing"), (3, "Success"), (3, "Success"));
        let mut since = NodeSince::default();
        since.observe(&busy, opened);
        assert_eq!(
            node_held_since(&busy, "a", since.get("a")),
            Some((opened, false))
        );
        assert_eq!(held_since_all(&busy, &since).len(), 2);
    }
}
