//! The etcd pane: a workload cluster's etcd-encryption-manager rotation, per control-plane
//! node, live.
//!
//! The pane shows `EtcdEncryptionConfig` `default` as the engine watches it: the overall verdict,
//! the key revision, the rotation interval and when the next rotation is due, then one row per
//! control-plane node with its `deployStatus`, and for a node that failed or lags behind what
//! it means and what to check on that node. Keys themselves never reach the pane: the API does
//! not carry them, and the pane has no way to read them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::{CommandArg, Effect, Pane, PaneId, PaneSpec, RenderCtx, pane_actions};
use crate::config::theme::{Role, Theme};
use crate::domain::etcd::rotation_log::{RotationLog, node_held_since};
use crate::domain::etcd::{
    EtcdEncryptionConfig, GLOBAL_CLUSTER, NodeSince, NodeVerdict, PROVIDER_CONF, RotationSummary,
    deploy_state, format_go_duration, migration_state, node_advice, unsupported_reason,
};
use crate::domain::timeline::format_secs;
use crate::engine::etcd::nodes::NodeReport;
use crate::engine::kube::etcd::EtcdState;
use crate::engine::kube::{KubeCommand, KubeEvent};
use crate::engine::{Command, Event, RequestId};
use crate::present::etcd::verdict_text;
use crate::present::text::fit;

pane_actions! {
    /// What this pane does with its keymap layer.
    pub enum EtcdAction {
        SelectNext = new("select_next", "next node"),
        SelectPrev = new("select_prev", "previous node"),
        Open = new("open", "show the node's details"),
        Refresh = new("refresh", "check again"),
        Back = new("back", "back to every cluster"),
        Inspect = new("inspect", "read the key files on the nodes (SSH)"),
        Filter = new("filter", "filter the clusters (name, is:overdue)"),
    }
}

pub static SPEC: PaneSpec = PaneSpec {
    id: PaneId::Etcd,
    title: "etcd",
    command: CommandArg::Cluster("<cluster>"),
    command_help: "etcd encryption status",
    actions: EtcdAction::SPECS,
    build: |_| Box::new(EtcdPane::new()),
    demo: || Box::new(EtcdPane::demo()),
};

pub struct EtcdPane {
    /// The platform context the engine reports current.
    context: Option<String>,
    /// Cluster name to phase, per platform context, for the chooser.
    phases: BTreeMap<String, BTreeMap<String, String>>,
    target: Option<String>,
    state: Option<EtcdState>,
    since: NodeSince,
    /// The selected node (or, in the chooser, the selected cluster).
    selected: usize,
    /// Whether the user moved the selection; until then it follows the first node in trouble.
    pinned: bool,
    /// Effects caused by events (a context switch re-watches on the new platform).
    pending: Vec<Effect>,
    /// The selected node's record in full (`open` toggles it).
    details: bool,
    /// The overview: what the engine last reported per workload cluster (one entry per
    /// cluster of the platform, so bounded by it).
    fleet: BTreeMap<String, EtcdState>,
    /// The clusters the fleet watch was last asked for; `None` while the overview is off.
    fleet_asked: Option<Vec<String>>,
    /// Left for another pane: its watches were stopped and start again on return.
    closed: bool,
    /// The overview's rows in the order last drawn, for Enter.
    fleet_order: Vec<String>,
    /// Rotations seen live in the single view.
    log: RotationLog,
    /// The node files of the target (`i`).
    nodes: NodeFilesView,
    /// The overview's filter: words of the name, or `is:<health>`.
    filter: String,
    /// Whether the filter is being typed.
    editing: bool,
}

/// Where the node file inspection of the single view stands.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeFilesView {
    NotAsked,
    Reading(RequestId),
    Read(Vec<NodeReport>),
    Failed(String),
}

impl Default for EtcdPane {
    fn default() -> Self {
        Self::new()
    }
}

/// Role of a `deployStatus` state by its meaning.
pub fn state_role(state: &str) -> Role {
    match state {
        deploy_state::SUCCESS => Role::Ok,
        deploy_state::PROCESSING | deploy_state::UPDATED => Role::Accent,
        deploy_state::UPDATE_FAILED | deploy_state::RESTART_FAILED => Role::Fail,
        _ => Role::Warn,
    }
}

