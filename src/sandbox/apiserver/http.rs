//! The HTTPS front: TLS accept loop, authentication, impersonation, authorization and the
//! router that maps Kubernetes REST paths onto the store.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::authz::{self, Decision, RequestAttributes, ReviewKind, UserInfo};
use super::clusters::Clusters;
use super::discovery::{self, Aggregated};
use super::faults::Faults;
use super::kinds::{self, KINDS, KindId, ResourceKind};
use super::openapi;
use super::patch::PatchType;
use super::render::{self, Repr};
use super::selectors::{FieldSelector, LabelSelector, Selectors};
use super::status::{self, ApiError};
use super::store::{
    DeleteOutcome, ListOptions, Preconditions, Store, StoreView, Subresource, WriteOptions,
};
use super::watch::{self, Start, WatchRequest};

/// Largest request body accepted (the real apiserver's limit).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// Longest watch a client may ask for; kube-rs asks for 290 s.
const MAX_WATCH: Duration = Duration::from_secs(1800);

type Body = UnsyncBoxBody<Bytes, Infallible>;

pub(crate) struct Shared {
    pub clusters: Clusters,
    pub users: HashMap<String, UserInfo>,
    pub faults: Faults,
    pub shutdown: CancellationToken,
    pub addr: SocketAddr,
    pub bookmark_interval: Duration,
}

/// Accepts connections until shutdown, then aborts every connection.
pub(crate) async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    shared: Arc<Shared>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            r = listener.accept() => {
                let Ok((tcp, _)) = r else {
                    // Out of descriptors or similar: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let shared = shared.clone();
                conns.spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else { return };
                    let svc = hyper::service::service_fn(move |req| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(handle(shared, req).await) }
                    });
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

fn full(code: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Full::new(body.into()).boxed_unsync());
    *r.status_mut() = code;
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache, private"),
    );
    r
}

/// `fieldValidation` as upstream: Strict fails the request, Warn (the default) returns the
/// texts for `Warning` headers, Ignore checks nothing.
fn field_checks(
    kind: &ResourceKind,
    served: &[&'static ResourceKind],
    query: &Query,
    body: &Value,
) -> Result<Vec<String>, ApiError> {
    openapi::field_validation(kind, served, query.get("fieldValidation"), body)
}

/// Adds `Warning: 299 - "<text>"` headers, which kubectl prints as `Warning: <text>`.
fn with_warnings(mut resp: Response<Body>, warnings: &[String]) -> Response<Body> {
    for w in warnings {
        let text = w.replace('"', "'");
        if let Ok(v) = http::HeaderValue::from_str(&format!("299 - \"{text}\"")) {
            resp.headers_mut().append(http::header::WARNING, v);
        }
    }
    resp
}

fn json_response(code: u16, v: &Value) -> Response<Body> {
    let code = StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    full(
        code,
        "application/json",
        serde_json::to_vec(v).unwrap_or_default(),
    )
}

fn error_response(e: &ApiError) -> Response<Body> {
    let code = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if e.plain_text {
        return full(
            code,
            "text/plain; charset=utf-8",
            format!("{}\n", e.message),
        );
    }
    let mut r = full(code, "application/json", e.to_json().to_string());
    if let Some(secs) = e.details.as_ref().and_then(|d| d.retry_after_seconds)
        && let Ok(v) = header::HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let latency = shared.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match route(&shared, req).await {
        Ok(r) => r,
        Err(e) => error_response(&e),
    }
}

/// Query parameters; kube-rs starts every query with `&` and may end a URL in a bare `?`,
/// so empty pairs are skipped.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: Option<&str>) -> Query {
        Query(
            url::form_urlencoded::parse(q.unwrap_or("").as_bytes())
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, k: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }

    fn flag(&self, k: &str) -> bool {
        matches!(self.get(k), Some("true") | Some("1"))
    }
}

fn health_path(p: &str) -> bool {
    ["/healthz", "/livez", "/readyz"]
        .iter()
        .any(|h| p == *h || p.strip_prefix(h).is_some_and(|r| r.starts_with('/')))
}

