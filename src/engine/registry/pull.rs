//! The pull path as the kubelet walks it: connect, handshake, `/v2/`, auth, manifest. Each step
//! is a check; a failed step turns the ones after it into skips that say why.

use http::{Method, StatusCode};
use tokio::sync::mpsc;

use super::api::{self, Access, Conn, Target};
use super::tls::{CertFacts, ConnectError, cert_facts};
use crate::domain::registry::dockercfg::Credentials;
use crate::domain::registry::rules::cert_verdict;
use crate::domain::registry::{CheckId, CheckResult, Fix, ImageRef, Verdict};

/// Where results go as they finish; bounded like every queue.
pub type Sink = mpsc::Sender<CheckResult>;

pub async fn emit(out: &Sink, r: CheckResult) {
    let _ = out.send(r).await;
}

async fn skip_rest(out: &Sink, ids: &[CheckId], why: &str) {
    for id in ids {
        emit(out, CheckResult::skip(*id, why)).await;
    }
}

/// Runs TLS, API ping, auth and manifest against `t` for `image`.
pub async fn pull_checks(
    t: &Target,
    image: &ImageRef,
    creds: Option<&Credentials>,
    now: i64,
    out: &Sink,
) {
    let rest = [CheckId::ApiPing, CheckId::ApiAuth, CheckId::Manifest];
    let (hs, conn) = Conn::open(t).await;
    let chain: Vec<CertFacts> = hs.chain.iter().filter_map(|c| cert_facts(c, now)).collect();
    let mut tls = tls_result(t, &chain, conn.as_ref().err());
    tls.millis = hs.tcp_ms + hs.tls_ms;
    tls.evidence.insert(
        0,
        format!(
            "TCP connect {} ms, TLS handshake {} ms",
            hs.tcp_ms, hs.tls_ms
        ),
    );
    emit(out, tls).await;
    let Ok(mut conn) = conn else {
        return skip_rest(out, &rest, "no TLS connection to the registry").await;
    };
    let ping = match conn.send(Method::GET, "/v2/", None, None).await {
        Ok(a) => a,
        Err(e) => {
            emit(
                out,
                CheckResult::fail(CheckId::ApiPing, format!("GET /v2/ failed: {}", e.0)),
            )
            .await;
            return skip_rest(out, &rest[1..], "/v2/ did not answer").await;
        }
    };
    let challenge = ping.header("www-authenticate").unwrap_or("").to_string();
    let mut p = match ping.status {
        StatusCode::OK => CheckResult::pass(CheckId::ApiPing, "GET /v2/ answered 200 (no auth required)"),
        StatusCode::UNAUTHORIZED if !challenge.is_empty() => CheckResult::pass(
            CheckId::ApiPing,
            "GET /v2/ answered 401 with an auth challenge, as a registry should",
        ),
        s => CheckResult::fail(CheckId::ApiPing, format!("GET /v2/ answered {s}: not a registry API"))
            .with_fix(Fix::say("check that the address is the registry and not another service behind the same ingress")),
    };
    p.millis = ping.millis;
    if !challenge.is_empty() {
        p.evidence.push(format!("WWW-Authenticate: {challenge}"));
    }
    let api_ok = p.verdict == Verdict::Pass;
    emit(out, p).await;
    if !api_ok {
        return skip_rest(out, &rest[1..], "/v2/ is not a registry API").await;
    }
    let started = std::time::Instant::now();
    let access = api::authorise(&mut conn, t, &ping, &image.repository, creds).await;
    let auth_ms = super::tls::elapsed_ms(started);
    let header = match access {
        Access::Anonymous => {
            emit(
                out,
                CheckResult::pass(CheckId::ApiAuth, "anonymous pulls are allowed"),
            )
            .await;
            None
        }
        Access::Granted { how, header } => {
            let mut r = CheckResult::pass(CheckId::ApiAuth, how);
            r.millis = auth_ms;
            emit(out, r).await;
            Some(header)
        }
        Access::Refused(why) => {
            let fix = match creds {
                Some(c) => Fix::say(format!(
                    "the pull secret's credentials for {} (user {}) are wrong or expired: recreate the secret with the current ones",
                    image.host, c.username
                )),
                None => Fix::say(format!(
                    "give the pod a pull secret whose docker config has an entry for {}",
                    image.host
                )),
            };
            let mut r = CheckResult::fail(CheckId::ApiAuth, why).with_fix(fix);
            r.millis = auth_ms;
            emit(out, r).await;
            return skip_rest(out, &rest[2..], "not authorised").await;
        }
    };
    let path = format!("/v2/{}/manifests/{}", image.repository, image.reference);
    let head = conn
        .send(
            Method::HEAD,
            &path,
            header.as_deref().map(|s| s.as_str()),
            Some(api::MANIFEST_ACCEPT),
        )
        .await;
    emit(out, manifest_result(image, head)).await;
}

