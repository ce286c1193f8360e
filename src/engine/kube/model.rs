//! The clusters model the panes and the CLI share: objects by name, table rows, filter, sort.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::Serialize;

use crate::domain::cluster::{Cluster, Condition, Machine};
use crate::domain::timeline::{
    self, CondLike, Plan, PlanTally, Progress, Resource, StepStats, Timeline, to_utc,
};

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
    set: HashSet<Arc<str>>,
}

/// Distinct strings kept; past this, strings are simply not shared (memory stays bounded).
const MAX_INTERNED: usize = 4096;

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
        }
    }

    /// The timeline, expecting the plan learned in `stats`.
    pub fn timeline(&self, now: DateTime<Utc>, stats: &StepStats) -> Timeline {
        self.timeline_with(now, stats, stats.plan(Resource::Cluster))
    }

    /// The timeline, expecting `plan` (e.g. the model's, which is never stale).
    pub fn timeline_with(&self, now: DateTime<Utc>, stats: &StepStats, plan: Plan<'_>) -> Timeline {
        timeline::build(
            self.name.clone(),
            &self.phase,
            self.created,
            &self.conditions,
            &self.checks,
            plan,
            now,
            stats,
        )
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

fn name_of(meta: &kube::api::ObjectMeta) -> String {
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

/// Table columns, in display order; also the sort keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    Display,
    Phase,
    Version,
    Type,
    Nodes,
    Progress,
    Age,
}

impl Column {
    pub const ALL: [Column; 8] = [
        Column::Name,
        Column::Display,
        Column::Phase,
        Column::Version,
        Column::Type,
        Column::Nodes,
        Column::Progress,
        Column::Age,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Name => "NAME",
            Column::Display => "DISPLAY NAME",
            Column::Phase => "PHASE",
            Column::Version => "VERSION",
            Column::Type => "TYPE",
            Column::Nodes => "NODES",
            Column::Progress => "PROGRESS",
            Column::Age => "AGE",
        }
    }

    pub fn next(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }
}

/// Compares dotted versions numerically (`1.9` < `1.28.13`), text parts as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let mut ia = a.split(['.', '-', '+']);
    let mut ib = b.split(['.', '-', '+']);
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    _ => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// Orders two rows by a column; ties go by name so the order is stable.
pub fn compare_rows(a: &ClusterRow, b: &ClusterRow, col: Column) -> Ordering {
    let o = match col {
        Column::Name => Ordering::Equal,
        Column::Display => a.display_name.cmp(&b.display_name),
        Column::Phase => a.phase.cmp(&b.phase),
        Column::Version => compare_versions(&a.version, &b.version),
        Column::Type => a.type_.cmp(&b.type_),
        Column::Nodes => (a.control_plane + a.workers).cmp(&(b.control_plane + b.workers)),
        Column::Progress => a
            .progress
            .ratio()
            .total_cmp(&b.progress.ratio())
            .then(a.progress.done.cmp(&b.progress.done)),
        // By the age the column shows: youngest first; unknown creation times last.
        Column::Age => match (a.created, b.created) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
    };
    o.then_with(|| a.name.cmp(&b.name))
}

/// A field a filter term can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Name,
    Display,
    Phase,
    Version,
    Type,
    Step,
    /// `is:failed`: the cluster's step, its health check or a node being added is failing.
    Is,
}

#[derive(Debug, Clone)]
enum Term {
    /// Substring of name or display name, case-insensitive.
    Text(String),
    Regex(Regex),
    Field(Field, String),
}

/// A `/` filter: space-separated terms, all of which must match.
///
/// A term is a substring of the name or display name, a regex as `/.../` or `re:...`, or a
/// qualifier `phase:Running`, `version:1.28`, `type:` (prefixes), `name:`, `display:`, `step:`,
/// or `is:failed` / `is:creating`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    terms: Vec<Term>,
    source: String,
}

