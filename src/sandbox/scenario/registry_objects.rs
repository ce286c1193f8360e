//! The registry guide's world in every cluster, with its planted flaws: each app namespace's
//! default ServiceAccount may pull from its own namespace; `legacy-ns` runs a deployment whose
//! pod is in ImagePullBackOff because it has no pull secret, no cross-namespace binding to
//! `shared-ns`, and a NetworkPolicy that blocks egress to the registry. The global cluster also
//! has the external address (ingress, `registry` Service, a certificate expiring soon).

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use super::{
    APP_NAMESPACES, ClusterPlan, GLOBAL, NAMESPACE_WITHOUT_PULL_SECRET, REGISTRY_SERVICE,
    SEEDED_LABEL, rfc3339,
};
use crate::domain::registry::external::INGRESS_PATHS;

/// The failing workload.
pub const BROKEN_APP: &str = "legacy-app";
pub const BROKEN_POD: &str = "legacy-app-7d4b9c6f5-x2k8p";
/// The image it cannot pull (from `shared-ns`, where `legacy-ns` has no binding).
pub const BROKEN_IMAGE_REPO: &str = "shared-ns/base";
/// The policy that blocks its egress.
pub const EGRESS_POLICY: &str = "deny-egress-except-dns";
/// The external registry host name on the global cluster and its certificate's days left.
pub const EXTERNAL_HOST: &str = "registry.sandbox.example";
pub const EXTERNAL_CERT_DAYS: i64 = 12;

impl ClusterPlan {
    /// The node whose `/etc/hosts` keeps a resolver line from before the registry Service was
    /// recreated: the global cluster's last node (the other clusters are the healthy case).
    pub fn stale_resolver_node(&self) -> Option<&str> {
        if self.name != GLOBAL {
            return None;
        }
        self.nodes().last().map(|(ip, _)| ip)
    }

    /// The ClusterIP the registry Service had before, which the stale line still names.
    pub fn old_registry_cluster_ip(&self) -> String {
        let current = self.registry_cluster_ip();
        match current.rsplit_once(".216.") {
            Some((prefix, _)) => format!("{prefix}.200.17"),
            None => current,
        }
    }
}

fn image(repo: &str, tag: &str) -> String {
    format!("{REGISTRY_SERVICE}.cpaas-system.svc/{repo}:{tag}")
}

pub fn registry_objects(cluster: &str, now: DateTime<Utc>) -> Vec<(&'static str, Value)> {
    use crate::sandbox::apiserver::kinds::names;
    let seeded = json!({SEEDED_LABEL: "true"});
    let mut out = Vec::new();
    for ns in APP_NAMESPACES {
        out.push((
            names::ROLE_BINDINGS,
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "image-puller", "namespace": ns, "labels": seeded},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:image-puller"},
                "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": ns}],
            }),
        ));
    }
    out.push((
        names::DEPLOYMENTS,
        deployment("my-ns", "my-app", &image("my-ns/my-app", "v1"), 3),
    ));
    let broken_image = image(BROKEN_IMAGE_REPO, "v1");
    let ns = NAMESPACE_WITHOUT_PULL_SECRET;
    out.push((
        names::DEPLOYMENTS,
        deployment(ns, BROKEN_APP, &broken_image, 1),
    ));
    out.push((names::PODS, broken_pod(&broken_image, now)));
    let msg401 = format!(
        "Failed to pull image \"{broken_image}\": rpc error: code = Unknown desc = failed to pull and unpack image \"{broken_image}\": failed to resolve reference \"{broken_image}\": failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized"
    );
    for (name, reason, message, count) in [
        ("pull", "Failed", msg401, 6),
        ("errpull", "Failed", "Error: ErrImagePull".to_string(), 6),
        (
            "backoff",
            "BackOff",
            format!("Back-off pulling image \"{broken_image}\""),
            40,
        ),
    ] {
        out.push((
            names::EVENTS,
            json!({
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": format!("{BROKEN_POD}.{name}"), "namespace": ns, "labels": seeded},
                "involvedObject": {"kind": "Pod", "name": BROKEN_POD, "namespace": ns, "apiVersion": "v1", "fieldPath": "spec.containers{main}"},
                "reason": reason,
                "message": message,
                "type": "Warning",
                "count": count,
                "source": {"component": "kubelet"},
                "firstTimestamp": rfc3339(now - Duration::minutes(30)),
                "lastTimestamp": rfc3339(now - Duration::seconds(20)),
            }),
        ));
    }
    out.push((
        names::NETWORK_POLICIES,
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": EGRESS_POLICY, "namespace": ns, "labels": seeded},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}],
            },
        }),
    ));
    if cluster == GLOBAL {
        out.extend(external_address(now));
    }
    out
}

