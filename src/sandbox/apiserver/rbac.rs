//! RBAC evaluation over the Role / ClusterRole / RoleBinding / ClusterRoleBinding objects the
//! sandbox stores, following the real `rbac` authorizer rule by rule so that answers (and
//! their reasons) match what an SRE sees on a real cluster:
//! * ClusterRoleBindings are visited first, then the RoleBindings of the request's namespace;
//!   the first rule that allows wins and names its binding in the reason;
//! * a binding whose role is missing contributes an error to the (deny) reason, as upstream;
//! * `resources` match `*`, `resource`, `resource/subresource` and `*/subresource`;
//!   `nonResourceURLs` match exactly, `*`, or by a trailing-`*` prefix;
//! * a ServiceAccount subject without a namespace takes the binding's namespace.
//!
//! Aggregated ClusterRoles (`aggregationRule`) are not expanded: the sandbox's ClusterRoles
//! carry their rules directly.

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, Subject,
};
use serde_json::Value;

/// The subject and action of one request, as the authorizer sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Request {
    pub user: String,
    pub groups: Vec<String>,
    pub verb: String,
    /// `true` for `/api/...` and `/apis/...` object paths; `false` for paths such as
    /// `/version`, `/openapi/v3`, `/healthz`.
    pub resource_request: bool,
    /// Empty for cluster-scoped requests (and for namespaced kinds listed across namespaces).
    pub namespace: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    /// The URL path, for non-resource requests.
    pub path: String,
}

/// What RBAC says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// `RBAC: allowed by ...` when allowed; empty, or `RBAC: <errors>` when not.
    pub reason: String,
}

/// A snapshot of the RBAC objects of one cluster.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub roles: Vec<Role>,
    pub cluster_roles: Vec<ClusterRole>,
    pub role_bindings: Vec<RoleBinding>,
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
}

/// Parses stored objects, skipping any that do not parse: the store validated them on
/// write, and one odd object must not make every request fail.
fn parse_all<T: serde::de::DeserializeOwned>(objs: impl IntoIterator<Item = Value>) -> Vec<T> {
    objs.into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect()
}

impl Policy {
    /// Builds a policy from stored JSON objects of the four RBAC kinds.
    pub fn from_json(
        roles: impl IntoIterator<Item = Value>,
        cluster_roles: impl IntoIterator<Item = Value>,
        role_bindings: impl IntoIterator<Item = Value>,
        cluster_role_bindings: impl IntoIterator<Item = Value>,
    ) -> Self {
        let mut p = Policy {
            roles: parse_all(roles),
            cluster_roles: parse_all(cluster_roles),
            role_bindings: parse_all(role_bindings),
            cluster_role_bindings: parse_all(cluster_role_bindings),
        };
        // Upstream visits bindings in informer order, which is effectively by name; sorting
        // keeps the reason stable from one call to the next.
        p.cluster_role_bindings
            .sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
        p.role_bindings.sort_by(|a, b| {
            (&a.metadata.namespace, &a.metadata.name)
                .cmp(&(&b.metadata.namespace, &b.metadata.name))
        });
        p
    }

