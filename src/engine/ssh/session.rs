//! One SSH connection per node, every stage under its own timeout, reused for all commands.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use russh::ChannelMsg;
use russh::client::{self, Handle};
use russh::keys::PublicKeyOrCertificate;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::auth;
use super::failure::{FailureKind, SshFailure, Stage, from_connect_io, human};
use super::hostkey::{self, HostKeyPolicy, Verdict};
use super::proxy;
use super::target::{SshTarget, Timeouts};

/// Output beyond this per stream is dropped (and flagged): a probe's answer is kilobytes, a
/// runaway command must not fill memory.
pub const OUTPUT_CAP: usize = 4 * 1024 * 1024;

/// The russh handler: it verifies the host key with our policy and keeps the verdict, since
/// russh reduces a refusal to "unknown key".
pub struct Client {
    policy: HostKeyPolicy,
    host: String,
    port: u16,
    verdict: Arc<Mutex<Option<Verdict>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        // A host certificate is judged by the key it carries; CA signatures are not checked.
        let key = key.public_key();
        let verdict = hostkey::verify(&self.policy, &self.host, self.port, &key).await;
        let ok = matches!(verdict, Verdict::Trusted | Verdict::Recorded);
        if let Ok(mut slot) = self.verdict.lock() {
            *slot = Some(verdict);
        }
        Ok(ok)
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// `None` when the command was killed by a signal or the server sent no status.
    pub exit: Option<u32>,
    /// The signal's name when the command died of one.
    pub exit_signal: Option<String>,
    pub elapsed: Duration,
    /// Output went past [`OUTPUT_CAP`] and the rest was dropped.
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
}

/// An authenticated connection to one node.
pub struct Session {
    handle: Handle<Client>,
    label: String,
    cancel: CancellationToken,
    command_timeout: Duration,
    /// The host key was unknown and the policy recorded it during this connect.
    pub recorded_host_key: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("target", &self.label)
            .finish()
    }
}

/// The byte stream SSH runs over: a TCP connection, or one through a SOCKS5 proxy.
trait Transport: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Transport for T {}

/// Stages `Tcp` or `Proxy`: a stream to the node's SSH port.
async fn open_stream(
    target: &SshTarget,
    timeouts: &Timeouts,
    cancel: &CancellationToken,
) -> Result<Box<dyn Transport>, SshFailure> {
    match &target.proxy {
        None => {
            let what = format!("connect to {}:{}", target.host, target.port);
            let tcp = stage(Stage::Tcp, &what, timeouts.tcp, cancel, async {
                TcpStream::connect((target.host.as_str(), target.port))
                    .await
                    .map_err(|e| tcp_error(&what, &e))
            })
            .await?;
            let _ = tcp.set_nodelay(true);
            Ok(Box::new(tcp))
        }
        Some(spec) => {
            let stream = stage(
                Stage::Proxy,
                &format!("SOCKS5 proxy {}", spec.label()),
                // The proxy's own bound is the inner one; this only adds cancellation.
                timeouts.proxy + Duration::from_millis(100),
                cancel,
                proxy::dial(spec, &target.host, target.port, timeouts.proxy),
            )
            .await?;
            Ok(Box::new(stream))
        }
    }
}

/// Runs one stage: bounded by `limit`, abandoned on cancellation.
async fn stage<T>(
    stage: Stage,
    what: &str,
    limit: Duration,
    cancel: &CancellationToken,
    work: impl Future<Output = Result<T, SshFailure>>,
) -> Result<T, SshFailure> {
    tokio::select! {
        biased;
        _ = cancel.cancelled() => Err(SshFailure::cancelled(stage)),
        r = tokio::time::timeout(limit, work) => match r {
            Ok(r) => r,
            Err(_) => Err(SshFailure::timed_out(stage, what, limit)),
        },
    }
}

