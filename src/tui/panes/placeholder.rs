//! Stands in for a pane that is not built yet: it says what the pane will show, so the shell is
//! complete and honest at every stage.

use ratatui::Frame;
use ratatui::layout::{Margin, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};

use super::{Effect, Pane, PaneId, RenderCtx};
use crate::config::theme::Role;

pub struct PlaceholderPane {
    id: PaneId,
    target: Option<String>,
    /// What the finished pane shows: a summary and the list of what it will check or display.
    plan: (&'static str, &'static [&'static str]),
}

impl PlaceholderPane {
    pub fn new(id: PaneId) -> Self {
        PlaceholderPane {
            id,
            target: None,
            plan: Self::plan_of(id),
        }
    }

    /// What the finished pane shows: a summary and the list of what it will check or display.
    fn plan_of(id: PaneId) -> (&'static str, &'static [&'static str]) {
        match id.key() {
            "clusters" => (
                "The clusters of the platform, watched live.",
                &[
                    "name, phase, Kubernetes version, nodes ready / total, age",
                    "filter by name, sort by any column, YAML on demand",
                    "Enter opens the cluster's creation timeline",
                ],
            ),
            "create" => (
                "The cluster creation wizard, checked against every creation rule as you type.",
                &[
                    "basics, network (CIDR overlap and capacity), nodes, features",
                    "node SSH preflight before anything is created",
                    "review the manifest, save it as a draft, or create it after confirmation",
                ],
            ),
            "drafts" => (
                "Saved node drafts: restore, rename, delete, import and export.",
                &[
                    "drafts never hold passwords or keys",
                    "atomic writes with a backup of the previous version",
                ],
            ),
            "timeline" => (
                "A cluster's creation as a timeline of steps with durations.",
                &[
                    "the current step, the failing condition and its message",
                    "an ETA from the platform's past creations",
                    "open it with Enter on a cluster or with :timeline <cluster>",
                ],
            ),
            "etcd" => (
                "etcd encryption at rest, per control-plane node.",
                &[
                    "the etcd-encryption-manager EtcdEncryptionConfig status",
                    "per node: the encryption-provider.conf in use, providers in order",
                    "keys shown as names and short fingerprints only, never key material",
                    "rotation progress and nodes that disagree",
                ],
            ),
            "registry" => (
                "The built-in registry: access and a troubleshooting checklist, run automatically.",
                &[
                    "DNS, TCP and TLS to the registry endpoint",
                    "/v2/ authentication and a manifest pull",
                    "RBAC and image pull secrets of the namespace",
                    "each failed check with the command that fixes it",
                ],
            ),
            _ => ("This pane is not built in this version.", &[]),
        }
    }
}

impl Pane for PlaceholderPane {
    fn id(&self) -> PaneId {
        self.id
    }

    fn handles_actions(&self) -> bool {
        false
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let t = ctx.theme;
        let mut title = format!(" {} ", self.id.title());
        if let Some(target) = &self.target {
            title = format!(" {} · {target} ", self.id.title());
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(t.style(Role::Border))
            .title(Span::styled(title, t.style(Role::Title)));
        let inner = block.inner(area).inner(Margin::new(2, 1));
        frame.render_widget(block, area);
        let (summary, items) = self.plan;
        let mut lines = vec![
            Line::styled(summary, t.style(Role::Text)),
            Line::raw(""),
            Line::styled("This pane will show:", t.style(Role::Muted)),
        ];
        for item in items {
            lines.push(Line::from(vec![
                Span::styled("  • ", t.style(Role::Accent)),
                Span::styled(*item, t.style(Role::Text)),
            ]));
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            "Not built in this version yet. Nothing here talks to the platform.",
            t.style(Role::Info),
        ));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
    }

    fn on_action(&mut self, _action: &str) -> Vec<Effect> {
        Vec::new()
    }

    fn on_open(&mut self, target: Option<&str>) -> Vec<Effect> {
        if target.is_some() {
            self.target = target.map(str::to_string);
        }
        Vec::new()
    }
}
