//! Node preflight against a real OpenSSH server through a real SOCKS5 proxy (microsocks), both
//! on loopback and started by `scripts/test.sh`: the facts reported about this machine, per-node
//! failures while the other nodes finish, host-key acceptance through the engine capability,
//! and the CLI refusing a changed host key. Without the peers the tests skip with a reason,
//! except under CI, where they fail.

#[path = "common/ssh.rs"]
mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use acp_cockpit::domain::preflight::{NodeInput, Requirements, Role, Verdict};
use acp_cockpit::engine::kube::KubeSource;
use acp_cockpit::engine::preflight::setup::{ArchSource, RunSetup};
use acp_cockpit::engine::preflight::{
    NodeJob, NodeReport, PreflightCommand, PreflightEvent, PreflightRequest, Report, capability,
    run,
};
use acp_cockpit::engine::ssh::{SshPool, SshTarget};
use acp_cockpit::engine::{Event, RequestId};
use common::{LOOPBACK, Peers, closed_port, local, peers, policy_with, timeouts};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn job(name: &str, target: SshTarget) -> NodeJob {
    NodeJob {
        input: NodeInput {
            ipv4: LOOPBACK.parse().ok(),
            ..NodeInput::new(name, Role::Worker)
        },
        target: Ok(target),
    }
}

fn request(nodes: Vec<NodeJob>) -> PreflightRequest {
    PreflightRequest {
        nodes,
        requirements: Requirements {
            platform_arch: Some("x86_64".into()),
            ..Requirements::default()
        },
    }
}

async fn run_all(p: &Peers, dir: &Path, nodes: Vec<NodeJob>) -> Report {
    let pool = SshPool::new(policy_with(dir, &p.host_key_line(), false), timeouts(), 8);
    run(&pool, request(nodes), &CancellationToken::new(), |_| {}).await
}

fn connect_result(n: &NodeReport) -> (&str, Verdict) {
    let r = n
        .results
        .iter()
        .find(|r| r.id == "ssh-connect")
        .unwrap_or_else(|| panic!("{}: no ssh-connect result", n.name));
    (r.evidence.as_str(), r.verdict)
}

