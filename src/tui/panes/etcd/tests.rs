use super::*;
use crate::engine::kube::etcd::RESOURCE;
use crate::tui::panes::clusters::tests::render_to_string;

#[test]
fn open_watches_and_refresh_rewatches() {
    let mut p = EtcdPane::new();
    let fx = p.on_open(Some("staging"));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::WatchEtcd { cluster }))] if cluster == "staging"
    ));
    assert!(p.on_open(None).is_empty());
    assert!(matches!(
        p.on_action("refresh").as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::WatchEtcd { .. }))]
    ));
}

#[test]
fn chooser_lists_running_clusters_and_enter_watches() {
    let mut p = EtcdPane::new();
    for ev in crate::fixtures::clusters::events() {
        p.on_event(&ev);
    }
    assert_eq!(p.running(), vec!["global", "prod-east", "prod-west"]);
    // Global is Running but not a choice: the docs exclude it from etcd encryption.
    assert_eq!(p.choices(), vec!["prod-east", "prod-west"]);
    let text = render_to_string(&mut p, 120, 20);
    assert!(
        text.contains(
            "global is not listed: etcd encryption is not supported on the global cluster"
        ),
        "{text}"
    );
    assert!(text.contains("Not supported: global cluster."), "{text}");
    p.on_action("select_next");
    let fx = p.on_action("open");
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::WatchEtcd { cluster }))] if cluster == "prod-west"
    ));
    assert_eq!(p.target(), Some("prod-west"));
}

#[test]
fn global_says_unsupported_and_never_shows_a_rotation() {
    let mut p = EtcdPane::new();
    for ev in crate::fixtures::clusters::events() {
        p.on_event(&ev);
    }
    p.on_open(Some("prod-east"));
    // `:etcd global` stops the previous watch and starts none.
    let fx = p.on_open(Some("global"));
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::UnwatchEtcd))]
    ));
    assert!(matches!(
        p.on_action("refresh").as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::UnwatchEtcd))]
    ));
    // Even a complete rotation reported for global is not shown as one.
    let done = demo::complete_config(12, 5, "168h0m0s");
    p.apply(&KubeEvent::Etcd {
        context: String::new(),
        cluster: "global".into(),
        state: EtcdState::Config {
            config: Box::new(done),
            observed: demo::now(),
        },
    });
    let text = render_to_string(&mut p, 120, 24);
    assert!(
        text.contains("etcd encryption is not supported on the global cluster"),
        "{text}"
    );
    assert!(text.contains("Not supported: global cluster."), "{text}");
    assert!(!text.contains("complete"), "{text}");
    assert!(!text.contains("key rev"), "{text}");
}

#[test]
fn selection_follows_the_failed_node_until_moved() {
    let mut p = demo::failed();
    assert_eq!(p.selected, 2);
    p.on_action("select_prev");
    assert_eq!(p.selected, 1);
    assert!(p.pinned);
    let mut l = demo::lagging();
    assert_eq!(l.selected, 1);
    l.on_action("select_next");
    l.on_action("select_next");
    l.on_action("select_next");
    assert_eq!(l.selected, 2);
}

#[test]
fn times_read_as_ago_now_or_in() {
    let now = demo::now();
    assert!(when_text(now, now).ends_with("(now)"));
    assert!(when_text(now + chrono::Duration::minutes(5), now).ends_with("(in 5m00s)"));
    assert!(when_text(now - chrono::Duration::hours(2), now).ends_with("(2h00m ago)"));
    assert_eq!(since_text(now, false, now), ">=0s");
}

#[test]
fn an_overdue_rotation_is_flagged() {
    let mut p = demo::in_progress();
    let late = demo::complete_config(4, 30, "10m0s");
    p.apply(&KubeEvent::Etcd {
        context: crate::fixtures::clusters::CONTEXT.into(),
        cluster: "staging".into(),
        state: EtcdState::Config {
            config: Box::new(late),
            observed: demo::now(),
        },
    });
    let t = render_to_string(&mut p, 200, 20);
    assert!(t.contains("(20m00s ago): overdue"), "{t}");
}

#[test]
fn open_shows_the_selected_nodes_record() {
    let mut p = demo::in_progress();
    let before = render_to_string(&mut p, 120, 30);
    assert!(!before.contains("changed at"), "{before}");
    p.on_action("select_next");
    p.on_action("open");
    let t = render_to_string(&mut p, 120, 30);
    assert!(t.contains("192.168.14.22: revision 5 state Updated"), "{t}");
    assert!(t.contains("changed at 2026-11-22"), "{t}");
    p.on_action("open");
    assert!(!render_to_string(&mut p, 120, 30).contains("changed at"));
}