    fn cluster_role(&self, name: &str) -> Option<&ClusterRole> {
        self.cluster_roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(name))
    }

    fn role(&self, namespace: &str, name: &str) -> Option<&Role> {
        self.roles.iter().find(|r| {
            r.metadata.name.as_deref() == Some(name)
                && r.metadata.namespace.as_deref() == Some(namespace)
        })
    }

    /// Rules of a binding's role, or the error upstream reports for a dangling reference.
    fn rules_for(
        &self,
        kind: &str,
        name: &str,
        binding_ns: Option<&str>,
    ) -> Result<&[PolicyRule], String> {
        match (kind, binding_ns) {
            ("ClusterRole", _) => self
                .cluster_role(name)
                .map(|r| r.rules.as_deref().unwrap_or_default())
                .ok_or_else(|| {
                    format!("clusterrole.rbac.authorization.k8s.io \"{name}\" not found")
                }),
            ("Role", Some(ns)) => self
                .role(ns, name)
                .map(|r| r.rules.as_deref().unwrap_or_default())
                .ok_or_else(|| format!("role.rbac.authorization.k8s.io \"{name}\" not found")),
            _ => Err(format!("unsupported role reference kind: \"{kind}\"")),
        }
    }

    /// Every rule granted to the request's user and groups, cluster-wide plus in
    /// `req.namespace` (what a SelfSubjectRulesReview lists), and the errors of dangling
    /// role references (which make the list incomplete).
    pub fn rules_of(&self, req: &Request) -> (Vec<PolicyRule>, Vec<String>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        for b in &self.cluster_role_bindings {
            if applies_to(req, b.subjects.as_deref().unwrap_or_default(), "").is_none() {
                continue;
            }
            match self.rules_for(&b.role_ref.kind, &b.role_ref.name, None) {
                Ok(r) => rules.extend_from_slice(r),
                Err(e) => errors.push(e),
            }
        }
        for b in &self.role_bindings {
            let ns = b.metadata.namespace.as_deref().unwrap_or_default();
            if req.namespace.is_empty()
                || ns != req.namespace
                || applies_to(req, b.subjects.as_deref().unwrap_or_default(), ns).is_none()
            {
                continue;
            }
            match self.rules_for(&b.role_ref.kind, &b.role_ref.name, Some(ns)) {
                Ok(r) => rules.extend_from_slice(r),
                Err(e) => errors.push(e),
            }
        }
        (rules, errors)
    }

    /// Decides a request the way the upstream RBAC authorizer does.
    pub fn authorize(&self, req: &Request) -> Verdict {
        let mut errors: Vec<String> = Vec::new();
        for b in &self.cluster_role_bindings {
            let Some(subject) = applies_to(req, b.subjects.as_deref().unwrap_or_default(), "")
            else {
                continue;
            };
            match self.rules_for(&b.role_ref.kind, &b.role_ref.name, None) {
                Ok(rules) => {
                    if rules.iter().any(|r| rule_allows(req, r)) {
                        return Verdict {
                            allowed: true,
                            reason: format!(
                                "RBAC: allowed by ClusterRoleBinding \"{}\" of {} \"{}\" to {}",
                                b.metadata.name.as_deref().unwrap_or_default(),
                                b.role_ref.kind,
                                b.role_ref.name,
                                describe_subject(subject, "")
                            ),
                        };
                    }
                }
                Err(e) => errors.push(e),
            }
        }
        if !req.namespace.is_empty() {
            for b in &self.role_bindings {
                let ns = b.metadata.namespace.as_deref().unwrap_or_default();
                if ns != req.namespace {
                    continue;
                }
                let Some(subject) = applies_to(req, b.subjects.as_deref().unwrap_or_default(), ns)
                else {
                    continue;
                };
                match self.rules_for(&b.role_ref.kind, &b.role_ref.name, Some(ns)) {
                    Ok(rules) => {
                        if rules.iter().any(|r| rule_allows(req, r)) {
                            return Verdict {
                                allowed: true,
                                reason: format!(
                                    "RBAC: allowed by RoleBinding \"{}/{}\" of {} \"{}\" to {}",
                                    b.metadata.name.as_deref().unwrap_or_default(),
                                    ns,
                                    b.role_ref.kind,
                                    b.role_ref.name,
                                    describe_subject(subject, ns)
                                ),
                            };
                        }
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        let reason = match errors.len() {
            0 => String::new(),
            1 => format!("RBAC: {}", errors[0]),
            _ => format!("RBAC: [{}]", errors.join(", ")),
        };
        Verdict {
            allowed: false,
            reason,
        }
    }
}

/// `system:serviceaccount:<ns>:<name>` split into namespace and name.
pub fn split_service_account(user: &str) -> Option<(&str, &str)> {
    let rest = user.strip_prefix("system:serviceaccount:")?;
    let (ns, name) = rest.split_once(':')?;
    (!ns.is_empty() && !name.is_empty() && !name.contains(':')).then_some((ns, name))
}

/// The groups every service account belongs to, besides `system:authenticated`.
pub fn service_account_groups(namespace: &str) -> Vec<String> {
    vec![
        "system:serviceaccounts".to_string(),
        format!("system:serviceaccounts:{namespace}"),
    ]
}

fn applies_to<'a>(req: &Request, subjects: &'a [Subject], binding_ns: &str) -> Option<&'a Subject> {
    subjects.iter().find(|s| match s.kind.as_str() {
        "User" => req.user == s.name,
        "Group" => req.groups.contains(&s.name),
        "ServiceAccount" => {
            let ns = s
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(binding_ns);
            !ns.is_empty() && split_service_account(&req.user) == Some((ns, s.name.as_str()))
        }
        _ => false,
    })
}

fn describe_subject(s: &Subject, binding_ns: &str) -> String {
    if s.kind == "ServiceAccount" {
        let ns = s
            .namespace
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(binding_ns);
        format!("{} \"{}/{}\"", s.kind, s.name, ns)
    } else {
        format!("{} \"{}\"", s.kind, s.name)
    }
}

fn matches_any(list: Option<&Vec<String>>, want: &str) -> bool {
    list.is_some_and(|l| l.iter().any(|x| x == "*" || x == want))
}

/// One PolicyRule against one request (upstream `RuleAllows`).
pub fn rule_allows(req: &Request, rule: &PolicyRule) -> bool {
    let verb_ok = rule.verbs.iter().any(|v| v == "*" || *v == req.verb);
    if !verb_ok {
        return false;
    }
    if !req.resource_request {
        return rule.non_resource_urls.as_ref().is_some_and(|urls| {
            urls.iter().any(|u| {
                u == "*"
                    || *u == req.path
                    || u.strip_suffix('*')
                        .is_some_and(|prefix| req.path.starts_with(prefix))
            })
        });
    }
    if !matches_any(rule.api_groups.as_ref(), &req.api_group) {
        return false;
    }
    let combined = if req.subresource.is_empty() {
        req.resource.clone()
    } else {
        format!("{}/{}", req.resource, req.subresource)
    };
    let resource_ok = rule.resources.as_ref().is_some_and(|rs| {
        rs.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!req.subresource.is_empty()
                    && r.strip_prefix("*/") == Some(req.subresource.as_str()))
        })
    });
    if !resource_ok {
        return false;
    }
    match rule.resource_names.as_deref() {
        None | Some([]) => true,
        Some(names) => names.contains(&req.name),
    }
}

