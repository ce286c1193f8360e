//! The in-process API: the same semantics as HTTP requests, addressed by resource name.

use std::sync::Arc;

use serde_json::Value;

use super::meta::meta_str;
use super::{DeleteOutcome, ListOptions, Preconditions, Store, Subresource, WriteOptions, kind_of};
use crate::sandbox::apiserver::kinds::{KINDS, KindId};
use crate::sandbox::apiserver::patch;
use crate::sandbox::apiserver::selectors::{LabelSelector, Selectors};
use crate::sandbox::apiserver::status::ApiError;

impl Store {
    // ----- In-process API (same semantics as HTTP) -----

    /// Creates an object; `resource` is `plural` (core) or `plural.group`, see
    /// [`crate::sandbox::apiserver::kinds::names`].
    pub fn create(&self, resource: &str, ns: Option<&str>, obj: Value) -> Result<Value, ApiError> {
        let kid = kind_of(resource)?;
        self.create_at(kid, ns, obj, &WriteOptions::default())
            .map(|o| (*o).clone())
    }

    /// Creates an object as if it had been created at `created` (RFC 3339): for seeding a
    /// scenario, never for requests.
    pub fn create_backdated(
        &self,
        resource: &str,
        ns: Option<&str>,
        obj: Value,
        created: &str,
    ) -> Result<Value, ApiError> {
        let kid = kind_of(resource)?;
        let opts = WriteOptions {
            creation_timestamp: Some(created.to_string()),
            ..WriteOptions::default()
        };
        self.create_at(kid, ns, obj, &opts).map(|o| (*o).clone())
    }

    pub fn get(&self, resource: &str, ns: Option<&str>, name: &str) -> Result<Value, ApiError> {
        let kid = kind_of(resource)?;
        self.get_at(kid, ns, name).map(|o| (*o).clone())
    }

    /// All objects of a kind (in `ns`, or everywhere when `None`).
    pub fn list(&self, resource: &str, ns: Option<&str>) -> Result<Vec<Value>, ApiError> {
        self.list_selected(resource, ns, "")
    }

    /// Like [`Store::list`] with a label selector in query syntax.
    pub fn list_selected(
        &self,
        resource: &str,
        ns: Option<&str>,
        label_selector: &str,
    ) -> Result<Vec<Value>, ApiError> {
        let kid = kind_of(resource)?;
        let opts = ListOptions {
            selectors: Selectors {
                labels: LabelSelector::parse(label_selector)?,
                ..Selectors::default()
            },
            ..ListOptions::default()
        };
        Ok(self
            .list_at(kid, ns, &opts)?
            .items
            .into_iter()
            .map(|o| (*o).clone())
            .collect())
    }

    fn replace_in(
        &self,
        resource: &str,
        ns: Option<&str>,
        name: &str,
        sub: Subresource,
        obj: Value,
    ) -> Result<Value, ApiError> {
        let kid = kind_of(resource)?;
        self.replace_at(kid, ns, name, sub, obj, &WriteOptions::default())
            .map(|o| (*o).clone())
    }

    fn merge_patch_in(
        &self,
        resource: &str,
        ns: Option<&str>,
        name: &str,
        sub: Subresource,
        patch_body: Value,
    ) -> Result<Value, ApiError> {
        let kid = kind_of(resource)?;
        let merge = patch::PatchType::Merge;
        self.patch_at(
            kid,
            ns,
            name,
            sub,
            merge,
            patch_body,
            &WriteOptions::default(),
        )
        .map(|(o, _)| (*o).clone())
    }

    /// Replaces the main resource. A `metadata.resourceVersion` in `obj` is a precondition
    /// (409 if stale); without one the write is unconditional (in-process callers only; the
    /// HTTP layer demands it for custom resources).
    pub fn replace(
        &self,
        resource: &str,
        ns: Option<&str>,
        name: &str,
        obj: Value,
    ) -> Result<Value, ApiError> {
        self.replace_in(resource, ns, name, Subresource::Main, obj)
    }

    /// Writes only `status` (taken from `obj["status"]`); never bumps generation.
    /// Works for every kind, with or without a status subresource, so controllers can
    /// report progress uniformly.
    pub fn update_status(
        &self,
        resource: &str,
        ns: Option<&str>,
        name: &str,
        obj: Value,
    ) -> Result<Value, ApiError> {
        self.replace_in(resource, ns, name, Subresource::Status, obj)
    }

    /// JSON merge patch of the main resource (status included for kinds without a status
    /// subresource).
    pub fn merge_patch(
        &self,
        resource: &str,
        ns: Option<&str>,
        name: &str,
        patch_body: Value,
    ) -> Result<Value, ApiError> {
        self.merge_patch_in(resource, ns, name, Subresource::Main, patch_body)
    }

    /// JSON merge patch of `/status`.
    pub fn merge_patch_status(
        &self,
        resource: &str,
        ns: Option<&str>,
        name: &str,
        patch_body: Value,
    ) -> Result<Value, ApiError> {
        self.merge_patch_in(resource, ns, name, Subresource::Status, patch_body)
    }

    /// Deletes; `Ok(Some(obj))` when finalizers keep the object (now carrying
    /// `deletionTimestamp`), `Ok(None)` when it is gone.
    pub fn delete(
        &self,
        resource: &str,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, ApiError> {
        let kid = kind_of(resource)?;
        match self.delete_at(
            kid,
            ns,
            name,
            &Preconditions::default(),
            &WriteOptions::default(),
        )? {
            DeleteOutcome::Deleted(_) => Ok(None),
            DeleteOutcome::Pending(o) => Ok(Some((*o).clone())),
        }
    }
    pub(crate) fn replace_at(
        &self,
        kid: KindId,
        ns: Option<&str>,
        name: &str,
        sub: Subresource,
        obj: Value,
        opts: &WriteOptions,
    ) -> Result<Arc<Value>, ApiError> {
        let kind = &KINDS[kid];
        self.update_at(kid, ns, name, sub, opts, |old| {
            let want = meta_str(&obj, "resourceVersion");
            if !want.is_empty() && want != meta_str(old, "resourceVersion") {
                return Err(ApiError::conflict(kind, name));
            }
            Ok(obj)
        })
    }

    /// PATCH of any type; returns the object and whether it was created (apply only).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn patch_at(
        &self,
        kid: KindId,
        ns: Option<&str>,
        name: &str,
        sub: Subresource,
        pt: patch::PatchType,
        body: Value,
        opts: &WriteOptions,
    ) -> Result<(Arc<Value>, bool), ApiError> {
        let kind = &KINDS[kid];
        if pt == patch::PatchType::Apply {
            return self.apply_at(kid, ns, name, sub, body, opts);
        }
        self.update_at(kid, ns, name, sub, opts, |old| {
            let out = match pt {
                patch::PatchType::Merge => patch::merge(old, &body)?,
                patch::PatchType::Strategic => patch::strategic(old, &body)?,
                _ => patch::json(kind, name, old, &body)?,
            };
            let want = meta_str(&out, "resourceVersion");
            if !want.is_empty() && want != meta_str(old, "resourceVersion") {
                return Err(ApiError::conflict(kind, name));
            }
            Ok(out)
        })
        .map(|o| (o, false))
    }
}
