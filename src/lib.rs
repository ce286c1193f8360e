//! acp-cockpit: a full-screen terminal cockpit for Alauda Container Platform.
//!
//! Layers, one direction of dependency: [`domain`] (pure types and rules) <- [`engine`]
//! (async I/O) <- front ends ([`tui`], [`cli`]). [`sandbox`] is a separate ACP platform on
//! loopback that the engine talks to exactly as it talks to a real one.

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
