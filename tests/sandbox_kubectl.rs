//! The sandbox API server as an outside client sees it: kubectl (from `KUBECTL`, else
//! `kubectl` on PATH; `scripts/test.sh` installs one when missing) and the kube client run
//! against a server started in-process. These tests fail, rather than skip, when kubectl is
//! missing: proving that the sandbox speaks Kubernetes is their whole point.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use acp_cockpit::sandbox::apiserver::{self, ApiServerConfig, ApiServerHandle, TokenUser, names};
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const ADMIN_TOKEN: &str = "sandbox-kubectl-test-admin";
const VIEWER_TOKEN: &str = "sandbox-kubectl-test-viewer";
const SA: &str = "system:serviceaccount:my-ns:default";
/// Bounded wait for any single kubectl step.
const STEP: Duration = Duration::from_secs(60);

struct Env {
    server: ApiServerHandle,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

fn kubectl_path() -> String {
    std::env::var("KUBECTL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "kubectl".to_string())
}

fn kubeconfig_yaml(server: &str, ca_pem: &str, token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: global\n  cluster:\n    server: {server}\n    \
         certificate-authority-data: {ca}\ncontexts:\n- name: sandbox\n  context:\n    cluster: global\n    \
         user: admin\n    namespace: default\nusers:\n- name: admin\n  user:\n    token: {token}\n\
         current-context: sandbox\n"
    )
}

async fn setup() -> Env {
    let server = apiserver::start(ApiServerConfig {
        users: vec![
            TokenUser::new(ADMIN_TOKEN, "admin", &["system:masters"]),
            TokenUser::new(VIEWER_TOKEN, "viewer", &[]),
        ],
        ..ApiServerConfig::default()
    })
    .await
    .expect("start the sandbox API server");
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        kubeconfig_yaml(&server.cluster_url("global"), server.ca_pem(), ADMIN_TOKEN),
    )
    .expect("write kubeconfig");
    seed(&server);
    Env {
        server,
        dir,
        kubeconfig,
    }
}

/// A cluster, two namespaces and RBAC for `my-ns/default`: it may read clusters everywhere
/// and read (not write) configmaps in `my-ns` only.
fn seed(server: &ApiServerHandle) {
    let g = server.store("global").expect("global store");
    g.create(
        names::CLUSTERS,
        None,
        json!({"apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
               "metadata": {"name": "demo"},
               "spec": {"type": "Baremetal", "version": "1.30.5", "clusterCIDR": "10.16.0.0/16"}}),
    )
    .expect("create cluster demo");
    for ns in ["my-ns", "other"] {
        g.create(
            names::NAMESPACES,
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .expect("create namespace");
    }
    g.create(
        names::CLUSTER_ROLES,
        None,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "cluster-viewer"},
               "rules": [{"apiGroups": ["platform.tkestack.io"], "resources": ["clusters"],
                          "verbs": ["get", "list", "watch"]}]}),
    )
    .expect("create clusterrole");
    g.create(
        names::CLUSTER_ROLE_BINDINGS,
        None,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "sa-cluster-viewer"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-viewer"},
               "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "my-ns"}]}),
    )
    .expect("create clusterrolebinding");
    g.create(
        names::ROLES,
        Some("my-ns"),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"name": "cm-reader", "namespace": "my-ns"},
               "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}),
    )
    .expect("create role");
    g.create(
        names::ROLE_BINDINGS,
        Some("my-ns"),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "sa-cm-reader", "namespace": "my-ns"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-reader"},
               "subjects": [{"kind": "ServiceAccount", "name": "default"}]}),
    )
    .expect("create rolebinding");
}

/// Where kubectl finds its kubeconfig and keeps its discovery cache.
trait KubectlFiles {
    fn kubeconfig(&self) -> &Path;
    fn dir(&self) -> &Path;
}

