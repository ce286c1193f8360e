//! Drawing the Create pane: section tabs, the rows with their findings, the findings summary,
//! the Review with the masked manifest and the submit state, and the footer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::fields::FieldId;
use super::issues::level_of;
use super::node_dialog::NodeDialog;
use super::nodes::node_summary;
use super::rows::{EDITING_CUE, Kind, Spec};
use super::{Section, WizardPane};
use crate::config::theme::{Role, Theme};
use crate::domain::cluster::MASK;
use crate::domain::rules;
use crate::tui::panes::RenderCtx;
use crate::tui::widgets::form_field::{self as field, Level, Row, Value};

/// Blank columns between the rows and the findings summary beside them.
const GUTTER: u16 = 2;

impl WizardPane {
    pub(super) fn render_pane(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let theme = ctx.theme;
        self.readonly = ctx.readonly;
        let title = if self.form.basic.name.is_empty() {
            " Create Cluster ".to_string()
        } else {
            format!(" Create Cluster: {} ", self.form.basic.name)
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(title, theme.style(Role::Title)));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height < 4 || inner.width < 20 {
            return;
        }
        let chunks = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(1),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .split(inner);
        self.render_tabs(frame, chunks[0], theme);
        let body = chunks[1];
        if self.section == Section::Review {
            self.render_review(frame, body, theme, ctx.readonly);
        } else if self.section == Section::Preflight {
            self.render_preflight(frame, body, theme, ctx.now);
        } else {
            let wide = body.width >= 140;
            let (rows_area, summary_area) = if wide {
                let p = Layout::default()
                    .direction(Direction::Horizontal)
                    .constraints([Constraint::Percentage(62), Constraint::Percentage(38)])
                    .split(body);
                // A gutter, so a row's finding never runs into the summary's text.
                let rows = Rect {
                    width: p[0].width.saturating_sub(GUTTER),
                    ..p[0]
                };
                (rows, p[1])
            } else {
                let sh = (body.height / 4).clamp(2, 6);
                let p = Layout::default()
                    .direction(Direction::Vertical)
                    .constraints([Constraint::Min(1), Constraint::Length(sh)])
                    .split(body);
                (p[0], p[1])
            };
            self.render_rows(frame, rows_area, theme);
            self.render_summary(frame, summary_area, theme);
        }
        let footer = self.footer(chunks[2].width, theme);
        frame.render_widget(Paragraph::new(footer), chunks[2]);
        if let Some(d) = &self.dialog {
            d.render(frame, area, theme);
        }
    }

