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
         hint: {}; run `acp-cockpit --help` for what works today.",
        what_exists(name)
    );
    Ok(2)
}

/// Where the user can look today instead, so the hint never points at something that is not there.
fn what_exists(name: &str) -> &'static str {
    match name {
        "preflight" => {
            "until SSH preflight exists, `acp-cockpit validate -f cluster.yaml` checks every \
             creation rule that needs no node access"
        }
        _ => "nothing else covers it yet",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reserved_name_gets_a_hint_that_exists() {
        assert!(what_exists("preflight").contains("validate -f"));
        assert_eq!(run("preflight").ok(), Some(2));
    }
}
