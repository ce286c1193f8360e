//! The terminal guard: raw mode, alternate screen and bracketed paste on the way in; all of it
//! undone on the way out, whichever way out it is (quit, error, panic, SIGHUP, SIGTERM, SIGINT),
//! and around Ctrl-Z and programs run in the foreground.

use std::io::{self, BufRead, BufWriter, IsTerminal, Stdout, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::{Mutex, Once};
use std::thread::ThreadId;

use crossterm::cursor::{Hide, Show};
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::terminal::{
    BeginSynchronizedUpdate, Clear, ClearType, EndSynchronizedUpdate, EnterAlternateScreen,
    LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use crossterm::{execute, queue};
use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::{Frame, Terminal};
use tokio::signal::unix::{Signal, SignalKind, signal};

type Backend = CrosstermBackend<BufWriter<Stdout>>;

/// Frames are written in one piece: a whole 200x50 frame fits, so a frame is one write(2).
const OUTPUT_BUFFER: usize = 64 * 1024;

/// Puts the terminal back as the shell expects it. Every step runs even when an earlier one
/// fails, because after a hangup the tty refuses writes but raw mode must still be left.
pub fn restore() {
    let mut out = io::stdout();
    let _ = execute!(
        out,
        DisableMouseCapture,
        DisableBracketedPaste,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
    let _ = out.flush();
}

/// The thread that owns the screen while the TUI runs.
static TUI_THREAD: Mutex<Option<ThreadId>> = Mutex::new(None);

fn tui_thread() -> Option<ThreadId> {
    TUI_THREAD.lock().map(|g| *g).unwrap_or(None)
}

fn set_tui_thread(id: Option<ThreadId>) {
    if let Ok(mut g) = TUI_THREAD.lock() {
        *g = id;
    }
}

/// Restores the terminal before the panic message prints, so the message is readable and the
/// shell is usable afterwards. A panic on another thread (an engine task, which tokio contains)
/// must not tear the screen down under a running TUI, nor print over it: it goes to the log,
/// and the TUI learns of it when the engine's channel closes.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let owner = tui_thread();
            if owner.is_some() && owner != Some(std::thread::current().id()) {
                tracing::error!(panic = %info, "a background task panicked");
                return;
            }
            restore();
            previous(info);
        }));
    });
}

pub struct Tui {
    terminal: Terminal<Backend>,
    mouse: bool,
    active: bool,
    /// The last frame written, to skip frames that change nothing.
    last: Option<Buffer>,
}

impl Tui {
    pub fn enter(mouse: bool) -> io::Result<Tui> {
        install_panic_hook();
        let backend = CrosstermBackend::new(BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout()));
        let terminal = Terminal::new(backend)?;
        let mut tui = Tui {
            terminal,
            mouse,
            active: false,
            last: None,
        };
        tui.setup()?;
        set_tui_thread(Some(std::thread::current().id()));
        Ok(tui)
    }

    fn setup(&mut self) -> io::Result<()> {
        enable_raw_mode().map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot switch the terminal to raw mode ({e}); run acp-cockpit in an interactive terminal"),
            )
        })?;
        self.active = true;
        let out = self.terminal.backend_mut();
        queue!(
            out,
            EnterAlternateScreen,
            EnableBracketedPaste,
            Hide,
            Clear(ClearType::All)
        )?;
        if self.mouse {
            queue!(out, EnableMouseCapture)?;
        }
        out.flush()?;
        // The screen was just cleared: make the next draw write every cell.
        self.terminal.swap_buffers();
        self.last = None;
        Ok(())
    }

    /// Draws one frame inside a synchronized update, so terminals that support it show the frame
    /// at once and never a half-drawn one. A frame identical to the last one writes nothing at
    /// all (ratatui's own `draw` would still send cursor and color resets). Returns whether
    /// anything was written.
    pub fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> io::Result<bool> {
        self.terminal.autoresize()?;
        let mut frame = self.terminal.get_frame();
        render(&mut frame);
        let current = self.terminal.current_buffer_mut();
        if self.last.as_ref() == Some(&*current) {
            current.reset();
            return Ok(false);
        }
        self.last = Some(current.clone());
        queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        self.terminal.flush()?;
        self.terminal.swap_buffers();
        execute!(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        Ok(true)
    }

    /// Hands the terminal back (before Ctrl-Z or a foreground program).
    pub fn leave(&mut self) {
        let _ = self.terminal.backend_mut().flush();
        restore();
        self.active = false;
    }

    /// Takes the terminal again after [`Tui::leave`] and arranges a full redraw.
    pub fn resume(&mut self) -> io::Result<()> {
        self.setup()
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        set_tui_thread(None);
        if self.active {
            let _ = self.terminal.backend_mut().flush();
            restore();
        }
    }
}

