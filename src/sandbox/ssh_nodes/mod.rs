//! The sandbox's nodes as SSH servers, and the SOCKS5 endpoint that reaches them.
//!
//! Every node a seeded Cluster or the draft cluster names is a russh server in this process,
//! answering the preflight probe from its scenario profile ([`healthy_node`] with the node's
//! flaw applied, printed by [`render_probe_output`]) and the clock command. The nodes keep
//! their realistic private-range addresses, and **nothing ever dials them**: the only way in is
//! a SOCKS5 endpoint on 127.0.0.1 that hands a CONNECT for a node's address straight to that
//! node's server in-process, so the engine uses its ordinary proxy path. A CONNECT to any
//! other address is refused.

pub mod etcd_files;
mod resolver;
pub mod rotation;
mod server;
mod socks;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::keys::ssh_key::private::Ed25519Keypair;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use super::controllers::Tasks;
use super::scenario::draft_nodes::{DRAFT_NODES, Flaw, NODE_NIC, NODE_PASSWORD, NODE_USER};
use super::scenario::{REGISTRY_SERVICE, Scenario, SimRng};
use crate::domain::preflight::probe::{CLOCK_COMMAND, probe_command};
use crate::domain::preflight::{NodeFacts, SimulatedNode, healthy_node, render_probe_output};
pub use resolver::NodeResolver;

/// One simulated node.
pub struct SimNode {
    pub ip: IpAddr,
    pub port: u16,
    pub user: String,
    password: Zeroizing<String>,
    pub profile: SimulatedNode,
    pub flaw: Flaw,
    /// How long the probe takes to answer, as a real node's ~40 commands do: the wizard shows
    /// nodes finishing one by one, not all in the same instant.
    pub probe_time: Duration,
    /// What the node's hosts file says about the registry Service (none: no such line).
    pub resolver: Option<NodeResolver>,
    seed: u64,
    /// Bumped to rotate the host key; only a [`Flaw::RotatingHostKey`] node honours it.
    key_generation: AtomicU32,
    /// Set on a workload cluster's control-plane node: where its etcd key files come from.
    pub etcd: std::sync::OnceLock<etcd_files::EtcdSource>,
}

impl std::fmt::Debug for SimNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNode")
            .field("ip", &self.ip)
            .field("port", &self.port)
            .field("flaw", &self.flaw)
            .finish_non_exhaustive()
    }
}

impl SimNode {
    pub fn new(ip: IpAddr, flaw: Flaw, seed: u64) -> SimNode {
        let mut rng = SimRng::derive(seed, &format!("node/{ip}"));
        let hex = |rng: &mut SimRng, n: usize| -> String {
            (0..n)
                .map(|_| format!("{:x}", rng.next_u64() % 16))
                .collect()
        };
        let mac_tail: Vec<String> = (0..5)
            .map(|_| format!("{:02x}", rng.next_u64() % 256))
            .collect();
        let uuid = hex(&mut rng, 32);
        let probe_time = Duration::from_millis(rng.range(80, 400));
        let profile = SimulatedNode {
            hostname: format!("node-{}", ip.to_string().replace(['.', ':'], "-")),
            arch: match flaw {
                Flaw::Arch(a) => a.to_string(),
                _ => "x86_64".to_string(),
            },
            ipv4: ip,
            prefix_v4: 24,
            ipv6: None,
            nic: match flaw {
                Flaw::NicMissing => "ens9".to_string(),
                _ => NODE_NIC.to_string(),
            },
            mac: format!("52:{}", mac_tail.join(":")),
            machine_id: hex(&mut rng, 32),
            product_uuid: format!(
                "{}-{}-{}-{}-{}",
                &uuid[..8],
                &uuid[8..12],
                &uuid[12..16],
                &uuid[16..20],
                &uuid[20..]
            ),
        };
        SimNode {
            ip,
            port: 22,
            user: NODE_USER.to_string(),
            password: Zeroizing::new(NODE_PASSWORD.to_string()),
            profile,
            flaw,
            probe_time,
            resolver: None,
            seed,
            key_generation: AtomicU32::new(0),
            etcd: std::sync::OnceLock::new(),
        }
    }

