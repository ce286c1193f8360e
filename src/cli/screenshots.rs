//! `acp-cockpit screenshots --out DIR` (hidden): renders every pane and overlay with demo data
//! and a fixed clock to SVG files, for the README and for reviewing changes to the look.

use std::path::PathBuf;

use clap::Args as ClapArgs;

use super::GlobalArgs;

#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// Directory to write the SVG files into (created if missing).
    #[arg(long, default_value = "screenshots")]
    pub out: PathBuf,
}

pub async fn run(args: Args, _global: &GlobalArgs) -> anyhow::Result<i32> {
    let written = crate::tui::screenshots::write_all(&args.out)?;
    for path in &written {
        println!("{}", path.display());
    }
    Ok(0)
}
