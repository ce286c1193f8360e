//! The form as the `Cluster` resource it creates.

use std::collections::BTreeMap;

use super::*;
use crate::domain::cluster::{
    CLUSTER_TYPE_BAREMETAL, Cluster, ClusterMachine, ClusterSpec, Ha, MachineProxy, PROXY_SOCKS5,
    ROLE_MASTER, ROLE_NODE, Taint, ThirdPartyHa, TkeHa, annotations as ann,
};

impl NodeForm {
    fn to_machine(&self) -> ClusterMachine {
        let mut taints = self.taints.clone();
        if self.is_control_plane() && !self.app_deployable && !taints.iter().any(is_master_taint) {
            taints.push(master_taint());
        }
        let (password, private_key, pass_phrase) = match self.auth {
            SshAuth::Password => (self.password.to_base64(), None, None),
            SshAuth::Key => (
                None,
                self.private_key.to_base64(),
                self.passphrase.to_base64(),
            ),
        };
        ClusterMachine {
            ip: self.ip.clone(),
            port: i32::from(self.ssh_port),
            username: self.ssh_username.clone(),
            password,
            private_key,
            pass_phrase,
            labels: self.labels.clone(),
            taints,
            role: Some(
                match self.role {
                    NodeType::ControlPlane => ROLE_MASTER,
                    NodeType::Worker => ROLE_NODE,
                }
                .into(),
            ),
            display_name: non_empty(&self.display_name),
            ipv6: non_empty(&self.ipv6),
            public_ip: non_empty(&self.ssh_ip),
            network_device: non_empty(&self.nic),
            annotations: self.annotations.clone(),
            proxy: self.proxy.enabled.then(|| MachineProxy {
                type_: PROXY_SOCKS5.into(),
                address: self.proxy.address.clone(),
                username: non_empty(&self.proxy.username),
                password: self.proxy.password.to_base64(),
            }),
            extra: self.extra.clone(),
        }
    }
}

pub(super) fn master_taint() -> Taint {
    Taint {
        key: MASTER_TAINT_KEY.into(),
        value: None,
        effect: "NoSchedule".into(),
        time_added: None,
    }
}

