//! Output formats shared by the subcommands.

use clap::ValueEnum;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
    Yaml,
}

/// Prints a value as pretty JSON or YAML (a table request gets JSON: tables are printed by
/// each subcommand).
pub fn print_structured<T: Serialize>(value: &T, format: Format) -> anyhow::Result<()> {
    out_structured(value, format, false)
}

/// Writes one line to stdout. A closed pipe (`| head`) ends the process quietly, with the
/// status a shell gives a process killed by SIGPIPE.
pub fn out(line: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut o = std::io::stdout().lock();
    match writeln!(o, "{line}").and_then(|_| o.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(141),
        r => Ok(r?),
    }
}

/// Prints a value as JSON (pretty, or one line with `compact`) or YAML.
pub fn out_structured<T: serde::Serialize>(
    v: &T,
    format: Format,
    compact: bool,
) -> anyhow::Result<()> {
    match format {
        Format::Yaml => out(serde_saphyr::to_string(v)?.trim_end()),
        _ if compact => out(&serde_json::to_string(v)?),
        _ => out(&serde_json::to_string_pretty(v)?),
    }
}

/// Whether tables get colors: `--color always` (or a depth) forces them, `never` and
/// `NO_COLOR` turn them off, and `auto` colors a terminal only.
pub fn color_enabled(choice: crate::config::ColorChoice) -> bool {
    use crate::config::ColorChoice;
    match choice {
        ColorChoice::Never => false,
        ColorChoice::Always | ColorChoice::Truecolor | ColorChoice::C256 | ColorChoice::C16 => true,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb")
                && std::io::IsTerminal::is_terminal(&std::io::stdout())
        }
    }
}
