//! Text both front ends show: ages, widths, progress, step marks, verdict wording.
//!
//! The TUI and the CLI import this module and never each other, so a cluster's progress or an
//! etcd node's verdict reads the same in a table on screen and in `acp-cockpit … -o table`.
//! JSON output does not use it: JSON carries data (enums, numbers, timestamps), and wording
//! stays here. Colors are given as a [`Tone`], a meaning each front end renders its own way.

pub mod clusters;
pub mod etcd;
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
