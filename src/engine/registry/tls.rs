//! TCP connect and TLS handshake to a registry, keeping the presented chain even when it is
//! rejected, so an expired or misnamed certificate is reported with its facts.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::domain::registry::rules::days_left;

/// One certificate of a chain as the checks report it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    /// DNS names and IP addresses of the subjectAltName extension.
    pub names: Vec<String>,
    pub not_after: String,
    pub days_left: i64,
}

/// Parses a DER certificate; `None` for one the parser rejects.
pub fn cert_facts(der: &[u8], now: i64) -> Option<CertFacts> {
    use x509_parser::extensions::GeneralName;
    let (_, c) = x509_parser::parse_x509_certificate(der).ok()?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = c.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push((*d).to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => names.push(std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string()),
                    16 => {
                        let mut a = [0u8; 16];
                        a.copy_from_slice(b);
                        names.push(std::net::Ipv6Addr::from(a).to_string());
                    }
                    _ => {}
                },
                _ => {}
            }
        }
    }
    let not_after = c.validity().not_after;
    Some(CertFacts {
        subject: c.subject().to_string(),
        issuer: c.issuer().to_string(),
        names,
        not_after: not_after.to_string(),
        days_left: days_left(now, not_after.timestamp()),
    })
}

/// Every certificate of a PEM bundle (the `tls.crt` of a secret).
pub fn pem_facts(pem: &[u8], now: i64) -> Vec<CertFacts> {
    x509_parser::pem::Pem::iter_from_buffer(pem)
        .filter_map(Result::ok)
        .filter(|p| p.label == "CERTIFICATE")
        .filter_map(|p| cert_facts(&p.contents, now))
        .collect()
}

/// Which certificates to trust: the system's, plus extra PEM CAs (the platform's CA).
#[derive(Clone, Debug, Default)]
pub struct Trust {
    pub extra_ca_pem: Vec<u8>,
    pub system_roots: bool,
}

impl Trust {
    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        if self.system_roots {
            for c in rustls_native_certs::load_native_certs().certs {
                let _ = roots.add(c);
            }
        }
        for p in x509_parser::pem::Pem::iter_from_buffer(&self.extra_ca_pem).flatten() {
            let _ = roots.add(CertificateDer::from(p.contents));
        }
        roots
    }
}

/// What the handshake showed.
#[derive(Clone, Debug, Default)]
pub struct Handshake {
    pub chain: Vec<CertificateDer<'static>>,
    /// The verifier's complaint, when it rejected the chain.
    pub rejected: Option<String>,
    pub tcp_ms: u64,
    pub tls_ms: u64,
}

#[derive(Debug)]
struct Recording {
    inner: Option<Arc<WebPkiServerVerifier>>,
    seen: Mutex<Handshake>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = match &self.inner {
            Some(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp, now),
            None => Err(rustls::Error::General("no trusted CA certificates".into())),
        };
        if let Ok(mut s) = self.seen.lock() {
            s.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
            s.rejected = result.as_ref().err().map(ToString::to_string);
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Why a connection could not be made, by step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectError {
    Tcp(String),
    Timeout(&'static str),
    /// The handshake failed; the chain, when one was presented, is in the [`Handshake`].
    Tls(String),
}

/// Connects to `addr` and completes a verified TLS handshake for `host`. The handshake facts
/// come back even when it fails.
pub async fn connect(
    addr: SocketAddr,
    host: &str,
    trust: &Trust,
    timeout: Duration,
) -> (Handshake, Result<TlsStream<TcpStream>, ConnectError>) {
    let started = Instant::now();
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
        Err(_) => {
            return (
                Handshake::default(),
                Err(ConnectError::Timeout("TCP connect")),
            );
        }
        Ok(Err(e)) => return (Handshake::default(), Err(ConnectError::Tcp(e.to_string()))),
        Ok(Ok(s)) => s,
    };
    let _ = tcp.set_nodelay(true);
    let tcp_ms = elapsed_ms(started);
    let roots = trust.roots();
    let inner = (!roots.is_empty())
        .then(|| {
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .ok()
        })
        .flatten();
    let rec = Arc::new(Recording {
        inner,
        seen: Mutex::new(Handshake::default()),
    });
    let cfg = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map(|b| {
            b.dangerous()
                .with_custom_certificate_verifier(rec.clone())
                .with_no_client_auth()
        });
    let mut cfg = match cfg {
        Ok(c) => c,
        Err(e) => return (Handshake::default(), Err(ConnectError::Tls(e.to_string()))),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = match ServerName::try_from(host.to_string()) {
        Ok(n) => n,
        Err(e) => {
            return (
                Handshake::default(),
                Err(ConnectError::Tls(format!("{host}: {e}"))),
            );
        }
    };
    let tls_started = Instant::now();
    let res = tokio::time::timeout(
        timeout,
        TlsConnector::from(Arc::new(cfg)).connect(name, tcp),
    )
    .await;
    let mut hs = rec.seen.lock().map(|s| s.clone()).unwrap_or_default();
    hs.tcp_ms = tcp_ms;
    hs.tls_ms = elapsed_ms(tls_started);
    let res = match res {
        Err(_) => Err(ConnectError::Timeout("TLS handshake")),
        Ok(Err(e)) => Err(ConnectError::Tls(
            hs.rejected.clone().unwrap_or_else(|| e.to_string()),
        )),
        Ok(Ok(s)) => Ok(s),
    };
    (hs, res)
}

pub fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
