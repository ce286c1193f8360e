//! Drawing the add-node dialog: the rows, a message line (the notice, or the focused field's
//! finding in full) and the buttons. Rows that do not fit scroll, and the border says how many
//! are hidden above and below.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{DField, NodeDialog};
use crate::config::theme::{Role, Theme};
use crate::domain::draft::{NodeType, SshAuth};
use crate::tui::widgets::form_field::{self as field, Level, Row, Value};

/// Lines the message may take at most; the rest of the dialog is rows.
const MAX_MESSAGE_LINES: u16 = 3;

impl NodeDialog {
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let fields = self.fields();
        let rows = fields.len() - 3;
        let w = area.width.saturating_sub(4).min(100);
        let message = self.message();
        let msg_lines = message
            .as_ref()
            .map_or(0, |(_, m)| wrapped_lines(m, w.saturating_sub(4)))
            .min(MAX_MESSAGE_LINES);
        // The rows, the message, the buttons and two borders.
        let want_h = rows as u16 + msg_lines + 3;
        let h = area.height.saturating_sub(2).min(want_h);
        let popup = Rect {
            x: area.x + (area.width.saturating_sub(w)) / 2,
            y: area.y + (area.height.saturating_sub(h)) / 2,
            width: w,
            height: h,
        };
        clear_with_margin(frame, area, popup);
        let inner = Block::default().borders(Borders::ALL).inner(popup);
        if inner.height == 0 || inner.width < 10 {
            return;
        }
        let msg_h = msg_lines.min(inner.height.saturating_sub(2));
        let rows_h = inner.height.saturating_sub(1 + msg_h).max(1) as usize;
        // The focused row stays visible; on a button, the last rows show.
        let target = self.focus.min(rows - 1);
        let top = (target + 1).saturating_sub(rows_h);
        let below = rows.saturating_sub(top + rows_h);
        frame.render_widget(self.block(top, below, theme), popup);
        let rows_end = inner.y + rows_h.min(rows) as u16;
        for (y, (i, f)) in (inner.y..rows_end).zip(fields.iter().enumerate().skip(top)) {
            let r = Rect {
                y,
                height: 1,
                ..inner
            };
            self.render_row(frame, r, i, *f, theme);
        }
        if let Some((role, msg)) = message
            && msg_h > 0
        {
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(msg, theme.style(role))))
                    .wrap(Wrap { trim: true }),
                Rect {
                    x: inner.x + 1,
                    y: inner.y + inner.height - 1 - msg_h,
                    width: inner.width.saturating_sub(2),
                    height: msg_h,
                },
            );
        }
        self.render_buttons(frame, inner, &fields, theme);
    }

    /// The border, its title, and how many rows are scrolled out of sight.
    fn block(&self, above: usize, below: usize, theme: &Theme) -> Block<'static> {
        let title = match (&self.editing, &self.from_draft) {
            (Some(i), _) => format!(" Edit node {} ", i + 1),
            (None, Some((name, _))) => format!(" Add Node (from draft {name}) "),
            (None, None) => " Add Node ".to_string(),
        };
        let mut block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Accent))
            .title(Span::styled(title, theme.style(Role::Title)));
        if above > 0 {
            block = block.title(
                Line::from(Span::styled(
                    format!(" ^ {above} more above "),
                    theme.style(Role::Muted),
                ))
                .right_aligned(),
            );
        }
        if below > 0 {
            block = block.title_bottom(
                Line::from(Span::styled(
                    format!(" v {below} more below "),
                    theme.style(Role::Muted),
                ))
                .right_aligned(),
            );
        }
        block
    }

    /// What the line above the buttons says: the notice, else the focused field's finding in
    /// full (the row itself may have room for only part of it).
    pub fn message(&self) -> Option<(Role, String)> {
        if let Some(n) = &self.notice {
            return Some((Role::Warn, n.clone()));
        }
        let (level, msg) = self.finding_for(self.focused())?;
        Some((
            level.role(),
            format!("{}: {msg}", self.label_of(self.focused())),
        ))
    }

    fn render_row(&self, frame: &mut Frame, r: Rect, i: usize, f: DField, theme: &Theme) {
        let n = &self.entry.node;
        let type_opts: [&str; 2] = [NodeType::ControlPlane.label(), NodeType::Worker.label()];
        let auth_opts: [&str; 2] = [SshAuth::Password.label(), SshAuth::Key.label()];
        let port = self.port_text();
        let value = match f {
            DField::Type => Value::Select {
                options: &type_opts,
                selected: (n.node_type == NodeType::Worker) as usize,
            },
            DField::AppDeployable => Value::Toggle(n.app_deployable),
            DField::Proxy => Value::Toggle(n.proxy.enabled),
            DField::Auth => Value::Select {
                options: &auth_opts,
                selected: (n.auth == SshAuth::Key) as usize,
            },
            DField::BridgeNetwork => {
                Value::ReadOnly("only when adding nodes to an existing underlay cluster")
            }
            DField::Password => Value::Secret {
                len: self.entry.ssh_password.chars().count(),
                placeholder: "required",
            },
            DField::Passphrase => Value::Secret {
                len: self.entry.key_passphrase.chars().count(),
                placeholder: "if the key has one",
            },
            DField::ProxyPassword => Value::Secret {
                len: self.entry.proxy_password.chars().count(),
                placeholder: "optional",
            },
            DField::SshPort => Value::Text {
                value: &port,
                placeholder: "22",
            },
            other => Value::Text {
                value: self.text_ref(other),
                placeholder: match other {
                    DField::Ipv4 if self.ipv6_only => "e.g. fd00::11 (private IP)",
                    _ => placeholder(other),
                },
            },
        };
        let missing = self.missing().contains(&f);
        let finding = self.finding_for(f);
        let finding = match &finding {
            Some((l, m)) => Some((*l, m.as_str())),
            None => missing.then_some((Level::Info, "required")),
        };
        let row = Row {
            label: self.label_of(f),
            value,
            required: matches!(
                f,
                DField::Ipv4
                    | DField::SshPort
                    | DField::SshUser
                    | DField::Password
                    | DField::KeyPath
                    | DField::ProxyAddress
            ) || (f == DField::Ipv6 && self.dual_stack),
            finding,
        };
        let focused = i == self.focus;
        let editing = focused && (f.is_text() || f.is_secret());
        let label_w = field::label_width(r);
        let (line, cur) = field::line(
            &row,
            r.width,
            label_w,
            focused,
            editing.then_some(self.cursor),
            theme,
        );
        frame.render_widget(Paragraph::new(line), r);
        if let Some(c) = cur
            && c < r.width
        {
            frame.set_cursor_position((r.x + c, r.y));
        }
    }

    fn render_buttons(&self, frame: &mut Frame, inner: Rect, fields: &[DField], theme: &Theme) {
        let button_start = fields.len() - 3;
        let mut spans = vec![Span::raw("  ")];
        for (i, f) in fields.iter().enumerate().skip(button_start) {
            let st = if i == self.focus {
                theme.style(Role::Selection)
            } else {
                theme.style(Role::Key)
            };
            spans.push(Span::styled(format!("[ {} ]", self.label_of(*f)), st));
            spans.push(Span::raw("  "));
        }
        // The keys are in the screen's footer; here only what fits without being cut.
        let hint = "Esc cancels";
        let used: usize = spans.iter().map(|s| s.width()).sum();
        if used + hint.len() <= usize::from(inner.width) {
            spans.push(Span::styled(hint, theme.style(Role::Muted)));
        }
        frame.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect {
                y: inner.y + inner.height.saturating_sub(1),
                height: 1,
                ..inner
            },
        );
    }
}

