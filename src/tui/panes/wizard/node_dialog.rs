//! The add-node dialog: every parameter of ACP's node table, "Save draft" and the secrets a
//! restored draft asks for again.

mod render;
#[cfg(test)]
mod tests;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use tui_input::InputRequest;
use zeroize::Zeroizing;

use crate::domain::draft::{NodeDraft, NodeType, SshAuth};
use crate::tui::widgets::form_field::{self as field, Level};

/// Capacity reserved for a secret up front: pushing within it never reallocates, so no copy of
/// the secret is left behind in freed memory.
const SECRET_CAPACITY: usize = 8192;

pub fn new_secret() -> Zeroizing<String> {
    Zeroizing::new(String::with_capacity(SECRET_CAPACITY))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DField {
    Type,
    Ipv4,
    Ipv6,
    AppDeployable,
    DisplayName,
    SshIp,
    Nic,
    BridgeNetwork,
    SshPort,
    SshUser,
    Proxy,
    ProxyAddress,
    ProxyUser,
    ProxyPassword,
    Auth,
    Password,
    KeyPath,
    Passphrase,
    Add,
    SaveDraft,
    Cancel,
}

impl DField {
    pub fn label(self) -> &'static str {
        match self {
            DField::Type => "Type",
            DField::Ipv4 => "IPv4 Address",
            DField::Ipv6 => "IPv6 Address",
            DField::AppDeployable => "Application Deployable",
            DField::DisplayName => "Display Name",
            DField::SshIp => "SSH Connection IP",
            DField::Nic => "Network Interface Card",
            DField::BridgeNetwork => "Associated Bridge Network",
            DField::SshPort => "SSH Port",
            DField::SshUser => "SSH Username",
            DField::Proxy => "Proxy",
            DField::ProxyAddress => "Proxy Access URL",
            DField::ProxyUser => "Proxy Username",
            DField::ProxyPassword => "Proxy Password",
            DField::Auth => "SSH Authentication",
            DField::Password => "SSH Password",
            DField::KeyPath => "Private Key File",
            DField::Passphrase => "Key Passphrase",
            DField::Add => "Add",
            DField::SaveDraft => "Save Draft",
            DField::Cancel => "Cancel",
        }
    }

    /// The field's name in findings, relative to the node (`nodes[i].<key>`).
    pub fn key(self) -> &'static str {
        match self {
            DField::Type => "type",
            DField::Ipv4 => "ipv4",
            DField::Ipv6 => "ipv6",
            DField::AppDeployable => "appDeployable",
            DField::DisplayName => "displayName",
            DField::SshIp => "sshIp",
            DField::Nic => "nic",
            DField::BridgeNetwork => "bridgeNetwork",
            DField::SshPort => "sshPort",
            DField::SshUser => "sshUser",
            DField::Proxy => "proxy",
            DField::ProxyAddress => "proxy.address",
            DField::ProxyUser => "proxy.username",
            DField::ProxyPassword => "proxy.password",
            DField::Auth => "auth",
            DField::Password => "password",
            DField::KeyPath => "keyPath",
            DField::Passphrase => "passphrase",
            DField::Add | DField::SaveDraft | DField::Cancel => "",
        }
    }

    pub(super) fn is_text(self) -> bool {
        matches!(
            self,
            DField::Ipv4
                | DField::Ipv6
                | DField::DisplayName
                | DField::SshIp
                | DField::Nic
                | DField::SshPort
                | DField::SshUser
                | DField::ProxyAddress
                | DField::ProxyUser
                | DField::KeyPath
        )
    }

    pub(super) fn is_secret(self) -> bool {
        matches!(
            self,
            DField::Password | DField::Passphrase | DField::ProxyPassword
        )
    }
}

/// A node as the dialog returns it: the draft fields plus the secrets, held only in memory.
pub struct NodeEntry {
    pub node: NodeDraft,
    pub ssh_password: Zeroizing<String>,
    pub key_passphrase: Zeroizing<String>,
    pub proxy_password: Zeroizing<String>,
}

