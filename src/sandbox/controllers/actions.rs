//! What the controllers write for each decision: adoption, credentials and machines,
//! steps, termination, and serving a running cluster's API.

use serde_json::{Value, json};

use super::driver::WriteResult;
use super::driver::ignore_not_found;
use super::machine::is_cluster_node;
use super::populate::machine_status;
use super::steps::masters_and_workers;
use super::{
    CLUSTER_NAME_LABEL, Controllers, FINALIZER, MACHINE_FINALIZER, MACHINE_STEPS, first_condition,
    machine_name, populate, run_step, running_status, waiting_condition,
};
use crate::sandbox::apiserver::names;
use crate::sandbox::apiserver::store::now_rfc3339;
use crate::sandbox::scenario::ClusterPlan;

impl Controllers {
    pub(super) fn adopt(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let cc_name = self.ensure_credential(obj)?;
        let mut o = obj.clone();
        let finalizers = o["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == FINALIZER) {
            let mut f = finalizers;
            f.push(json!(FINALIZER));
            o["metadata"]["finalizers"] = json!(f);
        }
        o["spec"]["clusterCredentialRef"] = json!({"name": cc_name});
        let o = if o != *obj {
            self.global.replace(names::CLUSTERS, None, name, o)?
        } else {
            o
        };
        self.ensure_machines(&o)?;
        let conditions = o["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if conditions.is_empty() {
            let mut s = o.clone();
            let now = now_rfc3339();
            s["status"] = json!({
                "phase": "Initializing",
                "conditions": [first_condition(&o, &now)],
            });
            self.global.update_status(names::CLUSTERS, None, name, s)?;
        }
        Ok(())
    }

    /// Creates a seeded cluster's credential and machines and points the cluster at the
    /// credential, as the controller would have done when it created the cluster.
    pub fn seed_credential_and_machines(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let cc_name = self.ensure_credential(obj)?;
        let mut o = obj.clone();
        o["spec"]["clusterCredentialRef"] = json!({"name": cc_name});
        let o = self.global.replace(names::CLUSTERS, None, name, o)?;
        self.ensure_machines(&o)
    }

