//! The Create wizard's Preflight step: its screens (running, a failing node, a host-key
//! question) at 80x24 and 200x50, and a run on the sandbox through the engine where the wrong
//! node fails `arch`, blocks Create, and a changed host key is refused without an offer.

use std::time::Duration;

use acp_cockpit::domain::form::{self, ClusterForm};
use acp_cockpit::domain::preflight::{CheckResult, NodeInput, Role, Summary, Verdict};
use acp_cockpit::engine::kube::KubeSource;
use acp_cockpit::engine::preflight::{
    HostKeyLineData, HostKeyOffer, NodeReport, PreflightCommand, PreflightEvent, REACHABILITY_NOTE,
    Report,
};
use acp_cockpit::engine::ssh::ProxySpec;
use acp_cockpit::engine::{self, Command, EngineConfig, Event, RequestId};
use acp_cockpit::sandbox::scenario::draft_nodes::{
    DRAFT_NODES, ROTATING_NODE, WRONG_NODE, draft_cluster_manifest,
};
use acp_cockpit::sandbox::{Platform, SandboxOptions, kubeconfig};
use acp_cockpit::tui::panes::wizard::{PreflightEnv, WizardPane};
use acp_cockpit::tui::panes::{Effect, Pane};

const SIZES: [(u16, u16); 2] = [(80, 24), (200, 50)];
const WAIT: Duration = Duration::from_secs(90);

fn render_pane(pane: &mut dyn Pane, w: u16, h: u16) -> String {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    let theme = acp_cockpit::config::theme::Theme::default();
    t.draw(|f| {
        let ctx = acp_cockpit::tui::panes::RenderCtx {
            theme: &theme,
            now: chrono::DateTime::parse_from_rfc3339("2026-01-15T10:00:00Z")
                .expect("time")
                .with_timezone(&chrono::Utc),
            readonly: false,
            sandbox: true,
        };
        pane.render(f, f.area(), &ctx);
    })
    .expect("draw");
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

fn draft_form() -> ClusterForm {
    let yaml = serde_saphyr::to_string(&draft_cluster_manifest()).expect("yaml");
    ClusterForm::from_cluster(&form::from_yaml(&yaml).expect("manifest"))
}

fn run_id(fx: Vec<Effect>) -> (RequestId, Command) {
    let mut fx = fx.into_iter().filter_map(|e| match e {
        Effect::Engine(c @ Command::Preflight { .. }) => Some(c),
        _ => None,
    });
    match fx.next() {
        Some(c @ Command::Preflight { id, .. }) => (id, c),
        other => panic!("expected a preflight run, got {other:?}"),
    }
}

fn report(index: usize, results: Vec<CheckResult>) -> NodeReport {
    let name = DRAFT_NODES[index].ip;
    NodeReport {
        index,
        name: name.into(),
        target: format!("root@{name}:22"),
        role: Role::Worker,
        input: NodeInput::new(name, Role::Worker),
        results,
        host_key: None,
        facts: None,
        clock: None,
        elapsed_ms: 5,
    }
}

fn healthy(index: usize) -> NodeReport {
    let results = [
        "ssh-connect",
        "root",
        "arch",
        "os",
        "cpu",
        "memory",
        "port-6443",
    ]
    .into_iter()
    .map(|id| CheckResult::new(id, Verdict::Pass, "fine"))
    .collect();
    report(index, results)
}

fn wrong(index: usize) -> NodeReport {
    let mut r = healthy(index);
    r.results[2] = CheckResult::new("arch", Verdict::Fail, "aarch64; the platform runs x86_64")
        .with_hint("use an x86_64 machine");
    r.results.push(CheckResult::new(
        "firewalld",
        Verdict::Warn,
        "firewalld is active",
    ));
    r
}

fn send(p: &mut WizardPane, id: RequestId, event: PreflightEvent) {
    p.on_event(&Event::Preflight { id, event });
}

fn finish(p: &mut WizardPane, id: RequestId, nodes: Vec<NodeReport>) {
    let summary = Summary::of(nodes.iter().flat_map(|n| n.results.iter()));
    let report = Report {
        platform_arch: Some("x86_64".into()),
        nodes,
        fleet: Vec::new(),
        summary,
        exit_code: summary.exit_code(),
        note: REACHABILITY_NOTE,
    };
    send(p, id, PreflightEvent::Finished(Box::new(report)));
}

fn started() -> (WizardPane, RequestId) {
    let mut p = WizardPane::with_form(draft_form());
    let (id, _) = run_id(p.on_action("preflight"));
    let notes = vec!["no platform connected: the architecture is not compared".into()];
    send(
        &mut p,
        id,
        PreflightEvent::Started {
            nodes: DRAFT_NODES.len(),
            notes,
        },
    );
    (p, id)
}

#[test]
fn preflight_step_snapshots() {
    let wrong_at = DRAFT_NODES
        .iter()
        .position(|n| n.ip == WRONG_NODE)
        .expect("wrong node");
    let rotating_at = DRAFT_NODES
        .iter()
        .position(|n| n.ip == ROTATING_NODE)
        .expect("node");
    for (w, h) in SIZES {
        // Running: the first node is in, the others spin.
        let (mut p, id) = started();
        send(&mut p, id, PreflightEvent::Node(Box::new(healthy(0))));
        let text = render_pane(&mut p, w, h);
        assert!(
            text.contains("Checking") && text.contains("| 192.168.90.12"),
            "{text}"
        );
        insta::assert_snapshot!(format!("wizard_preflight_running_{w}x{h}"), text);

        // Every node in, the wrong one failing; its system findings open.
        let (mut p, id) = started();
        let nodes: Vec<NodeReport> = (0..DRAFT_NODES.len())
            .map(|i| if i == wrong_at { wrong(i) } else { healthy(i) })
            .collect();
        for n in &nodes {
            send(&mut p, id, PreflightEvent::Node(Box::new(n.clone())));
        }
        finish(&mut p, id, nodes);
        for _ in 0..wrong_at {
            p.on_action("next_field");
        }
        p.on_key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Right,
        ));
        p.on_action("edit");
        let text = render_pane(&mut p, w, h);
        assert!(
            text.contains("FAIL") && text.contains("fix: use an x86_64 machine"),
            "{text}"
        );
        assert!(!p.action_available("submit"));
        insta::assert_snapshot!(format!("wizard_preflight_failing_{w}x{h}"), text);

        // A host key nobody has seen: the question with its fingerprint.
        let (mut p, id) = started();
        let mut r = report(
            rotating_at,
            vec![CheckResult::new(
                "ssh-connect",
                Verdict::Fail,
                "host-key: not known yet",
            )],
        );
        r.host_key = Some(HostKeyOffer {
            host: ROTATING_NODE.into(),
            port: 22,
            fingerprint: "SHA256:q2vH0oV1a3mJ7y9X4d6Zr8bC5nK1wE0tLpS2fG3hU4i".into(),
            key: HostKeyLineData {
                key_type: "ssh-ed25519".into(),
                key_base64: "AAAAC3NzaC1lZDI1NTE5AAAAIDemo".into(),
            },
        });
        send(&mut p, id, PreflightEvent::Node(Box::new(r)));
        assert!(matches!(p.take_effects().as_slice(), [Effect::Guarded(_)]));
        for _ in 0..rotating_at {
            p.on_action("next_field");
        }
        let text = render_pane(&mut p, w, h);
        assert!(text.contains("key?"), "{text}");
        insta::assert_snapshot!(format!("wizard_preflight_host_key_{w}x{h}"), text);
    }
}

