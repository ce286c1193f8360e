//! From command-line flags to a running TUI: configuration, logging, platform, engine.

use std::collections::BTreeMap;
use std::io::IsTerminal;

use crate::config::GlobalArgs;
use crate::config::{Config, Paths};
use crate::engine::{self, EngineConfig};
use crate::tui::{TuiOptions, run};

/// A debugging aid for the end-to-end tests: milliseconds to wait before starting the embedded
/// sandbox, to show that the first frame never waits for it.
pub const TEST_SANDBOX_DELAY_ENV: &str = "ACP_COCKPIT_TEST_SANDBOX_DELAY_MS";

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
    let (handle, events, parts) = engine::prepare();
    let engine_config = |source: crate::engine::kube::KubeSource| EngineConfig {
        kube: source,
        readonly: global.readonly,
        data_dir: config.paths.data_dir.clone(),
        registry_via: None,
        ssh_proxy: None,
    };
    // The first frame does not wait for the embedded sandbox: the engine's queues hold what the
    // panes ask until it is up, and the header already says where the cockpit is.
    let (labels, platform, sandbox_start) = match crate::startup::choose(global)? {
        crate::startup::Choice::Platform(resolved) => {
            engine::start(parts, engine_config(resolved.source.clone()));
            (resolved.labels.clone(), Some(*resolved), None)
        }
        crate::startup::Choice::Sandbox { options, labels } => {
            let global = global.clone();
            let cfg = engine_config(crate::engine::kube::KubeSource::InMemory {
                kubeconfig: Box::default(),
                context: None,
            });
            let start = tokio::spawn(async move {
                if let Some(ms) = std::env::var(TEST_SANDBOX_DELAY_ENV)
                    .ok()
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
                }
                match crate::startup::start_sandbox(&global, options).await {
                    Ok(resolved) => {
                        // The sandbox's registry is reached on loopback, never at its
                        // Service's private address.
                        let registry_via = resolved
                            .sandbox
                            .as_ref()
                            .map(|s| (s.registry().0, s.registry().1.to_string()));
                        engine::start(
                            parts,
                            EngineConfig {
                                kube: resolved.source.clone(),
                                registry_via,
                                ssh_proxy: resolved.ssh_proxy.clone(),
                                ..cfg
                            },
                        );
                        Some(resolved)
                    }
                    Err(e) => {
                        parts
                            .fail(crate::engine::Failure::new(
                                crate::engine::FailureKind::Unreachable,
                                format!("{e:#}"),
                                Some("restart the cockpit; with a kubeconfig it uses a real platform"),
                            ))
                            .await;
                        None
                    }
                }
            });
            (labels, None, Some(start))
        }
    };
    let mut opts = TuiOptions::new(
        &config,
        global.readonly,
        labels.sandbox,
        labels.platform.clone(),
        Some(labels.context.clone()),
        handle,
        events,
    );
    opts.warnings.extend(warnings);
    if let Some(p) = &platform {
        opts.context_platforms = context_platforms(&p.source);
    }
    let code = run(opts).await;
    if let Some(p) = platform {
        p.shutdown().await;
    }
    if let Some(start) = sandbox_start {
        // Quitting while the sandbox still starts does not wait for it: the process ends.
        if start.is_finished() {
            if let Ok(Some(sandbox)) = start.await {
                sandbox.shutdown().await;
            }
        } else {
            start.abort();
        }
    }
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
