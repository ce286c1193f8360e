//! Machines: the node-add steps of a worker joining a running cluster.

use std::time::Duration;

use serde_json::Value;

use super::plan::next_step;
use super::steps::execute_step;
use super::{Next, SimClock, Step};
use crate::sandbox::apiserver::names;

/// Node-add steps of a Machine, in order, with their base duration in seconds (TKE's
/// baremetal machine provider).
pub const MACHINE_STEPS: &[(&str, u64)] = &[
    ("EnsureCopyFiles", 3),
    ("EnsurePreInstallHook", 1),
    ("EnsureClean", 2),
    ("EnsureRegistryHosts", 1),
    ("EnsureInitAPIServerHost", 1),
    ("EnsureKernelModule", 1),
    ("EnsureSysctl", 1),
    ("EnsureDisableSwap", 1),
    ("EnsureManifestDir", 1),
    ("EnsurePreflight", 6),
    ("EnsureNvidiaDriver", 1),
    ("EnsureNvidiaContainerRuntime", 1),
    ("EnsureContainerRuntime", 30),
    ("EnsureKubernetesImages", 60),
    ("EnsureKubelet", 12),
    ("EnsureCNIPlugins", 8),
    ("EnsureConntrackTools", 3),
    ("EnsureKubeadm", 6),
    ("EnsureJoinPhasePreflight", 4),
    ("EnsureJoinPhaseKubeletStart", 20),
    ("EnsureKubeconfig", 2),
    ("EnsureMarkNode", 2),
    ("EnsureNodeReady", 30),
    ("EnsurePostInstallHook", 2),
];
/// The finalizer that holds a deleted Machine until its node is removed.
pub const MACHINE_FINALIZER: &str = "machine";
/// How long a deleted Machine stays `Terminating`, before the speed factor.
pub const MACHINE_TERMINATE_BASE: Duration = Duration::from_secs(10);

/// Which kind of object a controller task drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Cluster,
    Machine,
}

impl Target {
    pub fn resource(self) -> &'static str {
        match self {
            Target::Cluster => names::CLUSTERS,
            Target::Machine => names::MACHINES,
        }
    }
}

pub fn machine_step_plan() -> Vec<Step> {
    MACHINE_STEPS
        .iter()
        .map(|(t, secs)| Step {
            type_: (*t).to_string(),
            base: Duration::from_secs(*secs),
        })
        .collect()
}

/// Whether a Machine is one of its cluster's own nodes (listed in `spec.machines`), which the
/// cluster controller installs, rather than a node being added.
pub(super) fn is_cluster_node(machine: &Value, cluster: &Value) -> bool {
    let ip = machine["spec"]["ip"].as_str().unwrap_or_default();
    cluster["spec"]["machines"]
        .as_array()
        .is_some_and(|ms| ms.iter().any(|m| m["ip"].as_str() == Some(ip)))
}

/// The machine controller's next move: a Machine added to a running cluster goes through
/// the node-add steps, then its Node appears in the cluster.
pub fn plan_machine(machine: &Value, cluster: Option<&Value>, seed: u64, clock: SimClock) -> Next {
    let meta = &machine["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    let has_finalizer = meta["finalizers"]
        .as_array()
        .is_some_and(|f| f.iter().any(|x| x == MACHINE_FINALIZER));
    let phase = machine["status"]["phase"].as_str().unwrap_or("");
    if !meta["deletionTimestamp"].is_null() {
        return match (has_finalizer, phase) {
            (false, _) => Next::Idle,
            (true, "Terminating") => Next::Finalize {
                after: clock.scale(MACHINE_TERMINATE_BASE),
            },
            (true, _) => Next::StartTerminating,
        };
    }
    let Some(cluster) = cluster else {
        return Next::Idle;
    };
    if is_cluster_node(machine, cluster) || cluster["status"]["phase"] != "Running" {
        return Next::Idle;
    }
    let conditions: Vec<Value> = machine["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if !has_finalizer || conditions.is_empty() {
        return if phase == "Running" && has_finalizer {
            Next::Idle
        } else {
            Next::Adopt
        };
    }
    if phase == "Running" {
        return Next::Idle;
    }
    let timing = |type_: &str| {
        MACHINE_STEPS
            .iter()
            .find(|(t, _)| *t == type_)
            .map(|(_, s)| Duration::from_secs(*s))
    };
    next_step(&conditions, timing, &format!("machine/{name}"), seed, clock)
}

/// The outcome of running node-add step `index` of a Machine now.
pub fn run_machine_step(machine: &Value, index: usize, now: &str) -> Option<Value> {
    let ip = machine["spec"]["ip"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    execute_step(
        machine,
        index,
        now,
        &machine_step_plan(),
        &[ip],
        "1.30.0",
        &[],
    )
}
