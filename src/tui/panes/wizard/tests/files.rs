//! File work goes through the engine: nothing is read or written on the UI's task, answers
//! are matched by request id, and stale ones are ignored.

use super::*;
use crate::engine::files::{FileCommand, FileEvent, FileText};
use zeroize::Zeroizing;

/// The files command among `fx`, with its id.
fn files_command(fx: &[Effect]) -> (crate::engine::RequestId, &FileCommand) {
    match fx {
        [Effect::Engine(Command::Files { id, cmd })] => (*id, cmd),
        other => panic!("expected one files command, got {other:?}"),
    }
}

fn key_dialog(p: &mut WizardPane, ip: &str, key_path: &str) {
    p.on_action("add_node");
    type_str(p, ip);
    let d = p.dialog.as_mut().expect("the dialog is open");
    d.entry.node.node_type = NodeType::Worker;
    d.entry.node.auth = SshAuth::Key;
    d.entry.node.key_path = key_path.into();
    d.focus_field(node_dialog::DField::Add);
}

#[test]
fn a_key_file_is_read_by_the_engine_and_stale_answers_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("id_test");
    std::fs::write(&key_file, "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n").unwrap();
    let mut p = valid();
    key_dialog(&mut p, "192.168.0.51", key_file.to_str().unwrap());
    let fx = p.on_key(key(KeyCode::Enter)).unwrap();
    let (id, cmd) = files_command(&fx);
    assert!(
        matches!(cmd, FileCommand::ReadText { path, .. } if path.ends_with("id_test")),
        "{cmd:?}"
    );
    // Nothing is added before the answer; the dialog says what it waits for.
    assert_eq!(p.form.nodes().len(), 2);
    let d = p
        .dialog
        .as_ref()
        .expect("the dialog stays open while reading");
    assert!(
        d.notice
            .as_deref()
            .unwrap_or("")
            .contains("Reading the private key file")
    );
    // An answer to another request changes nothing.
    let stale = Event::Files {
        id: crate::engine::RequestId(id.0 + 1000),
        event: FileEvent::Read {
            path: key_file.clone(),
            result: Ok(FileText(Zeroizing::new(
                "-----BEGIN PRIVATE KEY-----".into(),
            ))),
        },
    };
    assert!(!p.on_event(&stale), "a stale answer is ignored");
    assert_eq!(p.form.nodes().len(), 2);
    serve_files(&mut p, fx);
    assert!(p.dialog.is_none());
    assert_eq!(p.form.nodes().len(), 3);
    assert!(p.form.nodes()[2].private_key.expose().contains("abc"));
}

#[test]
fn a_public_key_file_is_refused_and_the_dialog_keeps_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("id_test.pub");
    std::fs::write(&key_file, "ssh-ed25519 AAAA test").unwrap();
    let mut p = valid();
    key_dialog(&mut p, "192.168.0.52", key_file.to_str().unwrap());
    let fx = p.on_key(key(KeyCode::Enter)).unwrap();
    serve_files(&mut p, fx);
    assert_eq!(p.form.nodes().len(), 2);
    let d = p.dialog.as_ref().expect("the dialog is still open");
    assert_eq!(d.entry.node.ipv4, "192.168.0.52");
    assert!(
        d.notice
            .as_deref()
            .unwrap_or("")
            .contains("does not look like a private key")
    );
}

#[test]
fn a_cancelled_dialog_drops_the_key_answer() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("id_test");
    std::fs::write(&key_file, "-----BEGIN OPENSSH PRIVATE KEY-----\n").unwrap();
    let mut p = valid();
    key_dialog(&mut p, "192.168.0.53", key_file.to_str().unwrap());
    let fx = p.on_key(key(KeyCode::Enter)).unwrap();
    p.on_key(key(KeyCode::Esc));
    assert!(p.dialog.is_none());
    serve_files(&mut p, fx);
    assert_eq!(p.form.nodes().len(), 2, "a cancelled node is never added");
}

#[test]
fn a_manifest_is_read_by_the_engine_and_an_older_read_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first.yaml");
    let second = dir.path().join("second.yaml");
    let mut f = valid().form.clone();
    std::fs::write(&first, form::to_yaml(&f.to_cluster(), false).unwrap()).unwrap();
    f.basic.name = "second".into();
    std::fs::write(&second, form::to_yaml(&f.to_cluster(), false).unwrap()).unwrap();
    let mut p = WizardPane::new();
    let old = p.on_open(first.to_str());
    files_command(&old);
    assert!(
        p.form.basic.name.is_empty(),
        "nothing changes before the answer"
    );
    assert!(matches!(&p.notice, Some((Role::Info, m)) if m.starts_with("Reading")));
    let new = p.on_open(second.to_str());
    serve_files(&mut p, new);
    assert_eq!(p.form.basic.name, "second");
    serve_files(&mut p, old);
    assert_eq!(
        p.form.basic.name, "second",
        "the replaced request's answer is dropped"
    );
}

#[test]
fn the_editor_starts_only_once_its_file_is_written() {
    let mut p = valid();
    let fx = p.open_editor();
    let (id, cmd) = files_command(&fx);
    let FileCommand::WritePrivate { path, .. } = cmd else {
        panic!("expected a private write, got {cmd:?}");
    };
    let path = path.clone();
    assert!(
        p.take_effects().is_empty(),
        "no editor before the file exists"
    );
    p.on_event(&Event::Files {
        id,
        event: FileEvent::Written {
            path: path.clone(),
            result: Err(crate::engine::Failure::new(
                crate::engine::FailureKind::Io,
                "cannot write: disk full",
                Some("free some space"),
            )),
        },
    });
    assert!(
        p.take_effects().is_empty(),
        "a failed write starts no editor"
    );
    assert!(matches!(&p.notice, Some((Role::Fail, m)) if m.contains("disk full")));
    // The resumed editor reads the file back and removes it, in that order.
    let fx = p.open_editor();
    let fx = serve_files(&mut p, fx);
    let [Effect::Suspend(_)] = fx.as_slice() else {
        panic!("expected the editor, got {fx:?}");
    };
    let fx = p.on_resumed(EDITOR_TAG, true);
    assert!(matches!(
        fx.as_slice(),
        [
            Effect::Engine(Command::Files {
                cmd: FileCommand::ReadText { .. },
                ..
            }),
            Effect::Engine(Command::Files {
                cmd: FileCommand::Remove { .. },
                ..
            }),
        ]
    ));
    serve_files(&mut p, fx);
    assert!(matches!(&p.notice, Some((Role::Ok, m)) if m.contains("imported")));
}
