//! Building kube clients: kubeconfig loading, non-interactive exec plugins, the platform path
//! to workload clusters, and turning kube errors into states the user can act on.

use std::collections::HashMap;
use std::sync::Arc;

use kube::config::{ExecInteractiveMode, KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use tokio::sync::Mutex;

use super::{ConnState, KubeSource, ReloginJob};
pub use crate::engine::failure::{Failure as KubeFailure, FailureKind};

impl KubeFailure {
    fn config(message: impl Into<String>, hint: &str) -> Self {
        Self::new(FailureKind::Config, message, Some(hint))
    }

    /// Classifies a kube client error; `what` names the attempted action ("list clusters").
    pub fn from_kube(e: &kube::Error, what: &str) -> Self {
        if let kube::Error::Api(s) = e {
            return Self::from_status(s.code, &s.reason, &s.message, what);
        }
        if is_auth_error(e) {
            return Self::new(
                FailureKind::AuthExpired,
                format!("cannot {what}: login failed: {}", chain_text(e)),
                Some("log in again (press r), or fix the user of this kubeconfig context"),
            );
        }
        match e {
            kube::Error::SerdeError(err) => Self::new(
                FailureKind::Unreachable,
                format!("cannot {what}: the server's answer is not the expected JSON: {err}"),
                Some(
                    "check that the context's server is an ACP platform URL ending in /kubernetes/global",
                ),
            ),
            _ => {
                let text = chain_text(e);
                let hint = tls_hint(&text).unwrap_or(
                    "check the network path to the platform (VPN, proxy, SSH tunnel) and the server URL in the kubeconfig",
                );
                Self::new(
                    FailureKind::Unreachable,
                    format!("cannot {what}: {text}"),
                    Some(hint),
                )
            }
        }
    }

    pub fn from_status(code: u16, reason: &str, message: &str, what: &str) -> Self {
        match code {
            401 => Self::new(
                FailureKind::AuthExpired,
                format!(
                    "cannot {what}: the platform rejected the credentials (401 {reason}): {message}"
                ),
                Some(
                    "the token has expired or was revoked: log in again (press r) or update the kubeconfig",
                ),
            ),
            403 => Self::new(
                FailureKind::Forbidden,
                format!("cannot {what}: forbidden: {message}"),
                Some("ask a platform administrator for the missing permission"),
            ),
            404 => Self::new(
                FailureKind::NotFound,
                format!("cannot {what}: not found: {message}"),
                Some(
                    "check that this platform serves platform.tkestack.io/v1 (an ACP global cluster)",
                ),
            ),
            409 => Self::new(
                FailureKind::Conflict,
                format!("cannot {what}: {message}"),
                Some("pick another name, or wait for the object being deleted to disappear"),
            ),
            400 | 422 => Self::new(
                FailureKind::Invalid,
                format!("cannot {what}: the platform rejected it: {message}"),
                Some("fix the fields named in the message and try again"),
            ),
            _ => Self::new(
                FailureKind::Other,
                format!("cannot {what}: {code} {reason}: {message}"),
                None,
            ),
        }
    }

    /// The connection state this failure puts a platform in, if it is about the connection.
    pub fn conn_state(&self, relogin: Option<ReloginJob>, missing: &str) -> ConnState {
        match self.kind {
            FailureKind::AuthExpired => ConnState::AuthExpired {
                message: self.message.clone(),
                relogin,
            },
            FailureKind::Forbidden => ConnState::Forbidden {
                message: self.message.clone(),
                missing: missing.to_string(),
            },
            _ => ConnState::Unreachable {
                error: self.message.clone(),
                hint: self.hint.clone().unwrap_or_else(|| {
                    "check the platform URL and the network path to it".to_string()
                }),
            },
        }
    }
}

/// The hint for a TLS failure: the network is fine, the server's certificate is the problem.
fn tls_hint(text: &str) -> Option<&'static str> {
    if !text.contains("certificate") {
        return None;
    }
    Some(if text.contains("NotValidForName") {
        "the server's certificate does not name the host in the kubeconfig's server URL: use the platform's own address (or the name on its certificate)"
    } else if text.contains("Expired") || text.contains("NotValidYet") {
        "the server's certificate is outside its validity dates: check this machine's clock, then the platform's certificate"
    } else {
        "the server's certificate is not trusted by the kubeconfig's certificate-authority-data: a wrong server URL, a TLS-intercepting proxy, or a rotated platform CA"
    })
}

