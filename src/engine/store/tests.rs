use super::*;
use crate::domain::draft::{NodeType, SshAuth};

fn node(ip: &str) -> NodeDraft {
    NodeDraft {
        ipv4: ip.into(),
        ..NodeDraft::new()
    }
}

#[test]
fn save_list_load_rename_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DraftStore::new(tmp.path());
    assert!(s.list().unwrap().drafts.is_empty());
    let a = s.save("a", &node("10.0.0.1"), None).unwrap();
    assert_eq!(a.revision, 1);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let mut w = node("10.0.0.2");
    w.node_type = NodeType::Worker;
    w.auth = SshAuth::Key;
    w.key_path = "~/.ssh/id_ed25519".into();
    s.save("b", &w, None).unwrap();
    let l = s.list().unwrap();
    assert_eq!(
        l.drafts.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        ["b", "a"]
    );
    assert_eq!(s.latest().unwrap().0.unwrap().node, w);
    assert_eq!(s.load("a").unwrap().node.ipv4, "10.0.0.1");
    let r = s.rename("a", "c").unwrap();
    assert_eq!(r.name, "c");
    assert!(matches!(s.load("a"), Err(StoreError::NotFound(_))));
    s.delete("c").unwrap();
    assert!(matches!(s.delete("c"), Err(StoreError::NotFound(_))));
    assert_eq!(s.list().unwrap().drafts.len(), 1);
}

#[test]
fn a_stale_revision_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DraftStore::new(tmp.path());
    s.save("n", &node("10.0.0.1"), None).unwrap();
    s.save("n", &node("10.0.0.2"), Some(1)).unwrap();
    let err = s.save("n", &node("10.0.0.3"), Some(1)).unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { found: 2, .. }),
        "{err}"
    );
    assert_eq!(s.load("n").unwrap().node.ipv4, "10.0.0.2");
    assert!(matches!(
        s.save("n", &node("x"), None),
        Err(StoreError::Exists(_))
    ));
    assert_eq!(s.save_new("n", &node("10.0.0.4")).unwrap().name, "n-2");
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != LOCK_FILE)
        .collect();
    names.sort();
    names
}

/// A draft exactly as a newer build could write it: a higher format and a field this
/// build does not know.
fn newer_draft(name: &str) -> String {
    format!(
        r#"{{"format":{},"name":"{name}","revision":1,"savedAt":"2026-01-15T09:00:00Z","node":{{"ipv4":"10.0.0.7","gpu":true}}}}"#,
        DRAFT_FORMAT + 1
    )
}

#[test]
fn listing_reports_unreadable_files_and_moves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DraftStore::new(tmp.path());
    s.save("good", &node("10.0.0.1"), None).unwrap();
    fs::write(s.dir().join("bad.json"), b"{ not json").unwrap();
    fs::write(s.dir().join("future.json"), newer_draft("future")).unwrap();
    let before = files_in(s.dir());
    for _ in 0..2 {
        let l = s.list().unwrap();
        assert_eq!(l.drafts.len(), 1);
        assert_eq!(l.unreadable.len(), 2, "{:?}", l.unreadable);
        let bad = &l.unreadable[0];
        assert_eq!(bad.file, s.dir().join("bad.json"));
        assert_eq!(bad.problem, Problem::Corrupt);
        assert!(!bad.reason.is_empty());
        let future = &l.unreadable[1];
        assert_eq!(future.file, s.dir().join("future.json"));
        assert_eq!(
            future.problem,
            Problem::Newer {
                format: DRAFT_FORMAT + 1
            }
        );
        assert!(
            future
                .reason
                .starts_with("written by a newer acp-cockpit; upgrade to open it"),
            "{}",
            future.reason
        );
        assert_eq!(
            files_in(s.dir()),
            before,
            "a listing wrote to the directory"
        );
    }
    // Restore-latest goes through the listing as well, and so writes nothing either.
    let (latest, unreadable) = s.latest().unwrap();
    assert_eq!(latest.unwrap().name, "good");
    assert_eq!(unreadable.len(), 2);
    assert_eq!(files_in(s.dir()), before);
}

