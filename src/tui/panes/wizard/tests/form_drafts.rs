//! Whole-form drafts, and a form with typed input is replaced only after a yes.

use super::*;
use crate::domain::draft::{DRAFT_FORMAT, Draft, FormDraft};

fn saved_form(p: &mut WizardPane) -> FormDraft {
    let fx = p.on_action("save_draft");
    let [
        Effect::Engine(Command::Drafts {
            cmd: DraftCommand::SaveForm { form, existing },
            ..
        }),
    ] = fx.as_slice()
    else {
        panic!("expected a whole-form draft save, got {fx:?}");
    };
    assert!(existing.is_none());
    (**form).clone()
}

fn as_draft(name: &str, form: FormDraft) -> Draft {
    Draft {
        format: DRAFT_FORMAT,
        name: name.into(),
        revision: 1,
        saved_at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
        node: crate::domain::draft::NodeDraft::new(),
        form: Some(Box::new(form)),
    }
}

#[test]
fn w_saves_the_whole_form_without_a_secret() {
    let mut p = valid();
    p.form.node_settings.nodes[1].auth = SshAuth::Key;
    p.form.node_settings.nodes[1].key_path = "~/.ssh/unit".into();
    p.form.node_settings.nodes[1].private_key = Secret::new("-----BEGIN PRIVATE KEY-----x");
    p.changed();
    let form = saved_form(&mut p);
    let json = serde_json::to_string(&form).unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    for secret in ["pw-one", "pw-two", "BEGIN PRIVATE KEY"] {
        assert!(!json.contains(secret), "{json}");
        assert!(!json.contains(&b64.encode(secret)), "{json}");
    }
    assert_eq!(form.cluster, "unit");
    assert_eq!(form.nodes, 2);
    assert_eq!(form.key_paths["192.168.0.21"], "~/.ssh/unit");
    // Saved: quitting now loses only the typed passwords.
    p.on_event(&Event::Drafts {
        id: crate::engine::RequestId(0),
        event: DraftEvent::Saved(as_draft("cluster-unit", form)),
    });
    let lost = p.unsaved_input().unwrap_or_default();
    assert!(
        lost.contains("typed passwords") && lost.contains("cluster-unit"),
        "{lost}"
    );
    // A second w updates that draft instead of making another.
    let fx = p.on_action("save_draft");
    assert!(matches!(
        fx.as_slice(),
        [Effect::Engine(Command::Drafts {
            cmd: DraftCommand::SaveForm { existing: Some((n, 1)), .. },
            ..
        })] if n == "cluster-unit"
    ));
}

#[test]
fn a_form_draft_replaces_typed_input_only_after_a_yes() {
    let mut source = valid();
    source.form.basic.name = "restored".into();
    source.form.node_settings.nodes[0].key_path = "~/.ssh/k".into();
    source.form.node_settings.nodes[0].auth = SshAuth::Key;
    source.changed();
    let draft = as_draft("cluster-restored", saved_form(&mut source));
    let loaded = Event::Drafts {
        id: crate::engine::RequestId(0),
        event: DraftEvent::Loaded {
            draft,
            restore: true,
        },
    };
    let mut p = valid();
    p.on_event(&loaded);
    assert_eq!(p.form.basic.name, "unit", "nothing replaced without asking");
    assert!(matches!(&p.notice, Some((Role::Warn, m)) if m.contains("Replace")));
    assert!(p.wants_text_input());
    p.on_key(key(KeyCode::Char('n')));
    assert_eq!(p.form.basic.name, "unit");
    p.on_event(&loaded);
    p.on_key(key(KeyCode::Char('y')));
    assert_eq!(p.form.basic.name, "restored");
    assert_eq!(p.form.nodes()[0].key_path, "~/.ssh/k");
    assert!(
        p.form.nodes().iter().all(|n| n.password.is_empty()),
        "a restore asks for every password again"
    );
    assert!(!p.wants_text_input());
}

#[test]
fn a_manifest_asks_before_replacing_typed_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.yaml");
    let mut other = valid().form.clone();
    other.basic.name = "other".into();
    std::fs::write(&path, form::to_yaml(&other.to_cluster(), false).unwrap()).unwrap();
    let mut p = valid();
    let fx = p.on_open(path.to_str());
    serve_files(&mut p, fx);
    assert_eq!(
        p.form.basic.name, "unit",
        "the typed form is not replaced silently"
    );
    assert!(matches!(&p.notice, Some((Role::Warn, m)) if m.contains("other.yaml")));
    p.on_key(key(KeyCode::Char('y')));
    assert_eq!(p.form.basic.name, "other");
}
