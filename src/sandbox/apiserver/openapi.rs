//! The `/openapi/v2` and `/openapi/v3` documents, generated from the kinds table.
//!
//! PLACEHOLDER: a minimal document with one permissive schema per kind. The function
//! signature is the contract `http.rs` calls; keep it stable.

use serde_json::{Map, Value, json};

use super::kinds::ResourceKind;

/// The document for `path` (the part of the URL after the cluster prefix, starting with
/// `/openapi/`; query string removed), or `None` for 404. `served` are the kinds of this
/// cluster.
pub fn document(path: &str, served: &[&'static ResourceKind]) -> Option<Value> {
    match path.trim_end_matches('/') {
        "/openapi/v2" => Some(v2(served)),
        "/openapi/v3" => Some(v3_root(served)),
        p => {
            let gv = p.strip_prefix("/openapi/v3/")?;
            let kinds: Vec<&ResourceKind> = served
                .iter()
                .copied()
                .filter(|k| v3_path(k) == gv)
                .collect();
            if kinds.is_empty() {
                None
            } else {
                Some(v3_group(&kinds))
            }
        }
    }
}

fn definition_name(k: &ResourceKind) -> String {
    let group = if k.group.is_empty() { "core" } else { k.group };
    format!("{}.{}.{}", group, k.version, k.kind)
}

fn schema(k: &ResourceKind) -> Value {
    json!({
        "type": "object",
        "x-kubernetes-group-version-kind": [{"group": k.group, "version": k.version, "kind": k.kind}],
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

fn v2(served: &[&'static ResourceKind]) -> Value {
    let mut defs = Map::new();
    for k in served {
        defs.insert(definition_name(k), schema(k));
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": {},
        "definitions": defs,
    })
}

fn v3_path(k: &ResourceKind) -> String {
    if k.group.is_empty() {
        format!("api/{}", k.version)
    } else {
        format!("apis/{}/{}", k.group, k.version)
    }
}

fn v3_root(served: &[&'static ResourceKind]) -> Value {
    let mut paths = Map::new();
    for k in served {
        let p = v3_path(k);
        let url = format!("/openapi/v3/{p}?hash=0");
        paths.insert(p, json!({"serverRelativeURL": url}));
    }
    json!({"paths": paths})
}

fn v3_group(kinds: &[&ResourceKind]) -> Value {
    let mut schemas = Map::new();
    for k in kinds {
        schemas.insert(definition_name(k), schema(k));
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.33.0"},
        "paths": {},
        "components": {"schemas": schemas},
    })
}
