//! The cluster controller's decision: from a `Cluster` object alone, what to do next and
//! when, with seeded, speed-scaled timings.

use std::time::Duration;

use serde_json::Value;

use super::steps::health_message;
use super::{FINALIZER, RETRY_BASE, TERMINATE_BASE, step_plan};
use crate::sandbox::scenario::{SimRng, TERMINATE_SECONDS};

/// Scales the simulation's durations; `speed` 10 makes everything ten times faster.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    pub speed: f64,
}

impl SimClock {
    pub fn new(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        SimClock { speed }
    }

    pub fn scale(&self, base: Duration) -> Duration {
        Duration::from_secs_f64((base.as_secs_f64() / self.speed).max(0.005))
    }
}

/// What the cluster controller does next to one cluster.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Nothing to do until the object changes.
    Idle,
    /// Take the cluster over: finalizer, credential, machines, the first step.
    Adopt,
    /// After `after`, run step `index` (success or failure decided then).
    RunStep {
        index: usize,
        type_: String,
        attempt: u64,
        after: Duration,
    },
    /// Every step is done: move to `Running`.
    Finish,
    /// The unhealthy annotation was set or removed: move between `Running` and `Failed`.
    HealthCheck,
    /// Deleted: set `Terminating`.
    StartTerminating,
    /// After `after`, clean up and drop the finalizer.
    Finalize { after: Duration },
}

impl Next {
    /// A stable key for the pending timer, so an unrelated edit does not restart it.
    pub fn timer_key(&self) -> String {
        match self {
            Next::RunStep { index, attempt, .. } => format!("step/{index}/{attempt}"),
            Next::Finalize { .. } => "finalize".into(),
            other => format!("{other:?}"),
        }
    }
}

/// Index of the current step: the first condition that is not `True`.
pub fn current_condition(conditions: &[Value]) -> Option<usize> {
    conditions.iter().position(|c| c["status"] != "True")
}

/// Decides the cluster controller's next move from the object alone.
pub fn plan_next(cluster: &Value, seed: u64, clock: SimClock) -> Next {
    let meta = &cluster["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    let finalizers: Vec<&str> = meta["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let phase = cluster["status"]["phase"].as_str().unwrap_or("");
    if !meta["deletionTimestamp"].is_null() {
        if !finalizers.contains(&FINALIZER) {
            return Next::Idle;
        }
        if phase != "Terminating" {
            return Next::StartTerminating;
        }
        let secs = meta["annotations"][TERMINATE_SECONDS]
            .as_str()
            .and_then(|s| s.parse::<u64>().ok())
            .map(Duration::from_secs)
            .unwrap_or(TERMINATE_BASE);
        return Next::Finalize {
            after: clock.scale(secs),
        };
    }
    let conditions: Vec<Value> = cluster["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !finalizers.contains(&FINALIZER)
        || cluster["spec"]["clusterCredentialRef"]["name"].is_null()
        || conditions.is_empty()
    {
        return if phase == "Running" && finalizers.contains(&FINALIZER) {
            Next::Idle
        } else {
            Next::Adopt
        };
    }
    if phase == "Running" || phase == "Failed" {
        let want = health_message(cluster);
        let healthy_now = phase == "Running";
        return match want {
            None if healthy_now => Next::Idle,
            Some(m)
                if !healthy_now && cluster["status"]["message"].as_str() == Some(m.as_str()) =>
            {
                Next::Idle
            }
            _ => Next::HealthCheck,
        };
    }
    if !phase.is_empty() && phase != "Initializing" {
        return Next::Idle;
    }
    let plan = step_plan(cluster);
    let timing = |type_: &str| plan.iter().find(|s| s.type_ == type_).map(|s| s.base);
    next_step(&conditions, timing, &format!("step/{name}"), seed, clock)
}

/// The next move of a resource that runs steps: run its current step (the first condition
/// that is not `True`) after the step's seeded, jittered duration, or the retry delay when
/// it failed; `Finish` when every step is done. `label` keys the jitter to the resource.
pub(super) fn next_step(
    conditions: &[Value],
    base_of: impl Fn(&str) -> Option<Duration>,
    label: &str,
    seed: u64,
    clock: SimClock,
) -> Next {
    let Some(i) = current_condition(conditions) else {
        return Next::Finish;
    };
    let c = &conditions[i];
    let type_ = c["type"].as_str().unwrap_or_default().to_string();
    let failed = c["status"] == "False";
    let attempt = if failed { probe_hash(c) } else { 0 };
    let base = if failed {
        RETRY_BASE
    } else {
        base_of(&type_).unwrap_or(Duration::from_secs(2))
    };
    let mut r = SimRng::derive(seed, &format!("{label}/{type_}/{attempt}"));
    let jitter = 0.75 + r.unit() * 0.5;
    Next::RunStep {
        index: i,
        type_,
        attempt,
        after: clock.scale(base.mul_f64(jitter)),
    }
}

/// Distinguishes retries of a failed step (each one rewrites `lastProbeTime`), so each retry
/// draws its own jitter.
pub(super) fn probe_hash(c: &Value) -> u64 {
    c["lastProbeTime"]
        .as_str()
        .map(|s| {
            s.bytes()
                .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)))
        })
        .unwrap_or(0)
}
