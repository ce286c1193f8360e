//! `acp-cockpit create -f cluster.yaml [--dry-run]`: validate, then create on the platform.
//!
//! The same rules as `validate --platform` run first, with the platform's published versions
//! and its other clusters' nodes, and any error refuses the create before anything is sent.
//! The platform does a server-side dry run before the real create. `--readonly` refuses the
//! real create.

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
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
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
            return Ok(Err(report));
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
        Ok(Err(report)) => {
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
