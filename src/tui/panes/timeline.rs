//! The Timeline pane: a cluster's `status.conditions` as a vertical timeline, live.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::clusters::phase_role;
use super::{CommandArg, Effect, Pane, PaneId, PaneSpec, RenderCtx, pane_actions};
use crate::config::theme::{Role, Theme};
use crate::domain::timeline::{Resource, Step, StepState, StepStats, Timeline, format_secs};
use crate::engine::Event;
use crate::engine::kube::{ClusterModel, ConnState, KubeEvent};
use crate::present::text::fit;
use crate::present::timeline::{
    blocked_text, check_failure_text, created_text, deletion_text, eta_text, gauge,
    node_waiting_text, step_mark,
};

pane_actions! {
    /// What this pane does with its keymap layer.
    pub enum TimelineAction {
        ScrollDown = new("scroll_down", "scroll down"),
        ScrollUp = new("scroll_up", "scroll up"),
        PageDown = new("page_down", "page down"),
        PageUp = new("page_up", "page up"),
        Top = new("top", "first step"),
        Bottom = new("bottom", "last step"),
        Back = new("back", "back to the clusters"),
    }
}

pub static SPEC: PaneSpec = PaneSpec {
    id: PaneId::Timeline,
    title: "Timeline",
    command: CommandArg::Cluster("<cluster>"),
    command_help: "a cluster's creation timeline",
    actions: TimelineAction::SPECS,
    build: |_| Box::new(TimelinePane::new()),
    demo: || Box::new(TimelinePane::demo()),
};

#[derive(Default)]
struct Platform {
    model: ClusterModel,
    state: Option<ConnState>,
    /// Rebuilt lazily: step medians over every cluster and machine of the platform.
    stats: Option<StepStats>,
    /// When `stats` was built, and whether the model changed since.
    stats_at: Option<DateTime<Utc>>,
    stats_stale: bool,
}

/// Step medians move slowly; rebuilding them over a whole platform on every watch batch would
/// cost more than it tells.
const STATS_REFRESH_SECS: i64 = 15;

impl Platform {
    fn stats(&mut self, now: DateTime<Utc>) -> &StepStats {
        let due = self
            .stats_at
            .is_none_or(|t| (now - t).num_seconds().abs() >= STATS_REFRESH_SECS);
        if self.stats.is_none() || (self.stats_stale && due) {
            self.stats = Some(self.model.step_stats());
            self.stats_at = Some(now);
            self.stats_stale = false;
        }
        self.stats.get_or_insert_with(StepStats::new)
    }
}

pub struct TimelinePane {
    platforms: HashMap<String, Platform>,
    current: Option<String>,
    target: Option<String>,
    scroll: usize,
    /// Keep the current step in view until the user scrolls.
    follow: bool,
    page: usize,
}

impl Default for TimelinePane {
    fn default() -> Self {
        Self::new()
    }
}

impl TimelinePane {
    pub fn new() -> Self {
        TimelinePane {
            platforms: HashMap::new(),
            current: None,
            target: None,
            scroll: 0,
            follow: true,
            page: 10,
        }
    }

    /// Fixed data for screenshots and snapshot tests (clock: `clusters::demo::now`).
    pub fn demo() -> Self {
        let mut p = Self::new();
        for ev in crate::fixtures::clusters::events() {
            p.on_event(&ev);
        }
        p.target = Some("edge-lab-02".into());
        p
    }

    /// The demo on the failed cluster.
    pub fn demo_failed() -> Self {
        let mut p = Self::demo();
        p.target = Some("dev-sh".into());
        p
    }

    pub fn apply(&mut self, ev: &KubeEvent) -> bool {
        self.on_event(&Event::Kube(ev.clone()))
    }

    pub fn target(&self) -> Option<&str> {
        self.target.as_deref()
    }

