//! Creation progress from `status.conditions`: steps with durations, the current step, a
//! failure and how long it has been retried, progress and an ETA.
//!
//! Condition types are opaque strings (ACP's own list is not published), so the array order is
//! the execution order. The expected plan of a resource still being created is learned from the
//! resources of the same platform that finished ([`PlanTally`]): ACP runs fewer steps than TKE
//! lists, so TKE's lists are only a fallback while nothing has finished, and they refine `total`
//! only when every type seen so far matches them in order. The clock is always passed in, so the
//! same input gives the same timeline in tests, the CLI and the TUI.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

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

/// Condition types that are not creation steps: the periodic health check and TKE's update,
/// upgrade, scale-down and delete handlers append their conditions to the same list after
/// creation, so a finished resource's plan leaves them out.
pub const NOT_CREATE_STEPS: &[&str] = &[
    "HealthCheck",
    "EnsureAPIServerCert",
    "EnsureRenewCerts",
    "EnsurePreClusterUpgradeHook",
    "EnsureUpgradeCoreDNS",
    "EnsureUpgradeControlPlaneNode",
    "EnsurePostClusterUpgradeHook",
    "EnsureRemoveETCDMember",
    "EnsureRemoveNode",
    "EnsureRemoveMachine",
    "EnsureCleanClusterMark",
];

/// Which kind of resource a timeline is about: clusters and machines run different steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Cluster,
    Machine,
}

impl Resource {
    /// TKE's published step list: the fallback plan while nothing has finished on a platform.
    pub fn published_steps(self) -> &'static [&'static str] {
        match self {
            Resource::Cluster => CLUSTER_CREATE_STEPS,
            Resource::Machine => MACHINE_CREATE_STEPS,
        }
    }
}

/// Distinct finished sequences a tally keeps; platforms have a handful (one per release), so
/// past this a new one is simply not counted and memory stays bounded.
const MAX_PLANS: usize = 64;
/// Longer sequences are not plausible creation plans (TKE's list has 56 steps).
const MAX_PLAN_STEPS: usize = 512;

/// The step sequences of the finished resources of one platform, with how often each was seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanTally {
    seen: HashMap<Vec<Arc<str>>, usize>,
}

impl PlanTally {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, seq: Vec<Arc<str>>) {
        if seq.is_empty() || seq.len() > MAX_PLAN_STEPS {
            return;
        }
        if let Some(n) = self.seen.get_mut(&seq) {
            *n += 1;
        } else if self.seen.len() < MAX_PLANS {
            self.seen.insert(seq, 1);
        }
    }

    /// Forgets one resource that was counted (it changed or was deleted).
    pub fn remove(&mut self, seq: &[Arc<str>]) {
        if let Some(n) = self.seen.get_mut(seq) {
            *n -= 1;
            if *n == 0 {
                self.seen.remove(seq);
            }
        }
    }

    pub fn clear(&mut self) {
        self.seen.clear();
    }

    /// How many finished resources were counted.
    pub fn finished(&self) -> usize {
        self.seen.values().sum()
    }

    /// The plan to expect: the most common finished sequence; ties go to the longer one (a
    /// shorter one may come from a release that skipped steps), then to the smaller one, so the
    /// choice never depends on hash order.
    pub fn best(&self) -> Option<&[Arc<str>]> {
        self.seen
            .iter()
            .max_by(|(a, na), (b, nb)| {
                na.cmp(nb)
                    .then(a.len().cmp(&b.len()))
                    .then_with(|| b.cmp(a))
            })
            .map(|(seq, _)| seq.as_slice())
    }
}

/// The creation sequence of a finished (`Running`, every step `True`) resource: its condition
/// types in order without [`NOT_CREATE_STEPS`]; `None` for a resource not finished.
pub fn finished_sequence<C: CondLike>(phase: &str, conditions: &[C]) -> Option<Vec<Arc<str>>> {
    if phase != "Running" {
        return None;
    }
    let mut seq = Vec::with_capacity(conditions.len());
    for c in conditions {
        if NOT_CREATE_STEPS.contains(&c.kind()) {
            continue;
        }
        if !c.is_true() {
            return None;
        }
        seq.push(c.kind_arc());
    }
    (!seq.is_empty()).then_some(seq)
}

