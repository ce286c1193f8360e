//! Pure domain types and rules: no tokio, no I/O, no terminal. Nothing here imports another
//! layer of the crate; everything is unit-tested without a network or a screen.

pub mod cluster;
pub mod draft;
pub mod encryption_config;
pub mod etcd;
pub mod fleet;
pub mod form;
pub mod known_hosts;
pub mod network;
pub mod preflight;
pub mod registry;
pub mod rules;
pub mod timeline;