    /// The target's timeline now, if it is known.
    pub fn timeline(&mut self, now: DateTime<Utc>) -> Option<Timeline> {
        let target = self.target.clone()?;
        let p = self.platforms.get_mut(self.current.as_ref()?)?;
        let c = p.model.cluster(&target)?.clone();
        p.stats(now);
        let stats = p.stats.as_ref()?;
        // The model's plan, not the stats' copy: it never lags behind the Clusters pane.
        Some(c.timeline_with(now, stats, p.model.plan(Resource::Cluster)))
    }

    fn machine_timelines(&mut self, now: DateTime<Utc>) -> Vec<(String, String, Timeline)> {
        let (Some(target), Some(cur)) = (self.target.clone(), self.current.clone()) else {
            return Vec::new();
        };
        let Some(p) = self.platforms.get_mut(&cur) else {
            return Vec::new();
        };
        p.stats(now);
        let Some(stats) = p.stats.as_ref() else {
            return Vec::new();
        };
        p.model
            .machines_of(&target)
            .into_iter()
            .map(|m| {
                let tl = m.timeline_with(now, stats, p.model.plan(Resource::Machine));
                (m.name.clone(), m.ip.clone(), tl)
            })
            .filter(|(_, _, t)| !t.finished)
            .collect()
    }

    fn empty(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let state = self
            .current
            .as_ref()
            .and_then(|c| self.platforms.get(c))
            .and_then(|p| p.state.as_ref());
        let synced = self
            .current
            .as_ref()
            .and_then(|c| self.platforms.get(c))
            .is_some_and(|p| p.model.synced);
        let (role, msg) = match (&self.target, state) {
            (None, _) => (
                Role::Muted,
                "No cluster selected. Pick one in Clusters (1, then Enter) or type :timeline <cluster>.".to_string(),
            ),
            (Some(t), Some(ConnState::Ready)) if synced => (
                Role::Warn,
                format!("Cluster {t} is not on this platform (deleted, or a typo?). Press Esc for the list."),
            ),
            (Some(t), Some(ConnState::AuthExpired { .. })) => (
                Role::Fail,
                format!("Cannot show {t}: the login expired. Go to Clusters (1) and press r to log in again."),
            ),
            (Some(t), Some(ConnState::Unreachable { error, .. })) => (
                Role::Fail,
                format!("Cannot show {t}: the platform is unreachable: {error}"),
            ),
            (Some(t), Some(ConnState::Forbidden { missing, .. })) => (
                Role::Warn,
                format!("Cannot show {t}: missing permission {missing}."),
            ),
            (Some(t), _) => (Role::Info, format!("Loading {t}...")),
        };
        frame.render_widget(
            Paragraph::new(Span::styled(msg, theme.style(role))).wrap(Wrap { trim: true }),
            area,
        );
    }
}

/// Rows a line takes when word-wrapped at `width` (greedy, as the paragraph wraps it).
fn wrapped_rows(line: &Line, width: usize) -> usize {
    use unicode_width::UnicodeWidthStr;
    let width = width.max(1);
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    let (mut rows, mut col) = (1usize, 0usize);
    for (i, word) in text.split(' ').enumerate() {
        let w = word.width();
        let need = if i == 0 { w } else { w + 1 };
        if col + need <= width {
            col += need;
        } else if w <= width {
            rows += 1;
            col = w;
        } else {
            // A word longer than the line is cut across rows.
            rows += usize::from(col > 0) + (w - 1) / width;
            col = (w - 1) % width + 1;
        }
    }
    rows.max(line.width().max(1).div_ceil(width))
}

