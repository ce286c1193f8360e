//! Node Settings: the machines, their SSH access, NICs, node naming and monitoring.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use super::endpoint::family_ok;
use super::finding::{Out, machine};
use super::platform::RuleContext;
use crate::domain::form::{
    ClusterForm, Cni, IpStack, MonitoringKind, NodeNaming, SshAuth, VmDeploy,
};
use crate::domain::network::{parse_host_port, parse_ip};

/// Each node's parsed addresses, indexed like the nodes.
pub(super) struct NodeIps {
    pub(super) ip: Vec<Option<IpAddr>>,
    pub(super) ipv6: Vec<Option<IpAddr>>,
}

impl NodeIps {
    pub(super) fn of(form: &ClusterForm) -> Self {
        Self {
            ip: form.nodes().iter().map(|n| parse_ip(&n.ip)).collect(),
            ipv6: form.nodes().iter().map(|n| parse_ip(&n.ipv6)).collect(),
        }
    }

    pub(super) fn all(&self) -> impl Iterator<Item = (usize, &'static str, IpAddr)> + '_ {
        let v4 = self
            .ip
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.map(|a| (i, "ip", a)));
        let v6 = self
            .ipv6
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.map(|a| (i, "ipv6", a)));
        v4.chain(v6)
    }
}
pub(super) fn check_nodes(form: &ClusterForm, ips: &NodeIps, o: &mut Out) {
    let nodes = form.nodes();
    let cp = nodes.iter().filter(|n| n.is_control_plane()).count();
    if cp == 0 {
        o.err(
            "spec.machines",
            "the cluster has no control-plane node",
            "Add at least one control-plane node (three for high availability)",
        );
    } else if cp % 2 == 0 {
        o.warn(
            "spec.machines",
            format!(
                "{cp} control-plane nodes tolerate no more failures than {}: etcd needs a majority, so an even count adds no safety",
                cp - 1
            ),
            "Use an odd number of control-plane nodes: 1, 3 or 5",
        );
    }
    let mut seen: BTreeMap<IpAddr, usize> = BTreeMap::new();
    for (i, n) in nodes.iter().enumerate() {
        let hint_ip = "Enter the node's private IP address, e.g. 192.168.0.11";
        if n.ip.trim().is_empty() {
            o.err(
                machine(i, "ip"),
                format!("node {} has no IP address", i + 1),
                hint_ip,
            );
        } else if ips.ip[i].is_none() {
            o.err(
                machine(i, "ip"),
                format!("`{}` is not an IP address", n.ip),
                hint_ip,
            );
        }
        if !n.ipv6.trim().is_empty() {
            match ips.ipv6[i] {
                Some(IpAddr::V6(_)) => {}
                _ => o.err(
                    machine(i, "ipv6"),
                    format!("`{}` is not an IPv6 address", n.ipv6),
                    "Enter the node's IPv6 address, e.g. fd00::11",
                ),
            }
        }
        for (field, addr) in [("ip", ips.ip[i]), ("ipv6", ips.ipv6[i])] {
            let Some(a) = addr else { continue };
            match seen.get(&a) {
                Some(first) => o.err(
                    machine(i, field),
                    format!("{a} is also the address of node {}", first + 1),
                    "Every node needs its own address; remove the duplicate node or correct the IP",
                ),
                None => {
                    seen.insert(a, i);
                }
            }
        }
        if !n.ssh_ip.trim().is_empty() && parse_ip(&n.ssh_ip).is_none() {
            o.err(
                machine(i, "publicIP"),
                format!("SSH connection IP `{}` is not an IP address", n.ssh_ip),
                "Enter the node's public or NAT address, or leave it empty when ssh user@<node IP> works",
            );
        }
        if !n.bridge_network.is_empty() {
            o.err(
                format!("form.nodes[{i}].bridgeNetwork"),
                "a bridge network cannot be associated while creating a cluster",
                "Leave it empty; associate bridge networks when adding nodes to a cluster that has underlay subnets",
            );
        }
        check_ssh(i, n, o);
    }
}

pub(super) fn check_nodes_in_use(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    if ctx.nodes_in_use.is_empty() {
        return;
    }
    for (i, n) in form.nodes().iter().enumerate() {
        for (field, addr) in [("ip", n.ip.trim()), ("ipv6", n.ipv6.trim())] {
            let Some(cluster) = ctx.nodes_in_use.get(addr).filter(|_| !addr.is_empty()) else {
                continue;
            };
            o.err(
                machine(i, field),
                format!("{addr} is already a node of cluster {cluster}"),
                format!(
                    "Use a machine that belongs to no cluster, or remove it from {cluster} first"
                ),
            );
        }
    }
}

