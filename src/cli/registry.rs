//! `acp-cockpit registry check`: the registry checklist for a namespace and image, a pod or a
//! deployment. Exit code 0 when nothing failed, 1 when a check failed, 2 when the checks could
//! not run (no platform, no such pod, a bad image reference).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};
use serde::Serialize;

use super::GlobalArgs;
use super::output::{Format, out, out_structured};
use crate::domain::registry::catalogue::exit_code;
use crate::domain::registry::{CheckResult, ImageRef};
use crate::engine::CHANNEL_CAPACITY;
use crate::engine::kube::{KubeSource, ops};
use crate::engine::registry::battery::{self, Options};
use crate::engine::registry::inputs::{self, Inputs, Request};
use crate::engine::registry::node_targets;
use crate::engine::ssh::{
    DEFAULT_CONCURRENCY, HostKeyPolicy, ProxySpec, SshAuth, SshPool, SshTarget, Timeouts,
};
use crate::present::registry::{details, line, tally};

/// Exit code when the checks could not run at all.
pub const EXIT_NOT_RUN: i32 = 2;

#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run every registry check for an image, a pod or a deployment.
    Check(CheckArgs),
}

#[derive(Debug, ClapArgs)]
pub struct CheckArgs {
    /// Workload cluster the workload runs in (default: global).
    #[arg(long)]
    pub cluster: Option<String>,
    /// Namespace of the workload.
    #[arg(long, short = 'n', default_value = "default")]
    pub namespace: String,
    /// Image: a full reference, or <app>:<tag> on the built-in registry in the namespace.
    #[arg(long, conflicts_with_all = ["pod", "deployment"])]
    pub image: Option<String>,
    /// A pod whose images, pull secrets, service account and Events are checked.
    #[arg(long, conflicts_with = "deployment")]
    pub pod: Option<String>,
    /// A deployment whose pod template and pods are checked.
    #[arg(long)]
    pub deployment: Option<String>,
    /// Also check this user's pull rights.
    #[arg(long = "as")]
    pub as_user: Option<String>,
    /// Dial this address for the registry instead of resolving its name.
    #[arg(long)]
    pub registry_address: Option<SocketAddr>,
    /// PEM file of the CA that signed the registry certificate (the platform CA).
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Ask every node of the cluster over SSH as this user (resolution and /etc/hosts).
    #[arg(long, requires = "node_key")]
    pub node_user: Option<String>,
    /// Private key file for --node-user; host keys must already be known.
    #[arg(long, requires = "node_user")]
    pub node_key: Option<PathBuf>,
    /// Seconds each check may take.
    #[arg(long, default_value_t = 5)]
    pub timeout: u64,
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// How the sandbox's simulated nodes are reached: only through its SOCKS5 endpoint on
/// loopback, with their host keys in the sandbox's own known_hosts under `data_dir`.
#[derive(Debug, Clone)]
pub struct SandboxNodes {
    pub proxy: ProxySpec,
    pub data_dir: PathBuf,
}

/// What `-o json|yaml` prints.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub cluster: String,
    pub namespace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRef>,
    pub service_account: String,
    pub results: Vec<CheckResult>,
}

pub async fn run(args: Args, global: &GlobalArgs) -> anyhow::Result<i32> {
    let Command::Check(a) = args.command;
    let resolved = crate::startup::resolve(global).await?;
    // On the sandbox the registry is reached on loopback, never at its Service address.
    let via = resolved
        .sandbox
        .as_ref()
        .map(|s| (s.registry().0, s.registry().1.to_string()));
    let nodes = match (&resolved.sandbox, &resolved.ssh_proxy) {
        (Some(_), Some(proxy)) => Some(SandboxNodes {
            proxy: proxy.clone(),
            data_dir: crate::config::Paths::resolve()?.data_dir,
        }),
        _ => None,
    };
    let code = match check_on(&a, &resolved.source, via, nodes).await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("acp-cockpit registry: {e:#}");
            EXIT_NOT_RUN
        }
    };
    resolved.shutdown().await;
    Ok(code)
}

