//! The Create pane's behaviour: submitting, editing, nodes, the editor round trip; the
//! helpers here serve the topic files below.

mod dialog_layout;
mod files;
mod form_drafts;
mod keys;
mod notes;
mod preflight;

use std::path::PathBuf;

use crossterm::event::KeyModifiers;

use super::*;
use crate::config::theme::Theme;
use crate::domain::cluster::MASK;
use crate::domain::form::{self, Cni, IpStack};
use crate::engine::kube::{FailureKind, KubeCommand, KubeFailure};
use crate::engine::store::{DraftEvent, StoreError};

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn type_str(p: &mut WizardPane, s: &str) {
    for c in s.chars() {
        p.on_key(key(KeyCode::Char(c)));
    }
}

fn valid() -> WizardPane {
    let mut f = ClusterForm::new();
    f.basic.name = "unit".into();
    f.basic.kubernetes_version = "1.30.14".into();
    f.basic.endpoint.address = "192.168.0.10".into();
    f.node_settings.nic = "eth0".into();
    f.node_settings.nodes = vec![
        NodeForm {
            ip: "192.168.0.11".into(),
            password: Secret::new("pw-one"),
            ..NodeForm::default()
        },
        NodeForm {
            role: NodeType::Worker,
            ip: "192.168.0.21".into(),
            password: Secret::new("pw-two"),
            ..NodeForm::default()
        },
    ];
    f.node_settings.monitoring.nodes = vec!["192.168.0.21".into()];
    WizardPane::with_form(f)
}

/// The engine's answer to the request the pane sent last.
fn created(p: &WizardPane, name: &str, dry_run: bool, ok: bool) -> Event {
    Event::Kube(KubeEvent::ClusterCreated {
        id: p.request.expect("a request was sent"),
        context: "ctx".into(),
        name: name.into(),
        dry_run,
        result: if ok {
            Ok(())
        } else {
            Err(KubeFailure::new(
                FailureKind::Other,
                "denied by webhook",
                None,
            ))
        },
    })
}

#[test]
fn submit_runs_a_dry_run_then_the_gate_then_opens_the_timeline() {
    let mut p = valid();
    assert_eq!(p.errors(), 0, "{:?}", p.issues());
    let fx = p.on_action("submit");
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::CreateCluster {
            dry_run: true,
            ..
        }))]
    ));
    // Waiting: another submit sends nothing.
    assert!(p.on_action("submit").is_empty());
    p.on_event(&created(&p, "unit", true, true));
    let fx = p.on_action("submit");
    let [Effect::Guarded(g)] = fx.as_slice() else {
        panic!("expected the safety gate, got {fx:?}");
    };
    assert!(g.title.contains("unit"));
    assert!(matches!(
        &g.command,
        Command::Kube(KubeCommand::CreateCluster { dry_run: false, cluster, .. })
            if cluster.spec.machines.len() == 2
    ));
    assert!(p.take_effects().is_empty());
    p.on_event(&created(&p, "unit", false, true));
    assert!(matches!(
        p.take_effects().as_slice(),
        [Effect::Open(PaneId::Timeline, Some(n))] if n == "unit"
    ));
}

#[test]
fn the_gate_is_awaited_not_reported_as_creating_and_a_create_clears_the_form() {
    let mut p = valid();
    p.on_action("submit");
    p.on_event(&created(&p, "unit", true, true));
    let fx = p.on_action("submit");
    assert!(matches!(fx.as_slice(), [Effect::Guarded(_)]));
    p.set_section(Section::Review);
    let text = screen(&mut p, 160, 40);
    assert!(text.contains("Waiting for confirmation"), "{text}");
    assert!(!text.contains("Creating unit"), "{text}");
    // Cancelled in the gate (the pane is not told): submitting asks again.
    assert!(matches!(
        p.on_action("submit").as_slice(),
        [Effect::Guarded(_)]
    ));
    p.on_event(&created(&p, "unit", false, true));
    assert!(
        p.form.basic.name.is_empty(),
        "a fresh form after the create"
    );
    assert!(p.form.nodes().is_empty());
    let text = screen(&mut p, 160, 40);
    assert!(text.contains("Cluster unit is being created"), "{text}");
    assert!(matches!(
        p.on_action("edit").as_slice(),
        [Effect::Open(PaneId::Timeline, Some(n))] if n == "unit"
    ));
}

