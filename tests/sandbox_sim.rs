//! The sandbox's simulated ACP platform, driven through the real kube client: creation steps,
//! failures and recovery, deletion, workload clusters, etcd key rotation, determinism, RBAC.

use std::collections::BTreeMap;
use std::time::Duration;

mod common;
use common::new_cluster;

use acp_cockpit::domain::cluster::{Cluster, ClusterCredential, Machine};
use acp_cockpit::domain::etcd::{EtcdEncryptionConfig, RotationVerdict};
use acp_cockpit::sandbox::controllers::{CREATE_STEPS, MESSAGE_WAITING, REASON_WAITING};
use acp_cockpit::sandbox::scenario::{self, BROKEN_STEP, EtcdPlan, PlanState};
use acp_cockpit::sandbox::{Platform, SandboxOptions, SandboxPlatform, kubeconfig};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Node;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client};
use serde_json::{Value, json};

/// Bound for anything the simulation does at the test speed; generous for a loaded machine.
const WAIT: Duration = Duration::from_secs(90);
const FAST: f64 = 300.0;

async fn start(speed: f64, seed: u64) -> SandboxPlatform {
    common::crypto();
    Platform::start(SandboxOptions {
        port: 0,
        speed,
        seed,
    })
    .await
    .expect("sandbox starts")
}

async fn admin(p: &SandboxPlatform) -> Client {
    p.client(kubeconfig::CONTEXT).await.expect("admin client")
}

