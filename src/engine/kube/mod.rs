//! Kube access: client pool per platform context, watches, create, access reviews.
//!
//! The engine side ([`KubeEngine`]) turns [`KubeCommand`]s into spawned tasks that answer with
//! [`KubeEvent`]s. The CLI uses [`ops`] and [`watch`] directly.

pub mod client;
pub mod etcd;
pub mod ops;
pub mod platform_facts;
pub mod watch;

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use tokio_util::task::TaskTracker;

use super::{Event, Failure, RequestId};
use crate::domain::cluster::Cluster;
/// The fleet model lives in the domain (it is pure); the old path stays for callers.
pub use crate::domain::fleet as model;
pub use crate::domain::fleet::{ClusterModel, ClusterRow, ClusterSummary, Delta, MachineSummary};
pub use client::{ClientPool, FailureKind, KubeFailure};
pub use ops::{Access, AccessDecision};

/// Where the kube configuration comes from.
#[derive(Debug, Clone)]
pub enum KubeSource {
    /// A kubeconfig file (or `KUBECONFIG`/`~/.kube/config` when `path` is `None`) and an optional context.
    Kubeconfig {
        path: Option<std::path::PathBuf>,
        context: Option<String>,
    },
    /// An in-memory kubeconfig, e.g. the embedded sandbox's: its token never touches the disk.
    InMemory {
        kubeconfig: Box<kube::config::Kubeconfig>,
        context: Option<String>,
    },
}

/// A program that logs the user in again, run in the foreground with the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloginJob {
    pub program: String,
    pub args: Vec<String>,
}

/// A platform connection as the user sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Ready,
    /// The credentials were rejected or the login plugin failed.
    AuthExpired {
        message: String,
        /// The context's exec plugin, when it has one.
        relogin: Option<ReloginJob>,
    },
    Unreachable {
        error: String,
        hint: String,
    },
    Forbidden {
        message: String,
        /// The permission that is missing, e.g. "list and watch on clusters.platform.tkestack.io".
        missing: String,
    },
}

