//! `acp-cockpit etcd [<cluster>]`: the etcd pane's content on stdout: one cluster, or every
//! workload cluster of the platform when none is named ([`fleet`]).
//!
//! The verdict is [`crate::domain::etcd::health::assess`], the one the pane shows. Exit codes:
//! 0 when every cluster shown is fine (healthy, rotating, migrating, not installed, global),
//! 1 when any is unhealthy (failed or lagging node, overdue) or any node's files drift
//! (`--inspect-nodes`), 2 when one could not be checked (unreachable, not running).

pub mod fleet;
mod node_files;

use clap::Args as ClapArgs;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::GlobalArgs;
use super::output::Format;
use super::output::{out, out_structured};
use chrono::{DateTime, Utc};

use crate::domain::etcd::health::{Assessment, ExitClass, Health, Observed, assess};
use crate::domain::etcd::{
    EtcdEncryptionConfig, NodeAdvice, RotationSummary, node_advice, unsupported_reason,
};
use crate::engine::etcd::nodes::NodeReport;
use crate::engine::kube::etcd::{EtcdState, get_etcd_config, not_installed_reason};
use crate::engine::kube::{FailureKind, KubeEvent, KubeFailure, KubeSource, ops};
use crate::engine::{CHANNEL_CAPACITY, Event};
use crate::present::etcd::verdict_text;

/// Exit code when a cluster shown is unhealthy or a node's files drift.
pub const EXIT_UNHEALTHY: i32 = 1;
/// Exit code when a cluster could not be checked.
pub const EXIT_UNCHECKED: i32 = 2;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Name of the workload cluster (`metadata.name` of its Cluster); every workload cluster
    /// when left out.
    pub cluster: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Keep printing as the rotation advances (Ctrl-C stops).
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Read encryption-provider.conf, its history backup and backup directory on each
    /// control-plane node over SSH (logins from the Cluster's machines, else --ssh-key) and
    /// compare them; only key names and fingerprints are shown.
    #[arg(long)]
    pub inspect_nodes: bool,
    /// A private key file for nodes whose Cluster entry has no usable login.
    #[arg(long, value_name = "PATH")]
    pub ssh_key: Option<std::path::PathBuf>,
    /// Where the manager's files are on each node.
    #[arg(long, value_name = "DIR", default_value = crate::engine::etcd::nodes::DEFAULT_BASE, hide = true)]
    pub files_under: String,
    /// Clusters read at once when no cluster is named.
    #[arg(long, default_value_t = crate::engine::etcd::fleet::DEFAULT_CAP, hide = true)]
    pub cap: usize,
    /// The sandbox's SOCKS5 endpoint to its SSH nodes, set from the platform (not a flag).
    #[arg(skip)]
    pub sandbox_ssh_proxy: Option<crate::engine::ssh::ProxySpec>,
}

impl Args {
    /// The arguments for one cluster with everything else at its default.
    pub fn for_cluster(cluster: Option<&str>, output: Format) -> Args {
        Args {
            cluster: cluster.map(str::to_string),
            output,
            watch: false,
            inspect_nodes: false,
            ssh_key: None,
            files_under: crate::engine::etcd::nodes::DEFAULT_BASE.to_string(),
            cap: crate::engine::etcd::fleet::DEFAULT_CAP,
            sandbox_ssh_proxy: None,
        }
    }
}

/// One control-plane node as `etcd -o json` prints it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeRow {
    pub node: String,
    pub revision: i64,
    pub state: String,
    pub verdict: String,
    pub needs_attention: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<NodeAdvice>,
}

/// What `etcd -o json|yaml` prints.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub cluster: String,
    pub installed: bool,
    /// The one verdict the pane shows too: `healthy`, `rotating`, `migrating`,
    /// `lagging-node`, `failed-node`, `overdue`, `not-installed`, `unreachable`,
    /// `not-supported`, `not-reported`.
    pub health: Health,
    /// What the status object says of the rotation alone: `not-supported`, `not-installed`,
    /// `not-reported`, `in-progress`, `complete`, `lagging`, `failed`.
    pub verdict: String,
    pub headline: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_completed: Option<String>,
    /// Seconds past the due date, when overdue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overdue_secs: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rotation_interval: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_rotation_due: Option<String>,
    pub nodes: Vec<NodeRow>,
    /// The server's object, managedFields stripped (it holds no key material).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<EtcdEncryptionConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// `--inspect-nodes`: each node's key names, fingerprints and findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_files: Option<Vec<NodeReport>>,
}

