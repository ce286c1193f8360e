//! Helpers the integration tests share. Each test crate uses what it needs.

#![allow(dead_code)]

pub mod ssh;

use acp_cockpit::domain::cluster::Cluster;

/// One process-wide rustls provider, as `main` installs it; kube panics without one.
pub fn crypto() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// A valid two-node Calico cluster to create on the sandbox.
pub fn new_cluster(name: &str) -> Cluster {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "platform.tkestack.io/v1",
        "kind": "Cluster",
        "metadata": {"name": name, "annotations": {"cpaas.io/network-type": "calico"}},
        "spec": {
            "type": "Baremetal",
            "version": "1.31.9",
            "clusterCIDR": "10.30.0.0/16",
            "serviceCIDR": "10.31.0.0/16",
            "machines": [
                {"ip": "172.20.0.11", "port": 22, "username": "root", "password": "cHc=", "role": "master"},
                {"ip": "172.20.0.21", "port": 22, "username": "root", "password": "cHc=", "role": "node"},
            ],
        },
    }))
    .expect("cluster literal")
}
