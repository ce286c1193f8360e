//! The host-key policy: which known_hosts files vouch for a node, and what happens to a key
//! nobody has seen yet. A changed or revoked key is always refused.

use std::path::{Path, PathBuf};

use russh::keys::{HashAlg, PublicKey};
use tokio::io::AsyncWriteExt;

use super::failure::{FailureKind, HostKeySeen, SshFailure, Stage};
use crate::domain::known_hosts::{self, KnownHosts, Match};

/// A known_hosts file larger than this is not read: a real one holds a few thousand lines.
const MAX_KNOWN_HOSTS_BYTES: u64 = 16 * 1024 * 1024;

/// Serializes appends to the cockpit's own file, so that many sessions accepting keys at
/// once write whole lines and no duplicates.
static RECORD_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Where host keys are looked up and recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeyPolicy {
    /// The cockpit's own known_hosts in its data dir: read, and appended to.
    pub own: PathBuf,
    /// The user's `~/.ssh/known_hosts`: read only, never written.
    pub user: Option<PathBuf>,
    /// Record a key seen for the first time instead of refusing it (the CLI's
    /// `--accept-new-host-keys`, or after the user confirmed in the TUI).
    pub accept_new: bool,
}

impl HostKeyPolicy {
    /// The usual policy: `known_hosts` in `data_dir`, plus `~/.ssh/known_hosts` when a home
    /// directory is known.
    pub fn in_data_dir(data_dir: &Path, accept_new: bool) -> HostKeyPolicy {
        HostKeyPolicy {
            own: data_dir.join("known_hosts"),
            user: directories::BaseDirs::new().map(|d| d.home_dir().join(".ssh/known_hosts")),
            accept_new,
        }
    }
}

/// A host key as known_hosts spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKeyLine {
    pub key_type: String,
    pub key_base64: String,
}

impl HostKeyLine {
    pub(crate) fn from_key(key: &PublicKey) -> HostKeyLine {
        let text = key.to_openssh().unwrap_or_default();
        let mut parts = text.split_whitespace();
        HostKeyLine {
            key_type: parts.next().unwrap_or_default().to_string(),
            key_base64: parts.next().unwrap_or_default().to_string(),
        }
    }
}

/// Appends the key for `host:port` to the policy's own file (creating it and its directory),
/// unless that exact line is already there. For a front end that asked the user first.
pub async fn record_host_key(
    policy: &HostKeyPolicy,
    host: &str,
    port: u16,
    key: &HostKeyLine,
) -> Result<(), SshFailure> {
    let _guard = RECORD_LOCK.lock().await;
    let own = &policy.own;
    let current = read_bounded(own).await?;
    let lookup =
        |text: &str| KnownHosts::parse(text).lookup(host, port, &key.key_type, &key.key_base64);
    if let Some(text) = &current
        && matches!(lookup(text), Match::Known { .. })
    {
        return Ok(());
    }
    // Recording next to a conflicting line would make the new key win silently: a changed
    // key is only ever replaced by the user removing the old line.
    let user_text = match &policy.user {
        Some(p) => read_bounded(p).await?.map(|t| (p.as_path(), t)),
        None => None,
    };
    let files = current.as_deref().map(|t| (own.as_path(), t)).into_iter();
    for (path, text) in files.chain(user_text.as_ref().map(|(p, t)| (*p, t.as_str()))) {
        if let Match::Changed { line: n, .. } | Match::Revoked { line: n } = lookup(text) {
            let field = known_hosts::host_field(host, port);
            return Err(SshFailure::new(
                Stage::HostKey,
                FailureKind::HostKeyChanged,
                format!(
                    "not recording a key for {field}: {}:{n} holds a conflicting entry",
                    path.display()
                ),
            )
            .hint(format!("ssh-keygen -f {} -R '{field}'", path.display())));
        }
    }
    let io_err = |e: std::io::Error| {
        SshFailure::new(
            Stage::HostKey,
            FailureKind::KnownHostsIo,
            format!("cannot record the host key in {}: {e}", own.display()),
        )
        .hint("check that the data directory is writable")
    };
    if let Some(dir) = own.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(io_err)?;
    }
    let mut line = known_hosts::format_line(host, port, &key.key_type, &key.key_base64);
    line.push('\n');
    if current
        .as_deref()
        .is_some_and(|t| !t.is_empty() && !t.ends_with('\n'))
    {
        line.insert(0, '\n');
    }
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(own)
        .await
        .map_err(io_err)?;
    file.write_all(line.as_bytes()).await.map_err(io_err)?;
    file.flush().await.map_err(io_err)?;
    Ok(())
}

