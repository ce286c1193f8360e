//! Helpers the shell's tests share.

use super::*;

pub(super) fn app(readonly: bool) -> App {
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

pub(super) fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

pub(super) fn typed(app: &mut App, s: &str, now: Instant) {
    for ch in s.chars() {
        app.on_key(key(KeyCode::Char(ch)), now);
    }
}

/// What the engine reports about the kubeconfig.
pub(super) fn contexts(current: &str, available: &[&str]) -> Event {
    Event::Kube(KubeEvent::Contexts {
        current: Some(current.to_string()),
        available: strings(available),
    })
}

/// The engine commands the app queued, as the run loop would send them.
pub(super) fn sent(a: &mut App) -> Vec<Command> {
    a.take_outbox()
        .into_iter()
        .filter_map(|o| match o {
            Outgoing::Engine(c) => Some(c),
            _ => None,
        })
        .collect()
}

pub(super) fn screen(a: &mut App) -> String {
    use crate::tui::screenshots::{render, text};
    text(&render(a, 120, 30))
}

/// A pane that only answers `tick_interval` and remembers what it was opened on.
pub(super) struct LivePane {
    pub(super) id: PaneId,
    pub(super) every: Option<Duration>,
    pub(super) opened: std::rc::Rc<std::cell::RefCell<Vec<Option<String>>>>,
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

pub(super) fn live(id: PaneId, every: Option<Duration>) -> Box<dyn Pane> {
    Box::new(LivePane {
        id,
        every,
        opened: Default::default(),
    })
}

pub(super) fn app_on(panes: Vec<Box<dyn Pane>>) -> App {
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

pub(super) fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}
