//! Drafts on disk: atomic writes, locking, unreadable files reported and never lost.
//!
//! Layout: one JSON file per draft, `<data dir>/drafts/<name>.json`, plus a `.lock` file. Every
//! read-modify-write holds an exclusive `fs4` lock on `.lock`, so two cockpits on the same
//! machine serialize their changes; each draft carries a revision, so a save based on an older
//! revision is refused instead of overwriting someone else's change. A write goes to a temporary
//! file in the same directory, is fsynced, renamed over the target and the directory fsynced,
//! so a crash at any moment leaves either the old or the new draft, never half of one.
//! Listing only reads: a file it cannot open is reported with its path and the reason, and left
//! where it is. A draft written by a newer cockpit (a higher `format`) is not corrupt and is
//! never moved or overwritten. Only an explicit action on a truly corrupt file (opening it by
//! name, or `repair`) renames it to `<file>.corrupt-<timestamp>`, and says where it went.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use fs4::fs_std::FileExt;
use serde::Serialize;
use tokio::sync::mpsc;

use tokio_util::sync::CancellationToken;

use super::{Event, Failure, FailureKind, RequestId};
use crate::domain::draft::{
    DRAFT_FORMAT, Draft, FormDraft, NodeDraft, newer_format, validate_name,
};

const DRAFT_EXT: &str = "json";
const LOCK_FILE: &str = ".lock";
const TMP_PREFIX: &str = ".tmp-";

/// What went wrong, worded for the user with the fix when one is known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("no draft named '{0}'")]
    NotFound(String),
    #[error("a draft named '{0}' already exists")]
    Exists(String),
    #[error("{} already exists", .0.display())]
    FileExists(PathBuf),
    #[error(
        "draft '{name}' was changed by another cockpit (revision {found}, expected {expected})"
    )]
    Conflict {
        name: String,
        expected: u64,
        found: u64,
    },
    #[error(
        "draft '{name}' was written by a newer acp-cockpit (draft format {format}, this build \
         reads format {DRAFT_FORMAT}); upgrade to open it"
    )]
    Newer { name: String, format: u32 },
    #[error("draft file {} cannot be read: {reason}", path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("{0}")]
    Invalid(String),
    #[error("{context}: {message}")]
    Io { context: String, message: String },
}

impl StoreError {
    fn io(context: impl Into<String>, e: std::io::Error) -> Self {
        StoreError::Io {
            context: context.into(),
            message: e.to_string(),
        }
    }

    /// How to fix it, when known.
    pub fn hint(&self) -> Option<String> {
        match self {
            StoreError::NotFound(_) => Some("list the drafts to see their names".into()),
            StoreError::Exists(_) => Some("choose another name or delete the old draft".into()),
            StoreError::FileExists(_) => Some(
                "choose another file, or confirm overwriting it (`drafts export --force` in the CLI)"
                    .into(),
            ),
            StoreError::Conflict { .. } => {
                Some("restore the draft again to see the other change, then save".into())
            }
            StoreError::Newer { .. } => {
                Some("upgrade acp-cockpit to open it; this build leaves the file as it is".into())
            }
            StoreError::Unreadable { .. } => Some(
                "open it by name or run `acp-cockpit drafts repair` to move it aside \
                 (it is kept as <file>.corrupt-<time>)"
                    .into(),
            ),
            StoreError::Invalid(_) => None,
            StoreError::Io { .. } => Some(
                "check that the data directory exists and is writable \
                 (ACP_COCKPIT_DATA_DIR overrides it)"
                    .into(),
            ),
        }
    }

    pub fn to_failure(&self) -> Failure {
        let kind = match self {
            StoreError::Io { .. } => FailureKind::Io,
            StoreError::Invalid(_) => FailureKind::Invalid,
            _ => FailureKind::Other,
        };
        Failure {
            kind,
            message: self.to_string(),
            hint: self.hint(),
        }
    }
}

