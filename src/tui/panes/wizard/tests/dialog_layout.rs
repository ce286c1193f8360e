//! The node dialog inside the pane: it fits small terminals, says what scrolled out of sight,
//! reads a SOCKS5 URL and shows a long finding in full.

use super::*;

/// The dialog with every row it can have (dual stack, proxy, key login).
fn tallest_dialog(p: &mut WizardPane) {
    p.form.basic.ip_stack = IpStack::DualStack;
    p.on_action("add_node");
    let d = p.dialog.as_mut().expect("the dialog is open");
    d.entry.node.proxy.enabled = true;
    d.entry.node.auth = SshAuth::Key;
}

#[test]
fn at_80x24_the_dialog_keeps_its_first_rows_and_marks_what_is_hidden() {
    let mut p = valid();
    p.on_action("add_node");
    p.dialog.as_mut().unwrap().entry.node.proxy.enabled = true;
    let text = screen(&mut p, 80, 24);
    for row in ["Type", "IPv4 Address", "Proxy Password", "[ Add ]"] {
        assert!(text.contains(row), "{row} is missing:\n{text}");
    }
    assert!(!text.contains("more above"), "{text}");

    // The tallest dialog fits 80x24 whole: no row is scrolled away while lines stay blank.
    let mut p = valid();
    tallest_dialog(&mut p);
    let text = screen(&mut p, 80, 24);
    for row in ["Type", "IPv4 Address", "Key Passphrase", "[ Add ]"] {
        assert!(text.contains(row), "{row} is missing:\n{text}");
    }
    assert!(!text.contains("more below"), "{text}");
    // Smaller still, rows scroll and the border says how many are out of sight.
    let text = screen(&mut p, 80, 18);
    assert!(
        line_with(&text, "Type").contains("< Control Plane"),
        "{text}"
    );
    assert!(
        text.contains("more below"),
        "a marker says rows are hidden:\n{text}"
    );
    let d = p.dialog.as_mut().unwrap();
    d.focus_field(node_dialog::DField::Passphrase);
    let text = screen(&mut p, 80, 18);
    assert!(text.contains("Key Passphrase"), "{text}");
    assert!(text.contains("more above"), "{text}");
    // The rows reach down to the message and the buttons: no blank line between.
    let lines: Vec<&str> = text.lines().collect();
    let buttons = lines.iter().position(|l| l.contains("[ Add ]")).unwrap();
    let above = lines[buttons - 1].trim_matches(|c: char| c == '│' || c == ' ');
    assert!(!above.is_empty(), "{text}");
}

#[test]
fn a_socks5_url_is_accepted_as_the_proxy_address() {
    let mut p = valid();
    p.on_action("add_node");
    type_str(&mut p, "192.168.0.61");
    let d = p.dialog.as_mut().unwrap();
    d.entry.node.node_type = NodeType::Worker;
    d.entry.node.proxy.enabled = true;
    d.entry.node.proxy.address = "socks5://192.168.0.1:1080".into();
    d.entry.ssh_password.push_str("pw");
    d.focus_field(node_dialog::DField::Add);
    p.on_key(key(KeyCode::Enter));
    assert!(
        p.dialog.is_none(),
        "{:?}",
        p.dialog.as_ref().map(|d| (&d.notice, &d.findings))
    );
    assert_eq!(p.form.nodes()[2].proxy.address, "192.168.0.1:1080");
}

#[test]
fn a_long_finding_of_the_focused_field_is_readable_in_the_dialog() {
    let mut p = valid();
    p.on_action("add_node");
    // The address of node 1 again: the rules' finding is longer than the row.
    type_str(&mut p, "192.168.0.11");
    let text = screen(&mut p, 80, 24);
    let flat: String = text
        .lines()
        .map(|l| l.trim_matches(|c: char| c == '│' || c == ' '))
        .collect::<Vec<_>>()
        .join(" ");
    let finding = p.dialog.as_ref().unwrap().findings[0].2.clone();
    let tail: String = finding
        .split_whitespace()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .join(" ");
    let tail_words: Vec<&str> = tail.split(' ').rev().collect();
    assert!(flat.contains(&tail_words.join(" ")), "{finding}\n{text}");
}
