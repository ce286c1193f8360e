//! The Clusters pane: every cluster of the platform in a virtualized, sortable, filterable table,
//! with the platform connection state always in sight.

use std::collections::{BTreeMap, HashMap};

use crate::present::clusters::progress_text;
use crate::present::text::{fit, nodes_label, short_age};
use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::{CommandArg, Effect, Pane, PaneId, PaneSpec, RenderCtx, SuspendJob, pane_actions};
use crate::config::theme::{Role, Theme};
use crate::engine::kube::model::{Column, Filter, compare_rows};
use crate::engine::kube::{
    ClusterModel, ClusterRow, ClusterSummary, ConnState, Delta, KubeCommand, KubeEvent,
    MachineSummary, ObjectKind,
};
use crate::engine::{Command, Event, RequestId};
use crate::tui::app::{ShellCommand, ShellHook};
use crate::tui::toast::Toast;

mod table;
use table::*;

pane_actions! {
    /// What this pane does with its keymap layer.
    pub enum ClustersAction {
        SelectNext = new("select_next", "next cluster"),
        SelectPrev = new("select_prev", "previous cluster"),
        PageDown = new("page_down", "page down"),
        PageUp = new("page_up", "page up"),
        Top = new("top", "first cluster"),
        Bottom = new("bottom", "last cluster"),
        Open = new("open", "open the cluster's timeline"),
        Yaml = new("yaml", "show the cluster's YAML"),
        Filter = new("filter", "filter by name"),
        SortNext = new("sort_next", "sort by the next column"),
        SortReverse = new("sort_reverse", "reverse the sort"),
        Relogin = new("relogin", "log in again / reconnect the platform"),
        Back = new("back", "close the YAML view or clear the filter"),
    }
}

pub static SPEC: PaneSpec = PaneSpec {
    id: PaneId::Clusters,
    title: "Clusters",
    command: CommandArg::None,
    command_help: "the clusters of the platform",
    actions: ClustersAction::SPECS,
    build: |_| Box::new(ClustersPane::new()),
    demo: || Box::new(ClustersPane::demo()),
};

/// Tag of the suspend job that runs a login plugin; the context follows it.
const RELOGIN_TAG: &str = "relogin:";

/// The shell's `:ctx <name>` hook: makes the engine switch platforms. `known` are the
/// kubeconfig's contexts ([`crate::engine::kube::client::contexts_of`]); when empty, the engine
/// checks the name itself.
pub fn context_hook(known: Vec<String>) -> ShellHook {
    Box::new(move |cmd: &ShellCommand| match cmd {
        ShellCommand::SwitchContext(name) => {
            if !known.is_empty() && !known.contains(name) {
                return Err(Toast::error(
                    format!("no context named {name:?} in the kubeconfig"),
                    Some(format!("known contexts: {}", known.join(", "))),
                ));
            }
            Ok(vec![Command::Kube(KubeCommand::SwitchContext {
                context: name.clone(),
            })])
        }
    })
}

/// The role a phase is shown in.
pub fn phase_role(phase: &str) -> Role {
    crate::present::clusters::phase_tone(phase).into()
}

/// One platform as the pane knows it.
#[derive(Debug, Default)]
struct PlatformView {
    state: Option<ConnState>,
    model: ClusterModel,
    rows: Vec<ClusterRow>,
    index: HashMap<String, usize>,
}

impl PlatformView {
    fn apply(&mut self, d: &Delta<ClusterSummary>) {
        let plan_changed = self.model.apply_clusters_and_check_plan(d);
        if d.reset {
            self.rows.clear();
            self.index.clear();
        }
        if plan_changed {
            // A cluster finished with a new plan: every creating row has a new expected total.
            for row in self.rows.iter_mut().filter(|r| !r.progress.is_exact()) {
                if let Some(c) = self.model.cluster(&row.name) {
                    *row = self.model.row(c);
                }
            }
        }
        for c in &d.applied {
            let row = self.model.row(c);
            match self.index.get(&row.name) {
                Some(&i) => self.rows[i] = row,
                None => {
                    self.index.insert(row.name.clone(), self.rows.len());
                    self.rows.push(row);
                }
            }
        }
        for name in &d.deleted {
            if let Some(i) = self.index.remove(name) {
                self.rows.swap_remove(i);
                if let Some(moved) = self.rows.get(i) {
                    self.index.insert(moved.name.clone(), i);
                }
            }
        }
    }

