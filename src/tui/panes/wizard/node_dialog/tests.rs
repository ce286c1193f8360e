use super::*;

fn key(c: KeyCode) -> KeyEvent {
    KeyEvent::new(c, KeyModifiers::NONE)
}

fn type_text(d: &mut NodeDialog, s: &str) {
    for c in s.chars() {
        d.on_key(key(KeyCode::Char(c)));
    }
}

#[test]
fn fields_follow_type_proxy_and_auth() {
    let mut d = NodeDialog::new(false);
    assert!(d.fields().contains(&DField::AppDeployable));
    assert!(!d.fields().contains(&DField::Ipv6));
    assert!(!d.fields().contains(&DField::ProxyAddress));
    d.entry.node.node_type = NodeType::Worker;
    d.entry.node.proxy.enabled = true;
    d.entry.node.auth = SshAuth::Key;
    let f = d.fields();
    assert!(!f.contains(&DField::AppDeployable));
    assert!(f.contains(&DField::ProxyPassword));
    assert!(f.contains(&DField::Passphrase) && !f.contains(&DField::Password));
    assert!(NodeDialog::new(true).fields().contains(&DField::Ipv6));
}

#[test]
fn add_is_refused_until_required_fields_are_filled() {
    let mut d = NodeDialog::new(false);
    d.focus_field(DField::Add);
    assert!(matches!(
        d.on_key(key(KeyCode::Enter)),
        Some(Outcome::Nothing)
    ));
    assert_eq!(d.focused(), DField::Ipv4);
    type_text(&mut d, "10.0.0.11");
    d.focus_field(DField::Password);
    type_text(&mut d, "s3cret");
    d.focus_field(DField::Add);
    match d.on_key(key(KeyCode::Enter)) {
        Some(Outcome::Add(e)) => {
            assert_eq!(e.node.ipv4, "10.0.0.11");
            assert_eq!(e.ssh_password.as_str(), "s3cret");
        }
        other => panic!("expected Add, got {other:?}"),
    }
}

#[test]
fn save_draft_carries_no_secret_and_restore_asks_for_it() {
    let mut d = NodeDialog::new(false);
    type_text(&mut d, "10.0.0.12");
    d.focus_field(DField::Password);
    type_text(&mut d, "hunter2");
    d.focus_field(DField::SaveDraft);
    let Some(Outcome::SaveDraft { node, existing }) = d.on_key(key(KeyCode::Enter)) else {
        panic!("expected SaveDraft");
    };
    assert!(existing.is_none());
    let json = serde_json::to_string(&node).unwrap();
    assert!(!json.contains("hunter2"));
    let r = NodeDialog::restored(*node, "n1".into(), 1, false);
    assert!(r.entry.ssh_password.is_empty());
    assert_eq!(r.focused(), DField::Password);
    assert!(r.notice.as_deref().unwrap_or("").contains("SSH password"));
}

#[test]
fn enter_keeps_a_text_field_and_labels_follow_the_dialog() {
    let mut d = NodeDialog::new(false);
    d.on_key(key(KeyCode::Enter));
    assert_eq!(
        d.focused(),
        DField::Ipv4,
        "Enter then typing fills the field"
    );
    type_text(&mut d, "10.0.0.13");
    assert_eq!(d.entry.node.ipv4, "10.0.0.13");
    assert!(!d.entry.node.app_deployable);
    assert_eq!(d.label_of(DField::Add), "Add");
    let e = NodeDialog::edit(d.entry.clone(), 0, false);
    assert_eq!(e.label_of(DField::Add), "Update");
    let mut v6 = NodeDialog::new(false);
    v6.ipv6_only = true;
    assert_eq!(v6.label_of(DField::Ipv4), "IPv6 Address");
    v6.focus_field(DField::Add);
    v6.on_key(key(KeyCode::Enter));
    assert!(v6.notice.as_deref().unwrap_or("").contains("IPv6 Address"));
}

#[test]
fn port_accepts_digits_only() {
    let mut d = NodeDialog::new(false);
    d.focus_field(DField::SshPort);
    d.on_key(key(KeyCode::Backspace));
    d.on_key(key(KeyCode::Backspace));
    assert_eq!(d.entry.node.ssh_port, 0);
    type_text(&mut d, "2x2");
    assert_eq!(d.entry.node.ssh_port, 22);
}

#[test]
fn a_port_out_of_range_stays_as_typed_and_is_refused() {
    let mut d = NodeDialog::new(false);
    d.focus_field(DField::SshPort);
    d.on_key(key(KeyCode::Backspace));
    d.on_key(key(KeyCode::Backspace));
    type_text(&mut d, "70000");
    assert_eq!(d.port_text(), "70000", "nothing typed is silently cut");
    assert_ne!(d.entry.node.ssh_port, 7000);
    let (level, msg) = d.finding_for(DField::SshPort).expect("the row says why");
    assert_eq!(level, Level::Error);
    assert!(msg.contains("outside 1-65535"), "{msg}");
    d.focus_field(DField::Add);
    assert!(matches!(
        d.on_key(key(KeyCode::Enter)),
        Some(Outcome::Nothing)
    ));
    assert_eq!(d.focused(), DField::SshPort);
    // Corrected, every trace of the error goes.
    d.on_key(key(KeyCode::Backspace));
    assert_eq!(d.entry.node.ssh_port, 7000);
    assert!(d.finding_for(DField::SshPort).is_none());
    assert!(d.notice.is_none(), "{:?}", d.notice);
    type_text(&mut d, "x");
    assert!(
        d.finding_for(DField::SshPort)
            .is_some_and(|(_, m)| m.contains("digits"))
    );
    d.on_key(key(KeyCode::Backspace));
    assert!(
        d.finding_for(DField::SshPort).is_none(),
        "the refusal is gone"
    );
}

#[test]
fn down_reaches_every_button_and_left_right_change_choices() {
    let mut d = NodeDialog::new(false);
    let mut seen = Vec::new();
    for _ in 0..d.fields().len() {
        d.on_key(key(KeyCode::Down));
        seen.push(d.focused());
    }
    for b in [DField::Add, DField::SaveDraft, DField::Cancel] {
        assert!(seen.contains(&b), "Down never reached {b:?}: {seen:?}");
    }
    d.focus_field(DField::Type);
    d.on_key(key(KeyCode::Right));
    assert_eq!(d.entry.node.node_type, NodeType::Worker);
    d.on_key(key(KeyCode::Left));
    assert_eq!(d.entry.node.node_type, NodeType::ControlPlane);
}

#[test]
fn the_focused_fields_finding_is_shown_in_full() {
    let mut d = NodeDialog::new(false);
    let long = "192.168.10.11 is also the address of node 1 (Every node needs its own \
                address; remove the duplicate node or correct the IP)";
    d.findings = vec![("ipv4".into(), Level::Error, long.into())];
    d.focus_field(DField::Ipv4);
    let (_, msg) = d.message().expect("a detail line");
    assert!(msg.ends_with("correct the IP)"), "{msg}");
    d.notice = Some("Fill in: SSH Password".into());
    assert_eq!(
        d.message().map(|(_, m)| m).as_deref(),
        Some("Fill in: SSH Password")
    );
}
