//! The schema of each kind: built-in kinds from k8s-openapi, the ACP kinds from the
//! published field list, list wrappers, and the passes that make them what the apiserver
//! publishes.

use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use super::META;
use super::acp_schemas::acp_schema;
use crate::sandbox::apiserver::kinds::ResourceKind;

/// `platform.tkestack.io` -> `io.tkestack.platform`: how the apiserver names CRD schemas.
pub(super) fn reversed_group(group: &str) -> String {
    let mut parts: Vec<&str> = group.split('.').collect();
    parts.reverse();
    parts.join(".")
}
pub(super) fn gvk(k: &ResourceKind) -> Value {
    json!({"group": k.group, "version": k.version, "kind": k.kind})
}

/// Where schema references point in each OpenAPI flavour.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Flavour {
    V2,
    V3,
}

impl Flavour {
    pub(super) fn prefix(self) -> &'static str {
        match self {
            Flavour::V2 => "#/definitions/",
            Flavour::V3 => "#/components/schemas/",
        }
    }

    pub(super) fn reference(self, name: &str) -> Value {
        json!({"$ref": format!("{}{}", self.prefix(), name)})
    }

    pub(super) fn generator(self) -> SchemaGenerator {
        let s = SchemaSettings::openapi3().with(|s| {
            s.meta_schema = None;
            if self == Flavour::V2 {
                s.definitions_path = "/definitions".into();
            }
        });
        SchemaGenerator::new(s)
    }
}

/// The schema of an ACP custom resource as ACP publishes it (free-form when it publishes
/// none), with `apiVersion`, `kind` and `metadata` pointing at ObjectMeta as the apiserver
/// publishes them.
pub(super) fn custom_schema(published: Option<Value>, description: &str, f: Flavour) -> Value {
    let mut s = published
        .unwrap_or_else(|| json!({"type": "object", "x-kubernetes-preserve-unknown-fields": true}));
    s["description"] = description.into();
    if !s["properties"].is_object() {
        s["properties"] = json!({});
    }
    s["properties"]["apiVersion"] = json!({
        "type": "string",
        "description": "APIVersion defines the versioned schema of this representation of an object. \
            Servers should convert recognized schemas to the latest internal value, and may reject \
            unrecognized values.",
    });
    s["properties"]["kind"] = json!({
        "type": "string",
        "description": "Kind is a string value representing the REST resource this object represents. \
            Servers may infer this from the endpoint the client submits requests to. In CamelCase.",
    });
    s["properties"]["metadata"] = json!({
        "allOf": [f.reference(&format!("{META}.ObjectMeta"))],
        "description": "Standard object's metadata.",
    });
    s
}

