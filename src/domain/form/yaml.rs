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
    #[error(
        "the input holds more than one YAML document (separated by ---); a manifest is one Cluster"
    )]
    MultipleDocuments,
    #[error("the input is not text: it holds {0}")]
    Binary(&'static str),
}

impl ImportError {
    /// How to fix the input, in the user's terms.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Empty | Self::WrongKind { .. } => {
                "Give a Cluster manifest: apiVersion platform.tkestack.io/v1, kind Cluster, with metadata and spec"
            }
            Self::TooLarge(_) => {
                "A Cluster manifest is a few kilobytes; check that this is the right file"
            }
            Self::Yaml(_) => "Fix the YAML at the line and column named above",
            Self::Field { .. } => "Correct the field named above",
            Self::Shape(_) => {
                "Correct the field named above; the Create pane's Review shows a valid manifest to compare with"
            }
            Self::MultipleDocuments => {
                "Keep only the Cluster in the file: remove the other documents and the --- lines between them"
            }
            Self::Binary(_) => {
                "Give the Cluster's YAML text, not an archive, image or other binary file"
            }
        }
    }
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

/// Reads one `Cluster` from a file's bytes: [`from_yaml`] once they are known to be text.
pub fn from_yaml_bytes(bytes: &[u8]) -> Result<Cluster, ImportError> {
    if bytes.len() > MAX_YAML_BYTES {
        return Err(ImportError::TooLarge(bytes.len()));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|_| ImportError::Binary("bytes that are not UTF-8"))?;
    from_yaml(text)
}

/// Reads one `platform.tkestack.io/v1` `Cluster` from YAML (or JSON).
pub fn from_yaml(text: &str) -> Result<Cluster, ImportError> {
    if text.len() > MAX_YAML_BYTES {
        return Err(ImportError::TooLarge(text.len()));
    }
    // YAML text never holds NUL; a file that does is binary, whatever the parser would say.
    if text.contains('\0') {
        return Err(ImportError::Binary("NUL bytes"));
    }
    if text.trim().is_empty() {
        return Err(ImportError::Empty);
    }
    let v: Value = serde_saphyr::from_str(text).map_err(|e| {
        if is_multiple_documents(&e) {
            ImportError::MultipleDocuments
        } else {
            ImportError::Yaml(e.to_string())
        }
    })?;
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

/// Whether the parser refused a second document; its own message names its API instead.
fn is_multiple_documents(mut e: &serde_saphyr::Error) -> bool {
    loop {
        match e {
            serde_saphyr::Error::MultipleDocuments { .. } => return true,
            serde_saphyr::Error::WithSnippet { error, .. }
            | serde_saphyr::Error::AliasError { error, .. } => e = error,
            _ => return false,
        }
    }
}
