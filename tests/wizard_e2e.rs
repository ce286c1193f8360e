//! End to end on the sandbox: the wizard's create path through the engine, and the real binary
//! filled through a pseudo-terminal, both ending with a cluster the platform is creating.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use acp_cockpit::domain::cluster::Cluster;
use acp_cockpit::domain::form::{ClusterForm, NodeForm, Secret};
use acp_cockpit::engine::kube::{KubeCommand, KubeEvent, KubeSource};
use acp_cockpit::engine::{self, Command, EngineConfig, Event};
use acp_cockpit::sandbox::{Platform, SandboxOptions, SandboxPlatform, kubeconfig};
use acp_cockpit::tui::panes::wizard::WizardPane;
use acp_cockpit::tui::panes::{Effect, Pane};
use kube::Api;

const WAIT: Duration = Duration::from_secs(90);

async fn start() -> SandboxPlatform {
    common::crypto();
    Platform::start(SandboxOptions {
        port: 0,
        speed: 1.0,
        seed: 7,
    })
    .await
    .expect("sandbox starts")
}

fn valid_form(name: &str) -> ClusterForm {
    let mut f = ClusterForm::new();
    f.basic.name = name.into();
    f.basic.kubernetes_version = "1.30.14".into();
    f.basic.endpoint.address = "192.168.0.10".into();
    f.node_settings.nic = "eth0".into();
    f.node_settings.nodes = vec![
        NodeForm {
            ip: "192.168.0.11".into(),
            password: Secret::new("e2e-password"),
            ..NodeForm::default()
        },
        NodeForm {
            role: acp_cockpit::domain::draft::NodeType::Worker,
            ip: "192.168.0.21".into(),
            password: Secret::new("e2e-password"),
            ..NodeForm::default()
        },
    ];
    f.node_settings.monitoring.nodes = vec!["192.168.0.21".into()];
    f
}

/// Waits for the engine's answer to a create and hands it to the pane.
async fn answer(
    rx: &mut tokio::sync::mpsc::Receiver<Event>,
    pane: &mut WizardPane,
    dry_run: bool,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the engine answers in time")
            .expect("the engine is running");
        pane.on_event(&ev);
        if let Event::Kube(KubeEvent::ClusterCreated {
            dry_run: d, result, ..
        }) = ev
            && d == dry_run
        {
            return result.map_err(|e| e.to_string());
        }
    }
}

