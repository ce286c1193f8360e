//! The rows of each section: which fields a section shows for the form as it is, with their
//! labels, kinds and the resource paths their findings are reported under.

use super::Section;
use super::fields::{FieldId, KvMap};
use crate::domain::cluster::annotations as A;
use crate::domain::form::{
    ClusterForm, Cni, ContainerRuntime, ImageRegistry, IpStack, MonitoringKind, NodeNaming,
    TransmitMode, VmDeploy,
};
use crate::domain::rules;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Select(Vec<&'static str>, usize),
    /// A choice among values known only at run time (the platform's Kubernetes versions).
    Choice(Vec<String>, usize),
    Toggle(bool),
    Button,
    Node,
    Heading,
    /// A plain statement under a field (what the platform does with it); never focused.
    Note,
}

impl Kind {
    /// Rows that only say something: focus passes over them.
    pub(super) fn is_label(&self) -> bool {
        matches!(self, Kind::Heading | Kind::Note)
    }
}

/// What becomes of the page's choices the Cluster resource has no place for, said once,
/// under each: the platform's behaviour, then the cockpit's.
pub(super) const EXTERNAL_ACCESS_NOTE: &str =
    "Not applied: the platform ignores it at creation; set it there afterwards";
pub(super) const REGISTRY_NOTE: &str =
    "Not applied: nodes pull from the platform's registry; only recorded here";
pub(super) const MONITORING_NOTE: &str =
    "Not applied: the platform deploys its default monitoring; only recorded here";

fn note(text: &'static str) -> Spec {
    Spec::new(FieldId::AddNode, format!("  {text}"), Kind::Note, "")
}

#[derive(Debug, Clone)]
pub(super) struct Spec {
    pub(super) id: FieldId,
    pub(super) label: String,
    pub(super) kind: Kind,
    pub(super) required: bool,
    /// Where findings for this row are reported (`ClusterForm` field path).
    pub(super) path: String,
    pub(super) placeholder: &'static str,
}

impl Spec {
    fn new(id: FieldId, label: impl Into<String>, kind: Kind, path: impl Into<String>) -> Self {
        Spec {
            id,
            label: label.into(),
            kind,
            required: false,
            path: path.into(),
            placeholder: "",
        }
    }
    fn required(mut self) -> Self {
        self.required = true;
        self
    }
    fn hint(mut self, p: &'static str) -> Self {
        self.placeholder = p;
        self
    }
}

fn ann(key: &str) -> String {
    format!("metadata.annotations[\"{key}\"]")
}

/// The rows `section` shows for the form `f`.
pub(super) fn rows_of(f: &ClusterForm, ctx: &rules::RuleContext, section: Section) -> Vec<Spec> {
    match section {
        Section::Basic => basic_rows(f, ctx),
        Section::Network => network_rows(f),
        Section::Nodes => node_rows(f),
        Section::Extended => extended_rows(f),
        Section::Preflight | Section::Review => Vec::new(),
    }
}

