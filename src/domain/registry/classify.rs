//! What a kubelet pull error means. The messages come from the kubelet's Events (`Failed`,
//! reason `ErrImagePull`/`ImagePullBackOff`), which quote containerd's or CRI-O's error text.

use serde::Serialize;

/// The cause of a failed pull, in the terms the fix is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PullCause {
    /// 401: no or wrong credentials (the pull secret).
    Unauthorized,
    /// 403: the credentials work but may not read this repository (RBAC).
    Forbidden,
    /// The tag or digest does not exist.
    ManifestUnknown,
    /// The registry host name does not resolve on the node.
    Dns,
    /// The certificate is not trusted, expired or for another name.
    Tls,
    Timeout,
    /// Nothing listens, or a policy rejects the connection.
    Refused,
    /// Still backing off after an earlier failure; the earlier message has the cause.
    BackOff,
    Unknown,
}

impl PullCause {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::ManifestUnknown => "manifest-unknown",
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Refused => "refused",
            Self::BackOff => "back-off",
            Self::Unknown => "unknown",
        }
    }

    /// Where to look next.
    pub fn advice(self) -> &'static str {
        match self {
            Self::Unauthorized => {
                "the pull secret is missing, wrong, or does not cover the registry host"
            }
            Self::Forbidden => {
                "the service account lacks pull rights in the image's namespace (a role binding to system:image-puller)"
            }
            Self::ManifestUnknown => {
                "the image or tag does not exist in the registry; check the name and push it"
            }
            Self::Dns => {
                "the node cannot resolve the registry name; check its /etc/hosts resolver line and DNS"
            }
            Self::Tls => {
                "the node does not trust the registry certificate, or it expired or names another host"
            }
            Self::Timeout => {
                "the registry did not answer in time; check NetworkPolicies, firewalls and the registry pods"
            }
            Self::Refused => {
                "nothing accepted the connection; check the registry Service, its endpoints and NetworkPolicies"
            }
            Self::BackOff => {
                "the kubelet is waiting before retrying; the previous ErrImagePull message has the cause"
            }
            Self::Unknown => "read the full event message",
        }
    }
}

/// Ordered: the first matching rule wins, most specific first (a 401 message also says
/// "failed to resolve reference", which is not a DNS error).
const RULES: &[(PullCause, &[&str])] = &[
    (
        PullCause::ManifestUnknown,
        &[
            "manifest unknown",
            ": not found",
            "manifest for",
            "name unknown",
            "not found: manifest",
        ],
    ),
    (
        PullCause::Unauthorized,
        &[
            "401 unauthorized",
            "unauthorized",
            "authentication required",
            "no basic auth credentials",
            "incorrect username or password",
        ],
    ),
    (
        PullCause::Forbidden,
        &["403 forbidden", "denied", "forbidden", "insufficient_scope"],
    ),
    (
        PullCause::Tls,
        &[
            "x509:",
            "tls:",
            "certificate",
            "server gave http response to https client",
        ],
    ),
    (
        PullCause::Dns,
        &[
            "no such host",
            "server misbehaving",
            "temporary failure in name resolution",
            "name or service not known",
        ],
    ),
    (
        PullCause::Timeout,
        &["i/o timeout", "deadline exceeded", "timeout", "timed out"],
    ),
    (
        PullCause::Refused,
        &[
            "connection refused",
            "connection reset",
            "no route to host",
            "network is unreachable",
        ],
    ),
    (
        PullCause::BackOff,
        &["back-off pulling image", "back-off", "imagepullbackoff"],
    ),
];

