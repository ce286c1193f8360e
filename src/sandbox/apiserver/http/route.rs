//! The router: from an authenticated request to discovery, OpenAPI or a resource verb.

use http::{Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;

use super::auth::{authenticate, check, impersonate};
use super::body::{delete_options, read_body, write_options};
use super::ctx::Ctx;
use super::target::{Target, decode_path, health_path, parse_target, split_cluster};
use super::{Body, Query, Shared, full, header_str, json_response};
use crate::sandbox::apiserver::authz::{self, RequestAttributes, ReviewKind, UserInfo};
use crate::sandbox::apiserver::discovery::{self, Aggregated};
use crate::sandbox::apiserver::kinds::{self, KINDS, KindId, ResourceKind};
use crate::sandbox::apiserver::openapi;
use crate::sandbox::apiserver::render::Repr;
use crate::sandbox::apiserver::status::{self, ApiError};
use crate::sandbox::apiserver::store::{Store, StoreView, Subresource, WriteOptions};

/// The cluster a request addresses and who is asking, once authenticated.
struct Scope<'a> {
    shared: &'a Shared,
    cluster: &'a str,
    /// The path below the cluster prefix.
    inner: &'a str,
    store: &'a Store,
    user: &'a UserInfo,
    served: &'a [&'static ResourceKind],
}

impl Scope<'_> {
    fn view(&self) -> StoreView<'_> {
        StoreView::new(self.store)
    }
}

/// A resource URL's parts, as [`Target::Resource`] carries them.
struct Addressed {
    kind_id: KindId,
    namespace: Option<String>,
    name: Option<String>,
    subresource: Option<String>,
}

pub(super) async fn route(
    shared: &Shared,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let path = decode_path(req.uri().path())?;
    if let Some(resp) = public_info(req.method(), &path) {
        return Ok(resp);
    }
    let user = authenticate(shared, req.headers())?;
    if shared.faults.take_failure() {
        return Err(ApiError::internal("injected failure"));
    }
    let Some((cluster, inner)) = split_cluster(&path) else {
        return Err(ApiError::page_not_found());
    };
    let store = shared
        .clusters
        .get(cluster)
        .ok_or_else(|| cluster_not_found(cluster))?;
    let user = impersonate(
        &StoreView::new(&store),
        user,
        req.headers(),
        cluster,
        &inner,
    )?;
    let target = parse_target(&inner, store.is_global())?;
    let served: Vec<&'static ResourceKind> = kinds::served(store.is_global()).collect();
    let scope = Scope {
        shared,
        cluster,
        inner: &inner,
        store: &store,
        user: &user,
        served: &served,
    };
    match target {
        Target::Resource {
            kind_id,
            namespace,
            name,
            subresource,
        } => {
            let at = Addressed {
                kind_id,
                namespace,
                name,
                subresource,
            };
            resource(&scope, req, at).await
        }
        other => non_resource(&scope, &req, other),
    }
}

/// Health and version, which real clusters serve to anyone (system:public-info-viewer).
fn public_info(method: &Method, path: &str) -> Option<Response<Body>> {
    let inner_path = split_cluster(path).map(|(_, p)| p);
    let probe = inner_path.as_deref().unwrap_or(path).trim_end_matches('/');
    if method != Method::GET {
        return None;
    }
    if health_path(probe) {
        return Some(full(StatusCode::OK, "text/plain; charset=utf-8", "ok"));
    }
    (probe == "/version").then(|| json_response(200, &discovery::version()))
}

fn cluster_not_found(cluster: &str) -> ApiError {
    ApiError::new(404, "NotFound", format!("cluster \"{cluster}\" not found")).with_details(
        status::Details {
            name: cluster.to_string(),
            group: "platform.tkestack.io".into(),
            kind: "clusters".into(),
            ..status::Details::default()
        },
    )
}

fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::method_not_allowed(format!(
        "the server does not allow this method on the requested resource ({method})"
    ))
}

