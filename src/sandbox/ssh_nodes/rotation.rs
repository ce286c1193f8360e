//! Asking the sandbox to rotate a node's host key from outside the process: writing the
//! ConfigMap [`ROTATE_CONFIG_MAP`] (any namespace of the global cluster) with `data.ip` set
//! rotates that node's key, once per write, so preflight's changed-key refusal can be seen
//! with `kubectl` and the cockpit alone.

use tokio_util::sync::CancellationToken;

use super::SshNodes;
use crate::sandbox::apiserver::{EventType, Store};

/// `kubectl create configmap sandbox-rotate-host-key --from-literal=ip=192.168.90.14`.
pub const ROTATE_CONFIG_MAP: &str = "sandbox-rotate-host-key";

/// Rotates keys as the ConfigMap is written, until `stop`.
pub async fn watch(global: Store, nodes: SshNodes, stop: CancellationToken) {
    loop {
        let mut sub = global.subscribe();
        loop {
            let ev = tokio::select! {
                _ = stop.cancelled() => return,
                ev = sub.recv() => ev,
            };
            let Ok(ev) = ev else {
                // Fell behind the log: start again from now.
                break;
            };
            if ev.kind().resource != "configmaps"
                || ev.name() != ROTATE_CONFIG_MAP
                || ev.event_type == EventType::Deleted
            {
                continue;
            }
            let ip = ev.object["data"]["ip"].as_str().unwrap_or_default().trim();
            match ip.parse() {
                Ok(ip) if nodes.rotate_host_key(ip) => {
                    tracing::info!("sandbox: rotated the host key of {ip}")
                }
                _ => tracing::info!("sandbox: {ip:?} is no node whose host key rotates"),
            }
        }
    }
}
