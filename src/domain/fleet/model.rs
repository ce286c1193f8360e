//! The platform's clusters and machines as the watches last reported them.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::domain::cluster::{Cluster, Machine};
use crate::domain::timeline::{self, Plan, PlanTally, Resource, StepStats};

use super::*;

/// One platform's clusters and machines, by name.
#[derive(Debug, Clone, Default)]
pub struct ClusterModel {
    clusters: HashMap<String, Arc<ClusterSummary>>,
    machines: HashMap<String, Arc<MachineSummary>>,
    /// Machine names by cluster, so a row finds its nodes without scanning every machine.
    machines_by_cluster: HashMap<String, BTreeSet<String>>,
    /// Step sequences of the finished clusters and machines, kept up to date with every delta so
    /// the plan rows are measured against is never stale.
    cluster_plans: PlanTally,
    machine_plans: PlanTally,
    /// A first full list has arrived.
    pub synced: bool,
}

pub(super) fn name_of(meta: &kube::api::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}

impl ClusterModel {
    pub fn new() -> Self {
        Self::default()
    }

    /// A model of full objects, e.g. from a list call.
    pub fn from_objects(clusters: &[Cluster], machines: &[Machine]) -> Self {
        let mut i = Interner::default();
        let mut m = ClusterModel::new();
        m.apply_clusters(&Delta {
            platform: String::new(),
            reset: true,
            applied: clusters
                .iter()
                .map(|c| Arc::new(ClusterSummary::from_cluster(c, &mut i)))
                .collect(),
            deleted: Vec::new(),
        });
        m.apply_machines(&Delta {
            platform: String::new(),
            reset: true,
            applied: machines
                .iter()
                .map(|c| Arc::new(MachineSummary::from_machine(c, &mut i)))
                .collect(),
            deleted: Vec::new(),
        });
        m
    }

    pub fn apply_clusters(&mut self, d: &Delta<ClusterSummary>) {
        self.apply_clusters_and_check_plan(d);
    }

    /// Applies a batch; true when the learned cluster plan changed, so every row of a cluster
    /// still being created must be measured again.
    pub fn apply_clusters_and_check_plan(&mut self, d: &Delta<ClusterSummary>) -> bool {
        let before = self.cluster_plans.best().map(<[Arc<str>]>::to_vec);
        if d.reset {
            self.clusters.clear();
            self.cluster_plans.clear();
            self.synced = true;
        }
        let tally = &mut self.cluster_plans;
        let forget = |tally: &mut PlanTally, old: Option<Arc<ClusterSummary>>| {
            if let Some(seq) =
                old.and_then(|o| timeline::finished_sequence(&o.phase, &o.conditions))
            {
                tally.remove(&seq);
            }
        };
        for c in &d.applied {
            forget(tally, self.clusters.insert(c.name.clone(), c.clone()));
            if let Some(seq) = timeline::finished_sequence(&c.phase, &c.conditions) {
                tally.add(seq);
            }
        }
        for n in &d.deleted {
            forget(tally, self.clusters.remove(n));
        }
        self.cluster_plans.best() != before.as_deref()
    }

    pub fn apply_machines(&mut self, d: &Delta<MachineSummary>) {
        self.apply_machines_and_list_clusters(d);
    }

    /// Applies a batch; returns the clusters whose machines changed (their rows change too).
    pub fn apply_machines_and_list_clusters(
        &mut self,
        d: &Delta<MachineSummary>,
    ) -> BTreeSet<String> {
        let mut touched = BTreeSet::new();
        if d.reset {
            touched.extend(self.machines_by_cluster.keys().cloned());
            self.machines.clear();
            self.machines_by_cluster.clear();
            self.machine_plans.clear();
        }
        let tally = &mut self.machine_plans;
        let by_cluster = &mut self.machines_by_cluster;
        let mut forget = |old: Option<Arc<MachineSummary>>, touched: &mut BTreeSet<String>| {
            let Some(o) = old else { return };
            if let Some(seq) = timeline::finished_sequence(&o.phase, &o.conditions) {
                tally.remove(&seq);
            }
            if let Some(set) = by_cluster.get_mut(&o.cluster_name) {
                set.remove(&o.name);
                if set.is_empty() {
                    by_cluster.remove(&o.cluster_name);
                }
            }
            touched.insert(o.cluster_name.clone());
        };
        for m in &d.applied {
            forget(
                self.machines.insert(m.name.clone(), m.clone()),
                &mut touched,
            );
        }
        for n in &d.deleted {
            forget(self.machines.remove(n), &mut touched);
        }
        for m in &d.applied {
            if let Some(seq) = timeline::finished_sequence(&m.phase, &m.conditions) {
                self.machine_plans.add(seq);
            }
            self.machines_by_cluster
                .entry(m.cluster_name.clone())
                .or_default()
                .insert(m.name.clone());
            touched.insert(m.cluster_name.clone());
        }
        touched
    }

    /// The plan a resource of this platform still being created is expected to follow.
    pub fn plan(&self, r: Resource) -> Plan<'_> {
        Plan::from_tally(
            r,
            match r {
                Resource::Cluster => &self.cluster_plans,
                Resource::Machine => &self.machine_plans,
            },
        )
    }

    pub fn cluster(&self, name: &str) -> Option<&Arc<ClusterSummary>> {
        self.clusters.get(name)
    }

    pub fn clusters(&self) -> impl Iterator<Item = &Arc<ClusterSummary>> {
        self.clusters.values()
    }

    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    /// Machines (nodes being added or added) of a cluster, by name.
    pub fn machines_of(&self, cluster: &str) -> Vec<&Arc<MachineSummary>> {
        self.machines_by_cluster
            .get(cluster)
            .into_iter()
            .flatten()
            .filter_map(|n| self.machines.get(n))
            .collect()
    }

    /// A cluster's row: measured against this platform's plan, with the nodes being added.
    pub fn row(&self, c: &ClusterSummary) -> ClusterRow {
        ClusterRow::from_summary_in(c, self.plan(Resource::Cluster))
            .with_machines(&self.machines_of(&c.name), self.plan(Resource::Machine))
    }

    /// Step durations of every cluster and machine of this platform, for ETAs.
    pub fn step_stats(&self) -> StepStats {
        let mut s = StepStats::new();
        for c in self.clusters.values() {
            s.add_conditions(c.created, &c.conditions);
            s.add_plan(Resource::Cluster, &c.phase, &c.conditions);
        }
        for m in self.machines.values() {
            s.add_conditions(m.created, &m.conditions);
            s.add_plan(Resource::Machine, &m.phase, &m.conditions);
        }
        s
    }

    /// Every row, sorted by name, measured against this platform's plan.
    pub fn rows(&self) -> Vec<ClusterRow> {
        let mut rows: Vec<ClusterRow> = self.clusters.values().map(|c| self.row(c)).collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    }
}
