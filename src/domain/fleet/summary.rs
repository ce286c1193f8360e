//! What the watches keep of each cluster and machine: compact summaries with interned step names.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::cluster::{Cluster, Condition, Machine};
use crate::domain::timeline::{self, CondLike, Plan, Resource, StepStats, Timeline, to_utc};

use super::*;

/// A batch of changes to one kind on one platform, coalesced by the watcher.
#[derive(Debug, Clone)]
pub struct Delta<K> {
    pub platform: String,
    /// The whole set after a (re)list: everything not in `applied` is gone.
    pub reset: bool,
    pub applied: Vec<Arc<K>>,
    pub deleted: Vec<String>,
}

/// Shares the few distinct condition types, statuses and reasons among all objects.
#[derive(Debug, Default)]
pub struct Interner {
    pub(super) set: HashSet<Arc<str>>,
}

/// Distinct strings kept; past this, strings are simply not shared (memory stays bounded).
pub(super) const MAX_INTERNED: usize = 4096;

impl Interner {
    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.set.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        if self.set.len() < MAX_INTERNED {
            self.set.insert(a.clone());
        }
        a
    }
}

/// A condition as the model keeps it: shared strings and a parsed time, no probe time.
#[derive(Debug, Clone, PartialEq)]
pub struct SlimCondition {
    pub type_: Arc<str>,
    pub status: Arc<str>,
    pub transition: Option<DateTime<Utc>>,
    pub reason: Option<Arc<str>>,
    pub message: Option<Box<str>>,
}

impl SlimCondition {
    fn from_condition(c: &Condition, i: &mut Interner) -> Self {
        SlimCondition {
            type_: i.intern(&c.type_),
            status: i.intern(&c.status),
            transition: c.transition(),
            reason: c.reason.as_deref().map(|r| i.intern(r)),
            message: c.message.as_deref().map(Box::from),
        }
    }
}

impl CondLike for SlimCondition {
    fn kind(&self) -> &str {
        &self.type_
    }
    fn status(&self) -> &str {
        &self.status
    }
    fn transition(&self) -> Option<DateTime<Utc>> {
        self.transition
    }
    fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
    fn kind_arc(&self) -> Arc<str> {
        self.type_.clone()
    }
}

/// What the cockpit keeps of a cluster: what the table and the timeline show. The full object
/// is fetched on demand (YAML), so a platform with thousands of clusters stays small.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSummary {
    pub name: String,
    pub display_name: String,
    pub phase: String,
    /// The running version (`status.version`), else the requested one.
    pub version: String,
    pub type_: String,
    pub control_plane: usize,
    pub workers: usize,
    pub created: Option<DateTime<Utc>>,
    pub resource_version: String,
    /// Creation steps, in order.
    pub conditions: Vec<SlimCondition>,
    /// Conditions of checks that run after creation (the health check), kept apart so a failing
    /// check on a created cluster is not read as an unfinished creation.
    pub checks: Vec<SlimCondition>,
    /// Set while the cluster is being deleted: since when, and the finalizers still on it.
    pub deleting: Option<(DateTime<Utc>, Vec<String>)>,
}

impl ClusterSummary {
    pub fn from_cluster(c: &Cluster, i: &mut Interner) -> Self {
        let status = c.status.as_ref();
        let (conditions, checks) = status
            .map(|s| timeline::split_checks(&s.conditions))
            .unwrap_or_default();
        let slim = |v: Vec<&Condition>, i: &mut Interner| {
            v.into_iter()
                .map(|c| SlimCondition::from_condition(c, i))
                .collect()
        };
        ClusterSummary {
            name: name_of(&c.metadata),
            display_name: c.spec.display_name.clone().unwrap_or_default(),
            phase: c.phase().as_str().to_string(),
            version: status
                .and_then(|s| s.version.clone())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| c.spec.version.clone()),
            type_: c.spec.type_.clone(),
            control_plane: c.control_plane_count(),
            workers: c.worker_count(),
            created: c.metadata.creation_timestamp.as_ref().and_then(to_utc),
            resource_version: c.metadata.resource_version.clone().unwrap_or_default(),
            conditions: slim(conditions, i),
            checks: slim(checks, i),
            deleting: c
                .metadata
                .deletion_timestamp
                .as_ref()
                .and_then(to_utc)
                .map(|at| (at, c.metadata.finalizers.clone().unwrap_or_default())),
        }
    }

    /// The timeline, expecting the plan learned in `stats`.
    pub fn timeline(&self, now: DateTime<Utc>, stats: &StepStats) -> Timeline {
        self.timeline_with(now, stats, stats.plan(Resource::Cluster))
    }

    /// The timeline, expecting `plan` (e.g. the model's, which is never stale).
    pub fn timeline_with(&self, now: DateTime<Utc>, stats: &StepStats, plan: Plan<'_>) -> Timeline {
        let mut tl = timeline::build(
            self.name.clone(),
            &self.phase,
            self.created,
            &self.conditions,
            &self.checks,
            plan,
            now,
            stats,
        );
        tl.deletion = self
            .deleting
            .as_ref()
            .map(|(at, finalizers)| timeline::Deletion {
                for_secs: (now - *at).num_seconds().max(0),
                finalizers: finalizers.clone(),
            });
        tl
    }
}

/// What the cockpit keeps of a machine (a node added to a cluster).
#[derive(Debug, Clone, PartialEq)]
pub struct MachineSummary {
    pub name: String,
    pub cluster_name: String,
    pub ip: String,
    pub phase: String,
    pub created: Option<DateTime<Utc>>,
    pub resource_version: String,
    pub conditions: Vec<SlimCondition>,
}

impl MachineSummary {
    pub fn from_machine(m: &Machine, i: &mut Interner) -> Self {
        MachineSummary {
            name: name_of(&m.metadata),
            cluster_name: m.spec.cluster_name.clone(),
            ip: m.spec.machine.ip.clone(),
            phase: m.phase().to_string(),
            created: m.metadata.creation_timestamp.as_ref().and_then(to_utc),
            resource_version: m.metadata.resource_version.clone().unwrap_or_default(),
            conditions: m
                .status
                .as_ref()
                .map(|s| {
                    s.conditions
                        .iter()
                        .map(|c| SlimCondition::from_condition(c, i))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    pub fn timeline(&self, now: DateTime<Utc>, stats: &StepStats) -> Timeline {
        self.timeline_with(now, stats, stats.plan(Resource::Machine))
    }

    pub fn timeline_with(&self, now: DateTime<Utc>, stats: &StepStats, plan: Plan<'_>) -> Timeline {
        timeline::build(
            self.name.clone(),
            &self.phase,
            self.created,
            &self.conditions,
            &[],
            plan,
            now,
            stats,
        )
    }
}
