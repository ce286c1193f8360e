//! `acp-cockpit etcd <cluster>`: the etcd pane's content on stdout.
//!
//! Exit code 2 when a control-plane node failed to take the new key (or the migration failed),
//! so a script or a CI job can alert on it; 0 otherwise, including when etcd encryption is not
//! installed (the report says so) and for the global cluster, where the docs say etcd
//! encryption is not supported (the report quotes that rule).

use clap::Args as ClapArgs;
use serde::Serialize;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::GlobalArgs;
use super::output::Format;
use super::output::{out, out_structured};
use crate::domain::etcd::{
    EtcdEncryptionConfig, NodeAdvice, RotationSummary, node_advice, unsupported_reason,
};
use crate::engine::kube::etcd::{EtcdState, get_etcd_config, not_installed_reason};
use crate::engine::kube::{FailureKind, KubeEvent, KubeFailure, KubeSource, ops};
use crate::engine::{CHANNEL_CAPACITY, Event};
use crate::present::etcd::verdict_text;

/// Exit code when a node (or the migration) failed.
pub const EXIT_FAILED_NODE: i32 = 2;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Name of the workload cluster (`metadata.name` of its Cluster).
    pub cluster: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Keep printing as the rotation advances (Ctrl-C stops).
    #[arg(short = 'w', long)]
    pub watch: bool,
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
    /// `not-supported`, `not-installed`, `not-reported`, `in-progress`, `complete`, `lagging`,
    /// `failed`.
    pub verdict: String,
    pub headline: String,
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
}

/// What to do about a cluster without etcd encryption.
pub const INSTALL_HINT: &str = "install the etcd Encryption Manager cluster plugin on the cluster (on-premises and DCS clusters; not global); it creates EtcdEncryptionConfig default";

/// The report for a cluster etcd encryption cannot be used on (global), if `cluster` is one.
pub fn unsupported_report(cluster: &str) -> Option<Report> {
    let reason = unsupported_reason(cluster)?;
    Some(Report {
        cluster: cluster.to_string(),
        installed: false,
        verdict: "not-supported".to_string(),
        headline: reason,
        revision: None,
        rotation_interval: None,
        next_rotation_due: None,
        nodes: Vec::new(),
        object: None,
        hint: Some(
            "etcd encryption runs on workload clusters only; list them with `acp-cockpit clusters`"
                .to_string(),
        ),
    })
}

/// The report of a cluster's config (`None`: not installed).
pub fn report(cluster: &str, cfg: Option<&EtcdEncryptionConfig>, reason: &str) -> Report {
    let Some(cfg) = cfg else {
        return Report {
            cluster: cluster.to_string(),
            installed: false,
            verdict: "not-installed".to_string(),
            headline: format!("etcd encryption is not installed: {reason}"),
            revision: None,
            rotation_interval: None,
            next_rotation_due: None,
            nodes: Vec::new(),
            object: None,
            hint: Some(INSTALL_HINT.to_string()),
        };
    };
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
        verdict: summary.tag().to_string(),
        headline: summary.headline(),
        revision: Some(st.revision),
        rotation_interval: Some(cfg.spec.rotation_interval.clone()),
        next_rotation_due: cfg.next_rotation_due().map(|t| t.to_rfc3339()),
        nodes,
        object: Some(cfg.clone()),
        hint,
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
    if let Some(h) = &r.hint {
        out.push(format!("hint: {h}"));
    }
    out
}

fn exit_code(r: &Report) -> i32 {
    if r.verdict == "failed" {
        EXIT_FAILED_NODE
    } else {
        0
    }
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

pub async fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<i32> {
    if let Some(r) = unsupported_report(&args.cluster) {
        print(&r, args.output, false)?;
        return Ok(exit_code(&r));
    }
    let resolved = crate::startup::resolve(global).await?;
    let result = run_on(&args, &resolved.source).await;
    resolved.shutdown().await;
    result
}

/// The command on a platform source; public so tests can run it against a sandbox.
pub async fn run_on(args: &Args, source: &KubeSource) -> anyhow::Result<i32> {
    // The docs' rule settles it without asking the platform: whatever global holds, it is
    // not a rotation the etcd Encryption Manager runs (and `--watch` has nothing to follow).
    if let Some(r) = unsupported_report(&args.cluster) {
        print(&r, args.output, false)?;
        return Ok(exit_code(&r));
    }
    let conn = ops::connect(source).await?;
    // A typo should say so, not read as "etcd encryption not installed".
    if let Err(f) = ops::get_cluster(&conn.client, &args.cluster).await {
        if f.kind == FailureKind::NotFound {
            anyhow::bail!(KubeFailure::new(
                FailureKind::NotFound,
                format!(
                    "cluster {:?} is not on platform {}",
                    args.cluster, conn.context
                ),
                Some("list the clusters with `acp-cockpit clusters`"),
            ));
        }
        return Err(f.into());
    }
    if !args.watch {
        let cfg = get_etcd_config(&conn.pool, &conn.context, &args.cluster).await?;
        let r = report(&args.cluster, cfg.as_ref(), &not_installed_reason(false));
        print(&r, args.output, false)?;
        return Ok(exit_code(&r));
    }
    let (tx, mut rx) = mpsc::channel::<Event>(CHANNEL_CAPACITY);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(crate::engine::kube::etcd::watch_etcd(
        conn.pool.clone(),
        conn.context.clone(),
        args.cluster.clone(),
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
                break Ok(1);
            }
            continue;
        };
        let r = match &state {
            EtcdState::Connecting => continue,
            EtcdState::Config { config, .. } => report(&args.cluster, Some(config), ""),
            EtcdState::NotInstalled { reason } => report(&args.cluster, None, reason),
            EtcdState::Failed(f) => {
                eprintln!("{f}");
                if f.kind == FailureKind::AuthExpired {
                    break Ok(1);
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
    fn failed_node_exits_2_with_advice() {
        let cfg = cfg_of(&demo::failed());
        let r = report("prod-east", Some(&cfg), "");
        assert_eq!(exit_code(&r), EXIT_FAILED_NODE);
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
    fn lagging_and_in_progress_exit_0() {
        let lag = report("edge-lab", Some(&cfg_of(&demo::lagging())), "");
        assert_eq!((lag.verdict.as_str(), exit_code(&lag)), ("lagging", 0));
        let busy = report("staging", Some(&cfg_of(&demo::in_progress())), "");
        assert_eq!(busy.verdict, "in-progress");
        assert!(busy.nodes.iter().all(|n| n.advice.is_none()));
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
        let args = Args {
            cluster: "global".into(),
            output: Format::Json,
            watch: true,
        };
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
