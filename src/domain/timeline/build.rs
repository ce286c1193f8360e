//! A resource's timeline built from its conditions: step states, durations and the failure.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::*;
use crate::domain::cluster::{Cluster, Machine};

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
    /// The resource is being deleted: since when, and what still holds it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletion: Option<Deletion>,
}

/// A resource being deleted (`metadata.deletionTimestamp` set): how long deletion has taken so
/// far and the finalizers it still waits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Deletion {
    pub for_secs: i64,
    pub finalizers: Vec<String>,
}

impl Deletion {
    /// From an object's metadata, as of `now`; `None` when it is not being deleted.
    pub fn of(
        meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta,
        now: DateTime<Utc>,
    ) -> Option<Deletion> {
        let since = meta.deletion_timestamp.as_ref().and_then(to_utc)?;
        Some(Deletion {
            for_secs: (now - since).num_seconds().max(0),
            finalizers: meta.finalizers.clone().unwrap_or_default(),
        })
    }
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
        let mut tl = build(
            name,
            c.phase().as_str(),
            created,
            &steps,
            &checks,
            stats.plan(Resource::Cluster),
            now,
            stats,
        );
        tl.deletion = Deletion::of(&c.metadata, now);
        tl
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

pub(super) fn secs_between(
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> Option<i64> {
    match (start, end) {
        (Some(s), Some(e)) if e >= s => Some((e - s).num_seconds()),
        _ => None,
    }
}

/// The creation time, unless a condition changed before it: then the object was re-created
/// (restored from a backup, say) and its creation time says nothing about the first step.
pub(super) fn effective_created<C: CondLike>(
    created: Option<DateTime<Utc>>,
    conditions: &[C],
) -> Option<DateTime<Utc>> {
    let first = conditions.iter().filter_map(|c| c.transition()).min();
    created.filter(|c| first.is_none_or(|f| *c <= f))
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
    let steps = steps_of(conditions, current, created, now);

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
        eta_of(&steps, current, &upcoming, stats, unknown_remaining)
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
        deletion: None,
    }
}

/// Each condition as a step: its state, and when it started and ended. A step starts when the
/// latest earlier step ended (or at creation).
fn steps_of<C: CondLike>(
    conditions: &[C],
    current: Option<usize>,
    created: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Vec<Step> {
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
    steps
}

/// What is left, by the platform's median for each unfinished and upcoming step.
fn eta_of(
    steps: &[Step],
    current: Option<usize>,
    upcoming: &[String],
    stats: &StepStats,
    unknown_remaining: bool,
) -> Option<Eta> {
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
    for t in upcoming {
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
}
