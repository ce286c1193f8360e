//! The distribution API as a kubelet uses it: `GET /v2/`, the auth challenge (token flow or
//! basic), and `HEAD` of the manifest. One keep-alive connection; every step has a timeout.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use zeroize::Zeroizing;

use super::tls::{self, ConnectError, Handshake, Trust, elapsed_ms};
use crate::domain::registry::challenge::{self, Challenge};
use crate::domain::registry::dockercfg::Credentials;

/// Largest body read (a token answer, an error document).
const BODY_LIMIT: usize = 64 * 1024;

/// The manifest types a kubelet accepts, newest first.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Where the registry is: the address dialled, and the name its certificate and Host header
/// use (they differ on the sandbox, which is reached on loopback).
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    pub host: String,
    pub port: u16,
    pub trust: Trust,
    pub timeout: Duration,
}

impl Target {
    fn authority(&self) -> String {
        if self.port == 443 {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A live connection to the registry.
pub struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    driver: tokio::task::JoinHandle<()>,
    authority: String,
    timeout: Duration,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// An answer: status, headers, a bounded body, and how long it took.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub millis: u64,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Why a request failed (the HTTP status is not a failure here: it is an answer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError(pub String);

impl Conn {
    /// Connects and hands back the handshake facts either way.
    pub async fn open(t: &Target) -> (Handshake, Result<Conn, ConnectError>) {
        let (hs, stream) = tls::connect(t.addr, &t.host, &t.trust, t.timeout).await;
        let stream = match stream {
            Ok(s) => s,
            Err(e) => return (hs, Err(e)),
        };
        let hand = hyper::client::conn::http1::handshake(TokioIo::new(stream));
        let res = match tokio::time::timeout(t.timeout, hand).await {
            Err(_) => Err(ConnectError::Timeout("HTTP handshake")),
            Ok(Err(e)) => Err(ConnectError::Tls(e.to_string())),
            Ok(Ok((sender, conn))) => Ok(Conn {
                sender,
                driver: tokio::spawn(async move {
                    let _ = conn.await;
                }),
                authority: t.authority(),
                timeout: t.timeout,
            }),
        };
        (hs, res)
    }

    /// Sends one request; `auth` is a whole `Authorization` value.
    pub async fn send(
        &mut self,
        method: Method,
        path_and_query: &str,
        auth: Option<&str>,
        accept: Option<&str>,
    ) -> Result<Answer, RequestError> {
        let started = Instant::now();
        let mut b = Request::builder()
            .method(method)
            .uri(path_and_query)
            .header(http::header::HOST, &self.authority)
            .header(http::header::USER_AGENT, "acp-cockpit");
        if let Some(a) = auth {
            b = b.header(http::header::AUTHORIZATION, a);
        }
        if let Some(a) = accept {
            b = b.header(http::header::ACCEPT, a);
        }
        let req = b
            .body(Empty::<Bytes>::new())
            .map_err(|e| RequestError(e.to_string()))?;
        let timeout = self.timeout;
        let work = async {
            self.sender
                .ready()
                .await
                .map_err(|e| RequestError(format!("connection closed: {e}")))?;
            let resp = self
                .sender
                .send_request(req)
                .await
                .map_err(|e| RequestError(e.to_string()))?;
            let (parts, body) = resp.into_parts();
            let body = Limited::new(body, BODY_LIMIT)
                .collect()
                .await
                .map_err(|e| RequestError(format!("reading the answer: {e}")))?
                .to_bytes();
            Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
                millis: 0,
            })
        };
        let mut a = tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| RequestError(format!("no answer within {} ms", timeout.as_millis())))??;
        a.millis = elapsed_ms(started);
        Ok(a)
    }
}

/// A basic `Authorization` value.
pub fn basic(c: &Credentials) -> Zeroizing<String> {
    let raw = Zeroizing::new(format!("{}:{}", c.username, c.password.as_str()));
    Zeroizing::new(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw.as_bytes())
    ))
}

