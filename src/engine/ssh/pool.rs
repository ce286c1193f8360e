//! A bound on how many nodes are worked on at once, connect included.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::failure::{SshFailure, Stage};
use super::hostkey::HostKeyPolicy;
use super::session::Session;
use super::target::{SshTarget, Timeouts};

/// How many nodes are connected to at once unless configured otherwise: enough for a large
/// cluster's preflight in one round, few enough not to trip sshd's `MaxStartups` on a jump host.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// Shared by every task that talks to nodes; cheap to clone.
#[derive(Debug, Clone)]
pub struct SshPool {
    permits: Arc<Semaphore>,
    policy: HostKeyPolicy,
    timeouts: Timeouts,
}

impl SshPool {
    /// `limit` is clamped to at least 1.
    pub fn new(policy: HostKeyPolicy, timeouts: Timeouts, limit: usize) -> SshPool {
        SshPool {
            permits: Arc::new(Semaphore::new(limit.max(1))),
            policy,
            timeouts,
        }
    }

    pub fn timeouts(&self) -> &Timeouts {
        &self.timeouts
    }

    pub fn policy(&self) -> &HostKeyPolicy {
        &self.policy
    }

    /// Waits for a slot, connects to `target`, runs `work` on the session and closes it. The
    /// slot is held for the whole time, so at most `limit` nodes are being handled at once.
    pub async fn with_session<T, F, Fut>(
        &self,
        target: &SshTarget,
        cancel: &CancellationToken,
        work: F,
    ) -> Result<T, SshFailure>
    where
        F: FnOnce(Arc<Session>) -> Fut,
        Fut: Future<Output = Result<T, SshFailure>>,
    {
        self.with_session_timed(target, cancel, |s, _| work(s))
            .await
    }

    /// [`SshPool::with_session`], also handing `work` how long the connection took once a
    /// slot was free: the wait for a slot says nothing about the node.
    pub async fn with_session_timed<T, F, Fut>(
        &self,
        target: &SshTarget,
        cancel: &CancellationToken,
        work: F,
    ) -> Result<T, SshFailure>
    where
        F: FnOnce(Arc<Session>, Duration) -> Fut,
        Fut: Future<Output = Result<T, SshFailure>>,
    {
        let _permit = tokio::select! {
            biased;
            _ = cancel.cancelled() => return Err(SshFailure::cancelled(Stage::Tcp)),
            p = self.permits.acquire() => p.map_err(|_| SshFailure::cancelled(Stage::Tcp))?,
        };
        let started = Instant::now();
        let session =
            Arc::new(Session::connect(target, &self.policy, &self.timeouts, cancel).await?);
        let result = work(session.clone(), started.elapsed()).await;
        if let Ok(session) = Arc::try_unwrap(session) {
            session.close().await;
        }
        result
    }
}
