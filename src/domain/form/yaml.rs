//! YAML import and export of the `Cluster` resource.

use serde_json::Value;

use crate::domain::cluster::Cluster;

/// Why a YAML document is not a usable `Cluster`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the document is empty")]
    Empty,
    #[error("the document is {0} bytes; the limit is {MAX_YAML_BYTES}")]
    TooLarge(usize),
    #[error("not valid YAML: {0}")]
    Yaml(String),
    #[error(
        "expected apiVersion platform.tkestack.io/v1 and kind Cluster, found {api_version} {kind}"
    )]
    WrongKind { api_version: String, kind: String },
    #[error("{path}: {message}")]
    Field { path: String, message: String },
    #[error("not a Cluster resource: {0}")]
    Shape(String),
}

/// Why a resource could not be written as YAML.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot write the cluster as YAML: {0}")]
pub struct ExportError(String);

/// Largest document [`from_yaml`] reads.
pub const MAX_YAML_BYTES: usize = 4 * 1024 * 1024;

/// The resource as YAML; with `mask_secrets` every secret is replaced by a marker, for
/// showing on screen or saving as an example.
pub fn to_yaml(c: &Cluster, mask_secrets: bool) -> Result<String, ExportError> {
    let masked;
    let c = if mask_secrets {
        masked = c.with_masked_secrets();
        &masked
    } else {
        c
    };
    serde_saphyr::to_string(c).map_err(|e| ExportError(e.to_string()))
}

/// Reads one `platform.tkestack.io/v1` `Cluster` from YAML (or JSON).
pub fn from_yaml(text: &str) -> Result<Cluster, ImportError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(ImportError::TooLarge(text.len()));
    }
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let v: Value = serde_saphyr::from_str(text).map_err(|e| ImportError::Yaml(e.to_string()))?;
    let Value::Object(obj) = &v else {
        return Err(ImportError::Shape(
            "the document is not a mapping with apiVersion, kind, metadata and spec".into(),
        ));
    };
    let field = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (api_version, kind) = (field("apiVersion"), field("kind"));
    if api_version != "platform.tkestack.io/v1" || kind != "Cluster" {
        return Err(ImportError::WrongKind { api_version, kind });
    }
    if let Some(ver) = v.pointer("/spec/version")
        && ver.is_number()
    {
        return Err(ImportError::Field {
            path: "spec.version".into(),
            message: format!("{ver} is a number; quote the version, e.g. \"1.30.4\""),
        });
    }
    serde_json::from_value(v).map_err(|e| ImportError::Shape(e.to_string()))
}
