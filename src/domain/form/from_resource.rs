//! A `Cluster` resource (an imported file or a cluster on the platform) as the form.

use std::collections::BTreeMap;

use super::to_resource::is_master_taint;
use super::*;
use crate::domain::cluster::{Cluster, ClusterMachine, ClusterSpec, annotations as ann};

impl NodeForm {
    fn from_machine(m: &ClusterMachine) -> Self {
        let role = if m.is_worker() {
            NodeType::Worker
        } else {
            NodeType::ControlPlane
        };
        let mut taints = m.taints.clone();
        let mut app_deployable = false;
        if role == NodeType::ControlPlane {
            let before = taints.len();
            taints.retain(|t| !is_master_taint(t));
            app_deployable = taints.len() == before;
        }
        let auth = if m.password.is_none() && (m.private_key.is_some() || m.pass_phrase.is_some()) {
            SshAuth::Key
        } else {
            SshAuth::Password
        };
        Self {
            role,
            ip: m.ip.clone(),
            ipv6: m.ipv6.clone().unwrap_or_default(),
            app_deployable,
            display_name: m.display_name.clone().unwrap_or_default(),
            ssh_ip: m.public_ip.clone().unwrap_or_default(),
            nic: m.network_device.clone().unwrap_or_default(),
            bridge_network: String::new(),
            ssh_port: u16::try_from(m.port).unwrap_or(0),
            ssh_username: m.username.clone(),
            proxy: m
                .proxy
                .as_ref()
                .map(|p| ProxyForm {
                    enabled: true,
                    address: p.address.clone(),
                    username: p.username.clone().unwrap_or_default(),
                    password: Secret::from_base64(p.password.as_deref()),
                })
                .unwrap_or_default(),
            auth,
            key_path: String::new(),
            password: Secret::from_base64(m.password.as_deref()),
            private_key: Secret::from_base64(m.private_key.as_deref()),
            passphrase: Secret::from_base64(m.pass_phrase.as_deref()),
            labels: m.labels.clone(),
            taints,
            annotations: m.annotations.clone(),
            extra: m.extra.clone(),
        }
    }
}

/// Infers single-stack family from the cluster CIDR's first entry.
fn stack_of_cidr(cidr: &str) -> IpStack {
    if cidr.split(',').next().is_some_and(|s| s.contains(':')) {
        IpStack::Ipv6
    } else {
        IpStack::Ipv4
    }
}