    /// Machines changed: the rows of their clusters show the nodes being added.
    fn apply_machines(&mut self, d: &Delta<MachineSummary>) -> bool {
        let touched = self.model.apply_machines_and_list_clusters(d);
        let mut changed = false;
        for name in &touched {
            if let (Some(&i), Some(c)) = (self.index.get(name), self.model.cluster(name)) {
                let row = self.model.row(c);
                if self.rows[i] != row {
                    self.rows[i] = row;
                    changed = true;
                }
            }
        }
        changed
    }
}

#[derive(Debug)]
struct YamlView {
    /// The request the overlay waits for; an answer to an earlier one is stale.
    request: RequestId,
    name: String,
    text: Option<Result<Vec<String>, String>>,
    scroll: usize,
}

pub struct ClustersPane {
    platforms: BTreeMap<String, PlatformView>,
    current: Option<String>,
    contexts: Vec<String>,
    column: Column,
    reverse: bool,
    filter: Filter,
    filter_error: Option<String>,
    /// The query being typed after `/`.
    editing: Option<String>,
    /// Indices into the current platform's rows, filtered and sorted.
    view: Vec<usize>,
    view_dirty: bool,
    selected: usize,
    selected_name: Option<String>,
    offset: usize,
    page: usize,
    yaml: Option<YamlView>,
    started: bool,
    /// Width the table was last drawn at: sorting cycles only through the columns shown there.
    /// The columns the last frame showed, for sorting by a visible one only.
    shown_columns: Option<Vec<Column>>,
}

impl Default for ClustersPane {
    fn default() -> Self {
        Self::new()
    }
}

impl ClustersPane {
    pub fn new() -> Self {
        ClustersPane {
            platforms: BTreeMap::new(),
            current: None,
            contexts: Vec::new(),
            column: Column::Name,
            reverse: false,
            filter: Filter::default(),
            filter_error: None,
            editing: None,
            view: Vec::new(),
            view_dirty: true,
            selected: 0,
            selected_name: None,
            offset: 0,
            page: 10,
            yaml: None,
            started: false,
            shown_columns: None,
        }
    }

    /// Fixed data for screenshots and snapshot tests (clock: [`crate::fixtures::clusters::now`]).
    pub fn demo() -> Self {
        let mut p = Self::new();
        p.started = true;
        for ev in crate::fixtures::clusters::events() {
            p.on_event(&ev);
        }
        p
    }

    /// Feeds engine events without the shell, e.g. in tests and benchmarks.
    pub fn apply(&mut self, ev: &KubeEvent) -> bool {
        self.on_event(&Event::Kube(ev.clone()))
    }

    pub fn current_context(&self) -> Option<&str> {
        self.current.as_deref()
    }

    pub fn connection(&self) -> Option<&ConnState> {
        self.platform().and_then(|p| p.state.as_ref())
    }

    /// The names in the table, in display order.
    pub fn visible_names(&mut self) -> Vec<String> {
        self.refresh_view();
        let Some(p) = self.platform() else {
            return Vec::new();
        };
        self.view.iter().map(|&i| p.rows[i].name.clone()).collect()
    }

    pub fn selected_name(&mut self) -> Option<String> {
        self.refresh_view();
        let p = self.platform()?;
        self.view
            .get(self.selected)
            .map(|&i| p.rows[i].name.clone())
    }

    fn platform(&self) -> Option<&PlatformView> {
        self.current.as_ref().and_then(|c| self.platforms.get(c))
    }

    fn refresh_view(&mut self) {
        if !self.view_dirty {
            return;
        }
        self.view_dirty = false;
        let Some(p) = self.current.as_ref().and_then(|c| self.platforms.get(c)) else {
            self.view.clear();
            self.selected = 0;
            return;
        };
        let mut view: Vec<usize> = (0..p.rows.len())
            .filter(|&i| self.filter.matches(&p.rows[i]))
            .collect();
        let col = self.column;
        view.sort_unstable_by(|&a, &b| compare_rows(&p.rows[a], &p.rows[b], col));
        if self.reverse {
            view.reverse();
        }
        // Keep the cursor on the same cluster when rows move under it.
        if let Some(name) = &self.selected_name
            && let Some(&i) = p.index.get(name)
            && let Some(pos) = view.iter().position(|&v| v == i)
        {
            self.selected = pos;
        }
        self.selected = self.selected.min(view.len().saturating_sub(1));
        self.selected_name = view.get(self.selected).map(|&i| p.rows[i].name.clone());
        self.view = view;
    }

