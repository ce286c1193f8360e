//! Conformance of the sandbox API server, driven by the real kube client over HTTPS.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use acp_cockpit::sandbox::apiserver::{self, ApiServerConfig, ApiServerHandle, TokenUser, names};
use base64::Engine as _;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{reflector, watcher};
use kube::{Client, Config};
use serde_json::{Value, json};

const TOKEN: &str = "conformance-token";
const WAIT: Duration = Duration::from_secs(20);

async fn server() -> ApiServerHandle {
    common::crypto();
    apiserver::start(ApiServerConfig {
        users: vec![TokenUser::new(TOKEN, "admin", &["system:masters"])],
        ..ApiServerConfig::default()
    })
    .await
    .expect("sandbox starts")
}

async fn client_for(h: &ApiServerHandle, cluster: &str, token: &str) -> Client {
    let ca = base64::engine::general_purpose::STANDARD.encode(h.ca_pem());
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sb\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\nusers:\n- name: u\n  user:\n    token: {token}\ncontexts:\n- name: c\n  context:\n    cluster: sb\n    user: u\n    namespace: default\ncurrent-context: c\n",
        h.cluster_url(cluster)
    );
    let kc = Kubeconfig::from_yaml(&yaml).expect("kubeconfig parses");
    let mut cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    cfg.proxy_url = None;
    Client::try_from(cfg).expect("client")
}

async fn setup() -> (ApiServerHandle, Client) {
    let h = server().await;
    let c = client_for(&h, "global", TOKEN).await;
    (h, c)
}

fn cluster_ar() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("platform.tkestack.io", "v1", "Cluster"),
        "clusters",
    )
}

fn clusters(c: &Client) -> Api<DynamicObject> {
    Api::all_with(c.clone(), &cluster_ar())
}

fn cluster_obj(name: &str) -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
        "metadata": {"name": name},
        "spec": {"type": "Baremetal", "version": "1.28.13"},
    }))
    .expect("cluster object")
}

fn cm(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "data": data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
    }))
    .expect("configmap")
}

fn api_err(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// Raw request through the kube client (path relative to the cluster URL).
async fn raw(
    c: &Client,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, String, String) {
    let mut b = http::Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    let req = b
        .body(kube::client::Body::from(body.to_vec()))
        .expect("request");
    let resp = c.send(req).await.expect("transport");
    let code = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    (code, ct, String::from_utf8_lossy(&bytes).into_owned())
}

fn status_of(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["kind"], "Status", "{body}");
    v
}

fn rv_of(o: &impl kube::Resource) -> u64 {
    o.meta()
        .resource_version
        .as_deref()
        .and_then(|s| s.parse().ok())
        .expect("numeric resourceVersion")
}

