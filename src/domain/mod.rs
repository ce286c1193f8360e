//! Pure domain types and rules: no tokio, no I/O, no terminal.

pub mod cluster;
pub mod draft;
pub mod encryption_config;
pub mod etcd;
pub mod form;
pub mod known_hosts;
pub mod network;
pub mod preflight;
pub mod registry;
pub mod rules;
pub mod timeline;
