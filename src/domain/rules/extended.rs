//! Extended Parameters: component flags, APIServer URLs and annotations.

use std::collections::{BTreeMap, BTreeSet};

use super::basic_info::{is_dns_label, is_host};
use super::finding::{Out, annotation};
use super::{MAX_APISERVER_URL, RECOMMENDED_MAX_PODS};
use crate::domain::cluster::annotations as ann;
use crate::domain::form::{ClusterForm, KUBELET_MAX_PODS};
use crate::domain::network::{Cidrs, parse_ip, parse_ip_ranges};

/// Flags the platform sets itself; a user key with the same name overrides them.
pub(super) const CONTROLLER_MANAGER_DEFAULTS: [&str; 7] = [
    "allocate-node-cidrs",
    "cluster-cidr",
    "node-cidr-mask-size",
    "node-cidr-mask-size-ipv4",
    "node-cidr-mask-size-ipv6",
    "service-cluster-ip-range",
    "bind-address",
];
pub(super) const APISERVER_DEFAULTS: [&str; 5] = [
    "token-auth-file",
    "authorization-mode",
    "authorization-webhook-config-file",
    "service-cluster-ip-range",
    "service-node-port-range",
];
pub(super) fn is_qualified_name(s: &str) -> bool {
    let name_ok = |n: &str| {
        let b = n.as_bytes();
        !b.is_empty()
            && b.len() <= 63
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    };
    match s.split_once('/') {
        Some((prefix, name)) => {
            prefix.len() <= 253
                && !prefix.is_empty()
                && prefix.split('.').all(is_dns_label)
                && name_ok(name)
        }
        None => name_ok(s),
    }
}

pub(super) fn check_args(
    field: &str,
    label: &str,
    args: &BTreeMap<String, String>,
    defaults: &[&str],
    o: &mut Out,
) {
    for k in args.keys() {
        let f = format!("{field}[\"{k}\"]");
        if k.trim().is_empty() || k.chars().any(char::is_whitespace) {
            o.err(
                f,
                format!("{label} key `{k}` is empty or contains spaces"),
                "Enter the flag name only, e.g. max-pods",
            );
        } else if k.starts_with('-') {
            o.err(
                f,
                format!("{label} key `{k}` starts with '-'"),
                format!(
                    "Write the flag without dashes: {}",
                    k.trim_start_matches('-')
                ),
            );
        } else if defaults.contains(&k.as_str()) {
            o.warn(
                f,
                format!("{label} key `{k}` overrides the platform's default"),
                "Remove it unless you need to change the default; a wrong value can make the cluster unusable",
            );
        }
    }
}

pub(super) fn check_extended(form: &ClusterForm, o: &mut Out) {
    let e = &form.extended;
    let any_args = [
        &e.docker_args,
        &e.kubelet_args,
        &e.controller_manager_args,
        &e.scheduler_args,
        &e.apiserver_args,
    ]
    .iter()
    .any(|m| !m.is_empty());
    if any_args {
        o.info(
            "spec",
            "extended parameters cannot be changed after creation, and wrong values can make the cluster unusable",
            "Set only the parameters you need",
        );
    }
    check_args(
        "spec.dockerExtraArgs",
        "Docker parameter",
        &e.docker_args,
        &[],
        o,
    );
    check_args(
        "spec.kubeletExtraArgs",
        "kubelet parameter",
        &e.kubelet_args,
        &[],
        o,
    );
    check_args(
        "spec.controllerManagerExtraArgs",
        "controller-manager parameter",
        &e.controller_manager_args,
        &CONTROLLER_MANAGER_DEFAULTS,
        o,
    );
    check_args(
        "spec.schedulerExtraArgs",
        "scheduler parameter",
        &e.scheduler_args,
        &[],
        o,
    );
    check_args(
        "spec.apiServerExtraArgs",
        "APIServer parameter",
        &e.apiserver_args,
        &APISERVER_DEFAULTS,
        o,
    );
    check_max_pods_and_names(form, o);
}

