//! The OpenAPI documents the sandbox serves, built from the kinds table.
//!
//! What clients use them for, and so what they must contain:
//! * `kubectl explain` (v3): a schema in `components.schemas` tagged with
//!   `x-kubernetes-group-version-kind`, whose fields it walks through `properties`, `$ref`
//!   and `allOf`;
//! * `kubectl apply/create` (v3): whether the PATCH operation of a kind lists the
//!   `fieldValidation` query parameter decides if validation is left to the server (it is,
//!   here) instead of being done client-side from the v2 document;
//! * generic JSON clients (v2 as JSON).
//!
//! Built-in kinds take their schemas from k8s-openapi, the ACP kinds from the domain types
//! (the same schemas a CRD generated from them would carry). Documents are built once per
//! cluster flavour and cached.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use kube::CustomResourceExt;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use super::kinds::ResourceKind;
use super::status::ApiError;

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// `platform.tkestack.io` -> `io.tkestack.platform`: how the apiserver names CRD schemas.
fn reversed_group(group: &str) -> String {
    let mut parts: Vec<&str> = group.split('.').collect();
    parts.reverse();
    parts.join(".")
}

/// Path of a group-version document below `/openapi/v3/`: `api/v1` or `apis/<g>/<v>`.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn gvk(k: &ResourceKind) -> Value {
    json!({"group": k.group, "version": k.version, "kind": k.kind})
}

/// Where schema references point in each OpenAPI flavour.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    V2,
    V3,
}

impl Flavour {
    fn prefix(self) -> &'static str {
        match self {
            Flavour::V2 => "#/definitions/",
            Flavour::V3 => "#/components/schemas/",
        }
    }

    fn reference(self, name: &str) -> Value {
        json!({"$ref": format!("{}{}", self.prefix(), name)})
    }

    fn generator(self) -> SchemaGenerator {
        let s = SchemaSettings::openapi3().with(|s| {
            s.meta_schema = None;
            if self == Flavour::V2 {
                s.definitions_path = "/definitions".into();
            }
        });
        SchemaGenerator::new(s)
    }
}

