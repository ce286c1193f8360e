//! etcd (being built).
