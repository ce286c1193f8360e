//! Watch streams: newline-delimited compact JSON events, one body frame per event.
//!
//! A watch replays the store's event log after the requested RV and then follows it live.
//! Too-old RVs get HTTP 200 with one `ERROR` event (code 410), never an HTTP 410, because
//! kube-rs relists only on the in-stream form.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::faults::Faults;
use super::kinds::{KINDS, KindId};
use super::render::{self, Repr};
use super::selectors::Selectors;
use super::status::ApiError;
use super::store::{EventType, Store, StoreEvent};

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// `resourceVersion` unset or `"0"`: synthetic ADDED for current state, then live.
    CurrentState,
    /// `sendInitialEvents=true`: current state, the `initial-events-end` bookmark (when
    /// bookmarks are allowed), then live.
    InitialEvents,
    /// Replay events after this RV, then live.
    From(u64),
}

/// A parsed watch request.
#[derive(Debug, Clone)]
pub struct WatchRequest {
    pub kind_id: KindId,
    pub namespace: Option<String>,
    pub selectors: Selectors,
    pub start: Start,
    pub timeout: Duration,
    pub bookmarks: bool,
    pub bookmark_interval: Duration,
    /// Objects as sent (`Full`), as `PartialObjectMetadata`, or as one-row `Table`s
    /// (kubectl `get -w`).
    pub repr: Repr,
}

/// Frames of a watch body; `None` when the stream ends.
pub type Frames = mpsc::Receiver<Bytes>;

/// Converts an object to `PartialObjectMetadata`.
pub fn partial_metadata(obj: &Value) -> Value {
    json!({
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata").cloned().unwrap_or_else(|| json!({})),
    })
}

fn line(event_type: &str, object: &Value) -> Bytes {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(event_type.as_bytes());
    buf.extend_from_slice(b"\",\"object\":");
    // Serializing a Value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut buf, object);
    buf.extend_from_slice(b"}\n");
    Bytes::from(buf)
}

fn with_rv(obj: &Value, rv: u64) -> Value {
    let mut o = obj.clone();
    if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
        m.insert("resourceVersion".into(), rv.to_string().into());
    }
    o
}

/// Starts a watch. The stream ends at the timeout, when the client goes, on the drop fault
/// or at shutdown; it carries ERROR events for expired RVs and injected faults.
pub fn spawn(
    store: Store,
    req: WatchRequest,
    faults: &Faults,
    shutdown: CancellationToken,
) -> Frames {
    let (tx, rx) = mpsc::channel::<Bytes>(128);
    let mut drop_signal = faults.drop_signal();
    drop_signal.borrow_and_update();
    let errors = faults.injected_errors();
    let removed = store.removed();
    tokio::spawn(async move {
        let w = Watcher {
            store,
            req,
            tx,
            columns_sent: std::sync::atomic::AtomicBool::new(false),
        };
        tokio::select! {
            _ = w.run(errors) => {}
            _ = drop_signal.changed() => {}
            _ = shutdown.cancelled() => {}
            _ = removed.cancelled() => {}
        }
    });
    rx
}

struct Watcher {
    store: Store,
    req: WatchRequest,
    tx: mpsc::Sender<Bytes>,
    /// Table watches carry column definitions in the first event only, as the apiserver does.
    columns_sent: std::sync::atomic::AtomicBool,
}

impl Watcher {
    async fn send(&self, b: Bytes) -> bool {
        self.tx.send(b).await.is_ok()
    }

    fn object_out(&self, obj: &Value) -> Value {
        match self.req.repr {
            Repr::Full => obj.clone(),
            Repr::Metadata => partial_metadata(obj),
            Repr::Table => {
                let kind = &KINDS[self.req.kind_id];
                let rv = obj
                    .get("metadata")
                    .and_then(|m| m.get("resourceVersion"))
                    .cloned()
                    .unwrap_or(Value::Null);
                let mut t = render::table(
                    kind,
                    &[Arc::new(obj.clone())],
                    Some(json!({"resourceVersion": rv})),
                );
                if self
                    .columns_sent
                    .swap(true, std::sync::atomic::Ordering::Relaxed)
                {
                    t["columnDefinitions"] = json!([]);
                }
                t
            }
        }
    }

