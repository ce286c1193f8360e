//! Runtime configuration and paths.
//!
//! Three directories, each overridable by an environment variable so tests and shared jump hosts
//! can keep them apart: config (`ACP_COCKPIT_CONFIG_DIR`: config.toml, keymap.toml, themes/),
//! data (`ACP_COCKPIT_DATA_DIR`: drafts) and state (`ACP_COCKPIT_STATE_DIR`: logs). The program
//! runs with none of these files: every default is embedded, and a bad file becomes a warning
//! naming the file, line and problem while the defaults take over.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub mod args;
pub mod keymap;
pub mod theme;

pub use args::{ColorChoice, GlobalArgs};

use keymap::{Catalog, Keymap};
use theme::{ColorDepth, Theme};

pub const CONFIG_DIR_ENV: &str = "ACP_COCKPIT_CONFIG_DIR";
pub const DATA_DIR_ENV: &str = "ACP_COCKPIT_DATA_DIR";
pub const STATE_DIR_ENV: &str = "ACP_COCKPIT_STATE_DIR";

/// The defaults, in the same format as the user's config.toml.
pub const DEFAULT_CONFIG: &str = r#"# acp-cockpit configuration. Every setting is optional.
# Theme: dark, light, high-contrast, mono, a name from themes/ here, or a path to a .toml file.
theme = "dark"
# Keymap: default or vim, or a path; keymap.toml next to this file overrides single actions.
keymap = "default"
# Colors: auto, always, never, truecolor, 256, 16. NO_COLOR is honoured with auto.
color = "auto"
# Log level written to the log file in the state directory (error, warn, info, debug, trace).
log_level = "info"
"#;

#[derive(Debug, Clone)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl Paths {
    /// Resolves the directories from the environment overrides, then the platform's
    /// conventions (XDG on Linux).
    pub fn resolve() -> anyhow::Result<Paths> {
        Self::resolve_with(&|k| std::env::var_os(k).filter(|v| !v.is_empty()))
    }

    pub fn resolve_with(env: &dyn Fn(&str) -> Option<std::ffi::OsString>) -> anyhow::Result<Paths> {
        let dirs = directories::ProjectDirs::from("", "", "acp-cockpit");
        let pick = |var: &str, fallback: Option<PathBuf>| -> anyhow::Result<PathBuf> {
            if let Some(v) = env(var) {
                return Ok(PathBuf::from(v));
            }
            fallback.ok_or_else(|| {
                anyhow::anyhow!(
                    "cannot find a home directory for {var}; set HOME or set {var} to a directory"
                )
            })
        };
        Ok(Paths {
            config_dir: pick(
                CONFIG_DIR_ENV,
                dirs.as_ref().map(|d| d.config_dir().to_path_buf()),
            )?,
            data_dir: pick(
                DATA_DIR_ENV,
                dirs.as_ref().map(|d| d.data_dir().to_path_buf()),
            )?,
            state_dir: pick(
                STATE_DIR_ENV,
                dirs.as_ref().map(|d| {
                    d.state_dir()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| d.data_local_dir().join("state"))
                }),
            )?,
        })
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }
    pub fn keymap_file(&self) -> PathBuf {
        self.config_dir.join("keymap.toml")
    }
    pub fn themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }
    pub fn drafts_dir(&self) -> PathBuf {
        self.data_dir.join("drafts")
    }
    pub fn log_dir(&self) -> PathBuf {
        self.state_dir.clone()
    }
}

/// The settings of config.toml.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub theme: String,
    pub keymap: String,
    pub color: String,
    pub log_level: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            theme: "dark".into(),
            keymap: "default".into(),
            color: "auto".into(),
            log_level: "info".into(),
        }
    }
}

/// Where a loaded file came from, for `acp-cockpit info`.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    pub name: String,
    /// `None` when only the embedded copy was used.
    pub file: Option<PathBuf>,
}

