//! The Create pane: ACP's "Create Cluster" page as a wizard.
//!
//! Sections Basic Info, Container Network, Node Settings and Extended Parameters edit a
//! [`ClusterForm`]; Review shows the exact YAML with secrets masked. Every change re-runs the
//! creation rules, whose findings sit beside their fields and in a summary; Create stays
//! disabled while any error remains. Submitting runs a server-side dry run first, then asks
//! the safety gate to create.

mod editor;
mod fields;
mod file_io;
mod form_drafts;
mod issues;
pub mod node_dialog;
mod nodes;
mod preflight;
mod preflight_view;
mod render;
mod rows;
mod section;
mod submit;
#[cfg(test)]
mod tests;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::Rect;
use tui_input::InputRequest;

pub use self::fields::{FieldId, KvMap};
use self::issues::place;
pub use self::issues::{Issue, issues_of, issues_with};
use self::node_dialog::NodeDialog;
use self::nodes::form_to_entry;
pub use self::preflight::{Group, PreflightEnv, ProxySlot};
use self::rows::{Kind, Spec, rows_of};
pub use self::section::Section;
use self::submit::Submit;
use super::{CommandArg, Effect, Pane, PaneId, PaneSpec, RenderCtx, pane_actions};
use crate::config::theme::Role;
use crate::domain::draft::{NodeType, SshAuth};
use crate::domain::form::{ClusterForm, NodeForm, Secret};
use crate::domain::rules;
use crate::engine::kube::KubeEvent;
use crate::engine::store::DraftCommand;
use crate::engine::{Command, Event, RequestId};
use crate::tui::widgets::form_field::{self as field, Level};

pane_actions! {
    /// What this pane does with its keymap layer.
    pub enum CreateAction {
        NextField = new("next_field", "next field"),
        PrevField = new("prev_field", "previous field"),
        NextSection = new("next_section", "next section"),
        PrevSection = new("prev_section", "previous section"),
        Edit = new("edit", "edit the field"),
        Toggle = new("toggle", "toggle the option"),
        AddNode = new("add_node", "add a node"),
        Review = new("review", "review the manifest and findings"),
        Submit = destructive("submit", "create the cluster (asks to confirm)"),
        SaveDraft = new("save_draft", "save the whole form as a draft (no passwords)"),
        RestoreDraft = new("restore_draft", "restore the latest node draft into Add Node"),
        OpenEditor = new("open_editor", "edit the manifest in $EDITOR"),
        RemoveNode = new("remove_node", "remove the selected node"),
        Preflight = new("preflight", "check every node over SSH (Preflight step)"),
        RerunNode = new("rerun_node", "check the selected node again (Preflight step)"),
        AckWarning = new("ack_warning", "acknowledge the selected cell's next warning"),
    }
}

pub static SPEC: PaneSpec = PaneSpec {
    id: PaneId::Create,
    title: "Create",
    command: CommandArg::Optional("[file.yaml]"),
    command_help: "the creation wizard; a manifest or draft:<name> fills it",
    actions: CreateAction::SPECS,
    build: |deps| Box::new(WizardPane::new().with_preflight_env(deps.preflight.clone())),
    demo: || Box::new(WizardPane::demo()),
};

/// Tag of the `$EDITOR` job, so the resumed pane knows what to re-import.
pub const EDITOR_TAG: &str = "wizard-yaml";
/// Largest private key file read from a key path.
pub(super) const MAX_KEY_BYTES: u64 = 64 * 1024;

struct Editing {
    buffer: String,
    cursor: usize,
    /// Why the last Enter could not store the buffer; shown beside the field in place of the
    /// stored value's findings, which no longer describe what is on screen.
    error: Option<String>,
}

