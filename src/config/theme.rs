//! Semantic style roles. Panes ask for a role, never for a color.
//!
//! Themes are TOML files mapping every [`Role`] to colors and modifiers (see themes/dark.toml).
//! Four are embedded in the binary; a file of the same name in the config directory's `themes/`
//! folder wins over the built-in one. Colors are then reduced to what the terminal can show
//! ([`ColorDepth`]): truecolor, 256, 16, or none (NO_COLOR, `--color never`), where the `mono`
//! theme carries meaning with bold, dim, underline and reverse video.

use std::collections::HashMap;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};

use crate::config::ColorChoice;
use crate::present::Tone;

/// What a piece of text means; the theme decides how it looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Text,
    Ok,
    Warn,
    Fail,
    Info,
    Muted,
    Accent,
    Selection,
    Border,
    Title,
    Key,
    ReadonlyBadge,
    SandboxBadge,
    /// The top bar: platform, context, cluster, clock.
    Header,
    /// The bottom bar of keys.
    Footer,
    /// A pane's name in the switcher.
    Tab,
    /// The active pane's name in the switcher.
    TabActive,
    /// Overlays: confirmation, help, toasts.
    Dialog,
    /// The focused button of a dialog.
    ButtonFocused,
    /// The `:` command line.
    Prompt,
}

impl From<Tone> for Role {
    fn from(t: Tone) -> Role {
        match t {
            Tone::Text => Role::Text,
            Tone::Ok => Role::Ok,
            Tone::Warn => Role::Warn,
            Tone::Fail => Role::Fail,
            Tone::Info => Role::Info,
            Tone::Muted => Role::Muted,
            Tone::Accent => Role::Accent,
        }
    }
}

impl Role {
    pub const ALL: [Role; 20] = [
        Role::Text,
        Role::Ok,
        Role::Warn,
        Role::Fail,
        Role::Info,
        Role::Muted,
        Role::Accent,
        Role::Selection,
        Role::Border,
        Role::Title,
        Role::Key,
        Role::ReadonlyBadge,
        Role::SandboxBadge,
        Role::Header,
        Role::Footer,
        Role::Tab,
        Role::TabActive,
        Role::Dialog,
        Role::ButtonFocused,
        Role::Prompt,
    ];

    /// The role's name in theme files.
    pub fn key(self) -> &'static str {
        match self {
            Role::Text => "text",
            Role::Ok => "ok",
            Role::Warn => "warn",
            Role::Fail => "fail",
            Role::Info => "info",
            Role::Muted => "muted",
            Role::Accent => "accent",
            Role::Selection => "selection",
            Role::Border => "border",
            Role::Title => "title",
            Role::Key => "key",
            Role::ReadonlyBadge => "readonly_badge",
            Role::SandboxBadge => "sandbox_badge",
            Role::Header => "header",
            Role::Footer => "footer",
            Role::Tab => "tab",
            Role::TabActive => "tab_active",
            Role::Dialog => "dialog",
            Role::ButtonFocused => "button_focused",
            Role::Prompt => "prompt",
        }
    }
}

/// Built-in themes by name.
pub const BUILTIN: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// How many colors the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColorDepth {
    None,
    Ansi16,
    Ansi256,
    TrueColor,
}

