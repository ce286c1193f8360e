//! The shell's state: which pane is active, overlays (help, command prompt, confirmation),
//! toasts, and the routing of keys to keymap actions. No I/O here: the run loop feeds it input
//! and engine events, draws it, and carries out what it leaves in its outbox.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, Local, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Padding, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use crate::config::keymap::{Catalog, Keymap};
use crate::config::theme::{Role, Theme};
use crate::engine::kube::{
    AccessDecision, ClusterSummary, Delta, KubeCommand, KubeEvent, KubeFailure,
};
use crate::engine::{Command, Event, RequestId};
use crate::tui::panes::{
    Access, CommandArg, Effect, Guarded, Pane, PaneId, RenderCtx, SPECS, SuspendJob,
};
use crate::tui::toast::{Toast, ToastLevel};
use crate::tui::widgets;

mod chrome;
mod dialogs;
mod gate;
mod help;
mod prompt;
mod toasts;

use dialogs::*;
pub use gate::*;
use prompt::*;
pub use prompt::{COMMANDS, complete, complete_with};
use toasts::*;

/// How many toasts are kept; older ones are dropped first.
pub const MAX_TOASTS: usize = 4;
/// How many `:` commands the prompt remembers.
const MAX_HISTORY: usize = 50;
/// How many `Effect::Open` hops one input may cause, so two panes cannot ping-pong forever.
const MAX_EFFECT_HOPS: usize = 32;
/// How long the gate waits for an RBAC answer before letting the user decide without one.
pub const ACCESS_CHECK_TIMEOUT: Duration = Duration::from_secs(10);
/// RBAC checks remembered while unanswered; older ones are forgotten first.
/// Kubeconfig contexts remembered for `:ctx` completion.
const MAX_CONTEXTS: usize = 1024;
/// Cluster names remembered for `:timeline` / `:etcd` completion, over all platforms.
const MAX_CLUSTER_NAMES: usize = 4096;
/// The widest key column in the help overlay; longer keys get a line of their own.
const MAX_HELP_KEY_WIDTH: usize = 28;
/// The smallest terminal the shell draws into.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;

/// Shell-level commands that are neither a pane's nor the engine's business alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellCommand {
    /// `:ctx <name>`: use another kubeconfig context for the platform.
    SwitchContext(String),
}

/// Turns a shell command into engine commands, in place of the shell's own routing. Without a
/// hook `:ctx <name>` becomes `KubeCommand::SwitchContext`.
pub type ShellHook = Box<dyn FnMut(&ShellCommand) -> Result<Vec<Command>, Toast> + Send>;

/// What the run loop must do on the app's behalf.
#[derive(Debug)]
pub enum Outgoing {
    Engine(Command),
    /// Hand the terminal to a program, then tell `pane` with `on_resumed`.
    Suspend {
        pane: PaneId,
        job: SuspendJob,
    },
    /// Ctrl-Z: stop the process like a shell job.
    SuspendSelf,
    /// Text for the terminal's clipboard (OSC 52).
    Copy(String),
}

/// Where the user is; always on screen.
#[derive(Debug, Clone, Default)]
pub struct HeaderInfo {
    pub platform: String,
    pub context: Option<String>,
    pub cluster: Option<String>,
}

enum Mode {
    Normal,
    Help { scroll: u16 },
    Prompt(Prompt),
    Confirm(Box<Confirm>),
    ConfirmQuit(QuitConfirm),
}

pub struct AppOptions {
    pub theme: Theme,
    pub keymap: Keymap,
    pub header: HeaderInfo,
    pub readonly: bool,
    pub sandbox: bool,
    pub panes: Vec<Box<dyn Pane>>,
    /// Load problems shown once as toasts and kept in the help overlay.
    pub warnings: Vec<String>,
    pub shell_hook: Option<ShellHook>,
}