#[test]
fn read_only_dry_run_says_create_is_disabled() {
    let mut p = valid();
    p.readonly = true;
    p.on_action("submit");
    p.on_event(&created(&p, "unit", true, true));
    assert!(
        matches!(&p.notice, Some((Role::Warn, m)) if m.contains("read-only: Create is disabled")),
        "{:?}",
        p.notice
    );
}

#[test]
fn a_refused_dry_run_shows_the_whole_reason_and_the_fix() {
    let mut p = valid();
    p.on_action("submit");
    p.on_event(&Event::Kube(KubeEvent::ClusterCreated {
        id: p.request.expect("a request was sent"),
        context: "ctx".into(),
        name: "unit".into(),
        dry_run: true,
        result: Err(KubeFailure::new(
            FailureKind::Forbidden,
            "cannot dry-run create of cluster unit: forbidden: clusters.platform.tkestack.io \
             is forbidden: User \"viewer\" cannot create resource \"clusters\" in API group \
             \"platform.tkestack.io\" at the cluster scope",
            None,
        )),
    }));
    p.set_section(Section::Review);
    let text = screen(&mut p, 120, 40);
    let flat: String = text
        .lines()
        .map(|l| l.split('│').nth(3).unwrap_or("").trim().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("at the cluster scope"), "{text}");
    assert!(flat.contains("ask an administrator"), "{text}");
}

#[test]
fn review_scrolling_stops_at_the_last_line() {
    let mut p = valid();
    p.set_section(Section::Review);
    screen(&mut p, 120, 40);
    for _ in 0..500 {
        p.on_action("next_field");
    }
    let max = p.review_scroll;
    assert!(max > 0 && max < 100, "{max}");
    p.on_action("prev_field");
    assert_eq!(p.review_scroll, max - 1, "one key press comes back");
    let text = screen(&mut p, 120, 40);
    assert!(text.contains("machines"), "{text}");
}

#[test]
fn a_node_of_another_cluster_is_refused() {
    use crate::engine::kube::{Delta, MachineSummary};
    let machine: crate::domain::cluster::Machine = serde_json::from_value(serde_json::json!({
        "apiVersion": "platform.tkestack.io/v1",
        "kind": "Machine",
        "metadata": {"name": "qa-test-10-0-0-21"},
        "spec": {"clusterName": "qa-test", "type": "Baremetal", "ip": "192.168.0.21"}
    }))
    .unwrap();
    let summary = MachineSummary::from_machine(&machine, &mut Default::default());
    let mut p = valid();
    assert_eq!(p.errors(), 0);
    let changed = p.on_event(&Event::Kube(KubeEvent::MachinesChanged(Delta {
        platform: "sandbox".into(),
        reset: true,
        applied: vec![std::sync::Arc::new(summary)],
        deleted: Vec::new(),
    })));
    assert!(changed);
    assert!(p.issues().iter().any(|i| i.level == Level::Error
        && i.path == "spec.machines[1].ip"
        && i.message.contains("already a node of cluster qa-test")));
    p.on_event(&Event::Kube(KubeEvent::MachinesChanged(Delta {
        platform: "sandbox".into(),
        reset: false,
        applied: Vec::new(),
        deleted: vec!["qa-test-10-0-0-21".into()],
    })));
    assert_eq!(p.errors(), 0, "{:?}", p.issues());
}

#[test]
fn the_name_of_a_cluster_on_the_platform_is_refused() {
    use crate::engine::kube::{ClusterSummary, Delta};
    let mut existing = crate::domain::cluster::Cluster::new("unit", Default::default());
    existing.metadata.resource_version = Some("1".into());
    let summary = ClusterSummary::from_cluster(&existing, &mut Default::default());
    let mut p = valid();
    assert_eq!(p.errors(), 0);
    let changed = p.on_event(&Event::Kube(KubeEvent::ClustersChanged(Delta {
        platform: "sandbox".into(),
        reset: true,
        applied: vec![std::sync::Arc::new(summary)],
        deleted: Vec::new(),
    })));
    assert!(changed);
    assert!(
        p.issues()
            .iter()
            .any(|i| i.level == Level::Error && i.path == "metadata.name"),
        "{:?}",
        p.issues()
    );
    p.on_event(&Event::Kube(KubeEvent::ClustersChanged(Delta {
        platform: "sandbox".into(),
        reset: false,
        applied: Vec::new(),
        deleted: vec!["unit".into()],
    })));
    assert_eq!(p.errors(), 0, "{:?}", p.issues());
}