/// A draft file that did not parse and was moved aside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CorruptDraft {
    /// The file as it was named.
    pub file: PathBuf,
    /// Where it is now.
    pub moved_to: PathBuf,
    pub error: String,
}

/// Why a draft file in the directory cannot be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Problem {
    /// Written by a newer acp-cockpit: valid, just not for this build.
    Newer { format: u32 },
    /// Does not parse, or names another draft than its file.
    Corrupt,
}

/// A draft file a listing met but could not open; it is left where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableDraft {
    pub file: PathBuf,
    pub problem: Problem,
    /// Worded for the user.
    pub reason: String,
}

/// Every draft, newest first, and the files that could not be opened (untouched).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Listing {
    pub drafts: Vec<Draft>,
    pub unreadable: Vec<UnreadableDraft>,
}

/// What one draft file holds, as far as this build can tell.
enum ReadOutcome {
    Missing,
    Found(Box<Draft>),
    Unreadable(UnreadableDraft),
}

impl Listing {
    pub fn latest(&self) -> Option<&Draft> {
        self.drafts.first()
    }
}

/// The drafts directory. Cheap to create; every operation locks, works, unlocks.
#[derive(Debug, Clone)]
pub struct DraftStore {
    dir: PathBuf,
}

/// Holds the exclusive lock until dropped (closing the file releases an `flock`).
struct LockGuard {
    _file: File,
}

impl DraftStore {
    /// The store under a data directory (`<data_dir>/drafts`), created on first write.
    pub fn new(data_dir: &Path) -> Self {
        DraftStore {
            dir: data_dir.join("drafts"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.{DRAFT_EXT}"))
    }

    fn lock(&self) -> Result<LockGuard, StoreError> {
        fs::create_dir_all(&self.dir).map_err(|e| {
            StoreError::io(
                format!("cannot create the drafts directory {}", self.dir.display()),
                e,
            )
        })?;
        let path = self.dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StoreError::io(format!("cannot open {}", path.display()), e))?;
        FileExt::lock_exclusive(&file)
            .map_err(|e| StoreError::io(format!("cannot lock {}", path.display()), e))?;
        // Writers hold the lock while a temporary file exists, so any temporary file seen
        // under the lock was left by a process that died mid-save.
        if let Ok(entries) = fs::read_dir(&self.dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(TMP_PREFIX) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(LockGuard { _file: file })
    }

    /// Reads one draft file. Never writes: deciding what to do with a bad file is the caller's.
    fn read_locked(&self, path: &Path) -> Result<ReadOutcome, StoreError> {
        let bytes = match fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ReadOutcome::Missing),
            Err(e) => return Err(StoreError::io(format!("cannot read {}", path.display()), e)),
        };
        let unreadable = |problem, reason: String| {
            Ok(ReadOutcome::Unreadable(UnreadableDraft {
                file: path.to_path_buf(),
                problem,
                reason,
            }))
        };
        // The format is checked before the layout: a newer layout may have fields this build
        // rejects, and that must not make a valid newer draft look corrupt.
        if let Some(format) = newer_format(&bytes) {
            return unreadable(
                Problem::Newer { format },
                format!(
                    "written by a newer acp-cockpit; upgrade to open it (draft format {format}, \
                     this build reads format {DRAFT_FORMAT})"
                ),
            );
        }
        let d = match serde_json::from_slice::<Draft>(&bytes) {
            Ok(d) => d,
            Err(e) => return unreadable(Problem::Corrupt, e.to_string()),
        };
        if d.format != DRAFT_FORMAT {
            return unreadable(
                Problem::Corrupt,
                format!(
                    "draft format {} is not one any acp-cockpit wrote (this build reads \
                     format {DRAFT_FORMAT})",
                    d.format
                ),
            );
        }
        let stem = path.file_stem().map(|s| s.to_string_lossy().to_string());
        if stem.as_deref() != Some(d.name.as_str()) {
            return unreadable(
                Problem::Corrupt,
                format!("the file name does not match the draft name '{}'", d.name),
            );
        }
        Ok(ReadOutcome::Found(Box::new(d)))
    }