    fn render_tabs(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut spans = Vec::new();
        let short = area.width < 110;
        for (i, s) in Section::ALL.iter().enumerate() {
            let errs = self.section_errors(*s);
            let title = if short { s.short_title() } else { s.title() };
            let label = if errs > 0 && *s != Section::Review {
                format!(" {} {title} ({errs}x) ", i + 1)
            } else {
                format!(" {} {title} ", i + 1)
            };
            let st = if *s == self.section {
                theme.style(Role::Selection)
            } else if errs > 0 && *s != Section::Review {
                theme.style(Role::Fail)
            } else {
                theme.style(Role::Muted)
            };
            spans.push(Span::styled(label, st));
            spans.push(Span::raw(" "));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    /// A heading (with the finding about its list) or a note.
    fn label_row(&self, spec: &Spec, row: usize, width: u16, theme: &Theme) -> Paragraph<'_> {
        if spec.kind == Kind::Note {
            let text = field::truncate(&spec.label, usize::from(width));
            return Paragraph::new(Span::styled(text, theme.style(Role::Muted)));
        }
        let mut spans = vec![Span::styled(spec.label.clone(), theme.style(Role::Title))];
        if let Some(issue) = self.issue_for(row) {
            spans.push(Span::styled(
                format!("  {} {}", issue.level.marker(), issue.message),
                theme.style(issue.level.role()),
            ));
        }
        Paragraph::new(Line::from(spans))
    }

    fn render_rows(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let rows = self.rows();
        let label_w = field::label_width(area);
        let h = area.height as usize;
        let top = if self.focus >= h {
            self.focus + 1 - h
        } else {
            0
        };
        for (i, spec) in rows.iter().enumerate().skip(top).take(h) {
            let y = area.y + (i - top) as u16;
            let r = Rect {
                x: area.x,
                y,
                width: area.width,
                height: 1,
            };
            if spec.kind.is_label() {
                frame.render_widget(self.label_row(spec, i, r.width, theme), r);
                continue;
            }
            let focused = i == self.focus && self.dialog.is_none();
            let editing = focused && self.editing.is_some();
            let text_value = match &self.editing {
                Some(ed) if editing => ed.buffer.clone(),
                _ => spec.id.text(&self.form),
            };
            let node_text;
            let choice: Vec<&str>;
            let value = match &spec.kind {
                Kind::Text => Value::Text {
                    value: &text_value,
                    placeholder: spec.placeholder,
                },
                Kind::Select(opts, sel) => Value::Select {
                    options: opts,
                    selected: *sel,
                },
                Kind::Choice(opts, sel) => {
                    choice = opts.iter().map(String::as_str).collect();
                    Value::Select {
                        options: &choice,
                        selected: *sel,
                    }
                }
                Kind::Toggle(on) => Value::Toggle(*on),
                Kind::Button => Value::Button,
                Kind::Node => {
                    node_text = match &spec.id {
                        FieldId::Node(n) => self
                            .form
                            .nodes()
                            .get(*n)
                            .map(node_summary)
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    Value::ReadOnly(&node_text)
                }
                Kind::Heading | Kind::Note => Value::ReadOnly(""),
            };
            let issue = self.issue_for(i).map(|i| (i.level, i.message.as_str()));
            // ACP shows Flannel's node capacity under the field; here it sits beside both the
            // CIDR and the count that decide it, with the rules' verdict (the more serious of
            // the two wins, so a full CIDR is never shown as a mere warning on the count).
            let capacity = match spec.id {
                FieldId::ClusterCidr | FieldId::NodeIpCount => {
                    rules::flannel_hint(&self.form).map(|(sev, msg)| (level_of(sev), msg))
                }
                _ => None,
            };
            let capacity = capacity.as_ref().map(|(l, m)| (*l, m.as_str()));
            let finding = match (issue, capacity) {
                (Some(a), Some(b)) if b.0 < a.0 => Some(b),
                (a, b) => a.or(b),
            };
            // While editing, the stored value's findings no longer describe the text on
            // screen: the row shows why the last Enter failed, or that it is being edited.
            let finding = match &self.editing {
                Some(ed) if editing => Some(match &ed.error {
                    Some(e) => (Level::Error, e.as_str()),
                    None => (Level::Info, EDITING_CUE),
                }),
                _ => finding,
            };
            let row = Row {
                label: &spec.label,
                value,
                required: spec.required,
                finding,
            };
            let (line, cur) = field::line(
                &row,
                area.width,
                label_w,
                focused,
                self.editing.as_ref().filter(|_| editing).map(|e| e.cursor),
                theme,
            );
            frame.render_widget(Paragraph::new(line), r);
            if let Some(c) = cur
                && c < area.width
            {
                frame.set_cursor_position((area.x + c, y));
            }
        }
    }

    fn render_summary(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(
                format!(
                    " Findings: {} error(s), {} warning(s) ",
                    self.errors(),
                    self.issues
                        .iter()
                        .filter(|i| i.level == Level::Warning)
                        .count()
                ),
                theme.style(Role::Title),
            ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut lines = Vec::new();
        if self.issues.is_empty() {
            lines.push(Line::from(Span::styled(
                "No findings: every creation rule passes.",
                theme.style(Role::Ok),
            )));
        }
        for i in self.issues.iter().take(inner.height as usize) {
            let mut spans = vec![
                Span::styled(
                    format!("{} ", i.level.marker()),
                    theme.style(i.level.role()),
                ),
                Span::styled(format!("{}: ", i.path), theme.style(Role::Muted)),
                Span::styled(i.message.clone(), theme.style(Role::Text)),
            ];
            if let Some(h) = &i.hint {
                spans.push(Span::styled(format!(" ({h})"), theme.style(Role::Muted)));
            }
            lines.push(Line::from(spans));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
    }

    fn render_review(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, readonly: bool) {
        let yaml = self.masked_yaml().unwrap_or_else(|e| format!("# {e}"));
        let wide = area.width >= 110;
        let parts = Layout::default()
            .direction(if wide {
                Direction::Horizontal
            } else {
                Direction::Vertical
            })
            .constraints([Constraint::Percentage(60), Constraint::Percentage(40)])
            .split(area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(
                " Cluster YAML (secrets masked) ",
                theme.style(Role::Title),
            ));
        let lines: Vec<Line> = yaml
            .lines()
            .map(|l| {
                let st = if l.contains(MASK) {
                    theme.style(Role::Warn)
                } else {
                    theme.style(Role::Text)
                };
                Line::from(Span::styled(l.to_string(), st))
            })
            .collect();
        // Scrolling stops at the last line: going past it only left an empty panel that
        // took as many key presses to come back from.
        let visible = parts[0].height.saturating_sub(2);
        self.review_max = u16::try_from(lines.len())
            .unwrap_or(u16::MAX)
            .saturating_sub(visible);
        self.review_scroll = self.review_scroll.min(self.review_max);
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .scroll((self.review_scroll, 0)),
            parts[0],
        );
        let right = parts[1];
        let errors = self.errors();
        let (role, state) = self.submit_state(errors, readonly);
        // Room for the whole state message, so a refusal's reason and fix are never cut; the
        // findings keep at least half of the column.
        let text_w = usize::from(right.width.saturating_sub(1).max(1));
        let state_lines = state.chars().count().div_ceil(text_w) as u16 + 1;
        let status_h = (2 + state_lines)
            .min(right.height / 2)
            .max(4.min(right.height));
        let status = Rect {
            height: status_h,
            ..right
        };
        let summary = Rect {
            y: right.y + status_h,
            height: right.height.saturating_sub(status_h),
            ..right
        };
        let create_style = if errors > 0 {
            theme.style(Role::Muted)
        } else {
            theme.style(Role::Key)
        };
        let status_lines = vec![
            Line::from(vec![
                Span::styled("[ Create ]", create_style),
                Span::raw("  "),
                Span::styled("[ Open in $EDITOR ]", theme.style(Role::Key)),
            ]),
            Line::from(Span::styled(state, theme.style(role))),
        ];
        frame.render_widget(
            Paragraph::new(status_lines).wrap(Wrap { trim: true }),
            Rect {
                x: status.x + 1,
                width: status.width.saturating_sub(1),
                ..status
            },
        );
        self.render_summary(frame, summary, theme);
    }

    /// The bottom line: the dialog's keys, the editing state, a notice, or the form's keys.
    fn footer(&self, width: u16, theme: &Theme) -> Line<'static> {
        let editing_label = self
            .editing
            .as_ref()
            .and_then(|_| self.focused())
            .map(|s| s.label.trim().to_string());
        match (&self.editing, editing_label, &self.notice) {
            // The dialog has keys of its own; the form's would mislead while it is open.
            _ if self.dialog.is_some() => {
                Line::from(Span::styled(NodeDialog::KEYS, theme.style(Role::Muted)))
            }
            // Keys go into the field while editing, so the footer says so and how to leave.
            (Some(ed), Some(label), _) => {
                let mut spans = vec![Span::styled(
                    format!(" EDITING {label} "),
                    theme.style(Role::Selection),
                )];
                if let Some(e) = &ed.error {
                    spans.push(Span::styled(format!(" x {e}."), theme.style(Role::Fail)));
                    spans.push(Span::styled(
                        " Fix it and press Enter, or Esc to keep the stored value",
                        theme.style(Role::Muted),
                    ));
                } else {
                    spans.push(Span::styled(
                        " keys go into the field  Enter save  Esc cancel  Up/Down save and move",
                        theme.style(Role::Muted),
                    ));
                }
                Line::from(spans)
            }
            (_, _, Some((role, msg))) => Line::from(Span::styled(msg.clone(), theme.style(*role))),
            (_, _, None) => {
                let errs = self.errors();
                let create = if errs > 0 {
                    Span::styled(
                        format!("Create disabled ({errs} error(s))"),
                        theme.style(Role::Fail),
                    )
                } else if self.preflight_block().is_some() {
                    Span::styled("Create disabled (preflight)", theme.style(Role::Fail))
                } else {
                    Span::styled("Create enabled", theme.style(Role::Ok))
                };
                // Most used first; the tail is dropped to fit, never cut mid-word (help lists
                // every key).
                let mut keys = if self.section == Section::Preflight {
                    vec![
                        "p run all",
                        "Enter findings",
                        "P re-run node",
                        "A acknowledge",
                        "arrows move",
                        "S submit",
                        "]/[ section",
                    ]
                } else {
                    Vec::new()
                };
                keys.extend([
                    "Enter edit",
                    "Space toggle",
                    "r review",
                    "S submit",
                    "]/[ section",
                    "a add node",
                    "Del remove",
                    "E YAML in $EDITOR",
                    "R restore draft",
                ]);
                if self.section == Section::Preflight {
                    keys.truncate(7);
                }
                let width = usize::from(width);
                let used = |keys: &[&str]| {
                    create.width() + keys.iter().map(|k| k.len() + 2).sum::<usize>()
                };
                while keys.len() > 1 && used(&keys) > width {
                    keys.pop();
                }
                let mut text = String::new();
                for k in keys {
                    text.push_str("  ");
                    text.push_str(k);
                }
                Line::from(vec![create, Span::styled(text, theme.style(Role::Muted))])
            }
        }
    }
}
