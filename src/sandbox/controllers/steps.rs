//! The cluster creation steps and what running one, failing one or a health check writes
//! into a `Cluster`'s status.

use std::time::Duration;

use serde_json::{Value, json};

use crate::sandbox::scenario::{BROKEN_MESSAGE, BROKEN_STEP, UNHEALTHY};

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

pub(super) fn masters_and_workers(cluster: &Value) -> (Vec<String>, Vec<String>) {
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
pub(super) fn execute_step(
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
pub(super) fn health_message(cluster: &Value) -> Option<String> {
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
