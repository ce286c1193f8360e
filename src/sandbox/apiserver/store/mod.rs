//! The object store of one cluster: objects as JSON, one monotonic resourceVersion, and an
//! ordered event log that watches replay from.
//!
//! All resourceVersions come from one counter shared by every store of a server, so a
//! cluster that is removed and added again never hands out an RV that a client may still
//! hold from the previous incarnation (such RVs fall below the new store's compaction floor
//! and get `410 Expired`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::{Value, json};

use super::kinds::{KINDS, KindId, ResourceKind, by_name};
use super::selectors::Selectors;
use super::status::ApiError;

mod in_process;
mod log;
mod meta;
mod read;
#[cfg(test)]
mod tests;
mod update;
mod write;

pub use log::Subscription;
pub use read::StoreView;

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

impl State {
    /// The stored object at `key`, or the 404 a request for it gets.
    fn existing(&self, key: &Key, kind: &ResourceKind, name: &str) -> Result<Arc<Value>, ApiError> {
        self.objects
            .get(key)
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))
    }
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
}
