//! Files the front ends need read or written (a manifest, a private key, the file handed to
//! `$EDITOR`), off the UI's task: a slow or hung file system stalls this capability, never the
//! screen. Text that may hold a secret is kept in zeroized memory and never printed by `Debug`.

use std::fmt;
use std::path::{Path, PathBuf};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use super::{Event, Failure, FailureKind, RequestId};

/// The path the user typed, with `~/` expanded and made absolute against the working directory,
/// so messages say exactly which file was read or written.
pub fn expand_home(p: &str) -> PathBuf {
    let p = p.trim();
    let path = match p.strip_prefix("~/") {
        Some(rest) => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(rest),
            None => PathBuf::from(p),
        },
        None => PathBuf::from(p),
    };
    if path.is_absolute() {
        return path;
    }
    std::env::current_dir()
        .map(|d| d.join(&path))
        .unwrap_or(path)
}

/// File contents that may be secret (a private key): zeroized on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct FileText(pub Zeroizing<String>);

impl fmt::Debug for FileText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileText({} bytes)", self.0.len())
    }
}

#[derive(Debug)]
pub enum FileCommand {
    /// Reads a UTF-8 text file of at most `limit` bytes; `~/` is expanded.
    ReadText { path: String, limit: u64 },
    /// Creates a file only this user can read, failing if it exists.
    WritePrivate { path: PathBuf, contents: FileText },
    /// Removes a file this front end created (the `$EDITOR` file); a missing file is fine.
    Remove { path: PathBuf },
}

#[derive(Debug, Clone)]
pub enum FileEvent {
    Read {
        path: PathBuf,
        result: Result<FileText, Failure>,
    },
    Written {
        path: PathBuf,
        result: Result<(), Failure>,
    },
    Removed {
        path: PathBuf,
    },
}

fn io_failure(what: &str, path: &Path, e: &std::io::Error, hint: &str) -> Failure {
    Failure::new(
        FailureKind::Io,
        format!("cannot {what} {}: {e}", path.display()),
        Some(hint),
    )
}

/// Reads `path` as text, refusing files over `limit` bytes and binary files.
pub fn read_text(path: &Path, limit: u64) -> Result<FileText, Failure> {
    let meta =
        std::fs::metadata(path).map_err(|e| io_failure("read", path, &e, "check the path"))?;
    if meta.len() > limit {
        return Err(Failure::new(
            FailureKind::Invalid,
            format!(
                "{} is {} bytes, more than the {limit} bytes expected here",
                path.display(),
                meta.len()
            ),
            Some("choose the file itself, not an archive or a directory of files"),
        ));
    }
    let bytes = Zeroizing::new(
        std::fs::read(path).map_err(|e| io_failure("read", path, &e, "check its permissions"))?,
    );
    match std::str::from_utf8(&bytes) {
        Ok(text) if !text.contains('\0') => Ok(FileText(Zeroizing::new(text.to_string()))),
        _ => Err(Failure::new(
            FailureKind::Invalid,
            format!("{} is not a text file", path.display()),
            Some("choose a YAML, JSON or PEM text file"),
        )),
    }
}

/// Creates `path` readable by this user only, failing if it exists, and flushes it to disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Carries out one command synchronously: what the capability runs on a blocking thread, and
/// what tests call to answer a pane without an engine.
pub fn run_command(cmd: FileCommand) -> FileEvent {
    match cmd {
        FileCommand::ReadText { path, limit } => {
            let path = expand_home(&path);
            let result = read_text(&path, limit);
            FileEvent::Read { path, result }
        }
        FileCommand::WritePrivate { path, contents } => {
            let result = write_private(&path, contents.0.as_bytes()).map_err(|e| {
                io_failure(
                    "write",
                    &path,
                    &e,
                    "set TMPDIR to a writable directory, or free some space",
                )
            });
            FileEvent::Written { path, result }
        }
        FileCommand::Remove { path } => {
            let _ = std::fs::remove_file(&path);
            FileEvent::Removed { path }
        }
    }
}

/// The files capability's task: one command at a time on a blocking thread.
pub async fn run(
    mut commands: mpsc::Receiver<(RequestId, FileCommand)>,
    events: mpsc::Sender<Event>,
    stop: CancellationToken,
) {
    loop {
        let (id, cmd) = tokio::select! {
            _ = stop.cancelled() => break,
            cmd = commands.recv() => match cmd {
                Some(c) => c,
                None => break,
            },
        };
        let event = match tokio::task::spawn_blocking(move || run_command(cmd)).await {
            Ok(ev) => ev,
            Err(e) => {
                tracing::warn!("the files task failed: {e}");
                continue;
            }
        };
        let _ = events.send(Event::Files { id, event }).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_and_refuses_binary_and_large_files() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("a.yaml");
        std::fs::write(&ok, "a: 1\n").unwrap();
        assert_eq!(read_text(&ok, 100).unwrap().0.as_str(), "a: 1\n");
        let big = read_text(&ok, 2).unwrap_err();
        assert_eq!(big.kind, FailureKind::Invalid);
        let bin = dir.path().join("b.bin");
        std::fs::write(&bin, [0u8, 159, 146, 150]).unwrap();
        assert!(
            read_text(&bin, 100)
                .unwrap_err()
                .message
                .contains("not a text file")
        );
        let missing = read_text(&dir.path().join("nope"), 100).unwrap_err();
        assert_eq!(missing.kind, FailureKind::Io);
        assert!(missing.hint.is_some());
    }

    #[test]
    fn private_files_are_0600_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("edit.yaml");
        write_private(&p, b"x").unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(write_private(&p, b"y").is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"x");
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let t = FileText(Zeroizing::new("-----BEGIN PRIVATE KEY-----".into()));
        assert!(!format!("{t:?}").contains("PRIVATE"));
    }

    #[test]
    fn home_is_expanded_and_paths_made_absolute() {
        assert!(expand_home("cp-1.draft.json").is_absolute());
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(expand_home("~/x"), PathBuf::from(home).join("x"));
        }
    }
}
