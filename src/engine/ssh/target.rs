//! What to connect to: address, user, credentials, proxy, and how long each stage may take.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use super::failure::{FailureKind, SshFailure, Stage};
use super::proxy::ProxySpec;
use crate::domain::cluster::{ClusterMachine, PROXY_SOCKS5};

/// How to log in. Secrets stay in [`Zeroizing`] buffers and `Debug` prints none of them.
#[derive(Clone)]
pub enum SshAuth {
    /// Password; keyboard-interactive with the same password when the server refuses plain
    /// password auth (as ACP's installer does).
    Password(Zeroizing<String>),
    /// Private key text, OpenSSH or PEM, as ACP stores it (decoded from base64).
    KeyText {
        text: Zeroizing<String>,
        passphrase: Option<Zeroizing<String>>,
    },
    /// Private key file on this machine.
    KeyFile {
        path: PathBuf,
        passphrase: Option<Zeroizing<String>>,
    },
}

impl fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pass = |p: &Option<Zeroizing<String>>| if p.is_some() { "<redacted>" } else { "none" };
        match self {
            SshAuth::Password(_) => f.write_str("Password(<redacted>)"),
            SshAuth::KeyText { passphrase, .. } => f
                .debug_struct("KeyText")
                .field("text", &"<redacted>")
                .field("passphrase", &pass(passphrase))
                .finish(),
            SshAuth::KeyFile { path, passphrase } => f
                .debug_struct("KeyFile")
                .field("path", path)
                .field("passphrase", &pass(passphrase))
                .finish(),
        }
    }
}

/// One node to reach.
#[derive(Debug, Clone)]
pub struct SshTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub auth: SshAuth,
    pub proxy: Option<ProxySpec>,
}

impl SshTarget {
    /// `user@host:port`, for messages; never holds a secret.
    pub fn label(&self) -> String {
        if self.host.contains(':') {
            format!("{}@[{}]:{}", self.user, self.host, self.port)
        } else {
            format!("{}@{}:{}", self.user, self.host, self.port)
        }
    }

    /// Builds a target from a `Cluster`'s or `Machine`'s machine entry: the SSH address
    /// (`publicIP` or `ip`), the port (22 when unset), and the base64 secrets decoded into
    /// zeroized buffers. A private key wins over a password when both are given, as in
    /// ACP's installer.
    pub fn from_machine(m: &ClusterMachine) -> Result<SshTarget, SshFailure> {
        let host = m.ssh_address().trim().to_string();
        if host.is_empty() {
            return Err(invalid(
                "ip",
                "is empty",
                "set ip (or publicIP) to the node's address",
            ));
        }
        let port = match m.port {
            0 => 22,
            p => u16::try_from(p).ok().filter(|p| *p != 0).ok_or_else(|| {
                invalid(
                    "port",
                    &format!("{p} is not a TCP port"),
                    "use 1-65535 (22 is SSH's default)",
                )
            })?,
        };
        let user = if m.username.trim().is_empty() {
            "root".to_string()
        } else {
            m.username.trim().to_string()
        };
        let auth = match (&m.private_key, &m.password) {
            (Some(key), _) if !key.trim().is_empty() => SshAuth::KeyText {
                text: decode_secret("privateKey", key)?,
                passphrase: match &m.pass_phrase {
                    Some(p) if !p.trim().is_empty() => Some(decode_secret("passPhrase", p)?),
                    _ => None,
                },
            },
            (_, Some(pw)) if !pw.is_empty() => SshAuth::Password(decode_secret("password", pw)?),
            _ => {
                return Err(invalid(
                    "password",
                    "and privateKey are both empty",
                    "give the node's SSH password or private key (base64-encoded)",
                ));
            }
        };
        let proxy = match &m.proxy {
            Some(p) if !p.address.trim().is_empty() => {
                if !p.type_.is_empty() && !p.type_.eq_ignore_ascii_case(PROXY_SOCKS5) {
                    return Err(invalid(
                        "proxy.type",
                        &format!("{:?} is not supported", p.type_),
                        "ACP supports SOCKS5 proxies only",
                    ));
                }
                let mut spec = ProxySpec::parse(p.address.trim())?;
                spec.username = p.username.clone().filter(|u| !u.is_empty());
                spec.password = match &p.password {
                    Some(pw) if !pw.is_empty() => Some(decode_secret("proxy.password", pw)?),
                    _ => None,
                };
                Some(spec)
            }
            _ => None,
        };
        Ok(SshTarget {
            host,
            port,
            user,
            auth,
            proxy,
        })
    }
}

fn invalid(field: &str, problem: &str, hint: &str) -> SshFailure {
    SshFailure::new(
        Stage::Config,
        FailureKind::InvalidTarget,
        format!("{field} {problem}"),
    )
    .hint(hint)
}

