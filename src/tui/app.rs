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
}

/// The result of an RBAC check for a guarded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessVerdict {
    /// The check was sent and has not answered yet.
    Pending,
    Allowed,
    /// The platform said no; the authorizer's reason (may be empty).
    Denied(String),
    /// The check itself failed (unreachable, timed out...). The API server still enforces RBAC
    /// on the action, so the user may go ahead.
    Unknown(String),
}

/// What the safety gate does with a guarded action at a given point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateDecision {
    Refuse(Toast),
    AskToConfirm,
}

/// The safety gate's rule, in one place: read-only refuses everything, a denied RBAC check
/// refuses and names the missing permission, anything else is asked.
pub fn gate(
    readonly: bool,
    action: &str,
    access: Option<&Access>,
    verdict: &AccessVerdict,
) -> GateDecision {
    if readonly {
        return GateDecision::Refuse(Toast::error(
            format!("read-only: refused to {action}"),
            Some("restart without --readonly to make changes".to_string()),
        ));
    }
    match verdict {
        AccessVerdict::Denied(reason) => {
            let missing = access.map_or_else(|| "the permission".to_string(), access_label);
            let mut message = format!("not allowed to {action}: missing {missing}");
            if !reason.is_empty() {
                message.push_str(&format!(" ({reason})"));
            }
            GateDecision::Refuse(Toast::error(message, Some(grant_hint(access))))
        }
        AccessVerdict::Pending | AccessVerdict::Allowed | AccessVerdict::Unknown(_) => {
            GateDecision::AskToConfirm
        }
    }
}

/// "create on clusters.platform.tkestack.io", the way RBAC rules are read aloud.
fn access_label(a: &Access) -> String {
    let mut s = format!("{} on {}", a.verb, a.resource);
    if !a.group.is_empty() {
        s.push('.');
        s.push_str(&a.group);
    }
    if let Some(n) = &a.name {
        s.push('/');
        s.push_str(n);
    }
    if let Some(ns) = &a.namespace {
        s.push_str(&format!(" in {ns}"));
    }
    s
}

/// How to get a missing permission. A cluster-scoped resource can only be granted by a
/// ClusterRoleBinding; a RoleBinding is enough inside a namespace.
fn grant_hint(access: Option<&Access>) -> String {
    match access {
        Some(a) => {
            let binding = match &a.namespace {
                Some(ns) => format!("a RoleBinding in {ns}"),
                None => "a ClusterRoleBinding".to_string(),
            };
            let mut what = format!("{} on {}", a.verb, a.resource);
            if !a.group.is_empty() {
                what.push('.');
                what.push_str(&a.group);
            }
            format!("ask a platform administrator for {binding} granting {what}")
        }
        None => "ask a platform administrator for the RBAC permission".to_string(),
    }
}

/// Where the user is; always on screen.
#[derive(Debug, Clone, Default)]
pub struct HeaderInfo {
    pub platform: String,
    pub context: Option<String>,
    pub cluster: Option<String>,
}

struct Confirm {
    guarded: Guarded,
    confirm_focused: bool,
    verdict: AccessVerdict,
    /// The RBAC check this dialog waits for (its request id) and when it stops waiting. An
    /// answer with another id is stale (a dialog since closed asked it) and is dropped.
    check: Option<(RequestId, Instant)>,
    /// Confirmed while the check was still out: the command goes once the check allows it.
    confirmed_early: bool,
}

/// The question asked before quitting while a pane holds input that quitting would throw
/// away. Like the safety gate it defaults to Cancel: losing typed work takes `y` then Enter.
struct QuitConfirm {
    /// What would be lost, one entry per pane, in the panes' own words.
    lost: Vec<(PaneId, String)>,
    quit_focused: bool,
}

#[derive(Default)]
struct Prompt {
    input: String,
    /// Shown under the input after Tab found several candidates.
    candidates: Vec<String>,
    history_pos: Option<usize>,
}

enum Mode {
    Normal,
    Help { scroll: u16 },
    Prompt(Prompt),
    Confirm(Box<Confirm>),
    ConfirmQuit(QuitConfirm),
}

struct ToastEntry {
    toast: Toast,
    expires: Instant,
}

