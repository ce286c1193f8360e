//! Updates, patches and server-side apply: the read-modify-write pipeline that enforces
//! immutable metadata, status isolation, generation and managed fields.

use std::sync::Arc;

use serde_json::{Value, json};

use super::meta::{differs_outside, finalizers, meta, meta_mut, meta_str, same_content};
use super::{EventType, Key, State, Store, StoreEvent, Subresource, WriteOptions, now_rfc3339};
use crate::sandbox::apiserver::kinds::{KindId, ResourceKind};
use crate::sandbox::apiserver::status::ApiError;
use crate::sandbox::apiserver::validation::validate_meta;
use crate::sandbox::apiserver::{managed, patch};

impl Store {
    /// Read-modify-write. `f` turns the current object into the candidate; the store then
    /// enforces immutable metadata, status isolation, generation and finalizer rules,
    /// records managed fields, and commits (or does nothing for a no-op).
    pub(crate) fn update_at(
        &self,
        kid: KindId,
        ns: Option<&str>,
        name: &str,
        sub: Subresource,
        opts: &WriteOptions,
        f: impl FnOnce(&Value) -> Result<Value, ApiError>,
    ) -> Result<Arc<Value>, ApiError> {
        let kind = self.check_served(kid)?;
        let key = Self::key(kind, kid, ns, name);
        let mut st = self.write();
        let old = st.existing(&key, kind, name)?;
        let cand = f(&old)?;
        let manager = Self::manager(opts).to_string();
        let new = Self::finalize_update(kind, &old, cand, sub, ManagedChange::Update(&manager))?;
        self.commit_update(&mut st, kid, kind, key, old, new, opts)
    }

    /// Server-side apply; creates the object when absent (returns `true` then).
    pub(crate) fn apply_at(
        &self,
        kid: KindId,
        ns: Option<&str>,
        name: &str,
        sub: Subresource,
        mut applied: Value,
        opts: &WriteOptions,
    ) -> Result<(Arc<Value>, bool), ApiError> {
        let kind = self.check_served(kid)?;
        let manager = Self::check_apply_body(kind, ns, name, &mut applied, opts)?;
        let status_only = sub == Subresource::Status;
        let now = now_rfc3339();
        let key = Self::key(kind, kid, ns, name);
        let existing = self.read().objects.get(&key).cloned();
        let Some(_) = existing else {
            if status_only {
                return Err(ApiError::not_found(kind, name));
            }
            let skeleton = Self::applied_skeleton(kind, ns, name, &applied, &manager, opts, &now)?;
            return match self.insert_new(kid, kind, ns, skeleton, opts) {
                // Lost a race with a concurrent create: apply onto what is there now.
                Err(e) if e.is_already_exists() => self.apply_at(kid, ns, name, sub, applied, opts),
                r => r.map(|o| (o, true)),
            };
        };
        let mut st = self.write();
        let old = st.existing(&key, kind, name)?;
        let out = patch::apply(
            kind,
            name,
            &old,
            &applied,
            &manager,
            opts.force,
            status_only,
            &now,
        )?;
        let new = Self::finalize_update(
            kind,
            &old,
            out.object,
            sub,
            ManagedChange::Apply(out.entries),
        )?;
        self.commit_update(&mut st, kid, kind, key, old, new, opts)
            .map(|o| (o, false))
    }

