//! Command-line entry: global flags, the TUI by default, and one subcommand per pane's job.
//!
//! Every subcommand lives in its own file with an `Args` struct and
//! `async fn run(args, &GlobalArgs) -> anyhow::Result<i32>` returning the process exit code.
//!
//! # Exit codes, the same for every subcommand
//! - `0` ([`exit::OK`]): all good.
//! - `1` ([`exit::UNHEALTHY`]): what was checked is unhealthy or invalid: findings with errors,
//!   a failed creation step (the cluster's or a node's), a failed or lagging etcd node, a failed
//!   preflight or registry check.
//! - `2` ([`exit::CANNOT_CHECK`]): could not check: bad usage, unreadable input, a cluster that
//!   does not exist, the platform unreachable, authentication failed. An `Err` returned by a
//!   subcommand is this case.

pub mod clusters;
pub mod create;
pub mod drafts;
pub mod etcd;
pub mod info;
pub mod output;
pub mod preflight;
pub mod registry;
pub mod sandbox;
pub mod screenshots;
pub mod timeline;
pub mod validate;

use clap::{Parser, Subcommand};

pub use crate::config::{ColorChoice, GlobalArgs};

/// The exit codes every subcommand uses (see the module docs).
pub mod exit {
    pub const OK: i32 = 0;
    pub const UNHEALTHY: i32 = 1;
    pub const CANNOT_CHECK: i32 = 2;
}

/// The `--help` text every subcommand ends with.
pub const EXIT_CODES_HELP: &str = "Exit codes: 0 all good; 1 what was checked is unhealthy or \
    invalid; 2 could not check (usage, unreadable input, unknown cluster, unreachable, auth).";

#[derive(Debug, Parser)]
#[command(
    name = "acp-cockpit",
    version,
    about = "A full-screen terminal cockpit for Alauda Container Platform",
    long_about = "A full-screen terminal cockpit for Alauda Container Platform (ACP).\n\n\
        With no subcommand it opens the TUI. With no kubeconfig, or with --sandbox, it runs on an \
        embedded sandbox platform on loopback.",
    after_help = EXIT_CODES_HELP
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
    /// Check every node over SSH before Create (a manifest's machines, or --node targets).
    Preflight(preflight::Args),
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
