//! The full-screen terminal UI. It never awaits I/O: it sends engine commands and draws state.

pub mod keymap;
pub mod panes;
pub mod theme;
