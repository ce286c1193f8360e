use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::sandbox::scenario::{BROKEN_STEP, TERMINATE_SECONDS, UNHEALTHY};

fn cluster() -> Value {
    json!({
        "apiVersion": "platform.tkestack.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "c1", "finalizers": ["cluster"]},
        "spec": {
            "version": "1.30.1",
            "clusterCredentialRef": {"name": "cc-c1"},
            "machines": [
                {"ip": "10.0.0.1", "role": "master"},
                {"ip": "10.0.0.2", "role": "node"},
            ],
        },
        "status": {"phase": "Initializing"},
    })
}

#[test]
fn steps_advance_in_order_and_finish() {
    let mut c = cluster();
    c["status"]["conditions"] = json!([first_condition(&c, "t0")]);
    let clock = SimClock::new(1000.0);
    let mut seen = Vec::new();
    loop {
        match plan_next(&c, 1, clock) {
            Next::RunStep { index, type_, .. } => {
                seen.push(type_);
                c["status"] = run_step(&c, index, "t1").expect("step pending");
                let conds = c["status"]["conditions"].as_array().expect("conds");
                let cur = current_condition(conds);
                if let Some(cur) = cur {
                    assert_eq!(conds[cur]["reason"], REASON_WAITING);
                    assert_eq!(conds[cur]["message"], MESSAGE_WAITING);
                    assert_eq!(cur, conds.len() - 1);
                }
            }
            Next::Finish => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    let expected: Vec<String> = CREATE_STEPS.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_broken_step_fails_until_fixed() {
    let mut c = cluster();
    c["metadata"]["annotations"] = json!({BROKEN_STEP: "EnsureCopyFiles"});
    c["status"]["conditions"] = json!([first_condition(&c, "t0")]);
    let st = run_step(&c, 0, "t1").expect("pending");
    assert_eq!(st["conditions"][0]["status"], "False");
    assert_eq!(st["conditions"][0]["reason"], REASON_FAILED_INIT);
    let msg = st["message"].as_str().expect("message");
    assert!(msg.contains("10.0.0.1:22"), "{msg}");
    assert_eq!(st["reason"], REASON_FAILED_INIT);
    assert_eq!(st["conditions"].as_array().map(Vec::len), Some(1));
    c["status"] = st;
    assert!(matches!(
        plan_next(&c, 1, SimClock::new(1.0)),
        Next::RunStep { index: 0, after, .. } if after >= Duration::from_secs(10)
    ));
    c["metadata"]["annotations"] = json!({});
    let st = run_step(&c, 0, "t2").expect("pending");
    assert_eq!(st["conditions"][0]["status"], "True");
    assert!(st.get("message").is_none());
    assert_eq!(st["conditions"][1]["type"], CREATE_STEPS[1].0);
}

#[test]
fn skipped_steps_and_deletion() {
    let mut c = cluster();
    c["spec"]["features"] = json!({"skipConditions": ["EnsureCopyFiles"]});
    c["status"]["conditions"] = json!([first_condition(&c, "t0")]);
    let st = run_step(&c, 0, "t1").expect("pending");
    assert_eq!(st["conditions"][0]["reason"], REASON_SKIP);
    c["metadata"]["deletionTimestamp"] = json!("t2");
    assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::StartTerminating);
    c["status"]["phase"] = json!("Terminating");
    c["metadata"]["annotations"] = json!({TERMINATE_SECONDS: "100"});
    assert_eq!(
        plan_next(&c, 1, SimClock::new(10.0)),
        Next::Finalize {
            after: Duration::from_secs(10)
        }
    );
    c["metadata"]["finalizers"] = json!([]);
    assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::Idle);
}

#[test]
fn a_new_cluster_is_adopted_and_a_running_one_left_alone() {
    let mut c = cluster();
    c["metadata"]["finalizers"] = json!([]);
    assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::Adopt);
    let mut r = cluster();
    r["status"] = running_status(
        &r,
        vec![json!({"type": "EnsureCopyFiles", "status": "True"})],
        &["10.0.0.1".into()],
    );
    assert_eq!(plan_next(&r, 1, SimClock::new(1.0)), Next::Idle);
    assert_eq!(r["status"]["version"], "1.30.1");
    assert_eq!(r["status"]["addresses"][0]["host"], "10.0.0.1");
}

