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
//! Built-in kinds take their schemas from k8s-openapi, the ACP kinds from ACP's published
//! field list ([`acp_schemas`], a hand-written fixture), never from the cockpit's own types:
//! a field the cockpit's model gets wrong is then refused here, as ACP would refuse it.
//! Documents are built once per cluster flavour and cached.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use self::paths::kind_paths;
use self::schemas::{Flavour, gvk, kind_schema, list_schema, mark_untyped};
use serde_json::{Map, Value, json};

use super::kinds::ResourceKind;
use super::status::ApiError;

mod acp_schemas;
mod field_validation;
mod paths;
mod schemas;
#[cfg(test)]
mod tests;
mod v2_protobuf;

pub use field_validation::{field_validation, unknown_fields};

pub(super) const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

/// Path of a group-version document below `/openapi/v3/`: `api/v1` or `apis/<g>/<v>`.
pub fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
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
