//! What the single view says when there is no rotation to show: global, not installed, not
//! readable yet.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::EtcdPane;
use crate::config::theme::{Role, Theme};
use crate::engine::kube::etcd::{EtcdState, RESOURCE};

impl EtcdPane {
    /// `:etcd global`: the docs' rule instead of a rotation, whatever the cluster holds.
    pub(super) fn render_unsupported(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        reason: &str,
    ) {
        let mut lines = vec![
            Line::styled(format!("{reason}."), theme.style(Role::Warn)),
            Line::raw(""),
            Line::styled(
                "The etcd Encryption Manager runs on workload clusters only; nothing is read from global.",
                theme.style(Role::Text),
            ),
        ];
        let others = self.choices();
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            if others.is_empty() {
                "Pick a workload cluster with :etcd <cluster>.".to_string()
            } else {
                format!(
                    "Pick a workload cluster with :etcd <cluster> (Running: {}).",
                    others.join(", ")
                )
            },
            theme.style(Role::Muted),
        ));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    pub(super) fn render_message(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        cluster: &str,
    ) {
        let mut lines: Vec<Line> = Vec::new();
        match &self.state {
            None | Some(EtcdState::Connecting) => lines.push(Line::styled(
                format!("Reading EtcdEncryptionConfig default on cluster {cluster}..."),
                theme.style(Role::Info),
            )),
            Some(EtcdState::NotInstalled { reason }) => {
                lines.push(Line::styled(
                    format!("etcd encryption is not installed on cluster {cluster}."),
                    theme.style(Role::Warn),
                ));
                lines.push(Line::styled(
                    format!("Why: {reason}."),
                    theme.style(Role::Text),
                ));
                lines.push(Line::raw(""));
                lines.push(Line::styled("What to do:", theme.style(Role::Muted)));
                for item in [
                    "install the etcd Encryption Manager cluster plugin on this cluster (on-premises and DCS clusters are supported)",
                    "the plugin deploys etcd-encryption-manager in kube-system and creates EtcdEncryptionConfig default",
                    "this pane fills in by itself once it exists; r checks again now",
                ] {
                    lines.push(Line::from(vec![
                        Span::styled("  - ", theme.style(Role::Accent)),
                        Span::styled(item, theme.style(Role::Text)),
                    ]));
                }
            }
            Some(EtcdState::Failed(f)) => {
                lines.push(Line::styled(
                    format!("Cannot read etcd encryption of cluster {cluster}."),
                    theme.style(Role::Fail),
                ));
                lines.push(Line::styled(f.message.clone(), theme.style(Role::Fail)));
                let hint = match f.kind {
                    crate::engine::kube::FailureKind::Forbidden => format!(
                        "you need get, list and watch on {RESOURCE} in cluster {cluster}; ask a platform administrator"
                    ),
                    crate::engine::kube::FailureKind::AuthExpired => {
                        "the login expired: go to Clusters (1) and press r to log in again, then r here".to_string()
                    }
                    _ => f
                        .hint
                        .clone()
                        .map(|h| format!("{h}; the watch keeps retrying, r retries now"))
                        .unwrap_or_else(|| "the watch keeps retrying; r retries now".to_string()),
                };
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    format!("What to do: {hint}"),
                    theme.style(Role::Text),
                ));
            }
            Some(EtcdState::Config { .. }) => {}
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }
}