/// Discovery, OpenAPI, version and health inside a cluster: GET only.
fn non_resource(
    s: &Scope<'_>,
    req: &Request<Incoming>,
    target: Target,
) -> Result<Response<Body>, ApiError> {
    let attrs = RequestAttributes {
        verb: req.method().as_str().to_ascii_lowercase(),
        resource_request: false,
        path: s.inner.to_string(),
        cluster: s.cluster.to_string(),
        ..RequestAttributes::default()
    };
    check(&s.view(), s.user, &attrs)?;
    if req.method() != Method::GET {
        return Err(method_not_allowed(req.method()));
    }
    let accept = header_str(req.headers(), header::ACCEPT);
    let served = s.served;
    let found = |v: Option<serde_json::Value>| {
        v.map(|v| json_response(200, &v))
            .ok_or_else(ApiError::page_not_found)
    };
    match target {
        Target::Version => Ok(json_response(200, &discovery::version())),
        Target::Health => Ok(full(StatusCode::OK, "text/plain; charset=utf-8", "ok")),
        Target::CoreVersions => Ok(match Aggregated::from_accept(accept) {
            Some(a) => aggregated_response(served, true, a),
            None => json_response(200, &discovery::core_versions(&s.shared.addr.to_string())),
        }),
        Target::Groups => Ok(match Aggregated::from_accept(accept) {
            Some(a) => aggregated_response(served, false, a),
            None => json_response(200, &discovery::group_list(served)),
        }),
        Target::CoreResources => found(discovery::resource_list(served, "", "v1")),
        Target::Group(g) => found(discovery::group(served, &g)),
        Target::GroupResources(g, v) => found(discovery::resource_list(served, &g, &v)),
        // client-go fetches /openapi/v2 as protobuf and kubectl as JSON: negotiate.
        Target::OpenApi => match openapi::respond(s.inner.trim_end_matches('/'), accept, served)? {
            Some((content_type, body)) => Ok(full(StatusCode::OK, content_type, body)),
            None => Err(ApiError::page_not_found()),
        },
        Target::Resource { .. } => Err(ApiError::page_not_found()),
    }
}

/// The Kubernetes verb of a resource request.
fn resource_verb(method: &Method, named: bool, query: &Query) -> Result<&'static str, ApiError> {
    let is_watch = *method == Method::GET && !named && query.flag("watch");
    Ok(match (method.clone(), named) {
        (Method::GET, false) if is_watch => "watch",
        (Method::GET, false) => "list",
        (Method::GET, true) => "get",
        (Method::POST, false) => "create",
        (Method::PUT, true) => "update",
        (Method::PATCH, true) => "patch",
        (Method::DELETE, true) => "delete",
        (Method::DELETE, false) => "deletecollection",
        (m, _) => return Err(method_not_allowed(&m)),
    })
}

async fn resource(
    s: &Scope<'_>,
    req: Request<Incoming>,
    at: Addressed,
) -> Result<Response<Body>, ApiError> {
    let kind = &KINDS[at.kind_id];
    let query = Query::parse(req.uri().query());
    let verb = resource_verb(req.method(), at.name.is_some(), &query)?;
    if kind.create_only && verb != "create" {
        return Err(method_not_allowed(req.method()));
    }
    let attrs = RequestAttributes {
        verb: verb.to_string(),
        resource_request: true,
        api_group: kind.group.to_string(),
        api_version: kind.version.to_string(),
        resource: kind.resource.to_string(),
        subresource: at.subresource.clone().unwrap_or_default(),
        namespace: at.namespace.clone(),
        name: at.name.clone(),
        path: s.inner.to_string(),
        cluster: s.cluster.to_string(),
    };
    check(&s.view(), s.user, &attrs)?;
    let content_type = header_str(req.headers(), header::CONTENT_TYPE).to_string();
    let ctx = Ctx {
        shared: s.shared,
        store: s.store,
        kind_id: at.kind_id,
        kind,
        ns: at.namespace.as_deref(),
        query: &query,
        repr: Repr::from_accept(header_str(req.headers(), header::ACCEPT)),
        served: s.served,
        sub: if at.subresource.is_some() {
            Subresource::Status
        } else {
            Subresource::Main
        },
    };
    let name = at.name.as_deref().unwrap_or_default();
    match verb {
        "watch" => ctx.watch(),
        "list" => ctx.list().await,
        "get" => ctx.get(name),
        "create" if kind.create_only => review(s, kind, at.namespace.as_deref(), req).await,
        _ => {
            let user_agent = header_str(req.headers(), header::USER_AGENT).to_string();
            let opts = write_options(&query, &user_agent)?;
            match verb {
                "create" => ctx.create(req, &content_type, &opts).await,
                "update" => ctx.update(name, req, &content_type, &opts).await,
                "patch" => ctx.patch(name, req, &content_type, &opts).await,
                "delete" => ctx.delete(name, req, &content_type, opts).await,
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

/// Access and rules reviews: answered from RBAC, never stored. kubectl's typed clients send
/// them as protobuf; authz decodes every form.
async fn review(
    s: &Scope<'_>,
    kind: &'static ResourceKind,
    namespace: Option<&str>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let content_type = header_str(req.headers(), header::CONTENT_TYPE).to_string();
    let bytes = read_body(req).await?;
    let view = s.view();
    let out = if kind.resource == "selfsubjectrulesreviews" {
        let body = authz::rules_review_body(&content_type, &bytes)?;
        authz::rules_review(&view, s.user, kind, body)?
    } else {
        let body = authz::review_body(&content_type, &bytes)?;
        let review_kind = match kind.resource {
            "selfsubjectaccessreviews" => ReviewKind::SelfSubjectAccessReview,
            "subjectaccessreviews" => ReviewKind::SubjectAccessReview,
            _ => ReviewKind::LocalSubjectAccessReview,
        };
        authz::review(&view, s.user, kind, review_kind, namespace, body)?
    };
    Ok(json_response(201, &out))
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
