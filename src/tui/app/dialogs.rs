//! Dialog boxes: the one frame every dialog is drawn in, and the question asked before
//! quitting with unsaved input.

use super::*;

/// The question asked before quitting while a pane holds input that quitting would throw
/// away. Like the safety gate it defaults to Cancel: losing typed work takes `y` then Enter.
pub(super) struct QuitConfirm {
    /// What would be lost, one entry per pane, in the panes' own words.
    pub(super) lost: Vec<(PaneId, String)>,
    pub(super) quit_focused: bool,
}

/// Greedy word wrap by display width.
/// What a key does in a confirmation dialog.
pub(super) enum DialogKey {
    Cancel,
    Confirm,
    /// The focus moved between Cancel and the confirm button.
    Moved,
    Ignored,
}

/// The keys every confirmation understands, so all of them behave alike: Esc, `n` and `q`
/// cancel; `y` moves to the confirm button and Enter then confirms; Tab and the arrows move
/// between the buttons; Enter on Cancel cancels. The focus starts on Cancel.
pub(super) fn dialog_key(confirm_focused: &mut bool, key: &KeyEvent) -> DialogKey {
    match key.code {
        KeyCode::Esc | KeyCode::Char('n') | KeyCode::Char('q') => DialogKey::Cancel,
        KeyCode::Char('y') | KeyCode::Char('Y') => {
            *confirm_focused = true;
            DialogKey::Moved
        }
        KeyCode::Tab
        | KeyCode::BackTab
        | KeyCode::Left
        | KeyCode::Right
        | KeyCode::Char('h')
        | KeyCode::Char('l') => {
            *confirm_focused = !*confirm_focused;
            DialogKey::Moved
        }
        KeyCode::Enter if *confirm_focused => DialogKey::Confirm,
        KeyCode::Enter => DialogKey::Cancel,
        _ => DialogKey::Ignored,
    }
}

pub(super) fn wrap(text: &str, width: usize) -> Vec<String> {
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

impl App {
    /// The quit question's keys, the same as the safety gate's: Cancel has the focus, `y`
    /// moves it to Quit anyway and Enter then quits.
    pub(super) fn quit_confirm_key(&mut self, mut q: QuitConfirm, key: KeyEvent, now: Instant) {
        match dialog_key(&mut q.quit_focused, &key) {
            DialogKey::Cancel => {
                self.push_toast(Toast::info("still running; nothing was discarded"), now);
            }
            DialogKey::Confirm => {
                tracing::info!("quit confirmed; unsaved input discarded");
                self.quit = true;
            }
            DialogKey::Moved => self.mode = Mode::ConfirmQuit(q),
            DialogKey::Ignored => {
                self.dirty = false;
                self.mode = Mode::ConfirmQuit(q);
            }
        }
    }

    /// The quit question: what would be lost, and the way to keep it.
    pub(super) fn render_quit_confirm(&self, frame: &mut Frame, body: Rect, q: &QuitConfirm) {
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
    pub(super) fn render_dialog(
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

    /// A quit the user asked for (the quit key, Ctrl-C, `:q`): at once when nothing would be
    /// lost, otherwise after the question, because nothing the user typed is lost silently.
    ///
    /// SIGHUP, SIGTERM and SIGINT never come here: the run loop exits on them at once. A
    /// dropped SSH link has nobody left to answer a dialog, and a process manager expects a
    /// prompt exit; waiting would keep a dead session alive on the jump host. The wizard's form
    /// is in memory only, so that loss is accepted for signals; the question protects against
    /// the everyday case, a stray key.
    pub(super) fn request_quit(&mut self) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::test_support::*;

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
}
