//! What the manager's files on each control-plane node should look like, checked against the
//! `EtcdEncryptionConfig` and against each other: a node whose key list drifted turns into
//! unreadable secrets at a later rotation, long before the status object shows anything.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{EtcdEncryptionConfigSpec, KEPT_KEYS, PROVIDER_CONF, PROVIDER_HISTORY, TYPE_AESGCM};
use crate::domain::encryption_config::{EncryptionFacts, KeyInfo, key_revision};

/// The manager's directory of earlier files.
pub const PROVIDER_BACKUP_DIR: &str = "/etc/kubernetes/encryption-provider-bak";

/// What was read from one node, key material already reduced to names and fingerprints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeFiles {
    /// The parsed `encryption-provider.conf`, or why it could not be read or parsed.
    pub config: Result<EncryptionFacts, String>,
    pub history_exists: bool,
    pub backup_dir_exists: bool,
}

/// One thing wrong with a node's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    /// Stable tag for scripts, e.g. `key-list-differs`.
    pub code: &'static str,
    pub message: String,
}

fn finding(code: &'static str, message: String) -> Finding {
    Finding { code, message }
}

/// The key list of a node, or `None` when its file could not be read.
pub fn key_list(files: &NodeFiles) -> Option<Vec<KeyInfo>> {
    let facts = files.config.as_ref().ok()?;
    Some(
        facts
            .active_provider()
            .map(|p| p.keys.clone())
            .unwrap_or_default(),
    )
}

/// Checks one node's files against the spec and the current revision.
pub fn check_node(
    spec: &EtcdEncryptionConfigSpec,
    revision: i64,
    files: &NodeFiles,
) -> Vec<Finding> {
    let mut out = Vec::new();
    match &files.config {
        Err(why) => out.push(finding(
            "config-unreadable",
            format!("{PROVIDER_CONF}: {why}"),
        )),
        Ok(facts) => check_facts(spec, revision, facts, &mut out),
    }
    if !files.history_exists {
        out.push(finding(
            "history-missing",
            format!(
                "{PROVIDER_HISTORY} is missing: earlier keys cannot be restored from this node"
            ),
        ));
    }
    if !files.backup_dir_exists {
        out.push(finding(
            "backup-dir-missing",
            format!("{PROVIDER_BACKUP_DIR}/ is missing: the manager keeps earlier files there"),
        ));
    }
    out
}

fn check_facts(
    spec: &EtcdEncryptionConfigSpec,
    revision: i64,
    facts: &EncryptionFacts,
    out: &mut Vec<Finding>,
) {
    let have = facts.resources();
    let missing: Vec<&String> = spec
        .resources
        .iter()
        .filter(|r| !have.contains(r))
        .collect();
    let extra: Vec<&String> = have
        .iter()
        .filter(|r| !spec.resources.contains(r))
        .collect();
    if !missing.is_empty() || !extra.is_empty() {
        let mut m = "resources differ from spec.resources:".to_string();
        if !missing.is_empty() {
            m.push_str(&format!(" not encrypted here: {:?}", missing));
        }
        if !extra.is_empty() {
            m.push_str(&format!(" only here: {:?}", extra));
        }
        out.push(finding("resources-differ", m));
    }
    let Some(p) = facts.active_provider() else {
        return;
    };
    if p.kind != TYPE_AESGCM {
        out.push(finding(
            "provider-not-aesgcm",
            format!(
                "new writes use provider {} instead of {TYPE_AESGCM}",
                p.kind
            ),
        ));
    }
    // Before the eighth rotation there are only as many keys as rotations so far.
    let least = usize::try_from(revision.max(1))
        .unwrap_or(KEPT_KEYS)
        .min(KEPT_KEYS);
    if p.keys.len() < least || p.keys.len() > KEPT_KEYS {
        out.push(finding(
            "key-count",
            format!("{} keys kept; the manager keeps {KEPT_KEYS}", p.keys.len()),
        ));
    }
    if let Some(k) = p.keys.first()
        && revision > 0
        && key_revision(&k.name) != Some(revision)
    {
        out.push(finding(
            "active-key-stale",
            format!(
                "the active key is {:?}, not the one of revision {revision}",
                k.name
            ),
        ));
    }
}

