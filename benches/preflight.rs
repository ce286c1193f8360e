//! Preflight figures: 50 nodes at once against the slowest single node, against a sequential
//! loop of OpenSSH `ssh` running the same probe, and memory per open session.
//!
//! Run with `scripts/bench-preflight.sh` (starts the loopback sshd) or
//! `cargo bench --bench preflight` (then only the sandbox-node figures). Everything goes to
//! 127.0.0.1. Prints one line per figure with its goal.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use acp_cockpit::domain::preflight::probe::probe_command;
use acp_cockpit::domain::preflight::{NodeInput, Requirements, Role};
use acp_cockpit::engine::preflight::{NodeJob, PreflightRequest, Report, run};
use acp_cockpit::engine::ssh::{
    DEFAULT_CONCURRENCY, HostKeyPolicy, ProxySpec, Session, SshAuth, SshPool, SshTarget, Timeouts,
};
use acp_cockpit::sandbox::controllers::Tasks;
use acp_cockpit::sandbox::scenario::draft_nodes::Flaw;
use acp_cockpit::sandbox::ssh_nodes::{SimNode, SshNodes};
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

const NODES: usize = 50;
const SINGLE_RUNS: usize = 5;

fn job(target: SshTarget) -> NodeJob {
    NodeJob {
        input: NodeInput {
            ipv4: target.host.parse().ok(),
            ..NodeInput::new(target.host.clone(), Role::Worker)
        },
        target: Ok(target),
    }
}

async fn preflight(pool: &SshPool, targets: &[SshTarget]) -> (Duration, Report) {
    let request = PreflightRequest {
        nodes: targets.iter().cloned().map(job).collect(),
        requirements: Requirements {
            platform_arch: Some("x86_64".into()),
            ..Requirements::default()
        },
    };
    let t = Instant::now();
    let report = run(pool, request, &CancellationToken::new(), |_| {}).await;
    let elapsed = t.elapsed();
    let unreached = report.nodes.iter().filter(|n| !n.reached()).count();
    if unreached > 0 {
        let why = report
            .nodes
            .iter()
            .find(|n| !n.reached())
            .map(|n| n.results[0].evidence.clone());
        eprintln!("warning: {unreached} node(s) not reached: {why:?}");
    }
    (elapsed, report)
}

