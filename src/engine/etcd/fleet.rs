//! Every workload cluster's etcd encryption at once, for the overview and `acp-cockpit etcd`
//! without a cluster.
//!
//! Each cluster is reached through the platform's `/kubernetes/<name>` path. At most `cap`
//! clusters are being connected to and listed at a time, so a platform with hundreds of
//! clusters fills the overview progressively instead of opening hundreds of TLS handshakes at
//! once; a watch that has answered holds no slot.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::domain::etcd::unsupported_reason;
use crate::engine::Event;
use crate::engine::kube::etcd::{
    EtcdState, get_etcd_config, not_installed_reason, watch_etcd_gated,
};
use crate::engine::kube::{ClientPool, FailureKind, KubeFailure};

/// Clusters connected to at once by default.
pub const DEFAULT_CAP: usize = 16;
/// Longest a one-shot read of one cluster may take.
pub const READ_TIMEOUT: Duration = Duration::from_secs(15);

/// The fleet's watches on one platform: one per workload cluster, started and stopped as the
/// platform's cluster list changes.
pub struct FleetWatches {
    context: Option<String>,
    watches: HashMap<String, CancellationToken>,
    gate: Arc<Semaphore>,
}

impl FleetWatches {
    pub fn new(cap: usize) -> FleetWatches {
        FleetWatches {
            context: None,
            watches: HashMap::new(),
            gate: Arc::new(Semaphore::new(cap.max(1))),
        }
    }

    /// Watches exactly `clusters` (global and duplicates skipped) on `context`: new ones start,
    /// ones no longer listed stop, and a change of platform starts over.
    #[allow(clippy::too_many_arguments)]
    pub fn sync(
        &mut self,
        pool: &ClientPool,
        context: &str,
        clusters: &[String],
        sink: &mpsc::Sender<Event>,
        parent: &CancellationToken,
        tasks: &TaskTracker,
    ) {
        if self.context.as_deref() != Some(context) {
            self.stop();
            self.context = Some(context.to_string());
        }
        let wanted: Vec<&String> = clusters
            .iter()
            .filter(|c| unsupported_reason(c).is_none())
            .collect();
        self.watches.retain(|name, token| {
            let keep = wanted.contains(&name);
            if !keep {
                token.cancel();
            }
            keep
        });
        for name in wanted {
            if self.watches.contains_key(name) {
                continue;
            }
            let token = parent.child_token();
            self.watches.insert(name.clone(), token.clone());
            tasks.spawn(watch_etcd_gated(
                pool.clone(),
                context.to_string(),
                name.clone(),
                sink.clone(),
                token,
                Some(self.gate.clone()),
            ));
        }
    }

    /// How many clusters are watched.
    pub fn len(&self) -> usize {
        self.watches.len()
    }

    pub fn is_empty(&self) -> bool {
        self.watches.is_empty()
    }

    /// Stops every watch.
    pub fn stop(&mut self) {
        for (_, t) in self.watches.drain() {
            t.cancel();
        }
    }
}

/// Reads each cluster's config once, at most `cap` at a time, calling `each` as answers
/// arrive (in arrival order). A read that does not answer within [`READ_TIMEOUT`] is reported
/// as unreachable.
pub async fn scan(
    pool: &ClientPool,
    context: &str,
    clusters: &[String],
    cap: usize,
    mut each: impl FnMut(String, EtcdState),
) {
    let reads = clusters.iter().map(|name| {
        let (pool, context, name) = (pool.clone(), context.to_string(), name.clone());
        async move {
            let read = get_etcd_config(&pool, &context, &name);
            let state = match tokio::time::timeout(READ_TIMEOUT, read).await {
                Ok(Ok(Some(c))) => EtcdState::Config {
                    config: Box::new(c),
                    observed: chrono::Utc::now(),
                },
                Ok(Ok(None)) => EtcdState::NotInstalled {
                    reason: not_installed_reason(false),
                },
                Ok(Err(f)) => EtcdState::Failed(f),
                Err(_) => EtcdState::Failed(KubeFailure::new(
                    FailureKind::Unreachable,
                    format!(
                        "cluster {name} did not answer within {}s",
                        READ_TIMEOUT.as_secs()
                    ),
                    Some("check that the cluster is Running and reachable from the platform"),
                )),
            };
            (name, state)
        }
    });
    let mut answers = futures::stream::iter(reads).buffer_unordered(cap.max(1));
    while let Some((name, state)) = answers.next().await {
        each(name, state);
    }
}
