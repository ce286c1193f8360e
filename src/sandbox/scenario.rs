//! The seeded sandbox scenario: which clusters exist, in which state, with which nodes, and the
//! objects every cluster serves (namespaces, nodes, registry Service, pull secrets, RBAC, the
//! etcd encryption config).
//!
//! Everything here is pure and derived from the seed, so the same seed always gives the same
//! platform (names, versions, addresses, node counts, step timings). Tokens are the exception:
//! they are credentials and come from the OS random source.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::controllers;
use crate::domain::cluster::annotations as acp;
use crate::domain::etcd;

/// Annotation (on a Cluster) naming a creation step that fails until the annotation is removed.
pub const BROKEN_STEP: &str = "sandbox.acp-cockpit.io/broken-step";
/// Annotation (on a Cluster) overriding the failure message of the broken step.
pub const BROKEN_MESSAGE: &str = "sandbox.acp-cockpit.io/broken-message";
/// Annotation (on a Cluster) holding how many seconds deletion takes, before the speed factor.
pub const TERMINATE_SECONDS: &str = "sandbox.acp-cockpit.io/terminate-seconds";
/// Annotation (on a Running Cluster) that makes its health check fail: the value is the
/// message, or empty for a connection-refused error. Removing it heals the cluster.
pub const UNHEALTHY: &str = "sandbox.acp-cockpit.io/unhealthy";
/// Annotation (on an EtcdEncryptionConfig) naming a node that stays behind on key rotations.
pub const LAGGING_NODE: &str = "sandbox.acp-cockpit.io/lagging-node";
/// Annotation (on an EtcdEncryptionConfig) naming a node whose kube-apiserver fails to reload.
pub const FAILING_NODE: &str = "sandbox.acp-cockpit.io/failing-node";
/// Label on every object the scenario seeds, so tests and users can tell them apart.
pub const SEEDED_LABEL: &str = "sandbox.acp-cockpit.io/seeded";

/// Name of the platform's own cluster.
pub const GLOBAL: &str = "global";
/// Namespaces every cluster has from the start.
pub const SYSTEM_NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "cpaas-system"];
/// Namespaces every cluster serves besides the system ones.
pub const APP_NAMESPACES: [&str; 3] = ["my-ns", "shared-ns", "legacy-ns"];
/// The namespace whose `default` ServiceAccount deliberately has no imagePullSecret.
pub const NAMESPACE_WITHOUT_PULL_SECRET: &str = "legacy-ns";
/// The built-in registry Service (namespace `cpaas-system`).
pub const REGISTRY_SERVICE: &str = "internal-docker-registry";
/// Name of the pull secret put on each `default` ServiceAccount.
pub const PULL_SECRET: &str = "internal-docker-registry-pull";
/// User name of the administrator (group `system:masters`).
pub const ADMIN_USER: &str = "admin";
/// User name of the restricted user: read-only on clusters, may not create them.
pub const VIEWER_USER: &str = "viewer";
/// ClusterRole granting the restricted user its read-only access.
pub const VIEWER_ROLE: &str = "acp-sandbox-viewer";

