//! Creation progress from `status.conditions`: steps with durations, the current step, a
//! failure and how long it has been retried, progress and an ETA.
//!
//! Condition types are opaque strings (ACP's own list is not published), so the array order is
//! the execution order. The known TKE lists only refine `total` when every type seen so far
//! matches them in order. The clock is always passed in, so the same input gives the same
//! timeline in tests, the CLI and the TUI.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::Serialize;

use super::cluster::{Cluster, Condition, Machine};

/// TKE baremetal `CreateHandlers`, in order: the best public guess at a cluster's steps.
pub const CLUSTER_CREATE_STEPS: &[&str] = &[
    "EnsureCopyFiles",
    "EnsurePreClusterInstallHook",
    "EnsurePreInstallHook",
    "EnsureRegistryHosts",
    "EnsureInitAPIServerHost",
    "EnsureKernelModule",
    "EnsureSysctl",
    "EnsureDisableSwap",
    "EnsurePreflight",
    "EnsureClusterComplete",
    "EnsureNvidiaDriver",
    "EnsureNvidiaContainerRuntime",
    "EnsureContainerRuntime",
    "EnsureKubernetesImages",
    "EnsureKubelet",
    "EnsureCNIPlugins",
    "EnsureConntrackTools",
    "EnsureKubeadm",
    "EnsureKeepalivedInit",
    "EnsureThirdPartyHAInit",
    "EnsureAuthzWebhook",
    "EnsureAuditConfig",
    "EnsurePrepareForControlplane",
    "EnsureKubeadmInitPhaseKubeletStart",
    "EnsureKubeadmInitPhaseCerts",
    "EnsureStoreCredential",
    "EnsureKubeconfig",
    "EnsureKubeadmInitPhaseKubeConfig",
    "EnsureKubeadmInitPhaseControlPlane",
    "EnsureKubeadmInitPhaseETCD",
    "EnsureKubeadmInitPhaseWaitControlPlane",
    "EnsureKubeadmInitPhaseUploadConfig",
    "EnsureKubeadmInitPhaseUploadCerts",
    "EnsureKubeadmInitPhaseBootstrapToken",
    "EnsureKubeadmInitPhaseAddon",
    "EnsureJoinPhasePreflight",
    "EnsureJoinPhaseControlPlanePrepare",
    "EnsureJoinPhaseKubeletStart",
    "EnsureJoinPhaseControlPlaneJoinETCD",
    "EnsureJoinPhaseControlPlaneJoinUpdateStatus",
    "EnsureClusternetRegistration",
    "EnsureGalaxy",
    "EnsureCilium",
    "EnsurePatchAnnotation",
    "EnsureMarkControlPlane",
    "EnsureKeepalivedWithLBOption",
    "EnsureThirdPartyHA",
    "EnsureModifyAPIServerHost",
    "EnsureNvidiaDevicePlugin",
    "EnsureGPUManager",
    "EnsureCSIOperator",
    "EnsureMetricsServer",
    "EnsureCleanup",
    "EnsureCreateClusterMark",
    "EnsurePostInstallHook",
    "EnsurePostClusterInstallHook",
];

/// TKE baremetal machine create handlers, in order.
pub const MACHINE_CREATE_STEPS: &[&str] = &[
    "EnsureCopyFiles",
    "EnsurePreInstallHook",
    "EnsureClean",
    "EnsureRegistryHosts",
    "EnsureInitAPIServerHost",
    "EnsureKernelModule",
    "EnsureSysctl",
    "EnsureDisableSwap",
    "EnsureManifestDir",
    "EnsurePreflight",
    "EnsureNvidiaDriver",
    "EnsureNvidiaContainerRuntime",
    "EnsureContainerRuntime",
    "EnsureKubernetesImages",
    "EnsureKubelet",
    "EnsureCNIPlugins",
    "EnsureConntrackTools",
    "EnsureKubeadm",
    "EnsureJoinPhasePreflight",
    "EnsureJoinPhaseKubeletStart",
    "EnsureKubeconfig",
    "EnsureMarkNode",
    "EnsureNodeReady",
    "EnsurePostInstallHook",
];

