//! Layered keymaps loaded from TOML: keys are data, the shell and the panes only see action names.
//!
//! A keymap has a `global` layer, one layer per pane (named by [`PaneId::key`]) and a `help`
//! layer for the help overlay. While a pane is active its layer is consulted first, then
//! `global`. The footer and the help overlay are generated from the same map, so they always
//! show the keys actually in force.
//!
//! # Actions each pane receives through `Pane::on_action`
//!
//! | layer      | actions |
//! |------------|---------|
//! | `global`   | `quit`, `help`, `command`, `pane_1`..`pane_6`, `next_pane`, `prev_pane`, `suspend` (handled by the shell, never sent to panes) |
//! | `clusters` | `select_next`, `select_prev`, `page_down`, `page_up`, `top`, `bottom`, `open`, `yaml`, `filter`, `sort_next`, `sort_reverse`, `relogin`, `back` |
//! | `create`   | `next_field`, `prev_field`, `next_section`, `prev_section`, `edit`, `toggle`, `add_node`, `review`, `submit`, `save_draft`, `restore_draft`, `open_editor` |
//! | `drafts`   | `select_next`, `select_prev`, `open`, `rename`, `delete`, `restore`, `import`, `export` |
//! | `timeline` | `scroll_down`, `scroll_up`, `page_down`, `page_up`, `top`, `bottom`, `back` |
//! | `etcd`     | `select_next`, `select_prev`, `open`, `refresh` |
//! | `registry` | `select_next`, `select_prev`, `open`, `refresh` |
//! | `help`     | `close`, `scroll_down`, `scroll_up` (handled by the shell) |
//!
//! `submit` and `delete` are destructive: the pane must answer them with `Effect::Guarded`, so
//! the shell asks for a confirmation that defaults to Cancel. A keymap that binds them to a bare
//! lowercase letter gets a warning.
//!
//! Two keys are fixed and not rebindable because they are the terminal's own: Ctrl-C quits and
//! Ctrl-Z suspends (as `suspend`, which can be rebound, but Ctrl-Z always works too).
//!
//! Load problems (unknown layer or action, bad key, a key bound twice in a layer, a pane key
//! shadowing a global one, a key tmux/readline needs) never fail: they become warnings the UI
//! shows, and the offending binding is dropped.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::tui::panes::PaneId;

pub const DEFAULT_KEYMAP: &str = include_str!("../../keymaps/default.toml");
pub const VIM_KEYMAP: &str = include_str!("../../keymaps/vim.toml");

/// Built-in keymaps by name.
pub const BUILTIN: [(&str, &str); 2] = [("default", DEFAULT_KEYMAP), ("vim", VIM_KEYMAP)];

