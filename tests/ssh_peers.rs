//! The engine's SSH half against a real OpenSSH server and a real SOCKS5 proxy (microsocks),
//! both on loopback, started by `scripts/test.sh`. Without them the tests skip with a reason,
//! except under CI, where they fail.

#[path = "common/ssh.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use acp_cockpit::domain::cluster::{ClusterMachine, MachineProxy};
use acp_cockpit::engine::ssh::{
    FailureKind, HostKeyPolicy, ProxySpec, Session, SshAuth, SshFailure, SshPool, SshTarget, Stage,
    Timeouts, record_host_key,
};
use base64::Engine as _;
use common::{LOOPBACK, Peers, closed_port, local, peers, policy_with, timeouts};
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

/// Where and why a case must fail; `None` for success.
type Expected = (Stage, FailureKind);

async fn connect(t: &SshTarget, policy: &HostKeyPolicy) -> Result<Session, SshFailure> {
    Session::connect(t, policy, &timeouts(), &CancellationToken::new()).await
}

/// Connects with the sshd's key already known and runs `echo ok`.
async fn works(p: &Peers, t: &SshTarget) {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), &p.host_key_line(), false);
    let s = connect(t, &policy)
        .await
        .unwrap_or_else(|f| panic!("{}: {f}", t.label()));
    let out = s
        .exec("echo ok", None, Duration::from_secs(10))
        .await
        .expect("echo");
    assert_eq!((out.stdout.as_slice(), out.exit), (&b"ok\n"[..], Some(0)));
    s.close().await;
}

async fn fails(p: &Peers, t: &SshTarget) -> SshFailure {
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), &p.host_key_line(), false);
    match connect(t, &policy).await {
        Ok(_) => panic!("{} connected, expected a failure", t.label()),
        Err(f) => {
            // Shown with --nocapture, to read the wording a user would get.
            eprintln!("{}: {f}", t.label());
            f
        }
    }
}

#[tokio::test]
async fn key_auth_runs_several_commands_on_one_connection() {
    let Some(p) = peers("key_auth") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), &p.host_key_line(), false);
    let s = connect(&p.key_target(), &policy).await.expect("key auth");
    let t = Duration::from_secs(10);
    let out = s
        .exec("echo hi; echo err >&2; exit 3", None, t)
        .await
        .expect("exec");
    assert_eq!(out.stdout, b"hi\n");
    assert_eq!(out.stderr, b"err\n");
    assert_eq!(out.exit, Some(3));
    assert!(!out.stdout_truncated && !out.stderr_truncated);
    let out = s
        .exec("cat; whoami", Some(b"from stdin\n"), t)
        .await
        .expect("stdin");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("from stdin\n{}\n", p.user)
    );
    let out = s.exec("kill -TERM $$", None, t).await.expect("signal");
    assert_eq!(
        (out.exit, out.exit_signal.is_some()),
        (None, true),
        "{out:?}"
    );
    s.close().await;
}

#[tokio::test]
async fn encrypted_key_needs_its_passphrase() {
    let Some(p) = peers("encrypted_key") else {
        return;
    };
    let text = p.read("client_ed25519_enc");
    let with = |pass: Option<&str>| {
        p.target(SshAuth::KeyText {
            text: Zeroizing::new(text.clone()),
            passphrase: pass.map(|s| Zeroizing::new(s.to_string())),
        })
    };
    works(&p, &with(Some(&p.key_passphrase))).await;
    let f = fails(&p, &with(None)).await;
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Auth, FailureKind::PassphraseNeeded),
        "{f}"
    );
    let f = fails(&p, &with(Some("not-the-passphrase"))).await;
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Auth, FailureKind::WrongPassphrase),
        "{f}"
    );
    // The same key as a file.
    let file = p.target(SshAuth::KeyFile {
        path: p.file("client_ed25519_enc"),
        passphrase: Some(Zeroizing::new(p.key_passphrase.clone())),
    });
    works(&p, &file).await;
}

#[tokio::test]
async fn pem_rsa_key_logs_in() {
    let Some(p) = peers("pem_rsa_key") else {
        return;
    };
    let text = p.read("client_rsa_pem");
    assert!(
        text.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
        "not a PEM key"
    );
    let t = p.target(SshAuth::KeyText {
        text: Zeroizing::new(text),
        passphrase: None,
    });
    works(&p, &t).await;
}

