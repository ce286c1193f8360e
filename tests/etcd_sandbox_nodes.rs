//! The etcd key files on the sandbox's control-plane nodes, read over SSH through the
//! sandbox's SOCKS5 endpoint: the engine command the pane sends and `etcd --inspect-nodes`
//! both name the stale node's drifted key list and the lagging node, and neither ever prints
//! the simulated key material.

mod common;

use std::time::Duration;

use acp_cockpit::engine::etcd::nodes::NodeReport;
use acp_cockpit::engine::kube::{KubeCommand, KubeEvent, KubeSource};
use acp_cockpit::engine::ssh::ProxySpec;
use acp_cockpit::engine::{self, Command, EngineConfig, Event, RequestId};
use acp_cockpit::sandbox::etcd_sim::sim_key;
use acp_cockpit::sandbox::scenario::EtcdPlan;
use acp_cockpit::sandbox::{Platform, SandboxOptions, SandboxPlatform, kubeconfig};

const WAIT: Duration = Duration::from_secs(120);

async fn start() -> SandboxPlatform {
    common::crypto();
    // Slow enough that no rotation happens while the nodes are read.
    Platform::start(SandboxOptions {
        port: 0,
        speed: 0.001,
        seed: 1,
    })
    .await
    .expect("sandbox starts")
}

fn proxy(p: &SandboxPlatform) -> ProxySpec {
    let ep = p.ssh_nodes().endpoint();
    ProxySpec {
        host: ep.host.clone(),
        port: ep.port,
        username: Some(ep.username.clone()),
        password: Some(ep.password.clone()),
    }
}

/// Every simulated key the sandbox's clusters could hold; none may appear in `text`.
fn assert_no_key_material(p: &SandboxPlatform, text: &str) {
    for c in &p.scenario().clusters {
        for rev in 1..=64 {
            let key = sim_key(&c.name, rev);
            assert!(
                !text.contains(&key.as_str()[..16]),
                "{} key{rev} leaked",
                c.name
            );
        }
    }
}

fn lagging(p: &SandboxPlatform) -> (String, String) {
    p.scenario()
        .clusters
        .iter()
        .find_map(|c| match &c.etcd {
            EtcdPlan::Lagging { node, .. } => Some((c.name.clone(), node.clone())),
            _ => None,
        })
        .expect("a lagging cluster")
}

