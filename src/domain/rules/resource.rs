//! Rules only a `Cluster` resource can fail: what the form cannot even hold.

use std::collections::BTreeSet;

use base64::Engine as _;

use super::RuleContext;
use super::finding::{Finding, Out, annotation, machine};
use crate::domain::cluster::{
    CLUSTER_TYPE_BAREMETAL, Cluster, ClusterMachine, PROXY_SOCKS5, ROLE_MASTER, ROLE_NODE,
    annotations as ann,
};
use crate::domain::form::{ANN_IMAGE_REGISTRY, ANN_MONITORING_TYPE, ClusterForm};

/// Checks a `Cluster` resource: the form's rules through the import mapping, plus what only
/// a resource can get wrong.
pub fn check_cluster(c: &Cluster, ctx: &RuleContext) -> Vec<Finding> {
    let mut found = super::check(&ClusterForm::from_cluster(c), ctx);
    // A resource written elsewhere says nothing about the page's monitoring and registry
    // choices; the defaults the import fills in are not the user's, so rules on them would
    // only be noise.
    let has = |k: &str| c.annotation(k).is_some();
    found.retain(|f| {
        let monitoring = f.field.starts_with("form.monitoring");
        let registry = f.field == "form.imageRegistry" || f.field == "form.privateRegistry";
        let unspoken =
            (monitoring && !has(ANN_MONITORING_TYPE)) || (registry && !has(ANN_IMAGE_REGISTRY));
        !unspoken
    });
    let s = &c.spec;
    // A port the form cannot hold reaches it as 0; the resource check below reports the
    // real number, so the form's "port is 0" would only contradict it.
    let bad_ports: BTreeSet<String> = s
        .machines
        .iter()
        .enumerate()
        .filter(|(_, m)| !(1..=65535).contains(&m.port))
        .map(|(i, _)| machine(i, "port"))
        .collect();
    // A secret that is not base64 reaches the form empty; "no password given" would
    // contradict the one finding that says what is wrong with it.
    let unreadable = unreadable_secrets(c);
    found.retain(|f| {
        !bad_ports.contains(&f.field) && !unreadable.iter().any(|u| u.field == f.field)
    });
    found.extend(unreadable);
    found.extend(super::unknown_fields(c));
    let mut o = Out(found);
    // ACP picks the network plugin from this annotation; without it the form's default
    // (Kube-OVN overlay) is what the rules above judged, which the file may not mean.
    if c.annotation(ann::NETWORK_TYPE).is_none() {
        o.warn(
            annotation(ann::NETWORK_TYPE),
            "the manifest names no network plugin, so it was checked as Kube-OVN (overlay), the Create page's default",
            "Add the annotation cpaas.io/network-type: kube-ovn, calico, flannel or custom",
        );
    }
    if s.type_ != CLUSTER_TYPE_BAREMETAL {
        o.err(
            "spec.type",
            format!("spec.type is `{}`, not `Baremetal`", s.type_),
            "Set spec.type to Baremetal: only on-premises clusters are created from a definition",
        );
    }
    if s.service_cidr.as_deref() == Some("") {
        o.err(
            "spec.serviceCIDR",
            "spec.serviceCIDR is an empty string",
            "Leave serviceCIDR out or give a CIDR such as 10.4.0.0/16",
        );
    }
    if s.service_cidr.is_some() && s.properties.max_cluster_service_num.is_some() {
        o.err(
            "spec.properties.maxClusterServiceNum",
            "maxClusterServiceNum cannot be combined with serviceCIDR",
            "Remove spec.properties.maxClusterServiceNum; the service CIDR sets the service count",
        );
    }
    if s.features.ipvs == Some(true) && s.service_cidr.is_none() {
        o.err(
            "spec.features.ipvs",
            "kube-proxy in ipvs mode needs spec.serviceCIDR",
            "Set spec.serviceCIDR, e.g. 10.4.0.0/16",
        );
    }
    if let Some(ha) = &s.features.ha
        && ha.tke.is_some()
        && ha.third_party.is_some()
    {
        o.err(
            "spec.features.ha",
            "both a self-built VIP (ha.tke) and a load balancer (ha.thirdParty) are set",
            "Keep only one: ha.tke for keepalived on the control-plane nodes, ha.thirdParty for an external load balancer",
        );
    }
    for (i, m) in s.machines.iter().enumerate() {
        check_machine(i, m, &mut o);
    }
    o.0
}

