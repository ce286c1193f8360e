//! The clusters engine and CLI against the sandbox platform: the watched model, live timelines,
//! create with dry run, access reviews, YAML on demand, recovery from dropped watches and
//! compaction, and `clusters -o json` against the server's own list.

use std::collections::BTreeMap;
use std::time::Duration;

mod common;
use common::new_cluster;

use acp_cockpit::domain::cluster::{Cluster, Machine};
use acp_cockpit::engine::kube::{
    ClientPool, ClusterModel, ClusterRow, ConnState, KubeCommand, KubeEvent, KubeSource, ObjectKind,
};
use acp_cockpit::engine::{self, Command, EngineConfig, EngineHandle, Event, RequestId};
use acp_cockpit::sandbox::{Platform, SandboxOptions, SandboxPlatform, kubeconfig};
use acp_cockpit::tui::panes::Access;
use k8s_openapi::api::core::v1::Node;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use tokio::sync::mpsc;

/// Bound for anything the simulation does; generous for a loaded machine.
const WAIT: Duration = Duration::from_secs(90);

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

fn source(p: &SandboxPlatform) -> KubeSource {
    KubeSource::InMemory {
        kubeconfig: Box::new(p.kubeconfig().clone()),
        context: Some(kubeconfig::CONTEXT.to_string()),
    }
}

/// The front end's side of a running engine: folds every event into a model.
struct Front {
    handle: EngineHandle,
    rx: mpsc::Receiver<Event>,
    model: ClusterModel,
    state: Option<ConnState>,
    others: Vec<KubeEvent>,
    batches: usize,
    _dir: tempfile::TempDir,
}

impl Front {
    fn start(p: &SandboxPlatform) -> Front {
        let dir = tempfile::tempdir().expect("tempdir");
        let (handle, rx) = engine::spawn(EngineConfig {
            kube: source(p),
            readonly: false,
            data_dir: dir.path().to_path_buf(),
            registry_via: None,
            ssh_proxy: None,
        });
        Front {
            handle,
            rx,
            model: ClusterModel::new(),
            state: None,
            others: Vec::new(),
            batches: 0,
            _dir: dir,
        }
    }

    fn send(&self, c: KubeCommand) {
        self.handle.send(Command::Kube(c)).expect("engine accepts");
    }

    fn fold(&mut self, ev: Event) {
        match ev {
            Event::Kube(KubeEvent::ClustersChanged(d)) => {
                self.batches += 1;
                self.model.apply_clusters(&d)
            }
            Event::Kube(KubeEvent::MachinesChanged(d)) => self.model.apply_machines(&d),
            Event::Kube(KubeEvent::Connection { state, .. }) => self.state = Some(state),
            Event::Kube(other) => self.others.push(other),
            Event::Failure(f) => panic!("unexpected failure: {f:?}"),
            _ => {}
        }
    }

    /// Folds events until `done` holds, or fails the test after [`WAIT`].
    async fn until(&mut self, what: &str, mut done: impl FnMut(&Front) -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !done(self) {
            let ev = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}; state {:?}", self.state))
                .expect("engine running");
            self.fold(ev);
        }
    }

    /// Folds whatever arrives within `d`.
    async fn drain_for(&mut self, d: Duration) {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, self.rx.recv()).await {
            self.fold(ev);
        }
    }

    fn take(&mut self, pred: impl Fn(&KubeEvent) -> bool) -> Option<KubeEvent> {
        let i = self.others.iter().position(pred)?;
        Some(self.others.remove(i))
    }
}

async fn admin(p: &SandboxPlatform) -> Client {
    p.client(kubeconfig::CONTEXT).await.expect("admin client")
}

/// Name -> resourceVersion of every cluster on the server.
async fn server_versions(client: &Client) -> BTreeMap<String, String> {
    let api: Api<Cluster> = Api::all(client.clone());
    api.list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|c| {
            (
                c.metadata.name.unwrap_or_default(),
                c.metadata.resource_version.unwrap_or_default(),
            )
        })
        .collect()
}

