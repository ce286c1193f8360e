//! `metadata.managedFields`: which manager owns which fields.
//!
//! This is an approximation of the real structured-merge-diff bookkeeping, documented here
//! because clients can observe it:
//! * a field is a path of map keys; lists and scalars are atomic leaves (no associative
//!   lists keyed by `name`/`key`, no `k:`/`v:` entries in `fieldsV1`);
//! * an "Apply" entry owns exactly the leaves of the manager's last applied configuration;
//! * an "Update" entry (PUT, merge or JSON patch, create) owns the leaves it changed, which
//!   are taken away from every other manager;
//! * `fieldsV1` is written as nested `{"f:<key>":{…}}` maps with `{}` leaves.
//!
//! Conflict detection and removal of fields a manager stopped applying live in `patch.rs`.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// A field path: map keys from the object root.
pub type Path = Vec<String>;
pub type FieldSet = BTreeSet<Path>;

/// Whether a manager entry came from server-side apply or an ordinary write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Apply,
    Update,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Apply => "Apply",
            Operation::Update => "Update",
        }
    }
}

/// One `managedFields` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    pub time: String,
    pub subresource: Option<String>,
    pub fields: FieldSet,
}

impl Entry {
    pub fn same_owner(&self, manager: &str, op: Operation, sub: Option<&str>) -> bool {
        self.manager == manager && self.operation == op && self.subresource.as_deref() == sub
    }
}

/// `true` if one path is a prefix of the other (they address overlapping data).
pub fn overlaps(a: &[String], b: &[String]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// Reads `metadata.managedFields`; entries it cannot understand are dropped.
pub fn read(obj: &Value) -> Vec<Entry> {
    let Some(list) = obj
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let op = match e.get("operation")?.as_str()? {
                "Apply" => Operation::Apply,
                _ => Operation::Update,
            };
            let mut fields = FieldSet::new();
            if let Some(f) = e.get("fieldsV1") {
                decode(f, &mut Vec::new(), &mut fields);
            }
            Some(Entry {
                manager: e.get("manager")?.as_str()?.to_string(),
                operation: op,
                api_version: e
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                time: e
                    .get("time")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                subresource: e
                    .get("subresource")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                fields,
            })
        })
        .collect()
}

fn decode(node: &Value, prefix: &mut Path, out: &mut FieldSet) {
    let children: Vec<(&String, &Value)> = node
        .as_object()
        .map(|m| m.iter().filter(|(k, _)| k.starts_with("f:")).collect())
        .unwrap_or_default();
    let is_leaf = children.is_empty()
        || node
            .as_object()
            .is_some_and(|m| m.keys().any(|k| !k.starts_with("f:") && k != "."));
    if is_leaf {
        if !prefix.is_empty() {
            out.insert(prefix.clone());
        }
        return;
    }
    for (k, v) in children {
        prefix.push(k[2..].to_string());
        decode(v, prefix, out);
        prefix.pop();
    }
}

fn encode(fields: &FieldSet) -> Value {
    let mut root = Map::new();
    for path in fields {
        let mut cur = &mut root;
        for seg in path {
            let entry = cur
                .entry(format!("f:{seg}"))
                .or_insert_with(|| Value::Object(Map::new()));
            let Value::Object(m) = entry else { break };
            cur = m;
        }
    }
    Value::Object(root)
}

/// Writes the entries back into `metadata.managedFields` (removing it when empty).
pub fn write(obj: &mut Value, entries: &[Entry]) {
    let list: Vec<Value> = entries
        .iter()
        .filter(|e| !e.fields.is_empty())
        .map(|e| {
            let mut v = json!({
                "manager": e.manager,
                "operation": e.operation.as_str(),
                "apiVersion": e.api_version,
                "time": e.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": encode(&e.fields),
            });
            if let Some(s) = &e.subresource {
                v["subresource"] = s.clone().into();
            }
            v
        })
        .collect();
    if let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        if list.is_empty() {
            meta.remove("managedFields");
        } else {
            meta.insert("managedFields".into(), Value::Array(list));
        }
    }
}

/// Metadata fields that can be owned; everything else in `metadata` is server-managed.
const OWNABLE_META: &[&str] = &["labels", "annotations", "finalizers", "ownerReferences"];

/// The leaves of an object, restricted to what a manager can own. `status_only` selects the
/// status subresource's fields; otherwise `status` is skipped when `skip_status`.
pub fn leaves(obj: &Value, status_only: bool, skip_status: bool) -> FieldSet {
    let mut out = FieldSet::new();
    let Some(map) = obj.as_object() else {
        return out;
    };
    for (k, v) in map {
        match k.as_str() {
            "apiVersion" | "kind" => {}
            "metadata" if !status_only => {
                if let Some(m) = v.as_object() {
                    for mk in OWNABLE_META {
                        if let Some(mv) = m.get(*mk) {
                            walk(mv, &mut vec!["metadata".into(), (*mk).into()], &mut out);
                        }
                    }
                }
            }
            "metadata" => {}
            "status" if status_only => walk(v, &mut vec!["status".into()], &mut out),
            "status" if skip_status => {}
            _ if status_only => {}
            _ => walk(v, &mut vec![k.clone()], &mut out),
        }
    }
    out
}

