//! `acp-cockpit timeline <cluster>`: the Timeline pane's content on stdout.
//!
//! Exit code 1 when the cluster's current step or a node being added has failed, so scripts
//! can wait on a creation; 2 when it could not be checked.

use chrono::{DateTime, Utc};
use clap::Args as ClapArgs;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::GlobalArgs;
use super::output::Format;
use super::output::{out, out_structured};
use crate::domain::timeline::{StepState, Timeline, format_secs};
use crate::engine::kube::{
    ClusterModel, ConnState, FailureKind, KubeEvent, KubeFailure, ops, watch,
};
use crate::engine::{CHANNEL_CAPACITY, Event};
use crate::present::timeline::{
    blocked_text, check_failure_text, created_text, deletion_text, eta_text, gauge,
    node_waiting_text, step_mark,
};

/// Exit code when the cluster's current step, or a node being added, has failed.
pub const EXIT_FAILED_STEP: i32 = super::exit::UNHEALTHY;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Name of the cluster (`metadata.name`).
    pub cluster: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Keep printing as the cluster advances; ends when creation finishes (exit 0) or its current
    /// step or a node's fails (exit 1). Ctrl-C stops.
    #[arg(short = 'f', long)]
    pub follow: bool,
}

/// A machine (node being added) of the cluster with its own progress.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MachineProgress {
    pub name: String,
    pub ip: String,
    pub timeline: Timeline,
}

/// What `timeline -o json|yaml` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    #[serde(flatten)]
    pub timeline: Timeline,
    /// The cluster's step or a node's step has failed (see [`Report::failed`]).
    pub failed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub machines: Vec<MachineProgress>,
}

impl Report {
    /// The cluster's step or a node's step has failed: the definition the clusters table and
    /// its `is:failed` filter use too.
    pub fn failed(&self) -> bool {
        self.timeline.has_failed() || self.machines.iter().any(|m| m.timeline.has_failed())
    }
}

/// The report of a cluster in a model, at `now`; `None` if the cluster is not there.
pub fn report(model: &ClusterModel, cluster: &str, now: DateTime<Utc>) -> Option<Report> {
    let c = model.cluster(cluster)?;
    let stats = model.step_stats();
    let machines = model
        .machines_of(cluster)
        .into_iter()
        .map(|m| MachineProgress {
            name: m.name.clone(),
            ip: m.ip.clone(),
            timeline: m.timeline(now, &stats),
        })
        .collect();
    let mut r = Report {
        timeline: c.timeline(now, &stats),
        failed: false,
        machines,
    };
    r.failed = r.failed();
    Some(r)
}