pub struct App {
    pub theme: Theme,
    pub keymap: Keymap,
    /// Every action the shell and panes understand, for help's descriptions.
    catalog: Catalog,
    pub header: HeaderInfo,
    pub readonly: bool,
    pub sandbox: bool,
    panes: BTreeMap<PaneId, Box<dyn Pane>>,
    active: PaneId,
    mode: Mode,
    toasts: VecDeque<ToastEntry>,
    history: VecDeque<String>,
    warnings: Vec<String>,
    outbox: Vec<Outgoing>,
    shell_hook: Option<ShellHook>,
    /// The kubeconfig's contexts as the engine last reported them.
    contexts: Vec<String>,
    /// Long work under way (a preflight run), by request, shown in the footer until done.
    progress: BTreeMap<RequestId, crate::engine::Progress>,
    /// The context `:ctx` asked for, until the engine reports it current.
    switching_to: Option<String>,
    /// The platform label of each context, for the header after a switch.
    context_platforms: BTreeMap<String, String>,
    /// Fixed offset for the clock in tests and screenshots; the local zone otherwise.
    pub clock_offset: Option<FixedOffset>,
    /// Cluster names per platform from the watch, for Tab after `:timeline` and `:etcd`.
    cluster_names: BTreeMap<String, BTreeSet<String>>,
    /// What the active pane asked for at the last frame ([`Pane::tick_interval`]), and when
    /// that redraw is due: the only timer armed for the panes.
    live_every: Option<Duration>,
    live_at: Option<Instant>,
    quit: bool,
    dirty: bool,
}

impl App {
    pub fn new(opts: AppOptions, now: Instant) -> App {
        let mut panes: BTreeMap<PaneId, Box<dyn Pane>> = BTreeMap::new();
        for p in opts.panes {
            panes.insert(p.id(), p);
        }
        for id in PaneId::all() {
            panes.entry(id).or_insert_with(|| {
                Box::new(crate::tui::panes::placeholder::PlaceholderPane::new(id))
            });
        }
        let mut app = App {
            theme: opts.theme,
            keymap: opts.keymap,
            catalog: crate::tui::actions::catalog(),
            header: opts.header,
            readonly: opts.readonly,
            sandbox: opts.sandbox,
            panes,
            active: PaneId::Clusters,
            mode: Mode::Normal,
            toasts: VecDeque::new(),
            history: VecDeque::new(),
            warnings: opts.warnings,
            outbox: Vec::new(),
            shell_hook: opts.shell_hook,
            contexts: Vec::new(),
            progress: BTreeMap::new(),
            switching_to: None,
            context_platforms: BTreeMap::new(),
            clock_offset: None,
            cluster_names: BTreeMap::new(),
            live_every: None,
            live_at: None,
            quit: false,
            dirty: true,
        };
        if let Some(first) = app.warnings.first().cloned() {
            let more = app.warnings.len() - 1;
            let hint = if more > 0 {
                format!("{more} more; press ? to see them all")
            } else {
                "press ? to see it again".to_string()
            };
            app.push_toast(
                Toast {
                    level: ToastLevel::Warn,
                    message: first,
                    hint: Some(hint),
                },
                now,
            );
        }
        let effects = app.pane_mut(PaneId::Clusters).on_open(None);
        app.apply_effects(PaneId::Clusters, effects, now);
        app
    }

    pub fn active(&self) -> PaneId {
        self.active
    }
    pub fn should_quit(&self) -> bool {
        self.quit
    }
    pub fn is_dirty(&self) -> bool {
        self.dirty
    }
    pub fn mark_dirty(&mut self) {
        self.dirty = true;
    }
    pub fn mark_drawn(&mut self) {
        self.dirty = false;
    }
    pub fn take_outbox(&mut self) -> Vec<Outgoing> {
        std::mem::take(&mut self.outbox)
    }
    pub fn help_open(&self) -> bool {
        matches!(self.mode, Mode::Help { .. })
    }
    pub fn prompt_open(&self) -> bool {
        matches!(self.mode, Mode::Prompt(_))
    }
    pub fn confirm_open(&self) -> bool {
        matches!(self.mode, Mode::Confirm(_))
    }
    /// The "quit and lose unsaved input?" question is on screen.
    pub fn quit_confirm_open(&self) -> bool {
        matches!(self.mode, Mode::ConfirmQuit(_))
    }

