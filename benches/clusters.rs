//! Clusters and timeline figures: render time, watch throughput, memory, CLI vs kubectl.
//!
//! Run with `cargo bench --bench clusters`. Prints one line per figure with its goal.

use std::sync::Arc;
use std::time::{Duration, Instant};

use acp_cockpit::config::theme::Theme;
use acp_cockpit::domain::cluster::{
    Cluster, ClusterMachine, ClusterSpec, ClusterStatus, Condition,
};
use acp_cockpit::domain::timeline::CLUSTER_CREATE_STEPS;
use acp_cockpit::engine::kube::model::Interner;
use acp_cockpit::engine::kube::{ClusterSummary, ConnState, Delta, KubeEvent};
use acp_cockpit::fixtures::clusters as demo;
use acp_cockpit::tui::panes::clusters::ClustersPane;
use acp_cockpit::tui::panes::timeline::TimelinePane;
use acp_cockpit::tui::panes::{Pane, RenderCtx};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const PLATFORM: &str = "bench";

fn time_at(secs_ago: i64) -> Option<Time> {
    let t = demo::now().timestamp() - secs_ago;
    k8s_openapi::jiff::Timestamp::from_second(t).ok().map(Time)
}

/// A cluster like a real one: machines, annotations, a full or partial condition list.
fn make_cluster(i: usize, steps: usize) -> Cluster {
    let created = 86_400 * 30 - (i as i64 % 1000) * 60;
    let mut spec = ClusterSpec {
        display_name: Some(format!("Cluster number {i}")),
        type_: "Baremetal".into(),
        version: ["1.28.13", "1.30.14", "1.32.7"][i % 3].into(),
        cluster_cidr: Some("10.3.0.0/16".into()),
        service_cidr: Some("10.4.0.0/16".into()),
        ..Default::default()
    };
    for m in 0..3 {
        spec.machines.push(ClusterMachine {
            ip: format!("10.{}.{}.{}", i / 250 % 250, i % 250, 10 + m),
            port: 22,
            username: "root".into(),
            password: Some("<redacted>".into()),
            role: Some(if m == 0 { "master" } else { "node" }.into()),
            ..Default::default()
        });
    }
    let n = steps.min(CLUSTER_CREATE_STEPS.len());
    let mut conditions: Vec<Condition> = (0..n)
        .map(|k| Condition {
            type_: CLUSTER_CREATE_STEPS[k].into(),
            status: "True".into(),
            last_transition_time: time_at(created - (k as i64 + 1) * 60),
            last_probe_time: time_at(created - (k as i64 + 1) * 60),
            ..Default::default()
        })
        .collect();
    let running = n == CLUSTER_CREATE_STEPS.len();
    if !running && let Some(c) = conditions.last_mut() {
        c.status = "Unknown".into();
        c.reason = Some("Waiting".into());
        c.message = Some("waiting execute".into());
    }
    let mut c = Cluster::new(&format!("cls-{i:05}"), spec);
    c.metadata.creation_timestamp = time_at(created);
    c.metadata.resource_version = Some(format!("{}", 1000 + i));
    c.metadata.uid = Some(format!("00000000-0000-0000-0000-{i:012}"));
    c.status = Some(ClusterStatus {
        phase: Some(if running { "Running" } else { "Initializing" }.into()),
        version: running.then(|| "1.30.14".into()),
        conditions,
        ..Default::default()
    });
    c
}

fn clusters(n: usize) -> Vec<Arc<Cluster>> {
    (0..n)
        .map(|i| {
            let steps = if i % 4 == 0 { 10 + i % 40 } else { 56 };
            Arc::new(make_cluster(i, steps))
        })
        .collect()
}

/// What the engine's watch task sends: summaries of the objects.
fn summaries(v: &[Arc<Cluster>]) -> Vec<Arc<ClusterSummary>> {
    let mut i = Interner::default();
    v.iter()
        .map(|c| Arc::new(ClusterSummary::from_cluster(c, &mut i)))
        .collect()
}

fn reset(applied: Vec<Arc<ClusterSummary>>) -> KubeEvent {
    KubeEvent::ClustersChanged(Delta {
        platform: PLATFORM.into(),
        reset: true,
        applied,
        deleted: Vec::new(),
    })
}

fn ready_pane(applied: Vec<Arc<ClusterSummary>>) -> ClustersPane {
    let mut p = ClustersPane::new();
    p.apply(&KubeEvent::Contexts {
        current: Some(PLATFORM.into()),
        available: vec![PLATFORM.into()],
    });
    p.apply(&KubeEvent::Connection {
        context: PLATFORM.into(),
        state: ConnState::Ready,
    });
    p.apply(&reset(applied));
    p
}

