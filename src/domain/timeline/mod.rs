//! Creation progress from `status.conditions`: steps with durations, the current step, a
//! failure and how long it has been retried, progress and an ETA.
//!
//! Condition types are opaque strings (ACP's own list is not published), so the array order is
//! the execution order. The expected plan of a resource still being created is learned from the
//! resources of the same platform that finished ([`PlanTally`]): ACP runs fewer steps than TKE
//! lists, so TKE's lists are only a fallback while nothing has finished, and they refine `total`
//! only when every type seen so far matches them in order. The clock is always passed in, so the
//! same input gives the same timeline in tests, the CLI and the TUI.
mod build;
mod conditions;
mod plan;
mod progress;
mod stats;
mod step;
#[cfg(test)]
mod tests;

pub use build::*;
pub use conditions::*;
pub use plan::*;
pub use progress::*;
pub use stats::*;
pub use step::*;
