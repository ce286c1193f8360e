//! Logging to a file in the state directory, never to the terminal: a line on stderr would tear
//! the TUI apart, and over SSH it would be lost anyway.
//!
//! The file rotates daily and keeps a week, so logs stay bounded. Nothing logged may contain a
//! secret: log names, URLs without credentials, and error kinds, never tokens or key material.

use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;

/// Overrides the level of config.toml, e.g. `ACP_COCKPIT_LOG=acp_cockpit=debug`.
pub const LOG_ENV: &str = "ACP_COCKPIT_LOG";
pub const FILE_PREFIX: &str = "acp-cockpit";

/// The file today's lines go to.
pub fn current_file(dir: &Path) -> PathBuf {
    dir.join(format!(
        "{FILE_PREFIX}.{}.log",
        chrono::Local::now().format("%Y-%m-%d")
    ))
}

/// Installs the global subscriber. Failing to log is not a reason to refuse to run: the error
/// is returned for the caller to show, and the program goes on without a log.
pub fn init(dir: &Path, level: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the log directory {} ({e}); set ACP_COCKPIT_STATE_DIR to a writable directory",
            dir.display()
        )
    })?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(7)
        .build(dir)
        .map_err(|e| anyhow::anyhow!("cannot open a log file in {} ({e})", dir.display()))?;
    let filter = EnvFilter::try_from_env(LOG_ENV)
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(appender)
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the logger ({e})"))
}
