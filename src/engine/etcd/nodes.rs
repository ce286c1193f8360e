//! The etcd-encryption-manager's files on each control-plane node, read over SSH on demand.
//!
//! One short script per node reports whether the history backup and the backup directory
//! exist and prints `encryption-provider.conf`. The file's text lands in a zeroized buffer,
//! is parsed into key names and fingerprints, and is wiped; the SSH library's own output
//! buffer is wiped as well. Nothing else of the file leaves this module.
//!
//! How a node is reached is behind [`NodeShell`], so the same reading runs over the engine's
//! SSH pool in production and over any shell in tests.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use zeroize::{Zeroize, Zeroizing};

use crate::domain::cluster::ClusterMachine;
use crate::domain::encryption_config::{self, MAX_FILE_BYTES};
use crate::domain::etcd::EtcdEncryptionConfigSpec;
use crate::domain::etcd::node_files::{Finding, NodeFiles, check_nodes};
use crate::engine::ssh::{ProxySpec, SshAuth, SshPool, SshTarget};

/// Where the manager keeps its files on a real node.
pub const DEFAULT_BASE: &str = "/etc/kubernetes";

/// Runs a script on a node and returns its standard output, or why it could not.
pub trait NodeShell: Send + Sync {
    fn run(
        &self,
        node: &str,
        script: &str,
    ) -> impl Future<Output = Result<Zeroizing<Vec<u8>>, String>> + Send;
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The script that reports on the files under `base`: three status lines, then the file.
pub fn read_script(base: &str) -> String {
    let b = quote(base.trim_end_matches('/'));
    format!(
        "b={b}; if [ -f \"$b/encryption-provider-history.bak\" ]; then echo history=yes; else echo history=no; fi; \
         if [ -d \"$b/encryption-provider-bak\" ]; then echo bakdir=yes; else echo bakdir=no; fi; \
         f=\"$b/encryption-provider.conf\"; if [ -r \"$f\" ]; then echo conf=yes; head -c {} \"$f\"; \
         elif [ -e \"$f\" ]; then echo conf=unreadable; else echo conf=missing; fi",
        MAX_FILE_BYTES + 1
    )
}

/// Makes sense of the script's output. The buffer is wiped by the caller.
pub fn files_from_output(out: &[u8]) -> Result<NodeFiles, String> {
    let mut parts = out.splitn(4, |b| *b == b'\n');
    let mut flag = |name: &str| -> Result<String, String> {
        let line = parts.next().unwrap_or_default();
        let line = std::str::from_utf8(line).unwrap_or("");
        line.strip_prefix(&format!("{name}="))
            .map(str::to_string)
            .ok_or_else(|| {
                "the node's shell did not run the check script (is it a POSIX shell?)".to_string()
            })
    };
    let history = flag("history")? == "yes";
    let bakdir = flag("bakdir")? == "yes";
    let conf = flag("conf")?;
    let body = parts.next().unwrap_or_default();
    let config = match conf.as_str() {
        "yes" => {
            let text = Zeroizing::new(String::from_utf8_lossy(body).into_owned());
            encryption_config::parse(&text).map_err(|e| e.to_string())
        }
        "unreadable" => Err("exists but this login cannot read it (log in as root)".to_string()),
        _ => Err("does not exist".to_string()),
    };
    Ok(NodeFiles {
        config,
        history_exists: history,
        backup_dir_exists: bakdir,
    })
}

/// Reads one node's files.
pub async fn inspect_node(
    shell: &impl NodeShell,
    node: &str,
    base: &str,
) -> Result<NodeFiles, String> {
    let mut out = shell.run(node, &read_script(base)).await?;
    let files = files_from_output(&out);
    out.zeroize();
    files
}

/// One node's answer: its findings, or why it was not checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeReport {
    pub node: String,
    /// Why the node was not checked (no credentials, unreachable, not a POSIX shell).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Key names and fingerprints of the active provider, newest first.
    pub keys: Vec<encryption_config::KeyInfo>,
    pub findings: Vec<Finding>,
}

impl NodeReport {
    /// A node that was checked and drifted.
    pub fn drifted(&self) -> bool {
        !self.findings.is_empty()
    }
}