/// The schema of an ACP custom resource as its CRD carries it, with `metadata` pointing at
/// ObjectMeta as the apiserver publishes it for CRDs.
fn custom_schema(crd_schema: Option<Value>, description: &str, f: Flavour) -> Value {
    let mut s = crd_schema
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
fn for_each_subschema(v: &mut Value, f: &mut dyn FnMut(&mut Value)) {
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

/// Drops `additionalProperties` (which kube's schema rewriter turns into
/// `x-kubernetes-preserve-unknown-fields`) next to `properties`: the domain types keep
/// unmodelled fields in flattened `extra` maps so YAML round-trips, but the published
/// schema (and strict field validation) lists only the modelled fields, like ACP's own
/// OpenAPI.
fn make_structural(v: &mut Value) {
    let mut fix = |s: &mut Value| {
        if let Some(o) = s.as_object_mut()
            && o.contains_key("properties")
        {
            o.remove("additionalProperties");
            o.remove("x-kubernetes-preserve-unknown-fields");
        }
    };
    fix(v);
    for_each_subschema(v, &mut fix);
}

/// Marks schemas that say nothing about their type (free-form `serde_json::Value` fields
/// come out as `{}`) as `x-kubernetes-preserve-unknown-fields`, as the apiserver publishes
/// them: kubectl explain's templates fail on an empty schema.
fn mark_untyped(v: &mut Value) {
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

fn crd_schema<K: CustomResourceExt>() -> Option<Value> {
    K::crd()
        .spec
        .versions
        .into_iter()
        .next()
        .and_then(|v| v.schema)
        .and_then(|s| s.open_api_v3_schema)
        .and_then(|s| serde_json::to_value(s).ok())
        .map(|mut s| {
            make_structural(&mut s);
            s
        })
}

/// Registers the schema of one kind and returns its definition name.
fn kind_schema(
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
    let schema = match (k.group, k.kind) {
        ("platform.tkestack.io", "Cluster") => custom_schema(
            crd_schema::<crate::domain::cluster::Cluster>(),
            "Cluster is a Kubernetes cluster the platform creates and manages: its network, \
             machines, features and lifecycle status.",
            f,
        ),
        ("platform.tkestack.io", "Machine") => custom_schema(
            crd_schema::<crate::domain::cluster::Machine>(),
            "Machine is a node added to an existing cluster.",
            f,
        ),
        ("platform.tkestack.io", "ClusterCredential") => custom_schema(
            crd_schema::<crate::domain::cluster::ClusterCredential>(),
            "ClusterCredential holds the certificates and tokens to reach a cluster's \
             kube-apiserver and etcd.",
            f,
        ),
        ("cluster.alauda.io", "EtcdEncryptionConfig") => custom_schema(
            crd_schema::<crate::domain::etcd::EtcdEncryptionConfig>(),
            "EtcdEncryptionConfig sets how the etcd-encryption-manager rotates the keys that \
             encrypt resources at rest, and reports rotation progress.",
            f,
        ),
        _ => custom_schema(None, &format!("{} ({})", k.kind, k.api_version()), f),
    };
    defs.insert(name.clone(), schema);
    name
}

fn list_schema(k: &ResourceKind, item: &str, f: Flavour) -> Value {
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

fn query(name: &str, ty: &str, description: &str, f: Flavour) -> Value {
    match f {
        Flavour::V3 => json!({
            "name": name, "in": "query", "description": description,
            "schema": {"type": ty, "uniqueItems": true},
        }),
        Flavour::V2 => json!({
            "name": name, "in": "query", "description": description,
            "type": ty, "uniqueItems": true,
        }),
    }
}

fn path_param(name: &str, description: &str, f: Flavour) -> Value {
    match f {
        Flavour::V3 => json!({
            "name": name, "in": "path", "required": true, "description": description,
            "schema": {"type": "string", "uniqueItems": true},
        }),
        Flavour::V2 => json!({
            "name": name, "in": "path", "required": true, "description": description,
            "type": "string", "uniqueItems": true,
        }),
    }
}

fn write_params(f: Flavour) -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted. Valid value: All.",
            f,
        ),
        query(
            "fieldManager",
            "string",
            "A name associated with the actor or entity that is making these changes.",
            f,
        ),
        query(
            "fieldValidation",
            "string",
            "How the server treats fields it does not know or that are duplicated: Ignore, Warn (the default) or Strict.",
            f,
        ),
    ]
}

fn list_params(f: Flavour) -> Vec<Value> {
    vec![
        query(
            "allowWatchBookmarks",
            "boolean",
            "Requests watch events with type BOOKMARK.",
            f,
        ),
        query(
            "continue",
            "string",
            "The continue option from a previous list call, to fetch the next page.",
            f,
        ),
        query(
            "fieldSelector",
            "string",
            "A selector to restrict the list of returned objects by their fields.",
            f,
        ),
        query(
            "labelSelector",
            "string",
            "A selector to restrict the list of returned objects by their labels.",
            f,
        ),
        query(
            "limit",
            "integer",
            "Maximum number of responses to return for a list call.",
            f,
        ),
        query(
            "resourceVersion",
            "string",
            "Sets a constraint on what resource versions a request may be served from.",
            f,
        ),
        query(
            "resourceVersionMatch",
            "string",
            "Determines how resourceVersion is applied to list calls.",
            f,
        ),
        query(
            "sendInitialEvents",
            "boolean",
            "Starts a watch with synthetic events for the current state.",
            f,
        ),
        query(
            "timeoutSeconds",
            "integer",
            "Timeout for the list/watch call.",
            f,
        ),
        query(
            "watch",
            "boolean",
            "Watch for changes to the described resources.",
            f,
        ),
    ]
}

fn body(schema: Value, f: Flavour, content_types: &[&str]) -> (Option<Value>, Option<Value>) {
    match f {
        Flavour::V3 => {
            let mut content = Map::new();
            for ct in content_types {
                content.insert((*ct).into(), json!({"schema": schema}));
            }
            (Some(json!({"content": content, "required": true})), None)
        }
        Flavour::V2 => (
            None,
            Some(json!({"name": "body", "in": "body", "required": true, "schema": schema})),
        ),
    }
}

fn response(schema: Value, f: Flavour) -> Value {
    match f {
        Flavour::V3 => json!({
            "description": "OK",
            "content": {
                "application/json": {"schema": schema},
                "application/yaml": {"schema": schema},
            },
        }),
        Flavour::V2 => json!({"description": "OK", "schema": schema}),
    }
}

/// `listPlatformTkestackIoV1Cluster`-style operation ids.
fn operation_id(action: &str, k: &ResourceKind, namespaced_path: bool, suffix: &str) -> String {
    let mut id = String::from(action);
    let group = if k.group.is_empty() { "core" } else { k.group };
    for part in group.split('.').chain(std::iter::once(k.version)) {
        let mut c = part.chars();
        if let Some(first) = c.next() {
            id.push(first.to_ascii_uppercase());
            id.push_str(c.as_str());
        }
    }
    if namespaced_path {
        id.push_str("Namespaced");
    }
    id.push_str(k.kind);
    id.push_str(suffix);
    id
}

#[allow(clippy::too_many_arguments)]
fn operation(
    action: &str,
    verb: &str,
    k: &ResourceKind,
    namespaced_path: bool,
    suffix: &str,
    params: Vec<Value>,
    request: Option<(Value, &[&str])>,
    response_schema: Value,
    f: Flavour,
) -> Value {
    let mut op = json!({
        "description": format!("{verb} {}", k.kind),
        "operationId": operation_id(action, k, namespaced_path, suffix),
        "tags": [operation_id("", k, false, "")],
        "parameters": params,
        "responses": {
            "200": response(response_schema, f),
            "401": {"description": "Unauthorized"},
        },
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": gvk(k),
    });
    if let Some((schema, cts)) = request {
        let (rb, param) = body(schema, f, cts);
        if let Some(rb) = rb {
            op["requestBody"] = rb;
        }
        if let Some(p) = param
            && let Some(list) = op["parameters"].as_array_mut()
        {
            list.push(p);
        }
    }
    op
}

/// Adds the paths of one kind.
fn kind_paths(
    k: &ResourceKind,
    def: &str,
    list_def: &str,
    f: Flavour,
    paths: &mut BTreeMap<String, Value>,
) {
    let root = if k.group.is_empty() {
        format!("/api/{}", k.version)
    } else {
        format!("/apis/{}/{}", k.group, k.version)
    };
    let obj = f.reference(def);
    let list = f.reference(list_def);
    let status = f.reference(&format!("{META}.Status"));
    let patch = f.reference(&format!("{META}.Patch"));
    let delete_opts = f.reference(&format!("{META}.DeleteOptions"));
    let json_yaml: &[&str] = &["application/json", "application/yaml"];
    let patch_types: &[&str] = if k.custom {
        &[
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
        ]
    } else {
        &[
            "application/apply-patch+yaml",
            "application/json-patch+json",
            "application/merge-patch+json",
            "application/strategic-merge-patch+json",
        ]
    };
    let pretty = query(
        "pretty",
        "string",
        "If 'true', then the output is pretty printed.",
        f,
    );
    let ns_param = path_param(
        "namespace",
        "object name and auth scope, such as for teams and projects",
        f,
    );
    let name_param = path_param("name", &format!("name of the {}", k.kind), f);
    let coll = if k.namespaced {
        format!("{root}/namespaces/{{namespace}}/{}", k.resource)
    } else {
        format!("{root}/{}", k.resource)
    };
    let mut common = vec![pretty.clone()];
    if k.namespaced {
        common.push(ns_param.clone());
    }

    if k.create_only {
        let post = operation(
            "create",
            "post",
            k,
            k.namespaced,
            "",
            write_params(f),
            Some((obj.clone(), json_yaml)),
            obj.clone(),
            f,
        );
        paths.insert(coll, json!({"parameters": common, "post": post}));
        return;
    }

    let mut delete_coll_params = list_params(f);
    delete_coll_params.push(query(
        "dryRun",
        "string",
        "When present, indicates that modifications should not be persisted.",
        f,
    ));
    delete_coll_params.push(query(
        "gracePeriodSeconds",
        "integer",
        "The duration in seconds before the object should be deleted.",
        f,
    ));
    delete_coll_params.push(query(
        "propagationPolicy",
        "string",
        "Whether and how garbage collection will be performed.",
        f,
    ));
    paths.insert(
        coll.clone(),
        json!({
            "parameters": common,
            "get": operation("list", "list", k, k.namespaced, "", list_params(f), None, list.clone(), f),
            "post": operation("create", "post", k, k.namespaced, "", write_params(f), Some((obj.clone(), json_yaml)), obj.clone(), f),
            "delete": operation("deletecollection", "deletecollection", k, k.namespaced, "", delete_coll_params, Some((delete_opts.clone(), json_yaml)), status.clone(), f),
        }),
    );
    if k.namespaced {
        paths.insert(
            format!("{root}/{}", k.resource),
            json!({
                "parameters": [pretty.clone()],
                "get": operation("list", "list", k, false, "ForAllNamespaces", list_params(f), None, list, f),
            }),
        );
    }

    let mut item_common = vec![name_param, pretty];
    if k.namespaced {
        item_common.push(ns_param);
    }
    let mut patch_params = write_params(f);
    patch_params.push(query("force", "boolean", "Force is going to \"force\" Apply requests. It must be unset for non-apply patch requests.", f));
    let delete_params = vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted.",
            f,
        ),
        query(
            "gracePeriodSeconds",
            "integer",
            "The duration in seconds before the object should be deleted.",
            f,
        ),
        query(
            "propagationPolicy",
            "string",
            "Whether and how garbage collection will be performed.",
            f,
        ),
    ];
    let item = format!("{coll}/{{name}}");
    paths.insert(
        item.clone(),
        json!({
            "parameters": item_common.clone(),
            "get": operation("read", "get", k, k.namespaced, "", vec![], None, obj.clone(), f),
            "put": operation("replace", "put", k, k.namespaced, "", write_params(f), Some((obj.clone(), json_yaml)), obj.clone(), f),
            "patch": operation("patch", "patch", k, k.namespaced, "", patch_params.clone(), Some((patch.clone(), patch_types)), obj.clone(), f),
            "delete": operation("delete", "delete", k, k.namespaced, "", delete_params, Some((delete_opts, json_yaml)), status, f),
        }),
    );
    if k.status_subresource {
        paths.insert(
            format!("{item}/status"),
            json!({
                "parameters": item_common,
                "get": operation("read", "get", k, k.namespaced, "Status", vec![], None, obj.clone(), f),
                "put": operation("replace", "put", k, k.namespaced, "Status", write_params(f), Some((obj.clone(), json_yaml)), obj.clone(), f),
                "patch": operation("patch", "patch", k, k.namespaced, "Status", patch_params, Some((patch, patch_types)), obj, f),
            }),
        );
    }
}

