//! The platform-side objects of a cluster plan: the `Cluster` with its status and
//! conditions, the `Machine`s of nodes being added, and the `EtcdEncryptionConfig`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{
    BROKEN_STEP, ClusterPlan, EtcdPlan, FAILING_NODE, LAGGING_NODE, PlanState, SEEDED_LABEL,
    STALE_KEY_FILE_NODE, SimRng, TERMINATE_SECONDS, condition, rfc3339,
};
use crate::domain::cluster::annotations as acp;
use crate::domain::etcd;
use crate::sandbox::controllers;

impl ClusterPlan {
    /// The plan of a cluster someone created through the API (not seeded): its nodes,
    /// version and networks come from the object; etcd starts at revision 1.
    pub fn from_cluster(obj: &Value) -> ClusterPlan {
        let spec = &obj["spec"];
        let ann = &obj["metadata"]["annotations"];
        let text = |v: &Value, default: &str| v.as_str().unwrap_or(default).to_string();
        let mut masters = Vec::new();
        let mut workers = Vec::new();
        for m in spec["machines"].as_array().into_iter().flatten() {
            let ip = text(&m["ip"], "");
            if m["role"].as_str() == Some("node") {
                workers.push(ip);
            } else {
                masters.push(ip);
            }
        }
        ClusterPlan {
            name: text(&obj["metadata"]["name"], ""),
            display_name: text(&spec["displayName"], ""),
            version: text(&spec["version"], ""),
            network_type: text(&ann[acp::NETWORK_TYPE], "kube-ovn"),
            transmit_type: ann[acp::TRANSMIT_TYPE].as_str().map(str::to_string),
            runtime: text(&ann[acp::CONTAINER_RUNTIME], "containerd://1.7.27-4"),
            masters,
            workers,
            vip: spec["features"]["ha"]["tke"]["vip"]
                .as_str()
                .map(str::to_string),
            cluster_cidr: text(&spec["clusterCIDR"], "10.3.0.0/16"),
            service_cidr: text(&spec["serviceCIDR"], "10.4.0.0/16")
                .split(',')
                .next()
                .unwrap_or("10.4.0.0/16")
                .to_string(),
            state: PlanState::Running,
            etcd: EtcdPlan::Healthy { revision: 1 },
            age_secs: 0,
            adding: Vec::new(),
        }
    }

    /// The IP of every node, control plane first.
    pub fn nodes(&self) -> impl Iterator<Item = (&str, bool)> {
        self.masters
            .iter()
            .map(|m| (m.as_str(), true))
            .chain(self.workers.iter().map(|w| (w.as_str(), false)))
    }