#[tokio::test]
async fn password_auth_and_the_wrong_password() {
    let Some(p) = peers("password_auth") else {
        return;
    };
    works(&p, &p.password_target(&p.password)).await;
    let f = fails(&p, &p.password_target("wrong-password")).await;
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Auth, FailureKind::WrongPassword),
        "{f}"
    );
    assert!(f.message.contains(&p.user), "{f}");
    assert!(!format!("{f:?}").contains("wrong-password"));
}

#[tokio::test]
async fn a_key_the_server_does_not_know_is_refused_as_such() {
    let Some(p) = peers("unknown_client_key") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("stranger");
    local(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            &key.to_string_lossy(),
        ],
    );
    let f = fails(
        &p,
        &p.target(SshAuth::KeyFile {
            path: key,
            passphrase: None,
        }),
    )
    .await;
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Auth, FailureKind::KeyRefused),
        "{f}"
    );
}

#[tokio::test]
async fn unknown_host_key_is_refused_unless_accepted_then_recorded() {
    let Some(p) = peers("unknown_host_key") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let refusing = policy_with(dir.path(), "", false);
    let f = connect(&p.key_target(), &refusing)
        .await
        .expect_err("unknown key");
    assert_eq!(
        (f.stage, f.kind),
        (Stage::HostKey, FailureKind::HostKeyUnknown),
        "{f}"
    );
    let seen = f.host_key.clone().expect("the presented key");
    // The fingerprint exactly as ssh-keygen prints it.
    let listed = local(
        "ssh-keygen",
        &["-lf", &p.file("host_ed25519.pub").to_string_lossy()],
    );
    assert_eq!(
        listed.split_whitespace().nth(1),
        Some(seen.fingerprint.as_str())
    );
    assert!(f.message.contains(&seen.fingerprint), "{f}");
    assert_eq!(seen.line, p.host_key_line());
    assert!(!refusing.own.exists(), "refusing must not write");

    // Accepting new keys records it and connects.
    let accepting = HostKeyPolicy {
        accept_new: true,
        ..refusing.clone()
    };
    let s = connect(&p.key_target(), &accepting)
        .await
        .expect("accepted");
    assert!(s.recorded_host_key);
    s.close().await;
    let written = std::fs::read_to_string(&refusing.own).expect("own known_hosts");
    assert_eq!(written, format!("{}\n", p.host_key_line()));
    // From now on it is known without acceptance, and recording it again adds nothing.
    let s = connect(&p.key_target(), &refusing)
        .await
        .expect("known now");
    assert!(!s.recorded_host_key);
    s.close().await;
    record_host_key(&refusing, LOOPBACK, p.ssh_port, &seen.key)
        .await
        .expect("idempotent");
    assert_eq!(
        std::fs::read_to_string(&refusing.own).expect("own"),
        written
    );
}

#[tokio::test]
async fn a_front_end_records_a_confirmed_key() {
    let Some(p) = peers("record_confirmed_key") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(&dir.path().join("not-yet-created"), "", false);
    let f = connect(&p.key_target(), &policy)
        .await
        .expect_err("unknown key");
    let seen = f.host_key.expect("the presented key");
    record_host_key(&policy, LOOPBACK, p.ssh_port, &seen.key)
        .await
        .expect("record");
    connect(&p.key_target(), &policy)
        .await
        .expect("known after recording")
        .close()
        .await;
}

