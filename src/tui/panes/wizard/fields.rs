//! The form's field table: what each row edits, one accessor per field, so reading, storing
//! and cycling a field are declared together instead of in parallel matches.

use std::collections::BTreeMap;

use crate::domain::form::{
    ClusterForm, Cni, ContainerRuntime, ImageRegistry, IpStack, MonitoringKind, NodeNaming,
    TransmitMode, VmDeploy,
};
use crate::domain::rules::RuleContext;

/// The extra-args and annotation maps edited as key-value lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvMap {
    Docker,
    Kubelet,
    ControllerManager,
    Scheduler,
    ApiServer,
    Annotations,
}

impl KvMap {
    pub(super) fn label(self) -> &'static str {
        match self {
            KvMap::Docker => "Docker Parameters",
            KvMap::Kubelet => "Kubelet Parameters",
            KvMap::ControllerManager => "Controller Manager Parameters",
            KvMap::Scheduler => "Scheduler Parameters",
            KvMap::ApiServer => "APIServer Parameters",
            KvMap::Annotations => "Cluster Annotations",
        }
    }

    pub(super) fn path(self) -> &'static str {
        match self {
            KvMap::Docker => "spec.dockerExtraArgs",
            KvMap::Kubelet => "spec.kubeletExtraArgs",
            KvMap::ControllerManager => "spec.controllerManagerExtraArgs",
            KvMap::Scheduler => "spec.schedulerExtraArgs",
            KvMap::ApiServer => "spec.apiServerExtraArgs",
            KvMap::Annotations => "metadata.annotations",
        }
    }

    /// Where a finding about the entry `key` points.
    pub(super) fn entry_path(self, key: &str) -> String {
        if self == KvMap::Annotations {
            format!("metadata.annotations[\"{key}\"]")
        } else {
            format!("{}[\"{key}\"]", self.path())
        }
    }

    pub(super) fn get(self, f: &ClusterForm) -> &BTreeMap<String, String> {
        let e = &f.extended;
        match self {
            KvMap::Docker => &e.docker_args,
            KvMap::Kubelet => &e.kubelet_args,
            KvMap::ControllerManager => &e.controller_manager_args,
            KvMap::Scheduler => &e.scheduler_args,
            KvMap::ApiServer => &e.apiserver_args,
            KvMap::Annotations => &e.annotations,
        }
    }

    pub(super) fn get_mut(self, f: &mut ClusterForm) -> &mut BTreeMap<String, String> {
        let e = &mut f.extended;
        match self {
            KvMap::Docker => &mut e.docker_args,
            KvMap::Kubelet => &mut e.kubelet_args,
            KvMap::ControllerManager => &mut e.controller_manager_args,
            KvMap::Scheduler => &mut e.scheduler_args,
            KvMap::ApiServer => &mut e.apiserver_args,
            KvMap::Annotations => &mut e.annotations,
        }
    }
}

/// One row of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldId {
    Name,
    DisplayName,
    Version,
    Runtime,
    RuntimeVersion,
    IpStack,
    Endpoint,
    SelfBuiltVip,
    Vrid,
    ExternalAccess,
    PlatformUrl,
    ImageRegistry,
    PrivateRegistry,
    Cni,
    ClusterCidr,
    Transmit,
    Gateway,
    VlanId,
    ReservedIps,
    ServiceCidr,
    JoinCidr,
    NodeIpCount,
    Nic,
    NodeNaming,
    Node(usize),
    AddNode,
    RestoreDraft,
    Monitoring,
    VmDeploy,
    VmInstance,
    MonitoringNode(String),
    /// An entry of a map (`Some(key)`) or its "add" row (`None`).
    Kv(KvMap, Option<String>),
    /// An APIServer URL (`Some(index)`) or the "add" row.
    ApiUrl(Option<usize>),
}

type Get = fn(&ClusterForm) -> String;
type Put = fn(&mut ClusterForm, &str);
type Set = fn(&mut ClusterForm, &str) -> Result<(), String>;
/// Moves a choice one step; may return a notice saying what else changed.
type Cycle = fn(&mut ClusterForm, &RuleContext, bool) -> Option<&'static str>;

