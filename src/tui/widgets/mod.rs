//! Small drawing helpers shared by the shell and the panes.

pub mod form_field;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::config::theme::{Role, Theme};

/// A rectangle of at most `width` x `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// One line with `left` flush left and `right` flush right; `left` is cut when both do not fit,
/// because the right side carries the badges (READ-ONLY, SANDBOX) that must stay visible.
pub fn two_sided(frame: &mut Frame, area: Rect, left: Vec<Span>, right: Vec<Span>, base: Style) {
    let rw: usize = right.iter().map(|s| s.content.width()).sum();
    let rw = rw.min(area.width as usize) as u16;
    frame.render_widget(Paragraph::new(Line::from(left)).style(base), area);
    let r = Rect::new(area.right() - rw, area.y, rw, 1.min(area.height));
    frame.render_widget(Paragraph::new(Line::from(right)).style(base), r);
}

/// A short label in reverse video, e.g. a status: ` Running `.
pub fn badge<'a>(theme: &Theme, role: Role, text: &str) -> Span<'a> {
    Span::styled(format!(" {text} "), theme.style(role))
}

/// "key action" pairs for hints inside panes, styled like the footer.
pub fn key_hints<'a>(theme: &Theme, pairs: &[(&str, &str)]) -> Line<'a> {
    let mut spans = Vec::new();
    for (k, a) in pairs {
        spans.push(Span::styled(k.to_string(), theme.style(Role::Key)));
        spans.push(Span::styled(format!(" {a}  "), theme.style(Role::Muted)));
    }
    Line::from(spans)
}