pub(super) fn is_master_taint(t: &Taint) -> bool {
    *t == master_taint()
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

impl ClusterForm {
    /// The annotations the form generates; a user annotation with the same key wins.
    pub fn generated_annotations(&self) -> BTreeMap<String, String> {
        let mut a = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            a.insert(k.to_string(), v);
        };
        let b = &self.basic;
        let runtime = if b.runtime_version.is_empty() {
            b.container_runtime.as_str().to_string()
        } else {
            format!("{}://{}", b.container_runtime.as_str(), b.runtime_version)
        };
        put(ann::CONTAINER_RUNTIME, runtime);
        put(
            ann::NETWORK_TYPE,
            self.network.cni.annotation_value().into(),
        );
        if self.network.cni == Cni::KubeOvn {
            let k = &self.network.kube_ovn;
            put(ann::TRANSMIT_TYPE, k.transmit.as_str().into());
            match k.transmit {
                TransmitMode::Overlay => {
                    if !k.join_cidr.is_empty() {
                        put(ann::JOIN_CIDR, k.join_cidr.clone());
                    }
                }
                TransmitMode::Underlay => {
                    if !self.node_settings.nic.is_empty() {
                        put(
                            ann::PROVIDER_NETWORK_INTERFACE,
                            self.node_settings.nic.clone(),
                        );
                    }
                    put(ann::VLAN_ID, k.vlan_id.to_string());
                    if !k.gateway.is_empty() {
                        put(ann::GATEWAY, k.gateway.clone());
                    }
                    if !k.reserved_ips.is_empty() {
                        put(ann::EXCLUDE_IPS, k.reserved_ips.clone());
                    }
                }
            }
        }
        if !b.platform_url.is_empty() {
            put(ann::PLATFORM_URL, b.platform_url.clone());
        }
        if !b.external_access.is_empty() {
            put(ANN_EXTERNAL_ACCESS, b.external_access.clone());
        }
        put(ANN_IMAGE_REGISTRY, b.image_registry.as_str().into());
        if b.image_registry == ImageRegistry::Private && !b.private_registry.is_empty() {
            put(ANN_IMAGE_REGISTRY_ADDRESS, b.private_registry.clone());
        }
        let m = &self.node_settings.monitoring;
        match m.kind {
            MonitoringKind::Prometheus => put(ANN_MONITORING_TYPE, "prometheus".into()),
            MonitoringKind::VictoriaMetrics => {
                put(ANN_MONITORING_TYPE, "victoriametrics".into());
                match m.vm_deploy {
                    VmDeploy::Full => put(ANN_MONITORING_DEPLOY, "full".into()),
                    VmDeploy::AgentOnly => {
                        put(ANN_MONITORING_DEPLOY, "agent".into());
                        if !m.vm_instance.is_empty() {
                            put(ANN_MONITORING_INSTANCE, m.vm_instance.clone());
                        }
                    }
                }
            }
        }
        if !m.nodes.is_empty() {
            put(ANN_MONITORING_NODES, m.nodes.join(","));
        }
        a
    }

    /// The kubelet args the form generates (`max-pods` from Node IP Count).
    pub fn generated_kubelet_args(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(
            KUBELET_MAX_PODS.to_string(),
            self.node_ip_count_i32().to_string(),
        )])
    }

    /// Node IP Count as the resource's `int32` holds it.
    fn node_ip_count_i32(&self) -> i32 {
        i32::try_from(self.network.node_ip_count).unwrap_or(i32::MAX)
    }

    /// The resource to create. Secrets are base64-encoded into it.
    pub fn to_cluster(&self) -> Cluster {
        let mut c = self
            .base
            .as_deref()
            .cloned()
            .unwrap_or_else(|| Cluster::new("", ClusterSpec::default()));
        let b = &self.basic;
        c.metadata.name = Some(b.name.clone());

        let mut annotations = self.extended.annotations.clone();
        for (k, v) in self.generated_annotations() {
            annotations.entry(k).or_insert(v);
        }
        c.metadata.annotations = (!annotations.is_empty()).then_some(annotations);

        let s = &mut c.spec;
        s.type_ = CLUSTER_TYPE_BAREMETAL.into();
        s.display_name = non_empty(&b.display_name);
        s.version = b.kubernetes_version.clone();
        s.cluster_cidr = non_empty(&self.network.cluster_cidr);
        s.service_cidr = non_empty(&self.network.service_cidr);
        s.network_device = non_empty(&self.node_settings.nic);
        s.hostname_as_nodename = Some(self.node_settings.node_naming == NodeNaming::Hostname);
        s.public_alternative_names = self.extended.apiserver_urls.clone();

        s.features.ipv6_dual_stack = Some(self.is_dual_stack());
        s.features.enable_master_schedule = Some(
            self.nodes()
                .iter()
                .any(|n| n.is_control_plane() && n.app_deployable),
        );
        s.features.ha = if b.endpoint.self_built_vip {
            Some(Ha {
                tke: Some(TkeHa {
                    vip: b.endpoint.address.clone(),
                    vrid: Some(i32::try_from(b.endpoint.vrid).unwrap_or(i32::MAX)),
                }),
                third_party: None,
            })
        } else if b.endpoint.address.trim().is_empty() {
            None
        } else {
            Some(Ha {
                tke: None,
                third_party: Some(ThirdPartyHa {
                    vip: b.endpoint.address.clone(),
                    vport: i32::from(b.endpoint.lb_port),
                }),
            })
        };
        s.properties.max_node_pod_num = Some(self.node_ip_count_i32());

        let e = &self.extended;
        s.docker_extra_args = e.docker_args.clone();
        s.kubelet_extra_args = e.kubelet_args.clone();
        for (k, v) in self.generated_kubelet_args() {
            s.kubelet_extra_args.entry(k).or_insert(v);
        }
        s.controller_manager_extra_args = e.controller_manager_args.clone();
        s.scheduler_extra_args = e.scheduler_args.clone();
        s.api_server_extra_args = e.apiserver_args.clone();
        s.machines = self.nodes().iter().map(NodeForm::to_machine).collect();
        c
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;

    use super::*;
    use crate::domain::form::tests::sample;

    #[test]
    fn maps_form_to_acp_resource() {
        let c = sample().to_cluster();
        assert_eq!(c.metadata.name.as_deref(), Some("demo"));
        assert_eq!(
            c.annotation(ann::CONTAINER_RUNTIME),
            Some("containerd://1.6.28-4")
        );
        assert_eq!(c.annotation(ann::NETWORK_TYPE), Some("kube-ovn"));
        assert_eq!(c.annotation(ann::TRANSMIT_TYPE), Some("overlay"));
        assert_eq!(c.annotation(ann::JOIN_CIDR), Some("100.64.0.0/16"));
        assert_eq!(c.spec.type_, "Baremetal");
        assert_eq!(c.spec.cluster_cidr.as_deref(), Some("10.3.0.0/16"));
        assert_eq!(c.spec.network_device.as_deref(), Some("eth0"));
        let ha = c.spec.features.ha.as_ref().and_then(|h| h.tke.as_ref());
        assert_eq!(
            ha.map(|t| (t.vip.as_str(), t.vrid)),
            Some(("192.168.0.10", Some(137)))
        );
        assert_eq!(c.spec.features.enable_master_schedule, Some(true));
        assert_eq!(c.spec.properties.max_node_pod_num, Some(256));
        assert_eq!(
            c.spec
                .kubelet_extra_args
                .get("max-pods")
                .map(String::as_str),
            Some("256")
        );
        let m0 = &c.spec.machines[0];
        assert_eq!(m0.password.as_deref(), Some(B64.encode("s3cret!").as_str()));
        assert!(m0.taints.is_empty());
        let m1 = &c.spec.machines[1];
        assert_eq!(m1.role.as_deref(), Some("node"));
        assert!(m1.password.is_none());
        assert_eq!(m1.pass_phrase.as_deref(), Some(B64.encode("pp").as_str()));
        let p = m1.proxy.as_ref().expect("proxy");
        assert_eq!(p.type_, "SOCKS5");
        assert_eq!(p.password.as_deref(), Some(B64.encode("proxy-pw").as_str()));
    }

    #[test]
    fn control_plane_without_apps_gets_the_master_taint() {
        let mut f = sample();
        f.node_settings.nodes[0].app_deployable = false;
        let c = f.to_cluster();
        assert_eq!(c.spec.machines[0].taints, vec![master_taint()]);
        assert_eq!(c.spec.features.enable_master_schedule, Some(false));
        let back = ClusterForm::from_cluster(&c);
        assert!(!back.nodes()[0].app_deployable);
        assert!(back.nodes()[0].taints.is_empty());
    }

    #[test]
    fn user_keys_override_generated_ones() {
        let mut f = sample();
        f.extended
            .kubelet_args
            .insert("max-pods".into(), "110".into());
        f.extended
            .annotations
            .insert(ann::NETWORK_TYPE.into(), "cilium".into());
        let c = f.to_cluster();
        assert_eq!(c.spec.kubelet_extra_args["max-pods"], "110");
        assert_eq!(c.annotation(ann::NETWORK_TYPE), Some("cilium"));
        // Imported, the overrides stay user entries and so stay overrides.
        let back = ClusterForm::from_cluster(&c);
        assert_eq!(back.extended.kubelet_args["max-pods"], "110");
        assert_eq!(back.extended.annotations[ann::NETWORK_TYPE], "cilium");
        assert_eq!(back.to_cluster(), c);
    }
}