/// What a machine entry can get wrong that the form cannot hold.
fn check_machine(i: usize, m: &ClusterMachine, o: &mut Out) {
    if let Some(r) = m.role.as_deref()
        && r != ROLE_MASTER
        && r != ROLE_NODE
    {
        o.err(
            machine(i, "role"),
            format!("role `{r}` is neither `master` nor `node`"),
            "Use master for a control-plane node or node for a worker",
        );
    }
    if !(1..=65535).contains(&m.port) {
        o.err(
            machine(i, "port"),
            format!("SSH port {} is outside 1-65535", m.port),
            "Use the node's SSH port, usually 22",
        );
    }
    if let Some(p) = &m.proxy
        && p.type_ != PROXY_SOCKS5
    {
        o.err(
            machine(i, "proxy.type"),
            format!("proxy type `{}` is not supported", p.type_),
            "Only SOCKS5 proxies are supported; set proxy.type to SOCKS5",
        );
    }
}

/// The machine secrets a manifest holds as something other than base64 of text: the form
/// cannot take them over, so whoever imports the manifest must refuse it or say so, never
/// drop them. The findings name the field and how to encode it, never the value.
pub fn unreadable_secrets(c: &Cluster) -> Vec<Finding> {
    let mut o = Out(Vec::new());
    for (i, m) in c.spec.machines.iter().enumerate() {
        let proxy_password = m.proxy.as_ref().and_then(|p| p.password.as_ref());
        let secrets = [
            ("password", m.password.as_ref(), "the password"),
            ("privateKey", m.private_key.as_ref(), ""),
            ("passPhrase", m.pass_phrase.as_ref(), "the passphrase"),
            ("proxy.password", proxy_password, "the proxy password"),
        ];
        for (name, value, what) in secrets {
            if value.is_none_or(|v| is_base64_text(v)) {
                continue;
            }
            let encode = if what.is_empty() {
                "base64 -w0 < /path/to/private-key".to_string()
            } else {
                format!("printf %s '{what}' | base64 -w0")
            };
            o.err(
                machine(i, name),
                format!(
                    "{} is not base64: ACP reads node secrets base64-encoded",
                    machine(i, name)
                ),
                format!("Encode it and put the output in the file instead: {encode}"),
            );
        }
    }
    o.0
}

