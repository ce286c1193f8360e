//! Command-line entry: global flags, the TUI by default, and one subcommand per pane's job.
//!
//! Every subcommand lives in its own file with an `Args` struct and
//! `async fn run(args, &GlobalArgs) -> anyhow::Result<i32>` returning the process exit code.

pub mod clusters;
pub mod create;
pub mod drafts;
pub mod etcd;
pub mod info;
pub mod output;
pub mod registry;
pub mod reserved;
pub mod sandbox;
pub mod screenshots;
pub mod timeline;
pub mod validate;

use clap::{Parser, Subcommand};

pub use crate::config::{ColorChoice, GlobalArgs};

#[derive(Debug, Parser)]
#[command(
    name = "acp-cockpit",
    version,
    about = "A full-screen terminal cockpit for Alauda Container Platform",
    long_about = "A full-screen terminal cockpit for Alauda Container Platform (ACP).\n\n\
        With no subcommand it opens the TUI. With no kubeconfig, or with --sandbox, it runs on an \
        embedded sandbox platform on loopback."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Sub>,
}

#[derive(Debug, Subcommand)]
pub enum Sub {
    /// Print every path, version, theme and keymap in use.
    Info(info::Args),
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// List the clusters of the platform.
    Clusters(clusters::Args),
    /// Show a cluster's creation conditions as a timeline.
    Timeline(timeline::Args),
    /// Check a Cluster manifest against every creation rule.
    Validate(validate::Args),
    /// Create a cluster from a manifest.
    Create(create::Args),
    /// Manage saved node drafts.
    Drafts(drafts::Args),
    /// SSH preflight of the nodes of a Cluster manifest.
    Preflight(reserved::Args),
    /// etcd encryption key rotation status.
    Etcd(etcd::Args),
    /// Built-in registry access checks.
    Registry(registry::Args),
    /// Run the sandbox platform.
    Sandbox(sandbox::Args),
    /// Render every pane to SVG files with demo data.
    #[command(hide = true)]
    Screenshots(screenshots::Args),
}
