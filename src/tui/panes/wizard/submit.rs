//! Submitting: a server-side dry run of exactly what is on screen, then the safety gate, then
//! the create; a change in between needs a new dry run.

use super::editor::wipe_secrets;
use super::{Effect, Section, WizardPane};
use crate::config::theme::Role;
use crate::domain::form::{self, ClusterForm};
use crate::engine::kube::{KubeCommand, KubeFailure};
use crate::engine::{Command, RequestId};
use crate::tui::panes::{Access, Guarded, PaneId};
use crate::tui::widgets::form_field::Level;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Submit {
    Idle,
    DryRunning(u64),
    DryRunOk(u64),
    DryRunFailed(String),
    /// The safety gate was asked; nothing is created until the user confirms there. Holds
    /// the dry-run fingerprint and the cluster name.
    Confirming(u64, String),
    Created(String),
    CreateFailed(String),
}

impl WizardPane {
    /// The resource as YAML with secrets masked; the temporary resource's secrets are wiped.
    pub(super) fn masked_yaml(&self) -> Result<String, form::ExportError> {
        let mut c = self.form.to_cluster();
        let out = form::to_yaml(&c, true);
        wipe_secrets(&mut c);
        out
    }

    pub(super) fn cluster_name(&self) -> String {
        self.form.basic.name.to_string()
    }