fn render_avg(pane: &mut dyn Pane, w: u16, h: u16, frames: u32) -> Duration {
    let theme = Theme::default();
    let ctx = RenderCtx {
        theme: &theme,
        now: demo::now(),
        readonly: false,
        sandbox: false,
    };
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("backend");
    term.draw(|f| pane.render(f, f.area(), &ctx)).expect("draw");
    let t = Instant::now();
    for _ in 0..frames {
        term.draw(|f| pane.render(f, f.area(), &ctx)).expect("draw");
    }
    t.elapsed() / frames
}

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn report(name: &str, value: String, goal: &str) {
    println!("{name:<48} {value:>16}   (goal {goal})");
}

fn bench_memory() {
    let before = rss_kib();
    // Built the way the watch task does: one object at a time, kept only as a summary.
    let mut interner = Interner::default();
    let data: Vec<Arc<ClusterSummary>> = (0..10_000)
        .map(|i| {
            let steps = if i % 4 == 0 { 10 + i % 40 } else { 56 };
            Arc::new(ClusterSummary::from_cluster(
                &make_cluster(i, steps),
                &mut interner,
            ))
        })
        .collect();
    let mut pane = ready_pane(data.clone());
    let mut tl = TimelinePane::new();
    tl.apply(&KubeEvent::Contexts {
        current: Some(PLATFORM.into()),
        available: vec![PLATFORM.into()],
    });
    tl.apply(&reset(data));
    pane.visible_names();
    let after = rss_kib();
    match (before, after) {
        (Some(b), Some(a)) => {
            report(
                "resident memory, 10k clusters (process)",
                format!("{:.1} MB", a as f64 / 1024.0),
                "<= 60 MB",
            );
            report(
                "  of which the clusters (both panes)",
                format!("{:.1} MB", a.saturating_sub(b) as f64 / 1024.0),
                "-",
            );
        }
        _ => println!("resident memory: /proc/self/status not readable on this system"),
    }
    drop(pane);
    drop(tl);
}

fn bench_render() {
    let mut pane = ready_pane(summaries(&clusters(10_000)));
    let d = render_avg(&mut pane, 200, 50, 300);
    report(
        "render clusters pane, 10k clusters, 200x50",
        format!("{:.3} ms", d.as_secs_f64() * 1e3),
        "<= 1 ms",
    );
    let t = Instant::now();
    let rounds = 20;
    for _ in 0..rounds {
        pane.on_action("sort_next");
        pane.visible_names();
    }
    report(
        "  re-sort + re-filter of 10k rows",
        format!("{:.3} ms", t.elapsed().as_secs_f64() * 1e3 / rounds as f64),
        "-",
    );

    // 60 steps: 56 known ones and 4 of ACP's own.
    let mut c = make_cluster(1, 56);
    if let Some(s) = c.status.as_mut() {
        s.phase = Some("Initializing".into());
        for (k, t) in [
            "EnsureInitMaster",
            "EnsureWaitClusterModuleReady",
            "EnsureNodeReady",
            "EnsurePlugins",
        ]
        .iter()
        .enumerate()
        {
            s.conditions.push(Condition {
                type_: (*t).into(),
                status: if k == 3 { "False" } else { "True" }.into(),
                reason: (k == 3).then(|| "FailedInit".into()),
                message: (k == 3).then(|| "plugin install failed: timeout".repeat(5)),
                last_transition_time: time_at(60 - k as i64),
                ..Default::default()
            });
        }
    }
    let mut others = clusters(2_000);
    others.push(Arc::new(c));
    let mut tl = TimelinePane::new();
    tl.apply(&KubeEvent::Contexts {
        current: Some(PLATFORM.into()),
        available: vec![PLATFORM.into()],
    });
    tl.apply(&reset(summaries(&others)));
    tl.on_open(Some("cls-00001"));
    let d = render_avg(&mut tl, 200, 50, 300);
    report(
        "render 60-step timeline, 200x50",
        format!("{:.3} ms", d.as_secs_f64() * 1e3),
        "<= 1 ms",
    );
}

fn bench_watch_throughput() {
    let base = clusters(10_000);
    let mut pane = ready_pane(summaries(&base));
    let n = 200_000;
    let mut interner = Interner::default();
    // Each event as the watcher delivers it: summarized by the watch task, then folded into
    // the pane's model and rows, one object per batch.
    let t = Instant::now();
    for k in 0..n {
        let s = ClusterSummary::from_cluster(&base[k % base.len()], &mut interner);
        pane.apply(&KubeEvent::ClustersChanged(Delta {
            platform: PLATFORM.into(),
            reset: false,
            applied: vec![Arc::new(s)],
            deleted: Vec::new(),
        }));
    }
    pane.visible_names();
    let secs = t.elapsed().as_secs_f64();
    report(
        "watch events applied to the model, 1 per batch",
        format!("{:.0} /s", n as f64 / secs),
        ">= 100k/s",
    );
    let batch = 256;
    let t = Instant::now();
    for b in 0..n / batch {
        let applied = (0..batch)
            .map(|k| {
                Arc::new(ClusterSummary::from_cluster(
                    &base[(b * batch + k) % base.len()],
                    &mut interner,
                ))
            })
            .collect();
        pane.apply(&KubeEvent::ClustersChanged(Delta {
            platform: PLATFORM.into(),
            reset: false,
            applied,
            deleted: Vec::new(),
        }));
    }
    // The shell draws (and so re-sorts) at most once per frame, not once per batch.
    pane.visible_names();
    let secs = t.elapsed().as_secs_f64();
    report(
        "watch events applied, 256 per batch",
        format!("{:.0} /s", (n / batch * batch) as f64 / secs),
        ">= 100k/s",
    );
}