fn step_line(
    s: &Step,
    is_current: bool,
    last: bool,
    name_w: usize,
    theme: &Theme,
) -> Line<'static> {
    let (mark, role) = step_mark(s.state);
    let rail = if last {
        "\u{2514}\u{2500}"
    } else {
        "\u{251c}\u{2500}"
    };
    let dur = match (s.state, s.duration_secs) {
        (StepState::Running, Some(d)) => format!("running {}", format_secs(d)),
        (StepState::Failed, Some(d)) => format!("failing {}", format_secs(d)),
        (StepState::Skipped, _) => "skipped".to_string(),
        (_, Some(d)) => format_secs(d),
        (_, None) => "-".to_string(),
    };
    let name_style = if is_current {
        theme.style(role).patch(theme.style(Role::Selection))
    } else {
        theme.style(Role::Text)
    };
    let mut spans = vec![
        Span::styled(rail, theme.style(Role::Border)),
        Span::styled(mark, theme.style(role)),
        Span::raw(" "),
        Span::styled(fit(&s.type_, name_w), name_style),
        Span::raw(" "),
        Span::styled(
            fit(&dur, 16),
            theme.style(if is_current { role.into() } else { Role::Muted }),
        ),
    ];
    if let Some(r) = &s.reason {
        spans.push(Span::raw(" "));
        spans.push(Span::styled(
            r.clone(),
            theme.style(if s.state == StepState::Failed {
                Role::Fail
            } else {
                Role::Muted
            }),
        ));
    }
    Line::from(spans)
}