impl Session {
    /// Connects, verifies the host key and logs in; each stage under its own timeout.
    pub async fn connect(
        target: &SshTarget,
        policy: &HostKeyPolicy,
        timeouts: &Timeouts,
        cancel: &CancellationToken,
    ) -> Result<Session, SshFailure> {
        let label = target.label();
        let config = Arc::new(client::Config {
            // Nothing else bounds a peer that stops answering mid-session.
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 3,
            ..Default::default()
        });
        let verdict = Arc::new(Mutex::new(None));
        let handler = Client {
            policy: policy.clone(),
            host: target.host.clone(),
            port: target.port,
            verdict: verdict.clone(),
        };
        let stream = open_stream(target, timeouts, cancel).await?;
        let handle = stage(
            Stage::Handshake,
            &format!("SSH handshake with {label}"),
            timeouts.handshake,
            cancel,
            async {
                client::connect_stream(config, stream, handler)
                    .await
                    .map_err(|e| handshake_error(e, &verdict, &label))
            },
        )
        .await?;
        let recorded_host_key = matches!(
            verdict.lock().ok().and_then(|v| v.clone()),
            Some(Verdict::Recorded)
        );
        let mut handle = handle;
        let auth_what = format!("log in as {}", target.user);
        let res = stage(Stage::Auth, &auth_what, timeouts.auth, cancel, async {
            auth::authenticate(&mut handle, &target.user, &target.auth).await
        })
        .await;
        if let Err(f) = res {
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                handle.disconnect(russh::Disconnect::ByApplication, "", "en"),
            )
            .await;
            return Err(f);
        }
        Ok(Session {
            handle,
            label,
            cancel: cancel.clone(),
            command_timeout: timeouts.command,
            recorded_host_key,
        })
    }

    /// `user@host:port` of this session.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// [`Session::exec`] with the `command` timeout the session was connected with.
    pub async fn run(&self, cmd: &str, stdin: Option<&[u8]>) -> Result<ExecOutput, SshFailure> {
        self.exec(cmd, stdin, self.command_timeout).await
    }

    /// Runs one command on a new channel of this connection, feeding `stdin` when given. A
    /// command still running after `timeout` has its channel closed and fails at stage
    /// `Command` with kind `TimedOut`.
    pub async fn exec(
        &self,
        cmd: &str,
        stdin: Option<&[u8]>,
        timeout: Duration,
    ) -> Result<ExecOutput, SshFailure> {
        let started = Instant::now();
        let what = format!("command on {}", self.label);
        let mut channel = None;
        let res = stage(Stage::Command, &what, timeout, &self.cancel, async {
            let ch = self.handle.channel_open_session().await.map_err(|e| {
                SshFailure::new(
                    Stage::Command,
                    FailureKind::CommandRefused,
                    format!("cannot open a channel on {}: {e}", self.label),
                )
                .hint("the server may limit sessions (MaxSessions) or the connection dropped")
            })?;
            let ch = channel.insert(ch);
            ch.exec(true, cmd)
                .await
                .map_err(|e| lost(&self.label, &e))?;
            if let Some(input) = stdin {
                ch.data(input).await.map_err(|e| lost(&self.label, &e))?;
                ch.eof().await.map_err(|e| lost(&self.label, &e))?;
            }
            collect(ch, &self.label).await
        })
        .await;
        match res {
            Ok(mut out) => {
                out.elapsed = started.elapsed();
                Ok(out)
            }
            Err(mut f) => {
                if let Some(ch) = channel {
                    // Closing the channel makes sshd hang up on the command.
                    let _ = tokio::time::timeout(Duration::from_secs(1), ch.close()).await;
                }
                if f.kind == FailureKind::TimedOut {
                    f.message = format!(
                        "{what}: still running after {}; channel closed",
                        human(timeout)
                    );
                    f.hint = Some(
                        "raise the command timeout, or check what the command waits for".into(),
                    );
                }
                Err(f)
            }
        }
    }

    /// Ends the connection politely; dropping a session also ends it.
    pub async fn close(self) {
        let _ = tokio::time::timeout(
            Duration::from_secs(1),
            self.handle
                .disconnect(russh::Disconnect::ByApplication, "", "en"),
        )
        .await;
    }
}

