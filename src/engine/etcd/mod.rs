//! etcd encryption beyond one watch: the fleet (every workload cluster's
//! `EtcdEncryptionConfig`, read with a concurrency cap) and the manager's files on each
//! control-plane node, read over SSH on demand.
//!
//! Key material read from a node is parsed here and reduced to key names and fingerprints
//! ([`crate::domain::encryption_config`]); only that leaves the engine.

pub mod fleet;
pub mod nodes;
