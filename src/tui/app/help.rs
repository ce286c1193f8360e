//! The help overlay, generated from the keymap in force and the pane specs.

use super::*;

impl App {
    pub(super) fn help_lines(&self) -> Vec<Line<'static>> {
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
                let mut desc = self
                    .catalog
                    .describe(layer, action)
                    .unwrap_or(action)
                    .to_string();
                let available = layer == "global"
                    || self
                        .panes
                        .get(&self.active)
                        .is_none_or(|p| p.action_available(action));
                if !available {
                    desc.push_str(" (not available now)");
                }
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
                    let role = if d.ends_with("(not available now)") {
                        Role::Muted
                    } else {
                        Role::Text
                    };
                    lines.push(Line::from(vec![
                        Span::styled(format!("  {k}{pad}"), t.style(Role::Key)),
                        Span::styled(d, t.style(role)),
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

    pub(super) fn render_help(&self, frame: &mut Frame, body: Rect, scroll: u16) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::test_support::*;

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
    fn help_says_which_actions_would_do_nothing_now() {
        use crate::tui::panes::clusters::ClustersPane;
        let mut a = app_on(vec![Box::new(ClustersPane::new())]);
        let text: Vec<String> = a
            .help_lines()
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        // No cluster to open yet.
        assert!(
            text.iter()
                .any(|l| l.contains("open the cluster's timeline (not available now)")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|l| l.contains("filter by name") && !l.contains("not available"))
        );
        a.mark_drawn();
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
}
