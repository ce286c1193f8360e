//! Authorization of every request and the access-review endpoints: the contract the
//! request path in `http.rs` calls. The decisions are made in [`super::access`] (RBAC in
//! [`super::rbac`]), by one function for both, so access reviews never disagree with what
//! the same request really gets.

use serde_json::Value;

use super::kinds::ResourceKind;
use super::status::ApiError;
use super::store::StoreView;

/// The authenticated (or impersonated) user of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UserInfo {
    pub name: String,
    /// Includes `system:authenticated` for every authenticated user.
    pub groups: Vec<String>,
}

/// What a request wants to do, in the terms RBAC rules use.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestAttributes {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`,
    /// `impersonate`; for non-resource requests the lower-case HTTP method (`get`, `post`…).
    pub verb: String,
    /// `false` for non-resource URLs (`/version`, `/api`, `/healthz`…).
    pub resource_request: bool,
    /// API group (`""` for core).
    pub api_group: String,
    pub api_version: String,
    /// Plural resource (`clusters`), or `users`/`groups`/`serviceaccounts`/`uids` for
    /// impersonation.
    pub resource: String,
    /// `status`, or empty.
    pub subresource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// URL path inside the cluster (`/api/v1/...`), for non-resource rules.
    pub path: String,
    /// Which cluster of the platform (`global` or a workload cluster name).
    pub cluster: String,
}

/// Outcome of authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Denied, with the reason shown in the 403 message and in access reviews.
    Deny(String),
}

/// Decides whether `user` may perform `attrs`. `view` reads the cluster's RBAC objects.
/// Members of `system:masters` are always allowed; everyone else goes through RBAC.
pub fn authorize(view: &StoreView<'_>, user: &UserInfo, attrs: &RequestAttributes) -> Decision {
    super::access::authorize(view, user, attrs)
}

/// Which access-review endpoint a request hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewKind {
    SelfSubjectAccessReview,
    SubjectAccessReview,
    LocalSubjectAccessReview,
}

/// Decodes the body of an access-review request from JSON, YAML or Kubernetes protobuf
/// into what [`review`] takes. kubectl's typed clients (`kubectl auth can-i`) send reviews
/// as `application/vnd.kubernetes.protobuf` and do not retry with JSON after a 415, so the
/// review endpoints must read their bodies with this rather than as JSON only.
pub fn review_body(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    super::access::review_body(content_type, body)
}

/// Handles `POST` of an access review. `namespace` is the URL namespace (local reviews
/// only); `body` is the decoded request object. Returns the review with `status` filled in
/// (the HTTP layer answers 201), or a Status error.
pub fn review(
    view: &StoreView<'_>,
    user: &UserInfo,
    kind: &ResourceKind,
    review_kind: ReviewKind,
    namespace: Option<&str>,
    body: Value,
) -> Result<Value, ApiError> {
    super::access::review(view, user, kind, review_kind, namespace, body)
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews` (`kubectl auth can-i
/// --list`): the rules the requesting user holds cluster-wide and in `spec.namespace`.
/// Serving it needs a `selfsubjectrulesreviews` row in the kinds table (create-only,
/// cluster-scoped) and the HTTP layer calling
/// `rules_review(&view, &user, kind, rules_review_body(&content_type, &bytes)?)`.
pub fn rules_review(
    view: &StoreView<'_>,
    user: &UserInfo,
    kind: &ResourceKind,
    body: Value,
) -> Result<Value, ApiError> {
    super::access::rules_review(view, user, kind, body)
}

/// Decodes a SelfSubjectRulesReview body (JSON, YAML or Kubernetes protobuf).
pub fn rules_review_body(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    super::access::rules_review_body(content_type, body)
}