    fn bookmark(&self, rv: u64, initial_end: bool) -> Bytes {
        let kind = &KINDS[self.req.kind_id];
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = match self.req.repr {
            Repr::Metadata => {
                json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": meta})
            }
            Repr::Table => {
                json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
                "columnDefinitions": [], "rows": []})
            }
            Repr::Full => {
                json!({"kind": kind.kind, "apiVersion": kind.api_version(), "metadata": meta})
            }
        };
        line("BOOKMARK", &obj)
    }

    /// The line for an event as this watch sees it, if it sees it at all.
    fn translate(&self, ev: &StoreEvent) -> Option<Bytes> {
        if ev.kind_id != self.req.kind_id {
            return None;
        }
        if let Some(ns) = &self.req.namespace
            && KINDS[ev.kind_id].namespaced
            && ev.namespace != *ns
        {
            return None;
        }
        let sel = &self.req.selectors;
        let now = sel.matches(&ev.object);
        let (ty, obj): (EventType, Option<Value>) = match ev.event_type {
            EventType::Added | EventType::Deleted if now => (ev.event_type, None),
            EventType::Added | EventType::Deleted => return None,
            EventType::Modified => {
                let before = ev.prev.as_ref().is_some_and(|p| sel.matches(p));
                match (before, now) {
                    (true, true) => (EventType::Modified, None),
                    (false, true) => (EventType::Added, None),
                    (true, false) => (
                        EventType::Deleted,
                        ev.prev.as_ref().map(|p| with_rv(p, ev.rv)),
                    ),
                    (false, false) => return None,
                }
            }
        };
        Some(match (obj, self.req.repr) {
            (Some(o), _) => line(ty.as_str(), &self.object_out(&o)),
            (None, Repr::Full) => line(ty.as_str(), &ev.object),
            (None, _) => line(ty.as_str(), &self.object_out(&ev.object)),
        })
    }

    async fn run(self, mut errors: tokio::sync::broadcast::Receiver<ApiError>) {
        let deadline = Instant::now() + self.req.timeout;
        let mut next_bookmark = Instant::now() + self.req.bookmark_interval;
        let mut changes = self.store.changes();
        changes.borrow_and_update();
        let ns = self.req.namespace.as_deref();
        let mut cursor = match self.req.start {
            Start::CurrentState | Start::InitialEvents => {
                let (items, rv) = self
                    .store
                    .snapshot(self.req.kind_id, ns, &self.req.selectors);
                for item in items {
                    let l = if self.req.repr == Repr::Full {
                        line("ADDED", &item)
                    } else {
                        line("ADDED", &self.object_out(&item))
                    };
                    if !self.send(l).await {
                        return;
                    }
                }
                if self.req.start == Start::InitialEvents
                    && self.req.bookmarks
                    && !self.send(self.bookmark(rv, true)).await
                {
                    return;
                }
                rv
            }
            Start::From(rv) => {
                // An RV from the future: wait briefly for it (a client may have read it
                // from a write whose event is in flight), then give up like a real server.
                let wait_until = Instant::now() + Duration::from_secs(3);
                while self.store.resource_version() < rv {
                    tokio::select! {
                        _ = changes.changed() => {}
                        _ = tokio::time::sleep_until(wait_until) => {
                            let e = ApiError::too_large_rv();
                            let _ = self.send(line("ERROR", &e.to_json())).await;
                            return;
                        }
                    }
                }
                rv
            }
        };
        loop {
            changes.borrow_and_update();
            match self.store.events_after(cursor, 256) {
                Err(floor) => {
                    let e =
                        ApiError::expired(format!("too old resource version: {cursor} ({floor})"));
                    let _ = self.send(line("ERROR", &e.to_json())).await;
                    return;
                }
                Ok((evs, new_cursor)) => {
                    let had = !evs.is_empty();
                    for ev in &evs {
                        if let Some(l) = self.translate_cached(ev)
                            && !self.send(l).await
                        {
                            return;
                        }
                    }
                    cursor = new_cursor;
                    if had {
                        continue;
                    }
                }
            }
            tokio::select! {
                r = changes.changed() => {
                    if r.is_err() {
                        return;
                    }
                }
                _ = tokio::time::sleep_until(deadline) => return,
                _ = tokio::time::sleep_until(next_bookmark), if self.req.bookmarks => {
                    if !self.send(self.bookmark(cursor, false)).await {
                        return;
                    }
                    next_bookmark = Instant::now() + self.req.bookmark_interval;
                }
                _ = self.tx.closed() => return,
                e = errors.recv() => match e {
                    Ok(e) => {
                        if !self.send(line("ERROR", &e.to_json())).await || e.code == 410 {
                            return;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    /// Unfiltered watches share one serialized line per event across all watchers.
    fn translate_cached(&self, ev: &Arc<StoreEvent>) -> Option<Bytes> {
        if self.req.selectors.is_empty()
            && self.req.repr == Repr::Full
            && ev.kind_id == self.req.kind_id
            && self
                .req
                .namespace
                .as_ref()
                .is_none_or(|ns| !KINDS[ev.kind_id].namespaced || ev.namespace == *ns)
        {
            return Some(
                ev.line
                    .get_or_init(|| line(ev.event_type.as_str(), &ev.object))
                    .clone(),
            );
        }
        self.translate(ev)
    }
}