/// The message of a 403 for a denied request, exactly as kube-apiserver words it
/// (`forbiddenMessage` + `NewForbidden`), with the authorizer's reason appended when there is one.
pub fn forbidden_message(req: &Request, reason: &str) -> String {
    let what = if !req.resource_request {
        format!(
            "User \"{}\" cannot {} path \"{}\"",
            req.user, req.verb, req.path
        )
    } else {
        let resource = if req.subresource.is_empty() {
            req.resource.clone()
        } else {
            format!("{}/{}", req.resource, req.subresource)
        };
        let scope = if req.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace \"{}\"", req.namespace)
        };
        format!(
            "User \"{}\" cannot {} resource \"{}\" in API group \"{}\" {}",
            req.user, req.verb, resource, req.api_group, scope
        )
    };
    let what = if reason.is_empty() {
        what
    } else {
        format!("{what}: {reason}")
    };
    if !req.resource_request {
        return format!("forbidden: {what}");
    }
    let qualified = if req.api_group.is_empty() {
        req.resource.clone()
    } else {
        format!("{}.{}", req.resource, req.api_group)
    };
    if req.name.is_empty() {
        format!("{qualified} is forbidden: {what}")
    } else {
        format!("{qualified} \"{}\" is forbidden: {what}", req.name)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy() -> Policy {
        let mut crs: Vec<Value> = Vec::new();
        let mut crbs: Vec<Value> = Vec::new();
        for o in bootstrap_objects() {
            match o["kind"].as_str() {
                Some("ClusterRole") => crs.push(o),
                Some("ClusterRoleBinding") => crbs.push(o),
                _ => {}
            }
        }
        crs.push(json!({
            "metadata": {"name": "cluster-reader"},
            "rules": [{"apiGroups": ["platform.tkestack.io"], "resources": ["clusters", "machines"],
                       "verbs": ["get", "list", "watch"]}],
        }));
        crs.push(json!({
            "metadata": {"name": "status-writer"},
            "rules": [{"apiGroups": ["platform.tkestack.io"], "resources": ["*/status"],
                       "verbs": ["update", "patch"]}],
        }));
        crs.push(json!({
            "metadata": {"name": "impersonator"},
            "rules": [{"apiGroups": [""], "resources": ["users", "groups", "serviceaccounts"],
                       "verbs": ["impersonate"]}],
        }));
        crbs.push(json!({
            "metadata": {"name": "ops-read-clusters"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-reader"},
            "subjects": [{"kind": "Group", "name": "ops"}],
        }));
        crbs.push(json!({
            "metadata": {"name": "ctrl-status"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "status-writer"},
            "subjects": [{"kind": "ServiceAccount", "name": "ctrl", "namespace": "kube-system"}],
        }));
        crbs.push(json!({
            "metadata": {"name": "dangling"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "gone"},
            "subjects": [{"kind": "User", "name": "ghost"}],
        }));
        let roles = vec![json!({
            "metadata": {"name": "cm-one", "namespace": "my-ns"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["only-this"],
                       "verbs": ["get", "update"]}],
        })];
        let rbs = vec![
            json!({
                "metadata": {"name": "sa-view", "namespace": "my-ns"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                // No namespace: it defaults to the binding's.
                "subjects": [{"kind": "ServiceAccount", "name": "default"}],
            }),
            json!({
                "metadata": {"name": "alice-cm", "namespace": "my-ns"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-one"},
                "subjects": [{"kind": "User", "name": "alice"}],
            }),
            json!({
                "metadata": {"name": "all-sa-view", "namespace": "shared"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                "subjects": [{"kind": "Group", "name": "system:serviceaccounts:my-ns"}],
            }),
            json!({
                "metadata": {"name": "imp", "namespace": "my-ns"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonator"},
                "subjects": [{"kind": "User", "name": "bob"}],
            }),
        ];
        Policy::from_json(roles, crs, rbs, crbs)
    }

    fn sa(ns: &str, name: &str) -> (String, Vec<String>) {
        let mut g = service_account_groups(ns);
        g.push("system:authenticated".into());
        (format!("system:serviceaccount:{ns}:{name}"), g)
    }

    fn user(name: &str, groups: &[&str]) -> (String, Vec<String>) {
        let mut g: Vec<String> = groups.iter().map(|s| s.to_string()).collect();
        g.push("system:authenticated".into());
        (name.to_string(), g)
    }

    fn res(
        who: (String, Vec<String>),
        verb: &str,
        ns: &str,
        group: &str,
        resource: &str,
        sub: &str,
        name: &str,
    ) -> Request {
        Request {
            user: who.0,
            groups: who.1,
            verb: verb.into(),
            resource_request: true,
            namespace: ns.into(),
            api_group: group.into(),
            resource: resource.into(),
            subresource: sub.into(),
            name: name.into(),
            path: String::new(),
        }
    }

    fn non_res(who: (String, Vec<String>), verb: &str, path: &str) -> Request {
        Request {
            user: who.0,
            groups: who.1,
            verb: verb.into(),
            resource_request: false,
            path: path.into(),
            ..Request::default()
        }
    }

    #[test]
    fn table_of_decisions() {
        let p = policy();
        let plat = "platform.tkestack.io";
        let cases: Vec<(&str, Request, bool)> = vec![
            (
                "SA lists configmaps in its namespace via RoleBinding to view",
                res(
                    sa("my-ns", "default"),
                    "list",
                    "my-ns",
                    "",
                    "configmaps",
                    "",
                    "",
                ),
                true,
            ),
            (
                "SA view does not include create",
                res(
                    sa("my-ns", "default"),
                    "create",
                    "my-ns",
                    "",
                    "configmaps",
                    "",
                    "",
                ),
                false,
            ),
            (
                "SA binding does not reach another namespace",
                res(
                    sa("my-ns", "default"),
                    "list",
                    "other",
                    "",
                    "configmaps",
                    "",
                    "",
                ),
                false,
            ),
            (
                "RoleBinding never grants at cluster scope",
                res(sa("my-ns", "default"), "list", "", "", "configmaps", "", ""),
                false,
            ),
            (
                "other SA in same namespace is not the bound SA",
                res(
                    sa("my-ns", "builder"),
                    "list",
                    "my-ns",
                    "",
                    "configmaps",
                    "",
                    "",
                ),
                false,
            ),
            (
                "group system:serviceaccounts:my-ns is bound in shared",
                res(
                    sa("my-ns", "builder"),
                    "get",
                    "shared",
                    "",
                    "services",
                    "",
                    "x",
                ),
                true,
            ),
            (
                "SA of another namespace lacks that group",
                res(
                    sa("other", "builder"),
                    "get",
                    "shared",
                    "",
                    "services",
                    "",
                    "x",
                ),
                false,
            ),
            (
                "view does not cover secrets",
                res(
                    sa("my-ns", "default"),
                    "get",
                    "my-ns",
                    "",
                    "secrets",
                    "",
                    "s",
                ),
                false,
            ),
            (
                "resourceNames: named object allowed",
                res(
                    user("alice", &[]),
                    "get",
                    "my-ns",
                    "",
                    "configmaps",
                    "",
                    "only-this",
                ),
                true,
            ),
            (
                "resourceNames: other object denied",
                res(
                    user("alice", &[]),
                    "get",
                    "my-ns",
                    "",
                    "configmaps",
                    "",
                    "other",
                ),
                false,
            ),
            (
                "resourceNames: list has no name, denied",
                res(
                    user("alice", &[]),
                    "list",
                    "my-ns",
                    "",
                    "configmaps",
                    "",
                    "",
                ),
                false,
            ),
            (
                "group ops reads clusters at cluster scope",
                res(
                    user("carol", &["ops"]),
                    "list",
                    "",
                    plat,
                    "clusters",
                    "",
                    "",
                ),
                true,
            ),
            (
                "group ops cannot delete clusters",
                res(
                    user("carol", &["ops"]),
                    "delete",
                    "",
                    plat,
                    "clusters",
                    "",
                    "c1",
                ),
                false,
            ),
            (
                "apiGroup must match",
                res(user("carol", &["ops"]), "list", "", "", "clusters", "", ""),
                false,
            ),
            (
                "a rule on clusters does not cover clusters/status",
                res(
                    user("carol", &["ops"]),
                    "get",
                    "",
                    plat,
                    "clusters",
                    "status",
                    "c1",
                ),
                false,
            ),
            (
                "*/status covers clusters/status",
                res(
                    sa("kube-system", "ctrl"),
                    "patch",
                    "",
                    plat,
                    "clusters",
                    "status",
                    "c1",
                ),
                true,
            ),
            (
                "*/status does not cover the main resource",
                res(
                    sa("kube-system", "ctrl"),
                    "patch",
                    "",
                    plat,
                    "clusters",
                    "",
                    "c1",
                ),
                false,
            ),
            (
                "system:masters alone is not RBAC-special: cluster-admin binding grants it",
                res(
                    user("root", &["system:masters"]),
                    "delete",
                    "",
                    plat,
                    "clusters",
                    "",
                    "c1",
                ),
                true,
            ),
            (
                "discovery for every authenticated user",
                non_res(user("nobody", &[]), "get", "/apis/platform.tkestack.io/v1"),
                true,
            ),
            (
                "openapi v3 via prefix rule",
                non_res(
                    user("nobody", &[]),
                    "get",
                    "/openapi/v3/apis/platform.tkestack.io/v1",
                ),
                true,
            ),
            (
                "non-resource verb must match",
                non_res(user("nobody", &[]), "post", "/version"),
                false,
            ),
            (
                "unlisted path denied",
                non_res(user("nobody", &[]), "get", "/metrics"),
                false,
            ),
            (
                "every user may create SSARs",
                res(
                    user("nobody", &[]),
                    "create",
                    "",
                    "authorization.k8s.io",
                    "selfsubjectaccessreviews",
                    "",
                    "",
                ),
                true,
            ),
            (
                "unauthenticated users get no basic-user",
                res(
                    (
                        "system:anonymous".into(),
                        vec!["system:unauthenticated".into()],
                    ),
                    "create",
                    "",
                    "authorization.k8s.io",
                    "selfsubjectaccessreviews",
                    "",
                    "",
                ),
                false,
            ),
            (
                "impersonate through a RoleBinding only in that namespace",
                res(
                    user("bob", &[]),
                    "impersonate",
                    "my-ns",
                    "",
                    "serviceaccounts",
                    "",
                    "default",
                ),
                true,
            ),
            (
                "impersonate users is cluster scoped: RoleBinding does not grant it",
                res(
                    user("bob", &[]),
                    "impersonate",
                    "",
                    "",
                    "users",
                    "",
                    "alice",
                ),
                false,
            ),
        ];
        for (what, req, want) in cases {
            let v = p.authorize(&req);
            assert_eq!(v.allowed, want, "{what}: {req:?} -> {v:?}");
            if v.allowed {
                assert!(
                    v.reason.starts_with("RBAC: allowed by "),
                    "{what}: {}",
                    v.reason
                );
            }
        }
    }

    #[test]
    fn reasons_name_binding_role_and_subject() {
        let p = policy();
        let v = p.authorize(&res(
            sa("my-ns", "default"),
            "list",
            "my-ns",
            "",
            "configmaps",
            "",
            "",
        ));
        assert_eq!(
            v.reason,
            "RBAC: allowed by RoleBinding \"sa-view/my-ns\" of ClusterRole \"view\" to ServiceAccount \"default/my-ns\""
        );
        let v = p.authorize(&res(
            user("carol", &["ops"]),
            "list",
            "",
            "platform.tkestack.io",
            "clusters",
            "",
            "",
        ));
        assert_eq!(
            v.reason,
            "RBAC: allowed by ClusterRoleBinding \"ops-read-clusters\" of ClusterRole \"cluster-reader\" to Group \"ops\""
        );
        let v = p.authorize(&res(user("ghost", &[]), "get", "", "", "nodes", "", "n"));
        assert!(!v.allowed);
        assert_eq!(
            v.reason,
            "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"
        );
        let v = p.authorize(&res(user("nobody", &[]), "get", "", "", "nodes", "", "n"));
        assert_eq!(v.reason, "");
    }

    #[test]
    fn forbidden_messages_match_apiserver() {
        let r = res(
            sa("my-ns", "default"),
            "create",
            "",
            "platform.tkestack.io",
            "clusters",
            "",
            "",
        );
        assert_eq!(
            forbidden_message(&r, ""),
            "clusters.platform.tkestack.io is forbidden: User \"system:serviceaccount:my-ns:default\" \
             cannot create resource \"clusters\" in API group \"platform.tkestack.io\" at the cluster scope"
        );
        let r = res(user("u", &[]), "get", "ns1", "", "configmaps", "", "a");
        assert_eq!(
            forbidden_message(&r, ""),
            "configmaps \"a\" is forbidden: User \"u\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"ns1\""
        );
        let r = res(
            user("u", &[]),
            "patch",
            "",
            "platform.tkestack.io",
            "clusters",
            "status",
            "c",
        );
        assert_eq!(
            forbidden_message(&r, "RBAC: x"),
            "clusters.platform.tkestack.io \"c\" is forbidden: User \"u\" cannot patch resource \"clusters/status\" in API group \"platform.tkestack.io\" at the cluster scope: RBAC: x"
        );
        let r = non_res(user("u", &[]), "get", "/metrics");
        assert_eq!(
            forbidden_message(&r, ""),
            "forbidden: User \"u\" cannot get path \"/metrics\""
        );
    }

    #[test]
    fn service_account_names() {
        assert_eq!(
            split_service_account("system:serviceaccount:my-ns:default"),
            Some(("my-ns", "default"))
        );
        assert_eq!(split_service_account("system:serviceaccount:my-ns"), None);
        assert_eq!(split_service_account("system:serviceaccount::x"), None);
        assert_eq!(split_service_account("alice"), None);
    }
}
