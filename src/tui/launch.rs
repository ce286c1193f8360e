//! From command-line flags to a running TUI: configuration, logging, platform, engine.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use crate::config::GlobalArgs;
use crate::config::{Config, Paths};
use crate::engine::{self, EngineConfig};
use crate::tui::{TuiOptions, run};

/// Opens the TUI on the platform the flags and environment select (the sandbox when there is
/// no kubeconfig or with `--sandbox`). Returns the process exit code.
pub async fn launch(global: &GlobalArgs) -> anyhow::Result<i32> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "the cockpit needs an interactive terminal; for scripts use a subcommand such as \
             `acp-cockpit clusters -o json` (see `acp-cockpit --help`)"
        );
    }
    let paths = Paths::resolve()?;
    let config = Config::load(paths, global);
    let mut warnings = Vec::new();
    if let Err(e) = crate::logging::init(&config.paths.log_dir(), &config.settings.log_level) {
        warnings.push(format!("{e:#}; running without a log file"));
    }
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "starting the TUI");
    let resolved = crate::startup::resolve_quiet(global).await?;
    let (handle, events) = engine::spawn(EngineConfig {
        kube: resolved.source.clone(),
        readonly: global.readonly,
        data_dir: config.paths.data_dir.clone(),
        registry_via: resolved
            .sandbox
            .as_ref()
            .map(|s| (s.registry().0, s.registry().1.to_string())),
    });
    let mut opts = TuiOptions::new(
        &config,
        global.readonly,
        resolved.labels.sandbox,
        resolved.labels.platform.clone(),
        Some(resolved.labels.context.clone()),
        handle,
        events,
    );
    opts.warnings.extend(warnings);
    if !resolved.labels.sandbox {
        opts.context_platforms = context_platforms(&resolved.source);
    }
    let code = run(opts).await;
    resolved.shutdown().await;
    code
}

/// The header's platform label for every context of the kubeconfig (the host of its server).
/// An unreadable kubeconfig gives none: the engine reports why, and the label stays as it was.
fn context_platforms(source: &crate::engine::kube::KubeSource) -> BTreeMap<String, String> {
    let Ok(kc) = crate::engine::kube::client::load_kubeconfig(source) else {
        return BTreeMap::new();
    };
    crate::engine::kube::client::context_names(&kc)
        .into_iter()
        .filter_map(|name| {
            let labels = crate::startup::labels_for(&kc, Some(&name)).ok()?;
            Some((name, labels.platform))
        })
        .collect()
}
