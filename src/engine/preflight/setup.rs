//! What a run is held against and whom it reaches: the platform's architecture, the user's
//! support-matrix override, and node jobs from a manifest or from `user@host[:port]` specs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use zeroize::Zeroizing;

use super::NodeJob;
use crate::domain::cluster::Cluster;
use crate::domain::network::parse_ip;
use crate::domain::preflight::from_cluster::{apply_cluster_settings, node_inputs};
use crate::domain::preflight::matrix::normalize_arch;
use crate::domain::preflight::{NodeInput, Requirements, Role, SupportMatrix};
use crate::engine::kube::{ClientPool, KubeSource};
use crate::engine::ssh::{
    FailureKind, HostKeyPolicy, ProxySpec, SshAuth, SshFailure, SshTarget, Stage,
};
use crate::engine::{Failure, FailureKind as Kind};

/// The user's override of the shipped support matrix, in the config directory.
pub const MATRIX_FILE: &str = "preflight-matrix.toml";

/// A matrix override larger than this is not a matrix.
const MATRIX_LIMIT: u64 = 1024 * 1024;

/// Where the platform's architecture comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchSource {
    /// The user said so (`--arch`).
    Given(String),
    /// Read from the global cluster's nodes through this kubeconfig context.
    Platform { context: String },
    /// No platform: the architecture check reports it cannot compare.
    Unknown,
}

/// How to finish the requirements before a run.
#[derive(Debug, Clone)]
pub struct RunSetup {
    pub arch: ArchSource,
    /// The config directory holding [`MATRIX_FILE`], when there is one.
    pub config_dir: Option<PathBuf>,
    /// The nodes are the sandbox's: their host keys go to [`SANDBOX_KNOWN_HOSTS`], never
    /// next to real nodes' keys (a real node may later have a sandbox node's address).
    pub sandbox: bool,
}

/// The known_hosts file for the sandbox's simulated nodes, in the data directory.
pub const SANDBOX_KNOWN_HOSTS: &str = "known_hosts.sandbox";

/// The host-key policy for a run: the usual files, or the sandbox's own file alone.
pub fn host_key_policy(data_dir: &Path, accept_new: bool, sandbox: bool) -> HostKeyPolicy {
    if sandbox {
        HostKeyPolicy {
            own: data_dir.join(SANDBOX_KNOWN_HOSTS),
            user: None,
            accept_new,
        }
    } else {
        HostKeyPolicy::in_data_dir(data_dir, accept_new)
    }
}

/// Sets the platform architecture and merges the matrix override into `req`. Returns notes
/// for what could not be read (the run goes on without it), or a failure for a broken
/// override file, which the user must fix rather than have silently ignored.
pub async fn prepare(
    req: &mut Requirements,
    setup: &RunSetup,
    kube: Option<&KubeSource>,
) -> Result<Vec<String>, Failure> {
    let mut notes = Vec::new();
    if let Some(dir) = &setup.config_dir {
        req.matrix = merged_matrix(&req.matrix, &dir.join(MATRIX_FILE)).await?;
    }
    match &setup.arch {
        ArchSource::Given(a) => req.platform_arch = Some(normalize_arch(a)),
        ArchSource::Unknown => {}
        ArchSource::Platform { context } => match kube {
            None => notes.push("no platform connected: the architecture is not compared".into()),
            Some(source) => match platform_arch(source, context).await {
                Ok(Some(a)) => req.platform_arch = Some(a),
                Ok(None) => notes.push(
                    "the global cluster reports no node architecture; pass --arch to compare"
                        .into(),
                ),
                Err(e) => notes.push(format!(
                    "cannot read the platform's architecture ({e}); pass --arch to compare"
                )),
            },
        },
    }
    Ok(notes)
}