fn chain_text(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

fn is_auth_error(e: &kube::Error) -> bool {
    if matches!(e, kube::Error::Auth(_)) {
        return true;
    }
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(c) = cur {
        if c.downcast_ref::<kube::client::AuthError>().is_some() {
            return true;
        }
        cur = c.source();
    }
    false
}

/// Reads the kubeconfig of a source and makes every exec plugin non-interactive: a plugin that
/// inherits the terminal would write over the screen.
pub fn load_kubeconfig(source: &KubeSource) -> Result<Kubeconfig, KubeFailure> {
    let mut kc = match source {
        KubeSource::InMemory { kubeconfig, .. } => (**kubeconfig).clone(),
        KubeSource::Kubeconfig { path: Some(p), .. } => Kubeconfig::read_from(p).map_err(|e| {
            KubeFailure::config(
                format!("cannot read kubeconfig {}: {e}", p.display()),
                "check the --kubeconfig path and that the file is valid YAML",
            )
        })?,
        KubeSource::Kubeconfig { path: None, .. } => Kubeconfig::read().map_err(|e| {
            KubeFailure::config(
                format!("cannot read the kubeconfig from $KUBECONFIG or ~/.kube/config: {e}"),
                "pass --kubeconfig <file>, set KUBECONFIG, or run with --sandbox",
            )
        })?,
    };
    force_non_interactive(&mut kc);
    Ok(kc)
}

pub fn force_non_interactive(kc: &mut Kubeconfig) {
    for ai in kc.auth_infos.iter_mut() {
        if let Some(exec) = ai.auth_info.as_mut().and_then(|a| a.exec.as_mut()) {
            exec.interactive_mode = Some(ExecInteractiveMode::Never);
        }
    }
}

/// The context a source starts on: the one asked for, else the kubeconfig's current one.
pub fn initial_context(source: &KubeSource, kc: &Kubeconfig) -> Option<String> {
    let asked = match source {
        KubeSource::InMemory { context, .. } | KubeSource::Kubeconfig { context, .. } => {
            context.clone()
        }
    };
    asked.or_else(|| kc.current_context.clone())
}

/// The contexts of a source's kubeconfig; empty when it cannot be read (the engine reports why).
pub fn contexts_of(source: &KubeSource) -> Vec<String> {
    load_kubeconfig(source)
        .map(|kc| context_names(&kc))
        .unwrap_or_default()
}

pub fn context_names(kc: &Kubeconfig) -> Vec<String> {
    kc.contexts.iter().map(|c| c.name.clone()).collect()
}

/// The workload cluster a context points at, when its server is a platform's
/// `/kubernetes/<name>` path for a cluster other than `global`: such a context is not a platform.
pub fn workload_of(kc: &Kubeconfig, context: &str) -> Option<String> {
    let cluster = kc
        .contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?
        .cluster
        .clone();
    let server = kc
        .clusters
        .iter()
        .find(|c| c.name == cluster)?
        .cluster
        .as_ref()?
        .server
        .clone()?;
    let url = url::Url::parse(&server).ok()?;
    let mut segs = url.path_segments()?.filter(|s| !s.is_empty());
    match (segs.next(), segs.next(), segs.next()) {
        (Some("kubernetes"), Some(name), None) if name != "global" => Some(name.to_string()),
        _ => None,
    }
}

/// The contexts that can be a platform: every context but those pointing at a workload cluster.
pub fn platform_context_names(kc: &Kubeconfig) -> Vec<String> {
    context_names(kc)
        .into_iter()
        .filter(|c| workload_of(kc, c).is_none())
        .collect()
}

/// The command to run in the foreground to log in again: the context user's exec plugin.
pub fn relogin_job(kc: &Kubeconfig, context: &str) -> Option<ReloginJob> {
    let user = kc
        .contexts
        .iter()
        .find(|c| c.name == context)?
        .context
        .as_ref()?
        .user
        .clone()?;
    let exec = kc
        .auth_infos
        .iter()
        .find(|a| a.name == user)?
        .auth_info
        .as_ref()?
        .exec
        .as_ref()?;
    Some(ReloginJob {
        program: exec.command.clone()?,
        args: exec.args.clone().unwrap_or_default(),
    })
}

/// `https://p/kubernetes/global` -> `https://p/kubernetes/<cluster>`; `None` when the server
/// URL is not a platform path.
pub fn workload_url(global: &http::Uri, cluster: &str) -> Option<http::Uri> {
    let path = global.path().trim_end_matches('/');
    let base = path.strip_suffix("/kubernetes/global")?;
    let mut parts = global.clone().into_parts();
    parts.path_and_query = Some(format!("{base}/kubernetes/{cluster}").parse().ok()?);
    http::Uri::from_parts(parts).ok()
}

async fn config_for(
    kc: &Kubeconfig,
    context: &str,
    in_memory: bool,
) -> Result<Config, KubeFailure> {
    if !kc.contexts.iter().any(|c| c.name == context) {
        return Err(KubeFailure::config(
            format!("no context named {context:?} in the kubeconfig"),
            "list contexts with `kubectl config get-contexts` and pass one with --context",
        ));
    }
    let opts = KubeConfigOptions {
        context: Some(context.to_string()),
        cluster: None,
        user: None,
    };
    let mut cfg = Config::from_custom_kubeconfig(kc.clone(), &opts)
        .await
        .map_err(|e| {
            KubeFailure::new(
                FailureKind::Config,
                format!("cannot use context {context:?}: {}", chain_text(&e)),
                Some("check the context's cluster, user and certificate entries in the kubeconfig"),
            )
        })?;
    if in_memory {
        // The sandbox is on loopback: a proxy from the environment must not catch it.
        cfg.proxy_url = None;
    }
    Ok(cfg)
}

fn client_from(cfg: Config, context: &str) -> Result<Client, KubeFailure> {
    Client::try_from(cfg).map_err(|e| {
        // Building the client runs the credential plugin: its failure is a login problem.
        if is_auth_error(&e) {
            return KubeFailure::new(
                FailureKind::AuthExpired,
                format!("cannot log in to context {context:?}: {}", chain_text(&e)),
                Some("log in again (press r), or fix the user of this kubeconfig context"),
            );
        }
        KubeFailure::new(
            FailureKind::Config,
            format!(
                "cannot build a client for context {context:?}: {}",
                chain_text(&e)
            ),
            Some("check the certificate-authority and proxy settings of the kubeconfig"),
        )
    })
}

/// One client per platform context and per workload cluster, built on first use.
#[derive(Clone)]
pub struct ClientPool {
    kubeconfig: Arc<Kubeconfig>,
    in_memory: bool,
    clients: Arc<Mutex<HashMap<ClientKey, Client>>>,
}

/// A platform context, and a workload cluster on it (`None`: the platform's `global`).
type ClientKey = (String, Option<String>);

impl ClientPool {
    pub fn new(source: &KubeSource) -> Result<Self, KubeFailure> {
        Ok(ClientPool {
            kubeconfig: Arc::new(load_kubeconfig(source)?),
            in_memory: matches!(source, KubeSource::InMemory { .. }),
            clients: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    pub fn kubeconfig(&self) -> &Kubeconfig {
        &self.kubeconfig
    }

    /// The platform's `global` client.
    pub async fn platform(&self, context: &str) -> Result<Client, KubeFailure> {
        let key = (context.to_string(), None);
        if let Some(c) = self.clients.lock().await.get(&key) {
            return Ok(c.clone());
        }
        let cfg = config_for(&self.kubeconfig, context, self.in_memory).await?;
        let client = client_from(cfg, context)?;
        self.clients.lock().await.insert(key, client.clone());
        Ok(client)
    }

    /// A workload cluster's client: a kubeconfig context named after the cluster wins, else the
    /// platform path with the platform's credentials.
    pub async fn workload(&self, context: &str, cluster: &str) -> Result<Client, KubeFailure> {
        let key = (context.to_string(), Some(cluster.to_string()));
        if let Some(c) = self.clients.lock().await.get(&key) {
            return Ok(c.clone());
        }
        let cfg = if self.kubeconfig.contexts.iter().any(|c| c.name == cluster) {
            config_for(&self.kubeconfig, cluster, self.in_memory).await?
        } else {
            let mut cfg = config_for(&self.kubeconfig, context, self.in_memory).await?;
            cfg.cluster_url = workload_url(&cfg.cluster_url, cluster).ok_or_else(|| {
                KubeFailure::config(
                    format!(
                        "cannot derive the address of cluster {cluster:?}: the server of context {context:?} ({}) does not end in /kubernetes/global",
                        cfg.cluster_url
                    ),
                    "add a kubeconfig context named after the cluster, or point the platform context at https://<platform>/kubernetes/global",
                )
            })?;
            cfg
        };
        let client = client_from(cfg, cluster)?;
        self.clients.lock().await.insert(key, client.clone());
        Ok(client)
    }

    /// Drops the clients of a context so that the next use re-reads credentials.
    pub async fn invalidate(&self, context: &str) {
        self.clients.lock().await.retain(|(c, _), _| c != context);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_errors_get_a_certificate_hint() {
        let h = |t: &str| tls_hint(t).unwrap_or("network");
        assert!(
            h("client error (Connect): invalid peer certificate: UnknownIssuer")
                .contains("certificate-authority-data")
        );
        assert!(h("invalid peer certificate: NotValidForName").contains("server URL"));
        assert!(h("invalid peer certificate: Expired").contains("clock"));
        assert_eq!(h("tcp connect error: Connection refused"), "network");
    }

    const KC: &str = r#"
apiVersion: v1
kind: Config
current-context: acp
clusters:
- name: acp
  cluster: {server: "https://acp.example.com/kubernetes/global"}
contexts:
- name: acp
  context: {cluster: acp, user: sso}
- name: other
  context: {cluster: acp, user: tok}
users:
- name: sso
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: kubectl-acp
      args: [get-token, --platform, acp]
      interactiveMode: IfAvailable
- name: tok
  user: {token: abc}
"#;

    #[test]
    fn workload_contexts_are_not_offered_as_platforms() {
        let text = format!(
            "{KC}- name: prod-east\n  user: {{token: t}}\n"
        )
        .replace(
            "contexts:\n",
            "contexts:\n- name: prod-east\n  context: {cluster: prod-east, user: tok}\n",
        )
        .replace(
            "clusters:\n",
            "clusters:\n- name: prod-east\n  cluster: {server: \"https://acp.example.com/kubernetes/prod-east\"}\n",
        );
        let kc = Kubeconfig::from_yaml(&text).expect("valid kubeconfig");
        assert_eq!(workload_of(&kc, "prod-east").as_deref(), Some("prod-east"));
        assert_eq!(workload_of(&kc, "acp"), None);
        assert_eq!(platform_context_names(&kc), ["acp", "other"]);
        assert_eq!(context_names(&kc).len(), 3);
    }

    #[test]
    fn exec_plugins_are_forced_non_interactive() {
        let src = KubeSource::InMemory {
            kubeconfig: Box::new(Kubeconfig::from_yaml(KC).expect("valid kubeconfig")),
            context: None,
        };
        let kc = load_kubeconfig(&src).expect("loads");
        let exec = kc.auth_infos[0]
            .auth_info
            .as_ref()
            .and_then(|a| a.exec.as_ref())
            .expect("exec");
        assert_eq!(exec.interactive_mode, Some(ExecInteractiveMode::Never));
        assert_eq!(initial_context(&src, &kc).as_deref(), Some("acp"));
        assert_eq!(context_names(&kc), vec!["acp", "other"]);
    }

    #[test]
    fn relogin_runs_the_exec_plugin() {
        let kc = Kubeconfig::from_yaml(KC).expect("valid kubeconfig");
        let job = relogin_job(&kc, "acp").expect("exec user");
        assert_eq!(job.program, "kubectl-acp");
        assert_eq!(job.args, vec!["get-token", "--platform", "acp"]);
        assert_eq!(relogin_job(&kc, "other"), None);
        assert_eq!(relogin_job(&kc, "missing"), None);
    }

    #[test]
    fn workload_urls_follow_the_platform_path() {
        let g: http::Uri = "https://acp.example.com/kubernetes/global"
            .parse()
            .expect("uri");
        assert_eq!(
            workload_url(&g, "prod-1").map(|u| u.to_string()),
            Some("https://acp.example.com/kubernetes/prod-1".to_string())
        );
        let g: http::Uri = "https://h:8443/acp/kubernetes/global/"
            .parse()
            .expect("uri");
        assert_eq!(
            workload_url(&g, "b").map(|u| u.to_string()),
            Some("https://h:8443/acp/kubernetes/b".to_string())
        );
        let plain: http::Uri = "https://10.0.0.1:6443".parse().expect("uri");
        assert_eq!(workload_url(&plain, "b"), None);
    }

    #[test]
    fn statuses_map_to_states() {
        let f = KubeFailure::from_status(401, "Unauthorized", "token expired", "list clusters");
        assert_eq!(f.kind, FailureKind::AuthExpired);
        assert!(matches!(
            f.conn_state(None, "list clusters"),
            ConnState::AuthExpired { .. }
        ));
        let f = KubeFailure::from_status(403, "Forbidden", "no", "list clusters");
        match f.conn_state(None, "list clusters.platform.tkestack.io") {
            ConnState::Forbidden { missing, .. } => {
                assert_eq!(missing, "list clusters.platform.tkestack.io")
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(
            KubeFailure::from_status(409, "AlreadyExists", "x", "create").kind,
            FailureKind::Conflict
        );
        assert_eq!(
            KubeFailure::from_status(422, "Invalid", "x", "create").kind,
            FailureKind::Invalid
        );
        assert_eq!(
            KubeFailure::from_status(503, "ServiceUnavailable", "x", "create").kind,
            FailureKind::Other
        );
    }

    #[tokio::test]
    async fn unknown_context_is_a_config_error_with_a_hint() {
        let src = KubeSource::InMemory {
            kubeconfig: Box::new(Kubeconfig::from_yaml(KC).expect("valid kubeconfig")),
            context: None,
        };
        let pool = ClientPool::new(&src).expect("pool");
        let err = pool.platform("nope").await.err().expect("error");
        assert_eq!(err.kind, FailureKind::Config);
        assert!(err.hint.is_some());
    }
}