impl Pane for TimelinePane {
    fn id(&self) -> PaneId {
        PaneId::Timeline
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let theme = ctx.theme;
        let title = match &self.target {
            Some(t) => format!(" Timeline: {t} "),
            None => " Timeline ".to_string(),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(title, theme.style(Role::Title)));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height < 2 || inner.width < 20 {
            return;
        }
        let Some(tl) = self.timeline(ctx.now) else {
            self.empty(frame, inner, theme);
            return;
        };
        let width = inner.width as usize;
        let mut head: Vec<Line> = Vec::new();
        let p = tl.progress;
        let frac = p.label();
        let gauge_w = width.saturating_sub(60).clamp(10, 50);
        let mut summary = vec![
            Span::styled("phase ", theme.style(Role::Muted)),
            Span::styled(tl.phase.clone(), theme.style(phase_role(&tl.phase))),
            Span::raw("  "),
            Span::styled(
                gauge(p.ratio(), gauge_w),
                theme.style(if tl.has_failed() {
                    Role::Fail
                } else if tl.finished {
                    Role::Ok
                } else {
                    Role::Accent
                }),
            ),
            Span::raw(format!(" {frac} steps")),
        ];
        if tl.finished {
            summary.push(Span::styled(
                format!("  {}", created_text(&tl)),
                theme.style(Role::Ok),
            ));
        } else if let Some(b) = blocked_text(&tl) {
            summary.push(Span::styled(format!("  ETA {b}"), theme.style(Role::Fail)));
        } else if let Some(e) = eta_text(&tl) {
            summary.push(Span::styled(format!("  ETA {e}"), theme.style(Role::Info)));
        } else if !tl.steps.is_empty() {
            summary.push(Span::styled(
                "  ETA unknown (no step finished on this platform yet)",
                theme.style(Role::Muted),
            ));
        }
        head.push(Line::from(summary));
        if let Some(d) = deletion_text(&tl) {
            head.push(Line::from(Span::styled(d, theme.style(Role::Warn))));
        }
        if let Some(c) = check_failure_text(&tl) {
            head.push(Line::from(Span::styled(c, theme.style(Role::Fail))));
        }
        if let Some(cur) = tl.current_step() {
            let mut l = vec![
                Span::styled("current ", theme.style(Role::Muted)),
                Span::styled(cur.type_.clone(), theme.style(Role::Accent)),
            ];
            if let Some(d) = cur.duration_secs {
                l.push(Span::raw(format!(" for {}", format_secs(d))));
            }
            head.push(Line::from(l));
        } else if tl.steps.is_empty() {
            head.push(Line::from(Span::styled(
                "No conditions yet: the platform's cluster controller has not started on this cluster. If this lasts, check tke-platform-controller on global.",
                theme.style(Role::Warn),
            )));
        }
        if let Some(f) = &tl.failure {
            head.push(Line::from(vec![
                Span::styled(format!("FAILED {} ", f.type_), theme.style(Role::Fail)),
                Span::styled(
                    format!(
                        "({}), retrying for {}; the controller retries it until it succeeds",
                        f.reason.clone().unwrap_or_default(),
                        f.retrying_secs
                            .map(format_secs)
                            .unwrap_or_else(|| "?".into())
                    ),
                    theme.style(Role::Warn),
                ),
            ]));
            // Controllers put stderr in the message: keep its lines apart.
            for m in f.message.iter().flat_map(|m| m.lines()) {
                head.push(Line::from(Span::styled(
                    m.to_string(),
                    theme.style(Role::Fail),
                )));
            }
            if let Some(h) = &f.hint {
                head.push(Line::from(Span::styled(
                    format!("hint: {h}"),
                    theme.style(Role::Warn),
                )));
            }
        }
        let machines = self.machine_timelines(ctx.now);
        for (name, ip, mt) in &machines {
            let mp = mt.progress;
            // Narrow terminals get the IP only, so the line does not wrap.
            let who = if width >= 120 {
                format!("{name} ({ip}) ")
            } else {
                format!("{ip} ")
            };
            let mut l = vec![
                Span::styled("node ", theme.style(Role::Muted)),
                Span::raw(who),
            ];
            if mt.steps.is_empty() {
                // Empty bars under a progressing cluster would read as stuck nodes.
                l.push(Span::styled(
                    node_waiting_text(&tl),
                    theme.style(Role::Muted),
                ));
                head.push(Line::from(l));
                continue;
            }
            l.push(Span::styled(
                gauge(mp.ratio(), 10),
                theme.style(if mt.has_failed() {
                    Role::Fail
                } else {
                    Role::Accent
                }),
            ));
            l.push(Span::raw(format!(" {}", mp.label())));
            if let Some(c) = mt.current_step() {
                l.push(Span::styled(
                    format!(" {} {}", step_mark(c.state).0, c.type_),
                    theme.style(step_mark(c.state).1),
                ));
                // A stalled node shows as a step running far longer than usual.
                if let Some(d) = c.duration_secs {
                    // Wide terminals only: on 80 columns the comparison would wrap the line.
                    let usual = self
                        .current
                        .as_ref()
                        .filter(|_| width >= 120)
                        .and_then(|p| self.platforms.get(p))
                        .and_then(|p| p.stats.as_ref())
                        .and_then(|s| s.median_secs(&c.type_));
                    l.push(Span::styled(
                        match usual {
                            Some(u) => {
                                format!(" for {} (usually {})", format_secs(d), format_secs(u))
                            }
                            None => format!(" for {}", format_secs(d)),
                        },
                        theme.style(Role::Muted),
                    ));
                }
            }
            if let Some(f) = &mt.failure
                && let Some(m) = &f.message
            {
                l.push(Span::styled(format!(": {m}"), theme.style(Role::Fail)));
            }
            head.push(Line::from(l));
        }
        // The header wraps; estimate its height so the steps start below it. Word wrapping
        // breaks early, so count it word by word: a short count would clip the header's last
        // line (the hint) and shift the steps under a stale row.
        let head_h: usize = head
            .iter()
            .map(|l| wrapped_rows(l, width))
            .sum::<usize>()
            .min(inner.height as usize / 2 + 1);
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
        let body_h = body.height as usize;
        self.page = body_h.max(1);
        let total = tl.steps.len() + tl.upcoming.len();
        if self.follow
            && let Some(c) = tl.current
        {
            // Keep a little context above the current step.
            let want = c.saturating_sub(body_h / 3);
            self.scroll = want.min(total.saturating_sub(body_h));
        }
        self.scroll = self.scroll.min(total.saturating_sub(body_h));
        let longest = tl
            .steps
            .iter()
            .map(|s| s.type_.as_str())
            .chain(tl.upcoming.iter().map(String::as_str))
            .map(unicode_width::UnicodeWidthStr::width)
            .max()
            .unwrap_or(10);
        // Room for the rail, mark, duration and a short reason.
        let name_w = longest
            .min(width.saturating_sub(2 + 3 + 1 + 1 + 16 + 1 + 10))
            .max(10);
        let mut lines = Vec::with_capacity(body_h);
        for i in self.scroll..(self.scroll + body_h).min(total) {
            let last = i + 1 == total;
            if let Some(s) = tl.steps.get(i) {
                lines.push(step_line(s, Some(i) == tl.current, last, name_w, theme));
            } else if let Some(t) = tl.upcoming.get(i - tl.steps.len()) {
                let stats = self
                    .current
                    .as_ref()
                    .and_then(|c| self.platforms.get(c))
                    .and_then(|p| p.stats.as_ref());
                let med = stats.and_then(|s| s.median_secs(t));
                let rail = if last {
                    "\u{2514}\u{2500}"
                } else {
                    "\u{251c}\u{2500}"
                };
                lines.push(Line::from(vec![
                    Span::styled(rail, theme.style(Role::Border)),
                    Span::styled("[ ] ", theme.style(Role::Muted)),
                    Span::styled(fit(t, name_w), theme.style(Role::Muted)),
                    Span::raw(" "),
                    Span::styled(
                        med.map(|m| format!("usually {}", format_secs(m)))
                            .unwrap_or_default(),
                        theme.style(Role::Muted),
                    ),
                ]));
            }
        }
        frame.render_widget(Paragraph::new(lines), body);
    }

