//! etcd encryption against the sandbox platform: the engine's watch reports the seeded failed
//! and lagging clusters, follows a live rotation and recognises a cluster without the plugin;
//! `etcd -o json` prints the server's object and exits 2 on a failed node.

mod common;

use std::time::Duration;

use acp_cockpit::domain::etcd::{EtcdEncryptionConfig, RotationSummary};
use acp_cockpit::engine::kube::etcd::EtcdState;
use acp_cockpit::engine::kube::{KubeCommand, KubeEvent, KubeSource};
use acp_cockpit::engine::{self, Command, EngineConfig, EngineHandle, Event};
use acp_cockpit::sandbox::scenario::EtcdPlan;
use acp_cockpit::sandbox::{Platform, SandboxOptions, SandboxPlatform, kubeconfig};
use tokio::sync::mpsc;

/// Bound for anything the simulation does; generous for a loaded machine.
const WAIT: Duration = Duration::from_secs(120);

async fn start(speed: f64) -> SandboxPlatform {
    common::crypto();
    Platform::start(SandboxOptions {
        port: 0,
        speed,
        seed: 1,
    })
    .await
    .expect("sandbox starts")
}

fn source(p: &SandboxPlatform) -> KubeSource {
    KubeSource::InMemory {
        kubeconfig: Box::new(p.kubeconfig().clone()),
        context: Some(kubeconfig::CONTEXT.to_string()),
    }
}

/// The cluster whose seeded etcd plan matches, with the node the plan names.
fn seeded(p: &SandboxPlatform, pick: fn(&EtcdPlan) -> Option<String>) -> (String, String) {
    p.scenario()
        .clusters
        .iter()
        .find_map(|c| pick(&c.etcd).map(|n| (c.name.clone(), n)))
        .expect("the scenario seeds such a cluster")
}

struct Front {
    handle: EngineHandle,
    rx: mpsc::Receiver<Event>,
    _dir: tempfile::TempDir,
}

impl Front {
    fn start(p: &SandboxPlatform) -> Front {
        let dir = tempfile::tempdir().expect("tempdir");
        let (handle, rx) = engine::spawn(EngineConfig {
            kube: source(p),
            readonly: true,
            data_dir: dir.path().to_path_buf(),
            registry_via: None,
            ssh_proxy: None,
        });
        Front {
            handle,
            rx,
            _dir: dir,
        }
    }

    fn watch(&self, cluster: &str) {
        self.handle
            .send(Command::Kube(KubeCommand::WatchEtcd {
                cluster: cluster.to_string(),
            }))
            .expect("engine accepts");
    }

    /// The states reported for `cluster` until `done` holds for one of them.
    async fn until(
        &mut self,
        cluster: &str,
        what: &str,
        mut done: impl FnMut(&EtcdState) -> bool,
    ) -> EtcdState {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            let ev = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}; saw {seen:#?}"))
                .expect("engine running");
            if let Event::Kube(KubeEvent::Etcd {
                cluster: c, state, ..
            }) = ev
                && c == cluster
            {
                if done(&state) {
                    return state;
                }
                seen.push(state);
            }
        }
    }
}