#[tokio::test]
async fn crud_codes_and_metadata_rules() {
    let (h, c) = setup().await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let mut sent = cm("a", &[("k", "v")]);
    sent.metadata.uid = Some("client-uid".into());
    let created = api
        .create(&PostParams::default(), &sent)
        .await
        .expect("create");
    let uid = created.metadata.uid.clone().expect("uid");
    assert_ne!(uid, "client-uid", "client uid is ignored");
    assert!(created.metadata.creation_timestamp.is_some());
    assert!(
        created.metadata.generation.is_none(),
        "configmaps have no generation"
    );
    let rv1 = rv_of(&created);

    let err = api_err(
        api.create(&PostParams::default(), &sent)
            .await
            .expect_err("dup"),
    );
    assert!(err.is_already_exists(), "{err:?}");
    assert_eq!(err.code, 409);

    let missing = api_err(api.get("nope").await.expect_err("missing"));
    assert!(missing.is_not_found());
    assert_eq!(missing.message, "configmaps \"nope\" not found");
    assert!(api.get_opt("nope").await.expect("get_opt").is_none());

    // A no-op replace does not bump the RV; a real change does.
    let same = api
        .replace("a", &PostParams::default(), &created)
        .await
        .expect("no-op");
    assert_eq!(rv_of(&same), rv1);
    let mut changed = same.clone();
    changed.data = Some([("k".to_string(), "w".to_string())].into());
    let after = api
        .replace("a", &PostParams::default(), &changed)
        .await
        .expect("replace");
    assert!(rv_of(&after) > rv1);
    assert_eq!(after.metadata.uid.as_deref(), Some(uid.as_str()));

    // Stale RV on PUT.
    let stale = api_err(
        api.replace("a", &PostParams::default(), &changed)
            .await
            .expect_err("stale"),
    );
    assert!(stale.is_conflict(), "{stale:?}");

    // Custom resources: generation rules and PUT without RV.
    let cls = clusters(&c);
    let cl = cls
        .create(&PostParams::default(), &cluster_obj("demo"))
        .await
        .expect("create cluster");
    assert_eq!(cl.metadata.generation, Some(1));
    let labelled = cls
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .expect("label");
    assert_eq!(
        labelled.metadata.generation,
        Some(1),
        "metadata edits keep generation"
    );
    let specced = cls
        .patch(
            "demo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"version": "1.30.0"}})),
        )
        .await
        .expect("spec");
    assert_eq!(specced.metadata.generation, Some(2));
    let mut no_rv = specced.clone();
    no_rv.metadata.resource_version = None;
    let e = api_err(
        cls.replace("demo", &PostParams::default(), &no_rv)
            .await
            .expect_err("422"),
    );
    assert!(e.is_invalid(), "{e:?}");
    assert_eq!(e.code, 422);

    // Delete without finalizers: gone, Status returned.
    let res = api
        .delete("a", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(res.is_right(), "a deleted object answers with a Status");
    assert!(api.get_opt("a").await.expect("get_opt").is_none());
    h.shutdown().await;
}

#[tokio::test]
async fn generate_name_and_dry_run() {
    let (h, c) = setup().await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let mut o = cm("", &[]);
    o.metadata.name = None;
    o.metadata.generate_name = Some("gen-".into());
    let made = api
        .create(&PostParams::default(), &o)
        .await
        .expect("generateName");
    let name = made.metadata.name.clone().expect("name");
    assert!(name.starts_with("gen-") && name.len() == 9, "{name}");

    let pp = PostParams {
        dry_run: true,
        ..PostParams::default()
    };
    let dry = api
        .create(&pp, &cm("dry", &[]))
        .await
        .expect("dry-run create");
    assert_eq!(dry.metadata.name.as_deref(), Some("dry"));
    assert!(
        api.get_opt("dry").await.expect("get").is_none(),
        "dry run stores nothing"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn status_subresource_is_isolated() {
    let (h, c) = setup().await;
    let cls = clusters(&c);
    cls.create(&PostParams::default(), &cluster_obj("s1"))
        .await
        .expect("create");
    let st = cls
        .patch_status(
            "s1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Running"}, "spec": {"version": "9.9.9"}})),
        )
        .await
        .expect("patch_status");
    assert_eq!(st.data["status"]["phase"], "Running");
    assert_eq!(
        st.data["spec"]["version"], "1.28.13",
        "status writes leave spec alone"
    );
    assert_eq!(
        st.metadata.generation,
        Some(1),
        "status writes keep generation"
    );
    // Main-resource writes cannot change status.
    let main = cls
        .patch(
            "s1",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"phase": "Failed"}})),
        )
        .await
        .expect("main patch");
    assert_eq!(main.data["status"]["phase"], "Running");
    assert_eq!(main.metadata.generation, Some(1));
    let got = cls.get_status("s1").await.expect("get_status");
    assert_eq!(got.data["status"]["phase"], "Running");
    // The kube-rs controller idiom: apply status without metadata.
    let applied = cls
        .patch_status(
            "s1",
            &PatchParams::apply("ctl").force(),
            &Patch::Apply(
                json!({"apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
                "status": {"phase": "Upgrading"}}),
            ),
        )
        .await
        .expect("apply status");
    assert_eq!(applied.data["status"]["phase"], "Upgrading");
    assert_eq!(applied.data["spec"]["version"], "1.28.13");
    assert_eq!(applied.metadata.generation, Some(1));
    h.shutdown().await;
}