    fn on_action(&mut self, action: &str) -> Vec<Effect> {
        let Some(action) = TimelineAction::parse(action) else {
            return Vec::new();
        };
        let page = self.page.max(1);
        match action {
            TimelineAction::ScrollDown => {
                self.follow = false;
                self.scroll += 1;
            }
            TimelineAction::ScrollUp => {
                self.follow = false;
                self.scroll = self.scroll.saturating_sub(1);
            }
            TimelineAction::PageDown => {
                self.follow = false;
                self.scroll += page;
            }
            TimelineAction::PageUp => {
                self.follow = false;
                self.scroll = self.scroll.saturating_sub(page);
            }
            TimelineAction::Top => {
                self.follow = false;
                self.scroll = 0;
            }
            TimelineAction::Bottom => {
                self.follow = false;
                self.scroll = usize::MAX / 2;
            }
            TimelineAction::Back => {
                return vec![Effect::Open(PaneId::Clusters, self.target.clone())];
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
                self.current = current.clone();
                true
            }
            KubeEvent::Connection { context, state } => {
                self.platforms.entry(context.clone()).or_default().state = Some(state.clone());
                if self.current.is_none() {
                    self.current = Some(context.clone());
                }
                self.current.as_deref() == Some(context.as_str())
            }
            KubeEvent::ClustersChanged(d) => {
                let p = self.platforms.entry(d.platform.clone()).or_default();
                p.model.apply_clusters(d);
                p.stats_stale = true;
                self.current.as_deref() == Some(d.platform.as_str())
            }
            KubeEvent::MachinesChanged(d) => {
                let p = self.platforms.entry(d.platform.clone()).or_default();
                p.model.apply_machines(d);
                p.stats_stale = true;
                self.current.as_deref() == Some(d.platform.as_str())
            }
            _ => false,
        }
    }

    fn on_open(&mut self, target: Option<&str>) -> Vec<Effect> {
        if let Some(t) = target
            && self.target.as_deref() != Some(t)
        {
            self.target = Some(t.to_string());
            self.scroll = 0;
            self.follow = true;
        }
        Vec::new()
    }

