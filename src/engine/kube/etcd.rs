//! The etcd-encryption-manager's `EtcdEncryptionConfig` `default` on a workload cluster: a
//! watch for the TUI and a one-shot read for the CLI.
//!
//! The object carries no key material (keys live in each control-plane node's
//! `encryption-provider.conf`), so what is sent on is the object itself, managedFields stripped.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event as WatchEvent};
use kube::{Api, Client};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::KubeEvent;
use super::client::{ClientPool, FailureKind, KubeFailure};
use crate::domain::etcd::{DEFAULT_NAME, EtcdEncryptionConfig};
use crate::engine::Event;

/// The resource as RBAC messages name it.
pub const RESOURCE: &str = "etcdencryptionconfigs.cluster.alauda.io";

/// What the pane and the CLI learn about a cluster's etcd encryption.
#[derive(Debug, Clone, PartialEq)]
pub enum EtcdState {
    /// Reaching the cluster's API.
    Connecting,
    /// The config as last seen, and when it was seen (the API has no per-node times).
    Config {
        config: Box<EtcdEncryptionConfig>,
        observed: DateTime<Utc>,
    },
    /// The cluster answers but has no `EtcdEncryptionConfig` `default`: the etcd encryption
    /// plugin is not installed (or its CRD is not served).
    NotInstalled { reason: String },
    /// The cluster could not be read; the watch keeps retrying unless the login expired.
    Failed(KubeFailure),
}

impl EtcdState {
    /// The config, when there is one.
    pub fn config(&self) -> Option<&EtcdEncryptionConfig> {
        match self {
            EtcdState::Config { config, .. } => Some(config),
            _ => None,
        }
    }
}

/// Why a cluster has no config, in the words shown to the user.
pub fn not_installed_reason(crd_missing: bool) -> String {
    if crd_missing {
        format!(
            "the cluster does not serve {RESOURCE}: the etcd encryption plugin (etcd-encryption-manager) is not installed"
        )
    } else {
        format!(
            "there is no EtcdEncryptionConfig {DEFAULT_NAME:?}: the etcd encryption plugin (etcd-encryption-manager) is not installed or has not started"
        )
    }
}

fn clean(mut c: EtcdEncryptionConfig) -> EtcdEncryptionConfig {
    c.metadata.managed_fields = None;
    c
}

/// Sorts out a 404: the object is missing, the CRD is not served, or the platform does not
/// serve the cluster at all. Only the last one fails the core API discovery probe (`/version`
/// is public on many servers, so it proves nothing about the cluster).
async fn classify_not_found(client: &Client, f: KubeFailure, cluster: &str) -> EtcdState {
    if f.kind != FailureKind::NotFound {
        return EtcdState::Failed(f);
    }
    match client.list_core_api_versions().await {
        Ok(_) => EtcdState::NotInstalled {
            reason: not_installed_reason(!f.message.contains(&format!("\"{DEFAULT_NAME}\""))),
        },
        Err(e) => EtcdState::Failed(KubeFailure::new(
            FailureKind::Unreachable,
            format!(
                "cannot reach cluster {cluster} through the platform: {}",
                KubeFailure::from_kube(&e, "read the cluster's API discovery").message
            ),
            Some(
                "check the name and that the cluster is Running (acp-cockpit clusters); a cluster still being created has no API yet",
            ),
        )),
    }
}

