//! The bootstrap ClusterRoles and ClusterRoleBindings every real cluster starts with.

use serde_json::Value;

/// The bootstrap RBAC objects every real cluster starts with (a subset of upstream's
/// `bootstrappolicy`): without `system:discovery` and `system:basic-user`, a client that
/// impersonates an ordinary user could not even run discovery or `kubectl auth can-i`.
/// Each is a full object (`apiVersion`, `kind`, `metadata`) ready to store.
pub fn bootstrap_objects() -> Vec<Value> {
    use serde_json::json;
    let labels = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    let annotations = json!({"rbac.authorization.kubernetes.io/autoupdate": "true"});
    let role = |name: &str, rules: Value| {
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": labels, "annotations": annotations},
            "rules": rules,
        })
    };
    let binding = |name: &str, role: &str, groups: &[&str]| {
        let subjects: Vec<Value> = groups
            .iter()
            .map(|g| json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g}))
            .collect();
        json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": labels, "annotations": annotations},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": subjects,
        })
    };
    let read = ["get", "list", "watch"];
    let write = [
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];
    let ns_core = ["configmaps", "services", "serviceaccounts"];
    vec![
        role(
            "cluster-admin",
            json!([
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ]),
        ),
        binding("cluster-admin", "cluster-admin", &["system:masters"]),
        role(
            "system:discovery",
            json!([{
                "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
                    "/openapi", "/openapi/*", "/readyz", "/version", "/version/"],
                "verbs": ["get"],
            }]),
        ),
        binding(
            "system:discovery",
            "system:discovery",
            &["system:authenticated"],
        ),
        role(
            "system:basic-user",
            json!([
                {"apiGroups": ["authorization.k8s.io"],
                 "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                 "verbs": ["create"]},
                {"apiGroups": ["authentication.k8s.io"],
                 "resources": ["selfsubjectreviews"], "verbs": ["create"]},
            ]),
        ),
        binding(
            "system:basic-user",
            "system:basic-user",
            &["system:authenticated"],
        ),
        role(
            "system:public-info-viewer",
            json!([{
                "nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
                "verbs": ["get"],
            }]),
        ),
        binding(
            "system:public-info-viewer",
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
        role(
            "admin",
            json!([
                {"apiGroups": [""], "resources": ns_core, "verbs": write},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": write},
                {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": write},
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"],
                 "verbs": write},
                {"apiGroups": ["authorization.k8s.io"], "resources": ["localsubjectaccessreviews"],
                 "verbs": ["create"]},
            ]),
        ),
        role(
            "edit",
            json!([
                {"apiGroups": [""], "resources": ns_core, "verbs": write},
                {"apiGroups": [""], "resources": ["secrets"], "verbs": write},
                {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": write},
            ]),
        ),
        role(
            "view",
            json!([
                {"apiGroups": [""], "resources": ns_core, "verbs": read},
                {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses"], "verbs": read},
            ]),
        ),
    ]
}
