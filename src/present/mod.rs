//! Text both front ends show: ages, widths, progress, step marks, verdict wording.
//!
//! The TUI and the CLI import this module and never each other, so a cluster's progress or an
//! etcd node's verdict reads the same in a table on screen and in `acp-cockpit … -o table`.
//! JSON output does not use it: JSON carries data (enums, numbers, timestamps), and wording
//! stays here. Colors are given as a [`Tone`], a meaning each front end renders its own way.

pub mod clusters;
pub mod etcd;
pub mod preflight;
pub mod registry;
pub mod text;
pub mod timeline;

/// What a piece of text means, for the front end to color: the TUI maps it to a theme role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tone {
    Text,
    Ok,
    Warn,
    Fail,
    Info,
    Muted,
    Accent,
}

/// `text` in the tone's terminal color (the 16 basic colors every terminal has), for CLI
/// tables when color is on; unchanged when it is off.
pub fn ansi(text: &str, tone: Tone, on: bool) -> String {
    let code = match tone {
        Tone::Ok => "32",
        Tone::Warn => "33",
        Tone::Fail => "31",
        Tone::Info => "36",
        Tone::Muted => "2",
        Tone::Accent => "35",
        Tone::Text => return text.to_string(),
    };
    if on && !text.is_empty() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}