/// The cause of a pull error message.
pub fn classify(message: &str) -> PullCause {
    let m = message.to_ascii_lowercase();
    RULES
        .iter()
        .find(|(_, needles)| needles.iter().any(|n| m.contains(n)))
        .map_or(PullCause::Unknown, |(c, _)| *c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages as kubelets with containerd and CRI-O print them.
    const REAL: &[(&str, PullCause)] = &[
        (
            r#"Failed to pull image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": rpc error: code = Unknown desc = failed to pull and unpack image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": failed to resolve reference "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized"#,
            PullCause::Unauthorized,
        ),
        (
            r#"Failed to pull image "internal-docker-registry.cpaas-system.svc/shared-ns/base:v1": rpc error: code = Unknown desc = failed to pull and unpack image "internal-docker-registry.cpaas-system.svc/shared-ns/base:v1": failed to resolve reference "internal-docker-registry.cpaas-system.svc/shared-ns/base:v1": pulling from host internal-docker-registry.cpaas-system.svc failed with status code [manifests v1]: 403 Forbidden"#,
            PullCause::Forbidden,
        ),
        (
            r#"Failed to pull image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v9": rpc error: code = NotFound desc = failed to pull and unpack image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v9": failed to resolve reference "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v9": internal-docker-registry.cpaas-system.svc/my-ns/my-app:v9: not found"#,
            PullCause::ManifestUnknown,
        ),
        (
            r#"Failed to pull image "image-registry.cpaas-system.svc/my-ns/my-app:v1": rpc error: code = Unknown desc = failed to pull and unpack image "image-registry.cpaas-system.svc/my-ns/my-app:v1": failed to resolve reference "image-registry.cpaas-system.svc/my-ns/my-app:v1": failed to do request: Head "https://image-registry.cpaas-system.svc/v2/my-ns/my-app/manifests/v1": dial tcp: lookup image-registry.cpaas-system.svc on 10.0.0.2:53: no such host"#,
            PullCause::Dns,
        ),
        (
            r#"Failed to pull image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": rpc error: code = Unknown desc = failed to pull and unpack image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": failed to resolve reference "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": failed to do request: Head "https://internal-docker-registry.cpaas-system.svc/v2/my-ns/my-app/manifests/v1": tls: failed to verify certificate: x509: certificate signed by unknown authority"#,
            PullCause::Tls,
        ),
        (
            r#"Failed to pull image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": rpc error: code = DeadlineExceeded desc = failed to pull and unpack image: failed to resolve reference: failed to do request: Head "https://internal-docker-registry.cpaas-system.svc/v2/my-ns/my-app/manifests/v1": dial tcp 10.4.216.11:443: i/o timeout"#,
            PullCause::Timeout,
        ),
        (
            r#"Failed to pull image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": rpc error: code = Unknown desc = failed to pull and unpack image: failed to resolve reference: failed to do request: Head "https://internal-docker-registry.cpaas-system.svc/v2/my-ns/my-app/manifests/v1": dial tcp 10.4.216.11:443: connect: connection refused"#,
            PullCause::Refused,
        ),
        (
            r#"Back-off pulling image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1""#,
            PullCause::BackOff,
        ),
        (
            r#"Failed to pull image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": rpc error: code = Unknown desc = reading manifest v1 in internal-docker-registry.cpaas-system.svc/my-ns/my-app: manifest unknown: manifest unknown"#,
            PullCause::ManifestUnknown,
        ),
        (
            r#"Failed to pull image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": rpc error: code = Unknown desc = reading manifest v1 in internal-docker-registry.cpaas-system.svc/my-ns/my-app: unauthorized: authentication required"#,
            PullCause::Unauthorized,
        ),
        (
            r#"Failed to pull image "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1": rpc error: code = Unknown desc = pinging container registry internal-docker-registry.cpaas-system.svc: Get "https://internal-docker-registry.cpaas-system.svc/v2/": x509: certificate has expired or is not yet valid"#,
            PullCause::Tls,
        ),
        ("Error: ImagePullBackOff", PullCause::BackOff),
        ("something else entirely", PullCause::Unknown),
    ];

    #[test]
    fn real_kubelet_messages_get_their_cause() {
        for (msg, want) in REAL {
            assert_eq!(classify(msg), *want, "{msg}");
            assert!(!want.advice().is_empty());
        }
    }
}
