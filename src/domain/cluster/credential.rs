//! `ClusterCredential`: how to reach a cluster's API server and etcd.

use std::fmt;

use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// `ClusterCredential` fields; they sit at the top level of the object (no `spec`).
#[derive(CustomResource, Serialize, Deserialize, Clone, Default, PartialEq, JsonSchema)]
#[kube(
    group = "platform.tkestack.io",
    version = "v1",
    kind = "ClusterCredential",
    shortname = "cc",
    no_spec,
    derive = "PartialEq",
    derive = "Default"
)]
#[serde(rename_all = "camelCase")]
pub struct ClusterCredentialFields {
    #[serde(default)]
    pub cluster_name: String,
    #[serde(rename = "tenantID", default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    /// Bearer token for kube-apiserver (plain text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// base64 of the CA certificate PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key: Option<String>,
    #[serde(
        rename = "etcdCACert",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etcd_ca_cert: Option<String>,
    #[serde(rename = "etcdCAKey", default, skip_serializing_if = "Option::is_none")]
    pub etcd_ca_key: Option<String>,
    #[serde(
        rename = "etcdAPIClientCert",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etcd_api_client_cert: Option<String>,
    #[serde(
        rename = "etcdAPIClientKey",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etcd_api_client_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry_password: Option<String>,
}

impl fmt::Debug for ClusterCredentialFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Certificates are public, but listing which secrets exist is enough for debugging.
        f.debug_struct("ClusterCredentialFields")
            .field("cluster_name", &self.cluster_name)
            .field("tenant_id", &self.tenant_id)
            .field("token", &redact(&self.token))
            .field("ca_cert", &redact(&self.ca_cert))
            .field("ca_key", &redact(&self.ca_key))
            .field("client_cert", &redact(&self.client_cert))
            .field("client_key", &redact(&self.client_key))
            .field("etcd_ca_cert", &redact(&self.etcd_ca_cert))
            .field("etcd_ca_key", &redact(&self.etcd_ca_key))
            .field("etcd_api_client_cert", &redact(&self.etcd_api_client_cert))
            .field("etcd_api_client_key", &redact(&self.etcd_api_client_key))
            .field("bootstrap_token", &redact(&self.bootstrap_token))
            .field("certificate_key", &redact(&self.certificate_key))
            .field("registry_username", &self.registry_username)
            .field("registry_password", &redact(&self.registry_password))
            .finish()
    }
}

impl ClusterCredential {
    /// The decoded CA certificate PEM, when present and valid base64.
    pub fn ca_cert_pem(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let b64 = self.spec.ca_cert.as_deref()?;
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
    }
}