    /// Renames a corrupt file to `<file>.corrupt-<timestamp>`; only explicit actions call this.
    fn move_aside_locked(&self, bad: UnreadableDraft) -> Result<CorruptDraft, StoreError> {
        let stamp = Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
        let mut moved_to = bad.file.as_os_str().to_owned();
        moved_to.push(format!(".corrupt-{stamp}"));
        let moved_to = PathBuf::from(moved_to);
        fs::rename(&bad.file, &moved_to).map_err(|e| {
            StoreError::io(
                format!("cannot move the corrupt draft {} aside", bad.file.display()),
                e,
            )
        })?;
        let _ = sync_dir(&self.dir);
        tracing::warn!(file = %bad.file.display(), moved_to = %moved_to.display(), error = %bad.reason, "corrupt draft moved aside");
        Ok(CorruptDraft {
            file: bad.file,
            moved_to,
            error: bad.reason,
        })
    }

    /// A draft that exists under `name` but cannot be opened, as the error to give.
    fn unreadable_error(name: &str, bad: UnreadableDraft) -> StoreError {
        match bad.problem {
            Problem::Newer { format } => StoreError::Newer {
                name: name.to_string(),
                format,
            },
            Problem::Corrupt => StoreError::Unreadable {
                path: bad.file,
                reason: bad.reason,
            },
        }
    }