/// Everything the front ends need from disk, loaded once at start.
#[derive(Debug, Clone)]
pub struct Config {
    pub paths: Paths,
    pub settings: Settings,
    /// True when config.toml exists and was used.
    pub config_file_used: bool,
    pub color: ColorChoice,
    pub depth: ColorDepth,
    pub theme: Theme,
    pub theme_source: Source,
    /// The keymap's name and its TOML texts in the order they apply; a front end turns them
    /// into a [`Keymap`] with its own catalog of actions ([`Config::keymap`]).
    pub keymap_name: String,
    keymap_texts: Vec<(String, String)>,
    pub keymap_sources: Vec<Source>,
    /// Problems with the user's files; the UI shows them once.
    pub warnings: Vec<String>,
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn parse_color_choice(s: &str) -> Option<ColorChoice> {
    Some(match s {
        "auto" => ColorChoice::Auto,
        "always" => ColorChoice::Always,
        "never" => ColorChoice::Never,
        "truecolor" => ColorChoice::Truecolor,
        "256" => ColorChoice::C256,
        "16" => ColorChoice::C16,
        _ => return None,
    })
}

impl Config {
    /// Loads config.toml, the theme and the keymap; command-line flags win over the file.
    pub fn load(paths: Paths, global: &GlobalArgs) -> Config {
        Self::load_with(paths, global, &|k| std::env::var(k).ok())
    }

