//! Picks the platform: a kubeconfig, or the embedded sandbox when there is none or `--sandbox`.
//!
//! Every front end (the TUI and each subcommand) calls [`resolve`] first, so
//! `acp-cockpit clusters --sandbox -o json` and the TUI agree on where they are.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::config::GlobalArgs;
use crate::engine::kube::KubeSource;
use crate::engine::ssh::ProxySpec;
use crate::sandbox::{Platform, SandboxOptions, SandboxPlatform, kubeconfig};

/// What the header shows: where the cockpit is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformLabels {
    /// The platform's name: `sandbox`, or the host of the global cluster's API server.
    pub platform: String,
    /// The kubeconfig context in use.
    pub context: String,
    /// Running on the embedded sandbox (the header shows SANDBOX).
    pub sandbox: bool,
}

/// The resolved platform.
pub struct Resolved {
    /// What the engine connects with.
    pub source: KubeSource,
    pub labels: PlatformLabels,
    /// The embedded sandbox, when one was started; it runs as long as this is kept.
    pub sandbox: Option<SandboxPlatform>,
    /// The SOCKS5 proxy every SSH connection must take: the sandbox's endpoint that reaches
    /// its simulated nodes, so that no node address is dialled from here.
    pub ssh_proxy: Option<ProxySpec>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The source holds the sandbox's token; show only where it points.
        f.debug_struct("Resolved")
            .field("labels", &self.labels)
            .field("sandbox", &self.sandbox.is_some())
            .finish_non_exhaustive()
    }
}

impl Resolved {
    /// Stops the embedded sandbox, if any.
    pub async fn shutdown(self) {
        if let Some(s) = self.sandbox {
            s.shutdown().await;
        }
    }
}

/// Where a kubeconfig would come from, were the sandbox not forced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeconfigLocation {
    /// `--kubeconfig PATH`.
    Flag(PathBuf),
    /// `$KUBECONFIG` (possibly a list of files).
    Env(String),
    /// `~/.kube/config`.
    Home(PathBuf),
    /// None of them: the sandbox runs.
    Missing,
}

/// Finds the kubeconfig the way kubectl does: the flag, then `$KUBECONFIG`, then
/// `~/.kube/config` if that file exists.
pub fn locate(flag: Option<&Path>, env: Option<&str>, home: Option<&Path>) -> KubeconfigLocation {
    if let Some(p) = flag {
        return KubeconfigLocation::Flag(p.to_path_buf());
    }
    if let Some(e) = env.filter(|e| !e.trim().is_empty()) {
        return KubeconfigLocation::Env(e.to_string());
    }
    if let Some(h) = home {
        let p = h.join(".kube").join("config");
        if p.is_file() {
            return KubeconfigLocation::Home(p);
        }
    }
    KubeconfigLocation::Missing
}

/// [`locate`] with this process's `--kubeconfig`, `$KUBECONFIG` and home directory.
pub fn locate_for(global: &GlobalArgs) -> KubeconfigLocation {
    let env = std::env::var("KUBECONFIG").ok();
    locate(
        global.kubeconfig.as_deref(),
        env.as_deref(),
        home_dir().as_deref(),
    )
}

/// Speed factor of the embedded sandbox (default 1: real time).
pub const SPEED_ENV: &str = "ACP_COCKPIT_SANDBOX_SPEED";
/// Seed of the embedded sandbox's scenario (default 1).
pub const SEED_ENV: &str = "ACP_COCKPIT_SANDBOX_SEED";

/// The embedded sandbox's options from [`SPEED_ENV`] and [`SEED_ENV`], for demos and for
/// end-to-end tests that cannot wait minutes for a cluster to be created.
pub fn sandbox_options_from_env(
    speed: Option<&str>,
    seed: Option<&str>,
) -> anyhow::Result<SandboxOptions> {
    let mut opts = SandboxOptions::default();
    if let Some(s) = speed.filter(|s| !s.trim().is_empty()) {
        opts.speed = match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 && v <= 100_000.0 => v,
            _ => anyhow::bail!(
                "{SPEED_ENV}={s:?} is not a speed factor; set a number above 0 and at most 100000 (e.g. 20), or unset it"
            ),
        };
    }
    if let Some(s) = seed.filter(|s| !s.trim().is_empty()) {
        opts.seed = s.trim().parse::<u64>().map_err(|_| {
            anyhow::anyhow!(
                "{SEED_ENV}={s:?} is not a seed; set a whole number such as 7, or unset it"
            )
        })?;
    }
    Ok(opts)
}

