use super::*;
use crate::tui::panes::clusters::tests::render_to_string;

#[test]
fn targets_read_as_namespace_pod_or_image() {
    let p = parse_target("legacy-ns/legacy-app-1").expect("pod");
    assert_eq!(
        (p.namespace.as_str(), p.pod.as_deref()),
        ("legacy-ns", Some("legacy-app-1"))
    );
    let i = parse_target("my-ns/my-app:v1").expect("image");
    assert_eq!(i.image.as_deref(), Some("my-app:v1"));
    assert_eq!(
        parse_target("my-ns").map(|r| r.namespace),
        Some("my-ns".to_string())
    );
    assert_eq!(parse_target(""), None);
    assert_eq!(parse_target("ns/"), None);
}

#[test]
fn open_asks_the_engine_and_stale_answers_are_dropped() {
    let mut p = RegistryPane::new();
    let fx = p.on_open(Some("my-ns/my-app:v1"));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Registry { .. })]
    ));
    let id = p.pending.expect("pending");
    let stale = RequestId(id.0.wrapping_add(1000));
    assert!(!p.apply(
        stale,
        &RegistryEvent::Result(CheckResult::pass(CheckId::Tls, "ok"))
    ));
    assert!(p.results.is_empty());
    assert!(p.tick_interval(Utc::now()).is_some());
    assert!(p.apply(
        id,
        &RegistryEvent::Result(CheckResult::pass(CheckId::Tls, "ok"))
    ));
    assert!(p.apply(id, &RegistryEvent::Done));
    assert_eq!(p.tick_interval(Utc::now()), None);
    let again = p.on_action("refresh");
    assert!(matches!(again.as_slice(), [Effect::Engine(_)]));
    assert!(p.results.is_empty());
}

#[test]
fn copy_gives_the_selected_fix_command() {
    let mut p = RegistryPane::demo();
    let fx = p.on_action("copy");
    match fx.as_slice() {
        [Effect::Copy(c)] => assert_eq!(
            c,
            "kubectl create rolebinding cross-ns-pull --clusterrole=system:image-puller --serviceaccount=legacy-ns:default -n shared-ns"
        ),
        other => panic!("{other:?}"),
    }
    p.on_action("select_prev");
    p.on_action("select_prev");
    assert!(matches!(p.on_action("copy").as_slice(), [Effect::Toast(_)]));
}

#[test]
fn snapshot_demo_80x24() {
    insta::assert_snapshot!(render_to_string(&mut RegistryPane::demo(), 80, 24));
}

#[test]
fn snapshot_demo_200x50() {
    insta::assert_snapshot!(render_to_string(&mut RegistryPane::demo(), 200, 50));
}

#[test]
fn snapshot_empty_and_failed_80x24() {
    let a = render_to_string(&mut RegistryPane::new(), 80, 24);
    let mut f = RegistryPane::new();
    let _ = f.on_open(Some("my-ns/nope"));
    let id = f.pending.expect("pending");
    f.apply(
        id,
        &RegistryEvent::Failed(Failure::new(
            crate::engine::FailureKind::NotFound,
            "cannot get Pod my-ns/nope: pods \"nope\" not found",
            Some("check the name: kubectl get pods -n my-ns"),
        )),
    );
    let b = render_to_string(&mut f, 80, 24);
    insta::assert_snapshot!(format!("{a}\n{b}"));
}