impl KubectlFiles for Env {
    fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }
    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn kubectl(env: &dyn KubectlFiles) -> Command {
    let mut c = Command::new(kubectl_path());
    c.arg("--kubeconfig")
        .arg(env.kubeconfig())
        .arg("--cache-dir")
        .arg(env.dir().join("cache"))
        .env("KUBECONFIG", env.kubeconfig())
        // A proxy inherited from the environment must not capture loopback traffic.
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

async fn run(env: &dyn KubectlFiles, args: &[&str]) -> Output {
    let mut c = kubectl(env);
    c.args(args);
    match tokio::time::timeout(STEP, c.output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => panic!(
            "cannot run kubectl ({}): {e}. Run scripts/test.sh, which installs one, or set \
             KUBECTL to a kubectl binary",
            kubectl_path()
        ),
        Err(_) => panic!("kubectl {args:?} did not finish within {STEP:?}"),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn ok(env: &dyn KubectlFiles, args: &[&str]) -> String {
    let out = run(env, args).await;
    assert!(
        out.status.success(),
        "kubectl {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_clusters_by_name_and_short_name() {
    let env = setup().await;
    let table = ok(&env, &["get", "clusters.platform.tkestack.io"]).await;
    let mut lines = table.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.contains("NAME"), "{table}");
    assert!(lines.any(|l| l.starts_with("demo")), "{table}");

    let json_out = ok(&env, &["get", "cls", "-o", "json"]).await;
    let list: Value = serde_json::from_str(&json_out).expect("kubectl -o json prints JSON");
    let names: Vec<&str> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, vec!["demo"]);
    assert_eq!(list["items"][0]["spec"]["clusterCIDR"], "10.16.0.0/16");

    let name = ok(&env, &["get", "cls", "demo", "-o", "name"]).await;
    assert_eq!(name.trim(), "cluster.platform.tkestack.io/demo");

    let missing = run(&env, &["get", "cls", "nope"]).await;
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("clusters.platform.tkestack.io \"nope\" not found"),
        "{}",
        text(&missing.stderr)
    );
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_watch_receives_a_live_change() {
    let env = setup().await;
    let mut c = kubectl(&env);
    c.args(["get", "cls", "-w", "-o", "name"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot run kubectl ({}): {e}. Run scripts/test.sh, which installs one",
            kubectl_path()
        )
    });
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let first = next(&mut lines).await;
    assert_eq!(first.trim(), "cluster.platform.tkestack.io/demo");

    let g = env.server.store("global").expect("global store");
    g.create(
        names::CLUSTERS,
        None,
        json!({"apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
               "metadata": {"name": "late"}, "spec": {"type": "Baremetal", "version": "1.30.5"}}),
    )
    .expect("create cluster late");
    let second = next(&mut lines).await;
    assert_eq!(second.trim(), "cluster.platform.tkestack.io/late");

    let _ = child.start_kill();
    let _ = child.wait().await;
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_apply_server_side_creates_then_updates() {
    let env = setup().await;
    let file = env.dir.path().join("cluster.yaml");
    let manifest = |version: &str| {
        format!(
            "apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata:\n  name: applied\n  \
             labels:\n    team: sre\nspec:\n  type: Baremetal\n  version: {version}\n  \
             clusterCIDR: 10.20.0.0/16\n"
        )
    };
    std::fs::write(&file, manifest("1.30.5")).expect("write manifest");
    let path = file.to_string_lossy().into_owned();
    let out = ok(&env, &["apply", "--server-side", "-f", &path]).await;
    assert_eq!(
        out.trim(),
        "cluster.platform.tkestack.io/applied serverside-applied"
    );
    let g = env.server.store("global").expect("global store");
    let obj = g.get(names::CLUSTERS, None, "applied").expect("applied");
    assert_eq!(obj["spec"]["version"], "1.30.5");
    assert_eq!(obj["metadata"]["labels"]["team"], "sre");
    let managers: Vec<&str> = obj["metadata"]["managedFields"]
        .as_array()
        .map(|m| m.iter().filter_map(|e| e["manager"].as_str()).collect())
        .unwrap_or_default();
    assert!(managers.contains(&"kubectl"), "{managers:?}");

    std::fs::write(&file, manifest("1.31.1")).expect("write manifest");
    let out = ok(&env, &["apply", "--server-side", "-f", &path]).await;
    assert_eq!(
        out.trim(),
        "cluster.platform.tkestack.io/applied serverside-applied"
    );
    let obj = g.get(names::CLUSTERS, None, "applied").expect("applied");
    assert_eq!(obj["spec"]["version"], "1.31.1");
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_auth_can_i_as_a_service_account() {
    let env = setup().await;
    let as_sa = format!("--as={SA}");
    let cases: &[(&[&str], bool)] = &[
        (&["list", "clusters.platform.tkestack.io"], true),
        (&["get", "cls/demo"], true),
        (&["delete", "clusters.platform.tkestack.io"], false),
        (&["create", "clusters.platform.tkestack.io"], false),
        (&["list", "configmaps", "-n", "my-ns"], true),
        (&["create", "configmaps", "-n", "my-ns"], false),
        (&["list", "configmaps", "-n", "other"], false),
    ];
    for (args, want) in cases {
        let mut full = vec!["auth", "can-i"];
        full.extend_from_slice(args);
        full.push(&as_sa);
        let out = run(&env, &full).await;
        let answer = text(&out.stdout);
        let first = answer.lines().next().unwrap_or_default().trim().to_string();
        assert_eq!(
            first.starts_with("yes"),
            *want,
            "kubectl {full:?} answered {answer:?} (stderr {})",
            text(&out.stderr)
        );
        assert_eq!(
            out.status.success(),
            *want,
            "exit status of kubectl {full:?}"
        );
    }
    // The admin (system:masters) may do anything.
    assert_eq!(
        ok(&env, &["auth", "can-i", "delete", "cls"]).await.trim(),
        "yes"
    );

    // What can-i says is what the real request gets.
    ok(&env, &["get", "cls", &as_sa]).await;
    let denied = run(&env, &["delete", "cls", "demo", &as_sa]).await;
    assert!(!denied.status.success());
    assert!(
        text(&denied.stderr).contains(
            "clusters.platform.tkestack.io \"demo\" is forbidden: User \
             \"system:serviceaccount:my-ns:default\" cannot delete resource \"clusters\" in API \
             group \"platform.tkestack.io\" at the cluster scope"
        ),
        "{}",
        text(&denied.stderr)
    );
    let denied = run(&env, &["get", "configmaps", "-n", "other", &as_sa]).await;
    assert!(
        text(&denied.stderr).contains("in the namespace \"other\""),
        "{}",
        text(&denied.stderr)
    );
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_api_resources_lists_acp_kinds() {
    let env = setup().await;
    let out = ok(&env, &["api-resources", "--api-group=platform.tkestack.io"]).await;
    let row = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some("clusters"))
        .unwrap_or_else(|| panic!("no clusters row in:\n{out}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cols,
        vec![
            "clusters",
            "cls",
            "platform.tkestack.io/v1",
            "false",
            "Cluster"
        ]
    );
    let all = ok(&env, &["api-resources", "-o", "name"]).await;
    for want in [
        "configmaps",
        "clusterrolebindings.rbac.authorization.k8s.io",
        "selfsubjectaccessreviews.authorization.k8s.io",
        "machines.platform.tkestack.io",
    ] {
        assert!(
            all.lines().any(|l| l == want),
            "{want} missing from:\n{all}"
        );
    }
    env.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_explain_cluster_spec() {
    let env = setup().await;
    let out = ok(&env, &["explain", "cls.spec"]).await;
    assert!(out.contains("KIND:") && out.contains("Cluster"), "{out}");
    assert!(out.contains("platform.tkestack.io"), "{out}");
    assert!(out.contains("clusterCIDR"), "{out}");
    // Every field of the schema must render, free-form ones included.
    let out = ok(&env, &["explain", "cls", "--recursive"]).await;
    assert!(out.contains("machines"), "{out}");
    let out = ok(&env, &["explain", "configmaps.data"]).await;
    assert!(out.contains("ConfigMap"), "{out}");
    // Every served kind's schema renders completely.
    for (resource, api_version) in [
        ("machines", "platform.tkestack.io/v1"),
        ("clustercredentials", "platform.tkestack.io/v1"),
        ("etcdencryptionconfigs", "cluster.alauda.io/v1alpha1"),
        ("namespaces", "v1"),
        ("nodes", "v1"),
        ("services", "v1"),
        ("secrets", "v1"),
        ("serviceaccounts", "v1"),
        ("clusterrolebindings", "rbac.authorization.k8s.io/v1"),
        ("ingresses", "networking.k8s.io/v1"),
    ] {
        let flag = format!("--api-version={api_version}");
        let out = ok(&env, &["explain", resource, &flag, "--recursive"]).await;
        assert!(out.contains("FIELDS:"), "{resource}: {out}");
    }
    env.server.shutdown().await;
}

type ChildLines = tokio::io::Lines<BufReader<tokio::process::ChildStdout>>;

/// The next line kubectl prints, within [`STEP`].
async fn next(lines: &mut ChildLines) -> String {
    match tokio::time::timeout(STEP, lines.next_line()).await {
        Ok(Ok(Some(l))) => l,
        Ok(Ok(None)) => panic!("kubectl -w ended before printing the expected line"),
        Ok(Err(e)) => panic!("reading kubectl -w output: {e}"),
        Err(_) => panic!("kubectl -w printed nothing within {STEP:?}"),
    }
}

/// A kube client for `global` that acts as `user` (through impersonation when set).
async fn kube_client(env: &Env, user: Option<&str>) -> kube::Client {
    common::crypto();
    let yaml = std::fs::read_to_string(&env.kubeconfig).expect("read kubeconfig");
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).expect("parse kubeconfig");
    let mut cfg =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .expect("client config");
    cfg.proxy_url = None;
    cfg.auth_info.impersonate = user.map(str::to_string);
    kube::Client::try_from(cfg).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impersonation_requires_the_impersonate_verb() {
    use kube::api::{Api, DynamicObject, ListParams};
    use kube::discovery::ApiResource;

    let env = setup().await;
    let admin_as_sa = kube_client(&env, Some(SA)).await;
    let yaml = std::fs::read_to_string(&env.kubeconfig).expect("read kubeconfig");
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).expect("parse kubeconfig");
    let mut cfg =
        kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
            .await
            .expect("client config");
    cfg.proxy_url = None;
    cfg.auth_info.token = Some(VIEWER_TOKEN.to_string().into());
    cfg.auth_info.impersonate = Some(SA.to_string());
    let viewer_as_sa = kube::Client::try_from(cfg).expect("client");
    let res = ApiResource {
        group: "platform.tkestack.io".into(),
        version: "v1".into(),
        api_version: "platform.tkestack.io/v1".into(),
        kind: "Cluster".into(),
        plural: "clusters".into(),
    };
    let list = |c: &kube::Client| {
        let api: Api<DynamicObject> = Api::all_with(c.clone(), &res);
        async move { api.list(&ListParams::default()).await }
    };
    match list(&viewer_as_sa).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(s.code, 403);
            assert_eq!(
                s.message,
                "serviceaccounts \"default\" is forbidden: User \"viewer\" cannot impersonate \
                 resource \"serviceaccounts\" in API group \"\" in the namespace \"my-ns\""
            );
        }
        other => panic!("impersonation without the verb must be refused, got {other:?}"),
    }
    // The admin (system:masters) may impersonate; the service account may list clusters.
    assert!(list(&admin_as_sa).await.is_ok());

    let g = env.server.store("global").expect("global store");
    g.create(
        names::CLUSTER_ROLES,
        None,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "sa-impersonator"},
               "rules": [{"apiGroups": [""], "resources": ["serviceaccounts"],
                          "resourceNames": ["default"], "verbs": ["impersonate"]}]}),
    )
    .expect("create clusterrole");
    g.create(
        names::ROLE_BINDINGS,
        Some("my-ns"),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "viewer-impersonates", "namespace": "my-ns"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "sa-impersonator"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "viewer"}]}),
    )
    .expect("create rolebinding");
    let listed = list(&viewer_as_sa)
        .await
        .expect("viewer may now act as the SA");
    assert_eq!(listed.items.len(), 1);
    env.server.shutdown().await;
}