    /// What quitting now would throw away, as each pane names it.
    pub fn unsaved_input(&self) -> Vec<(PaneId, String)> {
        self.panes
            .iter()
            .filter_map(|(id, p)| p.unsaved_input().map(|what| (*id, what)))
            .collect()
    }

    fn pane_mut(&mut self, id: PaneId) -> &mut Box<dyn Pane> {
        // Every id is inserted in `new`, so this never falls through.
        self.panes
            .entry(id)
            .or_insert_with(|| Box::new(crate::tui::panes::placeholder::PlaceholderPane::new(id)))
    }

    /// When the app next needs to wake without input: the first toast expiry, the moment
    /// the confirmation stops waiting for its RBAC check, or the active pane's live redraw.
    pub fn next_deadline(&self) -> Option<Instant> {
        let check = match &self.mode {
            Mode::Confirm(c) => c.check.map(|(_, at)| at),
            _ => None,
        };
        self.toasts
            .iter()
            .map(|t| t.expires)
            .chain(check)
            .chain(self.live_at)
            .min()
    }

    /// Arms the live redraw after a frame drawn at `now`, when the active pane asked for one
    /// while drawing; otherwise nothing stays armed, so an idle screen never wakes.
    pub fn arm_live_timer(&mut self, now: Instant) {
        self.live_at = self.live_every.map(|every| now + every);
    }

    /// The redraw interval the active pane asked for at the last frame.
    pub fn live_interval(&self) -> Option<Duration> {
        self.live_every
    }

    /// Expires toasts and an unanswered RBAC check, and redraws a live pane; called when the
    /// deadline passes.
    pub fn tick(&mut self, now: Instant) {
        if self.live_at.is_some_and(|at| at <= now) {
            // Re-armed by the frame this asks for, with the interval the pane gives then.
            self.live_at = None;
            self.dirty = true;
        }
        let before = self.toasts.len();
        self.toasts.retain(|t| t.expires > now);
        if self.toasts.len() != before {
            self.dirty = true;
        }
        if let Mode::Confirm(c) = &self.mode
            && c.check.is_some_and(|(_, at)| at <= now)
        {
            self.on_access_verdict(
                AccessVerdict::Unknown(format!(
                    "no answer from the platform within {} s",
                    ACCESS_CHECK_TIMEOUT.as_secs()
                )),
                now,
            );
        }
    }

    /// The platform label of each kubeconfig context, so the header follows `:ctx`.
    pub fn set_context_platforms(&mut self, platforms: BTreeMap<String, String>) {
        self.context_platforms = platforms;
    }

    /// The kubeconfig's contexts as the engine last reported them.
    pub fn contexts(&self) -> &[String] {
        &self.contexts
    }

    pub fn switch_to(&mut self, id: PaneId, target: Option<String>, now: Instant) {
        let previous = self.active;
        if previous != id {
            let effects = self.pane_mut(previous).on_close();
            self.apply_effects(previous, effects, now);
        }
        self.active = id;
        // The Create pane's target is a manifest path or a draft, not a cluster.
        if let Some(t) = target.as_ref().filter(|_| id != PaneId::Create) {
            self.header.cluster = Some(t.clone());
        }
        self.dirty = true;
        let effects = self.pane_mut(id).on_open(target.as_deref());
        self.apply_effects(id, effects, now);
    }

    /// Bounded: only the newest few runs are remembered; a finished one leaves the footer.
    fn on_progress(&mut self, p: crate::engine::Progress) {
        const MAX_PROGRESS: usize = 8;
        if p.total.is_some_and(|t| p.done >= t) {
            self.progress.remove(&p.id);
        } else {
            self.progress.insert(p.id, p);
            while self.progress.len() > MAX_PROGRESS {
                self.progress.pop_first();
            }
        }
        self.dirty = true;
    }

