//! Basic Info: name, Kubernetes version, runtime, external access and image registry.

use std::collections::BTreeSet;

use super::MAX_CLUSTER_NAME;
use super::finding::{Out, annotation};
use super::platform::RuleContext;
use crate::domain::cluster::annotations as ann;
use crate::domain::form::{ClusterForm, ContainerRuntime, ImageRegistry};
use crate::domain::network::{is_domain, parse_ip};

pub(super) fn check_name(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    let name = &form.basic.name;
    let hint = "Use 1-32 lowercase letters, digits and '-', starting and ending with a letter or digit, e.g. prod-bj-01";
    if name.is_empty() {
        o.err("metadata.name", "the cluster name is empty", hint);
    } else if name.chars().count() > MAX_CLUSTER_NAME {
        o.err(
            "metadata.name",
            format!(
                "the cluster name has {} characters; at most 32 are allowed",
                name.chars().count()
            ),
            hint,
        );
    } else if !is_dns_label(name) {
        o.err(
            "metadata.name",
            format!("`{name}` is not a valid cluster name"),
            hint,
        );
    } else if name == "global" {
        o.err(
            "metadata.name",
            "`global` is the name of the platform's own cluster",
            "Choose another name",
        );
    } else if ctx.existing_clusters.contains(name.as_str()) {
        o.err(
            "metadata.name",
            format!("a cluster named `{name}` already exists on the platform"),
            "Choose a name no cluster on the platform uses (`acp-cockpit clusters` lists them)",
        );
    }
}