impl ColorDepth {
    /// Resolves `--color` against the environment. `env` is a lookup so tests need not touch
    /// the process environment.
    pub fn detect(choice: ColorChoice, env: &dyn Fn(&str) -> Option<String>) -> ColorDepth {
        let from_term = || {
            let colorterm = env("COLORTERM").unwrap_or_default().to_ascii_lowercase();
            let term = env("TERM").unwrap_or_default().to_ascii_lowercase();
            if colorterm == "truecolor" || colorterm == "24bit" || term.contains("direct") {
                ColorDepth::TrueColor
            } else if term.contains("256") {
                ColorDepth::Ansi256
            } else if term.is_empty() || term == "dumb" {
                ColorDepth::None
            } else {
                ColorDepth::Ansi16
            }
        };
        match choice {
            ColorChoice::Never => ColorDepth::None,
            ColorChoice::Truecolor => ColorDepth::TrueColor,
            ColorChoice::C256 => ColorDepth::Ansi256,
            ColorChoice::C16 => ColorDepth::Ansi16,
            ColorChoice::Always => from_term().max(ColorDepth::Ansi16),
            ColorChoice::Auto => {
                // https://no-color.org: any non-empty value disables color.
                if env("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                    ColorDepth::None
                } else {
                    from_term()
                }
            }
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ColorDepth::None => "none",
            ColorDepth::Ansi16 => "16",
            ColorDepth::Ansi256 => "256",
            ColorDepth::TrueColor => "truecolor",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub depth: ColorDepth,
    styles: HashMap<Role, Style>,
}

impl Default for Theme {
    fn default() -> Self {
        let (theme, _) = Theme::from_toml("dark", builtin("dark").unwrap_or_default());
        theme
    }
}

fn builtin(name: &str) -> Option<&'static str> {
    BUILTIN.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

impl Theme {
    pub fn style(&self, role: impl Into<Role>) -> Style {
        let role = role.into();
        self.styles.get(&role).copied().unwrap_or_default()
    }

    /// Loads a theme by built-in name, by name from `themes_dir`, or from a file path, then
    /// reduces it to `depth`. Problems are returned as warnings and the built-in dark theme
    /// fills in, so a bad theme file never stops the program.
    pub fn load(spec: &str, themes_dir: Option<&Path>, depth: ColorDepth) -> (Theme, Vec<String>) {
        let mut warnings = Vec::new();
        let (theme, w) = if depth == ColorDepth::None {
            // Without colors only the mono theme's modifiers carry meaning.
            Theme::from_toml("mono", builtin("mono").unwrap_or_default())
        } else {
            Self::resolve(spec, themes_dir, &mut warnings)
        };
        warnings.extend(w);
        (theme.degrade(depth), warnings)
    }

    fn resolve(
        spec: &str,
        themes_dir: Option<&Path>,
        warnings: &mut Vec<String>,
    ) -> (Theme, Vec<String>) {
        let looks_like_path = spec.contains('/') || spec.ends_with(".toml");
        let candidate = if looks_like_path {
            Some(std::path::PathBuf::from(spec))
        } else {
            themes_dir.map(|d| d.join(format!("{spec}.toml")))
        };
        if let Some(path) = candidate.filter(|p| looks_like_path || p.is_file()) {
            match std::fs::read_to_string(&path) {
                Ok(text) => return Theme::from_toml(&path.display().to_string(), &text),
                Err(e) => warnings.push(format!(
                    "theme {}: cannot read it ({e}); using the dark theme",
                    path.display()
                )),
            }
        } else if let Some(text) = builtin(spec) {
            return Theme::from_toml(spec, text);
        } else {
            warnings.push(format!(
                "unknown theme `{spec}` (built-in: dark, light, high-contrast, mono, or a .toml path); using dark"
            ));
        }
        Theme::from_toml("dark", builtin("dark").unwrap_or_default())
    }

    /// Parses a theme file; roles it does not set come from the theme it `inherits` (dark by
    /// default). `origin` names the file in warnings.
    pub fn from_toml(origin: &str, text: &str) -> (Theme, Vec<String>) {
        let mut warnings = Vec::new();
        let table: toml::Table = match toml::from_str(text) {
            Ok(t) => t,
            Err(e) => {
                warnings.push(format!(
                    "theme {origin}: {}; using the dark theme",
                    e.to_string()
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                ));
                toml::Table::new()
            }
        };
        let name = table
            .get("name")
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| {
                Path::new(origin)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| origin.to_string())
            });
        let parent = table
            .get("inherits")
            .and_then(|v| v.as_str())
            .unwrap_or("dark");
        let mut styles = if name == parent || (origin == "dark" && parent == "dark") {
            HashMap::new()
        } else {
            match builtin(parent) {
                Some(text) => Theme::from_toml(parent, text).0.styles,
                None => {
                    warnings.push(format!(
                        "theme {origin}: inherits unknown theme `{parent}`; using dark"
                    ));
                    Theme::default().styles
                }
            }
        };
        if let Some(roles) = table.get("roles") {
            let Some(roles) = roles.as_table() else {
                warnings.push(format!("theme {origin}: [roles] must be a table"));
                return (
                    Theme {
                        name,
                        depth: ColorDepth::TrueColor,
                        styles,
                    },
                    warnings,
                );
            };
            for (key, value) in roles {
                let Some(role) = Role::ALL.iter().find(|r| r.key() == key) else {
                    warnings.push(format!("theme {origin}: unknown role `{key}`"));
                    continue;
                };
                match parse_style(value) {
                    Ok(style) => {
                        styles.insert(*role, style);
                    }
                    Err(e) => warnings.push(format!("theme {origin}: role `{key}`: {e}")),
                }
            }
        }
        (
            Theme {
                name,
                depth: ColorDepth::TrueColor,
                styles,
            },
            warnings,
        )
    }