    pub(super) fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // The masked YAML covers every field but the secrets; secrets do not change what the
        // dry run checks.
        self.masked_yaml().unwrap_or_default().hash(&mut h);
        h.finish()
    }

    pub(super) fn submit(&mut self) -> Vec<Effect> {
        let errors = self.errors();
        if errors > 0 {
            let first = self.issues.iter().position(|i| i.level == Level::Error);
            self.notice = Some((
                Role::Fail,
                format!("Create is disabled: {errors} error(s) remain; the first is selected"),
            ));
            if let Some(i) = first {
                self.focus_issue(i);
            }
            return Vec::new();
        }
        if let Some(why) = self.preflight_block() {
            self.notice = Some((Role::Fail, format!("Create is disabled: {why}")));
            self.set_section(Section::Preflight);
            return Vec::new();
        }
        let fp = self.fingerprint();
        match &self.submit {
            Submit::DryRunning(_) => {
                self.notice = Some((Role::Info, "Waiting for the platform's answer...".into()));
                Vec::new()
            }
            // Submitting again while confirming opens the gate again: it may have been
            // cancelled, and the pane is not told.
            Submit::DryRunOk(f) | Submit::Confirming(f, _) if *f == fp => {
                let name = self.cluster_name();
                let nodes = self.form.nodes().len();
                let masters = self
                    .form
                    .nodes()
                    .iter()
                    .filter(|n| n.is_control_plane())
                    .count();
                self.submit = Submit::Confirming(fp, name.to_string());
                self.notice = None;
                vec![Effect::Guarded(Guarded {
                    title: format!("Create cluster {name} on {}", self.platform),
                    detail: format!(
                        "Kubernetes {}, {nodes} node(s) ({masters} control plane). The platform \
                         installs it over SSH; the network settings cannot be changed later.",
                        self.form.basic.kubernetes_version
                    ),
                    access: Some(Access {
                        verb: "create".into(),
                        group: crate::domain::cluster::GROUP.into(),
                        resource: "clusters".into(),
                        namespace: None,
                        name: None,
                    }),
                    command: Command::Kube(KubeCommand::CreateCluster {
                        id: self.new_request(),
                        cluster: Box::new(self.form.to_cluster()),
                        dry_run: false,
                    }),
                })]
            }
            _ => {
                self.submit = Submit::DryRunning(fp);
                self.notice = Some((Role::Info, "Server-side dry run...".into()));
                vec![Effect::Engine(Command::Kube(KubeCommand::CreateCluster {
                    id: self.new_request(),
                    cluster: Box::new(self.form.to_cluster()),
                    dry_run: true,
                }))]
            }
        }
    }

    pub(super) fn new_request(&mut self) -> RequestId {
        let id = RequestId::next();
        self.request = Some(id);
        id
    }

    /// The engine's answer to the dry run or create this form sent.
    pub(super) fn on_created(
        &mut self,
        name: &str,
        dry_run: bool,
        result: &Result<(), KubeFailure>,
    ) {
        match (dry_run, result) {
            (true, Ok(())) => {
                if let Submit::DryRunning(fp) = self.submit {
                    self.submit = Submit::DryRunOk(fp);
                    self.notice = Some(if self.readonly {
                        (
                            Role::Warn,
                            "Dry run passed (read-only: Create is disabled; restart \
                             without --readonly to create)"
                                .into(),
                        )
                    } else {
                        (
                            Role::Ok,
                            "Dry run passed. Submit again to create the cluster.".into(),
                        )
                    });
                }
            }
            (true, Err(e)) => {
                let mut msg = e.to_string();
                if e.kind == crate::engine::kube::FailureKind::Forbidden && e.hint.is_none() {
                    msg.push_str(
                        " (you need create on clusters.platform.tkestack.io: ask an \
                         administrator for it, or switch to a context that has it)",
                    );
                }
                self.notice = Some((Role::Fail, "Dry run refused; the Review says why".into()));
                self.submit = Submit::DryRunFailed(msg);
            }
            (false, Ok(())) => {
                // A fresh form for the next cluster, so that nothing (a restored
                // draft, say) lands in the one just created; the old form's
                // secrets are wiped as it is dropped.
                self.form = ClusterForm::new();
                self.recheck();
                self.submit = Submit::Created(name.to_string());
                self.pending
                    .push(Effect::Open(PaneId::Timeline, Some(name.to_string())));
                self.notice = Some((
                    Role::Ok,
                    format!(
                        "Cluster {name} is being created. Enter opens its timeline; the \
                         form is cleared for the next cluster."
                    ),
                ));
                self.section = Section::Review;
            }
            (false, Err(e)) => {
                self.submit = Submit::CreateFailed(e.to_string());
                self.notice = Some((Role::Fail, format!("Create failed: {e}")));
            }
        }
    }

    /// The Review's state line: what submit does next, or why it cannot.
    pub(super) fn submit_state(&self, errors: usize, readonly: bool) -> (Role, String) {
        match &self.submit {
            Submit::Created(n) => (
                Role::Ok,
                format!(
                    "Cluster {n} is being created; Enter opens its timeline. The form is empty \
                     again for the next cluster."
                ),
            ),
            _ if errors > 0 => (
                Role::Fail,
                format!("Create disabled: fix {errors} error(s) first"),
            ),
            _ if self.preflight_block().is_some() => (
                Role::Fail,
                format!(
                    "Create disabled: {}",
                    self.preflight_block().unwrap_or_default()
                ),
            ),
            Submit::Idle | Submit::DryRunOk(_) if readonly => (
                Role::Warn,
                "Read-only (--readonly): the dry run checks the manifest, Create is refused".into(),
            ),
            Submit::Idle => (
                Role::Info,
                "Ready: submit runs a server-side dry run".into(),
            ),
            Submit::DryRunning(_) => (Role::Info, "Dry run in progress...".into()),
            Submit::DryRunOk(_) => (
                Role::Ok,
                "Dry run passed: submit again to create (asks for confirmation)".into(),
            ),
            Submit::DryRunFailed(m) => (Role::Fail, format!("Dry run refused: {m}")),
            Submit::Confirming(_, n) => (
                Role::Info,
                format!(
                    "Waiting for confirmation: nothing is created until you confirm creating {n} \
                     (y then Enter); Esc cancels, submit opens the question again"
                ),
            ),
            Submit::CreateFailed(m) => (Role::Fail, format!("Create failed: {m}")),
        }
    }
}