    fn move_to(&mut self, pos: usize) {
        self.refresh_view();
        self.selected = pos.min(self.view.len().saturating_sub(1));
        self.selected_name = self.platform().and_then(|p| {
            self.view
                .get(self.selected)
                .map(|&i| p.rows[i].name.clone())
        });
    }

    fn set_filter(&mut self, q: &str) {
        match Filter::parse(q) {
            Ok(f) => {
                self.filter = f;
                self.filter_error = None;
            }
            Err(e) => self.filter_error = Some(e),
        }
        self.view_dirty = true;
    }

    fn relogin(&mut self) -> Vec<Effect> {
        let Some(ctx) = self.current.clone() else {
            return vec![Effect::Engine(Command::Kube(KubeCommand::Watch {
                context: None,
            }))];
        };
        match self.connection() {
            Some(ConnState::AuthExpired {
                relogin: Some(job), ..
            }) => vec![Effect::Suspend(SuspendJob {
                program: job.program.clone(),
                args: job.args.clone(),
                tag: format!("{RELOGIN_TAG}{ctx}"),
            })],
            _ => vec![Effect::Engine(Command::Kube(KubeCommand::Reconnect {
                context: ctx,
            }))],
        }
    }

    fn yaml_scroll(&mut self, delta: isize) {
        let page = self.page.max(1);
        if let Some(y) = &mut self.yaml {
            let len = match &y.text {
                Some(Ok(lines)) => lines.len(),
                _ => 0,
            };
            let max = len.saturating_sub(page);
            y.scroll = (y.scroll as isize + delta).clamp(0, max as isize) as usize;
        }
    }

