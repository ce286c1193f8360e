//! `acp-cockpit info`: every path, the version, the kubeconfig and context, and the theme and
//! keymap in use, so a user can find their files and see why the cockpit looks the way it does.
//! It reads files only: no sandbox is started and no server is contacted, so it answers even
//! when the platform is down or the login has expired.

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use serde::Serialize;

use super::GlobalArgs;
use super::output::{Format, print_structured};
use crate::config::{Config, Paths, Source};
use crate::startup::{KubeconfigLocation, locate_for};

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

/// Where the kubeconfig comes from, as the TUI and the other subcommands would pick it.
#[derive(Debug, Serialize)]
pub struct KubeconfigInfo {
    /// `flag` (--kubeconfig), `env` ($KUBECONFIG), `home` (~/.kube/config) or `none`.
    pub source: &'static str,
    /// The file, or $KUBECONFIG's list of files; `None` when there is none.
    pub path: Option<String>,
    /// The embedded sandbox would be used instead: no kubeconfig was found, or `--sandbox`.
    pub sandbox: bool,
}

/// The kubeconfig context that would be used.
#[derive(Debug, Serialize)]
pub struct ContextInfo {
    /// `None` when the kubeconfig cannot be read or names no current context.
    pub name: Option<String>,
    /// `flag` (--context), `current-context` (the kubeconfig's), `sandbox` (the sandbox's own)
    /// or `unknown`.
    pub source: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Info {
    pub version: String,
    pub kubeconfig: KubeconfigInfo,
    pub context: ContextInfo,
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

/// The kubeconfig and context the cockpit would use, from the files alone. Only the
/// current-context is taken from the kubeconfig: nothing in it that could be a credential is
/// kept or shown, and a read error's text (which could quote the file) is not either.
pub fn kube_info(
    location: &KubeconfigLocation,
    sandbox_flag: bool,
    context_flag: Option<&str>,
) -> (KubeconfigInfo, ContextInfo) {
    let (source, path) = match location {
        KubeconfigLocation::Flag(p) => ("flag", Some(p.display().to_string())),
        KubeconfigLocation::Env(list) => ("env", Some(list.clone())),
        KubeconfigLocation::Home(p) => ("home", Some(p.display().to_string())),
        KubeconfigLocation::Missing => ("none", None),
    };
    let sandbox = sandbox_flag || *location == KubeconfigLocation::Missing;
    let context = match context_flag {
        Some(c) => ContextInfo {
            name: Some(c.to_string()),
            source: "flag",
        },
        None if sandbox => ContextInfo {
            name: Some(crate::sandbox::kubeconfig::CONTEXT.to_string()),
            source: "sandbox",
        },
        None => match read_kubeconfig(location).and_then(|kc| kc.current_context) {
            Some(c) => ContextInfo {
                name: Some(c),
                source: "current-context",
            },
            None => ContextInfo {
                name: None,
                source: "unknown",
            },
        },
    };
    (
        KubeconfigInfo {
            source,
            path,
            sandbox,
        },
        context,
    )
}

/// Reads the located kubeconfig as kubectl would (a `$KUBECONFIG` list merged in order); `None`
/// when it cannot be read.
fn read_kubeconfig(location: &KubeconfigLocation) -> Option<kube::config::Kubeconfig> {
    use kube::config::Kubeconfig;
    match location {
        KubeconfigLocation::Flag(p) | KubeconfigLocation::Home(p) => Kubeconfig::read_from(p).ok(),
        KubeconfigLocation::Env(list) => std::env::split_paths(list)
            .filter(|p| !p.as_os_str().is_empty())
            .try_fold(Kubeconfig::default(), |merged, p| {
                Kubeconfig::read_from(p).and_then(|c| merged.merge(c))
            })
            .ok(),
        KubeconfigLocation::Missing => None,
    }
}

pub fn collect(config: &Config, global: &GlobalArgs) -> Info {
    let p = &config.paths;
    let (kubeconfig, context) = kube_info(
        &locate_for(global),
        global.sandbox,
        global.context.as_deref(),
    );
    Info {
        version: env!("CARGO_PKG_VERSION").to_string(),
        kubeconfig,
        context,
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
        keymap: config.keymap_name.clone(),
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
    let info = collect(&config, global);
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
    let kubeconfig = match (&info.kubeconfig.path, info.kubeconfig.sandbox) {
        (None, _) => "none: the embedded sandbox would be used".to_string(),
        (Some(p), true) => format!("{p} (not used: --sandbox runs the embedded sandbox)"),
        (Some(p), false) => match info.kubeconfig.source {
            "flag" => format!("{p} (--kubeconfig)"),
            "env" => format!("{p} ($KUBECONFIG)"),
            _ => p.clone(),
        },
    };
    let context = match (&info.context.name, info.context.source) {
        (Some(c), "flag") => format!("{c} (--context)"),
        (Some(c), "sandbox") => format!("{c} (the sandbox's)"),
        (Some(c), _) => c.clone(),
        (None, _) => "unknown: the kubeconfig cannot be read or has no current-context".to_string(),
    };
    let rows = [
        ("version", info.version.clone()),
        ("kubeconfig", kubeconfig),
        ("context", context),
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

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\ncurrent-context: acp\nclusters:\n- name: g\n  cluster:\n    server: https://acp.example.com/kubernetes/global\ncontexts:\n- name: acp\n  context:\n    cluster: g\n    user: u\nusers:\n- name: u\n  user:\n    token: s3cret-token\n";

    fn json(
        location: &KubeconfigLocation,
        sandbox: bool,
        context: Option<&str>,
    ) -> serde_json::Value {
        let (kubeconfig, context) = kube_info(location, sandbox, context);
        let v = serde_json::json!({ "kubeconfig": kubeconfig, "context": context });
        assert!(
            !v.to_string().contains("s3cret-token"),
            "a credential leaked: {v}"
        );
        v
    }

    #[test]
    fn the_kubeconfig_and_its_current_context_are_shown_without_credentials() {
        let dir = tempfile::tempdir().expect("tempdir");
        let kc = dir.path().join("kc");
        std::fs::write(&kc, KUBECONFIG).expect("write");
        let v = json(&KubeconfigLocation::Flag(kc.clone()), false, None);
        assert_eq!(v["kubeconfig"]["source"], "flag");
        assert_eq!(v["kubeconfig"]["path"], kc.display().to_string());
        assert_eq!(v["kubeconfig"]["sandbox"], false);
        assert_eq!(v["context"]["name"], "acp");
        assert_eq!(v["context"]["source"], "current-context");

        // --context wins over the current context.
        let v = json(&KubeconfigLocation::Home(kc.clone()), false, Some("other"));
        assert_eq!(v["kubeconfig"]["source"], "home");
        assert_eq!(v["context"]["name"], "other");
        assert_eq!(v["context"]["source"], "flag");

        // A $KUBECONFIG list is merged: the first file naming a current context wins.
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "apiVersion: v1\nkind: Config\n").expect("write");
        let list = std::env::join_paths([&empty, &kc]).expect("join");
        let list = list.to_string_lossy().into_owned();
        let v = json(&KubeconfigLocation::Env(list.clone()), false, None);
        assert_eq!(v["kubeconfig"]["source"], "env");
        assert_eq!(v["kubeconfig"]["path"], list);
        assert_eq!(v["context"]["name"], "acp");
    }

    #[test]
    fn no_kubeconfig_means_the_sandbox_and_its_context() {
        let v = json(&KubeconfigLocation::Missing, false, None);
        assert_eq!(v["kubeconfig"]["source"], "none");
        assert!(v["kubeconfig"]["path"].is_null());
        assert_eq!(v["kubeconfig"]["sandbox"], true);
        assert_eq!(v["context"]["name"], crate::sandbox::kubeconfig::CONTEXT);
        assert_eq!(v["context"]["source"], "sandbox");

        // --sandbox keeps the located file on show but marks it unused.
        let v = json(&KubeconfigLocation::Flag("/x/kc".into()), true, None);
        assert_eq!(v["kubeconfig"]["source"], "flag");
        assert_eq!(v["kubeconfig"]["sandbox"], true);
        assert_eq!(v["context"]["source"], "sandbox");
    }

    #[test]
    fn an_unreadable_kubeconfig_leaves_the_context_unknown() {
        let dir = tempfile::tempdir().expect("tempdir");
        let missing = dir.path().join("absent");
        let v = json(&KubeconfigLocation::Flag(missing), false, None);
        assert!(v["context"]["name"].is_null());
        assert_eq!(v["context"]["source"], "unknown");
        let broken = dir.path().join("broken");
        std::fs::write(&broken, "users: [\n  token: s3cret-token").expect("write");
        let v = json(&KubeconfigLocation::Flag(broken), false, None);
        assert_eq!(v["context"]["source"], "unknown");
    }
}
