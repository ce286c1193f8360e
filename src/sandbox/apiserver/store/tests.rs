use super::*;
use crate::sandbox::apiserver::kinds::names;

fn store() -> Store {
    Store::new("global", true, Arc::new(AtomicU64::new(100)), 1000)
}

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {}})
}

#[tokio::test]
async fn subscription_sees_every_change_once_then_expires_after_compaction() {
    let s = store();
    let mut sub = s.subscribe();
    s.create(names::CONFIG_MAPS, Some("default"), cm("a"))
        .expect("create");
    s.merge_patch(
        names::CONFIG_MAPS,
        Some("default"),
        "a",
        json!({"data": {"x": "1"}}),
    )
    .expect("patch");
    s.delete(names::CONFIG_MAPS, Some("default"), "a")
        .expect("delete");
    let types: Vec<EventType> = [
        sub.recv().await.expect("1"),
        sub.recv().await.expect("2"),
        sub.recv().await.expect("3"),
    ]
    .iter()
    .map(|e| e.event_type)
    .collect();
    assert_eq!(
        types,
        [EventType::Added, EventType::Modified, EventType::Deleted]
    );

    let mut late = s.subscribe_from(s.compaction_floor());
    s.create(names::CONFIG_MAPS, Some("default"), cm("b"))
        .expect("create");
    s.compact();
    assert_eq!(late.recv().await.expect_err("expired").code, 410);
    s.create(names::CONFIG_MAPS, Some("default"), cm("c"))
        .expect("create");
    let next = late.recv().await.expect("continues after the error");
    assert_eq!(next.name(), "c");
}

#[test]
fn namespaces_scope_writes_and_cascade_on_delete() {
    let s = store();
    let e = s
        .create(names::CONFIG_MAPS, Some("missing"), cm("a"))
        .expect_err("no namespace");
    assert_eq!(e.code, 404);
    s.create(
        names::NAMESPACES,
        None,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
    )
    .expect("namespace");
    s.create(names::CONFIG_MAPS, Some("team"), cm("a"))
        .expect("create");
    assert_eq!(
        s.delete(names::NAMESPACES, None, "team").expect("delete"),
        None
    );
    assert!(s.get(names::CONFIG_MAPS, Some("team"), "a").is_err());
    assert!(s.list(names::CONFIG_MAPS, None).expect("list").is_empty());
}

#[test]
fn status_updates_never_touch_spec_or_generation() {
    let s = store();
    let created = s
        .create(
            names::MACHINES,
            None,
            json!({"apiVersion": "platform.tkestack.io/v1", "kind": "Machine",
                "metadata": {"name": "m"}, "spec": {"ip": "10.0.0.1"}, "status": {"phase": "X"}}),
        )
        .expect("create");
    assert!(
        created.get("status").is_none(),
        "status is ignored on create"
    );
    let mut o = created.clone();
    o["status"] = json!({"phase": "Running"});
    o["spec"]["ip"] = "10.9.9.9".into();
    let after = s
        .update_status(names::MACHINES, None, "m", o)
        .expect("status");
    assert_eq!(after["status"]["phase"], "Running");
    assert_eq!(after["spec"]["ip"], "10.0.0.1");
    assert_eq!(after["metadata"]["generation"], 1);
    // A stale RV is a conflict in-process too.
    let e = s
        .replace(names::MACHINES, None, "m", created)
        .expect_err("stale");
    assert!(e.is_conflict());
}
