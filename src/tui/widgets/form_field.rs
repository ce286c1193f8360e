//! One form row: label, value (text, masked text, toggle, select or button) and the finding
//! that belongs to it, drawn on one line so that a finding always sits beside its field.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use tui_input::{Input, InputRequest};
use unicode_width::UnicodeWidthStr;
use zeroize::Zeroizing;

use crate::config::theme::{Role, Theme};

/// How bad a finding is, as the field row shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl Level {
    pub fn role(self) -> Role {
        match self {
            Level::Error => Role::Fail,
            Level::Warning => Role::Warn,
            Level::Info => Role::Info,
        }
    }
    /// Plain-ASCII marker, readable without color.
    pub fn marker(self) -> &'static str {
        match self {
            Level::Error => "x",
            Level::Warning => "!",
            Level::Info => "i",
        }
    }
}

/// What a row shows as its value.
#[derive(Debug, Clone)]
pub enum Value<'a> {
    Text {
        value: &'a str,
        placeholder: &'a str,
    },
    /// A secret: only its length is shown, as dots.
    Secret {
        len: usize,
        placeholder: &'a str,
    },
    Toggle(bool),
    Select {
        options: &'a [&'a str],
        selected: usize,
    },
    Button,
    /// Informational, not editable.
    ReadOnly(&'a str),
}

#[derive(Debug, Clone)]
pub struct Row<'a> {
    pub label: &'a str,
    pub value: Value<'a>,
    pub required: bool,
    pub finding: Option<(Level, &'a str)>,
}

/// Column where values start, so that rows line up.
pub fn label_width(area: Rect) -> u16 {
    if area.width >= 120 {
        28
    } else if area.width >= 70 {
        26
    } else {
        area.width / 3
    }
}

/// Draws a row into `line`. `cursor` is the cursor's char offset when the row is being edited;
/// returns the terminal column of the cursor relative to the row's start.
pub fn line<'a>(
    row: &Row<'a>,
    width: u16,
    label_w: u16,
    focused: bool,
    cursor: Option<usize>,
    theme: &Theme,
) -> (Line<'a>, Option<u16>) {
    let mut spans: Vec<Span<'a>> = Vec::new();
    let lw = label_w as usize;
    let marker = if focused { "> " } else { "  " };
    spans.push(Span::styled(marker, theme.style(Role::Accent)));
    let mut label = row.label.to_string();
    if row.required {
        label.push('*');
    }
    let label_cells = lw.saturating_sub(2);
    let label = truncate(&label, label_cells.saturating_sub(1));
    let pad = label_cells.saturating_sub(label.width());
    let label_style = if focused {
        theme.style(Role::Title)
    } else {
        theme.style(Role::Text)
    };
    spans.push(Span::styled(
        format!("{label}{}", " ".repeat(pad)),
        label_style,
    ));
    let value_w = (width as usize).saturating_sub(lw).max(4);
    // The value gets up to 60% of what is left; the finding gets the rest.
    let slot = if row.finding.is_some() {
        (value_w * 3 / 5).max(12).min(value_w)
    } else {
        value_w
    };
    let sel = theme.style(Role::Selection);
    let mut cursor_col = None;
    let (text, style): (String, Style) = match &row.value {
        Value::Text { value, placeholder } => {
            if value.is_empty() && cursor.is_none() {
                (format!("[{placeholder}]"), theme.style(Role::Muted))
            } else {
                let inner = slot.saturating_sub(2).max(1);
                let input = Input::new(value.to_string())
                    .with_cursor(cursor.unwrap_or(value.chars().count()));
                let scroll = input.visual_scroll(inner);
                let shown: String = skip_cells(value, scroll, inner);
                if cursor.is_some() {
                    cursor_col = Some((lw + 1 + input.visual_cursor() - scroll) as u16);
                }
                let st = if focused && cursor.is_some() {
                    theme.style(Role::Accent)
                } else {
                    theme.style(Role::Text)
                };
                (format!("[{shown}]"), st)
            }
        }
        Value::Secret { len, placeholder } => {
            if *len == 0 && cursor.is_none() {
                (format!("[{placeholder}]"), theme.style(Role::Muted))
            } else {
                let dots = "*".repeat((*len).min(slot.saturating_sub(2)));
                if cursor.is_some() {
                    cursor_col = Some((lw + 1 + dots.len()) as u16);
                }
                (format!("[{dots}]"), theme.style(Role::Text))
            }
        }
        Value::Toggle(on) => (
            if *on { "[x] on" } else { "[ ] off" }.to_string(),
            theme.style(if *on { Role::Ok } else { Role::Muted }),
        ),
        Value::Select { options, selected } => {
            let cur = options.get(*selected).copied().unwrap_or("?");
            (format!("< {cur} >"), theme.style(Role::Text))
        }
        Value::Button => (format!("[ {} ]", row.label), theme.style(Role::Key)),
        Value::ReadOnly(s) => (s.to_string(), theme.style(Role::Muted)),
    };
    let text = truncate(&text, slot);
    let used = text.width();
    let style = if focused && cursor.is_none() {
        style.patch(sel)
    } else {
        style
    };
    if matches!(row.value, Value::Button) {
        // A button row has no label column of its own.
        spans.pop();
        spans.push(Span::raw(" ".repeat(label_cells)));
    }
    spans.push(Span::styled(text, style));
    if let Some((level, msg)) = row.finding {
        let room = value_w.saturating_sub(used + 1);
        if room > 3 {
            spans.push(Span::raw(" "));
            let m = truncate(&format!("{} {msg}", level.marker()), room);
            spans.push(Span::styled(m, theme.style(level.role())));
        }
    }
    (Line::from(spans), cursor_col)
}

/// Cuts a string to `cells` terminal cells, marking the cut with `~`.
pub fn truncate(s: &str, cells: usize) -> String {
    if s.width() <= cells {
        return s.to_string();
    }
    if cells == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw + 1 > cells {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('~');
    out
}

fn skip_cells(s: &str, skip: usize, take: usize) -> String {
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w >= skip && w + cw <= skip + take {
            out.push(c);
        }
        w += cw;
    }
    out
}

/// Applies an editing request to a plain text value; returns the new cursor.
pub fn edit_text(value: &mut String, cursor: usize, req: InputRequest) -> usize {
    let mut input = Input::new(std::mem::take(value)).with_cursor(cursor);
    input.handle(req);
    let c = input.cursor();
    *value = input.value().to_string();
    c
}

/// Edits a secret in place. Only appending and deleting are offered, so the secret is never
/// copied into a non-zeroizing buffer.
pub fn edit_secret(value: &mut Zeroizing<String>, req: InputRequest) {
    match req {
        InputRequest::InsertChar(c) => value.push(c),
        InputRequest::DeletePrevChar => {
            value.pop();
        }
        InputRequest::DeleteLine | InputRequest::DeleteFromStart => value.clear(),
        _ => {}
    }
}

/// Appends pasted text to a secret without an intermediate copy.
pub fn paste_secret(value: &mut Zeroizing<String>, text: &str) {
    for c in text.chars().filter(|c| !c.is_control()) {
        value.push(c);
    }
}