/// Timestamps before this are "zero" times written by a controller that had none.
const EPOCH_FLOOR_SECS: i64 = 86_400;

/// Samples kept per step type; older ones are dropped so stats stay bounded.
const MAX_SAMPLES_PER_STEP: usize = 256;

/// Converts a kube timestamp, treating zero/ancient ones as absent.
pub fn to_utc(t: &Time) -> Option<DateTime<Utc>> {
    let secs = t.0.as_second();
    if secs < EPOCH_FLOOR_SECS {
        return None;
    }
    DateTime::from_timestamp(secs, u32::try_from(t.0.subsec_nanosecond()).unwrap_or(0))
}

/// A condition as the timeline reads it: the API type, or a compact copy kept by a model.
pub trait CondLike {
    fn kind(&self) -> &str;
    /// `True`, `False` or `Unknown`.
    fn status(&self) -> &str;
    fn transition(&self) -> Option<DateTime<Utc>>;
    fn reason(&self) -> Option<&str>;
    fn message(&self) -> Option<&str>;
    fn is_true(&self) -> bool {
        self.status() == "True"
    }
    fn is_false(&self) -> bool {
        self.status() == "False"
    }
}

impl CondLike for Condition {
    fn kind(&self) -> &str {
        &self.type_
    }
    fn status(&self) -> &str {
        &self.status
    }
    fn transition(&self) -> Option<DateTime<Utc>> {
        self.last_transition_time.as_ref().and_then(to_utc)
    }
    fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }
    fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

/// What a step is doing, derived from its condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StepState {
    /// `True`.
    Done,
    /// `True` with reason `Skip`.
    Skipped,
    /// `Unknown`, or `False` with a waiting reason: queued or running.
    Running,
    /// `False` with a failure reason (`FailedInit`, `FailedUpdate`, ...): retried by the controller.
    Failed,
    /// After the current step: listed, yet not reached.
    Pending,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Done => "done",
            StepState::Skipped => "skipped",
            StepState::Running => "running",
            StepState::Failed => "failed",
            StepState::Pending => "pending",
        }
    }
    pub fn is_finished(self) -> bool {
        matches!(self, StepState::Done | StepState::Skipped)
    }
}

fn is_failure_reason(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.starts_with("Failed") || r.ends_with("Failed") || r == "Error")
}

/// One condition as a step.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    #[serde(rename = "type")]
    pub type_: String,
    pub state: StepState,
    /// The raw condition status (`True`, `False`, `Unknown`).
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<DateTime<Utc>>,
    /// When a finished step finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<DateTime<Utc>>,
    /// `end - start` for a finished step, `now - start` for the current one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<i64>,
}

/// The step that is failing and being retried.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    pub index: usize,
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Since the step first failed (its transition to `False`), else since it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retrying_secs: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// The step list is not known past the last step seen, so `total` is a lower bound.
    pub unknown_remaining: bool,
}

impl Progress {
    /// 0.0..=1.0 for a gauge.
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Eta {
    /// Estimated seconds until the last known step ends.
    pub remaining_secs: i64,
    /// Remaining steps with a median on this platform.
    pub estimated_steps: usize,
    /// Remaining steps without one (never seen finish here); the ETA leaves them out.
    pub unestimated_steps: usize,
    /// The ETA covers only the known steps: more may follow.
    pub partial: bool,
}

/// A resource's creation progress at one instant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    pub name: String,
    pub phase: String,
    pub steps: Vec<Step>,
    /// Index into `steps` of the first `False`/`Unknown` step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
    pub progress: Progress,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eta: Option<Eta>,
    /// Creation is over: every step is `True` and the phase is `Running` (or a later one).
    pub finished: bool,
    /// Steps of the known list still to come after the last one seen (for display).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upcoming: Vec<String>,
}

impl Timeline {
    pub fn current_step(&self) -> Option<&Step> {
        self.current.and_then(|i| self.steps.get(i))
    }
    /// Seconds the current step has been running.
    pub fn elapsed_secs(&self) -> Option<i64> {
        self.current_step().and_then(|s| s.duration_secs)
    }
    pub fn has_failed(&self) -> bool {
        self.failure.is_some()
    }