pub struct WizardPane {
    form: ClusterForm,
    section: Section,
    focus: usize,
    editing: Option<Editing>,
    dialog: Option<NodeDialog>,
    issues: Vec<Issue>,
    /// Where each issue is shown: its section and row (`None`: only in the summary).
    placed: Vec<(Section, Option<usize>)>,
    review_scroll: u16,
    /// The largest useful `review_scroll`, as the last render measured it.
    review_max: u16,
    notice: Option<(Role, String)>,
    submit: Submit,
    /// The create or dry run the form waits for; an answer to another request is not ours.
    request: Option<RequestId>,
    editor_file: Option<std::path::PathBuf>,
    /// The whole-form draft this form was saved as or restored from: (name, revision, the
    /// form's fingerprint then), so `w` updates it and quitting knows what is saved.
    form_draft: Option<(String, u64, u64)>,
    /// A manifest or draft waiting for the user's yes to replace the typed form.
    replacing: Option<form_drafts::Replacement>,
    /// File answers the pane waits for, by request id.
    file_waits: Vec<(RequestId, file_io::FileWait)>,
    /// Platform name for the confirmation text.
    platform: String,
    /// The dialog closed by "Save draft", kept (with its secrets, in memory only) until the
    /// store answers, so that a failed save loses nothing.
    saving: Option<NodeDialog>,
    /// Effects produced by engine events, drained by the shell.
    pending: Vec<Effect>,
    /// What the rules know of the platform: its Kubernetes versions above all.
    ctx: rules::RuleContext,
    /// The node a first Delete asked about; a second Delete removes it.
    pending_remove: Option<usize>,
    /// Machines on the platform by name: (address, cluster), from the engine's watch, so the
    /// rules can refuse a node that already belongs to a cluster.
    machines: std::collections::HashMap<String, (String, String)>,
    /// `--readonly`, as the last render was told, so that messages set between renders do
    /// not offer a create that will be refused.
    readonly: bool,
    /// The Preflight step's latest run, its cursor and what runs need from outside.
    preflight: Option<preflight::PreflightRun>,
    pf_cursor: preflight::Cursor,
    preflight_env: PreflightEnv,
}

impl Default for WizardPane {
    fn default() -> Self {
        Self::new()
    }
}

impl WizardPane {
    pub fn new() -> Self {
        let mut p = WizardPane {
            form: ClusterForm::new(),
            section: Section::Basic,
            focus: 0,
            editing: None,
            dialog: None,
            issues: Vec::new(),
            placed: Vec::new(),
            review_scroll: 0,
            review_max: u16::MAX,
            notice: None,
            submit: Submit::Idle,
            request: None,
            editor_file: None,
            file_waits: Vec::new(),
            form_draft: None,
            replacing: None,
            platform: "the platform".into(),
            saving: None,
            pending: Vec::new(),
            ctx: rules::RuleContext::default(),
            readonly: false,
            machines: std::collections::HashMap::new(),
            pending_remove: None,
            preflight: None,
            pf_cursor: preflight::Cursor::default(),
            preflight_env: PreflightEnv::default(),
        };
        p.recheck();
        p
    }

    /// A wizard on an existing form (an imported manifest).
    pub fn with_form(form: ClusterForm) -> Self {
        let mut p = Self::new();
        p.form = form;
        p.recheck();
        p
    }

    /// Fixed demo data with findings, for screenshots and snapshot tests.
    pub fn demo() -> Self {
        let mut f = ClusterForm::new();
        f.basic.name = "prod-east".into();
        f.basic.display_name = "Production East".into();
        f.basic.kubernetes_version = "1.30.14".into();
        f.basic.runtime_version = "1.6.28-4".into();
        f.basic.endpoint.address = "192.168.10.10".into();
        f.basic.endpoint.self_built_vip = true;
        f.network.service_cidr = "10.3.128.0/17".into();
        f.node_settings.nic = "eth0".into();
        f.node_settings.nodes = vec![
            NodeForm {
                ip: "192.168.10.11".into(),
                display_name: "master-1".into(),
                password: Secret::new("demo-password"),
                ..NodeForm::default()
            },
            NodeForm {
                ip: "192.168.10.11".into(),
                display_name: "master-2".into(),
                app_deployable: true,
                password: Secret::new("demo-password"),
                ..NodeForm::default()
            },
            NodeForm {
                role: NodeType::Worker,
                ip: "192.168.10.21".into(),
                auth: SshAuth::Key,
                key_path: "~/.ssh/acp_ed25519".into(),
                ..NodeForm::default()
            },
        ];
        f.extended
            .kubelet_args
            .insert("max-pods".into(), "300".into());
        f.extended.annotations.insert(
            "cpaas.io/platform-url".into(),
            "https://acp.example.com".into(),
        );
        let mut p = Self::with_form(f);
        p.platform = "demo".into();
        p
    }

