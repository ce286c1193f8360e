//! Drawing the Registry pane: inputs on top, the checklist, and the selected check's evidence
//! and fix below it when open.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::RegistryPane;
use crate::config::theme::{Role, Theme};
use crate::domain::registry::Verdict;
use crate::domain::registry::catalogue::CATALOGUE;
use crate::engine::registry::battery::chosen_image;
use crate::present::Tone;
use crate::present::registry::{mark, tally, tone};
use crate::present::text::fit;
use crate::tui::panes::RenderCtx;

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

fn role(t: Tone) -> Role {
    match t {
        Tone::Text => Role::Text,
        Tone::Ok => Role::Ok,
        Tone::Warn => Role::Warn,
        Tone::Fail => Role::Fail,
        Tone::Info => Role::Info,
        Tone::Muted => Role::Muted,
        Tone::Accent => Role::Accent,
    }
}

fn title(p: &RegistryPane) -> String {
    match &p.request {
        None => " Registry ".to_string(),
        Some(r) => {
            let what = r
                .pod
                .as_deref()
                .or(r.image.as_deref())
                .or(r.deployment.as_deref());
            match what {
                Some(w) => format!(" Registry - {}/{w} ", r.namespace),
                None => format!(" Registry - {} ", r.namespace),
            }
        }
    }
}

fn header(p: &RegistryPane, theme: &Theme, spin: &str) -> Vec<Line<'static>> {
    let kv = |k: &str, v: String| {
        vec![
            Span::styled(format!("{k} "), theme.style(Role::Muted)),
            Span::styled(v, theme.style(Role::Text)),
            Span::raw("   "),
        ]
    };
    let Some(i) = &p.inputs else {
        let ns = p
            .request
            .as_ref()
            .map_or(String::new(), |r| r.namespace.clone());
        return vec![Line::from(kv("namespace", ns))];
    };
    let image = chosen_image(i).map_or("-".to_string(), ToString::to_string);
    let mut first = kv("namespace", i.namespace.clone());
    first.extend(kv("service account", i.service_account.clone()));
    first.extend(kv(
        "user",
        i.user.clone().unwrap_or_else(|| "-".to_string()),
    ));
    let mut second = kv("image", image);
    if let Some(s) = &i.subject {
        second.extend(kv("from", s.clone()));
    }
    let results: Vec<_> = p.results.values().cloned().collect();
    let progress = if p.running {
        Span::styled(
            format!("{spin} running {}/{}", results.len(), CATALOGUE.len()),
            theme.style(Role::Info),
        )
    } else {
        Span::styled(
            format!("done: {}", tally(&results)),
            theme.style(Role::Accent),
        )
    };
    vec![Line::from(first), Line::from(second), Line::from(progress)]
}

fn checklist(p: &RegistryPane, theme: &Theme, width: usize, spin: &str) -> Vec<Line<'static>> {
    CATALOGUE
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let cursor = if i == p.selected { ">" } else { " " };
            let (m, style, text) = match p.results.get(&d.id) {
                Some(r) => (
                    mark(r.verdict).to_string(),
                    theme.style(role(tone(r.verdict))),
                    r.summary.clone(),
                ),
                None if p.running => (
                    format!(" {spin}  "),
                    theme.style(Role::Info),
                    d.title.to_string(),
                ),
                None => (
                    "    ".to_string(),
                    theme.style(Role::Muted),
                    d.title.to_string(),
                ),
            };
            let rest = width.saturating_sub(26);
            let mut spans = vec![
                Span::raw(format!("{cursor} ")),
                Span::styled(fit(&m, 4), style),
                Span::raw("  "),
                Span::styled(fit(d.id.as_str(), 16), theme.style(Role::Key)),
                Span::raw("  "),
                Span::raw(fit(&text, rest)),
            ];
            if i == p.selected {
                spans = spans
                    .into_iter()
                    .map(|s| s.patch_style(theme.style(Role::Selection)))
                    .collect();
            }
            Line::from(spans)
        })
        .collect()
}