#[tokio::test]
async fn server_side_apply_with_two_managers() {
    let (h, c) = setup().await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let body = |data: Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"}, "data": data});
    let first = api
        .patch(
            "ssa",
            &PatchParams::apply("alpha"),
            &Patch::Apply(body(json!({"x": "1", "y": "1"}))),
        )
        .await
        .expect("apply creates");
    let mf = first.metadata.managed_fields.clone().unwrap_or_default();
    assert!(
        mf.iter()
            .any(|m| m.manager.as_deref() == Some("alpha")
                && m.operation.as_deref() == Some("Apply"))
    );

    let conflict = api_err(
        api.patch(
            "ssa",
            &PatchParams::apply("beta"),
            &Patch::Apply(body(json!({"x": "2"}))),
        )
        .await
        .expect_err("conflict"),
    );
    assert_eq!(conflict.code, 409);
    assert!(conflict.is_conflict());
    let causes = conflict
        .details
        .as_ref()
        .map(|d| d.causes.clone())
        .unwrap_or_default();
    assert_eq!(causes.len(), 1, "{conflict:?}");
    assert_eq!(causes[0].reason, "FieldManagerConflict");
    assert_eq!(causes[0].field, ".data.x");

    let forced = api
        .patch(
            "ssa",
            &PatchParams::apply("beta").force(),
            &Patch::Apply(body(json!({"x": "2"}))),
        )
        .await
        .expect("force");
    assert_eq!(
        forced
            .data
            .as_ref()
            .and_then(|d| d.get("x"))
            .map(String::as_str),
        Some("2")
    );

    // alpha stops applying y: nobody else owns it, so it is removed; x now belongs to beta.
    let shrunk = api
        .patch(
            "ssa",
            &PatchParams::apply("alpha"),
            &Patch::Apply(body(json!({}))),
        )
        .await
        .expect("alpha shrinks");
    let data = shrunk.data.clone().unwrap_or_default();
    assert_eq!(data.get("x").map(String::as_str), Some("2"));
    assert!(!data.contains_key("y"), "{data:?}");

    // Applying the same configuration again is a no-op.
    let again = api
        .patch(
            "ssa",
            &PatchParams::apply("beta"),
            &Patch::Apply(body(json!({"x": "2"}))),
        )
        .await
        .expect("idempotent");
    assert_eq!(rv_of(&again), rv_of(&shrunk));

    // Apply without a field manager is rejected by the server (raw request: kube
    // refuses to send it).
    let (code, _, text) = raw(
        &c,
        "PATCH",
        "/api/v1/namespaces/default/configmaps/ssa?",
        Some("application/apply-patch+yaml"),
        b"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"ssa\"}}",
    )
    .await;
    assert_eq!(code, 422, "{text}");
    assert_eq!(status_of(&text)["reason"], "Invalid");
    h.shutdown().await;
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let (h, c) = setup().await;
    let cls = clusters(&c);
    let mut o = cluster_obj("fin");
    o.metadata.finalizers = Some(vec!["cluster".into()]);
    cls.create(&PostParams::default(), &o)
        .await
        .expect("create");
    let mut events = cls
        .watch(&WatchParams::default().fields("metadata.name=fin"), "0")
        .await
        .expect("watch")
        .boxed();
    let first = tokio::time::timeout(WAIT, events.try_next())
        .await
        .expect("in time");
    assert!(matches!(first, Ok(Some(WatchEvent::Added(_)))));

    let pending = cls
        .delete("fin", &DeleteParams::default())
        .await
        .expect("delete");
    let kept = pending.left().expect("finalizers keep the object");
    assert!(kept.metadata.deletion_timestamp.is_some());
    assert_eq!(
        kept.metadata.generation,
        Some(2),
        "deletion bumps generation"
    );
    assert!(cls.get_opt("fin").await.expect("get").is_some());

    let e = api_err(
        cls.patch(
            "fin",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["cluster", "more"]}})),
        )
        .await
        .expect_err("no new finalizers while deleting"),
    );
    assert!(e.is_invalid(), "{e:?}");

    cls.patch(
        "fin",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("remove finalizer");
    assert!(cls.get_opt("fin").await.expect("get").is_none());
    let mut saw = Vec::new();
    while saw.len() < 2 {
        match tokio::time::timeout(WAIT, events.try_next())
            .await
            .expect("in time")
        {
            Ok(Some(WatchEvent::Modified(_))) => saw.push("MODIFIED"),
            Ok(Some(WatchEvent::Deleted(o))) => {
                assert!(o.metadata.deletion_timestamp.is_some());
                saw.push("DELETED")
            }
            Ok(Some(WatchEvent::Bookmark(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(saw, ["MODIFIED", "DELETED"]);
    h.shutdown().await;
}

async fn three_configmaps(c: &Client) -> Api<ConfigMap> {
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    for n in ["w1", "w2", "w3"] {
        api.create(&PostParams::default(), &cm(n, &[]))
            .await
            .expect("create");
    }
    api
}

/// Drains watcher events up to and including `InitDone`; returns the names applied.
async fn initial_sync<S>(s: &mut S) -> Vec<String>
where
    S: futures::Stream<Item = Result<watcher::Event<ConfigMap>, watcher::Error>> + Unpin,
{
    let mut names = Vec::new();
    loop {
        let ev = tokio::time::timeout(WAIT, s.next())
            .await
            .expect("initial sync in time")
            .expect("stream open")
            .expect("no error");
        match ev {
            watcher::Event::Init => {}
            watcher::Event::InitApply(o) => names.push(o.metadata.name.unwrap_or_default()),
            watcher::Event::InitDone => return names,
            other => panic!("unexpected during init: {other:?}"),
        }
    }
}

async fn next_apply<S>(s: &mut S) -> String
where
    S: futures::Stream<Item = Result<watcher::Event<ConfigMap>, watcher::Error>> + Unpin,
{
    loop {
        let ev = tokio::time::timeout(WAIT, s.next())
            .await
            .expect("event in time")
            .expect("stream open");
        if let Ok(watcher::Event::Apply(o)) = ev {
            return o.metadata.name.unwrap_or_default();
        }
    }
}

#[tokio::test]
async fn paged_list_watch() {
    let (h, c) = setup().await;
    let api = three_configmaps(&c).await;

    // Pages: same snapshot RV on every page, no continue on the last.
    let p1 = api
        .list(&ListParams::default().limit(2))
        .await
        .expect("page 1");
    let tok = p1.metadata.continue_.clone().expect("continue on page 1");
    api.create(&PostParams::default(), &cm("w0", &[]))
        .await
        .expect("write between pages");
    let p2 = api
        .list(&ListParams::default().limit(2).continue_token(&tok))
        .await
        .expect("page 2");
    assert_eq!(p1.metadata.resource_version, p2.metadata.resource_version);
    assert!(p2.metadata.continue_.as_deref().unwrap_or("").is_empty());
    assert_eq!(p1.items.len() + p2.items.len(), 3);
    api.delete("w0", &DeleteParams::default())
        .await
        .expect("cleanup");

    let mut s = watcher(api.clone(), watcher::Config::default().page_size(1)).boxed();
    let mut names = initial_sync(&mut s).await;
    names.sort();
    assert_eq!(names, ["w1", "w2", "w3"]);
    api.create(&PostParams::default(), &cm("w4", &[]))
        .await
        .expect("create");
    assert_eq!(next_apply(&mut s).await, "w4");
    h.shutdown().await;
}

#[tokio::test]
async fn streaming_list_watch() {
    let (h, c) = setup().await;
    let api = three_configmaps(&c).await;
    let mut s = watcher(api.clone(), watcher::Config::default().streaming_lists()).boxed();
    let mut names = initial_sync(&mut s).await;
    names.sort();
    assert_eq!(names, ["w1", "w2", "w3"]);
    api.create(&PostParams::default(), &cm("w4", &[]))
        .await
        .expect("create");
    assert_eq!(next_apply(&mut s).await, "w4");
    h.shutdown().await;
}

#[tokio::test]
async fn dropped_watches_resume_exactly_once() {
    let (h, c) = setup().await;
    let api = three_configmaps(&c).await;
    let mut s = watcher(api.clone(), watcher::Config::default()).boxed();
    initial_sync(&mut s).await;
    api.create(&PostParams::default(), &cm("before", &[]))
        .await
        .expect("create");
    assert_eq!(next_apply(&mut s).await, "before");

    h.faults().drop_all_watches();
    for i in 0..5 {
        api.create(&PostParams::default(), &cm(&format!("after{i}"), &[]))
            .await
            .expect("create");
    }
    let mut seen = Vec::new();
    while seen.len() < 5 {
        seen.push(next_apply(&mut s).await);
    }
    assert_eq!(seen, ["after0", "after1", "after2", "after3", "after4"]);
    // Nothing is delivered twice: the next event is the next write.
    api.create(&PostParams::default(), &cm("last", &[]))
        .await
        .expect("create");
    assert_eq!(next_apply(&mut s).await, "last");
    h.shutdown().await;
}

#[tokio::test]
async fn compaction_while_disconnected_forces_relist() {
    let (h, c) = setup().await;
    let api = three_configmaps(&c).await;
    let (reader, writer) = reflector::store::<ConfigMap>();
    let mut s = reflector(writer, watcher(api.clone(), watcher::Config::default())).boxed();
    // Initial sync.
    loop {
        let ev = tokio::time::timeout(WAIT, s.next())
            .await
            .expect("sync")
            .expect("open");
        if matches!(ev, Ok(watcher::Event::InitDone)) {
            break;
        }
    }
    assert_eq!(reader.state().len(), 3);

    // Hold the reconnect back while deleting and compacting.
    let faults = h.faults();
    faults.set_latency(Duration::from_millis(700));
    faults.drop_all_watches();
    let store = h.store("global").expect("global");
    store
        .delete(names::CONFIG_MAPS, Some("default"), "w2")
        .expect("delete");
    store
        .create(
            names::CONFIG_MAPS,
            Some("default"),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "w9"}}),
        )
        .expect("create");
    faults.compact_now();
    faults.set_latency(Duration::ZERO);

    let mut saw_410 = false;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = tokio::time::timeout_at(deadline, s.next())
            .await
            .expect("relist in time")
            .expect("open");
        match ev {
            Err(watcher::Error::WatchError(st)) if st.code == 410 => saw_410 = true,
            Ok(watcher::Event::InitDone) if saw_410 => break,
            _ => {}
        }
    }
    let mut got: Vec<String> = reader
        .state()
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    got.sort();
    let mut want: Vec<String> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|o| o.metadata.name)
        .collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(got, ["w1", "w3", "w9"]);
    h.shutdown().await;
}