/// Paths and definitions for a set of kinds.
fn build(kinds: &[&ResourceKind], f: Flavour) -> (BTreeMap<String, Value>, Map<String, Value>) {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1 as meta;
    let mut generator = f.generator();
    let mut extra = Map::new();
    let mut paths = BTreeMap::new();
    let mut tagged: Vec<(String, &ResourceKind)> = Vec::new();
    generator.subschema_for::<meta::ListMeta>();
    generator.subschema_for::<meta::Status>();
    generator.subschema_for::<meta::DeleteOptions>();
    generator.subschema_for::<meta::ObjectMeta>();
    extra.insert(
        format!("{META}.Patch"),
        json!({"description": "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.", "type": "object"}),
    );
    for k in kinds {
        let def = kind_schema(k, &mut generator, f, &mut extra);
        let list_def = format!("{def}List");
        if !k.create_only {
            extra.insert(list_def.clone(), list_schema(k, &def, f));
        }
        kind_paths(k, &def, &list_def, f, &mut paths);
        tagged.push((def, k));
    }
    let mut defs = generator.take_definitions(true);
    defs.extend(extra);
    defs.values_mut().for_each(mark_untyped);
    for (def, k) in tagged {
        if let Some(s) = defs.get_mut(&def).and_then(Value::as_object_mut) {
            s.insert("x-kubernetes-group-version-kind".into(), json!([gvk(k)]));
        }
    }
    (paths, defs)
}

