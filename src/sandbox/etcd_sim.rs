//! A simulated etcd-encryption-manager for one sandbox cluster.
//!
//! It rotates the key of `EtcdEncryptionConfig` `default` every `spec.rotationInterval` (scaled
//! by the speed factor): the revision goes up, each control-plane node's `deployStatus` goes
//! `Processing` → `Updated` → `Success` one node at a time, then `migration` goes `Processing`
//! → `Success` with a `completeTimestamp`. A node named in the lagging-node annotation never
//! leaves the previous revision; one named in the failing-node annotation ends in
//! `RestartFailed`. Either keeps the migration from finishing, as on a real platform; removing
//! the annotation lets the rotation complete.

use std::time::Duration;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::apiserver::kinds::names;
use super::apiserver::store::{Store, now_rfc3339};
use super::controllers::SimClock;
use super::scenario::{FAILING_NODE, LAGGING_NODE, STALE_KEY_FILE_NODE};
use crate::domain::etcd::{self, deploy_state, migration_state};
use zeroize::Zeroizing;

/// Base time for a node to write the new config.
const WRITE_BASE: Duration = Duration::from_secs(4);
/// Base time for kube-apiserver on a node to reload.
const RELOAD_BASE: Duration = Duration::from_secs(6);
/// Base time for re-encrypting the resources.
const MIGRATE_BASE: Duration = Duration::from_secs(15);
/// Shortest interval honoured, so that a typo like `1s` cannot spin the simulation.
const MIN_INTERVAL: Duration = Duration::from_secs(30);

/// The message a node reports when its kube-apiserver did not come back with the new keys.
pub fn restart_failure(node: &str) -> String {
    format!(
        "kube-apiserver on {node} did not become healthy after reloading /etc/kubernetes/encryption-provider.conf: Get \"https://{node}:6443/readyz\": context deadline exceeded"
    )
}

/// One change the manager makes, after `after` (base, before scaling).
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub after: Duration,
    pub status: Value,
    /// Whether this change completes a rotation.
    pub completes: bool,
}

/// The manager's next change to `eec` given the control-plane nodes, or `None` when the
/// current rotation is finished (or cannot progress) and the next is not due yet.
pub fn next_change(eec: &Value, masters: &[String], now: &str) -> Option<Change> {
    let ann = &eec["metadata"]["annotations"];
    let lagging = ann[LAGGING_NODE].as_str();
    let failing = ann[FAILING_NODE].as_str();
    let mut status = eec["status"].clone();
    if !status.is_object() {
        status = json!({});
    }
    let revision = status["revision"].as_i64().unwrap_or(0);
    if status["deployStatus"].is_null() {
        status["deployStatus"] = json!({});
    }
    for ip in masters {
        let entry = &status["deployStatus"][ip.as_str()];
        if Some(ip.as_str()) == lagging {
            continue;
        }
        let node_rev = entry["revision"].as_i64().unwrap_or(0);
        let state = entry["state"].as_str().unwrap_or("");
        let failed = state == deploy_state::UPDATE_FAILED || state == deploy_state::RESTART_FAILED;
        if Some(ip.as_str()) == failing {
            if node_rev == revision && failed {
                continue;
            }
            if node_rev == revision && state == deploy_state::UPDATED {
                status["deployStatus"][ip.as_str()] = json!({
                    "revision": revision,
                    "state": deploy_state::RESTART_FAILED,
                    "message": restart_failure(ip),
                });
                return Some(Change {
                    after: RELOAD_BASE,
                    status,
                    completes: false,
                });
            }
        }
        let (next_state, after) = if node_rev < revision || failed || state.is_empty() {
            (deploy_state::PROCESSING, Duration::from_millis(500))
        } else if state == deploy_state::PROCESSING {
            (deploy_state::UPDATED, WRITE_BASE)
        } else if state == deploy_state::UPDATED {
            (deploy_state::SUCCESS, RELOAD_BASE)
        } else {
            continue;
        };
        status["deployStatus"][ip.as_str()] = json!({"revision": revision, "state": next_state});
        return Some(Change {
            after,
            status,
            completes: false,
        });
    }
    let resources = eec["spec"]["resources"].clone();
    let migration = &status["migration"];
    let migrated = migration["revision"].as_i64() == Some(revision)
        && migration["state"] == migration_state::SUCCESS;
    if migrated {
        return None;
    }
    let blocked = lagging.is_some_and(|n| masters.iter().any(|m| m == n))
        || failing.is_some_and(|n| masters.iter().any(|m| m == n));
    if migration["revision"].as_i64() != Some(revision)
        || migration["state"] != migration_state::PROCESSING
    {
        status["migration"] = json!({
            "revision": revision,
            "state": migration_state::PROCESSING,
            "resources": resources,
            "message": if blocked { "waiting for every control-plane node to load the new key" } else { "" },
        });
        return Some(Change {
            after: Duration::from_millis(500),
            status,
            completes: false,
        });
    }
    if blocked {
        return None;
    }
    status["migration"] = json!({
        "revision": revision,
        "state": migration_state::SUCCESS,
        "resources": resources,
        "message": "",
        "completeTimestamp": now,
    });
    Some(Change {
        after: MIGRATE_BASE,
        status,
        completes: true,
    })
}

