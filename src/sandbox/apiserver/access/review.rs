//! Access reviews (`SelfSubjectAccessReview`, `SubjectAccessReview`,
//! `LocalSubjectAccessReview`) and rules reviews, answered by the same [`super::decide`] as
//! real requests.

use serde_json::{Value, json};

use super::{MASTERS, decide, policy};
use crate::sandbox::apiserver::authz::{RequestAttributes, ReviewKind, UserInfo};
use crate::sandbox::apiserver::kinds::ResourceKind;
use crate::sandbox::apiserver::rbac::Request;
use crate::sandbox::apiserver::status::{ApiError, Cause};
use crate::sandbox::apiserver::store::StoreView;

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

/// Sets the review's type to the endpoint's and makes sure it has metadata, as the real
/// server echoes it.
fn stamp(out: &mut Value, kind: &ResourceKind) {
    out["apiVersion"] = kind.api_version().into();
    out["kind"] = kind.kind.into();
    if !out.get("metadata").is_some_and(Value::is_object) {
        out["metadata"] = json!({});
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
    stamp(&mut out, kind);
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
    stamp(&mut out, kind);
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