/// `/openapi/v3/<gv>` for the kinds of one group-version.
fn v3_group_version(kinds: &[&ResourceKind]) -> Value {
    let (paths, defs) = build(kinds, Flavour::V3);
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.37.1"},
        "paths": paths,
        "components": {
            "schemas": defs,
            "securitySchemes": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header", "description": "Bearer Token authentication"}},
        },
        "security": [{"BearerToken": []}],
    })
}

/// A short stable content hash: clients cache documents by it (`?hash=`).
pub fn content_hash(bytes: &[u8]) -> String {
    // FNV-1a, twice with different seeds: cheap and identical across runs and platforms.
    let fnv = |seed: u64| {
        bytes.iter().fold(seed, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
    };
    format!(
        "{:016X}{:016X}",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

/// The documents for one set of served kinds.
pub struct Docs {
    /// `/openapi/v3` root.
    pub v3_root: Value,
    /// `apis/<g>/<v>` or `api/v1` -> (document, hash).
    pub v3: BTreeMap<String, (Value, String)>,
    /// `/openapi/v2` as JSON.
    pub v2: Value,
}

fn make_docs(served: &[&ResourceKind]) -> Docs {
    let mut v3 = BTreeMap::new();
    let mut root_paths = Map::new();
    let mut gvs: Vec<(&str, &str)> = Vec::new();
    for k in served {
        if !gvs.contains(&(k.group, k.version)) {
            gvs.push((k.group, k.version));
        }
    }
    for (g, v) in gvs {
        let kinds: Vec<&ResourceKind> = served
            .iter()
            .copied()
            .filter(|k| k.group == g && k.version == v)
            .collect();
        let doc = v3_group_version(&kinds);
        let hash = content_hash(&serde_json::to_vec(&doc).unwrap_or_default());
        let path = gv_path(g, v);
        root_paths.insert(
            path.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
        );
        v3.insert(path, (doc, hash));
    }
    let (paths, defs) = build(served, Flavour::V2);
    let v2 = json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.37.1"},
        "paths": paths,
        "definitions": defs,
        "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header", "description": "Bearer Token authentication"}},
        "security": [{"BearerToken": []}],
    });
    Docs {
        v3_root: json!({"paths": root_paths}),
        v3,
        v2,
    }
}

/// The documents for a set of served kinds, built on first use and then shared: the set
/// differs only between the `global` cluster and workload clusters.
pub fn docs(served: &[&ResourceKind]) -> Arc<Docs> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Docs>>>> = OnceLock::new();
    let key = served
        .iter()
        .map(|k| k.qualified())
        .collect::<Vec<_>>()
        .join(",");
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(map) = cache.lock()
        && let Some(d) = map.get(&key)
    {
        return d.clone();
    }
    let built = Arc::new(make_docs(served));
    if let Ok(mut map) = cache.lock() {
        map.entry(key).or_insert_with(|| built.clone());
    }
    built
}

