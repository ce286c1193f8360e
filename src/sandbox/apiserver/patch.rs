//! PATCH bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902, via `json-patch`) and
//! server-side apply.
//!
//! Server-side apply is an approximation built on [`super::managed`]: lists are atomic,
//! ownership is per leaf path. Within that model it does what the real algorithm does:
//! conflicts with other managers that own a leaf holding a different value (409 with
//! `FieldManagerConflict` causes) unless `force`, in which case ownership moves; leaves the
//! manager applied before but omits now are removed unless another manager still owns them.

use serde_json::Value;

use super::kinds::ResourceKind;
use super::managed::{self, Entry, FieldSet, Operation, overlaps};
use super::status::{ApiError, Cause, Details};

/// The patch types the server accepts (by Content-Type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    Merge,
    Json,
    Strategic,
    Apply,
}

pub const ACCEPTED: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
];

const ACCEPTED_BUILTIN: &[&str] = &[
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
];

impl PatchType {
    /// Maps a Content-Type to a patch type; 415 for anything else, and for strategic merge
    /// on custom resources (which have no patch strategy metadata).
    pub fn from_content_type(ct: &str, kind: &ResourceKind) -> Result<PatchType, ApiError> {
        let base = ct.split(';').next().unwrap_or("").trim();
        let t = match base {
            "application/merge-patch+json" => PatchType::Merge,
            "application/json-patch+json" => PatchType::Json,
            "application/strategic-merge-patch+json" if !kind.custom => PatchType::Strategic,
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => PatchType::Apply,
            _ => {
                let accepted = if kind.custom {
                    ACCEPTED
                } else {
                    ACCEPTED_BUILTIN
                };
                return Err(ApiError::unsupported_media_type(base, accepted));
            }
        };
        Ok(t)
    }
}

/// Applies a JSON merge patch to a copy of `target`.
pub fn merge(target: &Value, patch: &Value) -> Result<Value, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "json: cannot unmarshal non-object merge patch into the object",
        ));
    }
    let mut out = target.clone();
    json_patch::merge(&mut out, patch);
    Ok(out)
}

/// Merge keys of the lists with `patchStrategy: merge` among the built-in kinds served
/// (ServiceSpec.ports, ObjectMeta.ownerReferences, ServiceAccount secrets and pull secrets,
/// NodeSpec.taints). Other lists are atomic and replaced, as in the upstream schemas.
fn merge_key(field: &str) -> Option<&'static str> {
    match field {
        "ports" => Some("port"),
        "ownerReferences" => Some("uid"),
        "secrets" | "imagePullSecrets" => Some("name"),
        "taints" => Some("key"),
        _ => None,
    }
}

/// Primitive lists merged as sets (`finalizers`).
fn is_set_list(field: &str) -> bool {
    field == "finalizers"
}

/// Strategic merge patch for the built-in kinds: a merge patch whose lists with merge keys
/// are merged element by element, with the directives kubectl's client-side apply emits
/// (`$patch: replace|delete`, `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`,
/// `$retainKeys`). Element order hints are accepted and ignored.
pub fn strategic(target: &Value, patch: &Value) -> Result<Value, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::bad_request(
            "json: cannot unmarshal non-object strategic merge patch into the object",
        ));
    }
    Ok(smp_object(target, patch).unwrap_or(Value::Null))
}

/// Merges one object; `None` means "delete this object" (`$patch: delete`).
fn smp_object(target: &Value, patch: &Value) -> Option<Value> {
    let Some(p) = patch.as_object() else {
        return Some(patch.clone());
    };
    match p.get("$patch").and_then(Value::as_str) {
        Some("delete") => return None,
        Some("replace") => {
            let mut out = p.clone();
            out.remove("$patch");
            return Some(Value::Object(out));
        }
        _ => {}
    }
    let mut out = target.as_object().cloned().unwrap_or_default();
    if let Some(keep) = p.get("$retainKeys").and_then(Value::as_array) {
        out.retain(|k, _| keep.iter().any(|x| x.as_str() == Some(k)) || p.contains_key(k));
    }
    for (k, v) in p {
        if k == "$patch" || k == "$retainKeys" || k.starts_with("$setElementOrder/") {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            if let (Some(Value::Array(list)), Some(gone)) = (out.get_mut(field), v.as_array()) {
                list.retain(|x| !gone.contains(x));
            }
            continue;
        }
        match v {
            Value::Null => {
                out.remove(k);
            }
            Value::Object(_) => match smp_object(out.get(k).unwrap_or(&Value::Null), v) {
                Some(m) => {
                    out.insert(k.clone(), m);
                }
                None => {
                    out.remove(k);
                }
            },
            Value::Array(items) => {
                let merged = match (merge_key(k), out.get(k)) {
                    (Some(key), Some(Value::Array(cur))) => merge_list(cur, items, key),
                    _ if is_set_list(k) => {
                        let mut cur = out
                            .get(k)
                            .and_then(Value::as_array)
                            .cloned()
                            .unwrap_or_default();
                        for x in items {
                            if !cur.contains(x) {
                                cur.push(x.clone());
                            }
                        }
                        cur
                    }
                    _ => items
                        .iter()
                        .filter(|x| x.get("$patch").and_then(Value::as_str) != Some("delete"))
                        .cloned()
                        .collect(),
                };
                out.insert(k.clone(), Value::Array(merged));
            }
            other => {
                out.insert(k.clone(), other.clone());
            }
        }
    }
    Some(Value::Object(out))
}