/// Every node's findings, plus a `key-list-differs` finding on each node whose key list
/// (names and fingerprints, in order) is not the one most nodes hold.
pub fn check_nodes(
    spec: &EtcdEncryptionConfigSpec,
    revision: i64,
    nodes: &[(String, NodeFiles)],
) -> BTreeMap<String, Vec<Finding>> {
    let mut counts: BTreeMap<Vec<KeyInfo>, usize> = BTreeMap::new();
    for (_, f) in nodes {
        if let Some(k) = key_list(f) {
            *counts.entry(k).or_default() += 1;
        }
    }
    // The reference list: one whose active key is the current revision's (a node still on
    // the old list is the one behind, even mid-rotation when it is the majority), then the
    // one most nodes hold.
    let majority = counts
        .iter()
        .max_by_key(|(k, n)| {
            let current = k.first().and_then(|k| key_revision(&k.name)) == Some(revision);
            (current, **n)
        })
        .map(|(k, _)| k.clone());
    nodes
        .iter()
        .map(|(node, files)| {
            let mut f = check_node(spec, revision, files);
            if let (Some(mine), Some(most)) = (key_list(files), majority.as_ref())
                && counts.len() > 1
                && &mine != most
            {
                let names = |l: &[KeyInfo]| {
                    l.iter()
                        .map(|k| k.name.clone())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                f.push(finding(
                    "key-list-differs",
                    format!(
                        "key list differs from the other nodes: here [{}], elsewhere [{}]",
                        names(&mine),
                        names(most)
                    ),
                ));
            }
            (node.clone(), f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::encryption_config::{ProviderInfo, ResourceRule};

    fn key(rev: i64) -> KeyInfo {
        KeyInfo {
            name: format!("key{rev}"),
            fingerprint: format!("sha256:{rev:012}"),
        }
    }

    fn files(top: i64, count: i64) -> NodeFiles {
        let keys = (0..count).map(|i| key(top - i)).collect();
        NodeFiles {
            config: Ok(EncryptionFacts {
                rules: vec![ResourceRule {
                    resources: vec!["secrets".into(), "configmaps".into()],
                    providers: vec![ProviderInfo {
                        kind: "aesgcm".into(),
                        keys,
                    }],
                }],
            }),
            history_exists: true,
            backup_dir_exists: true,
        }
    }

    fn codes(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_node_as_the_manager_leaves_it_has_no_findings() {
        let spec = EtcdEncryptionConfigSpec::acp_default();
        assert!(check_node(&spec, 9, &files(9, 8)).is_empty());
        // Early revisions keep as many keys as there have been rotations.
        assert!(check_node(&spec, 3, &files(3, 3)).is_empty());
    }

    #[test]
    fn each_deviation_is_named() {
        let spec = EtcdEncryptionConfigSpec::acp_default();
        assert_eq!(
            codes(&check_node(&spec, 10, &files(9, 8))),
            ["active-key-stale"]
        );
        assert_eq!(codes(&check_node(&spec, 9, &files(9, 5))), ["key-count"]);
        let mut f = files(9, 8);
        f.history_exists = false;
        f.backup_dir_exists = false;
        assert_eq!(
            codes(&check_node(&spec, 9, &f)),
            ["history-missing", "backup-dir-missing"]
        );
        let mut f = files(9, 8);
        if let Ok(c) = f.config.as_mut() {
            c.rules[0].resources = vec!["secrets".into()];
            c.rules[0].providers[0].kind = "identity".into();
        }
        let found = check_node(&spec, 9, &f);
        assert_eq!(codes(&found), ["resources-differ", "provider-not-aesgcm"]);
        assert!(found[0].message.contains("configmaps"));
        let bad = NodeFiles {
            config: Err("no such file".into()),
            history_exists: true,
            backup_dir_exists: true,
        };
        let found = check_node(&spec, 9, &bad);
        assert_eq!(codes(&found), ["config-unreadable"]);
        assert!(found[0].message.contains(PROVIDER_CONF));
    }

    #[test]
    fn the_node_with_another_key_list_is_the_one_flagged() {
        let spec = EtcdEncryptionConfigSpec::acp_default();
        let nodes = vec![
            ("n1".to_string(), files(9, 8)),
            ("n2".to_string(), files(8, 8)),
            ("n3".to_string(), files(9, 8)),
        ];
        let r = check_nodes(&spec, 9, &nodes);
        assert!(r["n1"].is_empty() && r["n3"].is_empty(), "{r:?}");
        assert_eq!(codes(&r["n2"]), ["active-key-stale", "key-list-differs"]);
        assert!(
            r["n2"][1].message.contains("here [key8,"),
            "{}",
            r["n2"][1].message
        );
        // Same names, another secret: still a different list.
        let mut other = files(9, 8);
        if let Ok(c) = other.config.as_mut() {
            c.rules[0].providers[0].keys[3].fingerprint = "sha256:ffffffffffff".into();
        }
        let nodes = vec![
            ("a".to_string(), files(9, 8)),
            ("b".to_string(), other),
            ("c".to_string(), files(9, 8)),
        ];
        assert_eq!(
            codes(&check_nodes(&spec, 9, &nodes)["b"]),
            ["key-list-differs"]
        );
    }
}
