//! Round trips of the whole form through the resource and YAML.

use super::*;
use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

use crate::domain::cluster::{Taint, annotations as ann};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;

pub(super) fn sample() -> ClusterForm {
    let mut f = ClusterForm::new();
    f.basic.name = "demo".into();
    f.basic.kubernetes_version = "1.30.4".into();
    f.basic.runtime_version = "1.6.28-4".into();
    f.basic.endpoint = EndpointForm {
        address: "192.168.0.10".into(),
        self_built_vip: true,
        ..EndpointForm::default()
    };
    f.node_settings.nic = "eth0".into();
    f.node_settings.nodes = vec![
        NodeForm {
            ip: "192.168.0.11".into(),
            password: "s3cret!".into(),
            app_deployable: true,
            ..NodeForm::default()
        },
        NodeForm {
            role: NodeType::Worker,
            ip: "192.168.0.21".into(),
            auth: SshAuth::Key,
            private_key: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n".into(),
            passphrase: "pp".into(),
            proxy: ProxyForm {
                enabled: true,
                address: "10.0.0.1:1080".into(),
                username: "u".into(),
                password: "proxy-pw".into(),
            },
            ..NodeForm::default()
        },
    ];
    f
}

#[test]
fn round_trip_of_the_sample() {
    let f = sample();
    let back = ClusterForm::from_cluster(&f.to_cluster());
    assert_eq!(
        ClusterForm {
            base: None,
            ..back.clone()
        },
        f.canonical()
    );
    assert_eq!(back.nodes()[0].password.expose(), "s3cret!");
    assert_eq!(back.nodes()[1].proxy.password.expose(), "proxy-pw");
}

#[test]
fn import_keeps_what_the_form_does_not_model() {
    let yaml = r#"
apiVersion: platform.tkestack.io/v1
kind: Cluster
metadata:
  name: demo
  resourceVersion: "42"
  labels: {team: sre}
  annotations:
    cpaas.io/network-type: calico
    cpaas.io/container-runtime: "cri-o://1.29"
    example.com/owner: me
spec:
  type: Baremetal
  version: "1.31.2"
  clusterCIDR: 10.3.0.0/16
  dnsDomain: corp.local
  features: {ipvs: true, gpuType: Physical}
  etcd: {local: {dataDir: /data/etcd}}
  clusterCredentialRef: {name: cc-abcde}
  machines:
  - {ip: 10.0.0.1, port: 22, username: root, password: cHc=, futureField: 1}
status: {phase: Running}
"#;
    let c = from_yaml(yaml).expect("imports");
    let f = ClusterForm::from_cluster(&c);
    assert_eq!(f.network.cni, Cni::Calico);
    assert_eq!(
        f.extended.annotations["cpaas.io/container-runtime"],
        "cri-o://1.29"
    );
    assert_eq!(f.extended.annotations["example.com/owner"], "me");
    assert!(!f.extended.annotations.contains_key(ann::NETWORK_TYPE));
    assert_eq!(f.nodes()[0].password.expose(), "pw");
    assert!(f.nodes()[0].app_deployable);
    let out = f.to_cluster();
    assert_eq!(out.spec.dns_domain.as_deref(), Some("corp.local"));
    assert_eq!(out.spec.features.ipvs, Some(true));
    assert_eq!(out.spec.features.gpu_type.as_deref(), Some("Physical"));
    assert!(out.spec.etcd.is_some());
    assert!(out.spec.machines[0].extra.contains_key("futureField"));
    assert_eq!(
        out.annotation("cpaas.io/container-runtime"),
        Some("cri-o://1.29")
    );
    assert_eq!(out.metadata.resource_version, None);
    assert_eq!(out.spec.cluster_credential_ref, None);
    assert!(out.status.is_none());
    assert_eq!(
        out.metadata.labels.as_ref().map(|l| l["team"].as_str()),
        Some("sre")
    );
}

#[test]
fn yaml_round_trip_and_masking() {
    let c = sample().to_cluster();
    let text = to_yaml(&c, false).expect("yaml");
    assert_eq!(from_yaml(&text).expect("reads back"), c);
    let masked = to_yaml(&c, true).expect("masked yaml");
    assert!(!masked.contains(&B64.encode("s3cret!")));
    assert!(!masked.contains(&B64.encode("proxy-pw")));
    assert!(masked.contains(crate::domain::cluster::MASK));
}

#[test]
fn exported_yaml_snapshot() {
    let text = to_yaml(&sample().to_cluster(), true).expect("yaml");
    insta::assert_snapshot!(text);
}