#[test]
fn unsaved_input_names_what_quitting_would_lose() {
    assert_eq!(WizardPane::new().unsaved_input(), None);
    let mut p = WizardPane::new();
    p.on_action("edit");
    type_str(&mut p, "abc");
    p.on_key(key(KeyCode::Enter));
    assert_eq!(
        p.unsaved_input().as_deref(),
        Some("the Create form for abc")
    );
    let what = valid().unsaved_input().unwrap_or_default();
    assert!(
        what.contains("2 node(s)") && what.contains("never saved"),
        "{what}"
    );
    // After a create the form is fresh again: nothing to lose.
    let mut p = valid();
    p.on_action("submit");
    p.on_event(&created(&p, "unit", true, true));
    p.on_action("submit");
    p.on_event(&created(&p, "unit", false, true));
    assert_eq!(p.unsaved_input(), None);
}

#[test]
fn focus_stops_at_the_ends_of_a_section() {
    let mut p = valid();
    p.set_section(Section::Extended);
    let last = p.rows().len() - 1;
    p.focus = last;
    p.on_action("next_field");
    assert_eq!(p.focus, last, "no silent wrap to the top");
    assert!(
        matches!(&p.notice, Some((_, m)) if m.contains("PgDn")),
        "{:?}",
        p.notice
    );
    let first = p.focus;
    p.on_action("prev_field");
    assert!(p.focus < first);
    assert!(p.notice.is_none());
    p.set_section(Section::Extended);
    let top = p.focus;
    p.on_action("prev_field");
    assert_eq!(
        p.focus, top,
        "the heading above is skipped, not wrapped past"
    );
    assert!(matches!(&p.notice, Some((_, m)) if m.contains("PgUp")));
}

#[test]
fn removing_a_node_takes_a_second_delete() {
    let mut p = valid();
    p.set_section(Section::Nodes);
    focus_on(&mut p, FieldId::Node(0));
    p.on_action("remove_node");
    assert_eq!(p.form.nodes().len(), 2, "the first Delete only asks");
    assert!(matches!(&p.notice, Some((Role::Warn, m)) if m.contains("Delete again")));
    p.on_action("toggle");
    p.on_action("remove_node");
    assert_eq!(p.form.nodes().len(), 2, "another key in between cancels");
    p.on_action("remove_node");
    assert_eq!(p.form.nodes().len(), 1);
}

#[test]
fn the_key_bar_never_cuts_a_key() {
    for w in [80u16, 120, 160, 200] {
        let mut p = valid();
        let text = screen(&mut p, w, 30);
        let bar = text.lines().nth(28).unwrap_or_default();
        assert!(bar.contains("r review") || w < 100, "{w}: {bar}");
        assert!(
            bar.trim_end_matches(['│', ' '])
                .ends_with(|c: char| c.is_alphanumeric() || c == ')' || c == 'R'),
            "{w}: {bar}"
        );
    }
}

#[test]
fn delete_removes_list_entries() {
    let mut p = valid();
    p.form.extended.kubelet_args.insert("v".into(), "2".into());
    p.form.extended.apiserver_urls = vec!["k8s.example.com".into()];
    p.changed();
    p.set_section(Section::Extended);
    focus_on(&mut p, FieldId::Kv(KvMap::Kubelet, Some("v".into())));
    p.on_action("remove_node");
    assert!(p.form.extended.kubelet_args.is_empty());
    focus_on(&mut p, FieldId::ApiUrl(Some(0)));
    p.on_action("remove_node");
    assert!(p.form.extended.apiserver_urls.is_empty());
    assert!(matches!(&p.notice, Some((_, m)) if m.contains("k8s.example.com")));
}

#[test]
fn a_change_after_the_dry_run_needs_a_new_dry_run() {
    let mut p = valid();
    p.on_action("submit");
    p.on_event(&created(&p, "unit", true, true));
    p.form.basic.display_name = "changed".into();
    p.changed();
    assert!(matches!(
        p.on_action("submit").as_slice(),
        [Effect::Engine(Command::Kube(KubeCommand::CreateCluster {
            dry_run: true,
            ..
        }))]
    ));
    p.on_event(&created(&p, "unit", true, false));
    assert!(matches!(p.submit, Submit::DryRunFailed(ref m) if m.contains("webhook")));
}