/// What the handshake's host-key check decided.
#[derive(Debug, Clone)]
pub(crate) enum Verdict {
    Trusted,
    Recorded,
    Refused(SshFailure),
}

/// Checks the node's key against the policy's files; records it when the policy accepts new
/// keys and no file knows the host. A conflicting line in either file refuses the key even
/// when the other file lists it: the user removes the stale line, we never guess which is right.
pub(crate) async fn verify(
    policy: &HostKeyPolicy,
    host: &str,
    port: u16,
    key: &PublicKey,
) -> Verdict {
    let line = HostKeyLine::from_key(key);
    let seen = HostKeySeen {
        fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        line: known_hosts::format_line(host, port, &line.key_type, &line.key_base64),
        key: line.clone(),
    };
    let field = known_hosts::host_field(host, port);
    let refuse = |kind, message: String, hint: String| {
        let mut f = SshFailure::new(Stage::HostKey, kind, message).hint(hint);
        f.host_key = Some(Box::new(seen.clone()));
        Verdict::Refused(f)
    };
    let mut files: Vec<&Path> = vec![policy.own.as_path()];
    files.extend(policy.user.as_deref());
    let mut changed: Option<(PathBuf, usize)> = None;
    let mut ca_only = false;
    let mut known = false;
    for path in files {
        let text = match read_bounded(path).await {
            Ok(Some(t)) => t,
            Ok(None) => continue,
            Err(f) => return Verdict::Refused(f),
        };
        match KnownHosts::parse(&text).lookup(host, port, &line.key_type, &line.key_base64) {
            Match::Revoked { line: n } => {
                return refuse(
                    FailureKind::HostKeyRevoked,
                    format!(
                        "{field} presented a key marked @revoked at {}:{n}",
                        path.display()
                    ),
                    "this key must not be used; ask the node's owner for its current host key"
                        .into(),
                );
            }
            Match::Known { .. } => known = true,
            Match::Changed { line: n, .. } => {
                changed.get_or_insert((path.to_path_buf(), n));
            }
            Match::CertAuthorityOnly { .. } => ca_only = true,
            Match::Unknown => {}
        }
    }
    if let Some((path, n)) = changed {
        return refuse(
            FailureKind::HostKeyChanged,
            format!(
                "HOST KEY CHANGED for {field}: it presented {} {}, but {}:{n} records another {} key; \
                 someone may be intercepting the connection, or the node was reinstalled",
                line.key_type,
                seen.fingerprint,
                path.display(),
                line.key_type
            ),
            format!(
                "if the node was really reinstalled, remove the old key with: ssh-keygen -f {} -R '{field}'",
                path.display()
            ),
        );
    }
    if known {
        return Verdict::Trusted;
    }
    if policy.accept_new {
        return match record_host_key(policy, host, port, &line).await {
            Ok(()) => Verdict::Recorded,
            Err(f) => Verdict::Refused(f),
        };
    }
    let ca_note = if ca_only {
        " (an @cert-authority line covers this host, but the node presented a plain key, not a certificate)"
    } else {
        ""
    };
    refuse(
        FailureKind::HostKeyUnknown,
        format!(
            "unknown host key for {field}: {} {}{ca_note}",
            line.key_type, seen.fingerprint
        ),
        "compare the fingerprint with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` on the node, then accept it"
            .into(),
    )
}

