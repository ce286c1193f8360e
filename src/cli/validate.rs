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
    // Bytes, not a string: a binary file is the manifest's problem, told as such, not a
    // read failure blamed on the path.
    let bytes = if path.as_os_str() == "-" {
        read_bounded(std::io::stdin())
            .map_err(|e| anyhow::anyhow!("cannot read standard input: {e}"))?
    } else {
        std::fs::File::open(path)
            .and_then(read_bounded)
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot read {}: {e}; check the path given with -f",
                    path.display()
                )
            })?
    };
    form::from_yaml_bytes(&bytes).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a usable Cluster manifest: {e}\nhint: {}",
            path.display(),
            e.hint()
        )
    })
}

/// At most one byte more than a manifest may have, so an oversized input is refused as such
/// without being read whole.
fn read_bounded(r: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::Read::read_to_end(&mut r.take(form::MAX_YAML_BYTES as u64 + 1), &mut buf)?;
    Ok(buf)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary file and a second document are the manifest's problems, said plainly with a
    /// fix, not a read failure blamed on the path or the parser's API names.
    #[test]
    fn binary_and_multi_document_manifests_are_named_plainly() {
        let dir = tempfile::tempdir().expect("tempdir");
        let one = "apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata: {name: a}\n";
        let cases: [(&str, Vec<u8>, &str); 2] = [
            (
                "binary",
                vec![0x7f, b'E', b'L', b'F', 0, 0xff, 0xfe],
                "is not text",
            ),
            (
                "two.yaml",
                format!("{one}---\n{one}").into_bytes(),
                "more than one YAML document",
            ),
        ];
        for (name, bytes, want) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).expect("write");
            let err = read_manifest(&path).expect_err("refused").to_string();
            assert!(err.contains(want) && err.contains("hint: "), "{err}");
            for noise in ["check the path", "from_str", "stream did not contain"] {
                assert!(!err.contains(noise), "{noise} in {err}");
            }
        }
    }
}