/// Splits `/kubernetes/<cluster>/<rest>` into the cluster name and `/<rest>`.
fn split_cluster(path: &str) -> Option<(&str, String)> {
    let rest = path.strip_prefix("/kubernetes/")?;
    let (cluster, sub) = rest.split_once('/').unwrap_or((rest, ""));
    if cluster.is_empty() {
        return None;
    }
    Some((cluster, format!("/{sub}")))
}

fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<UserInfo, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .ok_or_else(ApiError::unauthorized)?;
    shared
        .users
        .get(token)
        .cloned()
        .ok_or_else(ApiError::unauthorized)
}

fn scope_phrase(ns: Option<&str>) -> String {
    match ns {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    }
}

/// The 403 a real apiserver sends.
fn forbidden(user: &UserInfo, a: &RequestAttributes, reason: &str) -> ApiError {
    let suffix = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    if !a.resource_request {
        return ApiError::forbidden(format!(
            "forbidden: User \"{}\" cannot {} path \"{}\"{suffix}",
            user.name, a.verb, a.path
        ));
    }
    let qualified = if a.api_group.is_empty() {
        a.resource.clone()
    } else {
        format!("{}.{}", a.resource, a.api_group)
    };
    let subject = match &a.name {
        Some(n) => format!("{qualified} \"{n}\""),
        None => qualified,
    };
    let res = if a.subresource.is_empty() {
        a.resource.clone()
    } else {
        format!("{}/{}", a.resource, a.subresource)
    };
    ApiError::forbidden(format!(
        "{subject} is forbidden: User \"{}\" cannot {} resource \"{res}\" in API group \"{}\" {}{suffix}",
        user.name,
        a.verb,
        a.api_group,
        scope_phrase(a.namespace.as_deref())
    ))
    .with_details(status::Details {
        name: a.name.clone().unwrap_or_default(),
        group: a.api_group.clone(),
        kind: a.resource.clone(),
        ..status::Details::default()
    })
}

fn check(view: &StoreView<'_>, user: &UserInfo, a: &RequestAttributes) -> Result<(), ApiError> {
    match authz::authorize(view, user, a) {
        Decision::Allow => Ok(()),
        Decision::Deny(reason) => Err(forbidden(user, a, &reason)),
    }
}

/// Applies `Impersonate-*` headers after checking the `impersonate` verb for each.
fn impersonate(
    view: &StoreView<'_>,
    user: UserInfo,
    headers: &HeaderMap,
    cluster: &str,
    path: &str,
) -> Result<UserInfo, ApiError> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
            .collect()
    };
    let target_user = values("impersonate-user").into_iter().next();
    let groups = values("impersonate-group");
    let uid = values("impersonate-uid").into_iter().next();
    let extras: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(k, v)| {
            let key = k.as_str().strip_prefix("impersonate-extra-")?;
            Some((key.to_string(), v.to_str().ok()?.to_string()))
        })
        .collect();
    let Some(target) = target_user else {
        if !groups.is_empty() || uid.is_some() || !extras.is_empty() {
            return Err(ApiError::internal(
                "requested impersonation of groups, uid or extra without impersonating a user",
            ));
        }
        return Ok(user);
    };
    let attrs = |resource: &str, sub: &str, ns: Option<&str>, name: &str| RequestAttributes {
        verb: "impersonate".into(),
        resource_request: true,
        api_group: if resource == "serviceaccounts" {
            String::new()
        } else {
            "authentication.k8s.io".into()
        },
        api_version: "v1".into(),
        resource: resource.into(),
        subresource: sub.into(),
        namespace: ns.map(str::to_string),
        name: Some(name.to_string()),
        path: path.to_string(),
        cluster: cluster.to_string(),
    };
    let sa = target
        .strip_prefix("system:serviceaccount:")
        .and_then(|r| r.split_once(':'));
    let first = match sa {
        Some((ns, name)) => {
            let mut a = attrs("serviceaccounts", "", Some(ns), name);
            a.api_group = String::new();
            a
        }
        None => {
            let mut a = attrs("users", "", None, &target);
            a.api_group = String::new();
            a
        }
    };
    check(view, &user, &first)?;
    for g in &groups {
        let mut a = attrs("groups", "", None, g);
        a.api_group = String::new();
        check(view, &user, &a)?;
    }
    if let Some(u) = &uid {
        check(view, &user, &attrs("uids", "", None, u))?;
    }
    for (k, v) in &extras {
        check(view, &user, &attrs("userextras", k, None, v))?;
    }
    let mut out_groups = groups;
    if let Some((ns, _)) = sa {
        for g in [
            "system:serviceaccounts".to_string(),
            format!("system:serviceaccounts:{ns}"),
        ] {
            if !out_groups.contains(&g) {
                out_groups.push(g);
            }
        }
    }
    if target != "system:anonymous" && !out_groups.iter().any(|g| g == "system:authenticated") {
        out_groups.push("system:authenticated".into());
    }
    Ok(UserInfo {
        name: target,
        groups: out_groups,
    })
}

