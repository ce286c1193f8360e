//! `acp-cockpit preflight -f cluster.yaml` or `--node user@host[:port]`: every node checked
//! over SSH the way the platform will, in parallel, before Create.
//!
//! Exit codes (the project's convention): 0 when every check passes or warns, 1 on any
//! failure, 2 when no check could run (no node reached, or nothing to check).

use std::io::Read as _;
use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use super::GlobalArgs;
use super::output::{Format, out, out_structured};
use super::validate::read_manifest;
use crate::config::Paths;
use crate::domain::preflight::{Requirements, Role};
use crate::engine::preflight::setup::{
    ArchSource, RunSetup, host_key_policy, jobs_from_cluster, jobs_from_specs, password_from,
    prepare,
};
use crate::engine::preflight::{PreflightRequest, Report, run as run_preflight};
use crate::engine::ssh::{DEFAULT_CONCURRENCY, ProxySpec, SshAuth, SshPool, Timeouts};
use crate::present::preflight::{finding_lines, matrix_lines, node_line, summary_line};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NodeRole {
    ControlPlane,
    Worker,
}

#[derive(Debug, ClapArgs)]
#[command(
    after_help = "Reachability is checked from this machine; the platform connects to the \
    nodes from the global cluster, possibly through a proxy, so its path may differ."
)]
pub struct Args {
    /// A Cluster manifest whose machines are checked with the credentials it holds.
    #[arg(
        short = 'f',
        long = "file",
        value_name = "PATH",
        conflicts_with = "node"
    )]
    pub file: Option<PathBuf>,
    /// A node to check, as user@host[:port] (repeatable).
    #[arg(long = "node", value_name = "USER@HOST[:PORT]")]
    pub node: Vec<String>,
    /// Private key file for --node targets (OpenSSH or PEM; a passphrase is read from stdin
    /// with --password-stdin).
    #[arg(long, value_name = "FILE", conflicts_with = "file")]
    pub key: Option<PathBuf>,
    /// Read the SSH password (or, with --key, the key's passphrase) from standard input.
    #[arg(long, conflicts_with = "file")]
    pub password_stdin: bool,
    /// Reach every node through this SOCKS5 proxy: socks5://[user:pass@]host:port.
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Record host keys seen for the first time instead of refusing them. A changed key is
    /// refused regardless.
    #[arg(long)]
    pub accept_new_host_keys: bool,
    /// Check ids (or prefix* patterns) to report as ignored, comma-separated.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// The platform's CPU architecture (x86_64, aarch64); read from the global cluster's
    /// nodes when a platform is connected.
    #[arg(long, value_name = "ARCH")]
    pub arch: Option<String>,
    /// Role of --node targets: control-plane nodes get the port and etcd checks too.
    #[arg(long, value_enum, default_value_t = NodeRole::ControlPlane, conflicts_with = "file")]
    pub role: NodeRole,
    /// How many nodes are connected to at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// Runs the subcommand and returns the exit code.
pub async fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<i32> {
    if args.file.is_none() && args.node.is_empty() {
        eprintln!(
            "acp-cockpit preflight: nothing to check\nhint: pass -f cluster.yaml or --node user@host[:port]"
        );
        return Ok(2);
    }
    let unknown =
        crate::domain::preflight::catalogue::unknown_ids(args.ignore.iter().map(String::as_str));
    if !unknown.is_empty() {
        eprintln!(
            "acp-cockpit preflight: --ignore names no check: {}\nhint: the check ids are listed in the table's CHECK column",
            unknown.join(", ")
        );
        return Ok(2);
    }
    let paths = Paths::resolve()?;
    let platform = Platform::connect(global, args.arch.is_none()).await?;
    let result = check(&args, &paths, &platform).await;
    platform.shutdown().await;
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("acp-cockpit preflight: {e:#}");
            return Ok(2);
        }
    };
    print(&report, args.output)?;
    Ok(report.exit_code)
}

/// The platform the run is judged against, when there is one; in sandbox mode, its proxy.
struct Platform {
    resolved: Option<crate::startup::Resolved>,
}

impl Platform {
    /// A platform is used when one is configured (a kubeconfig, or `--sandbox`); with none, no
    /// sandbox is started, so `--node` targets are reached directly.
    async fn connect(global: &GlobalArgs, want_arch: bool) -> anyhow::Result<Platform> {
        use crate::startup::{KubeconfigLocation, locate_for};
        let configured = global.sandbox || locate_for(global) != KubeconfigLocation::Missing;
        if !configured || !(want_arch || global.sandbox) {
            return Ok(Platform { resolved: None });
        }
        let resolved = crate::startup::resolve(global).await?;
        Ok(Platform {
            resolved: Some(resolved),
        })
    }

