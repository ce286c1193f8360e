//! Kubernetes-compatible API server on loopback ("the sandbox").
//!
//! It serves the ACP platform proxy layout over HTTPS with its own CA: the `global` cluster
//! under `/kubernetes/global/...` and each workload cluster under `/kubernetes/<name>/...`,
//! each backed by an independent [`Store`]. kube-rs and kubectl talk to it exactly as to a
//! real apiserver (discovery, CRUD, patch and server-side apply, watch with bookmarks and
//! streaming lists, Status bodies with the real `reason` strings).
//!
//! # Using it in-process
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use acp_cockpit::sandbox::apiserver::{self, ApiServerConfig, TokenUser, names};
//! let handle = apiserver::start(ApiServerConfig {
//!     users: vec![TokenUser::new("s3cret", "admin", &["system:masters"])],
//!     ..ApiServerConfig::default()
//! })
//! .await?;
//! let url = format!("{}/kubernetes/global", handle.base_url()); // kubeconfig `server`
//! let ca = handle.ca_pem(); // kubeconfig `certificate-authority-data` (base64 of this)
//! let global = handle.store("global").expect("global always exists");
//! global.create(names::CLUSTERS, None, serde_json::json!({
//!     "apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
//!     "metadata": {"name": "demo"}, "spec": {"type": "Baremetal"}}))?;
//! let mut events = global.subscribe(); // every committed change, exactly once, in order
//! let workload = handle.add_cluster("demo"); // now served at /kubernetes/demo
//! # let _ = (url, ca, workload, events.recv().await);
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Resources are named `plural` (core) or `plural.group`; [`names`] has constants. The
//! in-process [`Store`] methods apply the same validation, resourceVersion, generation,
//! finalizer and status rules as HTTP requests and emit the same watch events, except that
//! an in-process [`Store::replace`] without `metadata.resourceVersion` is unconditional.
//!
//! # Semantics worth knowing (see also each module)
//! * One monotonic resourceVersion counter for the whole server; each store keeps an ordered
//!   event log of [`ApiServerConfig::event_retention`] events. Watches from an RV older than
//!   the log answer HTTP 200 with one in-stream `ERROR` (410 Expired).
//! * Server-side apply keeps `managedFields` with an approximation of field ownership
//!   (atomic lists, per-leaf ownership); see `managed.rs` and `patch.rs`.
//! * Deleting with finalizers sets `deletionTimestamp`; the object goes when an update
//!   empties `metadata.finalizers`. `propagationPolicy` is accepted but there is no
//!   garbage collector: dependents are never deleted (as with `Orphan`).
//! * Deleting a namespace deletes its contents synchronously.
//! * Custom kinds with a status subresource (Cluster, Machine, EtcdEncryptionConfig) drop
//!   `status` on create, like a real server: write it afterwards with
//!   [`Store::update_status`].
//! * Bodies may be JSON, YAML, or Kubernetes protobuf for the built-in kinds (kubectl's typed
//!   `create` subcommands send protobuf); responses are always JSON, as a `Table` or
//!   `PartialObjectMetadata(List)` when the Accept header asks for one.
//! * Strategic merge patches merge the lists that have merge keys upstream (service ports,
//!   owner references, service-account secrets, taints, finalizers); other lists are atomic.
//! * `resourceVersionMatch=Exact` lists at an older RV are served when nothing of the kind
//!   changed since (410 otherwise). Continue tokens report the first page's RV and read
//!   newer data, which is safe because the RV is never newer than the data.
//! * Removing a workload cluster ends its HTTP watches; in-process [`Subscription`]s of it
//!   simply receive nothing more.
//! * A [`Subscription`] that falls behind the event log gets one 410 error and then goes on
//!   with newer changes; relist to catch up.
//! * The ACP kinds' OpenAPI schemas, and so `kubectl explain` and server-side field
//!   validation, follow ACP's published field list (a hand-written fixture, see
//!   [`openapi_docs`]), never the cockpit's own types: a field ACP does not publish is a
//!   warning, or a 400 with `fieldValidation=Strict`.
//! * Every request is authorized by [`authz::authorize`]; impersonation headers are honoured
//!   after an `impersonate` check.
//! * Fault hooks ([`Faults`]): compact now, drop all watches, inject an in-stream watch
//!   error, add latency, fail the next N requests with 500 (never 429/503/504, which
//!   kube-rs retries silently).

pub mod access;
pub mod authz;
mod clusters;
pub mod discovery;
mod faults;
mod http;
pub mod kinds;
pub mod managed;
pub mod openapi;
pub mod openapi_docs;
pub mod patch;
mod protobuf;
pub mod rbac;
mod render;
pub mod selectors;
pub mod status;
pub mod store;
mod tls;
pub mod validation;
mod watch;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

