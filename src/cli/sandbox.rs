//! `acp-cockpit sandbox serve`: the sandbox platform in the foreground, for kubectl, the TUI
//! and other tools.

use std::path::PathBuf;

use clap::{Args as ClapArgs, Subcommand};

use super::GlobalArgs;
use crate::sandbox::{Platform, SandboxOptions, kubeconfig};

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the sandbox ACP platform on 127.0.0.1 until Ctrl-C.
    #[command(after_help = FAULTS_HELP)]
    Serve(ServeArgs),
    /// Print the draft cluster's manifest, whose nodes the sandbox serves over SSH:
    /// `acp-cockpit sandbox draft-manifest > lab.yaml; acp-cockpit --sandbox preflight -f lab.yaml`.
    DraftManifest,
}

/// How to steer the simulation, shown by `serve --help`.
const FAULTS_HELP: &str = "\
Steering the simulation (kubectl annotate / --overwrite / KEY- to remove):
  Cluster  sandbox.acp-cockpit.io/broken-step=<StepType>    that creation step fails (FailedInit) until removed
  Cluster  sandbox.acp-cockpit.io/broken-message=<text>     the failure message to report instead
  Cluster  sandbox.acp-cockpit.io/unhealthy=[<text>]        a Running cluster turns Failed (FailedHealthCheck)
  Cluster  sandbox.acp-cockpit.io/terminate-seconds=<n>     how long deletion stays Terminating
  Machine  sandbox.acp-cockpit.io/broken-step=<StepType>    that node-add step fails until removed
  eec      sandbox.acp-cockpit.io/lagging-node=<ip>         that node stays on the previous key revision
  eec      sandbox.acp-cockpit.io/failing-node=<ip>         that node's kube-apiserver fails to reload (RestartFailed)
  ConfigMap sandbox-rotate-host-key, data ip=<ip>           each write rotates that node's SSH host key (192.168.90.14)

Seeded clusters: global, prod-east, staging, edge-lab (Running), dev-new (creating),
ops-stuck (failing at EnsureKubeadmInitPhaseETCD), old-test (Terminating).";

#[derive(Debug, Clone, ClapArgs)]
pub struct ServeArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Write a kubeconfig for the sandbox here (mode 0600; it holds the sandbox's tokens).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Speed factor of the simulation: 10 runs cluster creation ten times faster.
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
    /// Seed of the scenario; the same seed gives the same clusters, nodes and timings.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 100_000.0 => Ok(v),
        _ => Err(format!(
            "{s:?} is not a speed factor; use a number above 0 and at most 100000, e.g. 1 or 20"
        )),
    }
}

pub async fn run(args: Args, _global: &GlobalArgs) -> anyhow::Result<i32> {
    match args.command {
        Command::Serve(a) => serve(a).await,
        Command::DraftManifest => {
            let manifest = crate::sandbox::scenario::draft_nodes::draft_cluster_manifest();
            super::output::out(serde_saphyr::to_string(&manifest)?.trim_end())?;
            Ok(0)
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<i32> {
    let platform = Platform::start(SandboxOptions {
        port: args.port,
        speed: args.speed,
        seed: args.seed,
    })
    .await?;
    let base = platform.base_url();
    println!(
        "acp-cockpit sandbox: an ACP platform on {base} (seed {}, speed {})",
        args.seed, args.speed
    );
    println!("  global cluster:    {base}/kubernetes/global");
    println!("  workload clusters: {base}/kubernetes/<name>");
    let ep = platform.ssh_nodes().endpoint();
    println!(
        "  SSH nodes:         through the SOCKS5 endpoint {}:{} only",
        ep.host, ep.port
    );
    match &args.kubeconfig_out {
        Some(path) => {
            kubeconfig::write(platform.kubeconfig(), path)?;
            let shown = path.display();
            println!("  kubeconfig:        {shown} (mode 0600; valid while this sandbox runs)");
            let proxy_file = PathBuf::from(format!("{shown}.socks5"));
            let url = zeroize::Zeroizing::new(format!(
                "socks5://{}:{}@{}:{}\n",
                ep.username,
                ep.password.as_str(),
                ep.host,
                ep.port
            ));
            let _ = std::fs::remove_file(&proxy_file);
            crate::engine::files::write_private(&proxy_file, url.as_bytes())
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", proxy_file.display()))?;
            println!(
                "  SSH proxy URL:     {} (mode 0600; the nodes' SOCKS5 endpoint with its password)",
                proxy_file.display()
            );
            println!();
            println!("Try:");
            println!("  KUBECONFIG={shown} kubectl get clusters.platform.tkestack.io -w");
            println!(
                "  KUBECONFIG={shown} kubectl get cls -w -o custom-columns='NAME:.metadata.name,PHASE:.status.phase,STEP:.status.conditions[-1:].type,REASON:.status.conditions[-1:].reason'"
            );
            println!("  KUBECONFIG={shown} kubectl --context prod-east get nodes");
            println!(
                "  KUBECONFIG={shown} kubectl --context {} get clusters.platform.tkestack.io   # read-only user",
                kubeconfig::VIEWER_CONTEXT
            );
            println!("  KUBECONFIG={shown} acp-cockpit");
            println!(
                "  acp-cockpit sandbox draft-manifest > lab.yaml; KUBECONFIG={shown} acp-cockpit preflight -f lab.yaml --proxy \"$(cat {shown}.socks5)\" --accept-new-host-keys"
            );
            println!(
                "  KUBECONFIG={shown} kubectl annotate cls ops-stuck {}-   # fix the stuck cluster",
                crate::sandbox::scenario::BROKEN_STEP
            );
            println!("See `acp-cockpit sandbox serve --help` for every fault you can inject.");
        }
        None => {
            println!();
            println!(
                "No kubeconfig was written. To use kubectl or another tool, restart with --kubeconfig-out PATH, e.g.:"
            );
            println!("  acp-cockpit sandbox serve --kubeconfig-out sandbox.kubeconfig");
        }
    }
    println!();
    println!("Press Ctrl-C to stop.");
    wait_for_stop().await?;
    eprintln!("acp-cockpit sandbox: stopping");
    platform.shutdown().await;
    Ok(0)
}

/// Waits for Ctrl-C (SIGINT) or SIGTERM.
async fn wait_for_stop() -> anyhow::Result<()> {
    use anyhow::Context as _;
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("listening for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("listening for Ctrl-C")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_lists_every_fault_annotation() {
        use crate::sandbox::scenario as sc;
        for key in [
            sc::BROKEN_STEP,
            sc::BROKEN_MESSAGE,
            sc::UNHEALTHY,
            sc::TERMINATE_SECONDS,
            sc::LAGGING_NODE,
            sc::FAILING_NODE,
        ] {
            assert!(FAULTS_HELP.contains(key), "{key}");
        }
        let names: Vec<String> = sc::Scenario::generate(1)
            .clusters
            .iter()
            .map(|c| c.name.clone())
            .collect();
        for n in names {
            assert!(FAULTS_HELP.contains(&n), "{n}");
        }
    }

    #[test]
    fn speed_must_be_positive_and_finite() {
        assert_eq!(parse_speed("20"), Ok(20.0));
        assert_eq!(parse_speed("0.5"), Ok(0.5));
        for bad in ["0", "-1", "inf", "NaN", "fast", "1e9"] {
            let e = parse_speed(bad).expect_err(bad);
            assert!(e.contains("speed factor"), "{e}");
        }
    }
}