/// Polls `f` until it returns `Some`, or fails the test after [`WAIT`].
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_created_cluster_runs_its_steps_in_order_to_running_with_a_credential() {
    let p = start(FAST, 3).await;
    let client = admin(&p).await;
    let clusters: Api<Cluster> = Api::all(client.clone());
    let name = "made-by-test";
    let stream = watcher(
        clusters.clone(),
        watcher::Config::default().fields(&format!("metadata.name={name}")),
    )
    .applied_objects();
    let mut stream = std::pin::pin!(stream);
    clusters
        .create(&PostParams::default(), &new_cluster(name))
        .await
        .expect("create");
    let expected: Vec<&str> = CREATE_STEPS.iter().map(|(t, _)| *t).collect();
    let mut seen_len = 0usize;
    let mut max_open_seen = 0usize;
    let running = tokio::time::timeout(WAIT, async {
        while let Some(c) = stream.try_next().await.expect("watch") {
            let st = c.status.clone().unwrap_or_default();
            let types: Vec<&str> = st.conditions.iter().map(|c| c.type_.as_str()).collect();
            assert_eq!(types, expected[..types.len()], "conditions out of order");
            assert!(types.len() >= seen_len, "conditions shrank");
            seen_len = types.len();
            for (i, cond) in st.conditions.iter().enumerate() {
                if i + 1 < st.conditions.len() {
                    assert!(cond.is_true(), "{} open before the last step", cond.type_);
                } else if !cond.is_true() {
                    assert_eq!(cond.status, "Unknown");
                    assert_eq!(cond.reason.as_deref(), Some(REASON_WAITING));
                    assert_eq!(cond.message.as_deref(), Some(MESSAGE_WAITING));
                    max_open_seen += 1;
                }
            }
            if st.phase.as_deref() == Some("Running") {
                return c;
            }
            assert_eq!(
                st.phase.as_deref().unwrap_or("Initializing"),
                "Initializing"
            );
        }
        panic!("watch ended before the cluster ran");
    })
    .await
    .expect("cluster reaches Running in time");
    assert!(max_open_seen > 3, "the steps were not observed one by one");
    let st = running.status.expect("status");
    assert_eq!(st.conditions.len(), CREATE_STEPS.len());
    assert_eq!(st.version.as_deref(), Some("1.31.9"));
    assert!(
        st.addresses
            .iter()
            .any(|a| a.host == "172.20.0.11" && a.port == 6443)
    );
    assert!(
        running
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"cluster".to_string())
    );
    let cc_ref = running
        .spec
        .cluster_credential_ref
        .expect("clusterCredentialRef")
        .name;
    let ccs: Api<ClusterCredential> = Api::all(client.clone());
    let cc = ccs.get(&cc_ref).await.expect("credential exists");
    assert_eq!(cc.spec.cluster_name, name);
    assert!(cc.spec.token.as_deref().is_some_and(|t| t.len() >= 32));
    assert!(
        cc.ca_cert_pem()
            .is_some_and(|pem| String::from_utf8_lossy(&pem).contains("BEGIN CERTIFICATE"))
    );
    let by_field = ccs
        .list(&ListParams::default().fields(&format!("clusterName={name}")))
        .await
        .expect("field selector list");
    assert_eq!(by_field.items.len(), 1);
    let machines: Api<Machine> = Api::all(client.clone());
    let mine: Vec<Machine> = machines
        .list(&ListParams::default().fields(&format!("spec.clusterName={name}")))
        .await
        .expect("machines")
        .items;
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|m| m.phase() == "Running"));
    assert!(mine.iter().all(|m| m.spec.machine.password.is_none()));
    // The new cluster's own API answers under /kubernetes/<name>.
    let wc = p.cluster_client(name).await.expect("workload client");
    let nodes: Api<Node> = Api::all(wc);
    let nodes = eventually("nodes of the new cluster", || {
        let nodes = nodes.clone();
        async move { nodes.list(&ListParams::default()).await.ok() }
    })
    .await;
    assert_eq!(nodes.items.len(), 2);
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stuck_cluster_fails_with_its_message_and_recovers_when_fixed() {
    let p = start(FAST, 4).await;
    let plan = p
        .scenario()
        .cluster("ops-stuck")
        .expect("stuck plan")
        .clone();
    let PlanState::Stuck { step, message } = plan.state else {
        panic!("ops-stuck is not stuck: {:?}", plan.state)
    };
    let clusters: Api<Cluster> = Api::all(admin(&p).await);
    // Several retries happen at this speed; the failure must persist through them.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let c = clusters.get("ops-stuck").await.expect("get");
    let st = c.status.expect("status");
    let last = st.conditions.last().expect("conditions");
    assert_eq!(last.type_, step);
    assert_eq!(last.status, "False");
    assert_eq!(last.reason.as_deref(), Some("FailedInit"));
    assert_eq!(last.message.as_deref(), Some(message.as_str()));
    assert!(message.contains("context deadline exceeded"), "{message}");
    assert_eq!(st.reason.as_deref(), Some("FailedInit"));
    assert_eq!(st.message.as_deref(), Some(message.as_str()));
    assert_eq!(st.phase.as_deref(), Some("Initializing"));
    assert!(
        p.store("ops-stuck").is_none(),
        "a stuck cluster is not served"
    );

    clusters
        .patch(
            "ops-stuck",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {BROKEN_STEP: null}}})),
        )
        .await
        .expect("fix");
    let fixed = eventually("ops-stuck to run", || {
        let clusters = clusters.clone();
        async move {
            let c = clusters.get("ops-stuck").await.ok()?;
            (c.status.as_ref()?.phase.as_deref() == Some("Running")).then_some(c)
        }
    })
    .await;
    let st = fixed.status.expect("status");
    assert!(st.conditions.iter().all(|c| c.is_true()));
    assert!(st.message.is_none() && st.reason.is_none());
    let healed = st
        .conditions
        .iter()
        .find(|c| c.type_ == step)
        .expect("the failed step");
    assert!(healed.message.is_none());
    let nodes: Api<Node> = Api::all(p.cluster_client("ops-stuck").await.expect("client"));
    eventually("ops-stuck nodes", || {
        let nodes = nodes.clone();
        async move {
            nodes
                .list(&ListParams::default())
                .await
                .ok()
                .filter(|l| !l.items.is_empty())
        }
    })
    .await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminating_cluster_disappears_with_its_machines_and_api() {
    // Slow enough that the seeded deletion (300 s) is still pending when the test looks.
    let p = start(60.0, 5).await;
    let client = admin(&p).await;
    let clusters: Api<Cluster> = Api::all(client.clone());
    let c = clusters
        .get("old-test")
        .await
        .expect("old-test exists at start");
    assert!(c.metadata.deletion_timestamp.is_some());
    let name = "old-test";
    eventually("old-test to be gone", || {
        let clusters = clusters.clone();
        async move {
            match clusters.get_opt(name).await {
                Ok(None) => Some(()),
                Ok(Some(c)) => {
                    let phase = c.status.and_then(|s| s.phase);
                    assert_eq!(phase.as_deref(), Some("Terminating"));
                    None
                }
                Err(e) => panic!("get old-test: {e}"),
            }
        }
    })
    .await;
    let machines: Api<Machine> = Api::all(client.clone());
    let left = machines
        .list(&ListParams::default().fields("spec.clusterName=old-test"))
        .await
        .expect("machines");
    assert!(left.items.is_empty());
    let ccs: Api<ClusterCredential> = Api::all(client);
    let left = ccs
        .list(&ListParams::default().fields("clusterName=old-test"))
        .await
        .expect("credentials");
    assert!(left.items.is_empty());
    assert!(p.store("old-test").is_none());
    let gone: Api<Node> = Api::all(p.cluster_client("old-test").await.expect("client"));
    assert!(gone.list(&ListParams::default()).await.is_err());

    // Deleting a running cluster goes the same way.
    clusters
        .delete("staging", &Default::default())
        .await
        .expect("delete staging");
    eventually("staging to be gone", || {
        let clusters = clusters.clone();
        async move { matches!(clusters.get_opt("staging").await, Ok(None)).then_some(()) }
    })
    .await;
    assert!(p.store("staging").is_none());
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workload_clusters_serve_nodes_and_etcd_rotation_progresses() {
    let p = start(FAST, 6).await;
    let scenario = p.scenario().clone();
    for plan in scenario
        .clusters
        .iter()
        .filter(|c| c.state == PlanState::Running)
    {
        let ctx = if plan.name == scenario::GLOBAL {
            kubeconfig::CONTEXT
        } else {
            plan.name.as_str()
        };
        let client = p.client(ctx).await.expect("context client");
        let nodes: Vec<Node> = Api::<Node>::all(client.clone())
            .list(&ListParams::default())
            .await
            .expect("nodes")
            .items;
        assert_eq!(
            nodes.len(),
            plan.masters.len() + plan.workers.len(),
            "{}",
            plan.name
        );
        let cp = nodes
            .iter()
            .filter(|n| {
                n.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.contains_key("node-role.kubernetes.io/control-plane"))
            })
            .count();
        assert_eq!(cp, plan.masters.len(), "{}", plan.name);
        let eecs = Api::<EtcdEncryptionConfig>::all(client);
        if plan.etcd == EtcdPlan::NotInstalled {
            // Global among them: the docs say etcd encryption is not supported there.
            let missing = eecs.get_opt("default").await.expect("get eec");
            assert!(
                missing.is_none(),
                "{} has an EtcdEncryptionConfig",
                plan.name
            );
            continue;
        }
        let eec: EtcdEncryptionConfig = eecs.get("default").await.expect("eec");
        let verdict = eec.status.as_ref().map(|s| s.verdict());
        match &plan.etcd {
            EtcdPlan::Failing { node, .. } => {
                assert_eq!(verdict, Some(RotationVerdict::Failed));
                let st = eec.status.as_ref().expect("status");
                assert_eq!(st.deploy_status[node].state, "RestartFailed");
            }
            EtcdPlan::Lagging { node, .. } => {
                assert_eq!(verdict, Some(RotationVerdict::Rotating));
                let lagging = eec.status.as_ref().expect("status").lagging_nodes();
                assert_eq!(lagging, vec![node.as_str()]);
            }
            _ => {}
        }
    }

    let rotating = scenario
        .clusters
        .iter()
        .find(|c| matches!(c.etcd, EtcdPlan::Rotating { .. }))
        .expect("a rotating cluster");
    let eecs: Api<EtcdEncryptionConfig> = Api::all(p.client(&rotating.name).await.expect("client"));
    let start_rev = eecs
        .get("default")
        .await
        .expect("eec")
        .status
        .expect("status")
        .revision;
    let stream = watcher(eecs.clone(), watcher::Config::default()).applied_objects();
    let mut stream = std::pin::pin!(stream);
    let mut states: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let done = tokio::time::timeout(WAIT, async {
        while let Some(e) = stream.try_next().await.expect("watch") {
            let st = e.status.clone().unwrap_or_default();
            for (node, d) in &st.deploy_status {
                if d.revision > start_rev {
                    let seen = states.entry(node.clone()).or_default();
                    if seen.last() != Some(&d.state) {
                        seen.push(d.state.clone());
                    }
                }
            }
            if st.revision > start_rev && st.verdict() == RotationVerdict::Healthy {
                return st;
            }
        }
        panic!("watch ended before the rotation finished");
    })
    .await
    .expect("a rotation completes in time");
    assert_eq!(done.revision, start_rev + 1);
    let m = done.migration.expect("migration");
    assert_eq!(m.state, "Success");
    assert!(m.complete_timestamp.is_some());
    assert_eq!(states.len(), rotating.masters.len());
    for (node, seq) in &states {
        assert_eq!(seq, &["Processing", "Updated", "Success"], "{node}");
    }
    p.shutdown().await;
}