    /// The footer's note of the newest work under way, e.g. `preflight: nodes checked 3/7`.
    pub fn progress_note(&self) -> Option<String> {
        let p = self.progress.values().next_back()?;
        Some(match p.total {
            Some(t) => format!("{} {}/{t}", p.what, p.done),
            None => format!("{} {}", p.what, p.done),
        })
    }

    pub fn on_engine_event(&mut self, event: Event, now: Instant) {
        let event = match event {
            Event::Failure(f) => return self.push_toast(f.into(), now),
            Event::Progress(p) => return self.on_progress(p),
            other => other,
        };
        match &event {
            Event::Kube(KubeEvent::Access { id, access, result }) => {
                self.on_access_answer(*id, access, result, now)
            }
            Event::Kube(KubeEvent::Contexts { current, available }) => {
                self.on_contexts(current.as_deref(), available, now)
            }
            Event::Kube(KubeEvent::ClustersChanged(d)) => self.note_cluster_names(d),
            _ => {}
        }
        let active = self.active;
        for (id, pane) in self.panes.iter_mut() {
            if pane.on_event(&event) && *id == active {
                self.dirty = true;
            }
        }
        // A pane may ask for something because of the event (the wizard opens the Timeline
        // once a create went through); every pane is asked, not just the active one.
        let ids: Vec<PaneId> = self.panes.keys().copied().collect();
        for id in ids {
            let effects = self.pane_mut(id).take_effects();
            if !effects.is_empty() {
                self.apply_effects(id, effects, now);
            }
        }
    }

    /// Keeps the names `:timeline` and `:etcd` complete, up to [`MAX_CLUSTER_NAMES`] in all: a
    /// platform with more still works, Tab just does not offer the rest.
    fn note_cluster_names(&mut self, d: &Delta<ClusterSummary>) {
        let total: usize = self.cluster_names.values().map(BTreeSet::len).sum();
        let names = self.cluster_names.entry(d.platform.clone()).or_default();
        let mut room = MAX_CLUSTER_NAMES.saturating_sub(total);
        if d.reset {
            room += names.len();
            names.clear();
        }
        for name in &d.deleted {
            if names.remove(name) {
                room += 1;
            }
        }
        for c in &d.applied {
            if names.contains(&c.name) {
                continue;
            }
            if room == 0 {
                break;
            }
            names.insert(c.name.clone());
            room -= 1;
        }
    }

    /// The cluster names to complete: the current context's, or every platform's before the
    /// engine named a current one.
    pub fn cluster_names(&self) -> Vec<String> {
        let set: BTreeSet<&String> = match self
            .header
            .context
            .as_ref()
            .and_then(|c| self.cluster_names.get(c))
        {
            Some(names) => names.iter().collect(),
            None => self.cluster_names.values().flatten().collect(),
        };
        set.into_iter().cloned().collect()
    }

    /// The engine's view of the kubeconfig: completion uses the names, the header follows the
    /// current context.
    fn on_contexts(&mut self, current: Option<&str>, available: &[String], now: Instant) {
        self.contexts = available.iter().take(MAX_CONTEXTS).cloned().collect();
        let Some(current) = current else {
            return;
        };
        if self.header.context.as_deref() != Some(current) {
            self.header.context = Some(current.to_string());
            // The cluster label belonged to the previous platform.
            self.header.cluster = None;
            if let Some(p) = self.context_platforms.get(current) {
                self.header.platform = p.clone();
            }
            self.dirty = true;
        }
        if self.switching_to.as_deref() == Some(current) {
            self.switching_to = None;
            self.push_toast(Toast::info(format!("switched to context {current}")), now);
        }
    }

    pub fn on_resumed(&mut self, pane: PaneId, tag: &str, ok: bool, now: Instant) {
        self.dirty = true;
        let effects = self.pane_mut(pane).on_resumed(tag, ok);
        self.apply_effects(pane, effects, now);
    }

    pub fn on_resize(&mut self) {
        self.dirty = true;
    }

