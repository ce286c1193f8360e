//! The fleet model: summaries, rows, sorting and filtering.

use super::*;
use std::cmp::Ordering;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::domain::timeline::{Progress, Resource};

use crate::domain::cluster::{Cluster, ClusterSpec, ClusterStatus, Condition, Machine};

fn row(name: &str, display: &str, phase: &str, version: &str) -> ClusterRow {
    ClusterRow {
        name: name.into(),
        display_name: display.into(),
        phase: phase.into(),
        version: version.into(),
        type_: "Baremetal".into(),
        control_plane: 1,
        workers: 0,
        progress: Progress::counted(0, 1, false),
        current_step: Some("EnsurePreflight".into()),
        failed: false,
        failure: None,
        created: None,
        adding_nodes: 0,
        failing_node: None,
    }
}

#[test]
fn filter_substring_regex_and_qualifiers() {
    let a = row("prod-east", "Production East", "Running", "1.28.13");
    let b = row("dev-1", "Dev", "Initializing", "1.27.16-1");
    let m = |q: &str, r: &ClusterRow| Filter::parse(q).expect("parses").matches(r);
    assert!(m("", &a));
    assert!(m("EAST", &a));
    assert!(m("production", &a));
    assert!(!m("east", &b));
    assert!(m("phase:running", &a));
    assert!(m("phase:Run", &a));
    assert!(!m("phase:unning", &a));
    assert!(m("type:bare", &a));
    assert!(m("is:creating", &a) && !m("is:failed", &a));
    assert!(m("version:1.28", &a));
    assert!(!m("version:1.2.", &a));
    assert!(m("v:1.27", &b));
    assert!(m("re:^dev-\\d$", &b));
    assert!(m("/^PROD/", &a));
    assert!(!m("/^prod/", &b));
    assert!(m("prod phase:Running version:1.28", &a));
    assert!(!m("prod phase:Initializing", &a));
    assert!(m("type:baremetal step:preflight", &a));
    assert!(m("name:dev", &b) && !m("name:Dev-x", &b));
}

#[test]
fn filter_errors_say_what_to_do() {
    let e = Filter::parse("re:(").expect_err("bad regex");
    assert!(e.contains("invalid regex"));
    let e = Filter::parse("colour:red").expect_err("bad qualifier");
    assert!(e.contains("phase:"));
    assert!(Filter::parse("   ").expect("empty").is_empty());
}

#[test]
fn versions_compare_numerically() {
    assert_eq!(compare_versions("1.9", "1.28.13"), Ordering::Less);
    assert_eq!(compare_versions("1.28.13", "1.28.2"), Ordering::Greater);
    assert_eq!(compare_versions("1.27.16-1", "1.27.16"), Ordering::Greater);
    assert_eq!(compare_versions("", "1"), Ordering::Less);
}

#[test]
fn sort_by_every_column_is_total_and_stable() {
    let mut rows = vec![
        row("c", "Zed", "Running", "1.9.0"),
        row("a", "Yak", "Failed", "1.28.1"),
        row("b", "Xen", "Initializing", "1.28.1"),
    ];
    rows[0].created = Some(DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(30));
    rows[1].created = Some(DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::seconds(10));
    rows[2].progress.done = 1;
    rows[0].workers = 3;
    let order = |col: Column, rows: &mut Vec<ClusterRow>| {
        rows.sort_by(|a, b| compare_rows(a, b, col));
        rows.iter()
            .map(|r| r.name.clone())
            .collect::<Vec<_>>()
            .join("")
    };
    assert_eq!(order(Column::Name, &mut rows), "abc");
    assert_eq!(order(Column::Display, &mut rows), "bac");
    assert_eq!(order(Column::Phase, &mut rows), "abc");
    assert_eq!(order(Column::Version, &mut rows), "cab");
    assert_eq!(order(Column::Nodes, &mut rows), "abc");
    assert_eq!(order(Column::Progress, &mut rows), "acb");
    // Youngest first: c (30 s after a), then a, then b (unknown).
    assert_eq!(order(Column::Age, &mut rows), "cab");
    assert_eq!(order(Column::Type, &mut rows), "abc");
    assert_eq!(Column::Age.next(), Column::Name);
}

fn cluster(name: &str) -> Arc<ClusterSummary> {
    let mut c = Cluster::new(name, ClusterSpec::default());
    c.spec.version = "1.28.13".into();
    c.status = Some(ClusterStatus {
        phase: Some("Initializing".into()),
        conditions: vec![Condition {
            type_: "EnsureCopyFiles".into(),
            status: "False".into(),
            reason: Some("FailedInit".into()),
            ..Default::default()
        }],
        ..Default::default()
    });
    Arc::new(ClusterSummary::from_cluster(&c, &mut Interner::default()))
}