fn details(p: &RegistryPane, theme: &Theme) -> Vec<Line<'static>> {
    let d = &CATALOGUE[p.selected.min(CATALOGUE.len() - 1)];
    let mut out = vec![Line::styled(
        format!("{}: {}", d.id.as_str(), d.title),
        theme.style(Role::Title),
    )];
    let Some(r) = p.results.get(&d.id) else {
        out.push(Line::styled(
            format!("not reported yet; needs: {}", d.inputs),
            theme.style(Role::Muted),
        ));
        return out;
    };
    out.push(Line::styled(
        r.summary.clone(),
        theme.style(role(tone(r.verdict))),
    ));
    for e in &r.evidence {
        out.push(Line::raw(format!("  {e}")));
    }
    if let Some(f) = &r.fix {
        out.push(Line::styled(
            format!("fix: {}", f.text),
            theme.style(Role::Accent),
        ));
        if let Some(c) = &f.command {
            out.push(Line::raw(format!("  $ {c}")));
            out.push(Line::styled(
                "  (c copies the command)",
                theme.style(Role::Muted),
            ));
        }
    } else if r.verdict == Verdict::Skip {
        out.push(Line::styled(
            format!("needs: {}", d.inputs),
            theme.style(Role::Muted),
        ));
    }
    out
}

pub fn render(p: &RegistryPane, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
    let theme = ctx.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style(Role::Border))
        .title(Span::styled(title(p), theme.style(Role::Title)));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if inner.height < 3 || inner.width < 20 {
        return;
    }
    if p.request.is_none() {
        let lines = vec![
            Line::raw("Checks why a pod cannot pull its image, and says what to fix."),
            Line::raw(""),
            Line::styled(
                ":registry <namespace>/<pod>        a pod in ImagePullBackOff",
                theme.style(Role::Key),
            ),
            Line::styled(
                ":registry <namespace>/<app>:<tag>  an image on the built-in registry",
                theme.style(Role::Key),
            ),
        ];
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        return;
    }
    let ms = u64::try_from(ctx.now.timestamp_millis()).unwrap_or(0);
    let spin = SPINNER[usize::try_from((ms / 125) % 4).unwrap_or(0)];
    let mut lines = header(p, theme, spin);
    if let Some(f) = &p.failure {
        lines.push(Line::styled(
            format!("cannot run the checks: {}", f.message),
            theme.style(Role::Fail),
        ));
        if let Some(h) = &f.hint {
            lines.push(Line::styled(format!("hint: {h}"), theme.style(Role::Muted)));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
        return;
    }
    lines.push(Line::raw(""));
    let head_h = lines.len() as u16;
    frame.render_widget(
        Paragraph::new(lines),
        Rect {
            height: head_h.min(inner.height),
            ..inner
        },
    );
    let rest = Rect {
        y: inner.y + head_h.min(inner.height),
        height: inner.height.saturating_sub(head_h),
        ..inner
    };
    let list = checklist(p, theme, inner.width as usize, spin);
    let list_h = if p.details {
        (list.len() as u16).min(rest.height / 2)
    } else {
        rest.height
    };
    // Keep the cursor visible when the list is cut.
    let skip = (p.selected + 1).saturating_sub(list_h as usize);
    frame.render_widget(
        Paragraph::new(list.into_iter().skip(skip).collect::<Vec<_>>()),
        Rect {
            height: list_h,
            ..rest
        },
    );
    if p.details && rest.height > list_h {
        let area = Rect {
            y: rest.y + list_h,
            height: rest.height - list_h,
            ..rest
        };
        let d = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.style(Role::Border));
        let inner = d.inner(area);
        frame.render_widget(d, area);
        frame.render_widget(
            Paragraph::new(details(p, theme)).wrap(Wrap { trim: false }),
            inner,
        );
    }
}
