//! The sandbox's kubeconfig: built in memory (the embedded sandbox never writes its token to
//! disk), and written to a file only when the user asks for one.

use std::path::Path;

use base64::Engine as _;
use kube::config::{
    AuthInfo, Cluster, Context, Kubeconfig, NamedAuthInfo, NamedCluster, NamedContext,
};

/// Context of the platform's `global` cluster.
pub const CONTEXT: &str = "sandbox";
/// Context of the restricted (read-only) user on `global`.
pub const VIEWER_CONTEXT: &str = "sandbox-viewer";
/// User entry of the administrator.
pub const ADMIN_ENTRY: &str = "sandbox-admin";
/// User entry of the restricted user.
pub const VIEWER_ENTRY: &str = "sandbox-viewer";

/// Everything a kubeconfig for the sandbox needs.
pub struct KubeconfigParts<'a> {
    /// `https://127.0.0.1:PORT`.
    pub base_url: &'a str,
    pub ca_pem: &'a str,
    /// Every cluster to give a context (`global` included).
    pub clusters: &'a [String],
    pub admin_token: &'a str,
    pub viewer_token: &'a str,
}

fn cluster_entry(name: &str, server: String, ca_b64: &str) -> NamedCluster {
    NamedCluster {
        name: name.to_string(),
        cluster: Some(Cluster {
            server: Some(server),
            certificate_authority_data: Some(ca_b64.to_string()),
            // An inherited HTTPS_PROXY must not capture loopback traffic.
            proxy_url: None,
            ..Cluster::default()
        }),
        ..NamedCluster::default()
    }
}

fn user_entry(name: &str, token: &str) -> NamedAuthInfo {
    NamedAuthInfo {
        name: name.to_string(),
        auth_info: Some(AuthInfo {
            token: Some(token.to_string().into()),
            ..AuthInfo::default()
        }),
        ..NamedAuthInfo::default()
    }
}

fn context_entry(name: &str, cluster: &str, user: &str) -> NamedContext {
    NamedContext {
        name: name.to_string(),
        context: Some(Context {
            cluster: cluster.to_string(),
            user: Some(user.to_string()),
            ..Context::default()
        }),
        ..NamedContext::default()
    }
}

/// Context `sandbox` on cluster `global` (current), one context per workload cluster named
/// after it, and `sandbox-viewer` for the restricted user.
pub fn build(parts: &KubeconfigParts<'_>) -> Kubeconfig {
    let ca_b64 = base64::engine::general_purpose::STANDARD.encode(parts.ca_pem);
    let mut kc = Kubeconfig {
        current_context: Some(CONTEXT.to_string()),
        api_version: Some("v1".to_string()),
        kind: Some("Config".to_string()),
        ..Kubeconfig::default()
    };
    let mut names: Vec<&str> = parts.clusters.iter().map(String::as_str).collect();
    if !names.contains(&super::scenario::GLOBAL) {
        names.insert(0, super::scenario::GLOBAL);
    }
    for name in names {
        let server = format!("{}/kubernetes/{name}", parts.base_url);
        kc.clusters.push(cluster_entry(name, server, &ca_b64));
        let ctx = if name == super::scenario::GLOBAL {
            CONTEXT
        } else {
            name
        };
        kc.contexts.push(context_entry(ctx, name, ADMIN_ENTRY));
    }
    kc.contexts.push(context_entry(
        VIEWER_CONTEXT,
        super::scenario::GLOBAL,
        VIEWER_ENTRY,
    ));
    kc.auth_infos
        .push(user_entry(ADMIN_ENTRY, parts.admin_token));
    kc.auth_infos
        .push(user_entry(VIEWER_ENTRY, parts.viewer_token));
    kc
}

/// Writes the kubeconfig with mode 0600 (it holds bearer tokens), replacing the file
/// atomically so a reader never sees half of it.
pub fn write(kc: &Kubeconfig, path: &Path) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use std::io::Write as _;
    let text = serde_saphyr::to_string(kc).context("serializing the sandbox kubeconfig")?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "kubeconfig".to_string());
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let result = (|| -> std::io::Result<()> {
        let mut f = opts.open(&tmp)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            // The mode above only applies to new files; a leftover temp file keeps its own.
            f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e).with_context(|| {
            format!(
                "cannot write the kubeconfig to {}; check that the directory exists and is writable, or pick another --kubeconfig-out",
                path.display()
            )
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts_kc() -> Kubeconfig {
        let clusters = vec!["global".to_string(), "prod".to_string()];
        build(&KubeconfigParts {
            base_url: "https://127.0.0.1:1234",
            ca_pem: "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n",
            clusters: &clusters,
            admin_token: "admintok",
            viewer_token: "viewtok",
        })
    }

    #[test]
    fn contexts_point_at_the_platform_paths() {
        let kc = parts_kc();
        assert_eq!(kc.current_context.as_deref(), Some(CONTEXT));
        let server = |n: &str| {
            kc.clusters
                .iter()
                .find(|c| c.name == n)
                .and_then(|c| c.cluster.as_ref())
                .and_then(|c| c.server.clone())
        };
        assert_eq!(
            server("global").as_deref(),
            Some("https://127.0.0.1:1234/kubernetes/global")
        );
        assert_eq!(
            server("prod").as_deref(),
            Some("https://127.0.0.1:1234/kubernetes/prod")
        );
        let ctx = |n: &str| {
            kc.contexts
                .iter()
                .find(|c| c.name == n)
                .and_then(|c| c.context.clone())
                .map(|c| (c.cluster, c.user))
        };
        assert_eq!(
            ctx(CONTEXT),
            Some(("global".into(), Some(ADMIN_ENTRY.into())))
        );
        assert_eq!(ctx("prod"), Some(("prod".into(), Some(ADMIN_ENTRY.into()))));
        assert_eq!(
            ctx(VIEWER_CONTEXT),
            Some(("global".into(), Some(VIEWER_ENTRY.into())))
        );
        assert!(kc.clusters.iter().all(|c| {
            c.cluster
                .as_ref()
                .is_some_and(|c| c.certificate_authority_data.is_some())
        }));
    }

    #[test]
    fn the_written_file_is_private_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sandbox.kubeconfig");
        write(&parts_kc(), &path).expect("write");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = Kubeconfig::read_from(&path).expect("reads back");
        assert_eq!(back.contexts.len(), 3);
        let err = write(&parts_kc(), &dir.path().join("missing/dir/kc")).expect_err("no dir");
        assert!(format!("{err:#}").contains("--kubeconfig-out"));
    }
}
