//! The real binary in a pseudo-terminal: it starts on the sandbox, switches panes, opens help,
//! quits, and leaves the terminal as it found it, also after a panic and after SIGHUP.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

const ROWS: u16 = 36;
const COLS: u16 = 120;
const STARTUP: Duration = Duration::from_secs(60);
const STEP: Duration = Duration::from_secs(10);

struct Session {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    writer: Box<dyn Write + Send>,
    screen: Arc<Mutex<vt100::Parser>>,
    raw: Arc<Mutex<Vec<u8>>>,
    _dirs: tempfile::TempDir,
}

impl Session {
    fn start(args: &[&str], extra_env: &[(&str, &str)]) -> Session {
        let dirs = tempfile::tempdir().expect("temp dir");
        let pty = native_pty_system();
        let pair = pty
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("openpty");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_acp-cockpit"));
        cmd.args(args);
        cmd.env_clear();
        if let Ok(path) = std::env::var("PATH") {
            cmd.env("PATH", path);
        }
        let d = dirs.path();
        cmd.env("HOME", d);
        cmd.env("TERM", "xterm-256color");
        cmd.env("LANG", "C.UTF-8");
        cmd.env("ACP_COCKPIT_CONFIG_DIR", d.join("config"));
        cmd.env("ACP_COCKPIT_DATA_DIR", d.join("data"));
        cmd.env("ACP_COCKPIT_STATE_DIR", d.join("state"));
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.cwd(d);
        let child = pair.slave.spawn_command(cmd).expect("spawn acp-cockpit");
        drop(pair.slave);
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer = pair.master.take_writer().expect("pty writer");
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(ROWS).expect("rows"),
            std::num::NonZeroU16::new(COLS).expect("cols"),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let (s, r) = (screen.clone(), raw.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                s.lock().unwrap().process(&buf[..n]);
                r.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Session {
            child,
            master: pair.master,
            writer,
            screen,
            raw,
            _dirs: dirs,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn wait_for(&mut self, needle: &str, timeout: Duration) {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if self.text().contains(needle) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "acp-cockpit exited ({status:?}) before showing {needle:?}; screen:\n{}\nraw tail: {:?}",
                    self.text(),
                    String::from_utf8_lossy(&self.raw.lock().unwrap())
                        .chars()
                        .rev()
                        .take(600)
                        .collect::<String>()
                        .chars()
                        .rev()
                        .collect::<String>()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("timed out waiting for {needle:?}; screen:\n{}", self.text());
    }

    fn send(&mut self, bytes: &str) {
        self.writer
            .write_all(bytes.as_bytes())
            .expect("write to pty");
        self.writer.flush().expect("flush pty");
    }

    fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader thread take the last bytes.
                std::thread::sleep(Duration::from_millis(100));
                return status;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!(
            "acp-cockpit did not exit within {timeout:?}; screen:\n{}",
            self.text()
        );
    }

    /// Raw mode off means the line discipline is back: canonical input and echo.
    fn assert_restored(&self) {
        let screen = self.screen.lock().unwrap();
        assert!(
            !screen.screen().alternate_screen(),
            "still on the alternate screen"
        );
        assert!(!screen.screen().hide_cursor(), "cursor still hidden");
        drop(screen);
        let fd = self.master.as_raw_fd().expect("pty fd");
        // SAFETY: tcgetattr writes into a zeroed termios we own; fd is the open pty master.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::tcgetattr(fd, &mut t) };
        assert_eq!(rc, 0, "tcgetattr on the pty");
        assert!(
            t.c_lflag & libc::ICANON != 0,
            "raw mode still on (ICANON off)"
        );
        assert!(t.c_lflag & libc::ECHO != 0, "raw mode still on (ECHO off)");
        let raw = self.raw.lock().unwrap();
        let s = String::from_utf8_lossy(&raw);
        assert!(s.contains("\x1b[?2004l"), "bracketed paste not disabled");
    }
}

#[test]
fn tui_e2e_switches_panes_opens_help_and_quits() {
    let mut s = Session::start(&["--sandbox"], &[]);
    s.wait_for("SANDBOX", STARTUP);
    s.wait_for("Clusters", STEP);
    let raw = String::from_utf8_lossy(&s.raw.lock().unwrap()).into_owned();
    assert!(
        raw.contains("\x1b[?2026h") && raw.contains("\x1b[?2026l"),
        "frames are not synchronized updates"
    );
    assert!(raw.contains("\x1b[?1049h"), "alternate screen not entered");
    s.send("5");
    s.wait_for("etcd-encryption-manager", STEP);
    s.send("6");
    // The Registry pane, built now, opens on what it checks.
    s.wait_for("cannot pull its image", STEP);
    s.send("\t");
    s.wait_for("y yaml", STEP);
    s.send("?");
    s.wait_for("Everywhere", STEP);
    s.send("\x1b");
    let start = Instant::now();
    while s.text().contains("Everywhere") && start.elapsed() < STEP {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!s.text().contains("Everywhere"), "help did not close");
    s.send(":frob\r");
    s.wait_for("unknown command", STEP);
    s.send(":q\r");
    let status = s.wait_exit(STEP);
    assert!(status.success(), "exit status {status:?}");
    s.assert_restored();
}

#[test]
fn tui_e2e_restores_the_terminal_after_a_panic() {
    let mut s = Session::start(
        &["--sandbox"],
        &[("ACP_COCKPIT_TEST_PANIC", "1"), ("RUST_BACKTRACE", "0")],
    );
    let status = s.wait_exit(STARTUP);
    assert!(!status.success());
    s.assert_restored();
    let raw = String::from_utf8_lossy(&s.raw.lock().unwrap()).into_owned();
    let left = raw.find("\x1b[?1049l").expect("alternate screen left");
    let msg = raw
        .find("panicking after the first frame")
        .expect("panic message printed");
    assert!(
        left < msg,
        "the panic message was printed before the terminal was restored"
    );
    assert!(
        raw.contains("\x1b[?2026l"),
        "no frame was drawn before the panic"
    );
}

#[test]
fn tui_e2e_exits_at_once_on_sighup() {
    let mut s = Session::start(&["--sandbox", "--readonly"], &[]);
    s.wait_for("READ-ONLY", STARTUP);
    let pid = s.child.process_id().expect("pid") as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    let status = s.wait_exit(Duration::from_secs(3));
    assert_eq!(status.exit_code(), 129, "{status:?}");
    s.assert_restored();
}

fn process_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(") ")?.1.chars().next()
}

#[test]
fn tui_e2e_suspends_on_ctrl_z_and_redraws_on_resize() {
    let mut s = Session::start(&["--sandbox"], &[]);
    s.wait_for("SANDBOX", STARTUP);
    let pid = s.child.process_id().expect("pid");
    s.send("\x1a");
    let start = Instant::now();
    while process_state(pid) != Some('T') && start.elapsed() < STEP {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        process_state(pid),
        Some('T'),
        "Ctrl-Z did not stop the process"
    );
    std::thread::sleep(Duration::from_millis(100));
    s.assert_restored();

    s.screen.lock().unwrap().process(b"\x1b[2J");
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, libc::SIGCONT) }, 0);
    s.wait_for("SANDBOX", STEP);
    assert!(
        s.screen.lock().unwrap().screen().alternate_screen(),
        "not back on the alternate screen"
    );

    // A narrower terminal: the header is drawn again at the new width, badge still visible.
    s.master
        .resize(PtySize {
            rows: 30,
            cols: 90,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("resize pty");
    s.screen.lock().unwrap().screen_mut().set_size(
        std::num::NonZeroU16::new(30).expect("rows"),
        std::num::NonZeroU16::new(90).expect("cols"),
    );
    let start = Instant::now();
    // The old bottom row (36) is gone; the footer must be drawn again on row 30.
    while !s
        .text()
        .lines()
        .nth(29)
        .unwrap_or_default()
        .contains("q quit")
    {
        assert!(
            start.elapsed() < STEP,
            "no redraw after resize:\n{}",
            s.text()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    s.send(":q\r");
    assert!(s.wait_exit(STEP).success());
    s.assert_restored();
}

#[test]
fn tui_e2e_restores_the_terminal_on_sigterm() {
    let mut s = Session::start(&["--sandbox"], &[]);
    s.wait_for("SANDBOX", STARTUP);
    let pid = s.child.process_id().expect("pid") as libc::pid_t;
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = s.wait_exit(STEP);
    assert_eq!(status.exit_code(), 143, "{status:?}");
    s.assert_restored();
}

/// The first frame does not wait for the embedded sandbox: with its start held back for a
/// minute, the shell is on screen within seconds and quits at once.
#[test]
fn tui_e2e_draws_before_the_sandbox_is_up() {
    let mut s = Session::start(
        &["--sandbox"],
        &[("ACP_COCKPIT_TEST_SANDBOX_DELAY_MS", "60000")],
    );
    s.wait_for("SANDBOX", STEP);
    s.wait_for("Clusters", STEP);
    s.send("q");
    let status = s.wait_exit(STEP);
    assert!(status.success(), "{status:?}");
    s.assert_restored();
}
