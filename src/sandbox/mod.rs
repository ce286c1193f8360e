//! The sandbox platform: an ACP `global` cluster on loopback that speaks real Kubernetes.
//!
//! [`Platform::start`] starts the API server ([`apiserver`]), seeds the scenario
//! ([`scenario`]) and runs the simulated ACP controllers ([`controllers`], [`etcd_sim`]). The
//! result hands out an in-memory kubeconfig; nothing is written to disk unless a caller does
//! it explicitly ([`kubeconfig::write`]).

pub mod apiserver;
pub mod controllers;
pub mod etcd_sim;
pub mod kubeconfig;
pub mod registry_endpoint;
pub mod scenario;
pub mod ssh_nodes;

use std::sync::Arc;

use anyhow::Context as _;
use serde_json::json;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use apiserver::{ApiServerConfig, ApiServerHandle, Faults, Store, TokenUser, names};
use controllers::{ControllerSetup, Controllers, SimClock, Tasks};
use scenario::{PlanState, Scenario};

/// How to run the sandbox.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SandboxOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Speed factor of every simulated duration: 10 runs ten times faster than real time.
    pub speed: f64,
    /// Seed of the scenario and of every simulated timing.
    pub seed: u64,
}

impl Default for SandboxOptions {
    fn default() -> Self {
        SandboxOptions {
            port: 0,
            speed: 1.0,
            seed: 1,
        }
    }
}

/// Entry point of the sandbox.
pub struct Platform;

impl Platform {
    /// Starts the API server, seeds the scenario and starts the controllers.
    pub async fn start(opts: SandboxOptions) -> anyhow::Result<SandboxPlatform> {
        SandboxPlatform::start(opts).await
    }
}

/// A running sandbox platform. Dropping it stops the controllers; [`SandboxPlatform::shutdown`]
/// also closes the server and waits for everything to end.
pub struct SandboxPlatform {
    api: Arc<ApiServerHandle>,
    controllers: Arc<Controllers>,
    stop: CancellationToken,
    tasks: Tasks,
    kubeconfig: kube::config::Kubeconfig,
    admin_token: Zeroizing<String>,
    viewer_token: Zeroizing<String>,
    options: SandboxOptions,
    ssh_nodes: ssh_nodes::SshNodes,
    registry: Arc<registry_endpoint::RegistryEndpoint>,
}

impl std::fmt::Debug for SandboxPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxPlatform")
            .field("base_url", &self.api.base_url())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn random_token() -> Zeroizing<String> {
    Zeroizing::new(
        (0..32)
            .map(|_| format!("{:02x}", rand::random::<u8>()))
            .collect(),
    )
}

impl SandboxPlatform {
    async fn start(opts: SandboxOptions) -> anyhow::Result<SandboxPlatform> {
        let admin_token = random_token();
        let viewer_token = random_token();
        let api = apiserver::start(ApiServerConfig {
            port: opts.port,
            users: vec![
                TokenUser::new(&admin_token, scenario::ADMIN_USER, &["system:masters"]),
                TokenUser::new(&viewer_token, scenario::VIEWER_USER, &[]),
            ],
            ..ApiServerConfig::default()
        })
        .await
        .with_context(|| {
            if opts.port == 0 {
                "cannot start the sandbox API server".to_string()
            } else {
                format!(
                    "cannot start the sandbox API server on 127.0.0.1:{}; is the port in use? pick another with --port, or 0 for any free port",
                    opts.port
                )
            }
        })?;
        let api = Arc::new(api);
        let global = api
            .store(scenario::GLOBAL)
            .context("the sandbox API server has no global cluster")?;
        let clock = SimClock::new(opts.speed);
        let scenario = Scenario::generate(opts.seed);
        let stop = CancellationToken::new();
        let tasks = Tasks::default();
        let controllers = Controllers::new(ControllerSetup {
            host: api.clone(),
            global: global.clone(),
            seed: opts.seed,
            clock,
            scenario: scenario.clone(),
            ca_pem: api.ca_pem().to_string(),
            stop: stop.clone(),
            tasks: tasks.clone(),
        });
        seed(&controllers, &global, &scenario).context("seeding the sandbox scenario")?;
        controllers.start();
        let ssh_nodes =
            ssh_nodes::SshNodes::start(ssh_nodes::scenario_nodes(&scenario), stop.clone(), &tasks)
                .await
                .context(
                    "cannot start the sandbox's SOCKS5 endpoint for its SSH nodes on 127.0.0.1",
                )?;
        let eec_api = api.clone();
        ssh_nodes::etcd_files::attach(
            &ssh_nodes,
            &scenario,
            Arc::new(move |cluster: &str| {
                let store = eec_api.store(cluster)?;
                store
                    .get(
                        apiserver::kinds::names::ETCD_ENCRYPTION_CONFIGS,
                        None,
                        crate::domain::etcd::DEFAULT_NAME,
                    )
                    .ok()
            }),
        );
        tasks.spawn(ssh_nodes::rotation::watch(
            global.clone(),
            ssh_nodes.clone(),
            stop.clone(),
        ));
        let registry = Arc::new(
            registry_endpoint::RegistryEndpoint::start(0)
                .await
                .context("cannot start the sandbox registry")?,
        );
        let cluster_names: Vec<String> = scenario.clusters.iter().map(|c| c.name.clone()).collect();
        let kubeconfig = kubeconfig::build(&kubeconfig::KubeconfigParts {
            base_url: &api.base_url(),
            ca_pem: api.ca_pem(),
            clusters: &cluster_names,
            admin_token: &admin_token,
            viewer_token: &viewer_token,
        });
        Ok(SandboxPlatform {
            api,
            controllers,
            stop,
            tasks,
            kubeconfig,
            admin_token,
            viewer_token,
            options: opts,
            ssh_nodes,
            registry,
        })
    }

