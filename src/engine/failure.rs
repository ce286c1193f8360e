//! The one failure type every capability reports.

/// Why something failed, in the terms the user acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// 401, or the credential plugin failed: log in again.
    AuthExpired,
    /// 403: a permission is missing.
    Forbidden,
    /// The server could not be reached or answered garbage.
    Unreachable,
    NotFound,
    /// 409/AlreadyExists.
    Conflict,
    /// 422/400: the object was rejected.
    Invalid,
    /// The kubeconfig itself is wrong or missing.
    Config,
    /// A step did not answer in time.
    Timeout,
    /// A file could not be read or written.
    Io,
    Other,
}

/// A failure of any capability (kube, drafts, SSH, registry): what happened and, when known,
/// how to fix it. Errors are data: every front end shows the message and the hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>, hint: Option<&str>) -> Self {
        Failure {
            kind,
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }
}
