//! The pane's file work, done by the engine's files capability so the screen never waits on
//! the file system: each command's id is remembered with what its answer is for, and an answer
//! nobody waits for (a cancelled dialog, a replaced request) is dropped.

use std::path::PathBuf;

use super::node_dialog::NodeEntry;
use super::{Effect, WizardPane};
use crate::config::theme::Role;
use crate::domain::form;
use crate::engine::files::{FileCommand, FileEvent, FileText};
use crate::engine::{Command, Failure, RequestId};
use crate::tui::panes::SuspendJob;

/// What a file answer is for.
pub(super) enum FileWait {
    /// A manifest named by `:create file.yaml`.
    Manifest,
    /// The private key of the node the dialog is adding (or updating, at `index`).
    Key {
        entry: Box<NodeEntry>,
        index: Option<usize>,
    },
    /// The masked manifest written for `$EDITOR`; the job runs once it is on disk.
    EditorWritten(SuspendJob),
    /// The edited manifest read back; `ok` is the editor's exit status.
    EditorRead { ok: bool },
}

/// At most this many answers are awaited; older ones are forgotten (their answers dropped).
const MAX_WAITS: usize = 8;

impl WizardPane {
    /// Sends `cmd` to the engine and remembers what its answer is for.
    pub(super) fn file_command(&mut self, cmd: FileCommand, wait: FileWait) -> Effect {
        let (id, command) = Command::files(cmd);
        if self.file_waits.len() >= MAX_WAITS {
            self.file_waits.remove(0);
        }
        self.file_waits.push((id, wait));
        Effect::Engine(command)
    }

    /// Forgets the waits `drop` selects, so their answers are ignored.
    pub(super) fn forget_waits(&mut self, drop: impl Fn(&FileWait) -> bool) {
        self.file_waits.retain(|(_, w)| !drop(w));
    }

    /// An answer of the files capability; false when it was not for this pane.
    pub(super) fn on_file_event(&mut self, id: RequestId, event: &FileEvent) -> bool {
        let Some(i) = self.file_waits.iter().position(|(w, _)| *w == id) else {
            return false;
        };
        let (_, wait) = self.file_waits.remove(i);
        match (wait, event) {
            (FileWait::Manifest, FileEvent::Read { path, result }) => {
                self.manifest_read(path, result);
            }
            (FileWait::Key { entry, index }, FileEvent::Read { path, result }) => {
                self.key_read(*entry, index, path, result);
            }
            (FileWait::EditorWritten(job), FileEvent::Written { path, result }) => match result {
                Ok(()) => {
                    self.editor_file = Some(path.clone());
                    self.notice = None;
                    self.pending.push(Effect::Suspend(job));
                }
                Err(e) => self.notice = Some((Role::Fail, e.to_string())),
            },
            (FileWait::EditorRead { ok }, FileEvent::Read { result, .. }) => {
                self.edited_read(ok, result);
            }
            _ => return false,
        }
        true
    }

    /// Asks the engine for the manifest at `path` (`:create file.yaml`).
    pub(super) fn read_manifest(&mut self, path: &str) -> Effect {
        self.notice = Some((Role::Info, format!("Reading {}...", path.trim())));
        self.forget_waits(|w| matches!(w, FileWait::Manifest));
        self.file_command(
            FileCommand::ReadText {
                path: path.to_string(),
                limit: form::MAX_YAML_BYTES as u64,
            },
            FileWait::Manifest,
        )
    }

    fn manifest_read(&mut self, path: &std::path::Path, result: &Result<FileText, Failure>) {
        let offered = result
            .as_ref()
            .map_err(|e| e.to_string())
            .and_then(|text| self.offer_manifest(text.0.as_str(), path.display().to_string()));
        // A replaced form says so itself, and a question waits for its answer.
        if let Err(e) = offered {
            self.notice = Some((Role::Fail, format!("{e}; check the path and the manifest")));
        }
    }

    /// The `$EDITOR` file to create: private, in the temporary directory, never reused.
    pub(super) fn editor_path() -> PathBuf {
        std::env::temp_dir().join(format!(
            "acp-cockpit-{}-{}.yaml",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ))
    }
}