/// Stops the whole process like a shell job (Ctrl-Z) with the terminal restored; returns after
/// SIGCONT (`fg`).
pub fn stop_self(tui: &mut Tui) -> io::Result<()> {
    tui.leave();
    // SIGSTOP cannot be caught, so this really stops; execution continues here on SIGCONT.
    // SAFETY: raise() has no memory-safety preconditions.
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    tui.resume()
}

/// How a program run in the foreground failed, as one sentence; `None` when it succeeded.
fn job_failure(program: &str, status: &io::Result<ExitStatus>) -> Option<String> {
    match status {
        Ok(s) if s.success() => None,
        Ok(s) => Some(match (s.code(), s.signal()) {
            (Some(code), _) => format!("{program} exited with status {code}"),
            (None, Some(sig)) => format!("{program} was killed by signal {sig}"),
            (None, None) => format!("{program} failed ({s})"),
        }),
        Err(e) => Some(format!("cannot run {program}: {e}")),
    }
}

/// The most of an answer read at the prompt, so a stream without line ends cannot keep it
/// reading (a terminal's line is shorter than this anyway).
const PROMPT_INPUT_LIMIT: usize = 4096;

/// Runs after a foreground program, on the plain screen. A failed program's output (a
/// device-login URL and code, an error) is what the user needs next, and taking the alternate
/// screen back at once would hide it; so a failure is reported and the user presses Enter
/// before the TUI returns. End of input (stdin closed, Ctrl-D) or a read error returns too, so
/// this never waits on a terminal that is gone. Returns whether the program succeeded.
pub fn pause_after_job(
    program: &str,
    status: &io::Result<ExitStatus>,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> bool {
    let Some(failure) = job_failure(program, status) else {
        return true;
    };
    let _ = write!(
        out,
        "acp-cockpit: {failure}. Press Enter to return to acp-cockpit. "
    );
    let _ = out.flush();
    let mut read = 0;
    loop {
        let buf = match input.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if buf.is_empty() {
            // No Enter will come to end the line: end it here, so what follows starts clean.
            let _ = writeln!(out);
            let _ = out.flush();
            break;
        }
        // A program that died in raw mode leaves Enter sending CR; accept it as well as LF.
        if let Some(end) = buf.iter().position(|&b| b == b'\n' || b == b'\r') {
            input.consume(end + 1);
            break;
        }
        let n = buf.len();
        input.consume(n);
        read += n;
        if read >= PROMPT_INPUT_LIMIT {
            break;
        }
    }
    false
}

/// [`pause_after_job`] on the real terminal: reads stdin when it is the terminal, else the
/// controlling terminal (as crossterm does), and waits for nothing when there is neither.
pub fn pause_after_job_on_terminal(program: &str, status: &io::Result<ExitStatus>) -> bool {
    if status.as_ref().is_ok_and(|s| s.success()) {
        return true;
    }
    let mut out = io::stdout().lock();
    if io::stdin().is_terminal() {
        return pause_after_job(program, status, &mut io::stdin().lock(), &mut out);
    }
    match std::fs::File::open("/dev/tty") {
        Ok(tty) => pause_after_job(program, status, &mut io::BufReader::new(tty), &mut out),
        Err(_) => pause_after_job(program, status, &mut io::empty(), &mut out),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    /// The terminal went away (an SSH link dropped): leave at once.
    Hangup,
    Terminate,
    Interrupt,
    /// `kill -TSTP`: suspend like Ctrl-Z.
    Stop,
}

pub struct Signals {
    hup: Signal,
    term: Signal,
    int: Signal,
    tstp: Signal,
}

impl Signals {
    pub fn new() -> io::Result<Signals> {
        Ok(Signals {
            hup: signal(SignalKind::hangup())?,
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            tstp: signal(SignalKind::from_raw(libc::SIGTSTP))?,
        })
    }

    pub async fn recv(&mut self) -> Sig {
        tokio::select! {
            _ = self.hup.recv() => Sig::Hangup,
            _ = self.term.recv() => Sig::Terminate,
            _ = self.int.recv() => Sig::Interrupt,
            _ = self.tstp.recv() => Sig::Stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wait status as waitpid(2) reports a normal exit with `code`.
    fn exited(code: i32) -> io::Result<ExitStatus> {
        Ok(ExitStatus::from_raw(code << 8))
    }

    /// Input that fails the test if it is ever read.
    struct Untouched;

    impl io::Read for Untouched {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            panic!("a successful program must not wait for input");
        }
    }

    impl BufRead for Untouched {
        fn fill_buf(&mut self) -> io::Result<&[u8]> {
            panic!("a successful program must not wait for input");
        }
        fn consume(&mut self, _: usize) {}
    }

    #[test]
    fn a_successful_program_returns_at_once_and_prints_nothing() {
        let mut out = Vec::new();
        assert!(pause_after_job(
            "kubelogin",
            &exited(0),
            &mut Untouched,
            &mut out
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn a_failed_program_is_reported_and_waits_for_one_line() {
        let mut input = io::Cursor::new(b"\nkept for the TUI".to_vec());
        let mut out = Vec::new();
        assert!(!pause_after_job(
            "kubelogin",
            &exited(3),
            &mut input,
            &mut out
        ));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "acp-cockpit: kubelogin exited with status 3. Press Enter to return to acp-cockpit. "
        );
        assert_eq!(input.position(), 1, "only the line up to Enter is read");
    }

    #[test]
    fn typing_before_enter_is_read_up_to_enter() {
        let mut input = io::Cursor::new(b"abc\r\nrest".to_vec());
        let mut out = Vec::new();
        assert!(!pause_after_job("vi", &exited(1), &mut input, &mut out));
        assert_eq!(input.position(), 4, "CR ends the line too");
    }

    #[test]
    fn end_of_input_returns_instead_of_waiting() {
        let mut out = Vec::new();
        assert!(!pause_after_job(
            "vi",
            &exited(1),
            &mut io::empty(),
            &mut out
        ));
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("acp-cockpit: vi exited with status 1."),
            "{out}"
        );
        assert!(out.ends_with('\n'), "the prompt line is ended: {out:?}");
    }

    #[test]
    fn endless_input_without_a_line_end_is_bounded() {
        let mut input = io::BufReader::new(io::repeat(b'x'));
        let mut out = Vec::new();
        assert!(!pause_after_job("vi", &exited(1), &mut input, &mut out));
    }

    #[test]
    fn a_program_that_cannot_start_is_reported_and_waits() {
        let status = Err(io::Error::from(io::ErrorKind::NotFound));
        let mut input = io::Cursor::new(b"\n".to_vec());
        let mut out = Vec::new();
        assert!(!pause_after_job(
            "no-such-editor",
            &status,
            &mut input,
            &mut out
        ));
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.starts_with("acp-cockpit: cannot run no-such-editor: "),
            "{out}"
        );
        assert!(
            out.ends_with("Press Enter to return to acp-cockpit. "),
            "{out}"
        );
        assert_eq!(input.position(), 1);
    }

    #[test]
    fn a_program_killed_by_a_signal_says_which() {
        let mut out = Vec::new();
        let killed = Ok(ExitStatus::from_raw(libc::SIGKILL));
        assert!(!pause_after_job("vi", &killed, &mut io::empty(), &mut out));
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("vi was killed by signal 9."), "{out}");
    }
}