/// Hands every event to the pane until a `Finished` leaves no node running and no host key
/// unasked; questions the gate would ask are answered yes. Returns how many node reports came
/// before the first `Finished` and the questions asked.
async fn drive(
    rx: &mut tokio::sync::mpsc::Receiver<Event>,
    handle: &engine::EngineHandle,
    pane: &mut WizardPane,
    run: RequestId,
    nodes: usize,
) -> (usize, Vec<String>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let (mut live, mut finished_once, mut asked) = (0, false, Vec::new());
    let mut open_offers = std::collections::BTreeSet::new();
    loop {
        let ev = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("the engine answers in time")
            .expect("the engine runs");
        pane.on_event(&ev);
        for fx in pane.take_effects() {
            if let Effect::Guarded(g) = fx {
                asked.push(format!("{} | {}", g.title, g.detail));
                handle.send(g.command).expect("send");
            }
        }
        let Event::Preflight { id, event } = ev else {
            continue;
        };
        assert_eq!(id, run, "only the pane's run answers");
        match event {
            PreflightEvent::Node(n) => {
                if !finished_once {
                    live += 1;
                    assert!(
                        pane.tick_interval(chrono::Utc::now()).is_some() || live == nodes,
                        "the spinner turns while nodes run"
                    );
                }
                if n.host_key.is_some() {
                    open_offers.insert(n.index);
                } else {
                    open_offers.remove(&n.index);
                }
            }
            PreflightEvent::Finished(_) => {
                finished_once = true;
                if open_offers.is_empty() {
                    return (live, asked);
                }
            }
            PreflightEvent::Failed(f) => panic!("the run failed: {f}"),
            PreflightEvent::Started { .. } => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrong_node_fails_arch_on_the_sandbox_and_blocks_create() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let platform = Platform::start(SandboxOptions::default())
        .await
        .expect("sandbox starts");
    let ep = platform.ssh_nodes().endpoint().clone();
    assert_eq!(ep.host, "127.0.0.1", "only loopback is dialled");
    let data = tempfile::tempdir().expect("tempdir");
    let (handle, mut rx) = engine::spawn(EngineConfig::new(
        KubeSource::InMemory {
            kubeconfig: Box::new(platform.kubeconfig().clone()),
            context: Some(kubeconfig::CONTEXT.to_string()),
        },
        false,
        data.path().to_path_buf(),
    ));
    let env = PreflightEnv {
        sandbox: true,
        context: Some(kubeconfig::CONTEXT.to_string()),
        ..PreflightEnv::default()
    };
    // As on the TUI's sandbox path: the proxy arrives once the sandbox is up.
    env.proxy
        .set(ProxySpec {
            host: ep.host.clone(),
            port: ep.port,
            username: Some(ep.username.clone()),
            password: Some(ep.password.clone()),
        })
        .expect("set once");
    let mut form = draft_form();
    form.basic.name = "lab-draft".into();
    // Two control-plane nodes need a load balancer; the draft leaves it for the user.
    form.basic.endpoint.address = "192.168.90.10".into();
    let mut pane = WizardPane::with_form(form).with_preflight_env(env);
    assert_eq!(pane.errors(), 0, "{:?}", pane.issues());

    // Entering the step starts the run.
    pane.set_section(acp_cockpit::tui::panes::wizard::Section::Extended);
    let (run, cmd) = run_id(pane.on_action("next_section"));
    handle.send(cmd).expect("send");
    let (live, asked) = drive(&mut rx, &handle, &mut pane, run, DRAFT_NODES.len()).await;
    assert!(live >= DRAFT_NODES.len(), "every node reported on its own");
    assert_eq!(
        asked.len(),
        DRAFT_NODES.len(),
        "each new host key is asked once: {asked:?}"
    );
    assert!(asked.iter().all(|q| q.contains("SHA256:")), "{asked:?}");

    let text = render_pane(&mut pane, 200, 50);
    let row = |ip: &str| {
        text.lines()
            .find(|l| l.contains(&format!("  {ip} ")))
            .unwrap_or_else(|| panic!("{text}"))
            .to_string()
    };
    assert!(row(WRONG_NODE).contains("FAIL"), "{text}");
    for n in DRAFT_NODES.iter().filter(|n| n.ip != WRONG_NODE) {
        assert!(!row(n.ip).contains("FAIL"), "{text}");
        assert!(
            !row(n.ip).contains("key?"),
            "accepted keys are not asked again: {text}"
        );
    }
    assert!(!pane.action_available("submit"), "{text}");
    assert!(
        pane.on_action("submit").is_empty(),
        "no dry run while a node fails"
    );
    let text = render_pane(&mut pane, 200, 50);
    assert!(
        text.contains(&format!("{WRONG_NODE} fails arch")),
        "the block names the node and check: {text}"
    );

    // A changed key: refused on the re-run, with the ssh-keygen command, and never offered.
    let rotating: std::net::IpAddr = ROTATING_NODE.parse().expect("ip");
    assert!(platform.ssh_nodes().rotate_host_key(rotating));
    pane.set_section(acp_cockpit::tui::panes::wizard::Section::Preflight);
    let at = DRAFT_NODES
        .iter()
        .position(|n| n.ip == ROTATING_NODE)
        .expect("node");
    for _ in 0..at {
        pane.on_action("next_field");
    }
    let fx = pane.on_action("rerun_node");
    let [
        Effect::Engine(
            cmd @ Command::Preflight {
                cmd: PreflightCommand::RerunNode { index },
                ..
            },
        ),
    ] = fx.as_slice()
    else {
        panic!("expected a re-run, got {fx:?}");
    };
    assert_eq!(*index, at);
    let cmd = match cmd {
        Command::Preflight { id, .. } => Command::Preflight {
            id: *id,
            cmd: PreflightCommand::RerunNode { index: at },
        },
        _ => unreachable!("matched above"),
    };
    handle.send(cmd).expect("send");
    let (_, asked) = drive(&mut rx, &handle, &mut pane, run, 1).await;
    assert!(
        asked.is_empty(),
        "a changed key is never offered: {asked:?}"
    );
    pane.on_action("edit");
    let text = render_pane(&mut pane, 200, 50);
    assert!(text.contains("HOST KEY CHANGED"), "{text}");
    assert!(text.contains("ssh-keygen"), "{text}");
    let _ = handle.send(Command::Shutdown);
    platform.shutdown().await;
}
