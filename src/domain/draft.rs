//! Node drafts: what the add-node dialog holds, minus every secret.
//!
//! ACP's dialog has "Save Draft" and "Restore from draft". A draft keeps every field of the
//! dialog except the SSH password, the private key's passphrase and the proxy password, so a
//! restored draft always asks for them again. A private key is kept only as a file path, never
//! as its contents. The type has no field that could hold a secret, so no serializer can leak
//! one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Version of the on-disk draft document; bumped when the layout changes incompatibly.
pub const DRAFT_FORMAT: u32 = 1;

/// Longest draft name, so that a name always fits a file name and a table cell.
pub const MAX_NAME_LEN: usize = 64;

/// The node's role in the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeType {
    /// Runs kube-apiserver, scheduler, controller-manager, etcd and the platform's components.
    #[default]
    ControlPlane,
    /// Hosts business pods.
    Worker,
}

impl NodeType {
    pub fn label(self) -> &'static str {
        match self {
            NodeType::ControlPlane => "Control Plane Node",
            NodeType::Worker => "Worker Node",
        }
    }
}

/// How the platform logs in to the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SshAuth {
    /// A root-capable user's SSH password (asked for on restore).
    #[default]
    Password,
    /// A private key read from a file (its passphrase is asked for on restore).
    Key,
}

impl SshAuth {
    pub fn label(self) -> &'static str {
        match self {
            SshAuth::Password => "Password",
            SshAuth::Key => "Key",
        }
    }
}

/// The dialog's SOCKS5 proxy settings, without the proxy password.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxyDraft {
    pub enabled: bool,
    /// `host:port`, e.g. `192.168.1.1:1080`.
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub username: String,
}

/// Every field of the add-node dialog except secrets.
///
/// `deny_unknown_fields` makes a draft file carrying anything else (say a `password` added by
/// hand or by another tool) fail to load rather than be silently carried around.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeDraft {
    #[serde(default)]
    pub node_type: NodeType,
    #[serde(default)]
    pub ipv4: String,
    /// Only meaningful in a dual-stack cluster.
    #[serde(default)]
    pub ipv6: String,
    /// "Application Deployable"; only meaningful for a control-plane node.
    #[serde(default)]
    pub app_deployable: bool,
    #[serde(default)]
    pub display_name: String,
    /// "SSH Connection IP": needed only when `ssh <user>@<ipv4>` does not reach the node.
    #[serde(default)]
    pub ssh_ip: String,
    /// Per-node NIC, overriding the cluster NIC.
    #[serde(default)]
    pub nic: String,
    /// "Associated Bridge Network": only when adding nodes to a cluster that already has
    /// underlay subnets, never at creation.
    #[serde(default)]
    pub bridge_network: String,
    #[serde(default = "default_port")]
    pub ssh_port: u16,
    #[serde(default = "default_user")]
    pub ssh_user: String,
    #[serde(default)]
    pub proxy: ProxyDraft,
    #[serde(default)]
    pub auth: SshAuth,
    /// Path of the private key file when `auth` is `Key`; the key itself is read only at submit.
    #[serde(default)]
    pub key_path: String,
}

fn default_port() -> u16 {
    22
}

fn default_user() -> String {
    "root".to_string()
}

impl NodeDraft {
    /// The dialog's initial state, as in ACP: SSH port 22, user root, password login.
    pub fn new() -> Self {
        NodeDraft {
            ssh_port: default_port(),
            ssh_user: default_user(),
            ..NodeDraft::default()
        }
    }

    /// The secret fields a restored draft must ask for before the node can be added.
    pub fn secrets_to_ask(&self) -> Vec<SecretField> {
        let mut out = Vec::new();
        match self.auth {
            SshAuth::Password => out.push(SecretField::SshPassword),
            SshAuth::Key => out.push(SecretField::KeyPassphrase),
        }
        if self.proxy.enabled && !self.proxy.username.is_empty() {
            out.push(SecretField::ProxyPassword);
        }
        out
    }

