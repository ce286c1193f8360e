//! The async engine: it owns every connection (kube watches, files, and the SSH sessions to
//! come) and never draws.
//!
//! # Task per capability
//! Each capability (kube, drafts, …) owns its command and event types in its own module and runs
//! as its own task with its own bounded queue. [`EngineHandle::send`] puts a command straight
//! onto its capability's queue without waiting, so a slow draft-file lock or an SSH handshake
//! never stalls a kube command. Work a capability spawns (watches, one-shot requests) is tracked
//! in a [`TaskTracker`] and cancelled and awaited on [`EngineHandle::shutdown`]: nothing is
//! detached.
//!
//! # Requests and answers
//! A command that expects an answer carries a [`RequestId`]; the events that answer it echo the
//! id, so a front end matches an answer to its question and drops a stale one (an answer to a
//! question it no longer asks). Failures of every capability are one type, [`Failure`], with a
//! message and the fix when one is known. Long work reports [`Progress`].
//!
//! The CLI does not use this at all: it calls each capability's plain async functions
//! (`kube::ops`, `kube::watch`, `store::DraftStore`, `preflight::run`, `registry::battery`)
//! directly.

pub mod etcd;
pub mod failure;
pub mod files;
pub mod kube;
pub mod preflight;
pub mod registry;
pub mod repeats;
pub mod ssh;
pub mod store;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use failure::{Failure, FailureKind};

/// Capacity of every queue. A flooding API server makes the cockpit lag, never grow without bound.
pub const CHANNEL_CAPACITY: usize = 1024;

/// Names one question to the engine; the answer's event carries the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

impl RequestId {
    /// A process-wide unique id.
    pub fn next() -> RequestId {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        RequestId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// What a front end asks the engine to do.
#[derive(Debug)]
pub enum Command {
    Kube(kube::KubeCommand),
    Drafts {
        id: RequestId,
        cmd: store::DraftCommand,
    },
    Files {
        id: RequestId,
        cmd: files::FileCommand,
    },
    /// Node preflight; its events echo the id (a re-run or host-key acceptance names the run).
    Preflight {
        id: RequestId,
        cmd: preflight::PreflightCommand,
    },
    /// Registry checks; a new check cancels the one before it.
    Registry {
        id: RequestId,
        cmd: registry::task::RegistryCommand,
    },
    /// Stop every capability; [`EngineHandle::shutdown`] also waits for them.
    Shutdown,
}

impl Command {
    /// A files command under a fresh id, returned so the caller can match the answer.
    pub fn files(cmd: files::FileCommand) -> (RequestId, Command) {
        let id = RequestId::next();
        (id, Command::Files { id, cmd })
    }

    /// Starts a preflight run under a fresh id; re-runs and host-key acceptance for it use
    /// [`Command::Preflight`] with the same id.
    pub fn preflight(
        request: preflight::PreflightRequest,
        setup: preflight::setup::RunSetup,
    ) -> (RequestId, Command) {
        let id = RequestId::next();
        let cmd = preflight::PreflightCommand::Run {
            request: Box::new(request),
            setup,
        };
        (id, Command::Preflight { id, cmd })
    }

    /// A registry command under a fresh id, returned so the caller can match the answers.
    pub fn registry(cmd: registry::task::RegistryCommand) -> (RequestId, Command) {
        let id = RequestId::next();
        (id, Command::Registry { id, cmd })
    }

    /// A drafts command under a fresh id.
    pub fn drafts(cmd: store::DraftCommand) -> Command {
        Command::Drafts {
            id: RequestId::next(),
            cmd,
        }
    }
}

/// What the engine reports back.
#[derive(Debug, Clone)]
pub enum Event {
    Kube(kube::KubeEvent),
    /// The answer to the drafts command with this id.
    Drafts {
        id: RequestId,
        event: store::DraftEvent,
    },
    /// The answer to the files command with this id.
    Files {
        id: RequestId,
        event: files::FileEvent,
    },
    /// Progress and results of the preflight run with this id.
    Preflight {
        id: RequestId,
        event: preflight::PreflightEvent,
    },
    /// Progress and results of the registry check with this id.
    Registry {
        id: RequestId,
        event: registry::task::RegistryEvent,
    },
    /// A failure no request is waiting for (an unreadable kubeconfig, an unknown context).
    Failure(Failure),
    /// How far a long piece of work has come.
    Progress(Progress),
}

/// How far the work asked for by `id` has come: `done` of `total` (when known), and what it is
/// doing now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub id: RequestId,
    pub done: u64,
    pub total: Option<u64>,
    pub what: String,
}

/// Where the engine finds its platforms and keeps its files.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub kube: kube::KubeSource,
    pub readonly: bool,
    pub data_dir: PathBuf,
    /// Where the registry checks dial the registry instead of resolving its name, and the CA
    /// it chains to: the sandbox's loopback endpoint (`None` on a real platform).
    pub registry_via: Option<(std::net::SocketAddr, String)>,
    /// The sandbox's SOCKS5 endpoint on loopback: SSH to its simulated nodes goes through it,
    /// never to their private addresses (`None` on a real platform).
    pub ssh_proxy: Option<ssh::ProxySpec>,
}

impl EngineConfig {
    /// A platform with nothing reached through the sandbox's loopback endpoints.
    pub fn new(kube: kube::KubeSource, readonly: bool, data_dir: PathBuf) -> Self {
        EngineConfig {
            kube,
            readonly,
            data_dir,
            registry_via: None,
            ssh_proxy: None,
        }
    }
}

