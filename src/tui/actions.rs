//! The shell's own actions (the `global` and `help` layers) and the catalog of every action the
//! TUI understands: the shell's plus each pane spec's. Keymap checking, help and the footer all
//! read this one catalog.

use std::sync::LazyLock;

use crate::config::keymap::{ActionSpec, Catalog, DEFAULT_KEYMAP, Keymap};
use crate::tui::panes::SPECS;

/// The shell's own actions, handled by it and never sent to panes; `pane_N` goes to the N-th
/// pane of [`SPECS`], so there is one per spec.
pub static GLOBAL: LazyLock<Vec<ActionSpec>> = LazyLock::new(|| {
    // Built once; the few strings live as long as the program, like the rest of the catalog.
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    let mut v = vec![
        ActionSpec::new("quit", "quit"),
        ActionSpec::new("help", "show all keys"),
        ActionSpec::new("command", "command prompt (commands listed below)"),
    ];
    for (i, s) in SPECS.iter().enumerate() {
        v.push(ActionSpec::new(
            leak(format!("pane_{}", i + 1)),
            leak(format!("go to {}", s.title)),
        ));
    }
    v.extend([
        ActionSpec::new("next_pane", "next pane"),
        ActionSpec::new("prev_pane", "previous pane"),
        ActionSpec::new("suspend", "suspend to the shell (fg resumes)"),
    ]);
    v
});

/// While the help overlay is open.
pub const HELP: &[ActionSpec] = &[
    ActionSpec::new("close", "close help"),
    ActionSpec::new("scroll_down", "scroll down"),
    ActionSpec::new("scroll_up", "scroll up"),
];

/// Every layer and action, in the order help lists them.
pub fn catalog() -> Catalog {
    let mut layers = vec![("global", GLOBAL.as_slice())];
    layers.extend(SPECS.iter().map(|s| (s.key(), s.actions)));
    layers.push(("help", HELP));
    Catalog { layers }
}

