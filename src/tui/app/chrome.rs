//! The frame around the panes: header (platform, context, cluster, badges, clock), tabs and
//! the footer of keys.

use super::*;

pub(super) fn footer_spans<'a>(t: &Theme, pairs: &[(&str, &str)]) -> Vec<Span<'a>> {
    let all: Vec<(&str, &str, bool)> = pairs.iter().map(|(k, a)| (*k, *a, true)).collect();
    footer_spans_available(t, &all)
}

/// Footer entries; one not available now (nothing selected, errors block it) is dimmed, so the
/// footer never advertises a key that would do nothing.
pub(super) fn footer_spans_available<'a>(t: &Theme, items: &[(&str, &str, bool)]) -> Vec<Span<'a>> {
    let base = t.style(Role::Footer);
    let key = base.patch(t.style(Role::Key));
    let muted = base.patch(t.style(Role::Muted));
    let mut spans = vec![Span::styled(" ", base)];
    for (k, a, available) in items {
        spans.push(Span::styled(
            k.to_string(),
            if *available { key } else { muted },
        ));
        spans.push(Span::styled(
            format!(" {a}  "),
            if *available { base } else { muted },
        ));
    }
    spans
}

/// What of the header fits a width. The cluster name matters most (it is what an action acts
/// on), then the platform and the badges; the context label, the clock and the title go first,
/// in that order, and a name that must still be cut ends with `…` so the cut shows.
pub(super) struct HeaderFit {
    pub(super) title: bool,
    pub(super) platform: String,
    pub(super) context: Option<String>,
    pub(super) cluster: String,
    pub(super) clock: bool,
}

impl HeaderFit {
    pub(super) fn choose(
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
pub(super) fn ellipsize(s: &str, cells: usize) -> String {
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

impl App {
    pub(super) fn clock(&self, now: DateTime<Utc>) -> String {
        match self.clock_offset {
            Some(off) => now.with_timezone(&off).format("%H:%M").to_string(),
            None => now.with_timezone(&Local).format("%H:%M").to_string(),
        }
    }

    pub(super) fn render_header(&self, frame: &mut Frame, area: Rect, now: DateTime<Utc>) {
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

    pub(super) fn render_tabs(&self, frame: &mut Frame, area: Rect) {
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

    pub(super) fn render_footer(&self, frame: &mut Frame, area: Rect) {
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
        let mut items: Vec<(String, String, bool)> = Vec::new();
        // A pane that handles no action yet (a placeholder) must not advertise its layer's keys.
        let pane = self.panes.get(&self.active);
        let advertised = layer == "help" || pane.is_none_or(|p| p.handles_actions());
        let special = if layer == "help" {
            None
        } else {
            pane.and_then(|p| p.footer_override())
        };
        for (k, a) in special.iter().flatten() {
            items.push((k.to_string(), a.to_string(), true));
        }
        for (action, keys) in self.keymap.bindings(layer) {
            if !advertised || special.is_some() {
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
                let available = layer == "help" || pane.is_none_or(|p| p.action_available(action));
                items.push((k.to_string(), action.replace('_', " "), available));
            }
        }
        let mut global: Vec<(String, String)> = Vec::new();
        if let Some(note) = self.progress_note() {
            global.push((String::new(), note));
        }
        for action in ["help", "command", "next_pane", "quit"] {
            if let Some(k) = self.keymap.keys("global", action).first() {
                global.push((k.to_string(), action.replace('_', " ")));
            }
        }
        let width = |v: &mut dyn Iterator<Item = (&String, &String)>| -> usize {
            v.map(|(k, a)| k.width() + a.width() + 3).sum()
        };
        let gw = width(&mut global.iter().map(|(k, a)| (k, a))) + 1;
        // Drop the pane's last bindings until the global ones fit; the help overlay has them all.
        while !items.is_empty()
            && width(&mut items.iter().map(|(k, a, _)| (k, a))) + gw > area.width as usize
        {
            items.pop();
        }
        let pairs: Vec<(&str, &str, bool)> = items
            .iter()
            .map(|(k, a, on)| (k.as_str(), a.as_str(), *on))
            .collect();
        let gpairs: Vec<(&str, &str)> = global
            .iter()
            .map(|(k, a)| (k.as_str(), a.as_str()))
            .collect();
        widgets::two_sided(
            frame,
            area,
            footer_spans_available(t, &pairs),
            footer_spans(t, &gpairs),
            base,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::test_support::*;

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
}