/// Role of a node's verdict: a node left behind is a warning even when it reports `Success`;
/// one still waiting for its turn (`attention` false) is not.
pub fn verdict_role(v: &NodeVerdict, attention: bool) -> Role {
    match v {
        NodeVerdict::Done => Role::Ok,
        NodeVerdict::InProgress => Role::Accent,
        NodeVerdict::Behind { .. } if !attention => Role::Muted,
        NodeVerdict::Behind { .. } | NodeVerdict::Unknown(_) => Role::Warn,
        NodeVerdict::Failed { .. } => Role::Fail,
    }
}

/// Role of the overall summary.
pub fn summary_role(s: &RotationSummary) -> Role {
    match s {
        RotationSummary::NotReported => Role::Muted,
        RotationSummary::InProgress { .. } => Role::Accent,
        RotationSummary::Complete => Role::Ok,
        RotationSummary::Lagging { .. } => Role::Warn,
        RotationSummary::Failed { .. } => Role::Fail,
    }
}

/// `4m05s` from a time to now; `>=4m05s` when only a lower bound is known.
fn since_text(at: DateTime<Utc>, exact: bool, now: DateTime<Utc>) -> String {
    let d = format_secs((now - at).num_seconds());
    if exact { d } else { format!(">={d}") }
}

/// A time as the header shows it: `2026-11-22 03:41 UTC (6h ago)` / `(in 6d18h)`.
fn when_text(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (t - now).num_seconds();
    let rel = if secs == 0 {
        "now".to_string()
    } else if secs > 0 {
        format!("in {}", format_secs(secs))
    } else {
        format!("{} ago", format_secs(-secs))
    };
    format!("{} UTC ({rel})", t.format("%Y-%m-%d %H:%M"))
}

/// Rows a line takes when word-wrapped to `width`, the way the header paragraph wraps it.
fn wrapped_height(line: &Line, width: usize) -> usize {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let width = width.max(1);
    let (mut rows, mut used) = (1usize, 0usize);
    for word in text.split_inclusive(' ') {
        let w = unicode_width::UnicodeWidthStr::width(word);
        let bare = unicode_width::UnicodeWidthStr::width(word.trim_end());
        if used > 0 && used + bare > width {
            rows += 1;
            used = 0;
        }
        // A word longer than the line is broken across rows.
        used += w;
        while used > width {
            rows += 1;
            used -= width;
        }
    }
    rows
}

impl EtcdPane {
    pub fn new() -> Self {
        EtcdPane {
            context: None,
            phases: BTreeMap::new(),
            target: None,
            state: None,
            since: NodeSince::default(),
            selected: 0,
            pinned: false,
            pending: Vec::new(),
            details: false,
            fleet: BTreeMap::new(),
            fleet_asked: None,
            closed: false,
            fleet_order: Vec::new(),
            log: RotationLog::default(),
            nodes: NodeFilesView::NotAsked,
            filter: String::new(),
            editing: false,
        }
    }

