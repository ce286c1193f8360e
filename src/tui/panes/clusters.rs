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

    fn render_table(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let theme = ctx.theme;
        if area.height < 2 {
            return;
        }
        let width = area.width as usize;
        let body_h = area.height as usize - 1;
        self.page = body_h.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + body_h {
            self.offset = self.selected + 1 - body_h;
        }
        self.offset = self.offset.min(self.view.len().saturating_sub(body_h));
        let end = (self.offset + body_h).min(self.view.len());
        // Columns are sized by what the rows on screen need, so a long failing step is cut
        // last, after padding and the less important columns.
        let need = match self.platform() {
            Some(p) => Needs::of(self.view[self.offset..end].iter().map(|&i| &p.rows[i])),
            None => Needs::default(),
        };
        let cols = layout_columns(width, &need, self.column);
        self.shown_columns = Some(cols.iter().map(|(c, _)| *c).collect());
        let mut header = Vec::new();
        for (c, w) in &cols {
            let mut t = c.title().to_string();
            if *c == self.column {
                t.push(if self.reverse { 'v' } else { '^' });
            }
            header.push(Span::styled(fit(&t, *w), theme.style(Role::Title)));
            header.push(Span::raw(" "));
        }
        let mut lines = vec![Line::from(header)];
        if self.view.is_empty() {
            let (role, msg) = self.empty_message();
            frame.render_widget(Paragraph::new(lines), area);
            let rest = Rect {
                y: area.y + 1,
                height: area.height - 1,
                ..area
            };
            frame.render_widget(
                Paragraph::new(Span::styled(msg, theme.style(role))).wrap(Wrap { trim: true }),
                rest,
            );
            return;
        }
        let Some(p) = self.platform() else {
            return;
        };
        for (pos, &i) in self.view[self.offset..end].iter().enumerate() {
            let row = &p.rows[i];
            let selected = self.offset + pos == self.selected;
            lines.push(row_line(row, &cols, theme, ctx.now, selected));
        }
        frame.render_widget(Paragraph::new(lines), area);
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

fn state_badge(state: Option<&ConnState>) -> (Role, &'static str) {
    match state {
        None | Some(ConnState::Connecting) => (Role::Info, "Connecting..."),
        Some(ConnState::Ready) => (Role::Ok, "Ready"),
        Some(ConnState::AuthExpired { .. }) => (Role::Fail, "AuthExpired - press r to re-login"),
        Some(ConnState::Unreachable { .. }) => (Role::Fail, "Unreachable"),
        Some(ConnState::Forbidden { .. }) => (Role::Warn, "Forbidden"),
    }
}

/// What the rows on screen need: their longest name, display name and progress text.
#[derive(Debug, Default)]
struct Needs {
    name: usize,
    display: usize,
    progress: usize,
}

impl Needs {
    fn of<'a>(rows: impl Iterator<Item = &'a ClusterRow>) -> Needs {
        let mut n = Needs::default();
        for r in rows {
            n.name = n.name.max(r.name.width());
            n.display = n.display.max(r.display_name.width());
            n.progress = n.progress.max(progress_text(r).width());
        }
        n
    }
}

