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

mod bootstrap;
#[cfg(test)]
mod tests;

pub use bootstrap::bootstrap_objects;

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