impl ClusterForm {
    /// The form for an existing resource (an imported YAML or a cluster on the platform).
    /// Everything the form holds comes back exactly as [`ClusterForm::to_cluster`] wrote it;
    /// everything else is kept in [`ClusterForm::base`].
    pub fn from_cluster(c: &Cluster) -> Self {
        let s = &c.spec;
        let mut user_ann = c.metadata.annotations.clone().unwrap_or_default();
        let get = |k: &str| user_ann.get(k).cloned();

        let (container_runtime, runtime_version) = runtime_of(get(ann::CONTAINER_RUNTIME));
        let cluster_cidr = s.cluster_cidr.clone().unwrap_or_default();
        let ip_stack = if s.features.ipv6_dual_stack == Some(true) {
            IpStack::DualStack
        } else {
            stack_of_cidr(&cluster_cidr)
        };
        let endpoint = endpoint_of(s);

        let cni = get(ann::NETWORK_TYPE)
            .and_then(|v| Cni::from_annotation(&v))
            .unwrap_or_default();
        let nic = s.network_device.clone().unwrap_or_default();
        let mut kube_ovn = KubeOvnForm::default();
        if cni == Cni::KubeOvn {
            if get(ann::TRANSMIT_TYPE).as_deref() == Some("underlay") {
                kube_ovn.transmit = TransmitMode::Underlay;
                kube_ovn.gateway = get(ann::GATEWAY).unwrap_or_default();
                kube_ovn.reserved_ips = get(ann::EXCLUDE_IPS).unwrap_or_default();
                kube_ovn.vlan_id = get(ann::VLAN_ID).and_then(|v| v.parse().ok()).unwrap_or(0);
            } else {
                kube_ovn.join_cidr = get(ann::JOIN_CIDR).unwrap_or_default();
            }
        }

        let (image_registry, private_registry) = match get(ANN_IMAGE_REGISTRY).as_deref() {
            Some("private") => (
                ImageRegistry::Private,
                get(ANN_IMAGE_REGISTRY_ADDRESS).unwrap_or_default(),
            ),
            Some("public") => (ImageRegistry::Public, String::new()),
            _ => (ImageRegistry::PlatformBuiltIn, String::new()),
        };

        let monitoring = monitoring_of(&user_ann);

        let max_pods_arg = s
            .kubelet_extra_args
            .get(KUBELET_MAX_PODS)
            .and_then(|v| v.parse::<u32>().ok());
        let node_ip_count = match s.properties.max_node_pod_num {
            Some(n) => u32::try_from(n).unwrap_or(0),
            None => max_pods_arg.unwrap_or(DEFAULT_NODE_IP_COUNT),
        };

        let mut form = Self {
            basic: BasicInfo {
                name: c.metadata.name.clone().unwrap_or_default(),
                display_name: s.display_name.clone().unwrap_or_default(),
                kubernetes_version: s.version.clone(),
                container_runtime,
                runtime_version,
                ip_stack,
                endpoint,
                external_access: get(ANN_EXTERNAL_ACCESS).unwrap_or_default(),
                platform_url: get(ann::PLATFORM_URL).unwrap_or_default(),
                image_registry,
                private_registry,
            },
            network: NetworkForm {
                cni,
                cluster_cidr,
                service_cidr: s.service_cidr.clone().unwrap_or_default(),
                node_ip_count,
                kube_ovn,
            },
            node_settings: NodeSettings {
                nic,
                node_naming: if s.hostname_as_nodename == Some(true) {
                    NodeNaming::Hostname
                } else {
                    NodeNaming::Ip
                },
                nodes: s.machines.iter().map(NodeForm::from_machine).collect(),
                monitoring,
            },
            extended: ExtendedParams {
                docker_args: s.docker_extra_args.clone(),
                kubelet_args: s.kubelet_extra_args.clone(),
                controller_manager_args: s.controller_manager_extra_args.clone(),
                scheduler_args: s.scheduler_extra_args.clone(),
                apiserver_args: s.api_server_extra_args.clone(),
                apiserver_urls: s.public_alternative_names.clone(),
                annotations: BTreeMap::new(),
            },
            base: None,
        };

        // A value the form regenerates identically is the form's; anything else stays the
        // user's and, being the user's, wins on export.
        for (k, v) in form.generated_annotations() {
            if user_ann.get(&k) == Some(&v) {
                user_ann.remove(&k);
            }
        }
        form.extended.annotations = user_ann;
        for (k, v) in form.generated_kubelet_args() {
            if form.extended.kubelet_args.get(&k) == Some(&v) {
                form.extended.kubelet_args.remove(&k);
            }
        }

        let base = base_of(c);
        form.base = Some(Box::new(base));
        form
    }

    /// This form with every field the resource cannot carry in the current mode set to what
    /// an import would give: fields of other CNIs and modes, the unselected SSH secret, a
    /// worker's Application Deployable, and so on. `from_cluster(&f.to_cluster())` equals
    /// `f.canonical()` except when a user annotation or kubelet arg overrides a generated one.
    pub fn canonical(&self) -> Self {
        let mut f = self.clone();
        let b = &mut f.basic;
        if b.ip_stack != IpStack::DualStack {
            b.ip_stack = stack_of_cidr(&f.network.cluster_cidr);
        }
        if b.image_registry != ImageRegistry::Private {
            b.private_registry.clear();
        }
        let e = &mut b.endpoint;
        if e.self_built_vip {
            e.lb_port = DEFAULT_LB_PORT;
        } else {
            e.vrid = DEFAULT_VRID;
            if e.address.trim().is_empty() {
                *e = EndpointForm::default();
            }
        }
        e.vrid = e.vrid.min(i32::MAX as u32);
        let n = &mut f.network;
        n.node_ip_count = n.node_ip_count.min(i32::MAX as u32);
        match (n.cni, n.kube_ovn.transmit) {
            (Cni::KubeOvn, TransmitMode::Overlay) => {
                n.kube_ovn = KubeOvnForm {
                    join_cidr: n.kube_ovn.join_cidr.clone(),
                    ..KubeOvnForm::default()
                };
            }
            (Cni::KubeOvn, TransmitMode::Underlay) => {
                n.kube_ovn.join_cidr = DEFAULT_JOIN_CIDR_V4.into();
            }
            _ => n.kube_ovn = KubeOvnForm::default(),
        }
        let m = &mut f.node_settings.monitoring;
        match (m.kind, m.vm_deploy) {
            (MonitoringKind::Prometheus, _) => {
                m.vm_deploy = VmDeploy::default();
                m.vm_instance.clear();
            }
            (MonitoringKind::VictoriaMetrics, VmDeploy::Full) => m.vm_instance.clear(),
            (MonitoringKind::VictoriaMetrics, VmDeploy::AgentOnly) => {}
        }
        for node in &mut f.node_settings.nodes {
            node.bridge_network.clear();
            node.key_path.clear();
            match node.auth {
                SshAuth::Password => {
                    node.private_key = Secret::default();
                    node.passphrase = Secret::default();
                }
                SshAuth::Key => node.password = Secret::default(),
            }
            if node.auth == SshAuth::Key
                && node.private_key.is_empty()
                && node.passphrase.is_empty()
            {
                node.auth = SshAuth::Password;
            }
            if !node.proxy.enabled {
                node.proxy = ProxyForm::default();
            }
            if node.is_control_plane() {
                if node.taints.iter().any(is_master_taint) {
                    node.app_deployable = false;
                    node.taints.retain(|t| !is_master_taint(t));
                }
            } else {
                node.app_deployable = false;
            }
        }
        let gen_kubelet = f.generated_kubelet_args();
        f.extended
            .kubelet_args
            .retain(|k, v| gen_kubelet.get(k) != Some(v));
        f
    }
}