/// The status at the start of a new rotation: one revision up, nodes not yet touched.
pub fn start_rotation(eec: &Value) -> Value {
    let mut status = eec["status"].clone();
    if !status.is_object() {
        status = json!({});
    }
    let revision = status["revision"].as_i64().unwrap_or(0) + 1;
    status["revision"] = json!(revision);
    status
}

/// The scaled rotation interval of `eec`; ACP's default when the spec cannot be read.
pub fn rotation_interval(eec: &Value, clock: SimClock) -> Duration {
    let text = eec["spec"]["rotationInterval"]
        .as_str()
        .unwrap_or(etcd::DEFAULT_ROTATION_INTERVAL);
    let base = etcd::parse_go_duration(text)
        .unwrap_or(Duration::from_secs(168 * 3600))
        .max(MIN_INTERVAL);
    clock.scale(base)
}

/// Runs the manager for one cluster's store until `stop` is cancelled.
pub async fn run(store: Store, masters: Vec<String>, clock: SimClock, stop: CancellationToken) {
    let mut last_done = tokio::time::Instant::now();
    loop {
        let mut changes = store.subscribe();
        let eec = match store.get(names::ETCD_ENCRYPTION_CONFIGS, None, etcd::DEFAULT_NAME) {
            Ok(e) => e,
            Err(_) => {
                // No config (deleted by a user): wait until one appears.
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = changes.recv() => continue,
                }
            }
        };
        let (after, rotate) = match next_change(&eec, &masters, &now_rfc3339()) {
            Some(change) => (clock.scale(change.after), false),
            None => {
                let due = last_done + rotation_interval(&eec, clock);
                (
                    due.saturating_duration_since(tokio::time::Instant::now()),
                    true,
                )
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(after) => {}
            // A user edit (annotation, interval) re-plans at once.
            _ = next_eec_event(&mut changes) => continue,
        }
        // Re-read so that a write in the meantime is not overwritten.
        let Ok(current) = store.get(names::ETCD_ENCRYPTION_CONFIGS, None, etcd::DEFAULT_NAME)
        else {
            continue;
        };
        let status = match (next_change(&current, &masters, &now_rfc3339()), rotate) {
            (Some(change), false) => {
                if change.completes {
                    last_done = tokio::time::Instant::now();
                }
                change.status
            }
            (None, true) => start_rotation(&current),
            _ => continue,
        };
        let mut obj = current;
        obj["status"] = status;
        if let Err(e) = store.update_status(
            names::ETCD_ENCRYPTION_CONFIGS,
            None,
            etcd::DEFAULT_NAME,
            obj,
        ) {
            tracing::debug!(
                cluster = store.cluster(),
                "etcd simulation write failed: {}",
                e.message
            );
        }
    }
}

