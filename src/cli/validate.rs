//! `acp-cockpit validate -f cluster.yaml [--platform]`: every creation rule, without a
//! platform unless `--platform` asks to judge with its published versions and the nodes of
//! its other clusters.
//!
//! Exit codes: 0 when there is no error (warnings allowed), 1 when any rule reports an error
//! or the file cannot be read as a Cluster.

use std::path::{Path, PathBuf};

use clap::Args as ClapArgs;
use serde::Serialize;

use super::GlobalArgs;
use super::output::{Format, print_structured};
use crate::domain::cluster::Cluster;
use crate::domain::form;
use crate::domain::rules::{self, Finding, RuleContext, Severity};
use crate::engine::kube::{ClientPool, platform_facts};

#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The Cluster manifest (YAML or JSON); `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub file: PathBuf,
    /// Also check against the platform: the Kubernetes versions it publishes and the node
    /// addresses its other clusters use. Without it nothing is sent anywhere.
    #[arg(long)]
    pub platform: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// The machine-readable report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub file: String,
    /// `false` when any finding is an error.
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    pub findings: Vec<Finding>,
}

/// Reads a manifest; the error names the file and, for YAML, the line and column.
pub fn read_manifest(path: &Path) -> anyhow::Result<Cluster> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?
    } else {
        std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {}: {e}; check the path given with -f",
                path.display()
            )
        })?
    };
    form::from_yaml(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a usable Cluster manifest: {e}\nhint: fix the file at the place named \
             above; it must hold one platform.tkestack.io/v1 Cluster (YAML or JSON), and the \
             Create pane's Review shows a valid one to start from",
            path.display()
        )
    })
}

/// Runs every rule over a manifest, knowing nothing of the platform.
pub fn report_for(path: &Path, cluster: &Cluster) -> Report {
    report_with(path, cluster, &RuleContext::default())
}

/// Runs every rule over a manifest with what is known of the platform.
pub fn report_with(path: &Path, cluster: &Cluster, ctx: &RuleContext) -> Report {
    let findings = rules::check_cluster(cluster, ctx);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    Report {
        file: path.display().to_string(),
        valid: errors == 0,
        errors,
        warnings,
        findings,
    }
}

/// Prints findings as a table: severity, field, message, hint.
pub fn print_findings(findings: &[Finding]) {
    let fw = findings
        .iter()
        .map(|f| f.field.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 48);
    for f in findings {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        println!("{sev:<8} {:<fw$}  {}", f.field, f.message);
        if !f.hint.is_empty() {
            println!("{:<8} {:<fw$}  hint: {}", "", "", f.hint);
        }
    }
}

/// The rule context for creating `cluster` on a connected platform, read from `global`.
/// Facts that cannot be read are reported on stderr and left at their defaults, since the
/// platform checks again when the cluster is created.
pub async fn platform_context(client: &kube::Client, cluster: &Cluster) -> RuleContext {
    let facts = platform_facts::fetch(client).await;
    for note in &facts.notes {
        eprintln!("acp-cockpit: note: {note}");
    }
    facts.rule_context(cluster.metadata.name.as_deref().unwrap_or_default())
}

pub async fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<i32> {
    let cluster = match read_manifest(&args.file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("acp-cockpit: {e:#}");
            return Ok(1);
        }
    };
    let ctx = if args.platform {
        let resolved = crate::startup::resolve(global).await?;
        let context = resolved.labels.context.clone();
        let ctx = async {
            let pool = ClientPool::new(&resolved.source).map_err(|e| anyhow::anyhow!("{e}"))?;
            let client = pool
                .platform(&context)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            anyhow::Ok(platform_context(&client, &cluster).await)
        }
        .await;
        resolved.shutdown().await;
        match ctx {
            Ok(ctx) => ctx,
            Err(e) => {
                eprintln!(
                    "acp-cockpit: cannot reach the platform to check against it: {e:#}\n\
                     hint: check --kubeconfig / --context, or drop --platform to validate offline"
                );
                return Ok(1);
            }
        }
    } else {
        RuleContext::default()
    };
    let report = report_with(&args.file, &cluster, &ctx);
    match args.output {
        Format::Table => {
            print_findings(&report.findings);
            println!(
                "{}: {} error(s), {} warning(s){}",
                report.file,
                report.errors,
                report.warnings,
                if report.valid {
                    "; ready to create"
                } else {
                    "; fix the errors before creating"
                }
            );
        }
        f => print_structured(&report, f)?,
    }
    Ok(if report.valid { 0 } else { 1 })
}
