//! Whole-form drafts (`w`), and replacing the form: a manifest (`:create file.yaml`) or a
//! restored form draft replaces a form that holds typed input only after the user says so.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use super::editor::wipe_secrets;
use super::{Effect, WizardPane};
use crate::config::theme::Role;
use crate::domain::draft::{Draft, FormDraft};
use crate::domain::form::{self, ClusterForm, Secret};
use crate::engine::Command;
use crate::engine::store::{DraftCommand, DraftEvent, StoreError};

/// A form waiting for the user's yes before it replaces the one on screen.
pub(super) struct Replacement {
    form: Box<ClusterForm>,
    /// Where it comes from, for the question and the notice: a file, or a draft.
    source: String,
    /// The draft it was restored from (name, revision), so `w` updates that draft.
    draft: Option<(String, u64)>,
}

impl WizardPane {
    /// `w`: the whole form as a draft, secrets masked; a form restored from (or saved as) a
    /// draft updates it.
    pub(super) fn save_form_draft(&mut self) -> Vec<Effect> {
        let manifest = match self.masked_yaml() {
            Ok(m) => m,
            Err(e) => {
                self.notice = Some((Role::Fail, format!("Cannot save a draft: {e}")));
                return Vec::new();
            }
        };
        let form = FormDraft {
            manifest,
            cluster: self.form.basic.name.clone(),
            nodes: self.form.nodes().len(),
            key_paths: self
                .form
                .nodes()
                .iter()
                .filter(|n| !n.key_path.trim().is_empty())
                .map(|n| (n.ip.clone(), n.key_path.clone()))
                .collect(),
        };
        self.notice = Some((Role::Info, "Saving the form as a draft...".into()));
        vec![Effect::Engine(Command::drafts(DraftCommand::SaveForm {
            form: Box::new(form),
            existing: self.form_draft.as_ref().map(|(n, r, _)| (n.clone(), *r)),
        }))]
    }

    /// The drafts store's answers about whole-form drafts; `None` for node drafts.
    pub(super) fn on_form_draft_event(&mut self, event: &DraftEvent) -> Option<bool> {
        match event {
            DraftEvent::Saved(d) if d.form.is_some() => {
                self.form_draft = Some((d.name.clone(), d.revision, self.fingerprint()));
                self.notice = Some((
                    Role::Ok,
                    format!(
                        "Saved the form as draft '{}' (no passwords: a restore asks for them). \
                         :create draft:{} brings it back.",
                        d.name, d.name
                    ),
                ));
            }
            DraftEvent::Loaded {
                draft,
                restore: true,
            } if draft.form.is_some() => self.restore_form_draft(draft),
            DraftEvent::Failed { action, error } if action == "save form draft" => {
                if matches!(error, StoreError::Conflict { .. } | StoreError::NotFound(_)) {
                    // Someone else changed or removed the draft: the next save makes a new one.
                    self.form_draft = None;
                }
                let hint = error.hint().map(|h| format!(" ({h})")).unwrap_or_default();
                self.notice = Some((
                    Role::Fail,
                    format!("Could not save the form draft: {error}{hint}; w tries again"),
                ));
            }
            _ => return None,
        }
        Some(true)
    }

    /// Whether the form is as its draft saved it, so quitting loses only typed secrets.
    pub(super) fn saved_as_draft(&self) -> Option<&str> {
        self.form_draft
            .as_ref()
            .filter(|(_, _, fp)| *fp == self.fingerprint())
            .map(|(name, _, _)| name.as_str())
    }

    fn restore_form_draft(&mut self, draft: &Draft) {
        let Some(fd) = &draft.form else { return };
        let mut c = match form::from_yaml(&fd.manifest) {
            Ok(c) => c,
            Err(e) => {
                self.notice = Some((
                    Role::Fail,
                    format!("Draft '{}' holds no readable manifest: {e}", draft.name),
                ));
                return;
            }
        };
        let mut f = ClusterForm::from_cluster(&c);
        wipe_secrets(&mut c);
        // A draft holds no secret: whatever the file says in their place is dropped, and
        // every password is asked for again.
        for n in &mut f.node_settings.nodes {
            n.password = Secret::new("");
            n.passphrase = Secret::new("");
            n.private_key = Secret::new("");
            n.proxy.password = Secret::new("");
            if let Some(p) = fd.key_paths.get(&n.ip) {
                n.key_path = p.clone();
            }
        }
        self.offer_replacement(Replacement {
            form: Box::new(f),
            source: format!("draft '{}'", draft.name),
            draft: Some((draft.name.clone(), draft.revision)),
        });
    }

    /// Replaces the form at once when nothing typed would be lost, else asks first.
    pub(super) fn offer_replacement(&mut self, r: Replacement) {
        match self.unsaved_input() {
            None => self.replace_form(r),
            Some(lost) => {
                self.notice = Some((
                    Role::Warn,
                    format!(
                        "Replace {lost} with {}? y replaces it, n keeps it (w saves a draft \
                         of it first)",
                        r.source
                    ),
                ));
                self.replacing = Some(r);
            }
        }
    }

    /// A manifest's text, offered as the new form.
    pub(super) fn offer_manifest(&mut self, text: &str, source: String) -> Result<(), String> {
        let c = form::from_yaml(text).map_err(|e| e.to_string())?;
        self.offer_replacement(Replacement {
            form: Box::new(ClusterForm::from_cluster(&c)),
            source,
            draft: None,
        });
        Ok(())
    }

    fn replace_form(&mut self, r: Replacement) {
        let restored_draft = r.draft.is_some();
        self.form = *r.form;
        self.replacing = None;
        self.changed();
        self.form_draft = r.draft.map(|(n, rev)| (n, rev, self.fingerprint()));
        self.notice = Some(if restored_draft && !self.form.nodes().is_empty() {
            (
                Role::Ok,
                format!(
                    "Restored {}: enter each node's password again (Enter on a node)",
                    r.source
                ),
            )
        } else {
            (Role::Ok, format!("Loaded {}", r.source))
        });
    }

    /// While a replacement waits: y replaces, n or Esc keeps the form; other keys go on.
    pub(super) fn replacement_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let r = self.replacing.take()?;
        if key.kind == KeyEventKind::Release {
            self.replacing = Some(r);
            return Some(Vec::new());
        }
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => self.replace_form(r),
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc => {
                self.notice = Some((
                    Role::Info,
                    format!("Kept the form; {} was not loaded", r.source),
                ));
            }
            _ => {
                self.replacing = Some(r);
                return None;
            }
        }
        Some(Vec::new())
    }
}
