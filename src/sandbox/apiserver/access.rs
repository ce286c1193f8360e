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

use serde_json::{Value, json};

use super::authz::{Decision, RequestAttributes, ReviewKind, UserInfo};
use super::kinds::{ResourceKind, names};
pub use super::rbac::Verdict;
use super::rbac::{self, Policy, Request};
use super::status::{ApiError, Cause};
use super::store::StoreView;

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

fn str_at<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// The attributes an access review asks about, or the 422 a real server gives.
fn review_attributes(
    kind: &ResourceKind,
    spec: &Value,
    cluster: &str,
) -> Result<RequestAttributes, ApiError> {
    let res = spec.get("resourceAttributes").filter(|v| !v.is_null());
    let non = spec.get("nonResourceAttributes").filter(|v| !v.is_null());
    match (res, non) {
        (Some(_), Some(_)) => Err(ApiError::invalid_field(
            kind,
            "",
            "spec.nonResourceAttributes",
            "",
            "cannot be specified in combination with resourceAttributes",
        )),
        (None, None) => Err(ApiError::invalid_field(
            kind,
            "",
            "spec.resourceAttributes",
            "",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )),
        (Some(r), None) => {
            let ns = str_at(r, "namespace");
            let name = str_at(r, "name");
            Ok(RequestAttributes {
                verb: str_at(r, "verb").to_string(),
                resource_request: true,
                api_group: str_at(r, "group").to_string(),
                api_version: str_at(r, "version").to_string(),
                resource: str_at(r, "resource").to_string(),
                subresource: str_at(r, "subresource").to_string(),
                namespace: (!ns.is_empty()).then(|| ns.to_string()),
                name: (!name.is_empty()).then(|| name.to_string()),
                path: String::new(),
                cluster: cluster.to_string(),
            })
        }
        (None, Some(n)) => Ok(RequestAttributes {
            verb: str_at(n, "verb").to_string(),
            resource_request: false,
            path: str_at(n, "path").to_string(),
            cluster: cluster.to_string(),
            ..RequestAttributes::default()
        }),
    }
}

/// Answers an access review with [`decide`]: the review echoed back with `status`
/// (`allowed`, and `reason` when there is one), or the 400/422 a real server gives for a
/// malformed one.
pub fn review(
    view: &StoreView<'_>,
    user: &UserInfo,
    kind: &ResourceKind,
    review_kind: ReviewKind,
    namespace: Option<&str>,
    body: Value,
) -> Result<Value, ApiError> {
    let mut out = body;
    if !out.is_object() {
        return Err(ApiError::bad_request(format!(
            "the body must be a {} object (JSON), with a spec",
            kind.kind
        )));
    }
    let av = str_at(&out, "apiVersion");
    if !av.is_empty() && av != kind.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({av}) does not match the expected API version ({})",
            kind.api_version()
        )));
    }
    let k = str_at(&out, "kind");
    if !k.is_empty() && k != kind.kind {
        return Err(ApiError::bad_request(format!(
            "the kind in the data ({k}) does not match the expected kind ({})",
            kind.kind
        )));
    }
    out["apiVersion"] = kind.api_version().into();
    out["kind"] = kind.kind.into();
    if !out.get("metadata").is_some_and(Value::is_object) {
        out["metadata"] = json!({});
    }
    let spec = out.get("spec").cloned().unwrap_or(Value::Null);
    if !spec.is_object() {
        return Err(ApiError::required_field(kind, "", "spec"));
    }
    let mut attrs = review_attributes(kind, &spec, view.cluster())?;
    let subject = match review_kind {
        ReviewKind::SelfSubjectAccessReview => user.clone(),
        ReviewKind::SubjectAccessReview | ReviewKind::LocalSubjectAccessReview => {
            let name = str_at(&spec, "user").to_string();
            let groups: Vec<String> = spec
                .get("groups")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if name.is_empty() && groups.is_empty() {
                return Err(ApiError::invalid(
                    kind,
                    "",
                    vec![Cause {
                        reason: "FieldValueInvalid".into(),
                        message: "Invalid value: \"\": at least one of user or group must be \
                                  specified"
                            .into(),
                        field: "spec.user".into(),
                    }],
                ));
            }
            // Unlike impersonation, a review asks about exactly the groups it names.
            UserInfo { name, groups }
        }
    };
    if review_kind == ReviewKind::LocalSubjectAccessReview {
        let url_ns = namespace.unwrap_or_default();
        if url_ns.is_empty() {
            return Err(ApiError::bad_request(
                "namespace is required on this type: use \
                 /apis/authorization.k8s.io/v1/namespaces/<ns>/localsubjectaccessreviews",
            ));
        }
        let meta_ns = str_at(&out["metadata"], "namespace").to_string();
        if meta_ns.is_empty() {
            out["metadata"]["namespace"] = url_ns.into();
        } else if meta_ns != url_ns {
            return Err(ApiError::bad_request(format!(
                "the namespace of the object ({meta_ns}) does not match the namespace on the \
                 request ({url_ns})"
            )));
        }
        if !attrs.resource_request || attrs.namespace.as_deref() != Some(url_ns) {
            return Err(ApiError::invalid_field(
                kind,
                "",
                "spec.resourceAttributes.namespace",
                attrs.namespace.as_deref().unwrap_or_default(),
                "must match metadata.namespace",
            ));
        }
        attrs.namespace = Some(url_ns.to_string());
    }
    let v = decide(view, &subject, &attrs);
    let mut status = json!({"allowed": v.allowed});
    if !v.reason.is_empty() {
        status["reason"] = v.reason.into();
    }
    out["status"] = status;
    Ok(out)
}