#[test]
fn the_unhealthy_annotation_fails_and_heals_a_running_cluster() {
    let mut c = cluster();
    c["status"] = running_status(
        &c,
        vec![json!({"type": "EnsureCopyFiles", "status": "True"})],
        &["10.0.0.1".into()],
    );
    c["metadata"]["annotations"] = json!({UNHEALTHY: ""});
    assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::HealthCheck);
    c["status"] = health_check(&c, "t1");
    assert_eq!(c["status"]["phase"], "Failed");
    let hc = &c["status"]["conditions"][1];
    assert_eq!(hc["reason"], REASON_FAILED_HEALTH_CHECK);
    assert!(
        hc["message"]
            .as_str()
            .unwrap_or("")
            .contains("10.0.0.1:6443")
    );
    assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::Idle);
    c["metadata"]["annotations"] = json!({});
    assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::HealthCheck);
    c["status"] = health_check(&c, "t2");
    assert_eq!(c["status"]["phase"], "Running");
    assert_eq!(c["status"]["conditions"][1]["status"], "True");
    assert!(c["status"].get("message").is_none());
    assert_eq!(plan_next(&c, 1, SimClock::new(1.0)), Next::Idle);
}

#[test]
fn an_added_machine_runs_the_node_steps_once_its_cluster_runs() {
    let mut c = cluster();
    let mut m = json!({
        "metadata": {"name": "c1-10-0-0-9"},
        "spec": {"clusterName": "c1", "ip": "10.0.0.9", "role": "node"},
    });
    let clock = SimClock::new(1000.0);
    assert_eq!(
        plan_machine(&m, Some(&c), 1, clock),
        Next::Idle,
        "cluster not running"
    );
    assert_eq!(plan_machine(&m, None, 1, clock), Next::Idle, "no cluster");
    c["status"]["phase"] = json!("Running");
    assert_eq!(plan_machine(&m, Some(&c), 1, clock), Next::Adopt);
    let own = json!({"metadata": {"name": "own"}, "spec": {"clusterName": "c1", "ip": "10.0.0.1"}});
    assert_eq!(
        plan_machine(&own, Some(&c), 1, clock),
        Next::Idle,
        "the cluster's own node"
    );
    m["metadata"]["finalizers"] = json!([MACHINE_FINALIZER]);
    m["status"] = json!({"phase": "Initializing", "conditions": [waiting_condition(MACHINE_STEPS[0].0, "t0")]});
    let mut seen = Vec::new();
    loop {
        match plan_machine(&m, Some(&c), 1, clock) {
            Next::RunStep { index, type_, .. } => {
                seen.push(type_);
                m["status"] = run_machine_step(&m, index, "t1").expect("pending");
            }
            Next::Finish => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    let expected: Vec<String> = MACHINE_STEPS.iter().map(|(t, _)| t.to_string()).collect();
    assert_eq!(seen, expected);
    m["metadata"]["annotations"] = json!({BROKEN_STEP: "EnsureNodeReady"});
    let last = MACHINE_STEPS.len() - 2;
    m["status"]["conditions"][last]["status"] = json!("Unknown");
    let st = run_machine_step(&m, last, "t2").expect("pending");
    assert_eq!(st["conditions"][last]["reason"], REASON_FAILED_INIT);
    assert!(
        st["message"]
            .as_str()
            .unwrap_or("")
            .contains("node 10.0.0.9 is not ready")
    );
    m["metadata"]["deletionTimestamp"] = json!("t3");
    assert_eq!(plan_machine(&m, Some(&c), 1, clock), Next::StartTerminating);
    m["status"]["phase"] = json!("Terminating");
    assert!(matches!(
        plan_machine(&m, Some(&c), 1, clock),
        Next::Finalize { .. }
    ));
}

#[test]
fn timings_are_deterministic_and_scaled() {
    let mut c = cluster();
    c["status"]["conditions"] = json!([first_condition(&c, "t0")]);
    let a = plan_next(&c, 5, SimClock::new(2.0));
    let b = plan_next(&c, 5, SimClock::new(2.0));
    assert_eq!(a, b);
    let Next::RunStep { after, .. } = a else {
        panic!("{a:?}")
    };
    assert!(after >= Duration::from_secs_f64(4.0 * 0.75 / 2.0));
    assert!(after <= Duration::from_secs_f64(4.0 * 1.25 / 2.0));
}