impl Report {
    fn bare(cluster: &str, a: &Assessment, verdict: &str, hint: Option<String>) -> Report {
        Report {
            cluster: cluster.to_string(),
            installed: false,
            health: a.health,
            verdict: verdict.to_string(),
            headline: a.headline.clone(),
            last_completed: None,
            overdue_secs: None,
            revision: None,
            rotation_interval: None,
            next_rotation_due: None,
            nodes: Vec::new(),
            object: None,
            hint,
            node_files: None,
        }
    }
}

/// What to do about a cluster without etcd encryption.
pub const INSTALL_HINT: &str = "install the etcd Encryption Manager cluster plugin on the cluster (on-premises and DCS clusters; not global); it creates EtcdEncryptionConfig default";

/// The report for a cluster etcd encryption cannot be used on (global), if `cluster` is one.
pub fn unsupported_report(cluster: &str) -> Option<Report> {
    unsupported_reason(cluster)?;
    let a = assess(cluster, Observed::Pending, Utc::now());
    Some(Report::bare(
        cluster,
        &a,
        "not-supported",
        Some(
            "etcd encryption runs on workload clusters only; list them with `acp-cockpit clusters`"
                .to_string(),
        ),
    ))
}

/// The report of a cluster that exists but whose API is not served (not Running yet, or
/// failed): the platform cannot reach its etcd-encryption-manager.
pub fn not_running_report(cluster: &str, phase: &str) -> Report {
    let why = format!(
        "cluster {cluster} is {phase}, not Running: its API is not served yet, so its etcd encryption cannot be read"
    );
    let a = assess(cluster, Observed::Unreachable(&why), Utc::now());
    let mut r = Report::bare(
        cluster,
        &a,
        "not-running",
        Some(format!(
            "follow its creation with `acp-cockpit timeline {cluster}`; etcd encryption is read once it is Running"
        )),
    );
    r.headline = why;
    r
}

/// The report of a cluster's config (`None`: not installed), judged now.
pub fn report(cluster: &str, cfg: Option<&EtcdEncryptionConfig>, reason: &str) -> Report {
    report_at(cluster, cfg, reason, Utc::now())
}

/// The report of a cluster's config judged at `now`.
pub fn report_at(
    cluster: &str,
    cfg: Option<&EtcdEncryptionConfig>,
    reason: &str,
    now: DateTime<Utc>,
) -> Report {
    let Some(cfg) = cfg else {
        let a = assess(cluster, Observed::NotInstalled, now);
        let mut r = Report::bare(cluster, &a, "not-installed", Some(INSTALL_HINT.to_string()));
        r.headline = format!("etcd encryption is not installed: {reason}");
        return r;
    };
    let a = assess(cluster, Observed::Config(cfg), now);
    let st = cfg.status.clone().unwrap_or_default();
    let summary = st.summary();
    let nodes = st
        .node_verdicts()
        .into_iter()
        .map(|(node, v)| {
            let d = &st.deploy_status[node];
            let attention = st.needs_attention(node);
            NodeRow {
                node: node.to_string(),
                revision: d.revision,
                state: d.state.clone(),
                verdict: verdict_text(&v, st.revision, attention),
                needs_attention: attention,
                advice: node_advice(node, &v, st.revision).filter(|_| attention),
            }
        })
        .collect();
    let hint = match &summary {
        RotationSummary::NotReported => Some(
            "the etcd-encryption-manager has not reported yet; check its pod: kubectl -n kube-system get pods | grep etcd-encryption-manager"
                .to_string(),
        ),
        _ => None,
    };
    Report {
        cluster: cluster.to_string(),
        installed: true,
        health: a.health,
        verdict: summary.tag().to_string(),
        headline: a.headline.clone(),
        last_completed: a.last_completed.map(|t| t.to_rfc3339()),
        overdue_secs: a.overdue_secs,
        revision: Some(st.revision),
        rotation_interval: Some(cfg.spec.rotation_interval.clone()),
        next_rotation_due: a.next_due.map(|t| t.to_rfc3339()),
        nodes,
        object: Some(cfg.clone()),
        hint,
        node_files: None,
    }
}

