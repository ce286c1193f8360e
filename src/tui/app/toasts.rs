//! Toasts: bounded, expiring messages in the corner, each with its fix when one is known.

use super::*;

pub(super) struct ToastEntry {
    pub(super) toast: Toast,
    pub(super) expires: Instant,
}

impl App {
    pub fn toast_count(&self) -> usize {
        self.toasts.len()
    }

    pub fn toasts(&self) -> impl Iterator<Item = &Toast> {
        self.toasts.iter().map(|t| &t.toast)
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

    pub(super) fn render_toasts(&self, frame: &mut Frame, body: Rect) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Failure, FailureKind};
    use crate::tui::app::test_support::*;

    #[test]
    fn long_work_shows_its_progress_in_the_footer_until_done() {
        let now = Instant::now();
        let mut a = app(false);
        let id = RequestId::next();
        let step = |done| {
            Event::Progress(crate::engine::Progress {
                id,
                done,
                total: Some(3),
                what: "preflight: nodes checked".into(),
            })
        };
        a.on_engine_event(step(1), now);
        assert_eq!(
            a.progress_note().as_deref(),
            Some("preflight: nodes checked 1/3")
        );
        let t = crate::tui::screenshots::text(&crate::tui::screenshots::render(&mut a, 120, 30));
        assert!(t.contains("nodes checked 1/3"), "{t}");
        a.on_engine_event(step(3), now);
        assert_eq!(a.progress_note(), None);
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
}
