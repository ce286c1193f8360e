//! The registry capability's task: one check run at a time per front end question; a new
//! question cancels the run before it, and every event carries the question's id.

use std::net::SocketAddr;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::battery::{self, Options};
use super::inputs::{self, Inputs, Request};
use crate::domain::registry::CheckResult;
use crate::engine::kube::{KubeSource, ops};
use crate::engine::{Event, Failure, RequestId};

#[derive(Debug)]
pub enum RegistryCommand {
    /// Runs the checklist; `cluster` is a workload cluster (`None`: global); `connect` is the
    /// registry address to dial instead of resolving its name.
    Check {
        request: Request,
        cluster: Option<String>,
        connect: Option<SocketAddr>,
    },
    /// Stops the run in progress.
    Cancel,
}

#[derive(Debug, Clone)]
pub enum RegistryEvent {
    /// What the checks run on (from the pod or deployment when one was named).
    Inputs(Box<Inputs>),
    /// One finished check.
    Result(CheckResult),
    /// Every check has reported.
    Done,
    /// The run could not start (no platform, no such pod).
    Failed(Failure),
}

/// The capability's loop.
/// How the checks reach what the sandbox serves on loopback: the registry endpoint (and its
/// CA), and the nodes through the SOCKS5 endpoint (with the data dir for their known_hosts).
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub via: Option<(SocketAddr, String)>,
    pub nodes: Option<(crate::engine::ssh::ProxySpec, std::path::PathBuf)>,
}

pub async fn run(
    mut commands: mpsc::Receiver<(RequestId, RegistryCommand)>,
    events: mpsc::Sender<Event>,
    source: KubeSource,
    reach: Reach,
    stop: CancellationToken,
) {
    let tasks = TaskTracker::new();
    let mut current: Option<CancellationToken> = None;
    loop {
        let (id, cmd) = tokio::select! {
            _ = stop.cancelled() => break,
            c = commands.recv() => match c { Some(c) => c, None => break },
        };
        if let Some(c) = current.take() {
            c.cancel();
        }
        let RegistryCommand::Check {
            request,
            cluster,
            connect,
        } = cmd
        else {
            continue;
        };
        let cancel = stop.child_token();
        current = Some(cancel.clone());
        let (events, source, reach) = (events.clone(), source.clone(), reach.clone());
        tasks.spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = check(id, request, cluster, connect, reach, &source, &events) => {}
            }
        });
    }
    tasks.close();
    tasks.wait().await;
}

async fn send(events: &mpsc::Sender<Event>, id: RequestId, event: RegistryEvent) {
    let _ = events.send(Event::Registry { id, event }).await;
}

async fn check(
    id: RequestId,
    request: Request,
    cluster: Option<String>,
    connect: Option<SocketAddr>,
    reach: Reach,
    source: &KubeSource,
    events: &mpsc::Sender<Event>,
) {
    let Reach { via, nodes } = reach;
    let prepared = async {
        let conn = ops::connect(source).await?;
        let client = match cluster.as_deref() {
            None | Some("global") => conn.client.clone(),
            Some(c) => conn.pool.workload(&conn.context, c).await?,
        };
        let inputs = inputs::resolve(&client, &request).await?;
        Ok::<_, Failure>((conn, client, inputs))
    };
    let (conn, client, inputs) = match prepared.await {
        Ok(x) => x,
        Err(f) => return send(events, id, RegistryEvent::Failed(f)).await,
    };
    send(events, id, RegistryEvent::Inputs(Box::new(inputs.clone()))).await;
    let mut opts = Options::new(chrono::Utc::now().timestamp());
    opts.connect = connect.or(via.as_ref().map(|v| v.0));
    if let Some((_, ca)) = via {
        opts.trust.extra_ca_pem = ca.into_bytes();
    }
    opts.global = Some(conn.client.clone());
    // The sandbox's nodes are asked through its loopback SOCKS5 endpoint; a real platform's
    // nodes need credentials the pane does not have, so their checks say they were skipped.
    if let Some((proxy, data_dir)) = &nodes {
        let notes = super::node_targets::attach_sandbox_nodes(
            &mut opts,
            &conn.client,
            &client,
            cluster.as_deref().unwrap_or("global"),
            proxy,
            data_dir,
        )
        .await;
        for n in notes {
            tracing::info!(note = %n, "registry node checks");
        }
    }
    let (tx, mut rx) = mpsc::channel(crate::engine::CHANNEL_CAPACITY);
    let forward = async {
        while let Some(r) = rx.recv().await {
            send(events, id, RegistryEvent::Result(r)).await;
        }
    };
    let work = async move { battery::run(&client, &inputs, &opts, &tx).await };
    tokio::join!(work, forward);
    send(events, id, RegistryEvent::Done).await;
}
