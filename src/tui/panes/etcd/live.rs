//! The single view's lower part: rotations seen this session, and the key files read from
//! the nodes (`i`): key names and fingerprints, never keys.

use ratatui::text::{Line, Span};

use super::{EtcdPane, NodeFilesView};
use crate::config::theme::{Role, Theme};
use crate::domain::timeline::format_secs;

fn clock(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_else(|| "-".to_string())
}

impl EtcdPane {
    pub(super) fn live_lines(&self, theme: &Theme) -> Vec<Line<'static>> {
        let mut lines = Vec::new();
        let seen: Vec<_> = self.log.rotations().collect();
        if !seen.is_empty() {
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "Rotations seen live:",
                theme.style(Role::Muted),
            ));
            for r in seen.iter().rev() {
                let took = |s: Option<i64>| s.map(format_secs).unwrap_or_else(|| "…".into());
                lines.push(Line::styled(
                    format!(
                        "  rev {}: started {}, every node {} ({}), migration done {} ({})",
                        r.revision,
                        clock(r.started),
                        clock(r.nodes_done),
                        took(r.nodes_secs()),
                        clock(r.migrated),
                        took(r.total_secs())
                    ),
                    theme.style(Role::Text),
                ));
            }
        }
        match &self.nodes {
            NodeFilesView::NotAsked => lines.push(Line::styled(
                "i reads encryption-provider.conf on each control-plane node over SSH (names and fingerprints only)",
                theme.style(Role::Muted),
            )),
            NodeFilesView::Reading(_) => lines.push(Line::styled(
                "Reading the key files on the control-plane nodes over SSH...",
                theme.style(Role::Info),
            )),
            NodeFilesView::Failed(why) => lines.push(Line::styled(
                format!("Node files not read: {why}"),
                theme.style(Role::Fail),
            )),
            NodeFilesView::Read(reports) => {
                lines.push(Line::raw(""));
                lines.push(Line::styled("Node files:", theme.style(Role::Muted)));
                for r in reports {
                    let (text, role) = match (&r.skipped, r.findings.len()) {
                        (Some(why), _) => (format!("not checked: {why}"), Role::Warn),
                        (None, 0) => ("same keys, history and backups present".to_string(), Role::Ok),
                        (None, n) => (format!("DRIFT ({n})"), Role::Fail),
                    };
                    let active = r
                        .keys
                        .first()
                        .map(|k| format!("{} {} ({} keys)", k.name, k.fingerprint, r.keys.len()))
                        .unwrap_or_else(|| "-".into());
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {} ", r.node), theme.style(Role::Accent)),
                        Span::styled(format!("{active}  "), theme.style(Role::Text)),
                        Span::styled(text, theme.style(role)),
                    ]));
                    for f in &r.findings {
                        lines.push(Line::styled(
                            format!("    {}: {}", f.code, f.message),
                            theme.style(Role::Warn),
                        ));
                    }
                }
            }
        }
        lines
    }
}
