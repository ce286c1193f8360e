//! The clusters table: which columns fit and how wide, and one line per cluster.

use super::*;

pub(super) fn state_badge(state: Option<&ConnState>) -> (Role, &'static str) {
    match state {
        None | Some(ConnState::Connecting) => (Role::Info, "Connecting..."),
        Some(ConnState::Ready) => (Role::Ok, "Ready"),
        Some(ConnState::AuthExpired { .. }) => (Role::Fail, "AuthExpired - press r to re-login"),
        Some(ConnState::Unreachable { .. }) => (Role::Fail, "Unreachable"),
        Some(ConnState::Forbidden { .. }) => (Role::Warn, "Forbidden"),
    }
}

/// What the rows on screen need: their longest name, display name and progress text.
#[derive(Debug, Default)]
pub(super) struct Needs {
    name: usize,
    display: usize,
    progress: usize,
}

impl Needs {
    fn of<'a>(rows: impl Iterator<Item = &'a ClusterRow>) -> Needs {
        let mut n = Needs::default();
        for r in rows {
            n.name = n.name.max(r.name.width());
            n.display = n.display.max(r.display_name.width());
            n.progress = n.progress.max(progress_text(r).width());
        }
        n
    }
}

/// Columns that fit in `width`, with their widths, given by importance: NAME, PHASE, PROGRESS
/// (room for its longest text, a failing step included) and AGE first; then NODES, VERSION,
/// DISPLAY NAME and TYPE as long as they fit. PROGRESS takes whatever is left over.
pub(super) fn layout_columns(width: usize, need: &Needs, sorted: Column) -> Vec<(Column, usize)> {
    let name = need.name.clamp(8, 24);
    let progress = need.progress.clamp(12, 56);
    // One space after each column.
    let mut used = (name + 1) + (12 + 1) + (progress + 1) + (5 + 1);
    let mut fits = |w: usize| {
        if used + w < width {
            used += w + 1;
            true
        } else {
            false
        }
    };
    // The column the table is sorted by stays in sight, its ^/v mark with it.
    let display_w = need.display.clamp(7, 20);
    let mut shown = |c: Column, w: usize, wide_enough: bool| -> Option<bool> {
        (c == sorted).then(|| wide_enough && fits(w))
    };
    let sorted_fit = [
        shown(Column::Nodes, 7, true),
        shown(Column::Version, 10, true),
        shown(Column::Display, display_w, width >= 110 && need.display > 0),
        shown(Column::Type, 10, width >= 140),
    ];
    let mut fits_unless_sorted = |c: Column, w: usize, ok: bool, i: usize| match sorted_fit[i] {
        Some(done) => done,
        None => ok && (c != sorted) && fits(w),
    };
    let nodes = fits_unless_sorted(Column::Nodes, 7, true, 0);
    let version = fits_unless_sorted(Column::Version, 10, true, 1);
    // The two least useful columns also wait for a wide terminal.
    let display = fits_unless_sorted(
        Column::Display,
        display_w,
        width >= 110 && need.display > 0,
        2,
    );
    let type_ = fits_unless_sorted(Column::Type, 10, width >= 140, 3);
    let mut cols = vec![(Column::Name, name)];
    if display {
        cols.push((Column::Display, display_w));
    }
    cols.push((Column::Phase, 12));
    if version {
        cols.push((Column::Version, 10));
    }
    if type_ {
        cols.push((Column::Type, 10));
    }
    if nodes {
        cols.push((Column::Nodes, 7));
    }
    let fixed: usize = cols.iter().map(|(_, w)| w + 1).sum::<usize>() + 6;
    cols.push((Column::Progress, width.saturating_sub(fixed + 1).max(8)));
    cols.push((Column::Age, 5));
    cols
}

pub(super) fn row_line(
    row: &ClusterRow,
    cols: &[(Column, usize)],
    theme: &Theme,
    now: DateTime<Utc>,
    selected: bool,
) -> Line<'static> {
    let sel = theme.style(Role::Selection);
    let patch = |s: Style| if selected { s.patch(sel) } else { s };
    let mut spans = Vec::with_capacity(cols.len() * 2);
    for (c, w) in cols {
        let (text, role) = match c {
            Column::Name => (row.name.clone(), Role::Text),
            Column::Display => (row.display_name.clone(), Role::Text),
            Column::Phase => (row.phase.clone(), phase_role(&row.phase)),
            Column::Version => (row.version.clone(), Role::Text),
            Column::Type => (row.type_.clone(), Role::Muted),
            Column::Nodes => (nodes_label(row.control_plane, row.workers), Role::Text),
            Column::Progress => {
                let p = &row.progress;
                // The color of what progress_text shows: the cluster's own step comes first.
                let role = if row.failed {
                    Role::Fail
                } else if row.current_step.is_some() || row.adding_nodes > 0 {
                    Role::Info
                } else if p.done == p.total && row.phase == "Running" {
                    Role::Ok
                } else {
                    Role::Muted
                };
                (progress_text(row), role)
            }
            Column::Age => (
                row.age_secs(now)
                    .map(short_age)
                    .unwrap_or_else(|| "-".into()),
                Role::Muted,
            ),
        };
        spans.push(Span::styled(fit(&text, *w), patch(theme.style(role))));
        spans.push(Span::styled(" ", patch(Style::default())));
    }
    Line::from(spans)
}

impl ClustersPane {
    pub(super) fn render_table(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let theme = ctx.theme;
        if area.height < 2 {
            return;
        }
        let width = area.width as usize;
        let body_h = area.height as usize - 1;
        self.page = body_h.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + body_h {
            self.offset = self.selected + 1 - body_h;
        }
        self.offset = self.offset.min(self.view.len().saturating_sub(body_h));
        let end = (self.offset + body_h).min(self.view.len());
        // Columns are sized by what the rows on screen need, so a long failing step is cut
        // last, after padding and the less important columns.
        let need = match self.platform() {
            Some(p) => Needs::of(self.view[self.offset..end].iter().map(|&i| &p.rows[i])),
            None => Needs::default(),
        };
        let cols = layout_columns(width, &need, self.column);
        self.shown_columns = Some(cols.iter().map(|(c, _)| *c).collect());
        let mut header = Vec::new();
        for (c, w) in &cols {
            let mut t = c.title().to_string();
            if *c == self.column {
                t.push(if self.reverse { 'v' } else { '^' });
            }
            header.push(Span::styled(fit(&t, *w), theme.style(Role::Title)));
            header.push(Span::raw(" "));
        }
        let mut lines = vec![Line::from(header)];
        if self.view.is_empty() {
            let (role, msg) = self.empty_message();
            frame.render_widget(Paragraph::new(lines), area);
            let rest = Rect {
                y: area.y + 1,
                height: area.height - 1,
                ..area
            };
            frame.render_widget(
                Paragraph::new(Span::styled(msg, theme.style(role))).wrap(Wrap { trim: true }),
                rest,
            );
            return;
        }
        let Some(p) = self.platform() else {
            return;
        };
        for (pos, &i) in self.view[self.offset..end].iter().enumerate() {
            let row = &p.rows[i];
            let selected = self.offset + pos == self.selected;
            lines.push(row_line(row, &cols, theme, ctx.now, selected));
        }
        frame.render_widget(Paragraph::new(lines), area);
    }
}