struct PlatformFiles {
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl KubectlFiles for PlatformFiles {
    fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }
    fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// The whole sandbox platform (scenario, controllers, restricted user) through kubectl.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_against_the_sandbox_platform() {
    use acp_cockpit::sandbox::{Platform, SandboxOptions, kubeconfig};

    let platform = Platform::start(SandboxOptions::default())
        .await
        .expect("start the sandbox platform");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kubeconfig");
    kubeconfig::write(platform.kubeconfig(), &path).expect("write kubeconfig");
    let files = PlatformFiles {
        dir,
        kubeconfig: path,
    };

    let listed = ok(&files, &["get", "cls", "-o", "name"]).await;
    let mut want: Vec<String> = platform
        .scenario()
        .clusters
        .iter()
        .map(|c| format!("cluster.platform.tkestack.io/{}", c.name))
        .collect();
    want.sort();
    let mut got: Vec<String> = listed.lines().map(str::to_string).collect();
    got.sort();
    assert_eq!(got, want);

    // The restricted user reads clusters but may not change them, and both kubectl and the
    // server say so.
    let viewer = format!("--context={}", kubeconfig::VIEWER_CONTEXT);
    assert_eq!(
        ok(&files, &[&viewer, "auth", "can-i", "list", "cls"])
            .await
            .trim(),
        "yes"
    );
    let no = run(&files, &[&viewer, "auth", "can-i", "create", "cls"]).await;
    assert_eq!(text(&no.stdout).trim(), "no");
    assert!(!no.status.success());
    let name = want[0].rsplit('/').next().unwrap_or_default().to_string();
    let denied = run(&files, &[&viewer, "delete", "cls", &name]).await;
    assert!(
        text(&denied.stderr).contains("is forbidden: User \"viewer\" cannot delete resource"),
        "{}",
        text(&denied.stderr)
    );

