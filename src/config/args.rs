//! The global flags both front ends take. They override what the configuration files say, and
//! they pick the platform (kubeconfig, context, sandbox) the start-up connects to.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context of the platform's global cluster.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Refuse every action that writes to a platform.
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Run on the embedded sandbox platform instead of a real one.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Theme name (dark, light, high-contrast, mono) or a path to a theme file.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
    /// Keymap name (default, vim) or a path to a keymap file.
    #[arg(long, global = true, value_name = "NAME")]
    pub keymap: Option<String>,
    /// When to use colors, and how many.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
    Truecolor,
    #[value(name = "256")]
    C256,
    #[value(name = "16")]
    C16,
}