    /// The built-in registry's loopback address and the CA its certificate chains to. The
    /// registry Service's ClusterIP is a private address: clients dial this one instead.
    pub fn registry(&self) -> (std::net::SocketAddr, &str) {
        (self.registry.addr, &self.registry.ca_pem)
    }

    /// `https://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        self.api.base_url()
    }

    /// The kubeconfig: context `sandbox` (current) on `global`, one context per seeded
    /// cluster, and `sandbox-viewer` for the restricted user. It holds the tokens: keep it in
    /// memory unless the user asked for a file.
    pub fn kubeconfig(&self) -> &kube::config::Kubeconfig {
        &self.kubeconfig
    }

    /// Bearer token of the administrator (group `system:masters`).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Bearer token of the restricted user: read-only on clusters, cannot create them.
    pub fn viewer_token(&self) -> &str {
        &self.viewer_token
    }

    pub fn options(&self) -> SandboxOptions {
        self.options
    }

    /// The simulated SSH nodes and the SOCKS5 endpoint on 127.0.0.1 that reaches them: the
    /// engine's SSH goes through it in sandbox mode, so no node address is ever dialled.
    pub fn ssh_nodes(&self) -> &ssh_nodes::SshNodes {
        &self.ssh_nodes
    }

    /// The seeded scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.controllers.scenario
    }

    /// The API server: stores, fault hooks, clusters.
    pub fn api(&self) -> &ApiServerHandle {
        &self.api
    }

    /// A cluster's store (`global` always exists; a workload cluster once it runs).
    pub fn store(&self, cluster: &str) -> Option<Store> {
        self.api.store(cluster)
    }

    /// Fault hooks of the API server, for tests.
    pub fn faults(&self) -> Faults {
        self.api.faults()
    }

    /// A kube client for one of the kubeconfig's contexts.
    pub async fn client(&self, context: &str) -> anyhow::Result<kube::Client> {
        let cfg = kube::Config::from_custom_kubeconfig(
            self.kubeconfig.clone(),
            &kube::config::KubeConfigOptions {
                context: Some(context.to_string()),
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("building a client for sandbox context {context}"))?;
        kube::Client::try_from(cfg).context("creating the sandbox kube client")
    }

    /// A kube client for any cluster by name (`global` included), as the administrator;
    /// works for clusters created after start, which the kubeconfig has no context for.
    pub async fn cluster_client(&self, cluster: &str) -> anyhow::Result<kube::Client> {
        let mut kc = self.kubeconfig.clone();
        let url = self.api.cluster_url(cluster);
        let ca = kc
            .clusters
            .first()
            .and_then(|c| c.cluster.as_ref())
            .and_then(|c| c.certificate_authority_data.clone());
        let entry = format!("{cluster}-direct");
        kc.clusters.push(kube::config::NamedCluster {
            name: entry.clone(),
            cluster: Some(kube::config::Cluster {
                server: Some(url),
                certificate_authority_data: ca,
                ..Default::default()
            }),
            ..Default::default()
        });
        kc.contexts.push(kube::config::NamedContext {
            name: entry.clone(),
            context: Some(kube::config::Context {
                cluster: entry.clone(),
                user: Some(kubeconfig::ADMIN_ENTRY.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        });
        let cfg = kube::Config::from_custom_kubeconfig(
            kc,
            &kube::config::KubeConfigOptions {
                context: Some(entry),
                ..Default::default()
            },
        )
        .await
        .with_context(|| format!("building a client for sandbox cluster {cluster}"))?;
        kube::Client::try_from(cfg).context("creating the sandbox kube client")
    }

    /// Stops the controllers, then the server, and waits for both.
    pub async fn shutdown(self) {
        self.stop.cancel();
        self.tasks.wait().await;
        self.registry.shutdown().await;
        let api = self.api.clone();
        // The controllers hold the other references to the server; they are gone now.
        drop(self);
        if let Ok(api) = Arc::try_unwrap(api) {
            api.shutdown().await;
        }
    }
}

impl Drop for SandboxPlatform {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// When a seeded cluster was created: shortly before its first condition, so ages and the
/// first step's duration agree with its history.
fn creation_time(status: &serde_json::Value, now: chrono::DateTime<chrono::Utc>) -> String {
    let first = status["conditions"][0]["lastTransitionTime"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&chrono::Utc));
    let created = first.map_or(now, |t| t - chrono::Duration::seconds(20));
    created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Writes the scenario into the stores: every cluster with its credential, machines and
/// seeded status; running clusters served with their contents; the terminating one deleted.
fn seed(ctl: &Controllers, global: &Store, scenario: &Scenario) -> anyhow::Result<()> {
    let now = chrono::Utc::now();
    for plan in &scenario.clusters {
        let mut obj = plan.cluster_object(scenario.seed, now);
        let status = obj
            .as_object_mut()
            .and_then(|m| m.remove("status"))
            .unwrap_or_else(|| json!({}));
        obj["metadata"]["finalizers"] = json!([controllers::FINALIZER]);
        let created_at = creation_time(&status, now);
        let created = global
            .create_backdated(names::CLUSTERS, None, obj, &created_at)
            .map_err(|e| anyhow::anyhow!("creating cluster {}: {}", plan.name, e.message))?;
        let mut with_status = created;
        with_status["status"] = status;
        let obj = global
            .update_status(names::CLUSTERS, None, &plan.name, with_status)
            .map_err(|e| anyhow::anyhow!("seeding the status of {}: {}", plan.name, e.message))?;
        ctl.seed_credential_and_machines(&obj)
            .map_err(|e| anyhow::anyhow!("seeding {}: {}", plan.name, e.message))?;
        let obj = global
            .get(names::CLUSTERS, None, &plan.name)
            .map_err(|e| anyhow::anyhow!("reading back {}: {}", plan.name, e.message))?;
        if matches!(
            plan.state,
            PlanState::Running | PlanState::Terminating { .. }
        ) {
            ctl.serve_cluster(&obj);
        }
        for (machine, status) in plan.adding_machines(scenario.seed, now) {
            let name = machine["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let mut created = global
                .create(names::MACHINES, None, machine)
                .map_err(|e| anyhow::anyhow!("creating machine {name}: {}", e.message))?;
            created["status"] = status;
            global
                .update_status(names::MACHINES, None, &name, created)
                .map_err(|e| {
                    anyhow::anyhow!("seeding the status of machine {name}: {}", e.message)
                })?;
        }
        if matches!(plan.state, PlanState::Terminating { .. }) {
            global
                .delete(names::CLUSTERS, None, &plan.name)
                .map_err(|e| anyhow::anyhow!("deleting {}: {}", plan.name, e.message))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_can_move_between_tasks() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<SandboxPlatform>();
    }

    #[test]
    fn defaults_are_real_time_on_any_port() {
        let d = SandboxOptions::default();
        assert_eq!((d.port, d.speed, d.seed), (0, 1.0, 1));
    }
}
