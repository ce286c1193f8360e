//! Why an SSH connection or command failed, per stage, with the fix when one is known.
//!
//! The stage and kind are the real reason: a timeout stays a timeout at the stage where it
//! happened, so nothing downstream (preflight, the wizard) reports a slow link as a wrong
//! password or a missing root login.

use std::fmt;

/// The step of a connection that failed, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Reading the target (ACP's base64 fields, the proxy address) before any traffic.
    Config,
    /// TCP to the node (or to the proxy, when there is one).
    Tcp,
    /// SOCKS5 negotiation and the proxy's connection to the node.
    Proxy,
    /// SSH version exchange and key exchange.
    Handshake,
    /// Verifying the node's host key against known_hosts.
    HostKey,
    /// User authentication.
    Auth,
    /// Running a command on an established session.
    Command,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Config => "config",
            Stage::Tcp => "tcp",
            Stage::Proxy => "proxy",
            Stage::Handshake => "handshake",
            Stage::HostKey => "host-key",
            Stage::Auth => "auth",
            Stage::Command => "command",
        }
    }
}

/// What went wrong, precisely enough for a front end to word it and a test to assert it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// A field of the target is malformed (not base64, bad port, unknown proxy type).
    InvalidTarget,
    /// Name resolution failed.
    Resolve,
    /// The peer answered with a reset: nothing listens on that port.
    Refused,
    /// No answer within the stage's timeout.
    TimedOut,
    /// No route, network down, or another socket error.
    Unreachable,
    /// The SOCKS proxy wants credentials we did not give, or accepts no method we offer.
    ProxyAuthRequired,
    /// The SOCKS proxy refused the username or password.
    ProxyAuthRefused,
    /// The proxy is up but could not connect to the node (refused, unreachable, ruleset).
    ProxyCannotReachTarget,
    /// The proxy spoke something other than SOCKS5.
    ProxyProtocol,
    /// The peer is not an SSH server, or the SSH protocol broke down.
    Protocol,
    /// Client and server share no key exchange, cipher or host key algorithm.
    NoCommonAlgorithm,
    /// The server closed the connection.
    Disconnected,
    /// No known_hosts entry for this host, and accepting new keys was not allowed.
    HostKeyUnknown,
    /// known_hosts holds a different key for this host.
    HostKeyChanged,
    /// The key is marked `@revoked`.
    HostKeyRevoked,
    /// A known_hosts file could not be read or the new key could not be recorded.
    KnownHostsIo,
    /// The server refused the password (and keyboard-interactive with it).
    WrongPassword,
    /// The server refused the private key.
    KeyRefused,
    /// The server accepts none of the methods we can offer.
    NoAcceptedMethod,
    /// The private key is encrypted and no passphrase was given.
    PassphraseNeeded,
    /// The passphrase does not decrypt the private key.
    WrongPassphrase,
    /// The private key text or file could not be read as a key.
    KeyUnreadable,
    /// The server refused to open a channel or run the command.
    CommandRefused,
    /// The caller cancelled.
    Cancelled,
}

/// The node's host key as a front end shows it for confirmation.
#[derive(Clone, PartialEq, Eq)]
pub struct HostKeySeen {
    /// `SHA256:...` exactly as `ssh-keygen -l` prints it.
    pub fingerprint: String,
    /// The key, ready for [`super::record_host_key`].
    pub key: super::HostKeyLine,
    /// The known_hosts line that recording it would append.
    pub line: String,
}

impl fmt::Debug for HostKeySeen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostKeySeen")
            .field("fingerprint", &self.fingerprint)
            .field("key_type", &self.key.key_type)
            .finish()
    }
}

/// An SSH failure as data: stage, kind, what happened, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshFailure {
    pub stage: Stage,
    pub kind: FailureKind,
    pub message: String,
    pub hint: Option<String>,
    /// Set at stage [`Stage::HostKey`]: the key the node presented.
    pub host_key: Option<Box<HostKeySeen>>,
}

impl SshFailure {
    pub fn new(stage: Stage, kind: FailureKind, message: impl Into<String>) -> SshFailure {
        SshFailure {
            stage,
            kind,
            message: message.into(),
            hint: None,
            host_key: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> SshFailure {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn timed_out(stage: Stage, what: &str, after: std::time::Duration) -> SshFailure {
        SshFailure::new(
            stage,
            FailureKind::TimedOut,
            format!("{what}: no answer within {}", human(after)),
        )
    }

    pub(crate) fn cancelled(stage: Stage) -> SshFailure {
        SshFailure::new(
            stage,
            FailureKind::Cancelled,
            format!("cancelled during the {} stage", stage.name()),
        )
    }
}

impl fmt::Display for SshFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage.name(), self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for SshFailure {}

pub(crate) fn human(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// Maps a socket error of a TCP connect, to the node or the proxy.
pub(crate) fn from_connect_io(stage: Stage, what: &str, e: &std::io::Error) -> SshFailure {
    use std::io::ErrorKind as K;
    let (kind, hint) = match e.kind() {
        K::ConnectionRefused => (
            FailureKind::Refused,
            "nothing listens there: check the address, the port and that the service runs",
        ),
        K::TimedOut => (
            FailureKind::TimedOut,
            "a firewall may drop the packets; check the route and security groups",
        ),
        _ => (
            FailureKind::Unreachable,
            "check the route from this machine to the address",
        ),
    };
    SshFailure::new(stage, kind, format!("{what}: {e}")).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn display_names_stage_message_and_hint() {
        let f = SshFailure::new(Stage::Auth, FailureKind::WrongPassword, "password refused")
            .hint("check it");
        assert_eq!(f.to_string(), "auth: password refused (check it)");
    }

    #[test]
    fn timeouts_say_how_long() {
        let f = SshFailure::timed_out(
            Stage::Tcp,
            "connect to 127.0.0.1:22",
            Duration::from_secs(5),
        );
        assert_eq!(f.kind, FailureKind::TimedOut);
        assert!(f.message.ends_with("within 5 s"), "{}", f.message);
        let f = SshFailure::timed_out(Stage::Command, "x", Duration::from_millis(1500));
        assert!(f.message.ends_with("1500 ms"), "{}", f.message);
    }

    #[test]
    fn refused_and_timeout_are_told_apart() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let slow = std::io::Error::from(std::io::ErrorKind::TimedOut);
        assert_eq!(
            from_connect_io(Stage::Tcp, "x", &refused).kind,
            FailureKind::Refused
        );
        assert_eq!(
            from_connect_io(Stage::Tcp, "x", &slow).kind,
            FailureKind::TimedOut
        );
    }
}