    /// A cluster's timeline.
    pub fn for_cluster(c: &Cluster, now: DateTime<Utc>, stats: &StepStats) -> Timeline {
        let name = c.metadata.name.clone().unwrap_or_default();
        let created = c.metadata.creation_timestamp.as_ref().and_then(to_utc);
        let conditions = c
            .status
            .as_ref()
            .map(|s| s.conditions.as_slice())
            .unwrap_or(&[]);
        build(
            name,
            c.phase().as_str(),
            created,
            conditions,
            CLUSTER_CREATE_STEPS,
            now,
            stats,
        )
    }

    /// A machine's (node being added) timeline.
    pub fn for_machine(m: &Machine, now: DateTime<Utc>, stats: &StepStats) -> Timeline {
        let name = m.metadata.name.clone().unwrap_or_default();
        let created = m.metadata.creation_timestamp.as_ref().and_then(to_utc);
        let conditions = m
            .status
            .as_ref()
            .map(|s| s.conditions.as_slice())
            .unwrap_or(&[]);
        build(
            name,
            m.phase(),
            created,
            conditions,
            MACHINE_CREATE_STEPS,
            now,
            stats,
        )
    }
}

fn secs_between(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Option<i64> {
    match (start, end) {
        (Some(s), Some(e)) if e >= s => Some((e - s).num_seconds()),
        _ => None,
    }
}

/// Where the seen types sit in `known`, if they are a subsequence of it in the same order.
fn position_in_known<'a>(types: impl Iterator<Item = &'a str>, known: &[&str]) -> Option<usize> {
    let mut pos = 0usize;
    let mut last = None;
    for t in types {
        let idx = known[pos..].iter().position(|k| *k == t)? + pos;
        last = Some(idx);
        pos = idx + 1;
    }
    last
}

/// The creation time, unless a condition changed before it: then the object was re-created
/// (restored from a backup, say) and its creation time says nothing about the first step.
fn effective_created<C: CondLike>(
    created: Option<DateTime<Utc>>,
    conditions: &[C],
) -> Option<DateTime<Utc>> {
    let first = conditions.iter().filter_map(|c| c.transition()).min();
    created.filter(|c| first.is_none_or(|f| *c <= f))
}

/// Phases in which creation is still running; in any other phase, all-True means created.
fn creating(phase: &str) -> bool {
    matches!(phase, "" | "Initializing" | "Waiting")
}

/// Progress without building the steps: cheap enough for every row of a large table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub progress: Progress,
    /// Index of the current (first not `True`) condition.
    pub current: Option<usize>,
    /// The current step has failed.
    pub failed: bool,
    pub finished: bool,
    /// Index in `known` of the last condition seen, when the types follow `known`.
    last_known: Option<usize>,
}

/// The current step, failure, progress and whether creation is over.
pub fn summarize<C: CondLike>(phase: &str, conditions: &[C], known: &[&str]) -> Summary {
    let current = conditions.iter().position(|c| !c.is_true());
    let failed = current
        .is_some_and(|i| conditions[i].is_false() && is_failure_reason(conditions[i].reason()));
    let done = conditions.iter().filter(|c| c.is_true()).count();
    let n = conditions.len();
    let finished = current.is_none() && (!creating(phase) && n > 0 || phase == "Running");
    let mut last_known = None;
    let (total, unknown_remaining) = if finished {
        (n, false)
    } else if n == 0 {
        (known.len(), known.is_empty())
    } else {
        match position_in_known(conditions.iter().map(|c| c.kind()), known) {
            Some(last) => {
                last_known = Some(last);
                (n + known.len() - (last + 1), false)
            }
            None => (n, true),
        }
    };
    Summary {
        progress: Progress {
            done,
            total,
            unknown_remaining,
        },
        current,
        failed,
        finished,
        last_known,
    }
}

