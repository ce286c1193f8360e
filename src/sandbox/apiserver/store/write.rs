//! Create and delete: new objects get their name, uid and timestamps; deletion honours
//! finalizers and cascades through namespaces.

use std::sync::Arc;

use serde_json::Value;

use super::meta::{finalizers, generate_suffix, meta_mut, meta_str};
use super::{
    DeleteOutcome, EventType, Key, Preconditions, State, Store, StoreEvent, WriteOptions,
    now_rfc3339,
};
use crate::sandbox::apiserver::kinds::{KINDS, KindId, ResourceKind, by_name};
use crate::sandbox::apiserver::managed;
use crate::sandbox::apiserver::status::ApiError;
use crate::sandbox::apiserver::validation::validate_meta;

impl Store {
    /// Create; `name` comes from the body (or its generateName).
    pub(crate) fn create_at(
        &self,
        kid: KindId,
        ns: Option<&str>,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        let kind = self.check_served(kid)?;
        Self::fix_type(kind, &mut obj)?;
        Self::fix_namespace(kind, &mut obj, ns)?;
        if !meta_str(&obj, "resourceVersion").is_empty() {
            return Err(ApiError::internal(
                "resourceVersion should not be set on objects to be created",
            ));
        }
        if meta_str(&obj, "name").is_empty() {
            let prefix = meta_str(&obj, "generateName").to_string();
            if !prefix.is_empty() {
                let name = format!("{prefix}{}", generate_suffix());
                meta_mut(&mut obj).insert("name".into(), name.into());
            }
        }
        validate_meta(kind, &obj)?;
        let now = now_rfc3339();
        {
            let m = meta_mut(&mut obj);
            for k in [
                "uid",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "managedFields",
                "selfLink",
            ] {
                m.remove(k);
            }
            m.insert("uid".into(), uuid::Uuid::new_v4().to_string().into());
            let created = opts
                .creation_timestamp
                .clone()
                .unwrap_or_else(|| now.clone());
            m.insert("creationTimestamp".into(), created.into());
            if kind.uses_generation {
                m.insert("generation".into(), 1.into());
            }
        }
        if kind.status_subresource && kind.custom {
            // Custom resources with a status subresource ignore status on create.
            if let Some(m) = obj.as_object_mut() {
                m.remove("status");
            }
        }
        Self::defaults_on_create(kind, &mut obj);
        let manager = Self::manager(opts).to_string();
        managed::record_update(
            &Value::Null,
            &mut obj,
            &manager,
            &kind.api_version(),
            None,
            &now,
            false,
        );
        self.insert_new(kid, kind, ns, obj, opts)
    }

    pub(super) fn insert_new(
        &self,
        kid: KindId,
        kind: &'static ResourceKind,
        ns: Option<&str>,
        mut obj: Value,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        let name = meta_str(&obj, "name").to_string();
        let key = Self::key(kind, kid, ns, &name);
        let mut st = self.write();
        if kind.namespaced {
            let ns_kid = by_name("namespaces").unwrap_or(0);
            if !st
                .objects
                .contains_key(&(ns_kid, String::new(), key.1.clone()))
            {
                return Err(ApiError::namespace_not_found(&key.1));
            }
        }
        if st.objects.contains_key(&key) {
            return Err(ApiError::already_exists(kind, &name));
        }
        if opts.dry_run {
            return Ok(Arc::new(obj));
        }
        let rv = self.next_rv(&mut st);
        meta_mut(&mut obj).insert("resourceVersion".into(), rv.to_string().into());
        let obj = Arc::new(obj);
        st.objects.insert(key.clone(), obj.clone());
        self.append(
            &mut st,
            StoreEvent {
                line: Default::default(),
                kind_id: kid,
                event_type: EventType::Added,
                object: obj.clone(),
                prev: None,
                rv,
                namespace: key.1,
            },
        );
        drop(st);
        self.publish(rv);
        Ok(obj)
    }
    /// Delete, honouring finalizers and preconditions. Deleting a namespace deletes
    /// everything in it first (the namespace controller's job on a real cluster, done
    /// synchronously here; objects with finalizers in it are left pending).
    pub(crate) fn delete_at(
        &self,
        kid: KindId,
        ns: Option<&str>,
        name: &str,
        pre: &Preconditions,
        opts: &WriteOptions,
    ) -> Result<DeleteOutcome, ApiError> {
        let kind = self.check_served(kid)?;
        let key = Self::key(kind, kid, ns, name);
        let mut st = self.write();
        let old = st.existing(&key, kind, name)?;
        if let Some(uid) = &pre.uid
            && uid != meta_str(&old, "uid")
        {
            return Err(ApiError::conflict_msg(
                kind,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                    meta_str(&old, "uid")
                ),
            ));
        }
        if let Some(rv) = &pre.resource_version
            && rv != meta_str(&old, "resourceVersion")
        {
            return Err(ApiError::conflict_msg(
                kind,
                name,
                &format!(
                    "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                    meta_str(&old, "resourceVersion")
                ),
            ));
        }
        if !finalizers(&old).is_empty() {
            if !meta_str(&old, "deletionTimestamp").is_empty() {
                return Ok(DeleteOutcome::Pending(old));
            }
            let mut new = (*old).clone();
            {
                let m = meta_mut(&mut new);
                m.insert("deletionTimestamp".into(), now_rfc3339().into());
                m.insert("deletionGracePeriodSeconds".into(), 0.into());
                if let Some(g) = m.get("generation").and_then(Value::as_i64) {
                    m.insert("generation".into(), (g + 1).into());
                }
            }
            if opts.dry_run {
                return Ok(DeleteOutcome::Pending(Arc::new(new)));
            }
            let out = self.commit_update(&mut st, kid, kind, key, old, new, opts)?;
            return Ok(DeleteOutcome::Pending(out));
        }
        if opts.dry_run {
            return Ok(DeleteOutcome::Deleted(old));
        }
        if kind.group.is_empty() && kind.resource == "namespaces" {
            let inside: Vec<Key> = st
                .objects
                .keys()
                .filter(|k| KINDS[k.0].namespaced && k.1 == name)
                .cloned()
                .collect();
            for k in inside {
                self.remove_locked(&mut st, k);
            }
        }
        let out = self.remove_locked(&mut st, key);
        drop(st);
        Ok(DeleteOutcome::Deleted(out.unwrap_or(old)))
    }

    /// Removes an object (or marks it for deletion if it has finalizers); emits the event.
    pub(super) fn remove_locked(&self, st: &mut State, key: Key) -> Option<Arc<Value>> {
        let old = st.objects.get(&key).cloned()?;
        let rv = self.next_rv(st);
        let mut last = (*old).clone();
        let pending = !finalizers(&old).is_empty();
        {
            let m = meta_mut(&mut last);
            m.insert("resourceVersion".into(), rv.to_string().into());
            if pending && !m.contains_key("deletionTimestamp") {
                m.insert("deletionTimestamp".into(), now_rfc3339().into());
                m.insert("deletionGracePeriodSeconds".into(), 0.into());
            }
        }
        let last = Arc::new(last);
        let (event_type, prev) = if pending {
            st.objects.insert(key.clone(), last.clone());
            (EventType::Modified, Some(old))
        } else {
            st.objects.remove(&key);
            (EventType::Deleted, Some(old))
        };
        self.append(
            st,
            StoreEvent {
                line: Default::default(),
                kind_id: key.0,
                event_type,
                object: last.clone(),
                prev,
                rv,
                namespace: key.1,
            },
        );
        self.publish(rv);
        Some(last)
    }
}