/// Answers a SelfSubjectRulesReview (`kubectl auth can-i --list`): the rules `user` holds
/// cluster-wide and in `spec.namespace`, from the same policy [`decide`] uses. Members of
/// `system:masters` get the all-allowing rules, as from upstream's privileged-group
/// authorizer.
pub fn rules_review(
    view: &StoreView<'_>,
    user: &UserInfo,
    kind: &ResourceKind,
    body: Value,
) -> Result<Value, ApiError> {
    let mut out = body;
    if !out.is_object() {
        return Err(ApiError::bad_request(format!(
            "the body must be a {} object (JSON), with a spec",
            kind.kind
        )));
    }
    out["apiVersion"] = kind.api_version().into();
    out["kind"] = kind.kind.into();
    if !out.get("metadata").is_some_and(Value::is_object) {
        out["metadata"] = json!({});
    }
    let namespace = out["spec"]["namespace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if namespace.is_empty() {
        return Err(ApiError::invalid_field(
            kind,
            "",
            "spec.namespace",
            "",
            "may not be empty",
        ));
    }
    let (rules, errors) = if user.groups.iter().any(|g| g == MASTERS) {
        let all: k8s_openapi::api::rbac::v1::PolicyRule =
            serde_json::from_value(json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}))
                .unwrap_or_default();
        let non: k8s_openapi::api::rbac::v1::PolicyRule =
            serde_json::from_value(json!({"nonResourceURLs": ["*"], "verbs": ["*"]}))
                .unwrap_or_default();
        (vec![all, non], Vec::new())
    } else {
        let req = Request {
            user: user.name.clone(),
            groups: user.groups.clone(),
            namespace: namespace.clone(),
            ..Request::default()
        };
        policy(view).rules_of(&req)
    };
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    for r in rules {
        if let Some(urls) = r.non_resource_urls.filter(|u| !u.is_empty()) {
            non_resource_rules.push(json!({"verbs": r.verbs, "nonResourceURLs": urls}));
        }
        if let Some(resources) = r.resources.filter(|u| !u.is_empty()) {
            let mut rule = json!({
                "verbs": r.verbs,
                "apiGroups": r.api_groups.unwrap_or_default(),
                "resources": resources,
            });
            if let Some(names) = r.resource_names.filter(|n| !n.is_empty()) {
                rule["resourceNames"] = json!(names);
            }
            resource_rules.push(rule);
        }
    }
    let mut status = json!({
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": !errors.is_empty(),
    });
    if !errors.is_empty() {
        status["evaluationError"] = errors.join(", ").into();
    }
    out["status"] = status;
    Ok(out)
}