#[tokio::test]
async fn changed_host_key_is_refused_naming_file_and_line() {
    let Some(p) = peers("changed_host_key") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let other = dir.path().join("other");
    local(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            &other.to_string_lossy(),
        ],
    );
    let other_pub = std::fs::read_to_string(other.with_extension("pub")).expect("pub");
    let mut parts = other_pub.split_whitespace();
    let (t, k) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let field = format!("[{LOOPBACK}]:{}", p.ssh_port);
    let known = format!("# an older install\n{field} {t} {k}\n");
    for accept_new in [false, true] {
        let policy = policy_with(dir.path(), &known, accept_new);
        let f = connect(&p.key_target(), &policy)
            .await
            .expect_err("changed key");
        assert_eq!(
            (f.stage, f.kind),
            (Stage::HostKey, FailureKind::HostKeyChanged),
            "{f}"
        );
        let own = policy.own.display().to_string();
        assert!(f.message.contains(&format!("{own}:2")), "{f}");
        let hint = f.hint.clone().unwrap_or_default();
        assert!(
            hint.contains(&format!("ssh-keygen -f {own} -R '{field}'")),
            "{hint}"
        );
        // Never auto-accepted, and not recordable next to the old line either.
        assert_eq!(std::fs::read_to_string(&policy.own).expect("own"), known);
        let seen = f.host_key.expect("presented key");
        let e = record_host_key(&policy, LOOPBACK, p.ssh_port, &seen.key)
            .await
            .expect_err("conflict");
        assert_eq!(e.kind, FailureKind::HostKeyChanged);
    }
}

#[tokio::test]
async fn hashed_user_known_hosts_is_read_and_never_written() {
    let Some(p) = peers("hashed_user_known_hosts") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("user_known_hosts");
    std::fs::write(&user, format!("{}\n", p.host_key_line())).expect("write");
    local("ssh-keygen", &["-H", "-f", &user.to_string_lossy()]);
    let hashed = std::fs::read_to_string(&user).expect("hashed");
    assert!(
        hashed.starts_with("|1|") && !hashed.contains(LOOPBACK),
        "{hashed}"
    );
    let policy = HostKeyPolicy {
        own: dir.path().join("own_known_hosts"),
        user: Some(user.clone()),
        accept_new: true,
    };
    let s = connect(&p.key_target(), &policy)
        .await
        .expect("hashed entry trusted");
    assert!(!s.recorded_host_key);
    s.close().await;
    assert!(!policy.own.exists());
    assert_eq!(std::fs::read_to_string(&user).expect("user"), hashed);
}

#[tokio::test]
async fn through_the_socks5_proxy() {
    let Some(p) = peers("socks5_proxy") else {
        return;
    };
    let mut t = p.key_target();
    t.proxy = Some(p.good_proxy());
    works(&p, &t).await;

    t.proxy = Some(p.proxy(Some(&p.socks_user), Some("wrong")));
    let f = fails(&p, &t).await;
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Proxy, FailureKind::ProxyAuthRefused),
        "{f}"
    );

    t.proxy = Some(p.proxy(None, None));
    let f = fails(&p, &t).await;
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Proxy, FailureKind::ProxyAuthRequired),
        "{f}"
    );

    let mut down = p.good_proxy();
    down.port = closed_port();
    t.proxy = Some(down);
    let f = fails(&p, &t).await;
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Proxy, FailureKind::Refused),
        "{f}"
    );
    assert!(f.message.contains("SOCKS5 proxy"), "{f}");

    let mut behind = p.key_target();
    behind.port = closed_port();
    behind.proxy = Some(p.good_proxy());
    let f = fails(&p, &behind).await;
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Proxy, FailureKind::ProxyCannotReachTarget),
        "{f}"
    );
}

#[tokio::test]
async fn a_closed_port_fails_at_tcp_as_refused() {
    let Some(p) = peers("closed_port") else {
        return;
    };
    let mut t = p.key_target();
    t.port = closed_port();
    let f = fails(&p, &t).await;
    assert_eq!((f.stage, f.kind), (Stage::Tcp, FailureKind::Refused), "{f}");
}

#[tokio::test]
async fn a_hung_command_times_out_and_the_session_stays_usable() {
    let Some(p) = peers("hung_command") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), &p.host_key_line(), false);
    let s = connect(&p.key_target(), &policy).await.expect("connect");
    let started = Instant::now();
    let f = s
        .exec("sleep 60", None, Duration::from_secs(1))
        .await
        .expect_err("hangs");
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Command, FailureKind::TimedOut),
        "{f}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "timeout not honoured"
    );
    assert!(f.message.contains("channel closed"), "{f}");
    let out = s
        .exec("echo still", None, Duration::from_secs(10))
        .await
        .expect("reuse");
    assert_eq!(out.stdout, b"still\n");
    s.close().await;
}

