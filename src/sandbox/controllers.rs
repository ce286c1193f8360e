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

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::apiserver::store::now_rfc3339;
use super::apiserver::{ApiError, Store, names};
use super::scenario::{
    BROKEN_MESSAGE, BROKEN_STEP, ClusterPlan, Scenario, SimRng, TERMINATE_SECONDS, UNHEALTHY,
};

/// Reason of the step queued next.
pub const REASON_WAITING: &str = "Waiting";
/// Message of the step queued next.
pub const MESSAGE_WAITING: &str = "waiting execute";
/// Reason of a failed creation step.
pub const REASON_FAILED_INIT: &str = "FailedInit";
/// Reason of a failed periodic health check.
pub const REASON_FAILED_HEALTH_CHECK: &str = "FailedHealthCheck";
/// Reason of a step listed in `features.skipConditions`.
pub const REASON_SKIP: &str = "Skip";
/// Message of a skipped step.
pub const MESSAGE_SKIP: &str = "Skip current condition";
/// The finalizer that holds a deleted cluster in `Terminating` until its cleanup ran.
pub const FINALIZER: &str = "cluster";
/// Label tying a ClusterCredential or Machine to its cluster.
pub const CLUSTER_NAME_LABEL: &str = "tkestack.io/cluster-name";

/// The creation steps, in order, with their base duration in seconds: a trimmed, ACP-like
/// version of TKE's baremetal handler list (ACP's own list is not published).
pub const CREATE_STEPS: &[(&str, u64)] = &[
    ("EnsureCopyFiles", 4),
    ("EnsurePreInstallHook", 1),
    ("EnsureRegistryHosts", 2),
    ("EnsureKernelModule", 2),
    ("EnsureSysctl", 2),
    ("EnsureDisableSwap", 1),
    ("EnsurePreflight", 8),
    ("EnsureClusterComplete", 2),
    ("EnsureContainerRuntime", 35),
    ("EnsureKubernetesImages", 90),
    ("EnsureKubelet", 15),
    ("EnsureCNIPlugins", 10),
    ("EnsureKubeadm", 8),
    ("EnsureKeepalivedInit", 6),
    ("EnsurePrepareForControlplane", 3),
    ("EnsureKubeadmInitPhaseKubeletStart", 6),
    ("EnsureKubeadmInitPhaseCerts", 4),
    ("EnsureStoreCredential", 2),
    ("EnsureKubeconfig", 2),
    ("EnsureKubeadmInitPhaseControlPlane", 20),
    ("EnsureKubeadmInitPhaseETCD", 25),
    ("EnsureKubeadmInitPhaseWaitControlPlane", 45),
    ("EnsureKubeadmInitPhaseUploadConfig", 3),
    ("EnsureJoinPhaseControlPlaneJoinETCD", 40),
    ("EnsureJoinPhaseKubeletStart", 30),
    ("EnsureMarkControlPlane", 2),
    ("EnsureWaitClusterModuleReady", 110),
    ("EnsurePostInstallHook", 2),
];

/// How often a failed step is retried, before the speed factor.
pub const RETRY_BASE: Duration = Duration::from_secs(20);
/// How long a deleted cluster stays `Terminating` unless annotated otherwise.
pub const TERMINATE_BASE: Duration = Duration::from_secs(45);

/// One step of a cluster's plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub type_: String,
    pub base: Duration,
}

fn masters_and_workers(cluster: &Value) -> (Vec<String>, Vec<String>) {
    let mut masters = Vec::new();
    let mut workers = Vec::new();
    for m in cluster["spec"]["machines"].as_array().into_iter().flatten() {
        let ip = m["ip"].as_str().unwrap_or_default().to_string();
        if m["role"].as_str() == Some("node") {
            workers.push(ip);
        } else {
            masters.push(ip);
        }
    }
    (masters, workers)
}

/// The steps a cluster goes through. Steps that do not apply (keepalived without a VIP, joins
/// with one master or no workers) still run, briefly, as TKE's handlers return early.
pub fn step_plan(cluster: &Value) -> Vec<Step> {
    let (masters, workers) = masters_and_workers(cluster);
    let ha_tke = !cluster["spec"]["features"]["ha"]["tke"].is_null();
    CREATE_STEPS
        .iter()
        .map(|(t, secs)| {
            let applies = match *t {
                "EnsureKeepalivedInit" => ha_tke,
                "EnsureJoinPhaseControlPlaneJoinETCD" => masters.len() > 1,
                "EnsureJoinPhaseKubeletStart" => !workers.is_empty(),
                _ => true,
            };
            Step {
                type_: (*t).to_string(),
                base: Duration::from_secs(if applies { *secs } else { 1 }),
            }
        })
        .collect()
}

