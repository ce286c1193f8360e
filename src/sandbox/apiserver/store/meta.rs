//! Metadata helpers and the rules every write applies to `apiVersion`/`kind`, the namespace
//! and the defaults of a new object.

use rand::Rng as _;
use serde_json::{Map, Value, json};

use super::Store;
use crate::sandbox::apiserver::kinds::ResourceKind;
use crate::sandbox::apiserver::status::ApiError;

pub(super) fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

pub(super) fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    meta(obj)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub(super) fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = Value::Object(Map::new());
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

pub(super) fn finalizers(obj: &Value) -> Vec<String> {
    meta(obj)
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// `true` if the two objects differ outside the excluded top-level keys.
pub(super) fn differs_outside(a: &Value, b: &Value, exclude: &[&str]) -> bool {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return a != b;
    };
    a.iter()
        .filter(|(k, _)| !exclude.contains(&k.as_str()))
        .any(|(k, v)| b.get(k) != Some(v))
        || b.iter()
            .filter(|(k, _)| !exclude.contains(&k.as_str()))
            .any(|(k, _)| !a.contains_key(k))
}

/// Equal apart from resourceVersion and managedFields.
pub(super) fn same_content(a: &Value, b: &Value) -> bool {
    if differs_outside(a, b, &["metadata"]) {
        return false;
    }
    let skip = ["resourceVersion", "managedFields"];
    let (ma, mb) = (meta(a), meta(b));
    let empty = Map::new();
    let (ma, mb) = (ma.unwrap_or(&empty), mb.unwrap_or(&empty));
    ma.iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .all(|(k, v)| mb.get(k) == Some(v))
        && mb
            .keys()
            .filter(|k| !skip.contains(&k.as_str()))
            .all(|k| ma.contains_key(k))
}

pub(super) fn generate_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl Store {
    /// Checks `apiVersion`/`kind` in a body against the endpoint, then sets them.
    pub(super) fn fix_type(kind: &ResourceKind, obj: &mut Value) -> Result<(), ApiError> {
        let Some(map) = obj.as_object_mut() else {
            return Err(ApiError::bad_request(
                "the body of the request must be a JSON object",
            ));
        };
        let av = kind.api_version();
        if let Some(v) = map.get("apiVersion")
            && !v.is_null()
            && v.as_str() != Some(av.as_str())
        {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({}) does not match the expected API version ({av})",
                v.as_str().unwrap_or_default()
            )));
        }
        if let Some(v) = map.get("kind")
            && !v.is_null()
            && v.as_str() != Some(kind.kind)
        {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({}) does not match the expected kind ({})",
                v.as_str().unwrap_or_default(),
                kind.kind
            )));
        }
        map.insert("apiVersion".into(), av.into());
        map.insert("kind".into(), kind.kind.into());
        if map
            .get("metadata")
            .is_some_and(|m| !m.is_object() && !m.is_null())
        {
            return Err(ApiError::bad_request("metadata must be an object"));
        }
        Ok(())
    }

    /// Namespace of a write: URL vs body, as the apiserver checks it.
    pub(super) fn fix_namespace(
        kind: &ResourceKind,
        obj: &mut Value,
        ns: Option<&str>,
    ) -> Result<(), ApiError> {
        let body_ns = meta_str(obj, "namespace").to_string();
        if kind.namespaced {
            let Some(ns) = ns else {
                return Err(ApiError::bad_request(
                    "the namespace of the object is required",
                ));
            };
            if !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            meta_mut(obj).insert("namespace".into(), ns.into());
        } else {
            meta_mut(obj).remove("namespace");
        }
        Ok(())
    }

    /// Kind-specific defaults the real API machinery fills in on create.
    pub(super) fn defaults_on_create(kind: &ResourceKind, obj: &mut Value) {
        if kind.group.is_empty() && kind.resource == "namespaces" {
            let name = meta_str(obj, "name").to_string();
            let m = meta_mut(obj);
            let labels = m
                .entry("labels")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(l) = labels.as_object_mut() {
                l.insert("kubernetes.io/metadata.name".into(), name.into());
            }
            if obj.get("spec").is_none() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
            obj["status"] = json!({"phase": "Active"});
        }
        if kind.group.is_empty() && kind.resource == "secrets" && obj.get("type").is_none() {
            obj["type"] = "Opaque".into();
        }
    }
}
