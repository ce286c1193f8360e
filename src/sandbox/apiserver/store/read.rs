//! Reads: get, paginated lists with continue tokens, and the read-only view authorization
//! uses.

use std::ops::Bound;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::meta::meta_str;
use super::{Key, ListOptions, ListPage, Store};
use crate::sandbox::apiserver::kinds::{KINDS, KindId, by_name};
use crate::sandbox::apiserver::selectors::Selectors;
use crate::sandbox::apiserver::status::ApiError;

pub(super) fn encode_continue(rv: u64, key: &Key) -> String {
    let raw = json!({"rv": rv, "ns": key.1, "name": key.2}).to_string();
    URL_SAFE_NO_PAD.encode(raw)
}

pub(super) fn decode_continue(tok: &str) -> Result<(u64, String, String), ApiError> {
    let bad = || ApiError::bad_request("continue key is not valid: illegal base64 data");
    let raw = URL_SAFE_NO_PAD.decode(tok).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let ns = v.get("ns").and_then(Value::as_str).ok_or_else(bad)?;
    let name = v.get("name").and_then(Value::as_str).ok_or_else(bad)?;
    Ok((rv, ns.to_string(), name.to_string()))
}

impl Store {
    pub(crate) fn get_at(
        &self,
        kid: KindId,
        ns: Option<&str>,
        name: &str,
    ) -> Result<Arc<Value>, ApiError> {
        let kind = self.check_served(kid)?;
        let key = Self::key(kind, kid, ns, name);
        self.read()
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))
    }
    /// Lists one kind (optionally in one namespace), ordered by namespace and name.
    pub(crate) fn list_at(
        &self,
        kid: KindId,
        ns: Option<&str>,
        opts: &ListOptions,
    ) -> Result<ListPage, ApiError> {
        let kind = self.check_served(kid)?;
        let st = self.read();
        let ns = if kind.namespaced { ns } else { None };
        let (snapshot_rv, start) = match &opts.continue_token {
            Some(tok) if !tok.is_empty() => {
                let (rv, cns, cname) = decode_continue(tok)?;
                if rv < st.floor {
                    let mut e = ApiError::expired(
                        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                    );
                    e.continue_token = Some(encode_continue(st.rv, &(kid, cns, cname)));
                    return Err(e);
                }
                (rv, Some((kid, cns, cname)))
            }
            _ => (st.rv, None),
        };
        let limit = opts.limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
        let mut items = Vec::new();
        let mut continue_token = None;
        let lower = match &start {
            Some(k) => Bound::Excluded(k.clone()),
            None => Bound::Included((kid, ns.unwrap_or("").to_string(), String::new())),
        };
        let single = opts.selectors.fields.single_name();
        for (k, v) in st.objects.range((lower, Bound::Unbounded)) {
            if k.0 != kid {
                break;
            }
            if let Some(ns) = ns
                && k.1 != ns
            {
                break;
            }
            if single.is_some_and(|n| n != k.2) {
                continue;
            }
            if !opts.selectors.matches(v) {
                continue;
            }
            if items.len() == limit {
                continue_token = Some(encode_continue(snapshot_rv, &last_key_of(&items, kid)));
                break;
            }
            items.push(v.clone());
        }
        Ok(ListPage {
            items,
            resource_version: snapshot_rv,
            continue_token,
        })
    }

    /// Current matching objects and the RV they are consistent with, atomically.
    pub(crate) fn snapshot(
        &self,
        kid: KindId,
        ns: Option<&str>,
        sel: &Selectors,
    ) -> (Vec<Arc<Value>>, u64) {
        let opts = ListOptions {
            selectors: sel.clone(),
            ..ListOptions::default()
        };
        match self.list_at(kid, ns, &opts) {
            Ok(p) => (p.items, p.resource_version),
            Err(_) => (Vec::new(), self.resource_version()),
        }
    }
    /// Number of stored objects (all kinds).
    pub fn len(&self) -> usize {
        self.read().objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().objects.is_empty()
    }

    /// All objects of a kind; used by authorization to read RBAC objects.
    pub(crate) fn all_of(&self, kid: KindId, ns: Option<&str>) -> Vec<Arc<Value>> {
        let st = self.read();
        let kind = &KINDS[kid];
        let ns = if kind.namespaced { ns } else { None };
        st.objects
            .range((kid, ns.unwrap_or("").to_string(), String::new())..)
            .take_while(|(k, _)| k.0 == kid && ns.is_none_or(|n| k.1 == n))
            .map(|(_, v)| v.clone())
            .collect()
    }
}

pub(super) fn last_key_of(items: &[Arc<Value>], kid: KindId) -> Key {
    let last = items.last().map(|v| v.as_ref()).unwrap_or(&Value::Null);
    (
        kid,
        meta_str(last, "namespace").to_string(),
        meta_str(last, "name").to_string(),
    )
}
/// Read-only access to one cluster's store, handed to authorization (RBAC objects).
#[derive(Clone, Copy)]
pub struct StoreView<'a> {
    store: &'a Store,
}

impl<'a> StoreView<'a> {
    pub fn new(store: &'a Store) -> Self {
        StoreView { store }
    }

    /// `global` or the workload cluster's name.
    pub fn cluster(&self) -> &str {
        self.store.cluster()
    }

    /// Objects of `resource` (`plural` or `plural.group`, e.g.
    /// `rolebindings.rbac.authorization.k8s.io`) in `ns`, or in every namespace when `None`.
    /// Unknown resources give an empty list.
    pub fn list(&self, resource: &str, ns: Option<&str>) -> Vec<Arc<Value>> {
        match by_name(resource) {
            Some(kid) => self.store.all_of(kid, ns),
            None => Vec::new(),
        }
    }

    pub fn get(&self, resource: &str, ns: Option<&str>, name: &str) -> Option<Arc<Value>> {
        let kid = by_name(resource)?;
        self.store.get_at(kid, ns, name).ok()
    }

    pub fn store(&self) -> &'a Store {
        self.store
    }
}
