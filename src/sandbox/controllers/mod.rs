//! Simulated ACP controllers on the sandbox's `global` cluster.
//!
//! The cluster controller drives every `Cluster` the way ACP's does: creation steps run one at
//! a time and are appended to `status.conditions` in order (the step in progress is the first
//! condition that is not `True`, reason `Waiting`); a failing step turns `False`/`FailedInit`
//! with its error copied to `status.reason`/`status.message`, and is retried until it passes;
//! the last step moves the phase from `Initializing` to `Running`. Along the way it creates the
//! `ClusterCredential` and the `Machine`s, and when the cluster runs its API appears under
//! `/kubernetes/<name>`. Deleting a cluster holds it in `Terminating` behind the `cluster`
//! finalizer, then removes everything.
//!
//! Every duration is a realistic base scaled by the speed factor; every random choice comes
//! from the seed.

mod actions;
mod driver;
mod machine;
mod plan;
mod populate;
mod steps;
#[cfg(test)]
mod tests;

pub use driver::{ClusterHost, ControllerSetup, Controllers, Tasks};
pub use machine::{
    MACHINE_FINALIZER, MACHINE_STEPS, MACHINE_TERMINATE_BASE, Target, machine_step_plan,
    plan_machine, run_machine_step,
};
pub use plan::{Next, SimClock, current_condition, plan_next};
pub use populate::{machine_name, populate};
pub use steps::{
    CLUSTER_NAME_LABEL, CREATE_STEPS, FINALIZER, MESSAGE_SKIP, MESSAGE_WAITING,
    REASON_FAILED_HEALTH_CHECK, REASON_FAILED_INIT, REASON_SKIP, REASON_WAITING, RETRY_BASE, Step,
    TERMINATE_BASE, failure_message, first_condition, health_check, run_step, running_status,
    step_plan, waiting_condition,
};