pub(super) fn check_ssh(i: usize, n: &crate::domain::form::NodeForm, o: &mut Out) {
    if n.ssh_port == 0 {
        o.err(
            machine(i, "port"),
            "the SSH port is 0",
            "Use the node's SSH port, 1-65535, usually 22",
        );
    }
    let user = n.ssh_username.trim();
    if user.is_empty() {
        o.err(
            machine(i, "username"),
            "no SSH username",
            "Enter a user with root privileges, e.g. root",
        );
    } else if user != "root" {
        o.info(
            machine(i, "username"),
            format!("`{user}` must have root privileges"),
            "Use root, or make sure the user has passwordless sudo",
        );
    }
    match n.auth {
        SshAuth::Password if n.password.is_empty() => o.err(
            machine(i, "password"),
            "no SSH password or private key is given",
            "Enter the SSH password, or switch to key login and give the private key",
        ),
        SshAuth::Key if n.private_key.is_empty() && n.key_path.trim().is_empty() => o.err(
            machine(i, "privateKey"),
            "key login is chosen but no private key is given",
            "Choose the private key file (with root privileges), or switch to password login",
        ),
        SshAuth::Key
            if n.key_path.trim().is_empty()
                && !n.private_key.is_empty()
                && !n.private_key.expose().contains("PRIVATE KEY") =>
        {
            o.warn(
                machine(i, "privateKey"),
                "the private key does not look like a PEM or OpenSSH private key",
                "Give the key file's full text, starting with -----BEGIN ... PRIVATE KEY-----",
            )
        }
        _ => {}
    }
    if n.proxy.enabled {
        if let Err(e) = parse_host_port(&n.proxy.address) {
            o.err(
                machine(i, "proxy.address"),
                format!("proxy access URL: {e}"),
                "Enter the SOCKS5 proxy as host:port, e.g. 192.168.1.1:1080",
            );
        }
        if !n.proxy.username.is_empty() && n.proxy.password.is_empty() {
            o.warn(
                machine(i, "proxy.password"),
                "a proxy username is set without a password",
                "Enter the proxy password, or clear the username if the proxy needs no login",
            );
        }
    }
}
pub(super) fn check_stack(form: &ClusterForm, ips: &NodeIps, o: &mut Out) {
    let stack = form.basic.ip_stack;
    for (i, n) in form.nodes().iter().enumerate() {
        if let Some(a) = ips.ip[i]
            && !family_ok(stack, &a)
        {
            let want = if stack == IpStack::Ipv6 {
                "IPv6"
            } else {
                "IPv4"
            };
            o.err(
                machine(i, "ip"),
                format!("{a} is not an {want} address, as the cluster's network protocol requires"),
                format!(
                    "Enter the node's {want} address here, or change the cluster network protocol"
                ),
            );
        }
        match stack {
            IpStack::DualStack if n.ipv6.trim().is_empty() => o.err(
                machine(i, "ipv6"),
                format!(
                    "node {} has no IPv6 address, which dual stack requires",
                    i + 1
                ),
                "Configure an IPv6 address on the node and enter it",
            ),
            IpStack::Ipv4 | IpStack::Ipv6 if !n.ipv6.trim().is_empty() => o.warn(
                machine(i, "ipv6"),
                "an IPv6 address is set but the cluster is not dual stack, so it is ignored",
                "Clear it, or choose IPv4/IPv6 dual stack",
            ),
            _ => {}
        }
    }
    if stack == IpStack::DualStack {
        o.info(
            "spec.features.ipv6DualStack",
            "the network protocol cannot be changed after creation",
            "Make sure every node has a working IPv6 address before creating",
        );
    }
}
pub(super) fn is_nic_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'/' && b != b':')
}

pub(super) fn monitored_nic(s: &str) -> bool {
    ["eth", "en", "wl", "ww"].iter().any(|p| s.starts_with(p))
}

