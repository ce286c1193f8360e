//! Deterministic renders of the shell: a fixed clock, demo data and no engine. The screenshots
//! in the repository (`acp-cockpit screenshots --out screenshots/`) and the snapshot tests both
//! come from here, so what the README shows is what the tests check.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::FixedOffset;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use crate::config::theme::{ColorDepth, Theme};
use crate::engine::Command;
use crate::tui::app::{App, AppOptions, HeaderInfo};
use crate::tui::panes::{Access, Effect, Guarded, Pane, PaneId};
use crate::tui::svg::{Palette, buffer_to_svg};

/// 09:41 UTC, the clock every render shows.
pub use crate::fixtures::fixed_clock;

pub struct Scene {
    pub theme: Theme,
    pub readonly: bool,
    pub sandbox: bool,
    pub panes: Vec<Box<dyn Pane>>,
}

/// An app with a fixed header and clock.
pub fn app(scene: Scene) -> App {
    let mut app = App::new(
        AppOptions {
            theme: scene.theme,
            keymap: crate::tui::actions::default_keymap(),
            header: HeaderInfo {
                platform: if scene.sandbox {
                    "sandbox"
                } else {
                    "acp.example.com"
                }
                .to_string(),
                context: Some(if scene.sandbox { "sandbox" } else { "global" }.to_string()),
                cluster: None,
            },
            readonly: scene.readonly,
            sandbox: scene.sandbox,
            panes: scene.panes,
            warnings: Vec::new(),
            shell_hook: None,
        },
        Instant::now(),
    );
    app.clock_offset = FixedOffset::east_opt(0);
    app
}

pub fn render(app: &mut App, width: u16, height: u16) -> Buffer {
    let mut term = match Terminal::new(TestBackend::new(width, height)) {
        Ok(t) => t,
        Err(e) => match e {},
    };
    let _ = term.draw(|f| app.render(f, fixed_clock()));
    term.backend().buffer().clone()
}

/// The buffer as plain text, one line per row, trailing spaces kept so widths are visible.
pub fn text(buf: &Buffer) -> String {
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut skip = 0;
        for x in 0..buf.area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let sym = buf[(x, y)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(sym).saturating_sub(1);
            out.push_str(sym);
        }
        out.push('\n');
    }
    out
}

pub fn press(app: &mut App, keys: &str) {
    for ch in keys.chars() {
        let code = match ch {
            '\t' => KeyCode::Tab,
            '\r' => KeyCode::Enter,
            '\x1b' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE), Instant::now());
    }
}

/// A guarded action as the Create pane sends it, for the confirmation screenshot.
pub fn demo_guarded() -> Effect {
    Effect::Guarded(Guarded {
        title: "Create cluster prod-east on platform sandbox".to_string(),
        detail: "3 control-plane nodes, 2 workers, Kube-OVN, Kubernetes v1.31.6. Creation takes about 25 minutes and cannot be undone from here.".to_string(),
        access: Some(Access {
            verb: "create".to_string(),
            group: "platform.tkestack.io".to_string(),
            resource: "clusters".to_string(),
            namespace: None,
            name: None,
        }),
        command: Command::Shutdown,
    })
}

fn theme(name: &str, depth: ColorDepth) -> Theme {
    Theme::load(name, None, depth).0
}

