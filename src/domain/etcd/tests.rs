use super::*;
use kube::Resource;

const DOC_EXAMPLE: &str = r#"{
  "apiVersion": "cluster.alauda.io/v1alpha1",
  "kind": "EtcdEncryptionConfig",
  "metadata": {"name": "default"},
  "spec": {"resources": ["secrets", "configmaps"], "rotationInterval": "168h0m0s", "type": "aesgcm"},
  "status": {
    "deployStatus": {
      "192.168.100.1": {"revision": 3, "state": "Success"},
      "192.168.100.2": {"revision": 3, "state": "Success"},
      "192.168.100.3": {"revision": 3, "state": "Success"}
    },
    "migration": {"completeTimestamp": "2025-05-27T05:47:01Z", "resources": ["secrets", "configmaps"], "revision": 3, "state": "Success"},
    "revision": 3
  }
}"#;

fn doc() -> EtcdEncryptionConfig {
    serde_json::from_str(DOC_EXAMPLE).expect("doc example parses")
}

#[test]
fn the_documented_example_is_healthy() {
    let e = doc();
    assert_eq!(EtcdEncryptionConfig::group(&()), GROUP);
    assert_eq!(EtcdEncryptionConfig::version(&()), VERSION);
    assert_eq!(e.spec, EtcdEncryptionConfigSpec::acp_default());
    let st = e.status.expect("status");
    assert_eq!(st.verdict(), RotationVerdict::Healthy);
    assert!(st.lagging_nodes().is_empty());
    assert_eq!(
        st.migration
            .as_ref()
            .and_then(|m| m.complete_timestamp.as_deref()),
        Some("2025-05-27T05:47:01Z")
    );
}

#[test]
fn a_node_behind_or_failed_is_reported() {
    let mut st = doc().status.expect("status");
    st.revision = 4;
    st.deploy_status
        .get_mut("192.168.100.1")
        .expect("n1")
        .revision = 4;
    st.migration.as_mut().expect("m").state = "Processing".into();
    st.migration.as_mut().expect("m").revision = 4;
    assert_eq!(st.verdict(), RotationVerdict::Rotating);
    assert_eq!(st.lagging_nodes(), vec!["192.168.100.2", "192.168.100.3"]);
    let n3 = st.deploy_status.get_mut("192.168.100.3").expect("n3");
    n3.state = "RestartFailed".into();
    n3.message = Some("kube-apiserver did not come back".into());
    assert_eq!(st.verdict(), RotationVerdict::Failed);
    assert!(matches!(
        st.node_verdict(&st.deploy_status["192.168.100.3"]),
        NodeVerdict::Failed { ref state, .. } if state == "RestartFailed"
    ));
}

#[test]
fn empty_status_is_not_reported_and_in_progress_is_rotating() {
    assert_eq!(
        EtcdEncryptionStatus::default().verdict(),
        RotationVerdict::NotReported
    );
    let mut st = doc().status.expect("status");
    st.deploy_status.get_mut("192.168.100.2").expect("n2").state = "Updated".into();
    assert_eq!(st.verdict(), RotationVerdict::Rotating);
    assert!(st.lagging_nodes().is_empty());
}

#[test]
fn summary_tells_lagging_from_an_ordinary_rotation() {
    let e = doc();
    let st = e.status.clone().expect("status");
    assert_eq!(st.summary(), RotationSummary::Complete);
    assert_eq!(st.summary().tag(), "complete");
    // A rotation just started: every node behind, no migration at the new revision yet.
    let mut rotating = st.clone();
    rotating.revision = 4;
    rotating
        .deploy_status
        .get_mut("192.168.100.1")
        .expect("n1")
        .revision = 4;
    rotating
        .deploy_status
        .get_mut("192.168.100.1")
        .expect("n1")
        .state = "Processing".into();
    assert_eq!(
        rotating.summary(),
        RotationSummary::InProgress { done: 0, total: 3 }
    );
    assert!(rotating.summary().headline().contains("0/3"));
    // The manager moved on to the migration while .2 stayed behind: lagging.
    let mut lagging = st.clone();
    lagging.revision = 4;
    for n in ["192.168.100.1", "192.168.100.3"] {
        lagging.deploy_status.get_mut(n).expect("n").revision = 4;
    }
    let m = lagging.migration.as_mut().expect("m");
    m.revision = 4;
    m.state = "Processing".into();
    m.complete_timestamp = None;
    assert_eq!(
        lagging.summary(),
        RotationSummary::Lagging {
            nodes: vec!["192.168.100.2".into()]
        }
    );
    assert!(lagging.needs_attention("192.168.100.2"));
    assert!(!lagging.needs_attention("192.168.100.1"));
    // Waiting for its turn is not lagging.
    assert!(!rotating.needs_attention("192.168.100.2"));
    assert!(!rotating.needs_attention("no-such-node"));
    assert_eq!(lagging.summary().headline(), "node 192.168.100.2 lagging");
    // A failure outranks lagging.
    let n3 = lagging.deploy_status.get_mut("192.168.100.3").expect("n3");
    n3.state = "RestartFailed".into();
    let failed = lagging.summary();
    assert_eq!(
        failed,
        RotationSummary::Failed {
            nodes: vec!["192.168.100.3".into()],
            migration_failed: false
        }
    );
    assert_eq!(failed.tag(), "failed");
    let mut mig = st.clone();
    mig.migration.as_mut().expect("m").state = "Failed".into();
    assert_eq!(mig.summary().headline(), "migration failed");
    assert_eq!(
        EtcdEncryptionStatus::default().summary(),
        RotationSummary::NotReported
    );
}