async fn merged_matrix(base: &SupportMatrix, path: &Path) -> Result<SupportMatrix, Failure> {
    let text = match tokio::fs::metadata(path).await {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(base.clone()),
        Err(e) => return Err(matrix_io(path, &e)),
        Ok(m) if m.len() > MATRIX_LIMIT => {
            return Err(Failure::new(
                Kind::Invalid,
                format!("{} is larger than {MATRIX_LIMIT} bytes", path.display()),
                Some("the support-matrix override lists a few operating systems; check the file"),
            ));
        }
        Ok(_) => tokio::fs::read_to_string(path)
            .await
            .map_err(|e| matrix_io(path, &e))?,
    };
    base.merged_with(&text, &path.display().to_string())
        .map_err(|e| {
            Failure::new(
                Kind::Invalid,
                e.to_string(),
                Some("fix the override file, or move it away to use the shipped matrix"),
            )
        })
}

fn matrix_io(path: &Path, e: &std::io::Error) -> Failure {
    Failure::new(
        Kind::Io,
        format!("cannot read {}: {e}", path.display()),
        Some("check the file's permissions, or remove it to use the shipped matrix"),
    )
}

/// The most common architecture of the global cluster's nodes, normalised (`amd64` ->
/// `x86_64`), or `None` when no node reports one.
pub async fn platform_arch(source: &KubeSource, context: &str) -> Result<Option<String>, String> {
    let pool = ClientPool::new(source).map_err(|e| e.to_string())?;
    let client = pool.platform(context).await.map_err(|e| e.to_string())?;
    let api: Api<Node> = Api::all(client);
    let lp = ListParams::default().limit(500);
    let list = tokio::time::timeout(std::time::Duration::from_secs(15), api.list(&lp))
        .await
        .map_err(|_| "listing the global cluster's nodes took over 15 s".to_string())?
        .map_err(|e| format!("cannot list the global cluster's nodes: {e}"))?;
    Ok(most_common_arch(list.items.iter().filter_map(|n| {
        n.status
            .as_ref()?
            .node_info
            .as_ref()
            .map(|i| i.architecture.clone())
    })))
}

pub fn most_common_arch(arches: impl Iterator<Item = String>) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for a in arches.filter(|a| !a.trim().is_empty()) {
        *counts.entry(normalize_arch(&a)).or_default() += 1;
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(a, _)| a)
}

/// One job per machine of the manifest, with the cluster's settings applied to `req`. A
/// `proxy` given here replaces every machine's own (the sandbox, or `--proxy`).
pub fn jobs_from_cluster(
    cluster: &Cluster,
    req: &mut Requirements,
    proxy: Option<&ProxySpec>,
) -> Vec<NodeJob> {
    apply_cluster_settings(req, cluster);
    node_inputs(cluster)
        .into_iter()
        .zip(cluster.spec.machines.iter())
        .map(|(input, m)| {
            let target = SshTarget::from_machine(m).map(|mut t| {
                if let Some(p) = proxy {
                    t.proxy = Some(p.clone());
                }
                t
            });
            NodeJob { input, target }
        })
        .collect()
}

/// Reads `user@host[:port]` (`[v6]:port` for IPv6; user `root` and port 22 when left out).
pub fn parse_node_spec(spec: &str) -> Result<(String, String, u16), String> {
    let spec = spec.trim();
    let (user, rest) = match spec.rsplit_once('@') {
        Some((u, r)) if !u.is_empty() => (u.to_string(), r),
        Some(_) => return Err(format!("{spec:?}: the user before '@' is empty")),
        None => ("root".to_string(), spec),
    };
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{spec:?}: '[' without ']'"))?;
        match after.strip_prefix(':') {
            Some(p) => (h.to_string(), p),
            None if after.is_empty() => (h.to_string(), "22"),
            None => return Err(format!("{spec:?}: expected ':port' after ']'")),
        }
    } else if rest.matches(':').count() > 1 {
        (rest.to_string(), "22")
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h.to_string(), p),
            None => (rest.to_string(), "22"),
        }
    };
    if host.is_empty() {
        return Err(format!("{spec:?}: the host is empty"));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{spec:?}: {port:?} is not a TCP port"))?;
    Ok((user, host, port))
}