/// What a URL inside a cluster addresses.
enum Target {
    Version,
    Health,
    CoreVersions,
    CoreResources,
    Groups,
    Group(String),
    GroupResources(String, String),
    OpenApi,
    Resource {
        kind_id: KindId,
        namespace: Option<String>,
        name: Option<String>,
        subresource: Option<String>,
    },
}

fn parse_target(path: &str, global: bool) -> Result<Target, ApiError> {
    let p = path.trim_end_matches('/');
    if p == "/version" {
        return Ok(Target::Version);
    }
    if health_path(p) {
        return Ok(Target::Health);
    }
    if p == "/openapi" || p.starts_with("/openapi/") {
        return Ok(Target::OpenApi);
    }
    let segs: Vec<&str> = p.split('/').skip(1).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api"] => return Ok(Target::CoreVersions),
        ["api", "v1"] => return Ok(Target::CoreResources),
        ["apis"] => return Ok(Target::Groups),
        ["apis", g] => return Ok(Target::Group((*g).to_string())),
        ["apis", g, v] => return Ok(Target::GroupResources((*g).to_string(), (*v).to_string())),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(ApiError::page_not_found()),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if !matches!(*plural, "status" | "finalize") || !tail.is_empty() =>
        {
            (Some((*ns).to_string()), {
                let mut v = vec![*plural];
                v.extend_from_slice(tail);
                v
            })
        }
        _ => (None, rest.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, sub] => (*plural, Some(*name), Some(*sub)),
        _ => return Err(ApiError::page_not_found()),
    };
    let kind_id = kinds::by_path(group, version, plural).ok_or_else(ApiError::page_not_found)?;
    let kind = &KINDS[kind_id];
    if !kind.served_in_cluster(global) {
        return Err(ApiError::page_not_found());
    }
    if namespace.is_some() && !kind.namespaced {
        return Err(ApiError::page_not_found());
    }
    if let Some(s) = sub
        && !(s == "status" && kind.status_subresource)
    {
        return Err(ApiError::page_not_found());
    }
    Ok(Target::Resource {
        kind_id,
        namespace,
        name: name.map(str::to_string),
        subresource: sub.map(str::to_string),
    })
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> &str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// Percent-decodes a URL path (`system%3Acontroller%3Ax` names RBAC objects). Names never
/// contain `/`, so decoding before splitting cannot change the route.
fn decode_path(raw: &str) -> Result<String, ApiError> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request("the request path is not valid UTF-8"))
}

