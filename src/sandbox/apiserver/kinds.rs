//! The table of resources the sandbox serves, shared by the router, discovery, the store,
//! authorization and the OpenAPI documents.

/// Which name syntax a kind accepts (`metadata.name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// DNS-1123 subdomain: most kinds.
    Subdomain,
    /// DNS-1123 label: namespaces.
    Label,
    /// DNS-1035 label: services.
    Label1035,
    /// Any path segment (no `/`, `%`, not `.`/`..`): RBAC objects such as `system:controller:x`.
    PathSegment,
}

/// Which clusters serve a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServedIn {
    All,
    GlobalOnly,
    WorkloadOnly,
}

/// One served resource (one row of the kinds table).
#[derive(Debug, PartialEq, Eq)]
pub struct ResourceKind {
    /// API group; `""` for core.
    pub group: &'static str,
    pub version: &'static str,
    /// Plural resource name as it appears in URLs.
    pub resource: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Has a `/status` subresource: main writes keep the old status, `/status` writes change
    /// only `status`.
    pub status_subresource: bool,
    /// Custom resource semantics: PUT without resourceVersion is 422, strategic merge is 415,
    /// list items carry `kind`/`apiVersion`.
    pub custom: bool,
    /// `metadata.generation` is maintained.
    pub uses_generation: bool,
    /// Only `create` is served and nothing is stored (access reviews).
    pub create_only: bool,
    pub name_rule: NameRule,
    /// Field selectors accepted besides `metadata.name` / `metadata.namespace`, as JSON paths.
    pub extra_field_selectors: &'static [&'static str],
    pub served_in: ServedIn,
}

impl ResourceKind {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `resource` or `resource.group`: how kubectl and error messages name the resource.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// Verbs on the main resource, as discovery lists them.
    pub fn verbs(&self) -> &'static [&'static str] {
        if self.create_only {
            &["create"]
        } else {
            &[
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch",
            ]
        }
    }

    pub fn served_in_cluster(&self, global: bool) -> bool {
        match self.served_in {
            ServedIn::All => true,
            ServedIn::GlobalOnly => global,
            ServedIn::WorkloadOnly => !global,
        }
    }
}

const fn builtin(
    group: &'static str,
    version: &'static str,
    resource: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
) -> ResourceKind {
    ResourceKind {
        group,
        version,
        resource,
        singular,
        kind,
        namespaced,
        short_names: &[],
        categories: &[],
        status_subresource: false,
        custom: false,
        uses_generation: false,
        create_only: false,
        name_rule: NameRule::Subdomain,
        extra_field_selectors: &[],
        served_in: ServedIn::All,
    }
}

const PLATFORM: &str = "platform.tkestack.io";
const ALAUDA: &str = "cluster.alauda.io";
const RBAC: &str = "rbac.authorization.k8s.io";
const AUTHZ: &str = "authorization.k8s.io";

