//! Kubernetes-compatible API server on loopback.
pub mod rbac;
