//! The `$EDITOR` round trip: the manifest, secrets masked, goes to a private temporary file;
//! what comes back replaces the form, with the masked secrets filled in from memory.

use super::{EDITOR_TAG, Effect, WizardPane};
use crate::config::theme::Role;
use crate::domain::cluster::{Cluster, MASK};
use crate::domain::form::{self, ClusterForm};
use crate::engine::files::write_private;
use crate::tui::panes::SuspendJob;

impl WizardPane {
    /// Writes the masked YAML to a private temporary file and hands it to `$EDITOR`.
    pub(super) fn open_editor(&mut self) -> Vec<Effect> {
        let yaml = match self.masked_yaml() {
            Ok(y) => y,
            Err(e) => {
                self.notice = Some((Role::Fail, e.to_string()));
                return Vec::new();
            }
        };
        let path = std::env::temp_dir().join(format!(
            "acp-cockpit-{}-{}.yaml",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        if let Err(e) = write_private(&path, yaml.as_bytes()) {
            self.notice = Some((
                Role::Fail,
                format!(
                    "cannot write {}: {e}; set TMPDIR to a writable directory",
                    path.display()
                ),
            ));
            return Vec::new();
        }
        let editor = std::env::var("VISUAL")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .or_else(|| {
                std::env::var("EDITOR")
                    .ok()
                    .filter(|s| !s.trim().is_empty())
            })
            .unwrap_or_else(|| "vi".to_string());
        let mut parts = editor.split_whitespace().map(str::to_string);
        let program = parts.next().unwrap_or_else(|| "vi".into());
        let mut args: Vec<String> = parts.collect();
        args.push(path.display().to_string());
        self.editor_file = Some(path);
        vec![Effect::Suspend(SuspendJob {
            program,
            args,
            tag: EDITOR_TAG.into(),
        })]
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

    pub(super) fn editor_resumed(&mut self, tag: &str, ok: bool) -> Vec<Effect> {
        if tag != EDITOR_TAG {
            return Vec::new();
        }
        let Some(path) = self.editor_file.take() else {
            return Vec::new();
        };
        let text = std::fs::read_to_string(&path);
        let _ = std::fs::remove_file(&path);
        match (ok, text) {
            (false, _) => {
                self.notice = Some((
                    Role::Warn,
                    "The editor exited with an error; the form is unchanged".into(),
                ));
            }
            (true, Err(e)) => {
                self.notice = Some((Role::Fail, format!("cannot read the edited YAML: {e}")));
            }
            (true, Ok(text)) => match self.reimport_yaml(&text) {
                Ok(()) => {
                    self.notice = Some((Role::Ok, "Edited YAML imported".into()));
                }
                Err(e) => {
                    self.notice = Some((
                        Role::Fail,
                        format!(
                            "The edited YAML was not imported: {e}. Open the editor again to fix it."
                        ),
                    ));
                }
            },
        }
        Vec::new()
    }
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
