use super::*;
use crate::domain::etcd;

#[test]
fn same_seed_same_scenario_and_different_seeds_differ() {
    let now = Utc::now();
    let a = Scenario::generate(7);
    let b = Scenario::generate(7);
    assert_eq!(a, b);
    let objs = |s: &Scenario| -> Vec<Value> {
        s.clusters
            .iter()
            .map(|c| comparable(&c.cluster_object(s.seed, now)))
            .collect()
    };
    assert_eq!(objs(&a), objs(&b));
    let c = Scenario::generate(8);
    assert_ne!(objs(&a), objs(&c));
}

#[test]
fn the_scenario_has_every_required_state() {
    let s = Scenario::generate(42);
    let global = s.cluster(GLOBAL).expect("global");
    assert_eq!(global.state, PlanState::Running);
    let running = s
        .clusters
        .iter()
        .filter(|c| c.state == PlanState::Running && c.name != GLOBAL)
        .collect::<Vec<_>>();
    assert!(running.len() >= 3);
    let versions: std::collections::BTreeSet<_> = running.iter().map(|c| &c.version).collect();
    assert!(versions.len() >= 2, "{versions:?}");
    let networks: std::collections::BTreeSet<_> = running.iter().map(|c| &c.network_type).collect();
    assert!(networks.len() >= 2);
    assert!(
        s.clusters
            .iter()
            .any(|c| matches!(c.state, PlanState::Creating { .. }))
    );
    assert!(
        s.clusters
            .iter()
            .any(|c| matches!(c.state, PlanState::Terminating { .. }))
    );
    let stuck = s
        .clusters
        .iter()
        .find_map(|c| match &c.state {
            PlanState::Stuck { message, .. } => Some(message),
            _ => None,
        })
        .expect("stuck cluster");
    assert!(stuck.contains("context deadline exceeded"), "{stuck}");
    assert!(
        s.clusters
            .iter()
            .any(|c| matches!(c.etcd, EtcdPlan::Lagging { .. }))
    );
    assert!(
        s.clusters
            .iter()
            .any(|c| matches!(c.etcd, EtcdPlan::Failing { .. }))
    );
}

#[test]
fn seeded_objects_are_consistent() {
    let now = Utc::now();
    let s = Scenario::generate(1);
    for plan in &s.clusters {
        let obj = plan.cluster_object(s.seed, now);
        let conds = obj["status"]["conditions"].as_array().expect("conditions");
        assert!(!conds.is_empty(), "{}", plan.name);
        let first_open = conds.iter().position(|c| c["status"] != "True");
        match &plan.state {
            PlanState::Running | PlanState::Terminating { .. } => {
                assert_eq!(first_open, None);
                assert_eq!(obj["status"]["phase"], "Running");
                assert_eq!(obj["status"]["version"], json!(plan.version));
            }
            PlanState::Creating { .. } => {
                assert_eq!(first_open, Some(conds.len() - 1));
                assert_eq!(conds[conds.len() - 1]["reason"], "Waiting");
            }
            PlanState::Stuck { step, message } => {
                let last = &conds[conds.len() - 1];
                assert_eq!(&last["type"], step.as_str());
                assert_eq!(last["reason"], "FailedInit");
                assert_eq!(obj["status"]["message"], json!(message));
            }
        }
        let objs = plan.workload_objects(now);
        let nodes = objs.iter().filter(|(r, _)| *r == "nodes").count();
        let has_versions = objs.iter().any(|(r, o)| {
            *r == "configmaps"
                && o["data"]["k8sValidVersions"]
                    .as_str()
                    .is_some_and(|v| v.contains(VERSIONS[0]))
        });
        assert_eq!(has_versions, plan.name == GLOBAL, "{}", plan.name);
        assert_eq!(nodes, plan.masters.len() + plan.workers.len());
        let sas: Vec<_> = objs
            .iter()
            .filter(|(r, _)| *r == "serviceaccounts")
            .map(|(_, o)| o)
            .collect();
        let without: Vec<_> = sas
            .iter()
            .filter(|o| o.get("imagePullSecrets").is_none())
            .map(|o| o["metadata"]["namespace"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(without, vec![NAMESPACE_WITHOUT_PULL_SECRET]);
        let eec = objs
            .iter()
            .find(|(r, _)| r.starts_with("etcdencryptionconfigs"))
            .map(|(_, o)| o.clone());
        if plan.name == GLOBAL {
            assert_eq!(
                plan.etcd,
                EtcdPlan::NotInstalled,
                "etcd encryption on global"
            );
        }
        if plan.etcd == EtcdPlan::NotInstalled {
            assert!(eec.is_none(), "{}", plan.name);
            continue;
        }
        let eec: etcd::EtcdEncryptionConfig =
            serde_json::from_value(eec.expect("eec")).expect("eec parses");
        let verdict = eec.status.as_ref().map(|s| s.verdict());
        match plan.etcd {
            EtcdPlan::Lagging { .. } => {
                assert_eq!(verdict, Some(etcd::RotationVerdict::Rotating))
            }
            EtcdPlan::Failing { .. } => {
                assert_eq!(verdict, Some(etcd::RotationVerdict::Failed))
            }
            _ => assert_eq!(verdict, Some(etcd::RotationVerdict::Healthy)),
        }
    }
}