impl std::fmt::Debug for NodeEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeEntry")
            .field("node", &self.node)
            .field("secrets", &"<redacted>")
            .finish()
    }
}

impl Clone for NodeEntry {
    fn clone(&self) -> Self {
        let copy = |s: &Zeroizing<String>| {
            let mut n = new_secret();
            n.push_str(s);
            n
        };
        NodeEntry {
            node: self.node.clone(),
            ssh_password: copy(&self.ssh_password),
            key_passphrase: copy(&self.key_passphrase),
            proxy_password: copy(&self.proxy_password),
        }
    }
}

impl NodeEntry {
    pub fn new(node: NodeDraft) -> Self {
        NodeEntry {
            node,
            ssh_password: new_secret(),
            key_passphrase: new_secret(),
            proxy_password: new_secret(),
        }
    }
}

/// What the dialog asks the wizard to do after a key.
#[derive(Debug)]
pub enum Outcome {
    Nothing,
    /// Add (or replace, when editing) the node.
    Add(Box<NodeEntry>),
    /// Save the dialog as a draft and close it, as ACP does.
    SaveDraft {
        node: Box<NodeDraft>,
        existing: Option<(String, u64)>,
    },
    Cancel,
}

pub struct NodeDialog {
    pub entry: NodeEntry,
    pub focus: usize,
    pub cursor: usize,
    /// The draft this dialog was restored from (name, revision), so "Save draft" updates it.
    pub from_draft: Option<(String, u64)>,
    /// Index of the node being edited, `None` when adding.
    pub editing: Option<usize>,
    pub dual_stack: bool,
    /// IPv6 single stack: the node's primary address is an IPv6 one, and the row says so.
    pub ipv6_only: bool,
    /// Node-level findings: (field key, level, message).
    pub findings: Vec<(String, Level, String)>,
    /// A line above the buttons: why Add is refused, which secrets to fill in.
    pub notice: Option<String>,
    /// The SSH port as typed, while it is no port (empty, or out of range): kept so the row
    /// shows exactly what was typed and says why it is refused, never a silently cut number.
    port_typed: Option<String>,
    /// Why the last key in the SSH port was refused; cleared by the next accepted edit.
    port_refused: Option<&'static str>,
}

impl NodeDialog {
    pub fn new(dual_stack: bool) -> Self {
        let mut d = NodeDialog {
            entry: NodeEntry::new(NodeDraft::new()),
            focus: 0,
            cursor: 0,
            from_draft: None,
            editing: None,
            dual_stack,
            ipv6_only: false,
            findings: Vec::new(),
            notice: None,
            port_typed: None,
            port_refused: None,
        };
        d.focus_field(DField::Ipv4);
        d
    }

    /// A dialog filled from a draft: every secret is empty and the notice says which to enter.
    pub fn restored(node: NodeDraft, name: String, revision: u64, dual_stack: bool) -> Self {
        let asks: Vec<&str> = node.secrets_to_ask().iter().map(|s| s.label()).collect();
        let mut d = NodeDialog::new(dual_stack);
        d.entry = NodeEntry::new(node);
        d.from_draft = Some((name.clone(), revision));
        d.notice = Some(format!(
            "Restored draft '{name}'. Secrets are never saved: enter the {}.",
            asks.join(" and ")
        ));
        let first_secret = d
            .fields()
            .into_iter()
            .find(|f| f.is_secret())
            .unwrap_or(DField::Ipv4);
        d.focus_field(first_secret);
        d
    }

    pub fn edit(entry: NodeEntry, index: usize, dual_stack: bool) -> Self {
        let mut d = NodeDialog::new(dual_stack);
        d.entry = entry;
        d.editing = Some(index);
        d.focus_field(DField::Ipv4);
        d
    }