pub(super) fn is_base64_text(s: &str) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
        .is_some_and(|b| String::from_utf8(b).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::tests::{EXAMPLE, good};
    use crate::domain::rules::*;

    #[test]
    fn check_cluster_adds_resource_only_rules() {
        let good_cluster = good().to_cluster();
        let clean: Vec<_> = check_cluster(&good_cluster, &RuleContext::default())
            .into_iter()
            .filter(|x| x.severity != Severity::Info)
            .collect();
        assert!(clean.is_empty(), "{clean:#?}");

        let mut c = good_cluster.clone();
        c.spec.type_ = "Imported".into();
        c.spec.machines[0].role = Some("etcd".into());
        c.spec.machines[0].password = Some("***".into());
        c.spec.machines[1].port = 70000;
        c.spec.properties.max_cluster_service_num = Some(256);
        c.spec.features.ha.get_or_insert_default().tke = Some(Default::default());
        c.spec.machines[2].proxy = Some(crate::domain::cluster::MachineProxy {
            type_: "HTTP".into(),
            address: "10.0.0.1:3128".into(),
            ..Default::default()
        });
        let found = check_cluster(&c, &RuleContext::default());
        for field in [
            "spec.type",
            "spec.machines[0].role",
            "spec.machines[0].password",
            "spec.machines[1].port",
            "spec.properties.maxClusterServiceNum",
            "spec.features.ha",
            "spec.machines[2].proxy.type",
        ] {
            assert!(
                found
                    .iter()
                    .any(|x| x.field == field && x.severity == Severity::Error),
                "no error at {field}: {found:#?}"
            );
        }

        let ports: Vec<_> = found
            .iter()
            .filter(|x| x.field == "spec.machines[1].port")
            .collect();
        assert_eq!(ports.len(), 1, "one finding for one bad port: {ports:#?}");
        assert!(ports[0].message.contains("70000"), "{ports:#?}");

        let mut no_cni = good_cluster.clone();
        no_cni
            .metadata
            .annotations
            .get_or_insert_default()
            .remove(ann::NETWORK_TYPE);
        assert!(
            check_cluster(&no_cni, &RuleContext::default())
                .iter()
                .any(|x| x.severity == Severity::Warning
                    && x.field == annotation(ann::NETWORK_TYPE)
                    && x.message.contains("checked as Kube-OVN"))
        );

        let mut c = good_cluster;
        c.spec.service_cidr = None;
        c.spec.features.ipvs = Some(true);
        let found = check_cluster(&c, &RuleContext::default());
        assert!(found.iter().any(|x| x.field == "spec.features.ipvs"));
    }

    #[test]
    fn documented_example_validates() {
        let c = crate::domain::form::from_yaml(EXAMPLE).expect("example imports");
        let found = check_cluster(&c, &RuleContext::default());
        assert!(!has_errors(&found), "{found:#?}");
        // Nothing is said about monitoring, so nothing is reported about it.
        let warnings: Vec<_> = found
            .iter()
            .filter(|x| x.severity == Severity::Warning)
            .collect();
        assert!(warnings.is_empty(), "{warnings:#?}");
        let mut with_monitoring = c.clone();
        with_monitoring
            .metadata
            .annotations
            .get_or_insert_default()
            .insert(ANN_MONITORING_TYPE.into(), "prometheus".into());
        assert!(
            check_cluster(&with_monitoring, &RuleContext::default())
                .iter()
                .any(|x| x.field == "form.monitoring.nodes")
        );

        let broken = EXAMPLE
            .replace("vrid: 137", "vrid: 0")
            .replace("192.168.0.21", "192.168.0.11");
        let c = crate::domain::form::from_yaml(&broken).expect("still YAML");
        let found = check_cluster(&c, &RuleContext::default());
        for field in ["spec.features.ha.tke.vrid", "spec.machines[1].ip"] {
            assert!(
                found
                    .iter()
                    .any(|x| x.field == field && x.severity == Severity::Error),
                "no error at {field}: {found:#?}"
            );
        }
    }

    /// The documented example with every kind of secret in plain text.
    fn plain_secrets() -> String {
        EXAMPLE
            .replace("\"c2VjcmV0\"", "\"hunter2!\"")
            .replace(
                "\"LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K\"",
                "\"-----BEGIN OPENSSH PRIVATE KEY-----\"",
            )
            .replace(
                "passPhrase: \"cHA=\"}",
                "passPhrase: \"pp pp\", proxy: {type: SOCKS5, address: \"10.0.0.1:1080\", username: u, password: \"proxy pw\"}}",
            )
    }

    /// One finding per plain-text secret, naming the path and the encoding command, never
    /// the value, and no "no password given" beside it.
    #[test]
    fn a_plain_text_secret_gets_one_not_base64_finding() {
        let c = crate::domain::form::from_yaml(&plain_secrets()).expect("imports");
        let found = check_cluster(&c, &RuleContext::default());
        for (field, command) in [
            (
                "spec.machines[0].password",
                "printf %s 'the password' | base64 -w0",
            ),
            ("spec.machines[1].privateKey", "base64 -w0 < "),
            (
                "spec.machines[1].passPhrase",
                "printf %s 'the passphrase' | base64 -w0",
            ),
            (
                "spec.machines[1].proxy.password",
                "printf %s 'the proxy password' | base64 -w0",
            ),
        ] {
            let at: Vec<_> = found.iter().filter(|x| x.field == field).collect();
            assert_eq!(at.len(), 1, "one finding at {field}: {found:#?}");
            assert_eq!(at[0].severity, Severity::Error);
            assert!(
                at[0].message.contains(field) && at[0].message.contains("not base64"),
                "{at:#?}"
            );
            assert!(at[0].hint.contains(command), "{at:#?}");
        }
        let text = format!("{found:?}");
        for secret in ["hunter2!", "pp pp", "proxy pw", "BEGIN OPENSSH"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
        assert_eq!(unreadable_secrets(&c).len(), 4);
        assert!(unreadable_secrets(&good().to_cluster()).is_empty());
    }
}
