//! Container Network: CIDRs, node IP count, Flannel capacity and Kube-OVN underlay.

use std::net::IpAddr;

use super::RECOMMENDED_MAX_PODS;
use super::finding::{Finding, Out, Severity, annotation};
use super::node_settings::NodeIps;
use crate::domain::cluster::annotations as ann;
use crate::domain::form::{
    ClusterForm, Cni, DEFAULT_CLUSTER_CIDR_V4, DEFAULT_CLUSTER_CIDR_V6, DEFAULT_JOIN_CIDR_V4,
    DEFAULT_JOIN_CIDR_V6, DEFAULT_SERVICE_CIDR_V4, DEFAULT_SERVICE_CIDR_V6, IpStack,
};
use crate::domain::network::{
    CidrError, Cidrs, IpFamily, MIN_SERVICE_ADDRESSES, flannel_max_nodes, node_mask_size, parse_ip,
    parse_ip_ranges, service_capacity,
};

/// "1 node" / "2 nodes".
pub(super) fn nodes(n: u128) -> String {
    if n == 1 {
        "1 node".into()
    } else {
        format!("{n} nodes")
    }
}

/// Flannel's verdict on the node IP count and the cluster CIDR: the finding [`check`]
/// reports, and the docs' capacity hint under the field when nothing is wrong.
pub(super) fn flannel_verdict(form: &ClusterForm, net: &ipnet::IpNet) -> Option<Finding> {
    let per_node = u64::from(form.network.node_ip_count);
    let family = IpFamily::of_net(net);
    let mask = node_mask_size(family, per_node)?;
    let finding = |severity, field: &str, message: String, hint: &str| Finding {
        field: field.into(),
        severity,
        message,
        hint: hint.into(),
    };
    // Each node's block loses its network address and the cni0 gateway (and, in IPv4, the
    // broadcast address), so a /31 or /32 (/127, /128) block has no address left for a pod.
    if family.bits() - mask < 2 {
        return Some(finding(
            Severity::Error,
            "spec.properties.maxNodePodNum",
            format!(
                "a node IP count of {per_node} gives each node a /{mask}, which has no address left for a pod"
            ),
            "Enter at least 4 pod IPs per node (ACP's default is 256)",
        ));
    }
    let max = flannel_max_nodes(net, per_node)?;
    let listed = form.nodes().len() as u128;
    let fix = "Use a larger cluster CIDR or a smaller node IP count";
    Some(if max == 0 {
        finding(
            Severity::Error,
            "spec.clusterCIDR",
            format!(
                "{net} is smaller than one node's block of {per_node} pod IPs, so it holds no node"
            ),
            fix,
        )
    } else if listed > max {
        finding(
            Severity::Error,
            "spec.clusterCIDR",
            format!(
                "{net} with {per_node} pod IPs per node holds at most {}, but {listed} are listed",
                nodes(max)
            ),
            fix,
        )
    } else {
        finding(
            Severity::Info,
            "spec.clusterCIDR",
            format!(
                "{net} gives each node {per_node} pod IPs and holds at most {}",
                nodes(max)
            ),
            "The cluster network cannot be changed later; leave room for the nodes you will add",
        )
    })
}

/// The docs' hint under Flannel's cluster CIDR: how many nodes the CIDR can hold, or why it
/// cannot hold the form's nodes. The same verdict [`check`] reports, so a row showing it
/// never contradicts the findings.
pub fn flannel_hint(form: &ClusterForm) -> Option<(Severity, String)> {
    if form.network.cni != Cni::Flannel {
        return None;
    }
    let cidrs = Cidrs::parse(&form.network.cluster_cidr, form.is_dual_stack()).ok()?;
    let net = cidrs.v4().or_else(|| cidrs.nets().first())?;
    flannel_verdict(form, net).map(|f| (f.severity, f.message))
}