#[tokio::test]
async fn facts_about_this_machine_match_what_it_says_itself() {
    let Some(p) = peers("preflight facts") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut via_proxy = p.key_target();
    via_proxy.proxy = Some(p.good_proxy());
    let report = run_all(&p, dir.path(), vec![job("self", via_proxy)]).await;
    let node = &report.nodes[0];
    let facts = node
        .facts
        .as_ref()
        .unwrap_or_else(|| panic!("not reached: {:?}", node.results));
    assert_eq!(
        facts.arch.as_deref(),
        Some(local("uname", &["-m"]).as_str())
    );
    assert_eq!(
        facts.kernel.as_deref(),
        Some(local("uname", &["-r"]).as_str())
    );
    let cpus: u32 = local("getconf", &["_NPROCESSORS_ONLN"])
        .parse()
        .expect("cpus");
    assert_eq!(facts.cpus, Some(cpus));
    let meminfo = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
    let mem: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("MemTotal");
    assert_eq!(facts.mem_total_kib, Some(mem));
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    assert_eq!(facts.hostname.as_deref(), Some(hostname.trim()));
    let nics: BTreeSet<String> = std::fs::read_dir("/sys/class/net")
        .expect("/sys/class/net")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let seen: BTreeSet<String> = facts
        .links
        .iter()
        .flatten()
        .map(|l| l.name.clone())
        .collect();
    assert_eq!(seen, nics);
    let ips: BTreeSet<IpAddr> = local("ip", &["-o", "addr", "show"])
        .lines()
        .filter_map(|l| {
            let mut w = l
                .split_whitespace()
                .skip_while(|w| *w != "inet" && *w != "inet6");
            w.nth(1)?.split('/').next()?.parse().ok()
        })
        .collect();
    let seen: BTreeSet<IpAddr> = facts.addrs.iter().flatten().map(|a| a.ip).collect();
    assert_eq!(seen, ips);
    let (_, verdict) = connect_result(node);
    assert_eq!(verdict, Verdict::Pass);
    assert!(
        node.clock.and_then(|c| c.offset()).is_some(),
        "{:?}",
        node.clock
    );
    assert_eq!(report.platform_arch.as_deref(), Some("x86_64"));
    let arch = node.results.iter().find(|r| r.id == "arch").expect("arch");
    let expected = if facts.arch.as_deref() == Some("x86_64") {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    assert_eq!(arch.verdict, expected, "{arch:?}");
}

#[tokio::test]
async fn each_node_fails_at_its_own_stage_while_the_others_finish() {
    let Some(p) = peers("preflight per-node errors") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut via_proxy = p.key_target();
    via_proxy.proxy = Some(p.good_proxy());
    let mut bad_proxy = p.key_target();
    bad_proxy.proxy = Some(p.proxy(Some(&p.socks_user), Some("not-the-password")));
    let mut closed = p.key_target();
    closed.port = closed_port();
    let mut unknown_key = p.key_target();
    unknown_key.port = p.kbd_port;
    let nodes = vec![
        job("direct", p.key_target()),
        job("proxied", via_proxy),
        job("wrong-password", p.password_target("not-the-password")),
        job("closed-port", closed),
        job("bad-proxy", bad_proxy),
        job("unknown-key", unknown_key),
        NodeJob {
            input: NodeInput::new("bad-target", Role::Worker),
            target: Err(acp_cockpit::engine::ssh::SshFailure::new(
                acp_cockpit::engine::ssh::Stage::Config,
                acp_cockpit::engine::ssh::FailureKind::InvalidTarget,
                "password is not base64",
            )),
        },
    ];
    let report = run_all(&p, dir.path(), nodes).await;
    let by_name = |n: &str| {
        report
            .nodes
            .iter()
            .find(|r| r.name == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    for ok in ["direct", "proxied"] {
        let n = by_name(ok);
        assert!(n.reached(), "{ok}: {:?}", n.results);
        assert!(n.results.len() > 20, "{ok}: every node check ran");
    }
    for (name, stage) in [
        ("wrong-password", "auth: "),
        ("closed-port", "tcp: "),
        ("bad-proxy", "proxy: "),
        ("unknown-key", "host-key: "),
        ("bad-target", "config: "),
    ] {
        let n = by_name(name);
        assert!(!n.reached(), "{name} reached");
        assert_eq!(n.results.len(), 1, "{name}: nothing else ran");
        let (evidence, verdict) = connect_result(n);
        assert_eq!(verdict, Verdict::Fail);
        assert!(evidence.starts_with(stage), "{name}: {evidence}");
    }
    let offer = by_name("unknown-key").host_key.as_ref().expect("offer");
    assert_eq!((offer.host.as_str(), offer.port), (LOOPBACK, p.kbd_port));
    assert!(offer.fingerprint.starts_with("SHA256:"), "{offer:?}");
    assert_eq!(report.exit_code, 1);
    assert_eq!(
        report.nodes.iter().map(|n| n.index).collect::<Vec<_>>(),
        (0..7).collect::<Vec<_>>()
    );
}

async fn next_event(rx: &mut mpsc::Receiver<Event>, id: RequestId) -> PreflightEvent {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("an event within 60 s")
            .expect("the capability is running");
        if let Event::Preflight { id: got, event } = ev {
            assert_eq!(got, id);
            return event;
        }
    }
}

#[tokio::test]
async fn the_capability_streams_nodes_and_reruns_one_after_its_key_is_accepted() {
    let Some(p) = peers("preflight capability") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), &p.host_key_line(), false);
    let pool = SshPool::new(policy.clone(), timeouts(), 4);
    let unused = SshPool::new(policy_with(&dir.path().join("x"), "", false), timeouts(), 1);
    let (cmd_tx, cmd_rx) = mpsc::channel(16);
    let (ev_tx, mut ev_rx) = mpsc::channel(64);
    let stop = CancellationToken::new();
    let kube = KubeSource::Kubeconfig {
        path: Some(dir.path().join("no-kubeconfig")),
        context: None,
    };
    let task = tokio::spawn(capability::run(
        pool,
        unused,
        kube,
        cmd_rx,
        ev_tx,
        stop.clone(),
    ));
    let mut other_port = p.key_target();
    other_port.port = p.kbd_port;
    let id = RequestId::next();
    let setup = RunSetup {
        arch: ArchSource::Given("amd64".into()),
        config_dir: None,
        sandbox: false,
    };
    let req = request(vec![job("known", p.key_target()), job("new", other_port)]);
    cmd_tx
        .send((
            id,
            PreflightCommand::Run {
                request: Box::new(req),
                setup,
            },
        ))
        .await
        .expect("send");
    assert!(matches!(
        next_event(&mut ev_rx, id).await,
        PreflightEvent::Started { nodes: 2, .. }
    ));
    let mut offer = None;
    for _ in 0..2 {
        let PreflightEvent::Node(n) = next_event(&mut ev_rx, id).await else {
            panic!("expected a node");
        };
        if n.name == "new" {
            offer = n.host_key.clone();
        } else {
            assert!(n.reached());
        }
    }
    let PreflightEvent::Finished(first) = next_event(&mut ev_rx, id).await else {
        panic!("expected the summary");
    };
    assert_eq!(first.platform_arch.as_deref(), Some("x86_64"));
    let offer = offer.expect("the new node offers its key");
    let cmd = PreflightCommand::AcceptHostKey {
        host: offer.host.clone(),
        port: offer.port,
        key: offer.key_line(),
    };
    cmd_tx.send((id, cmd)).await.expect("send");
    let PreflightEvent::Node(n) = next_event(&mut ev_rx, id).await else {
        panic!("expected the re-run node");
    };
    assert_eq!(n.name, "new");
    assert!(n.reached(), "{:?}", n.results);
    let PreflightEvent::Finished(second) = next_event(&mut ev_rx, id).await else {
        panic!("expected the new summary");
    };
    assert!(second.nodes.iter().all(|n| n.reached()));
    let known = std::fs::read_to_string(&policy.own).expect("known_hosts");
    assert!(
        known.contains(&format!("[{LOOPBACK}]:{}", p.kbd_port)),
        "{known}"
    );
    stop.cancel();
    task.await.expect("task ends");
}