/// A realistic error for a step that fails on the given nodes.
pub fn failure_message(step: &str, masters: &[String], version: &str) -> String {
    let ip = masters
        .first()
        .map(String::as_str)
        .unwrap_or("192.168.0.11");
    match step {
        "EnsureCopyFiles" | "EnsurePreInstallHook" | "EnsureRegistryHosts" | "EnsureKernelModule"
        | "EnsureSysctl" | "EnsureDisableSwap" => {
            format!("ssh: dial tcp {ip}:22: i/o timeout (node {ip} unreachable over SSH)")
        }
        "EnsurePreflight" => format!(
            "[preflight] Some fatal errors occurred on {ip}: [ERROR Port-6443]: Port 6443 is in use; [ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: /etc/kubernetes/manifests/kube-apiserver.yaml already exists"
        ),
        "EnsureKubernetesImages" | "EnsureContainerRuntime" => format!(
            "pull image internal-docker-registry.cpaas-system.svc:5000/tkestack/kube-apiserver:v{version} on {ip}: failed to resolve reference: dial tcp 10.4.216.11:5000: connect: connection refused"
        ),
        "EnsureKubeadmInitPhaseETCD" => format!(
            "kubeadm init phase etcd local on {ip}: [etcd] waiting for etcd cluster to be healthy: context deadline exceeded"
        ),
        "EnsureKubeadmInitPhaseWaitControlPlane" => format!(
            "kubeadm init phase wait-control-plane on {ip}: [kubelet-check] the kubelet is not running or healthy: Get \"http://localhost:10248/healthz\": dial tcp 127.0.0.1:10248: connect: connection refused"
        ),
        "EnsureJoinPhaseControlPlaneJoinETCD" => {
            let other = masters.get(1).map(String::as_str).unwrap_or(ip);
            format!(
                "kubeadm join phase control-plane-join etcd on {other}: error creating local etcd static pod manifest file: timeout waiting for etcd cluster to be available: context deadline exceeded"
            )
        }
        "EnsureNodeReady" => format!(
            "node {ip} is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"
        ),
        "EnsureJoinPhaseKubeletStart" => format!(
            "kubeadm join phase kubelet-start on {ip}: error execution phase kubelet-start: timed out waiting for the condition"
        ),
        "EnsureWaitClusterModuleReady" => {
            "cluster module kube-ovn is not ready: 2/3 pods of daemonset kube-system/ovs-ovn are running".to_string()
        }
        other => format!("{other} on {ip}: Process exited with status 1"),
    }
}

/// `status` of a cluster that finished creation: phase, version, addresses and networking.
pub fn running_status(cluster: &Value, conditions: Vec<Value>, masters: &[String]) -> Value {
    let spec = &cluster["spec"];
    let mut addresses: Vec<Value> = masters
        .iter()
        .map(|ip| json!({"type": "Real", "host": ip, "port": 6443}))
        .collect();
    if let Some(vip) = spec["features"]["ha"]["tke"]["vip"].as_str() {
        addresses.insert(0, json!({"type": "Advertise", "host": vip, "port": 6443}));
    } else if let Some(vip) = spec["features"]["ha"]["thirdParty"]["vip"].as_str() {
        let port = spec["features"]["ha"]["thirdParty"]["vport"]
            .as_i64()
            .unwrap_or(6443);
        addresses.insert(0, json!({"type": "Advertise", "host": vip, "port": port}));
    }
    let service = spec["serviceCIDR"].as_str().unwrap_or("10.4.0.0/16");
    let prefix: Vec<&str> = service.split('.').take(3).collect();
    let dns_ip = if prefix.len() == 3 {
        format!("{}.{}.{}.10", prefix[0], prefix[1], prefix[2])
    } else {
        String::new()
    };
    json!({
        "phase": "Running",
        "version": spec["version"],
        "conditions": conditions,
        "addresses": addresses,
        "clusterCIDR": spec["clusterCIDR"],
        "serviceCIDR": spec["serviceCIDR"],
        "dnsIP": dns_ip,
        "nodeCIDRMaskSize": 24,
    })
}

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
    match current_condition(&conditions) {
        Some(i) => {
            let c = &conditions[i];
            let type_ = c["type"].as_str().unwrap_or_default().to_string();
            let failed = c["status"] == "False";
            let attempt = if failed { probe_hash(c) } else { 0 };
            let base = if failed {
                RETRY_BASE
            } else {
                plan.iter()
                    .find(|s| s.type_ == type_)
                    .map(|s| s.base)
                    .unwrap_or(Duration::from_secs(2))
            };
            let mut r = SimRng::derive(seed, &format!("step/{name}/{type_}/{attempt}"));
            let jitter = 0.75 + r.unit() * 0.5;
            Next::RunStep {
                index: i,
                type_,
                attempt,
                after: clock.scale(base.mul_f64(jitter)),
            }
        }
        None => Next::Finish,
    }
}

/// Distinguishes retries of a failed step (each one rewrites `lastProbeTime`), so each retry
/// draws its own jitter.
fn probe_hash(c: &Value) -> u64 {
    c["lastProbeTime"]
        .as_str()
        .map(|s| {
            s.bytes()
                .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b)))
        })
        .unwrap_or(0)
}

/// The outcome of running step `index` now: the new `status` (conditions and reason/message).
/// `None` when the object no longer has that step pending.
pub fn run_step(cluster: &Value, index: usize, now: &str) -> Option<Value> {
    let (masters, _) = masters_and_workers(cluster);
    let version = cluster["spec"]["version"].as_str().unwrap_or("1.30.0");
    let skip: Vec<&str> = cluster["spec"]["features"]["skipConditions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    execute_step(
        cluster,
        index,
        now,
        &step_plan(cluster),
        &masters,
        version,
        &skip,
    )
}

/// Runs step `index` of `obj` (a Cluster or a Machine) against `plan`: fails it if the
/// broken-step annotation names it, else marks it done and queues the next one.
fn execute_step(
    obj: &Value,
    index: usize,
    now: &str,
    plan: &[Step],
    nodes: &[String],
    version: &str,
    skip: &[&str],
) -> Option<Value> {
    let cluster = obj;
    let mut status = cluster["status"].clone();
    let conditions = status["conditions"].as_array_mut()?;
    let cond = conditions.get_mut(index)?;
    if cond["status"] == "True" {
        return None;
    }
    let type_ = cond["type"].as_str().unwrap_or_default().to_string();
    let broken = cluster["metadata"]["annotations"][BROKEN_STEP].as_str() == Some(type_.as_str());
    let skip = skip.contains(&type_.as_str());
    if broken {
        let message = cluster["metadata"]["annotations"][BROKEN_MESSAGE]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| failure_message(&type_, nodes, version));
        if cond["status"] != "False" {
            cond["lastTransitionTime"] = json!(now);
        }
        cond["status"] = json!("False");
        cond["reason"] = json!(REASON_FAILED_INIT);
        cond["message"] = json!(message);
        cond["lastProbeTime"] = json!(now);
        status["reason"] = json!(REASON_FAILED_INIT);
        status["message"] = json!(message);
        return Some(status);
    }
    cond["status"] = json!("True");
    cond["lastProbeTime"] = json!(now);
    cond["lastTransitionTime"] = json!(now);
    if skip {
        cond["reason"] = json!(REASON_SKIP);
        cond["message"] = json!(MESSAGE_SKIP);
    } else if let Some(m) = cond.as_object_mut() {
        m.remove("reason");
        m.remove("message");
    }
    let next = plan
        .iter()
        .position(|s| s.type_ == type_)
        .and_then(|p| plan.get(p + 1))
        .filter(|s| !conditions.iter().any(|c| c["type"] == s.type_.as_str()));
    if let Some(next) = next {
        conditions.push(json!({
            "type": next.type_,
            "status": "Unknown",
            "lastProbeTime": now,
            "lastTransitionTime": now,
            "reason": REASON_WAITING,
            "message": MESSAGE_WAITING,
        }));
    }
    if let Some(m) = status.as_object_mut() {
        m.remove("reason");
        m.remove("message");
    }
    Some(status)
}

