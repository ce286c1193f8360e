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

mod cluster_objects;
pub mod draft_nodes;
mod registry_objects;
#[cfg(test)]
mod tests;
mod workload_objects;

pub use registry_objects::{
    BROKEN_APP, BROKEN_IMAGE_REPO, BROKEN_POD, EGRESS_POLICY, EXTERNAL_CERT_DAYS, EXTERNAL_HOST,
    registry_objects,
};
pub use workload_objects::{global_only_objects, rbac_objects};

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
/// Annotation on `EtcdEncryptionConfig` `default`: the control-plane node whose
/// `encryption-provider.conf` keeps the previous key list although its status reports
/// `Success` (the drift only the node files show).
pub const STALE_KEY_FILE_NODE: &str = "sandbox.acp-cockpit.io/stale-key-file-node";
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

/// One seeded cluster: what [`Scenario::generate`] varies between clusters.
struct Seeded {
    name: &'static str,
    display: &'static str,
    /// Index into [`VERSIONS`]; `shifted` rows move by the seed's version shift.
    version: usize,
    shifted: bool,
    network: &'static str,
    masters: u64,
    /// Range of the worker count.
    workers: (u64, u64),
    ha: bool,
    start: Start,
    etcd: fn(&[String]) -> EtcdPlan,
}