/// The document at `path` (`/openapi/v2`, `/openapi/v3`, `/openapi/v3/apis/<g>/<v>`, query
/// removed), or `None` when there is none.
pub fn document(path: &str, served: &[&ResourceKind]) -> Option<Value> {
    let d = docs(served);
    match path.trim_end_matches('/') {
        "/openapi/v2" => Some(d.v2.clone()),
        "/openapi/v3" => Some(d.v3_root.clone()),
        p => {
            let gv = p.strip_prefix("/openapi/v3/")?;
            d.v3.get(gv).map(|(doc, _)| doc.clone())
        }
    }
}

/// The published schema (v3 flavour) of a kind together with the definitions it refers to.
fn schema_of<'a>(d: &'a Docs, kind: &ResourceKind) -> Option<(&'a Value, &'a Map<String, Value>)> {
    let (doc, _) = d.v3.get(&gv_path(kind.group, kind.version))?;
    let defs = doc["components"]["schemas"].as_object()?;
    let want = gvk(kind);
    let schema = defs.values().find(|s| {
        s["x-kubernetes-group-version-kind"]
            .as_array()
            .is_some_and(|l| l.contains(&want))
    })?;
    Some((schema, defs))
}

/// Follows `$ref` and single-element `allOf` wrappers to the schema that has the content.
fn resolve<'a>(mut s: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
    for _ in 0..16 {
        if let Some(r) = s["$ref"].as_str() {
            match r.rsplit('/').next().and_then(|n| defs.get(n)) {
                Some(t) => s = t,
                None => return s,
            }
        } else if let Some([only]) = s["allOf"].as_array().map(Vec::as_slice) {
            s = only;
        } else {
            break;
        }
    }
    s
}

fn walk_unknown(
    v: &Value,
    s: &Value,
    defs: &Map<String, Value>,
    path: &str,
    out: &mut Vec<String>,
) {
    let s = resolve(s, defs);
    if s["x-kubernetes-preserve-unknown-fields"] == Value::Bool(true) {
        return;
    }
    match v {
        Value::Object(m) => {
            let props = s["properties"].as_object();
            let additional = s.get("additionalProperties").filter(|a| a.is_object());
            if props.is_none() && additional.is_none() {
                // No structure published (e.g. a free-form object): nothing is unknown.
                return;
            }
            for (key, child) in m {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (props.and_then(|p| p.get(key)), additional) {
                    (Some(cs), _) => walk_unknown(child, cs, defs, &child_path, out),
                    (None, Some(cs)) => walk_unknown(child, cs, defs, &child_path, out),
                    (None, None) => out.push(child_path),
                }
            }
        }
        Value::Array(items) => {
            if let Some(is) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk_unknown(item, is, defs, &format!("{path}[{i}]"), out);
                }
            }
        }
        _ => {}
    }
}

/// Fields of `obj` that the published schema of `kind` does not declare, as
/// `spec.machines[0].foo` paths (what strict decoding reports). Empty for kinds whose schema
/// preserves unknown fields.
pub fn unknown_fields(kind: &ResourceKind, served: &[&ResourceKind], obj: &Value) -> Vec<String> {
    let d = docs(served);
    let mut out = Vec::new();
    if let Some((schema, defs)) = schema_of(&d, kind) {
        walk_unknown(obj, schema, defs, "", &mut out);
    }
    out
}

/// Server-side field validation of a create/update/patch body, as kubectl asks for it with
/// `fieldValidation=Strict|Warn|Ignore` (absent means `Warn`, as upstream):
/// * `Strict`: unknown fields make the request fail with 400 BadRequest;
/// * `Warn`: the request proceeds and the returned texts go to `Warning: 299 - "<text>"`
///   response headers;
/// * `Ignore`: nothing is checked.
///
/// Duplicate fields cannot be detected here because bodies arrive already decoded.
pub fn field_validation(
    kind: &ResourceKind,
    served: &[&ResourceKind],
    directive: Option<&str>,
    obj: &Value,
) -> Result<Vec<String>, ApiError> {
    let directive = directive.unwrap_or("");
    let strict = match directive {
        "Ignore" => return Ok(Vec::new()),
        "" | "Warn" => false,
        "Strict" => true,
        other => {
            return Err(ApiError::new(
                422,
                "Invalid",
                format!(
                    "fieldValidation: Unsupported value: \"{other}\": supported values: \
                     \"Ignore\", \"Strict\", \"Warn\""
                ),
            ));
        }
    };
    let unknown: Vec<String> = unknown_fields(kind, served, obj)
        .into_iter()
        .map(|p| format!("unknown field \"{p}\""))
        .collect();
    if strict && !unknown.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{kind} in version \"{version}\" cannot be handled as a {kind}: strict decoding \
             error: {list}",
            kind = kind.kind,
            version = kind.version,
            list = unknown.join(", ")
        )));
    }
    Ok(unknown)
}

/// Protobuf encoding of the v2 document in gnostic's `openapi.v2.Document` message, which
/// is what client-go's `OpenAPISchema()` asks for and parses (kubectl falls back to it for
/// client-side validation and `explain --output plaintext-openapiv2`). Definitions are
/// encoded in full; paths are left out (clients use the v3 documents for those).
mod v2_protobuf {
    use serde_json::Value;