    /// Reduces every color to what a terminal of `depth` shows.
    pub fn degrade(mut self, depth: ColorDepth) -> Theme {
        self.depth = depth;
        for style in self.styles.values_mut() {
            style.fg = style.fg.and_then(|c| reduce(c, depth));
            style.bg = style.bg.and_then(|c| reduce(c, depth));
        }
        self
    }
}

fn parse_style(value: &toml::Value) -> Result<Style, String> {
    let table = value
        .as_table()
        .ok_or("expected a table like { fg = \"green\", modifiers = [\"bold\"] }")?;
    let mut style = Style::default();
    for (k, v) in table {
        match k.as_str() {
            "fg" => style = style.fg(parse_color(v)?),
            "bg" => style = style.bg(parse_color(v)?),
            "modifiers" => {
                let list = v
                    .as_array()
                    .ok_or("modifiers must be a list, e.g. [\"bold\"]")?;
                for m in list {
                    let m = m.as_str().ok_or("modifiers must be strings")?;
                    style = style.add_modifier(match m {
                        "bold" => Modifier::BOLD,
                        "dim" => Modifier::DIM,
                        "italic" => Modifier::ITALIC,
                        "underlined" | "underline" => Modifier::UNDERLINED,
                        "reversed" | "reverse" => Modifier::REVERSED,
                        "crossed_out" => Modifier::CROSSED_OUT,
                        other => {
                            return Err(format!(
                                "unknown modifier `{other}` (bold, dim, italic, underlined, reversed, crossed_out)"
                            ));
                        }
                    });
                }
            }
            other => return Err(format!("unknown field `{other}` (fg, bg, modifiers)")),
        }
    }
    Ok(style)
}

/// Parses a color name, `#rrggbb` or an xterm index 0-255.
pub fn parse_color(value: &toml::Value) -> Result<Color, String> {
    if let Some(n) = value.as_integer() {
        return u8::try_from(n)
            .map(Color::Indexed)
            .map_err(|_| format!("color index {n} is outside 0-255"));
    }
    let s = value
        .as_str()
        .ok_or("a color is a name, \"#rrggbb\" or 0-255")?;
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() == 6
            && let Ok(v) = u32::from_str_radix(hex, 16)
        {
            return Ok(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
        }
        return Err(format!("`{s}` is not a #rrggbb color"));
    }
    if let Ok(n) = s.parse::<u8>() {
        return Ok(Color::Indexed(n));
    }
    let c = match s.to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
        "reset" | "default" => Color::Reset,
        "black" => Color::Black,
        "red" => Color::Red,
        "green" => Color::Green,
        "yellow" => Color::Yellow,
        "blue" => Color::Blue,
        "magenta" => Color::Magenta,
        "cyan" => Color::Cyan,
        "gray" | "grey" => Color::Gray,
        "dark_gray" | "dark_grey" | "darkgray" => Color::DarkGray,
        "light_red" => Color::LightRed,
        "light_green" => Color::LightGreen,
        "light_yellow" => Color::LightYellow,
        "light_blue" => Color::LightBlue,
        "light_magenta" => Color::LightMagenta,
        "light_cyan" => Color::LightCyan,
        "white" => Color::White,
        _ => {
            return Err(format!(
                "unknown color `{s}` (a name like \"red\" or \"dark_gray\", \"#rrggbb\", or 0-255)"
            ));
        }
    };
    Ok(c)
}

