//! One step of creation, and a failing step with its hint.

use chrono::{DateTime, Utc};
use serde::Serialize;

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

pub(super) fn is_failure_reason(reason: Option<&str>) -> bool {
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
pub(super) fn node_in(message: &str) -> Option<String> {
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