/// Where an expected plan came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PlanSource {
    /// The most common step sequence of the resources that finished on this platform.
    Learned,
    /// TKE's published list: nothing has finished on this platform yet.
    Published,
}

/// The steps a resource being created is expected to run.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub learned: Option<&'a [Arc<str>]>,
    pub published: &'static [&'static str],
}

impl<'a> Plan<'a> {
    /// Only the published list, for a resource seen without its platform.
    pub fn published(r: Resource) -> Plan<'static> {
        Plan {
            learned: None,
            published: r.published_steps(),
        }
    }

    /// The learned plan of `tally`, else the published list.
    pub fn from_tally(r: Resource, tally: &'a PlanTally) -> Plan<'a> {
        Plan {
            learned: tally.best(),
            published: r.published_steps(),
        }
    }

    fn steps(&self, source: PlanSource) -> Vec<&str> {
        match (source, self.learned) {
            (PlanSource::Learned, Some(l)) => l.iter().map(|s| &**s).collect(),
            _ => self.published.to_vec(),
        }
    }
}

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
    /// The type as a shared string, for plans; a compact copy overrides this to share its own.
    fn kind_arc(&self) -> Arc<str> {
        Arc::from(self.kind())
    }
    fn is_true(&self) -> bool {
        self.status() == "True"
    }
    fn is_false(&self) -> bool {
        self.status() == "False"
    }
}

impl<C: CondLike> CondLike for &C {
    fn kind(&self) -> &str {
        (**self).kind()
    }
    fn status(&self) -> &str {
        (**self).status()
    }
    fn transition(&self) -> Option<DateTime<Utc>> {
        (**self).transition()
    }
    fn reason(&self) -> Option<&str> {
        (**self).reason()
    }
    fn message(&self) -> Option<&str> {
        (**self).message()
    }
    fn kind_arc(&self) -> Arc<str> {
        (**self).kind_arc()
    }
}

/// A condition type written after creation ([`NOT_CREATE_STEPS`]), not a creation step.
pub fn is_post_creation(kind: &str) -> bool {
    NOT_CREATE_STEPS.contains(&kind)
}