/// Returns once someone else changed the config (spec or annotations, or created or deleted
/// it); status writes, which only the manager makes, do not count.
async fn next_eec_event(sub: &mut super::apiserver::store::Subscription) {
    loop {
        match sub.recv().await {
            Ok(ev) if ev.kind().resource == "etcdencryptionconfigs" => {
                let status_only = ev.prev.as_ref().is_some_and(|p| {
                    p["spec"] == ev.object["spec"]
                        && p["metadata"]["annotations"] == ev.object["metadata"]["annotations"]
                });
                if !status_only {
                    return;
                }
            }
            Ok(_) => {}
            Err(_) => return,
        }
    }
}

/// The files the manager keeps on one control-plane node, as the sandbox's simulated nodes
/// serve them under `/etc/kubernetes/`. Every text holds key material: zeroized on drop.
pub struct SimNodeFiles {
    /// `encryption-provider.conf`.
    pub conf: Zeroizing<String>,
    /// `encryption-provider-history.bak`: the keys of every revision so far, newest first.
    pub history: Zeroizing<String>,
    /// `encryption-provider-bak/<name>`: the previous file of each rotation (the last few).
    pub backups: Vec<(String, Zeroizing<String>)>,
}

/// The simulated key of `revision` on `cluster`: 32 bytes derived from both, so every node
/// of a cluster agrees and no two clusters share a key. Sandbox only: nothing secret.
pub fn sim_key(cluster: &str, revision: i64) -> Zeroizing<String> {
    use base64::Engine as _;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("acp-cockpit sandbox etcd key|{cluster}|{revision}"));
    Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(digest))
}

/// `encryption-provider.conf` as the manager writes it at `revision`: the newest
/// [`etcd::KEPT_KEYS`] keys, newest (active) first, then `identity`.
pub fn provider_conf(cluster: &str, revision: i64, resources: &[String]) -> Zeroizing<String> {
    let mut s = String::from(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources:\n",
    );
    for r in resources {
        s.push_str(&format!("      - {r}\n"));
    }
    s.push_str("    providers:\n      - aesgcm:\n          keys:\n");
    let oldest = (revision - etcd::KEPT_KEYS as i64 + 1).max(1);
    for rev in (oldest..=revision).rev() {
        s.push_str(&format!(
            "            - name: key{rev}\n              secret: {}\n",
            sim_key(cluster, rev).as_str()
        ));
    }
    s.push_str("      - identity: {}\n");
    Zeroizing::new(s)
}