/// The health-check failure the unhealthy annotation asks for, if any.
fn health_message(cluster: &Value) -> Option<String> {
    let text = cluster["metadata"]["annotations"][UNHEALTHY].as_str()?;
    if !text.trim().is_empty() {
        return Some(text.to_string());
    }
    let spec = &cluster["spec"];
    let (masters, _) = masters_and_workers(cluster);
    let host = spec["features"]["ha"]["tke"]["vip"]
        .as_str()
        .map(str::to_string)
        .or_else(|| masters.first().cloned())
        .unwrap_or_else(|| "127.0.0.1".to_string());
    Some(format!(
        "cluster health check failed: Get \"https://{host}:6443/healthz\": dial tcp {host}:6443: connect: connection refused"
    ))
}

/// The status after a health check: `Failed` with a `HealthCheck` condition while the
/// unhealthy annotation is set, `Running` again once it is removed.
pub fn health_check(cluster: &Value, now: &str) -> Value {
    let mut status = cluster["status"].clone();
    let failure = health_message(cluster);
    let cond = match &failure {
        Some(m) => json!({
            "type": "HealthCheck", "status": "False", "reason": REASON_FAILED_HEALTH_CHECK,
            "message": m, "lastProbeTime": now, "lastTransitionTime": now,
        }),
        None => json!({
            "type": "HealthCheck", "status": "True", "lastProbeTime": now, "lastTransitionTime": now,
        }),
    };
    if status["conditions"].as_array().is_none() {
        status["conditions"] = json!([]);
    }
    if let Some(conds) = status["conditions"].as_array_mut() {
        match conds.iter_mut().find(|c| c["type"] == "HealthCheck") {
            Some(c) => *c = cond,
            None => conds.push(cond),
        }
    }
    match failure {
        Some(m) => {
            status["phase"] = json!("Failed");
            status["reason"] = json!(REASON_FAILED_HEALTH_CHECK);
            status["message"] = json!(m);
        }
        None => {
            status["phase"] = json!("Running");
            if let Some(o) = status.as_object_mut() {
                o.remove("reason");
                o.remove("message");
            }
        }
    }
    status
}

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
fn is_cluster_node(machine: &Value, cluster: &Value) -> bool {
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
    match current_condition(&conditions) {
        Some(i) => {
            let c = &conditions[i];
            let type_ = c["type"].as_str().unwrap_or_default().to_string();
            let failed = c["status"] == "False";
            let attempt = if failed { probe_hash(c) } else { 0 };
            let base = if failed {
                RETRY_BASE
            } else {
                MACHINE_STEPS
                    .iter()
                    .find(|(t, _)| *t == type_)
                    .map(|(_, s)| Duration::from_secs(*s))
                    .unwrap_or(Duration::from_secs(2))
            };
            let mut r = SimRng::derive(seed, &format!("machine/{name}/{type_}/{attempt}"));
            let jitter = 0.75 + r.unit() * 0.5;
            Next::RunStep {
                index: i,
                type_,
                attempt,
                after: clock.scale(base.mul_f64(jitter)),
            }
        }
        None => Next::Finish,
    }
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

/// The first condition of a new cluster.
pub fn first_condition(cluster: &Value, now: &str) -> Value {
    waiting_condition(&step_plan(cluster)[0].type_, now)
}

/// A step queued next: `Unknown`, reason `Waiting`, message `waiting execute`.
pub fn waiting_condition(type_: &str, now: &str) -> Value {
    json!({
        "type": type_,
        "status": "Unknown",
        "lastProbeTime": now,
        "lastTransitionTime": now,
        "reason": REASON_WAITING,
        "message": MESSAGE_WAITING,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Value {
        json!({
            "apiVersion": "platform.tkestack.io/v1",
            "kind": "Cluster",
            "metadata": {"name": "c1", "finalizers": ["cluster"]},
            "spec": {
                "version": "1.30.1",
                "clusterCredentialRef": {"name": "cc-c1"},
                "machines": [
                    {"ip": "10.0.0.1", "role": "master"},
                    {"ip": "10.0.0.2", "role": "node"},
                ],
            },
            "status": {"phase": "Initializing"},
        })
    }

    #[test]
    fn steps_advance_in_order_and_finish() {
        let mut c = cluster();
        c["status"]["conditions"] = json!([first_condition(&c, "t0")]);
        let clock = SimClock::new(1000.0);
        let mut seen = Vec::new();
        loop {
            match plan_next(&c, 1, clock) {
                Next::RunStep { index, type_, .. } => {
                    seen.push(type_);
                    c["status"] = run_step(&c, index, "t1").expect("step pending");
                    let conds = c["status"]["conditions"].as_array().expect("conds");
                    let cur = current_condition(conds);
                    if let Some(cur) = cur {
                        assert_eq!(conds[cur]["reason"], REASON_WAITING);
                        assert_eq!(conds[cur]["message"], MESSAGE_WAITING);
                        assert_eq!(cur, conds.len() - 1);
                    }
                }
                Next::Finish => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        let expected: Vec<String> = CREATE_STEPS.iter().map(|(t, _)| t.to_string()).collect();
        assert_eq!(seen, expected);
    }

    #[test]
    fn a_broken_step_fails_until_fixed() {
        let mut c = cluster();
        c["metadata"]["annotations"] = json!({BROKEN_STEP: "EnsureCopyFiles"});
        c["status"]["conditions"] = json!([first_condition(&c, "t0")]);
        let st = run_step(&c, 0, "t1").expect("pending");
        assert_eq!(st["conditions"][0]["status"], "False");
        assert_eq!(st["conditions"][0]["reason"], REASON_FAILED_INIT);
        let msg = st["message"].as_str().expect("message");
        assert!(msg.contains("10.0.0.1:22"), "{msg}");
        assert_eq!(st["reason"], REASON_FAILED_INIT);
        assert_eq!(st["conditions"].as_array().map(Vec::len), Some(1));
        c["status"] = st;
        assert!(matches!(
            plan_next(&c, 1, SimClock::new(1.0)),
            Next::RunStep { index: 0, after, .. } if after >= Duration::from_secs(10)
        ));
        c["metadata"]["annotations"] = json!({});
        let st = run_step(&c, 0, "t2").expect("pending");
        assert_eq!(st["conditions"][0]["status"], "True");
        assert!(st.get("message").is_none());
        assert_eq!(st["conditions"][1]["type"], CREATE_STEPS[1].0);
    }

    #[test]
    fn skipped_steps_and_deletion() {
        let mut c = cluster();
        c["spec"]["features"] = json!({"skipConditions": ["EnsureCopyFiles"]});
        c["status"]["conditions"] = json!([first_condition(&c, "t0")]);
        let st = run_step(&c, 0, "t1").expect("pending");
        assert_eq!(st["conditions"][0]["reason"], REASON_SKIP);
        c["metadata"]["deletionTimestamp"] = json!("t2");
        assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::StartTerminating);
        c["status"]["phase"] = json!("Terminating");
        c["metadata"]["annotations"] = json!({TERMINATE_SECONDS: "100"});
        assert_eq!(
            plan_next(&c, 1, SimClock::new(10.0)),
            Next::Finalize {
                after: Duration::from_secs(10)
            }
        );
        c["metadata"]["finalizers"] = json!([]);
        assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::Idle);
    }

    #[test]
    fn a_new_cluster_is_adopted_and_a_running_one_left_alone() {
        let mut c = cluster();
        c["metadata"]["finalizers"] = json!([]);
        assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::Adopt);
        let mut r = cluster();
        r["status"] = running_status(
            &r,
            vec![json!({"type": "EnsureCopyFiles", "status": "True"})],
            &["10.0.0.1".into()],
        );
        assert_eq!(plan_next(&r, 1, SimClock::new(1.0)), Next::Idle);
        assert_eq!(r["status"]["version"], "1.30.1");
        assert_eq!(r["status"]["addresses"][0]["host"], "10.0.0.1");
    }

    #[test]
    fn the_unhealthy_annotation_fails_and_heals_a_running_cluster() {
        let mut c = cluster();
        c["status"] = running_status(
            &c,
            vec![json!({"type": "EnsureCopyFiles", "status": "True"})],
            &["10.0.0.1".into()],
        );
        c["metadata"]["annotations"] = json!({UNHEALTHY: ""});
        assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::HealthCheck);
        c["status"] = health_check(&c, "t1");
        assert_eq!(c["status"]["phase"], "Failed");
        let hc = &c["status"]["conditions"][1];
        assert_eq!(hc["reason"], REASON_FAILED_HEALTH_CHECK);
        assert!(
            hc["message"]
                .as_str()
                .unwrap_or("")
                .contains("10.0.0.1:6443")
        );
        assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::Idle);
        c["metadata"]["annotations"] = json!({});
        assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::HealthCheck);
        c["status"] = health_check(&c, "t2");
        assert_eq!(c["status"]["phase"], "Running");
        assert_eq!(c["status"]["conditions"][1]["status"], "True");
        assert!(c["status"].get("message").is_none());
        assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::Idle);
    }

    #[test]
    fn an_added_machine_runs_the_node_steps_once_its_cluster_runs() {
        let mut c = cluster();
        let mut m = json!({
            "metadata": {"name": "c1-10-0-0-9"},
            "spec": {"clusterName": "c1", "ip": "10.0.0.9", "role": "node"},
        });
        let clock = SimClock::new(1000.0);
        assert_eq!(
            plan_machine(&m, Some(&c), 1, clock),
            Next::Idle,
            "cluster not running"
        );
        assert_eq!(plan_machine(&m, None, 1, clock), Next::Idle, "no cluster");
        c["status"]["phase"] = json!("Running");
        assert_eq!(plan_machine(&m, Some(&c), 1, clock), Next::Adopt);
        let own =
            json!({"metadata": {"name": "own"}, "spec": {"clusterName": "c1", "ip": "10.0.0.1"}});
        assert_eq!(
            plan_machine(&own, Some(&c), 1, clock),
            Next::Idle,
            "the cluster's own node"
        );
        m["metadata"]["finalizers"] = json!([MACHINE_FINALIZER]);
        m["status"] = json!({"phase": "Initializing", "conditions": [waiting_condition(MACHINE_STEPS[0].0, "t0")]});
        let mut seen = Vec::new();
        loop {
            match plan_machine(&m, Some(&c), 1, clock) {
                Next::RunStep { index, type_, .. } => {
                    seen.push(type_);
                    m["status"] = run_machine_step(&m, index, "t1").expect("pending");
                }
                Next::Finish => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        let expected: Vec<String> = MACHINE_STEPS.iter().map(|(t, _)| t.to_string()).collect();
        assert_eq!(seen, expected);
        m["metadata"]["annotations"] = json!({BROKEN_STEP: "EnsureNodeReady"});
        let last = MACHINE_STEPS.len() - 2;
        m["status"]["conditions"][last]["status"] = json!("Unknown");
        let st = run_machine_step(&m, last, "t2").expect("pending");
        assert_eq!(st["conditions"][last]["reason"], REASON_FAILED_INIT);
        assert!(
            st["message"]
                .as_str()
                .unwrap_or("")
                .contains("node 10.0.0.9 is not ready")
        );
        m["metadata"]["deletionTimestamp"] = json!("t3");
        assert_eq!(plan_machine(&m, Some(&c), 1, clock), Next::StartTerminating);
        m["status"]["phase"] = json!("Terminating");
        assert!(matches!(
            plan_machine(&m, Some(&c), 1, clock),
            Next::Finalize { .. }
        ));
    }

    #[test]
    fn timings_are_deterministic_and_scaled() {
        let mut c = cluster();
        c["status"]["conditions"] = json!([first_condition(&c, "t0")]);
        let a = plan_next(&c, 5, SimClock::new(2.0));
        let b = plan_next(&c, 5, SimClock::new(2.0));
        assert_eq!(a, b);
        let Next::RunStep { after, .. } = a else {
            panic!("{a:?}")
        };
        assert!(after >= Duration::from_secs_f64(4.0 * 0.75 / 2.0));
        assert!(after <= Duration::from_secs_f64(4.0 * 1.25 / 2.0));
    }
}

// ----- The driver: tokio tasks on the in-process store -----

/// What the controllers need from the API server: the stores and serving workload clusters.
pub trait ClusterHost: Send + Sync + 'static {
    fn store(&self, cluster: &str) -> Option<Store>;
    /// Starts serving `/kubernetes/<name>`; returns its (possibly existing) store.
    fn add_cluster(&self, name: &str) -> Store;
    fn remove_cluster(&self, name: &str);
}

