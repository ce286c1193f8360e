//! acp-cockpit: a full-screen terminal cockpit for Alauda Container Platform (ACP).
//!
//! # Layers
//! One direction of dependency, checked by `tests/layering.rs`:
//!
//! ```text
//!   domain  <-  engine  <-  present / config / startup  <-  tui, cli (never each other)
//!   sandbox (a separate ACP platform on loopback; uses domain constants at most)
//! ```
//!
//! - [`domain`]: pure types, rules, verdicts and parsers: the Cluster resource, creation rules,
//!   timelines, the fleet model, etcd rotation, node preflight checks, known_hosts. No tokio, no
//!   I/O, unit-tested and fuzzed.
//! - [`engine`]: every connection (kube watches, SSH sessions, files), one task and one bounded
//!   queue per capability, answers matched to questions by [`engine::RequestId`]. The CLI calls
//!   each capability's plain async functions instead.
//! - [`present`]: the wording both front ends show (ages, progress, verdicts), so a table on
//!   screen and `-o table` read the same; JSON carries data, never this wording.
//! - [`config`]: paths, `config.toml`, themes and keymaps, and the global flags.
//! - [`startup`]: from flags to a platform (a kubeconfig, or the embedded sandbox).
//! - [`tui`]: the full-screen front end; each pane declares itself once in a
//!   [`tui::panes::PaneSpec`].
//! - [`cli`]: one subcommand per pane's job, `-o table|json|yaml`, exit codes 0/1/2.
//! - [`sandbox`]: a Kubernetes-compatible API server with simulated ACP controllers, reached by
//!   the engine exactly as a real platform is.
//! - [`fixtures`]: demo data for screenshots and tests.

pub mod cli;
pub mod config;
pub mod domain;
pub mod engine;
pub mod fixtures;
pub mod logging;
pub mod present;
pub mod sandbox;
pub mod startup;
pub mod tui;
