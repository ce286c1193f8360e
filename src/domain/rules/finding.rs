//! What a rule reports, and the collector the rules push findings into.

use serde::{Deserialize, Serialize};

/// How serious a finding is; ordered most serious first, so sorting puts errors on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Severity {
    /// Creation will fail or the cluster will not work.
    Error,
    /// Allowed, but likely a mistake or a limit the user should know of.
    Warning,
    /// Something the docs want the user to be aware of.
    Info,
}

/// One problem with the cluster definition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Resource path, or `form.<name>` for fields only the form has.
    pub field: String,
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// Whether any finding is an error.
pub fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

pub(super) struct Out(pub(super) Vec<Finding>);

impl Out {
    pub(super) fn push(
        &mut self,
        sev: Severity,
        field: impl Into<String>,
        msg: String,
        hint: &str,
    ) {
        self.0.push(Finding {
            field: field.into(),
            severity: sev,
            message: msg,
            hint: hint.to_string(),
        });
    }
    pub(super) fn err(
        &mut self,
        field: impl Into<String>,
        msg: impl Into<String>,
        hint: impl AsRef<str>,
    ) {
        self.push(Severity::Error, field, msg.into(), hint.as_ref());
    }
    pub(super) fn warn(
        &mut self,
        field: impl Into<String>,
        msg: impl Into<String>,
        hint: impl AsRef<str>,
    ) {
        self.push(Severity::Warning, field, msg.into(), hint.as_ref());
    }
    pub(super) fn info(
        &mut self,
        field: impl Into<String>,
        msg: impl Into<String>,
        hint: impl AsRef<str>,
    ) {
        self.push(Severity::Info, field, msg.into(), hint.as_ref());
    }
}

pub(super) fn machine(i: usize, f: &str) -> String {
    format!("spec.machines[{i}].{f}")
}

pub(super) fn annotation(key: &str) -> String {
    format!("metadata.annotations[\"{key}\"]")
}
