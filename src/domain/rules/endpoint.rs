//! The cluster endpoint: a load balancer or a self-built VIP in front of the control plane.

use std::net::IpAddr;

use super::finding::Out;
use super::node_settings::NodeIps;
use super::platform::RuleContext;
use crate::domain::form::{ClusterForm, DEFAULT_LB_PORT, IpStack};
use crate::domain::network::{IpFamily, assumed_host_prefix, is_domain, parse_ip, same_subnet};

pub(super) fn family_ok(stack: IpStack, a: &IpAddr) -> bool {
    match stack {
        IpStack::Ipv4 | IpStack::DualStack => IpFamily::of_addr(a) == IpFamily::V4,
        IpStack::Ipv6 => IpFamily::of_addr(a) == IpFamily::V6,
    }
}

pub(super) fn check_endpoint(form: &ClusterForm, ctx: &RuleContext, ips: &NodeIps, o: &mut Out) {
    let e = &form.basic.endpoint;
    let addr = e.address.trim();
    let cps: Vec<(usize, IpAddr)> = form
        .nodes()
        .iter()
        .enumerate()
        .filter(|(_, n)| n.is_control_plane())
        .filter_map(|(i, _)| ips.ip[i].map(|a| (i, a)))
        .collect();
    let cp_count = form.nodes().iter().filter(|n| n.is_control_plane()).count();
    let field = if e.self_built_vip {
        "spec.features.ha.tke.vip"
    } else {
        "spec.features.ha.thirdParty.vip"
    };
    // The VRID is judged whatever the VIP holds, so a bad one is never hidden behind a
    // missing address.
    if e.self_built_vip && !(1..=255).contains(&e.vrid) {
        o.err(
            "spec.features.ha.tke.vrid",
            format!("VRID {} is outside 1-255", e.vrid),
            "Use a VRID from 1 to 255 that no other VRRP router in the subnet uses (default 137)",
        );
    }
    if addr.is_empty() {
        if e.self_built_vip {
            o.err(
                field,
                "self-built VIP is on but no VIP is entered",
                "Enter a free IP address in the control-plane nodes' subnet",
            );
        } else if cp_count > 1 {
            o.err(
                "spec.features.ha",
                format!("{cp_count} control-plane nodes need a load balancer, but no cluster endpoint is set"),
                "Enter the load balancer's VIP or a domain resolving to it, or enable self-built VIP",
            );
        } else if cp_count == 1 {
            o.warn(
                "spec.features.ha",
                "no cluster endpoint: the control-plane node's own IP becomes the endpoint, and the cluster can never be scaled to several control-plane nodes",
                "Provide a load balancer address even for a single-node cluster",
            );
        }
        return;
    }
    let ip = parse_ip(addr);
    if e.self_built_vip {
        check_self_built_vip(form, ctx, ips, &cps, ip, o);
    } else {
        check_load_balancer(form, ips, &cps, ip, o);
    }
}