/// The slowest of several runs of one node alone, and the fleet run of every node.
async fn fleet_vs_single(label: &str, pool: &SshPool, targets: &[SshTarget]) {
    let _ = preflight(pool, targets).await; // warm-up: host keys recorded, caches filled
    let mut slowest = Duration::ZERO;
    for t in targets.iter().take(SINGLE_RUNS) {
        let (d, _) = preflight(pool, std::slice::from_ref(t)).await;
        slowest = slowest.max(d);
    }
    let (wall, report) = preflight(pool, targets).await;
    println!(
        "{label}: {} nodes in {:.0} ms, slowest single node alone {:.0} ms: {:.2}x (goal <= 1.5x); {} checks",
        targets.len(),
        ms(wall),
        ms(slowest),
        wall.as_secs_f64() / slowest.as_secs_f64().max(1e-9),
        report.summary.pass + report.summary.warn + report.summary.fail
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// Sandbox nodes whose probe takes `probe_time` on the node, as the real probe does on a
/// real machine, so the figure measures how well the engine overlaps nodes.
async fn sandbox_nodes(dir: &Path, probe_time: Duration) {
    let nodes: Vec<SimNode> = (1..=NODES)
        .map(|i| {
            let mut n = SimNode::new(
                format!("192.168.200.{i}").parse().expect("ip"),
                Flaw::None,
                7,
            );
            n.probe_time = probe_time;
            n
        })
        .collect();
    let stop = CancellationToken::new();
    let tasks = Tasks::default();
    let served = SshNodes::start(nodes, stop.clone(), &tasks)
        .await
        .expect("sandbox SOCKS5 endpoint");
    let ep = served.endpoint().clone();
    let proxy = ProxySpec {
        host: ep.host.clone(),
        port: ep.port,
        username: Some(ep.username.clone()),
        password: Some(ep.password.clone()),
    };
    let targets: Vec<SshTarget> = served
        .nodes()
        .map(|n| SshTarget {
            host: n.ip.to_string(),
            port: n.port,
            user: n.user.clone(),
            auth: SshAuth::Password(Zeroizing::new("sandbox".into())),
            proxy: Some(proxy.clone()),
        })
        .collect();
    let policy = HostKeyPolicy {
        own: dir.join("sandbox_known_hosts"),
        user: None,
        accept_new: true,
    };
    // The default limit makes 50 nodes two rounds; a limit of 50 shows one round.
    for limit in [DEFAULT_CONCURRENCY, NODES] {
        let pool = SshPool::new(policy.clone(), Timeouts::default(), limit);
        let label = format!(
            "sandbox nodes via SOCKS5 (probe answered after {} ms, {limit} at once)",
            probe_time.as_millis()
        );
        fleet_vs_single(&label, &pool, &targets).await;
    }
    stop.cancel();
    tasks.wait().await;
}

struct LocalSshd {
    dir: std::path::PathBuf,
    port: u16,
    user: String,
}

fn local_sshd() -> Option<LocalSshd> {
    let var = |n: &str| std::env::var(n).ok();
    Some(LocalSshd {
        dir: var("ACP_TEST_SSH_DIR")?.into(),
        port: var("ACP_TEST_SSH_PORT")?.parse().ok()?,
        user: var("ACP_TEST_SSH_USER")?,
    })
}

async fn against_sshd(s: &LocalSshd, dir: &Path) {
    let host_key = std::fs::read_to_string(s.dir.join("host_ed25519.pub")).expect("host key");
    let mut parts = host_key.split_whitespace();
    let (t, k) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let known = dir.join("known_hosts");
    std::fs::write(&known, format!("[127.0.0.1]:{} {t} {k}\n", s.port)).expect("known_hosts");
    let policy = HostKeyPolicy {
        own: known.clone(),
        user: None,
        accept_new: false,
    };
    let target = SshTarget {
        host: "127.0.0.1".into(),
        port: s.port,
        user: s.user.clone(),
        auth: SshAuth::KeyFile {
            path: s.dir.join("client_ed25519"),
            passphrase: None,
        },
        proxy: None,
    };
    let targets = vec![target.clone(); NODES];
    let pool = SshPool::new(policy.clone(), Timeouts::default(), DEFAULT_CONCURRENCY);
    fleet_vs_single(
        "local sshd (one CPU pair runs all 50 probes)",
        &pool,
        &targets,
    )
    .await;
    let (engine, _) = preflight(&pool, &targets).await;

    let probe = probe_command();
    let t = Instant::now();
    let mut failed = 0;
    for _ in 0..NODES {
        let ok = std::process::Command::new("ssh")
            .args([
                "-q",
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=yes",
            ])
            .arg("-o")
            .arg(format!("UserKnownHostsFile={}", known.display()))
            .arg("-i")
            .arg(s.dir.join("client_ed25519"))
            .args(["-p", &s.port.to_string()])
            .arg(format!("{}@127.0.0.1", s.user))
            .arg(&probe)
            .output()
            .map(|o| o.status.success() && !o.stdout.is_empty())
            .unwrap_or(false);
        failed += usize::from(!ok);
    }
    let openssh = t.elapsed();
    println!(
        "local sshd: engine {} nodes {:.0} ms vs sequential OpenSSH loop {:.0} ms ({failed} failed): {:.1}x faster (goal >= 10x)",
        NODES,
        ms(engine),
        ms(openssh),
        openssh.as_secs_f64() / engine.as_secs_f64().max(1e-9)
    );

    let cancel = CancellationToken::new();
    let before = rss_kib();
    let mut open = Vec::with_capacity(NODES);
    for _ in 0..NODES {
        match Session::connect(&target, &policy, &Timeouts::default(), &cancel).await {
            Ok(s) => open.push(Arc::new(s)),
            Err(e) => eprintln!("warning: {e}"),
        }
    }
    let after = rss_kib();
    println!(
        "memory: {} open sessions to the local sshd add {} KiB RSS: {:.0} KiB per session",
        open.len(),
        after.saturating_sub(before),
        after.saturating_sub(before) as f64 / open.len().max(1) as f64
    );
    for s in open {
        if let Ok(s) = Arc::try_unwrap(s) {
            s.close().await;
        }
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    rt.block_on(async {
        sandbox_nodes(dir.path(), Duration::ZERO).await;
        sandbox_nodes(dir.path(), Duration::from_millis(300)).await;
        match local_sshd() {
            Some(s) => against_sshd(&s, dir.path()).await,
            None => println!(
                "local sshd: skipped (ACP_TEST_SSH_* unset): run scripts/bench-preflight.sh as root"
            ),
        }
    });
}
