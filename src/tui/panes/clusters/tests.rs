use super::*;
use crate::engine::kube::ReloginJob;

/// The id of the YAML request among a pane's effects.
fn yaml_request(fx: &[Effect]) -> RequestId {
    match fx {
        [Effect::Engine(Command::Kube(KubeCommand::FetchYaml { id, .. }))] => *id,
        other => panic!("expected one FetchYaml, got {other:?}"),
    }
}

#[test]
fn the_footer_follows_the_filter_line_and_the_yaml_view() {
    let mut p = ClustersPane::demo();
    assert!(p.footer_override().is_none());
    p.on_action("filter");
    assert!(
        p.footer_override()
            .is_some_and(|v| v.iter().any(|(_, a)| *a == "clear it"))
    );
    p.on_key(KeyEvent::from(KeyCode::Esc));
    p.on_action("yaml");
    assert!(
        p.footer_override()
            .is_some_and(|v| v.iter().any(|(_, a)| *a == "close the YAML"))
    );
}

#[test]
fn a_stopped_platform_leaves_the_status_line() {
    let mut p = ClustersPane::demo();
    p.apply(&KubeEvent::Connection {
        context: "prod-east".into(),
        state: ConnState::Unreachable {
            error: "refused".into(),
            hint: "check the network".into(),
        },
    });
    assert!(p.platforms.contains_key("prod-east"));
    assert!(p.apply(&KubeEvent::Unwatched {
        context: "prod-east".into()
    }));
    assert!(!p.platforms.contains_key("prod-east"));
}

#[test]
fn a_stale_yaml_answer_is_ignored() {
    let mut p = ClustersPane::demo();
    let old = yaml_request(&p.on_action("yaml"));
    p.on_action("back");
    let new = yaml_request(&p.on_action("yaml"));
    let name = p.selected_name().expect("selection");
    let answer = |id, text: &str| KubeEvent::Yaml {
        id,
        context: crate::fixtures::clusters::CONTEXT.into(),
        kind: ObjectKind::Cluster,
        name: name.clone(),
        result: Ok(text.into()),
    };
    assert!(!p.apply(&answer(old, "stale: 1\n")));
    assert!(p.yaml.as_ref().is_some_and(|y| y.text.is_none()));
    assert!(p.apply(&answer(new, "fresh: 1\n")));
    let text = p.yaml.as_ref().and_then(|y| y.text.clone());
    assert_eq!(text, Some(Ok(vec!["fresh: 1".to_string()])));
}

#[test]
fn fit_pads_and_cuts() {
    assert_eq!(fit("abc", 5), "abc  ");
    assert_eq!(fit("abcdef", 4), "abc~");
    assert_eq!(fit("abc", 0), "");
}

#[test]
fn ages_like_kubectl() {
    assert_eq!(short_age(59), "59s");
    assert_eq!(short_age(600), "10m");
    assert_eq!(short_age(3 * 3600), "3h");
    assert_eq!(short_age(5 * 86_400), "5d");
}

#[test]
fn sorting_and_filter_actions_change_the_view() {
    let mut p = ClustersPane::demo();
    assert_eq!(
        p.visible_names().first().map(String::as_str),
        Some("dev-sh")
    );
    p.on_action("sort_reverse");
    assert_eq!(
        p.visible_names().first().map(String::as_str),
        Some("staging")
    );
    p.on_action("sort_reverse");
    p.on_action("sort_next"); // display name
    assert_eq!(
        p.visible_names().first().map(String::as_str),
        Some("old-batch")
    );
    p.set_filter("phase:Running");
    // Display names sort without regard to case: "global" before "Production …".
    assert_eq!(p.visible_names(), ["global", "prod-east", "prod-west"]);
    p.on_action("back");
    assert_eq!(p.visible_names().len(), 8);
}

