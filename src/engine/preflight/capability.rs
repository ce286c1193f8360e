//! The preflight capability's task, for the TUI: runs stream one event per node, then the
//! fleet checks and the summary; an accepted host key is recorded and its nodes re-run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::setup::{RunSetup, prepare};
use super::{NodeReport, PreflightRequest, Report, check_node, finish, spawn_nodes};
use crate::engine::kube::KubeSource;
use crate::engine::ssh::{HostKeyLine, SshPool, record_host_key};
use crate::engine::{Event, Failure, FailureKind, RequestId};

/// Runs kept for re-runs and host-key acceptance; older ones are forgotten.
const KEPT_RUNS: usize = 8;

#[derive(Debug)]
pub enum PreflightCommand {
    /// Checks every node of the request; answered by [`PreflightEvent::Started`], one
    /// [`PreflightEvent::Node`] per node as it finishes, then [`PreflightEvent::Finished`].
    Run {
        request: Box<PreflightRequest>,
        setup: RunSetup,
    },
    /// Re-checks one node of the run with this id (by its index in the request), then
    /// reports the run again.
    RerunNode { index: usize },
    /// The user confirmed this host key's fingerprint: record it in the cockpit's
    /// known_hosts and re-check the run's nodes at `host:port`. A changed key is refused by
    /// the recording itself and answered with [`PreflightEvent::Failed`].
    AcceptHostKey {
        host: String,
        port: u16,
        key: HostKeyLine,
    },
    /// Stops the run with this id; nodes not yet finished report `cancelled`.
    Cancel,
}

#[derive(Debug, Clone)]
pub enum PreflightEvent {
    /// The run began: how many nodes, and notes on what could not be prepared (the platform's
    /// architecture unreadable, say).
    Started { nodes: usize, notes: Vec<String> },
    /// One node finished (on a re-run, the node's new report replaces the old one).
    Node(Box<NodeReport>),
    /// Every node finished: the fleet checks and the summary over the latest reports.
    Finished(Box<Report>),
    /// The run could not start, or a host key could not be recorded.
    Failed(Failure),
}

struct RunState {
    request: Arc<PreflightRequest>,
    /// The pool the run used: the sandbox's nodes keep their keys apart from real ones.
    pool: SshPool,
    reports: Vec<Option<NodeReport>>,
    cancel: CancellationToken,
}

type Runs = Arc<Mutex<BTreeMap<RequestId, RunState>>>;

/// What the task shares with the work it spawns.
#[derive(Clone)]
struct Ctx {
    pool: SshPool,
    sandbox_pool: SshPool,
    kube: KubeSource,
    events: mpsc::Sender<Event>,
    runs: Runs,
    stop: CancellationToken,
}

impl Ctx {
    async fn send(&self, id: RequestId, event: PreflightEvent) {
        let _ = self.events.send(Event::Preflight { id, event }).await;
    }
}

/// The capability's task: each command's work is spawned and tracked, so a slow node never
/// holds up the next command. `sandbox_pool` serves runs whose [`RunSetup::sandbox`] is set.
pub async fn run(
    pool: SshPool,
    sandbox_pool: SshPool,
    kube: KubeSource,
    mut commands: mpsc::Receiver<(RequestId, PreflightCommand)>,
    events: mpsc::Sender<Event>,
    stop: CancellationToken,
) {
    let ctx = Ctx {
        pool,
        sandbox_pool,
        kube,
        events,
        runs: Arc::default(),
        stop: stop.clone(),
    };
    let work = TaskTracker::new();
    loop {
        let (id, cmd) = tokio::select! {
            _ = stop.cancelled() => break,
            cmd = commands.recv() => match cmd {
                Some(c) => c,
                None => break,
            },
        };
        match cmd {
            PreflightCommand::Run { request, setup } => {
                work.spawn(start_run(ctx.clone(), id, *request, setup));
            }
            PreflightCommand::RerunNode { index } => {
                work.spawn(rerun(ctx.clone(), id, move |_, i| i == index));
            }
            PreflightCommand::AcceptHostKey { host, port, key } => {
                work.spawn(accept(ctx.clone(), id, host, port, key));
            }
            PreflightCommand::Cancel => {
                if let Ok(runs) = ctx.runs.lock()
                    && let Some(r) = runs.get(&id)
                {
                    r.cancel.cancel();
                }
            }
        }
    }
    work.close();
    work.wait().await;
}