/// Columns that fit in `width`, with their widths, given by importance: NAME, PHASE, PROGRESS
/// (room for its longest text, a failing step included) and AGE first; then NODES, VERSION,
/// DISPLAY NAME and TYPE as long as they fit. PROGRESS takes whatever is left over.
fn layout_columns(width: usize, need: &Needs, sorted: Column) -> Vec<(Column, usize)> {
    let name = need.name.clamp(8, 24);
    let progress = need.progress.clamp(12, 56);
    // One space after each column.
    let mut used = (name + 1) + (12 + 1) + (progress + 1) + (5 + 1);
    let mut fits = |w: usize| {
        if used + w < width {
            used += w + 1;
            true
        } else {
            false
        }
    };
    // The column the table is sorted by stays in sight, its ^/v mark with it.
    let display_w = need.display.clamp(7, 20);
    let mut shown = |c: Column, w: usize, wide_enough: bool| -> Option<bool> {
        (c == sorted).then(|| wide_enough && fits(w))
    };
    let sorted_fit = [
        shown(Column::Nodes, 7, true),
        shown(Column::Version, 10, true),
        shown(Column::Display, display_w, width >= 110 && need.display > 0),
        shown(Column::Type, 10, width >= 140),
    ];
    let mut fits_unless_sorted = |c: Column, w: usize, ok: bool, i: usize| match sorted_fit[i] {
        Some(done) => done,
        None => ok && (c != sorted) && fits(w),
    };
    let nodes = fits_unless_sorted(Column::Nodes, 7, true, 0);
    let version = fits_unless_sorted(Column::Version, 10, true, 1);
    // The two least useful columns also wait for a wide terminal.
    let display = fits_unless_sorted(
        Column::Display,
        display_w,
        width >= 110 && need.display > 0,
        2,
    );
    let type_ = fits_unless_sorted(Column::Type, 10, width >= 140, 3);
    let mut cols = vec![(Column::Name, name)];
    if display {
        cols.push((Column::Display, display_w));
    }
    cols.push((Column::Phase, 12));
    if version {
        cols.push((Column::Version, 10));
    }
    if type_ {
        cols.push((Column::Type, 10));
    }
    if nodes {
        cols.push((Column::Nodes, 7));
    }
    let fixed: usize = cols.iter().map(|(_, w)| w + 1).sum::<usize>() + 6;
    cols.push((Column::Progress, width.saturating_sub(fixed + 1).max(8)));
    cols.push((Column::Age, 5));
    cols
}

fn row_line(
    row: &ClusterRow,
    cols: &[(Column, usize)],
    theme: &Theme,
    now: DateTime<Utc>,
    selected: bool,
) -> Line<'static> {
    let sel = theme.style(Role::Selection);
    let patch = |s: Style| if selected { s.patch(sel) } else { s };
    let mut spans = Vec::with_capacity(cols.len() * 2);
    for (c, w) in cols {
        let (text, role) = match c {
            Column::Name => (row.name.clone(), Role::Text),
            Column::Display => (row.display_name.clone(), Role::Text),
            Column::Phase => (row.phase.clone(), phase_role(&row.phase)),
            Column::Version => (row.version.clone(), Role::Text),
            Column::Type => (row.type_.clone(), Role::Muted),
            Column::Nodes => (nodes_label(row.control_plane, row.workers), Role::Text),
            Column::Progress => {
                let p = &row.progress;
                // The color of what progress_text shows: the cluster's own step comes first.
                let role = if row.failed {
                    Role::Fail
                } else if row.current_step.is_some() || row.adding_nodes > 0 {
                    Role::Info
                } else if p.done == p.total && row.phase == "Running" {
                    Role::Ok
                } else {
                    Role::Muted
                };
                (progress_text(row), role)
            }
            Column::Age => (
                row.age_secs(now)
                    .map(short_age)
                    .unwrap_or_else(|| "-".into()),
                Role::Muted,
            ),
        };
        spans.push(Span::styled(fit(&text, *w), patch(theme.style(role))));
        spans.push(Span::styled(" ", patch(Style::default())));
    }
    Line::from(spans)
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
pub(crate) mod tests {
    use super::*;
    use crate::engine::kube::ReloginJob;

    /// The id of the YAML request among a pane's effects.
    fn yaml_request(fx: &[Effect]) -> RequestId {
        match fx {
            [Effect::Engine(Command::Kube(KubeCommand::FetchYaml { id, .. }))] => *id,
            other => panic!("expected one FetchYaml, got {other:?}"),
        }
    }

