//! Drafts on disk: crash safety, concurrent writers, no secrets, corrupt files, and the
//! `validate` and `drafts` subcommands of the real binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use acp_cockpit::domain::draft::{Draft, NodeDraft, NodeType, SshAuth};
use acp_cockpit::engine::store::{DraftCommand, DraftEvent, DraftStore, StoreError, run_command};
use acp_cockpit::tui::panes::wizard::WizardPane;
use acp_cockpit::tui::panes::{Effect, Pane};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const BIN: &str = env!("CARGO_BIN_EXE_acp-cockpit");

fn node(ip: &str) -> NodeDraft {
    NodeDraft {
        ipv4: ip.into(),
        ..NodeDraft::new()
    }
}

fn bin(data: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("ACP_COCKPIT_DATA_DIR", data)
        .env("ACP_COCKPIT_CONFIG_DIR", data.join("config"))
        .env("ACP_COCKPIT_STATE_DIR", data.join("state"))
        .env_remove("KUBECONFIG");
    c
}

/// Every draft file parses as a draft; returns their names.
fn parse_all(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).expect("drafts dir") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".json") && !name.starts_with('.') {
            let bytes = std::fs::read(&p).expect("read draft");
            let d: Draft = serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{} does not parse: {e}", p.display()));
            names.push(d.name);
        }
    }
    names.sort();
    names
}