/// The `:` commands: name, argument, help text. Each pane's comes from its spec; the shell adds
/// its own.
pub static COMMANDS: LazyLock<Vec<(&'static str, &'static str, &'static str)>> =
    LazyLock::new(|| {
        let mut v: Vec<_> = SPECS
            .iter()
            .map(|s| (s.key(), s.command.label(), s.command_help))
            .collect();
        v.extend([
            ("ctx", "<name>", "switch the kubeconfig context"),
            ("help", "", "all keys"),
            ("quit", "", "quit (also :q; :q! quits without asking)"),
        ]);
        v
    });

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

    /// A quit the user asked for (the quit key, Ctrl-C, `:q`): at once when nothing would be
    /// lost, otherwise after the question, because nothing the user typed is lost silently.
    ///
    /// SIGHUP, SIGTERM and SIGINT never come here: the run loop exits on them at once. A
    /// dropped SSH link has nobody left to answer a dialog, and a process manager expects a
    /// prompt exit; waiting would keep a dead session alive on the jump host. The wizard's form
    /// is in memory only, so that loss is accepted for signals; the question protects against
    /// the everyday case, a stray key.
    fn request_quit(&mut self) {
        let lost = self.unsaved_input();
        if lost.is_empty() {
            self.quit = true;
        } else {
            tracing::info!(panes = lost.len(), "quit asked while input is unsaved");
            self.mode = Mode::ConfirmQuit(QuitConfirm {
                lost,
                quit_focused: false,
            });
        }
        self.dirty = true;
    }
    pub fn toast_count(&self) -> usize {
        self.toasts.len()
    }
    pub fn toasts(&self) -> impl Iterator<Item = &Toast> {
        self.toasts.iter().map(|t| &t.toast)
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

    pub fn push_toast(&mut self, toast: Toast, now: Instant) {
        let life = match toast.level {
            ToastLevel::Info => Duration::from_secs(4),
            ToastLevel::Warn | ToastLevel::Error => Duration::from_secs(8),
        };
        match toast.level {
            ToastLevel::Error => tracing::warn!(message = %toast.message, "error shown"),
            _ => tracing::info!(message = %toast.message, "toast shown"),
        }
        // The same message twice only refreshes its timer, so a flapping watch cannot flood.
        self.toasts.retain(|t| t.toast != toast);
        self.toasts.push_back(ToastEntry {
            toast,
            expires: now + life,
        });
        while self.toasts.len() > MAX_TOASTS {
            self.toasts.pop_front();
        }
        self.dirty = true;
    }

    pub fn switch_to(&mut self, id: PaneId, target: Option<String>, now: Instant) {
        self.active = id;
        // The Create pane's target is a manifest path or a draft, not a cluster.
        if let Some(t) = target.as_ref().filter(|_| id != PaneId::Create) {
            self.header.cluster = Some(t.clone());
        }
        self.dirty = true;
        let effects = self.pane_mut(id).on_open(target.as_deref());
        self.apply_effects(id, effects, now);
    }

    pub fn on_engine_event(&mut self, event: Event, now: Instant) {
        let event = match event {
            Event::Failure(f) => return self.push_toast(f.into(), now),
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

    /// An engine answer counts only when it answers the check the open confirmation waits for.
    fn on_access_answer(
        &mut self,
        id: RequestId,
        access: &Access,
        result: &Result<AccessDecision, KubeFailure>,
        now: Instant,
    ) {
        let waiting = matches!(&self.mode, Mode::Confirm(c) if c.check.is_some_and(|(w, at)| w == id && at > now));
        if !waiting {
            tracing::debug!(access = %access_label(access), "stale RBAC answer ignored");
            return;
        }
        let verdict = match result {
            Ok(d) if d.allowed => AccessVerdict::Allowed,
            Ok(d) => AccessVerdict::Denied(d.reason.clone()),
            Err(f) => AccessVerdict::Unknown(f.to_string()),
        };
        self.on_access_verdict(verdict, now);
    }

    /// The answer to an RBAC check for the action waiting for confirmation.
    pub fn on_access_verdict(&mut self, verdict: AccessVerdict, now: Instant) {
        let Mode::Confirm(c) = std::mem::replace(&mut self.mode, Mode::Normal) else {
            return;
        };
        let mut c = *c;
        c.check = None;
        c.verdict = verdict.clone();
        self.dirty = true;
        let decision = gate(
            self.readonly,
            &c.guarded.title,
            c.guarded.access.as_ref(),
            &verdict,
        );
        match (decision, &verdict) {
            (GateDecision::Refuse(t), _) => {
                tracing::info!(action = %c.guarded.title, "guarded action refused by RBAC");
                self.push_toast(t, now);
            }
            (GateDecision::AskToConfirm, AccessVerdict::Allowed) if c.confirmed_early => {
                self.send_guarded(c, now);
            }
            (GateDecision::AskToConfirm, _) => {
                // An early confirmation was given before the user could read this outcome (a
                // failed check); they confirm again having seen it.
                c.confirmed_early = false;
                self.mode = Mode::Confirm(Box::new(c));
            }
        }
    }

    fn send_guarded(&mut self, c: Confirm, now: Instant) {
        tracing::info!(action = %c.guarded.title, "guarded action confirmed");
        self.push_toast(Toast::info(format!("sent: {}", c.guarded.title)), now);
        self.outbox.push(Outgoing::Engine(c.guarded.command));
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

    fn confirm_key(&mut self, mut c: Confirm, key: KeyEvent, now: Instant) {
        match key.code {
            KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => {
                self.push_toast(Toast::info(format!("cancelled: {}", c.guarded.title)), now);
            }
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                c.confirm_focused = true;
                self.mode = Mode::Confirm(Box::new(c));
            }
            KeyCode::Tab
            | KeyCode::BackTab
            | KeyCode::Left
            | KeyCode::Right
            | KeyCode::Char('h')
            | KeyCode::Char('l') => {
                c.confirm_focused = !c.confirm_focused;
                c.confirmed_early &= c.confirm_focused;
                self.mode = Mode::Confirm(Box::new(c));
            }
            // Typed ahead of the RBAC answer: remembered, and sent only if the check allows it.
            KeyCode::Enter if c.confirm_focused && c.check.is_some() => {
                c.confirmed_early = true;
                self.mode = Mode::Confirm(Box::new(c));
            }
            KeyCode::Enter if c.confirm_focused => self.send_guarded(c, now),
            KeyCode::Enter => {
                self.push_toast(Toast::info(format!("cancelled: {}", c.guarded.title)), now);
            }
            _ => {
                self.dirty = false;
                self.mode = Mode::Confirm(Box::new(c));
            }
        }
    }

    /// The quit question's keys, the same as the safety gate's: Cancel has the focus, `y`
    /// moves it to Quit anyway and Enter then quits.
    fn quit_confirm_key(&mut self, mut q: QuitConfirm, key: KeyEvent, now: Instant) {
        match key.code {
            KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => {
                self.push_toast(Toast::info("still running; nothing was discarded"), now);
            }
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                q.quit_focused = true;
                self.mode = Mode::ConfirmQuit(q);
            }
            KeyCode::Tab
            | KeyCode::BackTab
            | KeyCode::Left
            | KeyCode::Right
            | KeyCode::Char('h')
            | KeyCode::Char('l') => {
                q.quit_focused = !q.quit_focused;
                self.mode = Mode::ConfirmQuit(q);
            }
            KeyCode::Enter if q.quit_focused => {
                tracing::info!("quit confirmed; unsaved input discarded");
                self.quit = true;
            }
            KeyCode::Enter => {
                self.push_toast(Toast::info("still running; nothing was discarded"), now);
            }
            _ => {
                self.dirty = false;
                self.mode = Mode::ConfirmQuit(q);
            }
        }
    }

    fn prompt_key(&mut self, mut p: Prompt, key: KeyEvent, now: Instant) {
        match key.code {
            KeyCode::Esc => return,
            KeyCode::Enter => {
                let line = p.input.trim().to_string();
                if !line.is_empty() {
                    self.history.retain(|h| *h != line);
                    self.history.push_back(line.clone());
                    while self.history.len() > MAX_HISTORY {
                        self.history.pop_front();
                    }
                }
                self.run_command(&line, now);
                return;
            }
            KeyCode::Backspace => {
                if p.input.pop().is_none() {
                    // Backspace on an empty prompt closes it, as in vim and k9s.
                    return;
                }
                p.candidates.clear();
            }
            KeyCode::Tab => {
                let (completed, candidates) =
                    complete_with(&p.input, &self.contexts, &self.cluster_names());
                p.input = completed;
                p.candidates = candidates;
            }
            KeyCode::Up | KeyCode::Down if !self.history.is_empty() => {
                let n = self.history.len();
                let pos = match (key.code, p.history_pos) {
                    (KeyCode::Up, None) => Some(n - 1),
                    (KeyCode::Up, Some(i)) => Some(i.saturating_sub(1)),
                    (_, Some(i)) if i + 1 < n => Some(i + 1),
                    _ => None,
                };
                p.history_pos = pos;
                p.input = pos
                    .and_then(|i| self.history.get(i).cloned())
                    .unwrap_or_default();
            }
            KeyCode::Char(ch)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                p.input.push(ch);
                p.candidates.clear();
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => p.input.clear(),
            _ => self.dirty = false,
        }
        self.mode = Mode::Prompt(p);
    }

    /// Runs one `:` command line (without the colon).
    pub fn run_command(&mut self, line: &str, now: Instant) {
        let mut words = line.split_whitespace();
        let Some(word) = words.next() else {
            return;
        };
        let arg = words.next().map(str::to_string);
        let extra = words.next().is_some();
        // As in vim: the plain forms ask when input would be lost, `!` quits regardless.
        if matches!(word, "q!" | "quit!" | "qa!") {
            self.quit = true;
            return;
        }
        if matches!(word, "q" | "quit" | "qa" | "exit") {
            self.request_quit();
            return;
        }
        let matches: Vec<&str> = COMMANDS
            .iter()
            .map(|(n, _, _)| *n)
            .filter(|n| n.starts_with(word))
            .collect();
        let name = match (
            COMMANDS.iter().find(|(n, _, _)| *n == word),
            matches.as_slice(),
        ) {
            (Some((n, _, _)), _) => *n,
            (None, [one]) => one,
            (None, []) => {
                self.push_toast(
                    Toast::error(
                        format!("unknown command `:{word}`"),
                        Some(format!("commands: {}; Tab completes", command_list())),
                    ),
                    now,
                );
                return;
            }
            (None, many) => {
                self.push_toast(
                    Toast::error(
                        format!("`:{word}` is ambiguous: {}", many.join(", ")),
                        Some("type more letters or press Tab".to_string()),
                    ),
                    now,
                );
                return;
            }
        };
        let usage_error = |app: &mut App, msg: String| {
            app.push_toast(
                Toast::error(msg, Some(format!("usage: {}", usage(name)))),
                now,
            );
        };
        if extra {
            usage_error(self, format!("`:{name}` takes at most one argument"));
            return;
        }
        match name {
            "help" => self.mode = Mode::Help { scroll: 0 },
            "quit" => self.request_quit(),
            "ctx" => match arg {
                None if self.contexts.is_empty() => {
                    usage_error(self, "`:ctx` needs a context name".to_string())
                }
                None => {
                    let current = self.header.context.as_deref().unwrap_or("none");
                    self.push_toast(
                        Toast {
                            level: ToastLevel::Info,
                            message: format!("contexts: {}", self.contexts.join(", ")),
                            hint: Some(format!(
                                "current: {current}; :ctx <name> switches, Tab completes"
                            )),
                        },
                        now,
                    );
                }
                Some(ctx) => self.shell_command(ShellCommand::SwitchContext(ctx), now),
            },
            pane => {
                let Some(id) = PaneId::all().find(|p| p.key() == pane) else {
                    return;
                };
                // `:create` passes a manifest path or `draft:<name>` on to the wizard.
                let takes_arg = id.spec().command != CommandArg::None;
                if arg.is_some() && !takes_arg {
                    usage_error(self, format!("`:{pane}` takes no argument"));
                    return;
                }
                // The wizard would ignore anything else without a word; say so here instead.
                if let (PaneId::Create, Some(a)) = (id, arg.as_deref())
                    && !a.starts_with("draft:")
                    && ![".yaml", ".yml", ".json"].iter().any(|e| a.ends_with(e))
                {
                    usage_error(
                        self,
                        format!("`:create {a}`: give a .yaml/.yml/.json manifest or draft:<name>"),
                    );
                    return;
                }
                self.switch_to(id, arg, now);
            }
        }
    }

    /// `:ctx <name>` goes to the kube engine (or the hook, when one is installed). The header
    /// changes only when the engine reports the new context current, so it never claims a
    /// switch that did not happen.
    fn shell_command(&mut self, cmd: ShellCommand, now: Instant) {
        let ShellCommand::SwitchContext(ctx) = &cmd;
        // An empty list means the engine has not reported yet; it checks the name itself.
        if !self.contexts.is_empty() && !self.contexts.contains(ctx) {
            self.push_toast(
                Toast::error(
                    format!("no context named {ctx:?} in the kubeconfig"),
                    Some(format!("available: {}", self.contexts.join(", "))),
                ),
                now,
            );
            return;
        }
        if self.header.context.as_deref() == Some(ctx.as_str()) && self.switching_to.is_none() {
            self.push_toast(Toast::info(format!("already on context {ctx}")), now);
            return;
        }
        let commands = match self.shell_hook.as_mut() {
            Some(hook) => match hook(&cmd) {
                Ok(commands) => commands,
                Err(t) => return self.push_toast(t, now),
            },
            None => vec![Command::Kube(KubeCommand::SwitchContext {
                context: ctx.clone(),
            })],
        };
        self.outbox
            .extend(commands.into_iter().map(Outgoing::Engine));
        self.switching_to = Some(ctx.clone());
        self.push_toast(Toast::info(format!("switching to context {ctx}…")), now);
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

    /// The safety gate: read-only refuses at once; otherwise the RBAC check goes out and the
    /// confirmation opens, saying it is checking, and `on_access_answer` settles it.
    fn guard(&mut self, guarded: Guarded, now: Instant) {
        let access = guarded.access.clone();
        if let GateDecision::Refuse(t) = gate(
            self.readonly,
            &guarded.title,
            access.as_ref(),
            &AccessVerdict::Pending,
        ) {
            self.push_toast(t, now);
            return;
        }
        let (verdict, check) = match access {
            None => (AccessVerdict::Allowed, None),
            Some(access) => {
                let id = RequestId::next();
                let expires = now + ACCESS_CHECK_TIMEOUT;
                self.outbox
                    .push(Outgoing::Engine(Command::Kube(KubeCommand::CheckAccess {
                        id,
                        access,
                    })));
                (AccessVerdict::Pending, Some((id, expires)))
            }
        };
        self.mode = Mode::Confirm(Box::new(Confirm {
            guarded,
            confirm_focused: false,
            verdict,
            check,
            confirmed_early: false,
        }));
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

    fn clock(&self, now: DateTime<Utc>) -> String {
        match self.clock_offset {
            Some(off) => now.with_timezone(&off).format("%H:%M").to_string(),
            None => now.with_timezone(&Local).format("%H:%M").to_string(),
        }
    }

    fn render_header(&self, frame: &mut Frame, area: Rect, now: DateTime<Utc>) {
        let t = &self.theme;
        let base = t.style(Role::Header);
        let label = base
            .patch(t.style(Role::Muted))
            .bg(base.bg.unwrap_or_default());
        let label = if base.bg.is_some() {
            label
        } else {
            t.style(Role::Muted)
        };
        let value = base.patch(Style::default().add_modifier(ratatui::style::Modifier::BOLD));
        let fit = HeaderFit::choose(
            area.width as usize,
            &self.header.platform,
            self.header.context.as_deref(),
            self.header.cluster.as_deref().unwrap_or("—"),
            self.readonly,
            self.sandbox,
        );
        let mut left = Vec::new();
        if fit.title {
            left.push(Span::styled(
                " ACP cockpit ",
                base.patch(t.style(Role::Title)),
            ));
            left.push(Span::styled("│ ", label));
        } else {
            left.push(Span::styled(" ", label));
        }
        left.push(Span::styled("platform ", label));
        left.push(Span::styled(fit.platform, value));
        if let Some(ctx) = fit.context {
            left.push(Span::styled("  context ", label));
            left.push(Span::styled(ctx, value));
        }
        left.push(Span::styled("  cluster ", label));
        left.push(Span::styled(fit.cluster, value));
        let mut right = Vec::new();
        if self.readonly {
            right.push(Span::styled(" READ-ONLY ", t.style(Role::ReadonlyBadge)));
            right.push(Span::styled(" ", base));
        }
        if self.sandbox {
            right.push(Span::styled(" SANDBOX ", t.style(Role::SandboxBadge)));
            right.push(Span::styled(" ", base));
        }
        if fit.clock {
            right.push(Span::styled(format!("{} ", self.clock(now)), value));
        }
        widgets::two_sided(frame, area, left, right, base);
    }

    fn render_tabs(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let mut spans = vec![Span::raw(" ")];
        for (i, id) in PaneId::all().enumerate() {
            let style = if id == self.active {
                t.style(Role::TabActive)
            } else {
                t.style(Role::Tab)
            };
            let key_style = if id == self.active {
                style
            } else {
                t.style(Role::Key)
            };
            spans.push(Span::styled(format!(" {}", i + 1), key_style));
            spans.push(Span::styled(format!(" {} ", id.title()), style));
            spans.push(Span::raw(" "));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn render_footer(&self, frame: &mut Frame, area: Rect) {
        let t = &self.theme;
        let base = t.style(Role::Footer);
        if let Mode::Prompt(p) = &self.mode {
            let mut spans = vec![
                Span::styled(":", t.style(Role::Prompt)),
                Span::styled(p.input.clone(), base),
                Span::styled("█", t.style(Role::Prompt)),
            ];
            let hint = if p.candidates.is_empty() {
                let (_, cands) = complete_with(&p.input, &self.contexts, &self.cluster_names());
                if p.input.is_empty() || cands.is_empty() {
                    String::new()
                } else {
                    format!("   {}", cands.join(" "))
                }
            } else {
                format!("   {}", p.candidates.join(" "))
            };
            spans.push(Span::styled(hint, base.patch(t.style(Role::Muted))));
            widgets::two_sided(
                frame,
                area,
                spans,
                vec![Span::styled(
                    "Tab complete  Enter run  Esc cancel ",
                    base.patch(t.style(Role::Muted)),
                )],
                base,
            );
            return;
        }
        let layer: &str = match &self.mode {
            Mode::Help { .. } => "help",
            Mode::Confirm(_) => {
                let spans = footer_spans(
                    t,
                    &[
                        ("y", "then Enter: confirm"),
                        ("Tab", "switch"),
                        ("Esc", "cancel"),
                    ],
                );
                frame.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
                return;
            }
            Mode::ConfirmQuit(_) => {
                let spans = footer_spans(
                    t,
                    &[
                        ("y", "then Enter: quit anyway"),
                        ("Tab", "switch"),
                        ("Esc", "cancel"),
                    ],
                );
                frame.render_widget(Paragraph::new(Line::from(spans)).style(base), area);
                return;
            }
            _ => self.active.key(),
        };
        let mut items: Vec<(String, String)> = Vec::new();
        // A pane that handles no action yet (a placeholder) must not advertise its layer's keys.
        let advertised = layer == "help"
            || self
                .panes
                .get(&self.active)
                .is_none_or(|p| p.handles_actions());
        for (action, keys) in self.keymap.bindings(layer) {
            if !advertised {
                break;
            }
            // Moving around is obvious and listed in help; the footer shows what is particular.
            let navigation = action.starts_with("select_")
                || action.starts_with("scroll_")
                || action.starts_with("page_")
                || matches!(action, "top" | "bottom");
            if navigation && layer != "help" {
                continue;
            }
            if let Some(k) = keys.first() {
                items.push((k.to_string(), action.replace('_', " ")));
            }
        }
        let mut global: Vec<(String, String)> = Vec::new();
        for action in ["help", "command", "next_pane", "quit"] {
            if let Some(k) = self.keymap.keys("global", action).first() {
                global.push((k.to_string(), action.replace('_', " ")));
            }
        }
        let width = |v: &[(String, String)]| -> usize {
            v.iter().map(|(k, a)| k.width() + a.width() + 3).sum()
        };
        let gw = width(&global) + 1;
        // Drop the pane's last bindings until the global ones fit; the help overlay has them all.
        while !items.is_empty() && width(&items) + gw > area.width as usize {
            items.pop();
        }
        let pairs: Vec<(&str, &str)> = items
            .iter()
            .map(|(k, a)| (k.as_str(), a.as_str()))
            .collect();
        let gpairs: Vec<(&str, &str)> = global
            .iter()
            .map(|(k, a)| (k.as_str(), a.as_str()))
            .collect();
        widgets::two_sided(
            frame,
            area,
            footer_spans(t, &pairs),
            footer_spans(t, &gpairs),
            base,
        );
    }

    fn render_toasts(&self, frame: &mut Frame, body: Rect) {
        let t = &self.theme;
        let width = (body.width / 2).clamp(30.min(body.width), 70);
        // Inside the pane's border, so the pane's frame stays readable around the toast.
        let mut bottom = body.bottom().saturating_sub(1);
        for entry in self.toasts.iter().rev() {
            let (role, label) = match entry.toast.level {
                ToastLevel::Info => (Role::Info, "info"),
                ToastLevel::Warn => (Role::Warn, "warning"),
                ToastLevel::Error => (Role::Fail, "error"),
            };
            let inner_w = width.saturating_sub(4).max(1) as usize;
            let mut lines: Vec<Line> = wrap(&entry.toast.message, inner_w)
                .into_iter()
                .map(|l| Line::styled(l, t.style(Role::Dialog)))
                .collect();
            if let Some(h) = &entry.toast.hint {
                for (i, l) in wrap(h, inner_w.saturating_sub(2).max(1))
                    .into_iter()
                    .enumerate()
                {
                    lines.push(Line::styled(
                        format!("{} {l}", if i == 0 { "→" } else { " " }),
                        t.style(Role::Dialog).patch(t.style(Role::Muted)),
                    ));
                }
            }
            let h = (lines.len() as u16 + 2).min(8);
            if bottom < body.y + h {
                break;
            }
            let rect = Rect::new(body.right().saturating_sub(width + 2), bottom - h, width, h);
            bottom -= h;
            frame.render_widget(Clear, rect);
            let block = Block::default()
                .borders(Borders::ALL)
                .border_type(BorderType::Rounded)
                .border_style(t.style(role))
                .style(t.style(Role::Dialog))
                .padding(Padding::horizontal(1))
                .title(Span::styled(format!(" {label} "), t.style(role)));
            frame.render_widget(Paragraph::new(lines).block(block), rect);
        }
    }

    fn help_lines(&self) -> Vec<Line<'static>> {
        enum Item {
            Section(String),
            Entry(String, String),
        }
        let mut items = Vec::new();
        for layer in [self.active.key(), "global"] {
            let title = if layer == "global" {
                "Everywhere".to_string()
            } else {
                format!("{} pane", self.active.title())
            };
            items.push(Item::Section(title));
            for (action, _) in self.keymap.bindings(layer) {
                let keys = self.keymap.keys_label(layer, action).unwrap_or_default();
                let desc = self
                    .catalog
                    .describe(layer, action)
                    .unwrap_or(action)
                    .to_string();
                items.push(Item::Entry(keys, desc));
            }
        }
        items.push(Item::Entry(
            "Ctrl-c".into(),
            "quit (asks first if input would be lost)".into(),
        ));
        items.push(Item::Section("Commands (press : first)".to_string()));
        for (name, arg, desc) in COMMANDS.iter() {
            let key = format!(":{name} {arg}").trim_end().to_string();
            items.push(Item::Entry(key, desc.to_string()));
        }
        // One key column for the whole overlay, as wide as its longest key plus a gap, so a
        // long command never runs into its description; keys past the cap get their own line.
        let key_w = items
            .iter()
            .filter_map(|i| match i {
                Item::Entry(k, _) => Some(k.width()),
                Item::Section(_) => None,
            })
            .filter(|w| *w <= MAX_HELP_KEY_WIDTH)
            .max()
            .unwrap_or(0)
            + 2;

        let t = &self.theme;
        let mut lines = Vec::new();
        for item in items {
            match item {
                Item::Section(title) => {
                    if !lines.is_empty() {
                        lines.push(Line::raw(""));
                    }
                    lines.push(Line::styled(title, t.style(Role::Title)));
                }
                Item::Entry(k, d) if k.width() + 2 > key_w => {
                    lines.push(Line::styled(format!("  {k}"), t.style(Role::Key)));
                    lines.push(Line::from(vec![
                        Span::raw(" ".repeat(key_w + 2)),
                        Span::styled(d, t.style(Role::Text)),
                    ]));
                }
                Item::Entry(k, d) => {
                    let pad = " ".repeat(key_w - k.width());
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {k}{pad}"), t.style(Role::Key)),
                        Span::styled(d, t.style(Role::Text)),
                    ]));
                }
            }
        }
        if !self.warnings.is_empty() {
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "Warnings from loading your files".to_string(),
                t.style(Role::Title),
            ));
            for w in &self.warnings {
                lines.push(Line::styled(format!("  {w}"), t.style(Role::Warn)));
            }
        }
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!(
                "  keymap: {}   theme: {} ({} colors)",
                self.keymap.name,
                self.theme.name,
                self.theme.depth.label()
            ),
            t.style(Role::Muted),
        ));
        lines
    }

    fn render_help(&self, frame: &mut Frame, body: Rect, scroll: u16) {
        let t = &self.theme;
        let rect = widgets::centered(
            body,
            84.min(body.width.saturating_sub(4)),
            body.height.saturating_sub(2).max(8),
        );
        frame.render_widget(Clear, rect);
        let lines = self.help_lines();
        let max_scroll = (lines.len() as u16).saturating_sub(rect.height.saturating_sub(2));
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(t.style(Role::Accent))
            .style(t.style(Role::Dialog))
            .padding(Padding::horizontal(1))
            .title(Span::styled(" Keys ", t.style(Role::Title)))
            .title_bottom(
                Line::styled(" Esc close  j/k scroll ", t.style(Role::Muted)).right_aligned(),
            );
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .scroll((scroll.min(max_scroll), 0)),
            rect,
        );
    }

    fn render_confirm(&self, frame: &mut Frame, body: Rect, c: &Confirm) {
        let (rbac_text, rbac_role) = match (&c.guarded.access, &c.verdict) {
            (None, _) => ("permission: no RBAC check needed".to_string(), Role::Muted),
            (Some(a), AccessVerdict::Allowed) => (
                format!("permission: allowed to {}", access_label(a)),
                Role::Ok,
            ),
            (Some(a), AccessVerdict::Pending) if c.confirmed_early => (
                format!(
                    "checking permission… ({}); confirmed, goes ahead once allowed",
                    access_label(a)
                ),
                Role::Info,
            ),
            (Some(a), AccessVerdict::Pending) => (
                format!("checking permission… ({})", access_label(a)),
                Role::Info,
            ),
            (Some(a), AccessVerdict::Denied(r)) => (
                format!("permission: {} denied: {r}", access_label(a)),
                Role::Fail,
            ),
            (Some(a), AccessVerdict::Unknown(e)) => (
                format!(
                    "permission: could not check {}: {e}. The platform still enforces RBAC; \
                     you may confirm anyway.",
                    access_label(a)
                ),
                Role::Warn,
            ),
        };
        let paragraphs = [
            (c.guarded.title.clone(), Role::Title),
            (c.guarded.detail.clone(), Role::Text),
            (rbac_text, rbac_role),
        ];
        self.render_dialog(frame, body, &paragraphs, "Confirm", c.confirm_focused);
    }

    /// The quit question: what would be lost, and the way to keep it.
    fn render_quit_confirm(&self, frame: &mut Frame, body: Rect, q: &QuitConfirm) {
        let mut paragraphs = vec![("Quit and lose unsaved input?".to_string(), Role::Title)];
        for (_, lost) in &q.lost {
            paragraphs.push((format!("Quitting now throws away {lost}."), Role::Warn));
        }
        // The way to keep the form, from the active keymap, since Cancel alone only postpones.
        let save = self.keymap.keys(PaneId::Create.key(), "save_draft").first();
        let keep = match save {
            Some(k) if q.lost.iter().any(|(id, _)| *id == PaneId::Create) => format!(
                "Cancel stays in the cockpit; {k} in the {} pane saves a draft.",
                PaneId::Create.title()
            ),
            _ => "Cancel stays in the cockpit.".to_string(),
        };
        paragraphs.push((keep, Role::Text));
        self.render_dialog(frame, body, &paragraphs, "Quit anyway", q.quit_focused);
    }

    /// The shell's confirmation dialog: paragraphs separated by blank lines, then Cancel and
    /// one confirming button, Cancel focused unless `confirm_focused`.
    fn render_dialog(
        &self,
        frame: &mut Frame,
        body: Rect,
        paragraphs: &[(String, Role)],
        confirm_label: &str,
        confirm_focused: bool,
    ) {
        let t = &self.theme;
        let width = 72.min(body.width.saturating_sub(2)).max(20);
        let text_w = width.saturating_sub(4) as usize;
        let mut lines: Vec<Line> = Vec::new();
        for (text, role) in paragraphs {
            for l in wrap(text, text_w) {
                lines.push(Line::styled(l, t.style(*role)));
            }
            lines.push(Line::raw(""));
        }
        let button = |label: &str, focused: bool| {
            if focused {
                Span::styled(format!("[ {label} ]"), t.style(Role::ButtonFocused))
            } else {
                Span::styled(format!("  {label}  "), t.style(Role::Dialog))
            }
        };
        lines.push(
            Line::from(vec![
                button("Cancel", !confirm_focused),
                Span::raw("    "),
                button(confirm_label, confirm_focused),
            ])
            .centered(),
        );
        let rect = widgets::centered(body, width, lines.len() as u16 + 2);
        frame.render_widget(Clear, rect);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_type(BorderType::Rounded)
            .border_style(t.style(Role::Warn))
            .style(t.style(Role::Dialog))
            .padding(Padding::horizontal(1))
            .title(Span::styled(" Confirm ", t.style(Role::Warn)));
        frame.render_widget(Paragraph::new(lines).block(block), rect);
    }
}

