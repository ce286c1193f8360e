//! SSH to cluster nodes: russh client sessions the engine owns.
//!
//! One connection per node, reused for every command; every stage (TCP, SOCKS5 proxy,
//! handshake, host key, auth, each command) has its own timeout and honours cancellation, and
//! a failure says which stage failed and why ([`SshFailure`]). Host keys follow an explicit
//! [`HostKeyPolicy`] checked with the domain's known_hosts parser, so wildcard, negated,
//! hashed, `@cert-authority` and `@revoked` lines count. [`SshPool`] bounds how many nodes are
//! handled at once. Secrets stay in zeroized buffers and no `Debug` output shows them.

mod auth;
mod failure;
mod hostkey;
mod pool;
mod proxy;
mod session;
mod target;

pub use failure::{FailureKind, HostKeySeen, SshFailure, Stage};
pub use hostkey::{HostKeyLine, HostKeyPolicy, record_host_key};
pub use pool::{DEFAULT_CONCURRENCY, SshPool};
pub use proxy::ProxySpec;
pub use session::{ExecOutput, OUTPUT_CAP, Session};
pub use target::{SshAuth, SshTarget, Timeouts};
