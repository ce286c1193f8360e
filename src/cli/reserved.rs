//! Subcommands whose panes are not built yet: they say so plainly instead of pretending.

use clap::Args as ClapArgs;

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Arguments are accepted and reported, nothing is run.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub rest: Vec<String>,
}

pub fn run(name: &str) -> anyhow::Result<i32> {
    eprintln!(
        "acp-cockpit {name}: this subcommand is reserved and not built yet in this version.\n\
         hint: the TUI's {name} pane says what it will show; run `acp-cockpit --help` for what works today."
    );
    Ok(2)
}