/// How a field is read and changed.
pub(super) enum Access {
    Text(Get, Put),
    /// Text that may be refused (numbers).
    Checked(Get, Set),
    Choice(Cycle),
    /// Rows whose value lives elsewhere (nodes, list entries, buttons, headings).
    Other,
}

/// Parses a whole number; any number is stored, so that the rules judge its range and the
/// finding beside the field always describes the value just entered.
fn num(v: &str, what: &str, range: &str) -> Result<u32, String> {
    let t = v.trim();
    t.parse::<u32>().map_err(|_| {
        if t.is_empty() {
            format!("{what} is empty: enter a whole number from {range}")
        } else {
            format!("`{t}` is not a whole number: {what} takes one from {range}")
        }
    })
}

fn node_ip_count(f: &mut ClusterForm, v: &str) -> Result<(), String> {
    let n = num(v, "Node IP Count", "1 to 256 (recommended)")?;
    // The resource holds it as a 32-bit signed number.
    if n > i32::MAX as u32 {
        return Err(format!(
            "{n} is too large for Node IP Count: enter a whole number from 1 to 256 (recommended)"
        ));
    }
    f.network.node_ip_count = n;
    Ok(())
}

pub(super) fn step(i: usize, n: usize, forward: bool) -> usize {
    if forward {
        (i + 1) % n
    } else {
        (i + n - 1) % n
    }
}

/// The next value of `order` after `current`.
fn next_of<T: PartialEq + Copy>(order: &[T], current: T, forward: bool) -> T {
    let i = order.iter().position(|c| *c == current).unwrap_or(0);
    order[step(i, order.len(), forward)]
}

fn cycle_version(f: &mut ClusterForm, ctx: &RuleContext, forward: bool) -> Option<&'static str> {
    let offered = &ctx.supported_versions;
    if offered.is_empty() {
        return None;
    }
    let cur = f.basic.kubernetes_version.trim();
    let next = match offered.iter().position(|o| o.trim() == cur) {
        Some(i) => step(i, offered.len(), forward),
        // Not one of the offered releases: start at the newest.
        None => 0,
    };
    f.basic.kubernetes_version = offered[next].trim().to_string();
    None
}

fn cycle_ip_stack(f: &mut ClusterForm, _: &RuleContext, forward: bool) -> Option<&'static str> {
    // Dual stack sits between the single stacks, so that moving from either one to dual
    // stack keeps that family's CIDRs.
    let order = [IpStack::Ipv4, IpStack::DualStack, IpStack::Ipv6];
    let next = next_of(&order, f.basic.ip_stack, forward);
    f.basic.ip_stack = next;
    // The protocol decides the CIDR families: the user's CIDRs of a family it keeps stay, a
    // family it adds gets ACP's default.
    Some(if f.network.adapt_cidrs(next) {
        "Network protocol changed: your CIDRs of the remaining family were kept, the added \
         family got ACP's defaults; check Container Network"
    } else {
        "Network protocol changed: the CIDRs are ACP's defaults for it"
    })
}

