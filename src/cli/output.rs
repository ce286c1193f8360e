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