#[tokio::test]
async fn label_selector_watch_sees_relabels() {
    let (h, c) = setup().await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    api.create(&PostParams::default(), &cm("rl", &[]))
        .await
        .expect("create");
    let mut w = api
        .watch(&WatchParams::default().labels("app=web"), "0")
        .await
        .expect("watch")
        .boxed();
    let label = |v: Value| Patch::Merge(json!({"metadata": {"labels": {"app": v}}}));
    api.patch("rl", &PatchParams::default(), &label(json!("web")))
        .await
        .expect("in");
    api.patch("rl", &PatchParams::default(), &label(json!("db")))
        .await
        .expect("out");
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match tokio::time::timeout(WAIT, w.try_next())
            .await
            .expect("in time")
        {
            Ok(Some(WatchEvent::Added(o))) => seen.push(("ADDED", rv_of(&o))),
            Ok(Some(WatchEvent::Deleted(o))) => {
                // The DELETED event carries the last matching content with the new RV.
                assert_eq!(
                    o.metadata
                        .labels
                        .as_ref()
                        .and_then(|l| l.get("app"))
                        .map(String::as_str),
                    Some("web")
                );
                seen.push(("DELETED", rv_of(&o)))
            }
            Ok(Some(WatchEvent::Bookmark(_))) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen[0].0, "ADDED");
    assert_eq!(seen[1].0, "DELETED");
    let now = api.get("rl").await.expect("get");
    assert_eq!(seen[1].1, rv_of(&now));
    h.shutdown().await;
}