impl Filter {
    pub fn parse(query: &str) -> Result<Filter, String> {
        let mut terms = Vec::new();
        for tok in query.split_whitespace() {
            let regex_src = if let Some(r) = tok.strip_prefix("re:") {
                Some(r)
            } else if tok.len() >= 2 && tok.starts_with('/') && tok.ends_with('/') {
                Some(&tok[1..tok.len() - 1])
            } else {
                None
            };
            if let Some(r) = regex_src {
                let re = regex::RegexBuilder::new(r)
                    .case_insensitive(true)
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| {
                        format!(
                            "invalid regex {r:?}: {}",
                            e.to_string().lines().last().unwrap_or("")
                        )
                    })?;
                terms.push(Term::Regex(re));
                continue;
            }
            if let Some((k, v)) = tok.split_once(':') {
                let field = match k.to_ascii_lowercase().as_str() {
                    "name" => Some(Field::Name),
                    "display" => Some(Field::Display),
                    "phase" => Some(Field::Phase),
                    "version" | "v" => Some(Field::Version),
                    "type" => Some(Field::Type),
                    "step" => Some(Field::Step),
                    "is" => Some(Field::Is),
                    _ => None,
                };
                match field {
                    Some(f) => {
                        terms.push(Term::Field(f, v.to_lowercase()));
                        continue;
                    }
                    None => {
                        return Err(format!(
                            "unknown qualifier {k:?}: use name:, display:, phase:, version:, type:, step: or is:failed"
                        ));
                    }
                }
            }
            terms.push(Term::Text(tok.to_lowercase()));
        }
        Ok(Filter {
            terms,
            source: query.to_string(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    pub fn matches(&self, row: &ClusterRow) -> bool {
        self.terms.iter().all(|t| term_matches(t, row))
    }
}

fn contains_ci(hay: &str, needle_lower: &str) -> bool {
    if hay.is_ascii() && needle_lower.is_ascii() {
        hay.as_bytes()
            .windows(needle_lower.len().max(1))
            .any(|w| w.eq_ignore_ascii_case(needle_lower.as_bytes()))
            || needle_lower.is_empty()
    } else {
        hay.to_lowercase().contains(needle_lower)
    }
}

fn term_matches(t: &Term, row: &ClusterRow) -> bool {
    match t {
        Term::Text(s) => contains_ci(&row.name, s) || contains_ci(&row.display_name, s),
        Term::Regex(re) => re.is_match(&row.name) || re.is_match(&row.display_name),
        Term::Field(f, v) => match f {
            Field::Name => contains_ci(&row.name, v),
            Field::Display => contains_ci(&row.display_name, v),
            // Prefixes, like version:, so `phase:init` and `type:bare` work.
            Field::Phase => row.phase.to_lowercase().starts_with(v.as_str()),
            Field::Version => row.version.to_lowercase().starts_with(v.as_str()),
            Field::Type => row.type_.to_lowercase().starts_with(v.as_str()),
            Field::Is => match v.as_str() {
                "failed" | "failing" => row.failed || row.failing_node.is_some(),
                "creating" => row.current_step.is_some() && !row.failed,
                _ => false,
            },
            Field::Step => row
                .current_step
                .iter()
                .chain(row.failing_node.as_ref().map(|n| &n.step))
                .any(|s| contains_ci(s, v)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cluster::{ClusterSpec, ClusterStatus, Condition};

    fn row(name: &str, display: &str, phase: &str, version: &str) -> ClusterRow {
        ClusterRow {
            name: name.into(),
            display_name: display.into(),
            phase: phase.into(),
            version: version.into(),
            type_: "Baremetal".into(),
            control_plane: 1,
            workers: 0,
            progress: Progress::counted(0, 1, false),
            current_step: Some("EnsurePreflight".into()),
            failed: false,
            created: None,
            adding_nodes: 0,
            failing_node: None,
        }
    }

    #[test]
    fn filter_substring_regex_and_qualifiers() {
        let a = row("prod-east", "Production East", "Running", "1.28.13");
        let b = row("dev-1", "Dev", "Initializing", "1.27.16-1");
        let m = |q: &str, r: &ClusterRow| Filter::parse(q).expect("parses").matches(r);
        assert!(m("", &a));
        assert!(m("EAST", &a));
        assert!(m("production", &a));
        assert!(!m("east", &b));
        assert!(m("phase:running", &a));
        assert!(m("phase:Run", &a));
        assert!(!m("phase:unning", &a));
        assert!(m("type:bare", &a));
        assert!(m("is:creating", &a) && !m("is:failed", &a));
        assert!(m("version:1.28", &a));
        assert!(!m("version:1.2.", &a));
        assert!(m("v:1.27", &b));
        assert!(m("re:^dev-\\d$", &b));
        assert!(m("/^PROD/", &a));
        assert!(!m("/^prod/", &b));
        assert!(m("prod phase:Running version:1.28", &a));
        assert!(!m("prod phase:Initializing", &a));
        assert!(m("type:baremetal step:preflight", &a));
        assert!(m("name:dev", &b) && !m("name:Dev-x", &b));
    }

    #[test]
    fn filter_errors_say_what_to_do() {
        let e = Filter::parse("re:(").expect_err("bad regex");
        assert!(e.contains("invalid regex"));
        let e = Filter::parse("colour:red").expect_err("bad qualifier");
        assert!(e.contains("phase:"));
        assert!(Filter::parse("   ").expect("empty").is_empty());
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(compare_versions("1.9", "1.28.13"), Ordering::Less);
        assert_eq!(compare_versions("1.28.13", "1.28.2"), Ordering::Greater);
        assert_eq!(compare_versions("1.27.16-1", "1.27.16"), Ordering::Greater);
        assert_eq!(compare_versions("", "1"), Ordering::Less);
    }

    #[test]
    fn sort_by_every_column_is_total_and_stable() {
        let mut rows = vec![
            row("c", "Zed", "Running", "1.9.0"),
            row("a", "Yak", "Failed", "1.28.1"),
            row("b", "Xen", "Initializing", "1.28.1"),
        ];
        rows[0].created = Some(DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(30));
        rows[1].created = Some(DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(10));
        rows[2].progress.done = 1;
        rows[0].workers = 3;
        let order = |col: Column, rows: &mut Vec<ClusterRow>| {
            rows.sort_by(|a, b| compare_rows(a, b, col));
            rows.iter()
                .map(|r| r.name.clone())
                .collect::<Vec<_>>()
                .join("")
        };
        assert_eq!(order(Column::Name, &mut rows), "abc");
        assert_eq!(order(Column::Display, &mut rows), "bac");
        assert_eq!(order(Column::Phase, &mut rows), "abc");
        assert_eq!(order(Column::Version, &mut rows), "cab");
        assert_eq!(order(Column::Nodes, &mut rows), "abc");
        assert_eq!(order(Column::Progress, &mut rows), "acb");
        // Youngest first: c (30 s after a), then a, then b (unknown).
        assert_eq!(order(Column::Age, &mut rows), "cab");
        assert_eq!(order(Column::Type, &mut rows), "abc");
        assert_eq!(Column::Age.next(), Column::Name);
    }

    fn cluster(name: &str) -> Arc<ClusterSummary> {
        let mut c = Cluster::new(name, ClusterSpec::default());
        c.spec.version = "1.28.13".into();
        c.status = Some(ClusterStatus {
            phase: Some("Initializing".into()),
            conditions: vec![Condition {
                type_: "EnsureCopyFiles".into(),
                status: "False".into(),
                reason: Some("FailedInit".into()),
                ..Default::default()
            }],
            ..Default::default()
        });
        Arc::new(ClusterSummary::from_cluster(&c, &mut Interner::default()))
    }

    fn with_steps(name: &str, phase: &str, steps: &[(&str, &str)]) -> Arc<ClusterSummary> {
        let mut c = Cluster::new(name, ClusterSpec::default());
        c.status = Some(ClusterStatus {
            phase: Some(phase.into()),
            conditions: steps
                .iter()
                .map(|(t, st)| Condition {
                    type_: (*t).into(),
                    status: (*st).into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        });
        Arc::new(ClusterSummary::from_cluster(&c, &mut Interner::default()))
    }

    #[test]
    fn model_learns_the_plan_from_finished_clusters_and_forgets_them() {
        let plan = [("A", "True"), ("B", "True"), ("C", "True")];
        let mut m = ClusterModel::new();
        let d = |applied: Vec<Arc<ClusterSummary>>, deleted: Vec<&str>| Delta {
            platform: "p".into(),
            reset: false,
            applied,
            deleted: deleted.into_iter().map(String::from).collect(),
        };
        let creating = with_steps("new", "Initializing", &[("A", "True"), ("B", "Unknown")]);
        assert!(!m.apply_clusters_and_check_plan(&d(vec![creating], vec![])));
        assert_eq!(m.plan(Resource::Cluster).learned, None);

        assert!(
            m.apply_clusters_and_check_plan(&d(vec![with_steps("old", "Running", &plan)], vec![]))
        );
        let row = |m: &ClusterModel| m.rows().into_iter().find(|r| r.name == "new");
        assert_eq!(row(&m).map(|r| r.progress.label()), Some("1/~3".into()));
        // The same cluster again (a health check rewrote it): same plan, nothing to redo.
        assert!(
            !m.apply_clusters_and_check_plan(&d(vec![with_steps("old", "Running", &plan)], vec![]))
        );
        assert!(m.apply_clusters_and_check_plan(&d(vec![], vec!["old"])));
        assert_eq!(m.plan(Resource::Cluster).learned, None);
        // Back to TKE's list, which these types do not follow: a lower bound.
        assert_eq!(row(&m).map(|r| r.progress.label()), Some("1/2+".into()));
    }

    #[test]
    fn failing_health_check_flags_the_row_without_reopening_creation() {
        let c = with_steps(
            "p",
            "Failed",
            &[("A", "True"), ("B", "True"), ("HealthCheck", "False")],
        );
        assert_eq!(c.conditions.len(), 2);
        assert_eq!(c.checks.len(), 1);
        let r = ClusterRow::from_summary(&c);
        assert_eq!(r.progress.label(), "2/2");
        assert!(r.failed);
        assert_eq!(r.current_step.as_deref(), Some("HealthCheck"));
        let healthy = with_steps("q", "Running", &[("A", "True"), ("HealthCheck", "True")]);
        let r = ClusterRow::from_summary(&healthy);
        assert_eq!((r.progress.label().as_str(), r.failed), ("1/1", false));
        assert_eq!(r.current_step, None);
    }

    #[test]
    fn a_failing_node_shows_in_its_running_clusters_row() {
        let mut m = ClusterModel::new();
        m.apply_clusters(&Delta {
            platform: "p".into(),
            reset: true,
            applied: vec![with_steps("run", "Running", &[("A", "True")])],
            deleted: Vec::new(),
        });
        let machine = |name: &str, phase: &str, status: &str, reason: Option<&str>| {
            let mut mc = Machine::new(name, Default::default());
            mc.spec.cluster_name = "run".into();
            mc.spec.machine.ip = format!("10.0.0.{}", name.len());
            mc.status = Some(crate::domain::cluster::MachineStatus {
                phase: Some(phase.into()),
                conditions: vec![Condition {
                    type_: "EnsureNodeReady".into(),
                    status: status.into(),
                    reason: reason.map(Into::into),
                    ..Default::default()
                }],
                ..Default::default()
            });
            Arc::new(MachineSummary::from_machine(&mc, &mut Interner::default()))
        };
        let touched = m.apply_machines_and_list_clusters(&Delta {
            platform: "p".into(),
            reset: false,
            applied: vec![
                machine("joined", "Running", "True", None),
                machine("bad", "Initializing", "False", Some("FailedInit")),
            ],
            deleted: Vec::new(),
        });
        assert_eq!(touched.into_iter().collect::<Vec<_>>(), ["run"]);
        let r = &m.rows()[0];
        assert_eq!(r.adding_nodes, 1);
        assert_eq!(
            r.failing_node,
            Some(NodeFailure {
                ip: "10.0.0.3".into(),
                step: "EnsureNodeReady".into()
            })
        );
        assert!(Filter::parse("step:nodeready").expect("filter").matches(r));
        assert!(Filter::parse("is:failed").expect("filter").matches(r));
        // Gone: the row is clean again.
        m.apply_machines(&Delta {
            platform: "p".into(),
            reset: false,
            applied: Vec::new(),
            deleted: vec!["bad".into()],
        });
        assert_eq!(m.machines_of("run").len(), 1);
        let r = &m.rows()[0];
        assert_eq!((r.adding_nodes, r.failing_node.is_none()), (0, true));
    }

    #[test]
    fn interner_shares_and_stays_bounded() {
        let mut i = Interner::default();
        let a = i.intern("EnsureCopyFiles");
        let b = i.intern("EnsureCopyFiles");
        assert!(Arc::ptr_eq(&a, &b));
        for k in 0..(MAX_INTERNED + 10) {
            i.intern(&format!("t{k}"));
        }
        assert_eq!(i.set.len(), MAX_INTERNED);
        assert_eq!(&*i.intern("t999999"), "t999999");
    }

    #[test]
    fn model_applies_deltas_and_resets() {
        let mut m = ClusterModel::new();
        let d = |reset, applied: Vec<Arc<ClusterSummary>>, deleted: Vec<&str>| Delta {
            platform: "p".into(),
            reset,
            applied,
            deleted: deleted.into_iter().map(String::from).collect(),
        };
        m.apply_clusters(&d(false, vec![cluster("a"), cluster("b")], vec![]));
        assert!(!m.synced);
        assert_eq!(m.len(), 2);
        m.apply_clusters(&d(false, vec![], vec!["a"]));
        assert_eq!(
            m.rows().iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        m.apply_clusters(&d(true, vec![cluster("c")], vec![]));
        assert!(m.synced);
        assert_eq!(
            m.rows().iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["c"]
        );
        let r = &m.rows()[0];
        assert!(r.failed);
        assert_eq!(r.current_step.as_deref(), Some("EnsureCopyFiles"));
        assert_eq!(r.version, "1.28.13");
    }
}