/// The text the table format prints.
pub fn text(r: &Report) -> Vec<String> {
    let mut out = vec![format!("cluster {}   {}", r.cluster, r.headline)];
    if !r.installed {
        if let Some(h) = &r.hint {
            out.push(format!("hint: {h}"));
        }
        return out;
    }
    let mut l = String::new();
    if let Some(rev) = r.revision {
        l.push_str(&format!("key rev {rev}"));
    }
    if let Some(i) = &r.rotation_interval {
        l.push_str(&format!("   rotates every {i}"));
    }
    if let Some(d) = &r.next_rotation_due {
        l.push_str(&format!("   next due {d}"));
    }
    out.push(l);
    if let Some(m) = r
        .object
        .as_ref()
        .and_then(|o| o.status.as_ref())
        .and_then(|s| s.migration.as_ref())
    {
        let mut l = format!("migration {} rev {}", m.state, m.revision);
        if let Some(t) = &m.complete_timestamp {
            l.push_str(&format!("   completed {t}"));
        }
        if let Some(msg) = m.message.as_deref().filter(|s| !s.is_empty()) {
            l.push_str(&format!("   {msg}"));
        }
        out.push(l);
    }
    let nw = r
        .nodes
        .iter()
        .map(|n| n.node.len())
        .max()
        .unwrap_or(4)
        .max(4);
    out.push(format!(
        "{:<nw$}  {:<4}  {:<14}  VERDICT",
        "NODE", "REV", "STATE"
    ));
    for n in &r.nodes {
        out.push(format!(
            "{:<nw$}  {:<4}  {:<14}  {}",
            n.node, n.revision, n.state, n.verdict
        ));
    }
    for n in &r.nodes {
        if let Some(a) = &n.advice {
            out.push(String::new());
            out.push(a.meaning.clone());
            if let Some(rep) = &a.reported {
                out.push(format!("  reported: {rep}"));
            }
            for c in &a.checks {
                out.push(format!("  check: {c}"));
            }
        }
    }
    if let Some(files) = &r.node_files {
        out.extend(node_files::text(files));
    }
    if let Some(h) = &r.hint {
        out.push(format!("hint: {h}"));
    }
    out
}

/// The exit code of one verdict, node file drift included.
pub fn exit_of(health: Health, files: Option<&[NodeReport]>) -> i32 {
    let drift = files.is_some_and(|f| f.iter().any(NodeReport::drifted));
    match health.exit_class() {
        ExitClass::CouldNotCheck => EXIT_UNCHECKED,
        ExitClass::Unhealthy => EXIT_UNHEALTHY,
        ExitClass::Fine if drift => EXIT_UNHEALTHY,
        ExitClass::Fine => 0,
    }
}