    /// Workload clusters of the current platform that are not Running, with their phase.
    fn not_running(&self) -> Vec<String> {
        self.context
            .as_ref()
            .and_then(|c| self.phases.get(c))
            .map(|m| {
                m.iter()
                    .filter(|(n, p)| p.as_str() != "Running" && n.as_str() != GLOBAL_CLUSTER)
                    .map(|(n, p)| format!("{n} ({p})"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asks for the fleet's watches when the overview is on and the clusters changed.
    fn sync_fleet(&mut self) -> Vec<Effect> {
        let Some(asked) = &self.fleet_asked else {
            return Vec::new();
        };
        let want = self.choices();
        if *asked == want && !want.is_empty() {
            return Vec::new();
        }
        self.fleet.retain(|c, _| want.contains(c));
        self.fleet_asked = Some(want.clone());
        vec![Effect::Engine(Command::Kube(KubeCommand::WatchEtcdFleet {
            clusters: want,
        }))]
    }

    /// Turns the overview on: the fleet's watches follow the platform's Running clusters.
    fn show_fleet(&mut self) -> Vec<Effect> {
        self.target = None;
        self.state = None;
        self.selected = 0;
        self.fleet_asked.get_or_insert_with(Vec::new);
        let mut fx = vec![Effect::Engine(Command::Kube(KubeCommand::UnwatchEtcd))];
        fx.extend(self.sync_fleet());
        fx
    }

    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    pub fn state(&self) -> Option<&EtcdState> {
        self.state.as_ref()
    }

    pub fn apply(&mut self, ev: &KubeEvent) -> bool {
        self.on_event(&Event::Kube(ev.clone()))
    }

    /// The Running clusters of the current platform, for the chooser.
    fn running(&self) -> Vec<String> {
        self.context
            .as_ref()
            .and_then(|c| self.phases.get(c))
            .map(|m| {
                m.iter()
                    .filter(|(_, p)| p.as_str() == "Running")
                    .map(|(n, _)| n.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The Running clusters etcd encryption can be used on: the chooser's rows.
    fn choices(&self) -> Vec<String> {
        let mut v = self.running();
        v.retain(|c| unsupported_reason(c).is_none());
        v
    }

    fn watch(&mut self, cluster: &str) -> Vec<Effect> {
        self.target = Some(cluster.to_string());
        self.state = None;
        self.since.clear();
        self.log = RotationLog::default();
        self.nodes = NodeFilesView::NotAsked;
        self.selected = 0;
        self.pinned = false;
        if unsupported_reason(cluster).is_some() {
            // Nothing to watch: even an object someone created there would not be rotated.
            // Stop the previous cluster's watch so its events do not keep arriving.
            return vec![Effect::Engine(Command::Kube(KubeCommand::UnwatchEtcd))];
        }
        vec![Effect::Engine(Command::Kube(KubeCommand::WatchEtcd {
            cluster: cluster.to_string(),
        }))]
    }

    fn config(&self) -> Option<&EtcdEncryptionConfig> {
        self.state.as_ref().and_then(EtcdState::config)
    }

    fn node_count(&self) -> usize {
        self.config()
            .and_then(|c| c.status.as_ref())
            .map_or(0, |s| s.deploy_status.len())
    }

    /// Points the selection at the first node in trouble until the user moves it.
    fn follow_trouble(&mut self) {
        if self.pinned {
            return;
        }
        let Some(st) = self.config().and_then(|c| c.status.as_ref()) else {
            return;
        };
        self.selected = st
            .deploy_status
            .keys()
            .position(|n| st.needs_attention(n))
            .unwrap_or(0);
    }

    fn title(&self) -> String {
        match &self.target {
            Some(t) => format!(" etcd encryption: {t} "),
            None => " etcd encryption ".to_string(),
        }
    }

    fn header(
        &self,
        cfg: &EtcdEncryptionConfig,
        now: DateTime<Utc>,
        theme: &Theme,
    ) -> Vec<Line<'static>> {
        let st = cfg.status.clone().unwrap_or_default();
        let summary = st.summary();
        let mut lines = Vec::new();
        lines.push(Line::from(vec![
            Span::styled("verdict ", theme.style(Role::Muted)),
            Span::styled(summary.headline(), theme.style(summary_role(&summary))),
            Span::styled("   key ", theme.style(Role::Muted)),
            Span::styled(format!("rev {}", st.revision), theme.style(Role::Text)),
            Span::styled(
                format!(" {} ({})", cfg.spec.type_, cfg.spec.resources.join(", ")),
                theme.style(Role::Muted),
            ),
        ]));
        let interval = match cfg.spec.rotation_interval() {
            Ok(d) => Span::styled(format_go_duration(d), theme.style(Role::Text)),
            Err(e) => Span::styled(e, theme.style(Role::Warn)),
        };
        let mut l = vec![
            Span::styled("rotates every ", theme.style(Role::Muted)),
            interval,
        ];
        match cfg.next_rotation_due() {
            Some(due) => {
                l.push(Span::styled("   next due ", theme.style(Role::Muted)));
                l.push(Span::styled(when_text(due, now), theme.style(Role::Text)));
                // Past due with nothing under way: the manager is not rotating.
                if due < now {
                    l.push(Span::styled(
                        ": overdue, is etcd-encryption-manager running in kube-system?",
                        theme.style(Role::Warn),
                    ));
                }
            }
            None if matches!(summary, RotationSummary::Complete) => {}
            None => l.push(Span::styled(
                "   next due: once this rotation completes",
                theme.style(Role::Muted),
            )),
        }
        lines.push(Line::from(l));
        if let Some(m) = &st.migration {
            let role = match m.state.as_str() {
                migration_state::SUCCESS => Role::Ok,
                migration_state::FAILED => Role::Fail,
                _ => Role::Accent,
            };
            let mut l = vec![
                Span::styled("migration ", theme.style(Role::Muted)),
                Span::styled(m.state.clone(), theme.style(role)),
                Span::styled(format!(" rev {}", m.revision), theme.style(Role::Text)),
            ];
            if let Some(t) = m
                .complete_timestamp
                .as_deref()
                .and_then(crate::domain::etcd::parse_time)
            {
                l.push(Span::styled("   completed ", theme.style(Role::Muted)));
                l.push(Span::styled(when_text(t, now), theme.style(Role::Text)));
            }
            if let Some(msg) = m.message.as_deref().filter(|s| !s.is_empty()) {
                l.push(Span::styled(format!("   {msg}"), theme.style(Role::Muted)));
            }
            lines.push(Line::from(l));
        }
        // The API publishes revisions only: names and key material stay in the nodes' files.
        lines.push(Line::styled(
            "keys stay in each node's encryption-provider.conf; only revisions are shown",
            theme.style(Role::Muted),
        ));
        lines
    }
}

impl Pane for EtcdPane {
    fn id(&self) -> PaneId {
        PaneId::Etcd
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let theme = ctx.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(self.title(), theme.style(Role::Title)));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height < 3 || inner.width < 20 {
            return;
        }
        let Some(cluster) = self.target.clone() else {
            self.fleet_order = self
                .fleet_rows(ctx.now)
                .into_iter()
                .map(|(c, _)| c)
                .collect();
            self.render_overview(frame, inner, theme, ctx.now);
            return;
        };
        if let Some(reason) = unsupported_reason(&cluster) {
            self.render_unsupported(frame, inner, theme, &reason);
            return;
        }
        let Some(cfg) = self.config().cloned() else {
            self.render_message(frame, inner, theme, &cluster);
            return;
        };
        let width = inner.width as usize;
        let head = self.header(&cfg, ctx.now, theme);
        let head_h: usize = head
            .iter()
            .map(|l| wrapped_height(l, width))
            .sum::<usize>()
            .min(inner.height as usize / 2);
        frame.render_widget(
            Paragraph::new(head).wrap(Wrap { trim: false }),
            Rect {
                height: head_h as u16,
                ..inner
            },
        );
        let body = Rect {
            y: inner.y + head_h as u16,
            height: inner.height.saturating_sub(head_h as u16),
            ..inner
        };
        let st = cfg.status.clone().unwrap_or_default();
        let mut lines: Vec<Line> = Vec::new();
        if st.deploy_status.is_empty() {
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "No control-plane node reported yet: the etcd-encryption-manager has not started a rotation. If this lasts, check its pod: kubectl -n kube-system get pods | grep etcd-encryption-manager",
                theme.style(Role::Warn),
            ));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
            return;
        }
        // Node, revision, state, since; the verdict takes what is left.
        let (nw, rw, sw, tw) = (16usize, 4usize, 14usize, 10usize);
        let vw = width.saturating_sub(nw + rw + sw + tw + 5).max(8);
        lines.push(Line::styled(
            format!(
                " {} {} {} {} {}",
                fit("NODE", nw),
                fit("REV", rw),
                fit("STATE", sw),
                fit("SINCE", tw),
                fit("VERDICT", vw)
            ),
            theme.style(Role::Muted),
        ));
        let verdicts = st.node_verdicts();
        self.selected = self.selected.min(verdicts.len().saturating_sub(1));
        for (i, (node, v)) in verdicts.iter().enumerate() {
            let d = &st.deploy_status[*node];
            let since = node_held_since(&st, node, self.since.get(node))
                .map(|(at, exact)| since_text(at, exact, ctx.now))
                .unwrap_or_else(|| "-".to_string());
            let sel = i == self.selected;
            let base = if sel {
                theme.style(Role::Selection)
            } else {
                theme.style(Role::Text)
            };
            let mark = if sel { ">" } else { " " };
            lines.push(Line::from(vec![
                Span::styled(format!("{mark}{} ", fit(node, nw)), base),
                Span::styled(format!("{} ", fit(&d.revision.to_string(), rw)), base),
                Span::styled(
                    format!("{} ", fit(&d.state, sw)),
                    base.patch(theme.style(state_role(&d.state))),
                ),
                Span::styled(format!("{} ", fit(&since, tw)), base),
                Span::styled(
                    fit(&verdict_text(v, st.revision, st.needs_attention(node)), vw),
                    base.patch(theme.style(verdict_role(v, st.needs_attention(node)))),
                ),
            ]));
        }
        lines.push(Line::raw(""));
        if let Some((node, _)) = verdicts.get(self.selected).filter(|_| self.details) {
            let d = &st.deploy_status[*node];
            let mut l = vec![
                Span::styled(format!("{node}: "), theme.style(Role::Accent)),
                Span::styled(
                    format!("revision {} state {}", d.revision, d.state),
                    theme.style(Role::Text),
                ),
            ];
            if let Some(e) = self.since.get(node) {
                l.push(Span::styled(
                    format!(
                        "   {} {}",
                        if e.exact {
                            "changed at"
                        } else {
                            "already so when first seen at"
                        },
                        e.at.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                    theme.style(Role::Muted),
                ));
            }
            lines.push(Line::from(l));
            lines.push(Line::from(vec![
                Span::styled("message: ", theme.style(Role::Muted)),
                Span::styled(
                    d.message
                        .clone()
                        .filter(|m| !m.is_empty())
                        .unwrap_or_else(|| "(none)".into()),
                    theme.style(Role::Text),
                ),
            ]));
        }
        if let Some((node, v)) = verdicts.get(self.selected) {
            let advice = node_advice(node, v, st.revision).filter(|_| st.needs_attention(node));
            match advice {
                Some(a) => {
                    lines.push(Line::styled(
                        a.meaning.clone(),
                        theme.style(verdict_role(v, true)),
                    ));
                    if let Some(r) = &a.reported {
                        lines.push(Line::from(vec![
                            Span::styled("reported: ", theme.style(Role::Muted)),
                            Span::styled(r.clone(), theme.style(Role::Text)),
                        ]));
                    }
                    lines.push(Line::styled("Check:", theme.style(Role::Muted)));
                    for c in &a.checks {
                        lines.push(Line::from(vec![
                            Span::styled("  - ", theme.style(Role::Accent)),
                            Span::styled(c.clone(), theme.style(Role::Text)),
                        ]));
                    }
                }
                None => lines.push(Line::styled(
                    match v {
                        NodeVerdict::InProgress => format!(
                            "{node} is writing the new {PROVIDER_CONF} and reloading kube-apiserver."
                        ),
                        NodeVerdict::Behind { .. } => format!(
                            "{node} gets the new key after the nodes before it; the manager updates one node at a time."
                        ),
                        _ => format!(
                            "{node} serves key revision {} and is healthy.",
                            st.revision
                        ),
                    },
                    theme.style(Role::Muted),
                )),
            }
        }
        lines.extend(self.live_lines(theme));
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    }

    fn on_action(&mut self, action: &str) -> Vec<Effect> {
        let Some(action) = EtcdAction::parse(action) else {
            return Vec::new();
        };
        let count = match &self.target {
            Some(_) => self.node_count(),
            None => self.choices().len(),
        };
        match action {
            EtcdAction::SelectNext => {
                self.pinned = true;
                if count > 0 {
                    self.selected = (self.selected + 1).min(count - 1);
                }
            }
            EtcdAction::SelectPrev => {
                self.pinned = true;
                self.selected = self.selected.saturating_sub(1);
            }
            EtcdAction::Open if self.target.is_none() => {
                let order = if self.fleet_order.is_empty() {
                    self.choices()
                } else {
                    self.fleet_order.clone()
                };
                if let Some(name) = order.get(self.selected).cloned() {
                    return self.watch(&name);
                }
            }
            EtcdAction::Back if self.target.is_some() => return self.show_fleet(),
            EtcdAction::Back => self.filter.clear(),
            EtcdAction::Filter if self.target.is_none() => {
                self.editing = true;
                self.selected = 0;
            }
            EtcdAction::Filter => {}
            EtcdAction::Inspect => {
                if let Some(t) = self.target.clone()
                    && self.config().is_some()
                {
                    let id = RequestId::next();
                    self.nodes = NodeFilesView::Reading(id);
                    return vec![Effect::Engine(Command::Kube(
                        KubeCommand::InspectEtcdNodes { id, cluster: t },
                    ))];
                }
            }
            EtcdAction::Open => self.details = !self.details,
            EtcdAction::Refresh => {
                if let Some(t) = self.target.clone() {
                    let keep = (self.selected, self.pinned);
                    let fx = self.watch(&t);
                    (self.selected, self.pinned) = keep;
                    return fx;
                }
            }
        }
        Vec::new()
    }

    fn on_event(&mut self, event: &Event) -> bool {
        let Event::Kube(ev) = event else {
            return false;
        };
        match ev {
            KubeEvent::Contexts { current, .. } => {
                let changed = *current != self.context;
                let had = self.context.is_some();
                self.context = current.clone();
                // The watch belongs to the previous platform; follow the switch. The first
                // report only names the platform the watch already runs on.
                if changed
                    && had
                    && self.context.is_some()
                    && let Some(t) = self.target.clone()
                    && self.state.is_some()
                {
                    let fx = self.watch(&t);
                    self.pending.extend(fx);
                }
                changed
            }
            KubeEvent::ClustersChanged(d) => {
                let m = self.phases.entry(d.platform.clone()).or_default();
                if d.reset {
                    m.clear();
                }
                for c in &d.applied {
                    m.insert(c.name.clone(), c.phase.clone());
                }
                for n in &d.deleted {
                    m.remove(n);
                }
                let fx = self.sync_fleet();
                self.pending.extend(fx);
                self.target.is_none() && self.context.as_deref() == Some(d.platform.as_str())
            }
            KubeEvent::EtcdNodes {
                id,
                cluster,
                result,
            } => {
                if self.nodes != NodeFilesView::Reading(*id)
                    || self.target.as_deref() != Some(cluster)
                {
                    return false;
                }
                self.nodes = match result {
                    Ok(r) => NodeFilesView::Read(r.clone()),
                    Err(f) => NodeFilesView::Failed(f.to_string()),
                };
                true
            }
            KubeEvent::Etcd {
                context,
                cluster,
                state,
            } => {
                if self.context.as_ref().is_some_and(|c| c != context)
                    || unsupported_reason(cluster).is_some()
                {
                    return false;
                }
                let mut fleet_changed = false;
                if self
                    .fleet_asked
                    .as_ref()
                    .is_some_and(|a| a.contains(cluster))
                {
                    fleet_changed = self.fleet.get(cluster) != Some(state);
                    self.fleet.insert(cluster.clone(), state.clone());
                }
                if self.target.as_deref() != Some(cluster.as_str()) {
                    return fleet_changed && self.target.is_none();
                }
                if let EtcdState::Config { config, observed } = state
                    && let Some(st) = &config.status
                {
                    self.since.observe(st, *observed);
                    self.log.observe(st, *observed);
                }
                self.state = Some(state.clone());
                self.follow_trouble();
                true
            }
            _ => false,
        }
    }

    fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.pending)
    }

    fn on_close(&mut self) -> Vec<Effect> {
        self.closed = true;
        // The overview re-syncs its watches when the pane comes back.
        self.fleet_asked = None;
        vec![
            Effect::Engine(Command::Kube(KubeCommand::UnwatchEtcdFleet)),
            Effect::Engine(Command::Kube(KubeCommand::UnwatchEtcd)),
        ]
    }

    fn on_open(&mut self, target: Option<&str>) -> Vec<Effect> {
        if std::mem::take(&mut self.closed) {
            // Back from another pane: watch again what was shown, keeping what was seen.
            return match (target, self.target.clone()) {
                (Some(t), cur) if cur.as_deref() != Some(t) => self.watch(t),
                (_, Some(cur)) => vec![Effect::Engine(Command::Kube(KubeCommand::WatchEtcd {
                    cluster: cur,
                }))],
                (_, None) => self.show_fleet(),
            };
        }
        match target {
            Some(t) if self.target.as_deref() != Some(t) || self.state.is_none() => self.watch(t),
            None if self.target.is_none() && self.fleet_asked.is_none() => self.show_fleet(),
            _ => Vec::new(),
        }
    }

    fn wants_text_input(&self) -> bool {
        self.editing
    }

    fn on_key(&mut self, key: crossterm::event::KeyEvent) -> Option<Vec<Effect>> {
        use crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};
        if !self.editing {
            return None;
        }
        if key.kind == KeyEventKind::Release {
            return Some(Vec::new());
        }
        match key.code {
            KeyCode::Enter => self.editing = false,
            KeyCode::Esc => {
                self.editing = false;
                self.filter.clear();
            }
            KeyCode::Backspace => {
                self.filter.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.push(c);
            }
            _ => return None,
        }
        self.selected = 0;
        Some(Vec::new())
    }

    fn tick_interval(&self, _now: DateTime<Utc>) -> Option<std::time::Duration> {
        // SINCE, the countdowns and "overdue" move with the clock.
        Some(std::time::Duration::from_secs(1))
    }
}

impl EtcdPane {
    /// Fixed data for screenshots (clock: `clusters::demo::now`): a node that failed.
    pub fn demo() -> Self {
        demo::failed()
    }
}

pub mod demo;
mod live;
mod messages;
mod overview;

#[cfg(test)]
mod tests;