/// The media type of Kubernetes protobuf bodies.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// A minimal protobuf reader: enough for the review messages below.
struct Pb<'a> {
    buf: &'a [u8],
}

enum Field<'a> {
    Bytes(&'a [u8]),
    /// Numbers and fixed-width values: reviews have none that matter.
    Skipped,
}

impl<'a> Pb<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first()?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Some(head)
    }

    /// The next (field number, value); `Err` on malformed input.
    fn next(&mut self) -> Option<Result<(u64, Field<'a>), ()>> {
        if self.buf.is_empty() {
            return None;
        }
        let Some(key) = self.varint() else {
            return Some(Err(()));
        };
        let field = match key & 7 {
            0 => self.varint().map(|_| Field::Skipped),
            1 => self.take(8).map(|_| Field::Skipped),
            2 => self
                .varint()
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| self.take(n))
                .map(Field::Bytes),
            5 => self.take(4).map(|_| Field::Skipped),
            _ => None,
        };
        Some(field.map(|f| (key >> 3, f)).ok_or(()))
    }
}

/// Reads a message into (field number -> values), strings and sub-messages as bytes.
fn pb_fields(buf: &[u8]) -> Result<Vec<(u64, &[u8])>, ApiError> {
    let mut out = Vec::new();
    let mut r = Pb { buf };
    while let Some(item) = r.next() {
        match item {
            Ok((n, Field::Bytes(b))) => out.push((n, b)),
            Ok(_) => {}
            Err(()) => {
                return Err(ApiError::bad_request(
                    "the protobuf body of the request is malformed",
                ));
            }
        }
    }
    Ok(out)
}

fn pb_string(b: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(b.to_vec())
        .map_err(|_| ApiError::bad_request("a protobuf string field is not valid UTF-8"))
}

/// Decodes `{field number: json key}` string fields of a message into a JSON object.
fn pb_strings(buf: &[u8], keys: &[(u64, &str)]) -> Result<Value, ApiError> {
    let mut m = serde_json::Map::new();
    for (n, b) in pb_fields(buf)? {
        if let Some((_, key)) = keys.iter().find(|(k, _)| *k == n) {
            m.insert((*key).to_string(), pb_string(b)?.into());
        }
    }
    Ok(Value::Object(m))
}

