//! The panes and the contract between a pane and the shell.
//!
//! A pane is plain state: it renders itself, turns keymap actions (and, while a text field has
//! focus, raw keys) into [`Effect`]s, and folds engine events into its state. It never awaits.
//!
//! # Declared once
//! Each pane's module exports one [`PaneSpec`] (key, title, `:` command and its argument,
//! actions, constructor, demo) and declares its actions with [`pane_actions!`], which gives
//! the enum its `on_action` matches exhaustively and the keymap layer's descriptions. [`SPECS`]
//! lists the panes in tab order; the keymap catalog, the `pane_N` keys, the prompt's commands
//! and completion, help, the footer and the screenshots are all derived from it. A new pane is
//! its module plus one line in [`SPECS`].

pub mod clusters;
pub mod drafts;
pub mod etcd;
pub mod placeholder;
pub mod registry;
pub mod timeline;
pub mod wizard;

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use ratatui::{Frame, layout::Rect};

use crate::config::keymap::ActionSpec;
use crate::config::theme::Theme;
pub use crate::engine::kube::Access;
use crate::engine::{Command, Event};
use crate::tui::toast::Toast;

/// A pane, named by its keymap layer (which is also its `:` command).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaneId(pub &'static str);

// Named like the variants they replaced, so panes that open each other read naturally.
#[allow(non_upper_case_globals)]
impl PaneId {
    pub const Clusters: PaneId = PaneId("clusters");
    pub const Create: PaneId = PaneId("create");
    pub const Drafts: PaneId = PaneId("drafts");
    pub const Timeline: PaneId = PaneId("timeline");
    pub const Etcd: PaneId = PaneId("etcd");
    pub const Registry: PaneId = PaneId("registry");

    /// Every pane in tab order: the order of [`SPECS`].
    pub fn all() -> impl Iterator<Item = PaneId> {
        SPECS.iter().map(|s| s.id)
    }

    pub fn spec(self) -> &'static PaneSpec {
        SPECS
            .iter()
            .copied()
            .find(|s| s.id == self)
            .expect("every PaneId comes from a spec in SPECS")
    }

    /// Name of the pane's keymap layer and of its `:command`.
    pub fn key(self) -> &'static str {
        self.0
    }

    pub fn title(self) -> &'static str {
        self.spec().title
    }
}

/// What a pane's `:` command takes after its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandArg {
    None,
    /// Shown in help as written, e.g. `<cluster>`; completed from the platform's cluster names.
    Cluster(&'static str),
    /// Shown in help as written, e.g. `[file.yaml]`; Enter alone works.
    Optional(&'static str),
}

impl CommandArg {
    pub fn label(self) -> &'static str {
        match self {
            CommandArg::None => "",
            CommandArg::Cluster(l) | CommandArg::Optional(l) => l,
        }
    }
}

/// Everything the shell knows about a pane, declared once in the pane's own module.
pub struct PaneSpec {
    pub id: PaneId,
    pub title: &'static str,
    pub command: CommandArg,
    /// What the `:` command opens, for help and completion.
    pub command_help: &'static str,
    /// The pane's keymap layer: every action it understands.
    pub actions: &'static [ActionSpec],
    pub build: fn(&PaneDeps) -> Box<dyn Pane>,
    /// The pane with demo data and no engine, for screenshots and snapshot tests.
    pub demo: fn() -> Box<dyn Pane>,
}

impl PaneSpec {
    pub fn key(&self) -> &'static str {
        self.id.0
    }
}

/// The panes, in tab order. A new pane is its module plus one line here.
pub static SPECS: [&PaneSpec; 6] = [
    &clusters::SPEC,
    &wizard::SPEC,
    &drafts::SPEC,
    &timeline::SPEC,
    &etcd::SPEC,
    &registry::SPEC,
];

/// What pane constructors may need from the shell.
#[derive(Debug, Clone, Default)]
pub struct PaneDeps {
    pub readonly: bool,
    pub sandbox: bool,
    /// The data directory (drafts live under it).
    pub data_dir: std::path::PathBuf,
    /// What the Create wizard's preflight runs need: the SSH proxy slot (filled once the
    /// sandbox is up), the platform context and the matrix override's directory.
    pub preflight: wizard::PreflightEnv,
}

/// The panes of a running cockpit.
pub fn build_panes(deps: &PaneDeps) -> Vec<Box<dyn Pane>> {
    SPECS.iter().map(|s| (s.build)(deps)).collect()
}

/// The panes with demo data and no engine behind them, for screenshots and snapshot tests.
pub fn demo_panes() -> Vec<Box<dyn Pane>> {
    SPECS.iter().map(|s| (s.demo)()).collect()
}

/// Declares a pane's actions once: the enum its `on_action` matches exhaustively, and the
/// keymap layer's [`ActionSpec`]s (name, help text, destructive or not) in help order.
macro_rules! pane_actions {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($variant:ident = $kind:ident($action:literal, $help:literal),)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        $vis enum $name {
            $($variant,)*
        }

        impl $name {
            pub const SPECS: &'static [$crate::config::keymap::ActionSpec] = &[
                $($crate::config::keymap::ActionSpec::$kind($action, $help),)*
            ];

            /// The action a keymap name stands for; `None` for a name of another layer.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($action => Some($name::$variant),)*
                    _ => None,
                }
            }

            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $action,)*
                }
            }
        }
    };
}
pub(crate) use pane_actions;

