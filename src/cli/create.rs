//! `acp-cockpit create -f cluster.yaml [--dry-run]`: validate, then create on the platform.
//!
//! The same rules as `validate --platform` run first, with the platform's published versions
//! and its other clusters' nodes, and any error refuses the create before anything is sent.
//! The platform does a server-side dry run before the real create. The real create passes the
//! same safety gate as the TUI's: `--readonly` refuses it, the platform's RBAC is asked first (a
//! SelfSubjectAccessReview), and at a terminal the user confirms (default No) unless `--yes`;
//! without a terminal `--yes` is required, so a script never creates by accident.

use std::path::PathBuf;

use clap::Args as ClapArgs;
use serde::Serialize;

use super::GlobalArgs;
use super::output::{Format, print_structured};
use super::validate::{platform_context, print_findings, read_manifest, report_with};
use crate::engine::kube::{ClientPool, ops};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The Cluster manifest (YAML or JSON); `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub file: PathBuf,
    /// Only ask the platform to check the cluster (server-side dry run); nothing is created.
    #[arg(long)]
    pub dry_run: bool,
    /// Create without asking; required when standard input is not a terminal.
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// Why the gate stopped a create before anything was sent.
#[derive(Debug)]
enum Stopped {
    Findings(super::validate::Report),
    Denied(String),
    NotConfirmed(&'static str),
}

/// Asks on the terminal; anything but y/yes is No.
async fn confirm(question: String) -> bool {
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).is_ok()
            && matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
    })
    .await
    .unwrap_or(false)
}

/// The gate's RBAC and confirmation steps for a real create.
async fn gate(
    client: &kube::Client,
    args: &Args,
    name: &str,
    platform: &str,
) -> Result<(), Stopped> {
    let access = crate::engine::kube::Access {
        verb: "create".into(),
        group: crate::domain::cluster::GROUP.into(),
        resource: "clusters".into(),
        namespace: None,
        name: None,
    };
    match ops::check_access(client, &access).await {
        Ok(d) if !d.allowed => return Err(Stopped::Denied(d.reason)),
        Ok(_) => {}
        // The platform still enforces RBAC on the create itself.
        Err(e) => eprintln!("acp-cockpit: could not check permission first ({e}); going on"),
    }
    if args.yes {
        return Ok(());
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(Stopped::NotConfirmed(
            "standard input is not a terminal, so nobody can confirm; pass --yes to create \
             without asking",
        ));
    }
    if confirm(format!("Create cluster {name} on platform {platform}?")).await {
        Ok(())
    } else {
        Err(Stopped::NotConfirmed("cancelled; nothing was created"))
    }
}

#[derive(Debug, Serialize)]
struct Outcome {
    name: String,
    platform: String,
    dry_run: bool,
    created: bool,
    message: String,
}

pub async fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<i32> {
    let cluster = match read_manifest(&args.file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("acp-cockpit: {e:#}");
            return Ok(1);
        }
    };
    if global.readonly && !args.dry_run {
        eprintln!(
            "acp-cockpit: not creating: --readonly refuses every write; drop --readonly, or use --dry-run to only check"
        );
        return Ok(1);
    }
    let name = cluster.metadata.name.clone().unwrap_or_default();
    let resolved = crate::startup::resolve(global).await?;
    let platform = resolved.labels.platform.clone();
    let context = resolved.labels.context.clone();
    // The embedded sandbox lives only as long as this command, so a cluster created on it
    // cannot be followed afterwards; the message must not suggest otherwise.
    let embedded = resolved.sandbox.is_some();
    let result = async {
        let pool = ClientPool::new(&resolved.source).map_err(|e| anyhow::anyhow!("{e}"))?;
        let client = pool
            .platform(&context)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        // The rules judge with what the platform knows, so a version it does not offer or a
        // node another cluster owns is refused here, with a hint, before any request writes.
        let ctx = platform_context(&client, &cluster).await;
        let report = report_with(&args.file, &cluster, &ctx);
        if !report.valid {
            return Ok(Err(Stopped::Findings(report)));
        }
        if !args.dry_run
            && let Err(stop) = gate(&client, &args, &name, &platform).await
        {
            return Ok(Err(stop));
        }
        ops::create_cluster(&client, &cluster, args.dry_run)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::Ok(Ok(report))
    }
    .await;
    resolved.shutdown().await;
    let report = match result {
        Ok(Ok(report)) => report,
        Ok(Err(Stopped::Denied(reason))) => {
            eprintln!(
                "acp-cockpit: not creating: the platform does not allow you to create clusters{}\nhint: ask an administrator for create on clusters.platform.tkestack.io, or use a context that has it",
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({reason})")
                }
            );
            return Ok(super::exit::CANNOT_CHECK);
        }
        Ok(Err(Stopped::NotConfirmed(why))) => {
            eprintln!("acp-cockpit: not creating cluster {name}: {why}");
            return Ok(super::exit::CANNOT_CHECK);
        }
        Ok(Err(Stopped::Findings(report))) => {
            match args.output {
                Format::Table => {
                    print_findings(&report.findings);
                    eprintln!(
                        "acp-cockpit: not creating: {} error(s) in {}; fix them (`acp-cockpit validate --platform -f {}` lists them)",
                        report.errors, report.file, report.file
                    );
                }
                f => print_structured(&report, f)?,
            }
            return Ok(1);
        }
        Err(e) => {
            eprintln!("acp-cockpit: the platform refused cluster {name}: {e:#}");
            return Ok(1);
        }
    };
    let outcome = Outcome {
        message: match (args.dry_run, embedded) {
            (true, _) => {
                format!("the platform accepted cluster {name} (dry run; nothing was created)")
            }
            (false, false) => format!(
                "cluster {name} is being created; follow it with `acp-cockpit timeline {name}`"
            ),
            (false, true) => format!(
                "cluster {name} is being created on the embedded sandbox, which stops with this \
                     command, so there is nothing left to follow; to keep a sandbox running, start \
                     `acp-cockpit sandbox serve --kubeconfig-out sandbox.kubeconfig` and run \
                     `KUBECONFIG=sandbox.kubeconfig acp-cockpit create -f {}`",
                args.file.display()
            ),
        },
        name,
        platform,
        dry_run: args.dry_run,
        created: !args.dry_run,
    };
    match args.output {
        Format::Table => {
            use crate::domain::rules::Severity;
            for f in &report.findings {
                // The same labels `validate` prints, so an info is not read as a warning.
                let label = match f.severity {
                    Severity::Error => continue,
                    Severity::Warning => "warning",
                    Severity::Info => "info",
                };
                eprintln!("{label}: {}: {}", f.field, f.message);
            }
            println!("{} (platform {})", outcome.message, outcome.platform);
        }
        f => print_structured(&outcome, f)?,
    }
    Ok(0)
}