    /// Checks an apply body against the URL and returns the field manager (required for
    /// apply); sets `metadata.name` from the URL when the body has none.
    fn check_apply_body(
        kind: &ResourceKind,
        ns: Option<&str>,
        name: &str,
        applied: &mut Value,
        opts: &WriteOptions,
    ) -> Result<String, ApiError> {
        let Some(manager) = opts.field_manager.clone() else {
            return Err(ApiError::new(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            )
            .with_details(crate::sandbox::apiserver::status::Details {
                group: "meta.k8s.io".into(),
                kind: "PatchOptions".into(),
                causes: vec![crate::sandbox::apiserver::status::Cause {
                    reason: "FieldValueRequired".into(),
                    message: "Required value: is required for apply patch".into(),
                    field: "fieldManager".into(),
                }],
                ..Default::default()
            }));
        };
        let Some(map) = applied.as_object() else {
            return Err(ApiError::bad_request("the apply body must be an object"));
        };
        if map
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            return Err(ApiError::bad_request(
                "invalid object type: /, Kind=: apiVersion must be set",
            ));
        }
        if map
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .is_empty()
        {
            return Err(ApiError::bad_request(
                "invalid object type: kind must be set",
            ));
        }
        Self::fix_type(kind, applied)?;
        // kube-rs controllers apply status as `{apiVersion, kind, status}` without metadata;
        // the real server takes the name from the URL then.
        if meta_str(applied, "name").is_empty() {
            meta_mut(applied).insert("name".into(), name.into());
        }
        let body_name = meta_str(applied, "name");
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if meta(applied).is_some_and(|m| m.get("managedFields").is_some_and(|v| !v.is_null())) {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        let body_ns = meta_str(applied, "namespace");
        if kind.namespaced && !body_ns.is_empty() && Some(body_ns) != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        Ok(manager)
    }

    /// The object an apply creates when there is none: the applied fields owned by the
    /// manager, with the metadata a create sets.
    fn applied_skeleton(
        kind: &ResourceKind,
        ns: Option<&str>,
        name: &str,
        applied: &Value,
        manager: &str,
        opts: &WriteOptions,
        now: &str,
    ) -> Result<Value, ApiError> {
        let mut skeleton = json!({"apiVersion": kind.api_version(), "kind": kind.kind,
            "metadata": {"name": name}});
        let out = patch::apply(
            kind, name, &skeleton, applied, manager, opts.force, false, now,
        )?;
        skeleton = out.object;
        managed::write(&mut skeleton, &out.entries);
        // Create with the apply's ownership: record_update inside create_at would add an
        // Update entry, so go through the lower-level path.
        Self::fix_namespace(kind, &mut skeleton, ns)?;
        validate_meta(kind, &skeleton)?;
        {
            let m = meta_mut(&mut skeleton);
            m.insert("uid".into(), uuid::Uuid::new_v4().to_string().into());
            m.insert("creationTimestamp".into(), now.into());
            if kind.uses_generation {
                m.insert("generation".into(), 1.into());
            }
        }
        if kind.status_subresource
            && let Some(m) = skeleton.as_object_mut()
        {
            m.remove("status");
        }
        Self::defaults_on_create(kind, &mut skeleton);
        Ok(skeleton)
    }

    /// The candidate with what the write may not change taken from `old`: `status` on a main
    /// write of a kind with a status subresource, everything but `status` on a `/status`
    /// write, and the server-owned metadata always.
    fn isolate(kind: &ResourceKind, old: &Value, mut cand: Value, sub: Subresource) -> Value {
        let mut new = match sub {
            Subresource::Status => {
                let mut n = old.clone();
                match cand.get("status") {
                    Some(s) => n["status"] = s.clone(),
                    None => {
                        if let Some(m) = n.as_object_mut() {
                            m.remove("status");
                        }
                    }
                }
                n
            }
            Subresource::Main => {
                if kind.status_subresource
                    && let Some(m) = cand.as_object_mut()
                {
                    match old.get("status") {
                        Some(s) => {
                            m.insert("status".into(), s.clone());
                        }
                        None => {
                            m.remove("status");
                        }
                    }
                }
                cand
            }
        };
        {
            let old_meta = meta(old).cloned().unwrap_or_default();
            let m = meta_mut(&mut new);
            for k in [
                "uid",
                "creationTimestamp",
                "name",
                "namespace",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "resourceVersion",
                "managedFields",
            ] {
                match old_meta.get(k) {
                    Some(v) => {
                        m.insert(k.into(), v.clone());
                    }
                    None => {
                        m.remove(k);
                    }
                }
            }
            m.remove("selfLink");
        }
        new
    }

