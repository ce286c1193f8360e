//! Logging in: password (with keyboard-interactive fallback) or a private key.

use std::sync::Arc;

use russh::MethodKind;
use russh::client::{AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::{self, PrivateKey, PrivateKeyWithHashAlg};
use zeroize::Zeroizing;

use super::failure::{FailureKind, SshFailure, Stage};
use super::session::Client;
use super::target::SshAuth;

/// A server that keeps asking questions is not going to accept the password.
const MAX_KBD_ROUNDS: usize = 5;

/// Runs the method the target names. Timeouts and cancellation are the caller's.
pub(crate) async fn authenticate(
    handle: &mut Handle<Client>,
    user: &str,
    auth: &SshAuth,
) -> Result<(), SshFailure> {
    match auth {
        SshAuth::Password(pw) => password(handle, user, pw).await,
        SshAuth::KeyText { text, passphrase } => {
            let key = keys::decode_secret_key(text, passphrase.as_deref().map(String::as_str))
                .map_err(|e| key_error(e, "the private key text", passphrase.is_some()))?;
            public_key(handle, user, key).await
        }
        SshAuth::KeyFile { path, passphrase } => {
            let text = read_key_file(path).await?;
            let what = format!("the key file {}", path.display());
            let key = keys::decode_secret_key(&text, passphrase.as_deref().map(String::as_str))
                .map_err(|e| key_error(e, &what, passphrase.is_some()))?;
            public_key(handle, user, key).await
        }
    }
}

/// A private key is a few kilobytes; anything past this is not one.
const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;

async fn read_key_file(path: &std::path::Path) -> Result<Zeroizing<String>, SshFailure> {
    let unreadable = |e: String| {
        SshFailure::new(
            Stage::Auth,
            FailureKind::KeyUnreadable,
            format!("cannot read the key file {}: {e}", path.display()),
        )
        .hint("check the path and its permissions")
    };
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    if meta.len() > MAX_KEY_FILE_BYTES {
        return Err(unreadable("larger than 1 MiB, so not a private key".into()));
    }
    let bytes = Zeroizing::new(
        tokio::fs::read(path)
            .await
            .map_err(|e| unreadable(e.to_string()))?,
    );
    match std::str::from_utf8(&bytes) {
        Ok(t) => Ok(Zeroizing::new(t.to_string())),
        Err(_) => Err(unreadable("not text".into())),
    }
}

async fn password(
    handle: &mut Handle<Client>,
    user: &str,
    pw: &Zeroizing<String>,
) -> Result<(), SshFailure> {
    let res = handle
        .authenticate_password(user, pw.as_str())
        .await
        .map_err(protocol)?;
    let remaining = match res {
        AuthResult::Success => return Ok(()),
        AuthResult::Failure {
            remaining_methods, ..
        } => remaining_methods,
    };
    if remaining.contains(&MethodKind::KeyboardInteractive) {
        return keyboard_interactive(handle, user, pw).await;
    }
    if remaining.contains(&MethodKind::Password) {
        return Err(wrong_password(user));
    }
    Err(no_method(user, "password", &remaining))
}

/// Answers every prompt with the password, as ACP's installer does for servers that only
/// offer keyboard-interactive.
async fn keyboard_interactive(
    handle: &mut Handle<Client>,
    user: &str,
    pw: &Zeroizing<String>,
) -> Result<(), SshFailure> {
    let mut res = handle
        .authenticate_keyboard_interactive_start(user, None)
        .await
        .map_err(protocol)?;
    for _ in 0..MAX_KBD_ROUNDS {
        match res {
            KeyboardInteractiveAuthResponse::Success => return Ok(()),
            KeyboardInteractiveAuthResponse::Failure { .. } => return Err(wrong_password(user)),
            KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                let answers = prompts.iter().map(|_| pw.to_string()).collect();
                res = handle
                    .authenticate_keyboard_interactive_respond(answers)
                    .await
                    .map_err(protocol)?;
            }
        }
    }
    Err(wrong_password(user))
}

async fn public_key(
    handle: &mut Handle<Client>,
    user: &str,
    key: PrivateKey,
) -> Result<(), SshFailure> {
    let hash = if key.algorithm().is_rsa() {
        handle
            .best_supported_rsa_hash()
            .await
            .map_err(protocol)?
            .flatten()
    } else {
        None
    };
    let key = PrivateKeyWithHashAlg::new(Arc::new(key), hash);
    match handle.authenticate_publickey(user, key).await.map_err(protocol)? {
        AuthResult::Success => Ok(()),
        AuthResult::Failure { remaining_methods, .. } if remaining_methods.contains(&MethodKind::PublicKey) => {
            Err(SshFailure::new(
                Stage::Auth,
                FailureKind::KeyRefused,
                format!("the server refused this private key for user {user}"),
            )
            .hint(format!(
                "add the matching public key to ~{user}/.ssh/authorized_keys on the node, or check the user name"
            )))
        }
        AuthResult::Failure { remaining_methods, .. } => Err(no_method(user, "publickey", &remaining_methods)),
    }
}

fn wrong_password(user: &str) -> SshFailure {
    SshFailure::new(
        Stage::Auth,
        FailureKind::WrongPassword,
        format!("the server refused the password for user {user}"),
    )
    .hint("check the password and the user name; some servers also lock accounts after failures")
}

fn no_method(user: &str, tried: &str, remaining: &[MethodKind]) -> SshFailure {
    let offered: Vec<&str> = remaining.iter().map(<&str>::from).collect();
    let offered = if offered.is_empty() {
        "nothing".to_string()
    } else {
        offered.join(", ")
    };
    SshFailure::new(
        Stage::Auth,
        FailureKind::NoAcceptedMethod,
        format!("the server does not accept {tried} authentication for user {user}; it offers: {offered}"),
    )
    .hint("use a method the server offers, or enable this one in the node's sshd_config")
}

fn protocol(e: russh::Error) -> SshFailure {
    SshFailure::new(
        Stage::Auth,
        FailureKind::Disconnected,
        format!("the connection broke during authentication: {e}"),
    )
}

fn key_error(e: keys::Error, what: &str, had_passphrase: bool) -> SshFailure {
    let wrong_passphrase = || {
        SshFailure::new(
            Stage::Auth,
            FailureKind::WrongPassphrase,
            format!("the passphrase does not decrypt {what}"),
        )
        .hint("check the passphrase")
    };
    match e {
        keys::Error::KeyIsEncrypted if had_passphrase => wrong_passphrase(),
        keys::Error::KeyIsEncrypted => SshFailure::new(
            Stage::Auth,
            FailureKind::PassphraseNeeded,
            format!("{what} is encrypted and no passphrase was given"),
        )
        .hint("give the key's passphrase"),
        // A wrong passphrase shows up as garbage after decryption, in whichever way the
        // format notices it first.
        keys::Error::SshKey(_)
        | keys::Error::KeyIsCorrupt
        | keys::Error::Unpad(_)
        | keys::Error::Pad(_)
            if had_passphrase =>
        {
            wrong_passphrase()
        }
        other => SshFailure::new(
            Stage::Auth,
            FailureKind::KeyUnreadable,
            format!("{what} is not a usable private key: {other}"),
        )
        .hint("give an OpenSSH or PEM private key (the text starting with -----BEGIN)"),
    }
}