    /// A row's label as this dialog shows it: the primary address follows the cluster's
    /// protocol, and the first button says whether it adds or updates.
    pub fn label_of(&self, f: DField) -> &'static str {
        match f {
            DField::Ipv4 if self.ipv6_only => "IPv6 Address",
            DField::Add if self.editing.is_some() => "Update",
            _ => f.label(),
        }
    }

    /// Keys of the dialog, for the screen's footer while it is open (fits 80 columns).
    /// Text fields need no key: typing goes into the focused one.
    pub const KEYS: &'static str =
        "Add Node: Tab/Down next  Up previous  Space/Enter toggle or press  Esc cancel";

    /// The rows shown, which depend on the node type, the proxy switch and the login method.
    pub fn fields(&self) -> Vec<DField> {
        let n = &self.entry.node;
        let mut v = vec![DField::Type, DField::Ipv4];
        if self.dual_stack {
            v.push(DField::Ipv6);
        }
        if n.node_type == NodeType::ControlPlane {
            v.push(DField::AppDeployable);
        }
        v.extend([
            DField::DisplayName,
            DField::SshIp,
            DField::Nic,
            DField::BridgeNetwork,
            DField::SshPort,
            DField::SshUser,
            DField::Proxy,
        ]);
        if n.proxy.enabled {
            v.extend([
                DField::ProxyAddress,
                DField::ProxyUser,
                DField::ProxyPassword,
            ]);
        }
        v.push(DField::Auth);
        match n.auth {
            SshAuth::Password => v.push(DField::Password),
            SshAuth::Key => v.extend([DField::KeyPath, DField::Passphrase]),
        }
        v.extend([DField::Add, DField::SaveDraft, DField::Cancel]);
        v
    }

    pub fn focused(&self) -> DField {
        let f = self.fields();
        f[self.focus.min(f.len() - 1)]
    }

    pub fn focus_field(&mut self, field: DField) {
        if let Some(i) = self.fields().iter().position(|f| *f == field) {
            self.focus = i;
            self.cursor = self.text(field).map(|s| s.chars().count()).unwrap_or(0);
        }
    }

    fn move_focus(&mut self, delta: isize) {
        let n = self.fields().len() as isize;
        let i = (self.focus as isize + delta).rem_euclid(n) as usize;
        self.focus = i;
        let f = self.focused();
        self.cursor = self.text(f).map(|s| s.chars().count()).unwrap_or(0);
    }

    fn text(&self, f: DField) -> Option<String> {
        match f {
            DField::SshPort => Some(self.port_text()),
            _ if f.is_text() => Some(self.text_ref(f).to_string()),
            _ => None,
        }
    }

    /// A text field's value (empty for the port and the rows that are not text).
    pub(super) fn text_ref(&self, f: DField) -> &str {
        let n = &self.entry.node;
        match f {
            DField::Ipv4 => &n.ipv4,
            DField::Ipv6 => &n.ipv6,
            DField::DisplayName => &n.display_name,
            DField::SshIp => &n.ssh_ip,
            DField::Nic => &n.nic,
            DField::SshUser => &n.ssh_user,
            DField::ProxyAddress => &n.proxy.address,
            DField::ProxyUser => &n.proxy.username,
            DField::KeyPath => &n.key_path,
            _ => "",
        }
    }

    pub(super) fn port_text(&self) -> String {
        if let Some(t) = &self.port_typed {
            t.clone()
        } else if self.entry.node.ssh_port == 0 {
            String::new()
        } else {
            self.entry.node.ssh_port.to_string()
        }
    }

    fn text_mut(&mut self, f: DField) -> Option<&mut String> {
        let n = &mut self.entry.node;
        Some(match f {
            DField::Ipv4 => &mut n.ipv4,
            DField::Ipv6 => &mut n.ipv6,
            DField::DisplayName => &mut n.display_name,
            DField::SshIp => &mut n.ssh_ip,
            DField::Nic => &mut n.nic,
            DField::SshUser => &mut n.ssh_user,
            DField::ProxyAddress => &mut n.proxy.address,
            DField::ProxyUser => &mut n.proxy.username,
            DField::KeyPath => &mut n.key_path,
            _ => return None,
        })
    }

    fn secret_mut(&mut self, f: DField) -> Option<&mut Zeroizing<String>> {
        Some(match f {
            DField::Password => &mut self.entry.ssh_password,
            DField::Passphrase => &mut self.entry.key_passphrase,
            DField::ProxyPassword => &mut self.entry.proxy_password,
            _ => return None,
        })
    }

    fn toggle(&mut self, forward: bool) {
        let focused = self.focused();
        let n = &mut self.entry.node;
        match focused {
            DField::Type => {
                n.node_type = match n.node_type {
                    NodeType::ControlPlane => NodeType::Worker,
                    NodeType::Worker => NodeType::ControlPlane,
                };
                if n.node_type == NodeType::Worker {
                    n.app_deployable = false;
                }
            }
            DField::AppDeployable => n.app_deployable = !n.app_deployable,
            DField::Proxy => n.proxy.enabled = !n.proxy.enabled,
            DField::Auth => {
                n.auth = match n.auth {
                    SshAuth::Password => SshAuth::Key,
                    SshAuth::Key => SshAuth::Password,
                }
            }
            _ => {}
        }
        let _ = forward;
    }

    fn request(&mut self, req: InputRequest) {
        let f = self.focused();
        if f == DField::SshPort {
            self.edit_port(req);
        } else if f.is_text() {
            let cursor = self.cursor;
            if let Some(s) = self.text_mut(f) {
                self.cursor = field::edit_text(s, cursor, req);
            }
        } else if let Some(s) = self.secret_mut(f) {
            field::edit_secret(s, req);
        }
    }

    /// Edits the SSH port: only digits go in; a number outside 1-65535 stays as typed, is no
    /// port, and the row says why.
    fn edit_port(&mut self, req: InputRequest) {
        if let InputRequest::InsertChar(c) = req
            && !c.is_ascii_digit()
        {
            self.port_refused = Some("SSH Port takes digits only, e.g. 22");
            return;
        }
        self.port_refused = None;
        let mut s = self.port_text();
        self.cursor = field::edit_text(&mut s, self.cursor, req);
        match s.parse::<u16>() {
            Ok(p) if p > 0 => {
                self.entry.node.ssh_port = p;
                self.port_typed = None;
                // A refusal about the port no longer describes it.
                if self
                    .notice
                    .as_deref()
                    .is_some_and(|n| n.starts_with("SSH Port"))
                {
                    self.notice = None;
                }
            }
            _ => {
                self.entry.node.ssh_port = 0;
                self.port_typed = Some(s);
            }
        }
        self.cursor = self.cursor.min(self.port_text().chars().count());
    }

    /// Why the SSH port as typed is refused, if it is.
    pub fn port_problem(&self) -> Option<String> {
        if let Some(why) = self.port_refused {
            return Some(why.to_string());
        }
        match self.port_typed.as_deref() {
            Some(t) if !t.is_empty() => Some(format!(
                "SSH Port {t} is outside 1-65535; the usual port is 22"
            )),
            _ => None,
        }
    }

    pub fn on_paste(&mut self, text: &str) {
        let f = self.focused();
        if let Some(s) = self.secret_mut(f) {
            field::paste_secret(s, text);
        } else if f.is_text() {
            for c in text.chars().filter(|c| !c.is_control()) {
                self.request(InputRequest::InsertChar(c));
            }
        }
    }

    /// Every key while the dialog is open; `None` lets the shell have it (e.g. a quit binding).
    pub fn on_key(&mut self, key: KeyEvent) -> Option<Outcome> {
        if key.kind == KeyEventKind::Release {
            return Some(Outcome::Nothing);
        }
        let f = self.focused();
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let out = match key.code {
            KeyCode::Esc => Outcome::Cancel,
            KeyCode::Tab | KeyCode::Down => {
                self.move_focus(1);
                Outcome::Nothing
            }
            KeyCode::BackTab | KeyCode::Up => {
                self.move_focus(-1);
                Outcome::Nothing
            }
            KeyCode::Enter => match f {
                DField::Add => self.try_add(),
                DField::SaveDraft => self.save_draft(),
                DField::Cancel => Outcome::Cancel,
                // Text fields are always live here, so Enter keeps the focus where it is: as
                // in the main form, "Enter, then type" puts the text into this field.
                _ if f.is_text() || f.is_secret() => Outcome::Nothing,
                _ => {
                    self.toggle(true);
                    Outcome::Nothing
                }
            },
            KeyCode::Char(' ') if !f.is_text() && !f.is_secret() => {
                self.toggle(true);
                Outcome::Nothing
            }
            KeyCode::Left | KeyCode::Right if !f.is_text() && !f.is_secret() => {
                if matches!(f, DField::Add | DField::SaveDraft | DField::Cancel) {
                    self.move_focus(if key.code == KeyCode::Left { -1 } else { 1 });
                } else {
                    self.toggle(key.code == KeyCode::Right);
                }
                Outcome::Nothing
            }
            KeyCode::Char('c') if ctrl => return None,
            _ => {
                let ev = crossterm::event::Event::Key(key);
                match tui_input::backend::crossterm::to_input_request(&ev) {
                    Some(req) if f.is_text() || f.is_secret() => {
                        self.request(req);
                        Outcome::Nothing
                    }
                    Some(_) => Outcome::Nothing,
                    None => return None,
                }
            }
        };
        Some(out)
    }

    fn save_draft(&mut self) -> Outcome {
        if let Some(p) = self.entry.node.storage_problem() {
            self.notice = Some(p);
            self.focus_field(DField::KeyPath);
            return Outcome::Nothing;
        }
        Outcome::SaveDraft {
            node: Box::new(self.entry.node.clone()),
            existing: self.from_draft.clone(),
        }
    }

    /// Missing required values, checked before the node reaches the cluster form's rules.
    pub fn missing(&self) -> Vec<DField> {
        let n = &self.entry.node;
        let mut out = Vec::new();
        if n.ipv4.trim().is_empty() {
            out.push(DField::Ipv4);
        }
        if self.dual_stack && n.ipv6.trim().is_empty() {
            out.push(DField::Ipv6);
        }
        if n.ssh_port == 0 {
            out.push(DField::SshPort);
        }
        if n.ssh_user.trim().is_empty() {
            out.push(DField::SshUser);
        }
        if n.proxy.enabled && n.proxy.address.trim().is_empty() {
            out.push(DField::ProxyAddress);
        }
        match n.auth {
            SshAuth::Password if self.entry.ssh_password.is_empty() => out.push(DField::Password),
            SshAuth::Key if n.key_path.trim().is_empty() => out.push(DField::KeyPath),
            _ => {}
        }
        out
    }

    fn try_add(&mut self) -> Outcome {
        if let Some(p) = self.port_problem() {
            self.notice = Some(format!("{p}. Fix it before adding the node"));
            self.focus_field(DField::SshPort);
            return Outcome::Nothing;
        }
        let missing = self.missing();
        if let Some(first) = missing.first() {
            let names: Vec<&str> = missing.iter().map(|f| self.label_of(*f)).collect();
            self.notice = Some(format!("Fill in: {}", names.join(", ")));
            self.focus_field(*first);
            return Outcome::Nothing;
        }
        if self.findings.iter().any(|(_, l, _)| *l == Level::Error) {
            self.notice = Some("Fix the errors marked x before adding the node".into());
            return Outcome::Nothing;
        }
        Outcome::Add(Box::new(self.entry.clone()))
    }

    pub(super) fn finding_for(&self, f: DField) -> Option<(Level, String)> {
        if f == DField::SshPort
            && let Some(p) = self.port_problem()
        {
            return Some((Level::Error, p));
        }
        let key = f.key();
        if key.is_empty() {
            return None;
        }
        self.findings
            .iter()
            .filter(|(k, _, _)| k == key)
            .min_by_key(|(_, l, _)| *l)
            .map(|(_, l, m)| (*l, m.clone()))
    }
}
