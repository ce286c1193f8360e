//! Watches with backoff, coalesced into bounded batches for the front ends.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event as WatchEvent};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::client::{ClientPool, FailureKind, KubeFailure};
/// A watch failing the same way logs it once a minute, with the count.
const REPEAT_LOG_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

use super::model::{ClusterSummary, Delta, Interner, MachineSummary};
use super::{ConnState, KubeEvent};
use crate::domain::cluster::{Cluster, Machine};
use crate::engine::Event;
use crate::engine::repeats::{Repeats, Verdict};

/// At most one batch per kind and platform in this interval.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(50);
/// A batch is sent early once it holds this many objects, so memory stays bounded.
pub const MAX_BATCH: usize = 2048;

/// A kind the engine watches: how to clean an object before storing it and how to wrap a batch.
pub trait Watched:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
    /// The resource as the user sees it in RBAC messages.
    const RESOURCE: &'static str;
    /// What the front ends keep of an object.
    type Summary: Debug + Send + Sync + 'static;
    /// Strips what must not be stored or shown: managedFields, secrets.
    fn sanitize(&mut self);
    fn summarize(&self, i: &mut Interner) -> Self::Summary;
    fn wrap(d: Delta<Self::Summary>) -> KubeEvent;
}

impl Watched for Cluster {
    const RESOURCE: &'static str = "clusters.platform.tkestack.io";
    fn sanitize(&mut self) {
        self.metadata.managed_fields = None;
        for m in self
            .spec
            .machines
            .iter_mut()
            .chain(self.spec.scaling_machines.iter_mut())
        {
            m.mask_secrets();
        }
    }
    type Summary = ClusterSummary;
    fn summarize(&self, i: &mut Interner) -> ClusterSummary {
        ClusterSummary::from_cluster(self, i)
    }
    fn wrap(d: Delta<ClusterSummary>) -> KubeEvent {
        KubeEvent::ClustersChanged(d)
    }
}

impl Watched for Machine {
    const RESOURCE: &'static str = "machines.platform.tkestack.io";
    fn sanitize(&mut self) {
        self.metadata.managed_fields = None;
        self.spec.machine.mask_secrets();
    }
    type Summary = MachineSummary;
    fn summarize(&self, i: &mut Interner) -> MachineSummary {
        MachineSummary::from_machine(self, i)
    }
    fn wrap(d: Delta<MachineSummary>) -> KubeEvent {
        KubeEvent::MachinesChanged(d)
    }
}

fn failure_of(e: &watcher::Error, what: &str) -> KubeFailure {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => KubeFailure::from_kube(k, what),
        watcher::Error::WatchError(s) => {
            KubeFailure::from_status(s.code, &s.reason, &s.message, what)
        }
        watcher::Error::NoResourceVersion => KubeFailure::new(
            FailureKind::Unreachable,
            format!("cannot {what}: the server sent objects without a resourceVersion"),
            Some("the server is not a conforming Kubernetes API server"),
        ),
    }
}

/// Where connection states go; only the clusters watch reports them.
type Report<'a> = Option<&'a mut (dyn FnMut(ConnState) + Send)>;

fn set_state(state: ConnState, last: &mut Option<ConnState>, report: &mut Report) {
    // Only a change is reported: a refused connection retried with backoff fails the same way
    // every time, and re-sending it would wake the UI for nothing. A failure whose message
    // changed is a change.
    if last.as_ref() != Some(&state) {
        *last = Some(state.clone());
        if let Some(r) = report.as_mut() {
            r(state);
        }
    }
}

fn is_ready(last: &Option<ConnState>) -> bool {
    matches!(last, Some(ConnState::Ready))
}