async fn route(shared: &Shared, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let path = decode_path(req.uri().path())?;
    // Real clusters serve these to anyone (system:public-info-viewer).
    let inner_path = split_cluster(&path).map(|(_, p)| p);
    let probe = inner_path.as_deref().unwrap_or(&path);
    if req.method() == Method::GET && health_path(probe.trim_end_matches('/')) {
        return Ok(full(StatusCode::OK, "text/plain; charset=utf-8", "ok"));
    }
    if req.method() == Method::GET && probe.trim_end_matches('/') == "/version" {
        return Ok(json_response(200, &discovery::version()));
    }
    let user = authenticate(shared, req.headers())?;
    if shared.faults.take_failure() {
        return Err(ApiError::internal("injected failure"));
    }
    let Some((cluster, inner)) = split_cluster(&path) else {
        return Err(ApiError::page_not_found());
    };
    let store = shared.clusters.get(cluster).ok_or_else(|| {
        ApiError::new(404, "NotFound", format!("cluster \"{cluster}\" not found")).with_details(
            status::Details {
                name: cluster.to_string(),
                group: "platform.tkestack.io".into(),
                kind: "clusters".into(),
                ..status::Details::default()
            },
        )
    })?;
    let view = StoreView::new(&store);
    let user = impersonate(&view, user, req.headers(), cluster, &inner)?;
    let target = parse_target(&inner, store.is_global())?;
    let served: Vec<&'static ResourceKind> = kinds::served(store.is_global()).collect();
    let non_resource = |verb: &str| RequestAttributes {
        verb: verb.to_string(),
        resource_request: false,
        path: inner.clone(),
        cluster: cluster.to_string(),
        ..RequestAttributes::default()
    };
    let method_verb = req.method().as_str().to_ascii_lowercase();
    let accept = header_str(req.headers(), header::ACCEPT).to_string();
    let resource = match target {
        Target::Resource {
            kind_id,
            namespace,
            name,
            subresource,
        } => (kind_id, namespace, name, subresource),
        other => {
            check(&view, &user, &non_resource(&method_verb))?;
            if req.method() != Method::GET {
                return Err(ApiError::method_not_allowed(format!(
                    "the server does not allow this method on the requested resource ({})",
                    req.method()
                )));
            }
            return Ok(match other {
                Target::Version => json_response(200, &discovery::version()),
                Target::Health => full(StatusCode::OK, "text/plain; charset=utf-8", "ok"),
                Target::CoreVersions => match Aggregated::from_accept(&accept) {
                    Some(a) => aggregated_response(&served, true, a),
                    None => json_response(200, &discovery::core_versions(&shared.addr.to_string())),
                },
                Target::Groups => match Aggregated::from_accept(&accept) {
                    Some(a) => aggregated_response(&served, false, a),
                    None => json_response(200, &discovery::group_list(&served)),
                },
                Target::CoreResources => json_response(
                    200,
                    &discovery::resource_list(&served, "", "v1")
                        .ok_or_else(ApiError::page_not_found)?,
                ),
                Target::Group(g) => json_response(
                    200,
                    &discovery::group(&served, &g).ok_or_else(ApiError::page_not_found)?,
                ),
                Target::GroupResources(g, v) => json_response(
                    200,
                    &discovery::resource_list(&served, &g, &v)
                        .ok_or_else(ApiError::page_not_found)?,
                ),
                // client-go fetches /openapi/v2 as protobuf and kubectl as JSON: negotiate.
                Target::OpenApi => {
                    match openapi::respond(inner.trim_end_matches('/'), &accept, &served)? {
                        Some((content_type, body)) => full(StatusCode::OK, content_type, body),
                        None => return Err(ApiError::page_not_found()),
                    }
                }
                Target::Resource { .. } => return Err(ApiError::page_not_found()),
            });
        }
    };
    let (kind_id, namespace, name, subresource) = resource;
    let kind = &KINDS[kind_id];
    let query = Query::parse(req.uri().query());
    let is_watch = req.method() == Method::GET && name.is_none() && query.flag("watch");
    let verb = match (req.method().clone(), name.is_some()) {
        (Method::GET, false) if is_watch => "watch",
        (Method::GET, false) => "list",
        (Method::GET, true) => "get",
        (Method::POST, false) => "create",
        (Method::PUT, true) => "update",
        (Method::PATCH, true) => "patch",
        (Method::DELETE, true) => "delete",
        (Method::DELETE, false) => "deletecollection",
        (m, _) => {
            return Err(ApiError::method_not_allowed(format!(
                "the server does not allow this method on the requested resource ({m})"
            )));
        }
    };
    if kind.create_only && verb != "create" {
        return Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({})",
            req.method()
        )));
    }
    let attrs = RequestAttributes {
        verb: verb.to_string(),
        resource_request: true,
        api_group: kind.group.to_string(),
        api_version: kind.version.to_string(),
        resource: kind.resource.to_string(),
        subresource: subresource.clone().unwrap_or_default(),
        namespace: namespace.clone(),
        name: name.clone(),
        path: inner.clone(),
        cluster: cluster.to_string(),
    };
    check(&view, &user, &attrs)?;
    let repr = Repr::from_accept(&accept);
    let sub = if subresource.is_some() {
        Subresource::Status
    } else {
        Subresource::Main
    };
    let ctx = Ctx {
        shared,
        store: &store,
        kind_id,
        kind,
        ns: namespace.as_deref(),
        query: &query,
        repr,
    };
    let content_type = header_str(req.headers(), header::CONTENT_TYPE).to_string();
    let user_agent = header_str(req.headers(), header::USER_AGENT).to_string();
    match verb {
        "watch" => ctx.watch(),
        "list" => ctx.list().await,
        "get" => ctx.get(name.as_deref().unwrap_or_default()),
        "create" if kind.resource == "selfsubjectrulesreviews" => {
            let bytes = read_body(req).await?;
            let body = authz::rules_review_body(&content_type, &bytes)?;
            let out = authz::rules_review(&view, &user, kind, body)?;
            Ok(json_response(201, &out))
        }
        "create" if kind.create_only => {
            // kubectl's typed clients send reviews as protobuf; authz decodes every form.
            let bytes = read_body(req).await?;
            let body = authz::review_body(&content_type, &bytes)?;
            let review_kind = match kind.resource {
                "selfsubjectaccessreviews" => ReviewKind::SelfSubjectAccessReview,
                "subjectaccessreviews" => ReviewKind::SubjectAccessReview,
                _ => ReviewKind::LocalSubjectAccessReview,
            };
            let out = authz::review(&view, &user, kind, review_kind, namespace.as_deref(), body)?;
            Ok(json_response(201, &out))
        }
        _ => {
            let opts = write_options(&query, &user_agent)?;
            match verb {
                "create" => {
                    let body = read_json(req, &content_type).await?;
                    let warnings = field_checks(kind, &served, &query, &body)?;
                    let out = store.create_at(kind_id, namespace.as_deref(), body, &opts)?;
                    Ok(with_warnings(
                        json_response(201, &render::object(kind, &out, repr)),
                        &warnings,
                    ))
                }
                "update" => {
                    let name = name.unwrap_or_default();
                    let body = read_json(req, &content_type).await?;
                    let body_name = body
                        .get("metadata")
                        .and_then(|m| m.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    if body_name != name {
                        return Err(ApiError::bad_request(format!(
                            "the name of the object ({body_name}) does not match the name on the URL ({name})"
                        )));
                    }
                    if kind.custom
                        && body
                            .get("metadata")
                            .and_then(|m| m.get("resourceVersion"))
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .is_empty()
                    {
                        return Err(ApiError::invalid(
                            kind,
                            &name,
                            vec![status::Cause {
                                reason: "FieldValueInvalid".into(),
                                message: "Invalid value: 0x0: must be specified for an update"
                                    .into(),
                                field: "metadata.resourceVersion".into(),
                            }],
                        ));
                    }
                    let warnings = field_checks(kind, &served, &query, &body)?;
                    let out =
                        store.replace_at(kind_id, namespace.as_deref(), &name, sub, body, &opts)?;
                    Ok(with_warnings(
                        json_response(200, &render::object(kind, &out, repr)),
                        &warnings,
                    ))
                }
                "patch" => {
                    let name = name.unwrap_or_default();
                    let pt = PatchType::from_content_type(&content_type, kind)?;
                    let bytes = read_body(req).await?;
                    let body = if pt == PatchType::Apply {
                        parse_yaml_or_json(&bytes)?
                    } else {
                        parse_json(&bytes)?
                    };
                    // An apply body is a whole (partial) object, so it can be checked like a
                    // create; merge and JSON patches are fragments and are not.
                    let warnings = if pt == PatchType::Apply {
                        field_checks(kind, &served, &query, &body)?
                    } else {
                        Vec::new()
                    };
                    let (out, created) = store.patch_at(
                        kind_id,
                        namespace.as_deref(),
                        &name,
                        sub,
                        pt,
                        body,
                        &opts,
                    )?;
                    Ok(with_warnings(
                        json_response(
                            if created { 201 } else { 200 },
                            &render::object(kind, &out, repr),
                        ),
                        &warnings,
                    ))
                }
                "delete" => {
                    let name = name.unwrap_or_default();
                    let bytes = read_body(req).await?;
                    let (pre, dry) = delete_options(&content_type, &bytes)?;
                    let opts = WriteOptions {
                        dry_run: opts.dry_run || dry,
                        ..opts
                    };
                    match store.delete_at(kind_id, namespace.as_deref(), &name, &pre, &opts)? {
                        DeleteOutcome::Deleted(o) => {
                            let uid = o
                                .get("metadata")
                                .and_then(|m| m.get("uid"))
                                .and_then(Value::as_str)
                                .unwrap_or("");
                            Ok(json_response(
                                200,
                                &status::delete_success(kind, &name, uid),
                            ))
                        }
                        DeleteOutcome::Pending(o) => {
                            Ok(json_response(200, &render::object(kind, &o, repr)))
                        }
                    }
                }
                _ => {
                    let bytes = read_body(req).await?;
                    let (_, dry) = delete_options(&content_type, &bytes)?;
                    let opts = WriteOptions {
                        dry_run: opts.dry_run || dry,
                        ..opts
                    };
                    ctx.delete_collection(&opts)
                }
            }
        }
    }
}