fn basic_rows(f: &ClusterForm, ctx: &rules::RuleContext) -> Vec<Spec> {
    use FieldId as F;
    use Kind as K;
    let mut v = Vec::new();
    v.push(
        Spec::new(F::Name, "Cluster Name", K::Text, "metadata.name")
            .required()
            .hint("1-32 chars, e.g. prod-east"),
    );
    v.push(Spec::new(F::DisplayName, "Display Name", K::Text, "spec.displayName").hint("optional"));
    // A choice, not free text: the platform takes only the releases it lists.
    let (versions, chosen) = version_choice(&ctx.supported_versions, &f.basic.kubernetes_version);
    v.push(
        Spec::new(
            F::Version,
            "Kubernetes Version",
            K::Choice(versions, chosen),
            "spec.version",
        )
        .required(),
    );
    let rt = (f.basic.container_runtime == ContainerRuntime::Docker) as usize;
    v.push(Spec::new(
        F::Runtime,
        "Container Runtime",
        K::Select(vec!["Containerd", "Docker"], rt),
        ann(A::CONTAINER_RUNTIME),
    ));
    v.push(
        Spec::new(
            F::RuntimeVersion,
            "Runtime Version",
            K::Text,
            ann(A::CONTAINER_RUNTIME),
        )
        .hint("e.g. 1.6.28-4; empty: platform default"),
    );
    let st = match f.basic.ip_stack {
        IpStack::Ipv4 => 0,
        IpStack::Ipv6 => 1,
        IpStack::DualStack => 2,
    };
    v.push(Spec::new(
        F::IpStack,
        "Cluster Network Protocol",
        K::Select(
            vec![
                "IPv4 single stack",
                "IPv6 single stack",
                "IPv4/IPv6 dual stack",
            ],
            st,
        ),
        "spec.features.ipv6DualStack",
    ));
    endpoint_rows(f, &mut v);
    v
}

/// How the cluster is reached and where it pulls images from.
fn endpoint_rows(f: &ClusterForm, v: &mut Vec<Spec>) {
    use FieldId as F;
    use Kind as K;
    v.push(
        Spec::new(
            F::Endpoint,
            "IP Address / Domain",
            K::Text,
            "spec.features.ha",
        )
        .required()
        .hint("load balancer VIP or domain"),
    );
    v.push(Spec::new(
        F::SelfBuiltVip,
        "Self-Built VIP",
        K::Toggle(f.basic.endpoint.self_built_vip),
        "",
    ));
    if f.basic.endpoint.self_built_vip {
        v.push(
            Spec::new(F::Vrid, "VRID", K::Text, "spec.features.ha.tke.vrid")
                .required()
                .hint("1-255, unique in the subnet"),
        );
    }
    v.push(
        Spec::new(
            F::ExternalAccess,
            "External Access",
            K::Text,
            "form.externalAccess",
        )
        .hint("when not on global's network"),
    );
    v.push(note(EXTERNAL_ACCESS_NOTE));
    v.push(
        Spec::new(
            F::PlatformUrl,
            "Platform URL (global)",
            K::Text,
            ann(A::PLATFORM_URL),
        )
        .hint("global's address seen from the cluster"),
    );
    let reg = match f.basic.image_registry {
        ImageRegistry::PlatformBuiltIn => 0,
        ImageRegistry::Private => 1,
        ImageRegistry::Public => 2,
    };
    v.push(Spec::new(
        F::ImageRegistry,
        "Image Registry",
        K::Select(
            vec![
                "Platform Built-in",
                "Private Repository",
                "Public Repository",
            ],
            reg,
        ),
        "form.imageRegistry",
    ));
    v.push(note(REGISTRY_NOTE));
    if f.basic.image_registry == ImageRegistry::Private {
        v.push(
            Spec::new(
                F::PrivateRegistry,
                "Registry Address",
                K::Text,
                "form.privateRegistry",
            )
            .required()
            .hint("host[:port], e.g. registry.example.com:5000"),
        );
    }
}