fn home_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf())
}

/// Resolves `--sandbox`, `--kubeconfig`, `--context` and the environment into a platform.
/// Starting the sandbox takes a moment; its token stays in memory.
/// [`resolve_quiet`] for a subcommand: when no kubeconfig was found and `--sandbox` was not
/// given, stderr says the output comes from the embedded sandbox, so a script or CI job with a
/// missing kubeconfig is not handed simulated clusters as if they were real.
pub async fn resolve(global: &GlobalArgs) -> anyhow::Result<Resolved> {
    let resolved = resolve_quiet(global).await?;
    if resolved.sandbox.is_some() && !global.sandbox {
        eprintln!(
            "acp-cockpit: no kubeconfig found (no --kubeconfig, $KUBECONFIG or ~/.kube/config): \
             using the embedded sandbox platform, whose clusters are simulated.\n\
             hint: pass --kubeconfig or set KUBECONFIG for a real platform; pass --sandbox to \
             choose the sandbox explicitly and silence this note."
        );
    }
    Ok(resolved)
}

/// Where the flags point, decided without starting anything.
pub enum Choice {
    /// A kubeconfig, read and labelled.
    Platform(Box<Resolved>),
    /// The embedded sandbox, still to be started with [`start_sandbox`]; its labels are known.
    Sandbox {
        options: SandboxOptions,
        labels: PlatformLabels,
    },
}

/// Decides between a kubeconfig and the embedded sandbox, reading the kubeconfig but starting
/// nothing, so a front end can draw before the sandbox is up.
pub fn choose(global: &GlobalArgs) -> anyhow::Result<Choice> {
    let location = locate_for(global);
    if global.sandbox || location == KubeconfigLocation::Missing {
        let options = sandbox_options_from_env(
            std::env::var(SPEED_ENV).ok().as_deref(),
            std::env::var(SEED_ENV).ok().as_deref(),
        )?;
        let labels = PlatformLabels {
            platform: "sandbox".to_string(),
            context: global
                .context
                .clone()
                .unwrap_or_else(|| kubeconfig::CONTEXT.to_string()),
            sandbox: true,
        };
        return Ok(Choice::Sandbox { options, labels });
    }
    read_platform(global, location).map(|r| Choice::Platform(Box::new(r)))
}

/// Picks the platform without any note: the TUI shows the SANDBOX badge instead.
pub async fn resolve_quiet(global: &GlobalArgs) -> anyhow::Result<Resolved> {
    match choose(global)? {
        Choice::Platform(r) => Ok(*r),
        Choice::Sandbox { options, .. } => start_sandbox(global, options).await,
    }
}

fn read_platform(global: &GlobalArgs, location: KubeconfigLocation) -> anyhow::Result<Resolved> {
    let kc = match &location {
        KubeconfigLocation::Flag(p) => {
            if !p.is_file() {
                anyhow::bail!(
                    "the kubeconfig {} does not exist; pass an existing file with --kubeconfig, or use --sandbox to run on the embedded sandbox",
                    p.display()
                );
            }
            kube::config::Kubeconfig::read_from(p).with_context(|| {
                format!(
                    "cannot read the kubeconfig {}; fix the file or use --sandbox",
                    p.display()
                )
            })?
        }
        _ => kube::config::Kubeconfig::read().context(
            "cannot read the kubeconfig from $KUBECONFIG or ~/.kube/config; fix it, pass --kubeconfig, or use --sandbox",
        )?,
    };
    let labels = labels_for(&kc, global.context.as_deref())?;
    Ok(Resolved {
        source: KubeSource::Kubeconfig {
            path: match location {
                KubeconfigLocation::Flag(p) => Some(p),
                _ => None,
            },
            context: global.context.clone(),
        },
        labels,
        sandbox: None,
        ssh_proxy: None,
    })
}