/// Builds a timeline from conditions in array order.
pub fn build<C: CondLike>(
    name: String,
    phase: &str,
    created: Option<DateTime<Utc>>,
    conditions: &[C],
    known: &[&str],
    now: DateTime<Utc>,
    stats: &StepStats,
) -> Timeline {
    let sum = summarize(phase, conditions, known);
    let current = sum.current;
    let mut steps = Vec::with_capacity(conditions.len());
    // The latest time seen so far: a step whose predecessor has no timestamp starts there.
    let mut prev_end = effective_created(created, conditions);
    for (i, c) in conditions.iter().enumerate() {
        let transition = c.transition();
        let reason = c.reason().filter(|r| !r.is_empty()).map(str::to_string);
        let state = if c.is_true() {
            if reason.as_deref() == Some("Skip") {
                StepState::Skipped
            } else {
                StepState::Done
            }
        } else if Some(i) == current {
            if c.is_false() && is_failure_reason(reason.as_deref()) {
                StepState::Failed
            } else {
                StepState::Running
            }
        } else if c.is_false() && is_failure_reason(reason.as_deref()) {
            StepState::Failed
        } else {
            StepState::Pending
        };
        let start = prev_end;
        let (end, duration_secs) = if state.is_finished() {
            (transition, secs_between(start, transition))
        } else if Some(i) == current {
            (None, secs_between(start, Some(now)))
        } else {
            (None, None)
        };
        if state.is_finished()
            && let Some(t) = transition
        {
            // Out-of-order timestamps must not move the clock backwards.
            prev_end = Some(prev_end.map_or(t, |p| p.max(t)));
        }
        steps.push(Step {
            type_: c.kind().to_string(),
            state,
            status: c.status().to_string(),
            reason,
            message: c.message().filter(|m| !m.is_empty()).map(str::to_string),
            start,
            end,
            duration_secs,
        });
    }

    let failure = current.and_then(|i| {
        let s = &steps[i];
        (s.state == StepState::Failed).then(|| {
            let since = conditions[i]
                .transition()
                .filter(|t| s.start.is_none_or(|st| *t >= st))
                .or(s.start);
            Failure {
                index: i,
                type_: s.type_.clone(),
                reason: s.reason.clone(),
                message: s.message.clone(),
                retrying_secs: secs_between(since, Some(now)),
            }
        })
    });

    let finished = sum.finished;
    let unknown_remaining = sum.progress.unknown_remaining;
    let upcoming: Vec<String> = if finished {
        Vec::new()
    } else if conditions.is_empty() {
        known.iter().map(|s| s.to_string()).collect()
    } else {
        sum.last_known
            .map(|last| known[last + 1..].iter().map(|s| s.to_string()).collect())
            .unwrap_or_default()
    };

    let eta = if finished {
        None
    } else {
        let mut remaining = 0i64;
        let mut estimated = 0usize;
        let mut unestimated = 0usize;
        let unfinished = steps
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.state.is_finished());
        for (i, s) in unfinished {
            match stats.median_secs(&s.type_) {
                Some(m) => {
                    let spent = if Some(i) == current {
                        s.duration_secs.unwrap_or(0)
                    } else {
                        0
                    };
                    remaining += (m - spent).max(0);
                    estimated += 1;
                }
                None => unestimated += 1,
            }
        }
        for t in &upcoming {
            match stats.median_secs(t) {
                Some(m) => {
                    remaining += m;
                    estimated += 1;
                }
                None => unestimated += 1,
            }
        }
        (estimated > 0).then_some(Eta {
            remaining_secs: remaining,
            estimated_steps: estimated,
            unestimated_steps: unestimated,
            partial: unknown_remaining || unestimated > 0,
        })
    };

    Timeline {
        name,
        phase: phase.to_string(),
        steps,
        current,
        failure,
        progress: sum.progress,
        eta,
        finished,
        upcoming,
    }
}

/// How long each step type takes on this platform, from every finished step seen.
#[derive(Debug, Clone, Default)]
pub struct StepStats {
    samples: HashMap<String, VecDeque<i64>>,
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

    pub fn add_cluster(&mut self, c: &Cluster) {
        if let Some(s) = &c.status {
            self.add_conditions(
                c.metadata.creation_timestamp.as_ref().and_then(to_utc),
                &s.conditions,
            );
        }
    }

    pub fn add_machine(&mut self, m: &Machine) {
        if let Some(s) = &m.status {
            self.add_conditions(
                m.metadata.creation_timestamp.as_ref().and_then(to_utc),
                &s.conditions,
            );
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
    use crate::domain::cluster::{ClusterSpec, ClusterStatus};
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + secs, 0)
            .single()
            .expect("valid")
    }