/// The front end's end of the engine: one queue per capability.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    kube: mpsc::Sender<kube::KubeCommand>,
    drafts: mpsc::Sender<(RequestId, store::DraftCommand)>,
    files: mpsc::Sender<(RequestId, files::FileCommand)>,
    preflight: mpsc::Sender<(RequestId, preflight::PreflightCommand)>,
    registry: mpsc::Sender<(RequestId, registry::task::RegistryCommand)>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl EngineHandle {
    /// Queues a command on its capability without waiting; a full queue means that capability
    /// is behind, which the UI reports rather than blocking the render loop.
    pub fn send(&self, cmd: Command) -> Result<(), Failure> {
        fn sent<T>(r: Result<(), mpsc::error::TrySendError<T>>, what: &str) -> Result<(), Failure> {
            r.map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => Failure::new(
                    FailureKind::Other,
                    format!("the {what} engine is busy; the last action was dropped"),
                    Some("wait a moment and try again"),
                ),
                mpsc::error::TrySendError::Closed(_) => Failure::new(
                    FailureKind::Other,
                    format!("the {what} engine has stopped"),
                    None,
                ),
            })
        }
        match cmd {
            Command::Kube(c) => sent(self.kube.try_send(c), "kube"),
            Command::Drafts { id, cmd } => sent(self.drafts.try_send((id, cmd)), "drafts"),
            Command::Files { id, cmd } => sent(self.files.try_send((id, cmd)), "files"),
            Command::Preflight { id, cmd } => sent(self.preflight.try_send((id, cmd)), "preflight"),
            Command::Registry { id, cmd } => sent(self.registry.try_send((id, cmd)), "registry"),
            Command::Shutdown => {
                self.stop.cancel();
                Ok(())
            }
        }
    }

    /// Stops every capability and waits until each has cancelled and awaited its own work.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// The engine's queues before its capabilities run: commands sent through the handle wait in
/// them (bounded) until [`start`]. The TUI uses this to draw its first frame while the embedded
/// sandbox is still starting.
pub struct EngineParts {
    kube: mpsc::Receiver<kube::KubeCommand>,
    preflight: mpsc::Receiver<(RequestId, preflight::PreflightCommand)>,
    registry: mpsc::Receiver<(RequestId, registry::task::RegistryCommand)>,
    drafts: mpsc::Receiver<(RequestId, store::DraftCommand)>,
    files: mpsc::Receiver<(RequestId, files::FileCommand)>,
    events: mpsc::Sender<Event>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl EngineParts {
    /// Reports a failure before the capabilities run (the platform could not be started).
    pub async fn fail(&self, f: Failure) {
        let _ = self.events.send(Event::Failure(f)).await;
    }
}

/// The handle, the event stream and the queues, with nothing running yet.
pub fn prepare() -> (EngineHandle, mpsc::Receiver<Event>, EngineParts) {
    let (ev_tx, ev_rx) = mpsc::channel::<Event>(CHANNEL_CAPACITY);
    let (kube_tx, kube_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (drafts_tx, drafts_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (files_tx, files_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    let (preflight_tx, preflight_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (registry_tx, registry_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let handle = EngineHandle {
        kube: kube_tx,
        drafts: drafts_tx,
        files: files_tx,
        preflight: preflight_tx,
        registry: registry_tx,
        stop: stop.clone(),
        tasks: tasks.clone(),
    };
    let parts = EngineParts {
        kube: kube_rx,
        drafts: drafts_rx,
        files: files_rx,
        preflight: preflight_rx,
        registry: registry_rx,
        events: ev_tx,
        stop,
        tasks,
    };
    (handle, ev_rx, parts)
}

/// Runs every capability as its own task on the current tokio runtime.
pub fn start(parts: EngineParts, cfg: EngineConfig) {
    let EngineParts {
        kube,
        drafts,
        files,
        preflight: preflight_rx,
        registry: registry_rx,
        events,
        stop,
        tasks,
    } = parts;
    let kube_engine = kube::KubeEngine::new(cfg.kube.clone(), cfg.readonly, events.clone())
        .with_data_dir(cfg.data_dir.clone())
        .with_sandbox_ssh_proxy(cfg.ssh_proxy.clone());
    tasks.spawn(kube_engine.run(kube, stop.clone()));
    let drafts_engine = store::DraftEngine::new(cfg.data_dir.clone(), events.clone());
    tasks.spawn(drafts_engine.run(drafts, stop.clone()));
    tasks.spawn(files::run(files, events.clone(), stop.clone()));
    tasks.spawn(registry::task::run(
        registry_rx,
        events.clone(),
        cfg.kube.clone(),
        registry::task::Reach {
            via: cfg.registry_via.clone(),
            nodes: cfg
                .ssh_proxy
                .clone()
                .map(|proxy| (proxy, cfg.data_dir.clone())),
        },
        stop.clone(),
    ));
    // Unknown host keys are refused here; the front end asks and sends AcceptHostKey.
    let pool = |sandbox| {
        ssh::SshPool::new(
            preflight::setup::host_key_policy(&cfg.data_dir, false, sandbox),
            ssh::Timeouts::default(),
            ssh::DEFAULT_CONCURRENCY,
        )
    };
    tasks.spawn(preflight::capability::run(
        pool(false),
        pool(true),
        cfg.kube.clone(),
        preflight_rx,
        events,
        stop,
    ));
}

/// Starts the engine on the current tokio runtime: one task per capability.
pub fn spawn(cfg: EngineConfig) -> (EngineHandle, mpsc::Receiver<Event>) {
    let (handle, events, parts) = prepare();
    start(parts, cfg);
    (handle, events)
}
