//! Authorization decisions: one function, [`decide`], answers both real requests and
//! access reviews, so `kubectl auth can-i` (a SelfSubjectAccessReview) can never disagree
//! with what the same request really gets. It works like kube-apiserver's authorizer chain:
//! * members of `system:masters` are always allowed (the privileged-group authorizer);
//! * everyone else goes through RBAC ([`super::rbac`]) over the cluster's Role,
//!   ClusterRole, RoleBinding and ClusterRoleBinding objects.
//!
//! The bootstrap ClusterRoles and ClusterRoleBindings (`cluster-admin`, `system:discovery`,
//! `system:basic-user`, `view`...) take part even when the store does not hold them, the way
//! a real apiserver re-creates them at start-up; a stored object of the same name wins.
//! RBAC never denies explicitly, so reviews never carry `denied: true` (as upstream): a
//! refusal is `allowed: false` with the RBAC reason, if any.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::authz::{Decision, RequestAttributes, UserInfo};
use super::kinds::names;
use super::rbac::{self, Policy, Request};
use super::store::StoreView;

mod review;
mod review_body;
#[cfg(test)]
mod tests;

pub use super::rbac::Verdict;
pub use review::{review, rules_review};
pub use review_body::{PROTOBUF, decode_review_protobuf, review_body, rules_review_body};

/// The group whose members every request is allowed for, as in Kubernetes.
pub const MASTERS: &str = "system:masters";

fn to_rbac_request(user: &UserInfo, attrs: &RequestAttributes) -> Request {
    Request {
        user: user.name.clone(),
        groups: user.groups.clone(),
        verb: attrs.verb.clone(),
        resource_request: attrs.resource_request,
        namespace: attrs.namespace.clone().unwrap_or_default(),
        api_group: attrs.api_group.clone(),
        resource: attrs.resource.clone(),
        subresource: attrs.subresource.clone(),
        name: attrs.name.clone().unwrap_or_default(),
        path: attrs.path.clone(),
    }
}

/// The RBAC objects of a cluster as stored, with the bootstrap policy filling in what is
/// not stored.
fn build_policy(view: &StoreView<'_>) -> Policy {
    let stored = |resource: &str| -> Vec<Value> {
        view.list(resource, None)
            .into_iter()
            .map(|v| (*v).clone())
            .collect()
    };
    let mut cluster_roles = stored(names::CLUSTER_ROLES);
    let mut cluster_role_bindings = stored(names::CLUSTER_ROLE_BINDINGS);
    let has = |list: &[Value], name: &str| {
        list.iter()
            .any(|o| o["metadata"]["name"].as_str() == Some(name))
    };
    for obj in rbac::bootstrap_objects() {
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match obj["kind"].as_str() {
            Some("ClusterRole") if !has(&cluster_roles, &name) => cluster_roles.push(obj),
            Some("ClusterRoleBinding") if !has(&cluster_role_bindings, &name) => {
                cluster_role_bindings.push(obj)
            }
            _ => {}
        }
    }
    Policy::from_json(
        stored(names::ROLES),
        cluster_roles,
        stored(names::ROLE_BINDINGS),
        cluster_role_bindings,
    )
}

/// Identifies the current set of RBAC objects (each write changes an object's
/// resourceVersion; creates and deletes change the uids).
fn fingerprint(view: &StoreView<'_>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for resource in [
        names::ROLES,
        names::CLUSTER_ROLES,
        names::ROLE_BINDINGS,
        names::CLUSTER_ROLE_BINDINGS,
    ] {
        let list = view.list(resource, None);
        list.len().hash(&mut h);
        for o in list {
            o["metadata"]["uid"].as_str().hash(&mut h);
            o["metadata"]["resourceVersion"].as_str().hash(&mut h);
        }
    }
    h.finish()
}

/// The parsed RBAC policy of a cluster. Every request needs it, so parsed policies are kept
/// by the fingerprint of the objects they were built from (uids are random, so two stores
/// never share one by accident) and rebuilt only when an RBAC object changed.
pub fn policy(view: &StoreView<'_>) -> Arc<Policy> {
    /// Enough for every cluster of a few sandboxes; older entries are simply dropped.
    const KEEP: usize = 64;
    static CACHE: OnceLock<Mutex<HashMap<u64, Arc<Policy>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let fp = fingerprint(view);
    if let Ok(map) = cache.lock()
        && let Some(p) = map.get(&fp)
    {
        return p.clone();
    }
    let policy = Arc::new(build_policy(view));
    if let Ok(mut map) = cache.lock() {
        if map.len() >= KEEP {
            map.clear();
        }
        map.insert(fp, policy.clone());
    }
    policy
}

/// The single decision function behind real requests and access reviews.
pub fn decide(view: &StoreView<'_>, user: &UserInfo, attrs: &RequestAttributes) -> Verdict {
    if user.groups.iter().any(|g| g == MASTERS) {
        // Upstream's privileged-group authorizer gives no reason either.
        return Verdict {
            allowed: true,
            reason: String::new(),
        };
    }
    policy(view).authorize(&to_rbac_request(user, attrs))
}

/// [`decide`] as the request path wants it.
pub fn authorize(view: &StoreView<'_>, user: &UserInfo, attrs: &RequestAttributes) -> Decision {
    let v = decide(view, user, attrs);
    if v.allowed {
        Decision::Allow
    } else {
        Decision::Deny(v.reason)
    }
}
