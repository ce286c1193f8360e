//! Logging to a file in the state directory, never to the terminal: a line on stderr would tear
//! the TUI apart, and over SSH it would be lost anyway.
//!
//! The file is bounded by size: past [`MAX_FILE_BYTES`] it is rotated to `.1`, `.2`, … and at
//! most [`KEEP_FILES`] old files are kept, so a platform that fails for hours cannot fill the
//! disk. Repeated identical warnings are rate-limited where they arise
//! (`engine::repeats`). Nothing
//! logged may contain a secret: log names, URLs without credentials, and error kinds, never
//! tokens or key material.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use file_rotate::compression::Compression;
use file_rotate::suffix::AppendCount;
use file_rotate::{ContentLimit, FileRotate};
use tracing_subscriber::EnvFilter;

/// Overrides the level of config.toml, e.g. `ACP_COCKPIT_LOG=acp_cockpit=debug`.
pub const LOG_ENV: &str = "ACP_COCKPIT_LOG";
pub const FILE_PREFIX: &str = "acp-cockpit";
/// The log file's size before it is rotated.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// Rotated files kept besides the current one.
pub const KEEP_FILES: usize = 3;

/// The file new lines go to.
pub fn current_file(dir: &Path) -> PathBuf {
    dir.join(format!("{FILE_PREFIX}.log"))
}

/// A size-bounded, rotating log file.
pub fn rotating_file(dir: &Path, max_bytes: usize) -> FileRotate<AppendCount> {
    FileRotate::new(
        current_file(dir),
        AppendCount::new(KEEP_FILES),
        ContentLimit::BytesSurpassed(max_bytes),
        Compression::None,
        #[cfg(unix)]
        Some(private_file()),
    )
}

/// Log files are readable by this user only: they name platforms and clusters.
#[cfg(unix)]
fn private_file() -> std::fs::OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.read(true).create(true).append(true).mode(0o600);
    o
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
    // Opening the file is left to the rotating writer; check the directory takes files first,
    // so a read-only state directory is reported instead of every line being lost silently.
    let probe = dir.join(format!(".{FILE_PREFIX}.probe"));
    std::fs::write(&probe, b"")
        .map_err(|e| anyhow::anyhow!("cannot open a log file in {} ({e})", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    let filter = EnvFilter::try_from_env(LOG_ENV)
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(Mutex::new(rotating_file(dir, MAX_FILE_BYTES)))
        .with_ansi(false)
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot install the logger ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_file_is_rotated_by_size_and_old_files_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let mut f = rotating_file(dir.path(), 1000);
        let line = [b'x'; 99];
        for _ in 0..200 {
            f.write_all(&line).unwrap();
            f.write_all(b"\n").unwrap();
        }
        f.flush().unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(files.len(), KEEP_FILES + 1, "{files:?}");
        for e in files {
            let len = e.unwrap().metadata().unwrap().len();
            assert!(len <= 1100, "a file grew to {len} bytes");
        }
    }
}
