//! The table's columns and how rows sort by each.

use std::cmp::Ordering;

use super::*;

/// Table columns, in display order; also the sort keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Column {
    Name,
    Display,
    Phase,
    Version,
    Type,
    Nodes,
    Progress,
    Age,
}

impl Column {
    pub const ALL: [Column; 8] = [
        Column::Name,
        Column::Display,
        Column::Phase,
        Column::Version,
        Column::Type,
        Column::Nodes,
        Column::Progress,
        Column::Age,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Column::Name => "NAME",
            Column::Display => "DISPLAY NAME",
            Column::Phase => "PHASE",
            Column::Version => "VERSION",
            Column::Type => "TYPE",
            Column::Nodes => "NODES",
            Column::Progress => "PROGRESS",
            Column::Age => "AGE",
        }
    }

    pub fn next(self) -> Column {
        let i = Column::ALL.iter().position(|c| *c == self).unwrap_or(0);
        Column::ALL[(i + 1) % Column::ALL.len()]
    }
}

/// Compares dotted versions numerically (`1.9` < `1.28.13`), text parts as text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let mut ia = a.split(['.', '-', '+']);
    let mut ib = b.split(['.', '-', '+']);
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    _ => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

/// Orders two rows by a column; ties go by name so the order is stable.
pub fn compare_rows(a: &ClusterRow, b: &ClusterRow, col: Column) -> Ordering {
    let o = match col {
        Column::Name => Ordering::Equal,
        // People read "dev" and "Dev" as neighbours.
        Column::Display => a
            .display_name
            .to_lowercase()
            .cmp(&b.display_name.to_lowercase())
            .then_with(|| a.display_name.cmp(&b.display_name)),
        Column::Phase => a.phase.cmp(&b.phase),
        Column::Version => compare_versions(&a.version, &b.version),
        Column::Type => a.type_.cmp(&b.type_),
        Column::Nodes => (a.control_plane + a.workers).cmp(&(b.control_plane + b.workers)),
        Column::Progress => a
            .progress
            .ratio()
            .total_cmp(&b.progress.ratio())
            .then(a.progress.done.cmp(&b.progress.done)),
        // By the age the column shows: youngest first; unknown creation times last.
        Column::Age => match (a.created, b.created) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
    };
    o.then_with(|| a.name.cmp(&b.name))
}
