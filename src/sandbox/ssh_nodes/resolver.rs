//! What a simulated node's resolver says about the registry Service: `getent hosts` answered
//! from its `/etc/hosts` (as nsswitch's `files` source comes first on ACP nodes) and the file
//! itself, with the `cpaas-generated-node-resolver` line ACP writes. A node of the registry
//! scenario keeps a stale line that still points at an old ClusterIP.

use std::net::IpAddr;

use crate::domain::registry::nodes::{SEPARATOR, probe_command};
use crate::domain::registry::rules::expected_hosts_line;
use crate::domain::registry::{SERVICE_NAMES, service_names};

/// The registry Service as one node sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeResolver {
    /// The Service's name in this node's cluster.
    pub service: String,
    /// The address the node's tagged hosts line points at (the ClusterIP, unless stale).
    pub line_ip: IpAddr,
}

/// The registry node probe's output on a node, or `None` when `command` is not that probe.
pub fn answer(
    resolver: Option<&NodeResolver>,
    hostname: &str,
    node_ip: IpAddr,
    command: &str,
) -> Option<String> {
    let asked = SERVICE_NAMES.iter().find(|s| probe_command(s) == command)?;
    let mut hosts = format!(
        "127.0.0.1   localhost localhost.localdomain\n::1         localhost localhost.localdomain\n{node_ip} {hostname}\n"
    );
    let mut getent = String::new();
    if let Some(r) = resolver.filter(|r| r.service == *asked) {
        // getent prints the address, the canonical name and the aliases of the matching line.
        getent = format!(
            "{:<15} {}\n",
            r.line_ip,
            service_names(&r.service).join(" ")
        );
        hosts.push_str(&expected_hosts_line(&r.service, r.line_ip));
        hosts.push('\n');
    }
    Some(format!("{getent}{SEPARATOR}\n{hosts}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registry::Verdict;
    use crate::domain::registry::nodes::evaluate;

    #[test]
    fn a_stale_line_is_what_the_registry_check_reports_and_others_pass() {
        let current: IpAddr = "10.4.216.11".parse().expect("ip");
        let node: IpAddr = "192.168.10.2".parse().expect("ip");
        let svc = "internal-docker-registry";
        let good = NodeResolver {
            service: svc.into(),
            line_ip: current,
        };
        let stale = NodeResolver {
            line_ip: "10.4.200.17".parse().expect("ip"),
            ..good.clone()
        };
        let cmd = probe_command(svc);
        let out = |r: &NodeResolver| answer(Some(r), "n", node, &cmd).expect("the probe");
        let outputs = vec![
            ("a".to_string(), Ok(out(&good))),
            ("b".to_string(), Ok(out(&stale))),
        ];
        let (dns, hosts) = evaluate(&outputs, svc, current);
        assert_eq!(dns.verdict, Verdict::Fail, "{dns:?}");
        assert_eq!(hosts.verdict, Verdict::Fail, "{hosts:?}");
        assert!(hosts.summary.ends_with("on b"), "{}", hosts.summary);
        let (dns, hosts) = evaluate(&outputs[..1], svc, current);
        assert_eq!((dns.verdict, hosts.verdict), (Verdict::Pass, Verdict::Pass));
        // The other Service name is unknown here: nothing resolves, no tagged line.
        let other =
            answer(Some(&good), "n", node, &probe_command("image-registry")).expect("the probe");
        assert!(other.starts_with(SEPARATOR), "{other}");
        assert!(!other.contains("cpaas-generated"), "{other}");
        assert_eq!(answer(Some(&good), "n", node, "uname -a"), None);
    }
}