fn footer_spans<'a>(t: &Theme, pairs: &[(&str, &str)]) -> Vec<Span<'a>> {
    let base = t.style(Role::Footer);
    let key = base.patch(t.style(Role::Key));
    let mut spans = vec![Span::styled(" ", base)];
    for (k, a) in pairs {
        spans.push(Span::styled(k.to_string(), key));
        spans.push(Span::styled(format!(" {a}  "), base));
    }
    spans
}

fn command_list() -> String {
    COMMANDS
        .iter()
        .map(|(n, a, _)| {
            if a.is_empty() {
                format!(":{n}")
            } else {
                format!(":{n} {a}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn usage(name: &str) -> String {
    COMMANDS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, a, _)| format!(":{n} {a}").trim_end().to_string())
        .unwrap_or_default()
}

/// Completes the command word: a unique match is filled in (with a space when it takes an
/// argument), several matches are extended to their common prefix and returned as candidates.
/// After `ctx ` the argument is completed from `contexts` the same way.
pub fn complete(input: &str, contexts: &[String]) -> (String, Vec<String>) {
    complete_with(input, contexts, &[])
}

/// [`complete`], and after `timeline ` or `etcd ` the argument is completed from `clusters`.
pub fn complete_with(
    input: &str,
    contexts: &[String],
    clusters: &[String],
) -> (String, Vec<String>) {
    if let Some((word, arg)) = input.split_once(' ') {
        let takes_cluster = SPECS
            .iter()
            .any(|s| s.key() == word && matches!(s.command, CommandArg::Cluster(_)));
        let names = match word {
            "ctx" => contexts,
            _ if takes_cluster => clusters,
            _ => &[],
        };
        if arg.contains(' ') {
            return (input.to_string(), Vec::new());
        }
        let cands: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|c| c.starts_with(arg))
            .collect();
        return match cands.as_slice() {
            [] => (input.to_string(), Vec::new()),
            [one] => (format!("{word} {one}"), Vec::new()),
            many => (
                format!("{word} {}", common_prefix(many)),
                many.iter().map(|c| c.to_string()).collect(),
            ),
        };
    }
    let cands: Vec<(&'static str, &'static str)> = COMMANDS
        .iter()
        .filter(|(n, _, _)| n.starts_with(input))
        .map(|(n, a, _)| (*n, *a))
        .collect();
    match cands.as_slice() {
        [] => (input.to_string(), Vec::new()),
        [(n, a)] => (
            // An optional argument (`[...]`) is left for the user to start: Enter alone works.
            if a.is_empty() || a.starts_with('[') {
                n.to_string()
            } else {
                format!("{n} ")
            },
            Vec::new(),
        ),
        many => {
            let names: Vec<&str> = many.iter().map(|(n, _)| *n).collect();
            (
                common_prefix(&names).to_string(),
                names.iter().map(|n| n.to_string()).collect(),
            )
        }
    }
}

/// The longest prefix shared by every word, cut on a character boundary.
fn common_prefix<'a>(words: &[&'a str]) -> &'a str {
    let Some(first) = words.first() else {
        return "";
    };
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| i + a.len_utf8())
            .min(end);
    }
    &first[..end]
}

