//! Registry check figures: the whole battery on loopback (the sandbox's API server and the real
//! distribution registry, goal <= 300 ms) and the manifest step against `skopeo inspect` on the
//! same image, side by side as a ratio.
//!
//! Run with `cargo bench --bench registry` (needs docker-registry, htpasswd, curl and skopeo:
//! scripts/test.sh installs them).

#[path = "../tests/common/registry.rs"]
mod registry;

use std::time::{Duration, Instant};

use acp_cockpit::domain::registry::dockercfg::Credentials;
use acp_cockpit::domain::registry::{ImageRef, Verdict};
use acp_cockpit::engine::kube::{KubeSource, ops};
use acp_cockpit::engine::registry::api::{self, Conn, Target};
use acp_cockpit::engine::registry::battery::{self, Options};
use acp_cockpit::engine::registry::inputs::{self, Request};
use acp_cockpit::engine::registry::tls::Trust;
use acp_cockpit::sandbox::{Platform, SandboxOptions, kubeconfig};
use base64::Engine as _;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use registry::Cert;
use zeroize::Zeroizing;

const RUNS: usize = 20;

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(v[v.len() / 2]),
        ms(v[(v.len() * 95 / 100).min(v.len() - 1)]),
    )
}

/// One pull-secret for the registry peer in `my-ns`, attached to its default ServiceAccount.
async fn attach_secret(client: &kube::Client, host: &str) {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{}",
        registry::USER,
        registry::PASSWORD
    ));
    let cfg = serde_json::json!({"auths": {host: {"auth": auth}}}).to_string();
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "bench-pull", "namespace": "my-ns"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64::engine::general_purpose::STANDARD.encode(cfg)},
    }))
    .expect("secret");
    Api::<Secret>::namespaced(client.clone(), "my-ns")
        .create(&PostParams::default(), &secret)
        .await
        .expect("create secret");
    let patch = serde_json::json!({"imagePullSecrets": [{"name": "bench-pull"}]});
    Api::<ServiceAccount>::namespaced(client.clone(), "my-ns")
        .patch("default", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("patch sa");
}

async fn manifest_step(t: &Target, image: &ImageRef, creds: &Credentials) -> Duration {
    let started = Instant::now();
    let (_, conn) = Conn::open(t).await;
    let mut conn = conn.expect("connect");
    let ping = conn
        .send(http::Method::GET, "/v2/", None, None)
        .await
        .expect("ping");
    let header = match api::authorise(&mut conn, t, &ping, &image.repository, Some(creds)).await {
        api::Access::Granted { header, .. } => header,
        other => panic!("{other:?}"),
    };
    let path = format!("/v2/{}/manifests/{}", image.repository, image.reference);
    let a = conn
        .send(
            http::Method::HEAD,
            &path,
            Some(header.as_str()),
            Some(api::MANIFEST_ACCEPT),
        )
        .await
        .expect("head");
    assert!(a.status.is_success());
    started.elapsed()
}

fn skopeo(args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = std::process::Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo runs");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let Some(peer) = registry::start("registry bench", Cert::Good, true) else {
        eprintln!("registry bench: skipped (no docker-registry)");
        return;
    };
    let host = format!("127.0.0.1:{}", peer.port);
    let image_s = format!("{host}/{}:{}", registry::REPO, registry::TAG);
    let image = ImageRef::parse(&image_s).expect("image");
    let trust = Trust {
        extra_ca_pem: peer.ca_pem.clone().into_bytes(),
        system_roots: false,
    };
    let target = Target {
        addr: host.parse().expect("addr"),
        host: "127.0.0.1".into(),
        port: peer.port,
        trust: trust.clone(),
        timeout: Duration::from_secs(5),
    };
    let creds = Credentials {
        username: registry::USER.into(),
        password: Zeroizing::new(registry::PASSWORD.into()),
    };

    let p = Platform::start(SandboxOptions {
        port: 0,
        speed: 1.0,
        seed: 1,
    })
    .await
    .expect("sandbox");
    let source = KubeSource::InMemory {
        kubeconfig: Box::new(p.kubeconfig().clone()),
        context: Some(kubeconfig::CONTEXT.to_string()),
    };
    let conn = ops::connect(&source).await.expect("connect");
    attach_secret(&conn.client, &host).await;
    let req = Request {
        namespace: "my-ns".into(),
        image: Some(image_s.clone()),
        ..Default::default()
    };
    let mut battery_times = Vec::new();
    let mut last = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let inputs = inputs::resolve(&conn.client, &req).await.expect("inputs");
        let mut opts = Options::new(chrono::Utc::now().timestamp());
        opts.trust = trust.clone();
        opts.global = Some(conn.client.clone());
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        battery::run(&conn.client, &inputs, &opts, &tx).await;
        drop(tx);
        last.clear();
        while let Some(r) = rx.recv().await {
            last.push(r);
        }
        battery_times.push(started.elapsed());
    }
    let fails: Vec<_> = last
        .iter()
        .filter(|r| r.verdict == Verdict::Fail)
        .map(|r| r.id.as_str())
        .collect();
    let (med, p95) = stats(battery_times);
    println!(
        "registry battery ({} checks, sandbox + docker-registry on loopback): median {med:.1} ms, p95 {p95:.1} ms (goal <= 300 ms); failing: {fails:?}",
        last.len()
    );

    let mut ours = Vec::new();
    for _ in 0..RUNS {
        ours.push(manifest_step(&target, &image, &creds).await);
    }
    let cert_dir = peer.dir.path().join("skopeo-certs");
    std::fs::create_dir_all(&cert_dir).expect("cert dir");
    std::fs::write(cert_dir.join("ca.crt"), &peer.ca_pem).expect("ca.crt");
    let cd = cert_dir.to_string_lossy().into_owned();
    let userpass = format!("{}:{}", registry::USER, registry::PASSWORD);
    let reference = format!("docker://{image_s}");
    let mut raw = Vec::new();
    let mut full = Vec::new();
    for _ in 0..RUNS {
        raw.push(skopeo(&[
            "inspect",
            "--raw",
            "--cert-dir",
            &cd,
            "--creds",
            &userpass,
            &reference,
        ]));
        full.push(skopeo(&[
            "inspect",
            "--cert-dir",
            &cd,
            "--creds",
            &userpass,
            &reference,
        ]));
    }
    let (o, _) = stats(ours);
    let (r, _) = stats(raw);
    let (f, _) = stats(full);
    println!("manifest step (connect, /v2/, auth, HEAD manifest): ours median {o:.1} ms");
    println!(
        "skopeo inspect --raw: median {r:.1} ms  ratio skopeo/ours {:.1}x",
        r / o
    );
    println!(
        "skopeo inspect (manifest + config): median {f:.1} ms  ratio skopeo/ours {:.1}x",
        f / o
    );
    p.shutdown().await;
}