/// One job per `user@host[:port]`, all logging in with `auth`, through `proxy` when given.
pub fn jobs_from_specs(
    specs: &[String],
    auth: &SshAuth,
    proxy: Option<&ProxySpec>,
    role: Role,
) -> Vec<NodeJob> {
    specs
        .iter()
        .map(|spec| match parse_node_spec(spec) {
            Ok((user, host, port)) => {
                let ip = parse_ip(&host);
                let input = NodeInput {
                    ipv4: ip.filter(|i| i.is_ipv4()),
                    ipv6: ip.filter(|i| i.is_ipv6()),
                    ..NodeInput::new(host.clone(), role)
                };
                let target = SshTarget {
                    host,
                    port,
                    user,
                    auth: auth.clone(),
                    proxy: proxy.cloned(),
                };
                NodeJob {
                    input,
                    target: Ok(target),
                }
            }
            Err(e) => NodeJob {
                input: NodeInput::new(spec.trim(), role),
                target: Err(
                    SshFailure::new(Stage::Config, FailureKind::InvalidTarget, e)
                        .hint("write the node as user@host or user@host:port"),
                ),
            },
        })
        .collect()
}

/// A password given on standard input: the first line, without its line end.
pub fn password_from(text: &str) -> Zeroizing<String> {
    let line = text.lines().next().unwrap_or("");
    Zeroizing::new(line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_specs_read_like_ssh_destinations() {
        let p = |s: &str| parse_node_spec(s);
        assert_eq!(p("a@h").unwrap(), ("a".into(), "h".into(), 22));
        assert_eq!(p("h:2222").unwrap(), ("root".into(), "h".into(), 2222));
        assert_eq!(
            p("u@[fd00::1]:23").unwrap(),
            ("u".into(), "fd00::1".into(), 23)
        );
        assert_eq!(p("fd00::1").unwrap(), ("root".into(), "fd00::1".into(), 22));
        assert!(p("@h").is_err());
        assert!(p("u@h:0").is_err());
        assert!(p("u@h:ssh").is_err());
        assert!(p("u@").is_err());
    }

    #[test]
    fn the_platform_arch_is_the_most_common_one_normalised() {
        let a = |v: &[&str]| most_common_arch(v.iter().map(|s| s.to_string()));
        assert_eq!(a(&["amd64", "amd64", "arm64"]).as_deref(), Some("x86_64"));
        assert_eq!(a(&["", " "]), None);
    }

    #[test]
    fn bad_specs_become_config_failures_of_their_node() {
        let auth = SshAuth::Password(Zeroizing::new("x".into()));
        let jobs = jobs_from_specs(
            &["ok@127.0.0.1:22".into(), "bad@h:x".into()],
            &auth,
            None,
            Role::Worker,
        );
        assert_eq!(jobs[0].input.ipv4, "127.0.0.1".parse().ok());
        let f = jobs[1].target.as_ref().expect_err("bad port");
        assert_eq!(f.stage, Stage::Config);
    }

    #[tokio::test]
    async fn a_broken_matrix_override_is_a_failure_and_a_missing_one_is_fine() {
        let dir = tempfile::tempdir().expect("tempdir");
        let setup = RunSetup {
            arch: ArchSource::Given("amd64".into()),
            config_dir: Some(dir.path().to_path_buf()),
            sandbox: false,
        };
        let mut req = Requirements::default();
        prepare(&mut req, &setup, None).await.expect("no override");
        assert_eq!(req.platform_arch.as_deref(), Some("x86_64"));
        std::fs::write(dir.path().join(MATRIX_FILE), "[[os]]\nnot toml at all [").expect("w");
        let e = prepare(&mut req, &setup, None).await.expect_err("broken");
        assert_eq!(e.kind, Kind::Invalid);
    }
}