/// Decodes an access review sent as Kubernetes protobuf (what kubectl's typed clients, such
/// as `kubectl auth can-i`, send) into the JSON object [`review`] takes. Only the fields
/// reviews use are read: `metadata.name/namespace`, the resource and non-resource
/// attributes, `user`, `groups` and `uid`.
pub fn decode_review_protobuf(body: &[u8]) -> Result<Value, ApiError> {
    let inner = body.strip_prefix(b"k8s\x00").ok_or_else(|| {
        ApiError::bad_request("the protobuf body does not start with the Kubernetes magic bytes")
    })?;
    // runtime.Unknown { typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2 }
    let mut type_meta = json!({});
    let mut raw: &[u8] = &[];
    for (n, b) in pb_fields(inner)? {
        match n {
            1 => type_meta = pb_strings(b, &[(1, "apiVersion"), (2, "kind")])?,
            2 => raw = b,
            _ => {}
        }
    }
    let mut out = json!({"metadata": {}, "spec": {}});
    for key in ["apiVersion", "kind"] {
        if let Some(v) = type_meta.get(key) {
            out[key] = v.clone();
        }
    }
    // Reviews: metadata = 1, spec = 2 (status = 3 is output only).
    for (n, b) in pb_fields(raw)? {
        match n {
            1 => out["metadata"] = pb_strings(b, &[(1, "name"), (3, "namespace")])?,
            2 => {
                let mut groups: Vec<Value> = Vec::new();
                for (f, v) in pb_fields(b)? {
                    match f {
                        1 => {
                            out["spec"]["resourceAttributes"] = pb_strings(
                                v,
                                &[
                                    (1, "namespace"),
                                    (2, "verb"),
                                    (3, "group"),
                                    (4, "version"),
                                    (5, "resource"),
                                    (6, "subresource"),
                                    (7, "name"),
                                ],
                            )?
                        }
                        2 => {
                            out["spec"]["nonResourceAttributes"] =
                                pb_strings(v, &[(1, "path"), (2, "verb")])?
                        }
                        3 => out["spec"]["user"] = pb_string(v)?.into(),
                        4 => groups.push(pb_string(v)?.into()),
                        6 => out["spec"]["uid"] = pb_string(v)?.into(),
                        _ => {}
                    }
                }
                if !groups.is_empty() {
                    out["spec"]["groups"] = Value::Array(groups);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The body of a SelfSubjectRulesReview as JSON, from JSON, YAML or Kubernetes protobuf
/// (`metadata = 1`, `spec = 2 { namespace = 1 }`), as `kubectl auth can-i --list` sends it.
pub fn rules_review_body(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if media != PROTOBUF {
        return review_body(content_type, body);
    }
    let inner = body.strip_prefix(b"k8s\x00").ok_or_else(|| {
        ApiError::bad_request("the protobuf body does not start with the Kubernetes magic bytes")
    })?;
    let mut out = json!({"metadata": {}, "spec": {}});
    for (n, b) in pb_fields(inner)? {
        match n {
            1 => {
                let tm = pb_strings(b, &[(1, "apiVersion"), (2, "kind")])?;
                for key in ["apiVersion", "kind"] {
                    if let Some(v) = tm.get(key) {
                        out[key] = v.clone();
                    }
                }
            }
            2 => {
                for (f, v) in pb_fields(b)? {
                    match f {
                        1 => out["metadata"] = pb_strings(v, &[(1, "name"), (3, "namespace")])?,
                        2 => out["spec"] = pb_strings(v, &[(1, "namespace")])?,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The body of an access-review request as JSON, whatever form the client sent it in:
/// JSON, YAML or (as kubectl's typed clients do) Kubernetes protobuf.
pub fn review_body(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    match media {
        PROTOBUF => decode_review_protobuf(body),
        "application/yaml" => std::str::from_utf8(body)
            .map_err(|_| ApiError::bad_request("the YAML body is not valid UTF-8"))
            .and_then(|text| {
                serde_saphyr::from_str::<Value>(text).map_err(|e| {
                    ApiError::bad_request(format!("the YAML body does not parse: {e}"))
                })
            }),
        _ => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the JSON body does not parse: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    use super::*;
    use crate::sandbox::apiserver::kinds::{KINDS, by_name};
    use crate::sandbox::apiserver::store::Store;

    fn store() -> Store {
        let s = Store::new("global", true, Arc::new(AtomicU64::new(1)), 1000);
        s.create(
            names::NAMESPACES,
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "my-ns"}}),
        )
        .expect("namespace");
        s.create(
            names::ROLE_BINDINGS,
            Some("my-ns"),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "sa-view", "namespace": "my-ns"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
                   "subjects": [{"kind": "ServiceAccount", "name": "default"}]}),
        )
        .expect("rolebinding");
        s
    }

    fn kind(name: &str) -> &'static ResourceKind {
        &KINDS[by_name(name).expect("kind")]
    }

    fn sa() -> UserInfo {
        UserInfo {
            name: "system:serviceaccount:my-ns:default".into(),
            groups: vec![
                "system:serviceaccounts".into(),
                "system:serviceaccounts:my-ns".into(),
                "system:authenticated".into(),
            ],
        }
    }

    fn attrs(verb: &str, ns: Option<&str>, resource: &str) -> RequestAttributes {
        RequestAttributes {
            verb: verb.into(),
            resource_request: true,
            api_version: "v1".into(),
            resource: resource.into(),
            namespace: ns.map(str::to_string),
            ..RequestAttributes::default()
        }
    }

    #[test]
    fn reviews_answer_like_requests() {
        let s = store();
        let view = StoreView::new(&s);
        let ssar = kind("selfsubjectaccessreviews.authorization.k8s.io");
        for (verb, ns, want) in [
            ("list", "my-ns", true),
            ("create", "my-ns", false),
            ("list", "other", false),
        ] {
            let out = review(
                &view,
                &sa(),
                ssar,
                ReviewKind::SelfSubjectAccessReview,
                None,
                json!({"spec": {"resourceAttributes": {"verb": verb, "namespace": ns, "resource": "configmaps"}}}),
            )
            .expect("review");
            assert_eq!(out["status"]["allowed"], want, "{verb} in {ns}: {out}");
            assert_eq!(out["kind"], "SelfSubjectAccessReview");
            assert_eq!(out["apiVersion"], "authorization.k8s.io/v1");
            let real = authorize(&view, &sa(), &attrs(verb, Some(ns), "configmaps"));
            assert_eq!(real == Decision::Allow, want, "{verb} in {ns}");
        }
        let out = review(
            &view,
            &sa(),
            ssar,
            ReviewKind::SelfSubjectAccessReview,
            None,
            json!({"spec": {"resourceAttributes": {"verb": "list", "namespace": "my-ns", "resource": "configmaps"}}}),
        )
        .expect("review");
        assert_eq!(
            out["status"]["reason"],
            "RBAC: allowed by RoleBinding \"sa-view/my-ns\" of ClusterRole \"view\" to ServiceAccount \"default/my-ns\""
        );
        // Discovery and SSAR creation come from the bootstrap policy, not the store.
        let discovery = RequestAttributes {
            verb: "get".into(),
            path: "/apis".into(),
            ..RequestAttributes::default()
        };
        assert_eq!(authorize(&view, &sa(), &discovery), Decision::Allow);
        let masters = UserInfo {
            name: "admin".into(),
            groups: vec![MASTERS.into()],
        };
        assert_eq!(
            authorize(&view, &masters, &attrs("delete", None, "nodes")),
            Decision::Allow
        );
        assert_eq!(
            authorize(&view, &sa(), &attrs("delete", None, "nodes")),
            Decision::Deny(String::new())
        );
    }

    #[test]
    fn policy_changes_take_effect_at_once() {
        let s = store();
        let view = StoreView::new(&s);
        let create = attrs("create", Some("my-ns"), "configmaps");
        assert!(matches!(
            authorize(&view, &sa(), &create),
            Decision::Deny(_)
        ));
        s.create(
            names::ROLE_BINDINGS,
            Some("my-ns"),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                   "metadata": {"name": "sa-edit", "namespace": "my-ns"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
                   "subjects": [{"kind": "ServiceAccount", "name": "default"}]}),
        )
        .expect("rolebinding");
        assert_eq!(authorize(&view, &sa(), &create), Decision::Allow);
        s.delete(names::ROLE_BINDINGS, Some("my-ns"), "sa-edit")
            .expect("delete");
        assert!(matches!(
            authorize(&view, &sa(), &create),
            Decision::Deny(_)
        ));
        // A stored ClusterRole replaces the bootstrap one of the same name.
        s.create(
            names::CLUSTER_ROLES,
            None,
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "view"},
                   "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}]}),
        )
        .expect("clusterrole");
        assert_eq!(authorize(&view, &sa(), &create), Decision::Allow);
        let list = attrs("list", Some("my-ns"), "configmaps");
        assert!(matches!(authorize(&view, &sa(), &list), Decision::Deny(_)));
    }

    #[test]
    fn subject_reviews_use_the_named_subject() {
        let s = store();
        let view = StoreView::new(&s);
        let sar = kind("subjectaccessreviews.authorization.k8s.io");
        let nobody = UserInfo {
            name: "admin".into(),
            groups: vec![MASTERS.into()],
        };
        let out = review(
            &view,
            &nobody,
            sar,
            ReviewKind::SubjectAccessReview,
            None,
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                   "spec": {"user": "system:serviceaccount:my-ns:default",
                            "resourceAttributes": {"verb": "delete", "namespace": "my-ns", "resource": "configmaps"}}}),
        )
        .expect("review");
        assert_eq!(out["status"]["allowed"], false);
        let err = review(
            &view,
            &nobody,
            sar,
            ReviewKind::SubjectAccessReview,
            None,
            json!({"spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}}),
        )
        .expect_err("no subject");
        assert_eq!(err.code, 422);
        assert!(
            err.message
                .contains("at least one of user or group must be specified")
        );

        let local = kind("localsubjectaccessreviews.authorization.k8s.io");
        let err = review(
            &view,
            &nobody,
            local,
            ReviewKind::LocalSubjectAccessReview,
            Some("my-ns"),
            json!({"spec": {"user": "u", "resourceAttributes": {"verb": "get", "namespace": "other", "resource": "configmaps"}}}),
        )
        .expect_err("namespace mismatch");
        assert_eq!(err.code, 422);
        let out = review(
            &view,
            &nobody,
            local,
            ReviewKind::LocalSubjectAccessReview,
            Some("my-ns"),
            json!({"spec": {"user": "system:serviceaccount:my-ns:default",
                            "groups": ["system:serviceaccounts"],
                            "resourceAttributes": {"verb": "get", "namespace": "my-ns", "resource": "configmaps"}}}),
        )
        .expect("local review");
        assert_eq!(out["status"]["allowed"], true);
        assert_eq!(out["metadata"]["namespace"], "my-ns");
    }

    #[test]
    fn malformed_reviews_are_rejected() {
        let s = store();
        let view = StoreView::new(&s);
        let ssar = kind("selfsubjectaccessreviews.authorization.k8s.io");
        let run = |body: Value| {
            review(
                &view,
                &sa(),
                ssar,
                ReviewKind::SelfSubjectAccessReview,
                None,
                body,
            )
        };
        assert_eq!(run(json!("x")).expect_err("not object").code, 400);
        assert_eq!(run(json!({})).expect_err("no spec").code, 422);
        assert_eq!(
            run(json!({"spec": {}})).expect_err("no attributes").code,
            422
        );
        let both = json!({"spec": {"resourceAttributes": {"verb": "get"},
                                    "nonResourceAttributes": {"verb": "get", "path": "/x"}}});
        assert_eq!(run(both).expect_err("both").code, 422);
        let wrong_kind = json!({"kind": "SubjectAccessReview", "spec": {"resourceAttributes": {}}});
        assert_eq!(run(wrong_kind).expect_err("kind").code, 400);
        let non =
            run(json!({"spec": {"nonResourceAttributes": {"verb": "get", "path": "/version"}}}))
                .expect("non-resource");
        assert_eq!(non["status"]["allowed"], true);
    }

    #[test]
    fn rules_review_lists_what_the_user_holds() {
        let s = store();
        let view = StoreView::new(&s);
        let k = kind("selfsubjectaccessreviews.authorization.k8s.io");
        let out =
            rules_review(&view, &sa(), k, json!({"spec": {"namespace": "my-ns"}})).expect("review");
        let rules = out["status"]["resourceRules"].as_array().expect("rules");
        // `view` (through the RoleBinding) and `system:basic-user` (bootstrap).
        assert!(rules.iter().any(|r| {
            r["resources"]
                .as_array()
                .is_some_and(|l| l.contains(&json!("configmaps")))
                && r["verbs"] == json!(["get", "list", "watch"])
        }));
        assert!(rules.iter().any(|r| {
            r["resources"]
                .as_array()
                .is_some_and(|l| l.contains(&json!("selfsubjectaccessreviews")))
        }));
        assert!(
            !out["status"]["nonResourceRules"]
                .as_array()
                .expect("non-resource rules")
                .is_empty()
        );
        assert_eq!(out["status"]["incomplete"], false);
        let elsewhere =
            rules_review(&view, &sa(), k, json!({"spec": {"namespace": "other"}})).expect("review");
        assert!(
            !elsewhere["status"]["resourceRules"]
                .as_array()
                .expect("rules")
                .iter()
                .any(|r| r["resources"]
                    .as_array()
                    .is_some_and(|l| l.contains(&json!("configmaps"))))
        );
        let err = rules_review(&view, &sa(), k, json!({"spec": {}})).expect_err("namespace");
        assert_eq!(err.code, 422);
    }

    fn pb_len(field: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let push_varint = |mut v: u64, out: &mut Vec<u8>| loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        };
        push_varint((field << 3) | 2, &mut out);
        push_varint(bytes.len() as u64, &mut out);
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn protobuf_reviews_decode() {
        let attrs = [
            pb_len(1, b"my-ns"),
            pb_len(2, b"list"),
            pb_len(3, b""),
            pb_len(5, b"configmaps"),
        ]
        .concat();
        let spec = [
            pb_len(1, &attrs),
            pb_len(3, b"alice"),
            pb_len(4, b"ops"),
            pb_len(4, b"dev"),
        ]
        .concat();
        // A varint field (number 9) and a fixed64 field (number 10) must be skipped.
        let mut raw = [pb_len(1, &pb_len(3, b"my-ns")), pb_len(2, &spec)].concat();
        raw.extend_from_slice(&[9 << 3, 5, (10 << 3) | 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        let type_meta = [
            pb_len(1, b"authorization.k8s.io/v1"),
            pb_len(2, b"SubjectAccessReview"),
        ]
        .concat();
        let mut body = b"k8s\x00".to_vec();
        body.extend(pb_len(1, &type_meta));
        body.extend(pb_len(2, &raw));
        body.extend(pb_len(3, b""));
        body.extend(pb_len(4, b"application/vnd.kubernetes.protobuf"));
        let v = review_body("application/vnd.kubernetes.protobuf", &body).expect("decode");
        assert_eq!(
            v,
            json!({
                "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                "metadata": {"namespace": "my-ns"},
                "spec": {
                    "resourceAttributes": {"namespace": "my-ns", "verb": "list", "group": "", "resource": "configmaps"},
                    "user": "alice", "groups": ["ops", "dev"],
                },
            })
        );
        assert_eq!(
            review_body(PROTOBUF, b"k8s\x00\x0a\xff")
                .expect_err("truncated")
                .code,
            400
        );
        assert_eq!(
            review_body(PROTOBUF, b"{}").expect_err("no magic").code,
            400
        );
        let rr_raw = [pb_len(1, &pb_len(1, b"x")), pb_len(2, &pb_len(1, b"my-ns"))].concat();
        let mut rr = b"k8s\x00".to_vec();
        rr.extend(pb_len(
            1,
            &[
                pb_len(1, b"authorization.k8s.io/v1"),
                pb_len(2, b"SelfSubjectRulesReview"),
            ]
            .concat(),
        ));
        rr.extend(pb_len(2, &rr_raw));
        assert_eq!(
            rules_review_body(PROTOBUF, &rr).expect("rules review"),
            json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
                   "metadata": {"name": "x"}, "spec": {"namespace": "my-ns"}})
        );
        assert_eq!(
            review_body("application/json", br#"{"spec":{}}"#).expect("json")["spec"],
            json!({})
        );
        assert_eq!(
            review_body("application/yaml", b"spec:\n  user: bob\n").expect("yaml")["spec"]["user"],
            "bob"
        );
    }
}