    pub fn on_paste(&mut self, text: &str, now: Instant) {
        match &mut self.mode {
            Mode::Prompt(p) => {
                // A command is one line; pasted newlines would be invisible surprises.
                p.input.push_str(&text.replace(['\n', '\r'], " "));
                p.candidates.clear();
                self.dirty = true;
            }
            Mode::Normal => {
                let id = self.active;
                if self.pane_mut(id).wants_text_input() {
                    let effects = self.pane_mut(id).on_paste(text);
                    self.dirty = true;
                    self.apply_effects(id, effects, now);
                }
            }
            _ => {}
        }
    }

    pub fn on_key(&mut self, key: KeyEvent, now: Instant) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        // The terminal's own keys: they work in every mode and cannot be unbound.
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            match key.code {
                // Ctrl-C is a key like `q`, and just as easy to press by mistake: it asks too
                // when input would be lost. Pressed again on the question it changes nothing,
                // so hammering it cannot throw the input away.
                KeyCode::Char('c') => {
                    if !self.quit_confirm_open() {
                        self.request_quit();
                    }
                    return;
                }
                KeyCode::Char('z') => {
                    self.outbox.push(Outgoing::SuspendSelf);
                    return;
                }
                _ => {}
            }
        }
        self.dirty = true;
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Confirm(c) => self.confirm_key(*c, key, now),
            Mode::ConfirmQuit(q) => self.quit_confirm_key(q, key, now),
            Mode::Prompt(p) => self.prompt_key(p, key, now),
            Mode::Help { scroll } => {
                self.mode = Mode::Help { scroll };
                match self.keymap.action_in("help", &key) {
                    Some("close") => self.mode = Mode::Normal,
                    Some("scroll_down") => {
                        self.mode = Mode::Help {
                            scroll: scroll.saturating_add(1),
                        }
                    }
                    Some("scroll_up") => {
                        self.mode = Mode::Help {
                            scroll: scroll.saturating_sub(1),
                        }
                    }
                    _ => match key.code {
                        KeyCode::PageDown => {
                            self.mode = Mode::Help {
                                scroll: scroll.saturating_add(10),
                            }
                        }
                        KeyCode::PageUp => {
                            self.mode = Mode::Help {
                                scroll: scroll.saturating_sub(10),
                            }
                        }
                        _ => self.dirty = false,
                    },
                }
            }
            Mode::Normal => self.normal_key(key, now),
        }
    }

    fn normal_key(&mut self, key: KeyEvent, now: Instant) {
        let id = self.active;
        if self.pane_mut(id).wants_text_input()
            && let Some(effects) = self.pane_mut(id).on_key(key)
        {
            self.apply_effects(id, effects, now);
            return;
        }
        if let Some(action) = self.keymap.action_in(id.key(), &key).map(str::to_string) {
            let effects = self.pane_mut(id).on_action(&action);
            self.apply_effects(id, effects, now);
            return;
        }
        let Some(action) = self.keymap.action_in("global", &key).map(str::to_string) else {
            self.dirty = false;
            return;
        };
        match action.as_str() {
            "quit" => self.request_quit(),
            "help" => self.mode = Mode::Help { scroll: 0 },
            "command" => self.mode = Mode::Prompt(Prompt::default()),
            "next_pane" | "prev_pane" => {
                let all: Vec<PaneId> = PaneId::all().collect();
                let i = all.iter().position(|p| *p == id).unwrap_or(0);
                let n = all.len();
                let j = if action == "next_pane" {
                    (i + 1) % n
                } else {
                    (i + n - 1) % n
                };
                self.switch_to(all[j], None, now);
            }
            "suspend" => self.outbox.push(Outgoing::SuspendSelf),
            a => {
                if let Some(n) = a
                    .strip_prefix("pane_")
                    .and_then(|n| n.parse::<usize>().ok())
                    && let Some(p) = PaneId::all().nth(n.wrapping_sub(1))
                {
                    self.switch_to(p, None, now);
                }
            }
        }
    }

    /// Carries out what a pane asked for.
    pub fn apply_effects(&mut self, from: PaneId, effects: Vec<Effect>, now: Instant) {
        let mut queue: VecDeque<(PaneId, Effect)> =
            effects.into_iter().map(|e| (from, e)).collect();
        let mut hops = 0;
        while let Some((src, effect)) = queue.pop_front() {
            self.dirty = true;
            match effect {
                Effect::Engine(cmd) => self.outbox.push(Outgoing::Engine(cmd)),
                Effect::Toast(t) => self.push_toast(t, now),
                Effect::Copy(text) => {
                    self.outbox.push(Outgoing::Copy(text));
                    self.push_toast(Toast::info("copied to the clipboard (OSC 52)"), now);
                }
                Effect::Suspend(job) => self.outbox.push(Outgoing::Suspend { pane: src, job }),
                Effect::Guarded(g) => self.guard(g, now),
                Effect::Open(id, target) => {
                    hops += 1;
                    if hops > MAX_EFFECT_HOPS {
                        tracing::warn!("dropped an Open effect loop between panes");
                        continue;
                    }
                    self.active = id;
                    if let Some(t) = &target {
                        self.header.cluster = Some(t.clone());
                    }
                    let more = self.pane_mut(id).on_open(target.as_deref());
                    queue.extend(more.into_iter().map(|e| (id, e)));
                }
            }
        }
    }

    // ---- drawing ----

    pub fn render(&mut self, frame: &mut Frame, now: DateTime<Utc>) {
        let area = frame.area();
        // Asked again on every frame: the pane knows when its durations stop being live.
        self.live_every = None;
        if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
            let msg = format!(
                "terminal too small: {}x{}, need at least {MIN_WIDTH}x{MIN_HEIGHT}",
                area.width, area.height
            );
            frame.render_widget(
                Paragraph::new(msg)
                    .style(self.theme.style(Role::Warn))
                    .wrap(Wrap { trim: true }),
                area,
            );
            return;
        }
        let [header, tabs, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area);
        self.render_header(frame, header, now);
        self.render_tabs(frame, tabs);
        let ctx = RenderCtx {
            theme: &self.theme,
            now,
            readonly: self.readonly,
            sandbox: self.sandbox,
        };
        if let Some(pane) = self.panes.get_mut(&self.active) {
            pane.render(frame, body, &ctx);
            self.live_every = pane.tick_interval(now);
        }
        self.render_footer(frame, footer);
        self.render_toasts(frame, body);
        match &self.mode {
            Mode::Help { scroll } => {
                let scroll = *scroll;
                self.render_help(frame, body, scroll);
            }
            Mode::Confirm(c) => self.render_confirm(frame, body, c),
            Mode::ConfirmQuit(q) => self.render_quit_confirm(frame, body, q),
            _ => {}
        }
    }
}