fn aggregated_response(
    served: &[&'static ResourceKind],
    core: bool,
    a: Aggregated,
) -> Response<Body> {
    let body = discovery::aggregated(served, core, a);
    full(
        StatusCode::OK,
        a.content_type(),
        serde_json::to_vec(&body).unwrap_or_default(),
    )
}

fn write_options(q: &Query, user_agent: &str) -> Result<WriteOptions, ApiError> {
    let dry_run = match q.get("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid dry run value: unsupported value \"{other}\": supported values: \"All\""
            )));
        }
    };
    if let Some(v) = q.get("fieldValidation")
        && !["", "Strict", "Warn", "Ignore"].contains(&v)
    {
        return Err(ApiError::bad_request(format!(
            "fieldValidation: Unsupported value: \"{v}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
        )));
    }
    let field_manager = match q.get("fieldManager") {
        Some(m) if !m.is_empty() => {
            if m.len() > 128 {
                return Err(ApiError::bad_request(
                    "fieldManager: Too long: may not be longer than 128",
                ));
            }
            Some(m.to_string())
        }
        _ => user_agent
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    };
    Ok(WriteOptions {
        dry_run,
        field_manager,
        force: q.flag("force"),
        creation_timestamp: None,
    })
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::new(
                413,
                "RequestEntityTooLarge",
                "the request entity is too large",
            ))
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "reading the request body: {e}"
        ))),
    }
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of the request was in an unknown format - couldn't get version/kind; json parse error: {e}"
        ))
    })
}