/// Where a seeded cluster starts; [`PlanState`] without the parts drawn from the seed.
#[derive(Clone, Copy)]
enum Start {
    Running,
    Creating,
    Stuck(&'static str),
    Terminating(u64),
}

/// The seeded clusters, in creation order.
const SEEDED: [Seeded; 7] = [
    Seeded {
        name: GLOBAL,
        display: "global",
        version: 0,
        shifted: false,
        network: "kube-ovn",
        masters: 3,
        workers: (0, 2),
        ha: true,
        start: Start::Running,
        // The etcd Encryption Manager does not support the global cluster (ACP docs), so a
        // faithful platform has no EtcdEncryptionConfig there.
        etcd: |_| EtcdPlan::NotInstalled,
    },
    Seeded {
        name: "prod-east",
        display: "Production East",
        version: 1,
        shifted: true,
        network: "kube-ovn",
        masters: 3,
        workers: (4, 8),
        ha: true,
        start: Start::Running,
        etcd: |m| EtcdPlan::Failing {
            revision: 9,
            node: m[2].clone(),
        },
    },
    Seeded {
        name: "staging",
        display: "Staging",
        version: 2,
        shifted: true,
        network: "calico",
        masters: 1,
        workers: (2, 4),
        ha: false,
        start: Start::Running,
        etcd: |_| EtcdPlan::Rotating {
            revision: 4,
            interval: Duration::from_secs(10 * 60),
        },
    },
    Seeded {
        name: "edge-lab",
        display: "Edge lab",
        version: 4,
        shifted: false,
        network: "flannel",
        masters: 3,
        workers: (1, 3),
        ha: true,
        start: Start::Running,
        etcd: |m| EtcdPlan::Lagging {
            revision: 6,
            node: m[1].clone(),
        },
    },
    Seeded {
        name: "dev-new",
        display: "Dev (new)",
        version: 1,
        shifted: false,
        network: "kube-ovn",
        masters: 3,
        workers: (2, 3),
        ha: true,
        start: Start::Creating,
        etcd: |_| EtcdPlan::NotInstalled,
    },
    Seeded {
        name: "ops-stuck",
        display: "Ops (stuck)",
        version: 2,
        shifted: false,
        network: "calico",
        masters: 1,
        workers: (1, 2),
        ha: false,
        start: Start::Stuck("EnsureKubeadmInitPhaseETCD"),
        etcd: |_| EtcdPlan::Healthy { revision: 1 },
    },
    Seeded {
        name: "old-test",
        display: "Old test",
        version: 3,
        shifted: false,
        network: "flannel",
        masters: 1,
        workers: (1, 1),
        ha: false,
        start: Start::Terminating(300),
        etcd: |_| EtcdPlan::Healthy { revision: 30 },
    },
];

/// The state a seeded cluster starts in; stuck messages are filled in by [`add_nodes`].
fn start_state(start: Start, seed: u64) -> PlanState {
    match start {
        Start::Running => PlanState::Running,
        Start::Creating => PlanState::Creating {
            done_steps: SimRng::derive(seed, "creating").range(4, 9) as usize,
        },
        Start::Stuck(step) => PlanState::Stuck {
            step: step.into(),
            message: String::new(),
        },
        Start::Terminating(seconds) => PlanState::Terminating { seconds },
    }
}

/// The plan of one seeded cluster in subnet `192.168.<net>.0/24`.
fn plan_cluster(seed: u64, s: &Seeded, version: &str, state: PlanState, net: u8) -> ClusterPlan {
    let mut r = SimRng::derive(seed, s.name);
    let first = r.range(11, 60);
    let masters: Vec<String> = (0..s.masters)
        .map(|i| format!("192.168.{net}.{}", first + i))
        .collect();
    let nworkers = r.range(s.workers.0, s.workers.1);
    let wfirst = first + 40;
    let workers: Vec<String> = (0..nworkers)
        .map(|i| format!("192.168.{net}.{}", wfirst + i))
        .collect();
    let vip =
        s.ha.then(|| format!("192.168.{net}.{}", first.saturating_sub(1).max(2)));
    let transmit_type = (s.network == "kube-ovn").then(|| {
        if r.range(0, 3) == 0 {
            "underlay"
        } else {
            "overlay"
        }
        .to_string()
    });
    let pod_octet = r.range(1, 9) * 2 + 1;
    let stuck = matches!(state, PlanState::Stuck { .. });
    ClusterPlan {
        name: s.name.to_string(),
        display_name: s.display.to_string(),
        version: version.to_string(),
        network_type: s.network.to_string(),
        transmit_type,
        runtime: r.pick(&RUNTIMES).to_string(),
        etcd: (s.etcd)(&masters),
        masters,
        workers,
        vip,
        cluster_cidr: format!("10.{pod_octet}.0.0/16"),
        service_cidr: format!("10.{}.0.0/16", pod_octet + 1),
        state,
        // A stuck creation is an on-call matter of the last hour, not of last quarter;
        // finished clusters are days to months old.
        age_secs: if stuck {
            r.range(20 * 60, 50 * 60) as i64
        } else {
            r.range(3 * 86_400, 120 * 86_400) as i64
        },
        adding: Vec::new(),
    }
}

/// The address after a cluster's last node: where a node being added goes.
fn next_ip(p: &ClusterPlan) -> String {
    let last = p
        .workers
        .last()
        .or(p.masters.last())
        .cloned()
        .unwrap_or_default();
    let (net, host) = last.rsplit_once('.').unwrap_or(("192.168.0", "60"));
    format!("{net}.{}", host.parse::<u32>().unwrap_or(60) + 1)
}

/// Fills in the failure messages of stuck creations and the nodes being added to
/// `prod-east` (on its way) and `edge-lab` (stuck).
fn add_nodes(seed: u64, plans: &mut [ClusterPlan]) {
    let mut adding = SimRng::derive(seed, "adding");
    for p in plans {
        if let PlanState::Stuck { step, message } = &mut p.state {
            *message = controllers::failure_message(step, &p.masters, &p.version);
        }
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
}

impl Scenario {
    /// The scenario for `seed`.
    pub fn generate(seed: u64) -> Scenario {
        let mut subnets = SimRng::derive(seed, "subnets");
        let base = subnets.range(10, 120) as u8;
        let shift = SimRng::derive(seed, "versions").range(0, 1) as usize;
        let mut plans: Vec<ClusterPlan> = SEEDED
            .iter()
            .zip(1u8..)
            .map(|(s, n)| {
                let v = s.version + if s.shifted { shift } else { 0 };
                let state = start_state(s.start, seed);
                plan_cluster(seed, s, VERSIONS[v % VERSIONS.len()], state, base + n * 2)
            })
            .collect();
        add_nodes(seed, &mut plans);
        Scenario {
            seed,
            clusters: plans,
        }
    }

    pub fn cluster(&self, name: &str) -> Option<&ClusterPlan> {
        self.clusters.iter().find(|c| c.name == name)
    }
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
