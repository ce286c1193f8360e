//! The Preflight step: what blocks submitting, acknowledging warnings, stale results, host
//! keys through the gate, and the refusal of a sandbox run without its proxy.

use super::*;
use crate::domain::preflight::{CheckResult, NodeInput, Role as NodeRole, Summary, Verdict};
use crate::engine::preflight::{
    HostKeyLineData, HostKeyOffer, NodeReport, PreflightCommand, PreflightEvent, REACHABILITY_NOTE,
    Report,
};

/// Starts a run and returns its id.
pub(super) fn start(p: &mut WizardPane) -> RequestId {
    let fx = p.on_action("preflight");
    assert_eq!(p.section(), Section::Preflight);
    match fx.as_slice() {
        [Effect::Engine(Command::Preflight { id, cmd })] => {
            assert!(matches!(cmd, PreflightCommand::Run { .. }));
            *id
        }
        other => panic!("expected a preflight run, got {other:?}"),
    }
}

pub(super) fn report(index: usize, name: &str, results: Vec<CheckResult>) -> NodeReport {
    NodeReport {
        index,
        name: name.into(),
        target: format!("root@{name}:22"),
        role: NodeRole::Worker,
        input: NodeInput::new(name, NodeRole::Worker),
        results,
        host_key: None,
        facts: None,
        clock: None,
        elapsed_ms: 5,
    }
}

fn ok(id: &'static str) -> CheckResult {
    CheckResult::new(id, Verdict::Pass, "fine")
}

fn node(p: &mut WizardPane, id: RequestId, r: NodeReport) {
    assert!(p.on_event(&Event::Preflight {
        id,
        event: PreflightEvent::Node(Box::new(r)),
    }));
}

fn finished(p: &mut WizardPane, id: RequestId, nodes: Vec<NodeReport>) {
    let summary = Summary::of(nodes.iter().flat_map(|n| n.results.iter()));
    let rep = Report {
        platform_arch: Some("x86_64".into()),
        nodes,
        fleet: Vec::new(),
        summary,
        exit_code: summary.exit_code(),
        note: REACHABILITY_NOTE,
    };
    p.on_event(&Event::Preflight {
        id,
        event: PreflightEvent::Finished(Box::new(rep)),
    });
}

#[test]
fn a_failed_check_blocks_submit_and_says_which() {
    let mut p = valid();
    assert!(p.action_available("submit"));
    let id = start(&mut p);
    assert!(
        !p.action_available("submit"),
        "a running preflight holds submit"
    );
    let a = report(0, "192.168.0.11", vec![ok("ssh-connect"), ok("arch")]);
    let b = report(
        1,
        "192.168.0.21",
        vec![
            ok("ssh-connect"),
            CheckResult::new("arch", Verdict::Fail, "aarch64 against x86_64"),
        ],
    );
    node(&mut p, id, a.clone());
    assert!(
        p.tick_interval(chrono::Utc::now()).is_some(),
        "spins while a node runs"
    );
    node(&mut p, id, b.clone());
    finished(&mut p, id, vec![a, b]);
    assert!(p.tick_interval(chrono::Utc::now()).is_none());
    assert!(!p.action_available("submit"));
    assert!(p.on_action("submit").is_empty(), "no dry run goes out");
    let (role, msg) = p.notice.clone().expect("a notice");
    assert_eq!(role, Role::Fail);
    assert!(msg.contains("192.168.0.21 fails arch"), "{msg}");
}

#[test]
fn warnings_block_until_each_is_acknowledged() {
    let mut p = valid();
    let id = start(&mut p);
    let warn = |id| CheckResult::new(id, Verdict::Warn, "hmm");
    let a = report(
        0,
        "192.168.0.11",
        vec![ok("ssh-connect"), warn("firewalld"), warn("selinux")],
    );
    let b = report(1, "192.168.0.21", vec![ok("ssh-connect")]);
    node(&mut p, id, a.clone());
    node(&mut p, id, b.clone());
    finished(&mut p, id, vec![a, b]);
    assert!(!p.action_available("submit"));
    // The cursor starts on the first node's ssh group; both warnings are system checks.
    p.on_key(key(KeyCode::Right));
    p.on_action("ack_warning");
    assert!(!p.action_available("submit"), "one of two acknowledged");
    p.on_action("ack_warning");
    assert!(p.action_available("submit"), "{:?}", p.preflight_block());
    assert!(matches!(
        p.on_action("submit").as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::CreateCluster {
            dry_run: true,
            ..
        }))]
    ));
}