/// The text the table format prints.
pub fn text(r: &Report) -> Vec<String> {
    let tl = &r.timeline;
    let p = tl.progress;
    let mut out = vec![format!(
        "cluster {}   phase {}   {} {} steps{}",
        tl.name,
        tl.phase,
        gauge(p.ratio(), 20),
        p.label(),
        if tl.finished {
            format!("   {}", created_text(tl))
        } else {
            blocked_text(tl)
                .or_else(|| eta_text(tl))
                .map(|e| format!("   ETA {e}"))
                .unwrap_or_default()
        }
    )];
    out.extend(deletion_text(tl));
    out.extend(check_failure_text(tl));
    if let Some(f) = &tl.failure {
        out.push(format!(
            "FAILED {} ({}), retrying for {}",
            f.type_,
            f.reason.clone().unwrap_or_default(),
            f.retrying_secs
                .map(format_secs)
                .unwrap_or_else(|| "?".into())
        ));
        for m in f.message.iter().flat_map(|m| m.lines()) {
            out.push(format!("  {m}"));
        }
        if let Some(h) = &f.hint {
            out.push(format!("  hint: {h}"));
        }
    }
    if tl.steps.is_empty() {
        out.push(
            "no conditions yet: the platform's cluster controller has not started on this cluster"
                .to_string(),
        );
    }
    // Upcoming names count too, so the columns stay put as steps start (a log of changed
    // lines relies on unchanged lines printing the same).
    let w = tl
        .steps
        .iter()
        .map(|s| s.type_.len())
        .chain(tl.upcoming.iter().map(String::len))
        .max()
        .unwrap_or(4)
        .max(4);
    for (i, s) in tl.steps.iter().enumerate() {
        let dur = match s.duration_secs {
            Some(d) if s.state == StepState::Running => format!("running {}", format_secs(d)),
            Some(d) if s.state == StepState::Failed => format!("failing {}", format_secs(d)),
            Some(d) => format_secs(d),
            None if s.state == StepState::Skipped => "skipped".into(),
            None => "-".into(),
        };
        let mut line = format!(
            "{} {:<w$}  {:<16}{}",
            step_mark(s.state).0,
            s.type_,
            dur,
            s.reason.clone().unwrap_or_default()
        );
        if Some(i) == tl.current {
            line.push_str("   <- current");
        }
        out.push(line.trim_end().to_string());
    }
    for t in &tl.upcoming {
        out.push(format!("{} {t}", step_mark(StepState::Pending).0));
    }
    for m in &r.machines {
        let mt = &m.timeline;
        let mut l = format!("node {} ({})   ", m.name, m.ip);
        if mt.finished {
            l.push_str("joined");
        } else if mt.steps.is_empty() {
            l.push_str(node_waiting_text(tl));
        } else {
            l.push_str(&format!(
                "{} {}",
                gauge(mt.progress.ratio(), 10),
                mt.progress.label()
            ));
        }
        if let Some(c) = mt.current_step() {
            l.push_str(&format!("   {} {}", step_mark(c.state).0, c.type_));
            if let Some(d) = c.duration_secs {
                l.push_str(&format!(" for {}", format_secs(d)));
            }
        }
        if let Some(msg) = mt.failure.as_ref().and_then(|f| f.message.as_ref()) {
            l.push_str(&format!(
                ": {}",
                msg.lines().collect::<Vec<_>>().join(" / ")
            ));
        }
        out.push(l);
    }
    out
}

fn exit_code(r: &Report) -> i32 {
    if r.failed() { EXIT_FAILED_STEP } else { 0 }
}

fn print(r: &Report, format: Format, compact: bool) -> anyhow::Result<()> {
    match format {
        Format::Table => {
            for l in text(r) {
                out(&l)?;
            }
            Ok(())
        }
        Format::Yaml if compact => {
            out("---")?;
            out_structured(r, format, false)
        }
        f => out_structured(r, f, compact),
    }
}

fn not_found(name: &str, context: &str) -> anyhow::Error {
    anyhow::anyhow!(KubeFailure::new(
        FailureKind::NotFound,
        format!("cluster {name:?} is not on platform {context}"),
        Some("list the clusters with `acp-cockpit clusters`"),
    ))
}

pub async fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<i32> {
    let resolved = crate::startup::resolve(global).await?;
    let result = run_on(&args, &resolved.source).await;
    resolved.shutdown().await;
    result
}