#[test]
fn next_rotation_is_the_last_completion_plus_the_interval() {
    let e = doc();
    let due = e.next_rotation_due().expect("due");
    assert_eq!(due.to_rfc3339(), "2025-06-03T05:47:01+00:00");
    let mut busy = e.clone();
    if let Some(st) = busy.status.as_mut() {
        st.deploy_status.get_mut("192.168.100.1").expect("n1").state = "Updated".into();
    }
    assert_eq!(busy.next_rotation_due(), None);
    let mut odd = e.clone();
    odd.spec.rotation_interval = "weekly".into();
    assert_eq!(odd.next_rotation_due(), None);
    assert_eq!(parse_time("yesterday"), None);
}

#[test]
fn advice_names_the_node_the_file_and_the_apiserver() {
    let behind =
        node_advice("10.0.0.2", &NodeVerdict::Behind { node_revision: 5 }, 6).expect("advice");
    assert!(behind.meaning.contains("rev 5 of 6"), "{}", behind.meaning);
    assert!(behind.checks.iter().any(|c| c.contains(PROVIDER_CONF)));
    let failed = node_advice(
        "10.0.0.3",
        &NodeVerdict::Failed {
            state: "RestartFailed".into(),
            message: "readyz timed out".into(),
        },
        6,
    )
    .expect("advice");
    assert!(failed.meaning.contains("did not come back healthy"));
    assert_eq!(failed.reported.as_deref(), Some("readyz timed out"));
    assert!(failed.checks.iter().any(|c| c.contains("crictl")));
    assert!(failed.checks.iter().any(|c| c.contains(PROVIDER_HISTORY)));
    let update = node_advice(
        "n",
        &NodeVerdict::Failed {
            state: "UpdateFailed".into(),
            message: String::new(),
        },
        1,
    )
    .expect("advice");
    assert!(update.checks[0].contains("free space"));
    assert_eq!(node_advice("n", &NodeVerdict::Done, 1), None);
    assert_eq!(node_advice("n", &NodeVerdict::InProgress, 1), None);
}

#[test]
fn since_is_exact_only_for_changes_seen_live() {
    let t0 = parse_time("2030-01-01T00:00:00Z").expect("t0");
    let t1 = t0 + chrono::Duration::seconds(30);
    let mut st = doc().status.expect("status");
    let mut since = NodeSince::default();
    since.observe(&st, t0);
    let e = since.get("192.168.100.1").expect("n1");
    assert_eq!((e.at, e.exact), (t0, false));
    st.deploy_status.get_mut("192.168.100.1").expect("n1").state = "Processing".into();
    since.observe(&st, t1);
    let e = since.get("192.168.100.1").expect("n1");
    assert_eq!((e.at, e.exact), (t1, true));
    // Unchanged nodes keep their first time.
    assert_eq!(since.get("192.168.100.2").map(|e| e.at), Some(t0));
    st.deploy_status.remove("192.168.100.3");
    since.observe(&st, t1);
    assert!(since.get("192.168.100.3").is_none());
    since.clear();
    assert!(since.get("192.168.100.1").is_none());
}

#[test]
fn go_durations_parse_and_format() {
    assert_eq!(
        parse_go_duration("168h0m0s"),
        Ok(Duration::from_secs(168 * 3600))
    );
    assert_eq!(parse_go_duration("1.5h"), Ok(Duration::from_secs(5400)));
    assert_eq!(parse_go_duration("500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_go_duration("0"), Ok(Duration::ZERO));
    for bad in ["", "10", "h", "5x", "-1h", "1h-"] {
        let err = parse_go_duration(bad).expect_err(bad);
        assert!(err.contains("168h0m0s"), "{err}");
    }
    assert_eq!(
        format_go_duration(Duration::from_secs(168 * 3600)),
        "168h0m0s"
    );
    assert_eq!(format_go_duration(Duration::from_secs(300)), "5m0s");
    assert_eq!(format_go_duration(Duration::from_secs(42)), "42s");
}

#[test]
fn status_round_trips_without_empty_fields() {
    let e = doc();
    let v = serde_json::to_value(&e).expect("ser");
    let back: EtcdEncryptionConfig = serde_json::from_value(v.clone()).expect("de");
    assert_eq!(back, e);
    assert!(
        v["status"]["deployStatus"]["192.168.100.1"]
            .get("message")
            .is_none()
    );
    assert_eq!(v["spec"]["rotationInterval"], "168h0m0s");
}
