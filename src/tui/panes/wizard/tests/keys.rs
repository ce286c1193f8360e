//! Keys of the form: Left/Right on choices, sections that stop at their ends, and where focus
//! goes after a list entry is added.

use super::*;

#[test]
fn left_and_right_change_a_choice() {
    let mut p = valid();
    focus_on(&mut p, FieldId::Runtime);
    assert!(p.wants_text_input(), "Left/Right reach the choice");
    assert!(p.on_key(key(KeyCode::Right)).is_some());
    assert_eq!(
        p.form.basic.container_runtime,
        crate::domain::form::ContainerRuntime::Docker
    );
    p.on_key(key(KeyCode::Left));
    assert_eq!(
        p.form.basic.container_runtime,
        crate::domain::form::ContainerRuntime::Containerd
    );
    // Other keys go back to the keymap.
    assert!(p.on_key(key(KeyCode::Char('r'))).is_none());
    focus_on(&mut p, FieldId::Name);
    assert!(!p.wants_text_input());
}

#[test]
fn page_up_stops_at_basic_info() {
    let mut p = valid();
    assert_eq!(p.section(), Section::Basic);
    p.on_action("prev_section");
    assert_eq!(p.section(), Section::Basic, "no wrap to Review");
    assert!(matches!(&p.notice, Some((_, m)) if m.contains("first section")));
    p.set_section(Section::Review);
    p.on_action("next_section");
    assert_eq!(p.section(), Section::Review);
}

#[test]
fn after_adding_a_parameter_focus_stays_on_the_add_row() {
    let mut p = valid();
    p.set_section(Section::Extended);
    focus_on(&mut p, FieldId::Kv(KvMap::Kubelet, None));
    p.on_action("edit");
    type_str(&mut p, "v=2");
    p.on_key(key(KeyCode::Enter));
    assert_eq!(p.form.extended.kubelet_args["v"], "2");
    assert_eq!(
        p.focused().map(|s| s.id),
        Some(FieldId::Kv(KvMap::Kubelet, None))
    );
    // The next Enter starts a new entry, empty, instead of editing `v`.
    p.on_action("edit");
    assert_eq!(p.editing.as_ref().map(|e| e.buffer.as_str()), Some(""));
    focus_on(&mut p, FieldId::ApiUrl(None));
    p.on_key(key(KeyCode::Esc));
    focus_on(&mut p, FieldId::ApiUrl(None));
    p.on_action("edit");
    type_str(&mut p, "k8s.example.com");
    p.on_key(key(KeyCode::Enter));
    assert_eq!(p.focused().map(|s| s.id), Some(FieldId::ApiUrl(None)));
}
