//! The async engine: it owns every connection (kube watches, SSH sessions, files) and never draws.
//!
//! Front ends talk to it through two bounded channels: they send [`Command`]s and receive
//! [`Event`]s. Each capability owns its own command and event type in its own module, so the
//! engine core only routes. The CLI calls the capability modules' functions directly.

pub mod kube;
pub mod ssh;
pub mod store;

use std::path::PathBuf;

use tokio::sync::mpsc;

/// Capacity of both channels. A flooding API server makes the cockpit lag, never grow without bound.
pub const CHANNEL_CAPACITY: usize = 1024;

/// What a front end asks the engine to do.
#[derive(Debug)]
pub enum Command {
    Kube(kube::KubeCommand),
    Drafts(store::DraftCommand),
    Shutdown,
}

/// What the engine reports back.
#[derive(Debug, Clone)]
pub enum Event {
    Kube(kube::KubeEvent),
    Drafts(store::DraftEvent),
    Toast(Toast),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastLevel {
    Info,
    Warn,
    Error,
}

/// A message for the user: what happened and, when known, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub level: ToastLevel,
    pub message: String,
    pub hint: Option<String>,
}

impl Toast {
    pub fn error(message: impl Into<String>, hint: impl Into<Option<String>>) -> Self {
        Toast {
            level: ToastLevel::Error,
            message: message.into(),
            hint: hint.into(),
        }
    }
    pub fn info(message: impl Into<String>) -> Self {
        Toast {
            level: ToastLevel::Info,
            message: message.into(),
            hint: None,
        }
    }
}

/// Where the engine finds its platforms and keeps its files.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub kube: kube::KubeSource,
    pub readonly: bool,
    pub data_dir: PathBuf,
}

/// The front end's end of the command channel.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Command>,
}

impl EngineHandle {
    /// Sends without waiting; a full channel means the engine is behind, which the UI reports
    /// rather than blocking the render loop.
    pub fn send(&self, cmd: Command) -> Result<(), Toast> {
        self.tx.try_send(cmd).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => Toast::error(
                "the engine is busy; the last action was dropped",
                Some("wait a moment and try again".to_string()),
            ),
            mpsc::error::TrySendError::Closed(_) => Toast::error("the engine has stopped", None),
        })
    }
}

/// Starts the engine on the current tokio runtime.
pub fn spawn(cfg: EngineConfig) -> (EngineHandle, mpsc::Receiver<Event>) {
    let (cmd_tx, mut cmd_rx) = mpsc::channel::<Command>(CHANNEL_CAPACITY);
    let (ev_tx, ev_rx) = mpsc::channel::<Event>(CHANNEL_CAPACITY);
    tokio::spawn(async move {
        let mut kube = kube::KubeEngine::new(cfg.kube.clone(), cfg.readonly, ev_tx.clone());
        let mut drafts = store::DraftEngine::new(cfg.data_dir.clone(), ev_tx.clone());
        while let Some(cmd) = cmd_rx.recv().await {
            match cmd {
                Command::Kube(c) => kube.handle(c).await,
                Command::Drafts(c) => drafts.handle(c).await,
                Command::Shutdown => break,
            }
        }
        kube.shutdown().await;
    });
    (EngineHandle { tx: cmd_tx }, ev_rx)
}
