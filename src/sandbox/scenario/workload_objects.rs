//! What each cluster's own API serves (namespaces, nodes, the registry Service and pull
//! secrets, RBAC), and the objects only the global cluster has.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::{
    APP_NAMESPACES, ClusterPlan, GLOBAL, NAMESPACE_WITHOUT_PULL_SECRET, PULL_SECRET,
    REGISTRY_SERVICE, SEEDED_LABEL, SYSTEM_NAMESPACES, SimRng, VERSIONS, VIEWER_ROLE, VIEWER_USER,
    rfc3339,
};

impl ClusterPlan {
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
        use crate::sandbox::apiserver::kinds::names;
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
        out.extend(super::registry_objects(&self.name, now));
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
    use crate::sandbox::apiserver::kinds::names;
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
    use crate::sandbox::apiserver::kinds::names;
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
