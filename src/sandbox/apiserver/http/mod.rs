//! The HTTPS front: TLS accept loop, authentication, impersonation, authorization and the
//! router that maps Kubernetes REST paths onto the store.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::authz::UserInfo;
use super::clusters::Clusters;
use super::faults::Faults;
use super::kinds::ResourceKind;
use super::openapi;
use super::status::ApiError;

mod auth;
mod body;
mod ctx;
mod route;
mod target;
mod write;

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
    match route::route(&shared, req).await {
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

fn header_str(h: &HeaderMap, name: header::HeaderName) -> &str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}
