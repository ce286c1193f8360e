//! Timelines built from conditions, end to end.

use chrono::{DateTime, Utc};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::*;
use crate::domain::cluster::{Cluster, Condition, Machine};
use crate::domain::cluster::{ClusterSpec, ClusterStatus};
use chrono::TimeZone;

pub(super) fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + secs, 0)
        .single()
        .expect("valid")
}

pub(super) fn time(secs: i64) -> Option<Time> {
    Some(Time(
        k8s_openapi::jiff::Timestamp::from_second(1_700_000_000 + secs).expect("valid"),
    ))
}

pub(super) fn cond(ty: &str, status: &str, at: Option<i64>, reason: Option<&str>) -> Condition {
    Condition {
        type_: ty.into(),
        status: status.into(),
        last_transition_time: at.and_then(time),
        reason: reason.map(Into::into),
        ..Default::default()
    }
}

pub(super) fn cluster(name: &str, phase: &str, conds: Vec<Condition>) -> Cluster {
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
fn progress_ratio() {
    let p = Progress::counted(3, 4, false);
    assert!((p.ratio() - 0.75).abs() < 1e-9);
    let empty = Progress::counted(0, 0, true);
    assert_eq!(empty.ratio(), 0.0);
}

/// An ACP-like plan: shorter than TKE's list, with an ACP-only step.
pub(super) const ACP_PLAN: [&str; 6] = [
    "EnsureCopyFiles",
    "EnsurePreInstallHook",
    "EnsurePreflight",
    "EnsureKubeadmInitPhaseETCD",
    "EnsureWaitClusterModuleReady",
    "EnsurePostInstallHook",
];

/// A cluster that ran `types`, one step a minute; the last one `last` (`True` when done).
pub(super) fn ran(name: &str, phase: &str, types: &[&str], last: (&str, Option<&str>)) -> Cluster {
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

pub(super) fn finished(name: &str, types: &[&str]) -> Cluster {
    ran(name, "Running", types, ("True", None))
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
