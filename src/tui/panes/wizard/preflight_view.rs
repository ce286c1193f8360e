//! Drawing the Preflight step: the state line, the node x check-group matrix with a spinner
//! on running nodes, the selected cell's findings (evidence and fix) and the notes.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::WizardPane;
use super::preflight::{Group, PreflightRun};
use crate::config::theme::{Role, Theme};
use crate::domain::preflight::{CheckResult, Verdict};
use crate::engine::preflight::REACHABILITY_NOTE;
use crate::present::Tone;
use crate::present::preflight::{
    check_title, host_key_question, summary_line, verdict_label, verdict_tone,
};

const SPINNER: [char; 4] = ['|', '/', '-', '\\'];
/// How often the spinner turns while a node runs.
pub(super) const SPIN_EVERY: std::time::Duration = std::time::Duration::from_millis(250);
const CELL_W: usize = 9;

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

/// The worst result of a cell, with acknowledged warnings ranked below the rest.
fn worst<'a>(run: &PreflightRun, i: usize, cell: &[&'a CheckResult]) -> Option<&'a CheckResult> {
    cell.iter().copied().max_by_key(|r| {
        if run.is_acked(i, r) {
            1
        } else {
            r.verdict.severity() * 2
        }
    })
}

fn cell_span(run: &PreflightRun, i: usize, g: Group) -> (String, Role) {
    let row = &run.nodes[i];
    if g == Group::Ssh
        && let Some(r) = &row.report
        && r.host_key.is_some()
    {
        return ("key?".into(), Role::Warn);
    }
    let cell = run.cell(i, g);
    match worst(run, i, &cell) {
        _ if row.running => ("...".into(), Role::Muted),
        None => ("-".into(), Role::Muted),
        Some(r) if run.is_acked(i, r) => ("ack".into(), Role::Muted),
        Some(r) => {
            let mut label = verdict_label(r.verdict).to_string();
            let n = cell.iter().filter(|c| c.verdict == r.verdict).count();
            if n > 1 && r.verdict != Verdict::Pass {
                label = format!("{label}x{n}");
            }
            (label, role(verdict_tone(r.verdict)))
        }
    }
}

