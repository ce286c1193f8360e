//! Preflight on the sandbox: its simulated nodes are SSH servers reached only through its
//! SOCKS5 endpoint on 127.0.0.1, so the node addresses (192.168.x) never see a packet.

use acp_cockpit::domain::form;
use acp_cockpit::domain::preflight::{Requirements, Verdict};
use acp_cockpit::engine::preflight::setup::jobs_from_cluster;
use acp_cockpit::engine::preflight::{PreflightRequest, Report, run};
use acp_cockpit::engine::ssh::{HostKeyPolicy, ProxySpec, SshPool, Timeouts};
use acp_cockpit::sandbox::scenario::draft_nodes::{
    DRAFT_NODES, ROTATING_NODE, WRONG_NODE, draft_cluster_manifest,
};
use acp_cockpit::sandbox::ssh_nodes::rotation::ROTATE_CONFIG_MAP;
use acp_cockpit::sandbox::{Platform, SandboxOptions};
use k8s_openapi::api::core::v1::ConfigMap;
use tokio_util::sync::CancellationToken;

fn manifest_yaml() -> String {
    serde_saphyr::to_string(&draft_cluster_manifest()).expect("yaml")
}

async fn preflight(proxy: &ProxySpec, policy: &HostKeyPolicy) -> Report {
    let cluster = form::from_yaml(&manifest_yaml()).expect("manifest");
    let mut req = Requirements {
        platform_arch: Some("x86_64".into()),
        ..Requirements::default()
    };
    let nodes = jobs_from_cluster(&cluster, &mut req, Some(proxy));
    let pool = SshPool::new(policy.clone(), Timeouts::default(), 8);
    let request = PreflightRequest {
        nodes,
        requirements: req,
    };
    run(&pool, request, &CancellationToken::new(), |_| {}).await
}