/// Watches one kind until cancelled (Ok) or until the credentials are rejected (Err).
/// Other errors are reported and retried with the default backoff.
pub async fn watch_kind<K: Watched>(
    client: Client,
    platform: String,
    sink: mpsc::Sender<Event>,
    mut report: Report<'_>,
    cancel: CancellationToken,
) -> Result<(), KubeFailure> {
    let what = format!("watch {}", K::RESOURCE);
    let api: Api<K> = Api::all(client);
    let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
    let mut stream = std::pin::pin!(stream);
    let mut interner = Interner::default();
    let mut init: Option<Vec<Arc<K::Summary>>> = None;
    let mut pending: HashMap<String, Option<Arc<K::Summary>>> = HashMap::new();
    let mut flush_at: Option<Instant> = None;
    let mut last_state: Option<ConnState> = None;
    let mut repeats = Repeats::new(REPEAT_LOG_INTERVAL);
    loop {
        let next = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = async { tokio::time::sleep_until(flush_at.unwrap_or_else(Instant::now)).await }, if flush_at.is_some() => {
                flush_at = None;
                if !send_batch::<K>(&sink, &platform, &mut pending).await {
                    return Ok(());
                }
                continue;
            }
            n = stream.next() => n,
        };
        let Some(item) = next else {
            return Ok(());
        };
        match item {
            Ok(WatchEvent::Init) => init = Some(Vec::new()),
            Ok(WatchEvent::InitApply(o)) => {
                init.get_or_insert_with(Vec::new)
                    .push(Arc::new(o.summarize(&mut interner)));
            }
            Ok(WatchEvent::InitDone) => {
                // The relist supersedes anything queued before it.
                pending.clear();
                flush_at = None;
                let applied = init.take().unwrap_or_default();
                let ev = K::wrap(Delta {
                    platform: platform.clone(),
                    reset: true,
                    applied,
                    deleted: Vec::new(),
                });
                if sink.send(Event::Kube(ev)).await.is_err() {
                    return Ok(());
                }
                if !is_ready(&last_state) {
                    set_state(ConnState::Ready, &mut last_state, &mut report);
                }
            }
            Ok(WatchEvent::Apply(o)) => {
                let name = o.meta().name.clone().unwrap_or_default();
                pending.insert(name, Some(Arc::new(o.summarize(&mut interner))));
            }
            Ok(WatchEvent::Delete(o)) => {
                let name = o.meta().name.clone().unwrap_or_default();
                pending.insert(name, None);
            }
            Err(e) => {
                let f = failure_of(&e, &what);
                match repeats.check(&f.to_string(), std::time::Instant::now()) {
                    Verdict::Log => {
                        tracing::warn!(platform = %platform, error = %f, "watch failed")
                    }
                    Verdict::LogRepeated(n) => tracing::warn!(
                        platform = %platform, error = %f, repeated = n, "watch still failing"
                    ),
                    Verdict::Skip => {
                        tracing::debug!(platform = %platform, error = %f, "watch failed again")
                    }
                }
                if f.kind == FailureKind::AuthExpired {
                    return Err(f);
                }
                let missing = format!("list and watch on {}", K::RESOURCE);
                set_state(f.conn_state(None, &missing), &mut last_state, &mut report);
                continue;
            }
        }
        if last_state.is_some() && !is_ready(&last_state) && init.is_none() {
            set_state(ConnState::Ready, &mut last_state, &mut report);
        }
        if !pending.is_empty() && flush_at.is_none() {
            flush_at = Some(Instant::now() + FLUSH_INTERVAL);
        }
        if pending.len() >= MAX_BATCH {
            flush_at = None;
            if !send_batch::<K>(&sink, &platform, &mut pending).await {
                return Ok(());
            }
        }
    }
}

async fn send_batch<K: Watched>(
    sink: &mpsc::Sender<Event>,
    platform: &str,
    pending: &mut HashMap<String, Option<Arc<K::Summary>>>,
) -> bool {
    if pending.is_empty() {
        return true;
    }
    let mut applied = Vec::new();
    let mut deleted = Vec::new();
    for (name, o) in pending.drain() {
        match o {
            Some(o) => applied.push(o),
            None => deleted.push(name),
        }
    }
    let ev = K::wrap(Delta {
        platform: platform.to_string(),
        reset: false,
        applied,
        deleted,
    });
    sink.send(Event::Kube(ev)).await.is_ok()
}

async fn send_state(sink: &mpsc::Sender<Event>, context: &str, state: ConnState) {
    let _ = sink
        .send(Event::Kube(KubeEvent::Connection {
            context: context.to_string(),
            state,
        }))
        .await;
}

/// Watches clusters and machines of one platform until cancelled or logged out, reporting the
/// connection state all along.
pub async fn watch_platform(
    pool: ClientPool,
    context: String,
    sink: mpsc::Sender<Event>,
    cancel: CancellationToken,
) {
    send_state(&sink, &context, ConnState::Connecting).await;
    let relogin = super::client::relogin_job(pool.kubeconfig(), &context);
    let client = tokio::select! {
        _ = cancel.cancelled() => return,
        c = pool.platform(&context) => c,
    };
    let client = match client {
        Ok(c) => c,
        Err(f) => {
            let state = f.conn_state(relogin, "list and watch on clusters.platform.tkestack.io");
            send_state(&sink, &context, state).await;
            return;
        }
    };
    let machines_cancel = cancel.child_token();
    let machines = tokio::spawn({
        let (client, context, sink, c) = (
            client.clone(),
            context.clone(),
            sink.clone(),
            machines_cancel.clone(),
        );
        async move {
            // Machines only add detail: a platform without them still shows its clusters.
            if let Err(f) = watch_kind::<Machine>(client, context, sink, None, c).await {
                tracing::warn!(error = %f, "machines watch ended");
            }
        }
    });
    let state_sink = sink.clone();
    let state_ctx = context.clone();
    let (state_tx, mut state_rx) = mpsc::channel::<ConnState>(16);
    let forward = tokio::spawn(async move {
        while let Some(s) = state_rx.recv().await {
            send_state(&state_sink, &state_ctx, s).await;
        }
    });
    let mut report = move |s: ConnState| {
        // A full queue only drops an intermediate state; the latest one follows.
        let _ = state_tx.try_send(s);
    };
    let result = watch_kind::<Cluster>(
        client,
        context.clone(),
        sink.clone(),
        Some(&mut report),
        cancel.clone(),
    )
    .await;
    drop(report);
    machines_cancel.cancel();
    let _ = machines.await;
    let _ = forward.await;
    if let Err(f) = result {
        // Drop the cached client so that reconnecting runs the credential plugin again.
        pool.invalidate(&context).await;
        send_state(
            &sink,
            &context,
            f.conn_state(relogin, "list and watch on clusters.platform.tkestack.io"),
        )
        .await;
    }
}
