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
    pub failed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// Nodes being added (Machines still being created).
    pub adding_nodes: usize,
    /// The first node being added whose current step failed: on a Running cluster nothing
    /// else in the row would show it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_node: Option<NodeFailure>,
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
            }
        }
        self
    }

    pub fn from_cluster(c: &Cluster) -> Self {
        Self::from_summary(&ClusterSummary::from_cluster(c, &mut Interner::default()))
    }

    pub fn age_secs(&self, now: DateTime<Utc>) -> Option<i64> {
        self.created.map(|c| (now - c).num_seconds().max(0))
    }
}