fn with_steps(name: &str, phase: &str, steps: &[(&str, &str)]) -> Arc<ClusterSummary> {
    let mut c = Cluster::new(name, ClusterSpec::default());
    c.status = Some(ClusterStatus {
        phase: Some(phase.into()),
        conditions: steps
            .iter()
            .map(|(t, st)| Condition {
                type_: (*t).into(),
                status: (*st).into(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    });
    Arc::new(ClusterSummary::from_cluster(&c, &mut Interner::default()))
}

#[test]
fn model_learns_the_plan_from_finished_clusters_and_forgets_them() {
    let plan = [("A", "True"), ("B", "True"), ("C", "True")];
    let mut m = ClusterModel::new();
    let d = |applied: Vec<Arc<ClusterSummary>>, deleted: Vec<&str>| Delta {
        platform: "p".into(),
        reset: false,
        applied,
        deleted: deleted.into_iter().map(String::from).collect(),
    };
    let creating = with_steps("new", "Initializing", &[("A", "True"), ("B", "Unknown")]);
    assert!(!m.apply_clusters_and_check_plan(&d(vec![creating], vec![])));
    assert_eq!(m.plan(Resource::Cluster).learned, None);

    assert!(m.apply_clusters_and_check_plan(&d(vec![with_steps("old", "Running", &plan)], vec![])));
    let row = |m: &ClusterModel| m.rows().into_iter().find(|r| r.name == "new");
    assert_eq!(row(&m).map(|r| r.progress.label()), Some("1/~3".into()));
    // The same cluster again (a health check rewrote it): same plan, nothing to redo.
    assert!(
        !m.apply_clusters_and_check_plan(&d(vec![with_steps("old", "Running", &plan)], vec![]))
    );
    assert!(m.apply_clusters_and_check_plan(&d(vec![], vec!["old"])));
    assert_eq!(m.plan(Resource::Cluster).learned, None);
    // Back to TKE's list, which these types do not follow: a lower bound.
    assert_eq!(row(&m).map(|r| r.progress.label()), Some("1/2+".into()));
}

#[test]
fn failing_health_check_flags_the_row_without_reopening_creation() {
    let c = with_steps(
        "p",
        "Failed",
        &[("A", "True"), ("B", "True"), ("HealthCheck", "False")],
    );
    assert_eq!(c.conditions.len(), 2);
    assert_eq!(c.checks.len(), 1);
    let r = ClusterRow::from_summary(&c);
    assert_eq!(r.progress.label(), "2/2");
    assert!(r.failed);
    assert_eq!(r.current_step.as_deref(), Some("HealthCheck"));
    let healthy = with_steps("q", "Running", &[("A", "True"), ("HealthCheck", "True")]);
    let r = ClusterRow::from_summary(&healthy);
    assert_eq!((r.progress.label().as_str(), r.failed), ("1/1", false));
    assert_eq!(r.current_step, None);
}

#[test]
fn a_failing_node_shows_in_its_running_clusters_row() {
    let mut m = ClusterModel::new();
    m.apply_clusters(&Delta {
        platform: "p".into(),
        reset: true,
        applied: vec![with_steps("run", "Running", &[("A", "True")])],
        deleted: Vec::new(),
    });
    let machine = |name: &str, phase: &str, status: &str, reason: Option<&str>| {
        let mut mc = Machine::new(name, Default::default());
        mc.spec.cluster_name = "run".into();
        mc.spec.machine.ip = format!("10.0.0.{}", name.len());
        mc.status = Some(crate::domain::cluster::MachineStatus {
            phase: Some(phase.into()),
            conditions: vec![Condition {
                type_: "EnsureNodeReady".into(),
                status: status.into(),
                reason: reason.map(Into::into),
                ..Default::default()
            }],
            ..Default::default()
        });
        Arc::new(MachineSummary::from_machine(&mc, &mut Interner::default()))
    };
    let touched = m.apply_machines_and_list_clusters(&Delta {
        platform: "p".into(),
        reset: false,
        applied: vec![
            machine("joined", "Running", "True", None),
            machine("bad", "Initializing", "False", Some("FailedInit")),
        ],
        deleted: Vec::new(),
    });
    assert_eq!(touched.into_iter().collect::<Vec<_>>(), ["run"]);
    let r = &m.rows()[0];
    assert_eq!(r.adding_nodes, 1);
    assert_eq!(
        r.failing_node,
        Some(NodeFailure {
            ip: "10.0.0.3".into(),
            step: "EnsureNodeReady".into()
        })
    );
    assert!(Filter::parse("step:nodeready").expect("filter").matches(r));
    assert!(Filter::parse("is:failed").expect("filter").matches(r));
    // Gone: the row is clean again.
    m.apply_machines(&Delta {
        platform: "p".into(),
        reset: false,
        applied: Vec::new(),
        deleted: vec!["bad".into()],
    });
    assert_eq!(m.machines_of("run").len(), 1);
    let r = &m.rows()[0];
    assert_eq!((r.adding_nodes, r.failing_node.is_none()), (0, true));
}

#[test]
fn interner_shares_and_stays_bounded() {
    let mut i = Interner::default();
    let a = i.intern("EnsureCopyFiles");
    let b = i.intern("EnsureCopyFiles");
    assert!(Arc::ptr_eq(&a, &b));
    for k in 0..(MAX_INTERNED + 10) {
        i.intern(&format!("t{k}"));
    }
    assert_eq!(i.set.len(), MAX_INTERNED);
    assert_eq!(&*i.intern("t999999"), "t999999");
}

#[test]
fn model_applies_deltas_and_resets() {
    let mut m = ClusterModel::new();
    let d = |reset, applied: Vec<Arc<ClusterSummary>>, deleted: Vec<&str>| Delta {
        platform: "p".into(),
        reset,
        applied,
        deleted: deleted.into_iter().map(String::from).collect(),
    };
    m.apply_clusters(&d(false, vec![cluster("a"), cluster("b")], vec![]));
    assert!(!m.synced);
    assert_eq!(m.len(), 2);
    m.apply_clusters(&d(false, vec![], vec!["a"]));
    assert_eq!(
        m.rows().iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
    m.apply_clusters(&d(true, vec![cluster("c")], vec![]));
    assert!(m.synced);
    assert_eq!(
        m.rows().iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["c"]
    );
    let r = &m.rows()[0];
    assert!(r.failed);
    assert_eq!(r.current_step.as_deref(), Some("EnsureCopyFiles"));
    assert_eq!(r.version, "1.28.13");
}

/// One definition of "failed": a Running cluster whose node being added fails is failed in its
/// row (and so in `clusters -o json` and `is:failed`), with the step, reason, message and node.
#[test]
fn a_failing_node_fails_the_row_with_its_reason_and_message() {
    let mut m = ClusterModel::new();
    m.apply_clusters(&Delta {
        platform: "p".into(),
        reset: true,
        applied: vec![with_steps("run", "Running", &[("A", "True")])],
        deleted: Vec::new(),
    });
    let mut mc = Machine::new("bad", Default::default());
    mc.spec.cluster_name = "run".into();
    mc.spec.machine.ip = "192.168.67.59".into();
    mc.status = Some(crate::domain::cluster::MachineStatus {
        phase: Some("Initializing".into()),
        conditions: vec![Condition {
            type_: "EnsureNodeReady".into(),
            status: "False".into(),
            reason: Some("FailedInit".into()),
            message: Some("kubelet is not ready".into()),
            ..Default::default()
        }],
        ..Default::default()
    });
    m.apply_machines(&Delta {
        platform: "p".into(),
        reset: false,
        applied: vec![Arc::new(MachineSummary::from_machine(
            &mc,
            &mut Interner::default(),
        ))],
        deleted: Vec::new(),
    });
    let r = &m.rows()[0];
    assert!(r.failed);
    assert!(!r.cluster_failed(), "the cluster's own steps are fine");
    let json = serde_json::to_value(r).expect("json");
    assert_eq!(json["failed"], true);
    assert_eq!(json["failure"]["step"], "EnsureNodeReady");
    assert_eq!(json["failure"]["reason"], "FailedInit");
    assert_eq!(json["failure"]["message"], "kubelet is not ready");
    assert_eq!(json["failure"]["node"], "192.168.67.59");
    let healthy = with_steps("q", "Running", &[("A", "True")]);
    let json = serde_json::to_value(ClusterRow::from_summary(&healthy)).expect("json");
    assert_eq!(json["failed"], false);
    assert!(json.get("failure").is_none());
}

#[test]
fn display_names_sort_without_regard_to_case() {
    let a = row("a", "beta", "Running", "1.30.1");
    let b = row("b", "Alpha", "Running", "1.30.1");
    let c = row("c", "alpha2", "Running", "1.30.1");
    let mut rows = [a, b, c];
    rows.sort_by(|x, y| compare_rows(x, y, Column::Display));
    let names: Vec<&str> = rows.iter().map(|r| r.display_name.as_str()).collect();
    assert_eq!(names, ["Alpha", "alpha2", "beta"]);
}