/// Clears the popup and a one-cell margin at its sides, so the rows behind never show there.
fn clear_with_margin(frame: &mut Frame, area: Rect, popup: Rect) {
    let x = popup.x.saturating_sub(1).max(area.x);
    let margin = Rect {
        x,
        y: popup.y,
        width: (popup.width + 2).min(area.right().saturating_sub(x)),
        height: popup.height,
    };
    frame.render_widget(Clear, margin);
}

/// How many lines `text` takes wrapped at `width` cells (word wrapping may need a little more
/// than this estimate; the message area is bounded anyway).
fn wrapped_lines(text: &str, width: u16) -> u16 {
    let width = usize::from(width.max(1));
    let cells = unicode_width::UnicodeWidthStr::width(text);
    u16::try_from(cells.div_ceil(width) + usize::from(cells > width)).unwrap_or(u16::MAX)
}

fn placeholder(f: DField) -> &'static str {
    match f {
        DField::Ipv4 => "e.g. 192.168.0.11 (private IP)",
        DField::Ipv6 => "e.g. fd00::11",
        DField::DisplayName => "optional",
        DField::SshIp => "if ssh user@IPv4 does not reach the node",
        DField::Nic => "default: cluster NIC",
        DField::SshUser => "root",
        DField::ProxyAddress => "e.g. 192.168.1.1:1080 or socks5://host:port",
        DField::ProxyUser => "optional",
        DField::KeyPath => "e.g. ~/.ssh/id_ed25519",
        _ => "",
    }
}
