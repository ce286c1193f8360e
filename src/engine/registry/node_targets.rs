//! Whom the node checks ask: each Node of the cluster by its InternalIP, logging in with the
//! credentials its Cluster's `spec.machines` name (as preflight does), through a proxy when one
//! is given (on the sandbox, its SOCKS5 endpoint on loopback: the nodes' addresses are never
//! dialled directly).

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::core::v1::Node;
use kube::Client;
use kube::api::{Api, ListParams};

use super::battery::Options;
use crate::domain::cluster::Cluster;
use crate::engine::preflight::setup::host_key_policy;
use crate::engine::ssh::{DEFAULT_CONCURRENCY, ProxySpec, SshPool, SshTarget, Timeouts};

/// Listing the nodes and reading the Cluster together take at most this long.
const LIST_TIMEOUT: Duration = Duration::from_secs(15);

/// The targets, and a note per Node that cannot be asked (no machine entry, bad credentials).
#[derive(Debug, Default)]
pub struct NodeTargets {
    pub targets: Vec<(String, SshTarget)>,
    pub notes: Vec<String>,
}

/// Every Node of `client`'s cluster paired with the `cluster` machine of the same address.
/// `global` holds the Cluster objects; the secrets read stay in the targets (zeroized).
pub async fn from_cluster(
    global: &Client,
    client: &Client,
    cluster: &str,
    proxy: Option<&ProxySpec>,
) -> Result<NodeTargets, String> {
    let read = async {
        let c = Api::<Cluster>::all(global.clone())
            .get(cluster)
            .await
            .map_err(|e| format!("cannot read Cluster {cluster}: {e}"))?;
        let nodes = Api::<Node>::all(client.clone())
            .list(&ListParams::default().limit(500))
            .await
            .map_err(|e| format!("cannot list the nodes of {cluster}: {e}"))?;
        Ok::<_, String>((c, nodes.items))
    };
    let (c, nodes) = tokio::time::timeout(LIST_TIMEOUT, read)
        .await
        .map_err(|_| format!("reading Cluster {cluster} and its nodes took over 15 s"))??;
    Ok(pair(&c, &nodes, proxy))
}

/// Fills `opts.nodes` and `opts.ssh` for the sandbox: every node of `cluster` through the
/// sandbox's SOCKS5 endpoint `proxy`, host keys in the sandbox's own known_hosts under
/// `data_dir` (it holds only simulated nodes' keys, so first use records them). Returns notes
/// for nodes that cannot be asked; when the nodes cannot be listed the node checks skip.
pub async fn attach_sandbox_nodes(
    opts: &mut Options,
    global: &Client,
    client: &Client,
    cluster: &str,
    proxy: &ProxySpec,
    data_dir: &std::path::Path,
) -> Vec<String> {
    let notes = match from_cluster(global, client, cluster, Some(proxy)).await {
        Ok(t) => {
            opts.nodes = t.targets;
            t.notes
        }
        Err(e) => vec![format!("the node checks are skipped: {e}")],
    };
    opts.ssh = Some(SshPool::new(
        host_key_policy(data_dir, true, true),
        Timeouts::default(),
        DEFAULT_CONCURRENCY,
    ));
    notes
}

fn pair(c: &Cluster, nodes: &[Node], proxy: Option<&ProxySpec>) -> NodeTargets {
    let machines: BTreeMap<&str, _> = c.spec.machines.iter().map(|m| (m.ip.trim(), m)).collect();
    let mut out = NodeTargets::default();
    for n in nodes {
        let Some(name) = n.metadata.name.clone() else {
            continue;
        };
        let ip = n
            .status
            .as_ref()
            .and_then(|s| s.addresses.as_ref())
            .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
            .map(|a| a.address.clone());
        let Some(m) = ip.as_deref().and_then(|ip| machines.get(ip)) else {
            out.notes.push(format!(
                "{name}: no machine of Cluster {} has its InternalIP, so no credentials to log in",
                c.metadata.name.as_deref().unwrap_or("?")
            ));
            continue;
        };
        match SshTarget::from_machine(m) {
            Ok(mut t) => {
                if let Some(p) = proxy {
                    t.proxy = Some(p.clone());
                }
                out.targets.push((name, t));
            }
            Err(e) => out.notes.push(format!("{name}: {e}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_pair_with_their_machine_and_take_the_proxy() {
        let c: Cluster = serde_json::from_value(serde_json::json!({
            "apiVersion": "platform.tkestack.io/v1",
            "kind": "Cluster",
            "metadata": {"name": "global"},
            "spec": {"machines": [{"ip": "192.168.1.2", "port": 22, "username": "root", "password": "c2FuZGJveA=="}]},
        }))
        .expect("cluster");
        let node = |name: &str, ip: &str| -> Node {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": name},
                "status": {"addresses": [{"type": "InternalIP", "address": ip}]},
            }))
            .expect("node")
        };
        let proxy = ProxySpec {
            host: "127.0.0.1".into(),
            port: 1080,
            username: None,
            password: None,
        };
        let t = pair(
            &c,
            &[node("a", "192.168.1.2"), node("b", "192.168.1.3")],
            Some(&proxy),
        );
        assert_eq!(t.targets.len(), 1);
        assert_eq!(t.targets[0].0, "a");
        assert_eq!(t.targets[0].1.host, "192.168.1.2");
        assert_eq!(t.targets[0].1.proxy.as_ref(), Some(&proxy));
        assert!(t.notes[0].starts_with("b: "), "{:?}", t.notes);
    }
}
