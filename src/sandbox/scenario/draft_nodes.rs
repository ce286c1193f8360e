//! The nodes of a cluster not created yet, for preflight on the sandbox: two control-plane
//! nodes that pass, one worker that is deliberately wrong (aarch64 on an x86_64 platform) and
//! one whose host key changes when the sandbox is asked to rotate it. Their addresses are
//! private-range like a real site's; the sandbox's SOCKS5 endpoint maps each to its simulated
//! SSH server, so nothing ever dials them.

use serde_json::{Value, json};

use crate::domain::cluster::annotations as acp;

/// The draft cluster's name.
pub const DRAFT_CLUSTER: &str = "lab-draft";

/// The SSH user and password every simulated node accepts (base64 in manifests, as ACP
/// stores it). A sandbox placeholder, not a secret.
pub const NODE_USER: &str = "root";
pub const NODE_PASSWORD: &str = "sandbox";
const NODE_PASSWORD_B64: &str = "c2FuZGJveA==";

/// The NIC every simulated node has.
pub const NODE_NIC: &str = "eth0";

/// What is deliberately wrong with a simulated node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flaw {
    None,
    /// `uname -m` says this instead of x86_64.
    Arch(&'static str),
    /// The node has no NIC by the name the manifest gives.
    NicMissing,
    /// The node's host key changes each time the sandbox is asked to rotate it.
    RotatingHostKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DraftNode {
    pub ip: &'static str,
    pub master: bool,
    pub flaw: Flaw,
}

pub const DRAFT_NODES: [DraftNode; 4] = [
    DraftNode {
        ip: "192.168.90.11",
        master: true,
        flaw: Flaw::None,
    },
    DraftNode {
        ip: "192.168.90.12",
        master: true,
        flaw: Flaw::None,
    },
    DraftNode {
        ip: "192.168.90.13",
        master: false,
        flaw: Flaw::Arch("aarch64"),
    },
    DraftNode {
        ip: "192.168.90.14",
        master: false,
        flaw: Flaw::RotatingHostKey,
    },
];

/// The node that is deliberately wrong.
pub const WRONG_NODE: &str = "192.168.90.13";
/// The node whose host key rotates when asked.
pub const ROTATING_NODE: &str = "192.168.90.14";

/// The draft cluster as a Cluster manifest, with the credentials its nodes accept; what
/// `acp-cockpit preflight -f` reads on the sandbox.
pub fn draft_cluster_manifest() -> Value {
    let machines: Vec<Value> = DRAFT_NODES
        .iter()
        .map(|n| {
            json!({
                "ip": n.ip,
                "port": 22,
                "username": NODE_USER,
                "password": NODE_PASSWORD_B64,
                "role": if n.master { "master" } else { "node" },
            })
        })
        .collect();
    json!({
        "apiVersion": "platform.tkestack.io/v1",
        "kind": "Cluster",
        "metadata": {
            "name": DRAFT_CLUSTER,
            "annotations": {
                acp::CONTAINER_RUNTIME: "containerd",
                acp::NETWORK_TYPE: "calico",
            },
        },
        "spec": {
            "tenantID": "default",
            "displayName": "Lab (draft)",
            "type": "Baremetal",
            "version": "1.31.1",
            "networkDevice": NODE_NIC,
            "clusterCIDR": "10.196.0.0/16",
            "serviceCIDR": "10.197.0.0/16",
            "dnsDomain": "cluster.local",
            "features": {"ipvs": true},
            "machines": machines,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_names_every_draft_node_with_the_password_they_accept() {
        use base64::Engine as _;
        let m = draft_cluster_manifest();
        let machines = m["spec"]["machines"].as_array().expect("machines");
        assert_eq!(machines.len(), DRAFT_NODES.len());
        let pw = base64::engine::general_purpose::STANDARD
            .decode(NODE_PASSWORD_B64)
            .expect("base64");
        assert_eq!(pw, NODE_PASSWORD.as_bytes());
        assert!(
            DRAFT_NODES
                .iter()
                .any(|n| n.ip == WRONG_NODE && n.flaw != Flaw::None)
        );
        assert!(
            DRAFT_NODES
                .iter()
                .any(|n| n.ip == ROTATING_NODE && n.flaw == Flaw::RotatingHostKey)
        );
    }
}