/// The embedded default keymap checked against the catalog (a unit test keeps it warning-free).
pub fn default_keymap() -> Keymap {
    Keymap::from_sources(
        "default",
        &[("built-in default keymap", DEFAULT_KEYMAP)],
        &catalog(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keymap::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        let mut e = KeyEvent::new(code, mods);
        e.kind = KeyEventKind::Press;
        e
    }

    #[test]
    fn shipped_keymaps_load_without_warnings() {
        for (name, text) in BUILTIN {
            let km = Keymap::from_sources(name, &[(name, text)], &catalog());
            assert!(km.warnings.is_empty(), "{name}: {:?}", km.warnings);
            assert_eq!(km.name, name);
            // Every action of every pane spec and of the shell, bound and described.
            for (layer, actions) in catalog().layers {
                for action in actions {
                    assert!(
                        !km.keys(layer, action.name).is_empty(),
                        "{name}: [{layer}] {} is unbound",
                        action.name
                    );
                    assert!(!action.help.is_empty());
                }
            }
        }
    }

    #[test]
    fn parses_keys_and_normalises_shift() {
        assert_eq!(
            Key::parse("G").unwrap(),
            Key::new(KeyCode::Char('G'), KeyModifiers::SHIFT)
        );
        assert_eq!(Key::parse("Shift-g").unwrap(), Key::parse("G").unwrap());
        assert_eq!(Key::parse("Shift-Tab").unwrap().code, KeyCode::BackTab);
        assert_eq!(
            Key::parse("Ctrl-D").unwrap(),
            Key::new(KeyCode::Char('d'), KeyModifiers::CONTROL)
        );
        assert_eq!(Key::parse("-").unwrap().code, KeyCode::Char('-'));
        assert_eq!(Key::parse("F12").unwrap().code, KeyCode::F(12));
        assert!(Key::parse("Hyper-x").is_err());
        assert!(Key::parse("F13").is_err());
        assert!(Key::parse("Bogus").is_err());
    }

    #[test]
    fn resolves_by_layer() {
        let km = default_keymap();
        assert_eq!(
            km.action_in("clusters", &ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some("select_next")
        );
        assert_eq!(
            km.action_in("clusters", &ev(KeyCode::Char('G'), KeyModifiers::SHIFT)),
            Some("bottom")
        );
        assert_eq!(
            km.action_in("global", &ev(KeyCode::BackTab, KeyModifiers::SHIFT)),
            Some("prev_pane")
        );
        assert_eq!(
            km.action_in("global", &ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            None
        );
    }

    #[test]
    fn user_file_rebinds_and_unbinds() {
        let user = "[clusters]\nselect_next = \"n\"\nyaml = \"none\"\n[global]\nquit = []\n";
        let km = Keymap::from_sources(
            "default",
            &[("default", DEFAULT_KEYMAP), ("keymap.toml", user)],
            &catalog(),
        );
        assert!(km.warnings.is_empty(), "{:?}", km.warnings);
        assert_eq!(
            km.action_in("clusters", &ev(KeyCode::Char('n'), KeyModifiers::NONE)),
            Some("select_next")
        );
        assert_eq!(
            km.action_in("clusters", &ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            km.action_in("clusters", &ev(KeyCode::Char('y'), KeyModifiers::NONE)),
            None
        );
        assert_eq!(
            km.action_in("global", &ev(KeyCode::Char('q'), KeyModifiers::NONE)),
            None
        );
        assert!(km.bindings("clusters").all(|(a, _)| a != "yaml"));
    }

    #[test]
    fn conflicts_become_warnings_and_first_binding_wins() {
        let user = "[clusters]\nyaml = \"j\"\n";
        let km = Keymap::from_sources(
            "default",
            &[("default", DEFAULT_KEYMAP), ("keymap.toml", user)],
            &catalog(),
        );
        assert_eq!(km.warnings.len(), 1, "{:?}", km.warnings);
        assert!(km.warnings[0].contains("bound to both"));
        assert_eq!(
            km.action_in("clusters", &ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some("select_next")
        );
    }

    #[test]
    fn shadowing_reserved_destructive_and_unknown_are_reported() {
        let user = "[clusters]\nfilter = \"q\"\ntop = \"Ctrl-a\"\n[drafts]\ndelete = \"d\"\nexplode = \"x\"\n[nope]\na = \"b\"\n";
        let km = Keymap::from_sources(
            "default",
            &[("default", DEFAULT_KEYMAP), ("keymap.toml", user)],
            &catalog(),
        );
        let all = km.warnings.join("\n");
        assert!(all.contains("hides the global `quit`"), "{all}");
        assert!(all.contains("left to tmux"), "{all}");
        assert!(all.contains("destructive"), "{all}");
        assert!(all.contains("unknown action `explode`"), "{all}");
        assert!(all.contains("unknown layer [nope]"), "{all}");
        assert_eq!(
            km.action_in("clusters", &ev(KeyCode::Char('a'), KeyModifiers::CONTROL)),
            None
        );
    }

    #[test]
    fn invalid_toml_keeps_the_base_and_names_the_file() {
        let km = Keymap::from_sources(
            "default",
            &[
                ("default", DEFAULT_KEYMAP),
                ("keymap.toml", "[clusters\nselect_next = 3"),
            ],
            &catalog(),
        );
        assert_eq!(km.warnings.len(), 1);
        assert!(
            km.warnings[0].starts_with("keymap.toml:"),
            "{:?}",
            km.warnings
        );
        assert_eq!(
            km.action_in("clusters", &ev(KeyCode::Char('j'), KeyModifiers::NONE)),
            Some("select_next")
        );
        let km = Keymap::from_sources(
            "default",
            &[
                ("default", DEFAULT_KEYMAP),
                ("k", "[clusters]\nselect_next = 3\nopen = [\"Hyper-x\"]"),
            ],
            &catalog(),
        );
        assert_eq!(km.warnings.len(), 2, "{:?}", km.warnings);
    }

    #[test]
    fn user_keymap_overrides_and_warnings_surface() {
        use crate::config::{ColorChoice, Config, GlobalArgs, Paths};
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let p = Paths {
            config_dir: root.join("config"),
            data_dir: root.join("data"),
            state_dir: root.join("state"),
        };
        let global = GlobalArgs {
            kubeconfig: None,
            context: None,
            readonly: false,
            sandbox: false,
            theme: None,
            keymap: None,
            color: ColorChoice::Auto,
        };
        std::fs::create_dir_all(&p.config_dir).unwrap();
        std::fs::write(p.keymap_file(), "[clusters]\nyaml = \"j\"\n").unwrap();
        let cfg = Config::load_with(p, &global, &|k| {
            (k == "TERM").then(|| "xterm-256color".into())
        });
        let km = cfg.keymap(&catalog());
        assert_eq!(cfg.keymap_sources.len(), 2);
        let warnings: Vec<&String> = cfg.warnings.iter().chain(&km.warnings).collect();
        assert_eq!(warnings.len(), 1, "{:?}", warnings);
        assert!(warnings[0].contains("bound to both"));
    }
}