    fn status_line(&self, ctx: &RenderCtx) -> Vec<Line<'static>> {
        let theme = ctx.theme;
        // The kubeconfig context: the header already names the platform (its host), and two
        // different values both called "platform" read as a contradiction.
        let mut spans = vec![Span::styled("Context ", theme.style(Role::Muted))];
        let Some(cur) = &self.current else {
            return vec![Line::from(vec![
                Span::styled("No platform yet ", theme.style(Role::Warn)),
                Span::styled(
                    "(reading the kubeconfig; `:ctx <name>` picks a context)",
                    theme.style(Role::Muted),
                ),
            ])];
        };
        spans.push(Span::styled(cur.clone(), theme.style(Role::Title)));
        spans.push(Span::raw("  "));
        let state = self.connection();
        let (role, label) = state_badge(state);
        spans.push(Span::styled(format!("[{label}]"), theme.style(role)));
        if let Some(p) = self.platform() {
            let n = p.rows.len();
            let shown = self.view.len();
            spans.push(Span::styled(
                if self.filter.is_empty() {
                    format!("  {n} clusters")
                } else {
                    format!("  {shown}/{n} clusters")
                },
                theme.style(Role::Text),
            ));
        }
        spans.push(Span::styled(
            format!(
                "  sort: {} {}",
                self.column.title().to_lowercase(),
                if self.reverse { "desc" } else { "asc" }
            ),
            theme.style(Role::Muted),
        ));
        let others: Vec<String> = self
            .platforms
            .iter()
            .filter(|(k, _)| Some(*k) != self.current.as_ref())
            .map(|(k, v)| format!("{k} {}", state_badge(v.state.as_ref()).1))
            .collect();
        if !others.is_empty() {
            spans.push(Span::styled(
                format!("  also: {}", others.join(", ")),
                theme.style(Role::Muted),
            ));
        }
        let mut lines = vec![Line::from(spans)];
        match state {
            Some(ConnState::AuthExpired { message, relogin }) => {
                lines.push(Line::from(Span::styled(
                    message.clone(),
                    theme.style(Role::Fail),
                )));
                lines.push(Line::from(Span::styled(
                    match relogin {
                        Some(j) => format!(
                            "Press r to log in again (runs `{}` in the terminal), then the watch reconnects.",
                            j.program
                        ),
                        None => "Update the token in the kubeconfig, then press r to reconnect."
                            .to_string(),
                    },
                    theme.style(Role::Warn),
                )));
            }
            Some(ConnState::Unreachable { error, hint }) => {
                lines.push(Line::from(Span::styled(
                    error.clone(),
                    theme.style(Role::Fail),
                )));
                lines.push(Line::from(Span::styled(
                    format!("hint: {hint}; retrying with backoff, r retries now"),
                    theme.style(Role::Warn),
                )));
            }
            Some(ConnState::Forbidden { message, missing }) => {
                lines.push(Line::from(Span::styled(
                    format!("missing permission: {missing}"),
                    theme.style(Role::Warn),
                )));
                lines.push(Line::from(Span::styled(
                    message.clone(),
                    theme.style(Role::Muted),
                )));
            }
            _ => {}
        }
        lines
    }

    fn empty_message(&self) -> (Role, String) {
        let Some(cur) = &self.current else {
            return (
                Role::Muted,
                "Waiting for the engine to read the kubeconfig. With no kubeconfig, start with --sandbox or pass --kubeconfig <file>.".into(),
            );
        };
        match self.connection() {
            None | Some(ConnState::Connecting) => (
                Role::Info,
                format!("Connecting to {cur}... listing clusters.platform.tkestack.io."),
            ),
            Some(ConnState::AuthExpired { .. }) => (
                Role::Fail,
                "Not logged in: no clusters can be listed until you log in again (press r).".into(),
            ),
            Some(ConnState::Unreachable { .. }) => (
                Role::Fail,
                format!("{cur} cannot be reached; the list appears once it answers."),
            ),
            Some(ConnState::Forbidden { .. }) => (
                Role::Warn,
                "You may not list clusters on this platform; ask an administrator for the permission shown above.".into(),
            ),
            Some(ConnState::Ready) => {
                let has_rows = self.platform().is_some_and(|p| !p.rows.is_empty());
                if has_rows {
                    (
                        Role::Muted,
                        format!(
                            "No cluster matches the filter \"{}\". Press / to change it or Esc to clear it.",
                            self.filter.source()
                        ),
                    )
                } else {
                    (
                        Role::Muted,
                        format!("No clusters on {cur} yet. Create one in the Create pane (2)."),
                    )
                }
            }
        }
    }

    fn render_yaml(&self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let Some(y) = &self.yaml else {
            return;
        };
        let theme = ctx.theme;
        let w = area.width.saturating_sub(4).max(10).min(area.width);
        let h = area.height.saturating_sub(2).max(3).min(area.height);
        let r = Rect {
            x: area.x + (area.width - w) / 2,
            y: area.y + (area.height - h) / 2,
            width: w,
            height: h,
        };
        frame.render_widget(Clear, r);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .style(theme.style(Role::Dialog))
            .title(Span::styled(
                format!(
                    " {} (managedFields stripped, secrets masked; Esc closes) ",
                    y.name
                ),
                theme.style(Role::Title),
            ));
        let inner = block.inner(r);
        frame.render_widget(block, r);
        let body: Vec<Line> = match &y.text {
            None => vec![Line::from(Span::styled(
                "Fetching the object...",
                theme.style(Role::Muted),
            ))],
            Some(Err(e)) => vec![Line::from(Span::styled(e.clone(), theme.style(Role::Fail)))],
            Some(Ok(lines)) => lines
                .iter()
                .skip(y.scroll)
                .take(inner.height as usize)
                .map(|l| Line::from(l.clone()))
                .collect(),
        };
        frame.render_widget(Paragraph::new(body).wrap(Wrap { trim: false }), inner);
    }
}