#[tokio::test]
async fn bad_input_gets_exact_status() {
    let (h, c) = setup().await;
    let cms = "/api/v1/namespaces/default/configmaps";
    let check = |code: u16, reason: &str, got: (u16, String, String)| {
        assert_eq!(got.0, code, "{}", got.2);
        assert_eq!(status_of(&got.2)["reason"], reason, "{}", got.2);
        assert_eq!(status_of(&got.2)["code"], code);
    };
    check(
        400,
        "BadRequest",
        raw(
            &c,
            "POST",
            &format!("{cms}?"),
            Some("application/json"),
            b"{not json",
        )
        .await,
    );
    check(
        400,
        "BadRequest",
        raw(
            &c,
            "POST",
            cms,
            Some("application/json"),
            br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"x"}}"#,
        )
        .await,
    );
    check(
        400,
        "BadRequest",
        raw(
            &c,
            "GET",
            &format!("{cms}?labelSelector=app%20in%20(web"),
            None,
            b"",
        )
        .await,
    );
    check(
        400,
        "BadRequest",
        raw(
            &c,
            "GET",
            &format!("{cms}?fieldSelector=spec.x%3D1"),
            None,
            b"",
        )
        .await,
    );
    check(
        422,
        "Invalid",
        raw(
            &c,
            "POST",
            cms,
            Some("application/json"),
            br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}"#,
        )
        .await,
    );
    check(
        404,
        "NotFound",
        raw(
            &c,
            "POST",
            "/api/v1/namespaces/nope/configmaps",
            Some("application/json"),
            br#"{"metadata":{"name":"x"}}"#,
        )
        .await,
    );
    raw(
        &c,
        "POST",
        cms,
        Some("application/json"),
        br#"{"metadata":{"name":"s"}}"#,
    )
    .await;
    check(
        409,
        "Conflict",
        raw(
            &c,
            "PUT",
            &format!("{cms}/s"),
            Some("application/json"),
            br#"{"metadata":{"name":"s","resourceVersion":"1"},"data":{"a":"b"}}"#,
        )
        .await,
    );
    check(
        415,
        "UnsupportedMediaType",
        raw(
            &c,
            "PATCH",
            "/apis/platform.tkestack.io/v1/clusters/x",
            Some("application/strategic-merge-patch+json"),
            b"{}",
        )
        .await,
    );
    check(
        410,
        "Expired",
        raw(
            &c,
            "GET",
            &format!("{cms}?limit=1&continue=eyJydiI6MSwibnMiOiIiLCJuYW1lIjoiIn0"),
            None,
            b"",
        )
        .await,
    );
    check(
        422,
        "Invalid",
        raw(
            &c,
            "GET",
            &format!("{cms}?watch=true&sendInitialEvents=true&resourceVersion=0"),
            None,
            b"",
        )
        .await,
    );
    check(
        405,
        "MethodNotAllowed",
        raw(
            &c,
            "GET",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            None,
            b"",
        )
        .await,
    );

    // A path nobody serves: plain-text 404 like a real apiserver.
    let (code, ct, text) = raw(&c, "GET", "/apis/example.com/v1/widgets", None, b"").await;
    assert_eq!(
        (code, ct.as_str(), text.trim()),
        (404, "text/plain; charset=utf-8", "404 page not found")
    );
    let widgets: Api<DynamicObject> = Api::all_with(
        c.clone(),
        &ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk("example.com", "v1", "Widget"),
            "widgets",
        ),
    );
    assert!(
        widgets.get_opt("x").await.is_err(),
        "missing CRD is an error, not Ok(None)"
    );

    // A too-old RV on watch: HTTP 200 with one in-stream ERROR 410.
    h.store("global").expect("global").compact();
    let (code, _, text) = raw(
        &c,
        "GET",
        &format!("{cms}?watch=true&resourceVersion=1&timeoutSeconds=5"),
        None,
        b"",
    )
    .await;
    assert_eq!(code, 200);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let ev: Value = serde_json::from_str(lines[0]).expect("json line");
    assert_eq!(ev["type"], "ERROR");
    assert_eq!(ev["object"]["code"], 410);
    assert_eq!(ev["object"]["reason"], "Expired");

    // Unknown cluster and missing token.
    let other = client_for(&h, "nowhere", TOKEN).await;
    let (code, _, text) = raw(&other, "GET", "/api/v1/namespaces", None, b"").await;
    assert_eq!(code, 404);
    assert_eq!(status_of(&text)["reason"], "NotFound");
    let anon = client_for(&h, "global", "wrong-token").await;
    let (code, _, text) = raw(&anon, "GET", "/api/v1/namespaces", None, b"").await;
    assert_eq!(code, 401);
    assert_eq!(status_of(&text)["reason"], "Unauthorized");
    h.shutdown().await;
}