fn walk(v: &Value, prefix: &mut Path, out: &mut FieldSet) {
    match v {
        // An empty map owns nothing: treating it as a leaf would make `data: {}` conflict
        // with every entry under `data`.
        Value::Object(m) => {
            for (k, child) in m {
                prefix.push(k.clone());
                walk(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {
            out.insert(prefix.clone());
        }
    }
}

/// Value at a path, if present.
pub fn get<'a>(obj: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(obj, |cur, seg| cur.get(seg))
}

/// Sets a value at a path, creating intermediate maps (and replacing non-map values).
pub fn set(obj: &mut Value, path: &[String], value: Value) {
    let mut cur = obj;
    for seg in path {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(m) = cur else { return };
        cur = m.entry(seg.clone()).or_insert(Value::Null);
    }
    *cur = value;
}

/// Removes the value at a path; then drops maps that became empty on the way up, except
/// at the top level.
pub fn remove(obj: &mut Value, path: &[String]) {
    fn go(cur: &mut Value, path: &[String]) -> bool {
        let Some(m) = cur.as_object_mut() else {
            return false;
        };
        match path {
            [] => false,
            [last] => {
                m.remove(last);
                m.is_empty()
            }
            [first, rest @ ..] => {
                let emptied = m.get_mut(first).is_some_and(|child| go(child, rest));
                if emptied {
                    m.remove(first);
                }
                m.is_empty()
            }
        }
    }
    if let Some(m) = obj.as_object_mut()
        && let [first, rest @ ..] = path
    {
        if rest.is_empty() {
            m.remove(first);
        } else if let Some(child) = m.get_mut(first)
            && go(child, rest)
        {
            m.remove(first);
        }
    }
}

/// Records an ordinary write: the leaves that changed between `old` and `new` become owned
/// by `manager` (operation Update) and are taken from every other entry; leaves that
/// disappeared are dropped from every entry.
pub fn record_update(
    old: &Value,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    subresource: Option<&str>,
    now: &str,
    skip_status: bool,
) {
    let status_only = subresource == Some("status");
    let old_leaves = leaves(old, status_only, skip_status);
    let new_leaves = leaves(new, status_only, skip_status);
    let changed: FieldSet = new_leaves
        .iter()
        .filter(|p| get(old, p) != get(new, p) || !old_leaves.contains(*p))
        .cloned()
        .collect();
    let mut entries = read(old);
    let all_new = leaves(new, false, false);
    for e in &mut entries {
        e.fields
            .retain(|p| !changed.contains(p) && (all_new.contains(p) || get(new, p).is_some()));
    }
    if !changed.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.same_owner(manager, Operation::Update, subresource))
        {
            Some(e) => {
                e.fields.extend(changed);
                e.time = now.to_string();
                e.api_version = api_version.to_string();
            }
            None => entries.push(Entry {
                manager: manager.to_string(),
                operation: Operation::Update,
                api_version: api_version.to_string(),
                time: now.to_string(),
                subresource: subresource.map(str::to_string),
                fields: changed,
            }),
        }
    }
    write(new, &entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Path {
        s.split('.').map(str::to_string).collect()
    }

    #[test]
    fn round_trip_fields_v1() {
        let fields: FieldSet = [p("spec.a"), p("spec.b.c"), p("metadata.labels.x")].into();
        let mut obj = json!({"metadata": {}});
        write(
            &mut obj,
            &[Entry {
                manager: "m".into(),
                operation: Operation::Apply,
                api_version: "v1".into(),
                time: "t".into(),
                subresource: None,
                fields: fields.clone(),
            }],
        );
        assert_eq!(
            obj["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:b"]["f:c"],
            json!({})
        );
        assert_eq!(read(&obj)[0].fields, fields);
    }

    #[test]
    fn leaves_skip_server_metadata() {
        let obj = json!({"apiVersion": "v1", "kind": "X",
            "metadata": {"name": "a", "labels": {"l": "1"}},
            "spec": {"a": 1, "list": [1, 2], "m": {}}, "status": {"s": 1}});
        let l = leaves(&obj, false, true);
        assert_eq!(
            l,
            [p("metadata.labels.l"), p("spec.a"), p("spec.list")].into()
        );
        assert_eq!(leaves(&obj, true, false), [p("status.s")].into());
    }

    #[test]
    fn remove_prunes_empty_maps() {
        let mut obj = json!({"spec": {"a": {"b": 1}, "c": 2}});
        remove(&mut obj, &p("spec.a.b"));
        assert_eq!(obj, json!({"spec": {"c": 2}}));
        remove(&mut obj, &p("spec.c"));
        assert_eq!(obj, json!({}));
    }
}