/// Starts the embedded sandbox with `opts` and points the engine at it in memory.
pub async fn start_sandbox(global: &GlobalArgs, opts: SandboxOptions) -> anyhow::Result<Resolved> {
    let sandbox = Platform::start(opts)
        .await
        .context("starting the embedded sandbox platform")?;
    let kc = sandbox.kubeconfig().clone();
    let context = global
        .context
        .clone()
        .unwrap_or_else(|| kubeconfig::CONTEXT.to_string());
    if !kc.contexts.iter().any(|c| c.name == context) {
        let known: Vec<String> = kc.contexts.iter().map(|c| c.name.clone()).collect();
        sandbox.shutdown().await;
        anyhow::bail!(
            "the sandbox has no context {context:?}; use one of: {}",
            known.join(", ")
        );
    }
    let ep = sandbox.ssh_nodes().endpoint();
    let ssh_proxy = Some(ProxySpec {
        host: ep.host.clone(),
        port: ep.port,
        username: Some(ep.username.clone()),
        password: Some(ep.password.clone()),
    });
    Ok(Resolved {
        source: KubeSource::InMemory {
            kubeconfig: Box::new(kc),
            context: Some(context.clone()),
        },
        labels: PlatformLabels {
            platform: "sandbox".to_string(),
            context,
            sandbox: true,
        },
        sandbox: Some(sandbox),
        ssh_proxy,
    })
}

/// The labels of a real platform: the context in use and its server's host.
pub fn labels_for(
    kc: &kube::config::Kubeconfig,
    context: Option<&str>,
) -> anyhow::Result<PlatformLabels> {
    let name = context
        .map(str::to_string)
        .or_else(|| kc.current_context.clone())
        .context(
            "the kubeconfig has no current context; pass --context NAME (see `kubectl config get-contexts`)",
        )?;
    let ctx = kc
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.as_ref())
        .with_context(|| {
            let known: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
            format!(
                "the kubeconfig has no context {name:?}; use one of: {}",
                known.join(", ")
            )
        })?;
    let server = kc
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .unwrap_or_default();
    let platform = url::Url::parse(&server)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| ctx.cluster.clone());
    Ok(PlatformLabels {
        platform,
        context: name,
        sandbox: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_is_located_like_kubectl_does() {
        let dir = tempfile::tempdir().expect("tempdir");
        let flag = Path::new("/x/kc");
        assert_eq!(
            locate(Some(flag), Some("/y"), Some(dir.path())),
            KubeconfigLocation::Flag(flag.into())
        );
        assert_eq!(
            locate(None, Some("/y:/z"), Some(dir.path())),
            KubeconfigLocation::Env("/y:/z".into())
        );
        assert_eq!(
            locate(None, Some(" "), Some(dir.path())),
            KubeconfigLocation::Missing
        );
        assert_eq!(locate(None, None, None), KubeconfigLocation::Missing);
        std::fs::create_dir_all(dir.path().join(".kube")).expect("mkdir");
        std::fs::write(dir.path().join(".kube/config"), "apiVersion: v1\n").expect("write");
        assert_eq!(
            locate(None, None, Some(dir.path())),
            KubeconfigLocation::Home(dir.path().join(".kube/config"))
        );
    }

    #[test]
    fn sandbox_options_come_from_the_environment() {
        let d = sandbox_options_from_env(None, Some("")).expect("defaults");
        assert_eq!(d, SandboxOptions::default());
        let o = sandbox_options_from_env(Some("20"), Some("7")).expect("set");
        assert_eq!((o.speed, o.seed), (20.0, 7));
        let e = sandbox_options_from_env(Some("fast"), None).expect_err("bad speed");
        assert!(e.to_string().contains(SPEED_ENV), "{e}");
        let e = sandbox_options_from_env(Some("0"), None).expect_err("zero speed");
        assert!(e.to_string().contains("above 0"), "{e}");
        let e = sandbox_options_from_env(None, Some("-1")).expect_err("bad seed");
        assert!(e.to_string().contains(SEED_ENV), "{e}");
    }

    #[test]
    fn labels_come_from_the_context_and_its_server() {
        let kc: kube::config::Kubeconfig = serde_saphyr::from_str(
            "apiVersion: v1\nkind: Config\ncurrent-context: acp\nclusters:\n- name: g\n  cluster:\n    server: https://acp.example.com/kubernetes/global\ncontexts:\n- name: acp\n  context:\n    cluster: g\n    user: u\nusers:\n- name: u\n  user:\n    token: t\n",
        )
        .expect("kubeconfig parses");
        let l = labels_for(&kc, None).expect("labels");
        assert_eq!(l.platform, "acp.example.com");
        assert_eq!(l.context, "acp");
        assert!(!l.sandbox);
        let err = labels_for(&kc, Some("nope")).expect_err("unknown context");
        assert!(err.to_string().contains("use one of: acp"), "{err}");
    }

    #[test]
    fn the_resolved_platform_can_move_between_tasks() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Resolved>();
    }
}
