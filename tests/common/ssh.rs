//! The loopback sshd and microsocks that `scripts/test.sh` starts, as the tests see them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use acp_cockpit::engine::ssh::{HostKeyPolicy, ProxySpec, SshAuth, SshTarget, Timeouts};
use zeroize::Zeroizing;

pub const LOOPBACK: &str = "127.0.0.1";

/// Facts exported by `start_ssh_peers` in `scripts/peers.sh`.
pub struct Peers {
    pub dir: PathBuf,
    pub ssh_port: u16,
    /// A second sshd that refuses plain password auth and offers keyboard-interactive.
    pub kbd_port: u16,
    pub user: String,
    pub password: String,
    pub key_passphrase: String,
    pub socks_port: u16,
    pub socks_user: String,
    pub socks_password: String,
}

const VARS: [&str; 9] = [
    "ACP_TEST_SSH_DIR",
    "ACP_TEST_SSH_PORT",
    "ACP_TEST_SSH_KBD_PORT",
    "ACP_TEST_SSH_USER",
    "ACP_TEST_SSH_PASSWORD",
    "ACP_TEST_SSH_KEY_PASSPHRASE",
    "ACP_TEST_SOCKS_PORT",
    "ACP_TEST_SOCKS_USER",
    "ACP_TEST_SOCKS_PASSWORD",
];

/// The peers, or `None` with a one-line reason on stderr. Under CI a missing peer fails the
/// test instead: there the script must have started them.
pub fn peers(test: &str) -> Option<Peers> {
    let missing: Vec<&str> = VARS
        .iter()
        .copied()
        .filter(|v| std::env::var(v).is_err())
        .collect();
    if !missing.is_empty() {
        let reason = format!(
            "no sshd/SOCKS5 peers ({} unset): run the tests through scripts/test.sh, as root",
            missing.join(", ")
        );
        if std::env::var_os("CI").is_some() {
            panic!("{test}: {reason}");
        }
        eprintln!("skipping {test}: {reason}");
        return None;
    }
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let port = |name: &str| {
        var(name)
            .parse::<u16>()
            .unwrap_or_else(|_| panic!("{name} is not a port: {:?}", var(name)))
    };
    Some(Peers {
        dir: PathBuf::from(var("ACP_TEST_SSH_DIR")),
        ssh_port: port("ACP_TEST_SSH_PORT"),
        kbd_port: port("ACP_TEST_SSH_KBD_PORT"),
        user: var("ACP_TEST_SSH_USER"),
        password: var("ACP_TEST_SSH_PASSWORD"),
        key_passphrase: var("ACP_TEST_SSH_KEY_PASSPHRASE"),
        socks_port: port("ACP_TEST_SOCKS_PORT"),
        socks_user: var("ACP_TEST_SOCKS_USER"),
        socks_password: var("ACP_TEST_SOCKS_PASSWORD"),
    })
}

impl Peers {
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// `[127.0.0.1]:port ssh-ed25519 AAAA...`, the sshd's real host key.
    pub fn host_key_line(&self) -> String {
        self.host_key_line_for(self.ssh_port)
    }

    /// Both servers share one host key.
    pub fn host_key_line_for(&self, port: u16) -> String {
        let public = self.read("host_ed25519.pub");
        let mut parts = public.split_whitespace();
        let (t, k) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default(),
        );
        format!("[{LOOPBACK}]:{port} {t} {k}")
    }

    pub fn target(&self, auth: SshAuth) -> SshTarget {
        SshTarget {
            host: LOOPBACK.to_string(),
            port: self.ssh_port,
            user: self.user.clone(),
            auth,
            proxy: None,
        }
    }

    pub fn key_target(&self) -> SshTarget {
        self.target(SshAuth::KeyFile {
            path: self.file("client_ed25519"),
            passphrase: None,
        })
    }

    pub fn password_target(&self, password: &str) -> SshTarget {
        self.target(SshAuth::Password(Zeroizing::new(password.to_string())))
    }

    pub fn proxy(&self, user: Option<&str>, password: Option<&str>) -> ProxySpec {
        ProxySpec {
            host: LOOPBACK.to_string(),
            port: self.socks_port,
            username: user.map(str::to_string),
            password: password.map(|p| Zeroizing::new(p.to_string())),
        }
    }

    pub fn good_proxy(&self) -> ProxySpec {
        self.proxy(Some(&self.socks_user), Some(&self.socks_password))
    }
}

/// A policy whose own file holds `known` (nothing read from the real home directory).
pub fn policy_with(dir: &Path, known: &str, accept_new: bool) -> HostKeyPolicy {
    let own = dir.join("known_hosts");
    if !known.is_empty() {
        std::fs::write(&own, known).unwrap_or_else(|e| panic!("{}: {e}", own.display()));
    }
    HostKeyPolicy {
        own,
        user: None,
        accept_new,
    }
}

/// A port on loopback that nothing listens on: bound, then released.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind((LOOPBACK, 0)).unwrap_or_else(|e| panic!("bind: {e}"));
    l.local_addr()
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("addr: {e}"))
}

/// Short enough that a test which wrongly waits shows up, long enough for a loaded CI box.
pub fn timeouts() -> Timeouts {
    Timeouts {
        tcp: Duration::from_secs(5),
        proxy: Duration::from_secs(5),
        handshake: Duration::from_secs(10),
        auth: Duration::from_secs(10),
        command: Duration::from_secs(20),
    }
}

/// A loopback listener that accepts connections and never says a word, for timeouts.
pub async fn silent_listener() -> (u16, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind((LOOPBACK, 0))
        .await
        .unwrap_or_else(|e| panic!("bind: {e}"));
    let port = l
        .local_addr()
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("addr: {e}"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = l.accept().await {
            held.push(sock);
        }
    });
    (port, task)
}

/// Runs a program on this machine and returns its trimmed stdout.
pub fn local(cmd: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(out.status.success(), "{cmd} {args:?}: {:?}", out.status);
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