/// Values of ACP's own annotation keys entered by hand.
pub(super) fn check_known_annotation(k: &str, v: &str, field: String, o: &mut Out) {
    let bad = match k {
        ann::NETWORK_TYPE => !["kube-ovn", "ovn", "calico", "flannel", "custom"].contains(&v),
        ann::TRANSMIT_TYPE => v != "overlay" && v != "underlay",
        ann::VLAN_ID => !v.parse::<u32>().is_ok_and(|n| n <= 4095),
        ann::JOIN_CIDR => Cidrs::parse(v, true).is_err(),
        ann::GATEWAY => parse_ip(v).is_none(),
        ann::EXCLUDE_IPS => parse_ip_ranges(v).is_err(),
        _ => false,
    };
    if bad {
        o.err(
            field,
            format!("`{v}` is not a valid value for {k}"),
            "Remove the annotation and set the value through the form",
        );
    }
}

/// The kubelet's max-pods, the APIServer URLs and the user's annotations.
fn check_max_pods_and_names(form: &ClusterForm, o: &mut Out) {
    let e = &form.extended;
    check_max_pods(form, o);
    let mut seen = BTreeSet::new();
    for (k, url) in e.apiserver_urls.iter().enumerate() {
        let f = format!("spec.publicAlternativeNames[{k}]");
        let t = url.trim();
        if t.len() > MAX_APISERVER_URL {
            o.err(
                f,
                format!(
                    "APIServer URL has {} characters; at most 253 are allowed",
                    t.len()
                ),
                "Shorten it",
            );
        } else if !is_host(t) {
            o.err(
                f,
                format!("APIServer URL `{url}` is not an IP address or domain"),
                "Enter only an IP or a domain, without scheme or port, e.g. k8s.example.com",
            );
        } else if !seen.insert(t) {
            o.warn(
                f,
                format!("APIServer URL {t} is listed twice"),
                "Remove the duplicate",
            );
        }
    }
    let generated = form.generated_annotations();
    for (k, v) in &e.annotations {
        let f = annotation(k);
        if !is_qualified_name(k) {
            o.err(
                f,
                format!("annotation key `{k}` is not valid"),
                "Use an optional DNS prefix and a name of letters, digits, '-', '_' or '.', e.g. example.com/owner",
            );
            continue;
        }
        if let Some(g) = generated.get(k)
            && g != v
        {
            o.warn(
                f.clone(),
                format!("annotation `{k}` overrides the value the form sets (`{g}`)"),
                "Remove it to use the form's setting",
            );
        }
        check_known_annotation(k, v, f, o);
    }
}

/// The kubelet's `max-pods`. Each hint speaks of the limit its own finding is about, so a
/// value within the recommended range is never told to stay within it.
fn check_max_pods(form: &ClusterForm, o: &mut Out) {
    let Some(v) = form.extended.kubelet_args.get(KUBELET_MAX_PODS) else {
        return;
    };
    let f = format!("spec.kubeletExtraArgs[\"{KUBELET_MAX_PODS}\"]");
    let count = form.network.node_ip_count;
    match v.trim().parse::<u32>() {
        Ok(n) if n > 0 => {
            if n != count {
                o.warn(
                    f.clone(),
                    format!("max-pods {n} overrides the default from the node IP count ({count})"),
                    format!(
                        "Remove it to use the node IP count ({count}), or keep it to allow at most {n} pods per node"
                    ),
                );
            }
            if n > RECOMMENDED_MAX_PODS {
                o.warn(
                    f,
                    format!("max-pods {n} is above the recommended {RECOMMENDED_MAX_PODS}"),
                    format!("Use {RECOMMENDED_MAX_PODS} or fewer"),
                );
            }
        }
        _ => o.err(
            f,
            format!("max-pods `{v}` is not a positive integer"),
            "Enter a positive whole number, e.g. 110",
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::rules::tests::good;
    use crate::domain::rules::*;

    /// The wizard once told a user with max-pods 110 to keep it "at 256 or less".
    #[test]
    fn a_max_pods_within_the_limit_is_never_told_to_respect_it() {
        for n in ["110", "256", "1"] {
            let mut f = good();
            f.extended.kubelet_args.insert("max-pods".into(), n.into());
            for x in check(&f, &RuleContext::default()) {
                let text = format!("{} {}", x.message, x.hint);
                assert!(
                    !text.contains("256 or less")
                        && !text.contains("256 or fewer")
                        && !text.contains("above the recommended"),
                    "max-pods {n}: {x:?}"
                );
            }
        }
        let mut f = good();
        f.extended
            .kubelet_args
            .insert("max-pods".into(), "300".into());
        let found = check(&f, &RuleContext::default());
        assert!(
            found.iter().any(|x| x.hint == "Use 256 or fewer"),
            "{found:#?}"
        );
    }
}