fn model_versions(m: &ClusterModel) -> BTreeMap<String, String> {
    m.clusters()
        .map(|c| (c.name.clone(), c.resource_version.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_cluster_appears_in_the_model_and_its_timeline_advances() {
    let p = start(200.0, 7).await;
    let mut f = Front::start(&p);
    f.send(KubeCommand::Watch { context: None });
    f.until("first sync", |f| {
        f.model.synced && f.state == Some(ConnState::Ready)
    })
    .await;
    let contexts = f
        .take(|e| matches!(e, KubeEvent::Contexts { .. }))
        .expect("contexts reported");
    match contexts {
        KubeEvent::Contexts { current, available } => {
            assert_eq!(current.as_deref(), Some(kubeconfig::CONTEXT));
            assert!(available.iter().any(|c| c == kubeconfig::VIEWER_CONTEXT));
        }
        _ => unreachable!(),
    }
    let seeded = f.model.len();
    assert!(seeded > 0, "the sandbox seeds clusters");
    // The model matches the server object for object.
    let client = admin(&p).await;
    assert_eq!(
        model_versions(&f.model).keys().collect::<Vec<_>>(),
        server_versions(&client).await.keys().collect::<Vec<_>>()
    );

    // A dry run checks without creating.
    let name = "e2e-made";
    f.send(KubeCommand::CreateCluster {
        id: RequestId::next(),
        cluster: Box::new(new_cluster(name)),
        dry_run: true,
    });
    f.until("dry-run answer", |f| {
        f.others
            .iter()
            .any(|e| matches!(e, KubeEvent::ClusterCreated { dry_run: true, .. }))
    })
    .await;
    match f.take(|e| matches!(e, KubeEvent::ClusterCreated { .. })) {
        Some(KubeEvent::ClusterCreated {
            result, name: n, ..
        }) => {
            assert_eq!(n, name);
            result.expect("dry run accepted");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!server_versions(&client).await.contains_key(name));

    f.send(KubeCommand::CreateCluster {
        id: RequestId::next(),
        cluster: Box::new(new_cluster(name)),
        dry_run: false,
    });
    f.until("the new cluster in the model", |f| {
        f.model.cluster(name).is_some()
    })
    .await;
    match f.take(|e| matches!(e, KubeEvent::ClusterCreated { .. })) {
        Some(KubeEvent::ClusterCreated {
            result, dry_run, ..
        }) => {
            assert!(!dry_run);
            result.expect("created");
        }
        None => {
            // The watch may deliver the object before the create call returns.
            f.until("create answer", |f| {
                f.others
                    .iter()
                    .any(|e| matches!(e, KubeEvent::ClusterCreated { .. }))
            })
            .await;
        }
        other => panic!("unexpected {other:?}"),
    }

    // Its timeline advances while the simulated controller works.
    let done_now = |f: &Front| {
        f.model
            .cluster(name)
            .map(|c| c.timeline(chrono::Utc::now(), &Default::default()))
            .map(|t| (t.progress.done, t.finished))
    };
    let (first_done, _) = done_now(&f).expect("timeline");
    f.until("a step to finish", |f| {
        done_now(f).is_some_and(|(d, _)| d > first_done)
    })
    .await;
    f.until("creation to finish", |f| {
        done_now(f).is_some_and(|(_, fin)| fin)
    })
    .await;
    let row = ClusterRow::from_summary(f.model.cluster(name).expect("cluster"));
    assert_eq!(row.phase, "Running");
    assert_eq!(row.progress.done, row.progress.total);
    assert_eq!((row.control_plane, row.workers), (1, 1));
    // Coalescing: far fewer batches than the number of steps times their status writes.
    assert!(f.batches > 1);

    // The running cluster is reached through the platform path with the platform's login.
    let pool = ClientPool::new(&source(&p)).expect("pool");
    let workload = pool
        .workload(kubeconfig::CONTEXT, name)
        .await
        .expect("workload client");
    let nodes: Api<Node> = Api::all(workload);
    let listed = nodes.list(&ListParams::default()).await.expect("nodes");
    assert_eq!(listed.items.len(), 2, "one node per machine");

    // The access review the safety gate uses.
    f.send(KubeCommand::CheckAccess {
        id: RequestId::next(),
        access: Access {
            verb: "create".into(),
            group: "platform.tkestack.io".into(),
            resource: "clusters".into(),
            namespace: None,
            name: None,
        },
    });
    f.until("access answer", |f| {
        f.others
            .iter()
            .any(|e| matches!(e, KubeEvent::Access { .. }))
    })
    .await;
    match f.take(|e| matches!(e, KubeEvent::Access { .. })) {
        Some(KubeEvent::Access { result, .. }) => assert!(result.expect("review").allowed),
        other => panic!("unexpected {other:?}"),
    }

    // YAML on demand, cleaned.
    f.send(KubeCommand::FetchYaml {
        id: RequestId::next(),
        context: None,
        kind: ObjectKind::Cluster,
        name: name.into(),
    });
    f.until("yaml", |f| {
        f.others.iter().any(|e| matches!(e, KubeEvent::Yaml { .. }))
    })
    .await;
    match f.take(|e| matches!(e, KubeEvent::Yaml { .. })) {
        Some(KubeEvent::Yaml { result, .. }) => {
            let y = result.expect("yaml");
            assert!(y.contains(&format!("name: {name}")));
            assert!(!y.contains("managedFields"));
            assert!(!y.contains("cHc="), "secrets are masked");
        }
        other => panic!("unexpected {other:?}"),
    }
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_converges_after_dropped_watches_and_compaction() {
    let p = start(20.0, 11).await;
    let client = admin(&p).await;
    let api: Api<Cluster> = Api::all(client.clone());
    let mut f = Front::start(&p);
    f.send(KubeCommand::Watch { context: None });
    f.until("first sync", |f| f.model.synced).await;

    p.faults().drop_all_watches();
    api.create(&PostParams::default(), &new_cluster("after-drop"))
        .await
        .expect("create");
    p.faults().compact_now();
    p.faults().drop_all_watches();
    api.create(&PostParams::default(), &new_cluster("after-compaction"))
        .await
        .expect("create");

    // The platform keeps moving; the model must catch up with a snapshot of the server.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let server = server_versions(&client).await;
        f.drain_for(Duration::from_millis(300)).await;
        let model = model_versions(&f.model);
        if model == server || server_versions(&client).await == model {
            assert!(model.contains_key("after-drop"));
            assert!(model.contains_key("after-compaction"));
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "model never converged:\nserver {server:?}\nmodel  {model:?}"
        );
    }
    assert_eq!(f.state, Some(ConnState::Ready));
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_json_matches_the_server_and_a_bad_context_is_explained() {
    // Slow enough that nothing moves between the two reads.
    let p = start(0.001, 5).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let kc_path = dir.path().join("kubeconfig");
    kubeconfig::write(p.kubeconfig(), &kc_path).expect("write kubeconfig");
    let bin = env!("CARGO_BIN_EXE_acp-cockpit");
    let out = tokio::process::Command::new(bin)
        .arg("--kubeconfig")
        .arg(&kc_path)
        .args(["clusters", "-o", "json"])
        .env_remove("KUBECONFIG")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .output()
        .await
        .expect("runs");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Vec<serde_json::Value> =
        serde_json::from_slice(&out.stdout).expect("a JSON array");
    let api: Api<Cluster> = Api::all(admin(&p).await);
    let items = api.list(&ListParams::default()).await.expect("list").items;
    let machines: Api<Machine> = Api::all(admin(&p).await);
    let machines = machines
        .list(&ListParams::default())
        .await
        .expect("list")
        .items;
    // Rows of the platform as a whole: a creating cluster's total is the plan the finished
    // ones ran, and a row counts the nodes being added.
    let expected: Vec<ClusterRow> = ClusterModel::from_objects(&items, &machines).rows();
    let expected = serde_json::to_value(&expected).expect("json");
    assert_eq!(serde_json::Value::Array(printed), expected);

    let bad = tokio::process::Command::new(bin)
        .arg("--kubeconfig")
        .arg(&kc_path)
        .args(["--context", "nope", "timeline", "x"])
        .env_remove("KUBECONFIG")
        .output()
        .await
        .expect("runs");
    // An unknown context means nothing could be checked: exit 2 by the CLI's convention.
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("nope"), "{err}");
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_logins_are_visible_states_and_the_viewer_cannot_create() {
    let p = start(1.0, 13).await;

    // A revoked token: the platform answers 401.
    let mut kc = p.kubeconfig().clone();
    for u in kc.auth_infos.iter_mut() {
        if let Some(a) = u.auth_info.as_mut() {
            a.token = Some("not-a-valid-token".to_string().into());
        }
    }
    let bad = tempfile::tempdir().expect("tempdir");
    let (handle, mut rx) = engine::spawn(EngineConfig {
        kube: KubeSource::InMemory {
            kubeconfig: Box::new(kc.clone()),
            context: Some(kubeconfig::CONTEXT.into()),
        },
        readonly: false,
        data_dir: bad.path().to_path_buf(),
        registry_via: None,
        ssh_proxy: None,
    });
    handle
        .send(Command::Kube(KubeCommand::Watch { context: None }))
        .expect("send");
    let state = wait_for_state(&mut rx, |s| !matches!(s, ConnState::Connecting)).await;
    match state {
        ConnState::AuthExpired { message, relogin } => {
            assert!(message.contains("401"), "{message}");
            assert_eq!(relogin, None, "a token user has no login plugin");
        }
        other => panic!("expected AuthExpired, got {other:?}"),
    }

    // A login plugin that fails: also AuthExpired, with the plugin as the re-login action.
    for u in kc.auth_infos.iter_mut() {
        if let Some(a) = u.auth_info.as_mut() {
            a.token = None;
            // Asks for an interactive plugin: the engine must force it non-interactive.
            a.exec = Some(
                serde_json::from_value(json!({
                    "apiVersion": "client.authentication.k8s.io/v1",
                    "command": "false",
                    "args": ["--login"],
                    "interactiveMode": "Always",
                }))
                .expect("exec config"),
            );
        }
    }
    let (handle, mut rx) = engine::spawn(EngineConfig {
        kube: KubeSource::InMemory {
            kubeconfig: Box::new(kc),
            context: Some(kubeconfig::CONTEXT.into()),
        },
        readonly: false,
        data_dir: bad.path().to_path_buf(),
        registry_via: None,
        ssh_proxy: None,
    });
    handle
        .send(Command::Kube(KubeCommand::Watch { context: None }))
        .expect("send");
    match wait_for_state(&mut rx, |s| !matches!(s, ConnState::Connecting)).await {
        ConnState::AuthExpired { relogin, .. } => {
            let job = relogin.expect("the plugin is the re-login action");
            assert_eq!(job.program, "false");
            assert_eq!(job.args, vec!["--login"]);
        }
        other => panic!("expected AuthExpired, got {other:?}"),
    }

    // The viewer reads clusters but may not create them.
    let mut f = Front::start(&p);
    f.send(KubeCommand::SwitchContext {
        context: kubeconfig::VIEWER_CONTEXT.into(),
    });
    f.until("viewer sync", |f| f.model.synced).await;
    f.send(KubeCommand::CheckAccess {
        id: RequestId::next(),
        access: Access {
            verb: "create".into(),
            group: "platform.tkestack.io".into(),
            resource: "clusters".into(),
            namespace: None,
            name: None,
        },
    });
    f.send(KubeCommand::CreateCluster {
        id: RequestId::next(),
        cluster: Box::new(new_cluster("viewer-made")),
        dry_run: true,
    });
    f.until("answers", |f| {
        f.others
            .iter()
            .any(|e| matches!(e, KubeEvent::Access { .. }))
            && f.others
                .iter()
                .any(|e| matches!(e, KubeEvent::ClusterCreated { .. }))
    })
    .await;
    match f.take(|e| matches!(e, KubeEvent::Access { .. })) {
        Some(KubeEvent::Access { result, .. }) => assert!(!result.expect("review").allowed),
        other => panic!("unexpected {other:?}"),
    }
    match f.take(|e| matches!(e, KubeEvent::ClusterCreated { .. })) {
        Some(KubeEvent::ClusterCreated { result, .. }) => {
            let e = result.expect_err("forbidden");
            assert_eq!(e.kind, acp_cockpit::engine::kube::FailureKind::Forbidden);
            assert!(e.hint.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
    p.shutdown().await;
}

/// The first connection state matching `pred`.
async fn wait_for_state(
    rx: &mut mpsc::Receiver<Event>,
    pred: impl Fn(&ConnState) -> bool,
) -> ConnState {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("a connection state in time")
            .expect("engine running");
        if let Event::Kube(KubeEvent::Connection { state, .. }) = ev
            && pred(&state)
        {
            return state;
        }
    }
}

/// Each capability has its own task: a drafts command stuck on another cockpit's file lock does
/// not hold up a kube command sent after it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_drafts_command_does_not_hold_up_kube() {
    use acp_cockpit::engine::store::{DraftCommand, DraftStore};
    use fs4::fs_std::FileExt;

    let p = start(20.0, 5).await;
    let mut f = Front::start(&p);
    f.send(KubeCommand::Watch { context: None });
    f.until("first sync", |f| {
        f.model.synced && f.state == Some(ConnState::Ready)
    })
    .await;
    let name = f
        .model
        .clusters()
        .next()
        .expect("a cluster")
        .name
        .to_string();

    // Another cockpit holds the drafts lock.
    let drafts_dir = DraftStore::new(f._dir.path()).dir().to_path_buf();
    std::fs::create_dir_all(&drafts_dir).expect("drafts dir");
    let lock = std::fs::File::create(drafts_dir.join(".lock")).expect("lock file");
    FileExt::lock_exclusive(&lock).expect("lock");

    let drafts_id = RequestId::next();
    f.handle
        .send(Command::Drafts {
            id: drafts_id,
            cmd: DraftCommand::List,
        })
        .expect("queued");
    let yaml_id = RequestId::next();
    f.send(KubeCommand::FetchYaml {
        id: yaml_id,
        context: None,
        kind: ObjectKind::Cluster,
        name,
    });
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = tokio::time::timeout_at(deadline, f.rx.recv())
            .await
            .expect("the kube answer came while drafts waited")
            .expect("engine running");
        match ev {
            Event::Drafts { id, .. } if id == drafts_id => {
                panic!("the drafts command finished while its lock was held")
            }
            Event::Kube(KubeEvent::Yaml { id, result, .. }) if id == yaml_id => {
                result.expect("yaml");
                break;
            }
            _ => {}
        }
    }
    // Released, the drafts command completes too.
    FileExt::unlock(&lock).expect("unlock");
    loop {
        let ev = tokio::time::timeout_at(deadline, f.rx.recv())
            .await
            .expect("the drafts answer after the lock was released")
            .expect("engine running");
        if matches!(ev, Event::Drafts { id, .. } if id == drafts_id) {
            break;
        }
    }
    f.handle.shutdown().await;
    p.shutdown().await;
}