impl Pane for ClustersPane {
    fn id(&self) -> PaneId {
        PaneId::Clusters
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        self.refresh_view();
        let theme = ctx.theme;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(" Clusters ", theme.style(Role::Title)));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height < 2 || inner.width < 10 {
            return;
        }
        let status = self.status_line(ctx);
        // Wrapped height: a long error must not push the hint out of sight.
        let w = inner.width.max(1) as usize;
        let wrapped: usize = status.iter().map(|l| l.width().max(1).div_ceil(w)).sum();
        let status_h = (wrapped as u16).min(inner.height / 2).max(1);
        frame.render_widget(
            Paragraph::new(status).wrap(Wrap { trim: true }),
            Rect {
                height: status_h,
                ..inner
            },
        );
        let filter_line = if let Some(q) = &self.editing {
            Some(Line::from(vec![
                Span::styled("/", theme.style(Role::Key)),
                Span::raw(format!("{q}_")),
                Span::styled(
                    match &self.filter_error {
                        Some(e) => format!("  {e}"),
                        None => "  (text, /regex/, re:..., phase:, version:, type:, step:, is:failed; Enter keeps, Esc clears)".into(),
                    },
                    theme.style(if self.filter_error.is_some() {
                        Role::Fail
                    } else {
                        Role::Muted
                    }),
                ),
            ]))
        } else if !self.filter.is_empty() {
            Some(Line::from(vec![
                Span::styled("filter: ", theme.style(Role::Muted)),
                Span::styled(self.filter.source().to_string(), theme.style(Role::Accent)),
                Span::styled("  (/ edits, Esc clears)", theme.style(Role::Muted)),
            ]))
        } else {
            None
        };
        let filter_h = u16::from(filter_line.is_some());
        let table = Rect {
            y: inner.y + status_h,
            height: inner.height.saturating_sub(status_h + filter_h),
            ..inner
        };
        self.render_table(frame, table, ctx);
        if let Some(l) = filter_line {
            frame.render_widget(
                Paragraph::new(l),
                Rect {
                    y: inner.y + inner.height - 1,
                    height: 1,
                    ..inner
                },
            );
        }
        self.render_yaml(frame, area, ctx);
    }

    fn footer_override(&self) -> Option<Vec<(&'static str, &'static str)>> {
        if self.editing.is_some() {
            Some(vec![("Enter", "keep the filter"), ("Esc", "clear it")])
        } else if self.yaml.is_some() {
            Some(vec![("↑/↓ PgUp/PgDn", "scroll"), ("Esc", "close the YAML")])
        } else {
            None
        }
    }

    fn action_available(&self, action: &str) -> bool {
        match ClustersAction::parse(action) {
            // Both act on the selected cluster.
            Some(ClustersAction::Open | ClustersAction::Yaml) => !self.view.is_empty(),
            Some(ClustersAction::Back) => self.yaml.is_some() || !self.filter.is_empty(),
            _ => true,
        }
    }

    fn on_action(&mut self, action: &str) -> Vec<Effect> {
        let Some(action) = ClustersAction::parse(action) else {
            return Vec::new();
        };
        self.refresh_view();
        if self.yaml.is_some() {
            let page = self.page as isize;
            match action {
                ClustersAction::SelectNext => self.yaml_scroll(1),
                ClustersAction::SelectPrev => self.yaml_scroll(-1),
                ClustersAction::PageDown => self.yaml_scroll(page),
                ClustersAction::PageUp => self.yaml_scroll(-page),
                ClustersAction::Top => self.yaml_scroll(isize::MIN / 2),
                ClustersAction::Bottom => self.yaml_scroll(isize::MAX / 2),
                ClustersAction::Back | ClustersAction::Yaml | ClustersAction::Open => {
                    self.yaml = None
                }
                _ => {}
            }
            return Vec::new();
        }
        match action {
            ClustersAction::SelectNext => self.move_to(self.selected + 1),
            ClustersAction::SelectPrev => self.move_to(self.selected.saturating_sub(1)),
            ClustersAction::PageDown => self.move_to(self.selected + self.page.max(1)),
            ClustersAction::PageUp => self.move_to(self.selected.saturating_sub(self.page.max(1))),
            ClustersAction::Top => self.move_to(0),
            ClustersAction::Bottom => self.move_to(usize::MAX),
            ClustersAction::Open => {
                if let Some(name) = self.selected_name() {
                    return vec![Effect::Open(PaneId::Timeline, Some(name))];
                }
            }
            ClustersAction::Yaml => {
                if let Some(name) = self.selected_name() {
                    let id = RequestId::next();
                    self.yaml = Some(YamlView {
                        request: id,
                        name: name.clone(),
                        text: None,
                        scroll: 0,
                    });
                    return vec![Effect::Engine(Command::Kube(KubeCommand::FetchYaml {
                        id,
                        context: self.current.clone(),
                        kind: ObjectKind::Cluster,
                        name,
                    }))];
                }
            }
            ClustersAction::Filter => self.editing = Some(self.filter.source().to_string()),
            ClustersAction::SortNext => {
                // A hidden column would sort by something the user cannot see.
                let mut next = self.column.next();
                while let Some(cols) = &self.shown_columns
                    && !cols.contains(&next)
                    && next != self.column
                {
                    next = next.next();
                }
                self.column = next;
                self.view_dirty = true;
            }
            ClustersAction::SortReverse => {
                self.reverse = !self.reverse;
                self.view_dirty = true;
            }
            ClustersAction::Relogin => return self.relogin(),
            ClustersAction::Back if !self.filter.is_empty() => self.set_filter(""),
            _ => {}
        }
        Vec::new()
    }

    fn wants_text_input(&self) -> bool {
        self.editing.is_some()
    }

    fn on_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let q = self.editing.as_mut()?;
        if key.kind == KeyEventKind::Release {
            return Some(Vec::new());
        }
        match key.code {
            // An invalid filter is not kept silently showing the last one: the line stays
            // open with the error until it is fixed or cleared with Esc.
            KeyCode::Enter if self.filter_error.is_some() => {}
            KeyCode::Enter => self.editing = None,
            KeyCode::Esc => {
                self.editing = None;
                self.set_filter("");
            }
            KeyCode::Backspace => {
                q.pop();
                let q = q.clone();
                self.set_filter(&q);
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                q.clear();
                self.set_filter("");
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                q.push(c);
                let q = q.clone();
                self.set_filter(&q);
            }
            _ => return None,
        }
        Some(Vec::new())
    }

    fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        if let Some(q) = self.editing.as_mut() {
            q.push_str(text.lines().next().unwrap_or(""));
            let q = q.clone();
            self.set_filter(&q);
        }
        Vec::new()
    }

    fn on_event(&mut self, event: &Event) -> bool {
        let Event::Kube(ev) = event else {
            return false;
        };
        match ev {
            KubeEvent::Contexts { current, available } => {
                self.contexts = available.clone();
                if current != &self.current {
                    self.current = current.clone();
                    self.selected = 0;
                    self.selected_name = None;
                    self.offset = 0;
                    self.view_dirty = true;
                }
                if let Some(c) = current {
                    self.platforms.entry(c.clone()).or_default();
                }
                true
            }
            KubeEvent::Unwatched { context } => self.platforms.remove(context).is_some(),
            KubeEvent::Connection { context, state } => {
                self.platforms.entry(context.clone()).or_default().state = Some(state.clone());
                if self.current.is_none() {
                    self.current = Some(context.clone());
                }
                true
            }
            KubeEvent::ClustersChanged(d) => {
                self.platforms
                    .entry(d.platform.clone())
                    .or_default()
                    .apply(d);
                if self.current.as_deref() == Some(d.platform.as_str()) {
                    self.view_dirty = true;
                    true
                } else {
                    false
                }
            }
            KubeEvent::MachinesChanged(d) => {
                let changed = self
                    .platforms
                    .entry(d.platform.clone())
                    .or_default()
                    .apply_machines(d);
                if changed && self.current.as_deref() == Some(d.platform.as_str()) {
                    self.view_dirty = true;
                    true
                } else {
                    false
                }
            }
            KubeEvent::Yaml {
                id,
                name,
                result,
                kind,
                ..
            } => match &mut self.yaml {
                Some(y) if y.request == *id && &y.name == name && *kind == ObjectKind::Cluster => {
                    y.text = Some(
                        result
                            .as_ref()
                            .map(|t| t.lines().map(str::to_string).collect())
                            .map_err(|f| f.to_string()),
                    );
                    true
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn on_open(&mut self, target: Option<&str>) -> Vec<Effect> {
        if let Some(t) = target {
            self.refresh_view();
            let pos = self.platform().and_then(|p| {
                let i = *p.index.get(t)?;
                self.view.iter().position(|&v| v == i)
            });
            if let Some(pos) = pos {
                self.move_to(pos);
            }
        }
        if !self.started {
            self.started = true;
            return vec![Effect::Engine(Command::Kube(KubeCommand::Watch {
                context: None,
            }))];
        }
        Vec::new()
    }

    fn on_resumed(&mut self, tag: &str, ok: bool) -> Vec<Effect> {
        let Some(ctx) = tag.strip_prefix(RELOGIN_TAG) else {
            return Vec::new();
        };
        let mut out = vec![Effect::Engine(Command::Kube(KubeCommand::Reconnect {
            context: ctx.to_string(),
        }))];
        if !ok {
            out.push(Effect::Toast(Toast::error(
                "the login command failed",
                Some(
                    "fix what its output said (shown before the cockpit came back), then press r again"
                        .to_string(),
                ),
            )));
        }
        out
    }

    /// AGE counts seconds for a cluster's first two minutes, so such a row is live every
    /// second. A creating row is watched for its age too, and there minutes (a minute's
    /// timer) are enough. Rows as last drawn: the shell asks right after a frame.
    fn tick_interval(&self, now: DateTime<Utc>) -> Option<std::time::Duration> {
        let p = self.platform()?;
        self.view
            .iter()
            .filter_map(|&i| p.rows.get(i))
            .filter_map(|r| {
                let age = r.age_secs(now)?;
                if age < 120 {
                    Some(std::time::Duration::from_secs(1))
                } else if r.current_step.is_some() {
                    Some(std::time::Duration::from_secs(60))
                } else {
                    None
                }
            })
            .min()
    }
}

#[cfg(test)]
pub(crate) mod tests;