/// Every resource the sandbox knows. Order matters only for discovery output.
pub static KINDS: &[ResourceKind] = &[
    ResourceKind {
        short_names: &["ns"],
        status_subresource: true,
        name_rule: NameRule::Label,
        ..builtin("", "v1", "namespaces", "namespace", "Namespace", false)
    },
    ResourceKind {
        short_names: &["no"],
        status_subresource: true,
        ..builtin("", "v1", "nodes", "node", "Node", false)
    },
    ResourceKind {
        short_names: &["svc"],
        categories: &["all"],
        status_subresource: true,
        name_rule: NameRule::Label1035,
        ..builtin("", "v1", "services", "service", "Service", true)
    },
    ResourceKind {
        extra_field_selectors: &["type"],
        ..builtin("", "v1", "secrets", "secret", "Secret", true)
    },
    ResourceKind {
        short_names: &["sa"],
        ..builtin(
            "",
            "v1",
            "serviceaccounts",
            "serviceaccount",
            "ServiceAccount",
            true,
        )
    },
    ResourceKind {
        short_names: &["cm"],
        ..builtin("", "v1", "configmaps", "configmap", "ConfigMap", true)
    },
    ResourceKind {
        short_names: &["po"],
        categories: &["all"],
        status_subresource: true,
        ..builtin("", "v1", "pods", "pod", "Pod", true)
    },
    ResourceKind {
        short_names: &["ev"],
        extra_field_selectors: &[
            "involvedObject.kind",
            "involvedObject.name",
            "involvedObject.namespace",
            "reason",
            "type",
        ],
        ..builtin("", "v1", "events", "event", "Event", true)
    },
    ResourceKind {
        short_names: &["deploy"],
        categories: &["all"],
        status_subresource: true,
        uses_generation: true,
        ..builtin(
            "apps",
            "v1",
            "deployments",
            "deployment",
            "Deployment",
            true,
        )
    },
    // The built-in registry authorises pulls against `get images.registry.alauda.io` in the
    // image's namespace (the registry guide's `kubectl auth can-i` check); kubectl resolves
    // the name through discovery, so the kind is served (no objects are seeded).
    ResourceKind {
        ..builtin("registry.alauda.io", "v1", "images", "image", "Image", true)
    },
    ResourceKind {
        short_names: &["netpol"],
        uses_generation: true,
        ..builtin(
            "networking.k8s.io",
            "v1",
            "networkpolicies",
            "networkpolicy",
            "NetworkPolicy",
            true,
        )
    },
    ResourceKind {
        name_rule: NameRule::PathSegment,
        ..builtin(RBAC, "v1", "roles", "role", "Role", true)
    },
    ResourceKind {
        name_rule: NameRule::PathSegment,
        ..builtin(
            RBAC,
            "v1",
            "clusterroles",
            "clusterrole",
            "ClusterRole",
            false,
        )
    },
    ResourceKind {
        name_rule: NameRule::PathSegment,
        ..builtin(
            RBAC,
            "v1",
            "rolebindings",
            "rolebinding",
            "RoleBinding",
            true,
        )
    },
    ResourceKind {
        name_rule: NameRule::PathSegment,
        ..builtin(
            RBAC,
            "v1",
            "clusterrolebindings",
            "clusterrolebinding",
            "ClusterRoleBinding",
            false,
        )
    },
    ResourceKind {
        short_names: &["ing"],
        status_subresource: true,
        uses_generation: true,
        ..builtin(
            "networking.k8s.io",
            "v1",
            "ingresses",
            "ingress",
            "Ingress",
            true,
        )
    },
    ResourceKind {
        create_only: true,
        ..builtin(
            AUTHZ,
            "v1",
            "selfsubjectaccessreviews",
            "selfsubjectaccessreview",
            "SelfSubjectAccessReview",
            false,
        )
    },
    ResourceKind {
        create_only: true,
        ..builtin(
            AUTHZ,
            "v1",
            "selfsubjectrulesreviews",
            "selfsubjectrulesreview",
            "SelfSubjectRulesReview",
            false,
        )
    },
    ResourceKind {
        create_only: true,
        ..builtin(
            AUTHZ,
            "v1",
            "subjectaccessreviews",
            "subjectaccessreview",
            "SubjectAccessReview",
            false,
        )
    },
    ResourceKind {
        create_only: true,
        ..builtin(
            AUTHZ,
            "v1",
            "localsubjectaccessreviews",
            "localsubjectaccessreview",
            "LocalSubjectAccessReview",
            true,
        )
    },
    ResourceKind {
        short_names: &["cls"],
        status_subresource: true,
        custom: true,
        uses_generation: true,
        served_in: ServedIn::GlobalOnly,
        ..builtin(PLATFORM, "v1", "clusters", "cluster", "Cluster", false)
    },
    ResourceKind {
        short_names: &["mc"],
        status_subresource: true,
        custom: true,
        uses_generation: true,
        extra_field_selectors: &["spec.clusterName"],
        served_in: ServedIn::GlobalOnly,
        ..builtin(PLATFORM, "v1", "machines", "machine", "Machine", false)
    },
    ResourceKind {
        short_names: &["cc"],
        custom: true,
        uses_generation: true,
        extra_field_selectors: &["clusterName"],
        served_in: ServedIn::GlobalOnly,
        ..builtin(
            PLATFORM,
            "v1",
            "clustercredentials",
            "clustercredential",
            "ClusterCredential",
            false,
        )
    },
    ResourceKind {
        short_names: &["eec"],
        status_subresource: true,
        custom: true,
        uses_generation: true,
        ..builtin(
            ALAUDA,
            "v1alpha1",
            "etcdencryptionconfigs",
            "etcdencryptionconfig",
            "EtcdEncryptionConfig",
            false,
        )
    },
];