    /// The facts this node reports now.
    pub fn facts(&self, now: f64) -> NodeFacts {
        healthy_node(&self.profile, now)
    }

    /// How long `command` takes here before it answers.
    pub fn delay(&self, command: &str) -> Duration {
        if command == probe_command() {
            self.probe_time
        } else {
            Duration::ZERO
        }
    }

    /// What a command prints and its exit status: the preflight probe, the registry's
    /// resolver probe, the clock, or "not found".
    pub fn answer(&self, command: &str, now: f64) -> (String, u32) {
        let registry = resolver::answer(
            self.resolver.as_ref(),
            &self.profile.hostname,
            self.ip,
            command,
        );
        if let Some(out) = registry {
            (out, 0)
        } else if command == probe_command() {
            (render_probe_output(&self.facts(now)), 0)
        } else if command.trim() == CLOCK_COMMAND {
            (format!("{now:.9}\n"), 0)
        } else if let Some(files) = etcd_files::answer(self, command) {
            files
        } else {
            (
                "sandbox node: only the preflight probe, the registry probe and the clock command run here\n".into(),
                127,
            )
        }
    }

    fn accepts(&self, user: &str, password: &str) -> bool {
        user == self.user && password == self.password.as_str()
    }

    /// The node's current host key, derived from the seed, its address and the generation.
    pub fn host_key(&self) -> PrivateKey {
        let generation = self.key_generation.load(Ordering::Relaxed);
        let mut rng = SimRng::derive(self.seed, &format!("hostkey/{}/{generation}", self.ip));
        let mut seed = [0u8; 32];
        for chunk in seed.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        PrivateKey::from(Ed25519Keypair::from_seed(&seed))
    }