    fn list_locked(&self) -> Result<Listing, StoreError> {
        let mut listing = Listing::default();
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(listing),
            Err(e) => {
                return Err(StoreError::io(
                    format!("cannot list {}", self.dir.display()),
                    e,
                ));
            }
        };
        let mut paths: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.extension().and_then(|x| x.to_str()) == Some(DRAFT_EXT)
                    && !p
                        .file_name()
                        .map(|n| n.to_string_lossy().starts_with('.'))
                        .unwrap_or(true)
            })
            .collect();
        paths.sort();
        for p in paths {
            match self.read_locked(&p)? {
                ReadOutcome::Found(d) => listing.drafts.push(*d),
                ReadOutcome::Unreadable(bad) => listing.unreadable.push(bad),
                // Removed by someone else between read_dir and now.
                ReadOutcome::Missing => {}
            }
        }
        listing.drafts.sort_by(|a, b| {
            b.saved_at
                .cmp(&a.saved_at)
                .then_with(|| a.name.cmp(&b.name))
        });
        Ok(listing)
    }

    fn write_locked(&self, draft: &Draft) -> Result<(), StoreError> {
        let mut text = serde_json::to_vec_pretty(draft)
            .map_err(|e| StoreError::Invalid(format!("cannot encode the draft: {e}")))?;
        text.push(b'\n');
        atomic_write(&self.dir, &self.path_of(&draft.name), &text)
    }

    /// Every draft, newest first, and the files that could not be opened. Writes nothing.
    pub fn list(&self) -> Result<Listing, StoreError> {
        let _g = self.lock()?;
        self.list_locked()
    }

    /// Opens one draft by name. Opening a corrupt draft moves it aside (kept, and the error
    /// says where); a draft of a newer format is refused and left untouched.
    pub fn load(&self, name: &str) -> Result<Draft, StoreError> {
        validate_name(name).map_err(StoreError::Invalid)?;
        let _g = self.lock()?;
        match self.read_locked(&self.path_of(name))? {
            ReadOutcome::Found(d) => Ok(*d),
            ReadOutcome::Missing => Err(StoreError::NotFound(name.to_string())),
            ReadOutcome::Unreadable(bad) if bad.problem == Problem::Corrupt => {
                let moved = self.move_aside_locked(bad)?;
                Err(StoreError::Invalid(format!(
                    "draft '{name}' was corrupt ({}); it was moved to {}",
                    moved.error,
                    moved.moved_to.display()
                )))
            }
            ReadOutcome::Unreadable(bad) => Err(Self::unreadable_error(name, bad)),
        }
    }

    /// The most recently saved draft that this build can open, as ACP's "Restore from draft"
    /// restores, and the files it could not open (left as they are).
    pub fn latest(&self) -> Result<(Option<Draft>, Vec<UnreadableDraft>), StoreError> {
        let listing = self.list()?;
        // The add-node dialog restores nodes; a whole-form draft is restored by name.
        let latest = listing.drafts.into_iter().find(|d| d.form.is_none());
        Ok((latest, listing.unreadable))
    }

    /// Moves every corrupt draft file aside (`<file>.corrupt-<timestamp>`) so that its name
    /// can be used again. Drafts of a newer format are not corrupt and are left alone.
    pub fn repair(&self) -> Result<Vec<CorruptDraft>, StoreError> {
        let _g = self.lock()?;
        let listing = self.list_locked()?;
        listing
            .unreadable
            .into_iter()
            .filter(|bad| bad.problem == Problem::Corrupt)
            .map(|bad| self.move_aside_locked(bad))
            .collect()
    }

    /// Saves a node under `name`.
    ///
    /// `expected_revision`: `None` creates a new draft and fails with `Exists` if the name is
    /// taken; `Some(r)` updates a draft last seen at revision `r` and fails with `Conflict` if
    /// someone else saved it since (or `NotFound` if it was deleted).
    pub fn save(
        &self,
        name: &str,
        node: &NodeDraft,
        expected_revision: Option<u64>,
    ) -> Result<Draft, StoreError> {
        self.save_body(name, node, None, expected_revision)
    }

    /// Saves a whole Create form under `name`, with the same revision rules as [`Self::save`].
    pub fn save_form(
        &self,
        name: &str,
        form: &FormDraft,
        expected_revision: Option<u64>,
    ) -> Result<Draft, StoreError> {
        self.save_body(name, &NodeDraft::new(), Some(form), expected_revision)
    }

    fn save_body(
        &self,
        name: &str,
        node: &NodeDraft,
        form: Option<&FormDraft>,
        expected_revision: Option<u64>,
    ) -> Result<Draft, StoreError> {
        validate_name(name).map_err(StoreError::Invalid)?;
        if let Some(problem) = node
            .storage_problem()
            .or_else(|| form.and_then(FormDraft::storage_problem))
        {
            return Err(StoreError::Invalid(problem));
        }
        let _g = self.lock()?;
        // A file this build cannot open is never overwritten: it may be a newer cockpit's
        // draft, or a corrupt one the user has not looked at yet.
        let current = match self.read_locked(&self.path_of(name))? {
            ReadOutcome::Found(d) => Some(*d),
            ReadOutcome::Missing => None,
            ReadOutcome::Unreadable(bad) => return Err(Self::unreadable_error(name, bad)),
        };
        let revision = match (current, expected_revision) {
            (None, None) => 1,
            (Some(_), None) => return Err(StoreError::Exists(name.to_string())),
            (None, Some(_)) => return Err(StoreError::NotFound(name.to_string())),
            (Some(cur), Some(exp)) if cur.revision != exp => {
                return Err(StoreError::Conflict {
                    name: name.to_string(),
                    expected: exp,
                    found: cur.revision,
                });
            }
            (Some(cur), Some(_)) => cur.revision + 1,
        };
        let draft = Draft {
            format: DRAFT_FORMAT,
            name: name.to_string(),
            revision,
            saved_at: Utc::now(),
            node: node.clone(),
            form: form.map(|f| Box::new(f.clone())),
        };
        self.write_locked(&draft)?;
        Ok(draft)
    }

    /// Saves a new draft under `base`, or `base-2`, `base-3`... when taken: "Save draft" in the
    /// dialog never overwrites another draft.
    pub fn save_new(&self, base: &str, node: &NodeDraft) -> Result<Draft, StoreError> {
        self.save_new_with(base, |name| self.save(name, node, None))
    }

    /// A new whole-form draft under `base`, or `base-2`... when taken.
    pub fn save_form_new(&self, base: &str, form: &FormDraft) -> Result<Draft, StoreError> {
        self.save_new_with(base, |name| self.save_form(name, form, None))
    }

    fn save_new_with(
        &self,
        base: &str,
        save: impl Fn(&str) -> Result<Draft, StoreError>,
    ) -> Result<Draft, StoreError> {
        validate_name(base).map_err(StoreError::Invalid)?;
        for i in 1..1000u32 {
            let name = if i == 1 {
                base.to_string()
            } else {
                let suffix = format!("-{i}");
                let keep = base
                    .len()
                    .min(crate::domain::draft::MAX_NAME_LEN - suffix.len());
                format!("{}{suffix}", &base[..keep])
            };
            match save(&name) {
                // A name held by a file this build cannot open is taken as well.
                Err(
                    StoreError::Exists(_)
                    | StoreError::Newer { .. }
                    | StoreError::Unreadable { .. },
                ) => continue,
                other => return other,
            }
        }
        Err(StoreError::Invalid(format!(
            "too many drafts named like '{base}'; delete some or choose another name"
        )))
    }

    pub fn rename(&self, from: &str, to: &str) -> Result<Draft, StoreError> {
        validate_name(from).map_err(StoreError::Invalid)?;
        validate_name(to).map_err(StoreError::Invalid)?;
        let _g = self.lock()?;
        let mut draft = match self.read_locked(&self.path_of(from))? {
            ReadOutcome::Found(d) => *d,
            ReadOutcome::Missing => return Err(StoreError::NotFound(from.to_string())),
            ReadOutcome::Unreadable(bad) => return Err(Self::unreadable_error(from, bad)),
        };
        if from == to {
            return Ok(draft);
        }
        if self.path_of(to).exists() {
            return Err(StoreError::Exists(to.to_string()));
        }
        draft.name = to.to_string();
        draft.revision += 1;
        // Write the new name first: a crash between the two steps leaves a duplicate, never a
        // lost draft.
        self.write_locked(&draft)?;
        fs::remove_file(self.path_of(from))
            .map_err(|e| StoreError::io(format!("cannot remove the old draft '{from}'"), e))?;
        sync_dir(&self.dir)
            .map_err(|e| StoreError::io(format!("cannot sync {}", self.dir.display()), e))?;
        Ok(draft)
    }

    pub fn delete(&self, name: &str) -> Result<(), StoreError> {
        validate_name(name).map_err(StoreError::Invalid)?;
        let _g = self.lock()?;
        match fs::remove_file(self.path_of(name)) {
            Ok(()) => sync_dir(&self.dir)
                .map_err(|e| StoreError::io(format!("cannot sync {}", self.dir.display()), e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(StoreError::NotFound(name.to_string()))
            }
            Err(e) => Err(StoreError::io(format!("cannot delete draft '{name}'"), e)),
        }
    }

    /// Writes a draft to a file of the user's choosing (atomically as well).
    /// Writes a draft to `to`; an existing file is replaced only with `overwrite`, so nothing the
    /// user keeps there is lost to a mistyped name.
    pub fn export(&self, name: &str, to: &Path, overwrite: bool) -> Result<Draft, StoreError> {
        let draft = self.load(name)?;
        if !overwrite && to.exists() {
            return Err(StoreError::FileExists(to.to_path_buf()));
        }
        let mut text = serde_json::to_vec_pretty(&draft)
            .map_err(|e| StoreError::Invalid(format!("cannot encode the draft: {e}")))?;
        text.push(b'\n');
        let parent = match to.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        atomic_write(&parent, to, &text)?;
        Ok(draft)
    }

    /// Reads an exported draft file and saves it as a new draft (under `name`, or its own name;
    /// a taken name gets a numeric suffix).
    pub fn import(&self, from: &Path, name: Option<&str>) -> Result<Draft, StoreError> {
        let bytes = fs::read(from)
            .map_err(|e| StoreError::io(format!("cannot read {}", from.display()), e))?;
        if let Some(format) = newer_format(&bytes) {
            return Err(StoreError::Invalid(format!(
                "{} was written by a newer acp-cockpit (draft format {format}, this build reads \
                 format {DRAFT_FORMAT}); upgrade to import it",
                from.display()
            )));
        }
        let draft: Draft = serde_json::from_slice(&bytes).map_err(|e| {
            StoreError::Invalid(format!(
                "{} is not a draft file: {e} (export one with `acp-cockpit drafts export`)",
                from.display()
            ))
        })?;
        if draft.format != DRAFT_FORMAT {
            return Err(StoreError::Invalid(format!(
                "{} has draft format {}, this cockpit reads format {DRAFT_FORMAT}",
                from.display(),
                draft.format
            )));
        }
        let base = name.unwrap_or(&draft.name);
        match &draft.form {
            Some(form) => self.save_form_new(base, form),
            None => self.save_new(base, &draft.node),
        }
    }
}

