//! `acp-cockpit clusters`: the Clusters pane's table on stdout, once or as it changes.

use std::collections::HashMap;

use chrono::Utc;
use clap::Args as ClapArgs;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::GlobalArgs;
use super::output::{Format, out, out_structured};
use crate::engine::kube::model::{Column, Filter, compare_rows};
use crate::engine::kube::{ClusterModel, ClusterRow, ConnState, KubeEvent, ops, watch};
use crate::engine::{CHANNEL_CAPACITY, Event};
use crate::present::clusters::{phase_tone, progress_text};
use crate::present::text::{fit, nodes_label, short_age};
use crate::present::{Tone, ansi};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Keep running and print clusters as they change (Ctrl-C stops).
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// The pane's filter: text, /regex/ or re:..., phase:, version:, type:, step:, is:failed (all must match).
    #[arg(long, value_name = "QUERY")]
    pub filter: Option<String>,
    /// Colors in the table, from the global `--color` (not a flag of its own).
    #[arg(skip)]
    pub color: bool,
}

/// The table lines of rows (header first), as `clusters` prints them.
pub fn table(rows: &[ClusterRow], now: chrono::DateTime<Utc>) -> Vec<String> {
    table_in(rows, now, &mut None)
}

/// Column widths of a table, kept by `--watch` so later rows line up under the first header.
pub type Widths = [usize; 8];

/// The table lines; with `keep` set, the widths it holds are used (a longer value pushes only
/// its own line out), else they are measured and stored there.
pub fn table_in(
    rows: &[ClusterRow],
    now: chrono::DateTime<Utc>,
    keep: &mut Option<Widths>,
) -> Vec<String> {
    table_painted(rows, now, keep, false)
}