fn parse_yaml_or_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Ok(v);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("the body of the request is not valid UTF-8"))?;
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
}

/// Reads a create/update body: JSON, or YAML when the client says so.
async fn read_json(req: Request<Incoming>, content_type: &str) -> Result<Value, ApiError> {
    let base = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let bytes = read_body(req).await?;
    match base.as_str() {
        "" | "application/json" | "*/*" => parse_json(&bytes),
        "application/yaml" => parse_yaml_or_json(&bytes),
        "application/vnd.kubernetes.protobuf" => super::protobuf::decode(&bytes),
        other => Err(ApiError::unsupported_media_type(
            other,
            &[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
            ],
        )),
    }
}

/// `DeleteOptions` from a DELETE body (`{}` or empty when defaulted).
fn delete_options(content_type: &str, bytes: &[u8]) -> Result<(Preconditions, bool), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((Preconditions::default(), false));
    }
    let v = if content_type.starts_with("application/vnd.kubernetes.protobuf") {
        super::protobuf::decode(bytes)?
    } else {
        parse_json(bytes)?
    };
    let dry = match v.get("dryRun") {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) if a.is_empty() => false,
        Some(Value::Array(a)) if a.len() == 1 && a[0] == "All" => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid dry run value: unsupported value {other}: supported values: \"All\""
            )));
        }
    };
    let pre = v.get("preconditions");
    let s = |k: &str| {
        pre.and_then(|p| p.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok((
        Preconditions {
            uid: s("uid"),
            resource_version: s("resourceVersion"),
        },
        dry,
    ))
}

struct Ctx<'a> {
    shared: &'a Shared,
    store: &'a Store,
    kind_id: KindId,
    kind: &'static ResourceKind,
    ns: Option<&'a str>,
    query: &'a Query,
    repr: Repr,
}