    /// A short human description for lists: display name or IP, and the role.
    pub fn summary(&self) -> String {
        let who = if !self.display_name.is_empty() {
            format!("{} ({})", self.display_name, self.ipv4)
        } else if !self.ipv4.is_empty() {
            self.ipv4.clone()
        } else {
            "(no address yet)".to_string()
        };
        format!("{who}, {}", self.node_type.label())
    }

    /// A draft name derived from the node, for "Save draft" without asking for a name.
    pub fn suggested_name(&self) -> String {
        let base = if !self.display_name.trim().is_empty() {
            self.display_name.trim()
        } else if !self.ipv4.trim().is_empty() {
            self.ipv4.trim()
        } else {
            "node"
        };
        sanitize_name(base)
    }

    /// Problems that make the draft unsafe to store. Key contents pasted into the key-path field
    /// is the one way a secret could slip into a draft, so it is refused.
    pub fn storage_problem(&self) -> Option<String> {
        let k = self.key_path.trim_start();
        if k.starts_with("-----BEGIN") || k.contains("PRIVATE KEY") || k.contains('\n') {
            return Some(
                "the key field holds key contents, not a file path; enter the path of the key \
                 file (e.g. ~/.ssh/id_ed25519) and the key will be read when the node is added"
                    .to_string(),
            );
        }
        None
    }
}

/// A secret the dialog asks for; never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretField {
    SshPassword,
    KeyPassphrase,
    ProxyPassword,
}

impl SecretField {
    pub fn label(self) -> &'static str {
        match self {
            SecretField::SshPassword => "SSH password",
            SecretField::KeyPassphrase => "private key passphrase",
            SecretField::ProxyPassword => "proxy password",
        }
    }
}

/// A whole Create form without secrets: the manifest with every secret masked, and the key
/// file paths the manifest has no place for (by node IP). A restore asks for every password
/// again.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FormDraft {
    /// The Cluster manifest as YAML, secrets masked.
    pub manifest: String,
    /// The cluster's name, for listings (the manifest has it too).
    #[serde(default)]
    pub cluster: String,
    #[serde(default)]
    pub nodes: usize,
    #[serde(default)]
    pub key_paths: std::collections::BTreeMap<String, String>,
}

impl FormDraft {
    /// `cluster-<name>`, or `cluster` for a form without a name yet.
    pub fn suggested_name(&self) -> String {
        match self.cluster.trim() {
            "" => "cluster".to_string(),
            name => sanitize_name(&format!("cluster-{name}")),
        }
    }

    /// Key contents in a key-path entry is the one way a secret could slip in, as for nodes.
    pub fn storage_problem(&self) -> Option<String> {
        self.key_paths.values().find_map(|p| {
            NodeDraft {
                key_path: p.clone(),
                ..NodeDraft::new()
            }
            .storage_problem()
        })
    }
}

/// What a draft holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftKind {
    Node,
    Cluster,
}

/// A saved draft: one node, or a whole Create form, plus bookkeeping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Draft {
    pub format: u32,
    pub name: String,
    /// Incremented on every save; a save that expects another revision is refused, so two
    /// cockpits editing the same draft never overwrite each other silently.
    pub revision: u64,
    pub saved_at: DateTime<Utc>,
    /// The node of a node draft (a form draft holds the default node here).
    pub node: NodeDraft,
    /// The form of a whole-form draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Box<FormDraft>>,
}

impl Draft {
    pub fn kind(&self) -> DraftKind {
        if self.form.is_some() {
            DraftKind::Cluster
        } else {
            DraftKind::Node
        }
    }
}

/// The draft format a document declares, when it is newer than this build reads.
///
/// Only the top-level `format` number is looked at, so a newer layout (new fields, changed
/// types) is still recognised as a newer draft rather than taken for a corrupt one.
pub fn newer_format(bytes: &[u8]) -> Option<u32> {
    #[derive(Deserialize)]
    struct Probe {
        format: u32,
    }
    serde_json::from_slice::<Probe>(bytes)
        .ok()
        .map(|p| p.format)
        .filter(|f| *f > DRAFT_FORMAT)
}