#[test]
fn the_cli_refuses_a_changed_host_key_and_runs_nothing_else() {
    let Some(p) = peers("preflight CLI changed key") else {
        return;
    };
    let home = tempfile::tempdir().expect("tempdir");
    let data = home.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    // A different key recorded for the sshd's address: as if the node had been replaced.
    let other = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    std::fs::write(
        data.join("known_hosts"),
        format!("[{LOOPBACK}]:{} ssh-ed25519 {other}\n", p.ssh_port),
    )
    .expect("known_hosts");
    let proxy = format!(
        "socks5://{}:{}@{LOOPBACK}:{}",
        p.socks_user, p.socks_password, p.socks_port
    );
    let node = format!("{}@{LOOPBACK}:{}", p.user, p.ssh_port);
    let key = p.file("client_ed25519");
    let run = |output: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_acp-cockpit"))
            .args(["preflight", "--node", &node, "--key"])
            .arg(&key)
            .args(["--proxy", &proxy, "--accept-new-host-keys", "-o", output])
            .env("HOME", home.path())
            .env_remove("KUBECONFIG")
            .env("ACP_COCKPIT_DATA_DIR", &data)
            .env("ACP_COCKPIT_CONFIG_DIR", home.path().join("config"))
            .env("ACP_COCKPIT_STATE_DIR", home.path().join("state"))
            .output()
            .expect("run the binary")
    };
    let out = run("table");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("HOST KEY CHANGED"), "{text}");
    assert!(text.contains("ssh-keygen -f"), "{text}");
    let out = run("json");
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let node = &v["nodes"][0];
    assert!(node["facts"].is_null(), "{node}");
    assert_eq!(node["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(node["results"][0]["verdict"], "fail");
    assert!(node["host_key"].is_null(), "a changed key is never offered");
    let recorded = std::fs::read_to_string(data.join("known_hosts")).expect("known_hosts");
    assert_eq!(
        recorded.lines().count(),
        1,
        "the changed key was not recorded"
    );
}