async fn collect(
    ch: &mut russh::Channel<client::Msg>,
    label: &str,
) -> Result<ExecOutput, SshFailure> {
    let mut out = ExecOutput {
        stdout: Vec::new(),
        stderr: Vec::new(),
        exit: None,
        exit_signal: None,
        elapsed: Duration::ZERO,
        stdout_truncated: false,
        stderr_truncated: false,
    };
    while let Some(msg) = ch.wait().await {
        match msg {
            ChannelMsg::Data { data } => {
                push_capped(&mut out.stdout, &data, &mut out.stdout_truncated)
            }
            ChannelMsg::ExtendedData { data, ext: 1 } => {
                push_capped(&mut out.stderr, &data, &mut out.stderr_truncated)
            }
            ChannelMsg::ExitStatus { exit_status } => out.exit = Some(exit_status),
            ChannelMsg::ExitSignal { signal_name, .. } => {
                out.exit_signal = Some(format!("{signal_name:?}"))
            }
            ChannelMsg::Failure => {
                return Err(SshFailure::new(
                    Stage::Command,
                    FailureKind::CommandRefused,
                    format!("{label} refused to run the command"),
                ));
            }
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    Ok(out)
}

fn push_capped(buf: &mut Vec<u8>, data: &[u8], truncated: &mut bool) {
    let room = OUTPUT_CAP.saturating_sub(buf.len());
    if data.len() > room {
        *truncated = true;
    }
    buf.extend_from_slice(&data[..data.len().min(room)]);
}

fn lost(label: &str, e: &russh::Error) -> SshFailure {
    SshFailure::new(
        Stage::Command,
        FailureKind::Disconnected,
        format!("the connection to {label} broke: {e}"),
    )
}

fn tcp_error(what: &str, e: &std::io::Error) -> SshFailure {
    // tokio reports an unresolvable name as an io error with no OS code.
    if e.raw_os_error().is_none() && e.kind() != std::io::ErrorKind::TimedOut {
        return SshFailure::new(Stage::Tcp, FailureKind::Resolve, format!("{what}: {e}"))
            .hint("check the host name, or use the node's IP address");
    }
    from_connect_io(Stage::Tcp, what, e)
}

fn handshake_error(e: russh::Error, verdict: &Mutex<Option<Verdict>>, label: &str) -> SshFailure {
    if let Some(Verdict::Refused(f)) = verdict.lock().ok().and_then(|mut v| v.take()) {
        return f;
    }
    use russh::Error as E;
    let (kind, hint) = match &e {
        E::NoCommonAlgo { .. } => (
            FailureKind::NoCommonAlgorithm,
            "the node's sshd allows only algorithms this client does not speak (or the reverse)",
        ),
        E::Version => (
            FailureKind::Protocol,
            "something other than an SSH server answers on that port",
        ),
        E::Disconnect | E::HUP | E::IO(_) => (
            FailureKind::Disconnected,
            "the peer hung up: is an SSH server listening on that port? If so, its log says why \
             (MaxStartups, AllowUsers, DenyHosts)",
        ),
        _ => (
            FailureKind::Protocol,
            "the SSH handshake failed; the server's log says why",
        ),
    };
    SshFailure::new(
        Stage::Handshake,
        kind,
        format!("SSH handshake with {label}: {e}"),
    )
    .hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_stage_times_out_or_is_cancelled_with_its_own_name() {
        let never = std::future::pending::<Result<(), SshFailure>>;
        let cancel = CancellationToken::new();
        let f = stage(
            Stage::Tcp,
            "dial",
            Duration::from_millis(20),
            &cancel,
            never(),
        )
        .await
        .expect_err("times out");
        assert_eq!((f.stage, f.kind), (Stage::Tcp, FailureKind::TimedOut));
        assert_eq!(f.message, "dial: no answer within 20 ms");
        cancel.cancel();
        let f = stage(
            Stage::Auth,
            "login",
            Duration::from_secs(60),
            &cancel,
            never(),
        )
        .await
        .expect_err("cancelled");
        assert_eq!((f.stage, f.kind), (Stage::Auth, FailureKind::Cancelled));
    }

    #[test]
    fn output_is_capped_and_flagged() {
        let mut buf = vec![0u8; OUTPUT_CAP - 2];
        let mut t = false;
        push_capped(&mut buf, b"ab", &mut t);
        assert_eq!((buf.len(), t), (OUTPUT_CAP, false));
        push_capped(&mut buf, b"c", &mut t);
        assert_eq!((buf.len(), t), (OUTPUT_CAP, true));
    }

    #[test]
    fn a_refused_host_key_verdict_wins_over_russhs_unknown_key() {
        let refused = SshFailure::new(Stage::HostKey, FailureKind::HostKeyChanged, "changed");
        let slot = Mutex::new(Some(Verdict::Refused(refused.clone())));
        assert_eq!(
            handshake_error(russh::Error::UnknownKey, &slot, "x"),
            refused
        );
        let empty = Mutex::new(None);
        assert_eq!(
            handshake_error(russh::Error::Version, &empty, "x").kind,
            FailureKind::Protocol
        );
    }
}