    pub(super) fn finalize_update(
        kind: &ResourceKind,
        old: &Value,
        mut cand: Value,
        sub: Subresource,
        managed_change: ManagedChange<'_>,
    ) -> Result<Value, ApiError> {
        let name = meta_str(old, "name").to_string();
        Self::fix_type(kind, &mut cand)?;
        let cand_name = meta_str(&cand, "name");
        if !cand_name.is_empty() && cand_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({cand_name}) does not match the name on the URL ({name})"
            )));
        }
        let cand_ns = meta_str(&cand, "namespace");
        let old_ns = meta_str(old, "namespace");
        if kind.namespaced && !cand_ns.is_empty() && cand_ns != old_ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let mut new = Self::isolate(kind, old, cand, sub);
        validate_meta(kind, &new)?;
        if !meta_str(old, "deletionTimestamp").is_empty() {
            let before = finalizers(old);
            if finalizers(&new).iter().any(|f| !before.contains(f)) {
                return Err(ApiError::invalid(
                    kind,
                    &name,
                    vec![crate::sandbox::apiserver::status::Cause {
                        reason: "FieldValueForbidden".into(),
                        message: "Forbidden: no new finalizers can be added if the object is being deleted"
                            .into(),
                        field: "metadata.finalizers".into(),
                    }],
                ));
            }
        }
        let exclude: &[&str] = if kind.status_subresource {
            &["metadata", "status"]
        } else {
            &["metadata"]
        };
        if kind.uses_generation && sub == Subresource::Main && differs_outside(old, &new, exclude) {
            let g = meta(old)
                .and_then(|m| m.get("generation"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            meta_mut(&mut new).insert("generation".into(), (g + 1).into());
        }
        let now = now_rfc3339();
        let subname = (sub == Subresource::Status).then_some("status");
        match managed_change {
            ManagedChange::Update(manager) => {
                if !same_content(old, &new) {
                    managed::record_update(
                        old,
                        &mut new,
                        manager,
                        &kind.api_version(),
                        subname,
                        &now,
                        kind.status_subresource && sub == Subresource::Main,
                    );
                }
            }
            ManagedChange::Apply(entries) => managed::write(&mut new, &entries),
        }
        Ok(new)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn commit_update(
        &self,
        st: &mut State,
        kid: KindId,
        kind: &ResourceKind,
        key: Key,
        old: Arc<Value>,
        mut new: Value,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        let deleting = !meta_str(&new, "deletionTimestamp").is_empty();
        if same_content(&old, &new) && !(deleting && finalizers(&new).is_empty()) {
            // Re-applying the same configuration only refreshes entry times: still a no-op.
            let owners = |v: &Value| {
                let mut e: Vec<_> = managed::read(v)
                    .into_iter()
                    .map(|e| {
                        (
                            e.manager,
                            e.operation == managed::Operation::Apply,
                            e.subresource,
                            e.fields,
                        )
                    })
                    .collect();
                e.sort();
                e
            };
            if owners(&old) == owners(&new) {
                return Ok(old);
            }
        }
        if opts.dry_run {
            return Ok(Arc::new(new));
        }
        let _ = kind;
        let rv = self.next_rv(st);
        meta_mut(&mut new).insert("resourceVersion".into(), rv.to_string().into());
        let new = Arc::new(new);
        let ns = key.1.clone();
        if deleting && finalizers(&new).is_empty() {
            st.objects.remove(&key);
            self.append(
                st,
                StoreEvent {
                    line: Default::default(),
                    kind_id: kid,
                    event_type: EventType::Deleted,
                    object: new.clone(),
                    prev: Some(old),
                    rv,
                    namespace: ns,
                },
            );
        } else {
            st.objects.insert(key, new.clone());
            self.append(
                st,
                StoreEvent {
                    line: Default::default(),
                    kind_id: kid,
                    event_type: EventType::Modified,
                    object: new.clone(),
                    prev: Some(old),
                    rv,
                    namespace: ns,
                },
            );
        }
        self.publish(rv);
        Ok(new)
    }
}

pub(super) enum ManagedChange<'a> {
    Update(&'a str),
    Apply(Vec<managed::Entry>),
}
