//! Seeding a served cluster with its plan's objects.

use serde_json::{Value, json};

use crate::sandbox::apiserver::Store;
use crate::sandbox::scenario::ClusterPlan;

/// Writes every object of the plan's cluster; objects that exist are left as they are, so a
/// cluster served again keeps what users changed.
pub fn populate(store: &Store, plan: &ClusterPlan, now: chrono::DateTime<chrono::Utc>) {
    for (resource, obj) in plan.workload_objects(now) {
        let ns = obj["metadata"]["namespace"].as_str().map(str::to_string);
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let status = obj.get("status").cloned();
        match store.create(resource, ns.as_deref(), obj) {
            Ok(mut created) => {
                // Status is ignored on create for kinds with a status subresource.
                if let Some(st) = status
                    && created.get("status") != Some(&st)
                {
                    created["status"] = st;
                    if let Err(e) = store.update_status(resource, ns.as_deref(), &name, created) {
                        tracing::debug!("sandbox seeding {resource} {name}: {}", e.message);
                    }
                }
            }
            Err(e) if e.is_already_exists() => {}
            Err(e) => tracing::warn!("sandbox seeding {resource} {name} failed: {}", e.message),
        }
    }
}

/// `<cluster>-<ip with dots as dashes>`, as Alauda's own tooling names machines.
pub fn machine_name(cluster: &str, ip: &str) -> String {
    format!("{cluster}-{}", ip.replace(['.', ':'], "-"))
}

pub(super) fn machine_status(cluster: &Value, ip: &str, running: bool) -> Value {
    let version = cluster["spec"]["version"].as_str().unwrap_or_default();
    let runtime = cluster["metadata"]["annotations"]["cpaas.io/container-runtime"]
        .as_str()
        .unwrap_or("containerd://1.7.27");
    let mut st = json!({
        "phase": if running { "Running" } else { "Initializing" },
        "addresses": [{"type": "InternalIP", "address": ip}],
    });
    if running {
        st["machineInfo"] = json!({
            "kernelVersion": "5.14.0-427.13.1.el9_4.x86_64",
            "osImage": "Rocky Linux 9.4 (Blue Onyx)",
            "containerRuntimeVersion": runtime,
            "kubeletVersion": format!("v{version}"),
            "kubeProxyVersion": format!("v{version}"),
            "operatingSystem": "linux",
            "architecture": "amd64",
        });
    }
    st
}