    fn time(secs: i64) -> Option<Time> {
        Some(Time(
            k8s_openapi::jiff::Timestamp::from_second(1_700_000_000 + secs).expect("valid"),
        ))
    }

    fn cond(ty: &str, status: &str, at: Option<i64>, reason: Option<&str>) -> Condition {
        Condition {
            type_: ty.into(),
            status: status.into(),
            last_transition_time: at.and_then(time),
            reason: reason.map(Into::into),
            ..Default::default()
        }
    }

    fn cluster(name: &str, phase: &str, conds: Vec<Condition>) -> Cluster {
        let mut c = Cluster::new(name, ClusterSpec::default());
        c.metadata.creation_timestamp = time(0);
        c.status = Some(ClusterStatus {
            phase: Some(phase.into()),
            conditions: conds,
            ..Default::default()
        });
        c
    }

    #[test]
    fn durations_start_at_creation_then_previous_transition() {
        let c = cluster(
            "a",
            "Initializing",
            vec![
                cond("EnsureCopyFiles", "True", Some(10), None),
                cond("EnsurePreClusterInstallHook", "True", Some(25), None),
                cond("EnsurePreInstallHook", "Unknown", Some(25), Some("Waiting")),
            ],
        );
        let tl = Timeline::for_cluster(&c, t(100), &StepStats::new());
        assert_eq!(tl.steps[0].start, Some(t(0)));
        assert_eq!(tl.steps[0].duration_secs, Some(10));
        assert_eq!(tl.steps[1].start, Some(t(10)));
        assert_eq!(tl.steps[1].end, Some(t(25)));
        assert_eq!(tl.steps[1].duration_secs, Some(15));
        assert_eq!(tl.current, Some(2));
        assert_eq!(tl.steps[2].state, StepState::Running);
        assert_eq!(tl.elapsed_secs(), Some(75));
        assert!(tl.failure.is_none());
        assert!(!tl.finished);
    }

    #[test]
    fn failed_step_reports_retry_time_and_message() {
        let mut failing = cond(
            "EnsurePreInstallHook",
            "False",
            Some(40),
            Some("FailedInit"),
        );
        failing.message = Some("ssh: handshake failed".into());
        let c = cluster(
            "a",
            "Initializing",
            vec![
                cond("EnsureCopyFiles", "True", Some(10), None),
                cond("EnsurePreClusterInstallHook", "True", Some(20), None),
                failing,
            ],
        );
        let tl = Timeline::for_cluster(&c, t(100), &StepStats::new());
        let f = tl.failure.as_ref().expect("failure");
        assert_eq!(f.index, 2);
        assert_eq!(f.reason.as_deref(), Some("FailedInit"));
        assert_eq!(f.message.as_deref(), Some("ssh: handshake failed"));
        assert_eq!(f.retrying_secs, Some(60));
        assert_eq!(tl.elapsed_secs(), Some(80));
        assert_eq!(tl.steps[2].state, StepState::Failed);
        assert!(tl.has_failed());
    }

    #[test]
    fn false_with_waiting_reason_is_running_not_failed() {
        let c = cluster(
            "a",
            "Initializing",
            vec![cond("EnsureCopyFiles", "False", Some(5), Some("Waiting"))],
        );
        let tl = Timeline::for_cluster(&c, t(50), &StepStats::new());
        assert_eq!(tl.steps[0].state, StepState::Running);
        assert!(tl.failure.is_none());
    }

    #[test]
    fn progress_uses_known_list_when_types_match() {
        let c = cluster(
            "a",
            "Initializing",
            vec![
                cond("EnsureCopyFiles", "True", Some(10), None),
                // EnsurePreClusterInstallHook absent: older forks skip it; order still matches.
                cond("EnsurePreInstallHook", "True", Some(20), Some("Skip")),
                cond("EnsureRegistryHosts", "Unknown", None, Some("Waiting")),
            ],
        );
        let tl = Timeline::for_cluster(&c, t(30), &StepStats::new());
        assert_eq!(tl.progress.done, 2);
        assert_eq!(tl.progress.total, 3 + (CLUSTER_CREATE_STEPS.len() - 4));
        assert!(!tl.progress.unknown_remaining);
        assert_eq!(tl.steps[1].state, StepState::Skipped);
        assert_eq!(
            tl.upcoming.first().map(String::as_str),
            Some("EnsureInitAPIServerHost")
        );
    }

