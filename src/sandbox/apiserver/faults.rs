//! Fault injection for tests: each hook forces one of the client code paths that a healthy
//! server never exercises.
//!
//! Injected failures answer **500 InternalError**: kube-rs's default retry layer silently
//! retries 429, 503 and 504 (up to 15 times), which would hide the fault from the test.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use super::clusters::Clusters;
use super::status::ApiError;

fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        409 => "Conflict",
        422 => "Invalid",
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "InternalError",
    }
}

pub(crate) struct FaultState {
    latency_ms: AtomicU64,
    fail_next: AtomicU32,
    drop_epoch: tokio::sync::watch::Sender<u64>,
    errors: tokio::sync::broadcast::Sender<ApiError>,
    clusters: Clusters,
}

/// Handle to the fault hooks of one server. Cheap to clone.
#[derive(Clone)]
pub struct Faults {
    inner: Arc<FaultState>,
}

impl Faults {
    pub(crate) fn new(clusters: Clusters) -> Faults {
        let (drop_epoch, _) = tokio::sync::watch::channel(0);
        let (errors, _) = tokio::sync::broadcast::channel(16);
        Faults {
            inner: Arc::new(FaultState {
                latency_ms: AtomicU64::new(0),
                fail_next: AtomicU32::new(0),
                drop_epoch,
                errors,
                clusters,
            }),
        }
    }

    /// Compacts the event log of every cluster: watches resuming from an older RV get an
    /// in-stream `ERROR 410 Expired`, continue tokens from before now get HTTP 410.
    pub fn compact_now(&self) {
        for s in self.inner.clusters.all() {
            s.compact();
        }
    }

    /// Ends every open watch stream at once (clients see the stream end and resume from
    /// their last RV).
    pub fn drop_all_watches(&self) {
        self.inner.drop_epoch.send_modify(|e| *e += 1);
    }

    /// Sends one in-stream `ERROR` event with this code to every open watch. 410 ends the
    /// stream, as a real server does after an expiry (kube-rs then relists); other codes
    /// leave it open (kube-rs reports the error and keeps watching).
    pub fn inject_watch_error(&self, code: u16) {
        let e = match code {
            410 => ApiError::expired("injected: too old resource version"),
            _ => ApiError::new(code, reason_for(code), "injected watch error"),
        };
        let _ = self.inner.errors.send(e);
    }

    pub(crate) fn injected_errors(&self) -> tokio::sync::broadcast::Receiver<ApiError> {
        self.inner.errors.subscribe()
    }

    /// Delays every request by `d` before it is handled (zero turns it off).
    pub fn set_latency(&self, d: Duration) {
        let ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.inner.latency_ms.store(ms, Ordering::SeqCst);
    }

    /// The next `n` authenticated requests fail with `500 InternalError`.
    pub fn fail_next(&self, n: u32) {
        self.inner.fail_next.store(n, Ordering::SeqCst);
    }

    pub(crate) fn latency(&self) -> Duration {
        Duration::from_millis(self.inner.latency_ms.load(Ordering::SeqCst))
    }

    /// Consumes one injected failure, if any is pending.
    pub(crate) fn take_failure(&self) -> bool {
        self.inner
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub(crate) fn drop_signal(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.drop_epoch.subscribe()
    }
}