/// Temp file in the same directory, fsync, rename over the target, fsync the directory.
fn atomic_write(dir: &Path, target: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    fs::create_dir_all(dir)
        .map_err(|e| StoreError::io(format!("cannot create {}", dir.display()), e))?;
    let tmp = dir.join(format!(
        "{TMP_PREFIX}{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, target)?;
        sync_dir(dir)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        StoreError::io(format!("cannot write {}", target.display()), e)
    })
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// What a front end asks of the drafts store.
#[derive(Debug)]
pub enum DraftCommand {
    List,
    /// Load one draft for preview (`restore: false`) or to fill the dialog (`restore: true`).
    Load {
        name: String,
        restore: bool,
    },
    /// ACP's "Restore from draft": the most recently saved one.
    RestoreLatest,
    /// `name: None` saves a new draft under a name derived from the node.
    /// `Some((name, revision))` updates a draft the dialog restored or saved before.
    Save {
        node: Box<NodeDraft>,
        existing: Option<(String, u64)>,
    },
    /// Saves the whole Create form: a new draft, or an update of `existing` (name, revision).
    SaveForm {
        form: Box<FormDraft>,
        existing: Option<(String, u64)>,
    },
    Rename {
        from: String,
        to: String,
    },
    Delete {
        name: String,
    },
    Import {
        from: PathBuf,
        name: Option<String>,
    },
    Export {
        name: String,
        to: PathBuf,
        /// Replace the file if it exists (after the user said so).
        overwrite: bool,
    },
}

/// What the drafts store reports back.
#[derive(Debug, Clone)]
pub enum DraftEvent {
    Listed(Listing),
    Loaded {
        draft: Draft,
        restore: bool,
    },
    /// "Restore from draft" found nothing to restore.
    NothingToRestore,
    Saved(Draft),
    Renamed {
        from: String,
        draft: Draft,
    },
    Deleted {
        name: String,
    },
    Imported(Draft),
    Exported {
        name: String,
        to: PathBuf,
    },
    /// Draft files met while serving a command that could not be opened; left as they are.
    Unreadable(Vec<UnreadableDraft>),
    Failed {
        action: String,
        error: StoreError,
    },
}

pub struct DraftEngine {
    store: DraftStore,
    events: mpsc::Sender<Event>,
}

impl DraftEngine {
    pub fn new(dir: PathBuf, events: mpsc::Sender<Event>) -> Self {
        DraftEngine {
            store: DraftStore::new(&dir),
            events,
        }
    }

    async fn emit(&self, id: RequestId, event: DraftEvent) {
        let _ = self.events.send(Event::Drafts { id, event }).await;
    }

    /// The capability's task. Commands run one after another (a draft's revision check depends
    /// on the previous write), each on a blocking thread, so file locks and fsync never hold up
    /// the runtime or the kube capability.
    pub async fn run(
        mut self,
        mut commands: mpsc::Receiver<(RequestId, DraftCommand)>,
        stop: CancellationToken,
    ) {
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                cmd = commands.recv() => match cmd {
                    Some((id, c)) => self.handle(id, c).await,
                    None => break,
                },
            }
        }
    }

    pub async fn handle(&mut self, id: RequestId, cmd: DraftCommand) {
        let store = self.store.clone();
        // File locks and fsync block; keep them off the runtime's worker threads.
        let out = tokio::task::spawn_blocking(move || run_command(&store, cmd)).await;
        match out {
            Ok(events) => {
                for ev in events {
                    self.emit(id, ev).await;
                }
            }
            Err(e) => {
                self.emit(
                    id,
                    DraftEvent::Failed {
                        action: "drafts".into(),
                        error: StoreError::Invalid(format!("the drafts task failed: {e}")),
                    },
                )
                .await
            }
        }
    }
}

