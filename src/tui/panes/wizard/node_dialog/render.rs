//! Drawing the add-node dialog.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{DField, NodeDialog};
use crate::config::theme::{Role, Theme};
use crate::domain::draft::{NodeType, SshAuth};
use crate::tui::widgets::form_field::{self as field, Level, Row, Value};

impl NodeDialog {
    pub fn render(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let fields = self.fields();
        // Rows (the buttons sit in the reserved lines), four reserved lines, two borders.
        let want_h = fields.len() as u16 + 3;
        let w = area.width.saturating_sub(4).min(100);
        let h = area.height.saturating_sub(2).min(want_h);
        let popup = Rect {
            x: area.x + (area.width.saturating_sub(w)) / 2,
            y: area.y + (area.height.saturating_sub(h)) / 2,
            width: w,
            height: h,
        };
        // Clear a one-cell margin too, so the rows behind never show at the popup's sides.
        let margin = Rect {
            x: popup.x.saturating_sub(1).max(area.x),
            y: popup.y,
            width: (popup.width + 2).min(
                area.right()
                    .saturating_sub(popup.x.saturating_sub(1).max(area.x)),
            ),
            height: popup.height,
        };
        frame.render_widget(Clear, margin);
        let title = match (&self.editing, &self.from_draft) {
            (Some(i), _) => format!(" Edit node {} ", i + 1),
            (None, Some((name, _))) => format!(" Add Node (from draft {name}) "),
            (None, None) => " Add Node ".to_string(),
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Accent))
            .title(Span::styled(title, theme.style(Role::Title)));
        let inner = block.inner(popup);
        frame.render_widget(block, popup);
        if inner.height == 0 || inner.width < 10 {
            return;
        }
        let n = &self.entry.node;
        let label_w = field::label_width(inner);
        let missing = self.missing();
        // Rows above the buttons scroll so the focused row stays visible on small terminals.
        let reserved = 4u16;
        let rows_h = inner.height.saturating_sub(reserved).max(1) as usize;
        let button_start = fields.len() - 3;
        let top = if self.focus >= rows_h && self.focus < button_start {
            self.focus + 1 - rows_h
        } else {
            0
        };
        let type_opts: [&str; 2] = [NodeType::ControlPlane.label(), NodeType::Worker.label()];
        let auth_opts: [&str; 2] = [SshAuth::Password.label(), SshAuth::Key.label()];
        let port = self.port_text();
        let rows_end = inner.y + rows_h as u16;
        for (y, (i, f)) in
            (inner.y..rows_end).zip(fields.iter().enumerate().take(button_start).skip(top))
        {
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
                    value: match other {
                        DField::Ipv4 => &n.ipv4,
                        DField::Ipv6 => &n.ipv6,
                        DField::DisplayName => &n.display_name,
                        DField::SshIp => &n.ssh_ip,
                        DField::Nic => &n.nic,
                        DField::SshUser => &n.ssh_user,
                        DField::ProxyAddress => &n.proxy.address,
                        DField::ProxyUser => &n.proxy.username,
                        DField::KeyPath => &n.key_path,
                        _ => "",
                    },
                    placeholder: match other {
                        DField::Ipv4 if self.ipv6_only => "e.g. fd00::11 (private IP)",
                        _ => placeholder(*other),
                    },
                },
            };
            let finding = self
                .finding_for(*f)
                .or_else(|| missing.contains(f).then_some((Level::Info, "required")));
            let row = Row {
                label: self.label_of(*f),
                value,
                required: matches!(
                    f,
                    DField::Ipv4 | DField::SshPort | DField::SshUser | DField::Password
                ) || (*f == DField::Ipv6 && self.dual_stack)
                    || (*f == DField::KeyPath)
                    || (*f == DField::ProxyAddress),
                finding,
            };
            let focused = i == self.focus;
            let editing = focused && (f.is_text() || f.is_secret());
            let (line, cur) = field::line(
                &row,
                inner.width,
                label_w,
                focused,
                editing.then_some(self.cursor),
                theme,
            );
            let r = Rect {
                x: inner.x,
                y,
                width: inner.width,
                height: 1,
            };
            frame.render_widget(Paragraph::new(line), r);
            if let Some(c) = cur
                && c < inner.width
            {
                frame.set_cursor_position((inner.x + c, y));
            }
        }
        let notice_y = inner.y + inner.height.saturating_sub(3);
        if let Some(msg) = &self.notice {
            frame.render_widget(
                Paragraph::new(Line::from(Span::styled(
                    msg.as_str(),
                    theme.style(Role::Warn),
                )))
                .wrap(Wrap { trim: true }),
                Rect {
                    x: inner.x + 1,
                    y: notice_y,
                    width: inner.width.saturating_sub(2),
                    height: 2,
                },
            );
        }
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
                x: inner.x,
                y: inner.y + inner.height.saturating_sub(1),
                width: inner.width,
                height: 1,
            },
        );
    }
}

fn placeholder(f: DField) -> &'static str {
    match f {
        DField::Ipv4 => "e.g. 192.168.0.11 (private IP)",
        DField::Ipv6 => "e.g. fd00::11",
        DField::DisplayName => "optional",
        DField::SshIp => "if ssh user@IPv4 does not reach the node",
        DField::Nic => "default: cluster NIC",
        DField::SshUser => "root",
        DField::ProxyAddress => "e.g. 192.168.1.1:1080 (SOCKS5)",
        DField::ProxyUser => "optional",
        DField::KeyPath => "e.g. ~/.ssh/id_ed25519",
        _ => "",
    }
}