/// How to fix a CIDR; the example is the form's default for that CIDR, so following the
/// hint never suggests a range that overlaps another default.
pub(super) fn cidr_hint(e: &CidrError, dual: bool, label: &str) -> String {
    let (v4, v6) = match label {
        "service CIDR" => (DEFAULT_SERVICE_CIDR_V4, DEFAULT_SERVICE_CIDR_V6),
        "join CIDR" => (DEFAULT_JOIN_CIDR_V4, DEFAULT_JOIN_CIDR_V6),
        _ => (DEFAULT_CLUSTER_CIDR_V4, DEFAULT_CLUSTER_CIDR_V6),
    };
    match e {
        CidrError::HostBits(_, n) => format!("Use the network address: {n}"),
        CidrError::NotDualStack => {
            "Give one CIDR, or choose IPv4/IPv6 dual stack for a v4,v6 pair".into()
        }
        _ if dual => {
            format!("Give an IPv4 and an IPv6 CIDR separated by a comma, e.g. {v4},{v6}")
        }
        _ => format!("Give a CIDR such as {v4}"),
    }
}

pub(super) fn check_network(form: &ClusterForm, ips: &NodeIps, o: &mut Out) {
    let dual = form.is_dual_stack();
    let stack = form.basic.ip_stack;
    let net = &form.network;
    let mut parsed: Vec<(&str, String, Cidrs)> = Vec::new();
    let join_field = annotation(ann::JOIN_CIDR);
    let mut fields: Vec<(&str, String, &str)> = vec![
        (
            "cluster CIDR",
            "spec.clusterCIDR".to_string(),
            net.cluster_cidr.as_str(),
        ),
        (
            "service CIDR",
            "spec.serviceCIDR".to_string(),
            net.service_cidr.as_str(),
        ),
    ];
    if form.is_kube_ovn_overlay() {
        fields.push((
            "join CIDR",
            join_field.clone(),
            net.kube_ovn.join_cidr.as_str(),
        ));
    }
    for (label, field, text) in fields {
        match Cidrs::parse(text, dual) {
            Err(CidrError::Empty) => o.err(
                field,
                format!("the {label} is empty"),
                cidr_hint(&CidrError::Empty, dual, label),
            ),
            Err(e) => o.err(field, format!("{label}: {e}"), cidr_hint(&e, dual, label)),
            Ok(c) => {
                let family_ok = match stack {
                    IpStack::DualStack => c.is_dual(),
                    IpStack::Ipv4 => c.v4().is_some(),
                    IpStack::Ipv6 => c.v6().is_some(),
                };
                if !family_ok {
                    let want = match stack {
                        IpStack::DualStack => "an IPv4,IPv6 pair for dual stack",
                        IpStack::Ipv4 => "an IPv4 CIDR",
                        IpStack::Ipv6 => "an IPv6 CIDR",
                    };
                    o.err(
                        field.clone(),
                        format!("the {label} {c} is not {want}"),
                        cidr_hint(&CidrError::Empty, dual, label),
                    );
                }
                parsed.push((label, field, c));
            }
        }
    }
    for i in 0..parsed.len() {
        for j in i + 1..parsed.len() {
            let (la, fa, a) = &parsed[i];
            let (lb, _, b) = &parsed[j];
            if let Some((x, y)) = a.overlap_with(b) {
                o.err(
                    fa.clone(),
                    format!("the {la} {x} overlaps the {lb} {y}"),
                    "The cluster, service and join CIDRs must not share any address; pick disjoint ranges",
                );
            }
        }
    }
    for (label, field, c) in &parsed {
        for (i, kind, a) in ips.all() {
            if c.contains(&a) {
                o.err(
                    field.clone(),
                    format!("the {label} {c} contains node {}'s address {a}", i + 1),
                    format!(
                        "Choose a {label} outside the node network (node {} is {kind} {a})",
                        i + 1
                    ),
                );
            }
        }
        if let Some(vip) = parse_ip(&form.basic.endpoint.address)
            && c.contains(&vip)
        {
            o.err(
                field.clone(),
                format!("the {label} {c} contains the cluster endpoint {vip}"),
                format!("Choose a {label} outside the node network"),
            );
        }
    }
    check_service_capacity_and_plugin(form, &parsed, o);
}