    pub(super) fn ensure_credential(&self, obj: &Value) -> WriteResult<String> {
        use base64::Engine as _;
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let existing = self.global.list_selected(
            names::CLUSTER_CREDENTIALS,
            None,
            &format!("{CLUSTER_NAME_LABEL}={name}"),
        )?;
        if let Some(cc) = existing.first() {
            return Ok(cc["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string());
        }
        let b64 = base64::engine::general_purpose::STANDARD;
        let token: String = (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect();
        let cc = json!({
            "apiVersion": "platform.tkestack.io/v1",
            "kind": "ClusterCredential",
            "metadata": {
                "generateName": "cc-",
                "labels": {CLUSTER_NAME_LABEL: name},
                "ownerReferences": [{
                    "apiVersion": "platform.tkestack.io/v1",
                    "kind": "Cluster",
                    "name": name,
                    "uid": obj["metadata"]["uid"],
                    "controller": true,
                }],
            },
            "clusterName": name,
            "tenantID": obj["spec"]["tenantID"].as_str().unwrap_or("default"),
            "token": token,
            "caCert": b64.encode(&self.ca_pem),
        });
        let created = self.global.create(names::CLUSTER_CREDENTIALS, None, cc)?;
        Ok(created["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string())
    }

    pub(super) fn ensure_machines(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let running = obj["status"]["phase"] == "Running";
        for m in obj["spec"]["machines"].as_array().into_iter().flatten() {
            let ip = m["ip"].as_str().unwrap_or_default();
            let mname = machine_name(name, ip);
            if self.global.get(names::MACHINES, None, &mname).is_ok() {
                continue;
            }
            // Secrets stay on the Cluster: the Machine only says where the node is.
            let machine = json!({
                "apiVersion": "platform.tkestack.io/v1",
                "kind": "Machine",
                "metadata": {"name": mname, "labels": {CLUSTER_NAME_LABEL: name}},
                "spec": {
                    "clusterName": name,
                    "type": "Baremetal",
                    "ip": ip,
                    "port": m["port"].as_i64().unwrap_or(22),
                    "username": m["username"].as_str().unwrap_or("root"),
                    "role": m["role"].as_str().unwrap_or("master"),
                },
            });
            let mut created = self.global.create(names::MACHINES, None, machine)?;
            created["status"] = machine_status(obj, ip, running);
            self.global
                .update_status(names::MACHINES, None, &mname, created)?;
        }
        Ok(())
    }

    pub(super) fn run_step(&self, obj: &Value, index: usize) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let Some(status) = run_step(obj, index, &now_rfc3339()) else {
            return Ok(());
        };
        let mut o = obj.clone();
        o["status"] = status;
        self.global.update_status(names::CLUSTERS, None, name, o)?;
        Ok(())
    }

    pub(super) fn finish(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let conditions = obj["status"]["conditions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (masters, _) = masters_and_workers(obj);
        let mut o = obj.clone();
        o["status"] = running_status(obj, conditions, &masters);
        let o = self.global.update_status(names::CLUSTERS, None, name, o)?;
        self.set_machines_phase(name, &o, "Running")?;
        self.serve_cluster(&o);
        Ok(())
    }

    pub(super) fn start_terminating(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let mut o = obj.clone();
        o["status"]["phase"] = json!("Terminating");
        self.global.update_status(names::CLUSTERS, None, name, o)?;
        self.set_machines_phase(name, obj, "Terminating")
    }

    pub(super) fn finalize(&self, obj: &Value) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        self.stop_serving(name);
        let selector = format!("{CLUSTER_NAME_LABEL}={name}");
        for m in self.machines_of(name)? {
            let mname = m["metadata"]["name"].as_str().unwrap_or_default();
            ignore_not_found(self.global.delete(names::MACHINES, None, mname))?;
        }
        for cc in self
            .global
            .list_selected(names::CLUSTER_CREDENTIALS, None, &selector)?
        {
            let ccname = cc["metadata"]["name"].as_str().unwrap_or_default();
            ignore_not_found(self.global.delete(names::CLUSTER_CREDENTIALS, None, ccname))?;
        }
        let remaining: Vec<Value> = obj["metadata"]["finalizers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| *f != FINALIZER)
            .cloned()
            .collect();
        let mut o = obj.clone();
        o["metadata"]["finalizers"] = json!(remaining);
        ignore_not_found(self.global.replace(names::CLUSTERS, None, name, o))?;
        Ok(())
    }

    pub(super) fn set_machines_phase(
        &self,
        cluster: &str,
        obj: &Value,
        phase: &str,
    ) -> WriteResult<()> {
        for mut m in self.machines_of(cluster)? {
            if !is_cluster_node(&m, obj) {
                continue;
            }
            let ip = m["spec"]["ip"].as_str().unwrap_or_default().to_string();
            let mname = m["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut st = machine_status(obj, &ip, phase == "Running");
            st["phase"] = json!(phase);
            if m["status"] == st {
                continue;
            }
            m["status"] = st;
            self.global
                .update_status(names::MACHINES, None, &mname, m)?;
        }
        Ok(())
    }

    /// Every Machine of a cluster, whoever created it.
    pub(super) fn machines_of(&self, cluster: &str) -> WriteResult<Vec<Value>> {
        Ok(self
            .global
            .list(names::MACHINES, None)?
            .into_iter()
            .filter(|m| m["spec"]["clusterName"].as_str() == Some(cluster))
            .collect())
    }

    pub(super) fn adopt_machine(&self, m: &Value) -> WriteResult<()> {
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let mut o = m.clone();
        let mut finalizers = o["metadata"]["finalizers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !finalizers.iter().any(|f| f == MACHINE_FINALIZER) {
            finalizers.push(json!(MACHINE_FINALIZER));
            o["metadata"]["finalizers"] = json!(finalizers);
            o = self.global.replace(names::MACHINES, None, name, o)?;
        }
        if o["status"]["conditions"]
            .as_array()
            .is_none_or(Vec::is_empty)
        {
            let now = now_rfc3339();
            let ip = o["spec"]["ip"].clone();
            o["status"] = json!({
                "phase": "Initializing",
                "addresses": [{"type": "InternalIP", "address": ip}],
                "conditions": [waiting_condition(MACHINE_STEPS[0].0, &now)],
            });
            self.global.update_status(names::MACHINES, None, name, o)?;
        }
        Ok(())
    }

    pub(super) fn finish_machine(&self, m: &Value) -> WriteResult<()> {
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let cluster_name = m["spec"]["clusterName"].as_str().unwrap_or_default();
        let cluster = self.global.get(names::CLUSTERS, None, cluster_name)?;
        let ip = m["spec"]["ip"].as_str().unwrap_or_default();
        let mut st = machine_status(&cluster, ip, true);
        st["conditions"] = m["status"]["conditions"].clone();
        let mut o = m.clone();
        o["status"] = st;
        self.global.update_status(names::MACHINES, None, name, o)?;
        if let Some(store) = self.host.store(cluster_name) {
            let plan = ClusterPlan::from_cluster(&cluster);
            let master = m["spec"]["role"].as_str() == Some("master");
            let node = plan.node_object(ip, master, chrono::Utc::now());
            match store.create(names::NODES, None, node) {
                Ok(_) => {}
                Err(e) if e.is_already_exists() => {}
                Err(e) => return Err(Box::new(e)),
            }
        }
        Ok(())
    }

    pub(super) fn finalize_machine(&self, m: &Value) -> WriteResult<()> {
        let name = m["metadata"]["name"].as_str().unwrap_or_default();
        let cluster_name = m["spec"]["clusterName"].as_str().unwrap_or_default();
        let ip = m["spec"]["ip"].as_str().unwrap_or_default();
        if let Some(store) = self.host.store(cluster_name) {
            ignore_not_found(store.delete(names::NODES, None, ip))?;
        }
        let remaining: Vec<Value> = m["metadata"]["finalizers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| *f != MACHINE_FINALIZER)
            .cloned()
            .collect();
        let mut o = m.clone();
        o["metadata"]["finalizers"] = json!(remaining);
        ignore_not_found(self.global.replace(names::MACHINES, None, name, o))
    }

    /// Serves the cluster's own API under `/kubernetes/<name>` and fills it.
    pub fn serve_cluster(&self, obj: &Value) {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        let plan = self
            .scenario
            .cluster(name)
            .filter(|_| obj["metadata"]["labels"][crate::sandbox::scenario::SEEDED_LABEL] == "true")
            .cloned()
            .unwrap_or_else(|| ClusterPlan::from_cluster(obj));
        let store = if name == crate::sandbox::scenario::GLOBAL {
            match self.host.store(name) {
                Some(s) => s,
                None => return,
            }
        } else {
            self.host.add_cluster(name)
        };
        populate(&store, &plan, chrono::Utc::now());
        let stop = self.stop.child_token();
        let previous = self
            .etcd
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), stop.clone());
        if let Some(prev) = previous {
            prev.cancel();
        }
        self.tasks.spawn(crate::sandbox::etcd_sim::run(
            store,
            plan.masters.clone(),
            self.clock,
            stop,
        ));
    }

    pub(super) fn stop_serving(&self, name: &str) {
        if let Some(t) = self
            .etcd
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name)
        {
            t.cancel();
        }
        self.host.remove_cluster(name);
    }
}