    /// Where preflight runs get their proxy, platform context and matrix override.
    pub fn with_preflight_env(mut self, env: PreflightEnv) -> Self {
        self.preflight_env = env;
        self
    }

    pub fn form(&self) -> &ClusterForm {
        &self.form
    }

    pub fn issues(&self) -> &[Issue] {
        &self.issues
    }

    pub fn section(&self) -> Section {
        self.section
    }

    pub fn set_section(&mut self, s: Section) {
        self.section = s;
        self.focus = 0;
        self.skip_headings(1);
        self.editing = None;
        self.review_scroll = 0;
    }

    pub fn set_platform(&mut self, name: impl Into<String>) {
        self.platform = name.into();
    }

    /// What is known of the platform, e.g. its published `k8sValidVersions`: the version
    /// chooser offers exactly those releases and the rules judge with them.
    pub fn set_rule_context(&mut self, ctx: rules::RuleContext) {
        // The machines in use come from the engine's watch; a context without them keeps
        // what the watch reported.
        let in_use = std::mem::take(&mut self.ctx.nodes_in_use);
        self.ctx = ctx;
        if self.ctx.nodes_in_use.is_empty() {
            self.ctx.nodes_in_use = in_use;
        }
        self.changed();
    }

    /// Whether a field is being edited (keys go into it).
    pub fn is_editing(&self) -> bool {
        self.editing.is_some()
    }

    /// What quitting now would throw away, for a "discard?" question: `None` when the form
    /// is as a new wizard starts it (or was just submitted). Typed secrets cannot be saved
    /// as drafts, so they are named.
    pub fn unsaved_input(&self) -> Option<String> {
        let blank = ClusterForm::new();
        let dialog_open = self.dialog.is_some() || self.saving.is_some();
        if self.form == blank && self.editing.is_none() && !dialog_open {
            return None;
        }
        let name = if self.form.basic.name.is_empty() {
            "the Create form".to_string()
        } else {
            format!("the Create form for {}", self.form.basic.name)
        };
        let nodes = self.form.nodes().len();
        let secrets = self.form.nodes().iter().any(|n| {
            !n.password.is_empty() || !n.passphrase.is_empty() || !n.proxy.password.is_empty()
        }) || self.dialog.as_ref().is_some_and(|d| {
            !d.entry.ssh_password.is_empty()
                || !d.entry.key_passphrase.is_empty()
                || !d.entry.proxy_password.is_empty()
        });
        if let Some(draft) = self.saved_as_draft()
            && !dialog_open
            && self.editing.is_none()
        {
            // Saved as a draft: only what no draft keeps would be lost.
            return secrets.then(|| {
                format!("the typed passwords of {name} (its draft '{draft}' keeps the rest)")
            });
        }
        let mut what = name;
        if nodes > 0 {
            what.push_str(&format!(" with {nodes} node(s)"));
        }
        if secrets {
            what.push_str(", including typed passwords that are never saved");
        }
        Some(what)
    }

    pub fn errors(&self) -> usize {
        self.issues
            .iter()
            .filter(|i| i.level == Level::Error)
            .count()
    }

    fn recheck(&mut self) {
        self.issues = issues_with(&self.form, &self.ctx);
        self.placed = place(&self.form, &self.ctx, &self.issues);
        let rows = self.rows().len();
        if self.focus >= rows {
            self.focus = rows.saturating_sub(1);
        }
    }

