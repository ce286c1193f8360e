//! The set of clusters one server serves: `global` plus workload clusters added at run time.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};

use super::store::Store;

/// Name of the platform's own cluster.
pub const GLOBAL: &str = "global";

/// Shared registry of stores; clones share it.
#[derive(Clone)]
pub(crate) struct Clusters {
    map: Arc<RwLock<BTreeMap<String, Store>>>,
    clock: Arc<AtomicU64>,
    retention: usize,
}

impl Clusters {
    /// `seed` is the first resourceVersion minus one.
    pub(crate) fn new(seed: u64, retention: usize) -> Clusters {
        let c = Clusters {
            map: Arc::new(RwLock::new(BTreeMap::new())),
            clock: Arc::new(AtomicU64::new(seed)),
            retention,
        };
        c.add(GLOBAL);
        c
    }

    pub(crate) fn get(&self, name: &str) -> Option<Store> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    /// Adds a cluster, or returns the existing one of that name.
    pub(crate) fn add(&self, name: &str) -> Store {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        map.entry(name.to_string())
            .or_insert_with(|| Store::new(name, name == GLOBAL, self.clock.clone(), self.retention))
            .clone()
    }

    /// Removes a workload cluster; `global` cannot be removed.
    pub(crate) fn remove(&self, name: &str) {
        if name == GLOBAL {
            return;
        }
        let removed = self
            .map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        if let Some(store) = removed {
            store.mark_removed();
        }
    }

    pub(crate) fn all(&self) -> Vec<Store> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    pub(crate) fn names(&self) -> Vec<String> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}