async fn run_on(args: &Args, source: &crate::engine::kube::KubeSource) -> anyhow::Result<i32> {
    let conn = ops::connect(source).await?;
    if !args.follow {
        // Other clusters' step durations feed the ETA.
        let clusters = ops::list_clusters(&conn.client).await?;
        let machines = ops::list_machines(&conn.client).await?;
        let model = ClusterModel::from_objects(&clusters, &machines);
        let r = report(&model, &args.cluster, Utc::now())
            .ok_or_else(|| not_found(&args.cluster, &conn.context))?;
        print(&r, args.output, false)?;
        return Ok(exit_code(&r));
    }
    let (tx, mut rx) = mpsc::channel::<Event>(CHANNEL_CAPACITY);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(watch::watch_platform(
        conn.pool.clone(),
        conn.context.clone(),
        tx,
        cancel.clone(),
    ));
    let mut model = ClusterModel::new();
    let mut last: Option<serde_json::Value> = None;
    let mut printed: Option<Vec<String>> = None;
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let mut code = 0;
    let result = loop {
        let ev = tokio::select! {
            _ = tokio::signal::ctrl_c() => break Ok(code),
            ev = rx.recv() => ev,
        };
        let Some(Event::Kube(ev)) = ev else {
            break Ok(super::exit::CANNOT_CHECK);
        };
        match ev {
            KubeEvent::Connection { state, .. } => match state {
                ConnState::AuthExpired { message, .. } => {
                    eprintln!("{message}\nhint: log in again, then rerun");
                    break Ok(super::exit::CANNOT_CHECK);
                }
                ConnState::Unreachable { error, hint } => {
                    eprintln!("{error}\nhint: {hint} (retrying)")
                }
                ConnState::Forbidden { message, missing } => {
                    eprintln!("{message}\nhint: you need {missing} (retrying)")
                }
                _ => {}
            },
            KubeEvent::ClustersChanged(d) => model.apply_clusters(&d),
            KubeEvent::MachinesChanged(d) => model.apply_machines(&d),
            _ => {}
        }
        if !model.synced {
            continue;
        }
        let Some(r) = report(&model, &args.cluster, Utc::now()) else {
            break Err(not_found(&args.cluster, &conn.context));
        };
        // Print only when something other than the clock moved.
        let mut key = serde_json::to_value(&r)?;
        strip_clock(&mut key);
        if last.as_ref() != Some(&key) {
            let lines = text(&r);
            match &printed {
                // A log (CI, a pipe) gets the whole timeline once, then only the lines that
                // changed: a 50-line reprint per step would bury it.
                Some(before) if args.output == Format::Table && !interactive => {
                    for l in changed_lines(before, &lines) {
                        out(l)?;
                    }
                }
                _ => {
                    if args.output == Format::Table && last.is_some() {
                        out("")?;
                    }
                    print(&r, args.output, true)?;
                }
            }
            printed = Some(lines);
            last = Some(key);
        }
        code = exit_code(&r);
        if r.timeline.finished {
            break Ok(0);
        }
        // A failed step is retried for as long as nobody fixes it: a script waiting on the
        // creation must hear about it now, not hang.
        if code == EXIT_FAILED_STEP {
            break Ok(code);
        }
    };
    cancel.cancel();
    let _ = task.await;
    result
}

/// The lines of `now` that `before` did not have, in order.
fn changed_lines<'a>(before: &[String], now: &'a [String]) -> Vec<&'a String> {
    let old: std::collections::HashSet<&String> = before.iter().collect();
    now.iter().filter(|l| !old.contains(l)).collect()
}