#[tokio::test]
async fn cancelling_ends_a_running_command() {
    let Some(p) = peers("cancel") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), &p.host_key_line(), false);
    let cancel = CancellationToken::new();
    let s = Session::connect(&p.key_target(), &policy, &timeouts(), &cancel)
        .await
        .expect("connect");
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let f = s
        .exec("sleep 60", None, Duration::from_secs(60))
        .await
        .expect_err("cancelled");
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Command, FailureKind::Cancelled),
        "{f}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_targets_at_once_each_get_their_own_answer() {
    let Some(p) = peers("many_targets") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), &p.host_key_line(), false);
    let pool = SshPool::new(policy, timeouts(), 4);
    let mut via_proxy = p.key_target();
    via_proxy.proxy = Some(p.good_proxy());
    let mut bad_proxy = p.key_target();
    bad_proxy.proxy = Some(p.proxy(Some(&p.socks_user), Some("wrong")));
    let mut closed = p.key_target();
    closed.port = closed_port();
    let cases: Vec<(SshTarget, &str, Option<Expected>)> = vec![
        (p.key_target(), "echo fine", None),
        (p.password_target(&p.password), "echo fine", None),
        (via_proxy, "echo fine", None),
        (
            p.password_target("nope"),
            "echo fine",
            Some((Stage::Auth, FailureKind::WrongPassword)),
        ),
        (
            closed,
            "echo fine",
            Some((Stage::Tcp, FailureKind::Refused)),
        ),
        (
            bad_proxy,
            "echo fine",
            Some((Stage::Proxy, FailureKind::ProxyAuthRefused)),
        ),
        (
            p.key_target(),
            "sleep 60",
            Some((Stage::Command, FailureKind::TimedOut)),
        ),
        (p.key_target(), "echo fine", None),
    ];
    let cancel = CancellationToken::new();
    let runs = cases.iter().map(|(t, cmd, _)| {
        let (pool, cancel, cmd) = (pool.clone(), cancel.clone(), cmd.to_string());
        let t = t.clone();
        tokio::spawn(async move {
            pool.with_session(&t, &cancel, |s: Arc<Session>| async move {
                s.exec(&cmd, None, Duration::from_secs(2)).await
            })
            .await
        })
    });
    let results = futures::future::join_all(runs).await;
    for ((t, cmd, want), got) in cases.iter().zip(results) {
        let got = got.expect("task");
        match (want, got) {
            (None, Ok(out)) => assert_eq!(out.stdout, b"fine\n", "{}", t.label()),
            (Some(w), Err(f)) => assert_eq!((f.stage, f.kind), *w, "{} `{cmd}`: {f}", t.label()),
            (w, g) => panic!("{} `{cmd}`: wanted {w:?}, got {g:?}", t.label()),
        }
    }
}

#[tokio::test]
async fn facts_over_ssh_match_this_machine() {
    let Some(p) = peers("facts") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), &p.host_key_line(), false);
    let s = connect(&p.key_target(), &policy).await.expect("connect");
    let probe = "uname -m; nproc; uname -r; hostname; grep MemTotal /proc/meminfo";
    // `run` uses the command timeout of `timeouts()`.
    let out = s.run(probe, None).await.expect("probe");
    assert_eq!(
        out.exit,
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert_eq!(lines[0], std::env::consts::ARCH);
    assert_eq!(lines[1], local("nproc", &[]));
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
    assert_eq!(lines[2], release.trim());
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname");
    assert_eq!(lines[3], hostname.trim());
    let meminfo = std::fs::read_to_string("/proc/meminfo").expect("meminfo");
    let local_mem = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .unwrap_or_default();
    assert_eq!(lines[4], local_mem);
    s.close().await;
}

