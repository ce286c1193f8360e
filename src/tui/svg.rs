//! Renders a ratatui [`Buffer`] to a standalone SVG: monospace text with each cell's foreground,
//! background, bold, italic, dim, underline and reverse video. Used for the screenshots in the
//! repository, which are generated, never hand-edited.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

use crate::config::theme::indexed_rgb;

const CELL_W: f32 = 8.4;
const CELL_H: f32 = 18.0;
const FONT_SIZE: f32 = 14.0;
const PAD: f32 = 12.0;

/// The terminal's own colors, used where a cell says `Reset`.
#[derive(Debug, Clone, Copy)]
pub struct Palette {
    pub fg: (u8, u8, u8),
    pub bg: (u8, u8, u8),
}

impl Palette {
    pub const DARK: Palette = Palette {
        fg: (0xc0, 0xca, 0xf5),
        bg: (0x1a, 0x1b, 0x26),
    };
    pub const LIGHT: Palette = Palette {
        fg: (0x1f, 0x23, 0x28),
        bg: (0xff, 0xff, 0xff),
    };
}

fn rgb(c: Color, default: (u8, u8, u8)) -> (u8, u8, u8) {
    match c {
        Color::Reset => default,
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) => indexed_rgb(i),
        Color::Black => indexed_rgb(0),
        Color::Red => indexed_rgb(1),
        Color::Green => indexed_rgb(2),
        Color::Yellow => indexed_rgb(3),
        Color::Blue => indexed_rgb(4),
        Color::Magenta => indexed_rgb(5),
        Color::Cyan => indexed_rgb(6),
        Color::Gray => indexed_rgb(7),
        Color::DarkGray => indexed_rgb(8),
        Color::LightRed => indexed_rgb(9),
        Color::LightGreen => indexed_rgb(10),
        Color::LightYellow => indexed_rgb(11),
        Color::LightBlue => indexed_rgb(12),
        Color::LightMagenta => indexed_rgb(13),
        Color::LightCyan => indexed_rgb(14),
        Color::White => indexed_rgb(15),
    }
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if (c as u32) < 0x20 => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[derive(PartialEq, Clone, Copy)]
struct Look {
    fg: (u8, u8, u8),
    bg: (u8, u8, u8),
    bold: bool,
    italic: bool,
    dim: bool,
    underline: bool,
}

fn look(cell: &ratatui::buffer::Cell, p: Palette) -> Look {
    let m = cell.modifier;
    let mut fg = rgb(cell.fg, p.fg);
    let mut bg = rgb(cell.bg, p.bg);
    if m.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    Look {
        fg,
        bg,
        bold: m.contains(Modifier::BOLD),
        italic: m.contains(Modifier::ITALIC),
        dim: m.contains(Modifier::DIM),
        underline: m.contains(Modifier::UNDERLINED),
    }
}

/// The SVG document for a buffer; `title` becomes the document's accessible title.
pub fn buffer_to_svg(buf: &Buffer, palette: Palette, title: &str) -> String {
    let area = buf.area;
    let w = area.width as f32 * CELL_W + 2.0 * PAD;
    let h = area.height as f32 * CELL_H + 2.0 * PAD;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img">"#
    );
    let _ = writeln!(s, "<title>{}</title>", escape(title));
    let _ = writeln!(
        s,
        r#"<style>text{{font-family:"DejaVu Sans Mono","Menlo","Consolas",monospace;font-size:{FONT_SIZE}px;white-space:pre}}</style>"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" rx="6" fill="{}"/>"#,
        hex(palette.bg)
    );
    for y in 0..area.height {
        let row: Vec<(String, Look)> = (0..area.width)
            .map(|x| {
                let cell = &buf[(area.x + x, area.y + y)];
                (cell.symbol().to_string(), look(cell, palette))
            })
            .collect();
        let top = PAD + y as f32 * CELL_H;
        // Backgrounds: one rect per run of equal color, skipping the page color.
        let mut x = 0usize;
        while x < row.len() {
            let bg = row[x].1.bg;
            let mut end = x + 1;
            while end < row.len() && row[end].1.bg == bg {
                end += 1;
            }
            if bg != palette.bg {
                let _ = writeln!(
                    s,
                    r#"<rect x="{:.1}" y="{top:.1}" width="{:.1}" height="{CELL_H}" fill="{}"/>"#,
                    PAD + x as f32 * CELL_W,
                    (end - x) as f32 * CELL_W,
                    hex(bg)
                );
            }
            x = end;
        }
        // Text: one element per run of equal look, placed at its cell so fonts with a
        // different advance cannot drift.
        let baseline = top + CELL_H * 0.75;
        let mut x = 0usize;
        while x < row.len() {
            let lk = row[x].1;
            let mut end = x + 1;
            while end < row.len() && row[end].1 == lk {
                end += 1;
            }
            let text: String = row[x..end].iter().map(|(sym, _)| sym.as_str()).collect();
            if !text.trim().is_empty() {
                let mut attrs = format!(r#" fill="{}""#, hex(lk.fg));
                if lk.bold {
                    attrs.push_str(r#" font-weight="bold""#);
                }
                if lk.italic {
                    attrs.push_str(r#" font-style="italic""#);
                }
                if lk.dim {
                    attrs.push_str(r#" opacity="0.6""#);
                }
                if lk.underline {
                    attrs.push_str(r#" text-decoration="underline""#);
                }
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{baseline:.1}" textLength="{:.1}" lengthAdjust="spacingAndGlyphs"{attrs}>{}</text>"#,
                    PAD + x as f32 * CELL_W,
                    (end - x) as f32 * CELL_W,
                    escape(&text)
                );
            }
            x = end;
        }
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    #[test]
    fn renders_colors_bold_and_escapes_text() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 2));
        buf.set_string(
            0,
            0,
            "a<b",
            Style::default()
                .fg(Color::Rgb(255, 0, 0))
                .add_modifier(Modifier::BOLD),
        );
        buf.set_string(
            0,
            1,
            "ok",
            Style::default()
                .bg(Color::Indexed(22))
                .add_modifier(Modifier::REVERSED),
        );
        let svg = buffer_to_svg(&buf, Palette::DARK, "t & u");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title>t &amp; u</title>"));
        assert!(
            svg.contains(r##"fill="#ff0000" font-weight="bold">a&lt;b</text>"##),
            "{svg}"
        );
        // Reversed: the text takes the cell's background color, the rect the default fg.
        assert!(svg.contains(r##"fill="#005f00">ok</text>"##), "{svg}");
        assert!(svg.contains(r##"fill="#c0caf5"/>"##), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