    // Pull rights through the seeded cross-namespace binding (what ACP's registry guide
    // checks with `kubectl auth can-i get images.registry.alauda.io --as=...`). kubectl can
    // only send that review with the right API group when the server lists the resource in
    // discovery, so the review is sent with the kube client here.
    let mut cfg = kube::Config::from_custom_kubeconfig(
        platform.kubeconfig().clone(),
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("client config");
    cfg.proxy_url = None;
    cfg.auth_info.impersonate = Some(SA.to_string());
    let as_sa = kube::Client::try_from(cfg).expect("client");
    let pull = |ns: &str| json!({"verb": "get", "group": "registry.alauda.io", "resource": "images", "namespace": ns});
    let (allowed, reason) = ssar(&as_sa, pull("shared-ns")).await;
    assert!(allowed, "{reason}");
    assert_eq!(
        reason,
        "RBAC: allowed by RoleBinding \"cross-ns-pull/shared-ns\" of ClusterRole \
         \"system:image-puller\" to ServiceAccount \"default/my-ns\""
    );
    let (allowed, reason) = ssar(&as_sa, pull("legacy-ns")).await;
    assert!(!allowed, "{reason}");
    platform.shutdown().await;
}

/// What a SelfSubjectAccessReview answers for `attrs` as the client's user.
async fn ssar(client: &kube::Client, attrs: Value) -> (bool, String) {
    use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
    let api: kube::Api<SelfSubjectAccessReview> = kube::Api::all(client.clone());
    let review: SelfSubjectAccessReview = serde_json::from_value(json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "metadata": {}, "spec": {"resourceAttributes": attrs},
    }))
    .expect("review");
    let out = api
        .create(&kube::api::PostParams::default(), &review)
        .await
        .expect("create SSAR");
    let status = out.status.expect("status");
    (status.allowed, status.reason.unwrap_or_default())
}