#[test]
fn errors_disable_create_and_select_the_first_error() {
    let mut p = WizardPane::new();
    assert!(p.errors() > 0);
    assert!(p.on_action("submit").is_empty());
    let first = p
        .issues
        .iter()
        .position(|i| i.level == Level::Error)
        .unwrap();
    assert_eq!(p.placed[first].0, p.section);
}

#[test]
fn editor_file_is_masked_and_secrets_come_back_on_reimport() {
    let mut p = valid();
    let fx = p.open_editor();
    let fx = serve_files(&mut p, fx);
    let [Effect::Suspend(job)] = fx.as_slice() else {
        panic!("expected a suspend job, got {fx:?}");
    };
    assert_eq!(job.tag, EDITOR_TAG);
    let path = PathBuf::from(job.args.last().unwrap());
    let text = std::fs::read_to_string(&path).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    for secret in ["pw-one", "pw-two"] {
        assert!(!text.contains(secret) && !text.contains(&b64.encode(secret)));
    }
    assert!(text.contains(MASK));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the temp file is private");
    }
    let edited = text.replace("name: unit", "name: unit-renamed");
    std::fs::write(&path, edited).unwrap();
    let fx = p.on_resumed(EDITOR_TAG, true);
    serve_files(&mut p, fx);
    assert!(!path.exists(), "the temp file is removed");
    assert_eq!(p.form.basic.name, "unit-renamed");
    assert_eq!(p.form.nodes()[0].password.expose(), "pw-one");
    assert_eq!(p.form.nodes()[1].password.expose(), "pw-two");
}

/// Does the file work the pane asked the engine for, as the files capability would, feeds the
/// answers back and returns every other effect (including those the answers produced).
fn serve_files(p: &mut WizardPane, effects: Vec<Effect>) -> Vec<Effect> {
    let mut out = Vec::new();
    for fx in effects {
        let Effect::Engine(Command::Files { id, cmd }) = fx else {
            out.push(fx);
            continue;
        };
        let event = crate::engine::files::run_command(cmd);
        p.on_event(&Event::Files { id, event });
        out.extend(p.take_effects());
    }
    out
}

#[test]
fn a_broken_edit_leaves_the_form_alone() {
    let mut p = valid();
    assert!(p.reimport_yaml("kind: [").is_err());
    assert_eq!(p.form.basic.name, "unit");
}

fn screen(p: &mut WizardPane, w: u16, h: u16) -> String {
    let theme = Theme::default();
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        let ctx = RenderCtx {
            theme: &theme,
            now: chrono::DateTime::from_timestamp(0, 0).unwrap(),
            readonly: false,
            sandbox: false,
        };
        p.render(f, f.area(), &ctx);
    })
    .unwrap();
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn focus_on(p: &mut WizardPane, id: FieldId) {
    p.focus = p
        .rows()
        .iter()
        .position(|r| r.id == id)
        .unwrap_or_else(|| panic!("no row {id:?}"));
}

fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"))
}

#[test]
fn vrid_finding_follows_every_commit_and_editing_is_visible() {
    let mut p = valid();
    p.form.basic.endpoint.self_built_vip = true;
    p.changed();
    focus_on(&mut p, FieldId::Vrid);
    let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);

    p.on_action("edit");
    p.on_key(ctrl_u);
    type_str(&mut p, "0");
    p.on_key(key(KeyCode::Enter));
    assert!(!p.is_editing(), "Enter leaves edit mode");
    let text = screen(&mut p, 160, 30);
    assert!(
        line_with(&text, "VRID*").contains("x VRID 0 is outside 1-255"),
        "{text}"
    );

    p.on_action("edit");
    p.on_key(ctrl_u);
    type_str(&mut p, "300");
    let text = screen(&mut p, 160, 30);
    let row = line_with(&text, "VRID*");
    assert!(row.contains("editing: Enter saves, Esc cancels"), "{row}");
    assert!(
        !row.contains("VRID 0"),
        "no stale finding while editing: {row}"
    );
    assert!(text.contains("EDITING VRID"), "{text}");
    p.on_key(key(KeyCode::Enter));
    assert!(!p.is_editing());
    assert_eq!(p.form.basic.endpoint.vrid, 300);
    let text = screen(&mut p, 160, 30);
    let row = line_with(&text, "VRID*");
    assert!(row.contains("x VRID 300 is outside 1-255"), "{row}");
    assert!(!text.contains("0 to 255"), "one range everywhere: {text}");

    // Text that is no number stays in the editor, with the reason beside the field.
    p.on_action("edit");
    p.on_key(ctrl_u);
    type_str(&mut p, "abc");
    p.on_key(key(KeyCode::Enter));
    assert!(p.is_editing());
    let text = screen(&mut p, 160, 30);
    assert!(
        line_with(&text, "VRID*")
            .contains("x `abc` is not a whole number: VRID takes one from 1 to 255"),
        "{text}"
    );
    assert!(line_with(&text, "EDITING VRID").contains("Esc"), "{text}");
    p.on_key(key(KeyCode::Esc));
    assert!(!p.is_editing(), "Esc leaves edit mode");
    assert_eq!(p.form.basic.endpoint.vrid, 300);
    p.on_action("edit");
    p.on_key(ctrl_u);
    type_str(&mut p, "137");
    p.on_key(key(KeyCode::Enter));
    assert!(!p.issues().iter().any(|i| i.path.ends_with("vrid")));
}