fn merge_list(cur: &[Value], patch: &[Value], key: &str) -> Vec<Value> {
    let mut out = cur.to_vec();
    for item in patch {
        let id = item.get(key);
        let pos = id.and_then(|id| out.iter().position(|x| x.get(key) == Some(id)));
        let delete = item.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                out.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => match smp_object(&out[i], item) {
                Some(v) => out[i] = v,
                None => {
                    out.remove(i);
                }
            },
            (None, false) => {
                if let Some(v) = smp_object(&Value::Null, item) {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// Applies a JSON patch (a list of operations) to a copy of `target`.
pub fn json(
    kind: &ResourceKind,
    name: &str,
    target: &Value,
    patch: &Value,
) -> Result<Value, ApiError> {
    let ops: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| ApiError::bad_request(format!("json: cannot unmarshal json patch: {e}")))?;
    let mut out = target.clone();
    json_patch::patch(&mut out, &ops).map_err(|e| {
        ApiError::invalid(
            kind,
            name,
            vec![Cause {
                reason: "FieldValueInvalid".into(),
                message: format!("Invalid value: {patch}: {e}"),
                field: "patch".into(),
            }],
        )
    })?;
    Ok(out)
}

/// What an apply produced.
pub struct Applied {
    pub object: Value,
    pub entries: Vec<Entry>,
}

/// Server-side apply of `applied` (already parsed, metadata checked) onto `live` (the
/// current object, or a skeleton for a create). `status_only` selects the status
/// subresource. Returns the merged object and the new managedFields entries.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    kind: &ResourceKind,
    name: &str,
    live: &Value,
    applied: &Value,
    manager: &str,
    force: bool,
    status_only: bool,
    now: &str,
) -> Result<Applied, ApiError> {
    let sub = status_only.then_some("status");
    let skip_status = kind.status_subresource && !status_only;
    let new_fields = managed::leaves(applied, status_only, skip_status);
    let mut entries = managed::read(live);

    let mut conflicts: Vec<(String, String)> = Vec::new();
    for e in &entries {
        if e.same_owner(manager, Operation::Apply, sub) {
            continue;
        }
        for theirs in &e.fields {
            for mine in &new_fields {
                if overlaps(theirs, mine) {
                    let at = if theirs.len() <= mine.len() {
                        theirs
                    } else {
                        mine
                    };
                    if managed::get(live, at) != managed::get(applied, at) {
                        conflicts.push((e.manager.clone(), format!(".{}", mine.join("."))));
                    }
                }
            }
        }
    }
    conflicts.sort();
    conflicts.dedup();
    if !conflicts.is_empty() && !force {
        let causes: Vec<Cause> = conflicts
            .iter()
            .map(|(m, f)| Cause {
                reason: "FieldManagerConflict".into(),
                message: format!("conflict with \"{m}\" using {}", kind.api_version()),
                field: f.clone(),
            })
            .collect();
        let list: Vec<String> = conflicts
            .iter()
            .map(|(m, f)| format!("conflict with \"{m}\" using {}: {f}", kind.api_version()))
            .collect();
        let msg = if list.len() == 1 {
            format!("Apply failed with 1 conflict: {}", list[0])
        } else {
            format!(
                "Apply failed with {} conflicts: {}",
                list.len(),
                list.join("\n")
            )
        };
        return Err(ApiError::new(409, "Conflict", msg).with_details(Details {
            name: name.to_string(),
            group: kind.group.to_string(),
            kind: kind.resource.to_string(),
            causes,
            ..Details::default()
        }));
    }

    let previously: FieldSet = entries
        .iter()
        .find(|e| e.same_owner(manager, Operation::Apply, sub))
        .map(|e| e.fields.clone())
        .unwrap_or_default();

    if force {
        for e in &mut entries {
            if e.same_owner(manager, Operation::Apply, sub) {
                continue;
            }
            e.fields
                .retain(|theirs| !new_fields.iter().any(|mine| overlaps(theirs, mine)));
        }
    }

    let mut out = live.clone();
    for gone in previously.difference(&new_fields) {
        let still_owned = entries.iter().any(|e| {
            !e.same_owner(manager, Operation::Apply, sub)
                && e.fields.iter().any(|p| overlaps(p, gone))
        }) || new_fields.iter().any(|p| overlaps(p, gone));
        if !still_owned {
            managed::remove(&mut out, gone);
        }
    }
    for leaf in &new_fields {
        if let Some(v) = managed::get(applied, leaf) {
            managed::set(&mut out, leaf, v.clone());
        }
    }

    entries.retain(|e| !e.same_owner(manager, Operation::Apply, sub));
    if !new_fields.is_empty() {
        entries.push(Entry {
            manager: manager.to_string(),
            operation: Operation::Apply,
            api_version: kind.api_version(),
            time: now.to_string(),
            subresource: sub.map(str::to_string),
            fields: new_fields,
        });
    }
    Ok(Applied {
        object: out,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::apiserver::kinds::{KINDS, by_name, names};
    use serde_json::json;

    fn cm() -> &'static ResourceKind {
        &KINDS[by_name(names::CONFIG_MAPS).expect("kind")]
    }

    fn apply_as(live: &Value, body: Value, mgr: &str, force: bool) -> Result<Value, ApiError> {
        let a = apply(cm(), "a", live, &body, mgr, force, false, "t")?;
        let mut o = a.object;
        managed::write(&mut o, &a.entries);
        Ok(o)
    }

    #[test]
    fn two_managers_conflict_force_and_removal() {
        let base = json!({"metadata": {"name": "a"}});
        let o = apply_as(&base, json!({"data": {"x": "1", "y": "1"}}), "m1", false)
            .expect("first apply");
        let e = apply_as(&o, json!({"data": {"x": "2"}}), "m2", false).expect_err("conflict");
        assert_eq!(e.code, 409);
        assert_eq!(
            e.details.as_ref().map(|d| d.causes[0].reason.as_str()),
            Some("FieldManagerConflict")
        );
        // Same value: shared ownership, no conflict.
        let o = apply_as(&o, json!({"data": {"y": "1"}}), "m2", false).expect("shared");
        let o = apply_as(&o, json!({"data": {"x": "2", "y": "1"}}), "m2", true).expect("forced");
        assert_eq!(o["data"]["x"], "2");
        // m1 drops y and x: y stays (m2 owns it), x stays (m2 owns it after force).
        let o = apply_as(&o, json!({"data": {}}), "m1", false).expect("m1 shrinks");
        assert_eq!(o["data"], json!({"x": "2", "y": "1"}));
        // m2 drops y: nobody owns it any more, so it goes.
        let o = apply_as(&o, json!({"data": {"x": "2"}}), "m2", false).expect("m2 shrinks");
        assert_eq!(o["data"], json!({"x": "2"}));
    }

    #[test]
    fn strategic_merge_as_kubectl_apply_sends_it() {
        let live = json!({"metadata": {"finalizers": ["a"]},
            "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}],
            "selector": {"app": "x", "tier": "fe"}}});
        let p = json!({"metadata": {"finalizers": ["b"]},
            "spec": {"$setElementOrder/ports": [{"port": 80}, {"port": 8443}],
            "ports": [{"port": 80, "targetPort": 9090}, {"port": 8443}, {"port": 443, "$patch": "delete"}],
            "selector": {"tier": null}}});
        let out = strategic(&live, &p).expect("patch");
        assert_eq!(
            out,
            json!({"metadata": {"finalizers": ["a", "b"]},
                "spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 8443}],
                "selector": {"app": "x"}}})
        );
        let replaced = strategic(
            &live,
            &json!({"spec": {"$patch": "replace", "selector": {}}}),
        )
        .expect("replace");
        assert_eq!(replaced["spec"], json!({"selector": {}}));
    }

    #[test]
    fn strategic_merge_refused_for_custom_resources() {
        let k = &KINDS[by_name(names::CLUSTERS).expect("kind")];
        let e = PatchType::from_content_type("application/strategic-merge-patch+json", k)
            .expect_err("415");
        assert_eq!(e.code, 415);
        assert_eq!(
            PatchType::from_content_type("application/merge-patch+json; charset=utf-8", k)
                .expect("merge"),
            PatchType::Merge
        );
    }
}