impl ConnState {
    pub fn tag(&self) -> &'static str {
        match self {
            ConnState::Connecting => "connecting",
            ConnState::Ready => "ready",
            ConnState::AuthExpired { .. } => "auth-expired",
            ConnState::Unreachable { .. } => "unreachable",
            ConnState::Forbidden { .. } => "forbidden",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Cluster,
    Machine,
}

#[derive(Debug)]
pub enum KubeCommand {
    /// Start watching a platform (the current context when `None`) and report its contexts.
    Watch { context: Option<String> },
    /// Stop watching a platform.
    Unwatch { context: String },
    /// `:ctx <name>`: make a context current, watching it if it is not yet.
    SwitchContext { context: String },
    /// After a re-login: drop cached credentials and watch again.
    Reconnect { context: String },
    /// One object as YAML, answered by [`KubeEvent::Yaml`].
    FetchYaml {
        id: RequestId,
        context: Option<String>,
        kind: ObjectKind,
        name: String,
    },
    /// A SelfSubjectAccessReview on the current platform, answered by [`KubeEvent::Access`].
    CheckAccess { id: RequestId, access: Access },
    /// Server-side dry run, then (unless `dry_run`) create; answered by [`KubeEvent::ClusterCreated`].
    CreateCluster {
        id: RequestId,
        cluster: Box<Cluster>,
        dry_run: bool,
    },
    /// Watch a workload cluster's EtcdEncryptionConfig on the current platform (replacing the
    /// previous etcd watch); answered by [`KubeEvent::Etcd`].
    WatchEtcd { cluster: String },
    /// Stop the etcd watch.
    UnwatchEtcd,
    /// Watch exactly these workload clusters' EtcdEncryptionConfig on the current platform for
    /// the fleet overview (at most a few connecting at once); answered by [`KubeEvent::Etcd`].
    WatchEtcdFleet { clusters: Vec<String> },
    /// Stop the fleet's watches.
    UnwatchEtcdFleet,
    /// Read the etcd-encryption-manager's files on each control-plane node of `cluster` over
    /// SSH; answered by [`KubeEvent::EtcdNodes`] with key names and fingerprints only.
    InspectEtcdNodes { id: RequestId, cluster: String },
}

#[derive(Debug, Clone)]
pub enum KubeEvent {
    /// The contexts of the kubeconfig and the current one.
    Contexts {
        current: Option<String>,
        available: Vec<String>,
    },
    Connection {
        context: String,
        state: ConnState,
    },
    ClustersChanged(Delta<ClusterSummary>),
    MachinesChanged(Delta<MachineSummary>),
    Yaml {
        id: RequestId,
        context: String,
        kind: ObjectKind,
        name: String,
        result: Result<String, KubeFailure>,
    },
    Access {
        id: RequestId,
        access: Access,
        result: Result<AccessDecision, KubeFailure>,
    },
    ClusterCreated {
        id: RequestId,
        context: String,
        name: String,
        dry_run: bool,
        result: Result<(), KubeFailure>,
    },
    /// The Kubernetes releases the platform publishes for new clusters; `None` when it
    /// publishes none readable, so the rules fall back to their built-in list.
    PlatformVersions {
        context: String,
        versions: Option<Vec<String>>,
    },
    /// The platform's watch was stopped (another context became current); its rows are gone.
    Unwatched {
        context: String,
    },
    /// A workload cluster's etcd encryption, as watched.
    Etcd {
        context: String,
        cluster: String,
        state: etcd::EtcdState,
    },
    /// The node files of `cluster`, as asked by [`KubeCommand::InspectEtcdNodes`].
    EtcdNodes {
        id: RequestId,
        cluster: String,
        result: Result<Vec<crate::engine::etcd::nodes::NodeReport>, KubeFailure>,
    },
}

pub struct KubeEngine {
    source: KubeSource,
    readonly: bool,
    events: mpsc::Sender<Event>,
    pool: Option<ClientPool>,
    current: Option<String>,
    watches: HashMap<String, CancellationToken>,
    /// The one etcd watch the etcd pane has open.
    etcd_watch: Option<CancellationToken>,
    /// The fleet overview's watches.
    etcd_fleet: crate::engine::etcd::fleet::FleetWatches,
    /// Where the SSH known_hosts file is (node file inspection).
    data_dir: Option<std::path::PathBuf>,
    /// The sandbox's SOCKS5 endpoint, the only way to its SSH nodes (`None` on a platform).
    sandbox_ssh_proxy: Option<crate::engine::ssh::ProxySpec>,
    /// Every task this capability spawned; awaited on shutdown.
    tasks: TaskTracker,
    /// Cancelled on shutdown; every watch's token is a child of it.
    stop: CancellationToken,
}

impl KubeEngine {
    pub fn new(source: KubeSource, readonly: bool, events: mpsc::Sender<Event>) -> Self {
        KubeEngine {
            source,
            readonly,
            events,
            pool: None,
            current: None,
            watches: HashMap::new(),
            etcd_watch: None,
            etcd_fleet: crate::engine::etcd::fleet::FleetWatches::new(
                crate::engine::etcd::fleet::DEFAULT_CAP,
            ),
            data_dir: None,
            sandbox_ssh_proxy: None,
            tasks: TaskTracker::new(),
            stop: CancellationToken::new(),
        }
    }

    /// Where the SSH known_hosts file lives, for reading etcd node files.
    pub fn with_data_dir(mut self, dir: std::path::PathBuf) -> Self {
        self.data_dir = Some(dir);
        self
    }

    /// The sandbox's SOCKS5 endpoint, through which its nodes' files are read.
    pub fn with_sandbox_ssh_proxy(mut self, proxy: Option<crate::engine::ssh::ProxySpec>) -> Self {
        self.sandbox_ssh_proxy = proxy;
        self
    }