fn outcome<T>(r: Result<T, kube::Error>) -> bool {
    match r {
        Ok(_) => true,
        Err(kube::Error::Api(s)) if s.code == 403 => false,
        Err(e) => panic!("expected success or 403, got {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssar_agrees_with_the_real_request() {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, DeleteParams, DynamicObject, ListParams, PostParams};
    use kube::discovery::ApiResource;

    let env = setup().await;
    let g = env.server.store("global").expect("global store");
    for ns in ["my-ns", "other"] {
        g.create(
            names::CONFIG_MAPS,
            Some(ns),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns}}),
        )
        .expect("create configmap");
    }
    let cluster_res = ApiResource {
        group: "platform.tkestack.io".into(),
        version: "v1".into(),
        api_version: "platform.tkestack.io/v1".into(),
        kind: "Cluster".into(),
        plural: "clusters".into(),
    };
    for user in [Some(SA), None] {
        let client = kube_client(&env, user).await;
        let clusters: Api<DynamicObject> = Api::all_with(client.clone(), &cluster_res);
        let cms = |ns: &str| -> Api<ConfigMap> { Api::namespaced(client.clone(), ns) };
        let new_cm: ConfigMap =
            serde_json::from_value(json!({"metadata": {"name": "new"}})).expect("configmap");

        let checks: Vec<(Value, bool)> = vec![
            (
                json!({"verb": "list", "group": "platform.tkestack.io", "resource": "clusters"}),
                outcome(clusters.list(&ListParams::default()).await),
            ),
            (
                json!({"verb": "get", "group": "platform.tkestack.io", "resource": "clusters", "name": "demo"}),
                outcome(clusters.get("demo").await),
            ),
            (
                json!({"verb": "get", "namespace": "my-ns", "resource": "configmaps", "name": "cfg"}),
                outcome(cms("my-ns").get("cfg").await),
            ),
            (
                json!({"verb": "get", "namespace": "other", "resource": "configmaps", "name": "cfg"}),
                outcome(cms("other").get("cfg").await),
            ),
            (
                json!({"verb": "create", "namespace": "my-ns", "resource": "configmaps"}),
                outcome(cms("my-ns").create(&PostParams::default(), &new_cm).await),
            ),
            (
                json!({"verb": "delete", "namespace": "other", "resource": "configmaps", "name": "cfg"}),
                outcome(cms("other").delete("cfg", &DeleteParams::default()).await),
            ),
            (
                json!({"verb": "delete", "group": "platform.tkestack.io", "resource": "clusters", "name": "demo"}),
                outcome(clusters.delete("demo", &DeleteParams::default()).await),
            ),
        ];
        let mut allowed_count = 0;
        for (attrs, real) in checks {
            let (allowed, reason) = ssar(&client, attrs.clone()).await;
            assert_eq!(
                allowed,
                real,
                "as {user:?}: review of {attrs} said allowed={allowed} ({reason}), the request got {}",
                if real { "2xx" } else { "403" }
            );
            if allowed {
                allowed_count += 1;
            }
            if user.is_some() && allowed {
                assert!(reason.starts_with("RBAC: allowed by "), "{reason}");
            }
        }
        match user {
            // The service account: reads of clusters and my-ns configmaps only.
            Some(_) => assert_eq!(allowed_count, 3),
            // The admin (system:masters): everything.
            None => assert_eq!(allowed_count, 7),
        }
    }
    env.server.shutdown().await;
}

