//! Nodes in the form: the add-node dialog's round trip (live findings, add or update, drafts)
//! and how a node is summarised in its row.

use crossterm::event::KeyEvent;

use super::Section;
use super::fields::FieldId;
use super::issues::{dialog_key, issues_with};
use super::node_dialog::{NodeDialog, NodeEntry, Outcome};
use super::rows::Spec;
use super::{Effect, MAX_KEY_BYTES, WizardPane};
use crate::config::theme::Role;
use crate::domain::draft::SshAuth;
use crate::domain::form::{IpStack, NodeForm, Secret};
use crate::engine::Command;
use std::path::Path;

use super::file_io::FileWait;
use crate::engine::Failure;
use crate::engine::files::{FileCommand, FileText};
use crate::engine::store::{DraftCommand, DraftEvent, StoreError};

impl WizardPane {
    pub(super) fn open_dialog(&mut self, dialog: NodeDialog) {
        let mut d = dialog;
        d.ipv6_only = self.form.basic.ip_stack == IpStack::Ipv6;
        self.refresh_dialog_findings(&mut d);
        self.dialog = Some(d);
    }

    /// Runs the rules with the dialog's node in place, so the dialog shows the same findings
    /// the node would get in the form.
    pub(super) fn refresh_dialog_findings(&self, d: &mut NodeDialog) {
        let mut trial = self.form.clone();
        let idx = match d.editing {
            Some(i) if i < trial.node_settings.nodes.len() => {
                trial.node_settings.nodes[i] = entry_to_form_lenient(&d.entry);
                i
            }
            _ => {
                trial
                    .node_settings
                    .nodes
                    .push(entry_to_form_lenient(&d.entry));
                trial.node_settings.nodes.len() - 1
            }
        };
        let prefix = format!("spec.machines[{idx}].");
        let form_prefix = format!("form.nodes[{idx}].");
        d.findings = issues_with(&trial, &self.ctx)
            .into_iter()
            .filter_map(|i| {
                i.path
                    .strip_prefix(&prefix)
                    .or_else(|| i.path.strip_prefix(&form_prefix))
                    .map(|rest| (dialog_key(rest).to_string(), i.level, i.message.clone()))
            })
            .collect();
    }

