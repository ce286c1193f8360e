//! The etcd-encryption-manager's files on a simulated control-plane node.
//!
//! A control-plane node knows its workload cluster and reads that cluster's live
//! `EtcdEncryptionConfig` each time it is asked, so its `encryption-provider.conf` follows the
//! simulated rotations ([`crate::sandbox::etcd_sim::node_files`]). The sandbox runs no shell:
//! it recognises the one script the cockpit sends (it sets `b='<dir>'` and reads
//! `encryption-provider.conf` there) and prints what that script prints on a real node.

use std::sync::Arc;

use serde_json::Value;

use super::SimNode;
use crate::sandbox::etcd_sim;

/// Reads a workload cluster's live `EtcdEncryptionConfig` (`None`: not installed).
pub type EecLookup = Arc<dyn Fn(&str) -> Option<Value> + Send + Sync>;

/// The workload cluster a control-plane node belongs to, and where its config is read.
pub struct EtcdSource {
    pub cluster: String,
    pub lookup: EecLookup,
}

/// Where the manager keeps its files on the simulated nodes, as on a real one.
const BASE: &str = "/etc/kubernetes";

/// The directory the cockpit's file script names, when `command` is that script.
fn script_base(command: &str) -> Option<&str> {
    let rest = command.trim_start().strip_prefix("b='")?;
    let end = rest.find('\'')?;
    command
        .contains("encryption-provider.conf")
        .then_some(&rest[..end])
}

/// What the file script prints on `node`, or `None` when `command` is not that script or the
/// node is no control-plane node of a workload cluster.
pub fn answer(node: &SimNode, command: &str) -> Option<(String, u32)> {
    let base = script_base(command)?;
    let source = node.etcd.get()?;
    if base.trim_end_matches('/') != BASE {
        return Some(("history=no\nbakdir=no\nconf=missing\n".to_string(), 0));
    }
    let eec = (source.lookup)(&source.cluster);
    let ip = node.ip.to_string();
    Some(
        match etcd_sim::node_files(&source.cluster, eec.as_ref(), &ip) {
            Some(files) => (
                format!(
                    "history=yes\nbakdir={}\nconf=yes\n{}",
                    if files.backups.is_empty() {
                        "no"
                    } else {
                        "yes"
                    },
                    files.conf.as_str()
                ),
                0,
            ),
            None => ("history=no\nbakdir=no\nconf=missing\n".to_string(), 0),
        },
    )
}

/// Tells every control-plane node of the scenario's clusters which cluster it serves.
pub fn attach(
    nodes: &super::SshNodes,
    scenario: &crate::sandbox::scenario::Scenario,
    lookup: EecLookup,
) {
    for plan in &scenario.clusters {
        for ip in plan.masters.iter().filter_map(|m| m.parse().ok()) {
            if let Some(node) = nodes.node(ip, 22) {
                let _ = node.etcd.set(EtcdSource {
                    cluster: plan.name.clone(),
                    lookup: lookup.clone(),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scenario::draft_nodes::Flaw;
    use serde_json::json;

    fn script(base: &str) -> String {
        format!("b='{base}'; echo ...; f=\"$b/encryption-provider.conf\"; head -c 65537 \"$f\"")
    }

    fn node_of(cluster: &str, eec: Option<Value>) -> SimNode {
        let n = SimNode::new("10.0.0.3".parse().expect("ip"), Flaw::None, 1);
        let lookup: EecLookup = Arc::new(move |_| eec.clone());
        assert!(
            n.etcd
                .set(EtcdSource {
                    cluster: cluster.to_string(),
                    lookup,
                })
                .is_ok()
        );
        n
    }

    #[test]
    fn a_control_plane_node_answers_the_file_script_from_the_live_config() {
        let eec = json!({"status": {"revision": 9, "deployStatus": {
            "10.0.0.3": {"revision": 9, "state": "Success"}}}});
        let n = node_of("staging", Some(eec));
        let (out, code) = n.answer(&script(BASE), 0.0);
        assert_eq!(code, 0);
        assert!(
            out.starts_with("history=yes\nbakdir=yes\nconf=yes\napiVersion:"),
            "{out}"
        );
        assert!(
            out.contains("- name: key9\n") && !out.contains("key10"),
            "{out}"
        );
        assert!(out.contains(etcd_sim::sim_key("staging", 9).as_str()));
    }

    #[test]
    fn without_the_manager_or_elsewhere_there_is_no_file() {
        let n = node_of("dev", None);
        let (out, code) = n.answer(&script(BASE), 0.0);
        assert_eq!(
            (out.as_str(), code),
            ("history=no\nbakdir=no\nconf=missing\n", 0)
        );
        let (out, _) = n.answer(&script("/tmp/x"), 0.0);
        assert!(out.ends_with("conf=missing\n"));
        let worker = SimNode::new("10.0.0.9".parse().expect("ip"), Flaw::None, 1);
        assert_eq!(worker.answer(&script(BASE), 0.0).1, 127);
    }
}
