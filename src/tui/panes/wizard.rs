//! The Create pane: ACP's "Create Cluster" page as a wizard.
//!
//! Sections Basic Info, Container Network, Node Settings and Extended Parameters edit a
//! [`ClusterForm`]; Review shows the exact YAML with secrets masked. Every change re-runs the
//! creation rules, whose findings sit beside their fields and in a summary; Create stays
//! disabled while any error remains. Submitting runs a server-side dry run first, then asks
//! the safety gate to create.

pub mod node_dialog;

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use tui_input::InputRequest;

use self::node_dialog::{NodeDialog, NodeEntry, Outcome};
use super::{
    Access, CommandArg, Effect, Guarded, Pane, PaneId, PaneSpec, RenderCtx, SuspendJob,
    pane_actions,
};
use crate::config::theme::{Role, Theme};
use crate::domain::cluster::{Cluster, MASK};
use crate::domain::draft::{NodeType, SshAuth};
use crate::domain::form::{
    self, ClusterForm, Cni, ContainerRuntime, ImageRegistry, IpStack, MonitoringKind, NodeForm,
    NodeNaming, Secret, TransmitMode, VmDeploy,
};
use crate::domain::rules;
use crate::engine::kube::{KubeCommand, KubeEvent};
use crate::engine::store::{DraftCommand, DraftEvent, StoreError};
use crate::engine::{Command, Event, RequestId};
use crate::tui::widgets::form_field::{self as field, Level, Row, Value};

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
        SaveDraft = new("save_draft", "save as a draft"),
        RestoreDraft = new("restore_draft", "restore a draft"),
        OpenEditor = new("open_editor", "edit the manifest in $EDITOR"),
        RemoveNode = new("remove_node", "remove the selected node"),
    }
}

pub static SPEC: PaneSpec = PaneSpec {
    id: PaneId::Create,
    title: "Create",
    command: CommandArg::Optional("[file.yaml]"),
    command_help: "the creation wizard; a manifest or draft:<name> fills it",
    actions: CreateAction::SPECS,
    build: |_| Box::new(WizardPane::new()),
    demo: || Box::new(WizardPane::demo()),
};

/// Tag of the `$EDITOR` job, so the resumed pane knows what to re-import.
pub const EDITOR_TAG: &str = "wizard-yaml";
/// Largest private key file read from a key path.
const MAX_KEY_BYTES: u64 = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Basic,
    Network,
    Nodes,
    Extended,
    Review,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Basic,
        Section::Network,
        Section::Nodes,
        Section::Extended,
        Section::Review,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Section::Basic => "Basic Info",
            Section::Network => "Container Network",
            Section::Nodes => "Node Settings",
            Section::Extended => "Extended Parameters",
            Section::Review => "Review",
        }
    }

    /// For narrow terminals.
    pub fn short_title(self) -> &'static str {
        match self {
            Section::Basic => "Basic",
            Section::Network => "Network",
            Section::Nodes => "Nodes",
            Section::Extended => "Extended",
            Section::Review => "Review",
        }
    }

    fn index(self) -> usize {
        Section::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// The extra-args and annotation maps edited as key-value lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvMap {
    Docker,
    Kubelet,
    ControllerManager,
    Scheduler,
    ApiServer,
    Annotations,
}

impl KvMap {
    fn label(self) -> &'static str {
        match self {
            KvMap::Docker => "Docker Parameters",
            KvMap::Kubelet => "Kubelet Parameters",
            KvMap::ControllerManager => "Controller Manager Parameters",
            KvMap::Scheduler => "Scheduler Parameters",
            KvMap::ApiServer => "APIServer Parameters",
            KvMap::Annotations => "Cluster Annotations",
        }
    }

    fn path(self) -> &'static str {
        match self {
            KvMap::Docker => "spec.dockerExtraArgs",
            KvMap::Kubelet => "spec.kubeletExtraArgs",
            KvMap::ControllerManager => "spec.controllerManagerExtraArgs",
            KvMap::Scheduler => "spec.schedulerExtraArgs",
            KvMap::ApiServer => "spec.apiServerExtraArgs",
            KvMap::Annotations => "metadata.annotations",
        }
    }

    fn get(self, f: &ClusterForm) -> &std::collections::BTreeMap<String, String> {
        let e = &f.extended;
        match self {
            KvMap::Docker => &e.docker_args,
            KvMap::Kubelet => &e.kubelet_args,
            KvMap::ControllerManager => &e.controller_manager_args,
            KvMap::Scheduler => &e.scheduler_args,
            KvMap::ApiServer => &e.apiserver_args,
            KvMap::Annotations => &e.annotations,
        }
    }

    fn get_mut(self, f: &mut ClusterForm) -> &mut std::collections::BTreeMap<String, String> {
        let e = &mut f.extended;
        match self {
            KvMap::Docker => &mut e.docker_args,
            KvMap::Kubelet => &mut e.kubelet_args,
            KvMap::ControllerManager => &mut e.controller_manager_args,
            KvMap::Scheduler => &mut e.scheduler_args,
            KvMap::ApiServer => &mut e.apiserver_args,
            KvMap::Annotations => &mut e.annotations,
        }
    }
}

