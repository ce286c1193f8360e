//! The `$EDITOR` round trip: the manifest, secrets masked, goes to a private temporary file;
//! what comes back replaces the form, with the masked secrets filled in from memory.

use super::file_io::FileWait;
use super::{EDITOR_TAG, Effect, WizardPane};
use crate::config::theme::Role;
use crate::domain::cluster::{Cluster, MASK};
use crate::domain::form::{self, ClusterForm};
use crate::engine::files::{FileCommand, FileText};
use crate::engine::{Command, Failure};
use crate::tui::panes::SuspendJob;
use zeroize::Zeroizing;

impl WizardPane {
    /// Asks the engine to write the masked YAML to a private temporary file; `$EDITOR` opens
    /// it once it is written.
    pub(super) fn open_editor(&mut self) -> Vec<Effect> {
        let yaml = match self.masked_yaml() {
            Ok(y) => y,
            Err(e) => {
                self.notice = Some((Role::Fail, e.to_string()));
                return Vec::new();
            }
        };
        let path = Self::editor_path();
        let (program, mut args) = editor_command();
        args.push(path.display().to_string());
        let job = SuspendJob {
            program,
            args,
            tag: EDITOR_TAG.into(),
        };
        self.notice = Some((Role::Info, "Writing the manifest for $EDITOR...".into()));
        vec![self.file_command(
            FileCommand::WritePrivate {
                path,
                contents: FileText(Zeroizing::new(yaml)),
            },
            FileWait::EditorWritten(job),
        )]
    }

    /// Reads the edited YAML back. Masked secrets are filled from the form in memory, matched
    /// by node IP, then by position.
    pub fn reimport_yaml(&mut self, text: &str) -> Result<(), String> {
        let mut c = form::from_yaml(text).map_err(|e| e.to_string())?;
        let mut old = self.form.to_cluster();
        refill_masked(&mut c, &old);
        wipe_secrets(&mut old);
        let key_paths: Vec<(String, String)> = self
            .form
            .nodes()
            .iter()
            .map(|n| (n.ip.clone(), n.key_path.clone()))
            .collect();
        let mut f = ClusterForm::from_cluster(&c);
        wipe_secrets(&mut c);
        for n in &mut f.node_settings.nodes {
            if let Some((_, p)) = key_paths.iter().find(|(ip, _)| *ip == n.ip) {
                n.key_path = p.clone();
            }
        }
        self.form = f;
        self.changed();
        Ok(())
    }

    /// The editor ended: the file is read back, then removed (the files capability runs
    /// commands in order).
    pub(super) fn editor_resumed(&mut self, tag: &str, ok: bool) -> Vec<Effect> {
        if tag != EDITOR_TAG {
            return Vec::new();
        }
        let Some(path) = self.editor_file.take() else {
            return Vec::new();
        };
        self.notice = Some((Role::Info, "Reading the edited YAML...".into()));
        let read = self.file_command(
            FileCommand::ReadText {
                path: path.display().to_string(),
                limit: form::MAX_YAML_BYTES as u64,
            },
            FileWait::EditorRead { ok },
        );
        let (_, remove) = Command::files(FileCommand::Remove { path });
        vec![read, Effect::Engine(remove)]
    }

    /// The edited file as read back: imported when the editor succeeded.
    pub(super) fn edited_read(&mut self, ok: bool, text: &Result<FileText, Failure>) {
        self.notice = Some(match (ok, text) {
            (false, _) => (
                Role::Warn,
                "The editor exited with an error; the form is unchanged".into(),
            ),
            (true, Err(e)) => (Role::Fail, format!("cannot read the edited YAML: {e}")),
            (true, Ok(text)) => match self.reimport_yaml(text.0.as_str()) {
                Ok(()) => (Role::Ok, "Edited YAML imported".into()),
                Err(e) => (
                    Role::Fail,
                    format!(
                        "The edited YAML was not imported: {e}. Open the editor again to fix it."
                    ),
                ),
            },
        });
    }
}

/// `$VISUAL`, else `$EDITOR`, else `vi`, split into the program and its arguments.
fn editor_command() -> (String, Vec<String>) {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "vi".to_string());
    let mut parts = editor.split_whitespace().map(str::to_string);
    let program = parts.next().unwrap_or_else(|| "vi".into());
    (program, parts.collect())
}

/// Puts the in-memory secrets back where the edited YAML still has the mask.
fn refill_masked(new: &mut Cluster, old: &Cluster) {
    let n_old = old.spec.machines.len();
    for (i, m) in new.spec.machines.iter_mut().enumerate() {
        let src = old
            .spec
            .machines
            .iter()
            .find(|o| o.ip == m.ip)
            .or_else(|| (i < n_old).then(|| &old.spec.machines[i]));
        let Some(src) = src else { continue };
        let fill = |dst: &mut Option<String>, from: &Option<String>| {
            if dst.as_deref() == Some(MASK) {
                dst.clone_from(from);
            }
        };
        fill(&mut m.password, &src.password);
        fill(&mut m.private_key, &src.private_key);
        fill(&mut m.pass_phrase, &src.pass_phrase);
        if let (Some(p), Some(sp)) = (m.proxy.as_mut(), src.proxy.as_ref()) {
            fill(&mut p.password, &sp.password);
        }
    }
}

/// Overwrites the base64 secrets of a temporary resource before it is dropped.
pub(super) fn wipe_secrets(c: &mut Cluster) {
    use zeroize::Zeroize;
    for m in &mut c.spec.machines {
        for s in [&mut m.password, &mut m.private_key, &mut m.pass_phrase]
            .into_iter()
            .flatten()
        {
            s.zeroize();
        }
        if let Some(p) = m.proxy.as_mut()
            && let Some(s) = p.password.as_mut()
        {
            s.zeroize();
        }
    }
}
