//! The node side of name resolution: what `getent hosts` and `/etc/hosts` say on each node,
//! compared with the registry Service's ClusterIP.

use std::net::IpAddr;

use super::catalogue::{CheckId, CheckResult};
use super::rules::{HostsLine, fix_hosts_line, hosts_line};
use super::service_host;

/// Separates `getent`'s answer from the hosts file in the one command run per node.
pub const SEPARATOR: &str = "--- /etc/hosts";

/// The command each node runs: bounded output, no root needed.
pub fn probe_command(service: &str) -> String {
    format!(
        "getent hosts {}; echo '{SEPARATOR}'; head -c 65536 /etc/hosts",
        service_host(service)
    )
}

/// One node's answer: its name and the command's output, or why it could not be run.
pub type NodeOutput = (String, Result<String, String>);

/// Verdicts for resolution on the nodes and for their tagged hosts lines.
pub fn evaluate(
    outputs: &[NodeOutput],
    service: &str,
    cluster_ip: IpAddr,
) -> (CheckResult, CheckResult) {
    let host = service_host(service);
    let mut dns = CheckResult::pass(
        CheckId::DnsNodes,
        format!("{host} resolves to {cluster_ip} on every node"),
    );
    let mut hosts = CheckResult::pass(
        CheckId::NodeHosts,
        format!("every node's resolver line points at {cluster_ip}"),
    );
    let mut bad_dns = Vec::new();
    let mut stale = Vec::new();
    let mut unreachable = Vec::new();
    for (node, out) in outputs {
        let text = match out {
            Ok(t) => t,
            Err(e) => {
                unreachable.push(node.clone());
                dns.evidence.push(format!("{node}: {e}"));
                continue;
            }
        };
        let (getent, file) = text.split_once(SEPARATOR).unwrap_or((text, ""));
        let resolved: Vec<IpAddr> = getent
            .lines()
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        dns.evidence.push(format!(
            "{node}: getent hosts {host} -> {}",
            if resolved.is_empty() {
                "nothing".to_string()
            } else {
                format!("{resolved:?}")
            }
        ));
        if !resolved.contains(&cluster_ip) {
            bad_dns.push(node.clone());
        }
        match hosts_line(file, service, cluster_ip) {
            HostsLine::Current => hosts.evidence.push(format!("{node}: current")),
            HostsLine::Missing => hosts
                .evidence
                .push(format!("{node}: no tagged line (resolved by DNS)")),
            HostsLine::Stale { found } => {
                hosts
                    .evidence
                    .push(format!("{node}: stale line points at {found}"));
                stale.push(node.clone());
            }
        }
    }
    if !bad_dns.is_empty() {
        dns = CheckResult {
            verdict: super::Verdict::Fail,
            summary: format!(
                "{host} does not resolve to {cluster_ip} on {}",
                bad_dns.join(", ")
            ),
            ..dns
        };
        dns.fix = Some(fix_hosts_line(&bad_dns[0], service, cluster_ip));
    } else if !unreachable.is_empty() {
        dns = CheckResult {
            verdict: super::Verdict::Warn,
            summary: format!("could not check {}", unreachable.join(", ")),
            ..dns
        };
    }
    if !stale.is_empty() {
        hosts = CheckResult {
            verdict: super::Verdict::Fail,
            summary: format!("stale {} line on {}", super::HOSTS_TAG, stale.join(", ")),
            ..hosts
        };
        hosts.fix = Some(fix_hosts_line(&stale.join(" and "), service, cluster_ip));
    }
    (dns, hosts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registry::Verdict;

    #[test]
    fn a_stale_node_is_named_with_the_fix() {
        let ip: IpAddr = "10.4.216.11".parse().expect("ip");
        let good = format!(
            "10.4.216.11     image-registry.cpaas-system.svc\n{SEPARATOR}\n127.0.0.1 localhost\n10.4.216.11 image-registry.cpaas-system image-registry.cpaas-system.svc image-registry.cpaas-system.svc.cluster.local # cpaas-generated-node-resolver\n"
        );
        let stale = good.replace("10.4.216.11", "10.4.9.9");
        let outs = vec![
            ("node-1".to_string(), Ok(good)),
            ("node-2".to_string(), Ok(stale)),
            ("node-3".to_string(), Err("connection refused".to_string())),
        ];
        let (dns, hosts) = evaluate(&outs, "image-registry", ip);
        assert_eq!(dns.verdict, Verdict::Fail);
        assert!(dns.summary.ends_with("on node-2"), "{}", dns.summary);
        assert_eq!(hosts.verdict, Verdict::Fail);
        assert!(hosts.summary.contains("node-2"));
        assert!(
            hosts
                .fix
                .and_then(|f| f.command)
                .is_some_and(|c| c.contains("echo '10.4.216.11 image-registry.cpaas-system"))
        );
        assert!(
            probe_command("image-registry")
                .starts_with("getent hosts image-registry.cpaas-system.svc;")
        );
    }
}
