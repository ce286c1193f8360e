//! The event log watches replay from: appending, compaction, and in-process subscriptions.

use std::collections::VecDeque;
use std::sync::Arc;

use super::{State, Store, StoreEvent};
use crate::sandbox::apiserver::kinds::KindId;
use crate::sandbox::apiserver::status::ApiError;

impl Store {
    pub(super) fn append(&self, st: &mut State, ev: StoreEvent) {
        st.log.push_back(Arc::new(ev));
        while st.log.len() > self.inner.retention {
            if let Some(old) = st.log.pop_front() {
                st.floor = old.rv;
            }
        }
    }

    pub(super) fn publish(&self, rv: u64) {
        self.inner.notify.send_replace(rv);
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