/// One row of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldId {
    Name,
    DisplayName,
    Version,
    Runtime,
    RuntimeVersion,
    IpStack,
    Endpoint,
    SelfBuiltVip,
    Vrid,
    ExternalAccess,
    PlatformUrl,
    ImageRegistry,
    PrivateRegistry,
    Cni,
    ClusterCidr,
    Transmit,
    Gateway,
    VlanId,
    ReservedIps,
    ServiceCidr,
    JoinCidr,
    NodeIpCount,
    Nic,
    NodeNaming,
    Node(usize),
    AddNode,
    RestoreDraft,
    Monitoring,
    VmDeploy,
    VmInstance,
    MonitoringNode(String),
    /// An entry of a map (`Some(key)`) or its "add" row (`None`).
    Kv(KvMap, Option<String>),
    /// An APIServer URL (`Some(index)`) or the "add" row.
    ApiUrl(Option<usize>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Text,
    Select(Vec<&'static str>, usize),
    /// A choice among values known only at run time (the platform's Kubernetes versions).
    Choice(Vec<String>, usize),
    Toggle(bool),
    Button,
    Node,
    Heading,
}

#[derive(Debug, Clone)]
struct Spec {
    id: FieldId,
    label: String,
    kind: Kind,
    required: bool,
    /// Where findings for this row are reported (`ClusterForm` field path).
    path: String,
    placeholder: &'static str,
}

impl Spec {
    fn new(id: FieldId, label: impl Into<String>, kind: Kind, path: impl Into<String>) -> Self {
        Spec {
            id,
            label: label.into(),
            kind,
            required: false,
            path: path.into(),
            placeholder: "",
        }
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn hint(mut self, p: &'static str) -> Self {
        self.placeholder = p;
        self
    }
}

/// One finding, in the form the pane shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub path: String,
    pub level: Level,
    pub message: String,
    pub hint: Option<String>,
}

/// Runs the creation rules over the form, with what is known of a platform by default.
pub fn issues_of(form: &ClusterForm) -> Vec<Issue> {
    issues_with(form, &rules::RuleContext::default())
}

fn level_of(s: rules::Severity) -> Level {
    match s {
        rules::Severity::Error => Level::Error,
        rules::Severity::Warning => Level::Warning,
        rules::Severity::Info => Level::Info,
    }
}

/// Runs the creation rules over the form with what is known of the platform.
pub fn issues_with(form: &ClusterForm, ctx: &rules::RuleContext) -> Vec<Issue> {
    let mut out: Vec<Issue> = rules::check(form, ctx)
        .into_iter()
        .map(|f| Issue {
            path: f.field,
            level: level_of(f.severity),
            message: f.message,
            hint: (!f.hint.is_empty()).then_some(f.hint),
        })
        .collect();
    out.sort_by_key(|i| i.level);
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Submit {
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
    editor_file: Option<PathBuf>,
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
            platform: "the platform".into(),
            saving: None,
            pending: Vec::new(),
            ctx: rules::RuleContext::default(),
            readonly: false,
            machines: std::collections::HashMap::new(),
            pending_remove: None,
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
            if rows[self.focus.min(n - 1)].kind != Kind::Heading {
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
            if rows[i as usize].kind != Kind::Heading {
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

    fn text_of(&self, id: &FieldId) -> String {
        let f = &self.form;
        match id {
            FieldId::Name => f.basic.name.clone(),
            FieldId::DisplayName => f.basic.display_name.clone(),
            FieldId::Version => f.basic.kubernetes_version.clone(),
            FieldId::RuntimeVersion => f.basic.runtime_version.clone(),
            FieldId::Endpoint => f.basic.endpoint.address.clone(),
            FieldId::Vrid => f.basic.endpoint.vrid.to_string(),
            FieldId::ExternalAccess => f.basic.external_access.clone(),
            FieldId::PlatformUrl => f.basic.platform_url.clone(),
            FieldId::PrivateRegistry => f.basic.private_registry.clone(),
            FieldId::ClusterCidr => f.network.cluster_cidr.clone(),
            FieldId::Gateway => f.network.kube_ovn.gateway.clone(),
            FieldId::VlanId => f.network.kube_ovn.vlan_id.to_string(),
            FieldId::ReservedIps => f.network.kube_ovn.reserved_ips.clone(),
            FieldId::ServiceCidr => f.network.service_cidr.clone(),
            FieldId::JoinCidr => f.network.kube_ovn.join_cidr.clone(),
            FieldId::NodeIpCount => f.network.node_ip_count.to_string(),
            FieldId::Nic => f.node_settings.nic.clone(),
            FieldId::VmInstance => f.node_settings.monitoring.vm_instance.clone(),
            FieldId::Kv(m, Some(k)) => {
                format!("{k}={}", m.get(f).get(k).cloned().unwrap_or_default())
            }
            FieldId::ApiUrl(Some(i)) => f
                .extended
                .apiserver_urls
                .get(*i)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// Stores an edited text; returns a message when the text is not acceptable.
    fn set_text(&mut self, id: &FieldId, v: String) -> Result<(), String> {
        // Any whole number is stored, so that the rules judge its range and the finding
        // beside the field always describes the value just entered; only text that is no
        // number at all stays in the editor.
        let num = |v: &str, what: &str, range: &str| -> Result<u32, String> {
            let t = v.trim();
            t.parse::<u32>().map_err(|_| {
                if t.is_empty() {
                    format!("{what} is empty: enter a whole number from {range}")
                } else {
                    format!("`{t}` is not a whole number: {what} takes one from {range}")
                }
            })
        };
        let f = &mut self.form;
        match id {
            FieldId::Name => f.basic.name = v.trim().to_string(),
            FieldId::DisplayName => f.basic.display_name = v,
            FieldId::Version => f.basic.kubernetes_version = v.trim().to_string(),
            FieldId::RuntimeVersion => f.basic.runtime_version = v.trim().to_string(),
            FieldId::Endpoint => f.basic.endpoint.address = v.trim().to_string(),
            FieldId::Vrid => f.basic.endpoint.vrid = num(&v, "VRID", "1 to 255")?,
            FieldId::ExternalAccess => f.basic.external_access = v.trim().to_string(),
            FieldId::PlatformUrl => f.basic.platform_url = v.trim().to_string(),
            FieldId::PrivateRegistry => f.basic.private_registry = v.trim().to_string(),
            FieldId::ClusterCidr => f.network.cluster_cidr = v.replace(' ', ""),
            FieldId::Gateway => f.network.kube_ovn.gateway = v.trim().to_string(),
            FieldId::VlanId => f.network.kube_ovn.vlan_id = num(&v, "VLAN ID", "0 to 4095")?,
            FieldId::ReservedIps => f.network.kube_ovn.reserved_ips = v.replace(' ', ""),
            FieldId::ServiceCidr => f.network.service_cidr = v.replace(' ', ""),
            FieldId::JoinCidr => f.network.kube_ovn.join_cidr = v.replace(' ', ""),
            FieldId::NodeIpCount => {
                let n = num(&v, "Node IP Count", "1 to 256 (recommended)")?;
                // The resource holds it as a 32-bit signed number.
                if n > i32::MAX as u32 {
                    return Err(format!(
                        "{n} is too large for Node IP Count: enter a whole number from 1 to 256 (recommended)"
                    ));
                }
                f.network.node_ip_count = n
            }
            FieldId::Nic => f.node_settings.nic = v.trim().to_string(),
            FieldId::VmInstance => f.node_settings.monitoring.vm_instance = v.trim().to_string(),
            FieldId::Kv(m, old) => {
                let v = v.trim();
                let map = m.get_mut(f);
                if let Some(k) = old {
                    map.remove(k);
                }
                if !v.is_empty() {
                    let Some((k, val)) = v.split_once('=') else {
                        return Err(
                            "write the entry as key=value (flag names without --), e.g. max-pods=110; \
                             an empty entry removes it"
                        .to_string());
                    };
                    let k = k.trim().trim_start_matches("--").to_string();
                    if k.is_empty() {
                        return Err("the key before '=' cannot be empty".into());
                    }
                    map.insert(k, val.trim().to_string());
                }
            }
            FieldId::ApiUrl(i) => {
                let v = v.trim().to_string();
                let urls = &mut f.extended.apiserver_urls;
                match (i, v.is_empty()) {
                    (Some(i), true) if *i < urls.len() => {
                        urls.remove(*i);
                    }
                    (Some(i), false) if *i < urls.len() => urls[*i] = v,
                    (_, false) => urls.push(v),
                    _ => {}
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn cycle(&mut self, id: &FieldId, forward: bool) {
        let f = &mut self.form;
        match id {
            FieldId::Version => {
                let offered = &self.ctx.supported_versions;
                if offered.is_empty() {
                    return;
                }
                let cur = f.basic.kubernetes_version.trim();
                let next = match offered.iter().position(|o| o.trim() == cur) {
                    Some(i) => step(i, offered.len(), forward),
                    // Not one of the offered releases: start at the newest.
                    None => 0,
                };
                f.basic.kubernetes_version = offered[next].trim().to_string();
            }
            FieldId::Runtime => {
                f.basic.container_runtime = match f.basic.container_runtime {
                    ContainerRuntime::Containerd => ContainerRuntime::Docker,
                    ContainerRuntime::Docker => ContainerRuntime::Containerd,
                }
            }
            FieldId::IpStack => {
                // Dual stack sits between the single stacks, so that moving from either one
                // to dual stack keeps that family's CIDRs.
                let order = [IpStack::Ipv4, IpStack::DualStack, IpStack::Ipv6];
                let i = order
                    .iter()
                    .position(|s| *s == f.basic.ip_stack)
                    .unwrap_or(0);
                let next = order[step(i, order.len(), forward)];
                f.basic.ip_stack = next;
                // The protocol decides the CIDR families: the user's CIDRs of a family it
                // keeps stay, a family it adds gets ACP's default.
                let kept = f.network.adapt_cidrs(next);
                self.notice = Some((
                    Role::Info,
                    if kept {
                        "Network protocol changed: your CIDRs of the remaining family were kept, \
                         the added family got ACP's defaults; check Container Network"
                    } else {
                        "Network protocol changed: the CIDRs are ACP's defaults for it"
                    }
                    .into(),
                ));
            }
            FieldId::SelfBuiltVip => {
                f.basic.endpoint.self_built_vip = !f.basic.endpoint.self_built_vip
            }
            FieldId::ImageRegistry => {
                let order = [
                    ImageRegistry::PlatformBuiltIn,
                    ImageRegistry::Private,
                    ImageRegistry::Public,
                ];
                let i = order
                    .iter()
                    .position(|r| *r == f.basic.image_registry)
                    .unwrap_or(0);
                f.basic.image_registry = order[step(i, order.len(), forward)];
            }
            FieldId::Cni => {
                let order = [Cni::KubeOvn, Cni::Calico, Cni::Flannel, Cni::Custom];
                let i = order.iter().position(|c| *c == f.network.cni).unwrap_or(0);
                f.network.cni = order[step(i, order.len(), forward)];
            }
            FieldId::Transmit => {
                f.network.kube_ovn.transmit = match f.network.kube_ovn.transmit {
                    TransmitMode::Overlay => TransmitMode::Underlay,
                    TransmitMode::Underlay => TransmitMode::Overlay,
                }
            }
            FieldId::NodeNaming => {
                f.node_settings.node_naming = match f.node_settings.node_naming {
                    NodeNaming::Ip => NodeNaming::Hostname,
                    NodeNaming::Hostname => NodeNaming::Ip,
                }
            }
            FieldId::Monitoring => {
                let m = &mut f.node_settings.monitoring;
                m.kind = match m.kind {
                    MonitoringKind::Prometheus => MonitoringKind::VictoriaMetrics,
                    MonitoringKind::VictoriaMetrics => MonitoringKind::Prometheus,
                }
            }
            FieldId::VmDeploy => {
                let m = &mut f.node_settings.monitoring;
                m.vm_deploy = match m.vm_deploy {
                    VmDeploy::Full => VmDeploy::AgentOnly,
                    VmDeploy::AgentOnly => VmDeploy::Full,
                }
            }
            FieldId::MonitoringNode(ip) => {
                let nodes = &mut f.node_settings.monitoring.nodes;
                if let Some(i) = nodes.iter().position(|n| n == ip) {
                    nodes.remove(i);
                } else {
                    nodes.push(ip.clone());
                }
            }
            _ => return,
        }
        self.changed();
    }

    fn open_dialog(&mut self, dialog: NodeDialog) {
        let mut d = dialog;
        d.ipv6_only = self.form.basic.ip_stack == IpStack::Ipv6;
        self.refresh_dialog_findings(&mut d);
        self.dialog = Some(d);
    }

    /// Runs the rules with the dialog's node in place, so the dialog shows the same findings
    /// the node would get in the form.
    fn refresh_dialog_findings(&self, d: &mut NodeDialog) {
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

    fn dialog_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
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
            Outcome::Cancel => Vec::new(),
            Outcome::SaveDraft { node, existing } => {
                self.notice = Some((Role::Info, "Saving the node as a draft...".into()));
                self.saving = Some(d);
                vec![Effect::Engine(Command::drafts(DraftCommand::Save {
                    node,
                    existing,
                }))]
            }
            Outcome::Add(entry) => match entry_to_form(&entry) {
                Ok(node) => {
                    let nodes = &mut self.form.node_settings.nodes;
                    let msg = match d.editing {
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
                    Vec::new()
                }
                Err(msg) => {
                    d.notice = Some(msg);
                    self.dialog = Some(d);
                    Vec::new()
                }
            },
        };
        Some(effects)
    }

    fn activate(&mut self) -> Vec<Effect> {
        let Some(spec) = self.focused() else {
            return Vec::new();
        };
        match (&spec.id, &spec.kind) {
            (_, Kind::Text) => {
                let buffer = self.text_of(&spec.id);
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

    fn commit_edit(&mut self) -> bool {
        let Some(ed) = self.editing.take() else {
            return true;
        };
        let Some(spec) = self.focused() else {
            return true;
        };
        match self.set_text(&spec.id, ed.buffer.clone()) {
            Ok(()) => {
                self.notice = None;
                self.changed();
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

    /// The resource as YAML with secrets masked; the temporary resource's secrets are wiped.
    fn masked_yaml(&self) -> Result<String, form::ExportError> {
        let mut c = self.form.to_cluster();
        let out = form::to_yaml(&c, true);
        wipe_secrets(&mut c);
        out
    }

    fn cluster_name(&self) -> String {
        self.form.basic.name.clone()
    }

    fn fingerprint(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        // The masked YAML covers every field but the secrets; secrets do not change what the
        // dry run checks.
        self.masked_yaml().unwrap_or_default().hash(&mut h);
        h.finish()
    }

    fn submit(&mut self) -> Vec<Effect> {
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
                self.submit = Submit::Confirming(fp, name.clone());
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

    fn new_request(&mut self) -> RequestId {
        let id = RequestId::next();
        self.request = Some(id);
        id
    }

    /// Writes the masked YAML to a private temporary file and hands it to `$EDITOR`.
    fn open_editor(&mut self) -> Vec<Effect> {
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

    fn render_tabs(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let mut spans = Vec::new();
        let short = area.width < 110;
        for (i, s) in Section::ALL.iter().enumerate() {
            let errs = self.section_errors(*s);
            let title = if short { s.short_title() } else { s.title() };
            let label = if errs > 0 && *s != Section::Review {
                format!(" {} {title} ({errs}x) ", i + 1)
            } else {
                format!(" {} {title} ", i + 1)
            };
            let st = if *s == self.section {
                theme.style(Role::Selection)
            } else if errs > 0 && *s != Section::Review {
                theme.style(Role::Fail)
            } else {
                theme.style(Role::Muted)
            };
            spans.push(Span::styled(label, st));
            spans.push(Span::raw(" "));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
    }

    fn render_rows(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let rows = self.rows();
        let label_w = field::label_width(area);
        let h = area.height as usize;
        let top = if self.focus >= h {
            self.focus + 1 - h
        } else {
            0
        };
        let stack_labels = [
            "IPv4 single stack",
            "IPv6 single stack",
            "IPv4/IPv6 dual stack",
        ];
        let _ = stack_labels;
        for (i, spec) in rows.iter().enumerate().skip(top).take(h) {
            let y = area.y + (i - top) as u16;
            let r = Rect {
                x: area.x,
                y,
                width: area.width,
                height: 1,
            };
            if spec.kind == Kind::Heading {
                let mut spans = vec![Span::styled(spec.label.clone(), theme.style(Role::Title))];
                if let Some(issue) = self.issue_for(i) {
                    spans.push(Span::styled(
                        format!("  {} {}", issue.level.marker(), issue.message),
                        theme.style(issue.level.role()),
                    ));
                }
                frame.render_widget(Paragraph::new(Line::from(spans)), r);
                continue;
            }
            let focused = i == self.focus && self.dialog.is_none();
            let editing = focused && self.editing.is_some();
            let text_value = match &self.editing {
                Some(ed) if editing => ed.buffer.clone(),
                _ => self.text_of(&spec.id),
            };
            let node_text;
            let choice: Vec<&str>;
            let value = match &spec.kind {
                Kind::Text => Value::Text {
                    value: &text_value,
                    placeholder: spec.placeholder,
                },
                Kind::Select(opts, sel) => Value::Select {
                    options: opts,
                    selected: *sel,
                },
                Kind::Choice(opts, sel) => {
                    choice = opts.iter().map(String::as_str).collect();
                    Value::Select {
                        options: &choice,
                        selected: *sel,
                    }
                }
                Kind::Toggle(on) => Value::Toggle(*on),
                Kind::Button => Value::Button,
                Kind::Node => {
                    node_text = match &spec.id {
                        FieldId::Node(n) => self
                            .form
                            .nodes()
                            .get(*n)
                            .map(node_summary)
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    Value::ReadOnly(&node_text)
                }
                Kind::Heading => Value::ReadOnly(""),
            };
            let issue = self.issue_for(i).map(|i| (i.level, i.message.as_str()));
            // ACP shows Flannel's node capacity under the field; here it sits beside both the
            // CIDR and the count that decide it, with the rules' verdict (the more serious of
            // the two wins, so a full CIDR is never shown as a mere warning on the count).
            let capacity = match spec.id {
                FieldId::ClusterCidr | FieldId::NodeIpCount => {
                    rules::flannel_hint(&self.form).map(|(sev, msg)| (level_of(sev), msg))
                }
                _ => None,
            };
            let capacity = capacity.as_ref().map(|(l, m)| (*l, m.as_str()));
            let finding = match (issue, capacity) {
                (Some(a), Some(b)) if b.0 < a.0 => Some(b),
                (a, b) => a.or(b),
            };
            // While editing, the stored value's findings no longer describe the text on
            // screen: the row shows why the last Enter failed, or that it is being edited.
            let finding = match &self.editing {
                Some(ed) if editing => Some(match &ed.error {
                    Some(e) => (Level::Error, e.as_str()),
                    None => (Level::Info, EDITING_CUE),
                }),
                _ => finding,
            };
            let row = Row {
                label: &spec.label,
                value,
                required: spec.required,
                finding,
            };
            let (line, cur) = field::line(
                &row,
                area.width,
                label_w,
                focused,
                self.editing.as_ref().filter(|_| editing).map(|e| e.cursor),
                theme,
            );
            frame.render_widget(Paragraph::new(line), r);
            if let Some(c) = cur
                && c < area.width
            {
                frame.set_cursor_position((area.x + c, y));
            }
        }
    }

    fn render_summary(&self, frame: &mut Frame, area: Rect, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(
                format!(
                    " Findings: {} error(s), {} warning(s) ",
                    self.errors(),
                    self.issues
                        .iter()
                        .filter(|i| i.level == Level::Warning)
                        .count()
                ),
                theme.style(Role::Title),
            ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let mut lines = Vec::new();
        if self.issues.is_empty() {
            lines.push(Line::from(Span::styled(
                "No findings: every creation rule passes.",
                theme.style(Role::Ok),
            )));
        }
        for i in self.issues.iter().take(inner.height as usize) {
            let mut spans = vec![
                Span::styled(
                    format!("{} ", i.level.marker()),
                    theme.style(i.level.role()),
                ),
                Span::styled(format!("{}: ", i.path), theme.style(Role::Muted)),
                Span::styled(i.message.clone(), theme.style(Role::Text)),
            ];
            if let Some(h) = &i.hint {
                spans.push(Span::styled(format!(" ({h})"), theme.style(Role::Muted)));
            }
            lines.push(Line::from(spans));
        }
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), inner);
    }

    fn render_review(&mut self, frame: &mut Frame, area: Rect, theme: &Theme, readonly: bool) {
        let yaml = self.masked_yaml().unwrap_or_else(|e| format!("# {e}"));
        let wide = area.width >= 110;
        let parts = Layout::default()
            .direction(if wide {
                Direction::Horizontal
            } else {
                Direction::Vertical
            })
            .constraints([Constraint::Percentage(60), Constraint::Percentage(40)])
            .split(area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(
                " Cluster YAML (secrets masked) ",
                theme.style(Role::Title),
            ));
        let lines: Vec<Line> = yaml
            .lines()
            .map(|l| {
                let st = if l.contains(MASK) {
                    theme.style(Role::Warn)
                } else {
                    theme.style(Role::Text)
                };
                Line::from(Span::styled(l.to_string(), st))
            })
            .collect();
        // Scrolling stops at the last line: going past it only left an empty panel that
        // took as many key presses to come back from.
        let visible = parts[0].height.saturating_sub(2);
        self.review_max = u16::try_from(lines.len())
            .unwrap_or(u16::MAX)
            .saturating_sub(visible);
        self.review_scroll = self.review_scroll.min(self.review_max);
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .scroll((self.review_scroll, 0)),
            parts[0],
        );
        let right = parts[1];
        let errors = self.errors();
        let (role, state) = self.submit_state(errors, readonly);
        // Room for the whole state message, so a refusal's reason and fix are never cut; the
        // findings keep at least half of the column.
        let text_w = usize::from(right.width.saturating_sub(1).max(1));
        let state_lines = state.chars().count().div_ceil(text_w) as u16 + 1;
        let status_h = (2 + state_lines)
            .min(right.height / 2)
            .max(4.min(right.height));
        let status = Rect {
            height: status_h,
            ..right
        };
        let summary = Rect {
            y: right.y + status_h,
            height: right.height.saturating_sub(status_h),
            ..right
        };
        let create_style = if errors > 0 {
            theme.style(Role::Muted)
        } else {
            theme.style(Role::Key)
        };
        let status_lines = vec![
            Line::from(vec![
                Span::styled("[ Create ]", create_style),
                Span::raw("  "),
                Span::styled("[ Open in $EDITOR ]", theme.style(Role::Key)),
            ]),
            Line::from(Span::styled(state, theme.style(role))),
        ];
        frame.render_widget(
            Paragraph::new(status_lines).wrap(Wrap { trim: true }),
            Rect {
                x: status.x + 1,
                width: status.width.saturating_sub(1),
                ..status
            },
        );
        self.render_summary(frame, summary, theme);
    }

    /// The Review's state line: what submit does next, or why it cannot.
    fn submit_state(&self, errors: usize, readonly: bool) -> (Role, String) {
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

fn step(i: usize, n: usize, forward: bool) -> usize {
    if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }
}

/// Maps a rule's node-relative field name onto the dialog's field keys.
fn dialog_key(rest: &str) -> &str {
    match rest {
        "ip" => "ipv4",
        "username" => "sshUser",
        "port" => "sshPort",
        "publicIP" => "sshIp",
        "networkDevice" => "nic",
        "privateKey" => "keyPath",
        "passPhrase" => "passphrase",
        "role" => "type",
        "proxy.type" => "proxy",
        other => other,
    }
}

/// Rules name a node's form-only fields `form.nodes[i]`; rows use the resource path.
fn normalize(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("form.nodes[") {
        Some(rest) => format!("spec.machines[{rest}").into(),
        None => path.into(),
    }
}

fn path_matches(issue: &str, row: &str) -> bool {
    !row.is_empty()
        && (issue == row
            || (issue.starts_with(row)
                && matches!(issue.as_bytes().get(row.len()), Some(b'.') | Some(b'['))))
}

/// Puts each issue on the row whose path matches it most closely, in any section.
fn place(
    form: &ClusterForm,
    ctx: &rules::RuleContext,
    issues: &[Issue],
) -> Vec<(Section, Option<usize>)> {
    let sections: Vec<(Section, Vec<Spec>)> = Section::ALL
        .iter()
        .filter(|s| **s != Section::Review)
        .map(|s| (*s, rows_of(form, ctx, *s)))
        .collect();
    issues
        .iter()
        .map(|i| {
            let p = normalize(&i.path);
            let mut best: Option<(usize, Section, usize)> = None;
            for (s, rows) in &sections {
                for (r, spec) in rows.iter().enumerate() {
                    if path_matches(&p, &spec.path)
                        && best.is_none_or(|(len, _, _)| spec.path.len() > len)
                    {
                        best = Some((spec.path.len(), *s, r));
                    }
                }
            }
            match best {
                Some((_, s, r)) => (s, Some(r)),
                None => (Section::Review, None),
            }
        })
        .collect()
}

fn node_summary(n: &NodeForm) -> String {
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

/// The dialog's node as a form node, reading the private key file for key logins.
fn entry_to_form(e: &NodeEntry) -> Result<NodeForm, String> {
    let mut n = entry_to_form_lenient(e);
    if e.node.auth == SshAuth::Key {
        n.private_key = read_key(&e.node.key_path)?;
    }
    Ok(n)
}

/// The dialog's node as a form node without touching the disk (for live findings).
fn entry_to_form_lenient(e: &NodeEntry) -> NodeForm {
    let mut n = NodeForm::from_draft(&e.node);
    n.password = secret_of(&e.ssh_password);
    n.passphrase = secret_of(&e.key_passphrase);
    n.proxy.password = secret_of(&e.proxy_password);
    if e.node.auth == SshAuth::Key && !e.node.key_path.trim().is_empty() {
        // A placeholder so that "a key is required" does not fire before the file is read.
        n.private_key = secret_of("key file");
    }
    n
}

fn form_to_entry(n: &NodeForm) -> NodeEntry {
    let mut e = NodeEntry::new(n.to_draft());
    e.ssh_password.push_str(n.password.expose());
    e.key_passphrase.push_str(n.passphrase.expose());
    e.proxy_password.push_str(n.proxy.password.expose());
    e
}

fn expand_home(p: &str) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(p)
}

fn read_key(path: &str) -> Result<Secret, String> {
    let p = expand_home(path.trim());
    let meta = std::fs::metadata(&p).map_err(|e| {
        format!(
            "cannot read the private key file {}: {e}; check the path",
            p.display()
        )
    })?;
    if meta.len() > MAX_KEY_BYTES {
        return Err(format!(
            "{} is {} bytes, too large for a private key; choose the key file itself",
            p.display(),
            meta.len()
        ));
    }
    let bytes = zeroize::Zeroizing::new(std::fs::read(&p).map_err(|e| {
        format!(
            "cannot read the private key file {}: {e}; check its permissions",
            p.display()
        )
    })?);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        format!(
            "{} is not a text (PEM/OpenSSH) private key file",
            p.display()
        )
    })?;
    if !text.contains("PRIVATE KEY") {
        return Err(format!(
            "{} does not look like a private key (no PRIVATE KEY block); choose the private, \
             not the .pub, file",
            p.display()
        ));
    }
    Ok(Secret::new(text))
}

/// Creates a file only this user can read, failing if it exists.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
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
fn wipe_secrets(c: &mut Cluster) {
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

fn rows_of(f: &ClusterForm, ctx: &rules::RuleContext, section: Section) -> Vec<Spec> {
    use crate::domain::cluster::annotations as ann;
    use FieldId as F;
    use Kind as K;
    let a = |k: &str| format!("metadata.annotations[\"{k}\"]");
    let (a_runtime, a_platform, a_network, a_transmit) = (
        a(ann::CONTAINER_RUNTIME),
        a(ann::PLATFORM_URL),
        a(ann::NETWORK_TYPE),
        a(ann::TRANSMIT_TYPE),
    );
    let (a_gateway, a_vlan, a_exclude, a_join) = (
        a(ann::GATEWAY),
        a(ann::VLAN_ID),
        a(ann::EXCLUDE_IPS),
        a(ann::JOIN_CIDR),
    );
    let mut v = Vec::new();
    match section {
        Section::Basic => {
            v.push(
                Spec::new(F::Name, "Cluster Name", K::Text, "metadata.name")
                    .required()
                    .hint("1-32 chars, e.g. prod-east"),
            );
            v.push(
                Spec::new(F::DisplayName, "Display Name", K::Text, "spec.displayName")
                    .hint("optional"),
            );
            // A choice, not free text: the platform takes only the releases it lists.
            let (versions, chosen) =
                version_choice(&ctx.supported_versions, &f.basic.kubernetes_version);
            v.push(
                Spec::new(
                    F::Version,
                    "Kubernetes Version",
                    K::Choice(versions, chosen),
                    "spec.version",
                )
                .required(),
            );
            let rt = (f.basic.container_runtime == ContainerRuntime::Docker) as usize;
            v.push(Spec::new(
                F::Runtime,
                "Container Runtime",
                K::Select(vec!["Containerd", "Docker"], rt),
                a_runtime.clone(),
            ));
            v.push(
                Spec::new(
                    F::RuntimeVersion,
                    "Runtime Version",
                    K::Text,
                    a_runtime.clone(),
                )
                .hint("e.g. 1.6.28-4; empty: platform default"),
            );
            let st = match f.basic.ip_stack {
                IpStack::Ipv4 => 0,
                IpStack::Ipv6 => 1,
                IpStack::DualStack => 2,
            };
            v.push(Spec::new(
                F::IpStack,
                "Cluster Network Protocol",
                K::Select(
                    vec![
                        "IPv4 single stack",
                        "IPv6 single stack",
                        "IPv4/IPv6 dual stack",
                    ],
                    st,
                ),
                "spec.features.ipv6DualStack",
            ));
            v.push(
                Spec::new(
                    F::Endpoint,
                    "IP Address / Domain",
                    K::Text,
                    "spec.features.ha",
                )
                .required()
                .hint("load balancer VIP or domain"),
            );
            v.push(Spec::new(
                F::SelfBuiltVip,
                "Self-Built VIP",
                K::Toggle(f.basic.endpoint.self_built_vip),
                "",
            ));
            if f.basic.endpoint.self_built_vip {
                v.push(
                    Spec::new(F::Vrid, "VRID", K::Text, "spec.features.ha.tke.vrid")
                        .required()
                        .hint("1-255, unique in the subnet"),
                );
            }
            v.push(
                Spec::new(
                    F::ExternalAccess,
                    "External Access",
                    K::Text,
                    "form.externalAccess",
                )
                .hint("when not on global's network"),
            );
            v.push(
                Spec::new(
                    F::PlatformUrl,
                    "Platform URL (global)",
                    K::Text,
                    a_platform.clone(),
                )
                .hint("global's address seen from the cluster"),
            );
            let reg = match f.basic.image_registry {
                ImageRegistry::PlatformBuiltIn => 0,
                ImageRegistry::Private => 1,
                ImageRegistry::Public => 2,
            };
            v.push(Spec::new(
                F::ImageRegistry,
                "Image Registry",
                K::Select(
                    vec![
                        "Platform Built-in",
                        "Private Repository",
                        "Public Repository",
                    ],
                    reg,
                ),
                "form.imageRegistry",
            ));
            if f.basic.image_registry == ImageRegistry::Private {
                v.push(
                    Spec::new(
                        F::PrivateRegistry,
                        "Registry Address",
                        K::Text,
                        "form.privateRegistry",
                    )
                    .required()
                    .hint("host[:port], e.g. registry.example.com:5000"),
                );
            }
        }
        Section::Network => {
            let cni = match f.network.cni {
                Cni::KubeOvn => 0,
                Cni::Calico => 1,
                Cni::Flannel => 2,
                Cni::Custom => 3,
            };
            v.push(Spec::new(
                F::Cni,
                "Network Plugin",
                K::Select(vec!["Kube-OVN", "Calico", "Flannel", "Custom"], cni),
                a_network.clone(),
            ));
            let cidr_label = match f.network.cni {
                Cni::KubeOvn => "Subnet (Cluster CIDR)",
                Cni::Calico => "Default Subnet",
                Cni::Flannel | Cni::Custom => "Cluster CIDR",
            };
            if f.network.cni == Cni::KubeOvn {
                let tm = (f.network.kube_ovn.transmit == TransmitMode::Underlay) as usize;
                v.push(Spec::new(
                    F::Transmit,
                    "Transmit Mode",
                    K::Select(vec!["Overlay", "Underlay"], tm),
                    a_transmit.clone(),
                ));
            }
            v.push(
                Spec::new(F::ClusterCidr, cidr_label, K::Text, "spec.clusterCIDR")
                    .required()
                    .hint("e.g. 10.3.0.0/16"),
            );
            if f.is_kube_ovn_underlay() {
                v.push(
                    Spec::new(F::Gateway, "Default Gateway", K::Text, a_gateway.clone())
                        .required()
                        .hint("inside the cluster CIDR"),
                );
                v.push(Spec::new(F::VlanId, "VLAN ID", K::Text, a_vlan.clone()).hint("0-4095"));
                v.push(
                    Spec::new(F::ReservedIps, "Reserved IPs", K::Text, a_exclude.clone())
                        .hint("e.g. 10.3.0.1,10.3.0.10..10.3.0.20"),
                );
            }
            v.push(
                Spec::new(F::ServiceCidr, "Service CIDR", K::Text, "spec.serviceCIDR")
                    .required()
                    .hint("e.g. 10.4.0.0/16"),
            );
            if f.is_kube_ovn_overlay() {
                v.push(
                    Spec::new(F::JoinCidr, "Join CIDR", K::Text, a_join.clone())
                        .required()
                        .hint("e.g. 100.64.0.0/16"),
                );
            }
            v.push(
                Spec::new(
                    F::NodeIpCount,
                    "Node IP Count",
                    K::Text,
                    "spec.properties.maxNodePodNum",
                )
                .hint("pod IPs per node; kubelet max-pods"),
            );
        }
        Section::Nodes => {
            v.push(
                Spec::new(
                    F::Nic,
                    "Network Interface Card",
                    K::Text,
                    "spec.networkDevice",
                )
                .hint("e.g. eth0; required for underlay"),
            );
            let nn = (f.node_settings.node_naming == NodeNaming::Hostname) as usize;
            v.push(Spec::new(
                F::NodeNaming,
                "Node Name",
                K::Select(vec!["Node IP", "Hostname"], nn),
                "spec.hostnameAsNodename",
            ));
            v.push(Spec::new(
                F::AddNode,
                format!("Nodes ({})", f.nodes().len()),
                K::Heading,
                "spec.machines",
            ));
            for i in 0..f.nodes().len() {
                v.push(Spec::new(
                    F::Node(i),
                    format!("  Node {}", i + 1),
                    K::Node,
                    format!("spec.machines[{i}]"),
                ));
            }
            v.push(Spec::new(F::AddNode, "Add Node", K::Button, ""));
            v.push(Spec::new(
                F::RestoreDraft,
                "Restore from draft",
                K::Button,
                "",
            ));
            let mk = (f.node_settings.monitoring.kind == MonitoringKind::VictoriaMetrics) as usize;
            v.push(Spec::new(
                F::Monitoring,
                "Monitoring Type",
                K::Select(vec!["Prometheus", "VictoriaMetrics"], mk),
                "form.monitoring.kind",
            ));
            if f.node_settings.monitoring.kind == MonitoringKind::VictoriaMetrics {
                let d = (f.node_settings.monitoring.vm_deploy == VmDeploy::AgentOnly) as usize;
                v.push(Spec::new(
                    F::VmDeploy,
                    "Deploy Type",
                    K::Select(
                        vec!["Deploy VictoriaMetrics", "Deploy VictoriaMetrics Agent"],
                        d,
                    ),
                    "form.monitoring.vmDeploy",
                ));
                if f.node_settings.monitoring.vm_deploy == VmDeploy::AgentOnly {
                    v.push(
                        Spec::new(
                            F::VmInstance,
                            "VictoriaMetrics Instance",
                            K::Text,
                            "form.monitoring.vmInstance",
                        )
                        .required()
                        .hint("instance on another cluster"),
                    );
                }
            }
            v.push(Spec::new(
                F::AddNode,
                "Monitoring Nodes (compute nodes preferred)",
                K::Heading,
                "form.monitoring.nodes",
            ));
            for n in f
                .nodes()
                .iter()
                .filter(|n| n.allows_applications() && !n.ip.is_empty())
            {
                let on = f.node_settings.monitoring.nodes.contains(&n.ip);
                v.push(Spec::new(
                    F::MonitoringNode(n.ip.clone()),
                    format!("  {}", n.ip),
                    K::Toggle(on),
                    "",
                ));
            }
        }
        Section::Extended => {
            v.push(Spec::new(F::AddNode, "Not recommended unless required: wrong values can make the cluster unusable and cannot be changed later", K::Heading, ""));
            let mut maps = vec![];
            if f.basic.container_runtime == ContainerRuntime::Docker
                || !f.extended.docker_args.is_empty()
            {
                maps.push(KvMap::Docker);
            }
            maps.extend([
                KvMap::Kubelet,
                KvMap::ControllerManager,
                KvMap::Scheduler,
                KvMap::ApiServer,
            ]);
            for m in maps {
                push_kv(&mut v, f, m);
            }
            v.push(Spec::new(
                F::AddNode,
                "APIServer URL (certificate SANs)",
                K::Heading,
                "spec.publicAlternativeNames",
            ));
            for (i, _) in f.extended.apiserver_urls.iter().enumerate() {
                v.push(Spec::new(
                    F::ApiUrl(Some(i)),
                    format!("  URL {}", i + 1),
                    K::Text,
                    format!("spec.publicAlternativeNames[{i}]"),
                ));
            }
            v.push(
                Spec::new(F::ApiUrl(None), "  + add URL", K::Text, "")
                    .hint("IP or domain, Enter to add"),
            );
            push_kv(&mut v, f, KvMap::Annotations);
        }
        Section::Review => {}
    }
    v
}

/// Shown beside a field while it is being edited.
const EDITING_CUE: &str = "editing: Enter saves, Esc cancels";

/// Placeholder shown in the version chooser while no version is chosen.
const NO_VERSION: &str = "not chosen (Space chooses)";

/// The version chooser's options and the selected one: the offered releases, preceded by the
/// form's value when it is not one of them (an imported manifest), so the row shows what the
/// resource holds while the rules report it.
fn version_choice(offered: &[String], current: &str) -> (Vec<String>, usize) {
    let current = current.trim();
    let mut opts: Vec<String> = offered.iter().map(|s| s.trim().to_string()).collect();
    match opts.iter().position(|o| o == current) {
        Some(i) => (opts, i),
        None => {
            let shown = if current.is_empty() {
                NO_VERSION.to_string()
            } else {
                current.to_string()
            };
            opts.insert(0, shown);
            (opts, 0)
        }
    }
}

fn push_kv(v: &mut Vec<Spec>, f: &ClusterForm, m: KvMap) {
    v.push(Spec::new(
        FieldId::AddNode,
        m.label(),
        Kind::Heading,
        m.path(),
    ));
    for k in m.get(f).keys() {
        v.push(Spec::new(
            FieldId::Kv(m, Some(k.clone())),
            format!("  {k}"),
            Kind::Text,
            if m == KvMap::Annotations {
                format!("metadata.annotations[\"{k}\"]")
            } else {
                format!("{}[\"{k}\"]", m.path())
            },
        ));
    }
    v.push(
        Spec::new(FieldId::Kv(m, None), "  + add", Kind::Text, "").hint("key=value, Enter to add"),
    );
}

impl Pane for WizardPane {
    fn id(&self) -> PaneId {
        PaneId::Create
    }

    fn unsaved_input(&self) -> Option<String> {
        WizardPane::unsaved_input(self)
    }

    fn wants_text_input(&self) -> bool {
        self.editing.is_some() || self.dialog.is_some()
    }

    fn on_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        if self.dialog.is_some() {
            return self.dialog_key(key);
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
            CreateAction::NextField => self.move_focus(1),
            CreateAction::PrevField => self.move_focus(-1),
            CreateAction::NextSection => {
                let i = self.section.index();
                self.set_section(Section::ALL[(i + 1) % Section::ALL.len()]);
            }
            CreateAction::PrevSection => {
                let i = self.section.index();
                self.set_section(Section::ALL[(i + Section::ALL.len() - 1) % Section::ALL.len()]);
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
            CreateAction::RemoveNode => {
                // Delete removes whatever list entry is focused: a node, a parameter, an
                // annotation or an APIServer URL.
                match self.focused().map(|s| s.id) {
                    Some(FieldId::Kv(m, Some(k))) => {
                        m.get_mut(&mut self.form).remove(&k);
                        self.notice = Some((Role::Info, format!("Removed {} > {k}", m.label())));
                        self.changed();
                        return Vec::new();
                    }
                    Some(FieldId::ApiUrl(Some(i)))
                        if i < self.form.extended.apiserver_urls.len() =>
                    {
                        let url = self.form.extended.apiserver_urls.remove(i);
                        self.notice = Some((Role::Info, format!("Removed APIServer URL {url}")));
                        self.changed();
                        return Vec::new();
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
                        return Vec::new();
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
            CreateAction::Review => self.set_section(Section::Review),
            CreateAction::Submit => return self.submit(),
            CreateAction::SaveDraft => {
                if let Some(Spec {
                    id: FieldId::Node(i),
                    ..
                }) = self.focused()
                    && let Some(n) = self.form.nodes().get(i)
                {
                    return vec![Effect::Engine(Command::drafts(DraftCommand::Save {
                        node: Box::new(n.to_draft()),
                        existing: None,
                    }))];
                }
                self.notice = Some((
                    Role::Info,
                    "Select a node (or open Add Node) to save it as a draft".into(),
                ));
            }
            CreateAction::RestoreDraft => {
                return vec![Effect::Engine(Command::drafts(DraftCommand::RestoreLatest))];
            }
            CreateAction::OpenEditor => return self.open_editor(),
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
            Event::Drafts {
                event:
                    DraftEvent::Loaded {
                        draft,
                        restore: true,
                    },
                ..
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
            Event::Drafts {
                event: DraftEvent::NothingToRestore,
                ..
            } => {
                self.notice = Some((
                    Role::Info,
                    "No draft to restore: in Add Node, choose Save Draft first".into(),
                ));
                true
            }
            Event::Drafts {
                event: DraftEvent::Saved(d),
                ..
            } => {
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
            Event::Drafts {
                event: DraftEvent::Failed { action, error },
                ..
            } => {
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
            Event::Kube(KubeEvent::ClusterCreated {
                id,
                name,
                dry_run,
                result,
                ..
            }) if Some(*id) == self.request && *name == self.form.basic.name => {
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
                        if e.kind == crate::engine::kube::FailureKind::Forbidden && e.hint.is_none()
                        {
                            msg.push_str(
                                " (you need create on clusters.platform.tkestack.io: ask an \
                                 administrator for it, or switch to a context that has it)",
                            );
                        }
                        self.notice =
                            Some((Role::Fail, "Dry run refused; the Review says why".into()));
                        self.submit = Submit::DryRunFailed(msg);
                    }
                    (false, Ok(())) => {
                        // A fresh form for the next cluster, so that nothing (a restored
                        // draft, say) lands in the one just created; the old form's
                        // secrets are wiped as it is dropped.
                        self.form = ClusterForm::new();
                        self.recheck();
                        self.submit = Submit::Created(name.clone());
                        self.pending
                            .push(Effect::Open(PaneId::Timeline, Some(name.clone())));
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
            let path = expand_home(t);
            let result = std::fs::metadata(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))
                .and_then(|m| {
                    if m.len() > form::MAX_YAML_BYTES as u64 {
                        Err(format!("{} is too large for a manifest", path.display()))
                    } else {
                        std::fs::read_to_string(&path)
                            .map_err(|e| format!("cannot read {}: {e}", path.display()))
                    }
                })
                .and_then(|text| {
                    let c = form::from_yaml(&text).map_err(|e| e.to_string())?;
                    self.form = ClusterForm::from_cluster(&c);
                    self.changed();
                    Ok(())
                });
            self.notice = Some(match result {
                Ok(()) => (Role::Ok, format!("Loaded {}", path.display())),
                Err(e) => (Role::Fail, format!("{e}; check the path and the manifest")),
            });
        }
        Vec::new()
    }

    fn on_resumed(&mut self, tag: &str, ok: bool) -> Vec<Effect> {
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

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        let theme = ctx.theme;
        self.readonly = ctx.readonly;
        let title = if self.form.basic.name.is_empty() {
            " Create Cluster ".to_string()
        } else {
            format!(" Create Cluster: {} ", self.form.basic.name)
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style(Role::Border))
            .title(Span::styled(title, theme.style(Role::Title)));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        if inner.height < 4 || inner.width < 20 {
            return;
        }
        let chunks = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(1),
                Constraint::Min(1),
                Constraint::Length(1),
            ])
            .split(inner);
        self.render_tabs(frame, chunks[0], theme);
        let body = chunks[1];
        if self.section == Section::Review {
            self.render_review(frame, body, theme, ctx.readonly);
        } else {
            let wide = body.width >= 140;
            let (rows_area, summary_area) = if wide {
                let p = Layout::default()
                    .direction(Direction::Horizontal)
                    .constraints([Constraint::Percentage(62), Constraint::Percentage(38)])
                    .split(body);
                (p[0], p[1])
            } else {
                let sh = (body.height / 4).clamp(2, 6);
                let p = Layout::default()
                    .direction(Direction::Vertical)
                    .constraints([Constraint::Min(1), Constraint::Length(sh)])
                    .split(body);
                (p[0], p[1])
            };
            self.render_rows(frame, rows_area, theme);
            self.render_summary(frame, summary_area, theme);
        }
        let editing_label = self
            .editing
            .as_ref()
            .and_then(|_| self.focused())
            .map(|s| s.label.trim().to_string());
        let footer = match (&self.editing, editing_label, &self.notice) {
            // The dialog has keys of its own; the form's would mislead while it is open.
            _ if self.dialog.is_some() => {
                Line::from(Span::styled(NodeDialog::KEYS, theme.style(Role::Muted)))
            }
            // Keys go into the field while editing, so the footer says so and how to leave.
            (Some(ed), Some(label), _) => {
                let mut spans = vec![Span::styled(
                    format!(" EDITING {label} "),
                    theme.style(Role::Selection),
                )];
                if let Some(e) = &ed.error {
                    spans.push(Span::styled(format!(" x {e}."), theme.style(Role::Fail)));
                    spans.push(Span::styled(
                        " Fix it and press Enter, or Esc to keep the stored value",
                        theme.style(Role::Muted),
                    ));
                } else {
                    spans.push(Span::styled(
                        " keys go into the field  Enter save  Esc cancel  Up/Down save and move",
                        theme.style(Role::Muted),
                    ));
                }
                Line::from(spans)
            }
            (_, _, Some((role, msg))) => Line::from(Span::styled(msg.clone(), theme.style(*role))),
            (_, _, None) => {
                let errs = self.errors();
                let create = if errs > 0 {
                    Span::styled(
                        format!("Create disabled ({errs} error(s))"),
                        theme.style(Role::Fail),
                    )
                } else {
                    Span::styled("Create enabled", theme.style(Role::Ok))
                };
                // Most used first; the tail is dropped to fit, never cut mid-word (help lists
                // every key).
                let mut keys = vec![
                    "Enter edit",
                    "Space toggle",
                    "r review",
                    "S submit",
                    "]/[ section",
                    "a add node",
                    "Del remove",
                    "E YAML in $EDITOR",
                    "R restore draft",
                ];
                let width = usize::from(chunks[2].width);
                let used = |keys: &[&str]| {
                    create.width() + keys.iter().map(|k| k.len() + 2).sum::<usize>()
                };
                while keys.len() > 1 && used(&keys) > width {
                    keys.pop();
                }
                let mut text = String::new();
                for k in keys {
                    text.push_str("  ");
                    text.push_str(k);
                }
                Line::from(vec![create, Span::styled(text, theme.style(Role::Muted))])
            }
        };
        frame.render_widget(Paragraph::new(footer), chunks[2]);
        if let Some(d) = &self.dialog {
            d.render(frame, area, theme);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::kube::{FailureKind, KubeFailure};
    use crossterm::event::KeyModifiers;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn type_str(p: &mut WizardPane, s: &str) {
        for c in s.chars() {
            p.on_key(key(KeyCode::Char(c)));
        }
    }

    fn valid() -> WizardPane {
        let mut f = ClusterForm::new();
        f.basic.name = "unit".into();
        f.basic.kubernetes_version = "1.30.14".into();
        f.basic.endpoint.address = "192.168.0.10".into();
        f.node_settings.nic = "eth0".into();
        f.node_settings.nodes = vec![
            NodeForm {
                ip: "192.168.0.11".into(),
                password: Secret::new("pw-one"),
                ..NodeForm::default()
            },
            NodeForm {
                role: NodeType::Worker,
                ip: "192.168.0.21".into(),
                password: Secret::new("pw-two"),
                ..NodeForm::default()
            },
        ];
        f.node_settings.monitoring.nodes = vec!["192.168.0.21".into()];
        WizardPane::with_form(f)
    }

    /// The engine's answer to the request the pane sent last.
    fn created(p: &WizardPane, name: &str, dry_run: bool, ok: bool) -> Event {
        Event::Kube(KubeEvent::ClusterCreated {
            id: p.request.expect("a request was sent"),
            context: "ctx".into(),
            name: name.into(),
            dry_run,
            result: if ok {
                Ok(())
            } else {
                Err(KubeFailure::new(
                    FailureKind::Other,
                    "denied by webhook",
                    None,
                ))
            },
        })
    }

    #[test]
    fn submit_runs_a_dry_run_then_the_gate_then_opens_the_timeline() {
        let mut p = valid();
        assert_eq!(p.errors(), 0, "{:?}", p.issues());
        let fx = p.on_action("submit");
        assert!(matches!(
            fx.as_slice(),
            [Effect::Engine(Command::Kube(KubeCommand::CreateCluster {
                dry_run: true,
                ..
            }))]
        ));
        // Waiting: another submit sends nothing.
        assert!(p.on_action("submit").is_empty());
        p.on_event(&created(&p, "unit", true, true));
        let fx = p.on_action("submit");
        let [Effect::Guarded(g)] = fx.as_slice() else {
            panic!("expected the safety gate, got {fx:?}");
        };
        assert!(g.title.contains("unit"));
        assert!(matches!(
            &g.command,
            Command::Kube(KubeCommand::CreateCluster { dry_run: false, cluster, .. })
                if cluster.spec.machines.len() == 2
        ));
        assert!(p.take_effects().is_empty());
        p.on_event(&created(&p, "unit", false, true));
        assert!(matches!(
            p.take_effects().as_slice(),
            [Effect::Open(PaneId::Timeline, Some(n))] if n == "unit"
        ));
    }

    #[test]
    fn the_gate_is_awaited_not_reported_as_creating_and_a_create_clears_the_form() {
        let mut p = valid();
        p.on_action("submit");
        p.on_event(&created(&p, "unit", true, true));
        let fx = p.on_action("submit");
        assert!(matches!(fx.as_slice(), [Effect::Guarded(_)]));
        p.set_section(Section::Review);
        let text = screen(&mut p, 160, 40);
        assert!(text.contains("Waiting for confirmation"), "{text}");
        assert!(!text.contains("Creating unit"), "{text}");
        // Cancelled in the gate (the pane is not told): submitting asks again.
        assert!(matches!(
            p.on_action("submit").as_slice(),
            [Effect::Guarded(_)]
        ));
        p.on_event(&created(&p, "unit", false, true));
        assert!(
            p.form.basic.name.is_empty(),
            "a fresh form after the create"
        );
        assert!(p.form.nodes().is_empty());
        let text = screen(&mut p, 160, 40);
        assert!(text.contains("Cluster unit is being created"), "{text}");
        assert!(matches!(
            p.on_action("edit").as_slice(),
            [Effect::Open(PaneId::Timeline, Some(n))] if n == "unit"
        ));
    }

    #[test]
    fn read_only_dry_run_says_create_is_disabled() {
        let mut p = valid();
        p.readonly = true;
        p.on_action("submit");
        p.on_event(&created(&p, "unit", true, true));
        assert!(
            matches!(&p.notice, Some((Role::Warn, m)) if m.contains("read-only: Create is disabled")),
            "{:?}",
            p.notice
        );
    }

    #[test]
    fn a_refused_dry_run_shows_the_whole_reason_and_the_fix() {
        let mut p = valid();
        p.on_action("submit");
        p.on_event(&Event::Kube(KubeEvent::ClusterCreated {
            id: p.request.expect("a request was sent"),
            context: "ctx".into(),
            name: "unit".into(),
            dry_run: true,
            result: Err(KubeFailure::new(
                FailureKind::Forbidden,
                "cannot dry-run create of cluster unit: forbidden: clusters.platform.tkestack.io \
                 is forbidden: User \"viewer\" cannot create resource \"clusters\" in API group \
                 \"platform.tkestack.io\" at the cluster scope",
                None,
            )),
        }));
        p.set_section(Section::Review);
        let text = screen(&mut p, 120, 40);
        let flat: String = text
            .lines()
            .map(|l| l.split('│').nth(3).unwrap_or("").trim().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        assert!(flat.contains("at the cluster scope"), "{text}");
        assert!(flat.contains("ask an administrator"), "{text}");
    }

    #[test]
    fn review_scrolling_stops_at_the_last_line() {
        let mut p = valid();
        p.set_section(Section::Review);
        screen(&mut p, 120, 40);
        for _ in 0..500 {
            p.on_action("next_field");
        }
        let max = p.review_scroll;
        assert!(max > 0 && max < 100, "{max}");
        p.on_action("prev_field");
        assert_eq!(p.review_scroll, max - 1, "one key press comes back");
        let text = screen(&mut p, 120, 40);
        assert!(text.contains("machines"), "{text}");
    }

    #[test]
    fn a_node_of_another_cluster_is_refused() {
        use crate::engine::kube::{Delta, MachineSummary};
        let machine: crate::domain::cluster::Machine = serde_json::from_value(serde_json::json!({
            "apiVersion": "platform.tkestack.io/v1",
            "kind": "Machine",
            "metadata": {"name": "qa-test-10-0-0-21"},
            "spec": {"clusterName": "qa-test", "type": "Baremetal", "ip": "192.168.0.21"}
        }))
        .unwrap();
        let summary = MachineSummary::from_machine(&machine, &mut Default::default());
        let mut p = valid();
        assert_eq!(p.errors(), 0);
        let changed = p.on_event(&Event::Kube(KubeEvent::MachinesChanged(Delta {
            platform: "sandbox".into(),
            reset: true,
            applied: vec![std::sync::Arc::new(summary)],
            deleted: Vec::new(),
        })));
        assert!(changed);
        assert!(p.issues().iter().any(|i| i.level == Level::Error
            && i.path == "spec.machines[1].ip"
            && i.message.contains("already a node of cluster qa-test")));
        p.on_event(&Event::Kube(KubeEvent::MachinesChanged(Delta {
            platform: "sandbox".into(),
            reset: false,
            applied: Vec::new(),
            deleted: vec!["qa-test-10-0-0-21".into()],
        })));
        assert_eq!(p.errors(), 0, "{:?}", p.issues());
    }

    #[test]
    fn unsaved_input_names_what_quitting_would_lose() {
        assert_eq!(WizardPane::new().unsaved_input(), None);
        let mut p = WizardPane::new();
        p.on_action("edit");
        type_str(&mut p, "abc");
        p.on_key(key(KeyCode::Enter));
        assert_eq!(
            p.unsaved_input().as_deref(),
            Some("the Create form for abc")
        );
        let what = valid().unsaved_input().unwrap_or_default();
        assert!(
            what.contains("2 node(s)") && what.contains("never saved"),
            "{what}"
        );
        // After a create the form is fresh again: nothing to lose.
        let mut p = valid();
        p.on_action("submit");
        p.on_event(&created(&p, "unit", true, true));
        p.on_action("submit");
        p.on_event(&created(&p, "unit", false, true));
        assert_eq!(p.unsaved_input(), None);
    }

    #[test]
    fn focus_stops_at_the_ends_of_a_section() {
        let mut p = valid();
        p.set_section(Section::Extended);
        let last = p.rows().len() - 1;
        p.focus = last;
        p.on_action("next_field");
        assert_eq!(p.focus, last, "no silent wrap to the top");
        assert!(
            matches!(&p.notice, Some((_, m)) if m.contains("PgDn")),
            "{:?}",
            p.notice
        );
        let first = p.focus;
        p.on_action("prev_field");
        assert!(p.focus < first);
        assert!(p.notice.is_none());
        p.set_section(Section::Extended);
        let top = p.focus;
        p.on_action("prev_field");
        assert_eq!(
            p.focus, top,
            "the heading above is skipped, not wrapped past"
        );
        assert!(matches!(&p.notice, Some((_, m)) if m.contains("PgUp")));
    }

    #[test]
    fn removing_a_node_takes_a_second_delete() {
        let mut p = valid();
        p.set_section(Section::Nodes);
        focus_on(&mut p, FieldId::Node(0));
        p.on_action("remove_node");
        assert_eq!(p.form.nodes().len(), 2, "the first Delete only asks");
        assert!(matches!(&p.notice, Some((Role::Warn, m)) if m.contains("Delete again")));
        p.on_action("toggle");
        p.on_action("remove_node");
        assert_eq!(p.form.nodes().len(), 2, "another key in between cancels");
        p.on_action("remove_node");
        assert_eq!(p.form.nodes().len(), 1);
    }

    #[test]
    fn the_key_bar_never_cuts_a_key() {
        for w in [80u16, 120, 160, 200] {
            let mut p = valid();
            let text = screen(&mut p, w, 30);
            let bar = text.lines().nth(28).unwrap_or_default();
            assert!(bar.contains("r review") || w < 100, "{w}: {bar}");
            assert!(
                bar.trim_end_matches(['│', ' '])
                    .ends_with(|c: char| c.is_alphanumeric() || c == ')' || c == 'R'),
                "{w}: {bar}"
            );
        }
    }

    #[test]
    fn delete_removes_list_entries() {
        let mut p = valid();
        p.form.extended.kubelet_args.insert("v".into(), "2".into());
        p.form.extended.apiserver_urls = vec!["k8s.example.com".into()];
        p.changed();
        p.set_section(Section::Extended);
        focus_on(&mut p, FieldId::Kv(KvMap::Kubelet, Some("v".into())));
        p.on_action("remove_node");
        assert!(p.form.extended.kubelet_args.is_empty());
        focus_on(&mut p, FieldId::ApiUrl(Some(0)));
        p.on_action("remove_node");
        assert!(p.form.extended.apiserver_urls.is_empty());
        assert!(matches!(&p.notice, Some((_, m)) if m.contains("k8s.example.com")));
    }

    #[test]
    fn a_change_after_the_dry_run_needs_a_new_dry_run() {
        let mut p = valid();
        p.on_action("submit");
        p.on_event(&created(&p, "unit", true, true));
        p.form.basic.display_name = "changed".into();
        p.changed();
        assert!(matches!(
            p.on_action("submit").as_slice(),
            [Effect::Engine(Command::Kube(KubeCommand::CreateCluster {
                dry_run: true,
                ..
            }))]
        ));
        p.on_event(&created(&p, "unit", true, false));
        assert!(matches!(p.submit, Submit::DryRunFailed(ref m) if m.contains("webhook")));
    }

    #[test]
    fn errors_disable_create_and_select_the_first_error() {
        let mut p = WizardPane::new();
        assert!(p.errors() > 0);
        assert!(p.on_action("submit").is_empty());
        let first = p
            .issues
            .iter()
            .position(|i| i.level == Level::Error)
            .unwrap();
        assert_eq!(p.placed[first].0, p.section);
    }

    #[test]
    fn editor_file_is_masked_and_secrets_come_back_on_reimport() {
        let mut p = valid();
        let fx = p.open_editor();
        let [Effect::Suspend(job)] = fx.as_slice() else {
            panic!("expected a suspend job, got {fx:?}");
        };
        assert_eq!(job.tag, EDITOR_TAG);
        let path = PathBuf::from(job.args.last().unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        for secret in ["pw-one", "pw-two"] {
            assert!(!text.contains(secret) && !text.contains(&b64.encode(secret)));
        }
        assert!(text.contains(MASK));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "the temp file is private");
        }
        let edited = text.replace("name: unit", "name: unit-renamed");
        std::fs::write(&path, edited).unwrap();
        p.on_resumed(EDITOR_TAG, true);
        assert!(!path.exists(), "the temp file is removed");
        assert_eq!(p.form.basic.name, "unit-renamed");
        assert_eq!(p.form.nodes()[0].password.expose(), "pw-one");
        assert_eq!(p.form.nodes()[1].password.expose(), "pw-two");
    }

    #[test]
    fn a_broken_edit_leaves_the_form_alone() {
        let mut p = valid();
        assert!(p.reimport_yaml("kind: [").is_err());
        assert_eq!(p.form.basic.name, "unit");
    }

    fn screen(p: &mut WizardPane, w: u16, h: u16) -> String {
        let theme = Theme::default();
        let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
        t.draw(|f| {
            let ctx = RenderCtx {
                theme: &theme,
                now: chrono::DateTime::from_timestamp(0, 0).unwrap(),
                readonly: false,
                sandbox: false,
            };
            p.render(f, f.area(), &ctx);
        })
        .unwrap();
        let buf = t.backend().buffer();
        (0..buf.area.height)
            .map(|y| {
                (0..buf.area.width)
                    .map(|x| buf[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn focus_on(p: &mut WizardPane, id: FieldId) {
        p.focus = p
            .rows()
            .iter()
            .position(|r| r.id == id)
            .unwrap_or_else(|| panic!("no row {id:?}"));
    }

    fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"))
    }

    #[test]
    fn vrid_finding_follows_every_commit_and_editing_is_visible() {
        let mut p = valid();
        p.form.basic.endpoint.self_built_vip = true;
        p.changed();
        focus_on(&mut p, FieldId::Vrid);
        let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);

        p.on_action("edit");
        p.on_key(ctrl_u);
        type_str(&mut p, "0");
        p.on_key(key(KeyCode::Enter));
        assert!(!p.is_editing(), "Enter leaves edit mode");
        let text = screen(&mut p, 160, 30);
        assert!(
            line_with(&text, "VRID*").contains("x VRID 0 is outside 1-255"),
            "{text}"
        );

        p.on_action("edit");
        p.on_key(ctrl_u);
        type_str(&mut p, "300");
        let text = screen(&mut p, 160, 30);
        let row = line_with(&text, "VRID*");
        assert!(row.contains("editing: Enter saves, Esc cancels"), "{row}");
        assert!(
            !row.contains("VRID 0"),
            "no stale finding while editing: {row}"
        );
        assert!(text.contains("EDITING VRID"), "{text}");
        p.on_key(key(KeyCode::Enter));
        assert!(!p.is_editing());
        assert_eq!(p.form.basic.endpoint.vrid, 300);
        let text = screen(&mut p, 160, 30);
        let row = line_with(&text, "VRID*");
        assert!(row.contains("x VRID 300 is outside 1-255"), "{row}");
        assert!(!text.contains("0 to 255"), "one range everywhere: {text}");

        // Text that is no number stays in the editor, with the reason beside the field.
        p.on_action("edit");
        p.on_key(ctrl_u);
        type_str(&mut p, "abc");
        p.on_key(key(KeyCode::Enter));
        assert!(p.is_editing());
        let text = screen(&mut p, 160, 30);
        assert!(
            line_with(&text, "VRID*")
                .contains("x `abc` is not a whole number: VRID takes one from 1 to 255"),
            "{text}"
        );
        assert!(line_with(&text, "EDITING VRID").contains("Esc"), "{text}");
        p.on_key(key(KeyCode::Esc));
        assert!(!p.is_editing(), "Esc leaves edit mode");
        assert_eq!(p.form.basic.endpoint.vrid, 300);
        p.on_action("edit");
        p.on_key(ctrl_u);
        type_str(&mut p, "137");
        p.on_key(key(KeyCode::Enter));
        assert!(!p.issues().iter().any(|i| i.path.ends_with("vrid")));
    }

    #[test]
    fn the_platforms_published_versions_reach_the_rules() {
        let mut p = valid();
        assert!(!p.issues().iter().any(|i| i.path == "spec.version"));
        let published = |versions: Option<Vec<String>>| {
            Event::Kube(KubeEvent::PlatformVersions {
                context: "global".into(),
                versions,
            })
        };
        assert!(p.on_event(&published(Some(vec!["1.32.7".into()]))));
        assert!(p.issues().iter().any(|i| i.path == "spec.version"));
        // The same list again changes nothing, so nothing is redrawn.
        assert!(!p.on_event(&published(Some(vec!["1.32.7".into()]))));
        // A platform that publishes none brings back the built-in list.
        assert!(p.on_event(&published(None)));
        assert!(!p.issues().iter().any(|i| i.path == "spec.version"));
    }

    #[test]
    fn kubernetes_version_is_a_choice_of_the_offered_releases() {
        let mut p = valid();
        focus_on(&mut p, FieldId::Version);
        assert!(matches!(
            p.focused().map(|s| s.kind),
            Some(Kind::Choice(..))
        ));
        let ctx = rules::RuleContext::default()
            .with_platform_versions(r#"["1.32.7", "1.31.9"]"#)
            .unwrap();
        p.set_rule_context(ctx);
        // 1.30.14 is not offered by this platform: shown as it is, and reported.
        let text = screen(&mut p, 160, 30);
        let row = line_with(&text, "Kubernetes Version");
        assert!(
            row.contains("< 1.30.14 >") && row.contains("x Kubernetes 1.30.14"),
            "{row}"
        );
        p.on_action("edit");
        assert_eq!(p.form.basic.kubernetes_version, "1.32.7");
        p.on_action("toggle");
        assert_eq!(p.form.basic.kubernetes_version, "1.31.9");
        p.on_action("toggle");
        assert_eq!(p.form.basic.kubernetes_version, "1.32.7");
        assert!(!p.issues().iter().any(|i| i.path == "spec.version"));
        assert!(!p.is_editing(), "a choice never opens a text editor");
        // A new form starts with no version and says how to choose one.
        let mut p = WizardPane::new();
        let text = screen(&mut p, 160, 30);
        assert!(
            line_with(&text, "Kubernetes Version").contains("not chosen (Space chooses)"),
            "{text}"
        );
    }

    #[test]
    fn flannel_capacity_errors_show_on_the_node_ip_count_row() {
        let mut p = valid();
        p.form.network.cni = Cni::Flannel;
        p.form.network.node_ip_count = 65536;
        p.changed();
        p.set_section(Section::Network);
        let text = screen(&mut p, 200, 40);
        let row = line_with(&text, "Node IP Count");
        assert!(
            row.contains("x 10.3.0.0/16 with 65536 pod IPs per node holds at most 1 node,"),
            "{row}"
        );
        p.form.network.node_ip_count = 1;
        p.changed();
        let text = screen(&mut p, 200, 40);
        let row = line_with(&text, "Node IP Count");
        assert!(
            row.contains("x a node IP count of 1 gives each node a /32"),
            "{row}"
        );
        assert!(!text.contains("65536 nodes"), "{text}");
    }

    #[test]
    fn flannel_shows_the_node_capacity_beside_the_cidr() {
        let mut p = valid();
        p.form.network.cni = Cni::Flannel;
        p.changed();
        p.set_section(Section::Network);
        let text = screen(&mut p, 160, 30);
        assert!(text.contains("holds at most 256 nodes"), "{text}");
    }

    #[test]
    fn a_manifest_opens_into_the_form() {
        let dir = std::env::temp_dir().join(format!("wizard-open-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.yaml");
        let yaml = form::to_yaml(&valid().form.to_cluster(), false).unwrap();
        std::fs::write(&path, yaml).unwrap();
        let mut p = WizardPane::new();
        assert!(p.on_open(path.to_str()).is_empty());
        assert_eq!(p.form.basic.name, "unit");
        assert_eq!(p.form.nodes()[1].password.expose(), "pw-two");
        p.on_open(dir.join("missing.yaml").to_str());
        assert!(matches!(&p.notice, Some((Role::Fail, m)) if m.contains("cannot read")));
        assert_eq!(p.form.basic.name, "unit");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn protocol_change_keeps_the_users_cidrs() {
        let mut p = valid();
        p.form.network.cluster_cidr = "10.8.0.0/16".into();
        p.cycle(&FieldId::IpStack, true);
        assert_eq!(p.form.basic.ip_stack, IpStack::DualStack);
        assert!(p.form.network.cluster_cidr.starts_with("10.8.0.0/16,"));
        assert!(matches!(&p.notice, Some((_, m)) if m.contains("kept")));
        p.cycle(&FieldId::IpStack, true);
        assert_eq!(p.form.basic.ip_stack, IpStack::Ipv6);
        assert!(!p.form.network.cluster_cidr.contains(','));
    }

    #[test]
    fn key_value_rows_add_edit_and_refuse_bad_entries() {
        let mut p = valid();
        p.set_section(Section::Extended);
        let add = p
            .rows()
            .iter()
            .position(|r| r.id == FieldId::Kv(KvMap::Scheduler, None))
            .unwrap();
        p.focus = add;
        p.on_action("edit");
        type_str(&mut p, "v=4");
        p.on_key(key(KeyCode::Enter));
        assert_eq!(p.form.extended.scheduler_args["v"], "4");
        let add = p
            .rows()
            .iter()
            .position(|r| r.id == FieldId::Kv(KvMap::Scheduler, None))
            .unwrap();
        p.focus = add;
        p.on_action("edit");
        type_str(&mut p, "novalue");
        p.on_key(key(KeyCode::Enter));
        assert!(p.editing.is_some(), "a bad entry stays in the editor");
        let err = p.editing.as_ref().and_then(|e| e.error.clone());
        assert!(err.is_some_and(|m| m.contains("key=value")));
        p.on_key(key(KeyCode::Esc));
        assert_eq!(p.form.extended.scheduler_args.len(), 1);
    }

    #[test]
    fn a_failed_draft_save_reopens_the_dialog_with_its_secrets() {
        let mut p = valid();
        p.on_action("add_node");
        type_str(&mut p, "192.168.0.31");
        let d = p.dialog.as_mut().unwrap();
        d.entry.ssh_password.push_str("kept");
        d.from_draft = Some(("old".into(), 3));
        d.focus_field(node_dialog::DField::SaveDraft);
        let fx = p.on_key(key(KeyCode::Enter)).unwrap();
        assert!(p.dialog.is_none());
        assert!(matches!(
            fx.as_slice(),
            [Effect::Engine(Command::Drafts {
                cmd: DraftCommand::Save {
                    existing: Some(_),
                    ..
                },
                ..
            })]
        ));
        p.on_event(&Event::Drafts {
            id: crate::engine::RequestId(0),
            event: DraftEvent::Failed {
                action: "save draft".into(),
                error: StoreError::Conflict {
                    name: "old".into(),
                    expected: 3,
                    found: 4,
                },
            },
        });
        let d = p.dialog.as_ref().expect("the dialog is back");
        assert_eq!(d.entry.node.ipv4, "192.168.0.31");
        assert_eq!(d.entry.ssh_password.as_str(), "kept");
        assert!(d.from_draft.is_none(), "the next save makes a new draft");
    }

    #[test]
    fn adding_a_node_through_the_dialog_updates_the_form() {
        let mut p = valid();
        p.on_action("add_node");
        type_str(&mut p, "192.168.0.41");
        let d = p.dialog.as_mut().unwrap();
        d.entry.node.node_type = NodeType::Worker;
        d.entry.ssh_password.push_str("pw-three");
        d.focus_field(node_dialog::DField::Add);
        p.on_key(key(KeyCode::Enter));
        assert!(
            p.dialog.is_none(),
            "{:?}",
            p.dialog.as_ref().map(|d| &d.notice)
        );
        assert_eq!(p.form.nodes().len(), 3);
        assert_eq!(p.form.nodes()[2].password.expose(), "pw-three");
    }
}