/// The file's text, or `None` when it does not exist.
async fn read_bounded(path: &Path) -> Result<Option<String>, SshFailure> {
    let io_err = |e: std::io::Error| {
        SshFailure::new(
            Stage::HostKey,
            FailureKind::KnownHostsIo,
            format!("cannot read {}: {e}", path.display()),
        )
        .hint("check the file's permissions")
    };
    match tokio::fs::metadata(path).await {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(e)),
        Ok(m) if m.len() > MAX_KNOWN_HOSTS_BYTES => {
            return Err(SshFailure::new(
                Stage::HostKey,
                FailureKind::KnownHostsIo,
                format!("{} is larger than 16 MiB; not reading it", path.display()),
            ));
        }
        Ok(_) => {}
    }
    let bytes = tokio::fs::read(path).await.map_err(io_err)?;
    Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA37xxax8Wr5HC3glifdQoXR64uARIu5vdNEKemLaxAN";
    const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIOntGVhRq1T7/i9ljw2Q4K4/wNvEPOrWv6Poi9BxnaDB";

    fn key(b64: &str) -> PublicKey {
        PublicKey::from_openssh(&format!("ssh-ed25519 {b64}")).expect("test key")
    }

    fn policy(
        dir: &Path,
        own: Option<&str>,
        user: Option<&str>,
        accept_new: bool,
    ) -> HostKeyPolicy {
        let p = HostKeyPolicy {
            own: dir.join("own"),
            user: Some(dir.join("user")),
            accept_new,
        };
        for (path, text) in [(&p.own, own), (&dir.join("user"), user)] {
            if let Some(t) = text {
                std::fs::write(path, t).expect("write");
            }
        }
        p
    }

    fn refused(v: Verdict) -> SshFailure {
        match v {
            Verdict::Refused(f) => f,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn unknown_is_refused_with_the_fingerprint_and_nothing_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = policy(dir.path(), None, None, false);
        let f = refused(verify(&p, "h", 2222, &key(K1)).await);
        assert_eq!(
            (f.stage, f.kind),
            (Stage::HostKey, FailureKind::HostKeyUnknown)
        );
        let seen = f.host_key.expect("seen");
        assert!(
            seen.fingerprint.starts_with("SHA256:"),
            "{}",
            seen.fingerprint
        );
        assert_eq!(seen.line, format!("[h]:2222 ssh-ed25519 {K1}"));
        assert!(!p.own.exists());
    }

    #[tokio::test]
    async fn accept_new_appends_one_line_after_existing_text() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = policy(
            dir.path(),
            Some(&format!("other ssh-ed25519 {K2}")),
            None,
            true,
        );
        assert!(matches!(
            verify(&p, "h", 22, &key(K1)).await,
            Verdict::Recorded
        ));
        assert!(matches!(
            verify(&p, "h", 22, &key(K1)).await,
            Verdict::Trusted
        ));
        let text = std::fs::read_to_string(&p.own).expect("own");
        assert_eq!(
            text,
            format!("other ssh-ed25519 {K2}\nh ssh-ed25519 {K1}\n")
        );
    }

    #[tokio::test]
    async fn user_file_vouches_but_a_conflict_in_either_file_refuses() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = policy(
            dir.path(),
            None,
            Some(&format!("*.lab ssh-ed25519 {K1}\n")),
            false,
        );
        assert!(matches!(
            verify(&p, "n1.lab", 22, &key(K1)).await,
            Verdict::Trusted
        ));
        let p = policy(
            dir.path(),
            Some(&format!("n1.lab ssh-ed25519 {K1}\n")),
            Some(&format!("# old\nn1.lab ssh-ed25519 {K2}\n")),
            true,
        );
        let f = refused(verify(&p, "n1.lab", 22, &key(K1)).await);
        assert_eq!(f.kind, FailureKind::HostKeyChanged);
        let user = dir.path().join("user").display().to_string();
        assert!(f.message.contains(&format!("{user}:2")), "{}", f.message);
        assert!(
            f.hint
                .unwrap_or_default()
                .contains(&format!("ssh-keygen -f {user} -R 'n1.lab'"))
        );
    }

    #[tokio::test]
    async fn revoked_wins_and_conflicts_cannot_be_recorded_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = policy(
            dir.path(),
            Some(&format!(
                "h ssh-ed25519 {K1}\n@revoked * ssh-ed25519 {K1}\n"
            )),
            None,
            true,
        );
        let f = refused(verify(&p, "h", 22, &key(K1)).await);
        assert_eq!(f.kind, FailureKind::HostKeyRevoked);
        let e = record_host_key(&p, "h", 22, &HostKeyLine::from_key(&key(K2))).await;
        assert_eq!(e.expect_err("conflict").kind, FailureKind::HostKeyChanged);
    }
}