/// The command on a platform source; `via` is a registry address to dial and the CA it chains
/// to (the sandbox's loopback endpoint), `sandbox` how the sandbox's nodes are reached. Public
/// so tests can run it against the sandbox.
pub async fn check_on(
    a: &CheckArgs,
    source: &KubeSource,
    via: Option<(SocketAddr, String)>,
    sandbox: Option<SandboxNodes>,
) -> anyhow::Result<i32> {
    let conn = ops::connect(source).await?;
    let cluster = a.cluster.clone().unwrap_or_else(|| "global".to_string());
    let client = if cluster == "global" {
        conn.client.clone()
    } else {
        conn.pool.workload(&conn.context, &cluster).await?
    };
    let req = Request {
        namespace: a.namespace.clone(),
        image: a.image.clone(),
        pod: a.pod.clone(),
        deployment: a.deployment.clone(),
        user: a.as_user.clone(),
    };
    let inputs = inputs::resolve(&client, &req).await?;
    let mut opts = Options::new(chrono::Utc::now().timestamp());
    opts.step_timeout = Duration::from_secs(a.timeout.max(1));
    opts.connect = a.registry_address.or(via.as_ref().map(|v| v.0));
    if let Some((_, ca)) = &via {
        opts.trust.extra_ca_pem = ca.clone().into_bytes();
    }
    opts.global = Some(conn.client.clone());
    if let Some(p) = &a.ca {
        let pem = crate::engine::files::read_text(p, 1 << 20)?;
        opts.trust.extra_ca_pem = pem.0.as_bytes().to_vec();
    }
    if let Some(sb) = &sandbox {
        let notes = node_targets::attach_sandbox_nodes(
            &mut opts,
            &conn.client,
            &client,
            &cluster,
            &sb.proxy,
            &sb.data_dir,
        )
        .await;
        for n in notes {
            eprintln!("note: {n}");
        }
    } else if let (Some(user), Some(key), None) = (&a.node_user, &a.node_key, &via) {
        // The sandbox's nodes have private addresses: they are never dialled from here.
        opts.nodes = node_targets(&client, user, key).await?;
        opts.ssh = Some(SshPool::new(
            HostKeyPolicy::in_data_dir(&crate::config::Paths::resolve()?.data_dir, false),
            Timeouts::default(),
            DEFAULT_CONCURRENCY,
        ));
    }
    let table = a.output == Format::Table;
    if table {
        for l in header(&cluster, &inputs) {
            out(&l)?;
        }
    }
    let results = collect(&client, &inputs, &opts, table).await?;
    if table {
        out(&tally(&results))?;
    } else {
        let report = Report {
            cluster,
            namespace: inputs.namespace.clone(),
            subject: inputs.subject.clone(),
            image: battery::chosen_image(&inputs).cloned(),
            service_account: inputs.service_account.clone(),
            results: results.clone(),
        };
        out_structured(&report, a.output, false)?;
    }
    Ok(exit_code(&results))
}

/// Every node's InternalIP as an SSH target.
async fn node_targets(
    client: &kube::Client,
    user: &str,
    key: &std::path::Path,
) -> anyhow::Result<Vec<(String, SshTarget)>> {
    let nodes = kube::Api::<k8s_openapi::api::core::v1::Node>::all(client.clone())
        .list(&kube::api::ListParams::default().limit(500))
        .await?;
    Ok(nodes
        .items
        .into_iter()
        .filter_map(|n| {
            let name = n.metadata.name?;
            let ip = n
                .status?
                .addresses?
                .into_iter()
                .find(|a| a.type_ == "InternalIP")?
                .address;
            let target = SshTarget {
                host: ip,
                port: 22,
                user: user.to_string(),
                auth: SshAuth::KeyFile {
                    path: key.to_path_buf(),
                    passphrase: None,
                },
                proxy: None,
            };
            Some((name, target))
        })
        .collect())
}

fn header(cluster: &str, i: &Inputs) -> Vec<String> {
    let image = battery::chosen_image(i).map_or("-".to_string(), ToString::to_string);
    let mut v = vec![format!(
        "cluster {cluster}   namespace {}   service account {}   image {image}",
        i.namespace, i.service_account
    )];
    if let Some(s) = &i.subject {
        v.push(format!("from {s}"));
    }
    v
}

/// Runs the battery, printing each result as it finishes when `stream`, and returns them in
/// catalogue order.
async fn collect(
    client: &kube::Client,
    inputs: &Inputs,
    opts: &Options,
    stream: bool,
) -> anyhow::Result<Vec<CheckResult>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(CHANNEL_CAPACITY);
    let work = async move { battery::run(client, inputs, opts, &tx).await };
    let mut results = Vec::new();
    let printer = async {
        while let Some(r) = rx.recv().await {
            if stream {
                out(&line(&r))?;
                for d in details(&r) {
                    out(&d)?;
                }
            }
            results.push(r);
        }
        anyhow::Ok(())
    };
    let ((), printed) = tokio::join!(work, printer);
    printed?;
    results.sort_by_key(|r| r.id);
    Ok(results)
}