    /// The `Cluster` as the scenario seeds it (`status` included; the store keeps it as given).
    pub fn cluster_object(&self, seed: u64, now: DateTime<Utc>) -> Value {
        let mut annotations = json!({
            acp::CONTAINER_RUNTIME: self.runtime,
            acp::NETWORK_TYPE: self.network_type,
        });
        if let Some(t) = &self.transmit_type {
            annotations[acp::TRANSMIT_TYPE] = json!(t);
            annotations[acp::JOIN_CIDR] = json!("100.64.0.0/16");
        }
        if let PlanState::Stuck { step, .. } = &self.state {
            annotations[BROKEN_STEP] = json!(step);
        }
        if let PlanState::Terminating { seconds } = &self.state {
            annotations[TERMINATE_SECONDS] = json!(seconds.to_string());
        }
        let machines: Vec<Value> = self
            .nodes()
            .map(|(ip, master)| {
                json!({
                    "ip": ip,
                    "port": 22,
                    "username": "root",
                    // Sandbox-only placeholder ("sandbox"): what the simulated SSH nodes accept.
                    "password": "c2FuZGJveA==",
                    "role": if master { "master" } else { "node" },
                })
            })
            .collect();
        let mut features = json!({"ipvs": true, "enableMasterSchedule": self.workers.is_empty()});
        if let Some(vip) = &self.vip {
            features["ha"] = json!({"tke": {"vip": vip, "vrid": 137}});
        }
        let mut obj = json!({
            "apiVersion": "platform.tkestack.io/v1",
            "kind": "Cluster",
            "metadata": {
                "name": self.name,
                "labels": {SEEDED_LABEL: "true"},
                "annotations": annotations,
            },
            "spec": {
                "tenantID": "default",
                "displayName": self.display_name,
                "type": "Baremetal",
                "version": self.version,
                "networkDevice": "eth0",
                "clusterCIDR": self.cluster_cidr,
                "serviceCIDR": self.service_cidr,
                "dnsDomain": "cluster.local",
                "features": features,
                "properties": {"maxNodePodNum": 128},
                "machines": machines,
                "hostnameAsNodename": false,
            },
        });
        let steps = controllers::step_plan(&obj);
        let started = now - chrono::Duration::seconds(self.age_secs);
        let mut timing = SimRng::derive(seed, &format!("history/{}", self.name));
        let mut at;
        let mut conditions = Vec::new();
        let finished =
            |n: usize, at: &mut DateTime<Utc>, timing: &mut SimRng, out: &mut Vec<Value>| {
                for s in steps.iter().take(n) {
                    *at += chrono::Duration::milliseconds(
                        (s.base.as_millis() as f64 * (0.75 + timing.unit() * 0.5)) as i64,
                    );
                    out.push(condition(&s.type_, "True", *at, "", ""));
                }
            };
        let status = match &self.state {
            PlanState::Running | PlanState::Terminating { .. } => {
                // Shift creation back so that it ended `age_secs` ago.
                let total: i64 = steps.iter().map(|s| s.base.as_secs() as i64).sum();
                at = started - chrono::Duration::seconds(total);
                finished(steps.len(), &mut at, &mut timing, &mut conditions);
                controllers::running_status(&obj, conditions, &self.masters)
            }
            PlanState::Creating { done_steps } => {
                let done = (*done_steps).min(steps.len().saturating_sub(1));
                at = now
                    - chrono::Duration::seconds(
                        steps
                            .iter()
                            .take(done)
                            .map(|s| s.base.as_secs() as i64)
                            .sum(),
                    );
                finished(done, &mut at, &mut timing, &mut conditions);
                conditions.push(condition(
                    &steps[done].type_,
                    "Unknown",
                    now,
                    controllers::REASON_WAITING,
                    controllers::MESSAGE_WAITING,
                ));
                json!({"phase": "Initializing", "conditions": conditions})
            }
            PlanState::Stuck { step, message } => {
                let idx = steps.iter().position(|s| &s.type_ == step).unwrap_or(0);
                at = started;
                finished(idx, &mut at, &mut timing, &mut conditions);
                conditions.push(condition(
                    step,
                    "False",
                    at,
                    controllers::REASON_FAILED_INIT,
                    message,
                ));
                json!({
                    "phase": "Initializing",
                    "conditions": conditions,
                    "reason": controllers::REASON_FAILED_INIT,
                    "message": message,
                })
            }
        };
        obj["status"] = status;
        obj
    }

    /// The Machines of the nodes being added, with their seeded status, as
    /// `(object without status, status)`.
    pub fn adding_machines(&self, seed: u64, now: DateTime<Utc>) -> Vec<(Value, Value)> {
        let steps = controllers::machine_step_plan();
        self.adding
            .iter()
            .map(|a| {
                let name = controllers::machine_name(&self.name, &a.ip);
                let obj = json!({
                    "apiVersion": "platform.tkestack.io/v1",
                    "kind": "Machine",
                    "metadata": {
                        "name": name,
                        "labels": {controllers::CLUSTER_NAME_LABEL: self.name, SEEDED_LABEL: "true"},
                        "finalizers": [controllers::MACHINE_FINALIZER],
                    },
                    "spec": {
                        "clusterName": self.name,
                        "type": "Baremetal",
                        "ip": a.ip,
                        "port": 22,
                        "username": "root",
                        "role": "node",
                    },
                });
                let mut obj = obj;
                if let PlanState::Stuck { step, .. } = &a.state {
                    obj["metadata"]["annotations"] = json!({BROKEN_STEP: step});
                }
                let mut timing = SimRng::derive(seed, &format!("history/{name}"));
                let (done, open) = match &a.state {
                    PlanState::Creating { done_steps } => {
                        let d = (*done_steps).min(steps.len() - 1);
                        (d, condition(&steps[d].type_, "Unknown", now, controllers::REASON_WAITING, controllers::MESSAGE_WAITING))
                    }
                    PlanState::Stuck { step, message } => {
                        let d = steps.iter().position(|s| &s.type_ == step).unwrap_or(0);
                        (d, condition(step, "False", now, controllers::REASON_FAILED_INIT, message))
                    }
                    _ => (0, condition(&steps[0].type_, "Unknown", now, controllers::REASON_WAITING, controllers::MESSAGE_WAITING)),
                };
                let total: i64 = steps.iter().take(done).map(|s| s.base.as_secs() as i64).sum();
                let mut at = now - chrono::Duration::seconds(total);
                let mut conditions: Vec<Value> = steps
                    .iter()
                    .take(done)
                    .map(|s| {
                        at += chrono::Duration::milliseconds(
                            (s.base.as_millis() as f64 * (0.75 + timing.unit() * 0.5)) as i64,
                        );
                        condition(&s.type_, "True", at, "", "")
                    })
                    .collect();
                let failed = open["status"] == "False";
                let message = open["message"].clone();
                conditions.push(open);
                let mut status = json!({
                    "phase": "Initializing",
                    "conditions": conditions,
                    "addresses": [{"type": "InternalIP", "address": a.ip}],
                });
                if failed {
                    status["reason"] = json!(controllers::REASON_FAILED_INIT);
                    status["message"] = message;
                }
                (obj, status)
            })
            .collect()
    }