    #[derive(Default)]
    pub struct Msg(Vec<u8>);

    impl Msg {
        fn varint(&mut self, mut v: u64) {
            loop {
                let b = (v & 0x7f) as u8;
                v >>= 7;
                if v == 0 {
                    self.0.push(b);
                    return;
                }
                self.0.push(b | 0x80);
            }
        }

        pub fn bytes(&mut self, field: u64, b: &[u8]) -> &mut Self {
            self.varint((field << 3) | 2);
            self.varint(b.len() as u64);
            self.0.extend_from_slice(b);
            self
        }

        pub fn string(&mut self, field: u64, s: &str) -> &mut Self {
            if !s.is_empty() {
                self.bytes(field, s.as_bytes());
            }
            self
        }

        pub fn msg(&mut self, field: u64, m: &Msg) -> &mut Self {
            self.bytes(field, &m.0)
        }

        pub fn boolean(&mut self, field: u64, v: bool) -> &mut Self {
            if v {
                self.varint(field << 3);
                self.varint(1);
            }
            self
        }

        pub fn into_bytes(self) -> Vec<u8> {
            self.0
        }
    }

    /// `openapi.v2.Any` carrying a value as YAML text (JSON is valid YAML).
    fn any(v: &Value) -> Msg {
        let mut m = Msg::default();
        m.string(2, &serde_json::to_string(v).unwrap_or_default());
        m
    }

    fn named(name: &str, value: &Msg) -> Msg {
        let mut m = Msg::default();
        m.string(1, name).msg(2, value);
        m
    }

    /// `openapi.v2.Schema` from a JSON schema object.
    pub fn schema(v: &Value) -> Msg {
        let mut m = Msg::default();
        let Some(o) = v.as_object() else {
            return m;
        };
        let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
        m.string(1, s("$ref"))
            .string(2, s("format"))
            .string(3, s("title"))
            .string(4, s("description"));
        if let Some(req) = o.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                m.string(19, r);
            }
        }
        if let Some(vals) = o.get("enum").and_then(Value::as_array) {
            for e in vals {
                m.msg(20, &any(e));
            }
        }
        match o.get("additionalProperties") {
            Some(Value::Object(_)) => {
                let mut item = Msg::default();
                item.msg(1, &schema(&o["additionalProperties"]));
                m.msg(21, &item);
            }
            Some(Value::Bool(b)) => {
                let mut item = Msg::default();
                // A oneof bool must be written even when false.
                item.varint(2 << 3);
                item.varint(u64::from(*b));
                m.msg(21, &item);
            }
            _ => {}
        }
        let types: Vec<&str> = match o.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !types.is_empty() {
            let mut t = Msg::default();
            for ty in types {
                t.string(1, ty);
            }
            m.msg(22, &t);
        }
        if let Some(items) = o.get("items").filter(|i| i.is_object()) {
            let mut it = Msg::default();
            it.msg(1, &schema(items));
            m.msg(23, &it);
        }
        if let Some(all) = o.get("allOf").and_then(Value::as_array) {
            for a in all {
                m.msg(24, &schema(a));
            }
        }
        if let Some(props) = o.get("properties").and_then(Value::as_object) {
            let mut p = Msg::default();
            for (name, ps) in props {
                p.msg(1, &named(name, &schema(ps)));
            }
            m.msg(25, &p);
        }
        m.boolean(27, o.get("readOnly") == Some(&Value::Bool(true)));
        for (k, x) in o.iter().filter(|(k, _)| k.starts_with("x-")) {
            m.msg(31, &named(k, &any(x)));
        }
        m
    }

    /// `openapi.v2.Document` from the JSON v2 document.
    pub fn document(doc: &Value) -> Vec<u8> {
        let mut info = Msg::default();
        info.string(1, doc["info"]["title"].as_str().unwrap_or_default())
            .string(2, doc["info"]["version"].as_str().unwrap_or_default());
        let mut defs = Msg::default();
        if let Some(d) = doc["definitions"].as_object() {
            for (name, s) in d {
                defs.msg(1, &named(name, &schema(s)));
            }
        }
        let mut m = Msg::default();
        m.string(1, doc["swagger"].as_str().unwrap_or("2.0"))
            .msg(2, &info)
            .msg(8, &Msg::default())
            .msg(9, &defs);
        m.into_bytes()
    }
}

/// Media type clients ask for the protobuf v2 document with.
pub const V2_PROTOBUF: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";
/// Content type the apiserver answers it with: the `@` of the request form is not valid in
/// a media type, and client-go's `mime.ParseMediaType` rejects it in responses.
pub const V2_PROTOBUF_RESPONSE: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