/// What the shell knows that every pane may need while drawing.
pub struct RenderCtx<'a> {
    pub theme: &'a Theme,
    /// The clock, fixed in tests so snapshots are stable.
    pub now: DateTime<Utc>,
    pub readonly: bool,
    pub sandbox: bool,
}

/// A mutating action that must pass the safety gate: `--readonly`, RBAC, then a confirmation
/// that defaults to Cancel.
#[derive(Debug)]
pub struct Guarded {
    /// One line shown in the confirmation, e.g. "Create cluster demo on platform sandbox".
    pub title: String,
    /// What will happen, shown under the title.
    pub detail: String,
    /// The access the action needs, checked with a SelfSubjectAccessReview before asking.
    pub access: Option<Access>,
    /// Sent to the engine only after the user confirmed.
    pub command: Command,
}

/// What a pane asks the shell to do.
#[derive(Debug)]
pub enum Effect {
    Engine(Command),
    Guarded(Guarded),
    /// Switch to a pane, optionally opening it on something (a cluster name).
    Open(PaneId, Option<String>),
    Toast(Toast),
    /// Put text on the clipboard through the terminal (OSC 52).
    Copy(String),
    /// Leave the alternate screen, run a program in the foreground, come back.
    Suspend(SuspendJob),
}

/// A program to run with the terminal handed over (e.g. `$EDITOR` on a YAML file, a login plugin).
#[derive(Debug, Clone)]
pub struct SuspendJob {
    pub program: String,
    pub args: Vec<String>,
    /// Tag that comes back to the pane in [`Pane::on_resumed`].
    pub tag: String,
}

pub trait Pane {
    fn id(&self) -> PaneId;

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx);

    /// A keymap action of this pane's layer (e.g. "select_next", "open", "filter").
    fn on_action(&mut self, action: &str) -> Vec<Effect>;

    /// False for a pane that does nothing with its keymap layer yet, so the footer does not
    /// advertise keys that would do nothing.
    fn handles_actions(&self) -> bool {
        true
    }

    /// Whether an action of this pane's layer would do something now (an item is selected, no
    /// error blocks it). Help and the footer dim the ones that would not.
    fn action_available(&self, _action: &str) -> bool {
        true
    }

    /// The footer's keys while the pane is in a mode of its own (editing text, a viewer), in
    /// place of its keymap layer's, so the footer always says what the keys do now.
    fn footer_override(&self) -> Option<Vec<(&'static str, &'static str)>> {
        self.wants_text_input()
            .then(|| vec![("Enter", "accept"), ("Esc", "cancel")])
    }

    /// True while the pane edits text: the shell then hands it raw keys first.
    fn wants_text_input(&self) -> bool {
        false
    }

    /// A raw key while [`Pane::wants_text_input`] is true. `None` lets the shell handle it.
    fn on_key(&mut self, _key: KeyEvent) -> Option<Vec<Effect>> {
        None
    }

    /// Pasted text (bracketed paste) while editing.
    fn on_paste(&mut self, _text: &str) -> Vec<Effect> {
        Vec::new()
    }

    /// An engine event; returns true when the pane's visible state changed.
    fn on_event(&mut self, _event: &Event) -> bool {
        false
    }

    /// Effects a pane asks for as a result of engine events (e.g. open the Timeline once a
    /// create succeeded); the shell drains them after [`Pane::on_event`].
    fn take_effects(&mut self) -> Vec<Effect> {
        Vec::new()
    }

    /// The pane becomes visible, optionally on a target (`:timeline demo`).
    fn on_open(&mut self, _target: Option<&str>) -> Vec<Effect> {
        Vec::new()
    }

    /// The pane stops being visible: watches only it looks at should stop (they would otherwise
    /// retry and log for the rest of the session); [`Pane::on_open`] starts them again.
    fn on_close(&mut self) -> Vec<Effect> {
        Vec::new()
    }

    /// A suspended job ended; `ok` is its exit status.
    fn on_resumed(&mut self, _tag: &str, _ok: bool) -> Vec<Effect> {
        Vec::new()
    }

    /// What quitting now would throw away (e.g. "the Create form for demo with 3 node(s)"),
    /// or `None` when nothing typed here is unsaved. The shell asks before quitting when any
    /// pane answers; a pane without such state keeps the default.
    fn unsaved_input(&self) -> Option<String> {
        None
    }

    /// How often the pane needs redrawing with nothing else happening, while it shows a live
    /// duration (a running step's "for 21s", a young cluster's AGE) as of `now`. The shell arms
    /// one timer for the active pane only; `None` (the default) keeps an idle screen at zero
    /// wake-ups.
    fn tick_interval(&self, _now: DateTime<Utc>) -> Option<std::time::Duration> {
        None
    }
}

/// The redraw interval for a live duration `secs` long: the text counts seconds below an hour
/// and minutes (or coarser) beyond, so a minute is enough there.
pub fn live_interval(secs: i64) -> std::time::Duration {
    if secs < 3600 {
        std::time::Duration::from_secs(1)
    } else {
        std::time::Duration::from_secs(60)
    }
}