/// Every layer and action the program understands, with the text the help overlay shows.
pub const ACTIONS: &[(&str, &str, &str)] = &[
    ("global", "quit", "quit"),
    ("global", "help", "show all keys"),
    (
        "global",
        "command",
        "command prompt (commands listed below)",
    ),
    ("global", "pane_1", "go to Clusters"),
    ("global", "pane_2", "go to Create"),
    ("global", "pane_3", "go to Drafts"),
    ("global", "pane_4", "go to Timeline"),
    ("global", "pane_5", "go to etcd"),
    ("global", "pane_6", "go to Registry"),
    ("global", "next_pane", "next pane"),
    ("global", "prev_pane", "previous pane"),
    ("global", "suspend", "suspend to the shell (fg resumes)"),
    ("clusters", "select_next", "next cluster"),
    ("clusters", "select_prev", "previous cluster"),
    ("clusters", "page_down", "page down"),
    ("clusters", "page_up", "page up"),
    ("clusters", "top", "first cluster"),
    ("clusters", "bottom", "last cluster"),
    ("clusters", "open", "open the cluster's timeline"),
    ("clusters", "yaml", "show the cluster's YAML"),
    ("clusters", "filter", "filter by name"),
    ("clusters", "sort_next", "sort by the next column"),
    ("clusters", "sort_reverse", "reverse the sort"),
    (
        "clusters",
        "relogin",
        "log in again / reconnect the platform",
    ),
    (
        "clusters",
        "back",
        "close the YAML view or clear the filter",
    ),
    ("create", "next_field", "next field"),
    ("create", "prev_field", "previous field"),
    ("create", "next_section", "next section"),
    ("create", "prev_section", "previous section"),
    ("create", "edit", "edit the field"),
    ("create", "toggle", "toggle the option"),
    ("create", "add_node", "add a node"),
    ("create", "review", "review the manifest and findings"),
    ("create", "submit", "create the cluster (asks to confirm)"),
    ("create", "save_draft", "save as a draft"),
    ("create", "restore_draft", "restore a draft"),
    ("create", "open_editor", "edit the manifest in $EDITOR"),
    ("create", "remove_node", "remove the selected node"),
    ("drafts", "select_next", "next draft"),
    ("drafts", "select_prev", "previous draft"),
    ("drafts", "open", "open in the Create wizard"),
    ("drafts", "rename", "rename"),
    ("drafts", "delete", "delete (asks to confirm)"),
    ("drafts", "restore", "restore from backup"),
    ("drafts", "import", "import a YAML file"),
    ("drafts", "export", "export to a YAML file"),
    ("timeline", "scroll_down", "scroll down"),
    ("timeline", "scroll_up", "scroll up"),
    ("timeline", "page_down", "page down"),
    ("timeline", "page_up", "page up"),
    ("timeline", "top", "first step"),
    ("timeline", "bottom", "last step"),
    ("timeline", "back", "back to the clusters"),
    ("etcd", "select_next", "next node"),
    ("etcd", "select_prev", "previous node"),
    ("etcd", "open", "show the node's details"),
    ("etcd", "refresh", "check again"),
    ("registry", "select_next", "next check"),
    ("registry", "select_prev", "previous check"),
    ("registry", "open", "show the check's details"),
    ("registry", "refresh", "run the checks again"),
    ("help", "close", "close help"),
    ("help", "scroll_down", "scroll down"),
    ("help", "scroll_up", "scroll up"),
];

/// Actions that destroy or create something on a platform or on disk.
const DESTRUCTIVE: &[(&str, &str)] = &[("create", "submit"), ("drafts", "delete")];

/// Keys a terminal multiplexer, readline or XON/XOFF flow control needs.
const RESERVED: &[char] = &['a', 'b', 's', 'q'];

pub fn describe(layer: &str, action: &str) -> Option<&'static str> {
    ACTIONS
        .iter()
        .find(|(l, a, _)| *l == layer && *a == action)
        .map(|(_, _, d)| *d)
}

fn known_layer(layer: &str) -> bool {
    ACTIONS.iter().any(|(l, _, _)| *l == layer)
}