#[test]
fn sorting_skips_columns_the_width_hides() {
    let mut p = ClustersPane::demo();
    render_to_string(&mut p, 120, 24);
    let mut seen = Vec::new();
    for _ in 0..Column::ALL.len() {
        p.on_action("sort_next");
        seen.push(p.column);
    }
    assert!(seen.contains(&Column::Display));
    assert!(!seen.contains(&Column::Type), "{seen:?}");
    render_to_string(&mut p, 80, 24);
    p.column = Column::Name;
    p.on_action("sort_next");
    assert_eq!(p.column, Column::Phase);
    render_to_string(&mut p, 160, 24);
    p.column = Column::Version;
    p.on_action("sort_next");
    assert_eq!(p.column, Column::Type);
}

#[test]
fn narrow_tables_keep_the_failure_in_sight() {
    let t = render_to_string(&mut ClustersPane::demo(), 50, 12);
    let row = t.lines().find(|l| l.contains("dev-sh")).expect("row");
    assert!(row.contains("6/~28 FAIL"), "{row}");
}

#[test]
fn filter_typing_is_live_and_bad_regex_keeps_the_last_filter() {
    let mut p = ClustersPane::demo();
    p.on_action("filter");
    assert!(p.wants_text_input());
    for c in "prod".chars() {
        p.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    assert_eq!(p.visible_names(), ["prod-east", "prod-west"]);
    p.on_key(KeyEvent::from(KeyCode::Char(' ')));
    for c in "re:(".chars() {
        p.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    assert!(p.filter_error.is_some());
    assert_eq!(p.visible_names().len(), 2);
    // Enter does not accept it: the error stays in sight.
    p.on_key(KeyEvent::from(KeyCode::Enter));
    assert!(p.wants_text_input());
    assert!(p.filter_error.is_some());
    p.on_key(KeyEvent::from(KeyCode::Esc));
    assert!(!p.wants_text_input());
    assert_eq!(p.visible_names().len(), 8);
}

#[test]
fn enter_opens_the_timeline_and_y_fetches_yaml() {
    let mut p = ClustersPane::demo();
    p.on_action("bottom");
    assert_eq!(p.selected_name().as_deref(), Some("staging"));
    match p.on_action("open").as_slice() {
        [Effect::Open(PaneId::Timeline, Some(n))] => assert_eq!(n, "staging"),
        other => panic!("unexpected {other:?}"),
    }
    match p.on_action("yaml").as_slice() {
        [Effect::Engine(Command::Kube(KubeCommand::FetchYaml { name, kind, .. }))] => {
            assert_eq!(name, "staging");
            assert_eq!(*kind, ObjectKind::Cluster);
        }
        other => panic!("unexpected {other:?}"),
    }
    // While the overlay is open, navigation scrolls it and Esc closes it.
    p.on_action("select_prev");
    assert_eq!(p.selected_name().as_deref(), Some("staging"));
    p.on_action("back");
    assert!(p.yaml.is_none());
    p.on_action("select_prev");
    assert_eq!(p.selected_name().as_deref(), Some("prod-west"));
}

#[test]
fn selection_follows_the_cluster_when_rows_change() {
    let mut p = ClustersPane::demo();
    p.on_open(Some("ml-gpu"));
    assert_eq!(p.selected_name().as_deref(), Some("ml-gpu"));
    p.apply(&KubeEvent::ClustersChanged(Delta {
        platform: crate::fixtures::clusters::CONTEXT.into(),
        reset: false,
        applied: Vec::new(),
        deleted: vec!["dev-sh".into(), "edge-lab-02".into()],
    }));
    assert_eq!(p.selected_name().as_deref(), Some("ml-gpu"));
    assert_eq!(p.visible_names().len(), 6);
}

#[test]
fn creating_rows_follow_the_plan_of_the_first_cluster_to_finish() {
    let mut p = ClustersPane::new();
    let demo_clusters = crate::fixtures::clusters::clusters();
    let summary = |name: &str| {
        let c = demo_clusters
            .iter()
            .find(|c| c.metadata.name.as_deref() == Some(name))
            .expect("demo cluster");
        std::sync::Arc::new(ClusterSummary::from_cluster(
            c,
            &mut crate::engine::kube::model::Interner::default(),
        ))
    };
    let delta = |reset, applied| {
        KubeEvent::ClustersChanged(Delta {
            platform: crate::fixtures::clusters::CONTEXT.into(),
            reset,
            applied,
            deleted: Vec::new(),
        })
    };
    p.apply(&KubeEvent::Contexts {
        current: Some(crate::fixtures::clusters::CONTEXT.into()),
        available: vec![crate::fixtures::clusters::CONTEXT.into()],
    });
    p.apply(&delta(true, vec![summary("edge-lab-02")]));
    let label = |p: &ClustersPane| {
        p.platform()
            .and_then(|v| v.rows.iter().find(|r| r.name == "edge-lab-02"))
            .map(|r| r.progress.label())
    };
    // Nothing finished yet: TKE's list is the estimate.
    let before = label(&p).expect("row");
    assert!(before.starts_with("20/~"), "{before}");
    assert_ne!(before, "20/~28");
    // A finished cluster arrives in another batch: the creating row is measured again.
    p.apply(&delta(false, vec![summary("global")]));
    assert_eq!(label(&p).as_deref(), Some("20/~28"));
}

#[test]
fn relogin_runs_the_plugin_then_reconnects() {
    let mut p = ClustersPane::demo();
    p.apply(&KubeEvent::Connection {
        context: crate::fixtures::clusters::CONTEXT.into(),
        state: ConnState::AuthExpired {
            message: "token expired".into(),
            relogin: Some(ReloginJob {
                program: "kubectl-acp".into(),
                args: vec!["login".into()],
            }),
        },
    });
    let tag = match p.on_action("relogin").as_slice() {
        [Effect::Suspend(job)] => {
            assert_eq!(job.program, "kubectl-acp");
            job.tag.clone()
        }
        other => panic!("unexpected {other:?}"),
    };
    match p.on_resumed(&tag, true).as_slice() {
        [Effect::Engine(Command::Kube(KubeCommand::Reconnect { context }))] => {
            assert_eq!(context, crate::fixtures::clusters::CONTEXT)
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(p.on_resumed(&tag, false).len(), 2);
    p.apply(&KubeEvent::Connection {
        context: crate::fixtures::clusters::CONTEXT.into(),
        state: ConnState::Ready,
    });
    assert!(matches!(
        p.on_action("relogin").as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::Reconnect { .. }))]
    ));
}

#[test]
fn yaml_answer_fills_the_overlay() {
    let mut p = ClustersPane::demo();
    let id = yaml_request(&p.on_action("yaml"));
    let name = p.selected_name().expect("selection");
    p.apply(&KubeEvent::Yaml {
        id,
        context: crate::fixtures::clusters::CONTEXT.into(),
        kind: ObjectKind::Cluster,
        name,
        result: Ok("a: 1\nb: 2\n".into()),
    });
    assert!(matches!(&p.yaml, Some(YamlView { text: Some(Ok(l)), .. }) if l.len() == 2));
}

#[test]
fn ctx_hook_switches_known_contexts_only() {
    let mut hook = context_hook(vec!["a".into(), "b".into()]);
    match hook(&ShellCommand::SwitchContext("b".into())).as_deref() {
        Ok([Command::Kube(KubeCommand::SwitchContext { context })]) => assert_eq!(context, "b"),
        other => panic!("unexpected {other:?}"),
    }
    let err = hook(&ShellCommand::SwitchContext("c".into())).expect_err("unknown");
    assert!(err.hint.as_deref().is_some_and(|h| h.contains("a, b")));
    let mut open = context_hook(Vec::new());
    assert!(open(&ShellCommand::SwitchContext("x".into())).is_ok());
}

#[test]
fn switching_context_shows_the_other_platform() {
    let mut p = ClustersPane::demo();
    p.apply(&KubeEvent::Contexts {
        current: Some("acp-dr".into()),
        available: vec![crate::fixtures::clusters::CONTEXT.into(), "acp-dr".into()],
    });
    assert_eq!(p.current_context(), Some("acp-dr"));
    assert!(p.visible_names().is_empty());
    assert_eq!(p.connection(), None);
    p.apply(&KubeEvent::Contexts {
        current: Some(crate::fixtures::clusters::CONTEXT.into()),
        available: vec![crate::fixtures::clusters::CONTEXT.into(), "acp-dr".into()],
    });
    assert_eq!(p.visible_names().len(), 8);
}

#[test]
fn first_open_starts_watching() {
    let mut p = ClustersPane::new();
    assert!(matches!(
        p.on_open(None).as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::Watch {
            context: None
        }))]
    ));
    assert!(p.on_open(None).is_empty());
}