    #[test]
    fn the_footer_follows_the_filter_line_and_the_yaml_view() {
        let mut p = ClustersPane::demo();
        assert!(p.footer_override().is_none());
        p.on_action("filter");
        assert!(
            p.footer_override()
                .is_some_and(|v| v.iter().any(|(_, a)| *a == "clear it"))
        );
        p.on_key(KeyEvent::from(KeyCode::Esc));
        p.on_action("yaml");
        assert!(
            p.footer_override()
                .is_some_and(|v| v.iter().any(|(_, a)| *a == "close the YAML"))
        );
    }

    #[test]
    fn a_stopped_platform_leaves_the_status_line() {
        let mut p = ClustersPane::demo();
        p.apply(&KubeEvent::Connection {
            context: "prod-east".into(),
            state: ConnState::Unreachable {
                error: "refused".into(),
                hint: "check the network".into(),
            },
        });
        assert!(p.platforms.contains_key("prod-east"));
        assert!(p.apply(&KubeEvent::Unwatched {
            context: "prod-east".into()
        }));
        assert!(!p.platforms.contains_key("prod-east"));
    }

    #[test]
    fn a_stale_yaml_answer_is_ignored() {
        let mut p = ClustersPane::demo();
        let old = yaml_request(&p.on_action("yaml"));
        p.on_action("back");
        let new = yaml_request(&p.on_action("yaml"));
        let name = p.selected_name().expect("selection");
        let answer = |id, text: &str| KubeEvent::Yaml {
            id,
            context: crate::fixtures::clusters::CONTEXT.into(),
            kind: ObjectKind::Cluster,
            name: name.clone(),
            result: Ok(text.into()),
        };
        assert!(!p.apply(&answer(old, "stale: 1\n")));
        assert!(p.yaml.as_ref().is_some_and(|y| y.text.is_none()));
        assert!(p.apply(&answer(new, "fresh: 1\n")));
        let text = p.yaml.as_ref().and_then(|y| y.text.clone());
        assert_eq!(text, Some(Ok(vec!["fresh: 1".to_string()])));
    }