pub(super) fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `major.minor` of a version such as `v1.30.4-1`.
pub(super) fn minor_version(v: &str) -> Option<(u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let mut parts = v.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// `major.minor.patch` and nothing else: the form the platform's releases take.
pub(super) fn is_patch_release(v: &str) -> bool {
    let parts: Vec<&str> = v.trim().split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `v`'s minor is one of the offered releases' minors.
pub(super) fn supported_minor(v: &str, supported: &[String]) -> bool {
    let m = minor_version(v);
    m.is_some() && supported.iter().any(|s| minor_version(s) == m)
}

/// Whether `v` is exactly one of the offered releases (surrounding blanks aside): the
/// platform compares `spec.version` with its list as a string.
pub(super) fn version_supported(v: &str, supported: &[String]) -> bool {
    let v = v.trim();
    supported.iter().any(|s| s.trim() == v)
}

pub(super) fn check_version(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    let v = form.basic.kubernetes_version.trim();
    let list = ctx.supported_versions.join(", ");
    if v.is_empty() {
        o.err(
            "spec.version",
            "no Kubernetes version is chosen",
            format!("Choose one of the supported versions ({list}); the latest gives the best features and support"),
        );
        return;
    }
    if version_supported(v, &ctx.supported_versions) {
        return;
    }
    if !ctx.versions_published
        && is_patch_release(v)
        && let Some((major, minor)) = minor_version(v)
        && supported_minor(v, &ctx.supported_versions)
    {
        o.info(
            "spec.version",
            format!("Kubernetes {v} is a release of the supported minor {major}.{minor}; whether the platform offers this exact release is known only from the platform"),
            "Check against the platform's published releases with `acp-cockpit validate --platform`, or in the wizard while connected",
        );
        return;
    }
    // Releases of the same minor, to point at the one the user most likely meant.
    let same_minor: Vec<&str> = ctx
        .supported_versions
        .iter()
        .map(|s| s.trim())
        .filter(|s| minor_version(s).is_some() && minor_version(s) == minor_version(v))
        .collect();
    let is_minor_only = v.trim_start_matches('v').split(['.', '-', '+']).count() == 2;
    let (msg, hint) = match (same_minor.is_empty(), is_minor_only) {
        (false, true) => (
            format!("Kubernetes `{v}` names a minor version, not a release the platform offers"),
            format!("Choose the full release: {}", same_minor.join(", ")),
        ),
        (false, false) => (
            format!("Kubernetes {v} is not a release the platform offers"),
            format!(
                "Choose {} (the offered {} release), or another of: {list}",
                same_minor.join(" or "),
                minor_version(v).map_or(String::new(), |(a, b)| format!("{a}.{b}"))
            ),
        ),
        (true, _) => (
            format!("Kubernetes {v} is not a supported version"),
            format!("Choose one of: {list}"),
        ),
    };
    o.err("spec.version", msg, hint);
}

pub(super) fn check_runtime(form: &ClusterForm, ctx: &RuleContext, o: &mut Out) {
    let docker = form.basic.container_runtime == ContainerRuntime::Docker;
    let ver = minor_version(&form.basic.kubernetes_version);
    if docker && ver.is_some_and(|v| v >= (1, 24)) {
        let hint = "Enable the cri-docker feature gate on the platform first (Feature Gate Configuration), or use containerd, the recommended runtime";
        match ctx.cri_docker_enabled {
            Some(true) => {}
            Some(false) => o.err(
                annotation(ann::CONTAINER_RUNTIME),
                "Docker on Kubernetes 1.24+ needs the cri-docker feature gate, which is off on this platform",
                hint,
            ),
            None => o.warn(
                annotation(ann::CONTAINER_RUNTIME),
                "Kubernetes 1.24 and later no longer support Docker without the cri-docker feature gate",
                hint,
            ),
        }
    }
    if !docker && !form.extended.docker_args.is_empty() {
        o.warn(
            "spec.dockerExtraArgs",
            "Docker parameters are set but the runtime is containerd, so they are ignored",
            "Remove the Docker parameters, or choose Docker as the runtime",
        );
    }
}

pub(super) fn host_of(s: &str) -> &str {
    let s = s.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let s = s.split('/').next().unwrap_or(s);
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.parse::<u16>().is_ok() => h,
        _ => s,
    }
}

pub(super) fn is_host(s: &str) -> bool {
    parse_ip(s).is_some() || is_domain(s)
}

pub(super) fn check_access(form: &ClusterForm, o: &mut Out) {
    let ext = form.basic.external_access.trim();
    if !ext.is_empty() {
        let host = host_of(ext);
        if !is_host(host) {
            o.err(
                "form.externalAccess",
                format!("external access `{ext}` is not an IP address or domain"),
                "Enter the address global uses to reach this cluster, e.g. 203.0.113.10 or k8s.example.com",
            );
        } else {
            o.info(
                "form.externalAccess",
                "global must reach ports 6443, 11780 and 11781 on every control-plane node through the external access address",
                "Open these ports on the path from global to the cluster",
            );
            // The docs pair the two: on another network, each side needs the other's address.
            if form.basic.platform_url.trim().is_empty() {
                o.warn(
                    annotation(ann::PLATFORM_URL),
                    "External Access says the cluster is on another network than global, but no Platform URL tells the cluster how to reach global",
                    "Enter global's address reachable from this cluster as Platform URL (cpaas.io/platform-url), or clear External Access if both are on one network",
                );
            }
            let sans: BTreeSet<&str> = form
                .extended
                .apiserver_urls
                .iter()
                .map(|s| s.trim())
                .collect();
            if !sans.contains(host) && form.basic.endpoint.address.trim() != host {
                o.warn(
                    "spec.publicAlternativeNames",
                    format!("the external access address {host} is not among the APIServer URLs, so the API server certificate will not cover it"),
                    "Add it to APIServer URL under Extended Parameters",
                );
            }
        }
    }
    let url = form.basic.platform_url.trim();
    if !url.is_empty() {
        let ok = match url::Url::parse(url) {
            Ok(u) => matches!(u.scheme(), "https" | "http") && u.host_str().is_some(),
            Err(_) => is_host(host_of(url)),
        };
        if !ok {
            o.err(
                annotation(ann::PLATFORM_URL),
                format!("`{url}` is not an address of global"),
                "Enter global's public access address, e.g. https://acp.example.com",
            );
        }
    }
}

pub(super) fn check_registry(form: &ClusterForm, o: &mut Out) {
    let b = &form.basic;
    match b.image_registry {
        ImageRegistry::Private => {
            let addr = b.private_registry.trim();
            if addr.is_empty() {
                o.err(
                    "form.privateRegistry",
                    "a private registry is chosen but its address is empty",
                    "Enter the registry as host or host:port, e.g. registry.example.com:5000",
                );
            } else if !is_host(host_of(addr)) || addr.contains("://") {
                o.err(
                    "form.privateRegistry",
                    format!("`{addr}` is not a registry address"),
                    "Enter the registry as host or host:port, without a scheme or path",
                );
            } else {
                o.info(
                    "form.privateRegistry",
                    "the private registry must already hold every image the cluster needs",
                    "Contact technical support for pushing the platform's images to your registry",
                );
            }
        }
        ImageRegistry::Public => o.info(
            "form.imageRegistry",
            "the public repository needs the platform's public-registry-credential to be up to date",
            "Complete \"Updating Public Repository Credentials\" (Clusters > Cloud Credential) before creating",
        ),
        ImageRegistry::PlatformBuiltIn if !b.external_access.trim().is_empty() => o.info(
            "form.imageRegistry",
            "the cluster is on another network than global, so its nodes may not reach the built-in registry",
            "If they cannot, follow \"Add External Address for Built-in Registry\"",
        ),
        ImageRegistry::PlatformBuiltIn => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::tests::good;
    use crate::domain::rules::*;

    #[test]
    fn platform_version_list() {
        let ctx = RuleContext::default()
            .with_platform_versions(r#"["1.30.4", " 1.31.2 ", ""]"#)
            .expect("list parses");
        assert_eq!(ctx.supported_versions, vec!["1.30.4", "1.31.2"]);
        assert!(RuleContext::default().with_platform_versions("[]").is_err());
        assert!(
            RuleContext::default()
                .with_platform_versions("1.30")
                .is_err()
        );
        let mut f = good();
        f.basic.kubernetes_version = "1.30.5".into();
        assert!(check(&f, &ctx).iter().any(|x| x.field == "spec.version"));
    }

    #[test]
    fn version_matching() {
        let list: Vec<String> = DEFAULT_SUPPORTED_VERSIONS
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert!(version_supported("1.28.13", &list));
        assert!(version_supported(" 1.31.9 ", &list));
        // Only the exact releases: the platform compares the string with its list.
        for v in [
            "1.31",
            "1.31.99",
            "v1.31.9",
            "1.31.9-1",
            "1.280.1",
            "1.27.16-1",
        ] {
            assert!(!version_supported(v, &list), "{v}");
        }
        assert!(version_supported("1.27.16-1", &["1.27.16-1".into()]));
        assert_eq!(minor_version("1.24.0"), Some((1, 24)));
        assert_eq!(minor_version("x"), None);
        // Every default is a full release, so choosing one can never be refused as a minor.
        for v in DEFAULT_SUPPORTED_VERSIONS {
            assert_eq!(v.split('.').count(), 3, "{v}");
        }
    }

    #[test]
    fn version_findings_name_the_release_to_choose() {
        let mut f = good();
        f.basic.kubernetes_version = "1.31.99".into();
        let found = check(&f, &published_defaults());
        let v = found.iter().find(|x| x.field == "spec.version").unwrap();
        assert!(v.hint.starts_with("Choose 1.31.9"), "{v:?}");
        f.basic.kubernetes_version = "1.31".into();
        let found = check(&f, &published_defaults());
        let v = found.iter().find(|x| x.field == "spec.version").unwrap();
        assert_eq!(v.hint, "Choose the full release: 1.31.9");
    }

    /// The built-in releases, as if the platform had published exactly them.
    fn published_defaults() -> RuleContext {
        RuleContext::default().with_published_versions(
            DEFAULT_SUPPORTED_VERSIONS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        )
    }

    fn version_findings(v: &str, ctx: &RuleContext) -> Vec<Finding> {
        let mut f = good();
        f.basic.kubernetes_version = v.into();
        check(&f, ctx)
            .into_iter()
            .filter(|x| x.field == "spec.version")
            .collect()
    }

    /// The case the table held before the offline rule followed the docs: with the platform's
    /// list, an unlisted patch of a supported minor is refused.
    #[test]
    fn unknown_patch_of_a_supported_minor_is_refused_by_the_platforms_list() {
        let found = version_findings("1.31.99", &published_defaults());
        assert!(
            found.iter().any(|x| x.severity == Severity::Error
                && x.message.contains("not a release the platform offers")
                && !x.hint.is_empty()),
            "{found:#?}"
        );
    }

    #[test]
    fn offline_any_patch_release_of_a_supported_minor_passes_with_a_note() {
        let offline = RuleContext::default();
        for v in ["1.31.99", "1.28.1", "1.30.0", "1.29.15"] {
            let found = version_findings(v, &offline);
            assert!(
                found.iter().all(|x| x.severity == Severity::Info),
                "{v}: {found:#?}"
            );
        }
        let note = version_findings("1.31.99", &offline);
        assert!(
            note.len() == 1 && note[0].hint.contains("--platform"),
            "{note:#?}"
        );
        // A listed release needs no note; other minors, bare minors and suffixes still fail.
        assert!(version_findings("1.31.9", &offline).is_empty());
        for v in [
            "1.32.0",
            "1.27.16",
            "1.31",
            "v1.31.2",
            "1.30.14-1",
            "1.31.x",
        ] {
            assert!(
                version_findings(v, &offline)
                    .iter()
                    .any(|x| x.severity == Severity::Error),
                "{v}"
            );
        }
        // The platform's list decides once it is known, even for a supported minor.
        let platform = offline.with_published_versions(vec!["1.31.2".into()]);
        assert!(version_findings("1.31.2", &platform).is_empty());
        assert!(
            version_findings("1.31.99", &platform)
                .iter()
                .any(|x| x.severity == Severity::Error)
        );
        // An empty list is no list: the offline rule stays.
        let none = RuleContext::default().with_published_versions(Vec::new());
        assert_eq!(none, RuleContext::default());
    }

    #[test]
    fn an_existing_clusters_name_and_its_nodes_are_both_reported() {
        let mut ctx = RuleContext::default();
        ctx.existing_clusters.insert("prod-01".into());
        ctx.nodes_in_use
            .insert("192.168.0.21".into(), "prod-01".into());
        let found = check(&good(), &ctx);
        let error_at = |field: &str, text: &str| {
            found.iter().any(|x| {
                x.severity == Severity::Error && x.field == field && x.message.contains(text)
            })
        };
        assert!(error_at("metadata.name", "already exists"), "{found:#?}");
        assert!(
            error_at("spec.machines[3].ip", "already a node of cluster prod-01"),
            "{found:#?}"
        );
        ctx.existing_clusters.clear();
        ctx.existing_clusters.insert("prod-02".into());
        assert!(
            !check(&good(), &ctx)
                .iter()
                .any(|x| x.field == "metadata.name")
        );
    }
}