/// What of the header fits a width. The cluster name matters most (it is what an action acts
/// on), then the platform and the badges; the context label, the clock and the title go first,
/// in that order, and a name that must still be cut ends with `…` so the cut shows.
struct HeaderFit {
    title: bool,
    platform: String,
    context: Option<String>,
    cluster: String,
    clock: bool,
}

impl HeaderFit {
    fn choose(
        width: usize,
        platform: &str,
        context: Option<&str>,
        cluster: &str,
        readonly: bool,
        sandbox: bool,
    ) -> HeaderFit {
        let badges = if readonly { " READ-ONLY  ".len() } else { 0 }
            + if sandbox { " SANDBOX  ".len() } else { 0 };
        let mut fit = HeaderFit {
            title: true,
            platform: platform.to_string(),
            context: context.map(str::to_string),
            cluster: cluster.to_string(),
            clock: true,
        };
        // One blank column keeps the left part from running into the badges or the clock.
        let overflow = |f: &HeaderFit| {
            let left = if f.title {
                " ACP cockpit │ ".width()
            } else {
                1
            } + "platform ".len()
                + f.platform.width()
                + f.context
                    .as_ref()
                    .map_or(0, |c| "  context ".len() + c.width())
                + "  cluster ".len()
                + f.cluster.width();
            let right = badges + if f.clock { "HH:MM ".len() } else { 0 };
            (left + 1 + right).saturating_sub(width)
        };
        if overflow(&fit) > 0 {
            fit.context = None;
        }
        if overflow(&fit) > 0 {
            fit.clock = false;
        }
        if overflow(&fit) > 0 {
            fit.title = false;
        }
        // The platform gives way down to a few letters before the cluster name is cut.
        let over = overflow(&fit);
        if over > 0 {
            let keep = fit.platform.width().saturating_sub(over).max(4);
            fit.platform = ellipsize(&fit.platform, keep);
        }
        let over = overflow(&fit);
        if over > 0 {
            let keep = fit.cluster.width().saturating_sub(over).max(1);
            fit.cluster = ellipsize(&fit.cluster, keep);
        }
        fit
    }
}