#[test]
fn import_errors() {
    assert_eq!(from_yaml("  \n"), Err(ImportError::Empty));
    assert!(matches!(from_yaml("a: [b"), Err(ImportError::Yaml(_))));
    assert!(matches!(from_yaml("- 1\n- 2"), Err(ImportError::Shape(_))));
    assert!(matches!(
        from_yaml("apiVersion: v1\nkind: ConfigMap\n"),
        Err(ImportError::WrongKind { .. })
    ));
    assert!(matches!(
        from_yaml("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nspec: {version: 1.30}\n"),
        Err(ImportError::Field { path, .. }) if path == "spec.version"
    ));
    assert!(matches!(
        from_yaml("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nspec: {machines: 3}\n"),
        Err(ImportError::Shape(_))
    ));
    let big = "#".repeat(MAX_YAML_BYTES + 1);
    assert!(matches!(from_yaml(&big), Err(ImportError::TooLarge(_))));
}

/// A second document and a binary file get plain words and a fix, never the parser's API.
#[test]
fn multiple_documents_and_binary_input_are_named_plainly() {
    let one = "apiVersion: platform.tkestack.io/v1\nkind: Cluster\nmetadata: {name: a}\nspec: {type: Baremetal}\n";
    assert!(from_yaml(one).is_ok());
    let two = format!("{one}---\n{one}");
    let e = from_yaml(&two).expect_err("two documents");
    assert_eq!(e, ImportError::MultipleDocuments);
    let lead = format!("---\n{one}---\napiVersion: v1\nkind: ConfigMap\n");
    assert_eq!(from_yaml(&lead), Err(ImportError::MultipleDocuments));
    let mut binary = b"\x7fELF\x02\x01\x01\x00\x00".to_vec();
    binary.extend_from_slice(one.as_bytes());
    assert!(matches!(
        from_yaml_bytes(&binary),
        Err(ImportError::Binary(_))
    ));
    assert!(matches!(
        from_yaml_bytes(&[0xff, 0xfe, b'a', b':', b' ', b'1']),
        Err(ImportError::Binary(_))
    ));
    assert!(from_yaml_bytes(one.as_bytes()).is_ok());
    for e in [
        ImportError::MultipleDocuments,
        ImportError::Binary("NUL bytes"),
    ] {
        let text = format!("{e} {}", e.hint());
        assert!(
            !text.contains("from_str") && !text.contains("saphyr"),
            "{text}"
        );
        assert!(!e.hint().is_empty());
    }
}

