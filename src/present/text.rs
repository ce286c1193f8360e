//! Widths, ages and counts, the way every table of the cockpit writes them.

use unicode_width::UnicodeWidthStr;

/// `95s`, `12m`, `5h`, `3d`, like kubectl's AGE column.
pub fn short_age(secs: i64) -> String {
    let s = secs.max(0);
    if s < 120 {
        format!("{s}s")
    } else if s < 2 * 3600 {
        format!("{}m", s / 60)
    } else if s < 2 * 86_400 {
        format!("{}h", s / 3600)
    } else {
        format!("{}d", s / 86_400)
    }
}

/// `3cp+2w`: control-plane and worker counts, which a bare `3/2` would let read as ready/total.
pub fn nodes_label(control_plane: usize, workers: usize) -> String {
    format!("{control_plane}cp+{workers}w")
}

/// Pads or cuts `s` to exactly `w` columns.
pub fn fit(s: &str, w: usize) -> String {
    let width = s.width();
    if width <= w {
        let mut out = String::with_capacity(s.len() + w - width);
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', w - width));
        return out;
    }
    if w == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in s.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + cw > w - 1 {
            break;
        }
        out.push(ch);
        used += cw;
    }
    out.push('~');
    used += 1;
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(used)));
    out
}