#[test]
fn killing_a_saving_process_leaves_every_draft_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let store = DraftStore::new(&data);
    let keep = store.save("keep", &node("10.0.0.1"), None).unwrap();
    // A large draft makes each write take long enough to be interrupted.
    let mut big = node("10.0.0.2");
    big.display_name = "x".repeat(60);
    big.nic = "n".repeat(4000);
    let export = tmp.path().join("big.json");
    store.save("big", &big, None).unwrap();
    store.export("big", &export, false).unwrap();

    let mut rng_state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut killed = 0;
    for _ in 0..40 {
        let mut child = bin(&data)
            .args(["drafts", "import"])
            .arg(&export)
            .args(["--name", "imp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the binary");
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        std::thread::sleep(Duration::from_micros(rng_state % 20_000));
        // SIGKILL: no destructor, no cleanup, exactly like a crash or a lost SSH session.
        if child.kill().is_ok() {
            killed += 1;
        }
        let _ = child.wait();
        let names = parse_all(store.dir());
        assert!(names.contains(&"keep".to_string()));
        assert!(names.contains(&"big".to_string()));
    }
    assert!(killed > 0, "no process was killed; the test did not run");
    // Leftover temporary files are cleaned by the next locked operation.
    let listing = store.list().unwrap();
    assert!(listing.unreadable.is_empty(), "{:?}", listing.unreadable);
    assert_eq!(store.load("keep").unwrap(), keep);
    let leftovers: Vec<_> = std::fs::read_dir(store.dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn concurrent_stores_never_lose_a_draft_or_an_update() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().to_path_buf();
    DraftStore::new(&data)
        .save("shared", &node("10.0.0.1"), None)
        .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let data = data.clone();
            std::thread::spawn(move || {
                // Each thread has its own store, as two cockpits would.
                let s = DraftStore::new(&data);
                for i in 0..15 {
                    s.save_new("node", &node(&format!("10.1.{t}.{i}"))).unwrap();
                    loop {
                        let cur = s.load("shared").unwrap();
                        let mut n = cur.node.clone();
                        let count: u32 = n.display_name.parse().unwrap_or(0);
                        n.display_name = (count + 1).to_string();
                        match s.save("shared", &n, Some(cur.revision)) {
                            Ok(_) => break,
                            Err(StoreError::Conflict { .. }) => continue,
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let s = DraftStore::new(&data);
    let l = s.list().unwrap();
    assert_eq!(l.drafts.len(), 4 * 15 + 1);
    let shared = s.load("shared").unwrap();
    assert_eq!(shared.node.display_name, "60", "an update was lost");
    assert_eq!(shared.revision, 61);
}

#[test]
fn two_processes_importing_at_once_keep_every_draft() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let store = DraftStore::new(&data);
    store.save("seed", &node("10.0.0.9"), None).unwrap();
    let export = tmp.path().join("seed.json");
    store.export("seed", &export, false).unwrap();
    let spawn_loop = |n: usize| {
        let data = data.clone();
        let export = export.clone();
        std::thread::spawn(move || {
            for _ in 0..n {
                let st = bin(&data)
                    .args(["drafts", "import"])
                    .arg(&export)
                    .args(["--name", "dup"])
                    .stdout(Stdio::null())
                    .status()
                    .expect("run the binary");
                assert!(st.success());
            }
        })
    };
    let a = spawn_loop(8);
    let b = spawn_loop(8);
    a.join().unwrap();
    b.join().unwrap();
    let names = parse_all(store.dir());
    assert_eq!(names.iter().filter(|n| n.starts_with("dup")).count(), 16);
}

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn type_str(p: &mut WizardPane, s: &str) {
    for c in s.chars() {
        p.on_key(key(KeyCode::Char(c)));
    }
}

fn grep_tree(dir: &Path, needle: &[u8], hits: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            grep_tree(&p, needle, hits);
        } else if let Ok(bytes) = std::fs::read(&p)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            hits.push(p);
        }
    }
}

#[test]
fn drafts_saved_from_the_dialog_hold_no_secret() {
    use base64::Engine as _;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let store = DraftStore::new(&data);
    let password = "Sup3r-S3cret-pw!";
    let proxy_pw = "Pr0xy-S3cret-pw!";
    let mut pane = WizardPane::new();
    pane.on_action("add_node");
    assert!(pane.wants_text_input());
    type_str(&mut pane, "192.168.7.7");
    // The dialog opens on IPv4; its rows are Type, IPv4, Application Deployable, Display
    // Name, SSH Connection IP, NIC, Bridge Network, SSH Port, SSH Username, Proxy, ...
    for _ in 0..8 {
        pane.on_key(key(KeyCode::Tab));
    }
    pane.on_key(key(KeyCode::Char(' ')));
    pane.on_key(key(KeyCode::Tab));
    type_str(&mut pane, "10.0.0.1:1080");
    pane.on_key(key(KeyCode::Tab));
    type_str(&mut pane, "ops");
    pane.on_key(key(KeyCode::Tab));
    type_str(&mut pane, proxy_pw);
    pane.on_key(key(KeyCode::Tab));
    pane.on_key(key(KeyCode::Tab));
    type_str(&mut pane, password);
    let frame = render_text(&mut pane);
    assert!(frame.contains("[10.0.0.1:1080]"), "{frame}");
    assert!(
        frame.contains(&format!("[{}]", "*".repeat(password.len()))),
        "{frame}"
    );
    assert!(!frame.contains(password) && !frame.contains(proxy_pw));
    pane.on_key(key(KeyCode::Tab));
    pane.on_key(key(KeyCode::Tab));
    let mut saved = None;
    for f in pane.on_key(key(KeyCode::Enter)).unwrap_or_default() {
        if let Effect::Engine(acp_cockpit::engine::Command::Drafts { cmd, .. }) = f {
            saved = Some(run_command(&store, cmd));
        }
    }
    let events = saved.expect("the dialog produced a save command");
    assert!(
        matches!(events.as_slice(), [DraftEvent::Saved(d)] if d.node.proxy.enabled && d.node.ipv4 == "192.168.7.7"),
        "{events:?}"
    );
    // Restoring brings the node back and asks for both secrets again.
    let restored = run_command(&store, DraftCommand::RestoreLatest);
    for ev in &restored {
        pane.on_event(&acp_cockpit::engine::Event::Drafts {
            id: acp_cockpit::engine::RequestId(0),
            event: ev.clone(),
        });
    }
    let frame = render_text(&mut pane);
    assert!(frame.contains("from draft 192.168.7.7"), "{frame}");
    assert!(
        frame.contains("enter the SSH password and proxy"),
        "{frame}"
    );

    let b64 = base64::engine::general_purpose::STANDARD;
    for secret in [password, proxy_pw] {
        for needle in [secret.to_string(), b64.encode(secret)] {
            let mut hits = Vec::new();
            grep_tree(tmp.path(), needle.as_bytes(), &mut hits);
            assert!(hits.is_empty(), "secret found in {hits:?}");
        }
    }
}

fn render_text(pane: &mut WizardPane) -> String {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut t = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let theme = acp_cockpit::config::theme::Theme::default();
    t.draw(|f| {
        let ctx = acp_cockpit::tui::panes::RenderCtx {
            theme: &theme,
            now: chrono::DateTime::from_timestamp(1_768_000_000, 0).unwrap(),
            readonly: false,
            sandbox: true,
        };
        pane.render(f, f.area(), &ctx);
    })
    .unwrap();
    let buf = t.backend().buffer().clone();
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

#[test]
fn drafts_list_reports_unreadable_files_and_leaves_them_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let store = DraftStore::new(&data);
    store.save("ok", &node("10.0.0.1"), None).unwrap();
    let broken = br#"{"format":1,"name":"bro"#;
    std::fs::write(store.dir().join("broken.json"), broken).unwrap();
    // A valid draft of a newer format: a higher number and a field this build does not know.
    let mut future: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(store.dir().join("ok.json")).unwrap())
            .unwrap();
    future["format"] = serde_json::json!(acp_cockpit::domain::draft::DRAFT_FORMAT + 1);
    future["name"] = serde_json::json!("future");
    future["node"]["gpu"] = serde_json::json!(true);
    let future = serde_json::to_vec_pretty(&future).unwrap();
    std::fs::write(store.dir().join("future.json"), &future).unwrap();
    let files = |dir: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    let before = files(store.dir());
    for args in [
        &["drafts", "list", "-o", "json"][..],
        &["drafts", "list"][..],
    ] {
        let out = bin(&data).args(args).output().unwrap();
        assert!(out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("broken.json") && stderr.contains("left as it is"),
            "{stderr}"
        );
        assert!(
            stderr.contains("future.json: written by a newer acp-cockpit; upgrade to open it"),
            "{stderr}"
        );
        assert!(!stderr.contains("moved"), "{stderr}");
        if args.len() == 4 {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(v["drafts"].as_array().unwrap().len(), 1);
            let bad = v["unreadable"].as_array().unwrap();
            assert_eq!(bad.len(), 2, "{v}");
            assert_eq!(bad[0]["problem"]["kind"], "corrupt");
            assert_eq!(bad[1]["problem"]["kind"], "newer");
        }
        assert_eq!(
            files(store.dir()),
            before,
            "a listing changed the directory"
        );
    }
    // Opening the newer draft is refused and leaves it be.
    let out = bin(&data)
        .args(["drafts", "show", "future"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("upgrade to open it"), "{stderr}");
    assert_eq!(
        std::fs::read(store.dir().join("future.json")).unwrap(),
        future
    );
    // `repair` is the explicit step: it moves the corrupt file aside, keeps it, and says where.
    let out = bin(&data).args(["drafts", "repair"]).output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.json.corrupt-"), "{stderr}");
    let moved: Vec<_> = files(store.dir())
        .into_iter()
        .filter(|n| n.starts_with("broken.json.corrupt-"))
        .collect();
    assert_eq!(moved.len(), 1, "the corrupt file is kept, renamed");
    assert_eq!(std::fs::read(store.dir().join(&moved[0])).unwrap(), broken);
    assert_eq!(
        std::fs::read(store.dir().join("future.json")).unwrap(),
        future
    );
}

#[test]
fn drafts_cli_show_rename_rm() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let store = DraftStore::new(&data);
    let mut n = node("10.0.0.5");
    n.node_type = NodeType::Worker;
    n.auth = SshAuth::Key;
    n.key_path = "~/.ssh/id_ed25519".into();
    store.save("w1", &n, None).unwrap();
    let out = bin(&data).args(["drafts", "show", "w1"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Worker Node") && text.contains("~/.ssh/id_ed25519"),
        "{text}"
    );
    assert!(text.contains("private key passphrase"), "{text}");
    assert!(
        bin(&data)
            .args(["drafts", "rename", "w1", "w2"])
            .status()
            .unwrap()
            .success()
    );
    assert!(
        bin(&data)
            .args(["drafts", "rm", "w2"])
            .status()
            .unwrap()
            .success()
    );
    let out = bin(&data).args(["drafts", "rm", "w2"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no draft named 'w2'"));
}

fn render_pane(pane: &mut dyn Pane, w: u16, h: u16) -> String {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    let theme = acp_cockpit::config::theme::Theme::default();
    t.draw(|f| {
        let ctx = acp_cockpit::tui::panes::RenderCtx {
            theme: &theme,
            // A fixed clock keeps "saved 5m ago" stable.
            now: chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
                .unwrap()
                .with_timezone(&chrono::Utc),
            readonly: false,
            sandbox: true,
        };
        pane.render(f, f.area(), &ctx);
    })
    .unwrap();
    let buf = t.backend().buffer().clone();
    let mut s = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];

#[test]
fn wizard_sections_snapshots() {
    use acp_cockpit::tui::panes::wizard::Section;
    for (w, h) in SIZES {
        for s in Section::ALL {
            let mut p = WizardPane::demo();
            p.set_section(s);
            let slug = s.title().to_lowercase().replace(' ', "_");
            let text = render_pane(&mut p, w, h);
            // Every section of the demo shows findings somewhere on screen.
            assert!(text.contains("error(s)"), "{text}");
            insta::assert_snapshot!(format!("wizard_{slug}_{w}x{h}"), text);
        }
    }
}

#[test]
fn wizard_findings_sit_beside_their_fields() {
    use acp_cockpit::tui::panes::wizard::Section;
    let mut p = WizardPane::demo();
    assert!(p.errors() > 0, "the demo has errors");
    p.set_section(Section::Nodes);
    let text = render_pane(&mut p, 200, 50);
    // Two nodes share 192.168.10.11 in the demo.
    let dup_line = text
        .lines()
        .find(|l| l.contains("Node 2") && l.contains("192.168.10.11"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(dup_line.contains(" x "), "{dup_line}");
    // Submitting with errors is refused and moves to the first error.
    let fx = p.on_action("submit");
    assert!(fx.is_empty());
    let text = render_pane(&mut p, 200, 50);
    assert!(text.contains("Create is disabled"), "{text}");
}

#[test]
fn node_dialog_snapshots() {
    for (w, h) in SIZES {
        let mut p = WizardPane::demo();
        p.on_action("add_node");
        type_str(&mut p, "192.168.10.99");
        insta::assert_snapshot!(
            format!("wizard_add_node_{w}x{h}"),
            render_pane(&mut p, w, h)
        );
    }
}

#[test]
fn drafts_pane_snapshots() {
    use acp_cockpit::tui::panes::drafts::DraftsPane;
    for (w, h) in SIZES {
        let mut p = DraftsPane::demo();
        insta::assert_snapshot!(format!("drafts_{w}x{h}"), render_pane(&mut p, w, h));
    }
}

const GOOD: &str = r#"apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata:
  name: demo
  annotations:
    cpaas.io/container-runtime: "containerd://1.6.28-4"
    cpaas.io/network-type: "kube-ovn"
    kube-ovn.cpaas.io/join-cidr: "100.64.0.0/16"
    kube-ovn.cpaas.io/transmit-type: "overlay"
spec:
  type: Baremetal
  version: "1.30.14"
  displayName: "demo"
  clusterCIDR: "10.3.0.0/16"
  serviceCIDR: "10.4.0.0/16"
  networkDevice: "eth0"
  properties: {maxNodePodNum: 256}
  features:
    ipv6DualStack: false
    ha: {thirdParty: {vip: "192.168.0.10", vport: 6443}}
  machines:
  - {ip: "192.168.0.11", port: 22, role: master, username: root, password: "cGFzc3dvcmQ="}
  - {ip: "192.168.0.21", port: 22, role: node, username: root, password: "cGFzc3dvcmQ="}
"#;

const BAD: &str = r#"apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata:
  name: Bad_Name
spec:
  type: Baremetal
  version: "1.30.4"
  clusterCIDR: "10.3.0.0/16"
  serviceCIDR: "10.3.0.0/24"
  machines:
  - {ip: "10.3.0.5", port: 22, role: master, username: root}
"#;

#[test]
fn validate_exit_codes_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.yaml");
    let bad = tmp.path().join("bad.yaml");
    let broken = tmp.path().join("broken.yaml");
    std::fs::write(&good, GOOD).unwrap();
    std::fs::write(&bad, BAD).unwrap();
    std::fs::write(
        &broken,
        "apiVersion: v1\nkind: Cluster\nmetadata:\n  name: [x\n",
    )
    .unwrap();

    let out = bin(tmp.path())
        .args(["validate", "-o", "json", "-f"])
        .arg(&good)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["valid"], true);
    assert_eq!(v["errors"], 0);

    let out = bin(tmp.path())
        .args(["validate", "-o", "json", "-f"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    let fields: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"metadata.name"), "{fields:?}");
    assert!(
        fields.iter().any(|f| f.starts_with("spec.serviceCIDR")),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("spec.machines[0]")),
        "{fields:?}"
    );

    let out = bin(tmp.path())
        .args(["validate", "-f"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("metadata.name") && text.contains("hint:"),
        "{text}"
    );

    let out = bin(tmp.path())
        .args(["validate", "-f"])
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("broken.yaml") && err.contains("line 4"),
        "{err}"
    );

    let out = bin(tmp.path())
        .args(["validate", "-f"])
        .arg(tmp.path().join("missing.yaml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn create_refuses_a_manifest_with_errors_and_honours_readonly() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    let good = tmp.path().join("good.yaml");
    std::fs::write(&bad, BAD).unwrap();
    std::fs::write(&good, GOOD).unwrap();
    let out = bin(tmp.path())
        .args(["create", "--sandbox", "-f"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not creating"));
    let out = bin(tmp.path())
        .args(["create", "--sandbox", "--readonly", "-f"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--readonly"));
}

#[test]
fn create_on_the_embedded_sandbox() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.yaml");
    std::fs::write(&good, GOOD).unwrap();
    let out = bin(tmp.path())
        .args(["create", "--sandbox", "--dry-run", "-o", "json", "-f"])
        .arg(&good)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["created"], false);
    // Without a terminal nobody can confirm: the gate asks for --yes and creates nothing.
    let out = bin(tmp.path())
        .args(["create", "--sandbox", "-f"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    let out = bin(tmp.path())
        .args(["create", "--sandbox", "--yes", "-f"])
        .arg(&good)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("cluster demo is being created"), "{stdout}");
}

#[test]
fn whole_form_drafts_are_stored_listed_with_their_kind_and_kept_out_of_node_restores() {
    use acp_cockpit::domain::draft::{DraftKind, FormDraft};
    let tmp = tempfile::tempdir().unwrap();
    let store = DraftStore::new(tmp.path());
    store.save("n1", &node("10.0.0.1"), None).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let form = FormDraft {
        manifest: "kind: Cluster\n".into(),
        cluster: "prod-east".into(),
        nodes: 3,
        key_paths: [("10.0.0.2".to_string(), "~/.ssh/k".to_string())].into(),
    };
    let saved = store.save_form_new(&form.suggested_name(), &form).unwrap();
    assert_eq!(saved.name, "cluster-prod-east");
    let listing = store.list().unwrap();
    let kinds: Vec<(String, DraftKind)> = listing
        .drafts
        .iter()
        .map(|d| (d.name.clone(), d.kind()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("cluster-prod-east".to_string(), DraftKind::Cluster),
            ("n1".to_string(), DraftKind::Node)
        ]
    );
    // "Restore from draft" in Add Node restores nodes only, even when a form is newer.
    let (latest, _) = store.latest().unwrap();
    assert_eq!(latest.map(|d| d.name), Some("n1".to_string()));
    // Export and import keep the form.
    let out = tmp.path().join("form.json");
    store.export("cluster-prod-east", &out, false).unwrap();
    let imported = store.import(&out, Some("copy")).unwrap();
    assert_eq!(imported.form.as_deref(), Some(&form));
    // A key's contents in place of its path is refused, as for node drafts.
    let mut leaky = form;
    leaky.key_paths.insert(
        "10.0.0.3".into(),
        "-----BEGIN OPENSSH PRIVATE KEY-----".into(),
    );
    assert!(store.save_form_new("leaky", &leaky).is_err());
}

#[test]
fn the_drafts_pane_lists_form_drafts_with_their_kind() {
    use acp_cockpit::domain::draft::{DRAFT_FORMAT, FormDraft};
    use acp_cockpit::engine::store::Listing;
    use acp_cockpit::tui::panes::drafts::DraftsPane;
    let at = chrono::DateTime::parse_from_rfc3339("2026-01-15T09:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let draft = |name: &str, form: Option<Box<FormDraft>>| Draft {
        format: DRAFT_FORMAT,
        name: name.into(),
        revision: 1,
        saved_at: at,
        node: node("10.0.0.1"),
        form,
    };
    let listing = Listing {
        drafts: vec![
            draft("n1", None),
            draft(
                "cluster-prod-east",
                Some(Box::new(FormDraft {
                    manifest: "kind: Cluster\n".into(),
                    cluster: "prod-east".into(),
                    nodes: 3,
                    key_paths: Default::default(),
                })),
            ),
        ],
        unreadable: Vec::new(),
    };
    let mut p = DraftsPane::new();
    p.on_event(&acp_cockpit::engine::Event::Drafts {
        id: acp_cockpit::engine::RequestId(0),
        event: DraftEvent::Listed(listing),
    });
    let text = render_pane(&mut p, 80, 24);
    let row = text
        .lines()
        .find(|l| l.contains("cluster-prod-east"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        row.contains("cluster") && row.contains("3 node(s)"),
        "{row}"
    );
    let row = text
        .lines()
        .find(|l| l.contains("n1 "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains("control") && row.contains("10.0.0.1"), "{row}");
}
