//! The checks, in the order they run and are shown, and the shape of one result.

use serde::Serialize;

/// How one check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Warn,
    Fail,
    /// Not run; the result's summary says why (an input missing, an earlier step failed).
    Skip,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::Skip => "skip",
        }
    }
}

/// The stable id of a check; ids appear in JSON output and never change meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckId {
    PullEvents,
    PullSecret,
    PullRights,
    UserRights,
    Service,
    DnsLocal,
    DnsNodes,
    NodeHosts,
    NetworkPolicy,
    Tls,
    ExternalCert,
    ExternalIngress,
    ExternalService,
    ApiPing,
    ApiAuth,
    Manifest,
}

/// One entry of the catalogue: what a check looks at and what it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CheckDef {
    pub id: CheckId,
    pub title: &'static str,
    pub inputs: &'static str,
}

pub const CATALOGUE: &[CheckDef] = &[
    def(
        CheckId::PullEvents,
        "recent pull errors and their cause",
        "pod or deployment",
    ),
    def(
        CheckId::PullSecret,
        "pull secret covers the registry host",
        "namespace, service account",
    ),
    def(
        CheckId::PullRights,
        "service account may pull from the image's namespace",
        "namespace, service account, image",
    ),
    def(
        CheckId::UserRights,
        "user may pull from the image's namespace",
        "user, image",
    ),
    def(
        CheckId::Service,
        "registry Service and its ClusterIP",
        "cluster",
    ),
    def(
        CheckId::DnsLocal,
        "registry name resolves here",
        "registry host",
    ),
    def(
        CheckId::DnsNodes,
        "registry name resolves on each node",
        "nodes over SSH",
    ),
    def(
        CheckId::NodeHosts,
        "node /etc/hosts resolver line matches the ClusterIP",
        "nodes over SSH",
    ),
    def(
        CheckId::NetworkPolicy,
        "no NetworkPolicy blocks egress to the registry",
        "namespace",
    ),
    def(
        CheckId::Tls,
        "TCP connect and TLS handshake",
        "registry address",
    ),
    def(
        CheckId::ExternalCert,
        "registry-address.tls certificate",
        "cluster",
    ),
    def(
        CheckId::ExternalIngress,
        "registry-address ingress paths and TLS host",
        "cluster",
    ),
    def(
        CheckId::ExternalService,
        "kube-system registry Service 443 -> 60080",
        "cluster",
    ),
    def(CheckId::ApiPing, "GET /v2/ answers", "registry address"),
    def(
        CheckId::ApiAuth,
        "token or basic auth with the pull secret's credentials",
        "pull secret",
    ),
    def(
        CheckId::Manifest,
        "image manifest exists (digest, latency)",
        "image",
    ),
];

const fn def(id: CheckId, title: &'static str, inputs: &'static str) -> CheckDef {
    CheckDef { id, title, inputs }
}

impl CheckId {
    pub fn def(self) -> &'static CheckDef {
        CATALOGUE
            .iter()
            .find(|d| d.id == self)
            .unwrap_or(&CATALOGUE[0])
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::PullEvents => "pull-events",
            Self::PullSecret => "pull-secret",
            Self::PullRights => "pull-rights",
            Self::UserRights => "user-rights",
            Self::Service => "service",
            Self::DnsLocal => "dns-local",
            Self::DnsNodes => "dns-nodes",
            Self::NodeHosts => "node-hosts",
            Self::NetworkPolicy => "network-policy",
            Self::Tls => "tls",
            Self::ExternalCert => "external-cert",
            Self::ExternalIngress => "external-ingress",
            Self::ExternalService => "external-service",
            Self::ApiPing => "api-ping",
            Self::ApiAuth => "api-auth",
            Self::Manifest => "manifest",
        }
    }
}

/// What to do about a result: the sentence and, when there is one, the command to paste.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fix {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}

impl Fix {
    pub fn say(text: impl Into<String>) -> Fix {
        Fix {
            text: text.into(),
            command: None,
        }
    }

    pub fn run(text: impl Into<String>, command: impl Into<String>) -> Fix {
        Fix {
            text: text.into(),
            command: Some(command.into()),
        }
    }
}

/// One check's outcome: the verdict, a one-line summary (the reason for a skip), the evidence
/// behind it, how long it took, and the fix.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    pub id: CheckId,
    pub verdict: Verdict,
    pub summary: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    pub millis: u64,
}

impl CheckResult {
    pub fn new(id: CheckId, verdict: Verdict, summary: impl Into<String>) -> Self {
        CheckResult {
            id,
            verdict,
            summary: summary.into(),
            evidence: Vec::new(),
            fix: None,
            millis: 0,
        }
    }

    pub fn pass(id: CheckId, summary: impl Into<String>) -> Self {
        Self::new(id, Verdict::Pass, summary)
    }
    pub fn warn(id: CheckId, summary: impl Into<String>) -> Self {
        Self::new(id, Verdict::Warn, summary)
    }
    pub fn fail(id: CheckId, summary: impl Into<String>) -> Self {
        Self::new(id, Verdict::Fail, summary)
    }
    pub fn skip(id: CheckId, reason: impl Into<String>) -> Self {
        Self::new(id, Verdict::Skip, reason)
    }

    pub fn with_evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }
}

/// The exit code of a finished run: 1 when any check failed, else 0 (2 is for errors that
/// stopped the run itself).
pub fn exit_code(results: &[CheckResult]) -> i32 {
    i32::from(results.iter().any(|r| r.verdict == Verdict::Fail))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_id_is_in_the_catalogue_once_and_ids_are_unique() {
        let mut ids: Vec<&str> = CATALOGUE.iter().map(|d| d.id.as_str()).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n);
        for d in CATALOGUE {
            assert_eq!(d.id.def().id, d.id);
            let json = serde_json::to_string(&d.id).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", d.id.as_str()));
        }
    }

    #[test]
    fn a_failure_anywhere_makes_the_exit_code_one() {
        let ok = vec![
            CheckResult::pass(CheckId::Tls, "ok"),
            CheckResult::skip(CheckId::Manifest, "no image"),
            CheckResult::warn(CheckId::ExternalCert, "soon"),
        ];
        assert_eq!(exit_code(&ok), 0);
        let mut bad = ok.clone();
        bad.push(CheckResult::fail(CheckId::PullRights, "denied"));
        assert_eq!(exit_code(&bad), 1);
    }
}