fn network_rows(f: &ClusterForm) -> Vec<Spec> {
    use FieldId as F;
    use Kind as K;
    let mut v = Vec::new();
    let cni = match f.network.cni {
        Cni::KubeOvn => 0,
        Cni::Calico => 1,
        Cni::Flannel => 2,
        Cni::Custom => 3,
    };
    v.push(Spec::new(
        F::Cni,
        "Network Plugin",
        K::Select(vec!["Kube-OVN", "Calico", "Flannel", "Custom"], cni),
        ann(A::NETWORK_TYPE),
    ));
    let cidr_label = match f.network.cni {
        Cni::KubeOvn => "Subnet (Cluster CIDR)",
        Cni::Calico => "Default Subnet",
        Cni::Flannel | Cni::Custom => "Cluster CIDR",
    };
    if f.network.cni == Cni::KubeOvn {
        let tm = (f.network.kube_ovn.transmit == TransmitMode::Underlay) as usize;
        v.push(Spec::new(
            F::Transmit,
            "Transmit Mode",
            K::Select(vec!["Overlay", "Underlay"], tm),
            ann(A::TRANSMIT_TYPE),
        ));
    }
    v.push(
        Spec::new(F::ClusterCidr, cidr_label, K::Text, "spec.clusterCIDR")
            .required()
            .hint("e.g. 10.3.0.0/16"),
    );
    if f.is_kube_ovn_underlay() {
        v.push(
            Spec::new(F::Gateway, "Default Gateway", K::Text, ann(A::GATEWAY))
                .required()
                .hint("inside the cluster CIDR"),
        );
        v.push(Spec::new(F::VlanId, "VLAN ID", K::Text, ann(A::VLAN_ID)).hint("0-4095"));
        v.push(
            Spec::new(F::ReservedIps, "Reserved IPs", K::Text, ann(A::EXCLUDE_IPS))
                .hint("e.g. 10.3.0.1,10.3.0.10..10.3.0.20"),
        );
    }
    v.push(
        Spec::new(F::ServiceCidr, "Service CIDR", K::Text, "spec.serviceCIDR")
            .required()
            .hint("e.g. 10.4.0.0/16"),
    );
    if f.is_kube_ovn_overlay() {
        v.push(
            Spec::new(F::JoinCidr, "Join CIDR", K::Text, ann(A::JOIN_CIDR))
                .required()
                .hint("e.g. 100.64.0.0/16"),
        );
    }
    v.push(
        Spec::new(
            F::NodeIpCount,
            "Node IP Count",
            K::Text,
            "spec.properties.maxNodePodNum",
        )
        .hint("pod IPs per node; kubelet max-pods"),
    );
    v
}

fn node_rows(f: &ClusterForm) -> Vec<Spec> {
    use FieldId as F;
    use Kind as K;
    let mut v = Vec::new();
    v.push(
        Spec::new(
            F::Nic,
            "Network Interface Card",
            K::Text,
            "spec.networkDevice",
        )
        .hint("e.g. eth0; required for underlay"),
    );
    let nn = (f.node_settings.node_naming == NodeNaming::Hostname) as usize;
    v.push(Spec::new(
        F::NodeNaming,
        "Node Name",
        K::Select(vec!["Node IP", "Hostname"], nn),
        "spec.hostnameAsNodename",
    ));
    v.push(Spec::new(
        F::AddNode,
        format!("Nodes ({})", f.nodes().len()),
        K::Heading,
        "spec.machines",
    ));
    for i in 0..f.nodes().len() {
        v.push(Spec::new(
            F::Node(i),
            format!("  Node {}", i + 1),
            K::Node,
            format!("spec.machines[{i}]"),
        ));
    }
    v.push(Spec::new(F::AddNode, "Add Node", K::Button, ""));
    v.push(Spec::new(
        F::RestoreDraft,
        "Restore from draft",
        K::Button,
        "",
    ));
    let mk = (f.node_settings.monitoring.kind == MonitoringKind::VictoriaMetrics) as usize;
    v.push(Spec::new(
        F::Monitoring,
        "Monitoring Type",
        K::Select(vec!["Prometheus", "VictoriaMetrics"], mk),
        "form.monitoring.kind",
    ));
    v.push(note(MONITORING_NOTE));
    if f.node_settings.monitoring.kind == MonitoringKind::VictoriaMetrics {
        let d = (f.node_settings.monitoring.vm_deploy == VmDeploy::AgentOnly) as usize;
        v.push(Spec::new(
            F::VmDeploy,
            "Deploy Type",
            K::Select(
                vec!["Deploy VictoriaMetrics", "Deploy VictoriaMetrics Agent"],
                d,
            ),
            "form.monitoring.vmDeploy",
        ));
        if f.node_settings.monitoring.vm_deploy == VmDeploy::AgentOnly {
            v.push(
                Spec::new(
                    F::VmInstance,
                    "VictoriaMetrics Instance",
                    K::Text,
                    "form.monitoring.vmInstance",
                )
                .required()
                .hint("instance on another cluster"),
            );
        }
    }
    v.push(Spec::new(
        F::AddNode,
        "Monitoring Nodes (recorded only; compute nodes preferred)",
        K::Heading,
        "form.monitoring.nodes",
    ));
    for n in f
        .nodes()
        .iter()
        .filter(|n| n.allows_applications() && !n.ip.is_empty())
    {
        let on = f.node_settings.monitoring.nodes.contains(&n.ip);
        v.push(Spec::new(
            F::MonitoringNode(n.ip.clone()),
            format!("  {}", n.ip),
            K::Toggle(on),
            "",
        ));
    }
    v
}

