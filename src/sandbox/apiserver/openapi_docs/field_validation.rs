//! Server-side field validation: unknown fields found by walking a body against the
//! published schema.

use serde_json::{Map, Value};

use super::schemas::gvk;
use super::{Docs, docs, gv_path};
use crate::sandbox::apiserver::kinds::ResourceKind;
use crate::sandbox::apiserver::status::ApiError;

/// The published schema (v3 flavour) of a kind together with the definitions it refers to.
pub(super) fn schema_of<'a>(
    d: &'a Docs,
    kind: &ResourceKind,
) -> Option<(&'a Value, &'a Map<String, Value>)> {
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
pub(super) fn resolve<'a>(mut s: &'a Value, defs: &'a Map<String, Value>) -> &'a Value {
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

pub(super) fn walk_unknown(
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