#[tokio::test]
async fn discovery_legacy_and_aggregated() {
    let (h, c) = setup().await;
    let v = c.apiserver_version().await.expect("version");
    assert_eq!(v.major, "1");
    let d = kube::discovery::Discovery::new(c.clone())
        .run()
        .await
        .expect("legacy discovery");
    let (ar, caps) = d
        .resolve_gvk(&GroupVersionKind::gvk(
            "platform.tkestack.io",
            "v1",
            "Cluster",
        ))
        .expect("clusters discovered");
    assert_eq!(ar.plural, "clusters");
    assert_eq!(caps.scope, kube::discovery::Scope::Cluster);
    assert!(
        caps.subresources
            .iter()
            .any(|(s, _)| s.plural == "clusters/status" || s.plural == "status")
    );
    let (cm_ar, cm_caps) = d
        .resolve_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
        .expect("configmaps discovered");
    assert_eq!(cm_ar.plural, "configmaps");
    assert_eq!(cm_caps.scope, kube::discovery::Scope::Namespaced);

    let agg = kube::discovery::Discovery::new(c.clone())
        .run_aggregated()
        .await
        .expect("aggregated discovery");
    assert!(
        agg.resolve_gvk(&GroupVersionKind::gvk(
            "cluster.alauda.io",
            "v1alpha1",
            "EtcdEncryptionConfig"
        ))
        .is_some()
    );
    assert!(
        agg.resolve_gvk(&GroupVersionKind::gvk("", "v1", "Namespace"))
            .is_some()
    );

    let pinned = kube::discovery::pinned_kind(
        &c,
        &GroupVersionKind::gvk("platform.tkestack.io", "v1", "Machine"),
    )
    .await
    .expect("pinned kind");
    assert_eq!(pinned.0.plural, "machines");
    h.shutdown().await;
}

