//! The pane's first view: every Running workload cluster's rotation health, worst first, with
//! the due date as a countdown. Enter opens the single-cluster view.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::EtcdPane;
use crate::config::theme::{Role, Theme};
use crate::domain::etcd::health::{Assessment, Health, Observed, assess};
use crate::domain::etcd::{GLOBAL_CLUSTER, SUPPORT_RULE};
use crate::engine::kube::etcd::EtcdState;
use crate::present::etcd::{due_text, since_completed_text};
use crate::present::text::fit;

/// Role of a health by its meaning.
pub fn health_role(h: Health) -> Role {
    match h {
        Health::FailedNode => Role::Fail,
        Health::LaggingNode | Health::Overdue | Health::Unreachable => Role::Warn,
        Health::Rotating | Health::Migrating => Role::Accent,
        Health::Healthy => Role::Ok,
        Health::NotReported | Health::NotInstalled | Health::Checking | Health::NotSupported => {
            Role::Muted
        }
    }
}

/// Whether a cluster passes the overview's filter: every word is part of the name, or
/// `is:<health>` names its health (`is:overdue`, `is:lagging-node`; a prefix is enough).
pub fn matches_filter(filter: &str, cluster: &str, health: Health) -> bool {
    let name = cluster.to_lowercase();
    filter.split_whitespace().all(|w| {
        let w = w.to_lowercase();
        match w.strip_prefix("is:") {
            Some(h) => health.tag().starts_with(h),
            None => name.contains(&w),
        }
    })
}

/// The one verdict of a cluster as the engine last reported it.
pub fn assessment(cluster: &str, state: Option<&EtcdState>, now: DateTime<Utc>) -> Assessment {
    match state {
        None | Some(EtcdState::Connecting) => assess(cluster, Observed::Pending, now),
        Some(EtcdState::Config { config, .. }) => assess(cluster, Observed::Config(config), now),
        Some(EtcdState::NotInstalled { .. }) => assess(cluster, Observed::NotInstalled, now),
        Some(EtcdState::Failed(f)) => assess(cluster, Observed::Unreachable(&f.message), now),
    }
}

impl EtcdPane {
    /// The overview's rows, worst first then by name: the Running workload clusters.
    pub fn fleet_rows(&self, now: DateTime<Utc>) -> Vec<(String, Assessment)> {
        let mut rows: Vec<(String, Assessment)> = self
            .choices()
            .into_iter()
            .map(|c| {
                let a = assessment(&c, self.fleet.get(&c), now);
                (c, a)
            })
            .filter(|(c, a)| matches_filter(&self.filter, c, a.health))
            .collect();
        rows.sort_by(|(an, a), (bn, b)| (a.health.rank(), an).cmp(&(b.health.rank(), bn)));
        rows
    }

    pub(super) fn render_overview(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        now: DateTime<Utc>,
    ) {
        let rows = self.fleet_rows(now);
        let width = area.width as usize;
        let mut lines = vec![Line::styled(
            "The etcd-encryption-manager's key rotation on every Running workload cluster, worst first. Enter: one cluster; Esc: back; :etcd <cluster>.",
            theme.style(Role::Muted),
        )];
        if rows.is_empty() && !self.running().iter().any(|c| c == GLOBAL_CLUSTER) {
            lines.push(Line::styled(
                "No Running clusters known yet: the platform's clusters are still loading, or none is Running (see Clusters, 1).",
                theme.style(Role::Muted),
            ));
        }
        let (cw, hw, rw, lw, dw) = (16usize, 13usize, 4usize, 10usize, 14usize);
        let detail_w = width.saturating_sub(cw + hw + rw + lw + dw + 6).max(8);
        if !rows.is_empty() {
            lines.push(Line::styled(
                format!(
                    " {} {} {} {} {} {}",
                    fit("CLUSTER", cw),
                    fit("HEALTH", hw),
                    fit("REV", rw),
                    fit("LAST", lw),
                    fit("NEXT DUE", dw),
                    fit("DETAIL", detail_w)
                ),
                theme.style(Role::Muted),
            ));
        }
        let checked = rows
            .iter()
            .filter(|(_, a)| a.health != Health::Checking)
            .count();
        for (i, (name, a)) in rows.iter().enumerate() {
            let sel = i == self.selected;
            let base = theme.style(if sel { Role::Selection } else { Role::Text });
            let detail = match (&a.migration, a.health) {
                (_, Health::LaggingNode | Health::FailedNode) if a.nodes_in_trouble.len() > 1 => {
                    format!("{}: {}", a.headline, a.nodes_in_trouble.join(", "))
                }
                (Some(m), Health::Healthy | Health::Rotating | Health::Migrating) => {
                    format!("{}; migration {m}", a.headline)
                }
                _ => a.headline.clone(),
            };
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{}{} ", if sel { ">" } else { " " }, fit(name, cw)),
                    base,
                ),
                Span::styled(
                    format!("{} ", fit(a.health.tag(), hw)),
                    base.patch(theme.style(health_role(a.health))),
                ),
                Span::styled(
                    format!(
                        "{} ",
                        fit(&a.revision.map(|r| r.to_string()).unwrap_or("-".into()), rw)
                    ),
                    base,
                ),
                Span::styled(
                    format!("{} ", fit(&since_completed_text(a.last_completed, now), lw)),
                    base,
                ),
                Span::styled(
                    format!("{} ", fit(&due_text(a.next_due, now), dw)),
                    base.patch(theme.style(if a.health == Health::Overdue {
                        Role::Warn
                    } else {
                        Role::Text
                    })),
                ),
                Span::styled(fit(&detail, detail_w), base.patch(theme.style(Role::Muted))),
            ]));
        }
        if self.editing || !self.filter.is_empty() {
            let role = if self.editing {
                Role::Accent
            } else {
                Role::Muted
            };
            lines.push(Line::styled(
                format!(
                    "filter: {}{}  ({} shown; Esc clears)",
                    self.filter,
                    if self.editing { "_" } else { "" },
                    rows.len()
                ),
                theme.style(role),
            ));
        }
        if !rows.is_empty() && checked < rows.len() {
            lines.push(Line::styled(
                format!("{checked} of {} clusters read so far", rows.len()),
                theme.style(Role::Info),
            ));
        }
        let idle = self.not_running();
        if !idle.is_empty() {
            lines.push(Line::styled(
                format!("not Running, not read: {}", idle.join(", ")),
                theme.style(Role::Muted),
            ));
        }
        if self.running().iter().any(|c| c == GLOBAL_CLUSTER) {
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!(
                    "global is not listed: etcd encryption is not supported on the global cluster (docs: \"{SUPPORT_RULE}\")"
                ),
                theme.style(Role::Muted),
            ));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }
}