#[test]
fn hostile_yaml_is_refused_quickly() {
    let mut bomb = String::from("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nspec:\n");
    bomb.push_str("  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        bomb.push_str(&format!("  a{i}: &a{i} [{refs}]\n"));
    }
    assert!(matches!(from_yaml(&bomb), Err(ImportError::Yaml(_))));
    let deep = format!("spec: {}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert!(matches!(from_yaml(&deep), Err(ImportError::Yaml(_))));
}

fn text() -> impl Strategy<Value = String> {
    "[a-z0-9./:,-]{0,12}"
}

fn secret() -> impl Strategy<Value = Secret> {
    ".{0,16}".prop_map(Secret::new)
}

fn args() -> impl Strategy<Value = BTreeMap<String, String>> {
    btree_map("[a-z][a-z-]{0,8}", text(), 0..3)
}

fn node() -> impl Strategy<Value = NodeForm> {
    (
        (any::<bool>(), text(), text(), any::<bool>(), text(), text()),
        (text(), text(), any::<u16>(), text(), any::<bool>()),
        (
            any::<bool>(),
            text(),
            text(),
            secret(),
            secret(),
            secret(),
            secret(),
        ),
        (
            args(),
            vec(
                (
                    "[a-z/.]{1,10}",
                    proptest::option::of(text()),
                    "NoSchedule|NoExecute",
                ),
                0..3,
            ),
            args(),
            btree_map("x-[a-z]{1,6}", any::<i32>().prop_map(Value::from), 0..2),
        ),
    )
        .prop_map(|(a, b, c, d)| NodeForm {
            role: if a.0 {
                NodeType::ControlPlane
            } else {
                NodeType::Worker
            },
            ip: a.1,
            ipv6: a.2,
            app_deployable: a.3,
            display_name: a.4,
            ssh_ip: a.5,
            nic: b.0,
            bridge_network: b.1,
            ssh_port: b.2,
            ssh_username: b.3,
            auth: if b.4 { SshAuth::Key } else { SshAuth::Password },
            proxy: ProxyForm {
                enabled: c.0,
                address: c.1,
                username: c.2,
                password: c.3,
            },
            password: c.4,
            private_key: c.5,
            passphrase: c.6,
            labels: d.0,
            taints: d
                .1
                .into_iter()
                .map(|(key, value, effect)| Taint {
                    key,
                    value,
                    effect,
                    time_added: None,
                })
                .collect(),
            annotations: d.2,
            extra: d.3,
            key_path: String::new(),
        })
}

prop_compose! {
    fn form()(
        basic in (text(), text(), text(), any::<bool>(), text(), 0u8..3, text(), any::<bool>(), any::<u32>(), any::<u16>(), text(), text()),
        registry in (0u8..3, text()),
        net in (0u8..4, text(), text(), any::<u32>(), any::<bool>(), text(), text(), any::<u32>(), text()),
        ns in (text(), any::<bool>(), vec(node(), 0..4), any::<bool>(), any::<bool>(), text(), vec("[0-9.]{1,8}", 0..3)),
        ext in (args(), args(), args(), args(), args(), vec(text(), 0..3), btree_map("example\\.com/[a-z]{1,6}", text(), 0..3)),
    ) -> ClusterForm {
        ClusterForm {
            basic: BasicInfo {
                name: basic.0,
                display_name: basic.1,
                kubernetes_version: basic.2,
                container_runtime: if basic.3 { ContainerRuntime::Docker } else { ContainerRuntime::Containerd },
                runtime_version: basic.4,
                ip_stack: [IpStack::Ipv4, IpStack::Ipv6, IpStack::DualStack][usize::from(basic.5)],
                endpoint: EndpointForm { address: basic.6, self_built_vip: basic.7, vrid: basic.8, lb_port: basic.9 },
                external_access: basic.10,
                platform_url: basic.11,
                image_registry: [ImageRegistry::PlatformBuiltIn, ImageRegistry::Private, ImageRegistry::Public][usize::from(registry.0)],
                private_registry: registry.1,
            },
            network: NetworkForm {
                cni: [Cni::KubeOvn, Cni::Calico, Cni::Flannel, Cni::Custom][usize::from(net.0)],
                cluster_cidr: net.1,
                service_cidr: net.2,
                node_ip_count: net.3,
                kube_ovn: KubeOvnForm {
                    transmit: if net.4 { TransmitMode::Underlay } else { TransmitMode::Overlay },
                    join_cidr: net.5,
                    gateway: net.6,
                    vlan_id: net.7,
                    reserved_ips: net.8,
                },
            },
            node_settings: NodeSettings {
                nic: ns.0,
                node_naming: if ns.1 { NodeNaming::Hostname } else { NodeNaming::Ip },
                nodes: ns.2,
                monitoring: MonitoringForm {
                    kind: if ns.3 { MonitoringKind::VictoriaMetrics } else { MonitoringKind::Prometheus },
                    vm_deploy: if ns.4 { VmDeploy::AgentOnly } else { VmDeploy::Full },
                    vm_instance: ns.5,
                    nodes: ns.6,
                },
            },
            extended: ExtendedParams {
                docker_args: ext.0,
                kubelet_args: ext.1,
                controller_manager_args: ext.2,
                scheduler_args: ext.3,
                apiserver_args: ext.4,
                apiserver_urls: ext.5,
                annotations: ext.6,
            },
            base: None,
        }
    }
}

proptest! {
    #[test]
    fn form_resource_form_round_trip(f in form()) {
        let c = f.to_cluster();
        let back = ClusterForm::from_cluster(&c);
        prop_assert_eq!(ClusterForm { base: None, ..back.clone() }, f.canonical());
        // And the resource itself is stable from there on, YAML included.
        prop_assert_eq!(back.to_cluster(), c.clone());
        let yaml = to_yaml(&c, false).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(from_yaml(&yaml).map_err(|e| TestCaseError::fail(e.to_string()))?, c);
    }

    #[test]
    fn from_yaml_never_panics(s in ".{0,200}") {
        let _ = from_yaml(&s);
    }

    #[test]
    fn from_yaml_never_panics_on_cluster_like_input(
        body in "[a-zA-Z0-9 :,\\[\\]{}\"'\n-]{0,200}"
    ) {
        let doc = format!("apiVersion: platform.tkestack.io/v1\nkind: Cluster\nspec:\n  {body}");
        if let Ok(c) = from_yaml(&doc) {
            let _ = ClusterForm::from_cluster(&c).to_cluster();
        }
    }
}