/// Reads the config of `cluster` once: `Ok(None)` when etcd encryption is not installed.
pub async fn get_etcd_config(
    pool: &ClientPool,
    context: &str,
    cluster: &str,
) -> Result<Option<EtcdEncryptionConfig>, KubeFailure> {
    let client = pool.workload(context, cluster).await?;
    let api: Api<EtcdEncryptionConfig> = Api::all(client.clone());
    let what = format!("get {RESOURCE} {DEFAULT_NAME} on cluster {cluster}");
    match api.get(DEFAULT_NAME).await {
        Ok(o) => Ok(Some(clean(o))),
        Err(e) => {
            match classify_not_found(&client, KubeFailure::from_kube(&e, &what), cluster).await {
                EtcdState::Failed(f) => Err(f),
                _ => Ok(None),
            }
        }
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

/// Sends a state only when it differs from the last one sent: a retrying watch repeats the
/// same failure every few seconds, and a config is compared without its observation time.
struct Reporter {
    last: Option<EtcdState>,
    sink: mpsc::Sender<Event>,
    context: String,
    cluster: String,
    /// The fleet's connection slot, given back once the cluster has answered either way.
    permit: Option<OwnedSemaphorePermit>,
}

impl Reporter {
    /// False once nobody listens any more.
    async fn report(&mut self, state: EtcdState) -> bool {
        if !matches!(state, EtcdState::Connecting) {
            self.permit = None;
        }
        let same = match (&self.last, &state) {
            (Some(EtcdState::Config { config: a, .. }), EtcdState::Config { config: b, .. }) => {
                a == b
            }
            (Some(a), b) => a == b,
            (None, _) => false,
        };
        if same {
            return true;
        }
        self.last = Some(state.clone());
        let ev = Event::Kube(KubeEvent::Etcd {
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            state,
        });
        self.sink.send(ev).await.is_ok()
    }
}

/// How long a dead watch waits before the state is re-checked after a 404.
const NOT_FOUND_RETRY: Duration = Duration::from_secs(10);

/// Watches the config of `cluster` on platform `context` until cancelled, sending
/// [`KubeEvent::Etcd`] whenever what the user sees changes. Errors are retried with backoff;
/// an expired login ends the watch (the Clusters pane offers the re-login).
pub async fn watch_etcd(
    pool: ClientPool,
    context: String,
    cluster: String,
    sink: mpsc::Sender<Event>,
    cancel: CancellationToken,
) {
    watch_etcd_gated(pool, context, cluster, sink, cancel, None).await
}

/// [`watch_etcd`] that first waits for a slot of `gate` and holds it until the cluster has
/// answered (a config, none, or a failure): the fleet's cap on clusters being connected to.
pub async fn watch_etcd_gated(
    pool: ClientPool,
    context: String,
    cluster: String,
    sink: mpsc::Sender<Event>,
    cancel: CancellationToken,
    gate: Option<Arc<Semaphore>>,
) {
    let mut out = Reporter {
        last: None,
        sink,
        context,
        cluster: cluster.clone(),
        permit: None,
    };
    if !out.report(EtcdState::Connecting).await {
        return;
    }
    if let Some(gate) = gate {
        out.permit = tokio::select! {
            _ = cancel.cancelled() => return,
            p = gate.acquire_owned() => p.ok(),
        };
    }
    let client = tokio::select! {
        _ = cancel.cancelled() => return,
        c = pool.workload(&out.context, &cluster) => c,
    };
    let client = match client {
        Ok(c) => c,
        Err(f) => {
            out.report(EtcdState::Failed(f)).await;
            return;
        }
    };
    let what = format!("watch {RESOURCE} on cluster {cluster}");
    loop {
        let api: Api<EtcdEncryptionConfig> = Api::all(client.clone());
        let cfg = watcher::Config::default().fields(&format!("metadata.name={DEFAULT_NAME}"));
        let stream = watcher::watcher(api, cfg).default_backoff();
        let mut stream = std::pin::pin!(stream);
        let mut seen: Option<EtcdEncryptionConfig> = None;
        loop {
            let item = tokio::select! {
                _ = cancel.cancelled() => return,
                n = stream.next() => n,
            };
            let Some(item) = item else {
                return;
            };
            match item {
                Ok(WatchEvent::Init) => seen = None,
                Ok(WatchEvent::InitApply(o)) => seen = Some(clean(o)),
                Ok(WatchEvent::InitDone) => {
                    let state = match seen.clone() {
                        Some(c) => EtcdState::Config {
                            config: Box::new(c),
                            observed: Utc::now(),
                        },
                        None => EtcdState::NotInstalled {
                            reason: not_installed_reason(false),
                        },
                    };
                    if !out.report(state).await {
                        return;
                    }
                }
                Ok(WatchEvent::Apply(o)) => {
                    let state = EtcdState::Config {
                        config: Box::new(clean(o)),
                        observed: Utc::now(),
                    };
                    if !out.report(state).await {
                        return;
                    }
                }
                Ok(WatchEvent::Delete(_)) => {
                    seen = None;
                    let state = EtcdState::NotInstalled {
                        reason: not_installed_reason(false),
                    };
                    if !out.report(state).await {
                        return;
                    }
                }
                Err(e) => {
                    let f = failure_of(&e, &what);
                    tracing::warn!(cluster = %cluster, error = %f, "etcd watch failed");
                    let state = classify_not_found(&client, f, &cluster).await;
                    let fatal = matches!(&state, EtcdState::Failed(f) if f.kind == FailureKind::AuthExpired);
                    let missing = matches!(state, EtcdState::NotInstalled { .. });
                    if !out.report(state).await || fatal {
                        return;
                    }
                    // The CRD is missing: the watcher's own backoff would hammer a 404; wait
                    // longer, then start over in case the plugin was installed meanwhile.
                    if missing {
                        break;
                    }
                }
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(NOT_FOUND_RETRY) => {}
        }
    }
}

/// The node files of `cluster` for the pane: its config, then each control-plane node over
/// SSH with the logins of the Cluster's machines. Unknown host keys are refused, except for
/// the sandbox's nodes (`sandbox_proxy` set): theirs go to the sandbox's own known_hosts.
pub async fn inspect_nodes(
    pool: &ClientPool,
    context: &str,
    cluster: &str,
    data_dir: Option<&std::path::Path>,
    sandbox_proxy: Option<&crate::engine::ssh::ProxySpec>,
    cancel: &CancellationToken,
) -> Result<Vec<crate::engine::etcd::nodes::NodeReport>, KubeFailure> {
    use crate::engine::ssh::{DEFAULT_CONCURRENCY, SshPool, Timeouts};
    let Some(cfg) = get_etcd_config(pool, context, cluster).await? else {
        return Err(KubeFailure::new(
            FailureKind::NotFound,
            not_installed_reason(false),
            Some("the node files exist only where the etcd-encryption-manager runs"),
        ));
    };
    let data_dir = data_dir.ok_or_else(|| {
        KubeFailure::new(
            FailureKind::Config,
            "no data directory for the SSH known_hosts file",
            Some("set ACP_COCKPIT_DATA_DIR or HOME"),
        )
    })?;
    let ssh = SshPool::new(
        crate::engine::etcd::nodes::host_key_policy(data_dir, sandbox_proxy.is_some()),
        Timeouts::default(),
        DEFAULT_CONCURRENCY,
    );
    let req = crate::engine::etcd::nodes::InspectRequest {
        context,
        cluster,
        config: &cfg,
        fallback: None,
        base: crate::engine::etcd::nodes::DEFAULT_BASE,
        proxy: sandbox_proxy,
    };
    crate::engine::etcd::nodes::inspect_cluster(pool, &ssh, req, cancel).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_say_what_is_missing() {
        assert!(not_installed_reason(true).contains(RESOURCE));
        assert!(not_installed_reason(false).contains("\"default\""));
        let s = EtcdState::NotInstalled { reason: "x".into() };
        assert!(s.config().is_none());
    }
}