    #[test]
    fn unknown_types_make_total_a_lower_bound() {
        let c = cluster(
            "a",
            "Initializing",
            vec![
                cond("EnsureInitMaster", "True", Some(10), None),
                cond("EnsureWaitClusterModuleReady", "Unknown", None, None),
            ],
        );
        let tl = Timeline::for_cluster(&c, t(30), &StepStats::new());
        assert_eq!(
            tl.progress,
            Progress {
                done: 1,
                total: 2,
                unknown_remaining: true
            }
        );
        assert!(tl.upcoming.is_empty());
    }

    #[test]
    fn known_types_out_of_order_count_as_unknown() {
        let c = cluster(
            "a",
            "Initializing",
            vec![
                cond("EnsureRegistryHosts", "True", Some(10), None),
                cond("EnsureCopyFiles", "Unknown", None, None),
            ],
        );
        let tl = Timeline::for_cluster(&c, t(30), &StepStats::new());
        assert!(tl.progress.unknown_remaining);
        assert_eq!(tl.progress.total, 2);
    }

    #[test]
    fn empty_conditions() {
        let c = cluster("a", "Initializing", vec![]);
        let tl = Timeline::for_cluster(&c, t(30), &StepStats::new());
        assert!(tl.steps.is_empty());
        assert_eq!(tl.current, None);
        assert!(!tl.finished);
        assert_eq!(tl.progress.done, 0);
        assert_eq!(tl.progress.total, CLUSTER_CREATE_STEPS.len());
        assert!(tl.eta.is_none());

        let mut no_status = Cluster::new("b", ClusterSpec::default());
        no_status.metadata.creation_timestamp = None;
        let tl = Timeline::for_cluster(&no_status, t(30), &StepStats::new());
        assert_eq!(tl.phase, "Initializing");
        assert!(tl.steps.is_empty());
    }

    #[test]
    fn running_with_all_true_is_finished() {
        let c = cluster(
            "a",
            "Running",
            vec![
                cond("EnsureCopyFiles", "True", Some(10), None),
                cond("EnsureInitMaster", "True", Some(70), None),
            ],
        );
        let tl = Timeline::for_cluster(&c, t(1000), &StepStats::new());
        assert!(tl.finished);
        assert_eq!(tl.current, None);
        assert_eq!(
            tl.progress,
            Progress {
                done: 2,
                total: 2,
                unknown_remaining: false
            }
        );
        assert!(tl.eta.is_none());
        assert_eq!(tl.steps[1].duration_secs, Some(60));
    }

    #[test]
    fn zero_and_out_of_order_timestamps_give_no_negative_durations() {
        let mut zero = cond("B", "True", None, None);
        zero.last_transition_time = Some(Time(
            k8s_openapi::jiff::Timestamp::from_second(-62_135_596_800).expect("year 1"),
        ));
        let c = cluster(
            "a",
            "Initializing",
            vec![
                cond("A", "True", Some(50), None),
                zero,
                cond("C", "True", Some(30), None), // earlier than A: clock skew
                cond("D", "True", Some(80), None),
                cond("E", "Unknown", None, None),
            ],
        );
        let tl = Timeline::for_cluster(&c, t(100), &StepStats::new());
        assert_eq!(tl.steps[0].duration_secs, Some(50));
        assert_eq!(tl.steps[1].end, None);
        assert_eq!(tl.steps[1].duration_secs, None);
        assert_eq!(tl.steps[2].start, Some(t(50)));
        assert_eq!(tl.steps[2].duration_secs, None);
        // D starts at the latest time seen (A's), not C's earlier one.
        assert_eq!(tl.steps[3].start, Some(t(50)));
        assert_eq!(tl.steps[3].duration_secs, Some(30));
        assert_eq!(tl.elapsed_secs(), Some(20));
        for s in &tl.steps {
            assert!(s.duration_secs.is_none_or(|d| d >= 0));
        }
    }