impl ClusterHost for super::apiserver::ApiServerHandle {
    fn store(&self, cluster: &str) -> Option<Store> {
        super::apiserver::ApiServerHandle::store(self, cluster)
    }
    fn add_cluster(&self, name: &str) -> Store {
        super::apiserver::ApiServerHandle::add_cluster(self, name)
    }
    fn remove_cluster(&self, name: &str) {
        super::apiserver::ApiServerHandle::remove_cluster(self, name)
    }
}

/// The simulation's tasks, so that shutdown can wait for every one of them to end.
#[derive(Clone, Default)]
pub struct Tasks(Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>);

impl Tasks {
    pub fn spawn(&self, f: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(f);
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|h| !h.is_finished());
        all.push(handle);
    }

    /// Waits until every task (including ones spawned meanwhile) has ended.
    pub async fn wait(&self) {
        loop {
            let batch = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
            if batch.is_empty() {
                return;
            }
            for h in batch {
                let _ = h.await;
            }
        }
    }
}

/// Shared state of the controllers.
pub struct Controllers {
    pub host: Arc<dyn ClusterHost>,
    pub global: Store,
    pub seed: u64,
    pub clock: SimClock,
    pub scenario: Scenario,
    /// CA of the API server, written into ClusterCredentials.
    pub ca_pem: String,
    pub stop: CancellationToken,
    pub tasks: Tasks,
    /// The etcd simulation of each served cluster, to stop it when the cluster goes.
    etcd: Mutex<HashMap<String, CancellationToken>>,
}