/// The kubectl the tests use must be a real client that can talk to a plain kubeconfig.
#[test]
fn kubectl_is_available() {
    let out = std::process::Command::new(kubectl_path())
        .args(["version", "--client", "-o", "json"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run kubectl ({}): {e}. Run scripts/test.sh, which installs one, \
                 or set KUBECTL to a kubectl binary",
                kubectl_path()
            )
        });
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("kubectl version -o json");
    assert!(
        v["clientVersion"]["gitVersion"].as_str().is_some(),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_strict_field_validation_and_can_i_list() {
    let env = setup().await;
    let file = env.dir.path().join("bogus.yaml");
    std::fs::write(
        &file,
        "apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata:\n  name: bogus\nspec:\n  \
         type: Baremetal\n  version: 1.30.5\n  bogusField: 1\n",
    )
    .expect("write manifest");
    let path = file.to_string_lossy().into_owned();
    // Strict (kubectl's default): the unknown field is refused and nothing is stored.
    let out = run(&env, &["create", "-f", &path]).await;
    assert!(!out.status.success(), "strict create must fail");
    let err = text(&out.stderr);
    assert!(err.contains("unknown field"), "{err}");
    let g = env.server.store("global").expect("global store");
    assert!(g.get(names::CLUSTERS, None, "bogus").is_err());
    // Warn: stored, and kubectl prints the server's warning.
    let out = run(&env, &["create", "--validate=warn", "-f", &path]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("unknown field"),
        "{}",
        text(&out.stderr)
    );
    assert!(g.get(names::CLUSTERS, None, "bogus").is_ok());

    // `can-i --list` is a SelfSubjectRulesReview answered from the same RBAC.
    let out = ok(
        &env,
        &["auth", "can-i", "--list", "--as", SA, "-n", "my-ns"],
    )
    .await;
    assert!(out.contains("clusters.platform.tkestack.io"), "{out}");
    assert!(out.contains("configmaps"), "{out}");
    env.server.shutdown().await;
}