/// The service CIDR's size, then the checks of the chosen plugin.
fn check_service_capacity_and_plugin(
    form: &ClusterForm,
    parsed: &[(&str, String, Cidrs)],
    o: &mut Out,
) {
    let net = &form.network;
    if let Some((_, field, svc)) = parsed.iter().find(|(l, _, _)| *l == "service CIDR") {
        for n in svc.nets() {
            let cap = service_capacity(n);
            let max_bits = n.max_prefix_len().saturating_sub(n.prefix_len());
            if cap < MIN_SERVICE_ADDRESSES {
                o.err(
                    field.clone(),
                    format!("the service CIDR {n} has {cap} usable addresses; at least 10 are needed (the DNS service takes the 10th)"),
                    "Use a larger service CIDR, e.g. a /16 such as 10.4.0.0/16",
                );
            } else if max_bits > 20 {
                o.err(
                    field.clone(),
                    format!("the service CIDR {n} is larger than kube-apiserver accepts (at most 2^20 addresses)"),
                    match n {
                        ipnet::IpNet::V4(_) => "Use a /12 or smaller, e.g. 10.4.0.0/16",
                        ipnet::IpNet::V6(_) => "Use a /108 or smaller, e.g. fd00:10:96::/112",
                    },
                );
            } else if cap < 256 {
                o.warn(
                    field.clone(),
                    format!("the service CIDR {n} allows only {cap} services"),
                    "Use a larger range (e.g. a /16) unless the cluster will have very few services; it cannot be changed later",
                );
            }
        }
    }
    let cluster = parsed
        .iter()
        .find(|(l, _, _)| *l == "cluster CIDR")
        .map(|(_, _, c)| c);
    check_node_ip_count(form, o);
    match net.cni {
        Cni::KubeOvn if form.is_kube_ovn_underlay() => check_underlay(form, cluster, o),
        Cni::Flannel => {
            if let Some(c) = cluster {
                check_flannel(form, c, o);
            }
        }
        _ => {}
    }
    o.info(
        "spec.clusterCIDR",
        "the cluster network cannot be changed after creation",
        "Plan the CIDRs with room for growth",
    );
}

pub(super) fn check_node_ip_count(form: &ClusterForm, o: &mut Out) {
    let n = form.network.node_ip_count;
    let field = "spec.properties.maxNodePodNum";
    if n == 0 {
        o.err(
            field,
            "the node IP count is 0",
            "Enter how many pod IPs each node gets, e.g. 256",
        );
    } else if n > RECOMMENDED_MAX_PODS {
        o.warn(
            field,
            format!("{n} pods per node is above the recommended 256"),
            "Use 256 or fewer unless the nodes are sized for it",
        );
    }
}

pub(super) fn check_flannel(form: &ClusterForm, cluster: &Cidrs, o: &mut Out) {
    let Some(net) = cluster.v4().or_else(|| cluster.nets().first()) else {
        return;
    };
    if let Some(f) = flannel_verdict(form, net) {
        o.0.push(f);
    }
}

