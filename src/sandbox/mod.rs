//! The sandbox platform: an ACP `global` cluster on loopback that speaks real Kubernetes.

pub mod apiserver;