/// Resource names for the in-process [`super::Store`] API, in kubectl's `resource.group` form.
pub mod names {
    pub const NAMESPACES: &str = "namespaces";
    pub const NODES: &str = "nodes";
    pub const SERVICES: &str = "services";
    pub const SECRETS: &str = "secrets";
    pub const SERVICE_ACCOUNTS: &str = "serviceaccounts";
    pub const CONFIG_MAPS: &str = "configmaps";
    pub const PODS: &str = "pods";
    pub const EVENTS: &str = "events";
    pub const DEPLOYMENTS: &str = "deployments.apps";
    pub const NETWORK_POLICIES: &str = "networkpolicies.networking.k8s.io";
    pub const IMAGES: &str = "images.registry.alauda.io";
    pub const ROLES: &str = "roles.rbac.authorization.k8s.io";
    pub const CLUSTER_ROLES: &str = "clusterroles.rbac.authorization.k8s.io";
    pub const ROLE_BINDINGS: &str = "rolebindings.rbac.authorization.k8s.io";
    pub const CLUSTER_ROLE_BINDINGS: &str = "clusterrolebindings.rbac.authorization.k8s.io";
    pub const INGRESSES: &str = "ingresses.networking.k8s.io";
    pub const CLUSTERS: &str = "clusters.platform.tkestack.io";
    pub const MACHINES: &str = "machines.platform.tkestack.io";
    pub const CLUSTER_CREDENTIALS: &str = "clustercredentials.platform.tkestack.io";
    pub const ETCD_ENCRYPTION_CONFIGS: &str = "etcdencryptionconfigs.cluster.alauda.io";
}

/// Index of a kind in [`KINDS`].
pub type KindId = usize;

/// Looks a kind up by URL coordinates.
pub fn by_path(group: &str, version: &str, resource: &str) -> Option<KindId> {
    KINDS
        .iter()
        .position(|k| k.group == group && k.version == version && k.resource == resource)
}

/// Looks a kind up by `resource` (core) or `resource.group`.
pub fn by_name(qualified: &str) -> Option<KindId> {
    KINDS.iter().position(|k| {
        if k.group.is_empty() {
            k.resource == qualified
        } else {
            qualified
                .strip_prefix(k.resource)
                .and_then(|rest| rest.strip_prefix('.'))
                == Some(k.group)
        }
    })
}

/// Looks a kind up by `apiVersion` + `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<KindId> {
    KINDS
        .iter()
        .position(|k| k.kind == kind && k.api_version() == api_version)
}

/// The kinds one cluster serves.
pub fn served(global: bool) -> impl Iterator<Item = &'static ResourceKind> {
    KINDS.iter().filter(move |k| k.served_in_cluster(global))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_agree() {
        let id = by_name(names::CLUSTERS).expect("clusters");
        assert_eq!(KINDS[id].kind, "Cluster");
        assert_eq!(by_path("platform.tkestack.io", "v1", "clusters"), Some(id));
        assert_eq!(by_kind("platform.tkestack.io/v1", "Cluster"), Some(id));
        assert_eq!(
            by_name("configmaps").map(|i| KINDS[i].kind),
            Some("ConfigMap")
        );
        assert_eq!(by_name("clusters"), None);
        assert_eq!(by_name("clusters.platform"), None);
    }

    #[test]
    fn every_name_constant_resolves() {
        for n in [
            names::NAMESPACES,
            names::NODES,
            names::SERVICES,
            names::SECRETS,
            names::SERVICE_ACCOUNTS,
            names::CONFIG_MAPS,
            names::PODS,
            names::EVENTS,
            names::DEPLOYMENTS,
            names::NETWORK_POLICIES,
            names::IMAGES,
            names::ROLES,
            names::CLUSTER_ROLES,
            names::ROLE_BINDINGS,
            names::CLUSTER_ROLE_BINDINGS,
            names::INGRESSES,
            names::CLUSTERS,
            names::MACHINES,
            names::CLUSTER_CREDENTIALS,
            names::ETCD_ENCRYPTION_CONFIGS,
        ] {
            assert!(by_name(n).is_some(), "{n}");
        }
    }
}