#[test]
fn events_of_other_clusters_are_ignored() {
    let mut p = demo::lagging();
    let before = p.state().cloned();
    assert!(!p.apply(&KubeEvent::Etcd {
        context: crate::fixtures::clusters::CONTEXT.into(),
        cluster: "other".into(),
        state: EtcdState::Connecting,
    }));
    assert_eq!(p.state().cloned(), before);
}

#[test]
fn a_context_switch_rewatches_on_the_new_platform() {
    let mut first = EtcdPane::new();
    first.on_open(Some("staging"));
    first.apply(&KubeEvent::Etcd {
        context: "sandbox".into(),
        cluster: "staging".into(),
        state: EtcdState::Connecting,
    });
    first.apply(&KubeEvent::Contexts {
        current: Some("sandbox".into()),
        available: vec![],
    });
    assert!(first.take_effects().is_empty());
    let mut p = demo::lagging();
    p.apply(&KubeEvent::Contexts {
        current: Some("acp-dr".into()),
        available: vec![],
    });
    assert!(matches!(
        p.take_effects().as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::WatchEtcd { cluster }))] if cluster == "edge-lab"
    ));
}

#[test]
fn rendering_never_shows_a_secret_field() {
    for mut p in [demo::failed(), demo::lagging(), demo::in_progress()] {
        let t = render_to_string(&mut p, 200, 50);
        assert!(!t.contains("secret:"), "{t}");
        assert!(t.contains("encryption-provider.conf"), "{t}");
    }
}

#[test]
fn snapshot_in_progress_80x24() {
    insta::assert_snapshot!(render_to_string(&mut demo::in_progress(), 80, 24));
}

#[test]
fn snapshot_in_progress_200x50() {
    insta::assert_snapshot!(render_to_string(&mut demo::in_progress(), 200, 50));
}

#[test]
fn snapshot_lagging_80x24() {
    insta::assert_snapshot!(render_to_string(&mut demo::lagging(), 80, 24));
}

#[test]
fn snapshot_lagging_200x50() {
    insta::assert_snapshot!(render_to_string(&mut demo::lagging(), 200, 50));
}

#[test]
fn snapshot_failed_80x24() {
    insta::assert_snapshot!(render_to_string(&mut demo::failed(), 80, 24));
}

#[test]
fn snapshot_failed_200x50() {
    insta::assert_snapshot!(render_to_string(&mut demo::failed(), 200, 50));
}

#[test]
fn snapshot_not_installed_80x24() {
    insta::assert_snapshot!(render_to_string(&mut demo::not_installed(), 80, 24));
}

#[test]
fn snapshot_not_installed_200x50() {
    insta::assert_snapshot!(render_to_string(&mut demo::not_installed(), 200, 50));
}

#[test]
fn snapshot_chooser_and_error_80x24() {
    let mut c = EtcdPane::new();
    for ev in crate::fixtures::clusters::events() {
        c.on_event(&ev);
    }
    let a = render_to_string(&mut c, 80, 24);
    let mut f = EtcdPane::new();
    f.on_open(Some("prod-west"));
    f.apply(&KubeEvent::Etcd {
        context: String::new(),
        cluster: "prod-west".into(),
        state: EtcdState::Failed(crate::engine::kube::KubeFailure::new(
            crate::engine::kube::FailureKind::Forbidden,
            format!("cannot watch {RESOURCE} on cluster prod-west: forbidden: user \"viewer\" cannot list resource \"etcdencryptionconfigs\""),
            None,
        )),
    });
    let b = render_to_string(&mut f, 80, 24);
    insta::assert_snapshot!(format!("{a}\n{b}"));
}

#[test]
fn the_overview_is_worst_first_and_enter_opens_the_worst() {
    let mut p = demo::fleet();
    let rows: Vec<String> = p
        .fleet_rows(demo::now())
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(rows, ["prod-east", "prod-west"]);
    let text = render_to_string(&mut p, 200, 30);
    assert!(text.contains("failed-node"), "{text}");
    assert!(text.contains("overdue 1d"), "{text}");
    assert!(text.contains("not Running, not read: "), "{text}");
    let fx = p.on_action("open");
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::WatchEtcd { cluster }))] if cluster == "prod-east"
    ));
    // Back to the overview stops the single watch and keeps the fleet's.
    let fx = p.on_action("back");
    assert!(matches!(
        fx.first(),
        Some(Effect::Engine(Command::Kube(KubeCommand::UnwatchEtcd)))
    ));
    assert_eq!(p.target(), None);
    assert!(render_to_string(&mut p, 200, 30).contains("failed-node"));
}

#[test]
fn opening_the_overview_asks_for_the_running_workload_clusters() {
    let mut p = EtcdPane::new();
    for ev in crate::fixtures::clusters::events() {
        p.on_event(&ev);
    }
    let fx = p.on_open(None);
    assert!(
        fx.iter().any(|e| matches!(e,
            Effect::Engine(Command::Kube(KubeCommand::WatchEtcdFleet { clusters }))
                if clusters == &["prod-east".to_string(), "prod-west".to_string()])),
        "{fx:?}"
    );
    // The same clusters again ask for nothing new.
    for ev in crate::fixtures::clusters::events() {
        p.on_event(&ev);
    }
    assert!(p.take_effects().is_empty());
}

