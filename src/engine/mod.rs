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
//! (`kube::ops`, `kube::watch`, `store::DraftStore`) directly.

pub mod etcd;
pub mod failure;
pub mod files;
pub mod kube;
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
    /// Stop every capability; [`EngineHandle::shutdown`] also waits for them.
    Shutdown,
}

impl Command {
    /// A files command under a fresh id, returned so the caller can match the answer.
    pub fn files(cmd: files::FileCommand) -> (RequestId, Command) {
        let id = RequestId::next();
        (id, Command::Files { id, cmd })
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
}

/// The front end's end of the engine: one queue per capability.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    kube: mpsc::Sender<kube::KubeCommand>,
    drafts: mpsc::Sender<(RequestId, store::DraftCommand)>,
    files: mpsc::Sender<(RequestId, files::FileCommand)>,
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

/// Starts the engine on the current tokio runtime: one task per capability.
pub fn spawn(cfg: EngineConfig) -> (EngineHandle, mpsc::Receiver<Event>) {
    let (ev_tx, ev_rx) = mpsc::channel::<Event>(CHANNEL_CAPACITY);
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();

    let (kube_tx, kube_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let kube = kube::KubeEngine::new(cfg.kube.clone(), cfg.readonly, ev_tx.clone())
        .with_data_dir(cfg.data_dir.clone());
    tasks.spawn(kube.run(kube_rx, stop.clone()));

    let (drafts_tx, drafts_rx) = mpsc::channel(CHANNEL_CAPACITY);
    let drafts = store::DraftEngine::new(cfg.data_dir.clone(), ev_tx.clone());
    tasks.spawn(drafts.run(drafts_rx, stop.clone()));

    let (files_tx, files_rx) = mpsc::channel(CHANNEL_CAPACITY);
    tasks.spawn(files::run(files_rx, ev_tx, stop.clone()));

    let handle = EngineHandle {
        kube: kube_tx,
        drafts: drafts_tx,
        files: files_tx,
        stop,
        tasks,
    };
    (handle, ev_rx)
}