#[tokio::test]
async fn workload_clusters_come_and_go() {
    let (h, _) = setup().await;
    h.add_cluster("c1");
    let c1 = client_for(&h, "c1", TOKEN).await;
    let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(c1.clone());
    let mut names: Vec<String> = ns
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["cpaas-system", "default", "kube-public", "kube-system"]
    );
    let (code, _, _) = raw(
        &c1,
        "GET",
        "/apis/platform.tkestack.io/v1/clusters",
        None,
        b"",
    )
    .await;
    assert_eq!(code, 404, "platform kinds live in global only");
    let (code, _, _) = raw(
        &c1,
        "GET",
        "/apis/cluster.alauda.io/v1alpha1/etcdencryptionconfigs",
        None,
        b"",
    )
    .await;
    assert_eq!(code, 200);
    let mut w = ns
        .watch(&WatchParams::default().timeout(290), "0")
        .await
        .expect("watch")
        .boxed();
    let first = tokio::time::timeout(WAIT, w.try_next())
        .await
        .expect("in time");
    assert!(
        matches!(first, Ok(Some(WatchEvent::Added(_)))),
        "the watch is live"
    );
    h.remove_cluster("c1");
    let ended = tokio::time::timeout(WAIT, async {
        while let Ok(Some(_)) = w.try_next().await {}
    })
    .await;
    assert!(ended.is_ok(), "removing the cluster ends its watches");
    let (code, _, text) = raw(&c1, "GET", "/api/v1/namespaces", None, b"").await;
    assert_eq!(code, 404);
    assert_eq!(status_of(&text)["reason"], "NotFound");
    h.shutdown().await;
}