/// Calls `f` on every sub-schema of `v` (properties, items, additionalProperties,
/// allOf/anyOf/oneOf), depth first, following the schema structure only: a field that
/// happens to be named `properties` or `items` is not mistaken for a keyword.
pub(super) fn for_each_subschema(v: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    let Some(m) = v.as_object_mut() else {
        return;
    };
    if let Some(Value::Object(props)) = m.get_mut("properties") {
        for p in props.values_mut() {
            f(p);
            for_each_subschema(p, f);
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(s) = m.get_mut(key).filter(|s| s.is_object()) {
            f(s);
            for_each_subschema(s, f);
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(Value::Array(list)) = m.get_mut(key) {
            for s in list {
                f(s);
                for_each_subschema(s, f);
            }
        }
    }
}

/// Marks schemas that say nothing about their type (free-form `serde_json::Value` fields
/// come out as `{}`) as `x-kubernetes-preserve-unknown-fields`, as the apiserver publishes
/// them: kubectl explain's templates fail on an empty schema.
pub(super) fn mark_untyped(v: &mut Value) {
    const TYPED: &[&str] = &[
        "type",
        "$ref",
        "allOf",
        "anyOf",
        "oneOf",
        "items",
        "properties",
        "additionalProperties",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-int-or-string",
    ];
    for_each_subschema(v, &mut |s: &mut Value| {
        if let Some(o) = s.as_object_mut()
            && !TYPED.iter().any(|k| o.contains_key(*k))
        {
            o.insert("x-kubernetes-preserve-unknown-fields".into(), true.into());
        }
    });
}

/// What `kubectl explain` says about a custom kind.
fn description(k: &ResourceKind) -> String {
    match (k.group, k.kind) {
        ("platform.tkestack.io", "Cluster") => "Cluster is a Kubernetes cluster the platform \
            creates and manages: its network, machines, features and lifecycle status."
            .into(),
        ("platform.tkestack.io", "Machine") => {
            "Machine is a node added to an existing cluster.".into()
        }
        ("platform.tkestack.io", "ClusterCredential") => "ClusterCredential holds the \
            certificates and tokens to reach a cluster's kube-apiserver and etcd."
            .into(),
        ("cluster.alauda.io", "EtcdEncryptionConfig") => "EtcdEncryptionConfig sets how the \
            etcd-encryption-manager rotates the keys that encrypt resources at rest, and \
            reports rotation progress."
            .into(),
        _ => format!("{} ({})", k.kind, k.api_version()),
    }
}

/// Registers the schema of one kind and returns its definition name.
pub(super) fn kind_schema(
    k: &ResourceKind,
    generator: &mut SchemaGenerator,
    f: Flavour,
    defs: &mut Map<String, Value>,
) -> String {
    use k8s_openapi::api::authorization::v1 as authz;
    use k8s_openapi::api::core::v1 as core;
    use k8s_openapi::api::networking::v1 as net;
    use k8s_openapi::api::rbac::v1 as rbac;

    let builtin = match (k.group, k.kind) {
        ("", "Namespace") => Some(generator.subschema_for::<core::Namespace>()),
        ("", "Node") => Some(generator.subschema_for::<core::Node>()),
        ("", "Service") => Some(generator.subschema_for::<core::Service>()),
        ("", "Secret") => Some(generator.subschema_for::<core::Secret>()),
        ("", "ServiceAccount") => Some(generator.subschema_for::<core::ServiceAccount>()),
        ("", "ConfigMap") => Some(generator.subschema_for::<core::ConfigMap>()),
        ("", "Pod") => Some(generator.subschema_for::<core::Pod>()),
        ("", "Event") => Some(generator.subschema_for::<core::Event>()),
        ("apps", "Deployment") => {
            Some(generator.subschema_for::<k8s_openapi::api::apps::v1::Deployment>())
        }
        (_, "NetworkPolicy") => Some(generator.subschema_for::<net::NetworkPolicy>()),
        (_, "Role") => Some(generator.subschema_for::<rbac::Role>()),
        (_, "ClusterRole") => Some(generator.subschema_for::<rbac::ClusterRole>()),
        (_, "RoleBinding") => Some(generator.subschema_for::<rbac::RoleBinding>()),
        (_, "ClusterRoleBinding") => Some(generator.subschema_for::<rbac::ClusterRoleBinding>()),
        (_, "Ingress") => Some(generator.subschema_for::<net::Ingress>()),
        (_, "SelfSubjectAccessReview") => {
            Some(generator.subschema_for::<authz::SelfSubjectAccessReview>())
        }
        (_, "SubjectAccessReview") => Some(generator.subschema_for::<authz::SubjectAccessReview>()),
        (_, "LocalSubjectAccessReview") => {
            Some(generator.subschema_for::<authz::LocalSubjectAccessReview>())
        }
        _ => None,
    };
    if let Some(r) = builtin
        && let Some(name) = r
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|s| s.strip_prefix(f.prefix()))
    {
        return name.to_string();
    }
    let name = format!("{}.{}.{}", reversed_group(k.group), k.version, k.kind);
    let schema = custom_schema(acp_schema(k.group, k.version, k.kind), &description(k), f);
    defs.insert(name.clone(), schema);
    name
}

pub(super) fn list_schema(k: &ResourceKind, item: &str, f: Flavour) -> Value {
    json!({
        "description": format!("{}List is a list of {}.", k.kind, k.kind),
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": "APIVersion defines the versioned schema of this representation of an object."},
            "kind": {"type": "string", "description": "Kind is a string value representing the REST resource this object represents."},
            "items": {"type": "array", "items": f.reference(item), "description": format!("List of {}.", k.resource)},
            "metadata": {"allOf": [f.reference(&format!("{META}.ListMeta"))], "description": "Standard list metadata."},
        },
        "x-kubernetes-group-version-kind": [{"group": k.group, "version": k.version, "kind": format!("{}List", k.kind)}],
    })
}