/// Writes every screenshot to `out`; returns the files written.
pub fn write_all(out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("cannot create {} ({e})", out.display()))?;
    let (w, h) = (120, 36);
    let mut written = Vec::new();
    let mut save =
        |name: &str, title: &str, buf: &Buffer, palette: Palette| -> anyhow::Result<()> {
            let path = out.join(format!("{name}.svg"));
            std::fs::write(&path, buffer_to_svg(buf, palette, title))
                .map_err(|e| anyhow::anyhow!("cannot write {} ({e})", path.display()))?;
            written.push(path);
            Ok(())
        };
    let dark = || Scene {
        theme: theme("dark", ColorDepth::TrueColor),
        readonly: false,
        sandbox: true,
        panes: crate::tui::panes::demo_panes(),
    };
    for (i, id) in PaneId::all().enumerate() {
        let mut a = app(dark());
        a.switch_to(id, None, Instant::now());
        let buf = render(&mut a, w, h);
        save(
            &format!("{}-{}", i + 1, id.key()),
            &format!("acp-cockpit: the {} pane", id.title()),
            &buf,
            Palette::DARK,
        )?;
    }
    // The Create pane's Preflight step after a run, with a failing node's findings open.
    let mut panes = crate::tui::panes::demo_panes();
    for p in panes.iter_mut().filter(|p| p.id() == PaneId::Create) {
        *p = Box::new(crate::tui::panes::wizard::WizardPane::demo_preflight());
    }
    let mut a = app(Scene { panes, ..dark() });
    a.switch_to(PaneId::Create, None, Instant::now());
    save(
        "create-preflight",
        "acp-cockpit: the Create wizard's Preflight step, a node failing arch blocks Create",
        &render(&mut a, w, h),
        Palette::DARK,
    )?;

    let mut a = app(dark());
    press(&mut a, "?");
    save(
        "help",
        "acp-cockpit: the help overlay, generated from the keymap",
        &render(&mut a, w, h),
        Palette::DARK,
    )?;

    let mut a = app(dark());
    press(&mut a, ":c\t");
    save(
        "command",
        "acp-cockpit: the command prompt completing :c",
        &render(&mut a, w, h),
        Palette::DARK,
    )?;

    let mut a = app(dark());
    press(&mut a, ":frob\r");
    save(
        "toast",
        "acp-cockpit: an unknown command reported as a toast",
        &render(&mut a, w, h),
        Palette::DARK,
    )?;

    let mut a = app(dark());
    a.switch_to(PaneId::Create, None, Instant::now());
    a.apply_effects(PaneId::Create, vec![demo_guarded()], Instant::now());
    save(
        "confirm",
        "acp-cockpit: the safety gate's confirmation, Cancel focused",
        &render(&mut a, w, h),
        Palette::DARK,
    )?;

    let mut a = app(Scene {
        theme: theme("light", ColorDepth::TrueColor),
        readonly: true,
        sandbox: false,
        panes: crate::tui::panes::demo_panes(),
    });
    save(
        "light-readonly",
        "acp-cockpit: light theme, read-only on a real platform",
        &render(&mut a, w, h),
        Palette::LIGHT,
    )?;

    let mut a = app(Scene {
        theme: theme("high-contrast", ColorDepth::Ansi16),
        readonly: true,
        sandbox: true,
        panes: crate::tui::panes::demo_panes(),
    });
    save(
        "high-contrast",
        "acp-cockpit: high-contrast theme in 16 colors",
        &render(&mut a, w, h),
        Palette::DARK,
    )?;

    let mut a = app(Scene {
        theme: theme("dark", ColorDepth::None),
        readonly: true,
        sandbox: true,
        panes: crate::tui::panes::demo_panes(),
    });
    save(
        "no-color",
        "acp-cockpit: NO_COLOR, meaning carried by bold and reverse video",
        &render(&mut a, w, h),
        Palette::DARK,
    )?;
    Ok(written)
}

/// `acp-cockpit screenshots --out DIR`: writes every screen and prints the paths.
pub fn run(out: &std::path::Path) -> anyhow::Result<i32> {
    for path in write_all(out)? {
        println!("{}", path.display());
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shell alone (placeholder panes), so these snapshots change only with the shell.
    fn shell(readonly: bool) -> App {
        app(Scene {
            theme: theme("dark", ColorDepth::TrueColor),
            readonly,
            sandbox: true,
            panes: Vec::new(),
        })
    }

    #[test]
    fn shell_80x24() {
        insta::assert_snapshot!(text(&render(&mut shell(false), 80, 24)));
    }

    #[test]
    fn shell_200x50_readonly() {
        insta::assert_snapshot!(text(&render(&mut shell(true), 200, 50)));
    }

    #[test]
    fn help_80x24() {
        let mut a = shell(false);
        press(&mut a, "5?");
        insta::assert_snapshot!(text(&render(&mut a, 80, 24)));
    }

    #[test]
    fn help_200x50() {
        let mut a = shell(false);
        press(&mut a, "?");
        insta::assert_snapshot!(text(&render(&mut a, 200, 50)));
    }

    #[test]
    fn prompt_completion_and_toast_80x24() {
        let mut a = shell(false);
        press(&mut a, ":nope\r:c\t");
        insta::assert_snapshot!(text(&render(&mut a, 80, 24)));
    }

    #[test]
    fn confirm_200x50() {
        let mut a = shell(false);
        a.apply_effects(PaneId::Create, vec![demo_guarded()], Instant::now());
        insta::assert_snapshot!(text(&render(&mut a, 200, 50)));
    }

    #[test]
    fn too_small_says_so() {
        let t = text(&render(&mut shell(false), 30, 8));
        assert!(t.contains("terminal too small"), "{t}");
    }

    #[test]
    fn footer_keys_follow_the_keymap() {
        let mut a = shell(false);
        a.keymap = crate::config::keymap::Keymap::from_sources(
            "default",
            &[
                ("d", crate::config::keymap::DEFAULT_KEYMAP),
                ("u", "[global]\nhelp = \"F2\"\n"),
            ],
            &crate::tui::actions::catalog(),
        );
        let t = text(&render(&mut a, 120, 24));
        let footer = t.lines().last().unwrap_or_default();
        assert!(footer.contains("F2 help"), "{footer}");
        assert!(!footer.contains("? help"), "{footer}");
    }

    #[test]
    fn header_shows_badges_and_clock() {
        let t = text(&render(&mut shell(true), 120, 24));
        let header = t.lines().next().unwrap_or_default();
        assert!(
            header.contains("READ-ONLY") && header.contains("SANDBOX"),
            "{header}"
        );
        assert!(header.contains("09:41"), "{header}");
        let t = text(&render(&mut shell(false), 120, 24));
        assert!(!t.lines().next().unwrap_or_default().contains("READ-ONLY"));
    }
}