    pub fn load_with(
        paths: Paths,
        global: &GlobalArgs,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Config {
        let mut warnings = Vec::new();
        let file = paths.config_file();
        let (settings, config_file_used) = match std::fs::read_to_string(&file) {
            Ok(text) => match toml::from_str::<Settings>(&text) {
                Ok(s) => (s, true),
                Err(e) => {
                    warnings.push(format!(
                        "{}: {}; using the default settings",
                        file.display(),
                        one_line(&e.to_string())
                    ));
                    (Settings::default(), false)
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Settings::default(), false),
            Err(e) => {
                warnings.push(format!(
                    "{}: cannot read it ({e}); using the default settings",
                    file.display()
                ));
                (Settings::default(), false)
            }
        };

        let color = if global.color != ColorChoice::Auto {
            global.color
        } else {
            parse_color_choice(&settings.color).unwrap_or_else(|| {
                warnings.push(format!(
                    "{}: color = \"{}\" is not one of auto, always, never, truecolor, 256, 16; using auto",
                    file.display(),
                    settings.color
                ));
                ColorChoice::Auto
            })
        };
        let depth = ColorDepth::detect(color, env);

        let theme_spec = global
            .theme
            .clone()
            .unwrap_or_else(|| settings.theme.clone());
        let themes_dir = paths.themes_dir();
        let (theme, w) = Theme::load(&theme_spec, Some(&themes_dir), depth);
        warnings.extend(w);
        let user_theme = themes_dir.join(format!("{theme_spec}.toml"));
        let theme_source = Source {
            name: theme.name.clone(),
            file: if theme_spec.contains('/') || theme_spec.ends_with(".toml") {
                Some(PathBuf::from(&theme_spec))
            } else if user_theme.is_file() && depth != ColorDepth::None {
                Some(user_theme)
            } else {
                None
            },
        };

        let keymap_spec = global
            .keymap
            .clone()
            .unwrap_or_else(|| settings.keymap.clone());
        let (keymap_name, keymap_texts, keymap_sources) =
            load_keymap(&keymap_spec, &paths, &mut warnings);

        Config {
            paths,
            settings,
            config_file_used,
            color,
            depth,
            theme,
            theme_source,
            keymap_name,
            keymap_texts,
            keymap_sources,
            warnings,
        }
    }

    /// The keymap checked against the actions a front end really has; its warnings (unknown
    /// actions, conflicts) are the user's to see, like [`Config::warnings`].
    pub fn keymap(&self, catalog: &Catalog) -> Keymap {
        let refs: Vec<(&str, &str)> = self
            .keymap_texts
            .iter()
            .map(|(o, t)| (o.as_str(), t.as_str()))
            .collect();
        let mut km = Keymap::from_sources(&self.keymap_name, &refs, catalog);
        if km.name != self.keymap_name && !self.keymap_sources.iter().any(|s| s.file.is_some()) {
            km.name = self.keymap_name.clone();
        }
        km
    }
}

/// The base keymap (built-in name or file) plus the user's keymap.toml on top.
fn load_keymap(
    spec: &str,
    paths: &Paths,
    warnings: &mut Vec<String>,
) -> (String, Vec<(String, String)>, Vec<Source>) {
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut sources = Vec::new();
    let mut name = spec.to_string();
    if let Some((n, text)) = keymap::BUILTIN.iter().find(|(n, _)| *n == spec) {
        texts.push((format!("built-in {n} keymap"), text.to_string()));
        sources.push(Source {
            name: n.to_string(),
            file: None,
        });
    } else if spec.contains('/') || spec.ends_with(".toml") {
        match std::fs::read_to_string(spec) {
            Ok(text) => {
                // A partial file still gets every action: it sits on top of the default map.
                texts.push((
                    "built-in default keymap".into(),
                    keymap::DEFAULT_KEYMAP.into(),
                ));
                texts.push((spec.to_string(), text));
                sources.push(Source {
                    name: spec.to_string(),
                    file: Some(PathBuf::from(spec)),
                });
            }
            Err(e) => {
                warnings.push(format!(
                    "keymap {spec}: cannot read it ({e}); using the default keymap"
                ));
            }
        }
    } else {
        warnings.push(format!(
            "unknown keymap `{spec}` (built-in: default, vim, or a .toml path); using default"
        ));
    }
    if texts.is_empty() {
        name = "default".into();
        texts.push((
            "built-in default keymap".into(),
            keymap::DEFAULT_KEYMAP.into(),
        ));
        sources.push(Source {
            name: "default".into(),
            file: None,
        });
    }
    let user = paths.keymap_file();
    match std::fs::read_to_string(&user) {
        Ok(text) => {
            texts.push((user.display().to_string(), text));
            sources.push(Source {
                name: "user overrides".into(),
                file: Some(user),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => warnings.push(format!("{}: cannot read it ({e})", user.display())),
    }
    (name, texts, sources)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global() -> GlobalArgs {
        GlobalArgs {
            kubeconfig: None,
            context: None,
            readonly: false,
            sandbox: false,
            theme: None,
            keymap: None,
            color: ColorChoice::Auto,
        }
    }

    fn paths(dir: &Path) -> Paths {
        Paths {
            config_dir: dir.join("config"),
            data_dir: dir.join("data"),
            state_dir: dir.join("state"),
        }
    }

    fn term(k: &str) -> Option<String> {
        (k == "TERM").then(|| "xterm-256color".to_string())
    }

    #[test]
    fn runs_with_no_files_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::load_with(paths(dir.path()), &global(), &term);
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
        assert_eq!(cfg.settings, Settings::default());
        assert_eq!(cfg.theme.name, "dark");
        assert_eq!(cfg.keymap_name, "default");
        assert_eq!(cfg.depth, ColorDepth::Ansi256);
        assert!(!cfg.config_file_used);
    }

    #[test]
    fn embedded_default_config_parses_to_the_defaults() {
        let s: Settings = toml::from_str(DEFAULT_CONFIG).unwrap();
        assert_eq!(s, Settings::default());
    }

    #[test]
    fn env_overrides_the_directories() {
        let p = Paths::resolve_with(&|k| match k {
            CONFIG_DIR_ENV => Some("/c".into()),
            DATA_DIR_ENV => Some("/d".into()),
            STATE_DIR_ENV => Some("/s".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(p.config_file(), PathBuf::from("/c/config.toml"));
        assert_eq!(p.drafts_dir(), PathBuf::from("/d/drafts"));
        assert_eq!(p.log_dir(), PathBuf::from("/s"));
    }

    #[test]
    fn config_file_picks_theme_and_keymap_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        std::fs::create_dir_all(&p.config_dir).unwrap();
        std::fs::write(
            p.config_file(),
            "theme = \"light\"\nkeymap = \"vim\"\ncolor = \"16\"\n",
        )
        .unwrap();
        let cfg = Config::load_with(p.clone(), &global(), &term);
        assert!(cfg.warnings.is_empty(), "{:?}", cfg.warnings);
        assert_eq!(
            (cfg.theme.name.as_str(), cfg.keymap_name.as_str()),
            ("light", "vim")
        );
        assert_eq!(cfg.depth, ColorDepth::Ansi16);
        let mut g = global();
        g.theme = Some("high-contrast".into());
        g.color = ColorChoice::Never;
        let cfg = Config::load_with(p, &g, &term);
        assert_eq!(cfg.theme.name, "mono");
        assert_eq!(cfg.depth, ColorDepth::None);
    }

    #[test]
    fn bad_config_names_file_and_line_and_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        let p = paths(dir.path());
        std::fs::create_dir_all(&p.config_dir).unwrap();
        std::fs::write(p.config_file(), "theme = \"light\"\nfrobnicate = 3\n").unwrap();
        let cfg = Config::load_with(p, &global(), &term);
        assert_eq!(cfg.warnings.len(), 1, "{:?}", cfg.warnings);
        let w = &cfg.warnings[0];
        assert!(
            w.contains("config.toml") && w.contains("line 2") && w.contains("frobnicate"),
            "{w}"
        );
        assert_eq!(cfg.theme.name, "dark");
    }
}