/// Everything [`Controllers::new`] needs.
pub struct ControllerSetup {
    pub host: Arc<dyn ClusterHost>,
    pub global: Store,
    pub seed: u64,
    pub clock: SimClock,
    pub scenario: Scenario,
    pub ca_pem: String,
    pub stop: CancellationToken,
    pub tasks: Tasks,
}

impl Controllers {
    pub fn new(setup: ControllerSetup) -> Arc<Self> {
        let ControllerSetup {
            host,
            global,
            seed,
            clock,
            scenario,
            ca_pem,
            stop,
            tasks,
        } = setup;
        Arc::new(Controllers {
            host,
            global,
            seed,
            clock,
            scenario,
            ca_pem,
            stop,
            tasks,
            etcd: Mutex::new(HashMap::new()),
        })
    }

    /// Starts the cluster and machine controllers.
    pub fn start(self: &Arc<Self>) {
        let me = self.clone();
        self.tasks.spawn(async move { me.watch_global().await });
    }

    /// Wakes one task per Cluster and per Machine on every change to it; a change to a
    /// Cluster also wakes the Machines, which wait for their cluster to run.
    async fn watch_global(self: Arc<Self>) {
        let mut wakers: HashMap<(Target, String), watch::Sender<u64>> = HashMap::new();
        'resync: loop {
            // Subscribe before listing so that nothing written in between is missed.
            let mut sub = self.global.subscribe();
            for target in [Target::Cluster, Target::Machine] {
                match self.global.list(target.resource(), None) {
                    Ok(all) => {
                        for o in all {
                            let name = o["metadata"]["name"].as_str().unwrap_or_default();
                            self.wake(&mut wakers, target, name);
                        }
                    }
                    Err(e) => tracing::warn!(
                        "sandbox controllers cannot list {}: {}",
                        target.resource(),
                        e.message
                    ),
                }
            }
            loop {
                tokio::select! {
                    _ = self.stop.cancelled() => return,
                    ev = sub.recv() => match ev {
                        Ok(ev) => match ev.kind().resource {
                            "clusters" => {
                                self.wake(&mut wakers, Target::Cluster, ev.name());
                                let machines: Vec<String> = wakers
                                    .keys()
                                    .filter(|(t, _)| *t == Target::Machine)
                                    .map(|(_, n)| n.clone())
                                    .collect();
                                for m in machines {
                                    self.wake(&mut wakers, Target::Machine, &m);
                                }
                            }
                            "machines" => self.wake(&mut wakers, Target::Machine, ev.name()),
                            _ => {}
                        },
                        Err(_) => continue 'resync,
                    }
                }
            }
        }
    }

    fn wake(
        self: &Arc<Self>,
        wakers: &mut HashMap<(Target, String), watch::Sender<u64>>,
        target: Target,
        name: &str,
    ) {
        if name.is_empty() {
            return;
        }
        let key = (target, name.to_string());
        if let Some(tx) = wakers.get(&key)
            && !tx.is_closed()
        {
            tx.send_modify(|n| *n += 1);
            return;
        }
        let (tx, rx) = watch::channel(0u64);
        wakers.insert(key, tx);
        let me = self.clone();
        let name = name.to_string();
        self.tasks
            .spawn(async move { me.object_task(target, name, rx).await });
    }

    fn plan(&self, target: Target, obj: &Value) -> Next {
        match target {
            Target::Cluster => plan_next(obj, self.seed, self.clock),
            Target::Machine => {
                let cluster = obj["spec"]["clusterName"]
                    .as_str()
                    .and_then(|c| self.global.get(names::CLUSTERS, None, c).ok());
                plan_machine(obj, cluster.as_ref(), self.seed, self.clock)
            }
        }
    }

    /// Drives one Cluster or Machine until it is gone.
    async fn object_task(
        self: Arc<Self>,
        target: Target,
        name: String,
        mut wake: watch::Receiver<u64>,
    ) {
        let resource = target.resource();
        let mut timer: Option<(String, tokio::time::Instant)> = None;
        loop {
            wake.borrow_and_update();
            let obj = match self.global.get(resource, None, &name) {
                Ok(o) => o,
                Err(e) if e.is_not_found() => return,
                Err(e) => {
                    tracing::warn!(object = %name, "sandbox controller cannot read {resource}: {}", e.message);
                    return;
                }
            };
            let next = self.plan(target, &obj);
            let result = match &next {
                Next::Idle => {
                    timer = None;
                    tokio::select! {
                        _ = self.stop.cancelled() => return,
                        r = wake.changed() => if r.is_err() { return },
                    }
                    continue;
                }
                Next::RunStep { after, .. } | Next::Finalize { after } => {
                    let key = next.timer_key();
                    let deadline = match &timer {
                        Some((k, d)) if *k == key => *d,
                        _ => tokio::time::Instant::now() + *after,
                    };
                    timer = Some((key, deadline));
                    tokio::select! {
                        _ = self.stop.cancelled() => return,
                        _ = tokio::time::sleep_until(deadline) => {}
                        r = wake.changed() => {
                            if r.is_err() { return }
                            continue;
                        }
                    }
                    timer = None;
                    // Act on the object as it is now, not as it was when the timer started.
                    let fresh = match self.global.get(resource, None, &name) {
                        Ok(o) => o,
                        Err(_) => continue,
                    };
                    if self.plan(target, &fresh).timer_key() != next.timer_key() {
                        continue;
                    }
                    self.apply(target, &fresh, &next)
                }
                _ => self.apply(target, &obj, &next),
            };
            if let Err(e) = result {
                // Usually a conflict with a concurrent edit: re-read and try again shortly.
                tracing::debug!(object = %name, "sandbox controller write to {resource} failed: {}", e.message);
                tokio::select! {
                    _ = self.stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }

    fn apply(&self, target: Target, obj: &Value, next: &Next) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        match (target, next) {
            (_, Next::Idle) => Ok(()),
            (Target::Cluster, Next::Adopt) => self.adopt(obj),
            (Target::Cluster, Next::StartTerminating) => self.start_terminating(obj),
            (Target::Cluster, Next::HealthCheck) => {
                let mut o = obj.clone();
                o["status"] = health_check(obj, &now_rfc3339());
                self.global
                    .update_status(names::CLUSTERS, None, name, o)
                    .map(|_| ())
                    .map_err(Box::new)
            }
            (Target::Cluster, Next::Finish) => self.finish(obj),
            (Target::Cluster, Next::RunStep { index, .. }) => self.run_step(obj, *index),
            (Target::Cluster, Next::Finalize { .. }) => self.finalize(obj),
            (Target::Machine, Next::Adopt) => self.adopt_machine(obj),
            (Target::Machine, Next::RunStep { index, .. }) => {
                let Some(status) = run_machine_step(obj, *index, &now_rfc3339()) else {
                    return Ok(());
                };
                let mut o = obj.clone();
                o["status"] = status;
                self.global.update_status(names::MACHINES, None, name, o)?;
                Ok(())
            }
            (Target::Machine, Next::Finish) => self.finish_machine(obj),
            (Target::Machine, Next::StartTerminating) => {
                let mut o = obj.clone();
                o["status"]["phase"] = json!("Terminating");
                self.global.update_status(names::MACHINES, None, name, o)?;
                Ok(())
            }
            (Target::Machine, Next::Finalize { .. }) => self.finalize_machine(obj),
            (Target::Machine, Next::HealthCheck) => Ok(()),
        }
    }

    fn adopt(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let cc_name = self.ensure_credential(obj)?;
        let mut o = obj.clone();
        let finalizers = o["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == FINALIZER) {
            let mut f = finalizers;
            f.push(json!(FINALIZER));
            o["metadata"]["finalizers"] = json!(f);
        }
        o["spec"]["clusterCredentialRef"] = json!({"name": cc_name});
        let o = if o != *obj {
            self.global.replace(names::CLUSTERS, None, name, o)?
        } else {
            o
        };
        self.ensure_machines(&o)?;
        let conditions = o["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if conditions.is_empty() {
            let mut s = o.clone();
            let now = now_rfc3339();
            s["status"] = json!({
                "phase": "Initializing",
                "conditions": [first_condition(&o, &now)],
            });
            self.global.update_status(names::CLUSTERS, None, name, s)?;
        }
        Ok(())
    }

    /// Creates a seeded cluster's credential and machines and points the cluster at the
    /// credential, as the controller would have done when it created the cluster.
    pub fn seed_credential_and_machines(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let cc_name = self.ensure_credential(obj)?;
        let mut o = obj.clone();
        o["spec"]["clusterCredentialRef"] = json!({"name": cc_name});
        let o = self.global.replace(names::CLUSTERS, None, name, o)?;
        self.ensure_machines(&o)
    }

    fn ensure_credential(&self, obj: &Value) -> WriteResult<String> {
        use base64::Engine as _;
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let existing = self.global.list_selected(
            names::CLUSTER_CREDENTIALS,
            None,
            &format!("{CLUSTER_NAME_LABEL}={name}"),
        )?;
        if let Some(cc) = existing.first() {
            return Ok(cc["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string());
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let token: String = (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        let cc = json!({
            "apiVersion": "platform.tkestack.io/v1",
            "kind": "ClusterCredential",
            "metadata": {
                "generateName": "cc-",
                "labels": {CLUSTER_NAME_LABEL: name},
                "ownerReferences": [{
                    "apiVersion": "platform.tkestack.io/v1",
                    "kind": "Cluster",
                    "name": name,
                    "uid": obj["metadata"]["uid"],
                    "controller": true,
                }],
            },
            "clusterName": name,
            "tenantID": obj["spec"]["tenantID"].as_str().unwrap_or("default"),
            "token": token,
            "caCert": b64.encode(&self.ca_pem),
        });
        let created = self.global.create(names::CLUSTER_CREDENTIALS, None, cc)?;
        Ok(created["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    fn ensure_machines(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let running = obj["status"]["phase"] == "Running";
        for m in obj["spec"]["machines"].as_array().into_iter().flatten() {
            let ip = m["ip"].as_str().unwrap_or_default();
            let mname = machine_name(name, ip);
            if self.global.get(names::MACHINES, None, &mname).is_ok() {
                continue;
            }
            // Secrets stay on the Cluster: the Machine only says where the node is.
            let machine = json!({
                "apiVersion": "platform.tkestack.io/v1",
                "kind": "Machine",
                "metadata": {"name": mname, "labels": {CLUSTER_NAME_LABEL: name}},
                "spec": {
                    "clusterName": name,
                    "type": "Baremetal",
                    "ip": ip,
                    "port": m["port"].as_i64().unwrap_or(22),
                    "username": m["username"].as_str().unwrap_or("root"),
                    "role": m["role"].as_str().unwrap_or("master"),
                },
            });
            let mut created = self.global.create(names::MACHINES, None, machine)?;
            created["status"] = machine_status(obj, ip, running);
            self.global
                .update_status(names::MACHINES, None, &mname, created)?;
        }
        Ok(())
    }

    fn run_step(&self, obj: &Value, index: usize) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let Some(status) = run_step(obj, index, &now_rfc3339()) else {
            return Ok(());
        };
        let mut o = obj.clone();
        o["status"] = status;
        self.global.update_status(names::CLUSTERS, None, name, o)?;
        Ok(())
    }

    fn finish(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let conditions = obj["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (masters, _) = masters_and_workers(obj);
        let mut o = obj.clone();
        o["status"] = running_status(obj, conditions, &masters);
        let o = self.global.update_status(names::CLUSTERS, None, name, o)?;
        self.set_machines_phase(name, &o, "Running")?;
        self.serve_cluster(&o);
        Ok(())
    }

    fn start_terminating(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let mut o = obj.clone();
        o["status"]["phase"] = json!("Terminating");
        self.global.update_status(names::CLUSTERS, None, name, o)?;
        self.set_machines_phase(name, obj, "Terminating")
    }

    fn finalize(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        self.stop_serving(name);
        let selector = format!("{CLUSTER_NAME_LABEL}={name}");
        for m in self.machines_of(name)? {
            let mname = m["metadata"]["name"].as_str().unwrap_or_default();
            ignore_not_found(self.global.delete(names::MACHINES, None, mname))?;
        }
        for cc in self
            .global
            .list_selected(names::CLUSTER_CREDENTIALS, None, &selector)?
        {
            let ccname = cc["metadata"]["name"].as_str().unwrap_or_default();
            ignore_not_found(self.global.delete(names::CLUSTER_CREDENTIALS, None, ccname))?;
        }
        let remaining: Vec<Value> = obj["metadata"]["finalizers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| *f != FINALIZER)
            .cloned()
            .collect();
        let mut o = obj.clone();
        o["metadata"]["finalizers"] = json!(remaining);
        ignore_not_found(self.global.replace(names::CLUSTERS, None, name, o))?;
        Ok(())
    }

    fn set_machines_phase(&self, cluster: &str, obj: &Value, phase: &str) -> WriteResult<()> {
        for mut m in self.machines_of(cluster)? {
            if !is_cluster_node(&m, obj) {
                continue;
            }
            let ip = m["spec"]["ip"].as_str().unwrap_or_default().to_string();
            let mname = m["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut st = machine_status(obj, &ip, phase == "Running");
            st["phase"] = json!(phase);
            if m["status"] == st {
                continue;
            }
            m["status"] = st;
            self.global
                .update_status(names::MACHINES, None, &mname, m)?;
        }
        Ok(())
    }

    /// Every Machine of a cluster, whoever created it.
    fn machines_of(&self, cluster: &str) -> WriteResult<Vec<Value>> {
        Ok(self
            .global
            .list(names::MACHINES, None)?
            .into_iter()
            .filter(|m| m["spec"]["clusterName"].as_str() == Some(cluster))
            .collect())
    }

    fn adopt_machine(&self, m: &Value) -> WriteResult<()> {
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let mut o = m.clone();
        let mut finalizers = o["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == MACHINE_FINALIZER) {
            finalizers.push(json!(MACHINE_FINALIZER));
            o["metadata"]["finalizers"] = json!(finalizers);
            o = self.global.replace(names::MACHINES, None, name, o)?;
        }
        if o["status"]["conditions"]
            .as_array()
            .is_none_or(Vec::is_empty)
        {
            let now = now_rfc3339();
            let ip = o["spec"]["ip"].clone();
            o["status"] = json!({
                "phase": "Initializing",
                "addresses": [{"type": "InternalIP", "address": ip}],
                "conditions": [waiting_condition(MACHINE_STEPS[0].0, &now)],
            });
            self.global.update_status(names::MACHINES, None, name, o)?;
        }
        Ok(())
    }

    fn finish_machine(&self, m: &Value) -> WriteResult<()> {
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let cluster_name = m["spec"]["clusterName"].as_str().unwrap_or_default();
        let cluster = self.global.get(names::CLUSTERS, None, cluster_name)?;
        let ip = m["spec"]["ip"].as_str().unwrap_or_default();
        let mut st = machine_status(&cluster, ip, true);
        st["conditions"] = m["status"]["conditions"].clone();
        let mut o = m.clone();
        o["status"] = st;
        self.global.update_status(names::MACHINES, None, name, o)?;
        if let Some(store) = self.host.store(cluster_name) {
            let plan = ClusterPlan::from_cluster(&cluster);
            let master = m["spec"]["role"].as_str() == Some("master");
            let node = plan.node_object(ip, master, chrono::Utc::now());
            match store.create(names::NODES, None, node) {
                Ok(_) => {}
                Err(e) if e.is_already_exists() => {}
                Err(e) => return Err(Box::new(e)),
            }
        }
        Ok(())
    }

    fn finalize_machine(&self, m: &Value) -> WriteResult<()> {
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let cluster_name = m["spec"]["clusterName"].as_str().unwrap_or_default();
        let ip = m["spec"]["ip"].as_str().unwrap_or_default();
        if let Some(store) = self.host.store(cluster_name) {
            ignore_not_found(store.delete(names::NODES, None, ip))?;
        }
        let remaining: Vec<Value> = m["metadata"]["finalizers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| *f != MACHINE_FINALIZER)
            .cloned()
            .collect();
        let mut o = m.clone();
        o["metadata"]["finalizers"] = json!(remaining);
        ignore_not_found(self.global.replace(names::MACHINES, None, name, o))
    }

    /// Serves the cluster's own API under `/kubernetes/<name>` and fills it.
    pub fn serve_cluster(&self, obj: &Value) {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let plan = self
            .scenario
            .cluster(name)
            .filter(|_| obj["metadata"]["labels"][super::scenario::SEEDED_LABEL] == "true")
            .cloned()
            .unwrap_or_else(|| ClusterPlan::from_cluster(obj));
        let store = if name == super::scenario::GLOBAL {
            match self.host.store(name) {
                Some(s) => s,
                None => return,
            }
        } else {
            self.host.add_cluster(name)
        };
        populate(&store, &plan, chrono::Utc::now());
        let stop = self.stop.child_token();
        let previous = self
            .etcd
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), stop.clone());
        if let Some(prev) = previous {
            prev.cancel();
        }
        self.tasks.spawn(super::etcd_sim::run(
            store,
            plan.masters.clone(),
            self.clock,
            stop,
        ));
    }

    fn stop_serving(&self, name: &str) {
        if let Some(t) = self
            .etcd
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name)
        {
            t.cancel();
        }
        self.host.remove_cluster(name);
    }
}

/// Errors of the controllers' writes; boxed because `ApiError` is large.
type WriteResult<T> = Result<T, Box<ApiError>>;

fn ignore_not_found<T>(r: Result<T, ApiError>) -> WriteResult<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(Box::new(e)),
    }
}

/// Writes every object of the plan's cluster; objects that exist are left as they are, so a
/// cluster served again keeps what users changed.
pub fn populate(store: &Store, plan: &ClusterPlan, now: chrono::DateTime<chrono::Utc>) {
    for (resource, obj) in plan.workload_objects(now) {
        let ns = obj["metadata"]["namespace"].as_str().map(str::to_string);
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let status = obj.get("status").cloned();
        match store.create(resource, ns.as_deref(), obj) {
            Ok(mut created) => {
                // Status is ignored on create for kinds with a status subresource.
                if let Some(st) = status
                    && created.get("status") != Some(&st)
                {
                    created["status"] = st;
                    if let Err(e) = store.update_status(resource, ns.as_deref(), &name, created) {
                        tracing::debug!("sandbox seeding {resource} {name}: {}", e.message);
                    }
                }
            }
            Err(e) if e.is_already_exists() => {}
            Err(e) => tracing::warn!("sandbox seeding {resource} {name} failed: {}", e.message),
        }
    }
}

/// `<cluster>-<ip with dots as dashes>`, as Alauda's own tooling names machines.
pub fn machine_name(cluster: &str, ip: &str) -> String {
    format!("{cluster}-{}", ip.replace(['.', ':'], "-"))
}

fn machine_status(cluster: &Value, ip: &str, running: bool) -> Value {
    let version = cluster["spec"]["version"].as_str().unwrap_or_default();
    let runtime = cluster["metadata"]["annotations"]["cpaas.io/container-runtime"]
        .as_str()
        .unwrap_or("containerd://1.7.27");
    let mut st = json!({
        "phase": if running { "Running" } else { "Initializing" },
        "addresses": [{"type": "InternalIP", "address": ip}],
    });
    if running {
        st["machineInfo"] = json!({
            "kernelVersion": "5.14.0-427.13.1.el9_4.x86_64",
            "osImage": "Rocky Linux 9.4 (Blue Onyx)",
            "containerRuntimeVersion": runtime,
            "kubeletVersion": format!("v{version}"),
            "kubeProxyVersion": format!("v{version}"),
            "operatingSystem": "linux",
            "architecture": "amd64",
        });
    }
    st
}