/// [`table_in`], with the phase and a failing progress in color when `color` is on.
pub fn table_painted(
    rows: &[ClusterRow],
    now: chrono::DateTime<Utc>,
    keep: &mut Option<Widths>,
    color: bool,
) -> Vec<String> {
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            let progress = progress_text(r);
            [
                r.name.clone(),
                if r.display_name.is_empty() {
                    "-".into()
                } else {
                    r.display_name.clone()
                },
                r.phase.clone(),
                r.version.clone(),
                r.type_.clone(),
                nodes_label(r.control_plane, r.workers),
                progress,
                r.age_secs(now).map(short_age).unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let titles = Column::ALL.map(|c| c.title().to_string());
    let widths = *keep.get_or_insert_with(|| {
        let mut widths = titles.clone().map(|t| t.len());
        for c in &cells {
            for (w, v) in widths.iter_mut().zip(c) {
                *w = (*w).max(unicode_width::UnicodeWidthStr::width(v.as_str()));
            }
        }
        widths
    });
    // Colors go on after the padding, so escape codes never count as width.
    let line = |vals: &[String; 8], paint: bool| {
        let mut s = String::new();
        for (i, (v, w)) in vals.iter().zip(widths).enumerate() {
            let tone = match i {
                2 => phase_tone(v),
                6 if v.contains("FAILED") => Tone::Fail,
                _ => Tone::Text,
            };
            if i + 1 == vals.len() {
                s.push_str(v);
            } else {
                let vw = unicode_width::UnicodeWidthStr::width(v.as_str());
                let cell = fit(v, w.max(vw));
                let text = cell.trim_end();
                s.push_str(&ansi(text, tone, paint));
                s.push_str(&cell[text.len()..]);
                s.push_str("   ");
            }
        }
        s.trim_end().to_string()
    };
    let mut out = vec![line(&titles, false)];
    out.extend(cells.iter().map(|c| line(c, color)));
    out
}

/// Prints changed rows (the table header only once) and deleted names.
fn print_changes(
    format: Format,
    color: bool,
    changed: &[ClusterRow],
    deleted: &[String],
    widths: &mut Option<Widths>,
) -> anyhow::Result<()> {
    match format {
        Format::Table => {
            // The first rows printed fix the header and the column widths.
            if !changed.is_empty() {
                let header_printed = widths.is_some();
                let lines = table_painted(changed, Utc::now(), widths, color);
                for l in lines.iter().skip(usize::from(header_printed)) {
                    out(l)?;
                }
            }
            for n in deleted {
                out(&format!("{n}   (deleted)"))?;
            }
        }
        Format::Json => {
            for r in changed {
                out_structured(r, Format::Json, true)?;
            }
            for n in deleted {
                out(&serde_json::json!({"name": n, "deleted": true}).to_string())?;
            }
        }
        Format::Yaml => {
            for r in changed {
                out("---")?;
                out_structured(r, Format::Yaml, false)?;
            }
            for n in deleted {
                out(&format!("---\nname: {n}\ndeleted: true"))?;
            }
        }
    }
    Ok(())
}

fn sorted_rows(model: &ClusterModel, filter: &Filter) -> Vec<ClusterRow> {
    let mut rows: Vec<ClusterRow> = model
        .rows()
        .into_iter()
        .filter(|r| filter.matches(r))
        .collect();
    rows.sort_by(|a, b| compare_rows(a, b, Column::Name));
    rows
}

pub async fn run(mut args: Args, global: &GlobalArgs) -> anyhow::Result<i32> {
    args.color = super::output::color_enabled(global.color);
    let filter = Filter::parse(args.filter.as_deref().unwrap_or(""))
        .map_err(|e| anyhow::anyhow!("--filter: {e}"))?;
    let resolved = crate::startup::resolve(global).await?;
    let result = run_on(&args, &filter, &resolved.source).await;
    resolved.shutdown().await;
    result
}

async fn run_on(
    args: &Args,
    filter: &Filter,
    source: &crate::engine::kube::KubeSource,
) -> anyhow::Result<i32> {
    let conn = ops::connect(source).await?;
    if !args.watch {
        let clusters = ops::list_clusters(&conn.client).await?;
        // Nodes being added show in their cluster's row.
        let machines = ops::list_machines(&conn.client).await?;
        let model = ClusterModel::from_objects(&clusters, &machines);
        let rows = sorted_rows(&model, filter);
        match args.output {
            Format::Table => {
                if rows.is_empty() {
                    eprintln!(
                        "No clusters on {}{}.",
                        conn.context,
                        if filter.is_empty() {
                            ""
                        } else {
                            " match the filter"
                        }
                    );
                } else {
                    for l in table_painted(&rows, Utc::now(), &mut None, args.color) {
                        out(&l)?;
                    }
                }
            }
            f => out_structured(&rows, f, false)?,
        }
        return Ok(0);
    }
    watch_and_print(args.output, args.color, filter, conn).await
}

async fn watch_and_print(
    format: Format,
    color: bool,
    filter: &Filter,
    conn: ops::Connected,
) -> anyhow::Result<i32> {
    let (tx, mut rx) = mpsc::channel::<Event>(CHANNEL_CAPACITY);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(watch::watch_platform(
        conn.pool.clone(),
        conn.context.clone(),
        tx,
        cancel.clone(),
    ));
    let mut model = ClusterModel::new();
    // Set with the first table printed: later rows keep its header's columns.
    let mut widths: Option<Widths> = None;
    // What each cluster's last printed row said, so machine updates print only real changes.
    let mut printed: HashMap<String, ClusterRow> = HashMap::new();
    let code = loop {
        let ev = tokio::select! {
            _ = tokio::signal::ctrl_c() => break 0,
            ev = rx.recv() => ev,
        };
        let Some(Event::Kube(ev)) = ev else {
            break super::exit::CANNOT_CHECK;
        };
        match ev {
            KubeEvent::Connection { state, .. } => match state {
                ConnState::Ready | ConnState::Connecting => {}
                ConnState::AuthExpired { message, .. } => {
                    eprintln!("{message}");
                    eprintln!(
                        "hint: log in again (e.g. run the kubeconfig's exec plugin), then rerun"
                    );
                    break super::exit::CANNOT_CHECK;
                }
                ConnState::Unreachable { error, hint } => {
                    eprintln!("{error}\nhint: {hint} (retrying)")
                }
                ConnState::Forbidden { message, missing } => {
                    eprintln!("{message}\nhint: you need {missing} (retrying)")
                }
            },
            KubeEvent::ClustersChanged(d) => {
                // A new plan changes every creating cluster's total: print them all again.
                let plan_changed = model.apply_clusters_and_check_plan(&d);
                let changed: Vec<ClusterRow> = if d.reset || plan_changed {
                    sorted_rows(&model, filter)
                } else {
                    let mut v: Vec<ClusterRow> = d
                        .applied
                        .iter()
                        .map(|c| model.row(c))
                        .filter(|r| filter.matches(r))
                        .collect();
                    v.sort_by(|a, b| a.name.cmp(&b.name));
                    v
                };
                print_changes(format, color, &changed, &d.deleted, &mut widths)?;
                for r in changed {
                    printed.insert(r.name.clone(), r);
                }
                for n in &d.deleted {
                    printed.remove(n);
                }
            }
            // Nodes being added show in their cluster's row: print the rows that now read
            // differently.
            KubeEvent::MachinesChanged(d) => {
                let changed: Vec<ClusterRow> = model
                    .apply_machines_and_list_clusters(&d)
                    .iter()
                    .filter_map(|n| model.cluster(n))
                    .map(|c| model.row(c))
                    .filter(|r| printed.contains_key(&r.name) && printed.get(&r.name) != Some(r))
                    .filter(|r| filter.matches(r))
                    .collect();
                print_changes(format, color, &changed, &[], &mut widths)?;
                for r in changed {
                    printed.insert(r.name.clone(), r);
                }
            }
            _ => {}
        }
    };
    cancel.cancel();
    let _ = task.await;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::timeline::Progress;

    #[test]
    fn table_aligns_columns_and_marks_failures() {
        let now = Utc::now();
        let rows = vec![
            ClusterRow {
                name: "a".into(),
                display_name: String::new(),
                phase: "Running".into(),
                version: "1.28.13".into(),
                type_: "Baremetal".into(),
                control_plane: 3,
                workers: 2,
                progress: Progress::counted(28, 28, false),
                current_step: None,
                failed: false,
                failure: None,
                created: Some(now - chrono::Duration::hours(3)),
                adding_nodes: 1,
                failing_node: Some(crate::engine::kube::model::NodeFailure {
                    ip: "10.0.0.9".into(),
                    step: "EnsureNodeReady".into(),
                }),
            },
            ClusterRow {
                name: "long-name".into(),
                display_name: "Long".into(),
                phase: "Initializing".into(),
                version: "1.32.7".into(),
                type_: "Baremetal".into(),
                control_plane: 1,
                workers: 0,
                progress: Progress::counted(8, 9, true),
                current_step: Some("EnsurePreflight".into()),
                failed: true,
                failure: None,
                created: None,
                adding_nodes: 0,
                failing_node: None,
            },
        ];
        let t = table(&rows, now);
        assert_eq!(t.len(), 3);
        assert!(t[0].starts_with("NAME        DISPLAY NAME"));
        assert!(t[1].contains("28/28 node 10.0.0.9 FAILED EnsureNodeReady"));
        assert!(t[1].contains("3cp+2w"));
        assert!(t[1].ends_with("3h"));
        assert!(t[2].contains("8/9+ FAILED EnsurePreflight"));
        assert!(t[2].ends_with('-'));
        let col = t[0].find("PHASE").expect("phase column");
        assert_eq!(&t[2][col..col + 12], "Initializing");
        // Watch: a later batch keeps the first header's columns, even for a short row.
        let mut keep = None;
        let painted = table_painted(&rows, now, &mut None, true);
        assert!(
            painted[2].contains("\x1b[31m"),
            "a failing row is red: {:?}",
            painted[2]
        );
        assert!(!painted[0].contains('\x1b'), "the header stays plain");
        let plain: Vec<String> = painted
            .iter()
            .map(|l| {
                l.replace("\x1b[31m", "")
                    .replace("\x1b[32m", "")
                    .replace("\x1b[36m", "")
                    .replace("\x1b[0m", "")
            })
            .collect();
        assert_eq!(plain, table(&rows, now), "colors never change the layout");
        let first = table_in(&rows, now, &mut keep);
        let later = table_in(&rows[..1], now, &mut keep);
        assert_eq!(later[1], first[1]);
    }
}