pub(crate) fn render_to_string(pane: &mut dyn Pane, w: u16, h: u16) -> String {
    let theme = Theme::default();
    let ctx = RenderCtx {
        theme: &theme,
        now: crate::fixtures::clusters::now(),
        readonly: false,
        sandbox: false,
    };
    let mut term =
        ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| pane.render(f, f.area(), &ctx)).expect("draw");
    term.backend().to_string()
}

#[test]
fn snapshot_demo_80x24() {
    insta::assert_snapshot!(render_to_string(&mut ClustersPane::demo(), 80, 24));
}

#[test]
fn snapshot_demo_200x50() {
    insta::assert_snapshot!(render_to_string(&mut ClustersPane::demo(), 200, 50));
}

#[test]
fn snapshot_filtered_and_sorted_80x24() {
    let mut p = ClustersPane::demo();
    p.on_action("filter");
    for c in "phase:Initializing".chars() {
        p.on_key(KeyEvent::from(KeyCode::Char(c)));
    }
    p.on_action("sort_next");
    p.on_action("sort_next");
    p.on_action("sort_next");
    insta::assert_snapshot!(render_to_string(&mut p, 80, 24));
}

#[test]
fn snapshot_auth_expired_80x24() {
    let mut p = ClustersPane::new();
    p.apply(&KubeEvent::Contexts {
        current: Some("acp-prod".into()),
        available: vec!["acp-prod".into()],
    });
    p.apply(&KubeEvent::Connection {
        context: "acp-prod".into(),
        state: ConnState::AuthExpired {
            message: "cannot watch clusters.platform.tkestack.io: the platform rejected the credentials (401 Unauthorized): token has expired".into(),
            relogin: Some(ReloginJob {
                program: "kubectl-acp".into(),
                args: vec!["login".into()],
            }),
        },
    });
    insta::assert_snapshot!(render_to_string(&mut p, 80, 24));
}