    async fn shutdown(self) {
        if let Some(r) = self.resolved {
            r.shutdown().await;
        }
    }
}

async fn check(args: &Args, paths: &Paths, platform: &Platform) -> anyhow::Result<Report> {
    let sandbox_proxy = platform.resolved.as_ref().and_then(|r| r.ssh_proxy.clone());
    let proxy = match (&args.proxy, sandbox_proxy) {
        (Some(p), _) => Some(ProxySpec::parse(p).map_err(|e| anyhow::anyhow!("--proxy: {e}"))?),
        (None, sandbox) => sandbox,
    };
    let mut req = Requirements {
        ignore: args.ignore.clone(),
        ..Requirements::default()
    };
    let nodes = match &args.file {
        Some(file) => {
            let cluster = read_manifest(file)?;
            jobs_from_cluster(&cluster, &mut req, proxy.as_ref())
        }
        None => {
            let auth = auth_from(args)?;
            let role = match args.role {
                NodeRole::ControlPlane => Role::ControlPlane,
                NodeRole::Worker => Role::Worker,
            };
            jobs_from_specs(&args.node, &auth, proxy.as_ref(), role)
        }
    };
    if nodes.is_empty() {
        anyhow::bail!("the manifest lists no machines; add spec.machines[] entries");
    }
    let arch = match (&args.arch, &platform.resolved) {
        (Some(a), _) => ArchSource::Given(a.clone()),
        (None, Some(r)) => ArchSource::Platform {
            context: r.labels.context.clone(),
        },
        (None, None) => ArchSource::Unknown,
    };
    let sandbox = platform
        .resolved
        .as_ref()
        .is_some_and(|r| r.sandbox.is_some())
        && args.proxy.is_none();
    let setup = RunSetup {
        arch,
        config_dir: Some(paths.config_dir.clone()),
        sandbox,
    };
    let kube = platform.resolved.as_ref().map(|r| &r.source);
    for note in prepare(&mut req, &setup, kube).await? {
        eprintln!("note: {note}");
    }
    let pool = SshPool::new(
        host_key_policy(&paths.data_dir, args.accept_new_host_keys, setup.sandbox),
        Timeouts::default(),
        args.concurrency,
    );
    let cancel = CancellationToken::new();
    let request = PreflightRequest {
        nodes,
        requirements: req,
    };
    let total = request.nodes.len();
    let mut done = 0;
    let interactive = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let ctrl_c = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            ctrl_c.cancel();
        }
    });
    let report = run_preflight(&pool, request, &cancel, |n| {
        done += 1;
        if interactive {
            eprintln!("[{done}/{total}] {}", node_line(n));
        }
    })
    .await;
    watcher.abort();
    Ok(report)
}

fn auth_from(args: &Args) -> anyhow::Result<SshAuth> {
    let secret = if args.password_stdin {
        let mut text = Zeroizing::new(String::new());
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| anyhow::anyhow!("cannot read the password from standard input: {e}"))?;
        Some(password_from(&text))
    } else {
        None
    };
    match (&args.key, secret) {
        (Some(path), passphrase) => Ok(SshAuth::KeyFile {
            path: crate::engine::files::expand_home(&path.to_string_lossy()),
            passphrase,
        }),
        (None, Some(pw)) => Ok(SshAuth::Password(pw)),
        (None, None) => anyhow::bail!(
            "--node needs a credential\nhint: pass --key FILE, or --password-stdin and the password on standard input"
        ),
    }
}

fn print(report: &Report, format: Format) -> anyhow::Result<()> {
    if format != Format::Table {
        return out_structured(report, format, false);
    }
    if let Some(a) = &report.platform_arch {
        out(&format!("platform architecture: {a}"))?;
    }
    for line in matrix_lines(report) {
        out(&line)?;
    }
    let findings = finding_lines(report);
    if !findings.is_empty() {
        out("")?;
        for line in findings {
            out(&line)?;
        }
    }
    out("")?;
    let unknown_keys = report.nodes.iter().filter(|n| n.host_key.is_some()).count();
    if unknown_keys > 0 {
        out(&format!(
            "hint: {unknown_keys} node(s) presented a host key seen for the first time; compare \
             the fingerprints above with the nodes' own, then run again with --accept-new-host-keys"
        ))?;
    }
    out(&summary_line(report.nodes.len(), &report.summary))?;
    out(&format!("note: {}", report.note))
}