    fn changed(&mut self) {
        self.recheck();
        if matches!(
            self.submit,
            Submit::DryRunOk(_)
                | Submit::DryRunFailed(_)
                | Submit::CreateFailed(_)
                | Submit::Confirming(..)
                | Submit::Created(_)
        ) {
            self.submit = Submit::Idle;
        }
    }

    fn section_errors(&self, s: Section) -> usize {
        self.issues
            .iter()
            .zip(&self.placed)
            .filter(|(i, p)| i.level == Level::Error && p.0 == s)
            .count()
    }

    /// The rows of the current section.
    fn rows(&self) -> Vec<Spec> {
        rows_of(&self.form, &self.ctx, self.section)
    }

    fn skip_headings(&mut self, dir: isize) {
        let rows = self.rows();
        let n = rows.len();
        if n == 0 {
            return;
        }
        for _ in 0..n {
            if !rows[self.focus.min(n - 1)].kind.is_label() {
                return;
            }
            self.focus = ((self.focus as isize + dir).rem_euclid(n as isize)) as usize;
        }
    }

    /// Moves to the next field in `dir`, skipping headings. It stops at the first and last
    /// field instead of wrapping: a silent jump to the other end put typed entries into the
    /// wrong list. The notice says how to reach the next section.
    fn move_focus(&mut self, dir: isize) {
        let rows = self.rows();
        let mut i = self.focus as isize + dir;
        while i >= 0 && (i as usize) < rows.len() {
            if !rows[i as usize].kind.is_label() {
                self.focus = i as usize;
                if matches!(self.notice, Some((Role::Info, _))) {
                    self.notice = None;
                }
                return;
            }
            i += dir;
        }
        let (end, keys) = if dir > 0 {
            ("last", "PgDn or ] goes to the next section")
        } else {
            ("first", "PgUp or [ goes to the previous section")
        };
        self.notice = Some((
            Role::Info,
            format!(
                "{} is the {end} field of {}; {keys}",
                self.focused()
                    .map(|s| s.label.trim().to_string())
                    .unwrap_or_default(),
                self.section.title()
            ),
        ));
    }

    fn focused(&self) -> Option<Spec> {
        self.rows().into_iter().nth(self.focus)
    }

    fn focus_issue(&mut self, index: usize) {
        let Some((section, row)) = self.placed.get(index).copied() else {
            return;
        };
        self.set_section(section);
        if let Some(r) = row {
            self.focus = r;
        }
    }

    fn issue_for(&self, row: usize) -> Option<&Issue> {
        self.issues
            .iter()
            .zip(&self.placed)
            .filter(|(_, p)| p.0 == self.section && p.1 == Some(row))
            .map(|(i, _)| i)
            .min_by_key(|i| i.level)
    }

    /// Moves the focused choice or toggle one step.
    fn cycle(&mut self, id: &FieldId, forward: bool) {
        let Some(notice) = id.cycle(&mut self.form, &self.ctx, forward) else {
            return;
        };
        if let Some(n) = notice {
            self.notice = Some((Role::Info, n.into()));
        }
        self.changed();
    }

