//! `acp-cockpit info`: every path, the version, and the theme and keymap in use, so a user can
//! find their files and see why the cockpit looks the way it does.

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use serde::Serialize;

use super::GlobalArgs;
use super::output::{Format, print_structured};
use crate::config::{Config, Paths, Source};

#[derive(Debug, Clone, ClapArgs)]
pub struct Args {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Serialize)]
pub struct FileInfo {
    pub path: PathBuf,
    pub exists: bool,
}

impl FileInfo {
    fn new(path: &Path) -> Self {
        FileInfo {
            path: path.to_path_buf(),
            exists: path.exists(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Info {
    pub version: String,
    pub config_dir: FileInfo,
    pub data_dir: FileInfo,
    pub state_dir: FileInfo,
    pub config_file: FileInfo,
    pub keymap_file: FileInfo,
    pub themes_dir: FileInfo,
    pub drafts_dir: FileInfo,
    pub log_file: PathBuf,
    pub theme: Source,
    pub colors: String,
    pub keymap: String,
    pub keymap_sources: Vec<Source>,
    pub warnings: Vec<String>,
}

pub fn collect(config: &Config) -> Info {
    let p = &config.paths;
    Info {
        version: env!("CARGO_PKG_VERSION").to_string(),
        config_dir: FileInfo::new(&p.config_dir),
        data_dir: FileInfo::new(&p.data_dir),
        state_dir: FileInfo::new(&p.state_dir),
        config_file: FileInfo::new(&p.config_file()),
        keymap_file: FileInfo::new(&p.keymap_file()),
        themes_dir: FileInfo::new(&p.themes_dir()),
        drafts_dir: FileInfo::new(&p.drafts_dir()),
        log_file: crate::logging::current_file(&p.log_dir()),
        theme: config.theme_source.clone(),
        colors: config.depth.label().to_string(),
        keymap: config.keymap.name.clone(),
        keymap_sources: config.keymap_sources.clone(),
        warnings: config.warnings.clone(),
    }
}

fn source_label(s: &Source) -> String {
    match &s.file {
        Some(f) => format!("{} ({})", s.name, f.display()),
        None => format!("{} (built in)", s.name),
    }
}

pub async fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<i32> {
    let config = Config::load(Paths::resolve()?, global);
    let info = collect(&config);
    if args.output != Format::Table {
        print_structured(&info, args.output)?;
        return Ok(0);
    }
    let file = |f: &FileInfo| {
        if f.exists {
            f.path.display().to_string()
        } else {
            format!("{} (not present)", f.path.display())
        }
    };
    let rows = [
        ("version", info.version.clone()),
        ("config dir", file(&info.config_dir)),
        ("config file", file(&info.config_file)),
        ("keymap file", file(&info.keymap_file)),
        ("themes dir", file(&info.themes_dir)),
        ("data dir", file(&info.data_dir)),
        ("drafts dir", file(&info.drafts_dir)),
        ("state dir", file(&info.state_dir)),
        ("log file", info.log_file.display().to_string()),
        ("theme", source_label(&info.theme)),
        ("colors", info.colors.clone()),
        (
            "keymap",
            info.keymap_sources
                .iter()
                .map(source_label)
                .collect::<Vec<_>>()
                .join(" + "),
        ),
    ];
    for (k, v) in rows {
        println!("{k:<12} {v}");
    }
    for w in &info.warnings {
        println!("warning      {w}");
    }
    println!(
        "\nOverride the directories with ACP_COCKPIT_CONFIG_DIR, ACP_COCKPIT_DATA_DIR and ACP_COCKPIT_STATE_DIR."
    );
    Ok(0)
}