/// Reads every node (at most `cap` at once) and checks them against the spec, the revision
/// and each other. `skipped` nodes (no credentials) are reported without being contacted.
pub async fn inspect(
    shell: &impl NodeShell,
    nodes: &[String],
    skipped: &BTreeMap<String, String>,
    base: &str,
    spec: &EtcdEncryptionConfigSpec,
    revision: i64,
    cap: usize,
) -> Vec<NodeReport> {
    let todo: Vec<String> = nodes
        .iter()
        .filter(|n| !skipped.contains_key(n.as_str()))
        .cloned()
        .collect();
    let reads = todo.into_iter().map(|n| async move {
        let r = inspect_node(shell, &n, base).await;
        (n, r)
    });
    let answers: Vec<(String, Result<NodeFiles, String>)> = futures::stream::iter(reads)
        .buffer_unordered(cap.max(1))
        .collect()
        .await;
    let read: Vec<(String, NodeFiles)> = answers
        .iter()
        .filter_map(|(n, r)| r.as_ref().ok().map(|f| (n.clone(), f.clone())))
        .collect();
    let mut findings = check_nodes(spec, revision, &read);
    nodes
        .iter()
        .map(|node| {
            let answer = answers.iter().find(|(n, _)| n == node).map(|(_, r)| r);
            let skipped = match (skipped.get(node), answer) {
                (Some(why), _) => Some(why.clone()),
                (None, Some(Err(why))) => Some(why.clone()),
                (None, None) => Some("not read".to_string()),
                (None, Some(Ok(_))) => None,
            };
            let keys = match answer {
                Some(Ok(f)) => crate::domain::etcd::node_files::key_list(f).unwrap_or_default(),
                _ => Vec::new(),
            };
            NodeReport {
                node: node.clone(),
                skipped,
                keys,
                findings: findings.remove(node).unwrap_or_default(),
            }
        })
        .collect()
}

/// Nodes reached over the engine's SSH pool.
pub struct SshShell {
    pub pool: SshPool,
    pub targets: BTreeMap<String, SshTarget>,
    pub cancel: CancellationToken,
}

impl NodeShell for SshShell {
    async fn run(&self, node: &str, script: &str) -> Result<Zeroizing<Vec<u8>>, String> {
        let target = self
            .targets
            .get(node)
            .ok_or_else(|| format!("no SSH login known for {node}"))?;
        let script = Arc::new(script.to_string());
        self.pool
            .with_session(target, &self.cancel, |s| async move {
                let mut out = s.run(&script, None).await?;
                let stdout = Zeroizing::new(std::mem::take(&mut out.stdout));
                Ok((stdout, out.stdout_truncated, out.exit))
            })
            .await
            .map_err(|f| f.to_string())
            .and_then(|(stdout, truncated, exit)| {
                if truncated {
                    return Err("the node printed more than a config file holds".to_string());
                }
                if exit != Some(0) {
                    return Err(format!("the check script ended with {exit:?}"));
                }
                Ok(stdout)
            })
    }
}

/// SSH logins for the control-plane `nodes`: the Cluster's machine entry for the node, as
/// the platform itself logs in; else `fallback` (the user's key); else the reason it is
/// skipped. The machines' base64 secrets are wiped once read.
pub fn targets_for(
    nodes: &[String],
    machines: &mut [ClusterMachine],
    fallback: Option<&SshAuth>,
) -> (BTreeMap<String, SshTarget>, BTreeMap<String, String>) {
    let mut targets = BTreeMap::new();
    let mut skipped = BTreeMap::new();
    for node in nodes {
        let machine = machines
            .iter()
            .find(|m| &m.ip == node || m.ssh_address() == node);
        let target = match (machine, fallback) {
            (Some(m), fb) => match SshTarget::from_machine(m) {
                Ok(t) => Ok(t),
                Err(e) => match fb {
                    Some(auth) => Ok(fallback_target(node, Some(m), auth)),
                    None => Err(format!("the Cluster's machine entry cannot be used: {e}")),
                },
            },
            (None, Some(auth)) => Ok(fallback_target(node, None, auth)),
            (None, None) => Err(format!(
                "{node} is not among the Cluster's machines and no key was given (--ssh-key)"
            )),
        };
        match target {
            Ok(t) => {
                targets.insert(node.clone(), t);
            }
            Err(why) => {
                skipped.insert(node.clone(), why);
            }
        }
    }
    for m in machines.iter_mut() {
        for s in [&mut m.password, &mut m.private_key, &mut m.pass_phrase]
            .into_iter()
            .flatten()
        {
            s.zeroize();
        }
    }
    (targets, skipped)
}