/// How the API granted (or refused) access.
#[derive(Debug)]
pub enum Access {
    /// `/v2/` answered 200 without credentials.
    Anonymous,
    /// A bearer token from the realm, or basic credentials the registry accepted.
    Granted {
        how: String,
        header: Zeroizing<String>,
    },
    Refused(String),
}

/// Runs the auth challenge for a pull of `repository`: a bearer token from the realm, or the
/// basic credentials checked against `/v2/`.
pub async fn authorise(
    conn: &mut Conn,
    target: &Target,
    ping: &Answer,
    repository: &str,
    creds: Option<&Credentials>,
) -> Access {
    if ping.status.is_success() {
        return Access::Anonymous;
    }
    let Some(ch) = ping.header("www-authenticate").and_then(challenge::parse) else {
        return Access::Refused(format!(
            "/v2/ answered {} without a usable WWW-Authenticate challenge",
            ping.status
        ));
    };
    match ch {
        Challenge::Basic { realm } => {
            let Some(c) = creds else {
                return Access::Refused(format!(
                    "the registry asks for basic auth (realm {realm}) and no credentials were found"
                ));
            };
            let header = basic(c);
            match conn.send(Method::GET, "/v2/", Some(&header), None).await {
                Ok(a) if a.status.is_success() => Access::Granted {
                    how: format!("basic auth as {} (realm {realm})", c.username),
                    header,
                },
                Ok(a) => Access::Refused(format!(
                    "basic auth as {} refused: {}",
                    c.username, a.status
                )),
                Err(e) => Access::Refused(e.0),
            }
        }
        Challenge::Bearer { realm, service } => {
            token(conn, target, &realm, service.as_deref(), repository, creds).await
        }
    }
}

async fn token(
    conn: &mut Conn,
    target: &Target,
    realm: &str,
    service: Option<&str>,
    repository: &str,
    creds: Option<&Credentials>,
) -> Access {
    let Ok(mut url) = url::Url::parse(realm) else {
        return Access::Refused(format!("the token realm {realm} is not a URL"));
    };
    {
        let mut q = url.query_pairs_mut();
        if let Some(s) = service {
            q.append_pair("service", s);
        }
        q.append_pair("scope", &challenge::pull_scope(repository));
    }
    let same_host = url.host_str() == Some(target.host.as_str())
        && url.port_or_known_default() == Some(target.port);
    let mut other;
    let c = if same_host {
        conn
    } else {
        let Some(addr) = realm_addr(&url).await else {
            return Access::Refused(format!("the token realm {realm} does not resolve"));
        };
        let t = Target {
            addr,
            host: url.host_str().unwrap_or_default().to_string(),
            port: url.port_or_known_default().unwrap_or(443),
            ..target.clone()
        };
        match Conn::open(&t).await.1 {
            Ok(c) => other = c,
            Err(e) => return Access::Refused(format!("the token realm {realm}: {e:?}")),
        }
        &mut other
    };
    let pq = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let basic_header = creds.map(basic);
    let who = creds.map_or("anonymously".to_string(), |c| format!("as {}", c.username));
    match c
        .send(
            Method::GET,
            &pq,
            basic_header.as_deref().map(|s| s.as_str()),
            None,
        )
        .await
    {
        Ok(a) if a.status.is_success() => match token_of(&a.body) {
            Some(t) => Access::Granted {
                how: format!("token from {realm} {who}"),
                header: Zeroizing::new(format!("Bearer {}", t.as_str())),
            },
            None => Access::Refused(format!("{realm} answered without a token")),
        },
        Ok(a) => Access::Refused(format!("{realm} refused a token {who}: {}", a.status)),
        Err(e) => Access::Refused(e.0),
    }
}

async fn realm_addr(url: &url::Url) -> Option<SocketAddr> {
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    tokio::net::lookup_host((host, port)).await.ok()?.next()
}

fn token_of(body: &[u8]) -> Option<Zeroizing<String>> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let t = v.get("token").or_else(|| v.get("access_token"))?.as_str()?;
    Some(Zeroizing::new(t.to_string()))
}