impl FieldId {
    /// The one place that says how this field is read, stored and cycled.
    pub(super) fn access(&self) -> Access {
        use Access::{Checked, Choice, Text};
        match self {
            FieldId::Name => Text(
                |f| f.basic.name.clone(),
                |f, v| f.basic.name = v.trim().to_string(),
            ),
            FieldId::DisplayName => Text(
                |f| f.basic.display_name.clone(),
                |f, v| f.basic.display_name = v.to_string(),
            ),
            FieldId::Version => Choice(cycle_version),
            FieldId::Runtime => Choice(|f, _, fw| {
                let order = [ContainerRuntime::Containerd, ContainerRuntime::Docker];
                f.basic.container_runtime = next_of(&order, f.basic.container_runtime, fw);
                None
            }),
            FieldId::RuntimeVersion => Text(
                |f| f.basic.runtime_version.clone(),
                |f, v| f.basic.runtime_version = v.trim().to_string(),
            ),
            FieldId::IpStack => Choice(cycle_ip_stack),
            FieldId::Endpoint => Text(
                |f| f.basic.endpoint.address.clone(),
                |f, v| f.basic.endpoint.address = v.trim().to_string(),
            ),
            FieldId::SelfBuiltVip => Choice(|f, _, _| {
                f.basic.endpoint.self_built_vip = !f.basic.endpoint.self_built_vip;
                None
            }),
            FieldId::Vrid => Checked(
                |f| f.basic.endpoint.vrid.to_string(),
                |f, v| {
                    f.basic.endpoint.vrid = num(v, "VRID", "1 to 255")?;
                    Ok(())
                },
            ),
            FieldId::ExternalAccess => Text(
                |f| f.basic.external_access.clone(),
                |f, v| f.basic.external_access = v.trim().to_string(),
            ),
            FieldId::PlatformUrl => Text(
                |f| f.basic.platform_url.clone(),
                |f, v| f.basic.platform_url = v.trim().to_string(),
            ),
            FieldId::ImageRegistry => Choice(|f, _, fw| {
                let order = [
                    ImageRegistry::PlatformBuiltIn,
                    ImageRegistry::Private,
                    ImageRegistry::Public,
                ];
                f.basic.image_registry = next_of(&order, f.basic.image_registry, fw);
                None
            }),
            FieldId::PrivateRegistry => Text(
                |f| f.basic.private_registry.clone(),
                |f, v| f.basic.private_registry = v.trim().to_string(),
            ),
            _ => self.network_and_nodes_access(),
        }
    }

    fn network_and_nodes_access(&self) -> Access {
        use Access::{Checked, Choice, Text};
        match self {
            FieldId::Cni => Choice(|f, _, fw| {
                let order = [Cni::KubeOvn, Cni::Calico, Cni::Flannel, Cni::Custom];
                f.network.cni = next_of(&order, f.network.cni, fw);
                None
            }),
            FieldId::ClusterCidr => Text(
                |f| f.network.cluster_cidr.clone(),
                |f, v| f.network.cluster_cidr = v.replace(' ', ""),
            ),
            FieldId::Transmit => Choice(|f, _, fw| {
                let order = [TransmitMode::Overlay, TransmitMode::Underlay];
                f.network.kube_ovn.transmit = next_of(&order, f.network.kube_ovn.transmit, fw);
                None
            }),
            FieldId::Gateway => Text(
                |f| f.network.kube_ovn.gateway.clone(),
                |f, v| f.network.kube_ovn.gateway = v.trim().to_string(),
            ),
            FieldId::VlanId => Checked(
                |f| f.network.kube_ovn.vlan_id.to_string(),
                |f, v| {
                    f.network.kube_ovn.vlan_id = num(v, "VLAN ID", "0 to 4095")?;
                    Ok(())
                },
            ),
            FieldId::ReservedIps => Text(
                |f| f.network.kube_ovn.reserved_ips.clone(),
                |f, v| f.network.kube_ovn.reserved_ips = v.replace(' ', ""),
            ),
            FieldId::ServiceCidr => Text(
                |f| f.network.service_cidr.clone(),
                |f, v| f.network.service_cidr = v.replace(' ', ""),
            ),
            FieldId::JoinCidr => Text(
                |f| f.network.kube_ovn.join_cidr.clone(),
                |f, v| f.network.kube_ovn.join_cidr = v.replace(' ', ""),
            ),
            FieldId::NodeIpCount => Checked(|f| f.network.node_ip_count.to_string(), node_ip_count),
            FieldId::Nic => Text(
                |f| f.node_settings.nic.clone(),
                |f, v| f.node_settings.nic = v.trim().to_string(),
            ),
            FieldId::NodeNaming => Choice(|f, _, fw| {
                let order = [NodeNaming::Ip, NodeNaming::Hostname];
                f.node_settings.node_naming = next_of(&order, f.node_settings.node_naming, fw);
                None
            }),
            FieldId::Monitoring => Choice(|f, _, fw| {
                let order = [MonitoringKind::Prometheus, MonitoringKind::VictoriaMetrics];
                let m = &mut f.node_settings.monitoring;
                m.kind = next_of(&order, m.kind, fw);
                None
            }),
            FieldId::VmDeploy => Choice(|f, _, fw| {
                let order = [VmDeploy::Full, VmDeploy::AgentOnly];
                let m = &mut f.node_settings.monitoring;
                m.vm_deploy = next_of(&order, m.vm_deploy, fw);
                None
            }),
            FieldId::VmInstance => Text(
                |f| f.node_settings.monitoring.vm_instance.clone(),
                |f, v| f.node_settings.monitoring.vm_instance = v.trim().to_string(),
            ),
            // Rows whose value lives elsewhere; the basic fields are handled in `access`.
            _ => Access::Other,
        }
    }