#[test]
fn a_newer_draft_is_never_moved_or_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DraftStore::new(tmp.path());
    let text = newer_draft("future");
    let path = s.dir().join("future.json");
    fs::create_dir_all(s.dir()).unwrap();
    fs::write(&path, &text).unwrap();
    let err = s.load("future").unwrap_err();
    assert!(
        matches!(err, StoreError::Newer { format, .. } if format == DRAFT_FORMAT + 1),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade to open it"), "{err}");
    assert!(matches!(
        s.save("future", &node("10.0.0.2"), None),
        Err(StoreError::Newer { .. })
    ));
    assert!(matches!(
        s.save("future", &node("10.0.0.2"), Some(1)),
        Err(StoreError::Newer { .. })
    ));
    assert!(matches!(
        s.rename("future", "past"),
        Err(StoreError::Newer { .. })
    ));
    assert_eq!(
        s.save_new("future", &node("10.0.0.2")).unwrap().name,
        "future-2"
    );
    assert!(s.repair().unwrap().is_empty());
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    assert_eq!(files_in(s.dir()), ["future-2.json", "future.json"]);
}

#[test]
fn opening_or_repairing_a_corrupt_draft_moves_it_aside_and_says_where() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DraftStore::new(tmp.path());
    fs::create_dir_all(s.dir()).unwrap();
    fs::write(s.dir().join("bad.json"), b"{ not json").unwrap();
    // A save over it neither overwrites nor moves it.
    assert!(matches!(
        s.save("bad", &node("10.0.0.1"), None),
        Err(StoreError::Unreadable { .. })
    ));
    assert_eq!(files_in(s.dir()), ["bad.json"]);
    let err = s.load("bad").unwrap_err().to_string();
    assert!(
        err.contains("was corrupt") && err.contains("bad.json.corrupt-"),
        "{err}"
    );
    let moved = files_in(s.dir());
    assert_eq!(moved.len(), 1);
    assert!(moved[0].starts_with("bad.json.corrupt-"), "{moved:?}");
    assert_eq!(
        fs::read(s.dir().join(&moved[0])).unwrap(),
        b"{ not json",
        "the moved file keeps its bytes"
    );
    assert!(s.list().unwrap().unreadable.is_empty());

    fs::write(s.dir().join("worse.json"), b"[]").unwrap();
    fs::write(s.dir().join("future.json"), newer_draft("future")).unwrap();
    let repaired = s.repair().unwrap();
    assert_eq!(repaired.len(), 1);
    assert_eq!(repaired[0].file, s.dir().join("worse.json"));
    assert!(repaired[0].moved_to.exists());
    let l = s.list().unwrap();
    assert_eq!(l.unreadable.len(), 1);
    assert!(matches!(l.unreadable[0].problem, Problem::Newer { .. }));
}

#[test]
fn key_contents_are_never_stored() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DraftStore::new(tmp.path());
    let mut n = node("10.0.0.1");
    n.auth = SshAuth::Key;
    n.key_path = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n".into();
    assert!(matches!(s.save("k", &n, None), Err(StoreError::Invalid(_))));
    assert!(s.list().unwrap().drafts.is_empty());
}

#[test]
fn export_then_import_gets_a_fresh_name() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DraftStore::new(&tmp.path().join("data"));
    s.save("x", &node("10.0.0.9"), None).unwrap();
    let out = tmp.path().join("x-export.json");
    s.export("x", &out, false).unwrap();
    let imported = s.import(&out, None).unwrap();
    assert_eq!(imported.name, "x-2");
    assert_eq!(imported.node.ipv4, "10.0.0.9");
    fs::write(&out, b"hello").unwrap();
    assert!(matches!(s.import(&out, None), Err(StoreError::Invalid(_))));
}

#[test]
fn export_never_replaces_a_file_unasked() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DraftStore::new(&tmp.path().join("data"));
    s.save("x", &node("10.0.0.9"), None).unwrap();
    let out = tmp.path().join("kept.json");
    fs::write(&out, b"mine").unwrap();
    let err = s.export("x", &out, false).unwrap_err();
    assert!(matches!(&err, StoreError::FileExists(p) if *p == out));
    assert!(err.hint().is_some_and(|h| h.contains("--force")));
    assert_eq!(fs::read(&out).unwrap(), b"mine");
    s.export("x", &out, true).unwrap();
    assert!(fs::read_to_string(&out).unwrap().contains("10.0.0.9"));
}

#[test]
fn leftover_temp_files_are_cleaned_under_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let s = DraftStore::new(tmp.path());
    s.save("a", &node("10.0.0.1"), None).unwrap();
    let stale = s.dir().join(format!("{TMP_PREFIX}999-abc"));
    fs::write(&stale, b"{\"half").unwrap();
    assert_eq!(s.list().unwrap().drafts.len(), 1);
    assert!(!stale.exists());
}