fn exit_code(r: &Report) -> i32 {
    exit_of(r.health, r.node_files.as_deref())
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

pub async fn run(mut args: Args, global: &GlobalArgs) -> anyhow::Result<i32> {
    if let Some(r) = args.cluster.as_deref().and_then(unsupported_report) {
        print(&r, args.output, false)?;
        return Ok(exit_code(&r));
    }
    let resolved = crate::startup::resolve(global).await?;
    args.sandbox_ssh_proxy = resolved.ssh_proxy.clone();
    let result = run_on(&args, &resolved.source).await;
    resolved.shutdown().await;
    result
}

/// The command on a platform source; public so tests can run it against a sandbox.
pub async fn run_on(args: &Args, source: &KubeSource) -> anyhow::Result<i32> {
    let Some(cluster) = args.cluster.as_deref() else {
        return fleet::run_on(args, source).await;
    };
    // The docs' rule settles it without asking the platform: whatever global holds, it is
    // not a rotation the etcd Encryption Manager runs (and `--watch` has nothing to follow).
    if let Some(r) = unsupported_report(cluster) {
        print(&r, args.output, false)?;
        return Ok(exit_code(&r));
    }
    let conn = ops::connect(source).await?;
    // A typo should say so, not read as "etcd encryption not installed"; a cluster that is
    // not running yet should say what it is.
    match ops::get_cluster(&conn.client, cluster).await {
        Err(f) if f.kind == FailureKind::NotFound => {
            anyhow::bail!(KubeFailure::new(
                FailureKind::NotFound,
                format!("cluster {cluster:?} is not on platform {}", conn.context),
                Some("list the clusters with `acp-cockpit clusters`"),
            ));
        }
        Err(f) => return Err(f.into()),
        Ok(c) if c.phase() != crate::domain::cluster::ClusterPhase::Running => {
            let r = not_running_report(cluster, c.phase().as_str());
            print(&r, args.output, false)?;
            return Ok(exit_code(&r));
        }
        Ok(_) => {}
    }
    if !args.watch {
        let cfg = get_etcd_config(&conn.pool, &conn.context, cluster).await?;
        let mut r = report(cluster, cfg.as_ref(), &not_installed_reason(false));
        if args.inspect_nodes
            && let Some(cfg) = &cfg
        {
            r.node_files = Some(node_files::inspect(args, &conn, cluster, cfg).await?);
        }
        print(&r, args.output, false)?;
        return Ok(exit_code(&r));
    }
    watch(args, &conn, cluster).await
}

async fn watch(args: &Args, conn: &ops::Connected, cluster: &str) -> anyhow::Result<i32> {
    let (tx, mut rx) = mpsc::channel::<Event>(CHANNEL_CAPACITY);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(crate::engine::kube::etcd::watch_etcd(
        conn.pool.clone(),
        conn.context.clone(),
        cluster.to_string(),
        tx,
        cancel.clone(),
    ));
    let mut code = 0;
    let mut first = true;
    let result = loop {
        let ev = tokio::select! {
            _ = tokio::signal::ctrl_c() => break Ok(code),
            ev = rx.recv() => ev,
        };
        let Some(Event::Kube(KubeEvent::Etcd { state, .. })) = ev else {
            if ev.is_none() {
                break Ok(EXIT_UNCHECKED);
            }
            continue;
        };
        let r = match &state {
            EtcdState::Connecting => continue,
            EtcdState::Config { config, .. } => report(cluster, Some(config), ""),
            EtcdState::NotInstalled { reason } => report(cluster, None, reason),
            EtcdState::Failed(f) => {
                eprintln!("{f}");
                if f.kind == FailureKind::AuthExpired {
                    break Ok(EXIT_UNCHECKED);
                }
                eprintln!("(retrying)");
                continue;
            }
        };
        if args.output == Format::Table && !first {
            out("")?;
        }
        first = false;
        print(&r, args.output, true)?;
        code = exit_code(&r);
    };
    cancel.cancel();
    let _ = task.await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::etcd as demo;

    fn cfg_of(s: &demo::Scenario) -> EtcdEncryptionConfig {
        s.last().clone()
    }

    #[test]
    fn failed_node_exits_1_with_advice() {
        let cfg = cfg_of(&demo::failed());
        let r = report("prod-east", Some(&cfg), "");
        // Exit 1 means "unhealthy" for every verdict (it was 2 before the codes were unified).
        assert_eq!(exit_code(&r), EXIT_UNHEALTHY);
        assert_eq!(r.health, Health::FailedNode);
        assert_eq!(r.verdict, "failed");
        let t = text(&r);
        assert!(t[0].contains("node 192.168.14.23 failed"), "{}", t[0]);
        assert!(t.iter().any(|l| l.contains("RestartFailed")));
        assert!(t.iter().any(|l| l.starts_with("  check: ")));
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(v["nodes"][2]["needsAttention"], true);
        assert_eq!(v["object"]["spec"]["type"], "aesgcm");
    }

    #[test]
    fn lagging_exits_1_and_in_progress_0() {
        let lag = report("edge-lab", Some(&cfg_of(&demo::lagging())), "");
        assert_eq!((lag.verdict.as_str(), exit_code(&lag)), ("lagging", 1));
        let busy = report("staging", Some(&cfg_of(&demo::in_progress())), "");
        assert_eq!(busy.verdict, "in-progress");
        assert!(busy.nodes.iter().all(|n| n.advice.is_none()));
    }

    #[test]
    fn a_complete_rotation_past_its_due_date_is_overdue_and_exits_1() {
        // Issue 12 item 5: the status object says "complete", the clock says "overdue"; the
        // CLI used to print "rotation complete" and exit 0 while the pane said overdue.
        let cfg = demo::complete_config(7, 8 * 24 * 60, "168h0m0s");
        let r = report_at("staging", Some(&cfg), "", demo::now());
        assert_eq!(r.health, Health::Overdue);
        assert_eq!(r.verdict, "complete");
        assert!(r.headline.contains("overdue by 1d"), "{}", r.headline);
        assert_eq!(exit_code(&r), EXIT_UNHEALTHY);
        assert_eq!(r.overdue_secs, Some(24 * 3600));
        let fresh = report_at(
            "staging",
            Some(&demo::complete_config(7, 60, "168h0m0s")),
            "",
            demo::now(),
        );
        assert_eq!((fresh.health, exit_code(&fresh)), (Health::Healthy, 0));
        let v = serde_json::to_value(&r).expect("json");
        assert_eq!(v["health"], "overdue");
    }

    #[test]
    fn a_cluster_not_running_says_so_and_exits_2() {
        let r = not_running_report("ops-stuck", "Failed");
        assert!(
            r.headline.contains("ops-stuck is Failed, not Running"),
            "{}",
            r.headline
        );
        assert!(!r.headline.contains("not found"));
        assert_eq!(
            (r.health, exit_code(&r)),
            (Health::Unreachable, EXIT_UNCHECKED)
        );
    }

    #[test]
    fn node_file_drift_exits_1_even_when_the_rotation_is_healthy() {
        use crate::domain::etcd::node_files::Finding;
        let drift = NodeReport {
            node: "n2".into(),
            skipped: None,
            keys: Vec::new(),
            findings: vec![Finding {
                code: "key-list-differs",
                message: "x".into(),
            }],
        };
        assert_eq!(
            exit_of(Health::Healthy, Some(std::slice::from_ref(&drift))),
            EXIT_UNHEALTHY
        );
        assert_eq!(exit_of(Health::Healthy, Some(&[])), 0);
        let t = node_files::text(&[drift]);
        assert!(t.iter().any(|l| l.contains("DRIFT (1)")), "{t:?}");
    }

    #[test]
    fn global_is_not_supported_and_says_why() {
        let r = unsupported_report("global").expect("global is excluded");
        assert_eq!((r.verdict.as_str(), exit_code(&r)), ("not-supported", 0));
        let t = text(&r);
        assert!(
            t[0].contains("etcd encryption is not supported on the global cluster"),
            "{}",
            t[0]
        );
        assert!(t[0].contains("Not supported: global cluster."), "{}", t[0]);
        assert!(t[1].starts_with("hint: "), "{t:?}");
        assert!(
            !t.iter()
                .any(|l| l.contains("complete") || l.contains("key rev"))
        );
        assert!(unsupported_report("prod-east").is_none());
    }

    #[tokio::test]
    async fn etcd_global_reports_the_rule_without_reading_the_cluster() {
        // A source that cannot be reached: the answer must not depend on the platform.
        let source = KubeSource::Kubeconfig {
            path: Some("/nonexistent/acp-cockpit-test/kubeconfig".into()),
            context: None,
        };
        let mut args = Args::for_cluster(Some("global"), Format::Json);
        args.watch = true;
        assert_eq!(run_on(&args, &source).await.expect("no platform needed"), 0);
    }

    #[test]
    fn not_installed_says_what_to_do() {
        let r = report("dev-new", None, "no config");
        assert!(!r.installed);
        assert_eq!(exit_code(&r), 0);
        let t = text(&r);
        assert!(t[1].starts_with("hint: install the etcd Encryption Manager"));
        let v = serde_json::to_value(&r).expect("json");
        assert!(v.get("object").is_none());
        assert_eq!(v["verdict"], "not-installed");
    }
}