fn kube_command(fx: Vec<Effect>) -> (Command, bool) {
    match fx.into_iter().next() {
        Some(Effect::Engine(c @ Command::Kube(KubeCommand::CreateCluster { .. }))) => (c, false),
        Some(Effect::Guarded(g)) => {
            assert_eq!(g.access.as_ref().map(|a| a.verb.as_str()), Some("create"));
            (g.command, true)
        }
        other => panic!("expected a create command, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wizard_creates_a_cluster_on_the_sandbox_through_the_engine() {
    let platform = start().await;
    let data = tempfile::tempdir().unwrap();
    let (handle, mut rx) = engine::spawn(EngineConfig {
        kube: KubeSource::InMemory {
            kubeconfig: Box::new(platform.kubeconfig().clone()),
            context: Some(kubeconfig::CONTEXT.to_string()),
        },
        readonly: false,
        data_dir: data.path().to_path_buf(),
        registry_via: None,
        ssh_proxy: None,
    });
    let mut pane = WizardPane::with_form(valid_form("wiz-e2e"));
    assert_eq!(pane.errors(), 0, "{:?}", pane.issues());

    // First submit: a server-side dry run, not guarded.
    let (cmd, guarded) = kube_command(pane.on_action("submit"));
    assert!(!guarded);
    handle.send(cmd).unwrap();
    answer(&mut rx, &mut pane, true)
        .await
        .expect("dry run accepted");
    let admin = platform.client(kubeconfig::CONTEXT).await.unwrap();
    let api: Api<Cluster> = Api::all(admin);
    assert!(
        api.get_opt("wiz-e2e").await.unwrap().is_none(),
        "a dry run creates nothing"
    );

    // Second submit: through the safety gate.
    let (cmd, guarded) = kube_command(pane.on_action("submit"));
    assert!(guarded);
    handle.send(cmd).unwrap();
    answer(&mut rx, &mut pane, false)
        .await
        .expect("create accepted");

    // The Review now offers the timeline of the new cluster.
    let fx = pane.on_action("edit");
    assert!(matches!(
        fx.as_slice(),
        [Effect::Open(acp_cockpit::tui::panes::PaneId::Timeline, Some(n))] if n == "wiz-e2e"
    ));

    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(c) = api.get_opt("wiz-e2e").await.unwrap() {
            let phase = c.status.as_ref().and_then(|s| s.phase.clone());
            if phase.as_deref() == Some("Initializing") {
                assert_eq!(c.spec.machines.len(), 2);
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the cluster never showed as creating"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = handle.send(Command::Shutdown);
    platform.shutdown().await;
}

// ---- the real binary in a pseudo-terminal ----

struct Pty {
    child: Box<dyn portable_pty::Child + Send + Sync>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Pty {
    fn start(dir: &std::path::Path) -> Pty {
        use portable_pty::{CommandBuilder, PtySize, native_pty_system};
        let pair = native_pty_system()
            .openpty(PtySize {
                rows: 40,
                cols: 140,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_acp-cockpit"));
        cmd.arg("--sandbox");
        cmd.env_clear();
        if let Ok(path) = std::env::var("PATH") {
            cmd.env("PATH", path);
        }
        cmd.env("HOME", dir);
        cmd.env("TERM", "xterm-256color");
        cmd.env("LANG", "C.UTF-8");
        cmd.env("ACP_COCKPIT_CONFIG_DIR", dir.join("config"));
        cmd.env("ACP_COCKPIT_DATA_DIR", dir.join("data"));
        cmd.env("ACP_COCKPIT_STATE_DIR", dir.join("state"));
        cmd.env("EDITOR", dir.join("editor.sh"));
        cmd.cwd(dir);
        let child = pair.slave.spawn_command(cmd).expect("spawn acp-cockpit");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("reader");
        let writer = pair.master.take_writer().expect("writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(40).expect("rows"),
            std::num::NonZeroU16::new(140).expect("cols"),
            0,
        )));
        let s = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().process(&buf[..n]);
            }
        });
        Pty {
            child,
            writer,
            screen,
            _master: pair.master,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&mut self, needle: &str, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.text().contains(needle) {
                return;
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!("acp-cockpit exited ({st:?}); screen:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {needle:?}; screen:\n{}", self.text());
    }

    /// Sends keys one at a time with a short pause, as a person would type.
    fn keys(&mut self, keys: &[&str]) {
        for k in keys {
            self.writer.write_all(k.as_bytes()).expect("write");
            self.writer.flush().expect("flush");
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn type_text(&mut self, s: &str) {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        let refs: Vec<&str> = chars.iter().map(String::as_str).collect();
        self.keys(&refs);
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ENTER: &str = "\r";
const TAB: &str = "\t";
const DOWN: &str = "\x1b[B";

fn grep_tree(dir: &std::path::Path, needle: &[u8], hits: &mut Vec<std::path::PathBuf>) {
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
fn filling_the_wizard_in_a_terminal_creates_the_cluster() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    // The "editor" keeps a copy of what it was given and renames the cluster.
    let script = dir.path().join("editor.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncp \"$1\" '{}'\nsed -i 's/name: pty-demo/name: pty-edited/' \"$1\"\n",
            dir.path().join("seen.yaml").display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut t = Pty::start(dir.path());
    t.wait_for("SANDBOX", WAIT);
    // A cluster on the newest release in the list means the platform is connected, and the
    // versions it publishes (one read, sent for before the watch starts) have reached the
    // wizard.
    t.wait_for("1.32.7", WAIT);
    t.keys(&["2"]);
    t.wait_for("Create Cluster", WAIT);

    // Basic Info: name, version (a choice: Enter takes the newest the platform publishes),
    // endpoint.
    t.keys(&[ENTER]);
    t.type_text("pty-demo");
    t.keys(&[ENTER, DOWN, DOWN, ENTER]);
    t.wait_for("< 1.32.7 >", WAIT);
    t.keys(&[DOWN, DOWN, DOWN, DOWN, ENTER]);
    t.type_text("192.168.0.10");
    t.keys(&[ENTER]);
    t.wait_for("[192.168.0.10]", WAIT);

    // Node Settings: the cluster NIC, one control-plane node with a password.
    t.keys(&["]", "]"]);
    t.wait_for("Network Interface Card", WAIT);
    t.keys(&[ENTER]);
    t.type_text("eth0");
    t.keys(&[ENTER, "a"]);
    t.wait_for("Add Node", WAIT);
    t.type_text("192.168.0.11");
    for _ in 0..10 {
        t.keys(&[TAB]);
    }
    t.type_text("pty-S3cret-pw");
    t.keys(&[TAB]);
    // A draft of the node on the way: it must hold no password.
    t.keys(&[TAB, ENTER]);
    t.wait_for("Saved draft", WAIT);
    t.keys(&["R"]);
    t.wait_for("Restored draft", WAIT);
    t.type_text("pty-S3cret-pw");
    t.keys(&[TAB, ENTER]);
    t.wait_for("Node 1 added", WAIT);

    // The YAML in $EDITOR: masked secrets go out, the edit comes back, secrets are refilled.
    t.keys(&["r", "E"]);
    t.wait_for("Edited YAML imported", WAIT);
    t.wait_for("Create Cluster: pty-edited", WAIT);
    let seen = std::fs::read_to_string(dir.path().join("seen.yaml")).expect("the editor ran");
    assert!(seen.contains("password: <redacted>"), "{seen}");
    assert!(!seen.contains("pty-S3cret-pw"));

    // Dry run, then create through the confirmation (which defaults to Cancel).
    t.keys(&["S"]);
    t.wait_for("Dry run passed", WAIT);
    t.keys(&["S"]);
    t.wait_for("Confirm", WAIT);
    t.keys(&["y", ENTER]);
    // Once the platform accepted it, the wizard opens the cluster's creation timeline.
    t.wait_for("Timeline: pty-edited", WAIT);

    // The clusters pane lists it.
    t.keys(&["1"]);
    t.wait_for("pty-edited", WAIT);

    let b64 = base64::engine::general_purpose::STANDARD.encode("pty-S3cret-pw");
    for needle in ["pty-S3cret-pw", b64.as_str()] {
        let mut hits = Vec::new();
        grep_tree(dir.path(), needle.as_bytes(), &mut hits);
        assert!(hits.is_empty(), "the password is on disk in {hits:?}");
    }
}

/// `create --dry-run` judges with what the platform knows: a node of a seeded cluster and a
/// version the platform does not publish are refused before any request; a clean manifest
/// with a release only the platform publishes passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_dry_run_refuses_taken_nodes_and_unpublished_versions() {
    let platform = start().await;
    let dir = tempfile::tempdir().unwrap();
    let kc_path = dir.path().join("kubeconfig");
    kubeconfig::write(platform.kubeconfig(), &kc_path).expect("write kubeconfig");
    let admin = platform.client(kubeconfig::CONTEXT).await.unwrap();
    let clusters = Api::<Cluster>::all(admin)
        .list(&Default::default())
        .await
        .unwrap()
        .items;
    let (owner, taken) = clusters
        .iter()
        .find_map(|c| {
            let name = c.metadata.name.clone()?;
            let m = c.spec.machines.iter().find(|m| !m.ip.is_empty())?;
            Some((name, m.ip.clone()))
        })
        .expect("a seeded cluster with nodes");

    let run_with = |args: &[&str], name: &str, form: ClusterForm| {
        let path = dir.path().join(format!("{name}.yaml"));
        let yaml = acp_cockpit::domain::form::to_yaml(&form.to_cluster(), false).unwrap();
        std::fs::write(&path, yaml).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_acp-cockpit"))
            .arg("--kubeconfig")
            .arg(&kc_path)
            .args(args)
            .arg("-f")
            .arg(&path)
            .env_remove("KUBECONFIG")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .output()
            .expect("runs");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let run = |name: &str, form: ClusterForm| run_with(&["create", "--dry-run"], name, form);

    let mut form = valid_form("e2e-taken");
    form.node_settings.nodes[1].ip = taken.clone();
    form.node_settings.monitoring.nodes = vec![taken.clone()];
    let (code, text) = tokio::task::block_in_place(|| run("taken", form));
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("{taken} is already a node of cluster {owner}")),
        "{text}"
    );
    assert!(text.contains(&format!("remove it from {owner}")), "{text}");
    // `validate` judges the same way only when asked to consult the platform.
    let mut form = valid_form("e2e-taken");
    form.node_settings.nodes[1].ip = taken.clone();
    form.node_settings.monitoring.nodes = vec![taken.clone()];
    let (code, text) = tokio::task::block_in_place(|| {
        run_with(&["validate", "--platform"], "taken", form.clone())
    });
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("cluster {owner}")), "{text}");
    let (_, text) = tokio::task::block_in_place(|| run_with(&["validate"], "taken", form));
    assert!(!text.contains("already a node"), "offline: {text}");

    let mut form = valid_form("e2e-old");
    form.basic.kubernetes_version = "1.27.16".into();
    let (code, text) = tokio::task::block_in_place(|| run("old", form));
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("1.27.16"), "{text}");
    assert!(
        text.contains("1.32.7"),
        "the hint lists the published releases: {text}"
    );

    // 1.32.7 is published by the platform but not in the built-in list, so passing proves
    // the platform's list was used.
    let mut form = valid_form("e2e-clean");
    form.basic.kubernetes_version = "1.32.7".into();
    let (code, text) = tokio::task::block_in_place(|| run("clean", form));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("accepted cluster e2e-clean"), "{text}");
    platform.shutdown().await;
}