pub(super) fn check_nic(field: String, nic: &str, o: &mut Out) {
    if nic.is_empty() {
        return;
    }
    if !is_nic_name(nic) {
        o.err(
            field,
            format!("`{nic}` is not a valid interface name"),
            "Use the NIC name shown by `ip link`, at most 15 characters, e.g. eth0",
        );
    } else if !monitored_nic(nic) {
        o.warn(
            field,
            format!("traffic on `{nic}` will not be monitored: platform monitoring only recognizes NICs named like eth*, en*, wl*, ww*"),
            "After the cluster is added, follow \"Collect Network Data from Custom-Named Network Interfaces\"",
        );
    }
}

pub(super) fn check_nics(form: &ClusterForm, o: &mut Out) {
    check_nic("spec.networkDevice".into(), &form.node_settings.nic, o);
    let node_nic_used = matches!(form.network.cni, Cni::KubeOvn);
    for (i, n) in form.nodes().iter().enumerate() {
        check_nic(machine(i, "networkDevice"), &n.nic, o);
        if !n.nic.is_empty() && !node_nic_used {
            o.warn(
                machine(i, "networkDevice"),
                "a node NIC only takes effect with Kube-OVN; Calico and Flannel use the cluster NIC or the default route's NIC",
                "Set the cluster NIC instead, or clear the node NIC",
            );
        }
    }
}

pub(super) fn check_node_naming(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    if form.node_settings.node_naming != NodeNaming::Hostname {
        return;
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut dup = false;
    for (i, n) in form.nodes().iter().enumerate() {
        let Some(h) = ctx.hostnames.get(n.ip.trim()) else {
            continue;
        };
        match seen.get(h.as_str()) {
            Some(first) => {
                dup = true;
                o.err(
                    "spec.hostnameAsNodename",
                    format!("nodes {} and {} both have the hostname `{h}`", first + 1, i + 1),
                    "Give every node a unique hostname (hostnamectl set-hostname), or name nodes by IP",
                );
            }
            None => {
                seen.insert(h.as_str(), i);
            }
        }
    }
    if !dup {
        o.info(
            "spec.hostnameAsNodename",
            "nodes will be named by hostname, so every node's hostname must be unique",
            "Check the hostnames of all nodes, including ones added later",
        );
    }
}

pub(super) fn check_monitoring(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    let m = &form.node_settings.monitoring;
    if m.kind == MonitoringKind::VictoriaMetrics && m.vm_deploy == VmDeploy::AgentOnly {
        let inst = m.vm_instance.trim();
        if inst.is_empty() {
            o.err(
                "form.monitoring.vmInstance",
                "VictoriaMetrics agent only needs an existing VictoriaMetrics instance",
                "Choose the VictoriaMetrics instance deployed on another cluster, or deploy full VictoriaMetrics",
            );
        } else if let Some(list) = &ctx.vm_instances
            && !list.iter().any(|l| l == inst)
        {
            o.err(
                "form.monitoring.vmInstance",
                format!("there is no VictoriaMetrics instance `{inst}` on the platform"),
                format!("Choose one of: {}", list.join(", ")),
            );
        }
    }
    let needs_nodes =
        !(m.kind == MonitoringKind::VictoriaMetrics && m.vm_deploy == VmDeploy::AgentOnly);
    if needs_nodes && m.nodes.is_empty() && !form.nodes().is_empty() {
        o.warn(
            "form.monitoring.nodes",
            "no monitoring nodes are selected",
            "Select the nodes for the monitoring components (preferably worker nodes)",
        );
    }
    let mut seen = BTreeSet::new();
    let has_workers = form.nodes().iter().any(|n| !n.is_control_plane());
    for (k, ip) in m.nodes.iter().enumerate() {
        let field = format!("form.monitoring.nodes[{k}]");
        if !seen.insert(ip.trim()) {
            o.warn(
                field,
                format!("{ip} is selected twice"),
                "Remove the duplicate",
            );
            continue;
        }
        match form.nodes().iter().find(|n| n.ip.trim() == ip.trim()) {
            None => o.err(
                field,
                format!("monitoring node {ip} is not one of the cluster's nodes"),
                "Select monitoring nodes among the nodes added above",
            ),
            Some(n) if !n.allows_applications() => o.err(
                field,
                format!("control-plane node {ip} does not allow applications, so it cannot host monitoring"),
                "Choose a worker node, or enable Application Deployable on this node",
            ),
            Some(n) if n.is_control_plane() && has_workers => o.info(
                field,
                format!("monitoring on control-plane node {ip} may affect cluster performance"),
                "Prefer worker nodes for monitoring components",
            ),
            Some(_) => {}
        }
    }
}