/// Decodes one of ACP's base64 secret fields into a zeroized string; the error never echoes
/// the field's content.
pub(crate) fn decode_secret(field: &str, b64: &str) -> Result<Zeroizing<String>, SshFailure> {
    let compact: Zeroizing<String> =
        Zeroizing::new(b64.chars().filter(|c| !c.is_ascii_whitespace()).collect());
    let bytes = Zeroizing::new(B64.decode(compact.as_bytes()).map_err(|_| {
        invalid(
            field,
            "is not base64",
            &format!(
                "ACP stores {field} base64-encoded: encode it with `printf %s '...' | base64 -w0`"
            ),
        )
    })?);
    match std::str::from_utf8(&bytes) {
        Ok(s) => Ok(Zeroizing::new(s.to_string())),
        Err(_) => Err(invalid(
            field,
            "decodes to bytes that are not UTF-8 text",
            "encode the text itself, not a binary file",
        )),
    }
}

/// How long each stage may take. The SSH library has no connect timeout of its own, so every
/// stage is wrapped in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp: Duration,
    pub proxy: Duration,
    pub handshake: Duration,
    pub auth: Duration,
    pub command: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp: Duration::from_secs(5),
            proxy: Duration::from_secs(5),
            handshake: Duration::from_secs(10),
            auth: Duration::from_secs(10),
            command: Duration::from_secs(30),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::cluster::MachineProxy;

    fn b64(s: &str) -> String {
        B64.encode(s)
    }

    fn machine() -> ClusterMachine {
        ClusterMachine {
            ip: "10.0.0.5".into(),
            port: 2222,
            username: "ops".into(),
            password: Some(b64("s3cret")),
            ..Default::default()
        }
    }

    #[test]
    fn password_machine_decodes_into_the_target() {
        let t = SshTarget::from_machine(&machine()).expect("valid machine");
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("10.0.0.5", 2222, "ops")
        );
        match &t.auth {
            SshAuth::Password(p) => assert_eq!(p.as_str(), "s3cret"),
            other => panic!("expected a password, got {other:?}"),
        }
        assert_eq!(t.label(), "ops@10.0.0.5:2222");
    }

    #[test]
    fn defaults_port_user_and_prefers_public_ip_and_key() {
        let m = ClusterMachine {
            port: 0,
            username: String::new(),
            public_ip: Some("203.0.113.9".into()),
            private_key: Some(b64("-----BEGIN OPENSSH PRIVATE KEY-----\n")),
            pass_phrase: Some(b64("pp")),
            ..machine()
        };
        let t = SshTarget::from_machine(&m).expect("valid");
        assert_eq!(
            (t.host.as_str(), t.port, t.user.as_str()),
            ("203.0.113.9", 22, "root")
        );
        match &t.auth {
            SshAuth::KeyText { text, passphrase } => {
                assert!(text.starts_with("-----BEGIN OPENSSH"));
                assert_eq!(passphrase.as_deref().map(String::as_str), Some("pp"));
            }
            other => panic!("expected key text, got {other:?}"),
        }
    }

    #[test]
    fn a_plain_text_password_is_named_and_not_echoed() {
        let m = ClusterMachine {
            password: Some("not base64!".into()),
            ..machine()
        };
        let e = SshTarget::from_machine(&m).expect_err("plain text password");
        assert_eq!(
            (e.stage, e.kind),
            (Stage::Config, FailureKind::InvalidTarget)
        );
        assert_eq!(e.message, "password is not base64");
        assert!(e.hint.as_deref().unwrap_or_default().contains("base64"));
        assert!(!format!("{e:?}").contains("not base64!"));
    }

    #[test]
    fn bad_port_missing_credentials_and_bad_proxy_are_reported() {
        let e = SshTarget::from_machine(&ClusterMachine {
            port: 70000,
            ..machine()
        });
        assert!(
            e.expect_err("port")
                .message
                .contains("70000 is not a TCP port")
        );
        let e = SshTarget::from_machine(&ClusterMachine {
            password: None,
            ..machine()
        });
        assert!(e.expect_err("creds").message.contains("both empty"));
        let with_proxy = |type_: &str, address: &str, password: Option<String>| ClusterMachine {
            proxy: Some(MachineProxy {
                type_: type_.into(),
                address: address.into(),
                username: Some("pu".into()),
                password,
            }),
            ..machine()
        };
        let e = SshTarget::from_machine(&with_proxy("HTTP", "127.0.0.1:1080", None));
        assert!(e.expect_err("type").message.contains("not supported"));
        let e = SshTarget::from_machine(&with_proxy("SOCKS5", "127.0.0.1:1080", Some("%%".into())));
        assert_eq!(e.expect_err("pw").message, "proxy.password is not base64");
        let t = SshTarget::from_machine(&with_proxy("SOCKS5", "127.0.0.1:1080", Some(b64("pp"))))
            .expect("valid proxy");
        let p = t.proxy.expect("proxy kept");
        assert_eq!((p.host.as_str(), p.port), ("127.0.0.1", 1080));
        assert_eq!(p.username.as_deref(), Some("pu"));
        assert_eq!(p.password.as_deref().map(String::as_str), Some("pp"));
    }

    #[test]
    fn debug_never_prints_secrets() {
        let mut t = SshTarget::from_machine(&machine()).expect("valid");
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("s3cret"), "{dbg}");
        t.auth = SshAuth::KeyText {
            text: Zeroizing::new("KEYMATERIAL".into()),
            passphrase: Some(Zeroizing::new("PHRASE".into())),
        };
        let dbg = format!("{t:?}");
        assert!(
            !dbg.contains("KEYMATERIAL") && !dbg.contains("PHRASE"),
            "{dbg}"
        );
    }
}
