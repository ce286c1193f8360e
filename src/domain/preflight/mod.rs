//! Node preflight, the pure half: the probe script sent to each node, its parser, the check
//! catalogue, the OS support matrix and the verdicts. The engine runs the probe over SSH
//! (one exec per node) and calls these functions; nothing here does I/O.
//!
//! Flow for one node: send [`probe::probe_command`] (or [`probe::PROBE_SCRIPT`] on `sh -s`'s
//! stdin), read stdout into [`facts::parse_probe_output`], then
//! [`evaluate::evaluate_node`] with what the wizard says about the node
//! ([`evaluate::NodeInput`]) and what it is held against ([`evaluate::Requirements`]). With
//! every node probed, [`fleet::evaluate_fleet`] compares them (uniqueness, VIP, clock skew
//! from [`fleet::ClockSample`]s taken with [`probe::CLOCK_COMMAND`]). A node that cannot be
//! reached gets [`verdict::connection_failure_result`] instead. [`verdict::Summary`] counts
//! the results, decides whether Create is blocked and gives the CLI exit code.
//!
//! Verdicts: pass, warn, fail, platform-fixes (what ACP's own install steps set anyway),
//! cannot-check (a tool missing on the node, never a failure), ignored (by id, from the user's
//! ignore list, keeping the original verdict). Results carry ids, verdicts and numbers; the
//! wording (title, what is checked, source, fix) is in [`catalogue::CATALOGUE`].
//!
//! Reachability is checked from this machine, while the platform connects from the global
//! cluster (possibly through a SOCKS5 proxy): a node this machine reaches may still be out of
//! the platform's reach, and the other way round.

pub mod catalogue;
pub mod evaluate;
pub mod facts;
pub mod fleet;
pub mod from_cluster;
pub mod matrix;
pub mod network;
mod parse;
pub mod probe;
mod render;
pub mod simulated;
pub mod verdict;

pub use catalogue::{CATALOGUE, CheckDef, Role};
pub use evaluate::{
    Minimums, NetworkPlugin, NodeInput, RegistryTarget, Requirements, evaluate_node,
};
pub use facts::{NodeFacts, parse_probe_output, render_probe_output};
pub use fleet::{ClockSample, evaluate_fleet};
pub use matrix::{MatrixError, SupportMatrix};
pub use simulated::{SimulatedNode, healthy_node};
pub use verdict::{
    CheckResult, ConnectStage, Summary, Verdict, connection_failure_result, connection_ok_result,
};
