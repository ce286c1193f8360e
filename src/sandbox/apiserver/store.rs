//! The object store of one cluster: objects as JSON, one monotonic resourceVersion, and an
//! ordered event log that watches replay from.
//!
//! All resourceVersions come from one counter shared by every store of a server, so a
//! cluster that is removed and added again never hands out an RV that a client may still
//! hold from the previous incarnation (such RVs fall below the new store's compaction floor
//! and get `410 Expired`).

use std::collections::{BTreeMap, VecDeque};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng as _;
use serde_json::{Map, Value, json};

use super::kinds::{KINDS, KindId, ResourceKind, by_name};
use super::managed;
use super::patch;
use super::selectors::{LabelSelector, Selectors};
use super::status::ApiError;
use super::validation::validate_meta;

/// Kind of a watch event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change, as kept in the event log.
#[derive(Debug)]
pub struct StoreEvent {
    pub kind_id: KindId,
    pub event_type: EventType,
    /// The object after the change (for DELETED: the last state, carrying the deletion RV).
    pub object: Arc<Value>,
    /// The object before the change (MODIFIED only); lets selector watches turn a change
    /// into ADDED/DELETED.
    pub prev: Option<Arc<Value>>,
    pub rv: u64,
    pub namespace: String,
    /// The serialized watch line, shared by every unfiltered watcher.
    pub(crate) line: std::sync::OnceLock<bytes::Bytes>,
}

impl StoreEvent {
    pub fn kind(&self) -> &'static ResourceKind {
        &KINDS[self.kind_id]
    }

    pub fn name(&self) -> &str {
        self.object
            .get("metadata")
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Options of a write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// `dryRun=All`: validate everything, store nothing, emit nothing.
    pub dry_run: bool,
    /// `fieldManager`; writes without one are recorded under [`DEFAULT_MANAGER`].
    pub field_manager: Option<String>,
    /// `force=true` for server-side apply.
    pub force: bool,
    /// In-process seeding only (never reachable over HTTP): the `creationTimestamp` to record
    /// instead of now, so a seeded platform shows clusters of realistic ages.
    pub creation_timestamp: Option<String>,
}

/// Manager name recorded for writes that name none.
pub const DEFAULT_MANAGER: &str = "unknown";

/// Main resource or `/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    Main,
    Status,
}

/// Result of a delete.
#[derive(Debug, Clone)]
pub enum DeleteOutcome {
    /// The object is gone; this is its last state.
    Deleted(Arc<Value>),
    /// Finalizers keep it; this is the object with `deletionTimestamp` set.
    Pending(Arc<Value>),
}

/// Delete preconditions (`DeleteOptions.preconditions`).
#[derive(Debug, Clone, Default)]
pub struct Preconditions {
    pub uid: Option<String>,
    pub resource_version: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub items: Vec<Arc<Value>>,
    /// The RV the list is consistent with (the snapshot RV on every page).
    pub resource_version: u64,
    pub continue_token: Option<String>,
}

/// List parameters.
#[derive(Debug, Clone, Default)]
pub struct ListOptions {
    pub selectors: Selectors,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
}

type Key = (KindId, String, String);

struct State {
    rv: u64,
    objects: BTreeMap<Key, Arc<Value>>,
    log: VecDeque<Arc<StoreEvent>>,
    /// Watches may resume from any RV >= floor; older ones get 410.
    floor: u64,
}

struct Inner {
    cluster: String,
    global: bool,
    clock: Arc<AtomicU64>,
    retention: usize,
    state: RwLock<State>,
    notify: tokio::sync::watch::Sender<u64>,
    /// Cancelled when the cluster is removed: its HTTP watches end.
    removed: tokio_util::sync::CancellationToken,
}

/// The store of one cluster. Cheap to clone; all clones share the data.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("cluster", &self.inner.cluster)
            .finish_non_exhaustive()
    }
}

/// Namespaces every cluster starts with.
pub const INITIAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "cpaas-system"];