fn comparable_list(items: Vec<Value>) -> Vec<Value> {
    items
        .into_iter()
        .map(|mut v| {
            // Credential names come from generateName, like on a real platform.
            if let Some(spec) = v.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("clusterCredentialRef");
            }
            scenario::comparable(&v)
        })
        .collect()
}

async fn snapshot(p: &SandboxPlatform) -> (Vec<Value>, Vec<Value>) {
    let client = admin(p).await;
    let clusters: Vec<Value> = Api::<Cluster>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("clusters")
        .items
        .into_iter()
        .map(|c| serde_json::to_value(c).expect("json"))
        .collect();
    let nodes: Vec<Value> = Api::<Node>::all(p.client("prod-east").await.expect("client"))
        .list(&ListParams::default())
        .await
        .expect("nodes")
        .items
        .into_iter()
        .map(|n| serde_json::to_value(n).expect("json"))
        .collect();
    (comparable_list(clusters), comparable_list(nodes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scenario_is_deterministic_for_a_seed() {
    // Slow enough that nothing moves between the two snapshots.
    let a = start(0.001, 11).await;
    let b = start(0.001, 11).await;
    let c = start(0.001, 12).await;
    let sa = snapshot(&a).await;
    let sb = snapshot(&b).await;
    let sc = snapshot(&c).await;
    assert_eq!(sa.0.len(), a.scenario().clusters.len());
    assert_eq!(sa, sb);
    assert_ne!(sa, sc);
    a.shutdown().await;
    b.shutdown().await;
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_restricted_user_reads_clusters_but_cannot_create_them() {
    let p = start(1.0, 7).await;
    let viewer = p
        .client(kubeconfig::VIEWER_CONTEXT)
        .await
        .expect("viewer client");
    let clusters: Api<Cluster> = Api::all(viewer);
    let list = clusters.list(&ListParams::default()).await.expect("list");
    assert_eq!(list.items.len(), p.scenario().clusters.len());
    let err = clusters
        .create(&PostParams::default(), &new_cluster("not-allowed"))
        .await
        .expect_err("viewer may not create");
    match err {
        kube::Error::Api(s) => assert_eq!(s.code, 403),
        other => panic!("expected 403, got {other}"),
    }
    let mut events =
        std::pin::pin!(watcher(clusters, watcher::Config::default()).applied_objects());
    let first = tokio::time::timeout(WAIT, events.next())
        .await
        .expect("viewer watch answers");
    assert!(matches!(first, Some(Ok(_))));
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_machine_becomes_a_node_and_the_stuck_one_reports_why() {
    let p = start(FAST, 8).await;
    let client = admin(&p).await;
    let machines: Api<Machine> = Api::all(client.clone());
    let stuck = p
        .scenario()
        .clusters
        .iter()
        .flat_map(|c| c.adding.iter().map(move |a| (c, a)))
        .find(|(_, a)| matches!(a.state, PlanState::Stuck { .. }))
        .map(|(c, a)| acp_cockpit::sandbox::controllers::machine_name(&c.name, &a.ip))
        .expect("a stuck node in the scenario");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let m = machines.get(&stuck).await.expect("stuck machine");
    let st = m.status.expect("status");
    let last = st.conditions.last().expect("conditions");
    assert_eq!(last.type_, "EnsureNodeReady");
    assert_eq!(last.reason.as_deref(), Some("FailedInit"));
    assert!(
        st.message
            .as_deref()
            .is_some_and(|m| m.contains("cni plugin not initialized")),
        "{:?}",
        st.message
    );

    let ip = "192.168.250.7";
    let machine: Machine = serde_json::from_value(json!({
        "apiVersion": "platform.tkestack.io/v1",
        "kind": "Machine",
        "metadata": {"name": "staging-added"},
        "spec": {"clusterName": "staging", "type": "Baremetal", "ip": ip, "port": 22,
                 "username": "root", "password": "cHc=", "role": "node"},
    }))
    .expect("machine literal");
    machines
        .create(&PostParams::default(), &machine)
        .await
        .expect("create machine");
    let done = eventually("the machine to run", || {
        let machines = machines.clone();
        async move {
            let m = machines.get("staging-added").await.ok()?;
            (m.phase() == "Running").then_some(m)
        }
    })
    .await;
    let steps: Vec<&str> = done
        .status
        .as_ref()
        .map(|s| s.conditions.iter().map(|c| c.type_.as_str()).collect())
        .unwrap_or_default();
    let expected: Vec<&str> = acp_cockpit::sandbox::controllers::MACHINE_STEPS
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(steps, expected);
    let nodes: Api<Node> = Api::all(p.client("staging").await.expect("client"));
    eventually("the new node", || {
        let nodes = nodes.clone();
        async move { nodes.get_opt(ip).await.ok().flatten() }
    })
    .await;
    machines
        .delete("staging-added", &Default::default())
        .await
        .expect("delete machine");
    eventually("the node to go with its machine", || {
        let (nodes, machines) = (nodes.clone(), machines.clone());
        async move {
            let node_gone = matches!(nodes.get_opt(ip).await, Ok(None));
            let machine_gone = matches!(machines.get_opt("staging-added").await, Ok(None));
            (node_gone && machine_gone).then_some(())
        }
    })
    .await;
    p.shutdown().await;
}

fn global_args(args: &[&str]) -> acp_cockpit::cli::GlobalArgs {
    use clap::Parser as _;
    let argv = std::iter::once("acp-cockpit").chain(args.iter().copied());
    acp_cockpit::cli::Cli::try_parse_from(argv)
        .expect("arguments parse")
        .global
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_starts_the_embedded_sandbox_in_memory() {
    use acp_cockpit::engine::kube::KubeSource;
    use acp_cockpit::startup::resolve;
    common::crypto();
    let resolved = resolve(&global_args(&["--sandbox"]))
        .await
        .expect("resolve");
    assert!(resolved.labels.sandbox);
    assert_eq!(resolved.labels.platform, "sandbox");
    assert_eq!(resolved.labels.context, kubeconfig::CONTEXT);
    let KubeSource::InMemory {
        kubeconfig: kc,
        context,
    } = resolved.source.clone()
    else {
        panic!("the sandbox is not in memory")
    };
    let cfg = kube::Config::from_custom_kubeconfig(
        *kc,
        &kube::config::KubeConfigOptions {
            context,
            ..Default::default()
        },
    )
    .await
    .expect("config");
    let clusters: Api<Cluster> = Api::all(Client::try_from(cfg).expect("client"));
    let list = clusters.list(&ListParams::default()).await.expect("list");
    assert!(
        list.items
            .iter()
            .any(|c| c.metadata.name.as_deref() == Some("global"))
    );
    resolved.shutdown().await;

    let other = resolve(&global_args(&["--sandbox", "--context", "prod-east"]))
        .await
        .expect("resolve a workload context");
    assert_eq!(other.labels.context, "prod-east");
    other.shutdown().await;

    let err = resolve(&global_args(&["--sandbox", "--context", "nope"]))
        .await
        .expect_err("unknown context");
    assert!(format!("{err:#}").contains("use one of"), "{err:#}");
    let err = resolve(&global_args(&["--kubeconfig", "/nonexistent/kubeconfig"]))
        .await
        .expect_err("missing file");
    assert!(format!("{err:#}").contains("--sandbox"), "{err:#}");
}

/// `acp-cockpit sandbox serve --kubeconfig-out`: the real binary writes a private kubeconfig
/// that a client can use, and stops cleanly on SIGTERM.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_serve_writes_a_private_kubeconfig_and_stops_on_sigterm() {
    use std::os::unix::fs::PermissionsExt as _;
    common::crypto();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sandbox.kubeconfig");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_acp-cockpit"))
        .args([
            "sandbox",
            "serve",
            "--speed",
            "50",
            "--seed",
            "9",
            "--kubeconfig-out",
        ])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let kc = eventually("the kubeconfig file", || {
        let path = path.clone();
        async move { kube::config::Kubeconfig::read_from(&path).ok() }
    })
    .await;
    let as_json = serde_json::to_value(&kc).expect("kubeconfig json");
    let tokens: Vec<String> = as_json["users"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["user"]["token"].as_str().map(str::to_string))
        .collect();
    assert_eq!(tokens.len(), 2);
    let mode = std::fs::metadata(&path)
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .expect("config");
    let clusters: Api<Cluster> = Api::all(Client::try_from(cfg).expect("client"));
    let list = clusters.list(&ListParams::default()).await.expect("list");
    assert!(
        list.items
            .iter()
            .any(|c| c.metadata.name.as_deref() == Some("dev-new"))
    );
    let pid = child.id().expect("pid").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let exit = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("the sandbox stops")
        .expect("exit status");
    assert_eq!(exit.code(), Some(0));
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        use tokio::io::AsyncReadExt as _;
        stdout.read_to_string(&mut out).await.expect("stdout");
    }
    assert!(
        out.contains("kubectl get clusters.platform.tkestack.io -w"),
        "{out}"
    );
    for t in &tokens {
        assert!(!out.contains(t.as_str()), "the output shows a token");
    }
}
