//! Registry checks against the sandbox: the failing pod's planted flaws are each found with
//! the exact fix, the healthy namespace passes, and kubectl's `auth can-i` agrees with the
//! cockpit's SubjectAccessReview verdicts.

use std::time::Duration;

use acp_cockpit::domain::registry::{CheckId, CheckResult, Verdict};
use acp_cockpit::engine::kube::{KubeSource, ops};
use acp_cockpit::engine::registry::battery::{self, Options};
use acp_cockpit::engine::registry::cluster::may_pull;
use acp_cockpit::engine::registry::inputs::{self, Request};
use acp_cockpit::sandbox::scenario::{BROKEN_POD, EGRESS_POLICY, EXTERNAL_CERT_DAYS};
use acp_cockpit::sandbox::{Platform, SandboxOptions, SandboxPlatform, kubeconfig};

async fn start() -> SandboxPlatform {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    Platform::start(SandboxOptions {
        port: 0,
        speed: 1.0,
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

async fn check(p: &SandboxPlatform, req: Request) -> Vec<CheckResult> {
    let conn = ops::connect(&source(p)).await.expect("connect");
    let inputs = inputs::resolve(&conn.client, &req).await.expect("inputs");
    let mut opts = Options::new(chrono::Utc::now().timestamp());
    opts.step_timeout = Duration::from_secs(3);
    // Nothing listens here: the API checks fail fast without leaving loopback.
    opts.connect = Some("127.0.0.1:9".parse().expect("addr"));
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    battery::run(&conn.client, &inputs, &opts, &tx).await;
    drop(tx);
    let mut out = Vec::new();
    while let Some(r) = rx.recv().await {
        out.push(r);
    }
    out
}

fn get(rs: &[CheckResult], id: CheckId) -> &CheckResult {
    let found: Vec<_> = rs.iter().filter(|r| r.id == id).collect();
    assert_eq!(found.len(), 1, "{id:?} reported once: {rs:#?}");
    found[0]
}

fn command(r: &CheckResult) -> String {
    r.fix
        .as_ref()
        .and_then(|f| f.command.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_failing_pod_shows_every_planted_flaw_with_its_fix() {
    let p = start().await;
    let rs = check(
        &p,
        Request {
            namespace: "legacy-ns".into(),
            pod: Some(BROKEN_POD.into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        rs.len(),
        acp_cockpit::domain::registry::catalogue::CATALOGUE.len(),
        "{rs:#?}"
    );
    let ev = get(&rs, CheckId::PullEvents);
    assert_eq!(ev.verdict, Verdict::Fail);
    assert!(ev.summary.contains("unauthorized"), "{}", ev.summary);
    let ps = get(&rs, CheckId::PullSecret);
    assert_eq!(ps.verdict, Verdict::Fail);
    assert!(
        ps.summary
            .contains("legacy-ns:default has no imagePullSecrets"),
        "{}",
        ps.summary
    );
    let fix = command(ps);
    assert!(
        fix.starts_with("kubectl get secret internal-docker-registry-pull -n shared-ns"),
        "{fix}"
    );
    assert!(
        fix.contains("kubectl patch serviceaccount default -n legacy-ns"),
        "{fix}"
    );
    let pr = get(&rs, CheckId::PullRights);
    assert_eq!(pr.verdict, Verdict::Fail);
    assert_eq!(
        command(pr),
        "kubectl create rolebinding cross-ns-pull --clusterrole=system:image-puller --serviceaccount=legacy-ns:default -n shared-ns"
    );
    let np = get(&rs, CheckId::NetworkPolicy);
    assert_eq!(np.verdict, Verdict::Fail);
    assert!(np.summary.contains(EGRESS_POLICY), "{}", np.summary);
    let svc = get(&rs, CheckId::Service);
    assert_eq!(svc.verdict, Verdict::Pass);
    assert!(svc.summary.contains("internal-docker-registry"));
    let cert = get(&rs, CheckId::ExternalCert);
    assert_eq!(cert.verdict, Verdict::Warn, "{cert:#?}");
    assert!(
        cert.summary
            .contains(&format!("({EXTERNAL_CERT_DAYS} days)")),
        "{}",
        cert.summary
    );
    assert_eq!(get(&rs, CheckId::ExternalIngress).verdict, Verdict::Pass);
    assert_eq!(get(&rs, CheckId::ExternalService).verdict, Verdict::Pass);
    assert_eq!(get(&rs, CheckId::Tls).verdict, Verdict::Fail);
    assert_eq!(get(&rs, CheckId::Manifest).verdict, Verdict::Skip);
    assert_eq!(get(&rs, CheckId::DnsNodes).verdict, Verdict::Skip);
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_healthy_namespace_passes_rbac_secret_and_policy_checks() {
    let p = start().await;
    for image in [
        "my-app:v1",
        "internal-docker-registry.cpaas-system.svc/shared-ns/base:v1",
    ] {
        let rs = check(
            &p,
            Request {
                namespace: "my-ns".into(),
                image: Some(image.into()),
                user: Some("viewer".into()),
                ..Default::default()
            },
        )
        .await;
        for id in [
            CheckId::PullSecret,
            CheckId::PullRights,
            CheckId::NetworkPolicy,
            CheckId::Service,
        ] {
            assert_eq!(
                get(&rs, id).verdict,
                Verdict::Pass,
                "{image}: {:#?}",
                get(&rs, id)
            );
        }
        assert_eq!(get(&rs, CheckId::PullEvents).verdict, Verdict::Skip);
        let user = get(&rs, CheckId::UserRights);
        assert_eq!(user.verdict, Verdict::Fail);
        assert!(
            command(user).starts_with("kubectl create rolebinding viewer-image-pull"),
            "{}",
            command(user)
        );
    }
    p.shutdown().await;
}

fn kubectl_path() -> String {
    std::env::var("KUBECTL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "kubectl".to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_auth_can_i_agrees_with_the_subject_access_reviews() {
    let p = start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let kc = dir.path().join("kubeconfig");
    let yaml = serde_json::to_string(p.kubeconfig()).expect("kubeconfig serialises");
    std::fs::write(&kc, yaml).expect("kubeconfig written");
    let conn = ops::connect(&source(&p)).await.expect("connect");
    let cases = [
        ("system:serviceaccount:my-ns:default", "my-ns", true),
        ("system:serviceaccount:my-ns:default", "shared-ns", true),
        ("system:serviceaccount:legacy-ns:default", "legacy-ns", true),
        (
            "system:serviceaccount:legacy-ns:default",
            "shared-ns",
            false,
        ),
        ("viewer", "my-ns", false),
    ];
    for (user, ns, want) in cases {
        let groups = match user.strip_prefix("system:serviceaccount:") {
            Some(rest) => vec![
                "system:serviceaccounts".to_string(),
                format!(
                    "system:serviceaccounts:{}",
                    rest.split(':').next().unwrap_or_default()
                ),
                "system:authenticated".to_string(),
            ],
            None => vec!["system:authenticated".to_string()],
        };
        let (ours, _) = may_pull(&conn.client, user, groups, ns)
            .await
            .expect("review");
        let out = tokio::process::Command::new(kubectl_path())
            .arg("--kubeconfig")
            .arg(&kc)
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .args([
                "auth",
                "can-i",
                "get",
                "images.registry.alauda.io",
                "--namespace",
                ns,
                &format!("--as={user}"),
            ])
            .env("NO_PROXY", "127.0.0.1")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .kill_on_drop(true)
            .output()
            .await
            .expect("kubectl runs (scripts/test.sh installs one, or set KUBECTL)");
        let answer = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(
            answer.starts_with("yes"),
            want,
            "kubectl for {user} in {ns}: {answer} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(ours, want, "our review for {user} in {ns}");
    }
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_capability_streams_every_result_under_the_request_id() {
    use acp_cockpit::engine::registry::task::{RegistryCommand, RegistryEvent};
    use acp_cockpit::engine::{self, Command, EngineConfig, Event};
    let p = start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (handle, mut rx) = engine::spawn(EngineConfig {
        kube: source(&p),
        readonly: true,
        data_dir: dir.path().to_path_buf(),
        registry_via: None,
        ssh_proxy: None,
    });
    let (id, cmd) = Command::registry(RegistryCommand::Check {
        request: Request {
            namespace: "legacy-ns".into(),
            pod: Some(BROKEN_POD.into()),
            ..Default::default()
        },
        cluster: None,
        connect: Some("127.0.0.1:9".parse().expect("addr")),
    });
    handle.send(cmd).expect("queued");
    let mut results = Vec::new();
    let mut saw_inputs = false;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("done in time");
        match ev {
            Some(Event::Registry { id: got, event }) => {
                assert_eq!(got, id);
                match event {
                    RegistryEvent::Inputs(i) => {
                        saw_inputs = true;
                        assert_eq!(i.service_account, "default");
                        assert_eq!(i.images.len(), 1);
                    }
                    RegistryEvent::Result(r) => results.push(r),
                    RegistryEvent::Done => break,
                    RegistryEvent::Failed(f) => panic!("{f}"),
                }
            }
            Some(_) => {}
            None => panic!("engine stopped"),
        }
    }
    assert!(saw_inputs);
    assert_eq!(
        results.len(),
        acp_cockpit::domain::registry::catalogue::CATALOGUE.len()
    );
    assert_eq!(get(&results, CheckId::PullRights).verdict, Verdict::Fail);
    handle.shutdown().await;
    p.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_registry_speaks_the_token_flow() {
    use acp_cockpit::domain::registry::ImageRef;
    use acp_cockpit::domain::registry::dockercfg::Credentials;
    use acp_cockpit::engine::registry::api::Target;
    use acp_cockpit::engine::registry::pull::pull_checks;
    use acp_cockpit::engine::registry::tls::Trust;
    use acp_cockpit::sandbox::registry_endpoint::{PASSWORD, RegistryEndpoint};
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let ep = RegistryEndpoint::start(0).await.expect("endpoint");
    let target = Target {
        addr: ep.addr,
        host: "internal-docker-registry.cpaas-system.svc".into(),
        port: 443,
        trust: Trust {
            extra_ca_pem: ep.ca_pem.clone().into_bytes(),
            system_roots: false,
        },
        timeout: Duration::from_secs(5),
    };
    let run = |image: &str, creds: Option<Credentials>| {
        let target = target.clone();
        let image = ImageRef::parse(image).expect("image");
        async move {
            let (tx, mut rx) = tokio::sync::mpsc::channel(16);
            pull_checks(
                &target,
                &image,
                creds.as_ref(),
                chrono::Utc::now().timestamp(),
                &tx,
            )
            .await;
            drop(tx);
            let mut out = Vec::new();
            while let Some(r) = rx.recv().await {
                out.push(r);
            }
            out
        }
    };
    let good = || {
        Some(Credentials {
            username: "sandbox-global".into(),
            password: zeroize::Zeroizing::new(PASSWORD.into()),
        })
    };
    let rs = run(
        "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1",
        good(),
    )
    .await;
    let v: Vec<_> = rs.iter().map(|r| r.verdict).collect();
    assert_eq!(v, vec![Verdict::Pass; 4], "{rs:#?}");
    assert!(rs[1].evidence.iter().any(|e| e.contains("Bearer realm=")));
    assert!(rs[2].summary.starts_with(
        "token from https://internal-docker-registry.cpaas-system.svc/auth/token as sandbox-global"
    ));
    assert!(rs[3].summary.contains("sha256:"));
    let absent = run(
        "internal-docker-registry.cpaas-system.svc/shared-ns/base:v9",
        good(),
    )
    .await;
    assert_eq!(absent[3].verdict, Verdict::Fail);
    assert!(absent[3].summary.contains("manifest unknown"));
    let wrong = Some(Credentials {
        username: "sandbox-global".into(),
        password: zeroize::Zeroizing::new("nope".into()),
    });
    let denied = run(
        "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1",
        wrong,
    )
    .await;
    assert_eq!(denied[2].verdict, Verdict::Fail, "{denied:#?}");
    assert_eq!(denied[3].verdict, Verdict::Skip);
    ep.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exits_zero_one_or_with_an_error_by_the_results() {
    use acp_cockpit::cli::output::Format;
    use acp_cockpit::cli::registry::{CheckArgs, check_on};
    let p = start().await;
    let via = Some((p.registry().0, p.registry().1.to_string()));
    let args = |ns: &str, image: Option<&str>, pod: Option<&str>| CheckArgs {
        cluster: None,
        namespace: ns.into(),
        image: image.map(str::to_string),
        pod: pod.map(str::to_string),
        deployment: None,
        as_user: None,
        registry_address: None,
        ca: None,
        node_user: None,
        node_key: None,
        timeout: 3,
        output: Format::Json,
    };
    let healthy = check_on(
        &args("my-ns", Some("my-app:v1"), None),
        &source(&p),
        via.clone(),
    )
    .await;
    assert_eq!(healthy.ok(), Some(0));
    let broken = check_on(
        &args("legacy-ns", None, Some(BROKEN_POD)),
        &source(&p),
        via.clone(),
    )
    .await;
    assert_eq!(broken.ok(), Some(1));
    let missing = check_on(&args("my-ns", None, Some("no-such-pod")), &source(&p), via).await;
    assert!(missing.is_err_and(|e| e.to_string().contains("no-such-pod")));
    p.shutdown().await;
}