#[cfg(test)]
mod test_support;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Failure, FailureKind};
    use crate::tui::app::test_support::*;

    #[test]
    fn number_keys_and_tab_switch_panes() {
        let now = Instant::now();
        let mut a = app(false);
        a.on_key(key(KeyCode::Char('4')), now);
        assert_eq!(a.active(), PaneId::Timeline);
        a.on_key(key(KeyCode::Tab), now);
        assert_eq!(a.active(), PaneId::Etcd);
        a.on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT), now);
        a.on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT), now);
        assert_eq!(a.active(), PaneId::Drafts);
        a.on_key(key(KeyCode::Char('1')), now);
        a.on_key(KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT), now);
        assert_eq!(a.active(), PaneId::Registry);
    }

    /// One frame as the run loop draws it: render, then arm the live timer.
    fn frame(a: &mut App, now: Instant) {
        crate::tui::screenshots::render(a, 80, 24);
        a.mark_drawn();
        a.arm_live_timer(now);
    }

    #[test]
    fn live_timer_is_armed_only_while_the_active_pane_asks() {
        let now = Instant::now();
        let mut a = app_on(vec![
            live(PaneId::Clusters, None),
            live(PaneId::Timeline, Some(Duration::from_secs(1))),
        ]);
        frame(&mut a, now);
        assert_eq!(a.live_interval(), None);
        assert_eq!(a.next_deadline(), None, "idle: nothing may wake the loop");

        a.switch_to(PaneId::Timeline, Some("demo".into()), now);
        frame(&mut a, now);
        let at = now + Duration::from_secs(1);
        assert_eq!(a.next_deadline(), Some(at));
        a.tick(at - Duration::from_millis(1));
        assert!(!a.is_dirty(), "not due yet");
        a.tick(at);
        assert!(a.is_dirty(), "the due tick redraws");
        assert_eq!(
            a.next_deadline(),
            None,
            "re-armed by the frame, not by the tick"
        );
        frame(&mut a, at);
        assert_eq!(a.next_deadline(), Some(at + Duration::from_secs(1)));

        // Back on a pane with nothing live: the timer is gone after its frame.
        a.switch_to(PaneId::Clusters, None, at);
        frame(&mut a, at);
        assert_eq!(a.next_deadline(), None);
    }

    #[test]
    fn real_panes_ask_for_ticks_only_while_something_runs() {
        use crate::fixtures::clusters as demo;
        use crate::tui::panes::clusters::ClustersPane;
        use crate::tui::panes::timeline::TimelinePane;
        // The demo has creating clusters: the Timeline on one of them is live every second.
        let tl = TimelinePane::demo();
        let live = tl.tick_interval(demo::now());
        assert_eq!(live, Some(Duration::from_secs(1)), "{:?}", tl.target());
        // No target: nothing runs on screen.
        assert_eq!(TimelinePane::new().tick_interval(demo::now()), None);
        // The creating demo rows are older than two minutes: a minute is enough for AGE.
        let mut cl = ClustersPane::demo();
        cl.visible_names();
        assert_eq!(cl.tick_interval(demo::now()), Some(Duration::from_secs(60)));
        assert_eq!(ClustersPane::new().tick_interval(demo::now()), None);
    }

    /// A pane that asks for effects whenever an engine event arrives, as the wizard does after
    /// a create.
    struct AfterEventPane {
        pending: Vec<Effect>,
    }

    impl Pane for AfterEventPane {
        fn id(&self) -> PaneId {
            PaneId::Create
        }
        fn render(&mut self, _frame: &mut Frame, _area: Rect, _ctx: &RenderCtx) {}
        fn on_action(&mut self, _action: &str) -> Vec<Effect> {
            Vec::new()
        }
        fn on_event(&mut self, _event: &Event) -> bool {
            self.pending
                .push(Effect::Open(PaneId::Timeline, Some("demo".into())));
            self.pending.push(Effect::Engine(Command::Shutdown));
            true
        }
        fn take_effects(&mut self) -> Vec<Effect> {
            std::mem::take(&mut self.pending)
        }
    }

    #[test]
    fn pane_effects_are_drained_after_an_engine_event() {
        let now = Instant::now();
        let mut a = App::new(
            AppOptions {
                theme: Theme::default(),
                keymap: crate::tui::actions::default_keymap(),
                header: HeaderInfo::default(),
                readonly: false,
                sandbox: true,
                panes: vec![Box::new(AfterEventPane {
                    pending: Vec::new(),
                })],
                warnings: Vec::new(),
                shell_hook: None,
            },
            now,
        );
        assert_eq!(a.active(), PaneId::Clusters);
        a.on_engine_event(contexts("global", &["global"]), now);
        // The Create pane is not active, yet what it asked for happened.
        assert_eq!(a.active(), PaneId::Timeline);
        assert_eq!(a.header.cluster.as_deref(), Some("demo"));
        assert!(matches!(sent(&mut a).as_slice(), [Command::Shutdown]));
        // Drained, not repeated: a toast does not reach panes, so nothing new is asked.
        a.on_engine_event(
            Event::Failure(Failure::new(FailureKind::Other, "hello", None)),
            now,
        );
        assert!(sent(&mut a).is_empty());
    }

    #[test]
    fn unbound_keys_do_not_redraw() {
        let now = Instant::now();
        let mut a = app(false);
        a.mark_drawn();
        a.on_key(key(KeyCode::Char('§')), now);
        assert!(!a.is_dirty());
    }
}