#[tokio::test]
async fn field_selectors_and_injected_failures() {
    let (h, c) = setup().await;
    let ar = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("platform.tkestack.io", "v1", "ClusterCredential"),
        "clustercredentials",
    );
    let cc: Api<DynamicObject> = Api::all_with(c.clone(), &ar);
    for (n, cl) in [("cc-a", "one"), ("cc-b", "two")] {
        let o: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "platform.tkestack.io/v1", "kind": "ClusterCredential",
            "metadata": {"name": n}, "clusterName": cl, "tenantID": "default"}))
        .expect("object");
        cc.create(&PostParams::default(), &o).await.expect("create");
    }
    let l = cc
        .list(&ListParams::default().fields("clusterName=two"))
        .await
        .expect("list");
    assert_eq!(l.items.len(), 1);
    assert_eq!(l.items[0].metadata.name.as_deref(), Some("cc-b"));

    h.faults().fail_next(1);
    let e = api_err(cc.get("cc-a").await.expect_err("injected"));
    assert_eq!(e.code, 500);
    assert!(
        cc.get("cc-a").await.is_ok(),
        "only one failure was injected"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn metadata_and_table_representations() {
    let (h, c) = setup().await;
    let api = three_configmaps(&c).await;
    let metas = api
        .list_metadata(&ListParams::default())
        .await
        .expect("list_metadata");
    let mut names: Vec<String> = metas
        .items
        .iter()
        .filter_map(|m| m.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["w1", "w2", "w3"]);
    let one = api.get_metadata("w2").await.expect("get_metadata");
    assert_eq!(one.metadata.name.as_deref(), Some("w2"));

    let send = |path: &str| {
        http::Request::builder()
            .uri(path)
            .header(
                "accept",
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
            )
            .body(kube::client::Body::empty())
            .expect("request")
    };
    let resp = c
        .send(send("/api/v1/namespaces/default/configmaps"))
        .await
        .expect("table list");
    assert_eq!(resp.status().as_u16(), 200);
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    let table: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["columnDefinitions"][0]["name"], "Name");
    assert_eq!(table["rows"].as_array().map(Vec::len), Some(3));
    assert_eq!(table["rows"][0]["cells"][0], "w1");

    let resp = c
        .send(send(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=0&timeoutSeconds=1",
        ))
        .await
        .expect("table watch");
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .expect("body")
        .to_bytes();
    let lines: Vec<Value> = String::from_utf8_lossy(&bytes)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["object"]["kind"], "Table");
    assert!(
        lines[0]["object"]["columnDefinitions"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(
        lines[1]["object"]["columnDefinitions"]
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    h.shutdown().await;
}

#[tokio::test]
async fn bookmarks_carry_type_meta_and_mark_the_end_of_initial_events() {
    common::crypto();
    let h = apiserver::start(ApiServerConfig {
        users: vec![TokenUser::new(TOKEN, "admin", &["system:masters"])],
        bookmark_interval: Duration::from_millis(200),
        ..ApiServerConfig::default()
    })
    .await
    .expect("start");
    let c = client_for(&h, "global", TOKEN).await;
    three_configmaps(&c).await;
    let (code, ct, text) = raw(
        &c,
        "GET",
        "/api/v1/namespaces/default/configmaps?&watch=true&timeoutSeconds=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=0",
        None,
        b"",
    )
    .await;
    assert_eq!((code, ct.as_str()), (200, "application/json"));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one compact JSON object per line"))
        .collect();
    let types: Vec<&str> = lines.iter().filter_map(|l| l["type"].as_str()).collect();
    assert_eq!(
        &types[..4],
        ["ADDED", "ADDED", "ADDED", "BOOKMARK"],
        "{text}"
    );
    assert!(types.len() >= 5, "periodic bookmarks follow: {text}");
    let end = &lines[3]["object"];
    assert_eq!(end["kind"], "ConfigMap");
    assert_eq!(end["apiVersion"], "v1");
    assert_eq!(
        end["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );
    let snapshot_rv: u64 = end["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("rv");
    for l in &lines[..3] {
        assert_eq!(
            l["object"]["kind"], "ConfigMap",
            "watch objects carry type meta"
        );
        let rv: u64 = l["object"]["metadata"]["resourceVersion"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("rv");
        assert!(rv <= snapshot_rv);
    }
    for l in &lines[4..] {
        assert_eq!(l["type"], "BOOKMARK");
        assert_eq!(l["object"]["kind"], "ConfigMap");
        assert!(l["object"]["metadata"].get("annotations").is_none());
    }
    h.shutdown().await;
}

#[tokio::test]
async fn delete_collection_honours_selectors_and_finalizers() {
    let (h, c) = setup().await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    for (n, app) in [("d1", "a"), ("d2", "a"), ("d3", "b")] {
        let mut o = cm(n, &[]);
        o.metadata.labels = Some([("app".to_string(), app.to_string())].into());
        if n == "d2" {
            o.metadata.finalizers = Some(vec!["example.com/hold".into()]);
        }
        api.create(&PostParams::default(), &o)
            .await
            .expect("create");
    }
    let out = api
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("app=a"),
        )
        .await
        .expect("deletecollection");
    let list = out.left().expect("a list of what was deleted");
    let mut names: Vec<String> = list
        .items
        .iter()
        .filter_map(|o| o.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["d1", "d2"]);
    assert!(api.get_opt("d1").await.expect("get").is_none());
    let held = api.get("d2").await.expect("finalizer keeps d2");
    assert!(held.metadata.deletion_timestamp.is_some());
    assert!(
        api.get_opt("d3").await.expect("get").is_some(),
        "selector spares d3"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn exact_lists_at_older_versions() {
    let (h, c) = setup().await;
    let api = three_configmaps(&c).await;
    let rv = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .metadata
        .resource_version
        .expect("rv");
    let store = h.store("global").expect("global");
    store
        .create(
            names::SECRETS,
            Some("default"),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "other-kind"}}),
        )
        .expect("unrelated write");
    let exact = ListParams::default()
        .at(&rv)
        .matching(kube::api::VersionMatch::Exact);
    let l = api
        .list(&exact)
        .await
        .expect("configmaps unchanged since rv");
    assert_eq!(l.metadata.resource_version.as_deref(), Some(rv.as_str()));
    assert_eq!(l.items.len(), 3);
    api.create(&PostParams::default(), &cm("newer", &[]))
        .await
        .expect("create");
    let e = api_err(api.list(&exact).await.expect_err("changed since"));
    assert_eq!(e.code, 410);
    assert_eq!(e.reason, "Expired");
    h.shutdown().await;
}

#[tokio::test]
async fn injected_watch_errors_reach_the_watcher() {
    let (h, c) = setup().await;
    let api = three_configmaps(&c).await;
    let mut s = watcher(api.clone(), watcher::Config::default()).boxed();
    initial_sync(&mut s).await;
    // Make sure the watch request is open before injecting.
    api.create(&PostParams::default(), &cm("open", &[]))
        .await
        .expect("create");
    assert_eq!(next_apply(&mut s).await, "open");

    h.faults().inject_watch_error(500);
    let ev = tokio::time::timeout(WAIT, s.next())
        .await
        .expect("in time")
        .expect("open");
    match ev {
        Err(watcher::Error::WatchError(st)) => assert_eq!(st.code, 500),
        other => panic!("expected the injected error, got {other:?}"),
    }
    api.create(&PostParams::default(), &cm("still", &[]))
        .await
        .expect("create");
    assert_eq!(
        next_apply(&mut s).await,
        "still",
        "a non-410 error keeps the stream"
    );

    h.faults().inject_watch_error(410);
    let ev = tokio::time::timeout(WAIT, s.next())
        .await
        .expect("in time")
        .expect("open");
    assert!(
        matches!(ev, Err(watcher::Error::WatchError(ref st)) if st.code == 410),
        "{ev:?}"
    );
    let mut names = initial_sync(&mut s).await;
    names.sort();
    assert_eq!(
        names,
        ["open", "still", "w1", "w2", "w3"],
        "410 makes the watcher relist"
    );
    h.shutdown().await;
}
