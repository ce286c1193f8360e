//! Node preflight over SSH: every node in parallel through the [`SshPool`], one batched probe
//! exec and one clock exec per node, each node's results streamed as soon as they are known,
//! then the checks that compare nodes and a summary.
//!
//! The CLI calls [`run`] (or [`spawn_nodes`] and [`finish`] to stream); the TUI sends
//! [`PreflightCommand`]s to the capability task ([`capability::run`]) and reads
//! [`PreflightEvent`]s. A node whose host key nobody has seen yet reports it in
//! [`NodeReport::host_key`] with its SHA256 fingerprint; the front end asks the user and then
//! sends [`PreflightCommand::AcceptHostKey`], which records the key and re-runs that node. A
//! changed key is refused and nothing else runs on that node.
//!
//! Reachability is checked from this machine, while the platform connects to the nodes from
//! the global cluster: the two paths can differ.

pub mod capability;
mod node;
pub mod setup;

use std::sync::Arc;

use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::ssh::{HostKeyLine, SshFailure, SshPool, SshTarget};
use crate::domain::preflight::{
    CheckResult, ClockSample, NodeFacts, NodeInput, Requirements, Role, Summary, evaluate_fleet,
};

pub use capability::{PreflightCommand, PreflightEvent};
pub use node::check_node;

/// One node to check: what the wizard or manifest says about it, and how to reach it (or why
/// its connection settings are unusable).
#[derive(Debug, Clone)]
pub struct NodeJob {
    pub input: NodeInput,
    pub target: Result<SshTarget, SshFailure>,
}

/// Everything a preflight run needs besides the pool.
#[derive(Debug, Clone)]
pub struct PreflightRequest {
    pub nodes: Vec<NodeJob>,
    pub requirements: Requirements,
}

/// A host key seen for the first time, for the user to confirm before it is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostKeyOffer {
    pub host: String,
    pub port: u16,
    /// `SHA256:...` as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    pub key: HostKeyLineData,
}

/// [`HostKeyLine`] as data for JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostKeyLineData {
    pub key_type: String,
    pub key_base64: String,
}

impl From<&HostKeyLine> for HostKeyLineData {
    fn from(k: &HostKeyLine) -> Self {
        HostKeyLineData {
            key_type: k.key_type.clone(),
            key_base64: k.key_base64.clone(),
        }
    }
}

impl HostKeyOffer {
    pub fn key_line(&self) -> HostKeyLine {
        HostKeyLine {
            key_type: self.key.key_type.clone(),
            key_base64: self.key.key_base64.clone(),
        }
    }
}

/// One node's outcome: its `ssh-connect` result and, when it was reached, every node check.
#[derive(Debug, Clone, Serialize)]
pub struct NodeReport {
    /// Index into [`PreflightRequest::nodes`].
    pub index: usize,
    pub name: String,
    /// `user@host:port`, or the node's name when its target is unusable.
    pub target: String,
    pub role: Role,
    /// What the checks were given about the node (its addresses, NIC, role).
    #[serde(skip)]
    pub input: NodeInput,
    pub results: Vec<CheckResult>,
    /// Set when the node's host key is unknown and was not accepted.
    pub host_key: Option<HostKeyOffer>,
    /// What the probe found; `None` when the node was not reached.
    pub facts: Option<NodeFacts>,
    pub clock: Option<ClockSample>,
    pub elapsed_ms: u64,
}

impl NodeReport {
    pub fn reached(&self) -> bool {
        self.facts.is_some()
    }
}

/// A cross-node result, attached to one node.
#[derive(Debug, Clone, Serialize)]
pub struct FleetResult {
    pub node: usize,
    pub result: CheckResult,
}

/// A whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub platform_arch: Option<String>,
    pub nodes: Vec<NodeReport>,
    pub fleet: Vec<FleetResult>,
    pub summary: Summary,
    pub exit_code: i32,
    /// Reachability is judged from here, not from the global cluster.
    pub note: &'static str,
}

/// The note both front ends show next to the results.
pub const REACHABILITY_NOTE: &str = "Reachability is checked from this machine; the platform \
     connects to the nodes from the global cluster, possibly through a proxy, so its path may \
     differ.";

/// Starts every node's check; each task holds a pool slot only while connected.
pub fn spawn_nodes(
    pool: &SshPool,
    request: &Arc<PreflightRequest>,
    cancel: &CancellationToken,
) -> JoinSet<NodeReport> {
    let mut set = JoinSet::new();
    for index in 0..request.nodes.len() {
        let (pool, request, cancel) = (pool.clone(), request.clone(), cancel.clone());
        set.spawn(async move {
            let job = &request.nodes[index];
            check_node(&pool, index, job, &request.requirements, &cancel).await
        });
    }
    set
}

/// The fleet checks over every reached node and the summary, with the nodes in request order.
pub fn finish(req: &Requirements, mut nodes: Vec<NodeReport>) -> Report {
    nodes.sort_by_key(|n| n.index);
    let reached: Vec<(usize, (NodeInput, NodeFacts, ClockSample))> = nodes
        .iter()
        .enumerate()
        .filter_map(|(pos, n)| {
            let facts = n.facts.clone()?;
            let clock = n.clock.unwrap_or(ClockSample {
                local_before: 0.0,
                remote: None,
                local_after: 0.0,
            });
            Some((pos, (n.input.clone(), facts, clock)))
        })
        .collect();
    let (positions, inputs): (Vec<usize>, Vec<_>) = reached.into_iter().unzip();
    let fleet: Vec<FleetResult> = evaluate_fleet(&inputs, req)
        .into_iter()
        .filter_map(|(i, result)| {
            positions.get(i).map(|&pos| FleetResult {
                node: nodes[pos].index,
                result,
            })
        })
        .collect();
    let summary = Summary::of(
        nodes
            .iter()
            .flat_map(|n| n.results.iter())
            .chain(fleet.iter().map(|f| &f.result)),
    );
    Report {
        platform_arch: req.platform_arch.clone(),
        nodes,
        fleet,
        summary,
        exit_code: summary.exit_code(),
        note: REACHABILITY_NOTE,
    }
}

/// Checks every node and returns the whole report; `on_node` sees each node as it finishes.
pub async fn run(
    pool: &SshPool,
    request: PreflightRequest,
    cancel: &CancellationToken,
    mut on_node: impl FnMut(&NodeReport),
) -> Report {
    let request = Arc::new(request);
    let mut set = spawn_nodes(pool, &request, cancel);
    let mut nodes = Vec::with_capacity(request.nodes.len());
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(report) => {
                on_node(&report);
                nodes.push(report);
            }
            Err(e) => tracing::warn!("a preflight node task failed: {e}"),
        }
    }
    finish(&request.requirements, nodes)
}