fn fallback_target(node: &str, m: Option<&ClusterMachine>, auth: &SshAuth) -> SshTarget {
    let port = m
        .and_then(|m| u16::try_from(m.port).ok())
        .filter(|p| *p != 0)
        .unwrap_or(22);
    let user = m
        .map(|m| m.username.trim())
        .filter(|u| !u.is_empty())
        .unwrap_or("root");
    SshTarget {
        host: m
            .map(|m| m.ssh_address().to_string())
            .unwrap_or_else(|| node.to_string()),
        port,
        user: user.to_string(),
        auth: auth.clone(),
        proxy: None,
    }
}

/// The host keys node files are read under: a real node's must already be known (the
/// cockpit never asks mid-inspection); the sandbox's simulated nodes are trusted on first use
/// into the sandbox's own known_hosts, never next to real nodes' keys.
pub fn host_key_policy(
    data_dir: &std::path::Path,
    sandbox: bool,
) -> crate::engine::ssh::HostKeyPolicy {
    crate::engine::preflight::setup::host_key_policy(data_dir, sandbox, sandbox)
}

/// How the CLI and the pane ask for a cluster's node files.
pub struct InspectRequest<'a> {
    pub context: &'a str,
    pub cluster: &'a str,
    pub config: &'a crate::domain::etcd::EtcdEncryptionConfig,
    /// The user's key, used where the Cluster's machine entry has no usable login.
    pub fallback: Option<&'a SshAuth>,
    /// Where the files are; [`DEFAULT_BASE`] on a real node.
    pub base: &'a str,
    /// The SOCKS5 proxy every node is reached through (the sandbox's, whose nodes have no
    /// route of their own).
    pub proxy: Option<&'a ProxySpec>,
}

/// The control-plane nodes of a cluster: those the manager reports, then control-plane
/// machines it does not (yet) name.
pub fn control_plane_nodes(
    cfg: &crate::domain::etcd::EtcdEncryptionConfig,
    machines: &[ClusterMachine],
) -> Vec<String> {
    let mut nodes: Vec<String> = cfg
        .status
        .as_ref()
        .map(|s| s.deploy_status.keys().cloned().collect())
        .unwrap_or_default();
    for m in machines.iter().filter(|m| m.is_control_plane()) {
        if !m.ip.is_empty() && !nodes.contains(&m.ip) {
            nodes.push(m.ip.clone());
        }
    }
    nodes
}

/// Reads the node files of a cluster: the logins come from the platform's Cluster object (read
/// unmasked here, and wiped once the logins are built), the reading goes through `ssh`.
pub async fn inspect_cluster(
    kube: &crate::engine::kube::ClientPool,
    ssh: &SshPool,
    req: InspectRequest<'_>,
    cancel: &CancellationToken,
) -> Result<Vec<NodeReport>, crate::engine::kube::KubeFailure> {
    use crate::engine::kube::KubeFailure;
    let client = kube.platform(req.context).await?;
    let api: kube::Api<crate::domain::cluster::Cluster> = kube::Api::all(client);
    let mut cluster = api.get(req.cluster).await.map_err(|e| {
        KubeFailure::from_kube(
            &e,
            &format!("get cluster {} for its SSH logins", req.cluster),
        )
    })?;
    let nodes = control_plane_nodes(req.config, &cluster.spec.machines);
    let (mut targets, skipped) = targets_for(&nodes, &mut cluster.spec.machines, req.fallback);
    if let Some(proxy) = req.proxy {
        for t in targets.values_mut() {
            t.proxy = Some(proxy.clone());
        }
    }
    for m in cluster.spec.scaling_machines.iter_mut() {
        for s in [&mut m.password, &mut m.private_key, &mut m.pass_phrase]
            .into_iter()
            .flatten()
        {
            s.zeroize();
        }
    }
    drop(cluster);
    let shell = SshShell {
        pool: ssh.clone(),
        targets,
        cancel: cancel.clone(),
    };
    let st = req.config.status.clone().unwrap_or_default();
    Ok(inspect(
        &shell,
        &nodes,
        &skipped,
        req.base,
        &req.config.spec,
        st.revision,
        crate::engine::ssh::DEFAULT_CONCURRENCY,
    )
    .await)
}

#[cfg(test)]
mod tests;
