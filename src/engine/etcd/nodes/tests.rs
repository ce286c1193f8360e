use super::*;
use std::path::Path;

/// Runs the script with this machine's `sh`, the way a node's login shell would.
struct LocalShell;

impl NodeShell for LocalShell {
    async fn run(&self, _node: &str, script: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let out = tokio::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .output()
            .await
            .map_err(|e| e.to_string())?;
        Ok(Zeroizing::new(out.stdout))
    }
}

const SECRET: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

fn conf(names: &[&str]) -> String {
    let mut s = String::from(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets, configmaps]\n  providers:\n  - aesgcm:\n      keys:\n",
    );
    for n in names {
        s.push_str(&format!("      - name: {n}\n        secret: {SECRET}\n"));
    }
    s
}

fn node_dir(root: &Path, node: &str, names: &[&str], history: bool) -> String {
    let d = root.join(node);
    std::fs::create_dir_all(d.join("encryption-provider-bak")).expect("mkdir");
    std::fs::write(d.join("encryption-provider.conf"), conf(names)).expect("write");
    if history {
        std::fs::write(d.join("encryption-provider-history.bak"), "x").expect("write");
    }
    d.display().to_string()
}

#[tokio::test]
async fn the_script_reads_the_files_and_only_names_come_back() {
    let tmp = tempfile::tempdir().expect("tmp");
    let base = node_dir(tmp.path(), "n1", &["key2", "key1"], true);
    let files = inspect_node(&LocalShell, "n1", &base).await.expect("read");
    assert!(files.history_exists && files.backup_dir_exists);
    let facts = files.config.clone().expect("parsed");
    assert_eq!(facts.active_key().map(|k| k.name.as_str()), Some("key2"));
    assert!(!format!("{files:?}").contains(SECRET));
    // A missing directory and file are reported as such, not as a parse error.
    let files = inspect_node(
        &LocalShell,
        "n1",
        &tmp.path().join("none").display().to_string(),
    )
    .await
    .expect("read");
    assert_eq!(files.config, Err("does not exist".to_string()));
    assert!(!files.history_exists && !files.backup_dir_exists);
    // A quote in the path cannot break out of the script.
    let odd = tmp.path().join("it's");
    let base = node_dir(&odd, "n", &["key1"], false);
    let files = inspect_node(&LocalShell, "n", &base).await.expect("read");
    assert!(files.config.is_ok() && !files.history_exists);
}

#[test]
fn output_of_another_shell_is_refused() {
    assert!(files_from_output(b"Welcome!\n").is_err());
    let f = files_from_output(b"history=yes\nbakdir=no\nconf=unreadable\n").expect("ok");
    assert!(f.config.expect_err("unreadable").contains("root"));
}

/// A shell per node rooted in a temp dir: node name -> base dir.
struct Rooted(BTreeMap<String, String>);

impl NodeShell for Rooted {
    async fn run(&self, node: &str, script: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let base = self.0.get(node).ok_or("unreachable")?;
        LocalShell
            .run(
                node,
                &script.replace("b='/base'", &format!("b={}", quote(base))),
            )
            .await
    }
}

#[tokio::test]
async fn the_stale_node_and_the_skipped_node_are_named() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut bases = BTreeMap::new();
    bases.insert(
        "n1".to_string(),
        node_dir(tmp.path(), "n1", &["key3", "key2", "key1"], true),
    );
    bases.insert(
        "n2".to_string(),
        node_dir(tmp.path(), "n2", &["key2", "key1"], true),
    );
    bases.insert(
        "n3".to_string(),
        node_dir(tmp.path(), "n3", &["key3", "key2", "key1"], true),
    );
    let nodes: Vec<String> = ["n1", "n2", "n3", "n4"].map(String::from).to_vec();
    let mut skipped = BTreeMap::new();
    skipped.insert("n4".to_string(), "no SSH login".to_string());
    let spec = EtcdEncryptionConfigSpec::acp_default();
    let r = inspect(&Rooted(bases), &nodes, &skipped, "/base", &spec, 3, 2).await;
    let by: BTreeMap<&str, &NodeReport> = r.iter().map(|n| (n.node.as_str(), n)).collect();
    assert!(!by["n1"].drifted() && !by["n3"].drifted(), "{r:?}");
    let codes: Vec<&str> = by["n2"].findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["key-count", "active-key-stale", "key-list-differs"]);
    assert_eq!(by["n4"].skipped.as_deref(), Some("no SSH login"));
    assert_eq!(by["n1"].keys.len(), 3);
    let json = serde_json::to_string(&r).expect("json");
    assert!(!json.contains(SECRET) && json.contains("sha256:"));
}

#[test]
fn logins_come_from_the_machines_else_the_key_else_a_reason() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut machines = vec![ClusterMachine {
        ip: "10.0.0.1".into(),
        username: "root".into(),
        password: Some(b64("pw")),
        ..Default::default()
    }];
    let nodes = vec!["10.0.0.1".to_string(), "10.0.0.2".to_string()];
    let (t, s) = targets_for(&nodes, &mut machines, None);
    assert!(t.contains_key("10.0.0.1"));
    assert!(s["10.0.0.2"].contains("--ssh-key"), "{s:?}");
    // The machine's secret is wiped once read.
    assert_eq!(machines[0].password.as_deref(), Some(""));
    let key = SshAuth::KeyFile {
        path: "/k".into(),
        passphrase: None,
    };
    let (t, s) = targets_for(&nodes, &mut machines, Some(&key));
    assert!(s.is_empty(), "{s:?}");
    assert_eq!(t["10.0.0.2"].user, "root");
    assert!(matches!(t["10.0.0.1"].auth, SshAuth::KeyFile { .. }));
}
