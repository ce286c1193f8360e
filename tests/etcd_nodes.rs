//! The node file check over real SSH (the loopback sshd of `scripts/test.sh`): the sandbox's
//! simulated files are placed under a temporary directory standing in for `/etc/kubernetes`,
//! read through the engine's SSH pool, and nothing of the key material comes back.

#[path = "common/ssh.rs"]
mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use acp_cockpit::domain::etcd::EtcdEncryptionConfigSpec;
use acp_cockpit::engine::etcd::nodes::{SshShell, inspect};
use acp_cockpit::engine::ssh::SshPool;
use acp_cockpit::sandbox::etcd_sim::{node_files, sim_key};
use acp_cockpit::sandbox::scenario::STALE_KEY_FILE_NODE;
use common::{peers, policy_with, timeouts};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn open_to_all(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Writes one simulated node's files under `root/<node>` the way the manager lays them out.
fn place(root: &Path, cluster: &str, eec: &serde_json::Value, node: &str) -> String {
    let files = node_files(cluster, Some(eec), node).expect("the manager is installed");
    let dir = root.join(node);
    let bak = dir.join("encryption-provider-bak");
    std::fs::create_dir_all(&bak).expect("mkdir");
    std::fs::write(dir.join("encryption-provider.conf"), files.conf.as_bytes()).expect("conf");
    std::fs::write(
        dir.join("encryption-provider-history.bak"),
        files.history.as_bytes(),
    )
    .expect("history");
    for (name, text) in &files.backups {
        std::fs::write(bak.join(name), text.as_bytes()).expect("backup");
        open_to_all(&bak.join(name), 0o644);
    }
    for f in [
        "encryption-provider.conf",
        "encryption-provider-history.bak",
    ] {
        open_to_all(&dir.join(f), 0o644);
    }
    open_to_all(&bak, 0o755);
    open_to_all(&dir, 0o755);
    dir.display().to_string()
}

#[tokio::test]
async fn the_stale_node_is_found_over_ssh_and_no_key_comes_back() {
    let Some(p) = peers("etcd_nodes") else { return };
    let tmp = tempfile::Builder::new()
        .prefix("etcd-nodes")
        .tempdir_in("/tmp")
        .expect("tmp");
    open_to_all(tmp.path(), 0o755);
    let (cluster, rev) = ("staging", 12);
    let eec = json!({
        "metadata": {"annotations": {STALE_KEY_FILE_NODE: "n3"}},
        "spec": {"resources": ["secrets", "configmaps"], "rotationInterval": "10m", "type": "aesgcm"},
        "status": {"revision": rev, "deployStatus": {
            "n1": {"revision": rev, "state": "Success"},
            "n2": {"revision": rev, "state": "Success"},
            "n3": {"revision": rev, "state": "Success"}}}
    });
    // Every node is the one loopback sshd, each with its own directory; the cross-node
    // comparison is the domain's (unit-tested), so here each node is read on its own.
    let nodes: Vec<String> = ["n1", "n2", "n3"].map(String::from).to_vec();
    let known = tempfile::tempdir().expect("known_hosts dir");
    let pool = SshPool::new(
        policy_with(known.path(), &p.host_key_line(), false),
        timeouts(),
        4,
    );
    let mut reports = Vec::new();
    for node in &nodes {
        let base = place(tmp.path(), cluster, &eec, node);
        let mut targets = BTreeMap::new();
        targets.insert(node.clone(), p.key_target());
        let shell = SshShell {
            pool: pool.clone(),
            targets,
            cancel: CancellationToken::new(),
        };
        let one = inspect(
            &shell,
            std::slice::from_ref(node),
            &BTreeMap::new(),
            &base,
            &EtcdEncryptionConfigSpec::acp_default(),
            rev,
            2,
        )
        .await;
        reports.extend(one);
    }
    for r in &reports {
        assert_eq!(r.skipped, None, "{r:?}");
        assert_eq!(r.keys.len(), 8, "{r:?}");
    }
    assert_eq!(reports[0].keys[0].name, "key12");
    assert!(reports[0].findings.is_empty(), "{:?}", reports[0]);
    assert_eq!(reports[2].keys[0].name, "key11");
    assert!(
        reports[2]
            .findings
            .iter()
            .any(|f| f.code == "active-key-stale"),
        "{:?}",
        reports[2]
    );
    // Nothing of any key reaches what is shown or printed.
    let shown = format!(
        "{reports:?}{}",
        serde_json::to_string(&reports).expect("json")
    );
    for r in 1..=rev {
        let key = sim_key(cluster, r);
        assert!(!shown.contains(key.as_str()), "key{r} leaked");
        assert!(
            !shown.contains(&key.as_str()[..16]),
            "part of key{r} leaked"
        );
    }
}