pub use authz::{Decision, RequestAttributes, UserInfo};
pub use clusters::GLOBAL;
pub use faults::Faults;
pub use kinds::{KINDS, ResourceKind, names};
pub use status::ApiError;
pub use store::{EventType, Store, StoreEvent, StoreView, Subscription};

use clusters::Clusters;

/// A bearer token and the user it authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUser {
    pub token: String,
    pub name: String,
    pub groups: Vec<String>,
}

impl TokenUser {
    pub fn new(token: &str, name: &str, groups: &[&str]) -> Self {
        TokenUser {
            token: token.to_string(),
            name: name.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }
}

/// Configuration of [`start`].
#[derive(Debug, Clone)]
pub struct ApiServerConfig {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Accepted bearer tokens. Requests without a known token get 401 (except `/healthz`,
    /// `/livez`, `/readyz`, `/version`, which real clusters also serve anonymously).
    pub users: Vec<TokenUser>,
    /// Events kept per store for watch resumption (older RVs get 410 Expired). The log
    /// holds superseded object versions, so this bounds memory too: at 10 000 (the default)
    /// a busy store keeps at most that many old versions.
    pub event_retention: usize,
    /// Interval of BOOKMARK events on watches that ask for them.
    pub bookmark_interval: Duration,
    /// Workload clusters to create at start (more can be added with
    /// [`ApiServerHandle::add_cluster`]).
    pub workload_clusters: Vec<String>,
}

impl Default for ApiServerConfig {
    fn default() -> Self {
        ApiServerConfig {
            port: 0,
            users: Vec::new(),
            event_retention: 10_000,
            bookmark_interval: Duration::from_secs(60),
            workload_clusters: Vec::new(),
        }
    }
}

/// A running sandbox API server.
pub struct ApiServerHandle {
    addr: SocketAddr,
    ca_pem: String,
    clusters: Clusters,
    faults: Faults,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for ApiServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServerHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Starts the server: generates the CA and serving certificate, binds 127.0.0.1:`port`,
/// creates `global` (and the configured workload clusters) with the initial namespaces
/// `default`, `kube-system`, `kube-public`, `cpaas-system`.
pub async fn start(cfg: ApiServerConfig) -> anyhow::Result<ApiServerHandle> {
    let tls = tls::generate().context("generating the sandbox certificates")?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", cfg.port))
        .await
        .with_context(|| format!("binding 127.0.0.1:{}", cfg.port))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    // Seeding the RV counter from the clock keeps RVs increasing across sandbox restarts, so
    // a client holding an RV from an earlier run gets 410 instead of silently missing events.
    let seed = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let clusters = Clusters::new(seed, cfg.event_retention);
    for name in &cfg.workload_clusters {
        clusters.add(name);
    }
    let faults = Faults::new(clusters.clone());
    let shutdown = CancellationToken::new();
    let users: HashMap<String, UserInfo> = cfg
        .users
        .iter()
        .map(|u| {
            let mut groups = u.groups.clone();
            if !groups.iter().any(|g| g == "system:authenticated") {
                groups.push("system:authenticated".to_string());
            }
            (
                u.token.clone(),
                UserInfo {
                    name: u.name.clone(),
                    groups,
                },
            )
        })
        .collect();
    let shared = Arc::new(http::Shared {
        clusters: clusters.clone(),
        users,
        faults: faults.clone(),
        shutdown: shutdown.clone(),
        addr,
        bookmark_interval: cfg.bookmark_interval,
    });
    let task = tokio::spawn(http::serve(listener, tls.server_config, shared));
    Ok(ApiServerHandle {
        addr,
        ca_pem: tls.ca_pem,
        clusters,
        faults,
        shutdown,
        task: Some(task),
    })
}

impl ApiServerHandle {
    /// `https://127.0.0.1:PORT` (append `/kubernetes/<cluster>` for a cluster's API).
    pub fn base_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// `https://127.0.0.1:PORT/kubernetes/<cluster>`: the `server` of a kubeconfig.
    pub fn cluster_url(&self, cluster: &str) -> String {
        format!("{}/kubernetes/{}", self.base_url(), cluster)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the sandbox CA (trust this to verify the server).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The store of a cluster; `global` always exists.
    pub fn store(&self, cluster: &str) -> Option<Store> {
        self.clusters.get(cluster)
    }

    /// Adds a workload cluster (served at `/kubernetes/<name>`), or returns the existing one.
    pub fn add_cluster(&self, name: &str) -> Store {
        self.clusters.add(name)
    }

    /// Removes a workload cluster; its URL answers 404 afterwards. `global` stays.
    pub fn remove_cluster(&self, name: &str) {
        self.clusters.remove(name)
    }

    /// Names of the served clusters.
    pub fn clusters(&self) -> Vec<String> {
        self.clusters.names()
    }

    pub fn faults(&self) -> Faults {
        self.faults.clone()
    }

    /// Stops accepting, ends every watch and closes every connection, and waits for that.
    /// Dropping the handle stops the server too, without waiting.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for ApiServerHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
