//! `--inspect-nodes`: the manager's files on each control-plane node, as key names and
//! fingerprints, and what differs.

use super::Args;
use crate::domain::etcd::EtcdEncryptionConfig;
use crate::engine::etcd::nodes::{InspectRequest, NodeReport, inspect_cluster};
use crate::engine::kube::ops::Connected;
use crate::engine::ssh::{DEFAULT_CONCURRENCY, SshAuth, SshPool, Timeouts};

/// Reads every control-plane node's files of `cluster`. Unknown host keys are refused (the
/// node is reported as skipped with the reason), as everywhere in the cockpit; the sandbox's
/// nodes are reached through its SOCKS5 endpoint and their keys kept in its own known_hosts.
pub async fn inspect(
    args: &Args,
    conn: &Connected,
    cluster: &str,
    cfg: &EtcdEncryptionConfig,
) -> anyhow::Result<Vec<NodeReport>> {
    let data_dir = crate::config::Paths::resolve()?.data_dir;
    let ssh = SshPool::new(
        crate::engine::etcd::nodes::host_key_policy(&data_dir, args.sandbox_ssh_proxy.is_some()),
        Timeouts::default(),
        DEFAULT_CONCURRENCY,
    );
    let fallback = args.ssh_key.as_ref().map(|p| SshAuth::KeyFile {
        path: p.clone(),
        passphrase: None,
    });
    let req = InspectRequest {
        context: &conn.context,
        cluster,
        config: cfg,
        fallback: fallback.as_ref(),
        base: &args.files_under,
        proxy: args.sandbox_ssh_proxy.as_ref(),
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    Ok(inspect_cluster(&conn.pool, &ssh, req, &cancel).await?)
}

/// The table lines of the node files.
pub fn text(files: &[NodeReport]) -> Vec<String> {
    let mut out = vec![
        String::new(),
        "node files (encryption-provider.conf, its history backup and backup directory):"
            .to_string(),
    ];
    let nw = files.iter().map(|f| f.node.len()).max().unwrap_or(4).max(4);
    out.push(format!(
        "{:<nw$}  {:<28}  {:<4}  RESULT",
        "NODE", "ACTIVE KEY", "KEYS"
    ));
    for f in files {
        let active = f
            .keys
            .first()
            .map(|k| format!("{} {}", k.name, k.fingerprint))
            .unwrap_or_else(|| "-".to_string());
        let result = match (&f.skipped, f.findings.len()) {
            (Some(why), _) => format!("not checked: {why}"),
            (None, 0) => "ok".to_string(),
            (None, n) => format!("DRIFT ({n})"),
        };
        out.push(format!(
            "{:<nw$}  {active:<28}  {:<4}  {result}",
            f.node,
            f.keys.len()
        ));
        if f.keys.len() > 1 {
            let keys: Vec<String> = f
                .keys
                .iter()
                .map(|k| format!("{} {}", k.name, k.fingerprint))
                .collect();
            out.push(format!("  keys: {}", keys.join(", ")));
        }
        for x in &f.findings {
            out.push(format!("  {}: {}", x.code, x.message));
        }
    }
    out
}
