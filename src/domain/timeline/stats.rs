//! Step durations seen on this platform: medians for the ETA, and how durations read.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};

use super::*;
use crate::domain::cluster::{Cluster, Machine};

/// How long each step type takes on this platform, from every finished step seen, and which
/// steps the finished clusters and machines ran (the plan a new one is expected to follow).
#[derive(Debug, Clone, Default)]
pub struct StepStats {
    samples: HashMap<String, VecDeque<i64>>,
    cluster_plans: PlanTally,
    machine_plans: PlanTally,
}

impl StepStats {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the finished (not skipped) steps of one resource.
    pub fn add_conditions<C: CondLike>(
        &mut self,
        created: Option<DateTime<Utc>>,
        conditions: &[C],
    ) {
        let mut prev_end = effective_created(created, conditions);
        for c in conditions {
            if !c.is_true() {
                break;
            }
            let t = c.transition();
            let skipped = c.reason() == Some("Skip");
            if !skipped && let Some(d) = secs_between(prev_end, t) {
                let v = match self.samples.get_mut(c.kind()) {
                    Some(v) => v,
                    None => self.samples.entry(c.kind().to_string()).or_default(),
                };
                if v.len() >= MAX_SAMPLES_PER_STEP {
                    v.pop_front();
                }
                v.push_back(d);
            }
            if let Some(t) = t {
                prev_end = Some(prev_end.map_or(t, |p| p.max(t)));
            }
        }
    }

    /// Counts the step sequence of a resource that finished creation; others are ignored.
    pub fn add_plan<C: CondLike>(&mut self, r: Resource, phase: &str, conditions: &[C]) {
        if let Some(seq) = finished_sequence(phase, conditions) {
            self.tally_mut(r).add(seq);
        }
    }

    fn tally_mut(&mut self, r: Resource) -> &mut PlanTally {
        match r {
            Resource::Cluster => &mut self.cluster_plans,
            Resource::Machine => &mut self.machine_plans,
        }
    }

    /// The plans learned so far for a kind of resource.
    pub fn tally(&self, r: Resource) -> &PlanTally {
        match r {
            Resource::Cluster => &self.cluster_plans,
            Resource::Machine => &self.machine_plans,
        }
    }

    /// The plan a resource still being created is expected to follow.
    pub fn plan(&self, r: Resource) -> Plan<'_> {
        Plan::from_tally(r, self.tally(r))
    }

    pub fn add_cluster(&mut self, c: &Cluster) {
        if let Some(s) = &c.status {
            self.add_conditions(
                c.metadata.creation_timestamp.as_ref().and_then(to_utc),
                &split_checks(&s.conditions).0,
            );
            self.add_plan(Resource::Cluster, c.phase().as_str(), &s.conditions);
        }
    }

    pub fn add_machine(&mut self, m: &Machine) {
        if let Some(s) = &m.status {
            self.add_conditions(
                m.metadata.creation_timestamp.as_ref().and_then(to_utc),
                &s.conditions,
            );
            self.add_plan(Resource::Machine, m.phase(), &s.conditions);
        }
    }

    pub fn from_clusters<'a>(clusters: impl IntoIterator<Item = &'a Cluster>) -> Self {
        let mut s = Self::new();
        for c in clusters {
            s.add_cluster(c);
        }
        s
    }

    /// Median duration of a step type; the lower middle for an even count.
    pub fn median_secs(&self, step_type: &str) -> Option<i64> {
        let v = self.samples.get(step_type)?;
        if v.is_empty() {
            return None;
        }
        let mut v: Vec<i64> = v.iter().copied().collect();
        let mid = (v.len() - 1) / 2;
        Some(*v.select_nth_unstable(mid).1)
    }

    pub fn sample_count(&self, step_type: &str) -> usize {
        self.samples.get(step_type).map_or(0, VecDeque::len)
    }
}

/// `1h02m`, `3m05s`, `42s`: short, fixed style for tables and the timeline.
pub fn format_secs(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m, sec) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60, s % 60);
    if d > 0 {
        format!("{d}d{h:02}h")
    } else if h > 0 {
        format!("{h}h{m:02}m")
    } else if m > 0 {
        format!("{m}m{sec:02}s")
    } else {
        format!("{sec}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::timeline::tests::*;

    #[test]
    fn stats_median_and_eta() {
        let done = |a: i64, b: i64, d: i64| {
            cluster(
                "x",
                "Running",
                vec![
                    cond("EnsureCopyFiles", "True", Some(a), None),
                    cond("EnsurePreClusterInstallHook", "True", Some(a + b), None),
                    cond("EnsurePreInstallHook", "True", Some(a + b + d), None),
                ],
            )
        };
        let others = [done(10, 100, 7), done(20, 300, 9), done(30, 200, 1000)];
        let stats = StepStats::from_clusters(others.iter());
        assert_eq!(stats.median_secs("EnsureCopyFiles"), Some(20));
        assert_eq!(stats.median_secs("EnsurePreClusterInstallHook"), Some(200));
        assert_eq!(stats.median_secs("EnsurePreInstallHook"), Some(9));
        assert_eq!(stats.median_secs("Nope"), None);

        let c = cluster(
            "a",
            "Initializing",
            vec![
                cond("EnsureCopyFiles", "True", Some(10), None),
                cond("EnsurePreClusterInstallHook", "Unknown", Some(10), None),
            ],
        );
        // 150 s into a step whose median is 200: 50 s left, plus 9 s for the last step of the
        // plan the finished clusters ran.
        let tl = Timeline::for_cluster(&c, t(160), &stats);
        let eta = tl.eta.expect("eta");
        assert_eq!(eta.remaining_secs, 59);
        assert_eq!(eta.estimated_steps, 2);
        assert_eq!(eta.unestimated_steps, 0);
        assert!(!eta.partial);
        assert_eq!(tl.progress.label(), "1/~3");

        // Overrunning the median clamps that step to zero rather than going negative.
        let tl = Timeline::for_cluster(&c, t(1000), &stats);
        assert_eq!(tl.eta.expect("eta").remaining_secs, 9);
    }

    #[test]
    fn stats_skip_skipped_and_unfinished_steps() {
        let mut s = StepStats::new();
        s.add_conditions(
            Some(t(0)),
            &[
                cond("A", "True", Some(10), Some("Skip")),
                cond("B", "True", Some(30), None),
                cond("C", "Unknown", Some(30), None),
                cond("D", "True", Some(90), None),
            ],
        );
        assert_eq!(s.sample_count("A"), 0);
        assert_eq!(s.median_secs("B"), Some(20));
        assert_eq!(s.sample_count("C"), 0);
        assert_eq!(s.sample_count("D"), 0);
    }

    #[test]
    fn stats_are_bounded() {
        let mut s = StepStats::new();
        for i in 0..(MAX_SAMPLES_PER_STEP as i64 + 50) {
            s.add_conditions(Some(t(0)), &[cond("A", "True", Some(i), None)]);
        }
        assert_eq!(s.sample_count("A"), MAX_SAMPLES_PER_STEP);
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_secs(-3), "0s");
        assert_eq!(format_secs(42), "42s");
        assert_eq!(format_secs(185), "3m05s");
        assert_eq!(format_secs(3720), "1h02m");
        assert_eq!(format_secs(90_000), "1d01h");
    }
}