/// What the HTTP layer sends for an OpenAPI path: `(content type, body)`, chosen by the
/// request's `Accept` (protobuf for `/openapi/v2` when the client prefers it, JSON
/// otherwise); `Ok(None)` for an unknown path (404); `Err` 406 when the client accepts
/// nothing this path can be served as.
pub fn respond(
    path: &str,
    accept: &str,
    served: &[&ResourceKind],
) -> Result<Option<(&'static str, Vec<u8>)>, ApiError> {
    let Some(doc) = document(path, served) else {
        return Ok(None);
    };
    let medias: Vec<&str> = accept
        .split(',')
        .map(|p| p.split(';').next().unwrap_or_default().trim())
        .filter(|m| !m.is_empty())
        .collect();
    let json_ok = medias.is_empty()
        || medias
            .iter()
            .any(|m| matches!(*m, "application/json" | "application/*" | "*/*"));
    let is_v2 = path.trim_end_matches('/') == "/openapi/v2";
    let proto_first = medias.first().is_some_and(|m| {
        *m == V2_PROTOBUF || *m == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    });
    if is_v2
        && (proto_first || !json_ok)
        && medias.iter().any(|m| m.contains("proto-openapi.spec.v2"))
    {
        return Ok(Some((V2_PROTOBUF_RESPONSE, v2_protobuf::document(&doc))));
    }
    if !json_ok {
        return Err(ApiError::new(
            406,
            "NotAcceptable",
            format!(
                "only the following media types are accepted: application/json{}",
                if is_v2 {
                    ", ".to_string() + V2_PROTOBUF
                } else {
                    String::new()
                }
            ),
        ));
    }
    Ok(Some((
        "application/json",
        serde_json::to_vec(&doc).unwrap_or_default(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::apiserver::kinds::{KINDS, by_name, names, served};

    fn global() -> Vec<&'static ResourceKind> {
        served(true).collect()
    }

    #[test]
    fn root_lists_every_group_version_with_its_hash() {
        let kinds = global();
        let d = docs(&kinds);
        let root = document("/openapi/v3", &kinds).expect("root");
        let url = root["paths"]["apis/platform.tkestack.io/v1"]["serverRelativeURL"]
            .as_str()
            .expect("platform group listed");
        let (doc, hash) = &d.v3["apis/platform.tkestack.io/v1"];
        assert_eq!(
            url,
            format!("/openapi/v3/apis/platform.tkestack.io/v1?hash={hash}")
        );
        assert_eq!(hash, &content_hash(&serde_json::to_vec(doc).expect("json")));
        assert!(root["paths"]["api/v1"].is_object());
        assert!(document("/openapi/v3/apis/nope.example.com/v1", &kinds).is_none());
    }

    #[test]
    fn cluster_schema_is_explainable() {
        let kinds = global();
        let doc = document("/openapi/v3/apis/platform.tkestack.io/v1", &kinds).expect("doc");
        let schemas = &doc["components"]["schemas"];
        let cls = &schemas["io.tkestack.platform.v1.Cluster"];
        assert_eq!(
            cls["x-kubernetes-group-version-kind"],
            json!([{"group": "platform.tkestack.io", "version": "v1", "kind": "Cluster"}])
        );
        let spec = &cls["properties"]["spec"];
        assert!(spec["properties"]["clusterCIDR"].is_object());
        // Free-form fields must not be published as `{}` (kubectl explain fails on those).
        let free = &spec["properties"]["features"]["properties"]["authzWebhookAddr"];
        assert_eq!(free["x-kubernetes-preserve-unknown-fields"], true, "{free}");
        assert!(spec.get("x-kubernetes-preserve-unknown-fields").is_none());
        let meta_ref = cls["properties"]["metadata"]["allOf"][0]["$ref"]
            .as_str()
            .expect("metadata ref");
        let meta_name = meta_ref.rsplit('/').next().expect("name");
        assert!(schemas[meta_name]["properties"]["labels"].is_object());
        assert!(schemas["io.tkestack.platform.v1.ClusterList"]["properties"]["items"].is_object());
    }

    #[test]
    fn patch_operations_advertise_field_validation() {
        let kinds = global();
        for (gv, path) in [
            (
                "apis/platform.tkestack.io/v1",
                "/apis/platform.tkestack.io/v1/clusters/{name}",
            ),
            ("api/v1", "/api/v1/namespaces/{namespace}/configmaps/{name}"),
        ] {
            let doc = document(&format!("/openapi/v3/{gv}"), &kinds).expect("doc");
            let patch = &doc["paths"][path]["patch"];
            assert!(
                patch["x-kubernetes-group-version-kind"].is_object(),
                "{path}"
            );
            let params = patch["parameters"].as_array().expect("params");
            assert!(
                params
                    .iter()
                    .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"),
                "{path}"
            );
        }
    }

    #[test]
    fn builtin_kinds_use_upstream_schemas() {
        let kinds = global();
        let doc = document("/openapi/v3/api/v1", &kinds).expect("doc");
        let cm = &doc["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"];
        assert!(cm["properties"]["data"].is_object());
        assert_eq!(
            cm["x-kubernetes-group-version-kind"][0]["kind"],
            "ConfigMap"
        );
        let v2 = document("/openapi/v2", &kinds).expect("v2");
        assert_eq!(v2["swagger"], "2.0");
        assert!(v2["definitions"]["io.k8s.api.core.v1.ConfigMap"].is_object());
        assert!(
            v2["paths"]["/apis/platform.tkestack.io/v1/clusters"]["get"]["x-kubernetes-action"]
                == "list"
        );
    }

    #[test]
    fn unknown_fields_and_directives() {
        let kinds = global();
        let cls = &KINDS[by_name(names::CLUSTERS).expect("kind")];
        let obj = json!({
            "apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
            "metadata": {"name": "a", "labels": {"any": "thing"}, "bogus": 1},
            "spec": {"type": "Baremetal", "version": "1.30.0", "nonsense": true},
        });
        let unknown = unknown_fields(cls, &kinds, &obj);
        assert_eq!(
            unknown,
            vec!["metadata.bogus".to_string(), "spec.nonsense".to_string()]
        );
        let err = field_validation(cls, &kinds, Some("Strict"), &obj).expect_err("strict");
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message,
            "Cluster in version \"v1\" cannot be handled as a Cluster: strict decoding error: \
             unknown field \"metadata.bogus\", unknown field \"spec.nonsense\""
        );
        let warns = field_validation(cls, &kinds, None, &obj).expect("warn");
        assert_eq!(warns.len(), 2);
        assert!(
            field_validation(cls, &kinds, Some("Ignore"), &obj)
                .expect("ignore")
                .is_empty()
        );
        assert_eq!(
            field_validation(cls, &kinds, Some("Loose"), &obj)
                .expect_err("bad")
                .code,
            422
        );
        let cm = &KINDS[by_name(names::CONFIG_MAPS).expect("kind")];
        let good = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "x", "annotations": {"a": "b"}}, "data": {"k": "v"}});
        assert!(unknown_fields(cm, &kinds, &good).is_empty());
        let bad = json!({"metadata": {"name": "x"}, "datta": {}});
        assert_eq!(unknown_fields(cm, &kinds, &bad), vec!["datta".to_string()]);
    }

    /// Reads (field, bytes) of the length-delimited fields of a protobuf message.
    fn pb_fields(mut b: &[u8]) -> Vec<(u64, Vec<u8>)> {
        let mut out = Vec::new();
        let varint = |b: &mut &[u8]| {
            let mut v = 0u64;
            let mut shift = 0;
            while let Some((&x, rest)) = b.split_first() {
                *b = rest;
                v |= u64::from(x & 0x7f) << shift;
                shift += 7;
                if x & 0x80 == 0 {
                    break;
                }
            }
            v
        };
        while !b.is_empty() {
            let key = varint(&mut b);
            match key & 7 {
                0 => {
                    varint(&mut b);
                }
                2 => {
                    let n = usize::try_from(varint(&mut b)).expect("length");
                    out.push((key >> 3, b[..n].to_vec()));
                    b = &b[n..];
                }
                other => panic!("unexpected wire type {other}"),
            }
        }
        out
    }

    #[test]
    fn v2_negotiates_protobuf_json_or_406() {
        let kinds = global();
        let (ct, body) = respond("/openapi/v2", V2_PROTOBUF, &kinds)
            .expect("ok")
            .expect("found");
        assert_eq!(ct, V2_PROTOBUF_RESPONSE);
        let doc = pb_fields(&body);
        assert_eq!(doc[0], (1, b"2.0".to_vec()));
        let defs = &doc.iter().find(|(f, _)| *f == 9).expect("definitions").1;
        let cluster = pb_fields(defs)
            .into_iter()
            .map(|(_, named)| pb_fields(&named))
            .find(|named| named[0].1 == b"io.tkestack.platform.v1.Cluster")
            .expect("Cluster definition");
        let schema = pb_fields(&cluster[1].1);
        let gvk = schema
            .iter()
            .filter(|(f, _)| *f == 31)
            .map(|(_, ext)| pb_fields(ext))
            .find(|ext| ext[0].1 == b"x-kubernetes-group-version-kind")
            .expect("gvk extension");
        let yaml = pb_fields(&gvk[1].1);
        assert_eq!(
            String::from_utf8_lossy(&yaml[0].1),
            r#"[{"group":"platform.tkestack.io","kind":"Cluster","version":"v1"}]"#
        );

        let (ct, _) = respond("/openapi/v2", "application/json", &kinds)
            .expect("ok")
            .expect("found");
        assert_eq!(ct, "application/json");
        let (ct, _) = respond("/openapi/v3/api/v1", "", &kinds)
            .expect("ok")
            .expect("found");
        assert_eq!(ct, "application/json");
        let err = respond(
            "/openapi/v3/api/v1",
            "application/vnd.kubernetes.protobuf",
            &kinds,
        )
        .expect_err("406");
        assert_eq!(err.code, 406);
        assert!(
            respond("/openapi/v3/apis/x.io/v1", "", &kinds)
                .expect("ok")
                .is_none()
        );
    }
}
