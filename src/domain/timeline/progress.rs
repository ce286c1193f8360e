//! How far creation is: counted progress, the ETA's shape and the cheap summary.

use std::sync::Arc;

use serde::Serialize;

use super::*;

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

/// Where the seen types sit in `known`, if they are a subsequence of it in the same order.
pub(super) fn position_in_known<'a>(
    types: impl Iterator<Item = &'a str>,
    known: &[&str],
) -> Option<usize> {
    let mut pos = 0usize;
    let mut last = None;
    for t in types {
        let idx = known[pos..].iter().position(|k| *k == t)? + pos;
        last = Some(idx);
        pos = idx + 1;
    }
    last
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
    pub(super) next_in_plan: Option<usize>,
}

/// Aligns the seen types with a plan learned on the same platform. A type the plan lacks is an
/// extra step of this resource; plan steps it went past without running are steps it skips.
/// Returns the index of the first plan step still to come, or `None` when no type matched (the
/// plan is not this resource's).
pub(super) fn align_learned<'a>(
    types: impl Iterator<Item = &'a str>,
    plan: &[Arc<str>],
) -> Option<usize> {
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