impl Ctx<'_> {
    fn selectors(&self) -> Result<Selectors, ApiError> {
        Ok(Selectors {
            labels: LabelSelector::parse(self.query.get("labelSelector").unwrap_or(""))?,
            fields: FieldSelector::parse(self.query.get("fieldSelector").unwrap_or(""), self.kind)?,
        })
    }

    fn parse_rv(&self) -> Result<Option<u64>, ApiError> {
        match self.query.get("resourceVersion") {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid resource version \"{s}\""))),
        }
    }

    fn list_options_invalid(&self, field: &str, msg: &str) -> ApiError {
        ApiError::new(
            422,
            "Invalid",
            format!("ListOptions.meta.k8s.io \"\" is invalid: {field}: {msg}"),
        )
        .with_details(status::Details {
            group: "meta.k8s.io".into(),
            kind: "ListOptions".into(),
            causes: vec![status::Cause {
                reason: "FieldValueForbidden".into(),
                message: msg.to_string(),
                field: field.to_string(),
            }],
            ..status::Details::default()
        })
    }

    fn get(&self, name: &str) -> Result<Response<Body>, ApiError> {
        self.parse_rv()?;
        let obj = self.store.get_at(self.kind_id, self.ns, name)?;
        Ok(json_response(
            200,
            &render::object(self.kind, &obj, self.repr),
        ))
    }

    async fn list(&self) -> Result<Response<Body>, ApiError> {
        let selectors = self.selectors()?;
        let limit = match self.query.get("limit") {
            None | Some("") => None,
            Some(s) => Some(
                s.parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("limit: invalid value \"{s}\"")))?,
            ),
        };
        let rv = self.parse_rv()?;
        let rv_match = self.query.get("resourceVersionMatch").unwrap_or("");
        let cont = self.query.get("continue").filter(|c| !c.is_empty());
        if !rv_match.is_empty() {
            if rv.is_none() {
                return Err(self.list_options_invalid(
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if cont.is_some() {
                return Err(self.list_options_invalid(
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if !["Exact", "NotOlderThan"].contains(&rv_match) {
                return Err(self.list_options_invalid(
                    "resourceVersionMatch",
                    &format!("Unsupported value: \"{rv_match}\": supported values: \"Exact\", \"NotOlderThan\""),
                ));
            }
        }
        let current = self.store.resource_version();
        let mut exact_rv = None;
        if let Some(want) = rv.filter(|r| *r > 0) {
            if rv_match == "Exact" && want < current {
                // Servable only if nothing of this kind changed since `want`.
                if !self.store.unchanged_since(self.kind_id, self.ns, want) {
                    return Err(ApiError::expired(format!(
                        "too old resource version: {want} ({current})"
                    )));
                }
                exact_rv = Some(want);
            }
            if want > current {
                self.wait_for_rv(want).await?;
            }
        }
        let page = self.store.list_at(
            self.kind_id,
            self.ns,
            &ListOptions {
                selectors,
                limit: limit.filter(|l| *l > 0).map(|l| l as usize),
                continue_token: cont.map(str::to_string),
            },
        )?;
        let body = render::list(
            self.kind,
            &page.items,
            exact_rv.unwrap_or(page.resource_version),
            page.continue_token.as_deref(),
            self.repr,
        );
        Ok(full(StatusCode::OK, "application/json", body))
    }

    /// A list/watch at an RV the store has not reached: wait up to 3 s like the apiserver.
    async fn wait_for_rv(&self, want: u64) -> Result<(), ApiError> {
        let mut changes = self.store.changes();
        let until = tokio::time::Instant::now() + Duration::from_secs(3);
        while self.store.resource_version() < want {
            tokio::select! {
                r = changes.changed() => if r.is_err() { break },
                _ = tokio::time::sleep_until(until) => return Err(ApiError::too_large_rv()),
            }
        }
        Ok(())
    }

    fn watch(&self) -> Result<Response<Body>, ApiError> {
        let selectors = self.selectors()?;
        let rv = self.parse_rv()?;
        let send_initial = self.query.get("sendInitialEvents");
        let rv_match = self.query.get("resourceVersionMatch").unwrap_or("");
        let start = match send_initial {
            Some("true") => {
                if rv_match != "NotOlderThan" {
                    return Err(self.list_options_invalid(
                        "sendInitialEvents",
                        "Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan",
                    ));
                }
                if !self.query.flag("allowWatchBookmarks") {
                    return Err(self.list_options_invalid(
                        "allowWatchBookmarks",
                        "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
                    ));
                }
                Start::InitialEvents
            }
            Some("false") | None | Some("") => {
                if !rv_match.is_empty() && rv_match != "NotOlderThan" {
                    return Err(self.list_options_invalid(
                        "resourceVersionMatch",
                        "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    ));
                }
                match rv {
                    None | Some(0) => Start::CurrentState,
                    Some(n) => Start::From(n),
                }
            }
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "sendInitialEvents: invalid value \"{other}\""
                )));
            }
        };
        let timeout = match self.query.get("timeoutSeconds") {
            None | Some("") => MAX_WATCH,
            Some(s) => {
                let secs: u64 = s.parse().map_err(|_| {
                    ApiError::bad_request(format!("timeoutSeconds: invalid value \"{s}\""))
                })?;
                // 0 means "server default", as upstream.
                if secs == 0 {
                    MAX_WATCH
                } else {
                    Duration::from_secs(secs).min(MAX_WATCH)
                }
            }
        };
        let req = WatchRequest {
            kind_id: self.kind_id,
            namespace: if self.kind.namespaced {
                self.ns.map(str::to_string)
            } else {
                None
            },
            selectors,
            start,
            timeout,
            bookmarks: self.query.flag("allowWatchBookmarks"),
            bookmark_interval: self.shared.bookmark_interval,
            repr: self.repr,
        };
        let rx = watch::spawn(
            self.store.clone(),
            req,
            &self.shared.faults,
            self.shared.shutdown.clone(),
        );
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
        });
        let mut r = Response::new(BodyExt::boxed_unsync(StreamBody::new(stream)));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-cache, private"),
        );
        Ok(r)
    }

    fn delete_collection(&self, opts: &WriteOptions) -> Result<Response<Body>, ApiError> {
        if self.kind.namespaced && self.ns.is_none() {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource (delete)",
            ));
        }
        let selectors = self.selectors()?;
        let page = self.store.list_at(
            self.kind_id,
            self.ns,
            &ListOptions {
                selectors,
                ..ListOptions::default()
            },
        )?;
        let mut deleted = Vec::new();
        for item in &page.items {
            let name = item
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            match self
                .store
                .delete_at(self.kind_id, self.ns, name, &Preconditions::default(), opts)
            {
                Ok(DeleteOutcome::Deleted(o)) | Ok(DeleteOutcome::Pending(o)) => deleted.push(o),
                // Deleted concurrently: not ours to report.
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        let rv = self.store.resource_version();
        let body = render::list(self.kind, &deleted, rv, None, self.repr);
        Ok(full(StatusCode::OK, "application/json", body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_decoded() {
        assert_eq!(
            decode_path("/x/system%3Acontroller%3Aa").expect("ok"),
            "/x/system:controller:a"
        );
        assert_eq!(decode_path("/a%2").expect("ok"), "/a%2");
        assert!(decode_path("/%ff").is_err());
    }

    #[test]
    fn targets() {
        let t = parse_target("/api/v1/namespaces/default/configmaps/a", true).expect("cm");
        assert!(
            matches!(t, Target::Resource { namespace: Some(ns), name: Some(n), subresource: None, .. } if ns == "default" && n == "a")
        );
        let t = parse_target("/api/v1/namespaces/default/status", true).expect("ns status");
        assert!(
            matches!(t, Target::Resource { namespace: None, name: Some(n), subresource: Some(s), .. } if n == "default" && s == "status")
        );
        assert!(parse_target("/apis/platform.tkestack.io/v1/clusters", false).is_err());
        assert!(
            parse_target(
                "/apis/rbac.authorization.k8s.io/v1/namespaces/x/clusterroles",
                true
            )
            .is_err()
        );
        assert!(
            parse_target("/api/v1/configmaps/a/status", true).is_err(),
            "no status subresource"
        );
    }
}