/// One key with its modifiers, normalised so that `G` and `Shift-g` are the same binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Self {
        let mut mods = mods & (KeyModifiers::SHIFT | KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match code {
            // Terminals report Shift+letter as the uppercase letter, with or without SHIFT.
            KeyCode::Char(c) => {
                mods.remove(KeyModifiers::SHIFT);
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            KeyCode::BackTab => {
                mods.remove(KeyModifiers::SHIFT);
                KeyCode::BackTab
            }
            other => other,
        };
        Key { code, mods }
    }

    pub fn from_event(ev: &KeyEvent) -> Self {
        Key::new(ev.code, ev.modifiers)
    }

    /// Parses `j`, `G`, `Ctrl-d`, `Shift-Tab`, `PageDown`, `F5`, `Space`.
    pub fn parse(text: &str) -> Result<Key, String> {
        if text.is_empty() {
            return Err("an empty key name".into());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        while let Some((head, tail)) = rest.split_once('-') {
            // A lone "-" is the minus key, not a modifier separator.
            if tail.is_empty() {
                break;
            }
            match head.to_ascii_lowercase().as_str() {
                "ctrl" | "c" | "control" => mods |= KeyModifiers::CONTROL,
                "alt" | "a" | "m" | "meta" => mods |= KeyModifiers::ALT,
                "shift" | "s" => mods |= KeyModifiers::SHIFT,
                _ => {
                    return Err(format!(
                        "unknown modifier `{head}` in `{text}` (use Ctrl-, Alt- or Shift-)"
                    ));
                }
            }
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if mods.contains(KeyModifiers::SHIFT) && c.is_ascii_alphabetic() {
                    KeyCode::Char(c.to_ascii_uppercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "backspace" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" => KeyCode::PageDown,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "space" => KeyCode::Char(' '),
                "minus" => KeyCode::Char('-'),
                f if f.starts_with('f') => match f[1..].parse::<u8>() {
                    Ok(n) if (1..=12).contains(&n) => KeyCode::F(n),
                    _ => return Err(format!("unknown key `{text}`")),
                },
                _ => return Err(format!("unknown key `{text}`")),
            },
        };
        Ok(Key::new(code, mods))
    }

    fn is_bare_lowercase(&self) -> bool {
        self.mods.is_empty() && matches!(self.code, KeyCode::Char(c) if c.is_ascii_lowercase())
    }

    fn is_reserved(&self) -> bool {
        self.mods == KeyModifiers::CONTROL
            && matches!(self.code, KeyCode::Char(c) if RESERVED.contains(&c))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::Insert => f.write_str("Insert"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// A layer's bindings in file order: (action, keys).
type Layer = Vec<(String, Vec<Key>)>;

#[derive(Debug, Clone)]
pub struct Keymap {
    pub name: String,
    layers: BTreeMap<String, Layer>,
    lookup: HashMap<(String, Key), String>,
    /// Problems found while loading; shown in the UI once, never fatal.
    pub warnings: Vec<String>,
}

impl Default for Keymap {
    fn default() -> Self {
        // The embedded keymap is checked by a unit test, so its warnings list is empty.
        Keymap::from_sources("default", &[("built-in default keymap", DEFAULT_KEYMAP)])
    }
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum KeysValue {
    One(String),
    Many(Vec<String>),
}

impl Keymap {
    /// Loads a keymap from TOML sources applied in order: the first is the base, later ones
    /// (the user's keymap.toml) override or unbind single actions. `origin` names each source
    /// in warnings.
    pub fn from_sources(name: &str, sources: &[(&str, &str)]) -> Keymap {
        let mut warnings = Vec::new();
        let mut layers: BTreeMap<String, Layer> = BTreeMap::new();
        let mut name = name.to_string();
        for (origin, text) in sources {
            let table: toml::Table = match toml::from_str(text) {
                Ok(t) => t,
                Err(e) => {
                    warnings.push(format!(
                        "{origin}: {}; its bindings were ignored",
                        one_line(&e.to_string())
                    ));
                    continue;
                }
            };
            for (layer, value) in table {
                if layer == "name" || layer == "description" {
                    if let (toml::Value::String(s), "name") = (&value, layer.as_str()) {
                        name = s.clone();
                    }
                    continue;
                }
                if !known_layer(&layer) {
                    warnings.push(format!(
                        "{origin}: unknown layer [{layer}] (layers: global, clusters, create, drafts, timeline, etcd, registry, help)"
                    ));
                    continue;
                }
                let toml::Value::Table(entries) = value else {
                    warnings.push(format!(
                        "{origin}: [{layer}] must be a table of action = [keys]"
                    ));
                    continue;
                };
                let slot = layers.entry(layer.clone()).or_default();
                for (action, keys) in entries {
                    if describe(&layer, &action).is_none() {
                        warnings.push(format!("{origin}: unknown action `{action}` in [{layer}]; see keymaps/default.toml for the list"));
                        continue;
                    }
                    let list = match keys.try_into::<KeysValue>() {
                        Ok(KeysValue::One(s)) => vec![s],
                        Ok(KeysValue::Many(v)) => v,
                        Err(_) => {
                            warnings.push(format!("{origin}: [{layer}] {action} must be a key or a list of keys, e.g. [\"j\", \"Down\"]"));
                            continue;
                        }
                    };
                    let mut parsed = Vec::new();
                    for k in &list {
                        if k.eq_ignore_ascii_case("none") {
                            continue;
                        }
                        match Key::parse(k) {
                            Ok(key) => parsed.push(key),
                            Err(e) => warnings.push(format!("{origin}: [{layer}] {action}: {e}")),
                        }
                    }
                    match slot.iter_mut().find(|(a, _)| *a == action) {
                        Some((_, existing)) => *existing = parsed,
                        None => slot.push((action, parsed)),
                    }
                }
            }
        }
        // Catalogue order, not file order (TOML tables are unordered): the footer and help
        // then list actions the same way whatever the user's file looks like.
        let rank = |layer: &str, action: &str| {
            ACTIONS
                .iter()
                .position(|(l, a, _)| *l == layer && *a == action)
                .unwrap_or(usize::MAX)
        };
        for (layer, bindings) in layers.iter_mut() {
            bindings.sort_by_key(|(a, _)| rank(layer, a));
        }
        let mut km = Keymap {
            name,
            layers,
            lookup: HashMap::new(),
            warnings,
        };
        km.index();
        km
    }

    /// Builds the lookup table and reports conflicts; a conflicting binding is dropped so the
    /// first one in file order wins.
    fn index(&mut self) {
        let mut lookup: HashMap<(String, Key), String> = HashMap::new();
        for (layer, bindings) in &mut self.layers {
            for (action, keys) in bindings.iter_mut() {
                keys.retain(|key| {
                    if key.is_reserved() {
                        self.warnings.push(format!(
                            "[{layer}] {action}: {key} is left to tmux, readline and flow control; binding dropped"
                        ));
                        return false;
                    }
                    if let Some(other) = lookup.get(&(layer.clone(), *key)) {
                        self.warnings.push(format!(
                            "[{layer}] {key} is bound to both `{other}` and `{action}`; `{action}` loses it"
                        ));
                        return false;
                    }
                    lookup.insert((layer.clone(), *key), action.clone());
                    true
                });
                if DESTRUCTIVE.contains(&(layer.as_str(), action.as_str()))
                    && keys.iter().any(Key::is_bare_lowercase)
                {
                    self.warnings.push(format!(
                        "[{layer}] {action} is destructive; bind it to a shifted or modified key, not a bare letter"
                    ));
                }
            }
        }
        for pane in PaneId::ALL {
            let Some(bindings) = self.layers.get(pane.key()) else {
                continue;
            };
            for (action, keys) in bindings {
                for key in keys {
                    if let Some(global) = lookup.get(&("global".to_string(), *key)) {
                        self.warnings.push(format!(
                            "[{}] {key} (`{action}`) hides the global `{global}` in that pane",
                            pane.key()
                        ));
                    }
                }
            }
        }
        self.lookup = lookup;
    }

    /// The action a key triggers in one layer only.
    pub fn action_in(&self, layer: &str, key: &KeyEvent) -> Option<&str> {
        self.lookup
            .get(&(layer.to_string(), Key::from_event(key)))
            .map(String::as_str)
    }

    /// The keys bound to an action.
    pub fn keys(&self, layer: &str, action: &str) -> &[Key] {
        self.layers
            .get(layer)
            .and_then(|l| l.iter().find(|(a, _)| a == action))
            .map(|(_, k)| k.as_slice())
            .unwrap_or(&[])
    }

    /// The bindings of a layer in file order, unbound actions left out.
    pub fn bindings(&self, layer: &str) -> impl Iterator<Item = (&str, &[Key])> {
        self.layers
            .get(layer)
            .into_iter()
            .flatten()
            .filter(|(_, k)| !k.is_empty())
            .map(|(a, k)| (a.as_str(), k.as_slice()))
    }

    /// "j/↓" for the footer and the help overlay.
    pub fn keys_label(&self, layer: &str, action: &str) -> Option<String> {
        let keys = self.keys(layer, action);
        if keys.is_empty() {
            return None;
        }
        Some(
            keys.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("/"),
        )
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;

    fn ev(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        let mut e = KeyEvent::new(code, mods);
        e.kind = KeyEventKind::Press;
        e
    }

    #[test]
    fn shipped_keymaps_load_without_warnings() {
        for (name, text) in BUILTIN {
            let km = Keymap::from_sources(name, &[(name, text)]);
            assert!(km.warnings.is_empty(), "{name}: {:?}", km.warnings);
            assert_eq!(km.name, name);
            for (layer, action, _) in ACTIONS {
                assert!(
                    !km.keys(layer, action).is_empty(),
                    "{name}: [{layer}] {action} is unbound"
                );
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
        let km = Keymap::default();
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
        );
        assert_eq!(km.warnings.len(), 2, "{:?}", km.warnings);
    }
}
