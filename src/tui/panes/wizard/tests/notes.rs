//! The page's choices the platform does not apply are explained once, plainly, under each,
//! and no finding contradicts the note.

use super::*;
use crate::domain::form::{ImageRegistry, MonitoringKind};

#[test]
fn monitoring_registry_and_external_access_are_explained_once() {
    let mut p = valid();
    p.form.node_settings.monitoring.nodes.clear();
    p.form.basic.external_access = "203.0.113.10".into();
    p.form.basic.image_registry = ImageRegistry::Public;
    p.form.node_settings.monitoring.kind = MonitoringKind::VictoriaMetrics;
    p.changed();
    let advice: Vec<&Issue> = p
        .issues()
        .iter()
        .filter(|i| {
            i.path == "form.externalAccess"
                || i.path == "form.imageRegistry"
                || i.path.starts_with("form.monitoring.nodes")
                || i.path == "form.monitoring.kind"
        })
        .collect();
    assert!(advice.is_empty(), "{advice:?}");
    let text = screen(&mut p, 80, 40);
    assert_eq!(
        text.matches(rows::EXTERNAL_ACCESS_NOTE).count(),
        1,
        "{text}"
    );
    assert_eq!(text.matches(rows::REGISTRY_NOTE).count(), 1, "{text}");
    p.set_section(Section::Nodes);
    let text = screen(&mut p, 80, 40);
    assert_eq!(text.matches(rows::MONITORING_NOTE).count(), 1, "{text}");
    assert!(!text.contains("no monitoring nodes are selected"), "{text}");
    // A malformed value is still an error.
    p.form.basic.external_access = "not a host".into();
    p.changed();
    assert!(
        p.issues()
            .iter()
            .any(|i| i.path == "form.externalAccess" && i.level == Level::Error)
    );
}

#[test]
fn focus_passes_over_the_notes() {
    let mut p = valid();
    focus_on(&mut p, FieldId::ExternalAccess);
    p.on_action("next_field");
    assert_eq!(p.focused().map(|s| s.id), Some(FieldId::PlatformUrl));
}