/// Creation steps and post-creation checks, each in array order: a health check that fails
/// on a created cluster is not step 29 of its creation.
pub fn split_checks<C: CondLike>(conditions: &[C]) -> (Vec<&C>, Vec<&C>) {
    conditions.iter().partition(|c| !is_post_creation(c.kind()))
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
    /// What to check to fix it, when the step or the message is a known one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The node a step's error is about: the first IPv4 after `on` or `node`, else the first one.
fn node_in(message: &str) -> Option<String> {
    let ip = |tok: &str| {
        let t = tok.trim_matches(|c: char| !c.is_ascii_digit() && c != '.');
        let t = t.split(':').next().unwrap_or(t);
        t.parse::<std::net::Ipv4Addr>()
            .ok()
            .filter(|a| !a.is_loopback())
            .map(|a| a.to_string())
    };
    let toks: Vec<&str> = message.split_whitespace().collect();
    toks.windows(2)
        .find(|w| matches!(w[0], "on" | "node") && ip(w[1]).is_some())
        .and_then(|w| ip(w[1]))
        .or_else(|| toks.iter().find_map(|t| ip(t)))
}

/// What to check for a failing creation step: by the error first (the same error can come
/// from several steps), then by the step. `None` when neither is a known one.
pub fn failure_hint(step: &str, message: Option<&str>) -> Option<String> {
    let msg = message.unwrap_or("");
    let node = node_in(msg).unwrap_or_else(|| "the node".to_string());
    let has = |s: &str| msg.contains(s);
    let hint = if has("ssh:") || has("unable to authenticate") {
        format!(
            "check SSH from the platform to {node}: port 22 reachable, the user (root or passwordless sudo) and password or key in the cluster spec, and the SOCKS5 proxy if one is set"
        )
    } else if has("Port 6443 is in use") || has("already exists") {
        format!(
            "{node} still has an earlier install: run `kubeadm reset -f` there (or free port 6443 and remove /etc/kubernetes/manifests); the step is retried by itself"
        )
    } else if has("ip_forward") {
        format!(
            "on {node}: `sysctl -w net.ipv4.ip_forward=1` and keep it in /etc/sysctl.conf; the step is retried by itself"
        )
    } else if has("pull image") || has("failed to resolve reference") {
        format!(
            "{node} cannot pull from the platform registry: from {node}, check the registry name resolves and its port answers (`crictl pull <image>`), and /etc/hosts has the registry entry"
        )
    } else {
        match step {
            "EnsureKubeadmInitPhaseETCD" | "EnsureJoinPhaseControlPlaneJoinETCD" => format!(
                "check etcd on {node}: `crictl ps -a | grep etcd` and `crictl logs <id>`; ports 2379/2380 open between control-plane nodes; disk latency (etcd wants fdatasync under 10 ms); clocks in sync (`chronyc tracking`)"
            ),
            "EnsureKubeadmInitPhaseWaitControlPlane" | "EnsureJoinPhaseKubeletStart" => format!(
                "the kubelet on {node} is not healthy: `systemctl status kubelet` and `journalctl -u kubelet -n 50`; swap off, container runtime running"
            ),
            "EnsureNodeReady" => format!(
                "the network plugin on {node} is not ready: check its CNI pods (`kubectl -n kube-system get pods -o wide | grep {node}`) and /etc/cni/net.d there"
            ),
            "EnsureWaitClusterModuleReady" => "a cluster module is not ready: `kubectl -n kube-system get pods` on the new cluster and the events of the pods not running".to_string(),
            _ => return None,
        }
    };
    Some(hint)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// The step list is not known past the last step seen, so `total` is a lower bound.
    pub unknown_remaining: bool,
    /// `total` is the length of an expected plan, not a count of steps seen: it is an estimate.
    pub estimated: bool,
    /// Where the expected plan came from, when `total` is an estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanSource>,
}

impl Progress {
    /// A count of steps seen: exact when creation is over, else a lower bound.
    pub fn counted(done: usize, total: usize, lower_bound: bool) -> Self {
        Progress {
            done,
            total,
            unknown_remaining: lower_bound,
            estimated: false,
            plan: None,
        }
    }

    /// A count of a finished resource's steps, which no plan changes.
    pub fn is_exact(&self) -> bool {
        !self.estimated && !self.unknown_remaining
    }

    /// `28/28`, `6/~28` (an estimate), `5/5+` (a lower bound).
    pub fn label(&self) -> String {
        if self.estimated {
            format!("{}/~{}", self.done, self.total)
        } else if self.unknown_remaining {
            format!("{}/{}+", self.done, self.total)
        } else {
            format!("{}/{}", self.done, self.total)
        }
    }

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
    /// `null` while the current step is failing (see `blocked`) and once creation is over.
    pub eta: Option<Eta>,
    /// The current step is failing: nothing after it runs until it succeeds, so there is no ETA.
    pub blocked: bool,
    /// Creation is over: every step is `True` and the phase is `Running` (or a later one).
    pub finished: bool,
    /// How long creation took, once it is over: from creation to the last step's end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub took_secs: Option<i64>,
    /// A check that runs after creation (the periodic health check) is failing; `index` is into
    /// the checks, which are not steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_failure: Option<Failure>,
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
        let (steps, checks) = split_checks(conditions);
        build(
            name,
            c.phase().as_str(),
            created,
            &steps,
            &checks,
            stats.plan(Resource::Cluster),
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
            &[],
            stats.plan(Resource::Machine),
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
pub fn creating(phase: &str) -> bool {
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
    /// Index in the plan (`progress.plan`) of the first step not seen yet.
    next_in_plan: Option<usize>,
}

/// Aligns the seen types with a plan learned on the same platform. A type the plan lacks is an
/// extra step of this resource; plan steps it went past without running are steps it skips.
/// Returns the index of the first plan step still to come, or `None` when no type matched (the
/// plan is not this resource's).
fn align_learned<'a>(types: impl Iterator<Item = &'a str>, plan: &[Arc<str>]) -> Option<usize> {
    let mut next = 0usize;
    let mut matched = false;
    for t in types {
        if let Some(j) = plan[next..].iter().position(|p| &**p == t) {
            next += j + 1;
            matched = true;
        }
    }
    matched.then_some(next)
}

/// The current step, failure, progress and whether creation is over.
///
/// While creating, `total` is the steps seen plus the plan's steps still to come: with a plan
/// learned on the platform it stays put as the resource advances, and changes only when the
/// resource runs a step the plan lacks or skips one it has (or the platform's plan changes).
pub fn summarize<C: CondLike>(phase: &str, conditions: &[C], plan: Plan<'_>) -> Summary {
    let current = conditions.iter().position(|c| !c.is_true());
    let failed = current
        .is_some_and(|i| conditions[i].is_false() && is_failure_reason(conditions[i].reason()));
    let done = conditions.iter().filter(|c| c.is_true()).count();
    let n = conditions.len();
    let finished = current.is_none() && (!creating(phase) && n > 0 || phase == "Running");
    let estimate = |total: usize, source: PlanSource| Progress {
        done,
        total,
        unknown_remaining: false,
        estimated: true,
        plan: Some(source),
    };
    let types = || conditions.iter().map(|c| c.kind());
    let (progress, next_in_plan) = if finished {
        (Progress::counted(done, n, false), None)
    } else if let Some(l) = plan.learned
        && let Some(next) = if n == 0 {
            Some(0)
        } else {
            align_learned(types(), l)
        }
    {
        (
            estimate(n + l.len() - next, PlanSource::Learned),
            Some(next),
        )
    } else if n == 0 {
        let k = plan.published.len();
        if k == 0 {
            (Progress::counted(0, 0, true), None)
        } else {
            (estimate(k, PlanSource::Published), Some(0))
        }
    } else {
        match position_in_known(types(), plan.published) {
            Some(last) => (
                estimate(n + plan.published.len() - (last + 1), PlanSource::Published),
                Some(last + 1),
            ),
            None => (Progress::counted(done, n, true), None),
        }
    };
    Summary {
        progress,
        current,
        failed,
        finished,
        next_in_plan,
    }
}

/// Builds a timeline from creation conditions in array order; `checks` are the conditions of
/// checks that run after creation (see [`split_checks`]).
#[allow(clippy::too_many_arguments)]
pub fn build<C: CondLike>(
    name: String,
    phase: &str,
    created: Option<DateTime<Utc>>,
    conditions: &[C],
    checks: &[C],
    plan: Plan<'_>,
    now: DateTime<Utc>,
    stats: &StepStats,
) -> Timeline {
    let sum = summarize(phase, conditions, plan);
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
                hint: failure_hint(&s.type_, s.message.as_deref()),
            }
        })
    });

    let finished = sum.finished;
    let unknown_remaining = sum.progress.unknown_remaining;
    let upcoming: Vec<String> = match (sum.next_in_plan, sum.progress.plan) {
        (Some(next), Some(source)) => plan.steps(source)[next..]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        _ => Vec::new(),
    };
    // A failing step is retried until it succeeds, so when the rest runs is anyone's guess.
    let blocked = failure.is_some();
    let took_secs = if finished {
        let end = steps.iter().filter_map(|s| s.end).max();
        let start = effective_created(created, conditions).or_else(|| steps.first()?.start);
        secs_between(start, end)
    } else {
        None
    };
    // Measured from when the check went False, not from the end of creation.
    let check_failure = checks
        .iter()
        .enumerate()
        .find(|(_, c)| c.is_false())
        .map(|(i, c)| Failure {
            index: i,
            type_: c.kind().to_string(),
            reason: c.reason().filter(|r| !r.is_empty()).map(str::to_string),
            message: c.message().filter(|m| !m.is_empty()).map(str::to_string),
            retrying_secs: secs_between(c.transition(), Some(now)),
            hint: None,
        });
    let eta = if finished || blocked {
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
        blocked,
        finished,
        took_secs,
        check_failure,
        upcoming,
    }
}

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
        // Nothing finished on the platform: TKE's list is a guess, and the label says so.
        assert!(tl.progress.estimated);
        assert_eq!(tl.progress.plan, Some(PlanSource::Published));
        assert_eq!(tl.progress.label(), "2/~55");
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
        assert_eq!(tl.progress, Progress::counted(1, 2, true));
        assert_eq!(tl.progress.label(), "1/2+");
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
        assert_eq!(tl.progress, Progress::counted(2, 2, false));
        assert_eq!(tl.progress.label(), "2/2");
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
        let p = Progress::counted(3, 4, false);
        assert!((p.ratio() - 0.75).abs() < 1e-9);
        let empty = Progress::counted(0, 0, true);
        assert_eq!(empty.ratio(), 0.0);
    }

    /// An ACP-like plan: shorter than TKE's list, with an ACP-only step.
    const ACP_PLAN: [&str; 6] = [
        "EnsureCopyFiles",
        "EnsurePreInstallHook",
        "EnsurePreflight",
        "EnsureKubeadmInitPhaseETCD",
        "EnsureWaitClusterModuleReady",
        "EnsurePostInstallHook",
    ];

    /// A cluster that ran `types`, one step a minute; the last one `last` (`True` when done).
    fn ran(name: &str, phase: &str, types: &[&str], last: (&str, Option<&str>)) -> Cluster {
        let n = types.len();
        let conds = types
            .iter()
            .enumerate()
            .map(|(i, ty)| {
                let at = Some(60 * (i as i64 + 1));
                if i + 1 == n {
                    cond(ty, last.0, at, last.1)
                } else {
                    cond(ty, "True", at, None)
                }
            })
            .collect();
        cluster(name, phase, conds)
    }

    fn finished(name: &str, types: &[&str]) -> Cluster {
        ran(name, "Running", types, ("True", None))
    }

    #[test]
    fn total_follows_the_plan_finished_clusters_ran_and_never_shrinks() {
        let stats = StepStats::from_clusters(&[
            finished("a", &ACP_PLAN),
            finished("b", &ACP_PLAN),
            // One cluster from an older release with a step fewer: outvoted.
            finished("c", &ACP_PLAN[1..]),
        ]);
        let mut totals = Vec::new();
        for k in 1..=ACP_PLAN.len() {
            let c = ran(
                "new",
                "Initializing",
                &ACP_PLAN[..k],
                ("Unknown", Some("Waiting")),
            );
            let tl = Timeline::for_cluster(&c, t(60 * k as i64 + 30), &stats);
            assert_eq!(tl.progress.plan, Some(PlanSource::Learned));
            assert_eq!(tl.progress.label(), format!("{}/~6", k - 1));
            assert_eq!(tl.upcoming.len(), ACP_PLAN.len() - k);
            totals.push(tl.progress.total);
        }
        assert!(totals.iter().all(|t| *t == ACP_PLAN.len()), "{totals:?}");
        // Done: the count is exact.
        let tl = Timeline::for_cluster(&finished("new", &ACP_PLAN), t(1000), &stats);
        assert_eq!(tl.progress.label(), "6/6");
    }

    #[test]
    fn total_moves_only_when_the_cluster_leaves_the_plan() {
        let stats = StepStats::from_clusters(&[finished("a", &ACP_PLAN)]);
        let w = ("Unknown", Some("Waiting"));
        // Skips EnsurePreflight, which the others ran: one step fewer to come.
        let skip = [ACP_PLAN[0], ACP_PLAN[1], ACP_PLAN[3]];
        let tl = Timeline::for_cluster(&ran("s", "Initializing", &skip, w), t(500), &stats);
        assert_eq!(tl.progress.label(), "2/~5");
        // Runs a step the others did not: one step more.
        let extra = [ACP_PLAN[0], "EnsureGPUManager", ACP_PLAN[1]];
        let tl = Timeline::for_cluster(&ran("e", "Initializing", &extra, w), t(500), &stats);
        assert_eq!(tl.progress.label(), "2/~7");
        // Nothing in common with the learned plan: back to TKE's list, which it follows.
        let tke = ["EnsureCopyFiles", "EnsurePreClusterInstallHook"];
        let tl = Timeline::for_cluster(&ran("t", "Initializing", &tke[1..], w), t(500), &stats);
        assert_eq!(tl.progress.plan, Some(PlanSource::Published));
        // Before its first condition a new cluster already expects the learned plan.
        let tl = Timeline::for_cluster(&cluster("n", "Initializing", vec![]), t(5), &stats);
        assert_eq!(tl.progress.label(), "0/~6");
        assert_eq!(tl.upcoming.len(), 6);
    }

    #[test]
    fn plans_come_from_running_clusters_only_without_health_checks() {
        let mut healthy = finished("h", &ACP_PLAN);
        if let Some(s) = healthy.status.as_mut() {
            s.conditions
                .push(cond("HealthCheck", "True", Some(9000), None));
        }
        let mut failed_check = finished("f", &ACP_PLAN[..3]);
        if let Some(s) = failed_check.status.as_mut() {
            s.phase = Some("Failed".into());
            s.conditions.push(cond(
                "HealthCheck",
                "False",
                Some(9000),
                Some("FailedHealthCheck"),
            ));
        }
        let creating = ran("c", "Initializing", &ACP_PLAN[..2], ("True", None));
        let stats = StepStats::from_clusters(&[healthy, failed_check, creating]);
        let tally = stats.tally(Resource::Cluster);
        assert_eq!(tally.finished(), 1);
        let best: Vec<&str> = tally.best().expect("plan").iter().map(|s| &**s).collect();
        assert_eq!(best, ACP_PLAN);
        assert_eq!(stats.tally(Resource::Machine).finished(), 0);
    }

    #[test]
    fn failing_health_check_of_a_created_cluster_is_not_a_creation_step() {
        let mut c = finished("p", &ACP_PLAN);
        if let Some(s) = c.status.as_mut() {
            s.phase = Some("Failed".into());
            let mut hc = cond(
                "HealthCheck",
                "False",
                Some(90_000),
                Some("FailedHealthCheck"),
            );
            hc.message = Some("apiserver down".into());
            s.conditions.push(hc);
        }
        let tl = Timeline::for_cluster(&c, t(90_016), &StepStats::new());
        assert!(tl.finished);
        assert_eq!(tl.progress.label(), "6/6");
        assert_eq!(tl.steps.len(), 6);
        assert!(tl.failure.is_none() && !tl.blocked && tl.eta.is_none());
        // Created at 0, last step at 360 s.
        assert_eq!(tl.took_secs, Some(360));
        let f = tl.check_failure.expect("check failure");
        assert_eq!(f.type_, "HealthCheck");
        assert_eq!(f.retrying_secs, Some(16));
        assert_eq!(f.message.as_deref(), Some("apiserver down"));
        // The check feeds no step median.
        let mut stats = StepStats::new();
        stats.add_cluster(&c);
        assert_eq!(stats.sample_count("HealthCheck"), 0);
    }

    #[test]
    fn known_failures_carry_a_hint_naming_the_node() {
        let etcd = failure_hint(
            "EnsureKubeadmInitPhaseETCD",
            Some("kubeadm init phase etcd local on 192.168.71.29: [etcd] waiting for etcd cluster to be healthy: context deadline exceeded"),
        )
        .expect("hint");
        assert!(
            etcd.contains("etcd on 192.168.71.29") && etcd.contains("2379/2380"),
            "{etcd}"
        );
        let pull = failure_hint(
            "EnsureKubernetesImages",
            Some("pull image r:5000/k:v1 on 10.0.0.5: failed to resolve reference: dial tcp 10.4.216.11:5000: connect: connection refused"),
        )
        .expect("hint");
        assert!(pull.starts_with("10.0.0.5 cannot pull"), "{pull}");
        let ssh = failure_hint(
            "EnsureCopyFiles",
            Some("ssh: dial tcp 10.1.1.1:22: i/o timeout"),
        )
        .expect("hint");
        assert!(ssh.contains("to 10.1.1.1:"), "{ssh}");
        assert!(failure_hint("EnsureSomethingNew", Some("boom")).is_none());
        let c = ran(
            "x",
            "Initializing",
            &["EnsureCopyFiles", "EnsureKubeadmInitPhaseETCD"],
            ("False", Some("FailedInit")),
        );
        let tl = Timeline::for_cluster(&c, t(500), &StepStats::new());
        assert!(
            tl.failure
                .and_then(|f| f.hint)
                .is_some_and(|h| h.contains("the node"))
        );
    }

    #[test]
    fn plan_tally_picks_most_common_then_longest_and_forgets() {
        let seq = |v: &[&str]| v.iter().map(|s| Arc::from(*s)).collect::<Vec<Arc<str>>>();
        let mut t = PlanTally::new();
        assert!(t.best().is_none());
        t.add(seq(&["A", "B"]));
        t.add(seq(&["A", "B", "C"]));
        assert_eq!(t.best(), Some(seq(&["A", "B", "C"]).as_slice()));
        t.add(seq(&["A", "B"]));
        assert_eq!(t.best(), Some(seq(&["A", "B"]).as_slice()));
        t.remove(&seq(&["A", "B"]));
        t.remove(&seq(&["A", "B"]));
        t.remove(&seq(&["never", "added"]));
        assert_eq!(t.best(), Some(seq(&["A", "B", "C"]).as_slice()));
        assert_eq!(t.finished(), 1);
        // Equal count and length: the same answer whatever the hash order.
        t.add(seq(&["X", "Y", "Z"]));
        assert_eq!(t.best(), Some(seq(&["A", "B", "C"]).as_slice()));
        t.add(Vec::new());
        for i in 0..(MAX_PLANS + 10) {
            t.add(seq(&[&format!("S{i}")]));
        }
        assert_eq!(t.seen.len(), MAX_PLANS);
    }

    #[test]
    fn failing_step_blocks_the_eta() {
        let stats = StepStats::from_clusters(&[finished("a", &ACP_PLAN)]);
        let c = ran(
            "stuck",
            "Initializing",
            &ACP_PLAN[..4],
            ("False", Some("FailedInit")),
        );
        let tl = Timeline::for_cluster(&c, t(100_000), &stats);
        assert!(tl.blocked);
        assert!(tl.eta.is_none());
        assert_eq!(tl.failure.as_ref().map(|f| f.index), Some(3));
        let json = serde_json::to_value(&tl).expect("json");
        assert_eq!(json["eta"], serde_json::Value::Null);
        assert_eq!(json["blocked"], true);
        assert_eq!(json["progress"]["estimated"], true);
        assert_eq!(json["progress"]["plan"], "learned");
        // Retrying (Waiting again) unblocks it and the ETA comes back.
        let c = ran(
            "retry",
            "Initializing",
            &ACP_PLAN[..4],
            ("Unknown", Some("Waiting")),
        );
        // 20 s into a step that took 60 s elsewhere, then two steps of 60 s.
        let tl = Timeline::for_cluster(&c, t(200), &stats);
        assert!(!tl.blocked);
        assert_eq!(tl.eta.map(|e| e.remaining_secs), Some(40 + 60 + 60));
    }
}