    /// Live while the target's current step (or a node's) runs or is retried: its "for 21s"
    /// counts up with nothing else changing. A finished timeline shows fixed durations only.
    fn tick_interval(&self, now: DateTime<Utc>) -> Option<std::time::Duration> {
        let target = self.target.as_deref()?;
        let p = self.platforms.get(self.current.as_deref()?)?;
        let empty = StepStats::new();
        let stats = p.stats.as_ref().unwrap_or(&empty);
        let running = |tl: Timeline| {
            (!tl.finished)
                .then(|| tl.current_step().and_then(|s| s.duration_secs))
                .flatten()
        };
        let cluster = p
            .model
            .cluster(target)
            .map(|c| running(c.timeline_with(now, stats, p.model.plan(Resource::Cluster))));
        let nodes = p
            .model
            .machines_of(target)
            .into_iter()
            .map(|m| running(m.timeline_with(now, stats, p.model.plan(Resource::Machine))));
        cluster
            .into_iter()
            .chain(nodes)
            .flatten()
            .map(super::live_interval)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::clusters as demo;

    #[test]
    fn wrapped_rows_counts_word_wrapping() {
        let l = |s: &str| Line::from(s.to_string());
        assert_eq!(wrapped_rows(&l("abc def"), 7), 1);
        assert_eq!(wrapped_rows(&l("abc defg"), 7), 2);
        // 9 columns of text, yet three rows once words do not fit.
        assert_eq!(wrapped_rows(&l("abcd efgh ij"), 5), 3);
        assert_eq!(wrapped_rows(&l("abcdefghijkl"), 5), 3);
        assert_eq!(wrapped_rows(&l(""), 5), 1);
    }

    #[test]
    fn gauge_and_marks() {
        assert_eq!(gauge(0.5, 10), "[#####-----]");
        assert_eq!(gauge(2.0, 4), "[####]");
        assert_eq!(gauge(-1.0, 3), "[---]");
        assert_eq!(step_mark(StepState::Failed).0, "[!]");
    }

    #[test]
    fn demo_timeline_has_a_current_step_and_eta() {
        let mut p = TimelinePane::demo();
        let tl = p.timeline(demo::now()).expect("timeline");
        assert_eq!(
            tl.current_step().map(|s| s.type_.as_str()),
            Some("EnsureKubeadmInitPhaseETCD")
        );
        assert!(tl.eta.is_some());
        assert!(!tl.has_failed());
        assert_eq!(p.machine_timelines(demo::now()).len(), 2);
    }

    #[test]
    fn failed_demo_reports_the_failure() {
        let mut p = TimelinePane::demo_failed();
        let tl = p.timeline(demo::now()).expect("timeline");
        let f = tl.failure.expect("failure");
        assert_eq!(f.type_, "EnsurePreflight");
        assert_eq!(f.retrying_secs, Some(80 * 60));
    }

    #[test]
    fn open_switches_target_and_back_returns_to_the_list() {
        let mut p = TimelinePane::demo();
        p.on_open(Some("staging"));
        assert_eq!(p.target(), Some("staging"));
        assert!(matches!(
            p.on_action("back").as_slice(),
            [Effect::Open(PaneId::Clusters, Some(n))] if n == "staging"
        ));
        p.on_action("scroll_down");
        assert!(!p.follow);
        p.on_open(Some("global"));
        assert!(p.follow);
    }

    use crate::tui::panes::clusters::tests::render_to_string;

    #[test]
    fn snapshot_creating_80x24() {
        insta::assert_snapshot!(render_to_string(&mut TimelinePane::demo(), 80, 24));
    }

    #[test]
    fn snapshot_creating_200x50() {
        insta::assert_snapshot!(render_to_string(&mut TimelinePane::demo(), 200, 50));
    }

    #[test]
    fn snapshot_failed_80x24() {
        insta::assert_snapshot!(render_to_string(&mut TimelinePane::demo_failed(), 80, 24));
    }

    #[test]
    fn snapshot_failed_200x50() {
        insta::assert_snapshot!(render_to_string(&mut TimelinePane::demo_failed(), 200, 50));
    }

    #[test]
    fn snapshot_empty_states_80x24() {
        let mut p = TimelinePane::new();
        let a = render_to_string(&mut p, 80, 24);
        let mut q = TimelinePane::demo();
        q.on_open(Some("ghost"));
        let b = render_to_string(&mut q, 80, 24);
        insta::assert_snapshot!(format!("{a}\n{b}"));
    }
}