#[test]
fn changing_the_nodes_makes_the_results_stale() {
    let mut p = valid();
    let id = start(&mut p);
    let a = report(
        0,
        "192.168.0.11",
        vec![CheckResult::new("arch", Verdict::Fail, "x")],
    );
    node(&mut p, id, a);
    assert!(p.preflight_block().is_some());
    // A display name is no SSH setting: the results still hold.
    p.form.basic.display_name = "Other".into();
    assert!(p.preflight_block().is_some());
    p.form.node_settings.nodes[1].ip = "192.168.0.22".into();
    p.form.node_settings.monitoring.nodes = vec!["192.168.0.22".into()];
    assert!(p.current_preflight().is_none(), "the node list changed");
    assert!(
        p.preflight_block().is_none(),
        "stale results decide nothing"
    );
    // Entering the step again stops the old run (a node still ran) and starts a fresh one.
    p.set_section(Section::Extended);
    let fx = p.on_action("next_section");
    assert!(
        matches!(
            fx.as_slice(),
            [
                Effect::Engine(Command::Preflight { id: old, cmd: PreflightCommand::Cancel }),
                Effect::Engine(Command::Preflight { cmd: PreflightCommand::Run { .. }, .. }),
            ] if *old == id
        ),
        "{fx:?}"
    );
}

#[test]
fn an_unknown_host_key_is_asked_through_the_gate_with_its_fingerprint() {
    let mut p = valid();
    let id = start(&mut p);
    let mut a = report(
        0,
        "192.168.0.11",
        vec![CheckResult::new(
            "ssh-connect",
            Verdict::Fail,
            "host-key: unknown",
        )],
    );
    a.host_key = Some(HostKeyOffer {
        host: "192.168.0.11".into(),
        port: 22,
        fingerprint: "SHA256:abc".into(),
        key: HostKeyLineData {
            key_type: "ssh-ed25519".into(),
            key_base64: "AAAA".into(),
        },
    });
    node(&mut p, id, a.clone());
    let fx = p.take_effects();
    let [Effect::Guarded(g)] = fx.as_slice() else {
        panic!("expected one question, got {fx:?}");
    };
    assert!(g.title.contains("192.168.0.11"), "{}", g.title);
    assert!(g.detail.contains("SHA256:abc"), "{}", g.detail);
    assert!(g.access.is_none());
    assert!(matches!(
        &g.command,
        Command::Preflight { id: i, cmd: PreflightCommand::AcceptHostKey { host, port: 22, .. } }
            if *i == id && host == "192.168.0.11"
    ));
    // A second offer waits while the first is asked; Enter on the node asks again.
    node(&mut p, id, a);
    assert!(p.take_effects().is_empty());
    assert!(matches!(
        p.on_action("edit").as_slice(),
        [Effect::Guarded(_)]
    ));
}

#[test]
fn a_sandbox_run_never_starts_without_the_sandbox_proxy() {
    let mut p = valid().with_preflight_env(PreflightEnv {
        sandbox: true,
        ..PreflightEnv::default()
    });
    assert!(p.on_action("preflight").is_empty());
    assert!(p.preflight.is_none());
    let (_, msg) = p.notice.clone().expect("notice");
    assert!(msg.contains("sandbox is still starting"), "{msg}");
}

#[test]
fn the_screenshot_demo_shows_a_blocking_failure_with_its_findings() {
    let mut p = WizardPane::demo_preflight();
    assert_eq!(p.section(), Section::Preflight);
    assert!(
        p.preflight_block()
            .is_some_and(|b| b.contains("fails arch"))
    );
    let theme = Theme::default();
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(120, 36)).expect("t");
    t.draw(|f| {
        let ctx = RenderCtx {
            theme: &theme,
            now: chrono::Utc::now(),
            readonly: false,
            sandbox: true,
        };
        p.render(f, f.area(), &ctx);
    })
    .expect("draw");
    let text: String = t
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(text.contains("FAIL arch - CPU architecture"), "{text}");
}