#[test]
fn snapshot_unreachable_and_forbidden_80x24() {
    let mut p = ClustersPane::new();
    p.apply(&KubeEvent::Connection {
        context: "acp-dr".into(),
        state: ConnState::Unreachable {
            error: "cannot watch clusters.platform.tkestack.io: client error (Connect): tcp connect error: Connection refused".into(),
            hint: "check the network path to the platform (VPN, proxy, SSH tunnel) and the server URL in the kubeconfig".into(),
        },
    });
    let a = render_to_string(&mut p, 80, 24);
    p.apply(&KubeEvent::Connection {
        context: "acp-dr".into(),
        state: ConnState::Forbidden {
            message: "cannot watch clusters.platform.tkestack.io: forbidden: User \"alice\" cannot list resource \"clusters\"".into(),
            missing: "list and watch on clusters.platform.tkestack.io".into(),
        },
    });
    let b = render_to_string(&mut p, 80, 24);
    insta::assert_snapshot!(format!("{a}\n{b}"));
}

#[test]
fn snapshot_yaml_overlay_80x24() {
    let mut p = ClustersPane::demo();
    let id = yaml_request(&p.on_action("yaml"));
    let name = p.selected_name().expect("selection");
    p.apply(&KubeEvent::Yaml {
        id,
        context: crate::fixtures::clusters::CONTEXT.into(),
        kind: ObjectKind::Cluster,
        name,
        result: Ok("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata:\n  name: dev-sh\nspec:\n  machines:\n  - ip: 10.0.95.10\n    password: <redacted>\n".into()),
    });
    insta::assert_snapshot!(render_to_string(&mut p, 80, 24));
}