    pub(super) fn dialog_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let mut d = self.dialog.take()?;
        // Fresh findings, so that Add judges exactly what the dialog holds now.
        self.refresh_dialog_findings(&mut d);
        let out = d.on_key(key);
        let Some(out) = out else {
            self.dialog = Some(d);
            return None;
        };
        let effects = match out {
            Outcome::Nothing => {
                self.refresh_dialog_findings(&mut d);
                self.dialog = Some(d);
                Vec::new()
            }
            Outcome::Cancel => {
                self.forget_waits(|w| matches!(w, FileWait::Key { .. }));
                Vec::new()
            }
            Outcome::SaveDraft { node, existing } => {
                self.notice = Some((Role::Info, "Saving the node as a draft...".into()));
                self.saving = Some(d);
                vec![Effect::Engine(Command::drafts(DraftCommand::Save {
                    node,
                    existing,
                }))]
            }
            Outcome::Add(entry) if entry.node.auth == SshAuth::Key => {
                // The key file is read by the engine; the dialog stays open and says so.
                let path = entry.node.key_path.trim().to_string();
                d.notice = Some(format!("Reading the private key file {path}..."));
                let index = d.editing;
                self.dialog = Some(d);
                self.forget_waits(|w| matches!(w, FileWait::Key { .. }));
                vec![self.file_command(
                    FileCommand::ReadText {
                        path,
                        limit: MAX_KEY_BYTES,
                    },
                    FileWait::Key { entry, index },
                )]
            }
            Outcome::Add(entry) => {
                self.add_node(entry_to_form_lenient(&entry), d.editing);
                Vec::new()
            }
        };
        Some(effects)
    }

    /// Adds the node, or replaces node `index` when the dialog edited one.
    fn add_node(&mut self, node: NodeForm, index: Option<usize>) {
        let nodes = &mut self.form.node_settings.nodes;
        let msg = match index {
            Some(i) if i < nodes.len() => {
                nodes[i] = node;
                format!("Node {} updated", i + 1)
            }
            _ => {
                nodes.push(node);
                format!("Node {} added", nodes.len())
            }
        };
        self.notice = Some((Role::Ok, msg));
        self.changed();
    }

    /// The private key file of the node being added, as the engine read it.
    pub(super) fn key_read(
        &mut self,
        entry: NodeEntry,
        index: Option<usize>,
        path: &Path,
        result: &Result<FileText, Failure>,
    ) {
        let key = result
            .as_ref()
            .map_err(|e| format!("the private key file: {e}"))
            .and_then(|text| private_key(path, text));
        match key {
            Ok(key) => {
                let mut node = entry_to_form_lenient(&entry);
                node.private_key = key;
                self.dialog = None;
                self.add_node(node, index);
            }
            Err(msg) => match self.dialog.as_mut() {
                Some(d) => d.notice = Some(msg),
                None => self.notice = Some((Role::Fail, msg)),
            },
        }
    }

    /// Delete removes whatever list entry is focused: a node, a parameter, an annotation or
    /// an APIServer URL. `pending_remove` is the node a first Delete asked about.
    pub(super) fn remove_focused(&mut self, pending_remove: Option<usize>) {
        match self.focused().map(|s| s.id) {
            Some(FieldId::Kv(m, Some(k))) => {
                m.get_mut(&mut self.form).remove(&k);
                self.notice = Some((Role::Info, format!("Removed {} > {k}", m.label())));
                self.changed();
                return;
            }
            Some(FieldId::ApiUrl(Some(i))) if i < self.form.extended.apiserver_urls.len() => {
                let url = self.form.extended.apiserver_urls.remove(i);
                self.notice = Some((Role::Info, format!("Removed APIServer URL {url}")));
                self.changed();
                return;
            }
            _ => {}
        }
        if let Some(Spec {
            id: FieldId::Node(i),
            ..
        }) = self.focused()
            && i < self.form.node_settings.nodes.len()
        {
            // A node holds typed secrets no draft can bring back, so removing it
            // takes a second Delete.
            if pending_remove != Some(i) {
                self.pending_remove = Some(i);
                let ip = self.form.node_settings.nodes[i].ip.clone();
                self.notice = Some((
                    Role::Warn,
                    format!(
                        "Press Delete again to remove node {} ({ip}); its typed passwords \
                         cannot be restored. Any other key keeps it.",
                        i + 1
                    ),
                ));
                return;
            }
            let n = self.form.node_settings.nodes.remove(i);
            self.form
                .node_settings
                .monitoring
                .nodes
                .retain(|ip| *ip != n.ip);
            self.notice = Some((Role::Info, format!("Node {} removed", n.ip)));
            self.changed();
        }
    }

    /// The drafts capability's answer to a node draft saved or restored from this pane.
    pub(super) fn on_draft_event(&mut self, event: &DraftEvent) -> bool {
        if let Some(changed) = self.on_form_draft_event(event) {
            return changed;
        }
        match event {
            DraftEvent::Loaded {
                draft,
                restore: true,
            } => {
                let d = NodeDialog::restored(
                    draft.node.clone(),
                    draft.name.clone(),
                    draft.revision,
                    self.form.is_dual_stack(),
                );
                self.set_section(Section::Nodes);
                self.open_dialog(d);
                true
            }
            DraftEvent::NothingToRestore => {
                self.notice = Some((
                    Role::Info,
                    "No draft to restore: in Add Node, choose Save Draft first".into(),
                ));
                true
            }
            DraftEvent::Saved(d) => {
                self.saving = None;
                self.notice = Some((
                    Role::Ok,
                    format!(
                        "Saved draft '{}' (no secrets). Restore from draft brings it back.",
                        d.name
                    ),
                ));
                true
            }
            DraftEvent::Failed { action, error } => {
                let hint = error.hint().map(|h| format!(" ({h})")).unwrap_or_default();
                let msg = format!("Could not {action}: {error}{hint}");
                match (action.as_str(), self.saving.take()) {
                    ("save draft", Some(mut d)) => {
                        if matches!(error, StoreError::Conflict { .. } | StoreError::NotFound(_)) {
                            // Someone else changed or removed the draft: never overwrite it;
                            // the next save makes a new one.
                            d.from_draft = None;
                            d.notice = Some(format!(
                                "{error}. Save Draft again to keep this node as a new draft."
                            ));
                        } else {
                            d.notice = Some(msg.clone());
                        }
                        self.dialog = Some(d);
                    }
                    ("save draft" | "restore draft" | "load draft", _) => {}
                    _ => return false,
                }
                self.notice = Some((Role::Fail, msg));
                true
            }
            _ => false,
        }
    }
}