#[tokio::test]
async fn keyboard_interactive_stands_in_for_a_refused_password() {
    let Some(p) = peers("keyboard_interactive") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), &p.host_key_line_for(p.kbd_port), false);
    let mut t = p.password_target(&p.password);
    t.port = p.kbd_port;
    let s = connect(&t, &policy)
        .await
        .expect("keyboard-interactive with the password");
    let out = s
        .exec("echo kbd", None, Duration::from_secs(10))
        .await
        .expect("exec");
    assert_eq!(out.stdout, b"kbd\n");
    s.close().await;
    let mut wrong = p.password_target("wrong-password");
    wrong.port = p.kbd_port;
    let f = connect(&wrong, &policy).await.expect_err("wrong password");
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Auth, FailureKind::WrongPassword),
        "{f}"
    );
}

#[tokio::test]
async fn silent_peers_time_out_at_their_own_stage() {
    let Some(p) = peers("silent_peers") else {
        return;
    };
    let (silent, task) = common::silent_listener().await;
    let short = Timeouts {
        proxy: Duration::from_millis(800),
        handshake: Duration::from_millis(800),
        ..timeouts()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let policy = policy_with(dir.path(), "", false);
    let cancel = CancellationToken::new();
    let mut t = p.key_target();
    t.port = silent;
    let f = Session::connect(&t, &policy, &short, &cancel)
        .await
        .expect_err("no SSH banner");
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Handshake, FailureKind::TimedOut),
        "{f}"
    );
    let mut via = p.key_target();
    via.proxy = Some(ProxySpec {
        port: silent,
        ..p.good_proxy()
    });
    let f = Session::connect(&via, &policy, &short, &cancel)
        .await
        .expect_err("silent proxy");
    assert_eq!(
        (f.stage, f.kind),
        (Stage::Proxy, FailureKind::TimedOut),
        "{f}"
    );
    task.abort();
}

#[tokio::test]
async fn an_acp_machine_entry_connects_through_its_proxy() {
    let Some(p) = peers("machine_entry") else {
        return;
    };
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let m = ClusterMachine {
        ip: LOOPBACK.into(),
        port: i32::from(p.ssh_port),
        username: p.user.clone(),
        password: Some(b64(&p.password)),
        proxy: Some(MachineProxy {
            type_: "SOCKS5".into(),
            address: format!("{LOOPBACK}:{}", p.socks_port),
            username: Some(p.socks_user.clone()),
            password: Some(b64(&p.socks_password)),
        }),
        ..Default::default()
    };
    let t = SshTarget::from_machine(&m).expect("valid machine");
    assert!(t.proxy.is_some());
    works(&p, &t).await;
    let key = ClusterMachine {
        password: None,
        private_key: Some(b64(&p.read("client_ed25519_enc"))),
        pass_phrase: Some(b64(&p.key_passphrase)),
        ..m
    };
    works(
        &p,
        &SshTarget::from_machine(&key).expect("valid key machine"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_never_runs_more_than_its_limit() {
    let Some(p) = peers("pool_limit") else { return };
    let dir = tempfile::tempdir().expect("tempdir");
    let pool = SshPool::new(
        policy_with(dir.path(), &p.host_key_line(), false),
        timeouts(),
        2,
    );
    let active = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let cancel = CancellationToken::new();
    let runs = (0..6).map(|_| {
        let (pool, cancel, t) = (pool.clone(), cancel.clone(), p.key_target());
        let (active, peak) = (active.clone(), peak.clone());
        tokio::spawn(async move {
            pool.with_session(&t, &cancel, |s: Arc<Session>| async move {
                let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                let out = s
                    .exec("sleep 0.3; echo done", None, Duration::from_secs(10))
                    .await;
                active.fetch_sub(1, Ordering::SeqCst);
                out
            })
            .await
        })
    });
    for r in futures::future::join_all(runs).await {
        assert_eq!(r.expect("task").expect("run").stdout, b"done\n");
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2, "two slots, six nodes");
}

#[tokio::test]
async fn a_port_that_does_not_speak_ssh_fails_at_the_handshake() {
    let Some(p) = peers("not_ssh") else { return };
    // microsocks reads the SSH banner as a bad SOCKS greeting and hangs up.
    let mut t = p.key_target();
    t.port = p.socks_port;
    let f = fails(&p, &t).await;
    assert_eq!(f.stage, Stage::Handshake, "{f}");
    assert!(
        matches!(f.kind, FailureKind::Protocol | FailureKind::Disconnected),
        "{f}"
    );
}