/// The 16 ANSI colors as xterm draws them, for nearest-color matching.
const ANSI16: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// The RGB value of an xterm-256 index.
pub fn indexed_rgb(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => ANSI16[i as usize].1,
        16..=231 => {
            let i = i - 16;
            (
                CUBE[(i / 36) as usize],
                CUBE[((i / 6) % 6) as usize],
                CUBE[(i % 6) as usize],
            )
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}

fn dist(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).unsigned_abs();
    // Weighted toward green, where the eye is most sensitive.
    2 * d(a.0, b.0).pow(2) + 4 * d(a.1, b.1).pow(2) + 3 * d(a.2, b.2).pow(2)
}

/// The nearest xterm-256 index (cube or gray ramp; never 0-15, whose colors vary by palette).
pub fn rgb_to_256(rgb: (u8, u8, u8)) -> u8 {
    (16u8..=255)
        .min_by_key(|i| dist(indexed_rgb(*i), rgb))
        .unwrap_or(16)
}

pub fn rgb_to_16(rgb: (u8, u8, u8)) -> Color {
    ANSI16
        .iter()
        .min_by_key(|(_, v)| dist(*v, rgb))
        .map(|(c, _)| *c)
        .unwrap_or(Color::Reset)
}

fn reduce(c: Color, depth: ColorDepth) -> Option<Color> {
    match (depth, c) {
        (ColorDepth::None, _) => None,
        (ColorDepth::TrueColor, c) => Some(c),
        (ColorDepth::Ansi256, Color::Rgb(r, g, b)) => Some(Color::Indexed(rgb_to_256((r, g, b)))),
        (ColorDepth::Ansi256, c) => Some(c),
        (ColorDepth::Ansi16, Color::Rgb(r, g, b)) => Some(rgb_to_16((r, g, b))),
        (ColorDepth::Ansi16, Color::Indexed(i)) if i >= 16 => Some(rgb_to_16(indexed_rgb(i))),
        (ColorDepth::Ansi16, Color::Indexed(i)) => Some(ANSI16[i as usize].0),
        (ColorDepth::Ansi16, c) => Some(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn every_builtin_theme_sets_every_role_without_warnings() {
        for (name, text) in BUILTIN {
            let table: toml::Table = toml::from_str(text).unwrap();
            let roles = table["roles"].as_table().unwrap();
            for role in Role::ALL {
                assert!(
                    roles.contains_key(role.key()),
                    "{name} misses {}",
                    role.key()
                );
            }
            let (theme, warnings) = Theme::from_toml(name, text);
            assert!(warnings.is_empty(), "{name}: {warnings:?}");
            assert_eq!(theme.name, name);
        }
    }

    #[test]
    fn detects_color_depth_from_flags_and_environment() {
        let d = ColorDepth::detect;
        assert_eq!(
            d(ColorChoice::Auto, &env(&[("TERM", "xterm-256color")])),
            ColorDepth::Ansi256
        );
        assert_eq!(
            d(
                ColorChoice::Auto,
                &env(&[("TERM", "xterm-256color"), ("COLORTERM", "truecolor")])
            ),
            ColorDepth::TrueColor
        );
        assert_eq!(
            d(ColorChoice::Auto, &env(&[("TERM", "xterm")])),
            ColorDepth::Ansi16
        );
        assert_eq!(
            d(ColorChoice::Auto, &env(&[("TERM", "dumb")])),
            ColorDepth::None
        );
        assert_eq!(
            d(
                ColorChoice::Auto,
                &env(&[("TERM", "xterm-256color"), ("NO_COLOR", "1")])
            ),
            ColorDepth::None
        );
        assert_eq!(
            d(
                ColorChoice::Auto,
                &env(&[("TERM", "xterm-256color"), ("NO_COLOR", "")])
            ),
            ColorDepth::Ansi256
        );
        assert_eq!(
            d(ColorChoice::Always, &env(&[("NO_COLOR", "1")])),
            ColorDepth::Ansi16
        );
        assert_eq!(
            d(ColorChoice::Never, &env(&[("COLORTERM", "truecolor")])),
            ColorDepth::None
        );
        assert_eq!(
            d(ColorChoice::C16, &env(&[("COLORTERM", "truecolor")])),
            ColorDepth::Ansi16
        );
        assert_eq!(d(ColorChoice::C256, &env(&[])), ColorDepth::Ansi256);
        assert_eq!(d(ColorChoice::Truecolor, &env(&[])), ColorDepth::TrueColor);
    }

    #[test]
    fn degrades_colors() {
        assert_eq!(rgb_to_256((255, 0, 0)), 196);
        assert_eq!(rgb_to_256((128, 128, 128)), 244);
        assert_eq!(rgb_to_16((250, 10, 10)), Color::LightRed);
        assert_eq!(rgb_to_16((0, 0, 0)), Color::Black);
        let (dark, _) = Theme::load("dark", None, ColorDepth::Ansi256);
        assert!(matches!(dark.style(Role::Ok).fg, Some(Color::Indexed(_))));
        let (dark, _) = Theme::load("dark", None, ColorDepth::Ansi16);
        let fg = dark.style(Role::Fail).fg.unwrap();
        assert!(!matches!(fg, Color::Rgb(..) | Color::Indexed(_)), "{fg:?}");
        let (none, _) = Theme::load("dark", None, ColorDepth::None);
        assert_eq!(none.name, "mono");
        for role in Role::ALL {
            let s = none.style(role);
            assert!(s.fg.is_none() && s.bg.is_none(), "{role:?} keeps a color");
        }
        assert!(
            none.style(Role::Selection)
                .add_modifier
                .contains(Modifier::REVERSED)
        );
    }

    #[test]
    fn user_theme_inherits_and_reports_problems() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("mine.toml"),
            "inherits = \"light\"\n[roles]\nok = { fg = 82 }\nwarn = { fg = \"#zzzzzz\" }\nnope = {}\nfail = { fg = \"red\", modifiers = [\"blink\"] }\n",
        )
        .unwrap();
        let (theme, warnings) = Theme::load("mine", Some(dir.path()), ColorDepth::TrueColor);
        assert_eq!(theme.name, "mine");
        assert_eq!(theme.style(Role::Ok).fg, Some(Color::Indexed(82)));
        let (light, _) = Theme::load("light", None, ColorDepth::TrueColor);
        assert_eq!(theme.style(Role::Warn), light.style(Role::Warn));
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(
            warnings.iter().all(|w| w.contains("mine.toml")),
            "{warnings:?}"
        );
    }

    #[test]
    fn broken_or_unknown_themes_fall_back_to_dark() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.toml"), "[roles\nok = 1").unwrap();
        let (theme, warnings) = Theme::load("bad", Some(dir.path()), ColorDepth::TrueColor);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("bad.toml") && warnings[0].contains("line 1"),
            "{warnings:?}"
        );
        assert_eq!(theme.style(Role::Ok), Theme::default().style(Role::Ok));
        let (theme, warnings) = Theme::load("solarized", None, ColorDepth::TrueColor);
        assert_eq!(theme.name, "dark");
        assert!(warnings[0].contains("unknown theme `solarized`"));
        let (_, warnings) = Theme::load("/nonexistent/x.toml", None, ColorDepth::TrueColor);
        assert!(warnings[0].contains("cannot read"), "{warnings:?}");
    }
}