    #[test]
    fn creation_after_the_first_transition_is_ignored() {
        // A restored object: created at 100, yet its steps ran at 10 and 30.
        let mut c = cluster(
            "a",
            "Initializing",
            vec![
                cond("A", "True", Some(10), None),
                cond("B", "True", Some(30), None),
                cond("C", "Unknown", Some(30), None),
            ],
        );
        c.metadata.creation_timestamp = time(100);
        let tl = Timeline::for_cluster(&c, t(200), &StepStats::new());
        assert_eq!(tl.steps[0].duration_secs, None);
        assert_eq!(tl.steps[1].duration_secs, Some(20));
        assert_eq!(tl.elapsed_secs(), Some(170));
        let mut s = StepStats::new();
        s.add_cluster(&c);
        assert_eq!(s.sample_count("A"), 0);
        assert_eq!(s.median_secs("B"), Some(20));
    }

    #[test]
    fn all_true_after_creation_phases_count_as_created() {
        for phase in ["Terminating", "Failed", "Upgrading"] {
            let c = cluster(phase, phase, vec![cond("X", "True", Some(10), None)]);
            let tl = Timeline::for_cluster(&c, t(20), &StepStats::new());
            assert!(tl.finished, "{phase}");
            assert!(!tl.progress.unknown_remaining);
            assert_eq!(tl.progress.total, 1);
        }
        let c = cluster("i", "Initializing", vec![cond("X", "True", Some(10), None)]);
        let tl = Timeline::for_cluster(&c, t(20), &StepStats::new());
        assert!(!tl.finished);
        assert!(tl.progress.unknown_remaining);
    }

    #[test]
    fn missing_creation_timestamp_leaves_first_duration_unknown() {
        let mut c = cluster("a", "Initializing", vec![cond("A", "Unknown", None, None)]);
        c.metadata.creation_timestamp = None;
        let tl = Timeline::for_cluster(&c, t(100), &StepStats::new());
        assert_eq!(tl.elapsed_secs(), None);
        assert_eq!(tl.current, Some(0));
    }

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
        // 150 s into a step whose median is 200: 50 s left, plus 9 s for the next known step.
        let tl = Timeline::for_cluster(&c, t(160), &stats);
        let eta = tl.eta.expect("eta");
        assert_eq!(eta.remaining_secs, 59);
        assert_eq!(eta.estimated_steps, 2);
        assert_eq!(eta.unestimated_steps, CLUSTER_CREATE_STEPS.len() - 3);
        assert!(eta.partial);

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
    fn machine_timeline_uses_machine_list() {
        let mut m = Machine::new("m1", Default::default());
        m.metadata.creation_timestamp = time(0);
        m.status = Some(crate::domain::cluster::MachineStatus {
            phase: Some("Initializing".into()),
            conditions: vec![
                cond("EnsureCopyFiles", "True", Some(5), None),
                cond("EnsurePreInstallHook", "True", Some(6), None),
                cond("EnsureClean", "Unknown", None, None),
            ],
            ..Default::default()
        });
        let tl = Timeline::for_machine(&m, t(10), &StepStats::new());
        assert_eq!(tl.progress.total, MACHINE_CREATE_STEPS.len());
        assert_eq!(tl.progress.done, 2);
        assert_eq!(tl.elapsed_secs(), Some(4));
    }

    #[test]
    fn formats_durations() {
        assert_eq!(format_secs(-3), "0s");
        assert_eq!(format_secs(42), "42s");
        assert_eq!(format_secs(185), "3m05s");
        assert_eq!(format_secs(3720), "1h02m");
        assert_eq!(format_secs(90_000), "1d01h");
    }

    #[test]
    fn progress_ratio() {
        let p = Progress {
            done: 3,
            total: 4,
            unknown_remaining: false,
        };
        assert!((p.ratio() - 0.75).abs() < 1e-9);
        let empty = Progress {
            done: 0,
            total: 0,
            unknown_remaining: true,
        };
        assert_eq!(empty.ratio(), 0.0);
    }
}