pub(super) fn check_underlay(form: &ClusterForm, cluster: Option<&Cidrs>, o: &mut Out) {
    let k = &form.network.kube_ovn;
    if form.node_settings.nic.trim().is_empty() {
        o.err(
            "spec.networkDevice",
            "Kube-OVN underlay needs the cluster NIC: the default NIC for bridge networking",
            "Enter the NIC dedicated to underlay traffic (not the one carrying SSH), e.g. eth1",
        );
    }
    let gw_field = annotation(ann::GATEWAY);
    if k.gateway.trim().is_empty() {
        o.err(
            gw_field,
            "Kube-OVN underlay needs the default gateway",
            "Enter the physical network's gateway for the cluster CIDR",
        );
    } else {
        match parse_ip(&k.gateway) {
            None => o.err(
                gw_field,
                format!("gateway `{}` is not an IP address", k.gateway),
                "Enter the physical gateway's IP address",
            ),
            Some(gw) => {
                let net = cluster.and_then(|c| c.nets().iter().find(|n| n.contains(&gw)));
                if cluster.is_some() && net.is_none() {
                    o.err(
                        gw_field,
                        format!(
                            "gateway {gw} is outside the cluster CIDR {}",
                            form.network.cluster_cidr
                        ),
                        "The gateway must be the cluster CIDR's gateway, inside its range",
                    );
                } else if let Some(net) = net
                    && let Some(what) = reserved_address(net, &gw)
                {
                    o.err(
                        gw_field,
                        format!("gateway {gw} is the {what} of {net}, not a host address"),
                        format!(
                            "Enter the physical gateway's own address, a host inside {net} such as {}",
                            first_host(net)
                        ),
                    );
                }
            }
        }
    }
    if k.vlan_id > 4095 {
        o.err(
            annotation(ann::VLAN_ID),
            format!("VLAN ID {} is outside 0-4095", k.vlan_id),
            "Enter the VLAN number of the physical network, 0 for untagged",
        );
    }
    match parse_ip_ranges(&k.reserved_ips) {
        Err(e) => o.err(
            annotation(ann::EXCLUDE_IPS),
            format!("reserved IPs: {e}"),
            "List addresses or ranges separated by commas, e.g. 10.3.0.1,10.3.0.10..10.3.0.20",
        ),
        Ok(ranges) => {
            if let Some(c) = cluster {
                for r in ranges {
                    if !c.contains(&r.start) || !c.contains(&r.end) {
                        o.err(
                            annotation(ann::EXCLUDE_IPS),
                            format!("reserved IPs {r} are not inside the cluster CIDR {c}"),
                            "Reserve only addresses of the cluster CIDR that other devices use",
                        );
                    }
                }
            }
        }
    }
    o.info(
        "spec.networkDevice",
        "underlay nodes need several NICs; the bridge NIC must carry only underlay traffic, not SSH",
        "Prepare the physical network for Kube-OVN underlay before creating the cluster",
    );
}

/// Why `ip` cannot be a host of `net`: its network address, or its IPv4 broadcast address.
/// A /31 or /32 (/127, /128) has no such addresses to set aside.
pub(super) fn reserved_address(net: &ipnet::IpNet, ip: &IpAddr) -> Option<&'static str> {
    if net.max_prefix_len() - net.prefix_len() < 2 {
        return None;
    }
    if *ip == net.network() {
        Some("network address")
    } else if matches!(net, ipnet::IpNet::V4(_)) && *ip == net.broadcast() {
        Some("broadcast address")
    } else {
        None
    }
}

/// The first host address of a network, for hints.
pub(super) fn first_host(net: &ipnet::IpNet) -> IpAddr {
    match net {
        ipnet::IpNet::V4(n) => IpAddr::V4(n.hosts().next().unwrap_or_else(|| n.network())),
        ipnet::IpNet::V6(n) => IpAddr::V6(u128::from(n.network()).saturating_add(1).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::tests::good;
    use crate::domain::rules::*;

    #[test]
    fn cidr_hints_suggest_each_cidr_its_own_default() {
        let mut f = good();
        f.network.kube_ovn.join_cidr.clear();
        f.network.service_cidr.clear();
        let found = check(&f, &RuleContext::default());
        let hint = |field: &str| {
            found
                .iter()
                .find(|x| x.field == field)
                .map(|x| x.hint.clone())
                .unwrap_or_default()
        };
        assert!(hint(&annotation(ann::JOIN_CIDR)).ends_with("100.64.0.0/16"));
        assert!(hint("spec.serviceCIDR").ends_with("10.4.0.0/16"));
        let vip: Vec<_> = {
            let mut f = good();
            f.basic.endpoint.self_built_vip = true;
            f.basic.endpoint.address = "192.168.1.100".into();
            check(&f, &RuleContext::default())
                .into_iter()
                .filter(|x| x.field == "spec.features.ha.tke.vip")
                .collect()
        };
        assert_eq!(vip.len(), 1, "{vip:#?}");
    }
}