impl WizardPane {
    pub(super) fn render_preflight(
        &self,
        frame: &mut Frame,
        area: Rect,
        theme: &Theme,
        now: DateTime<Utc>,
    ) {
        let mut lines: Vec<Line> = Vec::new();
        let Some(run) = self.preflight.as_ref() else {
            lines.push(Line::from(Span::styled(
                if self.form.nodes().is_empty() {
                    "No nodes yet: add them in Node Settings; the preflight then checks each over SSH."
                } else {
                    "Preflight has not run: p checks every node over SSH (read-only commands)."
                },
                theme.style(Role::Info),
            )));
            lines.push(Line::from(Span::styled(
                REACHABILITY_NOTE,
                theme.style(Role::Muted),
            )));
            frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
            return;
        };
        lines.push(self.preflight_state_line(run, theme));
        let spin = SPINNER[((now.timestamp_millis() / SPIN_EVERY.as_millis() as i64) % 4) as usize];
        let name_w = run
            .nodes
            .iter()
            .map(|n| n.name.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 20);
        let mut header = format!("  {:<name_w$}", "NODE");
        for g in Group::ALL {
            header.push_str(&format!(" {:<CELL_W$}", g.title()));
        }
        lines.push(Line::from(Span::styled(header, theme.style(Role::Title))));
        for (i, n) in run.nodes.iter().enumerate() {
            let mark = if n.running { spin } else { ' ' };
            let name: String = n.name.chars().take(name_w).collect();
            let mut spans = vec![Span::styled(
                format!("{mark} {name:<name_w$}"),
                theme.style(Role::Text),
            )];
            for (gi, g) in Group::ALL.iter().enumerate() {
                let (text, r) = cell_span(run, i, *g);
                let selected = i == self.pf_cursor.node && gi == self.pf_cursor.group;
                let st = if selected {
                    theme.style(Role::Selection)
                } else {
                    theme.style(r)
                };
                spans.push(Span::raw(" "));
                spans.push(Span::styled(format!("{text:<CELL_W$}"), st));
            }
            lines.push(Line::from(spans));
        }
        lines.push(Line::raw(""));
        lines.extend(self.preflight_detail(run, theme));
        for note in run
            .notes
            .iter()
            .map(String::as_str)
            .chain([REACHABILITY_NOTE])
        {
            lines.push(Line::from(Span::styled(
                note.to_string(),
                theme.style(Role::Muted),
            )));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), area);
    }

    fn preflight_state_line(&self, run: &PreflightRun, theme: &Theme) -> Line<'static> {
        let total = run.nodes.len();
        let (r, text) = if let Some(f) = &run.failure {
            (Role::Fail, format!("Preflight could not run: {f}"))
        } else if self.current_preflight().is_none() {
            (
                Role::Warn,
                "The nodes or SSH settings changed since this run: p runs it again".to_string(),
            )
        } else if run.running() > 0 {
            (
                Role::Info,
                format!("Checking {} of {total} node(s) over SSH...", run.running()),
            )
        } else {
            let blocked = self.preflight_block();
            let summary = run
                .report
                .as_ref()
                .map(|rep| summary_line(total, &rep.summary))
                .unwrap_or_default();
            match blocked {
                Some(b) => (Role::Fail, format!("{summary} Submit blocked: {b}")),
                None => (Role::Ok, format!("{summary} Nothing blocks submitting.")),
            }
        };
        Line::from(Span::styled(text, theme.style(r)))
    }

    /// The selected cell: its host-key question, or its findings with evidence and fix when
    /// open, or how to open them.
    fn preflight_detail(&self, run: &PreflightRun, theme: &Theme) -> Vec<Line<'static>> {
        let c = self.pf_cursor;
        let g = Group::ALL[c.group.min(Group::ALL.len() - 1)];
        let Some(node) = run.nodes.get(c.node) else {
            return Vec::new();
        };
        if let Some(offer) = node.report.as_ref().and_then(|r| r.host_key.as_ref()) {
            return vec![
                Line::from(Span::styled(
                    host_key_question(offer),
                    theme.style(Role::Warn),
                )),
                Line::from(Span::styled(
                    "Enter asks to confirm it (compare the fingerprint with the node's own)",
                    theme.style(Role::Muted),
                )),
            ];
        }
        let keys = "Enter findings  P re-run node  A acknowledge a warning  p run all";
        if !c.detail {
            return vec![Line::from(Span::styled(
                format!("{} / {}: {keys}", node.name, g.title()),
                theme.style(Role::Muted),
            ))];
        }
        let mut out = vec![Line::from(Span::styled(
            format!("{} / {} ({keys}):", node.name, g.title()),
            theme.style(Role::Title),
        ))];
        let cell = run.cell(c.node, g);
        let passed = cell.iter().filter(|r| r.verdict == Verdict::Pass).count();
        for r in cell.iter().filter(|r| r.verdict != Verdict::Pass) {
            let acked = if run.is_acked(c.node, r) {
                " (acknowledged)"
            } else {
                ""
            };
            out.push(Line::from(Span::styled(
                format!(
                    "{} {} - {}{acked}",
                    verdict_label(r.verdict),
                    r.id,
                    check_title(r.id)
                ),
                theme.style(role(verdict_tone(r.verdict))),
            )));
            out.push(Line::from(Span::styled(
                format!("  {}", r.evidence),
                theme.style(Role::Text),
            )));
            if matches!(r.verdict, Verdict::Fail | Verdict::Warn) {
                out.push(Line::from(Span::styled(
                    format!("  fix: {}", r.fix()),
                    theme.style(Role::Muted),
                )));
            }
        }
        if passed > 0 {
            out.push(Line::from(Span::styled(
                format!("{passed} check(s) passed"),
                theme.style(Role::Ok),
            )));
        }
        out
    }
}