/// What `node` of `cluster` holds given the manager's `EtcdEncryptionConfig` (`None`: the
/// manager is not installed, so there are no files). A node follows its own
/// `deployStatus` revision once it reported `Updated` or `Success` there; the node named in
/// the stale-key-file annotation stays one rotation behind whatever its status says.
pub fn node_files(cluster: &str, eec: Option<&Value>, node: &str) -> Option<SimNodeFiles> {
    let eec = eec?;
    let status = &eec["status"];
    let revision = status["revision"].as_i64().unwrap_or(0).max(1);
    let entry = &status["deployStatus"][node];
    let state = entry["state"].as_str().unwrap_or("");
    let written = matches!(state, deploy_state::UPDATED | deploy_state::SUCCESS)
        || state == deploy_state::RESTART_FAILED;
    let mut at = match entry["revision"].as_i64() {
        Some(r) if written => r,
        Some(r) => r - 1,
        None => revision,
    }
    .max(1);
    if eec["metadata"]["annotations"][STALE_KEY_FILE_NODE].as_str() == Some(node) {
        at = (at - 1).max(1);
    }
    let resources: Vec<String> = eec["spec"]["resources"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_else(|| {
            etcd::DEFAULT_RESOURCES
                .iter()
                .map(|r| r.to_string())
                .collect()
        });
    let mut history = String::from("# every key this cluster has used, newest first\n");
    for rev in (1..=at).rev() {
        history.push_str(&format!("key{rev} {}\n", sim_key(cluster, rev).as_str()));
    }
    let backups = ((at - 3).max(1)..at)
        .map(|rev| {
            (
                format!("encryption-provider.conf.rev{rev}"),
                provider_conf(cluster, rev, &resources),
            )
        })
        .collect();
    Some(SimNodeFiles {
        conf: provider_conf(cluster, at, &resources),
        history: Zeroizing::new(history),
        backups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eec(rev: i64) -> Value {
        json!({
            "metadata": {"name": "default"},
            "spec": {"resources": ["secrets", "configmaps"], "rotationInterval": "10m0s", "type": "aesgcm"},
            "status": {
                "revision": rev,
                "deployStatus": {
                    "10.0.0.1": {"revision": rev, "state": "Success"},
                    "10.0.0.2": {"revision": rev, "state": "Success"},
                },
                "migration": {"revision": rev, "state": "Success", "resources": ["secrets"], "message": ""},
            },
        })
    }

    fn masters() -> Vec<String> {
        vec!["10.0.0.1".into(), "10.0.0.2".into()]
    }

    fn drive(mut e: Value, max: usize) -> (Value, Vec<String>) {
        let mut trail = Vec::new();
        for _ in 0..max {
            let Some(c) = next_change(&e, &masters(), "2030-01-01T00:00:00Z") else {
                break;
            };
            e["status"] = c.status;
            trail.push(format!(
                "{}:{}:{}",
                e["status"]["deployStatus"]["10.0.0.1"]["state"]
                    .as_str()
                    .unwrap_or(""),
                e["status"]["deployStatus"]["10.0.0.2"]["state"]
                    .as_str()
                    .unwrap_or(""),
                e["status"]["migration"]["state"].as_str().unwrap_or("")
            ));
        }
        (e, trail)
    }

    #[test]
    fn a_rotation_goes_node_by_node_then_migrates() {
        let e = eec(3);
        assert_eq!(next_change(&e, &masters(), "t"), None);
        let mut e2 = e.clone();
        e2["status"] = start_rotation(&e);
        let (done, trail) = drive(e2, 20);
        assert_eq!(
            trail,
            vec![
                "Processing:Success:Success",
                "Updated:Success:Success",
                "Success:Success:Success",
                "Success:Processing:Success",
                "Success:Updated:Success",
                "Success:Success:Success",
                "Success:Success:Processing",
                "Success:Success:Success",
            ]
        );
        let parsed: etcd::EtcdEncryptionConfig =
            serde_json::from_value(json!({"apiVersion": "cluster.alauda.io/v1alpha1", "kind": "EtcdEncryptionConfig", "metadata": done["metadata"], "spec": done["spec"], "status": done["status"]}))
                .expect("parses");
        let st = parsed.status.expect("status");
        assert_eq!(st.revision, 4);
        assert_eq!(st.verdict(), etcd::RotationVerdict::Healthy);
        assert_eq!(
            st.migration.and_then(|m| m.complete_timestamp).as_deref(),
            Some("2030-01-01T00:00:00Z")
        );
    }

    #[test]
    fn lagging_and_failing_nodes_block_the_migration_until_fixed() {
        let mut e = eec(3);
        e["status"] = start_rotation(&e);
        e["metadata"]["annotations"] = json!({LAGGING_NODE: "10.0.0.2"});
        let (stuck, _) = drive(e, 20);
        assert_eq!(stuck["status"]["deployStatus"]["10.0.0.2"]["revision"], 3);
        assert_eq!(stuck["status"]["migration"]["state"], "Processing");
        assert_eq!(next_change(&stuck, &masters(), "t"), None);
        let mut fixed = stuck.clone();
        fixed["metadata"]["annotations"] = json!({});
        let (done, _) = drive(fixed, 20);
        assert_eq!(done["status"]["migration"]["state"], "Success");
        assert_eq!(done["status"]["deployStatus"]["10.0.0.2"]["revision"], 4);

        let mut f = eec(3);
        f["status"] = start_rotation(&f);
        f["metadata"]["annotations"] = json!({FAILING_NODE: "10.0.0.1"});
        let (failed, _) = drive(f, 20);
        assert_eq!(
            failed["status"]["deployStatus"]["10.0.0.1"]["state"],
            "RestartFailed"
        );
        let msg = failed["status"]["deployStatus"]["10.0.0.1"]["message"]
            .as_str()
            .unwrap_or("");
        assert!(msg.contains("10.0.0.1:6443"), "{msg}");
        assert_eq!(
            failed["status"]["deployStatus"]["10.0.0.2"]["state"],
            "Success"
        );
        assert_eq!(failed["status"]["migration"]["state"], "Processing");
    }

    #[test]
    fn the_interval_is_scaled_and_bounded() {
        let e = eec(1);
        assert_eq!(
            rotation_interval(&e, SimClock::new(10.0)),
            Duration::from_secs(60)
        );
        let mut tiny = e.clone();
        tiny["spec"]["rotationInterval"] = json!("1s");
        assert_eq!(rotation_interval(&tiny, SimClock::new(1.0)), MIN_INTERVAL);
    }

    #[test]
    fn simulated_node_files_follow_the_rotation_and_one_stays_stale() {
        use crate::domain::encryption_config::parse;
        use crate::domain::etcd::node_files::{NodeFiles, check_nodes};
        let eec = json!({
            "metadata": {"annotations": {STALE_KEY_FILE_NODE: "10.0.0.3"}},
            "spec": {"resources": ["secrets", "configmaps"], "rotationInterval": "10m", "type": "aesgcm"},
            "status": {"revision": 12, "deployStatus": {
                "10.0.0.1": {"revision": 12, "state": "Success"},
                "10.0.0.2": {"revision": 12, "state": "Processing"},
                "10.0.0.3": {"revision": 12, "state": "Success"}}}
        });
        let nodes: Vec<(String, NodeFiles)> = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
            .iter()
            .map(|n| {
                let f = node_files("staging", Some(&eec), n).expect("files");
                assert_eq!(f.backups.len(), 3);
                let facts = parse(&f.conf).map_err(|e| e.to_string());
                (
                    n.to_string(),
                    NodeFiles {
                        config: facts,
                        history_exists: true,
                        backup_dir_exists: true,
                    },
                )
            })
            .collect();
        let active = |i: usize| {
            nodes[i]
                .1
                .config
                .as_ref()
                .ok()
                .and_then(|c| c.active_key())
                .map(|k| k.name.clone())
        };
        assert_eq!(active(0).as_deref(), Some("key12"));
        // Still writing: the previous file.
        assert_eq!(active(1).as_deref(), Some("key11"));
        // Stale whatever its status says.
        assert_eq!(active(2).as_deref(), Some("key11"));
        let spec = crate::domain::etcd::EtcdEncryptionConfigSpec::acp_default();
        let found = check_nodes(&spec, 12, &nodes);
        assert!(found["10.0.0.1"].is_empty(), "{found:?}");
        assert!(
            found["10.0.0.3"]
                .iter()
                .any(|f| f.code == "active-key-stale")
        );
        let keys = nodes[0]
            .1
            .config
            .as_ref()
            .map(|c| c.active_provider().map(|p| p.keys.len()));
        assert_eq!(keys, Ok(Some(8)));
        assert!(node_files("dev", None, "10.0.0.1").is_none());
        assert_ne!(*sim_key("a", 1), *sim_key("b", 1));
    }
}
