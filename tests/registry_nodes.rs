//! The node side of the registry checks over real SSH (the loopback sshd of scripts/test.sh):
//! one command per node, its output judged, an unreachable node named without stopping the
//! others.

#[path = "common/ssh.rs"]
mod common;

use acp_cockpit::domain::registry::{CheckId, Verdict};
use acp_cockpit::engine::registry::battery::{Options, node_checks};
use acp_cockpit::engine::registry::inputs::{Inputs, RegistryService};
use acp_cockpit::engine::ssh::SshPool;
use common::{LOOPBACK, closed_port, peers, policy_with, timeouts};

#[tokio::test]
async fn each_node_is_asked_and_an_unreachable_one_is_named() {
    let Some(p) = peers("registry node checks") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let pool = SshPool::new(
        policy_with(dir.path(), &p.host_key_line(), false),
        timeouts(),
        4,
    );
    let mut dead = p.key_target();
    dead.host = LOOPBACK.to_string();
    dead.port = closed_port();
    let mut opts = Options::new(chrono::Utc::now().timestamp());
    opts.ssh = Some(pool);
    opts.nodes = vec![
        ("node-a".into(), p.password_target(&p.password)),
        ("node-b".into(), dead),
    ];
    let inputs = Inputs {
        namespace: "my-ns".into(),
        service: Some(RegistryService {
            name: "internal-docker-registry".into(),
            cluster_ip: "10.4.216.11".parse().ok(),
            ports: vec![443],
            selector: Default::default(),
        }),
        ..Default::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(8);
    node_checks(&inputs, &opts, &tx).await;
    drop(tx);
    let mut rs = Vec::new();
    while let Some(r) = rx.recv().await {
        rs.push(r);
    }
    let dns = rs
        .iter()
        .find(|r| r.id == CheckId::DnsNodes)
        .expect("dns result");
    let hosts = rs
        .iter()
        .find(|r| r.id == CheckId::NodeHosts)
        .expect("hosts result");
    // This machine (node-a) has no resolver line and no DNS entry for the cluster name.
    assert_eq!(dns.verdict, Verdict::Fail, "{dns:#?}");
    assert!(dns.summary.ends_with("on node-a"), "{}", dns.summary);
    assert!(
        dns.evidence.iter().any(|e| e.starts_with(
            "node-a: getent hosts internal-docker-registry.cpaas-system.svc -> nothing"
        )),
        "{dns:#?}"
    );
    assert!(
        dns.evidence.iter().any(|e| e.starts_with("node-b: ")),
        "{dns:#?}"
    );
    assert!(
        hosts
            .evidence
            .iter()
            .any(|e| e == "node-a: no tagged line (resolved by DNS)"),
        "{hosts:#?}"
    );
}