fn deployment(ns: &str, name: &str, image: &str, replicas: i32) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {SEEDED_LABEL: "true", "app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image, "ports": [{"containerPort": 8080}]}]},
            },
        },
    })
}

fn broken_pod(image: &str, now: DateTime<Utc>) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": BROKEN_POD,
            "namespace": NAMESPACE_WITHOUT_PULL_SECRET,
            "labels": {SEEDED_LABEL: "true", "app": BROKEN_APP},
        },
        "spec": {
            "serviceAccountName": "default",
            "containers": [{"name": "main", "image": image}],
        },
        "status": {
            "phase": "Pending",
            "startTime": rfc3339(now - Duration::minutes(30)),
            "containerStatuses": [{
                "name": "main",
                "image": image,
                "imageID": "",
                "ready": false,
                "restartCount": 0,
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")}},
            }],
        },
    })
}

/// The guide's external address, with a certificate that expires soon.
fn external_address(now: DateTime<Utc>) -> Vec<(&'static str, Value)> {
    use crate::sandbox::apiserver::kinds::names;
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut out = Vec::new();
    let paths: Vec<Value> = INGRESS_PATHS
        .iter()
        .map(|p| json!({"path": p, "pathType": "ImplementationSpecific", "backend": {"service": {"name": "registry", "port": {"number": 443}}}}))
        .collect();
    out.push((
        names::INGRESSES,
        json!({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": "registry-address",
                "namespace": "kube-system",
                "annotations": {"nginx.ingress.kubernetes.io/backend-protocol": "HTTPS"},
                "labels": {SEEDED_LABEL: "true", "service_name": "registry"},
            },
            "spec": {
                "rules": [{"host": EXTERNAL_HOST, "http": {"paths": paths}}],
                "tls": [{"secretName": "registry-address.tls", "hosts": [EXTERNAL_HOST]}],
            },
        }),
    ));
    out.push((
        names::SERVICES,
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "registry", "namespace": "kube-system", "labels": {SEEDED_LABEL: "true"}},
            "spec": {"type": "ClusterIP", "selector": {"app": REGISTRY_SERVICE}, "ports": [{"port": 443, "protocol": "TCP", "targetPort": 60080}]},
        }),
    ));
    if let Some((crt, key)) = expiring_cert(now) {
        out.push((
            names::SECRETS,
            json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "registry-address.tls", "namespace": "kube-system", "labels": {SEEDED_LABEL: "true"}},
                "type": "kubernetes.io/tls",
                // A throwaway key made for this sandbox run; it guards nothing.
                "data": {"tls.crt": b64.encode(crt), "tls.key": b64.encode(key)},
            }),
        ));
    }
    out
}

fn expiring_cert(now: DateTime<Utc>) -> Option<(String, String)> {
    let key = rcgen::KeyPair::generate().ok()?;
    let mut p = rcgen::CertificateParams::new(vec![EXTERNAL_HOST.to_string()]).ok()?;
    let start = rcgen::date_time_ymd(2020, 1, 1);
    let secs = now.timestamp() + EXTERNAL_CERT_DAYS * 86_400 + 3_600;
    p.not_before = start;
    p.not_after = start + std::time::Duration::from_secs(u64::try_from(secs - 1_577_836_800).ok()?);
    let cert = p.self_signed(&key).ok()?;
    Some((cert.pem(), key.serialize_pem()))
}