/// `s` cut to `cells` terminal cells, the last one `…` when anything was cut.
fn ellipsize(s: &str, cells: usize) -> String {
    if s.width() <= cells {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw + 1 > cells {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// Greedy word wrap by display width.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.width() + 1 + word.width() > width {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Failure, FailureKind};

    fn app(readonly: bool) -> App {
        App::new(
            AppOptions {
                theme: Theme::default(),
                keymap: crate::tui::actions::default_keymap(),
                header: HeaderInfo {
                    platform: "sandbox".into(),
                    context: Some("global".into()),
                    cluster: None,
                },
                readonly,
                sandbox: true,
                panes: Vec::new(),
                warnings: Vec::new(),
                shell_hook: None,
            },
            Instant::now(),
        )
    }

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn typed(app: &mut App, s: &str, now: Instant) {
        for ch in s.chars() {
            app.on_key(key(KeyCode::Char(ch)), now);
        }
    }

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

    #[test]
    fn a_placeholder_pane_advertises_no_keys() {
        let now = Instant::now();
        let mut a = app(false);
        a.on_key(key(KeyCode::Char('6')), now);
        let shown = screen(&mut a);
        let footer = shown.lines().last().unwrap_or_default();
        assert!(footer.contains("help"), "{footer}");
        assert!(!footer.contains("refresh"), "{footer}");
    }

    #[test]
    fn command_prompt_opens_panes_and_reports_unknown_commands() {
        let now = Instant::now();
        let mut a = app(false);
        typed(&mut a, ":timeline demo", now);
        assert!(a.prompt_open());
        a.on_key(key(KeyCode::Enter), now);
        assert!(!a.prompt_open());
        assert_eq!(a.active(), PaneId::Timeline);
        assert_eq!(a.header.cluster.as_deref(), Some("demo"));
        typed(&mut a, ":reg", now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(a.active(), PaneId::Registry);
        typed(&mut a, ":frob", now);
        a.on_key(key(KeyCode::Enter), now);
        let t: Vec<_> = a.toasts().collect();
        assert!(t[0].message.contains("unknown command `:frob`"), "{t:?}");
        assert!(t[0].hint.as_deref().unwrap_or("").contains(":clusters"));
        typed(&mut a, ":ctx", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.toasts().any(|t| t.message.contains("needs a context")));
        typed(&mut a, ":q", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.should_quit());
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn completion_fills_unique_and_lists_many() {
        let none: Vec<String> = Vec::new();
        assert_eq!(complete("cl", &[]), ("clusters".to_string(), none.clone()));
        assert_eq!(complete("ti", &[]), ("timeline ".to_string(), none.clone()));
        assert_eq!(
            complete("c", &[]),
            ("c".to_string(), strings(&["clusters", "create", "ctx"]))
        );
        assert_eq!(complete("cr", &[]), ("create".to_string(), none.clone()));
        assert_eq!(complete("zz", &[]), ("zz".to_string(), none.clone()));
        let ctxs = strings(&["prod-east", "prod-west", "staging", "ünï"]);
        assert_eq!(
            complete("ctx p", &ctxs),
            (
                "ctx prod-".to_string(),
                strings(&["prod-east", "prod-west"])
            )
        );
        assert_eq!(
            complete("ctx s", &ctxs),
            ("ctx staging".to_string(), none.clone())
        );
        assert_eq!(
            complete("ctx ü", &ctxs),
            ("ctx ünï".to_string(), none.clone())
        );
        assert_eq!(
            complete("ctx x", &ctxs),
            ("ctx x".to_string(), none.clone())
        );
        assert_eq!(
            complete("timeline p", &ctxs),
            ("timeline p".to_string(), none)
        );
        assert_eq!(common_prefix(&["ünï", "üna"]), "ün");
        let now = Instant::now();
        let mut a = app(false);
        typed(&mut a, ":dr", now);
        a.on_key(key(KeyCode::Tab), now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(a.active(), PaneId::Drafts);
    }

    /// A pane that only answers `tick_interval` and remembers what it was opened on.
    struct LivePane {
        id: PaneId,
        every: Option<Duration>,
        opened: std::rc::Rc<std::cell::RefCell<Vec<Option<String>>>>,
    }

    impl Pane for LivePane {
        fn id(&self) -> PaneId {
            self.id
        }
        fn render(&mut self, _frame: &mut Frame, _area: Rect, _ctx: &RenderCtx) {}
        fn on_action(&mut self, _action: &str) -> Vec<Effect> {
            Vec::new()
        }
        fn on_open(&mut self, target: Option<&str>) -> Vec<Effect> {
            self.opened.borrow_mut().push(target.map(str::to_string));
            Vec::new()
        }
        fn tick_interval(&self, _now: DateTime<Utc>) -> Option<Duration> {
            self.every
        }
    }

    fn live(id: PaneId, every: Option<Duration>) -> Box<dyn Pane> {
        Box::new(LivePane {
            id,
            every,
            opened: Default::default(),
        })
    }

    fn app_on(panes: Vec<Box<dyn Pane>>) -> App {
        App::new(
            AppOptions {
                theme: Theme::default(),
                keymap: crate::tui::actions::default_keymap(),
                header: HeaderInfo::default(),
                readonly: false,
                sandbox: true,
                panes,
                warnings: Vec::new(),
                shell_hook: None,
            },
            Instant::now(),
        )
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

    #[test]
    fn create_passes_a_manifest_or_draft_to_the_wizard() {
        let now = Instant::now();
        let opened: std::rc::Rc<std::cell::RefCell<Vec<Option<String>>>> = Default::default();
        let mut a = app_on(vec![Box::new(LivePane {
            id: PaneId::Create,
            every: None,
            opened: opened.clone(),
        })]);
        typed(&mut a, ":create ~/qa/good3.yaml", now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(a.active(), PaneId::Create);
        assert_eq!(a.toast_count(), 0, "{:?}", a.toasts().collect::<Vec<_>>());
        typed(&mut a, ":create draft:demo", now);
        a.on_key(key(KeyCode::Enter), now);
        typed(&mut a, ":create", now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(
            *opened.borrow(),
            vec![
                Some("~/qa/good3.yaml".to_string()),
                Some("draft:demo".to_string()),
                None
            ]
        );
        // A path is not a cluster: the header keeps naming none.
        assert_eq!(a.header.cluster, None);
        // Anything else would be ignored by the wizard, so the prompt says what it takes.
        typed(&mut a, ":create notes.txt", now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(opened.borrow().len(), 3);
        assert!(
            a.toasts().any(|t| t.message.contains("draft:<name>")),
            "{:?}",
            a.toasts().collect::<Vec<_>>()
        );
    }

    fn prompt_input(a: &App) -> (String, Vec<String>) {
        match &a.mode {
            Mode::Prompt(p) => (p.input.clone(), p.candidates.clone()),
            _ => panic!("the prompt is closed"),
        }
    }

    #[test]
    fn tab_completes_cluster_names_for_timeline_and_etcd() {
        use crate::fixtures::clusters as demo;
        let now = Instant::now();
        let mut a = app(false);
        for ev in demo::events() {
            a.on_engine_event(ev, now);
        }
        typed(&mut a, ":timeline ed", now);
        a.on_key(key(KeyCode::Tab), now);
        assert_eq!(prompt_input(&a).0, "timeline edge-lab-02");
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(a.active(), PaneId::Timeline);
        assert_eq!(a.header.cluster.as_deref(), Some("edge-lab-02"));

        typed(&mut a, ":etcd prod-", now);
        a.on_key(key(KeyCode::Tab), now);
        let (input, cands) = prompt_input(&a);
        assert_eq!(input, "etcd prod-");
        assert!(
            cands.len() > 1 && cands.iter().all(|c| c.starts_with("prod-")),
            "{cands:?}"
        );
        a.on_key(key(KeyCode::Esc), now);

        // A deleted cluster is no longer offered; another platform's are not mixed in.
        a.on_engine_event(
            Event::Kube(KubeEvent::ClustersChanged(Delta {
                platform: demo::CONTEXT.into(),
                reset: false,
                applied: Vec::new(),
                deleted: vec!["edge-lab-02".into()],
            })),
            now,
        );
        assert!(!a.cluster_names().contains(&"edge-lab-02".to_string()));
        assert!(a.cluster_names().contains(&"staging".to_string()));
        assert_eq!(
            complete_with("ctx ed", &[], &a.cluster_names()),
            ("ctx ed".to_string(), Vec::new()),
            "contexts and clusters stay apart"
        );
    }

    #[test]
    fn header_at_80_columns_keeps_the_cluster_name() {
        let mut a = app(true);
        a.header = HeaderInfo {
            platform: "acp-prod.example.com".into(),
            context: Some("acp-prod-admin@acp-prod".into()),
            cluster: Some("dev-new-east".into()),
        };
        let buf = crate::tui::screenshots::render(&mut a, 80, 24);
        let text = crate::tui::screenshots::text(&buf);
        let header = text.lines().next().unwrap_or_default();
        assert!(header.contains("cluster dev-new-east "), "{header:?}");
        assert!(
            header.contains("platform acp-prod.example.com"),
            "{header:?}"
        );
        assert!(
            header.contains("READ-ONLY") && header.contains("SANDBOX"),
            "{header:?}"
        );
        assert!(
            !header.contains("context"),
            "the context label goes first: {header:?}"
        );

        // Too narrow for everything: what is cut shows it with `…`, and the badges stay.
        let fit = HeaderFit::choose(
            60,
            "acp-prod.example.com",
            Some("admin"),
            "a-cluster-with-a-very-long-name",
            true,
            true,
        );
        assert!(!fit.title && !fit.clock && fit.context.is_none());
        assert!(
            fit.platform.ends_with('…') && fit.platform.width() == 4,
            "{}",
            fit.platform
        );
        assert!(fit.cluster.ends_with('…'), "{}", fit.cluster);
        let badges = " READ-ONLY  ".len() + " SANDBOX  ".len();
        let left = 1 + "platform ".len() + 4 + "  cluster ".len() + fit.cluster.width();
        assert_eq!(left + 1 + badges, 60, "{}", fit.cluster);
    }

    /// What the engine reports about the kubeconfig.
    fn contexts(current: &str, available: &[&str]) -> Event {
        Event::Kube(KubeEvent::Contexts {
            current: Some(current.to_string()),
            available: strings(available),
        })
    }

    /// The engine commands the app queued, as the run loop would send them.
    fn sent(a: &mut App) -> Vec<Command> {
        a.take_outbox()
            .into_iter()
            .filter_map(|o| match o {
                Outgoing::Engine(c) => Some(c),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn ctx_goes_through_the_hook() {
        let now = Instant::now();
        let mut a = app(false);
        a.shell_hook = Some(Box::new(|c: &ShellCommand| {
            assert_eq!(c, &ShellCommand::SwitchContext("prod".into()));
            Ok(vec![Command::Shutdown])
        }));
        typed(&mut a, ":ctx prod", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(matches!(
            a.take_outbox().as_slice(),
            [Outgoing::Engine(Command::Shutdown)]
        ));
        // Only the engine's report moves the header.
        assert_eq!(a.header.context.as_deref(), Some("global"));
    }

    #[test]
    fn ctx_sends_switch_context_and_the_header_follows_the_engine() {
        let now = Instant::now();
        let mut a = app(false);
        a.set_context_platforms([("prod".to_string(), "acp-prod.example.com".to_string())].into());
        a.header.cluster = Some("demo".into());
        a.on_engine_event(contexts("global", &["global", "prod"]), now);
        assert_eq!(a.contexts(), ["global", "prod"]);
        typed(&mut a, ":ctx pr", now);
        a.on_key(key(KeyCode::Tab), now);
        a.on_key(key(KeyCode::Enter), now);
        match sent(&mut a).as_slice() {
            [Command::Kube(KubeCommand::SwitchContext { context })] => assert_eq!(context, "prod"),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(a.header.context.as_deref(), Some("global"));
        assert!(
            a.toasts()
                .any(|t| t.message.contains("switching to context prod"))
        );

        a.on_engine_event(contexts("prod", &["global", "prod"]), now);
        assert_eq!(a.header.context.as_deref(), Some("prod"));
        assert_eq!(a.header.platform, "acp-prod.example.com");
        assert_eq!(a.header.cluster, None);
        assert!(a.toasts().any(|t| t.message == "switched to context prod"));

        typed(&mut a, ":ctx prod", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(sent(&mut a).is_empty());
        assert!(
            a.toasts()
                .any(|t| t.message.contains("already on context prod"))
        );
    }

    #[test]
    fn unknown_ctx_lists_the_available_ones() {
        let now = Instant::now();
        let mut a = app(false);
        a.on_engine_event(contexts("global", &["global", "prod"]), now);
        typed(&mut a, ":ctx nope", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(sent(&mut a).is_empty());
        let t = a
            .toasts()
            .find(|t| t.message.contains("no context named \"nope\""))
            .expect("a toast about the unknown context");
        assert_eq!(t.level, ToastLevel::Error);
        assert_eq!(t.hint.as_deref(), Some("available: global, prod"));

        typed(&mut a, ":ctx", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.toasts().any(|t| t.message == "contexts: global, prod"));
    }

    #[test]
    fn ctx_before_the_engine_reported_contexts_is_left_to_the_engine() {
        let now = Instant::now();
        let mut a = app(false);
        typed(&mut a, ":ctx prod", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(matches!(
            sent(&mut a).as_slice(),
            [Command::Kube(KubeCommand::SwitchContext { .. })]
        ));
    }

    fn create_access() -> Access {
        Access {
            verb: "create".into(),
            group: "platform.tkestack.io".into(),
            resource: "clusters".into(),
            namespace: None,
            name: None,
        }
    }

    fn guarded_with(access: Option<Access>) -> Effect {
        Effect::Guarded(Guarded {
            title: "create cluster demo".into(),
            detail: "3 control-plane nodes".into(),
            access,
            command: Command::Shutdown,
        })
    }

    fn guarded() -> Effect {
        guarded_with(Some(create_access()))
    }

    fn answer(id: RequestId, result: Result<AccessDecision, KubeFailure>) -> Event {
        Event::Kube(KubeEvent::Access {
            id,
            access: create_access(),
            result,
        })
    }

    fn allowed(id: RequestId) -> Event {
        answer(
            id,
            Ok(AccessDecision {
                allowed: true,
                reason: String::new(),
            }),
        )
    }

    fn denied(id: RequestId) -> Event {
        answer(
            id,
            Ok(AccessDecision {
                allowed: false,
                reason: "no RBAC policy matched".into(),
            }),
        )
    }

    fn screen(a: &mut App) -> String {
        use crate::tui::screenshots::{render, text};
        text(&render(a, 120, 30))
    }

    /// Opens the gate on `guarded()`, checks that it asked the engine first, and returns the
    /// id the answer must carry.
    fn open_gate(a: &mut App, now: Instant) -> RequestId {
        a.apply_effects(PaneId::Create, vec![guarded()], now);
        assert!(a.confirm_open());
        match sent(a).as_slice() {
            [Command::Kube(KubeCommand::CheckAccess { id, access })] => {
                assert_eq!(access, &create_access());
                *id
            }
            other => panic!("expected an access check, got {other:?}"),
        }
    }

    #[test]
    fn guarded_actions_are_refused_in_readonly_without_a_check() {
        let now = Instant::now();
        let mut a = app(true);
        a.apply_effects(PaneId::Create, vec![guarded()], now);
        assert!(!a.confirm_open());
        assert!(a.take_outbox().is_empty());
        assert!(a.toasts().any(|t| t.message.starts_with("read-only")));
    }

    #[test]
    fn denied_check_refuses_and_names_the_missing_permission() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        assert!(screen(&mut a).contains("checking permission…"));
        // Confirming ahead of the answer must not get past a denial.
        a.on_key(key(KeyCode::Char('y')), now);
        a.on_key(key(KeyCode::Enter), now);
        a.on_engine_event(denied(check), now);
        assert!(!a.confirm_open());
        assert!(sent(&mut a).is_empty());
        let t = a
            .toasts()
            .find(|t| t.message.contains("not allowed"))
            .expect("a refusal toast");
        assert!(
            t.message
                .contains("missing create on clusters.platform.tkestack.io"),
            "{t:?}"
        );
        assert!(t.message.contains("no RBAC policy matched"), "{t:?}");
        assert_eq!(
            t.hint.as_deref(),
            Some(
                "ask a platform administrator for a ClusterRoleBinding granting create on \
                 clusters.platform.tkestack.io"
            )
        );
    }

    #[test]
    fn allowed_check_enables_confirm() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        a.on_engine_event(allowed(check), now);
        assert!(a.confirm_open());
        assert!(sent(&mut a).is_empty());
        assert!(screen(&mut a).contains("permission: allowed to create on clusters"));
        a.on_key(key(KeyCode::Char('y')), now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(!a.confirm_open());
        assert!(matches!(sent(&mut a).as_slice(), [Command::Shutdown]));
    }

    #[test]
    fn confirm_typed_ahead_goes_once_allowed() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        a.on_key(key(KeyCode::Char('y')), now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.confirm_open());
        assert!(sent(&mut a).is_empty());
        assert!(screen(&mut a).contains("goes ahead once allowed"));
        a.on_engine_event(allowed(check), now);
        assert!(!a.confirm_open());
        assert!(matches!(sent(&mut a).as_slice(), [Command::Shutdown]));
    }

    #[test]
    fn failed_check_lets_the_user_decide() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        a.on_key(key(KeyCode::Char('y')), now);
        a.on_key(key(KeyCode::Enter), now);
        a.on_engine_event(
            answer(
                check,
                Err(KubeFailure::new(
                    crate::engine::kube::FailureKind::Unreachable,
                    "connection refused",
                    None,
                )),
            ),
            now,
        );
        // The early confirmation was given before the failure was visible: ask again.
        assert!(a.confirm_open());
        assert!(sent(&mut a).is_empty());
        let s = screen(&mut a);
        assert!(s.contains("could not check"), "{s}");
        assert!(s.contains("connection refused"), "{s}");
        a.on_key(key(KeyCode::Enter), now);
        assert!(matches!(sent(&mut a).as_slice(), [Command::Shutdown]));
    }

    #[test]
    fn unanswered_check_times_out_into_a_decision() {
        let now = Instant::now();
        let mut a = app(false);
        let check = open_gate(&mut a, now);
        let deadline = a.next_deadline().expect("the check has a deadline");
        assert_eq!(deadline, now + ACCESS_CHECK_TIMEOUT);
        a.tick(deadline);
        assert!(a.confirm_open());
        assert!(screen(&mut a).contains("no answer from the platform"));
        assert_eq!(a.next_deadline(), None);
        // The late answer finds nothing waiting for it.
        a.on_engine_event(denied(check), now);
        assert!(a.confirm_open());
    }

    #[test]
    fn stale_and_unrelated_access_answers_are_ignored() {
        let now = Instant::now();
        let mut a = app(false);
        // No dialog: nothing to do.
        a.on_engine_event(denied(RequestId::next()), now);
        assert!(a.toasts().next().is_none());

        let first = open_gate(&mut a, now);
        a.on_key(key(KeyCode::Esc), now);
        let second = open_gate(&mut a, now);
        // Another question entirely.
        a.on_engine_event(
            Event::Kube(KubeEvent::Access {
                id: RequestId::next(),
                access: Access {
                    verb: "delete".into(),
                    ..create_access()
                },
                result: Ok(AccessDecision {
                    allowed: false,
                    reason: String::new(),
                }),
            }),
            now,
        );
        assert!(a.confirm_open());
        // The answer to the cancelled dialog's check comes first and is dropped.
        a.on_engine_event(denied(first), now);
        assert!(a.confirm_open());
        assert!(screen(&mut a).contains("checking permission…"));
        a.on_engine_event(allowed(second), now);
        assert!(a.confirm_open());
        assert!(screen(&mut a).contains("permission: allowed"));
    }
    #[test]
    fn confirmation_defaults_to_cancel() {
        let now = Instant::now();
        let mut a = app(false);
        let unchecked = || guarded_with(None);
        a.apply_effects(PaneId::Create, vec![unchecked()], now);
        assert!(a.confirm_open());
        a.on_key(key(KeyCode::Enter), now);
        assert!(!a.confirm_open());
        assert!(a.take_outbox().is_empty());

        a.apply_effects(PaneId::Create, vec![unchecked()], now);
        a.on_key(key(KeyCode::Char('y')), now);
        assert!(a.confirm_open());
        a.on_key(key(KeyCode::Enter), now);
        assert!(matches!(
            a.take_outbox().as_slice(),
            [Outgoing::Engine(Command::Shutdown)]
        ));

        a.apply_effects(PaneId::Create, vec![unchecked()], now);
        a.on_key(key(KeyCode::Tab), now);
        a.on_key(key(KeyCode::Esc), now);
        assert!(a.take_outbox().is_empty());
    }

    #[test]
    fn denied_access_closes_the_dialog() {
        let now = Instant::now();
        let mut a = app(false);
        a.apply_effects(PaneId::Create, vec![guarded()], now);
        a.on_access_verdict(AccessVerdict::Denied("no create on clusters".into()), now);
        assert!(!a.confirm_open());
        assert!(a.toasts().any(|t| t.message.contains("not allowed")));
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
    fn help_key_column_fits_the_longest_command() {
        let a = app(false);
        let help: Vec<String> = a
            .help_lines()
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        let line = help
            .iter()
            .find(|l| l.contains(":timeline <cluster>"))
            .expect("the timeline command is listed");
        assert!(
            line.contains(":timeline <cluster>  a cluster's creation timeline"),
            "{line:?}"
        );
        // Every description starts in the same column.
        let col = line.find("a cluster's").unwrap_or_default();
        let quit = help
            .iter()
            .find(|l| l.trim_start().starts_with(":quit"))
            .expect("quit listed");
        assert_eq!(quit.find("quit (also :q;"), Some(col), "{quit:?}");
    }

    #[test]
    fn toasts_are_bounded_and_expire() {
        let now = Instant::now();
        let mut a = app(false);
        assert_eq!(a.next_deadline(), None);
        for i in 0..10 {
            a.on_engine_event(
                Event::Failure(Failure::new(FailureKind::Other, format!("t{i}"), None)),
                now,
            );
        }
        assert_eq!(a.toast_count(), MAX_TOASTS);
        assert_eq!(a.toasts().next().map(|t| t.message.as_str()), Some("t6"));
        let deadline = a.next_deadline().unwrap();
        a.mark_drawn();
        a.tick(deadline + Duration::from_millis(1));
        assert_eq!(a.toast_count(), 0);
        assert!(a.is_dirty());
        assert_eq!(a.next_deadline(), None);
    }

    #[test]
    fn help_overlay_opens_and_closes_and_ctrl_c_quits() {
        let now = Instant::now();
        let mut a = app(false);
        a.on_key(key(KeyCode::Char('?')), now);
        assert!(a.help_open());
        a.on_key(key(KeyCode::Char('j')), now);
        a.on_key(key(KeyCode::Esc), now);
        assert!(!a.help_open());
        a.on_key(
            KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
            now,
        );
        assert!(a.should_quit());
    }

    #[test]
    fn load_warnings_become_a_toast_and_stay_in_help() {
        let km = Keymap::from_sources(
            "default",
            &[
                ("d", crate::config::keymap::DEFAULT_KEYMAP),
                ("keymap.toml", "[clusters]\nyaml = \"j\"\n"),
            ],
            &crate::tui::actions::catalog(),
        );
        let warnings = km.warnings.clone();
        assert_eq!(warnings.len(), 1);
        let a = App::new(
            AppOptions {
                theme: Theme::default(),
                keymap: km,
                header: HeaderInfo::default(),
                readonly: false,
                sandbox: false,
                panes: Vec::new(),
                warnings,
                shell_hook: None,
            },
            Instant::now(),
        );
        let t: Vec<_> = a.toasts().collect();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].level, ToastLevel::Warn);
        assert!(t[0].message.contains("bound to both"), "{t:?}");
        let help: String = a
            .help_lines()
            .iter()
            .map(|l| {
                l.spans
                    .iter()
                    .map(|s| s.content.as_ref())
                    .collect::<String>()
                    + "\n"
            })
            .collect();
        assert!(help.contains("Warnings from loading your files"), "{help}");
        assert!(help.contains("bound to both"), "{help}");
    }

    /// A pane holding input that quitting would throw away, as the wizard does with a form
    /// filled in and not yet saved.
    struct UnsavedPane;

    impl Pane for UnsavedPane {
        fn id(&self) -> PaneId {
            PaneId::Create
        }
        fn render(&mut self, _frame: &mut Frame, _area: Rect, _ctx: &RenderCtx) {}
        fn on_action(&mut self, _action: &str) -> Vec<Effect> {
            Vec::new()
        }
        fn unsaved_input(&self) -> Option<String> {
            Some("the Create form for demo with 3 node(s)".into())
        }
    }

    fn unsaved_app() -> App {
        app_on(vec![Box::new(UnsavedPane)])
    }

    fn ctrl_c() -> KeyEvent {
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
    }

    #[test]
    fn quit_without_unsaved_input_quits_at_once() {
        let now = Instant::now();
        for how in ["q", ":q\r", ":quit\r", ":qui\r", ":exit\r"] {
            let mut a = app(false);
            assert!(a.unsaved_input().is_empty());
            for ch in how.chars() {
                let code = if ch == '\r' {
                    KeyCode::Enter
                } else {
                    KeyCode::Char(ch)
                };
                a.on_key(key(code), now);
            }
            assert!(a.should_quit(), "{how:?} did not quit");
            assert!(!a.quit_confirm_open(), "{how:?}");
        }
        let mut a = app(false);
        a.on_key(ctrl_c(), now);
        assert!(a.should_quit());
    }

    #[test]
    fn quit_with_unsaved_input_asks_and_does_not_quit() {
        let now = Instant::now();
        let mut a = unsaved_app();
        a.on_key(key(KeyCode::Char('q')), now);
        assert!(a.quit_confirm_open());
        assert!(!a.should_quit());
        let s = screen(&mut a);
        assert!(
            s.contains("Quitting now throws away the Create form for demo with 3 node(s)."),
            "{s}"
        );
        assert!(s.contains("w in the Create pane saves a draft"), "{s}");
        // Cancel has the focus, as in every confirmation of the shell.
        assert!(s.contains("[ Cancel ]"), "{s}");
        assert!(s.contains("  Quit anyway  "), "{s}");
        assert!(s.contains("y then Enter: quit anyway"), "{s}");
        // Ctrl-C again changes nothing: hammering it cannot discard the input.
        a.on_key(ctrl_c(), now);
        assert!(a.quit_confirm_open());
        assert!(!a.should_quit());

        for how in [":q", ":quit", ":exit"] {
            let mut a = unsaved_app();
            typed(&mut a, how, now);
            a.on_key(key(KeyCode::Enter), now);
            assert!(a.quit_confirm_open(), "{how}");
            assert!(!a.should_quit(), "{how}");
        }
        let mut a = unsaved_app();
        a.on_key(ctrl_c(), now);
        assert!(a.quit_confirm_open());
        assert!(!a.should_quit());
    }

    #[test]
    fn cancel_keeps_running() {
        let now = Instant::now();
        // Esc, `n`, a second `q` and Enter on the focused Cancel all keep the cockpit running.
        for k in [
            KeyCode::Esc,
            KeyCode::Char('n'),
            KeyCode::Char('q'),
            KeyCode::Enter,
        ] {
            let mut a = unsaved_app();
            a.on_key(key(KeyCode::Char('q')), now);
            a.on_key(key(k), now);
            assert!(!a.quit_confirm_open(), "{k:?}");
            assert!(!a.should_quit(), "{k:?}");
            assert!(
                a.toasts()
                    .any(|t| t.message.contains("nothing was discarded")),
                "{k:?}"
            );
        }
        // Focus moved to Quit anyway and back again: Enter still cancels.
        let mut a = unsaved_app();
        a.on_key(key(KeyCode::Char('q')), now);
        a.on_key(key(KeyCode::Tab), now);
        a.on_key(key(KeyCode::Tab), now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(!a.should_quit());
        // Unrelated keys leave the question open.
        a.on_key(key(KeyCode::Char('q')), now);
        a.on_key(key(KeyCode::Char('x')), now);
        assert!(a.quit_confirm_open());
        assert!(!a.should_quit());
    }

    #[test]
    fn confirming_quits() {
        let now = Instant::now();
        let mut a = unsaved_app();
        a.on_key(key(KeyCode::Char('q')), now);
        a.on_key(key(KeyCode::Char('y')), now);
        // `y` only moves the focus; the quit takes the Enter.
        assert!(!a.should_quit());
        assert!(screen(&mut a).contains("[ Quit anyway ]"));
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.should_quit());

        let mut a = unsaved_app();
        typed(&mut a, ":q", now);
        a.on_key(key(KeyCode::Enter), now);
        a.on_key(key(KeyCode::Tab), now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.should_quit());
    }

    #[test]
    fn bang_quits_without_asking() {
        let now = Instant::now();
        for how in [":q!", ":quit!", ":qa!"] {
            let mut a = unsaved_app();
            typed(&mut a, how, now);
            a.on_key(key(KeyCode::Enter), now);
            assert!(a.should_quit(), "{how}");
            assert!(!a.quit_confirm_open(), "{how}");
        }
    }

    #[test]
    fn the_wizards_form_counts_as_unsaved_input() {
        use crate::tui::panes::wizard::WizardPane;
        let now = Instant::now();
        let mut a = app_on(vec![Box::new(WizardPane::new())]);
        assert!(a.unsaved_input().is_empty());
        a.on_key(key(KeyCode::Char('q')), now);
        assert!(a.should_quit(), "a blank form is nothing to lose");

        let mut a = app_on(vec![Box::new(WizardPane::new())]);
        a.switch_to(PaneId::Create, None, now);
        a.on_key(key(KeyCode::Char('e')), now);
        typed(&mut a, "abc", now);
        a.on_key(key(KeyCode::Enter), now);
        assert_eq!(
            a.unsaved_input(),
            [(PaneId::Create, "the Create form for abc".to_string())]
        );
        typed(&mut a, ":q", now);
        a.on_key(key(KeyCode::Enter), now);
        assert!(a.quit_confirm_open());
        assert!(!a.should_quit());
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