/// The runtime and its version from `cpaas.io/container-runtime`, e.g. `containerd://1.6.28-4`.
fn runtime_of(annotation: Option<String>) -> (ContainerRuntime, String) {
    match annotation {
        Some(v) => {
            let (rt, ver) = v.split_once("://").unwrap_or((v.as_str(), ""));
            match rt {
                "docker" => (ContainerRuntime::Docker, ver.to_string()),
                _ => (ContainerRuntime::Containerd, ver.to_string()),
            }
        }
        None => (ContainerRuntime::Containerd, String::new()),
    }
}

/// The endpoint from `spec.features.ha`; a value the form cannot hold becomes 0, which the
/// rules report.
fn endpoint_of(s: &ClusterSpec) -> EndpointForm {
    let mut endpoint = EndpointForm::default();
    if let Some(ha) = &s.features.ha {
        if let Some(t) = &ha.tke {
            endpoint.self_built_vip = true;
            endpoint.address = t.vip.clone();
            endpoint.vrid = t
                .vrid
                .map_or(DEFAULT_VRID, |v| u32::try_from(v).unwrap_or(0));
        } else if let Some(t) = &ha.third_party {
            endpoint.address = t.vip.clone();
            endpoint.lb_port = u16::try_from(t.vport).unwrap_or(0);
        }
    }
    endpoint
}

/// The monitoring choice from the cockpit's own annotations.
fn monitoring_of(annotations: &BTreeMap<String, String>) -> MonitoringForm {
    let get = |k: &str| annotations.get(k).cloned();
    let mut monitoring = MonitoringForm::default();
    if get(ANN_MONITORING_TYPE).as_deref() == Some("victoriametrics") {
        monitoring.kind = MonitoringKind::VictoriaMetrics;
        if get(ANN_MONITORING_DEPLOY).as_deref() == Some("agent") {
            monitoring.vm_deploy = VmDeploy::AgentOnly;
            monitoring.vm_instance = get(ANN_MONITORING_INSTANCE).unwrap_or_default();
        }
    }
    if let Some(v) = get(ANN_MONITORING_NODES) {
        monitoring.nodes = v.split(',').map(str::to_string).collect();
    }
    monitoring
}

/// What the resource holds beyond the form, without what the server fills in and without
/// machines (hence without secrets).
fn base_of(c: &Cluster) -> Cluster {
    let mut base = c.clone();
    let m = &mut base.metadata;
    m.uid = None;
    m.resource_version = None;
    m.creation_timestamp = None;
    m.deletion_timestamp = None;
    m.deletion_grace_period_seconds = None;
    m.generation = None;
    m.managed_fields = None;
    m.self_link = None;
    m.annotations = None;
    base.status = None;
    // Filled in by the controller for that one cluster; a new cluster must not inherit it.
    base.spec.cluster_credential_ref = None;
    base.spec.machines.clear();
    base.spec.scaling_machines.clear();
    base
}
