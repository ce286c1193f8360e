//! The full-screen terminal UI. It never awaits I/O: it sends engine commands and draws state.
//!
//! [`run`] is the event loop: one `select!` over terminal input, engine events, signals and a
//! single timer. Everything queued is drained before a frame is drawn, a frame is drawn at most
//! every [`FRAME_BUDGET`] and only when something changed, and the timer is armed only for a
//! pending frame, a visible toast, the header clock's next minute, or the active pane's live
//! durations (a running step's seconds) while it shows some. Idle therefore means no wake-ups
//! and no bytes written.

pub mod actions;
pub mod app;
pub mod clipboard;
pub mod launch;
pub mod panes;
pub mod screenshots;
pub mod svg;
pub mod terminal;
pub mod toast;
pub mod widgets;

use std::collections::BTreeMap;
use std::task::Poll;
use std::time::{Duration, Instant};

use chrono::{Timelike, Utc};
use crossterm::event::{Event as TermEvent, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::config::keymap::Keymap;
use crate::config::theme::Theme;
use crate::engine::{Command, EngineHandle, Event};
use app::{App, AppOptions, HeaderInfo, Outgoing, ShellHook};
pub use launch::launch;
use panes::PaneDeps;
use terminal::{Sig, Signals, Tui};
use toast::Toast;

/// Ctrl-Z or SIGTSTP: hands the terminal back to the shell and stops the process; `fg` comes
/// back here. Dropping the input stream stops its reader thread, so the shell gets every key.
fn suspend_self(
    tui: &mut Tui,
    input: &mut Option<EventStream>,
    app: &mut App,
) -> std::io::Result<()> {
    drop(input.take());
    terminal::stop_self(tui)?;
    *input = Some(EventStream::new());
    app.mark_dirty();
    Ok(())
}

/// How long quitting waits for the engine's tasks to cancel and finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// The shortest time between two frames (about 60 per second).
pub const FRAME_BUDGET: Duration = Duration::from_millis(16);
/// At most this many queued inputs or events are folded in before a frame is considered, so a
/// flooding engine delays frames instead of starving them.
const DRAIN_LIMIT: usize = 4096;
/// A debugging aid for the end-to-end tests: `1` makes the TUI panic after its first frame.
pub const TEST_PANIC_ENV: &str = "ACP_COCKPIT_TEST_PANIC";

/// Everything the TUI needs; the platform resolution (`crate::startup`) fills it.
pub struct TuiOptions {
    pub theme: Theme,
    pub keymap: Keymap,
    /// Problems found while loading config, theme and keymap; shown in the UI.
    pub warnings: Vec<String>,
    pub readonly: bool,
    pub sandbox: bool,
    /// Shown in the header, e.g. the platform's host name or "sandbox".
    pub platform: String,
    /// The kubeconfig context in use.
    pub context: Option<String>,
    pub engine: EngineHandle,
    pub events: mpsc::Receiver<Event>,
    /// Overrides how `:ctx <name>` reaches the engine; `None` sends
    /// `KubeCommand::SwitchContext`.
    pub shell_hook: Option<ShellHook>,
    /// The platform label of each kubeconfig context, so the header follows `:ctx`; empty on the
    /// sandbox, where every context is the sandbox.
    pub context_platforms: BTreeMap<String, String>,
    pub pane_deps: PaneDeps,
    /// Mouse capture; off by default so the terminal's own selection keeps working.
    pub mouse: bool,
}

impl TuiOptions {
    /// Options from the loaded configuration and a running engine.
    pub fn new(
        config: &Config,
        readonly: bool,
        sandbox: bool,
        platform: impl Into<String>,
        context: Option<String>,
        engine: EngineHandle,
        events: mpsc::Receiver<Event>,
    ) -> TuiOptions {
        let keymap = config.keymap(&actions::catalog());
        let mut warnings = config.warnings.clone();
        warnings.extend(keymap.warnings.iter().cloned());
        TuiOptions {
            theme: config.theme.clone(),
            keymap,
            warnings,
            readonly,
            sandbox,
            platform: platform.into(),
            context: context.clone(),
            engine,
            events,
            shell_hook: None,
            context_platforms: BTreeMap::new(),
            pane_deps: PaneDeps {
                readonly,
                sandbox,
                data_dir: config.paths.data_dir.clone(),
                preflight: panes::wizard::PreflightEnv {
                    proxy: Default::default(),
                    sandbox,
                    context,
                    config_dir: Some(config.paths.config_dir.clone()),
                },
            },
            mouse: false,
        }
    }
}

async fn next_event(rx: &mut Option<mpsc::Receiver<Event>>) -> Option<Event> {
    match rx {
        Some(r) => r.recv().await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `at`, or forever when nothing is due.
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// The start of the next wall-clock minute, when the header clock changes.
fn next_minute(now: Instant) -> Instant {
    let wall = Utc::now();
    let ms_into_minute =
        u64::from(wall.second()) * 1000 + u64::from(wall.timestamp_subsec_millis().min(999));
    now + Duration::from_millis(60_000 - ms_into_minute.min(59_999))
}

/// Runs the TUI until the user quits; returns the process exit code.
pub async fn run(opts: TuiOptions) -> anyhow::Result<i32> {
    let start = Instant::now();
    let TuiOptions {
        theme,
        keymap,
        warnings,
        readonly,
        sandbox,
        platform,
        context,
        engine,
        events,
        shell_hook,
        context_platforms,
        pane_deps,
        mouse,
    } = opts;
    let panes = panes::build_panes(&pane_deps);
    let mut app = App::new(
        AppOptions {
            theme,
            keymap,
            header: HeaderInfo {
                platform,
                context,
                cluster: None,
            },
            readonly,
            sandbox,
            panes,
            warnings,
            shell_hook,
        },
        start,
    );
    app.set_context_platforms(context_platforms);
    let test_panic = std::env::var(TEST_PANIC_ENV).is_ok_and(|v| v == "1");
    let mut signals = Signals::new()?;
    let mut tui = Tui::enter(mouse)?;
    let mut input = Some(EventStream::new());
    let mut events = Some(events);
    let mut last_draw: Option<Instant> = None;
    let mut clock_minute = Utc::now().minute();
    let mut minute_at = next_minute(start);

    let code = loop {
        let now = Instant::now();
        if app.is_dirty() && last_draw.is_none_or(|t| now >= t + FRAME_BUDGET) {
            let wrote = tui.draw(|f| app.render(f, Utc::now()))?;
            if !wrote {
                tracing::trace!("frame unchanged; nothing written");
            }
            app.mark_drawn();
            app.arm_live_timer(now);
            if last_draw.is_none() {
                tracing::info!(
                    elapsed_ms = start.elapsed().as_millis() as u64,
                    "first frame"
                );
                if test_panic {
                    panic!("{TEST_PANIC_ENV}=1: panicking after the first frame as asked");
                }
            }
            last_draw = Some(now);
        }
        if app.should_quit() {
            break 0;
        }
        for out in app.take_outbox() {
            match out {
                Outgoing::Engine(cmd) => {
                    if let Err(t) = engine.send(cmd) {
                        app.push_toast(t.into(), Instant::now());
                    }
                }
                Outgoing::Copy(text) => {
                    use std::io::Write as _;
                    let mut o = std::io::stdout();
                    let _ = o.write_all(clipboard::osc52(&text).as_bytes());
                    let _ = o.flush();
                }
                Outgoing::SuspendSelf => {
                    suspend_self(&mut tui, &mut input, &mut app)?;
                    last_draw = None;
                }
                Outgoing::Suspend { pane, job } => {
                    // Dropping the stream stops its reader thread, so the stopped or foreground program gets every key.
                    drop(input.take());
                    tui.leave();
                    tracing::info!(program = %job.program, tag = %job.tag, "running in the foreground");
                    let status = std::process::Command::new(&job.program)
                        .args(&job.args)
                        .status();
                    // A failure's output must stay readable until the user has read it.
                    terminal::pause_after_job_on_terminal(&job.program, &status);
                    tui.resume()?;
                    input = Some(EventStream::new());
                    let now = Instant::now();
                    let ok = match status {
                        Ok(s) => s.success(),
                        Err(e) => {
                            app.push_toast(
                                Toast::error(
                                    format!("cannot run {}: {e}", job.program),
                                    Some(
                                        "check that it is installed and on PATH (or set $EDITOR)"
                                            .to_string(),
                                    ),
                                ),
                                now,
                            );
                            false
                        }
                    };
                    app.on_resumed(pane, &job.tag, ok, now);
                    last_draw = None;
                }
            }
        }
        if app.is_dirty() && last_draw.is_none() {
            continue;
        }

        let frame_at = app
            .is_dirty()
            .then(|| last_draw.map_or(now, |t| t + FRAME_BUDGET));
        let wake = [frame_at, app.next_deadline(), Some(minute_at)]
            .into_iter()
            .flatten()
            .min();
        let stream = input.as_mut();
        tokio::select! {
            biased;
            sig = signals.recv() => match sig {
                Sig::Hangup => {
                    // The terminal is gone: nobody can see a goodbye, and lingering would keep
                    // sessions alive on a jump host. Restore what can be restored and leave now.
                    tracing::info!("SIGHUP: the terminal went away; exiting");
                    drop(tui);
                    let _ = engine.send(Command::Shutdown);
                    std::process::exit(129);
                }
                Sig::Terminate => break 143,
                Sig::Interrupt => break 130,
                Sig::Stop => {
                    suspend_self(&mut tui, &mut input, &mut app)?;
                    last_draw = None;
                }
            },
            ev = async { match stream { Some(s) => s.next().await, None => std::future::pending().await } } => {
                match ev {
                    Some(Ok(ev)) => {
                        handle_input(&mut app, ev);
                        // Fold in everything else already typed or pasted before drawing. The
                        // stream is polled with this task's waker (not a no-op one): a Pending
                        // here must still wake the loop when the next key arrives.
                        if let Some(s) = input.as_mut() {
                            for _ in 0..DRAIN_LIMIT {
                                match futures::poll!(s.next()) {
                                    Poll::Ready(Some(Ok(ev))) => handle_input(&mut app, ev),
                                    _ => break,
                                }
                            }
                        }
                    }
                    // stdin closed or broken: the terminal is gone, as with SIGHUP.
                    Some(Err(e)) => {
                        tracing::info!(error = %e, "terminal input failed; exiting");
                        break 129;
                    }
                    None => break 129,
                }
            }
            ev = next_event(&mut events) => match ev {
                Some(ev) => {
                    let now = Instant::now();
                    app.on_engine_event(ev, now);
                    if let Some(rx) = events.as_mut() {
                        for _ in 0..DRAIN_LIMIT {
                            match rx.try_recv() {
                                Ok(ev) => app.on_engine_event(ev, now),
                                Err(_) => break,
                            }
                        }
                    }
                }
                None => {
                    events = None;
                    app.push_toast(
                        Toast::error("the engine stopped; nothing will update any more", Some("restart acp-cockpit; the log file says why".to_string())),
                        Instant::now(),
                    );
                }
            },
            _ = sleep_until(wake) => {
                let now = Instant::now();
                app.tick(now);
                if now >= minute_at {
                    minute_at = next_minute(now);
                    let m = Utc::now().minute();
                    if m != clock_minute {
                        clock_minute = m;
                        app.mark_dirty();
                    }
                }
            }
        }
    };
    // The terminal first: the user gets the shell back while the engine winds down, and a
    // capability that does not stop in time is left to the process exit.
    drop(tui);
    if tokio::time::timeout(SHUTDOWN_GRACE, engine.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("the engine did not stop within {SHUTDOWN_GRACE:?}");
    }
    tracing::info!(code, "TUI closed");
    Ok(code)
}

fn handle_input(app: &mut App, ev: TermEvent) {
    let now = Instant::now();
    match ev {
        TermEvent::Key(k) => app.on_key(k, now),
        TermEvent::Paste(text) => app.on_paste(&text, now),
        TermEvent::Resize(_, _) => app.on_resize(),
        TermEvent::FocusGained | TermEvent::FocusLost | TermEvent::Mouse(_) => {}
    }
}
