//! Layered keymaps loaded from TOML: keys are data, the shell and the panes only see action names.
//!
//! A keymap has a `global` layer, one layer per pane and a `help` layer for the help overlay.
//! While a pane is active its layer is consulted first, then `global`. The footer and the help
//! overlay are generated from the same map, so they always show the keys actually in force.
//!
//! Which layers and actions exist is not decided here: the front end passes a [`Catalog`] (the
//! TUI builds it from its pane specs), so a keymap file is checked against the actions that
//! really exist, and their order and descriptions come from one place.
//!
//! Actions the catalog marks destructive are answered by their pane with a guarded effect, so
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

pub const DEFAULT_KEYMAP: &str = include_str!("../../keymaps/default.toml");
pub const VIM_KEYMAP: &str = include_str!("../../keymaps/vim.toml");

/// Built-in keymaps by name.
pub const BUILTIN: [(&str, &str); 2] = [("default", DEFAULT_KEYMAP), ("vim", VIM_KEYMAP)];

/// Keys a terminal multiplexer, readline or XON/XOFF flow control needs.
const RESERVED: &[char] = &['a', 'b', 's', 'q'];

/// One action a layer understands, with the text the help overlay shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionSpec {
    pub name: &'static str,
    pub help: &'static str,
    /// Creates or destroys something on a platform or on disk: never on a bare letter.
    pub destructive: bool,
}

impl ActionSpec {
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        ActionSpec {
            name,
            help,
            destructive: false,
        }
    }

    pub const fn destructive(name: &'static str, help: &'static str) -> Self {
        ActionSpec {
            name,
            help,
            destructive: true,
        }
    }
}

/// Every layer and action a front end understands, in the order help and the footer list them.
/// `global` and `help` are the shell's layers; every other layer belongs to a pane.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub layers: Vec<(&'static str, &'static [ActionSpec])>,
}

impl Catalog {
    pub fn action(&self, layer: &str, action: &str) -> Option<&ActionSpec> {
        self.layers
            .iter()
            .find(|(l, _)| *l == layer)
            .and_then(|(_, actions)| actions.iter().find(|a| a.name == action))
    }

    pub fn describe(&self, layer: &str, action: &str) -> Option<&'static str> {
        self.action(layer, action).map(|a| a.help)
    }

    fn known_layer(&self, layer: &str) -> bool {
        self.layers.iter().any(|(l, _)| *l == layer)
    }

    fn layer_names(&self) -> String {
        self.layers
            .iter()
            .map(|(l, _)| *l)
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn rank(&self, layer: &str, action: &str) -> usize {
        self.layers
            .iter()
            .find(|(l, _)| *l == layer)
            .and_then(|(_, actions)| actions.iter().position(|a| a.name == action))
            .unwrap_or(usize::MAX)
    }

    /// The pane layers: every layer but the shell's own.
    fn pane_layers(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.layers
            .iter()
            .map(|(l, _)| *l)
            .filter(|l| *l != "global" && *l != "help")
    }
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
    pub fn from_sources(name: &str, sources: &[(&str, &str)], catalog: &Catalog) -> Keymap {
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
                if !catalog.known_layer(&layer) {
                    warnings.push(format!(
                        "{origin}: unknown layer [{layer}] (layers: {})",
                        catalog.layer_names()
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
                    if catalog.describe(&layer, &action).is_none() {
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
        for (layer, bindings) in layers.iter_mut() {
            bindings.sort_by_key(|(a, _)| catalog.rank(layer, a));
        }
        let mut km = Keymap {
            name,
            layers,
            lookup: HashMap::new(),
            warnings,
        };
        km.index(catalog);
        km
    }

    /// Builds the lookup table and reports conflicts; a conflicting binding is dropped so the
    /// first one in file order wins.
    fn index(&mut self, catalog: &Catalog) {
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
                if catalog.action(layer, action).is_some_and(|a| a.destructive)
                    && keys.iter().any(Key::is_bare_lowercase)
                {
                    self.warnings.push(format!(
                        "[{layer}] {action} is destructive; bind it to a shifted or modified key, not a bare letter"
                    ));
                }
            }
        }
        for pane in catalog.pane_layers() {
            let Some(bindings) = self.layers.get(pane) else {
                continue;
            };
            for (action, keys) in bindings {
                for key in keys {
                    if let Some(global) = lookup.get(&("global".to_string(), *key)) {
                        self.warnings.push(format!(
                            "[{pane}] {key} (`{action}`) hides the global `{global}` in that pane"
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