fn extended_rows(f: &ClusterForm) -> Vec<Spec> {
    use FieldId as F;
    use Kind as K;
    let mut v = Vec::new();
    v.push(Spec::new(F::AddNode, "Not recommended unless required: wrong values can make the cluster unusable and cannot be changed later", K::Heading, ""));
    let mut maps = vec![];
    if f.basic.container_runtime == ContainerRuntime::Docker || !f.extended.docker_args.is_empty() {
        maps.push(KvMap::Docker);
    }
    maps.extend([
        KvMap::Kubelet,
        KvMap::ControllerManager,
        KvMap::Scheduler,
        KvMap::ApiServer,
    ]);
    for m in maps {
        push_kv(&mut v, f, m);
    }
    v.push(Spec::new(
        F::AddNode,
        "APIServer URL (certificate SANs)",
        K::Heading,
        "spec.publicAlternativeNames",
    ));
    for (i, _) in f.extended.apiserver_urls.iter().enumerate() {
        v.push(Spec::new(
            F::ApiUrl(Some(i)),
            format!("  URL {}", i + 1),
            K::Text,
            format!("spec.publicAlternativeNames[{i}]"),
        ));
    }
    v.push(
        Spec::new(F::ApiUrl(None), "  + add URL", K::Text, "").hint("IP or domain, Enter to add"),
    );
    push_kv(&mut v, f, KvMap::Annotations);
    v
}

/// Shown beside a field while it is being edited.
pub(super) const EDITING_CUE: &str = "editing: Enter saves, Esc cancels";

/// Placeholder shown in the version chooser while no version is chosen.
const NO_VERSION: &str = "not chosen (Space chooses)";

/// The version chooser's options and the selected one: the offered releases, preceded by the
/// form's value when it is not one of them (an imported manifest), so the row shows what the
/// resource holds while the rules report it.
pub(super) fn version_choice(offered: &[String], current: &str) -> (Vec<String>, usize) {
    let current = current.trim();
    let mut opts: Vec<String> = offered.iter().map(|s| s.trim().to_string()).collect();
    match opts.iter().position(|o| o == current) {
        Some(i) => (opts, i),
        None => {
            let shown = if current.is_empty() {
                NO_VERSION.to_string()
            } else {
                current.to_string()
            };
            opts.insert(0, shown);
            (opts, 0)
        }
    }
}

fn push_kv(v: &mut Vec<Spec>, f: &ClusterForm, m: KvMap) {
    v.push(Spec::new(
        FieldId::AddNode,
        m.label(),
        Kind::Heading,
        m.path(),
    ));
    for k in m.get(f).keys() {
        v.push(Spec::new(
            FieldId::Kv(m, Some(k.clone())),
            format!("  {k}"),
            Kind::Text,
            m.entry_path(k),
        ));
    }
    v.push(
        Spec::new(FieldId::Kv(m, None), "  + add", Kind::Text, "").hint("key=value, Enter to add"),
    );
}
