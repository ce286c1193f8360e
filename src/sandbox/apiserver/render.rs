//! Response encodings of objects and lists: plain JSON, `PartialObjectMetadata(List)` and
//! `Table` (what kubectl `get` asks for), chosen from the Accept header.

use std::sync::Arc;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};

use super::kinds::ResourceKind;
use super::watch::partial_metadata;

/// The representation a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr {
    Full,
    Metadata,
    Table,
}

impl Repr {
    /// Picks the first form in the Accept header the server can produce.
    pub fn from_accept(accept: &str) -> Repr {
        for part in accept.split(',') {
            let params: Vec<&str> = part.split(';').map(str::trim).collect();
            let mime = params.first().copied().unwrap_or("");
            if mime != "application/json" && mime != "*/*" && mime != "application/*" {
                continue;
            }
            let has = |p: &str| params.contains(&p);
            if has("as=Table") && has("g=meta.k8s.io") {
                return Repr::Table;
            }
            if (has("as=PartialObjectMetadata") || has("as=PartialObjectMetadataList"))
                && has("g=meta.k8s.io")
            {
                return Repr::Metadata;
            }
            if !params.iter().any(|p| p.starts_with("as=")) {
                return Repr::Full;
            }
        }
        Repr::Full
    }
}

/// Serializes an object without `kind`/`apiVersion` (list items of built-in kinds).
struct Untyped<'a>(&'a Value);

impl Serialize for Untyped<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(m) => {
                let mut map = s.serialize_map(None)?;
                for (k, v) in m {
                    if k != "kind" && k != "apiVersion" {
                        map.serialize_entry(k, v)?;
                    }
                }
                map.end()
            }
            other => other.serialize(s),
        }
    }
}

fn list_meta(rv: u64, cont: Option<&str>) -> Value {
    let mut m = json!({"resourceVersion": rv.to_string()});
    if let Some(c) = cont {
        m["continue"] = c.into();
    }
    m
}

/// A list response body, written straight to bytes (lists of thousands of objects are
/// serialized without cloning them).
pub fn list(
    kind: &ResourceKind,
    items: &[Arc<Value>],
    rv: u64,
    cont: Option<&str>,
    repr: Repr,
) -> Vec<u8> {
    if repr == Repr::Table {
        return serde_json::to_vec(&table(kind, items, Some(list_meta(rv, cont))))
            .unwrap_or_default();
    }
    let mut buf = Vec::with_capacity(64 + items.len() * 512);
    let head = match repr {
        Repr::Metadata => {
            json!({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
            "metadata": list_meta(rv, cont)})
        }
        _ => json!({"kind": format!("{}List", kind.kind), "apiVersion": kind.api_version(),
            "metadata": list_meta(rv, cont)}),
    };
    let head = head.to_string();
    // Re-open the head object to append `items`.
    buf.extend_from_slice(&head.as_bytes()[..head.len() - 1]);
    buf.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let r = match repr {
            Repr::Metadata => serde_json::to_writer(&mut buf, &partial_metadata(item)),
            _ if kind.custom => serde_json::to_writer(&mut buf, item.as_ref()),
            _ => serde_json::to_writer(&mut buf, &Untyped(item)),
        };
        // Writing a Value into a Vec cannot fail.
        let _ = r;
    }
    buf.extend_from_slice(b"]}");
    buf
}

/// A single-object response.
pub fn object(kind: &ResourceKind, obj: &Value, repr: Repr) -> Value {
    match repr {
        Repr::Full => obj.clone(),
        Repr::Metadata => partial_metadata(obj),
        Repr::Table => table(kind, std::slice::from_ref(&Arc::new(obj.clone())), None),
    }
}