/// Runs one command synchronously; returns the events to report, unreadable files first.
pub fn run_command(store: &DraftStore, cmd: DraftCommand) -> Vec<DraftEvent> {
    let fail = |action: &str, error: StoreError| DraftEvent::Failed {
        action: action.to_string(),
        error,
    };
    let with_unreadable = |unreadable: Vec<UnreadableDraft>, ev: DraftEvent| {
        let mut out = Vec::new();
        if !unreadable.is_empty() {
            out.push(DraftEvent::Unreadable(unreadable));
        }
        out.push(ev);
        out
    };
    match cmd {
        DraftCommand::List => match store.list() {
            Ok(l) => vec![DraftEvent::Listed(l)],
            Err(e) => vec![fail("list drafts", e)],
        },
        DraftCommand::Load { name, restore } => match store.load(&name) {
            Ok(draft) => vec![DraftEvent::Loaded { draft, restore }],
            Err(e) => vec![fail("load draft", e)],
        },
        DraftCommand::RestoreLatest => match store.latest() {
            Ok((Some(draft), unreadable)) => with_unreadable(
                unreadable,
                DraftEvent::Loaded {
                    draft,
                    restore: true,
                },
            ),
            Ok((None, unreadable)) => with_unreadable(unreadable, DraftEvent::NothingToRestore),
            Err(e) => vec![fail("restore draft", e)],
        },
        DraftCommand::Save { node, existing } => {
            let r = match existing {
                Some((name, rev)) => store.save(&name, &node, Some(rev)),
                None => store.save_new(&node.suggested_name(), &node),
            };
            match r {
                Ok(d) => vec![DraftEvent::Saved(d)],
                Err(e) => vec![fail("save draft", e)],
            }
        }
        DraftCommand::SaveForm { form, existing } => {
            let r = match existing {
                Some((name, rev)) => store.save_form(&name, &form, Some(rev)),
                None => store.save_form_new(&form.suggested_name(), &form),
            };
            match r {
                Ok(d) => vec![DraftEvent::Saved(d)],
                Err(e) => vec![fail("save form draft", e)],
            }
        }
        DraftCommand::Rename { from, to } => match store.rename(&from, &to) {
            Ok(draft) => vec![DraftEvent::Renamed { from, draft }],
            Err(e) => vec![fail("rename draft", e)],
        },
        DraftCommand::Delete { name } => match store.delete(&name) {
            Ok(()) => vec![DraftEvent::Deleted { name }],
            Err(e) => vec![fail("delete draft", e)],
        },
        DraftCommand::Import { from, name } => match store.import(&from, name.as_deref()) {
            Ok(d) => vec![DraftEvent::Imported(d)],
            Err(e) => vec![fail("import draft", e)],
        },
        DraftCommand::Export {
            name,
            to,
            overwrite,
        } => match store.export(&name, &to, overwrite) {
            Ok(_) => vec![DraftEvent::Exported { name, to }],
            Err(e) => vec![fail("export draft", e)],
        },
    }
}

#[cfg(test)]
mod tests;