    #[test]
    fn fit_pads_and_cuts() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 4), "abc~");
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn ages_like_kubectl() {
        assert_eq!(short_age(59), "59s");
        assert_eq!(short_age(600), "10m");
        assert_eq!(short_age(3 * 3600), "3h");
        assert_eq!(short_age(5 * 86_400), "5d");
    }

    #[test]
    fn sorting_and_filter_actions_change_the_view() {
        let mut p = ClustersPane::demo();
        assert_eq!(
            p.visible_names().first().map(String::as_str),
            Some("dev-sh")
        );
        p.on_action("sort_reverse");
        assert_eq!(
            p.visible_names().first().map(String::as_str),
            Some("staging")
        );
        p.on_action("sort_reverse");
        p.on_action("sort_next"); // display name
        assert_eq!(
            p.visible_names().first().map(String::as_str),
            Some("old-batch")
        );
        p.set_filter("phase:Running");
        // Display names sort without regard to case: "global" before "Production …".
        assert_eq!(p.visible_names(), ["global", "prod-east", "prod-west"]);
        p.on_action("back");
        assert_eq!(p.visible_names().len(), 8);
    }

    #[test]
    fn sorting_skips_columns_the_width_hides() {
        let mut p = ClustersPane::demo();
        render_to_string(&mut p, 120, 24);
        let mut seen = Vec::new();
        for _ in 0..Column::ALL.len() {
            p.on_action("sort_next");
            seen.push(p.column);
        }
        assert!(seen.contains(&Column::Display));
        assert!(!seen.contains(&Column::Type), "{seen:?}");
        render_to_string(&mut p, 80, 24);
        p.column = Column::Name;
        p.on_action("sort_next");
        assert_eq!(p.column, Column::Phase);
        render_to_string(&mut p, 160, 24);
        p.column = Column::Version;
        p.on_action("sort_next");
        assert_eq!(p.column, Column::Type);
    }

    #[test]
    fn narrow_tables_keep_the_failure_in_sight() {
        let t = render_to_string(&mut ClustersPane::demo(), 50, 12);
        let row = t.lines().find(|l| l.contains("dev-sh")).expect("row");
        assert!(row.contains("6/~28 FAIL"), "{row}");
    }

    #[test]
    fn filter_typing_is_live_and_bad_regex_keeps_the_last_filter() {
        let mut p = ClustersPane::demo();
        p.on_action("filter");
        assert!(p.wants_text_input());
        for c in "prod".chars() {
            p.on_key(KeyEvent::from(KeyCode::Char(c)));
        }
        assert_eq!(p.visible_names(), ["prod-east", "prod-west"]);
        p.on_key(KeyEvent::from(KeyCode::Char(' ')));
        for c in "re:(".chars() {
            p.on_key(KeyEvent::from(KeyCode::Char(c)));
        }
        assert!(p.filter_error.is_some());
        assert_eq!(p.visible_names().len(), 2);
        // Enter does not accept it: the error stays in sight.
        p.on_key(KeyEvent::from(KeyCode::Enter));
        assert!(p.wants_text_input());
        assert!(p.filter_error.is_some());
        p.on_key(KeyEvent::from(KeyCode::Esc));
        assert!(!p.wants_text_input());
        assert_eq!(p.visible_names().len(), 8);
    }

    #[test]
    fn enter_opens_the_timeline_and_y_fetches_yaml() {
        let mut p = ClustersPane::demo();
        p.on_action("bottom");
        assert_eq!(p.selected_name().as_deref(), Some("staging"));
        match p.on_action("open").as_slice() {
            [Effect::Open(PaneId::Timeline, Some(n))] => assert_eq!(n, "staging"),
            other => panic!("unexpected {other:?}"),
        }
        match p.on_action("yaml").as_slice() {
            [Effect::Engine(Command::Kube(KubeCommand::FetchYaml { name, kind, .. }))] => {
                assert_eq!(name, "staging");
                assert_eq!(*kind, ObjectKind::Cluster);
            }
            other => panic!("unexpected {other:?}"),
        }
        // While the overlay is open, navigation scrolls it and Esc closes it.
        p.on_action("select_prev");
        assert_eq!(p.selected_name().as_deref(), Some("staging"));
        p.on_action("back");
        assert!(p.yaml.is_none());
        p.on_action("select_prev");
        assert_eq!(p.selected_name().as_deref(), Some("prod-west"));
    }

    #[test]
    fn selection_follows_the_cluster_when_rows_change() {
        let mut p = ClustersPane::demo();
        p.on_open(Some("ml-gpu"));
        assert_eq!(p.selected_name().as_deref(), Some("ml-gpu"));
        p.apply(&KubeEvent::ClustersChanged(Delta {
            platform: crate::fixtures::clusters::CONTEXT.into(),
            reset: false,
            applied: Vec::new(),
            deleted: vec!["dev-sh".into(), "edge-lab-02".into()],
        }));
        assert_eq!(p.selected_name().as_deref(), Some("ml-gpu"));
        assert_eq!(p.visible_names().len(), 6);
    }

    #[test]
    fn creating_rows_follow_the_plan_of_the_first_cluster_to_finish() {
        let mut p = ClustersPane::new();
        let demo_clusters = crate::fixtures::clusters::clusters();
        let summary = |name: &str| {
            let c = demo_clusters
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(name))
                .expect("demo cluster");
            std::sync::Arc::new(ClusterSummary::from_cluster(
                c,
                &mut crate::engine::kube::model::Interner::default(),
            ))
        };
        let delta = |reset, applied| {
            KubeEvent::ClustersChanged(Delta {
                platform: crate::fixtures::clusters::CONTEXT.into(),
                reset,
                applied,
                deleted: Vec::new(),
            })
        };
        p.apply(&KubeEvent::Contexts {
            current: Some(crate::fixtures::clusters::CONTEXT.into()),
            available: vec![crate::fixtures::clusters::CONTEXT.into()],
        });
        p.apply(&delta(true, vec![summary("edge-lab-02")]));
        let label = |p: &ClustersPane| {
            p.platform()
                .and_then(|v| v.rows.iter().find(|r| r.name == "edge-lab-02"))
                .map(|r| r.progress.label())
        };
        // Nothing finished yet: TKE's list is the estimate.
        let before = label(&p).expect("row");
        assert!(before.starts_with("20/~"), "{before}");
        assert_ne!(before, "20/~28");
        // A finished cluster arrives in another batch: the creating row is measured again.
        p.apply(&delta(false, vec![summary("global")]));
        assert_eq!(label(&p).as_deref(), Some("20/~28"));
    }

    #[test]
    fn relogin_runs_the_plugin_then_reconnects() {
        let mut p = ClustersPane::demo();
        p.apply(&KubeEvent::Connection {
            context: crate::fixtures::clusters::CONTEXT.into(),
            state: ConnState::AuthExpired {
                message: "token expired".into(),
                relogin: Some(ReloginJob {
                    program: "kubectl-acp".into(),
                    args: vec!["login".into()],
                }),
            },
        });
        let tag = match p.on_action("relogin").as_slice() {
            [Effect::Suspend(job)] => {
                assert_eq!(job.program, "kubectl-acp");
                job.tag.clone()
            }
            other => panic!("unexpected {other:?}"),
        };
        match p.on_resumed(&tag, true).as_slice() {
            [Effect::Engine(Command::Kube(KubeCommand::Reconnect { context }))] => {
                assert_eq!(context, crate::fixtures::clusters::CONTEXT)
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(p.on_resumed(&tag, false).len(), 2);
        p.apply(&KubeEvent::Connection {
            context: crate::fixtures::clusters::CONTEXT.into(),
            state: ConnState::Ready,
        });
        assert!(matches!(
            p.on_action("relogin").as_slice(),
            [Effect::Engine(Command::Kube(KubeCommand::Reconnect { .. }))]
        ));
    }

    #[test]
    fn yaml_answer_fills_the_overlay() {
        let mut p = ClustersPane::demo();
        let id = yaml_request(&p.on_action("yaml"));
        let name = p.selected_name().expect("selection");
        p.apply(&KubeEvent::Yaml {
            id,
            context: crate::fixtures::clusters::CONTEXT.into(),
            kind: ObjectKind::Cluster,
            name,
            result: Ok("a: 1\nb: 2\n".into()),
        });
        assert!(matches!(&p.yaml, Some(YamlView { text: Some(Ok(l)), .. }) if l.len() == 2));
    }

    #[test]
    fn ctx_hook_switches_known_contexts_only() {
        let mut hook = context_hook(vec!["a".into(), "b".into()]);
        match hook(&ShellCommand::SwitchContext("b".into())).as_deref() {
            Ok([Command::Kube(KubeCommand::SwitchContext { context })]) => assert_eq!(context, "b"),
            other => panic!("unexpected {other:?}"),
        }
        let err = hook(&ShellCommand::SwitchContext("c".into())).expect_err("unknown");
        assert!(err.hint.as_deref().is_some_and(|h| h.contains("a, b")));
        let mut open = context_hook(Vec::new());
        assert!(open(&ShellCommand::SwitchContext("x".into())).is_ok());
    }

    #[test]
    fn switching_context_shows_the_other_platform() {
        let mut p = ClustersPane::demo();
        p.apply(&KubeEvent::Contexts {
            current: Some("acp-dr".into()),
            available: vec![crate::fixtures::clusters::CONTEXT.into(), "acp-dr".into()],
        });
        assert_eq!(p.current_context(), Some("acp-dr"));
        assert!(p.visible_names().is_empty());
        assert_eq!(p.connection(), None);
        p.apply(&KubeEvent::Contexts {
            current: Some(crate::fixtures::clusters::CONTEXT.into()),
            available: vec![crate::fixtures::clusters::CONTEXT.into(), "acp-dr".into()],
        });
        assert_eq!(p.visible_names().len(), 8);
    }

    #[test]
    fn first_open_starts_watching() {
        let mut p = ClustersPane::new();
        assert!(matches!(
            p.on_open(None).as_slice(),
            [Effect::Engine(Command::Kube(KubeCommand::Watch {
                context: None
            }))]
        ));
        assert!(p.on_open(None).is_empty());
    }

    pub(crate) fn render_to_string(pane: &mut dyn Pane, w: u16, h: u16) -> String {
        let theme = Theme::default();
        let ctx = RenderCtx {
            theme: &theme,
            now: crate::fixtures::clusters::now(),
            readonly: false,
            sandbox: false,
        };
        let mut term =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("test backend");
        term.draw(|f| pane.render(f, f.area(), &ctx)).expect("draw");
        term.backend().to_string()
    }

    #[test]
    fn snapshot_demo_80x24() {
        insta::assert_snapshot!(render_to_string(&mut ClustersPane::demo(), 80, 24));
    }

    #[test]
    fn snapshot_demo_200x50() {
        insta::assert_snapshot!(render_to_string(&mut ClustersPane::demo(), 200, 50));
    }

    #[test]
    fn snapshot_filtered_and_sorted_80x24() {
        let mut p = ClustersPane::demo();
        p.on_action("filter");
        for c in "phase:Initializing".chars() {
            p.on_key(KeyEvent::from(KeyCode::Char(c)));
        }
        p.on_action("sort_next");
        p.on_action("sort_next");
        p.on_action("sort_next");
        insta::assert_snapshot!(render_to_string(&mut p, 80, 24));
    }

    #[test]
    fn snapshot_auth_expired_80x24() {
        let mut p = ClustersPane::new();
        p.apply(&KubeEvent::Contexts {
            current: Some("acp-prod".into()),
            available: vec!["acp-prod".into()],
        });
        p.apply(&KubeEvent::Connection {
            context: "acp-prod".into(),
            state: ConnState::AuthExpired {
                message: "cannot watch clusters.platform.tkestack.io: the platform rejected the credentials (401 Unauthorized): token has expired".into(),
                relogin: Some(ReloginJob {
                    program: "kubectl-acp".into(),
                    args: vec!["login".into()],
                }),
            },
        });
        insta::assert_snapshot!(render_to_string(&mut p, 80, 24));
    }

    #[test]
    fn snapshot_unreachable_and_forbidden_80x24() {
        let mut p = ClustersPane::new();
        p.apply(&KubeEvent::Connection {
            context: "acp-dr".into(),
            state: ConnState::Unreachable {
                error: "cannot watch clusters.platform.tkestack.io: client error (Connect): tcp connect error: Connection refused".into(),
                hint: "check the network path to the platform (VPN, proxy, SSH tunnel) and the server URL in the kubeconfig".into(),
            },
        });
        let a = render_to_string(&mut p, 80, 24);
        p.apply(&KubeEvent::Connection {
            context: "acp-dr".into(),
            state: ConnState::Forbidden {
                message: "cannot watch clusters.platform.tkestack.io: forbidden: User \"alice\" cannot list resource \"clusters\"".into(),
                missing: "list and watch on clusters.platform.tkestack.io".into(),
            },
        });
        let b = render_to_string(&mut p, 80, 24);
        insta::assert_snapshot!(format!("{a}\n{b}"));
    }

    #[test]
    fn snapshot_yaml_overlay_80x24() {
        let mut p = ClustersPane::demo();
        let id = yaml_request(&p.on_action("yaml"));
        let name = p.selected_name().expect("selection");
        p.apply(&KubeEvent::Yaml {
            id,
            context: crate::fixtures::clusters::CONTEXT.into(),
            kind: ObjectKind::Cluster,
            name,
            result: Ok("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata:\n  name: dev-sh\nspec:\n  machines:\n  - ip: 10.0.95.10\n    password: <redacted>\n".into()),
        });
        insta::assert_snapshot!(render_to_string(&mut p, 80, 24));
    }
}