/// Checks a draft name: 1-64 characters of `[A-Za-z0-9._-]`, not starting with a dot.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a draft name cannot be empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!(
            "draft name '{name}' is longer than {MAX_NAME_LEN} characters; choose a shorter one"
        ));
    }
    if name.starts_with('.') || name.starts_with('-') {
        return Err(format!(
            "draft name '{name}' cannot start with '.' or '-'; start it with a letter or digit"
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "draft name '{name}' contains '{c}'; use letters, digits, '.', '_' and '-' only"
        ));
    }
    Ok(())
}

/// Turns free text (a display name, an IP) into a valid draft name.
pub fn sanitize_name(raw: &str) -> String {
    let mut out: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    while out.starts_with(['.', '-']) {
        out.remove(0);
    }
    out.truncate(MAX_NAME_LEN);
    if out.is_empty() {
        "node".to_string()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_draft_has_the_dialog_defaults() {
        let d = NodeDraft::new();
        assert_eq!(d.ssh_port, 22);
        assert_eq!(d.ssh_user, "root");
        assert_eq!(d.auth, SshAuth::Password);
        assert_eq!(d.node_type, NodeType::ControlPlane);
    }

    #[test]
    fn restore_asks_for_the_secrets_of_the_chosen_login() {
        let mut d = NodeDraft::new();
        assert_eq!(d.secrets_to_ask(), vec![SecretField::SshPassword]);
        d.auth = SshAuth::Key;
        d.proxy = ProxyDraft {
            enabled: true,
            address: "10.0.0.1:1080".into(),
            username: "u".into(),
        };
        assert_eq!(
            d.secrets_to_ask(),
            vec![SecretField::KeyPassphrase, SecretField::ProxyPassword]
        );
    }

    #[test]
    fn a_draft_file_with_a_password_field_is_refused() {
        let json = r#"{"nodeType":"worker","ipv4":"10.0.0.1","password":"aHVudGVyMg=="}"#;
        let err = serde_json::from_str::<NodeDraft>(json).unwrap_err();
        assert!(err.to_string().contains("password"), "{err}");
    }

    #[test]
    fn key_contents_in_the_path_field_is_a_storage_problem() {
        let mut d = NodeDraft::new();
        d.key_path = "~/.ssh/id_ed25519".into();
        assert!(d.storage_problem().is_none());
        d.key_path = "-----BEGIN OPENSSH PRIVATE KEY-----\nabc".into();
        assert!(d.storage_problem().is_some());
    }

    #[test]
    fn a_newer_format_is_recognised_whatever_its_layout() {
        let next = DRAFT_FORMAT + 1;
        let doc = format!(r#"{{"format":{next},"name":"x","nodes":[{{"ipv4":"10.0.0.1"}}]}}"#);
        assert_eq!(newer_format(doc.as_bytes()), Some(next));
        let current = format!(r#"{{"format":{DRAFT_FORMAT},"name":"x"}}"#);
        assert_eq!(newer_format(current.as_bytes()), None);
        assert_eq!(newer_format(b"{ not json"), None);
        assert_eq!(newer_format(br#"{"format":"two"}"#), None);
    }

    #[test]
    fn names_are_checked_and_sanitized() {
        assert!(validate_name("node-10.0.0.1").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("../etc").is_err());
        assert!(validate_name("a/b").is_err());
        assert!(validate_name(&"x".repeat(65)).is_err());
        assert_eq!(sanitize_name("master 1/a"), "master-1-a");
        assert_eq!(sanitize_name("../x"), "x");
        assert_eq!(sanitize_name("///"), "node");
        assert!(validate_name(&sanitize_name("Ünïcode name")).is_ok());
    }

    #[test]
    fn suggested_name_prefers_display_name_then_ip() {
        let mut d = NodeDraft::new();
        assert_eq!(d.suggested_name(), "node");
        d.ipv4 = "192.168.0.11".into();
        assert_eq!(d.suggested_name(), "192.168.0.11");
        d.display_name = "master 1".into();
        assert_eq!(d.suggested_name(), "master-1");
    }
}
