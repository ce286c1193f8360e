//! The ACP flavour of `platform.tkestack.io/v1`: `Cluster`, `Machine` and `ClusterCredential`.
//!
//! ACP's schema is a fork of TKEStack's; where they differ these types follow ACP's own OpenAPI
//! (for example `machines[].role`, `machines[].proxy` and the container runtime as an annotation
//! instead of `features.containerRuntime`).
//!
//! Secrets (`password`, `privateKey`, `passPhrase`, proxy `password`, credential tokens and keys)
//! travel as base64 text. They are kept here as that text, never decoded, and every `Debug`
//! impl in this module prints them as `<redacted>`.
//!
//! Fields the types do not model are kept in `extra` maps on import, so that a YAML read and
//! written again keeps them. The kube derive uses a derived schema; the `extra` maps show up in
//! it as `additionalProperties`.
mod credential;
mod helpers;
mod known_fields;
mod machine;
mod spec;
mod status;
#[cfg(test)]
mod tests;

pub use credential::*;
use helpers::{is_default, lenient_time, redact};
pub use known_fields::{FEATURE_FIELDS, MACHINE_FIELDS, SPEC_FIELDS};
pub use machine::*;
pub use spec::*;
pub use status::*;

/// API group of every resource in this module.
pub const GROUP: &str = "platform.tkestack.io";
/// API version of every resource in this module.
pub const VERSION: &str = "v1";
/// `spec.type` for clusters the platform installs on machines it is given.
pub const CLUSTER_TYPE_BAREMETAL: &str = "Baremetal";
/// `machines[].role` of a control-plane node.
pub const ROLE_MASTER: &str = "master";
/// `machines[].role` of a worker node.
pub const ROLE_NODE: &str = "node";
/// `machines[].proxy.type` of a SOCKS5 proxy, the only kind ACP supports.
pub const PROXY_SOCKS5: &str = "SOCKS5";

/// ACP annotation keys on a `Cluster`.
pub mod annotations {
    /// `<runtime>://<version>`, e.g. `containerd://1.6.28-4`.
    pub const CONTAINER_RUNTIME: &str = "cpaas.io/container-runtime";
    /// `kube-ovn`, `calico`, `flannel` (or the custom mode's value).
    pub const NETWORK_TYPE: &str = "cpaas.io/network-type";
    /// Kube-OVN join CIDR (overlay), `v4` or `v4,v6`.
    pub const JOIN_CIDR: &str = "kube-ovn.cpaas.io/join-cidr";
    /// Kube-OVN transmit mode, `overlay` or `underlay`.
    pub const TRANSMIT_TYPE: &str = "kube-ovn.cpaas.io/transmit-type";
    /// Kube-OVN underlay bridge NIC.
    pub const PROVIDER_NETWORK_INTERFACE: &str = "ovn.cpaas.io/provider-network-interface";
    /// Kube-OVN underlay VLAN id, 0-4095 as a string.
    pub const VLAN_ID: &str = "kube-ovn.cpaas.io/vlan-id";
    /// Kube-OVN default subnet gateway.
    pub const GATEWAY: &str = "kube-ovn.cpaas.io/gateway";
    /// Kube-OVN default subnet reserved IPs.
    pub const EXCLUDE_IPS: &str = "kube-ovn.cpaas.io/exclude-ips";
    /// Public address of `global` for a workload cluster that cannot reach it directly.
    pub const PLATFORM_URL: &str = "cpaas.io/platform-url";
}