/// A small deterministic generator (SplitMix64): stable across platforms and crate versions,
/// which a seeded scenario needs and `rand`'s `StdRng` does not promise.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    pub fn new(seed: u64) -> Self {
        SimRng(seed)
    }

    /// A generator for one named purpose, independent of how many numbers others drew.
    pub fn derive(seed: u64, label: &str) -> Self {
        // FNV-1a over the label, mixed with the seed.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in label.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let mut r = SimRng(seed ^ h);
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi]`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }
}

/// Where a seeded cluster starts.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanState {
    Running,
    /// Being created; the first `done_steps` creation steps are already finished.
    Creating {
        done_steps: usize,
    },
    /// Creation fails at `step` until the broken-step annotation is removed.
    Stuck {
        step: String,
        message: String,
    },
    /// Deleted at start; stays `Terminating` for `seconds` (before the speed factor).
    Terminating {
        seconds: u64,
    },
}

/// How a cluster's etcd key rotation starts.
#[derive(Debug, Clone, PartialEq)]
pub enum EtcdPlan {
    /// Every node at `revision`, rotating at ACP's 168 h default.
    Healthy { revision: i64 },
    /// Rotates every `interval` (before the speed factor), so progress is visible live.
    Rotating { revision: i64, interval: Duration },
    /// One node never gets past the previous revision.
    Lagging { revision: i64, node: String },
    /// One node's kube-apiserver fails to reload the new keys.
    Failing { revision: i64, node: String },
    /// The etcd encryption plugin is not installed: there is no `EtcdEncryptionConfig`.
    NotInstalled,
}

/// One cluster of the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterPlan {
    pub name: String,
    pub display_name: String,
    pub version: String,
    /// `cpaas.io/network-type`.
    pub network_type: String,
    pub transmit_type: Option<String>,
    pub runtime: String,
    pub masters: Vec<String>,
    pub workers: Vec<String>,
    pub vip: Option<String>,
    pub cluster_cidr: String,
    pub service_cidr: String,
    pub state: PlanState,
    pub etcd: EtcdPlan,
    /// How long ago creation finished (Running) or started (others), in seconds.
    pub age_secs: i64,
    /// Nodes being added to the running cluster (Machines), with where they start.
    pub adding: Vec<AddingNode>,
}

/// A worker being added to a running cluster through a `Machine`.
#[derive(Debug, Clone, PartialEq)]
pub struct AddingNode {
    pub ip: String,
    /// `Creating` or `Stuck`.
    pub state: PlanState,
}

/// The whole seeded platform.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub seed: u64,
    pub clusters: Vec<ClusterPlan>,
}

const VERSIONS: [&str; 5] = ["1.32.7", "1.31.9", "1.30.14", "1.29.15", "1.28.13"];
const RUNTIMES: [&str; 3] = [
    "containerd://1.7.27-4",
    "containerd://1.6.28-4",
    "containerd://1.7.22-2",
];

impl Scenario {
    /// The scenario for `seed`.
    pub fn generate(seed: u64) -> Scenario {
        let mut subnets = SimRng::derive(seed, "subnets");
        let base = subnets.range(10, 120) as u8;
        let mut next_subnet = 0u8;
        let mut subnet = || {
            next_subnet += 1;
            base + next_subnet * 2
        };
        let mut plans = Vec::new();
        let mut add = |name: &str,
                       display: &str,
                       version: &str,
                       network: &str,
                       masters: u64,
                       workers: (u64, u64),
                       ha: bool,
                       state: PlanState,
                       etcd_plan: fn(&[String]) -> EtcdPlan| {
            let mut r = SimRng::derive(seed, name);
            let net = subnet();
            let first = r.range(11, 60);
            let masters: Vec<String> = (0..masters)
                .map(|i| format!("192.168.{net}.{}", first + i))
                .collect();
            let nworkers = r.range(workers.0, workers.1);
            let wfirst = first + 40;
            let workers: Vec<String> = (0..nworkers)
                .map(|i| format!("192.168.{net}.{}", wfirst + i))
                .collect();
            let vip = ha.then(|| format!("192.168.{net}.{}", first.saturating_sub(1).max(2)));
            let transmit_type = (network == "kube-ovn").then(|| {
                if r.range(0, 3) == 0 {
                    "underlay"
                } else {
                    "overlay"
                }
                .to_string()
            });
            let pod_octet = r.range(1, 9) * 2 + 1;
            let state_kind = match state {
                PlanState::Stuck { .. } => StateKind::Stuck,
                _ => StateKind::Other,
            };
            plans.push(ClusterPlan {
                name: name.to_string(),
                display_name: display.to_string(),
                version: version.to_string(),
                network_type: network.to_string(),
                transmit_type,
                runtime: r.pick(&RUNTIMES).to_string(),
                etcd: etcd_plan(&masters),
                masters,
                workers,
                vip,
                cluster_cidr: format!("10.{pod_octet}.0.0/16"),
                service_cidr: format!("10.{}.0.0/16", pod_octet + 1),
                state,
                // A stuck creation is an on-call matter of the last hour, not of last quarter;
                // finished clusters are days to months old.
                age_secs: match state_kind {
                    StateKind::Stuck => r.range(20 * 60, 50 * 60) as i64,
                    StateKind::Other => r.range(3 * 86_400, 120 * 86_400) as i64,
                },
                adding: Vec::new(),
            });
        };
        let mut pick = SimRng::derive(seed, "versions");
        let v = |i: usize| VERSIONS[i % VERSIONS.len()];
        let shift = pick.range(0, 1) as usize;
        add(
            GLOBAL,
            "global",
            v(0),
            "kube-ovn",
            3,
            (0, 2),
            true,
            PlanState::Running,
            // The etcd Encryption Manager does not support the global cluster (ACP docs), so a
            // faithful platform has no EtcdEncryptionConfig there.
            |_| EtcdPlan::NotInstalled,
        );
        add(
            "prod-east",
            "Production East",
            v(1 + shift),
            "kube-ovn",
            3,
            (4, 8),
            true,
            PlanState::Running,
            |m| EtcdPlan::Failing {
                revision: 9,
                node: m[2].clone(),
            },
        );
        add(
            "staging",
            "Staging",
            v(2 + shift),
            "calico",
            1,
            (2, 4),
            false,
            PlanState::Running,
            |_| EtcdPlan::Rotating {
                revision: 4,
                interval: Duration::from_secs(10 * 60),
            },
        );
        add(
            "edge-lab",
            "Edge lab",
            v(4),
            "flannel",
            3,
            (1, 3),
            true,
            PlanState::Running,
            |m| EtcdPlan::Lagging {
                revision: 6,
                node: m[1].clone(),
            },
        );
        let creating_done = SimRng::derive(seed, "creating").range(4, 9) as usize;
        add(
            "dev-new",
            "Dev (new)",
            v(1),
            "kube-ovn",
            3,
            (2, 3),
            true,
            PlanState::Creating {
                done_steps: creating_done,
            },
            |_| EtcdPlan::NotInstalled,
        );
        add(
            "ops-stuck",
            "Ops (stuck)",
            v(2),
            "calico",
            1,
            (1, 2),
            false,
            PlanState::Stuck {
                step: "EnsureKubeadmInitPhaseETCD".into(),
                message: String::new(),
            },
            |_| EtcdPlan::Healthy { revision: 1 },
        );
        add(
            "old-test",
            "Old test",
            v(3),
            "flannel",
            1,
            (1, 1),
            false,
            PlanState::Terminating { seconds: 300 },
            |_| EtcdPlan::Healthy { revision: 30 },
        );
        let mut adding = SimRng::derive(seed, "adding");
        for p in &mut plans {
            if let PlanState::Stuck { step, message } = &mut p.state {
                *message = controllers::failure_message(step, &p.masters, &p.version);
            }
            let next_ip = |p: &ClusterPlan| {
                let last = p
                    .workers
                    .last()
                    .or(p.masters.last())
                    .cloned()
                    .unwrap_or_default();
                let (net, host) = last.rsplit_once('.').unwrap_or(("192.168.0", "60"));
                format!("{net}.{}", host.parse::<u32>().unwrap_or(60) + 1)
            };
            if p.name == "prod-east" {
                p.adding.push(AddingNode {
                    ip: next_ip(p),
                    state: PlanState::Creating {
                        done_steps: adding.range(3, 8) as usize,
                    },
                });
            }
            if p.name == "edge-lab" {
                let ip = next_ip(p);
                let step = "EnsureNodeReady".to_string();
                let message =
                    controllers::failure_message(&step, std::slice::from_ref(&ip), &p.version);
                p.adding.push(AddingNode {
                    ip,
                    state: PlanState::Stuck { step, message },
                });
            }
        }
        Scenario {
            seed,
            clusters: plans,
        }
    }

    pub fn cluster(&self, name: &str) -> Option<&ClusterPlan> {
        self.clusters.iter().find(|c| c.name == name)
    }
}

/// How old a seeded cluster should look.
#[derive(Clone, Copy)]
enum StateKind {
    Stuck,
    Other,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn condition(type_: &str, status: &str, at: DateTime<Utc>, reason: &str, message: &str) -> Value {
    let mut c = json!({
        "type": type_,
        "status": status,
        "lastProbeTime": rfc3339(at),
        "lastTransitionTime": rfc3339(at),
    });
    if !reason.is_empty() {
        c["reason"] = json!(reason);
    }
    if !message.is_empty() {
        c["message"] = json!(message);
    }
    c
}

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
                    // Sandbox-only placeholder ("sandbox"): the simulated nodes accept anything.
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
                    "message": super::etcd_sim::restart_failure(ip),
                })
            } else {
                json!({"revision": revision, "state": etcd::deploy_state::SUCCESS})
            };
            deploy.insert(ip.clone(), entry);
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

    /// The ClusterIP of the registry Service inside this cluster's service CIDR.
    pub fn registry_cluster_ip(&self) -> String {
        let prefix = self
            .service_cidr
            .split('.')
            .take(2)
            .collect::<Vec<_>>()
            .join(".");
        format!("{prefix}.216.11")
    }

    /// Every object the cluster's own API serves, as `(store resource name, object)`, in an
    /// order that creates namespaces before what lives in them.
    pub fn workload_objects(&self, now: DateTime<Utc>) -> Vec<(&'static str, Value)> {
        use super::apiserver::kinds::names;
        let mut out = Vec::new();
        let seeded = json!({SEEDED_LABEL: "true"});
        for ns in SYSTEM_NAMESPACES.into_iter().chain(APP_NAMESPACES) {
            out.push((
                names::NAMESPACES,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": seeded}}),
            ));
        }
        for (ip, master) in self.nodes() {
            out.push((names::NODES, self.node_object(ip, master, now)));
        }
        out.push((
            names::SERVICES,
            json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": REGISTRY_SERVICE, "namespace": "cpaas-system", "labels": seeded},
                "spec": {
                    "type": "ClusterIP",
                    "clusterIP": self.registry_cluster_ip(),
                    "clusterIPs": [self.registry_cluster_ip()],
                    "selector": {"app": REGISTRY_SERVICE},
                    "ports": [{"name": "http", "port": 5000, "protocol": "TCP", "targetPort": 5000}],
                },
            }),
        ));
        let dockercfg = registry_dockerconfig(&self.name);
        for ns in SYSTEM_NAMESPACES.into_iter().chain(APP_NAMESPACES) {
            let with_secret = ns != NAMESPACE_WITHOUT_PULL_SECRET;
            if with_secret {
                out.push((
                    names::SECRETS,
                    json!({
                        "apiVersion": "v1",
                        "kind": "Secret",
                        "metadata": {"name": PULL_SECRET, "namespace": ns, "labels": seeded},
                        "type": "kubernetes.io/dockerconfigjson",
                        "data": {".dockerconfigjson": dockercfg},
                    }),
                ));
            }
            let mut sa = json!({
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": "default", "namespace": ns, "labels": seeded},
            });
            if with_secret {
                sa["imagePullSecrets"] = json!([{"name": PULL_SECRET}]);
            }
            out.push((names::SERVICE_ACCOUNTS, sa));
        }
        out.extend(rbac_objects());
        if let Some(eec) = self.etcd_object(now) {
            out.push((names::ETCD_ENCRYPTION_CONFIGS, eec));
        }
        if self.name == GLOBAL {
            out.extend(global_only_objects());
        }
        out
    }

    /// The Node of one of the cluster's machines.
    pub fn node_object(&self, ip: &str, master: bool, now: DateTime<Utc>) -> Value {
        let mut labels = json!({
            "kubernetes.io/hostname": ip,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": "amd64",
            SEEDED_LABEL: "true",
        });
        if master {
            labels["node-role.kubernetes.io/control-plane"] = json!("");
            labels["node-role.kubernetes.io/master"] = json!("");
        } else {
            labels["node-role.kubernetes.io/worker"] = json!("");
        }
        let mut node = json!({
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": ip, "labels": labels},
            "spec": {"podCIDR": ""},
            "status": {
                "addresses": [
                    {"type": "InternalIP", "address": ip},
                    {"type": "Hostname", "address": ip},
                ],
                "capacity": {"cpu": "8", "memory": "32778300Ki", "pods": "128", "ephemeral-storage": "209702892Ki"},
                "allocatable": {"cpu": "7800m", "memory": "31729724Ki", "pods": "128", "ephemeral-storage": "193262490635"},
                "conditions": [
                    {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available", "lastHeartbeatTime": rfc3339(now), "lastTransitionTime": rfc3339(now)},
                    {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure", "lastHeartbeatTime": rfc3339(now), "lastTransitionTime": rfc3339(now)},
                    {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available", "lastHeartbeatTime": rfc3339(now), "lastTransitionTime": rfc3339(now)},
                    {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status", "lastHeartbeatTime": rfc3339(now), "lastTransitionTime": rfc3339(now)},
                ],
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": format!("boot-{}", ip.replace('.', "-")),
                    "containerRuntimeVersion": self.runtime.split('-').next().unwrap_or(&self.runtime),
                    "kernelVersion": "5.14.0-427.13.1.el9_4.x86_64",
                    "kubeProxyVersion": format!("v{}", self.version),
                    "kubeletVersion": format!("v{}", self.version),
                    "machineID": format!("{:032x}", SimRng::derive(0, ip).next_u64()),
                    "operatingSystem": "linux",
                    "osImage": "Rocky Linux 9.4 (Blue Onyx)",
                    "systemUUID": format!("{:032x}", SimRng::derive(1, ip).next_u64()),
                },
            },
        });
        if master && !self.workers.is_empty() {
            node["spec"]["taints"] =
                json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]);
        }
        node
    }
}

/// A `.dockerconfigjson` for the sandbox registry; the sandbox registry takes any password, so
/// this holds a fixed, non-secret placeholder.
fn registry_dockerconfig(cluster: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let auth = b64.encode(format!("sandbox-{cluster}:sandbox"));
    let cfg = json!({"auths": {"internal-docker-registry.cpaas-system.svc": {"auth": auth}}});
    b64.encode(cfg.to_string())
}

/// Objects only the platform's own cluster has: the list of Kubernetes versions new clusters
/// may use (`kube-public/cluster-info`, key `k8sValidVersions`) and the root secret of
/// etcd's deterministic key derivation, which a global cluster uses for disaster recovery.
pub fn global_only_objects() -> Vec<(&'static str, Value)> {
    use super::apiserver::kinds::names;
    use base64::Engine as _;
    let seeded = json!({SEEDED_LABEL: "true"});
    let versions = serde_json::to_string(&VERSIONS).unwrap_or_else(|_| "[]".to_string());
    let mut root = SimRng::derive(0, "etcd-derivation-root");
    let root_key: Vec<u8> = (0..4).flat_map(|_| root.next_u64().to_le_bytes()).collect();
    vec![
        (
            names::CONFIG_MAPS,
            json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cluster-info", "namespace": "kube-public", "labels": seeded},
                "data": {"k8sValidVersions": versions},
            }),
        ),
        (
            names::SECRETS,
            json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "etcd-derivation-root", "namespace": "kube-system", "labels": seeded},
                "type": "Opaque",
                // A sandbox-only placeholder derived from a fixed seed, never a real key.
                "data": {"root-key": base64::engine::general_purpose::STANDARD.encode(root_key)},
            }),
        ),
    ]
}

/// The roles and bindings every cluster serves: `system:image-puller`, the restricted user's
/// read-only role, and the cross-namespace pull binding from the registry guide.
pub fn rbac_objects() -> Vec<(&'static str, Value)> {
    use super::apiserver::kinds::names;
    let seeded = json!({SEEDED_LABEL: "true"});
    vec![
        (
            names::CLUSTER_ROLES,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": "system:image-puller", "labels": seeded},
                "rules": [
                    {"apiGroups": ["registry.alauda.io"], "resources": ["images"], "verbs": ["get"]},
                    {"apiGroups": ["image.alauda.io"], "resources": ["imagestreams/layers"], "verbs": ["get"]},
                ],
            }),
        ),
        (
            names::CLUSTER_ROLES,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": {"name": VIEWER_ROLE, "labels": seeded},
                "rules": [
                    {"apiGroups": ["platform.tkestack.io"], "resources": ["clusters", "machines"], "verbs": ["get", "list", "watch"]},
                    {"apiGroups": ["cluster.alauda.io"], "resources": ["etcdencryptionconfigs"], "verbs": ["get", "list", "watch"]},
                    {"apiGroups": [""], "resources": ["nodes", "namespaces", "services", "serviceaccounts"], "verbs": ["get", "list", "watch"]},
                ],
            }),
        ),
        (
            names::CLUSTER_ROLE_BINDINGS,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRoleBinding",
                "metadata": {"name": VIEWER_ROLE, "labels": seeded},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": VIEWER_ROLE},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": VIEWER_USER}],
            }),
        ),
        (
            names::ROLE_BINDINGS,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "cross-ns-pull", "namespace": "shared-ns", "labels": seeded},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": "my-ns"}],
            }),
        ),
    ]
}

/// Strips what legitimately differs between two runs with the same seed (timestamps, uids,
/// resource versions, tokens), so that scenarios can be compared.
pub fn comparable(v: &Value) -> Value {
    // Wall-clock stamps: two platforms started a moment apart differ in them (a Terminating
    // cluster's deletionTimestamp included) without the scenario differing.
    const VOLATILE: [&str; 10] = [
        "deletionTimestamp",
        "lastProbeTime",
        "lastTransitionTime",
        "lastHeartbeatTime",
        "completeTimestamp",
        "creationTimestamp",
        "resourceVersion",
        "uid",
        "managedFields",
        "token",
    ];
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !VOLATILE.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), comparable(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(comparable).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let networks: std::collections::BTreeSet<_> =
            running.iter().map(|c| &c.network_type).collect();
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
}