    /// The text an editor on this row starts with.
    pub(super) fn text(&self, f: &ClusterForm) -> String {
        match (self, self.access()) {
            (_, Access::Text(get, _) | Access::Checked(get, _)) => get(f),
            (FieldId::Kv(m, Some(k)), _) => {
                format!("{k}={}", m.get(f).get(k).cloned().unwrap_or_default())
            }
            (FieldId::ApiUrl(Some(i)), _) => f
                .extended
                .apiserver_urls
                .get(*i)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    /// Stores an edited text; a message when the text is not acceptable.
    pub(super) fn set_text(&self, f: &mut ClusterForm, v: &str) -> Result<(), String> {
        match (self, self.access()) {
            (_, Access::Text(_, put)) => {
                put(f, v);
                Ok(())
            }
            (_, Access::Checked(_, set)) => set(f, v),
            (FieldId::Kv(m, old), _) => set_kv(f, *m, old.as_deref(), v),
            (FieldId::ApiUrl(i), _) => {
                set_api_url(f, *i, v);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Moves a choice or toggle one step; `None` when nothing changed, else an optional
    /// notice.
    pub(super) fn cycle(
        &self,
        f: &mut ClusterForm,
        ctx: &RuleContext,
        forward: bool,
    ) -> Option<Option<&'static str>> {
        match (self, self.access()) {
            (FieldId::Version, _) if ctx.supported_versions.is_empty() => None,
            (_, Access::Choice(cycle)) => Some(cycle(f, ctx, forward)),
            (FieldId::MonitoringNode(ip), _) => {
                let nodes = &mut f.node_settings.monitoring.nodes;
                match nodes.iter().position(|n| n == ip) {
                    Some(i) => {
                        nodes.remove(i);
                    }
                    None => nodes.push(ip.clone()),
                }
                Some(None)
            }
            _ => None,
        }
    }
}

fn set_kv(f: &mut ClusterForm, m: KvMap, old: Option<&str>, v: &str) -> Result<(), String> {
    let v = v.trim();
    // Checked before the old entry goes, so a refused edit loses nothing.
    let entry = if v.is_empty() {
        None
    } else {
        let Some((k, val)) = v.split_once('=') else {
            return Err(
                "write the entry as key=value (flag names without --), e.g. \
                        max-pods=110; an empty entry removes it"
                    .to_string(),
            );
        };
        let k = k.trim().trim_start_matches("--").to_string();
        if k.is_empty() {
            return Err("the key before '=' cannot be empty".into());
        }
        Some((k, val.trim().to_string()))
    };
    let map = m.get_mut(f);
    if let Some(k) = old {
        map.remove(k);
    }
    if let Some((k, val)) = entry {
        map.insert(k, val);
    }
    Ok(())
}

fn set_api_url(f: &mut ClusterForm, i: Option<usize>, v: &str) {
    let v = v.trim().to_string();
    let urls = &mut f.extended.apiserver_urls;
    match (i, v.is_empty()) {
        (Some(i), true) if i < urls.len() => {
            urls.remove(i);
        }
        (Some(i), false) if i < urls.len() => urls[i] = v,
        (_, false) => urls.push(v),
        _ => {}
    }
}
