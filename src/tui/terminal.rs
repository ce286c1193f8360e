//! The terminal guard: raw mode, alternate screen and bracketed paste on the way in; all of it
//! undone on the way out, whichever way out it is (quit, error, panic, SIGHUP, SIGTERM, SIGINT),
//! and around Ctrl-Z and programs run in the foreground.

use std::io::{self, BufWriter, Stdout, Write};
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