    /// The capability's task: serves commands until the queue closes or `stop` fires, then
    /// cancels and awaits everything it spawned.
    pub async fn run(mut self, mut commands: mpsc::Receiver<KubeCommand>, stop: CancellationToken) {
        self.stop = stop.child_token();
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                cmd = commands.recv() => match cmd {
                    Some(c) => self.handle(c).await,
                    None => break,
                },
            }
        }
        self.shutdown().await;
    }

    async fn fail(&self, f: Failure) {
        let _ = self.events.send(Event::Failure(f)).await;
    }

    async fn emit(&self, ev: KubeEvent) {
        let _ = self.events.send(Event::Kube(ev)).await;
    }

    /// The pool, loading the kubeconfig on first use; a failure is shown to the user.
    async fn pool(&mut self) -> Option<ClientPool> {
        if self.pool.is_none() {
            match ClientPool::new(&self.source) {
                Ok(p) => {
                    self.current = client::initial_context(&self.source, p.kubeconfig());
                    self.pool = Some(p);
                }
                Err(f) => {
                    self.fail(f).await;
                    return None;
                }
            }
        }
        self.pool.clone()
    }

    async fn emit_contexts(&self) {
        if let Some(p) = &self.pool {
            self.emit(KubeEvent::Contexts {
                current: self.current.clone(),
                available: client::platform_context_names(p.kubeconfig()),
            })
            .await;
        }
    }

    fn start_watch(&mut self, pool: ClientPool, context: String) {
        if self
            .watches
            .get(&context)
            .is_some_and(|t| !t.is_cancelled())
        {
            return;
        }
        let token = self.stop.child_token();
        self.watches.insert(context.clone(), token.clone());
        // The versions are read once per connection: the platform changes them only on
        // upgrade, and a reconnect reads them again.
        let (events, p, ctx) = (self.events.clone(), pool.clone(), context.clone());
        let versions_stop = token.clone();
        self.tasks.spawn(async move {
            let read = async {
                let Ok(client) = p.platform(&ctx).await else {
                    return;
                };
                let versions = platform_facts::fetch_versions(&client).await.ok().flatten();
                let ev = KubeEvent::PlatformVersions {
                    context: ctx,
                    versions,
                };
                let _ = events.send(Event::Kube(ev)).await;
            };
            tokio::select! {
                _ = versions_stop.cancelled() => {}
                _ = read => {}
            }
        });
        self.tasks.spawn(watch::watch_platform(
            pool,
            context,
            self.events.clone(),
            token,
        ));
    }

    async fn no_context(&self) {
        self.fail(Failure::new(
            FailureKind::Config,
            "the kubeconfig has no current context",
            Some("pick one with :ctx <name>, or start with --context <name>"),
        ))
        .await;
    }

    async fn unwatch(&mut self, context: &str) {
        if let Some(t) = self.watches.remove(context) {
            t.cancel();
            self.emit(KubeEvent::Unwatched {
                context: context.to_string(),
            })
            .await;
        }
    }

    /// Runs one request as a tracked task that ends early on shutdown.
    fn spawn_request(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = work => {}
            }
        });
    }

    pub async fn handle(&mut self, cmd: KubeCommand) {
        let Some(pool) = self.pool().await else {
            return;
        };
        match cmd {
            KubeCommand::Watch { context } => {
                if let Some(c) = &context {
                    self.current = Some(c.clone());
                }
                self.emit_contexts().await;
                match self.current.clone() {
                    Some(c) => self.start_watch(pool, c),
                    None => self.no_context().await,
                }
            }
            KubeCommand::Unwatch { context } => self.unwatch(&context).await,
            KubeCommand::SwitchContext { context } => {
                if !client::context_names(pool.kubeconfig()).contains(&context) {
                    return self
                        .fail(Failure::new(
                            FailureKind::Config,
                            format!("no context named {context:?} in the kubeconfig"),
                            Some("`:ctx` with no name lists the contexts"),
                        ))
                        .await;
                }
                if let Some(cluster) = client::workload_of(pool.kubeconfig(), &context) {
                    return self
                        .fail(Failure::new(
                            FailureKind::Config,
                            format!(
                                "context {context:?} points at the workload cluster {cluster:?}, \
                                 not at a platform's global cluster"
                            ),
                            Some(
                                "switch to the platform's context (`:ctx` and Tab list them); \
                                 open a workload cluster with :timeline or :etcd instead",
                            ),
                        ))
                        .await;
                }
                self.current = Some(context.clone());
                self.emit_contexts().await;
                // Nobody looks at the other platforms any more: stop them rather than let them
                // retry (and log) for the rest of the session.
                let others: Vec<String> = self
                    .watches
                    .keys()
                    .filter(|c| **c != context)
                    .cloned()
                    .collect();
                for other in others {
                    self.unwatch(&other).await;
                }
                self.start_watch(pool, context);
            }
            KubeCommand::Reconnect { context } => {
                if let Some(t) = self.watches.remove(&context) {
                    t.cancel();
                }
                pool.invalidate(&context).await;
                self.start_watch(pool, context);
            }
            KubeCommand::FetchYaml {
                id,
                context,
                kind,
                name,
            } => {
                let Some(ctx) = context.or_else(|| self.current.clone()) else {
                    return self.no_context().await;
                };
                let events = self.events.clone();
                self.spawn_request(async move {
                    let result = match pool.platform(&ctx).await {
                        Ok(c) => ops::fetch_yaml(&c, kind, &name).await,
                        Err(f) => Err(f),
                    };
                    let ev = KubeEvent::Yaml {
                        id,
                        context: ctx,
                        kind,
                        name,
                        result,
                    };
                    let _ = events.send(Event::Kube(ev)).await;
                });
            }
            KubeCommand::CheckAccess { id, access } => {
                let Some(ctx) = self.current.clone() else {
                    return self.no_context().await;
                };
                let events = self.events.clone();
                self.spawn_request(async move {
                    let result = match pool.platform(&ctx).await {
                        Ok(c) => ops::check_access(&c, &access).await,
                        Err(f) => Err(f),
                    };
                    let _ = events
                        .send(Event::Kube(KubeEvent::Access { id, access, result }))
                        .await;
                });
            }
            KubeCommand::CreateCluster {
                id,
                cluster,
                dry_run,
            } => {
                let Some(ctx) = self.current.clone() else {
                    return self.no_context().await;
                };
                let name = cluster.metadata.name.clone().unwrap_or_default();
                if self.readonly && !dry_run {
                    let ev = KubeEvent::ClusterCreated {
                        id,
                        context: ctx,
                        name,
                        dry_run,
                        result: Err(KubeFailure::new(
                            FailureKind::Forbidden,
                            "read-only mode: creating a cluster is disabled",
                            Some("restart without --readonly to create clusters"),
                        )),
                    };
                    return self.emit(ev).await;
                }
                let events = self.events.clone();
                let cluster: Arc<Cluster> = Arc::from(cluster);
                self.spawn_request(async move {
                    let result = match pool.platform(&ctx).await {
                        Ok(c) => ops::create_cluster(&c, &cluster, dry_run).await.map(|_| ()),
                        Err(f) => Err(f),
                    };
                    let ev = KubeEvent::ClusterCreated {
                        id,
                        context: ctx,
                        name,
                        dry_run,
                        result,
                    };
                    let _ = events.send(Event::Kube(ev)).await;
                });
            }
            KubeCommand::WatchEtcd { cluster } => {
                let Some(ctx) = self.current.clone() else {
                    return self.no_context().await;
                };
                if let Some(t) = self.etcd_watch.take() {
                    t.cancel();
                }
                let token = self.stop.child_token();
                self.etcd_watch = Some(token.clone());
                self.tasks.spawn(etcd::watch_etcd(
                    pool,
                    ctx,
                    cluster,
                    self.events.clone(),
                    token,
                ));
            }
            KubeCommand::UnwatchEtcd => {
                if let Some(t) = self.etcd_watch.take() {
                    t.cancel();
                }
            }
            KubeCommand::WatchEtcdFleet { clusters } => {
                let Some(ctx) = self.current.clone() else {
                    return self.no_context().await;
                };
                self.etcd_fleet.sync(
                    &pool,
                    &ctx,
                    &clusters,
                    &self.events,
                    &self.stop,
                    &self.tasks,
                );
            }
            KubeCommand::UnwatchEtcdFleet => self.etcd_fleet.stop(),
            KubeCommand::InspectEtcdNodes { id, cluster } => {
                let Some(ctx) = self.current.clone() else {
                    return self.no_context().await;
                };
                let (events, data_dir, proxy, stop) = (
                    self.events.clone(),
                    self.data_dir.clone(),
                    self.sandbox_ssh_proxy.clone(),
                    self.stop.clone(),
                );
                self.spawn_request(async move {
                    let result = etcd::inspect_nodes(
                        &pool,
                        &ctx,
                        &cluster,
                        data_dir.as_deref(),
                        proxy.as_ref(),
                        &stop,
                    )
                    .await;
                    let ev = KubeEvent::EtcdNodes {
                        id,
                        cluster,
                        result,
                    };
                    let _ = events.send(Event::Kube(ev)).await;
                });
            }
        }
    }

    pub async fn shutdown(&mut self) {
        self.stop.cancel();
        for (_, t) in self.watches.drain() {
            t.cancel();
        }
        if let Some(t) = self.etcd_watch.take() {
            t.cancel();
        }
        self.etcd_fleet.stop();
        self.tasks.close();
        self.tasks.wait().await;
    }
}