#[test]
fn the_platforms_published_versions_reach_the_rules() {
    let mut p = valid();
    assert!(!p.issues().iter().any(|i| i.path == "spec.version"));
    let published = |versions: Option<Vec<String>>| {
        Event::Kube(KubeEvent::PlatformVersions {
            context: "global".into(),
            versions,
        })
    };
    assert!(p.on_event(&published(Some(vec!["1.32.7".into()]))));
    assert!(p.issues().iter().any(|i| i.path == "spec.version"));
    // The same list again changes nothing, so nothing is redrawn.
    assert!(!p.on_event(&published(Some(vec!["1.32.7".into()]))));
    // A platform that publishes none brings back the built-in list.
    assert!(p.on_event(&published(None)));
    assert!(!p.issues().iter().any(|i| i.path == "spec.version"));
}

#[test]
fn kubernetes_version_is_a_choice_of_the_offered_releases() {
    let mut p = valid();
    focus_on(&mut p, FieldId::Version);
    assert!(matches!(
        p.focused().map(|s| s.kind),
        Some(Kind::Choice(..))
    ));
    let ctx = rules::RuleContext::default()
        .with_platform_versions(r#"["1.32.7", "1.31.9"]"#)
        .unwrap();
    p.set_rule_context(ctx);
    // 1.30.14 is not offered by this platform: shown as it is, and reported.
    let text = screen(&mut p, 160, 30);
    let row = line_with(&text, "Kubernetes Version");
    assert!(
        row.contains("< 1.30.14 >") && row.contains("x Kubernetes 1.30.14"),
        "{row}"
    );
    p.on_action("edit");
    assert_eq!(p.form.basic.kubernetes_version, "1.32.7");
    p.on_action("toggle");
    assert_eq!(p.form.basic.kubernetes_version, "1.31.9");
    p.on_action("toggle");
    assert_eq!(p.form.basic.kubernetes_version, "1.32.7");
    assert!(!p.issues().iter().any(|i| i.path == "spec.version"));
    assert!(!p.is_editing(), "a choice never opens a text editor");
    // A new form starts with no version and says how to choose one.
    let mut p = WizardPane::new();
    let text = screen(&mut p, 160, 30);
    assert!(
        line_with(&text, "Kubernetes Version").contains("not chosen (Space chooses)"),
        "{text}"
    );
}

#[test]
fn flannel_capacity_errors_show_on_the_node_ip_count_row() {
    let mut p = valid();
    p.form.network.cni = Cni::Flannel;
    p.form.network.node_ip_count = 65536;
    p.changed();
    p.set_section(Section::Network);
    let text = screen(&mut p, 200, 40);
    let row = line_with(&text, "Node IP Count");
    assert!(
        row.contains("x 10.3.0.0/16 with 65536 pod IPs per node holds at most 1 node,"),
        "{row}"
    );
    p.form.network.node_ip_count = 1;
    p.changed();
    let text = screen(&mut p, 200, 40);
    let row = line_with(&text, "Node IP Count");
    assert!(
        row.contains("x a node IP count of 1 gives each node a /32"),
        "{row}"
    );
    assert!(!text.contains("65536 nodes"), "{text}");
}

#[test]
fn flannel_shows_the_node_capacity_beside_the_cidr() {
    let mut p = valid();
    p.form.network.cni = Cni::Flannel;
    p.changed();
    p.set_section(Section::Network);
    let text = screen(&mut p, 160, 30);
    assert!(text.contains("holds at most 256 nodes"), "{text}");
}

#[test]
fn a_manifest_opens_into_the_form() {
    let dir = std::env::temp_dir().join(format!("wizard-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("c.yaml");
    let yaml = form::to_yaml(&valid().form.to_cluster(), false).unwrap();
    std::fs::write(&path, yaml).unwrap();
    let mut p = WizardPane::new();
    let fx = p.on_open(path.to_str());
    assert!(serve_files(&mut p, fx).is_empty());
    assert_eq!(p.form.basic.name, "unit");
    assert_eq!(p.form.nodes()[1].password.expose(), "pw-two");
    let fx = p.on_open(dir.join("missing.yaml").to_str());
    serve_files(&mut p, fx);
    assert!(matches!(&p.notice, Some((Role::Fail, m)) if m.contains("cannot read")));
    assert_eq!(p.form.basic.name, "unit");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn protocol_change_keeps_the_users_cidrs() {
    let mut p = valid();
    p.form.network.cluster_cidr = "10.8.0.0/16".into();
    p.cycle(&FieldId::IpStack, true);
    assert_eq!(p.form.basic.ip_stack, IpStack::DualStack);
    assert!(p.form.network.cluster_cidr.starts_with("10.8.0.0/16,"));
    assert!(matches!(&p.notice, Some((_, m)) if m.contains("kept")));
    p.cycle(&FieldId::IpStack, true);
    assert_eq!(p.form.basic.ip_stack, IpStack::Ipv6);
    assert!(!p.form.network.cluster_cidr.contains(','));
}

#[test]
fn key_value_rows_add_edit_and_refuse_bad_entries() {
    let mut p = valid();
    p.set_section(Section::Extended);
    focus_on(&mut p, FieldId::Kv(KvMap::Scheduler, None));
    p.on_action("edit");
    type_str(&mut p, "v=4");
    p.on_key(key(KeyCode::Enter));
    assert_eq!(p.form.extended.scheduler_args["v"], "4");
    focus_on(&mut p, FieldId::Kv(KvMap::Scheduler, None));
    p.on_action("edit");
    type_str(&mut p, "novalue");
    p.on_key(key(KeyCode::Enter));
    assert!(p.editing.is_some(), "a bad entry stays in the editor");
    let err = p.editing.as_ref().and_then(|e| e.error.clone());
    assert!(err.is_some_and(|m| m.contains("key=value")));
    p.on_key(key(KeyCode::Esc));
    assert_eq!(p.form.extended.scheduler_args.len(), 1);
}

#[test]
fn a_failed_draft_save_reopens_the_dialog_with_its_secrets() {
    let mut p = valid();
    p.on_action("add_node");
    type_str(&mut p, "192.168.0.31");
    let d = p.dialog.as_mut().unwrap();
    d.entry.ssh_password.push_str("kept");
    d.from_draft = Some(("old".into(), 3));
    d.focus_field(node_dialog::DField::SaveDraft);
    let fx = p.on_key(key(KeyCode::Enter)).unwrap();
    assert!(p.dialog.is_none());
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Drafts {
            cmd: DraftCommand::Save {
                existing: Some(_),
                ..
            },
            ..
        })]
    ));
    p.on_event(&Event::Drafts {
        id: crate::engine::RequestId(0),
        event: DraftEvent::Failed {
            action: "save draft".into(),
            error: StoreError::Conflict {
                name: "old".into(),
                expected: 3,
                found: 4,
            },
        },
    });
    let d = p.dialog.as_ref().expect("the dialog is back");
    assert_eq!(d.entry.node.ipv4, "192.168.0.31");
    assert_eq!(d.entry.ssh_password.as_str(), "kept");
    assert!(d.from_draft.is_none(), "the next save makes a new draft");
}

#[test]
fn adding_a_node_through_the_dialog_updates_the_form() {
    let mut p = valid();
    p.on_action("add_node");
    type_str(&mut p, "192.168.0.41");
    let d = p.dialog.as_mut().unwrap();
    d.entry.node.node_type = NodeType::Worker;
    d.entry.ssh_password.push_str("pw-three");
    d.focus_field(node_dialog::DField::Add);
    p.on_key(key(KeyCode::Enter));
    assert!(
        p.dialog.is_none(),
        "{:?}",
        p.dialog.as_ref().map(|d| &d.notice)
    );
    assert_eq!(p.form.nodes().len(), 3);
    assert_eq!(p.form.nodes()[2].password.expose(), "pw-three");
}
