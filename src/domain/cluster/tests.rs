//! Reading ACP's examples, keeping unknown fields and never printing secrets.

use super::*;
use kube::{CustomResourceExt, Resource};

const EXAMPLE: &str = r#"{
      "apiVersion": "platform.tkestack.io/v1",
      "kind": "Cluster",
      "metadata": {"name": "demo", "annotations": {"cpaas.io/network-type": "kube-ovn"}},
      "spec": {
        "type": "Baremetal",
        "version": "1.28.13",
        "clusterCIDR": "10.3.0.0/16",
        "serviceCIDR": "10.4.0.0/16",
        "properties": {"maxNodePodNum": 256},
        "features": {"ipvs": true, "ha": {"tke": {"vip": "192.168.0.10", "vrid": 137}}, "futureFlag": 1},
        "machines": [
          {"ip": "192.168.0.11", "port": 22, "role": "master", "username": "root", "password": "c2VjcmV0"},
          {"ip": "192.168.0.21", "port": 22, "role": "node", "username": "root", "privateKey": "a2V5", "passPhrase": "cHA=",
           "proxy": {"type": "SOCKS5", "address": "10.0.0.1:1080", "password": "cHc="}, "gpu": "yes"}
        ],
        "unknownTopLevel": {"a": [1, 2]}
      },
      "status": {
        "phase": "Initializing",
        "conditions": [
          {"type": "EnsureCopyFiles", "status": "True", "lastProbeTime": "2025-01-01T00:00:00Z", "lastTransitionTime": null},
          {"type": "EnsurePreflight", "status": "False", "reason": "FailedInit", "lastProbeTime": ""}
        ]
      }
    }"#;

fn example() -> Cluster {
    serde_json::from_str(EXAMPLE).expect("example parses")
}

#[test]
fn parses_acp_example_and_counts_roles() {
    let c = example();
    assert_eq!(c.phase(), ClusterPhase::Initializing);
    assert_eq!(c.control_plane_count(), 1);
    assert_eq!(c.worker_count(), 1);
    assert_eq!(c.annotation(annotations::NETWORK_TYPE), Some("kube-ovn"));
    let ha = c.spec.features.ha.as_ref().and_then(|h| h.tke.as_ref());
    assert_eq!(ha.map(|t| t.vrid), Some(Some(137)));
    let conds = &c.status.as_ref().expect("status").conditions;
    assert!(conds[0].last_probe_time.is_some());
    assert!(conds[0].last_transition_time.is_none());
    assert!(conds[1].last_probe_time.is_none());
}

#[test]
fn unknown_fields_survive_a_round_trip() {
    let c = example();
    assert!(c.spec.extra.contains_key("unknownTopLevel"));
    assert!(c.spec.features.extra.contains_key("futureFlag"));
    assert!(c.spec.machines[1].extra.contains_key("gpu"));
    let back: Cluster = serde_json::from_value(serde_json::to_value(&c).expect("ser")).expect("de");
    assert_eq!(back, c);
}

#[test]
fn empty_fields_are_not_serialized() {
    let mut c = Cluster::new("x", ClusterSpec::default());
    c.spec.type_ = CLUSTER_TYPE_BAREMETAL.into();
    c.spec.version = "1.30.1".into();
    let v = serde_json::to_value(&c).expect("ser");
    let spec = v["spec"].as_object().expect("spec object");
    let keys: Vec<_> = spec.keys().cloned().collect();
    assert_eq!(keys, vec!["type".to_string(), "version".to_string()]);
    assert_eq!(v["apiVersion"], "platform.tkestack.io/v1");
    assert_eq!(v["kind"], "Cluster");
}

#[test]
fn debug_never_prints_secrets() {
    let c = example();
    let dbg = format!("{c:?}");
    for secret in ["c2VjcmV0", "a2V5", "cHA=", "cHw="] {
        assert!(!dbg.contains(secret), "{secret} leaked in {dbg}");
    }
    assert!(dbg.contains(MASK));
    let mut cred = ClusterCredential::new("cc-1", ClusterCredentialFields::default());
    cred.spec.token = Some("tok-123".into());
    assert!(!format!("{cred:?}").contains("tok-123"));
}

#[test]
fn masking_replaces_every_machine_secret() {
    let masked = example().with_masked_secrets();
    let json = serde_json::to_string(&masked).expect("ser");
    for secret in ["c2VjcmV0", "a2V5", "cHA=", "cHw="] {
        assert!(!json.contains(secret));
    }
    assert_eq!(masked.spec.machines[0].password.as_deref(), Some(MASK));
    assert_eq!(masked.spec.machines[0].private_key, None);
}

#[test]
fn resource_identity() {
    assert_eq!(Cluster::group(&()), GROUP);
    assert_eq!(Cluster::version(&()), VERSION);
    assert_eq!(Cluster::plural(&()), "clusters");
    assert_eq!(Machine::plural(&()), "machines");
    assert_eq!(ClusterCredential::plural(&()), "clustercredentials");
    assert_eq!(
        Cluster::url_path(&(), None),
        "/apis/platform.tkestack.io/v1/clusters"
    );
    let crd = Cluster::crd();
    assert_eq!(crd.spec.scope, "Cluster");
    assert_eq!(crd.spec.names.short_names, Some(vec!["cls".to_string()]));
    assert!(Machine::crd().spec.versions[0].schema.is_some());
    assert!(ClusterCredential::crd().spec.versions[0].schema.is_some());
}

#[test]
fn credential_fields_sit_at_the_root() {
    let cc: ClusterCredential = serde_json::from_str(
        r#"{"apiVersion":"platform.tkestack.io/v1","kind":"ClusterCredential",
                "metadata":{"name":"cc-abc"},"clusterName":"demo","token":"t","caCert":"Y2E="}"#,
    )
    .expect("credential parses");
    assert_eq!(cc.spec.cluster_name, "demo");
    assert_eq!(cc.ca_cert_pem().as_deref(), Some(&b"ca"[..]));
}

#[test]
fn machine_shares_node_fields() {
    let m: Machine = serde_json::from_str(
            r#"{"apiVersion":"platform.tkestack.io/v1","kind":"Machine","metadata":{"name":"mc-1"},
                "spec":{"clusterName":"demo","type":"Baremetal","ip":"10.0.0.5","port":22,"username":"root","role":"node"},
                "status":{"phase":"Running"}}"#,
        )
        .expect("machine parses");
    assert_eq!(m.spec.machine.ip, "10.0.0.5");
    assert!(m.spec.machine.is_worker());
    assert_eq!(m.phase(), "Running");
    assert!(m.spec.machine.extra.is_empty());
}

#[test]
fn phase_parsing() {
    assert_eq!(ClusterPhase::parse(""), ClusterPhase::Initializing);
    assert_eq!(ClusterPhase::parse("Running").as_str(), "Running");
    assert_eq!(
        ClusterPhase::parse("Creating"),
        ClusterPhase::Other("Creating".into())
    );
}

/// ACP publishes `nodeCIDRMaskSize`; reading it must not drop the value into `extra`.
#[test]
fn status_node_cidr_mask_size_uses_acps_field_name() {
    let s: ClusterStatus =
        serde_json::from_value(serde_json::json!({"nodeCIDRMaskSize": 24})).expect("status");
    assert_eq!(s.node_cidr_mask_size, Some(24));
    assert!(s.extra.is_empty(), "{:?}", s.extra);
    let back = serde_json::to_value(&s).expect("json");
    assert_eq!(back["nodeCIDRMaskSize"], 24);
}