fn kubectl() -> Option<String> {
    let candidate = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".into());
    let ok = std::process::Command::new(&candidate)
        .args(["version", "--client"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(candidate)
}

fn time_cmd(program: &str, args: &[&str]) -> Option<(Duration, usize)> {
    let t = Instant::now();
    let out = std::process::Command::new(program)
        .args(args)
        .env_remove("KUBECONFIG")
        .output()
        .ok()?;
    let d = t.elapsed();
    if !out.status.success() {
        eprintln!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        return None;
    }
    Some((d, out.stdout.len()))
}

fn bench_cli_vs_kubectl() {
    let Some(kubectl) = kubectl() else {
        println!("clusters -o json vs kubectl: skipped, no working kubectl (set KUBECTL)");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    rt.block_on(async {
        use acp_cockpit::sandbox::{Platform, SandboxOptions, kubeconfig};
        use futures::StreamExt;
        use kube::api::PostParams;
        let p = match Platform::start(SandboxOptions {
            port: 0,
            // Nearly frozen: the list must not change between the two tools.
            speed: 0.0001,
            seed: 3,
        })
        .await
        {
            Ok(p) => p,
            Err(e) => {
                println!("clusters -o json vs kubectl: skipped, sandbox did not start: {e:#}");
                return;
            }
        };
        let client = p.client(kubeconfig::CONTEXT).await.expect("client");
        let api: kube::Api<Cluster> = kube::Api::all(client);
        let existing = api
            .list(&Default::default())
            .await
            .map(|l| l.items.len())
            .unwrap_or(0);
        let to_make = 5_000usize.saturating_sub(existing);
        let made = futures::stream::iter(0..to_make)
            .map(|i| {
                let api = api.clone();
                async move {
                    let mut c = make_cluster(i, 0);
                    c.status = None;
                    c.metadata.resource_version = None;
                    c.metadata.uid = None;
                    c.metadata.creation_timestamp = None;
                    api.create(&PostParams::default(), &c).await.is_ok()
                }
            })
            .buffer_unordered(16)
            .filter(|ok| std::future::ready(*ok))
            .count()
            .await;
        let dir = tempfile::tempdir().expect("tempdir");
        let kc = dir.path().join("kubeconfig");
        kubeconfig::write(p.kubeconfig(), &kc).expect("kubeconfig");
        let kc = kc.to_string_lossy().to_string();
        let ours = env!("CARGO_BIN_EXE_acp-cockpit");
        let mut best = (Duration::MAX, Duration::MAX, 0, 0);
        for _ in 0..3 {
            let a = tokio::task::block_in_place(|| {
                time_cmd(ours, &["--kubeconfig", &kc, "clusters", "-o", "json"])
            });
            let b = tokio::task::block_in_place(|| {
                time_cmd(
                    &kubectl,
                    &[
                        "--kubeconfig",
                        &kc,
                        "get",
                        "clusters.platform.tkestack.io",
                        "-o",
                        "json",
                    ],
                )
            });
            let (Some(a), Some(b)) = (a, b) else {
                println!("clusters -o json vs kubectl: a command failed (see above)");
                p.shutdown().await;
                return;
            };
            best = (best.0.min(a.0), best.1.min(b.0), a.1, b.1);
        }
        report(
            &format!("clusters -o json, {} clusters", existing + made),
            format!("{:.0} ms", best.0.as_secs_f64() * 1e3),
            "-",
        );
        report(
            "kubectl get clusters -o json, same sandbox",
            format!("{:.0} ms", best.1.as_secs_f64() * 1e3),
            "-",
        );
        report(
            "  ratio acp-cockpit / kubectl",
            format!("{:.2}", best.0.as_secs_f64() / best.1.as_secs_f64()),
            "<= 0.5",
        );
        println!(
            "  (output bytes: acp-cockpit {} vs kubectl {})",
            best.2, best.3
        );
        p.shutdown().await;
    });
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs this too, with a smaller job.
    let quick = !std::env::args().any(|a| a == "--bench");
    bench_memory();
    bench_render();
    bench_watch_throughput();
    if quick {
        println!("clusters -o json vs kubectl: run with `cargo bench --bench clusters`");
    } else {
        bench_cli_vs_kubectl();
    }
}
