//! SOCKS5 proxies: the address forms users type, and dialling a node through one.

use std::fmt;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_socks::tcp::Socks5Stream;
use zeroize::Zeroizing;

use super::failure::{FailureKind, SshFailure, Stage, from_connect_io, human};

const FORM: &str = "socks5://[user:password@]host:port, or host:port";

/// A SOCKS5 proxy, with optional RFC 1929 username and password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxySpec {
    pub host: String,
    pub port: u16,
    pub username: Option<String>,
    pub password: Option<Zeroizing<String>>,
}

impl fmt::Debug for ProxySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxySpec")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ProxySpec {
    /// Reads `socks5://[user:password@]host:port` (also `socks5h://`) or ACP's bare
    /// `host:port`; IPv6 hosts go in brackets. Credentials are taken literally.
    pub fn parse(text: &str) -> Result<ProxySpec, SshFailure> {
        let text = text.trim();
        let rest = match text.split_once("://") {
            Some((scheme, rest)) => {
                if !scheme.eq_ignore_ascii_case("socks5") && !scheme.eq_ignore_ascii_case("socks5h")
                {
                    return Err(bad(&format!("scheme {scheme:?} is not SOCKS5")));
                }
                rest
            }
            None => text,
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (creds, hostport) = match rest.rsplit_once('@') {
            Some((c, h)) => (Some(c), h),
            None => (None, rest),
        };
        let (username, password) = match creds {
            None => (None, None),
            Some(c) => {
                let (u, p) = c.split_once(':').unwrap_or((c, ""));
                if u.is_empty() {
                    return Err(bad("the username before '@' is empty"));
                }
                let p = (!p.is_empty()).then(|| Zeroizing::new(p.to_string()));
                (Some(u.to_string()), p)
            }
        };
        let (host, port) = split_host_port(hostport)?;
        Ok(ProxySpec {
            host,
            port,
            username,
            password,
        })
    }

    /// `host:port` for messages; never holds the password.
    pub fn label(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

fn bad(problem: &str) -> SshFailure {
    SshFailure::new(
        Stage::Config,
        FailureKind::InvalidTarget,
        format!("proxy address: {problem}"),
    )
    .hint(format!("expected {FORM}"))
}

fn split_host_port(s: &str) -> Result<(String, u16), SshFailure> {
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let (h, tail) = inner
            .split_once(']')
            .ok_or_else(|| bad("an IPv6 host without its closing ']'"))?;
        let port = tail
            .strip_prefix(':')
            .ok_or_else(|| bad("no port after the host"))?;
        (h, port)
    } else {
        let (h, p) = s
            .rsplit_once(':')
            .ok_or_else(|| bad(&format!("no port in {s:?}")))?;
        if h.contains(':') {
            return Err(bad("an IPv6 host must be written in brackets"));
        }
        (h, p)
    };
    if host.is_empty() {
        return Err(bad("the host is empty"));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| bad(&format!("port {port:?} is not 1-65535")))?;
    Ok((host.to_string(), port))
}

/// Connects to the proxy (stage `Proxy`, the whole negotiation bounded by `limit`) and asks
/// it for the node. The proxy resolves the node's name, and the node sees the proxy's address.
pub(crate) async fn dial(
    spec: &ProxySpec,
    host: &str,
    port: u16,
    limit: Duration,
) -> Result<Socks5Stream<TcpStream>, SshFailure> {
    let what = format!("SOCKS5 proxy {}", spec.label());
    let work = async {
        let socket = TcpStream::connect((spec.host.as_str(), spec.port))
            .await
            .map_err(|e| {
                let mut f = from_connect_io(Stage::Proxy, &format!("connect to {what}"), &e);
                if f.kind == FailureKind::Refused {
                    f.hint = Some("the proxy is down or listens elsewhere: check its address and that it runs".into());
                }
                f
            })?;
        let _ = socket.set_nodelay(true);
        let target = (host, port);
        let res = match (&spec.username, &spec.password) {
            (Some(u), p) => {
                let p = p.as_ref().map(|p| p.as_str()).unwrap_or("");
                Socks5Stream::connect_with_password_and_socket(socket, target, u, p).await
            }
            (None, _) => Socks5Stream::connect_with_socket(socket, target).await,
        };
        res.map_err(|e| from_socks(&what, host, port, e))
    };
    match tokio::time::timeout(limit, work).await {
        Ok(r) => r,
        Err(_) => Err(SshFailure::timed_out(Stage::Proxy, &what, limit)
            .hint(format!("the proxy did not finish within {}: is it overloaded, or is the node's route slow?", human(limit)))),
    }
}

fn from_socks(what: &str, host: &str, port: u16, e: tokio_socks::Error) -> SshFailure {
    use tokio_socks::Error as E;
    let node = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let (kind, message, hint) = match &e {
        E::PasswordAuthFailure(_) => (
            FailureKind::ProxyAuthRefused,
            format!("{what} refused the username or password"),
            "check the proxy credentials".to_string(),
        ),
        E::NoAcceptableAuthMethods | E::AuthorizationRequired => (
            FailureKind::ProxyAuthRequired,
            format!("{what} accepts none of the offered authentication methods"),
            "the proxy probably needs a username and password".to_string(),
        ),
        E::ConnectionRefused | E::HostUnreachable | E::NetworkUnreachable | E::TtlExpired => (
            FailureKind::ProxyCannotReachTarget,
            format!("{what} cannot reach {node}: {e}"),
            "the proxy works, the node behind it does not answer: check the node's address, port and sshd".to_string(),
        ),
        E::ConnectionNotAllowedByRuleset => (
            FailureKind::ProxyCannotReachTarget,
            format!("{what} does not allow connections to {node}"),
            "the proxy's rules forbid this destination".to_string(),
        ),
        E::GeneralSocksServerFailure => (
            FailureKind::ProxyCannotReachTarget,
            format!("{what} failed to connect to {node} (general SOCKS server failure)"),
            "the proxy could not open the connection: check the node's address and port".to_string(),
        ),
        E::Io(io) => (
            FailureKind::ProxyProtocol,
            format!("{what} broke off the negotiation: {io}"),
            "is that address really a SOCKS5 proxy?".to_string(),
        ),
        _ => (
            FailureKind::ProxyProtocol,
            format!("{what}: {e}"),
            "is that address really a SOCKS5 proxy?".to_string(),
        ),
    };
    SshFailure::new(Stage::Proxy, kind, message).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_and_bare_forms_parse() {
        let p = ProxySpec::parse("socks5://alice:pa:ss@proxy.example:1080").expect("url");
        assert_eq!((p.host.as_str(), p.port), ("proxy.example", 1080));
        assert_eq!(p.username.as_deref(), Some("alice"));
        assert_eq!(p.password.as_deref().map(String::as_str), Some("pa:ss"));
        let p = ProxySpec::parse("10.1.2.3:7890").expect("bare");
        assert_eq!(
            (p.host.as_str(), p.port, p.username),
            ("10.1.2.3", 7890, None)
        );
        let p = ProxySpec::parse("socks5h://[::1]:1080/").expect("v6");
        assert_eq!((p.host.as_str(), p.port), ("::1", 1080));
        assert_eq!(p.label(), "[::1]:1080");
        let p = ProxySpec::parse("socks5://bob@h:1").expect("user only");
        assert_eq!(
            (p.username.as_deref(), p.password.is_none()),
            (Some("bob"), true)
        );
    }

    #[test]
    fn errors_name_the_problem_and_the_form() {
        for (text, needle) in [
            ("http://h:1", "not SOCKS5"),
            ("h", "no port"),
            ("h:0", "not 1-65535"),
            ("h:socks", "not 1-65535"),
            (":1080", "host is empty"),
            ("::1:1080", "brackets"),
            ("[::1:1080", "closing"),
            ("socks5://:pw@h:1", "username"),
        ] {
            let e = ProxySpec::parse(text).expect_err(text);
            assert!(e.message.contains(needle), "{text}: {}", e.message);
            assert!(
                e.hint.as_deref().unwrap_or_default().contains("socks5://"),
                "{text}"
            );
            assert_eq!(e.stage, Stage::Config);
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let p = ProxySpec::parse("socks5://u:TOPSECRET@h:1").expect("url");
        assert!(!format!("{p:?}").contains("TOPSECRET"));
    }

    #[test]
    fn socks_replies_map_to_distinct_kinds() {
        use tokio_socks::Error as E;
        let kind = |e| from_socks("p", "h", 22, e).kind;
        assert_eq!(
            kind(E::PasswordAuthFailure(1)),
            FailureKind::ProxyAuthRefused
        );
        assert_eq!(
            kind(E::NoAcceptableAuthMethods),
            FailureKind::ProxyAuthRequired
        );
        assert_eq!(
            kind(E::ConnectionRefused),
            FailureKind::ProxyCannotReachTarget
        );
        assert_eq!(
            kind(E::HostUnreachable),
            FailureKind::ProxyCannotReachTarget
        );
        assert_eq!(kind(E::InvalidResponseVersion), FailureKind::ProxyProtocol);
    }
}
