//! `acp-cockpit etcd` without a cluster: every workload cluster's rotation health, worst
//! first, read at most `--cap` clusters at a time.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::Serialize;

use super::{Args, EXIT_UNCHECKED, exit_of, node_files};
use crate::cli::output::{Format, out, out_structured};
use crate::domain::cluster::ClusterPhase;
use crate::domain::etcd::GLOBAL_CLUSTER;
use crate::domain::etcd::health::{Assessment, Observed, assess};
use crate::engine::etcd::fleet::scan;
use crate::engine::etcd::nodes::NodeReport;
use crate::engine::kube::etcd::EtcdState;
use crate::engine::kube::{KubeSource, ops};
use crate::present::etcd::{due_text, since_completed_text};

/// One cluster as `etcd -o json` prints it without a cluster argument.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetRow {
    pub cluster: String,
    #[serde(flatten)]
    pub assessment: Assessment,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_files: Option<Vec<NodeReport>>,
}

/// The assessment of what the engine reported for a cluster.
pub fn assess_state(cluster: &str, state: &EtcdState, now: chrono::DateTime<Utc>) -> Assessment {
    match state {
        EtcdState::Connecting => assess(cluster, Observed::Pending, now),
        EtcdState::Config { config, .. } => assess(cluster, Observed::Config(config), now),
        EtcdState::NotInstalled { .. } => assess(cluster, Observed::NotInstalled, now),
        EtcdState::Failed(f) => assess(cluster, Observed::Unreachable(&f.message), now),
    }
}

/// Worst first, then by name.
pub fn sort(rows: &mut [FleetRow]) {
    rows.sort_by(|a, b| {
        (a.assessment.health.rank(), &a.cluster).cmp(&(b.assessment.health.rank(), &b.cluster))
    });
}

/// The table.
pub fn text(rows: &[FleetRow], now: chrono::DateTime<Utc>) -> Vec<String> {
    let cw = rows
        .iter()
        .map(|r| r.cluster.len())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = vec![format!(
        "{:<cw$}  {:<13}  {:<4}  {:<14}  {:<16}  {:<18}  DETAIL",
        "CLUSTER", "HEALTH", "REV", "LAST ROTATION", "NEXT DUE", "MIGRATION"
    )];
    for r in rows {
        let a = &r.assessment;
        let rev = a
            .revision
            .map(|r| r.to_string())
            .unwrap_or_else(|| "-".into());
        out.push(format!(
            "{:<cw$}  {:<13}  {:<4}  {:<14}  {:<16}  {:<18}  {}",
            r.cluster,
            a.health.tag(),
            rev,
            since_completed_text(a.last_completed, now),
            due_text(a.next_due, now),
            a.migration.clone().unwrap_or_else(|| "-".into()),
            a.headline
        ));
        for f in r.node_files.iter().flatten() {
            if let Some(why) = &f.skipped {
                out.push(format!("  {}: not checked: {why}", f.node));
            }
            for x in &f.findings {
                out.push(format!("  {}: {}: {}", f.node, x.code, x.message));
            }
        }
    }
    out
}