fn summary(s: &EtcdState) -> Option<RotationSummary> {
    s.config()
        .and_then(|c| c.status.as_ref())
        .map(|st| st.summary())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_reports_failed_lagging_live_and_not_installed_clusters() {
    let p = start(50.0).await;
    let mut front = Front::start(&p);

    let (failed, node) = seeded(&p, |e| match e {
        EtcdPlan::Failing { node, .. } => Some(node.clone()),
        _ => None,
    });
    front.watch(&failed);
    let s = front
        .until(&failed, "the failed node", |s| summary(s).is_some())
        .await;
    assert_eq!(
        summary(&s),
        Some(RotationSummary::Failed {
            nodes: vec![node.clone()],
            migration_failed: false
        })
    );
    let cfg = s.config().expect("config");
    assert!(cfg.metadata.managed_fields.is_none());
    let st = cfg.status.as_ref().expect("status");
    assert_eq!(st.deploy_status[&node].state, "RestartFailed");
    assert!(st.needs_attention(&node));

    let (lagging, node) = seeded(&p, |e| match e {
        EtcdPlan::Lagging { node, .. } => Some(node.clone()),
        _ => None,
    });
    front.watch(&lagging);
    let s = front
        .until(&lagging, "the lagging node", |s| summary(s).is_some())
        .await;
    assert_eq!(
        summary(&s),
        Some(RotationSummary::Lagging {
            nodes: vec![node.clone()]
        })
    );

    // Live: a rotating cluster reports a new revision without being asked again.
    let (rotating, _) = seeded(&p, |e| match e {
        EtcdPlan::Rotating { .. } => Some(String::new()),
        _ => None,
    });
    front.watch(&rotating);
    let first = front
        .until(&rotating, "the rotating cluster", |s| s.config().is_some())
        .await;
    let rev = first
        .config()
        .and_then(|c| c.status.as_ref())
        .map_or(0, |s| s.revision);
    front
        .until(&rotating, "the next rotation", |s| {
            s.config()
                .and_then(|c| c.status.as_ref())
                .is_some_and(|st| st.revision > rev)
        })
        .await;

    // Without the plugin: once the cluster is served, there is no config to show.
    let (bare, _) = seeded(&p, |e| match e {
        EtcdPlan::NotInstalled => Some(String::new()),
        _ => None,
    });
    front.watch(&bare);
    let s = front
        .until(&bare, "not installed", |s| {
            matches!(s, EtcdState::NotInstalled { .. })
        })
        .await;
    let EtcdState::NotInstalled { reason } = s else {
        unreachable!("matched above")
    };
    assert!(reason.contains("not installed"), "{reason}");

    front
        .handle
        .send(Command::Kube(KubeCommand::UnwatchEtcd))
        .expect("engine accepts");
    let _ = front.handle.send(Command::Shutdown);
    p.shutdown().await;
}

/// The server's object as JSON, managedFields removed the way the engine removes them.
async fn server_object(p: &SandboxPlatform, cluster: &str) -> serde_json::Value {
    let client = p.cluster_client(cluster).await.expect("cluster client");
    let req = http::Request::get("/apis/cluster.alauda.io/v1alpha1/etcdencryptionconfigs/default")
        .body(Vec::new())
        .expect("request");
    let mut v: serde_json::Value = client.request(req).await.expect("get");
    if let Some(m) = v["metadata"].as_object_mut() {
        m.remove("managedFields");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_json_is_the_server_object_and_a_failed_or_lagging_node_exits_1() {
    // Slow enough that nothing moves between the reads.
    let p = start(0.001).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kc_path = dir.path().join("kubeconfig");
    kubeconfig::write(p.kubeconfig(), &kc_path).expect("write kubeconfig");
    let bin = env!("CARGO_BIN_EXE_acp-cockpit");
    let run = |cluster: &str| {
        tokio::process::Command::new(bin)
            .arg("--kubeconfig")
            .arg(&kc_path)
            .args(["etcd", cluster, "-o", "json"])
            .env_remove("KUBECONFIG")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
    };
    let (failed, node) = seeded(&p, |e| match e {
        EtcdPlan::Failing { node, .. } => Some(node.clone()),
        _ => None,
    });
    let out = run(&failed).await.expect("runs");
    // 1: unhealthy (a failed node, a lagging node, overdue); 2 is "could not check".
    assert_eq!(
        out.status.code(),
        Some(1),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let server = server_object(&p, &failed).await;
    // The printed object is the server's, through the typed model and back.
    let typed: EtcdEncryptionConfig = serde_json::from_value(server.clone()).expect("typed");
    assert_eq!(
        printed["object"],
        serde_json::to_value(&typed).expect("json")
    );
    assert_eq!(printed["object"]["spec"], server["spec"]);
    assert_eq!(printed["object"]["status"], server["status"]);
    assert_eq!(
        printed["object"]["metadata"]["resourceVersion"],
        server["metadata"]["resourceVersion"]
    );
    assert_eq!(printed["verdict"], "failed");
    assert_eq!(printed["revision"], server["status"]["revision"]);
    let row = printed["nodes"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["node"] == node.as_str()))
        .expect("the failed node's row");
    assert_eq!(row["state"], "RestartFailed");
    assert!(
        row["advice"]["checks"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );

    let (lagging, _) = seeded(&p, |e| match e {
        EtcdPlan::Lagging { node, .. } => Some(node.clone()),
        _ => None,
    });
    let out = run(&lagging).await.expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(printed["verdict"], "lagging");
    assert_eq!(
        printed["object"]["status"],
        server_object(&p, &lagging).await["status"]
    );
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_fleet_is_worst_first_exits_1_and_prints_no_key() {
    let p = start(0.001).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kc_path = dir.path().join("kubeconfig");
    kubeconfig::write(p.kubeconfig(), &kc_path).expect("write kubeconfig");
    let bin = env!("CARGO_BIN_EXE_acp-cockpit");
    let run = |args: &'static [&'static str]| {
        tokio::process::Command::new(bin)
            .arg("--kubeconfig")
            .arg(&kc_path)
            .args(args)
            .env_remove("KUBECONFIG")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env("ACP_COCKPIT_DATA_DIR", dir.path())
            .env("ACP_COCKPIT_STATE_DIR", dir.path())
            .output()
    };
    let json = run(&["etcd", "-o", "json"]).await.expect("runs");
    let stderr = String::from_utf8_lossy(&json.stderr).to_string();
    assert_eq!(json.status.code(), Some(1), "stderr: {stderr}");
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let rows = rows.as_array().expect("a list of clusters");
    let health = |name: &str| {
        rows.iter()
            .find(|r| r["cluster"] == name)
            .map(|r| r["health"].as_str().unwrap_or_default().to_string())
    };
    let (failed, _) = seeded(&p, |e| match e {
        EtcdPlan::Failing { node, .. } => Some(node.clone()),
        _ => None,
    });
    let (lagging, _) = seeded(&p, |e| match e {
        EtcdPlan::Lagging { node, .. } => Some(node.clone()),
        _ => None,
    });
    // The workload cluster seeded without the manager is still being created: not read.
    let none = p
        .scenario()
        .clusters
        .iter()
        .find(|c| c.name != "global" && matches!(c.etcd, EtcdPlan::NotInstalled))
        .map(|c| c.name.clone())
        .expect("a workload cluster without the manager");
    assert_eq!(health(&failed).as_deref(), Some("failed-node"));
    assert_eq!(health(&lagging).as_deref(), Some("lagging-node"));
    assert_eq!(health("global").as_deref(), Some("not-supported"));
    assert!(
        matches!(
            health(&none).as_deref(),
            Some("not-installed") | Some("unreachable")
        ),
        "{rows:?}"
    );
    // Worst first.
    assert_eq!(rows[0]["health"], "failed-node", "{rows:?}");
    assert!(rows.iter().any(|r| r["nextDue"].is_string()), "{rows:?}");

    let table = run(&["etcd"]).await.expect("runs");
    let text = String::from_utf8_lossy(&table.stdout).to_string();
    assert!(text.starts_with("CLUSTER"), "{text}");
    assert!(text.contains("NEXT DUE"), "{text}");
    // A cluster that exists but does not run says what it is, not "not found".
    let stuck = p
        .scenario()
        .clusters
        .iter()
        .find(|c| {
            matches!(
                c.state,
                acp_cockpit::sandbox::scenario::PlanState::Stuck { .. }
            )
        })
        .map(|c| c.name.clone())
        .expect("a stuck cluster");
    let out = tokio::process::Command::new(bin)
        .arg("--kubeconfig")
        .arg(&kc_path)
        .args(["etcd", &stuck])
        .env_remove("KUBECONFIG")
        .output()
        .await
        .expect("runs");
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(
        said.contains("not Running") && !said.contains("not found"),
        "{said}"
    );
    // The sandbox's key material is nowhere in what was printed or logged.
    let mut everything = [
        &json.stdout,
        &json.stderr,
        &table.stdout,
        &table.stderr,
        &out.stdout,
        &out.stderr,
    ]
    .iter()
    .map(|b| String::from_utf8_lossy(b).to_string())
    .collect::<Vec<_>>()
    .join("\n");
    for entry in walk(dir.path()) {
        everything.push_str(&String::from_utf8_lossy(
            &std::fs::read(entry).unwrap_or_default(),
        ));
    }
    for c in &p.scenario().clusters {
        for rev in 1..=64 {
            let key = acp_cockpit::sandbox::etcd_sim::sim_key(&c.name, rev);
            assert!(
                !everything.contains(&key.as_str()[..16]),
                "{} key{rev} leaked",
                c.name
            );
        }
    }
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_watch_fills_the_overview_and_follows_a_rotation() {
    use acp_cockpit::domain::etcd::health::{Health, Observed, assess};
    let p = start(50.0).await;
    let mut f = Front::start(&p);
    f.handle
        .send(Command::Kube(KubeCommand::Watch { context: None }))
        .expect("engine accepts");
    let running: Vec<String> = p
        .scenario()
        .clusters
        .iter()
        .filter(|c| {
            c.name != "global"
                && matches!(c.state, acp_cockpit::sandbox::scenario::PlanState::Running)
        })
        .map(|c| c.name.clone())
        .collect();
    f.handle
        .send(Command::Kube(KubeCommand::WatchEtcdFleet {
            clusters: running.clone(),
        }))
        .expect("engine accepts");
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut health = std::collections::BTreeMap::new();
    let mut revisions: std::collections::BTreeMap<String, Vec<i64>> = Default::default();
    // Every Running cluster answers, and the rotating one moves to a new revision live.
    let rotating = seeded(&p, |e| match e {
        EtcdPlan::Rotating { .. } => Some(String::new()),
        _ => None,
    })
    .0;
    while health.len() < running.len() || revisions.get(&rotating).is_none_or(|r| r.len() < 2) {
        let ev = tokio::time::timeout_at(deadline, f.rx.recv())
            .await
            .unwrap_or_else(|_| panic!("timed out; health {health:?}, revisions {revisions:?}"))
            .expect("engine running");
        let Event::Kube(KubeEvent::Etcd { cluster, state, .. }) = ev else {
            continue;
        };
        let now = chrono::Utc::now();
        let a = match &state {
            EtcdState::Connecting => continue,
            EtcdState::Config { config, .. } => {
                let rev = config.status.as_ref().map_or(0, |s| s.revision);
                let seen = revisions.entry(cluster.clone()).or_default();
                if seen.last() != Some(&rev) {
                    seen.push(rev);
                }
                assess(&cluster, Observed::Config(config), now)
            }
            EtcdState::NotInstalled { .. } => assess(&cluster, Observed::NotInstalled, now),
            EtcdState::Failed(e) => assess(&cluster, Observed::Unreachable(&e.message), now),
        };
        health.insert(cluster, a.health);
    }
    let (failed, _) = seeded(&p, |e| match e {
        EtcdPlan::Failing { node, .. } => Some(node.clone()),
        _ => None,
    });
    assert_eq!(health.get(&failed), Some(&Health::FailedNode), "{health:?}");
    f.handle
        .send(Command::Kube(KubeCommand::UnwatchEtcdFleet))
        .expect("engine accepts");
    f.handle.shutdown().await;
    p.shutdown().await;
}