/// Drops the fields that change with every tick of the clock.
fn strip_clock(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.remove("durationSecs");
            m.remove("retryingSecs");
            m.remove("eta");
            for x in m.values_mut() {
                strip_clock(x);
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_clock),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::clusters as demo;

    fn demo_model() -> ClusterModel {
        let mut m = ClusterModel::new();
        for ev in demo::events() {
            match ev {
                Event::Kube(KubeEvent::ClustersChanged(d)) => m.apply_clusters(&d),
                Event::Kube(KubeEvent::MachinesChanged(d)) => m.apply_machines(&d),
                _ => {}
            }
        }
        m
    }

    #[test]
    fn failed_cluster_exits_1_and_prints_the_message() {
        let m = demo_model();
        let r = report(&m, "dev-sh", demo::now()).expect("report");
        assert_eq!(exit_code(&r), EXIT_FAILED_STEP);
        let t = text(&r);
        assert!(t[1].starts_with("FAILED EnsurePreflight (FailedInit), retrying for 1h20m"));
        assert!(t[2].contains("Port 6443 is in use"));
        assert!(t.iter().any(|l| l.ends_with("<- current")));
    }

    #[test]
    fn creating_cluster_shows_eta_and_machines() {
        let m = demo_model();
        let r = report(&m, "edge-lab-02", demo::now()).expect("report");
        // Node 10.0.40.52 is failing its step: the cluster's creation is not healthy, and a
        // script waiting on it must hear so (it exited 0 before).
        assert_eq!(exit_code(&r), EXIT_FAILED_STEP);
        assert_eq!(r.machines.len(), 2);
        let t = text(&r);
        assert!(t[0].contains("ETA ~"), "{}", t[0]);
        assert!(
            t.iter()
                .any(|l| l.starts_with("node edge-lab-02-10-0-40-52"))
        );
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["name"], "edge-lab-02");
        assert_eq!(json["machines"].as_array().map(Vec::len), Some(2));
        assert_eq!(json["failed"], true);
        assert!(report(&m, "nope", demo::now()).is_none());
    }

    #[test]
    fn nodes_without_steps_say_they_wait() {
        let mut m = demo_model();
        let mut waiting = crate::domain::cluster::Machine::new("dev-sh-n1", Default::default());
        waiting.spec.cluster_name = "dev-sh".into();
        waiting.spec.machine.ip = "10.0.95.50".into();
        m.apply_machines(&crate::engine::kube::Delta {
            platform: demo::CONTEXT.into(),
            reset: false,
            applied: vec![std::sync::Arc::new(
                crate::engine::kube::MachineSummary::from_machine(
                    &waiting,
                    &mut crate::engine::kube::model::Interner::default(),
                ),
            )],
            deleted: Vec::new(),
        });
        let r = report(&m, "dev-sh", demo::now()).expect("report");
        let t = text(&r);
        assert!(
            t.iter().any(|l| l
                == "node dev-sh-n1 (10.0.95.50)   waiting: the cluster's own steps install it"),
            "{t:?}"
        );
    }

    #[test]
    fn a_terminating_cluster_says_how_long_deletion_takes_and_what_holds_it() {
        let mut m = demo_model();
        let mut node = crate::domain::cluster::Machine::new("old-batch-n1", Default::default());
        node.spec.cluster_name = "old-batch".into();
        node.spec.machine.ip = "10.0.100.50".into();
        m.apply_machines(&crate::engine::kube::Delta {
            platform: demo::CONTEXT.into(),
            reset: false,
            applied: vec![std::sync::Arc::new(
                crate::engine::kube::MachineSummary::from_machine(
                    &node,
                    &mut crate::engine::kube::model::Interner::default(),
                ),
            )],
            deleted: Vec::new(),
        });
        let r = report(&m, "old-batch", demo::now()).expect("report");
        let t = text(&r);
        assert!(
            t.iter()
                .any(|l| l
                    == "deleting for 25m00s; waiting on finalizers platform.tkestack.io/cluster"),
            "{t:?}"
        );
        assert!(
            t.iter()
                .any(|l| l.ends_with("being deleted with the cluster")),
            "{t:?}"
        );
        assert!(
            !t.iter().any(|l| l.contains("no step started yet")),
            "{t:?}"
        );
        let json = serde_json::to_value(&r).expect("json");
        assert_eq!(json["deletion"]["forSecs"], 1500);
    }

    #[test]
    fn a_log_gets_only_the_lines_that_changed() {
        let before: Vec<String> = ["head 1/3", "[+] A  5s", "[>] B  running 1s", "[ ] C"]
            .map(String::from)
            .to_vec();
        let now: Vec<String> = ["head 2/3", "[+] A  5s", "[+] B  9s", "[>] C  running 0s"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            changed_lines(&before, &now),
            ["head 2/3", "[+] B  9s", "[>] C  running 0s"]
        );
    }

    #[test]
    fn clock_fields_do_not_count_as_changes() {
        let m = demo_model();
        let a = report(&m, "edge-lab-02", demo::now()).expect("report");
        let b = report(
            &m,
            "edge-lab-02",
            demo::now() + chrono::Duration::seconds(30),
        )
        .expect("report");
        let (mut x, mut y) = (
            serde_json::to_value(&a).expect("json"),
            serde_json::to_value(&b).expect("json"),
        );
        assert_ne!(x, y);
        strip_clock(&mut x);
        strip_clock(&mut y);
        assert_eq!(x, y);
    }
}