#[test]
fn inspect_asks_the_engine_and_shows_names_and_findings_only() {
    use crate::domain::encryption_config::KeyInfo;
    use crate::domain::etcd::node_files::Finding;
    let mut p = demo::lagging();
    let fx = p.on_action("inspect");
    let Some(Effect::Engine(Command::Kube(KubeCommand::InspectEtcdNodes { id, cluster }))) =
        fx.first()
    else {
        panic!("{fx:?}");
    };
    assert_eq!(cluster, "edge-lab");
    let key = KeyInfo {
        name: "key7".into(),
        fingerprint: "sha256:0123456789ab".into(),
    };
    let reports = vec![NodeReport {
        node: "192.168.67.12".into(),
        skipped: None,
        keys: vec![key],
        findings: vec![Finding {
            code: "key-list-differs",
            message: "key list differs from the other nodes".into(),
        }],
    }];
    assert!(p.apply(&KubeEvent::EtcdNodes {
        id: *id,
        cluster: cluster.clone(),
        result: Ok(reports)
    }));
    let text = render_to_string(&mut p, 200, 50);
    assert!(text.contains("key7 sha256:0123456789ab"), "{text}");
    assert!(text.contains("key-list-differs"), "{text}");
    // A stale answer (another request) is dropped.
    assert!(!p.apply(&KubeEvent::EtcdNodes {
        id: RequestId::next(),
        cluster: "edge-lab".into(),
        result: Ok(Vec::new())
    }));
}

#[test]
fn since_is_bounded_by_the_last_completion_not_the_first_look() {
    // Issue 12 item 5: SINCE said ">=0s" for every node of a finished rotation.
    let mut p = EtcdPane::new();
    p.on_open(Some("prod-west"));
    let cfg = demo::complete_config(9, 90, "168h0m0s");
    p.apply(&KubeEvent::Etcd {
        context: String::new(),
        cluster: "prod-west".into(),
        state: EtcdState::Config {
            config: Box::new(cfg),
            observed: demo::now(),
        },
    });
    let text = render_to_string(&mut p, 200, 30);
    assert!(text.contains(">=1h30m"), "{text}");
    assert!(!text.contains(">=0s"), "{text}");
    assert_eq!(
        p.tick_interval(demo::now()),
        Some(std::time::Duration::from_secs(1))
    );
}

#[test]
fn snapshot_overview_80x24() {
    insta::assert_snapshot!(render_to_string(&mut demo::fleet(), 80, 24));
}

#[test]
fn snapshot_overview_200x50() {
    insta::assert_snapshot!(render_to_string(&mut demo::fleet(), 200, 50));
}

#[test]
fn the_overview_filters_by_name_and_health() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut p = demo::fleet();
    p.on_action("filter");
    assert!(p.wants_text_input());
    for c in "is:over".chars() {
        p.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    p.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(!p.wants_text_input());
    let rows: Vec<String> = p
        .fleet_rows(demo::now())
        .into_iter()
        .map(|(c, _)| c)
        .collect();
    assert_eq!(rows, ["prod-west"]);
    assert!(render_to_string(&mut p, 120, 20).contains("filter: is:over"));
    assert!(overview::matches_filter(
        "prod east",
        "prod-east",
        crate::domain::etcd::health::Health::Healthy
    ));
    assert!(!overview::matches_filter(
        "west",
        "prod-east",
        crate::domain::etcd::health::Health::Healthy
    ));
    p.on_action("back");
    assert_eq!(p.fleet_rows(demo::now()).len(), 2);
}

/// Issue: watches nobody looks at kept retrying for the rest of the session. Leaving the pane
/// stops them; coming back watches the same cluster again, keeping what was seen.
#[test]
fn leaving_the_pane_stops_its_watches_and_returning_resumes_them() {
    let mut p = demo::lagging();
    let seen = p.target().map(str::to_string);
    let fx = p.on_close();
    assert!(fx.iter().any(|e| matches!(
        e,
        Effect::Engine(Command::Kube(KubeCommand::UnwatchEtcdFleet))
    )));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Engine(Command::Kube(KubeCommand::UnwatchEtcd))))
    );
    let fx = p.on_open(None);
    assert!(
        matches!(fx.as_slice(), [Effect::Engine(Command::Kube(KubeCommand::WatchEtcd { cluster }))] if Some(cluster) == seen.as_ref()),
        "{fx:?}"
    );
    assert_eq!(p.target().map(str::to_string), seen);
    assert!(p.state().is_some(), "what was seen stays on screen");
}
