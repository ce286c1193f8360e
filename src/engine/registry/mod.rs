//! Registry checks: TCP, TLS and the distribution API; RBAC, pull secrets, Service, DNS and
//! NetworkPolicies from the cluster; the node side over SSH.

pub mod api;
pub mod battery;
pub mod cluster;
pub mod inputs;
pub mod node_targets;
pub mod pull;
pub mod task;
pub mod tls;