/// The fleet on a platform source.
pub async fn run_on(args: &Args, source: &KubeSource) -> anyhow::Result<i32> {
    let conn = ops::connect(source).await?;
    let clusters = ops::list_clusters(&conn.client).await?;
    let now = Utc::now();
    let mut rows: Vec<FleetRow> = Vec::new();
    let mut running = Vec::new();
    for c in &clusters {
        let name = c.metadata.name.clone().unwrap_or_default();
        let phase = c.phase();
        if name == GLOBAL_CLUSTER || phase == ClusterPhase::Running {
            if name == GLOBAL_CLUSTER {
                rows.push(row(&name, assess(&name, Observed::Pending, now)));
            } else {
                running.push(name);
            }
            continue;
        }
        let why = format!(
            "the cluster is {}, not Running: its API is not served yet",
            phase.as_str()
        );
        rows.push(row(&name, assess(&name, Observed::Unreachable(&why), now)));
    }
    let mut configs = BTreeMap::new();
    scan(
        &conn.pool,
        &conn.context,
        &running,
        args.cap,
        |name, state| {
            rows.push(row(&name, assess_state(&name, &state, now)));
            if let EtcdState::Config { config, .. } = state {
                configs.insert(name, config);
            }
        },
    )
    .await;
    if args.inspect_nodes {
        for r in rows.iter_mut() {
            if let Some(cfg) = configs.get(&r.cluster) {
                r.node_files = Some(node_files::inspect(args, &conn, &r.cluster, cfg).await?);
            }
        }
    }
    sort(&mut rows);
    match args.output {
        Format::Table => {
            for l in text(&rows, now) {
                out(&l)?;
            }
        }
        f => out_structured(&rows, f, false)?,
    }
    if args.watch {
        eprintln!("--watch follows one cluster: name it (acp-cockpit etcd <cluster> --watch)");
        return Ok(EXIT_UNCHECKED);
    }
    Ok(fleet_exit(&rows))
}

/// 1 when any cluster is unhealthy or drifts (what a script must act on), else 2 when any
/// could not be checked, else 0.
pub fn fleet_exit(rows: &[FleetRow]) -> i32 {
    let codes: Vec<i32> = rows
        .iter()
        .map(|r| exit_of(r.assessment.health, r.node_files.as_deref()))
        .collect();
    if codes.contains(&super::EXIT_UNHEALTHY) {
        super::EXIT_UNHEALTHY
    } else {
        codes.into_iter().max().unwrap_or(0)
    }
}

fn row(cluster: &str, assessment: Assessment) -> FleetRow {
    FleetRow {
        cluster: cluster.to_string(),
        assessment,
        node_files: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::kube::{FailureKind, KubeFailure};
    use crate::fixtures::etcd as demo;

    #[test]
    fn the_fleet_table_is_worst_first_with_countdowns() {
        let now = demo::now();
        let states = [
            (
                "a-healthy",
                EtcdState::Config {
                    config: Box::new(demo::complete_config(3, 60, "168h0m0s")),
                    observed: now,
                },
            ),
            (
                "b-overdue",
                EtcdState::Config {
                    config: Box::new(demo::complete_config(3, 8 * 24 * 60, "168h0m0s")),
                    observed: now,
                },
            ),
            (
                "c-lagging",
                EtcdState::Config {
                    config: Box::new(demo::lagging().last().clone()),
                    observed: now,
                },
            ),
            (
                "d-none",
                EtcdState::NotInstalled {
                    reason: String::new(),
                },
            ),
            (
                "e-down",
                EtcdState::Failed(KubeFailure::new(
                    FailureKind::Unreachable,
                    "timed out",
                    None,
                )),
            ),
        ];
        let mut rows: Vec<FleetRow> = states
            .iter()
            .map(|(n, s)| row(n, assess_state(n, s, now)))
            .collect();
        rows.push(row("global", assess("global", Observed::Pending, now)));
        sort(&mut rows);
        let order: Vec<&str> = rows.iter().map(|r| r.cluster.as_str()).collect();
        assert_eq!(
            order,
            [
                "c-lagging",
                "b-overdue",
                "e-down",
                "d-none",
                "a-healthy",
                "global"
            ]
        );
        let t = text(&rows, now);
        let healthy = t.iter().find(|l| l.starts_with("a-healthy")).expect("row");
        assert!(
            healthy.contains("1h00m ago") && healthy.contains("in 6d23h"),
            "{healthy}"
        );
        let overdue = t.iter().find(|l| l.starts_with("b-overdue")).expect("row");
        assert!(overdue.contains("overdue 1d"), "{overdue}");
        let code = rows
            .iter()
            .map(|r| exit_of(r.assessment.health, None))
            .max();
        assert_eq!(code, Some(EXIT_UNCHECKED));
        let v = serde_json::to_value(&rows).expect("json");
        assert_eq!(v[0]["health"], "lagging-node");
        assert_eq!(v[0]["cluster"], "c-lagging");
    }
}