fn stale(p: &SandboxPlatform) -> (String, String, i64) {
    p.scenario()
        .clusters
        .iter()
        .find_map(|c| match &c.etcd {
            EtcdPlan::Rotating { revision, .. } => c
                .masters
                .last()
                .map(|n| (c.name.clone(), n.clone(), *revision)),
            _ => None,
        })
        .expect("a rotating cluster with a stale key file")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_command_finds_the_stale_and_the_lagging_node_and_shows_no_key() {
    let p = start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (handle, mut rx) = engine::spawn(EngineConfig {
        kube: KubeSource::InMemory {
            kubeconfig: Box::new(p.kubeconfig().clone()),
            context: Some(kubeconfig::CONTEXT.to_string()),
        },
        readonly: true,
        data_dir: dir.path().to_path_buf(),
        registry_via: None,
        ssh_proxy: Some(proxy(&p)),
    });
    let mut inspect = async |cluster: &str| -> Vec<NodeReport> {
        let id = RequestId::next();
        handle
            .send(Command::Kube(KubeCommand::InspectEtcdNodes {
                id,
                cluster: cluster.to_string(),
            }))
            .expect("engine accepts");
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let ev = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .expect("node files in time")
                .expect("engine running");
            if let Event::Kube(KubeEvent::EtcdNodes {
                id: got, result, ..
            }) = ev
                && got == id
            {
                return result.expect("the node files are read");
            }
        }
    };

    let (cluster, node, revision) = stale(&p);
    let reports = inspect(&cluster).await;
    let mut all_json = serde_json::to_string(&reports).expect("json");
    let r = reports
        .iter()
        .find(|r| r.node == node)
        .expect("the stale node is reported");
    assert_eq!(r.skipped, None, "{r:?}");
    assert!(r.drifted(), "{r:?}");
    assert_eq!(
        r.keys.first().map(|k| k.name.clone()),
        Some(format!("key{}", revision - 1))
    );
    assert!(
        r.findings.iter().any(|f| f.code == "active-key-stale"),
        "{r:?}"
    );
    assert!(r.keys.iter().all(|k| k.fingerprint.starts_with("sha256:")));

    let (cluster, node) = lagging(&p);
    let reports = inspect(&cluster).await;
    all_json.push_str(&serde_json::to_string(&reports).expect("json"));
    assert!(reports.len() >= 3, "{reports:?}");
    for r in &reports {
        assert_eq!(r.skipped, None, "{r:?}");
        assert_eq!(r.drifted(), r.node == node, "{r:?}");
    }
    let r = reports
        .iter()
        .find(|r| r.node == node)
        .expect("lagging node");
    assert!(
        r.findings.iter().any(|f| f.code == "key-list-differs"),
        "{r:?}"
    );
    // The sandbox's nodes' host keys went to the sandbox's own known_hosts only.
    assert!(dir.path().join("known_hosts.sandbox").exists());
    assert!(!dir.path().join("known_hosts").exists());

    for entry in walk(dir.path()) {
        all_json.push_str(&String::from_utf8_lossy(
            &std::fs::read(entry).unwrap_or_default(),
        ));
    }
    assert_no_key_material(&p, &all_json);
    handle.shutdown().await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_inspect_nodes_on_the_sandbox_flags_the_stale_file_and_prints_no_key() {
    // The binary starts its own embedded sandbox (same seed); this one only names the nodes.
    let p = start().await;
    let (cluster, node, revision) = stale(&p);
    let dir = tempfile::tempdir().expect("tempdir");
    let bin = env!("CARGO_BIN_EXE_acp-cockpit");
    let run = |args: Vec<String>| {
        tokio::process::Command::new(bin)
            .arg("--sandbox")
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env("ACP_COCKPIT_DATA_DIR", dir.path())
            .env("ACP_COCKPIT_STATE_DIR", dir.path())
            .kill_on_drop(true)
            .output()
    };
    let args = |extra: &[&str]| {
        let mut a = vec![
            "etcd".to_string(),
            cluster.clone(),
            "--inspect-nodes".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let table = tokio::time::timeout(WAIT, run(args(&[])))
        .await
        .expect("in time")
        .expect("runs");
    let text = String::from_utf8_lossy(&table.stdout).to_string();
    let err = String::from_utf8_lossy(&table.stderr).to_string();
    assert_eq!(table.status.code(), Some(1), "{text}\n{err}");
    let row = text
        .lines()
        .find(|l| l.starts_with(node.as_str()) && l.contains("DRIFT"))
        .unwrap_or_else(|| panic!("the stale node's row: {text}"));
    assert!(
        row.contains(&format!("key{} sha256:", revision - 1)),
        "{row}"
    );
    assert!(text.contains("active-key-stale"), "{text}");
    // Every kept key by name and fingerprint, newest first.
    assert!(
        text.contains(&format!("  keys: key{} sha256:", revision - 1)),
        "{text}"
    );

    let json = tokio::time::timeout(WAIT, run(args(&["-o", "json"])))
        .await
        .expect("in time")
        .expect("runs");
    assert_eq!(json.status.code(), Some(1));
    let printed: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let files = printed["nodeFiles"]
        .as_array()
        .unwrap_or_else(|| panic!("node files in the JSON: {printed:#}"));
    let stale_row = files
        .iter()
        .find(|f| f["node"] == node.as_str())
        .expect("the stale node in the JSON");
    let names: Vec<&str> = stale_row["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["name"].as_str())
        .collect();
    let want: Vec<String> = (1..revision).rev().map(|r| format!("key{r}")).collect();
    assert_eq!(names, want);

    let mut everything = [&table.stdout, &table.stderr, &json.stdout, &json.stderr]
        .iter()
        .map(|b| String::from_utf8_lossy(b).to_string())
        .collect::<Vec<_>>()
        .join("\n");
    for entry in walk(dir.path()) {
        everything.push_str(&String::from_utf8_lossy(
            &std::fs::read(entry).unwrap_or_default(),
        ));
    }
    assert_no_key_material(&p, &everything);
    p.shutdown().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
