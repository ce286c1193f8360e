//! The built-in registry's pull checklist as data: the checks, their verdicts and fixes, the
//! image references they talk about, and what a kubelet's pull error means.
//!
//! Everything here is pure: the engine gathers facts (objects, resolutions, handshakes) and the
//! rules in these modules turn them into verdicts with the real names in the fix.

pub mod catalogue;
pub mod challenge;
pub mod classify;
pub mod dockercfg;
pub mod external;
pub mod image;
pub mod netpol;
pub mod nodes;
pub mod rules;

pub use catalogue::{CheckId, CheckResult, Fix, Verdict};
pub use classify::{PullCause, classify};
pub use image::ImageRef;

/// Namespace of the registry Service and of the external-address objects.
pub const REGISTRY_NAMESPACE: &str = "cpaas-system";
/// The Service names, newest first: ACP renamed `internal-docker-registry` to `image-registry`.
pub const SERVICE_NAMES: [&str; 2] = ["image-registry", "internal-docker-registry"];
/// The tag ACP puts on the node `/etc/hosts` line it manages for the registry name.
pub const HOSTS_TAG: &str = "cpaas-generated-node-resolver";
/// API group and resource a pull is authorised against.
pub const IMAGE_GROUP: &str = "registry.alauda.io";
pub const IMAGE_RESOURCE: &str = "images";
/// ClusterRole the guide binds for cross-namespace pulls.
pub const PULLER_ROLE: &str = "system:image-puller";
/// The external address of the global cluster's registry: an ingress, its TLS secret and the
/// Service that fronts the registry's node port, all in `kube-system`.
pub const EXTERNAL_NAMESPACE: &str = "kube-system";
pub const EXTERNAL_INGRESS: &str = "registry-address";
pub const EXTERNAL_TLS_SECRET: &str = "registry-address.tls";
pub const EXTERNAL_SERVICE: &str = "registry";
pub const EXTERNAL_SERVICE_PORT: i32 = 443;
pub const EXTERNAL_TARGET_PORT: i32 = 60080;
/// Days before expiry a certificate is reported as a warning.
pub const CERT_WARN_DAYS: i64 = 30;

/// The in-cluster host name of a registry Service.
pub fn service_host(service: &str) -> String {
    format!("{service}.{REGISTRY_NAMESPACE}.svc")
}

/// The names the node resolver line maps, shortest first.
pub fn service_names(service: &str) -> [String; 3] {
    [
        format!("{service}.{REGISTRY_NAMESPACE}"),
        service_host(service),
        format!("{}.cluster.local", service_host(service)),
    ]
}