async fn start_run(ctx: Ctx, id: RequestId, mut request: PreflightRequest, setup: RunSetup) {
    let notes = match prepare(&mut request.requirements, &setup, Some(&ctx.kube)).await {
        Ok(n) => n,
        Err(f) => return ctx.send(id, PreflightEvent::Failed(f)).await,
    };
    let request = Arc::new(request);
    let cancel = ctx.stop.child_token();
    let pool = if setup.sandbox {
        ctx.sandbox_pool.clone()
    } else {
        ctx.pool.clone()
    };
    if let Ok(mut runs) = ctx.runs.lock() {
        while runs.len() >= KEPT_RUNS {
            runs.pop_first();
        }
        runs.insert(
            id,
            RunState {
                request: request.clone(),
                pool: pool.clone(),
                reports: vec![None; request.nodes.len()],
                cancel: cancel.clone(),
            },
        );
    }
    let nodes = request.nodes.len();
    ctx.send(id, PreflightEvent::Started { nodes, notes }).await;
    let mut set = spawn_nodes(&pool, &request, &cancel);
    let mut done = 0u64;
    while let Some(joined) = set.join_next().await {
        done += 1;
        match joined {
            Ok(report) => store_and_send(&ctx, id, report).await,
            Err(e) => tracing::warn!("a preflight node task failed: {e}"),
        }
        let progress = crate::engine::Progress {
            id,
            done,
            total: Some(nodes as u64),
            what: "preflight: nodes checked".to_string(),
        };
        let _ = ctx.events.send(Event::Progress(progress)).await;
    }
    send_finished(&ctx, id).await;
}

async fn store_and_send(ctx: &Ctx, id: RequestId, report: NodeReport) {
    if let Ok(mut runs) = ctx.runs.lock()
        && let Some(slot) = runs
            .get_mut(&id)
            .and_then(|r| r.reports.get_mut(report.index))
    {
        *slot = Some(report.clone());
    }
    ctx.send(id, PreflightEvent::Node(Box::new(report))).await;
}

async fn send_finished(ctx: &Ctx, id: RequestId) {
    let report = ctx.runs.lock().ok().and_then(|runs| {
        let r = runs.get(&id)?;
        let done: Vec<NodeReport> = r.reports.iter().flatten().cloned().collect();
        Some(finish(&r.request.requirements, done))
    });
    if let Some(report) = report {
        ctx.send(id, PreflightEvent::Finished(Box::new(report)))
            .await;
    }
}

/// Re-checks the nodes of run `id` that `pick` selects, one after another's results arrive.
async fn rerun(ctx: Ctx, id: RequestId, pick: impl Fn(&PreflightRequest, usize) -> bool) {
    let found = ctx.runs.lock().ok().and_then(|runs| {
        let r = runs.get(&id)?;
        Some((r.request.clone(), r.cancel.clone(), r.pool.clone()))
    });
    let Some((request, cancel, pool)) = found else {
        let f = Failure::new(
            FailureKind::NotFound,
            "that preflight run is no longer kept",
            Some("run the preflight again"),
        );
        return ctx.send(id, PreflightEvent::Failed(f)).await;
    };
    let mut set = tokio::task::JoinSet::new();
    for index in (0..request.nodes.len()).filter(|&i| pick(&request, i)) {
        let (pool, request, cancel) = (pool.clone(), request.clone(), cancel.clone());
        set.spawn(async move {
            let job = &request.nodes[index];
            check_node(&pool, index, job, &request.requirements, &cancel).await
        });
    }
    while let Some(joined) = set.join_next().await {
        if let Ok(report) = joined {
            store_and_send(&ctx, id, report).await;
        }
    }
    send_finished(&ctx, id).await;
}

async fn accept(ctx: Ctx, id: RequestId, host: String, port: u16, key: HostKeyLine) {
    let pool = ctx
        .runs
        .lock()
        .ok()
        .and_then(|runs| runs.get(&id).map(|r| r.pool.clone()))
        .unwrap_or_else(|| ctx.pool.clone());
    if let Err(f) = record_host_key(pool.policy(), &host, port, &key).await {
        let failure = Failure::new(FailureKind::Conflict, f.message, f.hint.as_deref());
        return ctx.send(id, PreflightEvent::Failed(failure)).await;
    }
    rerun(ctx, id, move |req, i| {
        req.nodes[i]
            .target
            .as_ref()
            .is_ok_and(|t| t.host == host && t.port == port)
    })
    .await;
}