/// RFC 3339, whole seconds, `Z`: the only timestamp format the apiserver writes.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn meta(obj: &Value) -> Option<&Map<String, Value>> {
    obj.get("metadata").and_then(Value::as_object)
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    meta(obj)
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn meta_mut(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.get("metadata").is_some_and(Value::is_object) {
        obj["metadata"] = Value::Object(Map::new());
    }
    match obj.get_mut("metadata") {
        Some(Value::Object(m)) => m,
        _ => unreachable!("metadata was just made an object"),
    }
}

fn finalizers(obj: &Value) -> Vec<String> {
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
fn differs_outside(a: &Value, b: &Value, exclude: &[&str]) -> bool {
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
fn same_content(a: &Value, b: &Value) -> bool {
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

fn generate_suffix() -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn encode_continue(rv: u64, key: &Key) -> String {
    let raw = json!({"rv": rv, "ns": key.1, "name": key.2}).to_string();
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_continue(tok: &str) -> Result<(u64, String, String), ApiError> {
    let bad = || ApiError::bad_request("continue key is not valid: illegal base64 data");
    let raw = URL_SAFE_NO_PAD.decode(tok).map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let rv = v.get("rv").and_then(Value::as_u64).ok_or_else(bad)?;
    let ns = v.get("ns").and_then(Value::as_str).ok_or_else(bad)?;
    let name = v.get("name").and_then(Value::as_str).ok_or_else(bad)?;
    Ok((rv, ns.to_string(), name.to_string()))
}

fn kind_of(resource: &str) -> Result<KindId, ApiError> {
    by_name(resource).ok_or_else(ApiError::page_not_found)
}

impl Store {
    /// A new store drawing RVs from `clock`, with the initial namespaces.
    pub(crate) fn new(
        cluster: &str,
        global: bool,
        clock: Arc<AtomicU64>,
        retention: usize,
    ) -> Store {
        let floor = clock.load(Ordering::SeqCst);
        let (notify, _) = tokio::sync::watch::channel(floor);
        let store = Store {
            inner: Arc::new(Inner {
                cluster: cluster.to_string(),
                global,
                clock,
                retention: retention.max(1),
                state: RwLock::new(State {
                    rv: floor,
                    objects: BTreeMap::new(),
                    log: VecDeque::new(),
                    floor,
                }),
                notify,
                removed: tokio_util::sync::CancellationToken::new(),
            }),
        };
        let ns_kind = by_name("namespaces").unwrap_or(0);
        for ns in INITIAL_NAMESPACES {
            let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            // The namespaces are valid by construction; a failure here would be a bug in
            // create_at, which the unit tests cover.
            let opts = WriteOptions {
                field_manager: Some("kube-apiserver".into()),
                ..WriteOptions::default()
            };
            let _ = store.create_at(ns_kind, None, obj, &opts);
        }
        store
    }

    /// The cluster this store belongs to (`global` or a workload cluster name).
    pub fn cluster(&self) -> &str {
        &self.inner.cluster
    }

    pub fn is_global(&self) -> bool {
        self.inner.global
    }

    /// Whether this store serves a kind (platform kinds live only in `global`).
    pub fn serves(&self, kind: &ResourceKind) -> bool {
        kind.served_in_cluster(self.inner.global)
    }

    /// The latest resourceVersion written in this store.
    pub fn resource_version(&self) -> u64 {
        self.read().rv
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock leaves consistent data (all mutation happens after
        // validation), so poisoning is ignored.
        self.inner.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.inner.state.write().unwrap_or_else(|p| p.into_inner())
    }

    fn next_rv(&self, st: &mut State) -> u64 {
        let rv = self.inner.clock.fetch_add(1, Ordering::SeqCst) + 1;
        st.rv = rv;
        rv
    }

    fn append(&self, st: &mut State, ev: StoreEvent) {
        st.log.push_back(Arc::new(ev));
        while st.log.len() > self.inner.retention {
            if let Some(old) = st.log.pop_front() {
                st.floor = old.rv;
            }
        }
    }

    fn publish(&self, rv: u64) {
        self.inner.notify.send_replace(rv);
    }

    fn check_served(&self, kid: KindId) -> Result<&'static ResourceKind, ApiError> {
        let kind = &KINDS[kid];
        if !self.serves(kind) || kind.create_only {
            return Err(ApiError::page_not_found());
        }
        Ok(kind)
    }

    fn key(kind: &ResourceKind, kid: KindId, ns: Option<&str>, name: &str) -> Key {
        let ns = if kind.namespaced {
            ns.unwrap_or("")
        } else {
            ""
        };
        (kid, ns.to_string(), name.to_string())
    }

    fn manager(opts: &WriteOptions) -> &str {
        opts.field_manager.as_deref().unwrap_or(DEFAULT_MANAGER)
    }

    /// Checks `apiVersion`/`kind` in a body against the endpoint, then sets them.
    fn fix_type(kind: &ResourceKind, obj: &mut Value) -> Result<(), ApiError> {
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
    fn fix_namespace(
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
    fn defaults_on_create(kind: &ResourceKind, obj: &mut Value) {
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

    fn insert_new(
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
        let old = st
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))?;
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
        let Some(manager) = opts.field_manager.clone() else {
            return Err(ApiError::new(
                422,
                "Invalid",
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            )
            .with_details(super::status::Details {
                group: "meta.k8s.io".into(),
                kind: "PatchOptions".into(),
                causes: vec![super::status::Cause {
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
        Self::fix_type(kind, &mut applied)?;
        // kube-rs controllers apply status as `{apiVersion, kind, status}` without metadata;
        // the real server takes the name from the URL then.
        if meta_str(&applied, "name").is_empty() {
            meta_mut(&mut applied).insert("name".into(), name.into());
        }
        let body_name = meta_str(&applied, "name");
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if meta(&applied).is_some_and(|m| m.get("managedFields").is_some_and(|v| !v.is_null())) {
            return Err(ApiError::bad_request("metadata.managedFields must be nil"));
        }
        let body_ns = meta_str(&applied, "namespace");
        if kind.namespaced && !body_ns.is_empty() && Some(body_ns) != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let status_only = sub == Subresource::Status;
        let now = now_rfc3339();
        let key = Self::key(kind, kid, ns, name);
        let existing = self.read().objects.get(&key).cloned();
        let Some(_) = existing else {
            if status_only {
                return Err(ApiError::not_found(kind, name));
            }
            let mut skeleton = json!({"apiVersion": kind.api_version(), "kind": kind.kind,
                "metadata": {"name": name}});
            let out = patch::apply(
                kind, name, &skeleton, &applied, &manager, opts.force, false, &now,
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
                m.insert("creationTimestamp".into(), now.clone().into());
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
            return match self.insert_new(kid, kind, ns, skeleton, opts) {
                // Lost a race with a concurrent create: apply onto what is there now.
                Err(e) if e.is_already_exists() => self.apply_at(kid, ns, name, sub, applied, opts),
                r => r.map(|o| (o, true)),
            };
        };
        let mut st = self.write();
        let old = st
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))?;
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

    fn finalize_update(
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
        validate_meta(kind, &new)?;
        if !meta_str(old, "deletionTimestamp").is_empty() {
            let before = finalizers(old);
            if finalizers(&new).iter().any(|f| !before.contains(f)) {
                return Err(ApiError::invalid(
                    kind,
                    &name,
                    vec![super::status::Cause {
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
    fn commit_update(
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
        let old = st
            .objects
            .get(&key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))?;
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
    fn remove_locked(&self, st: &mut State, key: Key) -> Option<Arc<Value>> {
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

    /// Events with RV > `after`, at most `max`; `Err(floor)` if some were compacted away.
    /// The returned cursor is the RV up to which the log has been read.
    pub(crate) fn events_after(
        &self,
        after: u64,
        max: usize,
    ) -> Result<(Vec<Arc<StoreEvent>>, u64), u64> {
        let st = self.read();
        if after < st.floor {
            return Err(st.floor);
        }
        let start = st.log.partition_point(|e| e.rv <= after);
        let evs: Vec<Arc<StoreEvent>> = st.log.range(start..).take(max).cloned().collect();
        let cursor = if st.log.len() - start > max {
            evs.last().map(|e| e.rv).unwrap_or(after)
        } else {
            st.rv.max(after)
        };
        Ok((evs, cursor))
    }

    /// `true` if no object of the kind (in `ns`, when given) changed after `rv` and the log
    /// still covers `rv`: a list now is also the list at `rv`.
    pub(crate) fn unchanged_since(&self, kid: KindId, ns: Option<&str>, rv: u64) -> bool {
        let st = self.read();
        if rv < st.floor {
            return false;
        }
        let start = st.log.partition_point(|e| e.rv <= rv);
        !st.log
            .range(start..)
            .any(|e| e.kind_id == kid && ns.is_none_or(|n| e.namespace == n))
    }

    /// Oldest RV a watch may resume from.
    pub fn compaction_floor(&self) -> u64 {
        self.read().floor
    }

    /// Drops the whole event log: every watch resuming from an older RV gets 410 Expired.
    pub fn compact(&self) {
        let mut st = self.write();
        st.log.clear();
        st.floor = st.rv;
    }

    /// Marks the store's cluster as removed (ends its HTTP watches).
    pub(crate) fn mark_removed(&self) {
        self.inner.removed.cancel();
    }

    pub(crate) fn removed(&self) -> tokio_util::sync::CancellationToken {
        self.inner.removed.clone()
    }

    /// A receiver that wakes when the store's RV changes.
    pub(crate) fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.notify.subscribe()
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

    // ----- In-process API (same semantics as HTTP) -----

    /// Creates an object; `resource` is `plural` (core) or `plural.group`, see
    /// [`super::kinds::names`].
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
        let kid = kind_of(resource)?;
        self.replace_at(
            kid,
            ns,
            name,
            Subresource::Main,
            obj,
            &WriteOptions::default(),
        )
        .map(|o| (*o).clone())
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
        let kid = kind_of(resource)?;
        self.replace_at(
            kid,
            ns,
            name,
            Subresource::Status,
            obj,
            &WriteOptions::default(),
        )
        .map(|o| (*o).clone())
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
        let kid = kind_of(resource)?;
        self.patch_at(
            kid,
            ns,
            name,
            Subresource::Main,
            patch::PatchType::Merge,
            patch_body,
            &WriteOptions::default(),
        )
        .map(|(o, _)| (*o).clone())
    }

    /// JSON merge patch of `/status`.
    pub fn merge_patch_status(
        &self,
        resource: &str,
        ns: Option<&str>,
        name: &str,
        patch_body: Value,
    ) -> Result<Value, ApiError> {
        let kid = kind_of(resource)?;
        self.patch_at(
            kid,
            ns,
            name,
            Subresource::Status,
            patch::PatchType::Merge,
            patch_body,
            &WriteOptions::default(),
        )
        .map(|(o, _)| (*o).clone())
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

    /// Events of every kind from now on.
    pub fn subscribe(&self) -> Subscription {
        let rv = self.resource_version();
        self.subscribe_from(rv)
    }

    /// Events with RV greater than `rv` (replayed from the log, then live).
    pub fn subscribe_from(&self, rv: u64) -> Subscription {
        Subscription {
            store: self.clone(),
            cursor: rv,
            buf: VecDeque::new(),
            changes: self.changes(),
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

fn last_key_of(items: &[Arc<Value>], kid: KindId) -> Key {
    let last = items.last().map(|v| v.as_ref()).unwrap_or(&Value::Null);
    (
        kid,
        meta_str(last, "namespace").to_string(),
        meta_str(last, "name").to_string(),
    )
}

enum ManagedChange<'a> {
    Update(&'a str),
    Apply(Vec<managed::Entry>),
}

/// In-process watch of one store: every committed change, in RV order, exactly once.
pub struct Subscription {
    store: Store,
    cursor: u64,
    buf: VecDeque<Arc<StoreEvent>>,
    changes: tokio::sync::watch::Receiver<u64>,
}

impl Subscription {
    /// The next event. `Err(410 Expired)` if the subscriber fell so far behind that the
    /// events it missed were compacted away; the subscription then continues with changes
    /// made after the error, so relist to catch up on what was missed.
    pub async fn recv(&mut self) -> Result<Arc<StoreEvent>, ApiError> {
        loop {
            if let Some(e) = self.buf.pop_front() {
                return Ok(e);
            }
            self.changes.borrow_and_update();
            match self.store.events_after(self.cursor, 1024) {
                Err(floor) => {
                    let e = ApiError::expired(format!(
                        "too old resource version: {} ({})",
                        self.cursor, floor
                    ));
                    // Skip to now so the next call waits instead of failing again at once.
                    self.cursor = self.store.resource_version();
                    return Err(e);
                }
                Ok((evs, cursor)) => {
                    self.cursor = cursor;
                    if !evs.is_empty() {
                        self.buf.extend(evs);
                        continue;
                    }
                }
            }
            // The sender lives in the store this subscription holds, so this cannot fail.
            let _ = self.changes.changed().await;
        }
    }

    /// RV up to which the log has been read (buffered events included).
    pub fn resource_version(&self) -> u64 {
        self.cursor
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::apiserver::kinds::names;

    fn store() -> Store {
        Store::new("global", true, Arc::new(AtomicU64::new(100)), 1000)
    }

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {}})
    }

    #[tokio::test]
    async fn subscription_sees_every_change_once_then_expires_after_compaction() {
        let s = store();
        let mut sub = s.subscribe();
        s.create(names::CONFIG_MAPS, Some("default"), cm("a"))
            .expect("create");
        s.merge_patch(
            names::CONFIG_MAPS,
            Some("default"),
            "a",
            json!({"data": {"x": "1"}}),
        )
        .expect("patch");
        s.delete(names::CONFIG_MAPS, Some("default"), "a")
            .expect("delete");
        let types: Vec<EventType> = [
            sub.recv().await.expect("1"),
            sub.recv().await.expect("2"),
            sub.recv().await.expect("3"),
        ]
        .iter()
        .map(|e| e.event_type)
        .collect();
        assert_eq!(
            types,
            [EventType::Added, EventType::Modified, EventType::Deleted]
        );

        let mut late = s.subscribe_from(s.compaction_floor());
        s.create(names::CONFIG_MAPS, Some("default"), cm("b"))
            .expect("create");
        s.compact();
        assert_eq!(late.recv().await.expect_err("expired").code, 410);
        s.create(names::CONFIG_MAPS, Some("default"), cm("c"))
            .expect("create");
        let next = late.recv().await.expect("continues after the error");
        assert_eq!(next.name(), "c");
    }

    #[test]
    fn namespaces_scope_writes_and_cascade_on_delete() {
        let s = store();
        let e = s
            .create(names::CONFIG_MAPS, Some("missing"), cm("a"))
            .expect_err("no namespace");
        assert_eq!(e.code, 404);
        s.create(
            names::NAMESPACES,
            None,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}),
        )
        .expect("namespace");
        s.create(names::CONFIG_MAPS, Some("team"), cm("a"))
            .expect("create");
        assert_eq!(
            s.delete(names::NAMESPACES, None, "team").expect("delete"),
            None
        );
        assert!(s.get(names::CONFIG_MAPS, Some("team"), "a").is_err());
        assert!(s.list(names::CONFIG_MAPS, None).expect("list").is_empty());
    }

    #[test]
    fn status_updates_never_touch_spec_or_generation() {
        let s = store();
        let created = s
            .create(
                names::MACHINES,
                None,
                json!({"apiVersion": "platform.tkestack.io/v1", "kind": "Machine",
                    "metadata": {"name": "m"}, "spec": {"ip": "10.0.0.1"}, "status": {"phase": "X"}}),
            )
            .expect("create");
        assert!(
            created.get("status").is_none(),
            "status is ignored on create"
        );
        let mut o = created.clone();
        o["status"] = json!({"phase": "Running"});
        o["spec"]["ip"] = "10.9.9.9".into();
        let after = s
            .update_status(names::MACHINES, None, "m", o)
            .expect("status");
        assert_eq!(after["status"]["phase"], "Running");
        assert_eq!(after["spec"]["ip"], "10.0.0.1");
        assert_eq!(after["metadata"]["generation"], 1);
        // A stale RV is a conflict in-process too.
        let e = s
            .replace(names::MACHINES, None, "m", created)
            .expect_err("stale");
        assert!(e.is_conflict());
    }
}
