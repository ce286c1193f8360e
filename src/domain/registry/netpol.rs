//! Would the namespace's NetworkPolicies let a pod reach the registry? Kubernetes semantics:
//! once any policy selects a pod for egress, only what some selecting policy allows gets out.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub type Labels = BTreeMap<String, String>;

/// Where the registry is, as policies can name it.
#[derive(Clone, Debug, Default)]
pub struct Destination {
    pub namespace_labels: Labels,
    /// The registry pods' labels (the Service selector is a subset that is good enough).
    pub pod_labels: Labels,
    /// ClusterIP and endpoint addresses.
    pub ips: Vec<IpAddr>,
    /// Service port and target port: a policy may name either, depending on the CNI.
    pub ports: Vec<i32>,
}

/// The outcome for one source pod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Egress {
    /// No policy restricts this pod's egress.
    Unrestricted,
    /// Restricted, and these policies allow the registry.
    AllowedBy(Vec<String>),
    /// Restricted by these policies and none of them allows the registry.
    BlockedBy(Vec<String>),
}

/// Evaluates the policies of the source pod's namespace for a pod with `pod_labels`.
pub fn evaluate(policies: &[NetworkPolicy], pod_labels: &Labels, dst: &Destination) -> Egress {
    let mut restricting = Vec::new();
    let mut allowing = Vec::new();
    for p in policies {
        let Some(spec) = &p.spec else { continue };
        let name = p.metadata.name.clone().unwrap_or_default();
        if !spec
            .pod_selector
            .as_ref()
            .is_none_or(|s| selects(s, pod_labels))
        {
            continue;
        }
        let egress_type = match &spec.policy_types {
            Some(t) => t.iter().any(|t| t == "Egress"),
            None => spec.egress.is_some(),
        };
        if !egress_type {
            continue;
        }
        let allows = spec.egress.iter().flatten().any(|rule| {
            ports_allow(rule.ports.as_deref(), &dst.ports)
                && match rule.to.as_deref() {
                    None | Some([]) => true,
                    Some(peers) => peers.iter().any(|peer| peer_allows(peer, dst)),
                }
        });
        if allows {
            allowing.push(name);
        } else {
            restricting.push(name);
        }
    }
    if !allowing.is_empty() {
        Egress::AllowedBy(allowing)
    } else if !restricting.is_empty() {
        Egress::BlockedBy(restricting)
    } else {
        Egress::Unrestricted
    }
}

fn ports_allow(rule: Option<&[NetworkPolicyPort]>, ports: &[i32]) -> bool {
    let Some(rule) = rule.filter(|r| !r.is_empty()) else {
        return true;
    };
    rule.iter().any(|p| {
        let tcp = p.protocol.as_deref().is_none_or(|s| s == "TCP");
        let port_ok = match &p.port {
            None => true,
            Some(IntOrString::Int(n)) => {
                let end = p.end_port.unwrap_or(*n);
                ports.iter().any(|x| (*n..=end).contains(x))
            }
            // A named port is the registry container's; "http"/"registry" are the ones in use.
            Some(IntOrString::String(_)) => true,
        };
        tcp && port_ok
    })
}

fn peer_allows(peer: &NetworkPolicyPeer, dst: &Destination) -> bool {
    if let Some(block) = &peer.ip_block {
        let Ok(net) = block.cidr.parse::<IpNet>() else {
            return false;
        };
        let except: Vec<IpNet> = block
            .except
            .iter()
            .flatten()
            .filter_map(|e| e.parse().ok())
            .collect();
        return dst
            .ips
            .iter()
            .any(|ip| net.contains(ip) && !except.iter().any(|e| e.contains(ip)));
    }
    let ns_ok = match &peer.namespace_selector {
        Some(sel) => selects(sel, &dst.namespace_labels),
        // A pod selector alone means the policy's own namespace, never the registry's.
        None => false,
    };
    let pod_ok = peer
        .pod_selector
        .as_ref()
        .is_none_or(|sel| selects(sel, &dst.pod_labels));
    ns_ok && pod_ok
}

/// Label selector semantics: every `matchLabels` pair and every expression must hold; an empty
/// selector selects everything.
pub fn selects(sel: &LabelSelector, labels: &Labels) -> bool {
    let labels_ok = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let expr_ok = sel.match_expressions.iter().flatten().all(|e| {
        let vals = e.values.as_deref().unwrap_or(&[]);
        let have = labels.get(&e.key);
        match e.operator.as_str() {
            "In" => have.is_some_and(|v| vals.contains(v)),
            "NotIn" => have.is_none_or(|v| !vals.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    });
    labels_ok && expr_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(yaml: &str) -> NetworkPolicy {
        serde_saphyr::from_str(yaml).expect("policy yaml")
    }

    fn dst() -> Destination {
        Destination {
            namespace_labels: [(
                "kubernetes.io/metadata.name".to_string(),
                "cpaas-system".to_string(),
            )]
            .into(),
            pod_labels: [("app".to_string(), "registry".to_string())].into(),
            ips: vec!["10.4.216.11".parse().expect("ip")],
            ports: vec![443, 5000],
        }
    }

    const DENY_ALL: &str =
        "metadata: {name: deny-egress}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n";
    const DNS_ONLY: &str = "metadata: {name: dns-only}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - ports: [{port: 53, protocol: UDP}]\n";
    const TO_REGISTRY: &str = "metadata: {name: to-registry}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n  egress:\n  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: cpaas-system}}\n    ports: [{port: 443}]\n";
    const IP_BLOCK: &str = "metadata: {name: cidr}\nspec:\n  podSelector: {matchLabels: {app: my-app}}\n  egress:\n  - to: [{ipBlock: {cidr: 10.4.0.0/16, except: [10.4.216.0/24]}}]\n";
    const INGRESS_ONLY: &str =
        "metadata: {name: ingress}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress]\n";

    #[test]
    fn no_policy_or_ingress_only_leaves_egress_open() {
        let l = Labels::new();
        assert_eq!(evaluate(&[], &l, &dst()), Egress::Unrestricted);
        assert_eq!(
            evaluate(&[policy(INGRESS_ONLY)], &l, &dst()),
            Egress::Unrestricted
        );
    }

    #[test]
    fn deny_all_and_dns_only_block_and_are_named() {
        let ps = [policy(DENY_ALL), policy(DNS_ONLY)];
        assert_eq!(
            evaluate(&ps, &Labels::new(), &dst()),
            Egress::BlockedBy(vec!["deny-egress".into(), "dns-only".into()])
        );
    }

    #[test]
    fn one_allowing_policy_is_enough() {
        let ps = [policy(DENY_ALL), policy(TO_REGISTRY)];
        assert_eq!(
            evaluate(&ps, &Labels::new(), &dst()),
            Egress::AllowedBy(vec!["to-registry".into()])
        );
    }

    #[test]
    fn ip_blocks_honour_except_and_pod_selectors() {
        let ps = [policy(IP_BLOCK)];
        let app: Labels = [("app".to_string(), "my-app".to_string())].into();
        assert_eq!(
            evaluate(&ps, &app, &dst()),
            Egress::BlockedBy(vec!["cidr".into()])
        );
        assert_eq!(evaluate(&ps, &Labels::new(), &dst()), Egress::Unrestricted);
        let mut d = dst();
        d.ips = vec!["10.4.1.1".parse().expect("ip")];
        assert_eq!(
            evaluate(&ps, &app, &d),
            Egress::AllowedBy(vec!["cidr".into()])
        );
    }
}