/// `kubectl get` column `AGE`, as `duration.HumanDuration` prints it.
pub fn human_duration(secs: i64) -> String {
    let s = secs.max(0);
    let m = s / 60;
    let h = m / 60;
    let d = h / 24;
    let y = d / 365;
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        if s % 60 == 0 {
            format!("{m}m")
        } else {
            format!("{m}m{}s", s % 60)
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        if m % 60 == 0 {
            format!("{h}h")
        } else {
            format!("{h}h{}m", m % 60)
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        if h % 24 == 0 {
            format!("{d}d")
        } else {
            format!("{d}d{}h", h % 24)
        }
    } else if d < 365 * 2 {
        format!("{d}d")
    } else if y < 8 {
        if d % 365 == 0 {
            format!("{y}y")
        } else {
            format!("{y}y{}d", d % 365)
        }
    } else {
        format!("{y}y")
    }
}

fn age(obj: &Value) -> String {
    let ts = obj
        .get("metadata")
        .and_then(|m| m.get("creationTimestamp"))
        .and_then(Value::as_str)
        .unwrap_or("");
    match chrono::DateTime::parse_from_rfc3339(ts) {
        Ok(t) => human_duration((chrono::Utc::now() - t.with_timezone(&chrono::Utc)).num_seconds()),
        Err(_) => "<unknown>".into(),
    }
}

/// Extra columns for kinds whose state matters at a glance.
fn extra_columns(kind: &ResourceKind) -> &'static [(&'static str, &'static [&'static str])] {
    match (kind.group, kind.resource) {
        ("platform.tkestack.io", "clusters") => &[
            ("Type", &["spec", "type"]),
            ("Version", &["spec", "version"]),
            ("Status", &["status", "phase"]),
        ],
        ("platform.tkestack.io", "machines") => &[
            ("Cluster", &["spec", "clusterName"]),
            ("IP", &["spec", "ip"]),
            ("Status", &["status", "phase"]),
        ],
        ("", "namespaces") => &[("Status", &["status", "phase"])],
        ("", "secrets") => &[("Type", &["type"])],
        _ => &[],
    }
}

/// A `meta.k8s.io/v1` Table with Name, the kind's extra columns, and Age.
pub fn table(kind: &ResourceKind, items: &[Arc<Value>], meta: Option<Value>) -> Value {
    let extra = extra_columns(kind);
    let mut cols = vec![json!({"name": "Name", "type": "string", "format": "name",
        "description": "Name must be unique within a namespace.", "priority": 0})];
    for (name, _) in extra {
        cols.push(
            json!({"name": name, "type": "string", "format": "", "description": "", "priority": 0}),
        );
    }
    cols.push(json!({"name": "Age", "type": "string", "format": "",
        "description": "CreationTimestamp is a timestamp representing the server time when this object was created.",
        "priority": 0}));
    let rows: Vec<Value> = items
        .iter()
        .map(|o| {
            let name = o
                .get("metadata")
                .and_then(|m| m.get("name"))
                .cloned()
                .unwrap_or(Value::Null);
            let mut cells = vec![name];
            for (_, path) in extra {
                let v = path
                    .iter()
                    .try_fold(o.as_ref(), |cur, seg| cur.get(*seg))
                    .cloned()
                    .unwrap_or_else(|| "".into());
                cells.push(v);
            }
            cells.push(age(o).into());
            json!({"cells": cells, "object": partial_metadata(o)})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta.unwrap_or_else(|| json!({})),
        "columnDefinitions": cols,
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::apiserver::kinds::{KINDS, by_name, names};

    #[test]
    fn accept_forms() {
        assert_eq!(Repr::from_accept(""), Repr::Full);
        assert_eq!(
            Repr::from_accept(
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            ),
            Repr::Table
        );
        assert_eq!(
            Repr::from_accept("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
            Repr::Metadata
        );
        assert_eq!(
            Repr::from_accept("application/vnd.kubernetes.protobuf,application/json"),
            Repr::Full
        );
    }

    #[test]
    fn builtin_list_items_have_no_type_meta() {
        let cm = &KINDS[by_name(names::CONFIG_MAPS).expect("kind")];
        let item =
            Arc::new(json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "a"}}));
        let body: Value = serde_json::from_slice(&list(
            cm,
            std::slice::from_ref(&item),
            7,
            Some("t"),
            Repr::Full,
        ))
        .expect("json");
        assert_eq!(body["kind"], "ConfigMapList");
        assert_eq!(body["metadata"]["resourceVersion"], "7");
        assert_eq!(body["metadata"]["continue"], "t");
        assert_eq!(body["items"][0], json!({"metadata": {"name": "a"}}));
        let cls = &KINDS[by_name(names::CLUSTERS).expect("kind")];
        let body: Value =
            serde_json::from_slice(&list(cls, &[item], 7, None, Repr::Full)).expect("json");
        assert_eq!(body["items"][0]["kind"], "ConfigMap");
        assert!(body["metadata"].get("continue").is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(3600 * 5 + 60), "5h1m");
        assert_eq!(human_duration(86400 * 3), "3d");
    }
}
