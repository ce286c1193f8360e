//! The whole checklist for one image: every check runs concurrently under its own timeout,
//! one failing never stops another, and results go out as they finish.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use kube::Client;
use tokio_util::sync::CancellationToken;

use super::api::Target;
use super::cluster;
use super::inputs::Inputs;
use super::pull::{Sink, emit, pull_checks};
use super::tls::{Trust, elapsed_ms};
use crate::domain::registry::nodes::{self, NodeOutput};
use crate::domain::registry::{CheckId, CheckResult, Fix, ImageRef, service_host};
use crate::engine::ssh::{SshPool, SshTarget};

/// How the checks run and where they may go.
#[derive(Clone)]
pub struct Options {
    /// Unix seconds; certificate lifetimes are counted from here.
    pub now: i64,
    pub step_timeout: Duration,
    pub trust: Trust,
    /// The address to dial for the registry instead of resolving its name (the sandbox's
    /// loopback endpoint, or an address the user knows reaches it).
    pub connect: Option<SocketAddr>,
    /// Nodes to ask over SSH, by name.
    pub nodes: Vec<(String, SshTarget)>,
    pub ssh: Option<SshPool>,
    /// The global cluster's client, for the external address objects (which live there).
    pub global: Option<Client>,
    pub cancel: CancellationToken,
}

impl Options {
    pub fn new(now: i64) -> Options {
        Options {
            now,
            step_timeout: Duration::from_secs(5),
            trust: Trust {
                extra_ca_pem: Vec::new(),
                system_roots: true,
            },
            connect: None,
            nodes: Vec::new(),
            ssh: None,
            global: None,
            cancel: CancellationToken::new(),
        }
    }
}

/// The image the checks look at: the first on the built-in registry, else the first.
pub fn chosen_image(inputs: &Inputs) -> Option<&ImageRef> {
    let builtin = inputs.service.as_ref().map(|s| service_host(&s.name));
    inputs
        .images
        .iter()
        .find(|i| Some(i.hostname()) == builtin.as_deref())
        .or_else(|| inputs.images.first())
}

/// Runs one check under the step timeout, timing it.
async fn timed<F>(id: CheckId, limit: Duration, out: &Sink, f: F)
where
    F: Future<Output = CheckResult>,
{
    let started = Instant::now();
    let mut r = match tokio::time::timeout(limit, f).await {
        Ok(r) => r,
        Err(_) => CheckResult::fail(id, format!("no answer within {} ms", limit.as_millis()))
            .with_fix(Fix::say(
                "the cluster or the node is slow or unreachable; retry, then check the path",
            )),
    };
    if r.millis == 0 {
        r.millis = elapsed_ms(started);
    }
    emit(out, r).await;
}

/// Runs every check for `inputs` on `client` (the cluster the pod runs in).
pub async fn run(client: &Client, inputs: &Inputs, opts: &Options, out: &Sink) {
    let Some(image) = chosen_image(inputs).cloned() else {
        for d in crate::domain::registry::catalogue::CATALOGUE {
            emit(out, CheckResult::skip(d.id, "no image to check")).await;
        }
        return;
    };
    let t = opts.step_timeout;
    emit(out, cluster::pull_events(inputs)).await;
    emit(out, cluster::service(inputs)).await;
    let (secret_tx, secret_rx) = tokio::sync::oneshot::channel();
    let secret = async {
        let (r, creds) =
            match tokio::time::timeout(t, cluster::pull_secret(client, inputs, &image)).await {
                Ok(x) => x,
                Err(_) => (
                    CheckResult::fail(CheckId::PullSecret, "no answer in time"),
                    None,
                ),
            };
        emit(out, r).await;
        let _ = secret_tx.send(creds);
    };
    let api = async {
        let creds = secret_rx.await.ok().flatten();
        let Some(addr) = registry_addr(&image, opts, t).await else {
            emit(out, CheckResult::fail(CheckId::Tls, format!("{} does not resolve from here and no address was given", image.hostname()))
                .with_fix(Fix::say("pass --registry-address <ip:port> with an address this machine can reach (a node port or the external address)"))).await;
            for id in [CheckId::ApiPing, CheckId::ApiAuth, CheckId::Manifest] {
                emit(
                    out,
                    CheckResult::skip(id, "no address to reach the registry"),
                )
                .await;
            }
            return;
        };
        let target = Target {
            addr,
            host: image.hostname().to_string(),
            port: image.port(),
            trust: opts.trust.clone(),
            timeout: t,
        };
        pull_checks(&target, &image, creds.as_ref(), opts.now, out).await;
    };
    let global = opts.global.as_ref().unwrap_or(client);
    let external = async {
        let (ing, svc) = match tokio::time::timeout(t, cluster::external_objects(global)).await {
            Ok(x) => x,
            Err(_) => (
                CheckResult::fail(CheckId::ExternalIngress, "no answer in time"),
                CheckResult::fail(CheckId::ExternalService, "no answer in time"),
            ),
        };
        emit(out, ing).await;
        emit(out, svc).await;
    };
    tokio::join!(
        timed(
            CheckId::PullRights,
            t,
            out,
            cluster::pull_rights(client, inputs, &image)
        ),
        timed(
            CheckId::UserRights,
            t,
            out,
            cluster::user_rights(client, inputs, &image)
        ),
        timed(
            CheckId::NetworkPolicy,
            t,
            out,
            cluster::network_policy(client, inputs)
        ),
        timed(CheckId::DnsLocal, t, out, dns_local(inputs, &image)),
        timed(
            CheckId::ExternalCert,
            t,
            out,
            cluster::external_cert(global, opts.now)
        ),
        node_checks(inputs, opts, out),
        secret,
        api,
        external,
    );
}

