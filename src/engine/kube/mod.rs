//! Kube access: client pool per platform context, watches, create, access reviews.

use tokio::sync::mpsc;

use super::Event;

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

#[derive(Debug)]
pub enum KubeCommand {}

#[derive(Debug, Clone)]
pub enum KubeEvent {}

pub struct KubeEngine {
    #[allow(dead_code)]
    source: KubeSource,
    #[allow(dead_code)]
    readonly: bool,
    #[allow(dead_code)]
    events: mpsc::Sender<Event>,
}

impl KubeEngine {
    pub fn new(source: KubeSource, readonly: bool, events: mpsc::Sender<Event>) -> Self {
        KubeEngine {
            source,
            readonly,
            events,
        }
    }
    pub async fn handle(&mut self, cmd: KubeCommand) {
        match cmd {}
    }
    pub async fn shutdown(&mut self) {}
}
