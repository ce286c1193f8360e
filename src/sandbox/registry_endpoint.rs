//! The sandbox's built-in registry: an OCI distribution endpoint on loopback with TLS and the
//! token flow (`/v2/` challenges, `/auth/token` hands out pull tokens for basic credentials),
//! holding `my-ns/my-app:v1` and images in `shared-ns`. Its certificate names the registry
//! Service (both names) and 127.0.0.1, so clients verify it as they would the real one while
//! dialling loopback only.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::domain::registry::{REGISTRY_NAMESPACE, SERVICE_NAMES};

/// The images served: repository, tag.
pub const IMAGES: [(&str, &str); 3] = [
    ("my-ns/my-app", "v1"),
    ("shared-ns/base", "v1"),
    ("shared-ns/tools", "v2"),
];
/// Service name in the token challenge.
pub const TOKEN_SERVICE: &str = "internal-docker-registry";
/// The sandbox pull secrets' user prefix and password: placeholders that guard nothing.
pub const USER_PREFIX: &str = "sandbox-";
pub const PASSWORD: &str = "sandbox";

/// A running endpoint; dropping it stops nothing, [`RegistryEndpoint::shutdown`] does.
pub struct RegistryEndpoint {
    pub addr: SocketAddr,
    pub ca_pem: String,
    stop: CancellationToken,
    tasks: TaskTracker,
}

struct State {
    /// Token -> repositories it may pull. Bounded: the oldest tokens go first.
    tokens: Mutex<Vec<(String, String)>>,
}

const MAX_TOKENS: usize = 1024;

fn tls() -> anyhow::Result<(String, Arc<rustls::ServerConfig>)> {
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "acp-cockpit sandbox registry CA");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);
    let mut names: Vec<String> = SERVICE_NAMES
        .iter()
        .map(|s| format!("{s}.{REGISTRY_NAMESPACE}.svc"))
        .collect();
    names.extend(["127.0.0.1".to_string(), "localhost".to_string()]);
    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(names)?;
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_cert = leaf.signed_by(&key, &issuer)?;
    let chain = vec![CertificateDer::from(leaf_cert.der().to_vec())];
    let pk = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, pk)?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((ca_cert.pem(), Arc::new(cfg)))
}

impl RegistryEndpoint {
    /// Starts on 127.0.0.1 (`port` 0 picks a free one).
    pub async fn start(port: u16) -> anyhow::Result<RegistryEndpoint> {
        let (ca_pem, cfg) = tls().context("registry certificate")?;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .context("registry listener")?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let tasks = TaskTracker::new();
        let state = Arc::new(State {
            tokens: Mutex::new(Vec::new()),
        });
        tasks.spawn(serve(listener, TlsAcceptor::from(cfg), state, stop.clone()));
        Ok(RegistryEndpoint {
            addr,
            ca_pem,
            stop,
            tasks,
        })
    }

    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    state: Arc<State>,
    stop: CancellationToken,
) {
    let mut conns = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            r = listener.accept() => {
                let Ok((tcp, _)) = r else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let (acceptor, state) = (acceptor.clone(), state.clone());
                conns.spawn(async move {
                    let Ok(Ok(stream)) = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp)).await else { return };
                    let svc = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, Infallible>(handle(&state, &req)) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
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

fn reply(code: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = code;
    r.headers_mut().insert(
        "docker-distribution-api-version",
        header::HeaderValue::from_static("registry/2.0"),
    );
    r
}

fn challenge(host: &str, error: Option<&str>) -> Response<Full<Bytes>> {
    let mut r = reply(
        StatusCode::UNAUTHORIZED,
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    );
    let mut v = format!("Bearer realm=\"https://{host}/auth/token\",service=\"{TOKEN_SERVICE}\"");
    if let Some(e) = error {
        v.push_str(&format!(",error=\"{e}\""));
    }
    if let Ok(h) = header::HeaderValue::from_str(&v) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, h);
    }
    r
}

/// The manifest of a served image: deterministic, so its digest is stable.
pub fn manifest(repo: &str, tag: &str) -> String {
    use std::fmt::Write as _;
    let mut h = String::new();
    for b in format!("{repo}:{tag}").bytes().cycle().take(32) {
        let _ = write!(h, "{b:02x}");
    }
    format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:{h}\",\"size\":2}},\"layers\":[]}}"
    )
}

fn digest(body: &str) -> String {
    use sha2::Digest as _;
    let d = sha2::Sha256::digest(body.as_bytes());
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn handle(state: &State, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    let path = req.uri().path();
    if path == "/auth/token" {
        return token(state, req);
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .map(str::to_string);
    let granted = |repo: &str| {
        let Some(t) = &bearer else { return false };
        state
            .tokens
            .lock()
            .is_ok_and(|v| v.iter().any(|(tok, r)| tok == t && (r == repo || r == "*")))
    };
    if path == "/v2/" || path == "/v2" {
        return if granted("*")
            || bearer.as_ref().is_some_and(|t| {
                state
                    .tokens
                    .lock()
                    .is_ok_and(|v| v.iter().any(|(tok, _)| tok == t))
            }) {
            reply(StatusCode::OK, "{}")
        } else {
            challenge(&host, None)
        };
    }
    let Some((repo, reference)) = path
        .strip_prefix("/v2/")
        .and_then(|p| p.rsplit_once("/manifests/"))
    else {
        return reply(
            StatusCode::NOT_FOUND,
            r#"{"errors":[{"code":"NOT_FOUND"}]}"#,
        );
    };
    if !granted(repo) {
        return challenge(&host, bearer.as_ref().map(|_| "insufficient_scope"));
    }
    let Some((_, tag)) = IMAGES
        .iter()
        .find(|(r, t)| *r == repo && (*t == reference || digest(&manifest(r, t)) == reference))
    else {
        return reply(
            StatusCode::NOT_FOUND,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#,
        );
    };
    let body = manifest(repo, tag);
    let mut r = reply(
        StatusCode::OK,
        if req.method() == Method::HEAD {
            String::new()
        } else {
            body.clone()
        },
    );
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/vnd.oci.image.manifest.v1+json"),
    );
    if let Ok(v) = header::HeaderValue::from_str(&digest(&body)) {
        h.insert("docker-content-digest", v);
    }
    r
}

/// Issues a pull token for `scope` to sandbox credentials.
fn token(state: &State, req: &Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let basic = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let ok = basic
        .as_deref()
        .and_then(|s| s.split_once(':'))
        .is_some_and(|(u, p)| u.starts_with(USER_PREFIX) && p == PASSWORD);
    if !ok {
        return reply(
            StatusCode::UNAUTHORIZED,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"invalid credentials"}]}"#,
        );
    }
    let query = req.uri().query().unwrap_or("");
    let repo = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "scope")
        .and_then(|(_, v)| {
            v.strip_prefix("repository:")
                .and_then(|s| s.strip_suffix(":pull"))
                .map(str::to_string)
        })
        .unwrap_or_else(|| "*".to_string());
    let tok = uuid::Uuid::new_v4().simple().to_string();
    if let Ok(mut v) = state.tokens.lock() {
        if v.len() >= MAX_TOKENS {
            v.remove(0);
        }
        v.push((tok.clone(), repo));
    }
    reply(
        StatusCode::OK,
        format!("{{\"token\":\"{tok}\",\"expires_in\":300}}"),
    )
}