    /// The `EtcdEncryptionConfig` `default` as seeded in this cluster, if the plugin is
    /// installed.
    pub fn etcd_object(&self, now: DateTime<Utc>) -> Option<Value> {
        let (revision, interval, lagging, failing) = match &self.etcd {
            EtcdPlan::NotInstalled => return None,
            EtcdPlan::Healthy { revision } => (*revision, None, None, None),
            EtcdPlan::Rotating { revision, interval } => (*revision, Some(*interval), None, None),
            EtcdPlan::Lagging { revision, node } => (*revision, None, Some(node), None),
            EtcdPlan::Failing { revision, node } => (*revision, None, None, Some(node)),
        };
        let interval = interval
            .map(etcd::format_go_duration)
            .unwrap_or_else(|| etcd::DEFAULT_ROTATION_INTERVAL.to_string());
        let mut annotations = serde_json::Map::new();
        let mut deploy = serde_json::Map::new();
        for ip in &self.masters {
            let entry = if Some(ip) == lagging {
                annotations.insert(LAGGING_NODE.into(), json!(ip));
                json!({"revision": revision - 1, "state": etcd::deploy_state::SUCCESS})
            } else if Some(ip) == failing {
                annotations.insert(FAILING_NODE.into(), json!(ip));
                json!({
                    "revision": revision,
                    "state": etcd::deploy_state::RESTART_FAILED,
                    "message": crate::sandbox::etcd_sim::restart_failure(ip),
                })
            } else {
                json!({"revision": revision, "state": etcd::deploy_state::SUCCESS})
            };
            deploy.insert(ip.clone(), entry);
        }
        // The rotating cluster has one node whose key file stays a rotation behind.
        if matches!(self.etcd, EtcdPlan::Rotating { .. })
            && let Some(last) = self.masters.last()
        {
            annotations.insert(STALE_KEY_FILE_NODE.into(), json!(last));
        }
        let resources: Vec<&str> = etcd::DEFAULT_RESOURCES.to_vec();
        let migration = if lagging.is_some() || failing.is_some() {
            json!({
                "revision": revision,
                "state": etcd::migration_state::PROCESSING,
                "resources": resources,
                "message": "waiting for every control-plane node to load the new key",
            })
        } else {
            json!({
                "revision": revision,
                "state": etcd::migration_state::SUCCESS,
                "resources": resources,
                "message": "",
                "completeTimestamp": rfc3339(now - chrono::Duration::hours(6)),
            })
        };
        Some(json!({
            "apiVersion": "cluster.alauda.io/v1alpha1",
            "kind": "EtcdEncryptionConfig",
            "metadata": {
                "name": etcd::DEFAULT_NAME,
                "labels": {SEEDED_LABEL: "true"},
                "annotations": annotations,
            },
            "spec": {"resources": resources, "rotationInterval": interval, "type": etcd::TYPE_AESGCM},
            "status": {"revision": revision, "deployStatus": deploy, "migration": migration},
        }))
    }
}