/// A self-built VIP: a free address of the nodes' family, in the control-plane subnet.
fn check_self_built_vip(
    form: &ClusterForm,
    ctx: &RuleContext,
    ips: &NodeIps,
    cps: &[(usize, IpAddr)],
    ip: Option<IpAddr>,
    o: &mut Out,
) {
    let addr = form.basic.endpoint.address.trim();
    let field = "spec.features.ha.tke.vip";
    let Some(vip) = ip else {
        let msg = if is_domain(addr) {
            format!("`{addr}` is a domain; a self-built VIP must be an IP address")
        } else {
            format!("`{addr}` is not an IP address")
        };
        o.err(
            field,
            msg,
            "Enter a free IP address in the control-plane nodes' subnet, or use a load balancer for a domain",
        );
        return;
    };
    if !family_ok(form.basic.ip_stack, &vip) {
        o.err(
            field,
            format!("the VIP {vip} is not of the cluster's IP family"),
            "Use an address of the family the nodes' primary IPs use",
        );
    }
    for (i, _, a) in ips.all() {
        if a == vip {
            o.err(
                field,
                format!("the VIP {vip} is the address of node {}", i + 1),
                "The VIP must be a free address, different from every node IP",
            );
        }
    }
    let (prefix, known) = match IpFamily::of_addr(&vip) {
        IpFamily::V4 => (ctx.subnet_prefix_v4, ctx.subnet_prefix_v4.is_some()),
        IpFamily::V6 => (ctx.subnet_prefix_v6, ctx.subnet_prefix_v6.is_some()),
    };
    let prefix = prefix.unwrap_or_else(|| assumed_host_prefix(IpFamily::of_addr(&vip)));
    // One finding for the VIP, naming every node it does not share a subnet with.
    let apart: Vec<String> = cps
        .iter()
        .filter(|(_, a)| !same_subnet(&vip, a, prefix))
        .map(|(i, a)| format!("{} ({a})", i + 1))
        .collect();
    if !apart.is_empty() {
        let msg = format!(
            "the VIP {vip} is not in the same /{prefix} subnet as control-plane node{} {}",
            if apart.len() == 1 { "" } else { "s" },
            apart.join(", ")
        );
        let hint = "All control-plane nodes and the VIP must share one subnet";
        if known {
            o.err(field, msg, hint);
        } else {
            o.warn(
                field,
                msg,
                format!("{hint}; /{prefix} is assumed because the nodes' netmask is not known yet"),
            );
        }
    }
    o.info(
        "spec.features.ha.tke",
        "a self-built VIP needs a host network that allows VRRP and a VRID unique in the subnet",
        "A hardware load balancer performs better and is simpler to run; use one when available",
    );
}

/// An external load balancer (or a domain resolving to it) that forwards to every
/// control-plane node.
fn check_load_balancer(
    form: &ClusterForm,
    ips: &NodeIps,
    cps: &[(usize, IpAddr)],
    ip: Option<IpAddr>,
    o: &mut Out,
) {
    let e = &form.basic.endpoint;
    let addr = e.address.trim();
    let field = "spec.features.ha.thirdParty.vip";
    let cp_count = form.nodes().iter().filter(|n| n.is_control_plane()).count();
    match ip {
        Some(lb) => {
            if let Some((i, _)) = cps.iter().find(|(_, a)| *a == lb) {
                if cp_count == 1 {
                    o.warn(
                        field,
                        format!("the endpoint {lb} is the only control-plane node's own IP, so the cluster can never be scaled to several control-plane nodes"),
                        "Put a load balancer (or a domain resolving to it) in front, even for a single node",
                    );
                } else {
                    o.warn(
                        field,
                        format!("the endpoint {lb} is control-plane node {}'s own IP, so the API is down whenever that node is", i + 1),
                        "Use a load balancer's VIP that forwards to every control-plane node, or enable self-built VIP",
                    );
                }
                return;
            }
            if let Some((i, _, _)) = ips.all().find(|(_, _, a)| *a == lb) {
                o.err(
                    field,
                    format!(
                        "the endpoint {lb} is worker node {}'s IP, which runs no API server",
                        i + 1
                    ),
                    "Use a load balancer's VIP or domain",
                );
                return;
            }
        }
        None if !is_domain(addr) => {
            o.err(
                field,
                format!("`{addr}` is neither an IP address nor a domain"),
                "Enter the load balancer's VIP, or a domain that resolves to it, without a port",
            );
            return;
        }
        None => {}
    }
    if e.lb_port != DEFAULT_LB_PORT {
        o.warn(
            "spec.features.ha.thirdParty.vport",
            format!("load balancer port {} is not 6443", e.lb_port),
            "ACP expects the load balancer to listen on 6443",
        );
    }
    o.info(
        field,
        "the load balancer must forward ports 6443, 11780 and 11781 to every control-plane node",
        "Configure these three ports on the load balancer before creating the cluster",
    );
}