pub(super) fn node_summary(n: &NodeForm) -> String {
    let role = if n.is_control_plane() {
        if n.app_deployable {
            "control plane + apps"
        } else {
            "control plane"
        }
    } else {
        "worker"
    };
    let name = if n.display_name.is_empty() {
        String::new()
    } else {
        format!(" {}", n.display_name)
    };
    let auth = match n.auth {
        SshAuth::Password => "password".to_string(),
        SshAuth::Key => "key".to_string(),
    };
    let proxy = if n.proxy.enabled { " via proxy" } else { "" };
    let ssh_host = if n.ssh_ip.is_empty() {
        &n.ip
    } else {
        &n.ssh_ip
    };
    format!(
        "{}{name}  {role}  ssh {}@{}:{} {auth}{proxy}",
        if n.ip.is_empty() { "(no IP)" } else { &n.ip },
        n.ssh_username,
        ssh_host,
        n.ssh_port
    )
}

fn secret_of(s: &str) -> Secret {
    Secret::new(s)
}

/// The dialog's node as a form node without touching the disk (for live findings).
fn entry_to_form_lenient(e: &NodeEntry) -> NodeForm {
    let mut n = NodeForm::from_draft(&e.node);
    n.password = secret_of(&e.ssh_password);
    n.passphrase = secret_of(&e.key_passphrase);
    n.proxy.password = secret_of(&e.proxy_password);
    n.proxy.address = proxy_address(&n.proxy.address);
    if e.node.auth == SshAuth::Key && !e.node.key_path.trim().is_empty() {
        // A placeholder so that "a key is required" does not fire before the file is read.
        n.private_key = secret_of("key file");
    }
    n
}

/// The proxy as ACP stores it, `host:port` (the type, SOCKS5, is a field of its own): a URL
/// written `socks5://host:port` means the same proxy, so the scheme is taken off.
fn proxy_address(typed: &str) -> String {
    let t = typed.trim();
    let rest = t
        .get(..9)
        .filter(|scheme| scheme.eq_ignore_ascii_case("socks5://"))
        .map_or(t, |_| &t[9..]);
    rest.trim_end_matches('/').to_string()
}

pub(super) fn form_to_entry(n: &NodeForm) -> NodeEntry {
    let mut e = NodeEntry::new(n.to_draft());
    e.ssh_password.push_str(n.password.expose());
    e.key_passphrase.push_str(n.passphrase.expose());
    e.proxy_password.push_str(n.proxy.password.expose());
    e
}

/// The key file's text, if it holds a private key (not the `.pub` file, not a certificate).
fn private_key(path: &Path, text: &FileText) -> Result<Secret, String> {
    if !text.0.contains("PRIVATE KEY") {
        return Err(format!(
            "{} does not look like a private key (no PRIVATE KEY block); choose the private, \
             not the .pub, file",
            path.display()
        ));
    }
    Ok(Secret::new(text.0.as_str()))
}