    fn activate(&mut self) -> Vec<Effect> {
        let Some(spec) = self.focused() else {
            return Vec::new();
        };
        match (&spec.id, &spec.kind) {
            (_, Kind::Text) => {
                let buffer = spec.id.text(&self.form);
                let buffer = if matches!(spec.id, FieldId::Kv(_, None) | FieldId::ApiUrl(None)) {
                    String::new()
                } else {
                    buffer
                };
                self.editing = Some(Editing {
                    cursor: buffer.chars().count(),
                    buffer,
                    error: None,
                });
                Vec::new()
            }
            (FieldId::Node(i), _) => {
                let i = *i;
                if let Some(n) = self.form.nodes().get(i) {
                    let entry = form_to_entry(n);
                    let d = NodeDialog::edit(entry, i, self.form.is_dual_stack());
                    self.open_dialog(d);
                }
                Vec::new()
            }
            (FieldId::AddNode, _) => self.on_action("add_node"),
            (FieldId::RestoreDraft, _) => self.on_action("restore_draft"),
            (_, Kind::Select(..)) | (_, Kind::Choice(..)) | (_, Kind::Toggle(_)) => {
                self.cycle(&spec.id, true);
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// Whether the focused row is a `< >` choice.
    fn on_choice(&self) -> bool {
        self.section != Section::Review
            && self
                .focused()
                .is_some_and(|s| matches!(s.kind, Kind::Select(..) | Kind::Choice(..)))
    }

    /// Left/Right on a choice step through its values; `None` hands any other key back.
    fn choice_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let forward = match key.code {
            KeyCode::Right => true,
            KeyCode::Left => false,
            _ => return None,
        };
        if key.kind == KeyEventKind::Release || !self.on_choice() {
            return None;
        }
        self.pending_remove = None;
        let id = self.focused()?.id;
        self.cycle(&id, forward);
        Some(Vec::new())
    }

    /// The next or previous section. Like the fields, the sections stop at both ends: a
    /// wrap from Basic Info to Review hid where the form begins.
    fn step_section(&mut self, dir: isize) -> Vec<Effect> {
        let i = self.section.index() as isize + dir;
        match usize::try_from(i).ok().and_then(|i| Section::ALL.get(i)) {
            // Entering the Preflight step starts a run when none describes the form yet.
            Some(Section::Preflight) => {
                self.set_section(Section::Preflight);
                return self.start_preflight(true);
            }
            Some(s) => self.set_section(*s),
            None => {
                let (end, keys) = if dir > 0 {
                    ("last", "PgUp or [ goes back")
                } else {
                    ("first", "PgDn or ] goes on")
                };
                self.notice = Some((
                    Role::Info,
                    format!("{} is the {end} section; {keys}", self.section.title()),
                ));
            }
        }
        Vec::new()
    }

    fn commit_edit(&mut self) -> bool {
        let Some(ed) = self.editing.take() else {
            return true;
        };
        let Some(spec) = self.focused() else {
            return true;
        };
        match spec.id.set_text(&mut self.form, &ed.buffer) {
            Ok(()) => {
                self.notice = None;
                self.changed();
                // A new entry lands above its "add" row: focus stays on that row, so the
                // next Enter adds another entry instead of editing the one just added.
                if matches!(spec.id, FieldId::Kv(_, None) | FieldId::ApiUrl(None))
                    && let Some(i) = self.rows().iter().position(|r| r.id == spec.id)
                {
                    self.focus = i;
                }
                true
            }
            Err(msg) => {
                // The text stays in the editor so that nothing typed is lost; the message
                // sits beside the field and in the footer, which says how to get out.
                self.notice = None;
                self.editing = Some(Editing {
                    error: Some(msg),
                    ..ed
                });
                false
            }
        }
    }
}

impl Pane for WizardPane {
    fn id(&self) -> PaneId {
        PaneId::Create
    }

    fn unsaved_input(&self) -> Option<String> {
        WizardPane::unsaved_input(self)
    }

    /// Also on a `< >` choice, so that Left/Right reach it; every other key goes back to the
    /// keymap.
    /// The keymap's keys are right except while text is typed (the node dialog has its own
    /// key bar); a `< >` choice or the Preflight matrix only take a few raw keys first.
    fn footer_override(&self) -> Option<Vec<(&'static str, &'static str)>> {
        if self.editing.is_some() {
            Some(vec![("Enter", "keep"), ("Esc", "cancel the edit")])
        } else if self.replacing.is_some() {
            Some(vec![("y", "replace the form"), ("n/Esc", "keep it")])
        } else {
            None
        }
    }

    fn wants_text_input(&self) -> bool {
        self.editing.is_some()
            || self.dialog.is_some()
            || self.replacing.is_some()
            || self.on_choice()
            || self.section == Section::Preflight
    }

    fn on_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        if self.dialog.is_some() {
            return self.dialog_key(key);
        }
        if self.replacing.is_some() {
            return self.replacement_key(key);
        }
        if self.section == Section::Preflight && self.editing.is_none() {
            return self.preflight_key(key);
        }
        if self.editing.is_none() {
            return self.choice_key(key);
        }
        let ed = self.editing.as_mut()?;
        if key.kind == KeyEventKind::Release {
            return Some(Vec::new());
        }
        match key.code {
            KeyCode::Esc => {
                self.editing = None;
                self.notice = None;
            }
            KeyCode::Enter => {
                self.commit_edit();
            }
            KeyCode::Tab | KeyCode::Down => {
                if self.commit_edit() {
                    self.move_focus(1);
                }
            }
            KeyCode::BackTab | KeyCode::Up => {
                if self.commit_edit() {
                    self.move_focus(-1);
                }
            }
            _ => {
                let ev = crossterm::event::Event::Key(key);
                let req = tui_input::backend::crossterm::to_input_request(&ev)?;
                ed.cursor = field::edit_text(&mut ed.buffer, ed.cursor, req);
            }
        }
        Some(Vec::new())
    }

    fn on_paste(&mut self, text: &str) -> Vec<Effect> {
        if let Some(d) = self.dialog.as_mut() {
            d.on_paste(text);
        } else if let Some(ed) = self.editing.as_mut() {
            for c in text.chars().filter(|c| !c.is_control()) {
                ed.cursor =
                    field::edit_text(&mut ed.buffer, ed.cursor, InputRequest::InsertChar(c));
            }
        }
        Vec::new()
    }

    fn on_action(&mut self, action: &str) -> Vec<Effect> {
        let Some(action) = CreateAction::parse(action) else {
            return Vec::new();
        };
        // Any other action answers "no" to a pending node removal.
        let pending_remove = self.pending_remove.take();
        match action {
            CreateAction::NextField if self.section == Section::Review => {
                self.review_scroll = self.review_scroll.saturating_add(1).min(self.review_max);
            }
            CreateAction::PrevField if self.section == Section::Review => {
                self.review_scroll = self.review_scroll.saturating_sub(1);
            }
            CreateAction::NextField if self.section == Section::Preflight => self.move_cell(1, 0),
            CreateAction::PrevField if self.section == Section::Preflight => self.move_cell(-1, 0),
            CreateAction::NextField => self.move_focus(1),
            CreateAction::PrevField => self.move_focus(-1),
            CreateAction::NextSection => return self.step_section(1),
            CreateAction::PrevSection => return self.step_section(-1),
            CreateAction::Edit if self.section == Section::Preflight => {
                return self.preflight_enter();
            }
            CreateAction::Edit => {
                if let Submit::Created(name) = &self.submit
                    && self.section == Section::Review
                {
                    return vec![Effect::Open(PaneId::Timeline, Some(name.clone()))];
                }
                return self.activate();
            }
            CreateAction::Toggle => {
                if let Some(spec) = self.focused() {
                    self.cycle(&spec.id, true);
                }
            }
            CreateAction::AddNode => {
                let d = NodeDialog::new(self.form.is_dual_stack());
                self.open_dialog(d);
            }
            CreateAction::RemoveNode => self.remove_focused(pending_remove),
            CreateAction::Review => self.set_section(Section::Review),
            CreateAction::Submit => return self.submit(),
            CreateAction::SaveDraft => return self.save_form_draft(),
            CreateAction::RestoreDraft => {
                return vec![Effect::Engine(Command::drafts(DraftCommand::RestoreLatest))];
            }
            CreateAction::OpenEditor => return self.open_editor(),
            CreateAction::Preflight | CreateAction::RerunNode | CreateAction::AckWarning => {
                return self.preflight_action(action);
            }
        }
        Vec::new()
    }

    fn on_event(&mut self, event: &Event) -> bool {
        match event {
            Event::Kube(KubeEvent::PlatformVersions { versions, .. }) => {
                let published = versions.as_ref().is_some_and(|v| !v.is_empty());
                let versions = versions
                    .clone()
                    .unwrap_or_else(|| rules::RuleContext::default().supported_versions);
                if versions == self.ctx.supported_versions
                    && published == self.ctx.versions_published
                {
                    return false;
                }
                self.ctx.supported_versions = versions;
                self.ctx.versions_published = published;
                self.recheck();
                true
            }
            // A name another cluster already has is an error before anything is sent.
            Event::Kube(KubeEvent::ClustersChanged(delta)) => {
                let mut names = if delta.reset {
                    Default::default()
                } else {
                    self.ctx.existing_clusters.clone()
                };
                for n in &delta.deleted {
                    names.remove(n);
                }
                names.extend(delta.applied.iter().map(|c| c.name.clone()));
                if names == self.ctx.existing_clusters {
                    return false;
                }
                self.ctx.existing_clusters = names;
                self.recheck();
                true
            }
            Event::Kube(KubeEvent::MachinesChanged(delta)) => {
                if delta.reset {
                    self.machines.clear();
                }
                for name in &delta.deleted {
                    self.machines.remove(name);
                }
                for m in &delta.applied {
                    self.machines
                        .insert(m.name.clone(), (m.ip.clone(), m.cluster_name.clone()));
                }
                let in_use: std::collections::BTreeMap<String, String> = self
                    .machines
                    .values()
                    .filter(|(ip, cluster)| !ip.is_empty() && !cluster.is_empty())
                    .map(|(ip, cluster)| (ip.clone(), cluster.clone()))
                    .collect();
                // Machine conditions change often; the rules only care about the addresses.
                if in_use == self.ctx.nodes_in_use {
                    return false;
                }
                self.ctx.nodes_in_use = in_use;
                self.recheck();
                true
            }
            Event::Drafts { event, .. } => self.on_draft_event(event),
            Event::Preflight { id, event } => self.on_preflight_event(*id, event),
            Event::Files { id, event } => self.on_file_event(*id, event),
            Event::Kube(KubeEvent::ClusterCreated {
                id,
                name,
                dry_run,
                result,
                ..
            }) if Some(*id) == self.request && *name == self.form.basic.name => {
                self.on_created(name, *dry_run, result);
                true
            }
            _ => false,
        }
    }

    fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.pending)
    }

    /// `:create draft:<name>` restores a draft into the add-node dialog; `:create <file>`
    /// (`.yaml`, `.yml` or `.json`) loads a Cluster manifest into the form.
    fn on_open(&mut self, target: Option<&str>) -> Vec<Effect> {
        let Some(t) = target else {
            return Vec::new();
        };
        if let Some(name) = t.strip_prefix("draft:") {
            return vec![Effect::Engine(Command::drafts(DraftCommand::Load {
                name: name.to_string(),
                restore: true,
            }))];
        }
        if [".yaml", ".yml", ".json"].iter().any(|e| t.ends_with(e)) {
            return vec![self.read_manifest(t)];
        }
        Vec::new()
    }

    /// Submitting is dimmed while an error or the preflight holds it back.
    fn action_available(&self, action: &str) -> bool {
        match CreateAction::parse(action) {
            Some(CreateAction::Submit) => self.errors() == 0 && self.preflight_block().is_none(),
            Some(CreateAction::RerunNode | CreateAction::AckWarning) => self.preflight.is_some(),
            _ => true,
        }
    }

    /// The spinner turns only while a preflight node runs.
    fn tick_interval(&self, _now: chrono::DateTime<chrono::Utc>) -> Option<std::time::Duration> {
        let running = self.preflight.as_ref().is_some_and(|r| r.running() > 0);
        (running && self.section == Section::Preflight).then_some(preflight_view::SPIN_EVERY)
    }

    fn on_resumed(&mut self, tag: &str, ok: bool) -> Vec<Effect> {
        self.editor_resumed(tag, ok)
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        self.render_pane(frame, area, ctx);
    }
}
