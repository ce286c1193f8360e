//! `acp-cockpit screenshots --out DIR` (hidden): renders every pane and overlay with demo data
//! and a fixed clock to SVG files, for the README and for reviewing changes to the look. The
//! TUI renders them (`tui::screenshots::run`); this is only the flag.

use std::path::PathBuf;

use clap::Args as ClapArgs;

#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// Directory to write the SVG files into (created if missing).
    #[arg(long, default_value = "screenshots")]
    pub out: PathBuf,
}