fn connect_evidence(r: &Report, ip: &str) -> String {
    let n = r.nodes.iter().find(|n| n.name == ip).expect("node");
    n.results
        .iter()
        .find(|r| r.id == "ssh-connect")
        .map(|r| r.evidence.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn the_wrong_node_fails_and_a_rotated_host_key_is_refused() {
    let sandbox = Platform::start(SandboxOptions::default())
        .await
        .expect("sandbox");
    let ep = sandbox.ssh_nodes().endpoint().clone();
    assert_eq!(ep.host, "127.0.0.1");
    let proxy = ProxySpec {
        host: ep.host.clone(),
        port: ep.port,
        username: Some(ep.username.clone()),
        password: Some(ep.password.clone()),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = HostKeyPolicy {
        own: dir.path().join("known_hosts"),
        user: None,
        accept_new: true,
    };
    let first = preflight(&proxy, &policy).await;
    assert_eq!(first.nodes.len(), DRAFT_NODES.len());
    assert!(first.nodes.iter().all(|n| n.reached()), "{:?}", first.nodes);
    for n in &first.nodes {
        let failed: Vec<&str> = n
            .results
            .iter()
            .filter(|r| r.verdict == Verdict::Fail)
            .map(|r| r.id)
            .collect();
        let expected: &[&str] = if n.name == WRONG_NODE { &["arch"] } else { &[] };
        assert_eq!(failed, expected, "{}", n.name);
    }
    assert_eq!(first.exit_code, 1);

    // Asked the way a user outside the process would: kubectl create configmap ...
    let ip: std::net::IpAddr = ROTATING_NODE.parse().expect("ip");
    let node = sandbox.ssh_nodes().node(ip, 22).expect("rotating node");
    let before = node.host_key().public_key().clone();
    let client = sandbox.client("sandbox").await.expect("client");
    let cms: kube::Api<ConfigMap> = kube::Api::namespaced(client, "default");
    let cm: ConfigMap = serde_json::from_value(serde_json::json!({
        "metadata": {"name": ROTATE_CONFIG_MAP},
        "data": {"ip": ROTATING_NODE},
    }))
    .expect("configmap");
    cms.create(&Default::default(), &cm).await.expect("create");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while node.host_key().public_key() == &before {
        assert!(
            std::time::Instant::now() < deadline,
            "the key did not rotate"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        !sandbox
            .ssh_nodes()
            .rotate_host_key(WRONG_NODE.parse().expect("ip"))
    );
    let second = preflight(&proxy, &policy).await;
    let rotated = second
        .nodes
        .iter()
        .find(|n| n.name == ROTATING_NODE)
        .expect("node");
    assert!(
        !rotated.reached(),
        "nothing runs on a node whose key changed"
    );
    assert!(rotated.host_key.is_none(), "a changed key is never offered");
    let evidence = connect_evidence(&second, ROTATING_NODE);
    assert!(
        evidence.starts_with("host-key: HOST KEY CHANGED"),
        "{evidence}"
    );
    assert!(
        second
            .nodes
            .iter()
            .filter(|n| n.name != ROTATING_NODE)
            .all(|n| n.reached())
    );

    // An address the sandbox does not simulate is refused by its endpoint, never dialled.
    let mut stray = form::from_yaml(&manifest_yaml()).expect("manifest");
    stray.spec.machines.truncate(1);
    stray.spec.machines[0].ip = "10.20.30.40".into();
    let mut req = Requirements::default();
    let nodes = jobs_from_cluster(&stray, &mut req, Some(&proxy));
    let pool = SshPool::new(policy.clone(), Timeouts::default(), 1);
    let r = run(
        &pool,
        PreflightRequest {
            nodes,
            requirements: req,
        },
        &CancellationToken::new(),
        |_| {},
    )
    .await;
    let evidence = connect_evidence(&r, "10.20.30.40");
    assert!(evidence.starts_with("proxy: "), "{evidence}");
    assert_eq!(r.exit_code, 2);

    // Only the sandbox's own credentials open its endpoint.
    let wrong = ProxySpec {
        password: Some(zeroize::Zeroizing::new("not-it".into())),
        ..proxy.clone()
    };
    let r = preflight(&wrong, &policy).await;
    assert!(r.nodes.iter().all(|n| !n.reached()));
    let evidence = connect_evidence(&r, WRONG_NODE);
    assert!(evidence.starts_with("proxy: "), "{evidence}");
    sandbox.shutdown().await;
}

#[test]
fn the_cli_on_the_sandbox_fails_the_wrong_node_with_exit_1() {
    let home = tempfile::tempdir().expect("tempdir");
    let manifest = home.path().join("lab.yaml");
    std::fs::write(&manifest, manifest_yaml()).expect("manifest");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_acp-cockpit"))
        .arg("--sandbox")
        .args(["preflight", "-f"])
        .arg(&manifest)
        .args(["--accept-new-host-keys", "-o", "json"])
        .env("HOME", home.path())
        .env_remove("KUBECONFIG")
        .env("ACP_COCKPIT_DATA_DIR", home.path().join("data"))
        .env("ACP_COCKPIT_CONFIG_DIR", home.path().join("config"))
        .env("ACP_COCKPIT_STATE_DIR", home.path().join("state"))
        .output()
        .expect("run the binary");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        v["platform_arch"], "x86_64",
        "read from the sandbox's global nodes"
    );
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["summary"]["fail"], 1);
    assert!(
        v["note"]
            .as_str()
            .is_some_and(|n| n.contains("global cluster"))
    );
    let nodes = v["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), DRAFT_NODES.len());
    for n in nodes {
        assert!(n["facts"].is_object(), "{}", n["name"]);
        assert!(n["index"].is_u64() && n["elapsed_ms"].is_u64());
        let results = n["results"].as_array().expect("results");
        let arch = results.iter().find(|r| r["id"] == "arch").expect("arch");
        let want = if n["name"] == WRONG_NODE {
            "fail"
        } else {
            "pass"
        };
        assert_eq!(arch["verdict"], want, "{}", n["name"]);
        let cpu = results.iter().find(|r| r["id"] == "cpu").expect("cpu");
        assert!(cpu["observed"].is_number(), "numbers stay numbers: {cpu}");
    }
    assert!(v["fleet"].as_array().is_some_and(|f| !f.is_empty()));
    // The sandbox nodes' keys stay apart from real nodes' keys.
    let data = home.path().join("data");
    assert!(data.join("known_hosts.sandbox").is_file());
    assert!(!data.join("known_hosts").exists());
}