/// Where to dial: the given address, else the name as resolved here.
async fn registry_addr(image: &ImageRef, opts: &Options, t: Duration) -> Option<SocketAddr> {
    if let Some(a) = opts.connect {
        return Some(a);
    }
    let ips = tokio::time::timeout(t, resolve(image.hostname()))
        .await
        .ok()?
        .ok()?;
    ips.first().map(|ip| SocketAddr::new(*ip, image.port()))
}

/// Resolves a name with the system's resolver configuration (and its hosts file).
pub async fn resolve(name: &str) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let resolver = hickory_resolver::TokioResolver::builder_tokio()
        .map_err(|e| e.to_string())?
        .build()
        .map_err(|e| e.to_string())?;
    let fqdn = format!("{}.", name.trim_end_matches('.'));
    let l = resolver
        .lookup_ip(fqdn.as_str())
        .await
        .map_err(|e| plain_dns_error(&e.to_string()))?;
    Ok(l.iter().collect())
}

/// The resolver's error in words: its text carries a debug dump of the query, which says
/// nothing an SRE needs and buries what does.
fn plain_dns_error(text: &str) -> String {
    if text.contains("no records found") || text.contains("NXDomain") {
        return "no such name: no A or AAAA record".to_string();
    }
    let cut = text
        .find(" for Query")
        .or_else(|| text.find(" {"))
        .unwrap_or(text.len());
    text[..cut].trim().to_string()
}

async fn dns_local(inputs: &Inputs, image: &ImageRef) -> CheckResult {
    let name = image.hostname();
    let cluster_ip = inputs.service.as_ref().and_then(|s| s.cluster_ip);
    let builtin = inputs
        .service
        .as_ref()
        .is_some_and(|s| service_host(&s.name) == name);
    match resolve(name).await {
        Ok(ips) if builtin && cluster_ip.is_some_and(|ip| !ips.contains(&ip)) => CheckResult::fail(
            CheckId::DnsLocal,
            format!(
                "{name} resolves to {ips:?} here, not the ClusterIP {}",
                cluster_ip.map(|i| i.to_string()).unwrap_or_default()
            ),
        ),
        Ok(ips) => CheckResult::pass(CheckId::DnsLocal, format!("{name} resolves to {ips:?}")),
        Err(e) if builtin => CheckResult::warn(
            CheckId::DnsLocal,
            format!(
                "{name} does not resolve from this machine ({e}); normal outside the cluster, nodes use their hosts line"
            ),
        ),
        Err(e) => CheckResult::fail(CheckId::DnsLocal, format!("{name} does not resolve: {e}"))
            .with_fix(Fix::say(format!("check the DNS record of {name}"))),
    }
}

/// `getent hosts` and the tagged hosts line on every node, at most the pool's limit at once.
pub async fn node_checks(inputs: &Inputs, opts: &Options, out: &Sink) {
    let skip = |why: &str| {
        [
            CheckResult::skip(CheckId::DnsNodes, why),
            CheckResult::skip(CheckId::NodeHosts, why),
        ]
    };
    let (Some(svc), Some(pool)) = (&inputs.service, &opts.ssh) else {
        for r in skip("no SSH access to the nodes configured") {
            emit(out, r).await;
        }
        return;
    };
    let (Some(ip), false) = (svc.cluster_ip, opts.nodes.is_empty()) else {
        for r in skip("no nodes or no ClusterIP to compare with") {
            emit(out, r).await;
        }
        return;
    };
    let cmd = nodes::probe_command(&svc.name);
    let started = Instant::now();
    let runs = opts.nodes.iter().map(|(name, target)| {
        let cmd = cmd.clone();
        async move {
            let r = pool
                .with_session(
                    target,
                    &opts.cancel,
                    |s| async move { s.run(&cmd, None).await },
                )
                .await;
            let r = match r {
                Ok(o) => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
                Err(e) => Err(e.to_string()),
            };
            (name.clone(), r)
        }
    });
    let outputs: Vec<NodeOutput> = futures::future::join_all(runs).await;
    let (mut dns, mut hosts) = nodes::evaluate(&outputs, &svc.name, ip);
    dns.millis = elapsed_ms(started);
    hosts.millis = dns.millis;
    emit(out, dns).await;
    emit(out, hosts).await;
}

#[cfg(test)]
mod dns_words {
    use super::plain_dns_error;

    #[test]
    fn dns_errors_read_as_words_not_debug_dumps() {
        let raw = "no records found for Query { name: Name(\"x.svc.\"), query_type: AAAA, query_class: IN }";
        assert_eq!(plain_dns_error(raw), "no such name: no A or AAAA record");
        assert_eq!(plain_dns_error("request timed out"), "request timed out");
        assert!(!plain_dns_error("io error for Query { name: x }").contains('{'));
    }
}
