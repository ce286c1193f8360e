//! One line of the clusters table, as both front ends and `clusters -o json` show it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::cluster::Cluster;
use crate::domain::timeline::{self, CondLike, Plan, Progress, Resource};

use super::*;

/// One line of the clusters table (and of `clusters -o json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRow {
    pub name: String,
    pub display_name: String,
    pub phase: String,
    pub version: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub control_plane: usize,
    pub workers: usize,
    pub progress: Progress,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_step: Option<String>,
    /// The cluster, its health check, or a node being added is failing: the one definition the
    /// TUI's `is:failed`, `clusters -o json` and the exit codes use.
    pub failed: bool,
    /// What is failing, with the platform's reason and message, when something is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<RowFailure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// Nodes being added (Machines still being created).
    pub adding_nodes: usize,
    /// The first node being added whose current step failed: on a Running cluster nothing
    /// else in the row would show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_node: Option<NodeFailure>,
}

/// What is failing in a row: the step or health check, the platform's reason and message, and
/// the node's address when it is a node being added that fails.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowFailure {
    pub step: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl RowFailure {
    fn of(c: &SlimCondition, node: Option<&str>) -> Self {
        RowFailure {
            step: c.type_.to_string(),
            reason: c.reason.as_deref().map(str::to_string),
            message: c.message.as_deref().map(str::to_string),
            node: node.map(str::to_string),
        }
    }
}

/// A node being added whose current step failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeFailure {
    pub ip: String,
    pub step: String,
}

impl ClusterRow {
    /// A row on its own, measured against TKE's published list; rows of a platform should come
    /// from [`ClusterRow::from_summary_in`] with the platform's plan.
    pub fn from_summary(c: &ClusterSummary) -> Self {
        Self::from_summary_in(c, Plan::published(Resource::Cluster))
    }

    pub fn from_summary_in(c: &ClusterSummary, plan: Plan<'_>) -> Self {
        let sum = timeline::summarize(&c.phase, &c.conditions, plan);
        // A failing health check on a created cluster is shown like a failing step.
        let failing_check = c.checks.iter().find(|k| k.is_false());
        ClusterRow {
            name: c.name.clone(),
            display_name: c.display_name.clone(),
            phase: c.phase.clone(),
            version: c.version.clone(),
            type_: c.type_.clone(),
            control_plane: c.control_plane,
            workers: c.workers,
            progress: sum.progress,
            current_step: sum
                .current
                .map(|i| c.conditions[i].type_.to_string())
                .or_else(|| failing_check.map(|k| k.type_.to_string())),
            failed: sum.failed || failing_check.is_some(),
            failure: match (sum.failed, sum.current) {
                (true, Some(i)) => Some(RowFailure::of(&c.conditions[i], None)),
                _ => failing_check.map(|k| RowFailure::of(k, None)),
            },
            created: c.created,
            adding_nodes: 0,
            failing_node: None,
        }
    }

    /// Counts the cluster's nodes being added and notes the first failing one.
    pub fn with_machines(mut self, machines: &[&Arc<MachineSummary>], plan: Plan<'_>) -> Self {
        for m in machines {
            let sum = timeline::summarize(&m.phase, &m.conditions, plan);
            // Only nodes still being created: not joined ones, nor ones being removed.
            if sum.finished || !timeline::creating(&m.phase) {
                continue;
            }
            self.adding_nodes += 1;
            if self.failing_node.is_none()
                && sum.failed
                && let Some(i) = sum.current
            {
                self.failing_node = Some(NodeFailure {
                    ip: m.ip.clone(),
                    step: m.conditions[i].type_.to_string(),
                });
                self.failed = true;
                if self.failure.is_none() {
                    self.failure = Some(RowFailure::of(&m.conditions[i], Some(&m.ip)));
                }
            }
        }
        self
    }

    pub fn from_cluster(c: &Cluster) -> Self {
        Self::from_summary(&ClusterSummary::from_cluster(c, &mut Interner::default()))
    }

    /// The cluster's own step or health check fails (not only a node being added).
    pub fn cluster_failed(&self) -> bool {
        self.failed && self.failure.as_ref().is_none_or(|f| f.node.is_none())
    }

    pub fn age_secs(&self, now: DateTime<Utc>) -> Option<i64> {
        self.created.map(|c| (now - c).num_seconds().max(0))
    }
}