fn manifest_result(image: &ImageRef, head: Result<api::Answer, api::RequestError>) -> CheckResult {
    let a = match head {
        Ok(a) => a,
        Err(e) => {
            return CheckResult::fail(CheckId::Manifest, format!("HEAD manifest failed: {}", e.0));
        }
    };
    let mut r = match a.status {
        s if s.is_success() => {
            let digest = a
                .header("docker-content-digest")
                .unwrap_or("(no digest header)");
            let mut r = CheckResult::pass(CheckId::Manifest, format!("{image} exists, {digest}"));
            if let Some(t) = a.header("content-type") {
                r.evidence.push(format!("media type {t}"));
            }
            r
        }
        StatusCode::NOT_FOUND => CheckResult::fail(
            CheckId::Manifest,
            format!("{image}: manifest unknown"),
        )
        .with_fix(Fix::say(format!(
            "push {image}, or correct the tag in the pod spec (list tags: GET /v2/{}/tags/list)",
            image.repository
        ))),
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => CheckResult::fail(
            CheckId::Manifest,
            format!(
                "{image}: {} (the credentials may not read {})",
                a.status, image.repository
            ),
        ),
        s => CheckResult::fail(
            CheckId::Manifest,
            format!("{image}: HEAD manifest answered {s}"),
        ),
    };
    r.millis = a.millis;
    r.evidence.push(format!("HEAD {} ms", a.millis));
    r
}

fn tls_result(t: &Target, chain: &[CertFacts], err: Option<&ConnectError>) -> CheckResult {
    let addr = t.addr;
    let mut r = match err {
        Some(ConnectError::Tcp(e)) => {
            return CheckResult::fail(CheckId::Tls, format!("TCP connect to {addr} failed: {e}")).with_fix(
                Fix::say("check the registry Service's endpoints (its pods) and NetworkPolicies on the way"),
            );
        }
        Some(ConnectError::Timeout(step)) => {
            return CheckResult::fail(
                CheckId::Tls,
                format!(
                    "{step} to {addr} timed out after {} ms",
                    t.timeout.as_millis()
                ),
            )
            .with_fix(Fix::say(
                "a firewall or NetworkPolicy may drop the traffic; check the path to the registry",
            ));
        }
        Some(ConnectError::Tls(e)) => CheckResult::fail(
            CheckId::Tls,
            format!("TLS handshake with {} rejected: {e}", t.host),
        )
        .with_fix(Fix::say(tls_fix(e, &t.host))),
        None => CheckResult::pass(CheckId::Tls, format!("TLS to {} verified", t.host)),
    };
    if let Some(leaf) = chain.first() {
        let v = cert_verdict(leaf.days_left);
        if r.verdict == Verdict::Pass && v != Verdict::Pass {
            r.verdict = v;
            r.summary = format!(
                "the certificate of {} expires in {} days",
                t.host, leaf.days_left
            );
            r.fix = Some(Fix::say("renew the registry certificate before it expires"));
        }
    }
    for (i, c) in chain.iter().enumerate() {
        r.evidence.push(format!(
            "cert {i}: subject {}; issuer {}; names [{}]; not after {} ({} days)",
            c.subject,
            c.issuer,
            c.names.join(", "),
            c.not_after,
            c.days_left
        ));
    }
    r
}

fn tls_fix(err: &str, host: &str) -> String {
    if err.contains("Expired") || err.contains("expired") {
        "the certificate has expired: renew it and restart the registry".to_string()
    } else if err.contains("NotValidForName") || err.contains("not valid for name") {
        format!("the certificate does not name {host}: reissue it with {host} in subjectAltName")
    } else if err.contains("UnknownIssuer") || err.contains("no trusted CA") {
        "the issuing CA is not trusted here: pass the platform CA with --ca (nodes need it in containerd's certs.d)".to_string()
    } else {
        "check the registry's certificate and TLS settings".to_string()
    }
}