    /// Changes the host key (a rotating node only); returns whether it changed.
    pub fn rotate_host_key(&self) -> bool {
        if self.flaw != Flaw::RotatingHostKey {
            return false;
        }
        self.key_generation.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// Every node the scenario names: the seeded clusters' machines (healthy, each with its
/// cluster's registry resolver line, one of them stale) and the draft cluster's (with their
/// flaws).
pub fn scenario_nodes(scenario: &Scenario) -> Vec<SimNode> {
    let mut by_ip: BTreeMap<IpAddr, Flaw> = BTreeMap::new();
    let mut resolvers: BTreeMap<IpAddr, NodeResolver> = BTreeMap::new();
    for plan in &scenario.clusters {
        let stale = plan.stale_resolver_node();
        for (ip, _) in plan.nodes() {
            let line = if Some(ip) == stale {
                plan.old_registry_cluster_ip()
            } else {
                plan.registry_cluster_ip()
            };
            if let (Ok(ip), Ok(line_ip)) = (ip.parse(), line.parse()) {
                resolvers.insert(
                    ip,
                    NodeResolver {
                        service: REGISTRY_SERVICE.to_string(),
                        line_ip,
                    },
                );
            }
        }
        let ips = plan
            .masters
            .iter()
            .chain(&plan.workers)
            .map(String::as_str)
            .chain(plan.adding.iter().map(|a| a.ip.as_str()));
        for ip in ips {
            if let Ok(ip) = ip.parse() {
                by_ip.insert(ip, Flaw::None);
            }
        }
    }
    for d in DRAFT_NODES {
        if let Ok(ip) = d.ip.parse() {
            by_ip.insert(ip, d.flaw);
        }
    }
    by_ip
        .into_iter()
        .map(|(ip, flaw)| {
            let mut node = SimNode::new(ip, flaw, scenario.seed);
            node.resolver = resolvers.get(&ip).cloned();
            node
        })
        .collect()
}

/// The SOCKS5 endpoint's address and its credentials (random per sandbox).
#[derive(Clone)]
pub struct SocksEndpoint {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for SocksEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocksEndpoint")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The running nodes and their endpoint.
#[derive(Debug, Clone)]
pub struct SshNodes {
    nodes: Arc<BTreeMap<(IpAddr, u16), Arc<SimNode>>>,
    endpoint: SocksEndpoint,
}

impl SshNodes {
    /// Serves `nodes` behind a SOCKS5 endpoint on 127.0.0.1 (any free port) until `stop`.
    pub async fn start(
        nodes: Vec<SimNode>,
        stop: CancellationToken,
        tasks: &Tasks,
    ) -> std::io::Result<SshNodes> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let port = listener.local_addr()?.port();
        let endpoint = SocksEndpoint {
            host: Ipv4Addr::LOCALHOST.to_string(),
            port,
            username: "sandbox".to_string(),
            password: Zeroizing::new(
                (0..16)
                    .map(|_| format!("{:02x}", rand::random::<u8>()))
                    .collect(),
            ),
        };
        let nodes: BTreeMap<(IpAddr, u16), Arc<SimNode>> = nodes
            .into_iter()
            .map(|n| ((n.ip, n.port), Arc::new(n)))
            .collect();
        let me = SshNodes {
            nodes: Arc::new(nodes),
            endpoint,
        };
        tasks.spawn(socks::serve(listener, me.clone(), stop));
        Ok(me)
    }

    pub fn endpoint(&self) -> &SocksEndpoint {
        &self.endpoint
    }

    pub fn node(&self, ip: IpAddr, port: u16) -> Option<Arc<SimNode>> {
        self.nodes.get(&(ip, port)).cloned()
    }

    pub fn nodes(&self) -> impl Iterator<Item = &Arc<SimNode>> {
        self.nodes.values()
    }

    /// Rotates the host key of the node at `ip` (port 22); false when it does not rotate.
    pub fn rotate_host_key(&self, ip: IpAddr) -> bool {
        self.node(ip, 22).is_some_and(|n| n.rotate_host_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::preflight::parse_probe_output;

    #[test]
    fn a_node_answers_the_probe_from_its_profile_and_the_clock() {
        let n = SimNode::new(
            "192.168.90.13".parse().expect("ip"),
            Flaw::Arch("aarch64"),
            1,
        );
        let (out, code) = n.answer(&probe_command(), 1_700_000_000.5);
        assert_eq!(code, 0);
        let facts = parse_probe_output(&out);
        assert_eq!(facts.arch.as_deref(), Some("aarch64"));
        assert_eq!(facts.hostname.as_deref(), Some("node-192-168-90-13"));
        let (clock, _) = n.answer(CLOCK_COMMAND, 1_700_000_000.5);
        assert!(clock.starts_with("1700000000.5"), "{clock}");
        assert_eq!(n.answer("rm -rf /", 0.0).1, 127);
        assert!(n.accepts("root", "sandbox") && !n.accepts("root", "x"));
    }

    #[test]
    fn only_the_rotating_node_changes_its_key() {
        let fixed = SimNode::new("192.168.90.11".parse().expect("ip"), Flaw::None, 1);
        let before = fixed.host_key().public_key().clone();
        assert!(!fixed.rotate_host_key());
        assert_eq!(fixed.host_key().public_key(), &before);
        let rot = SimNode::new(
            "192.168.90.14".parse().expect("ip"),
            Flaw::RotatingHostKey,
            1,
        );
        let before = rot.host_key().public_key().clone();
        assert!(rot.rotate_host_key());
        assert_ne!(rot.host_key().public_key(), &before);
        assert_ne!(fixed.host_key().public_key(), rot.host_key().public_key());
    }

    #[test]
    fn the_scenario_s_nodes_include_every_draft_node_once() {
        let s = Scenario::generate(1);
        let nodes = scenario_nodes(&s);
        for d in DRAFT_NODES {
            assert_eq!(nodes.iter().filter(|n| n.ip.to_string() == d.ip).count(), 1);
        }
        assert!(nodes.len() > DRAFT_NODES.len());
        let stale: Vec<_> = s
            .clusters
            .iter()
            .filter_map(|p| Some((p.stale_resolver_node()?, p.old_registry_cluster_ip())))
            .collect();
        assert_eq!(stale.len(), 1, "one stale node in the whole platform");
        let (ip, old) = &stale[0];
        let node = nodes
            .iter()
            .find(|n| n.ip.to_string() == *ip)
            .expect("node");
        assert_eq!(
            node.resolver.as_ref().map(|r| r.line_ip.to_string()),
            Some(old.clone())
        );
        let current = nodes
            .iter()
            .filter(|n| n.resolver.is_some() && n.ip.to_string() != *ip)
            .count();
        assert!(current > 0);
    }
}
