//! Verdict rules and the fixes they name: certificate lifetimes, the node resolver line, and
//! the `kubectl` commands that grant, attach or repair.

use std::net::IpAddr;

use super::catalogue::{Fix, Verdict};
use super::{CERT_WARN_DAYS, HOSTS_TAG, PULLER_ROLE, service_names};

/// A certificate with `days_left` until it expires (negative: expired).
pub fn cert_verdict(days_left: i64) -> Verdict {
    if days_left < 0 {
        Verdict::Fail
    } else if days_left < CERT_WARN_DAYS {
        Verdict::Warn
    } else {
        Verdict::Pass
    }
}

/// What a node's `/etc/hosts` says about the registry name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostsLine {
    /// The tagged line maps the name to the current ClusterIP.
    Current,
    /// The tagged line maps it to another address.
    Stale { found: IpAddr },
    /// No tagged line names the registry (the node resolves it some other way, or not at all).
    Missing,
}

/// Reads the tagged resolver line for `service` out of a hosts file.
pub fn hosts_line(hosts: &str, service: &str, cluster_ip: IpAddr) -> HostsLine {
    let names = service_names(service);
    for line in hosts.lines() {
        let Some((entry, comment)) = line.split_once('#') else {
            continue;
        };
        if comment.trim() != HOSTS_TAG {
            continue;
        }
        let mut fields = entry.split_whitespace();
        let Some(ip) = fields.next().and_then(|s| s.parse::<IpAddr>().ok()) else {
            continue;
        };
        if fields.any(|f| names.iter().any(|n| n == f)) {
            return if ip == cluster_ip {
                HostsLine::Current
            } else {
                HostsLine::Stale { found: ip }
            };
        }
    }
    HostsLine::Missing
}

/// The resolver line as ACP writes it.
pub fn expected_hosts_line(service: &str, cluster_ip: IpAddr) -> String {
    format!(
        "{cluster_ip} {} # {HOSTS_TAG}",
        service_names(service).join(" ")
    )
}

/// Replaces the tagged line on a node (run as root there).
pub fn fix_hosts_line(node: &str, service: &str, cluster_ip: IpAddr) -> Fix {
    Fix::run(
        format!("on {node}, point the registry name at the current ClusterIP {cluster_ip}"),
        format!(
            "sed -i '/# {HOSTS_TAG}$/d' /etc/hosts && echo '{}' >> /etc/hosts",
            expected_hosts_line(service, cluster_ip)
        ),
    )
}

/// Grants a service account pull rights in another namespace (the guide's command).
pub fn fix_cross_namespace(sa_namespace: &str, sa: &str, image_namespace: &str) -> Fix {
    Fix::run(
        format!(
            "the administrator of {image_namespace} grants {sa_namespace}:{sa} pull rights there"
        ),
        format!(
            "kubectl create rolebinding cross-ns-pull --clusterrole={PULLER_ROLE} \
             --serviceaccount={sa_namespace}:{sa} -n {image_namespace}"
        ),
    )
}

/// Grants a user pull rights in a namespace.
pub fn fix_user(user: &str, image_namespace: &str) -> Fix {
    let name: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    Fix::run(
        format!("the administrator of {image_namespace} grants {user} pull rights there"),
        format!(
            "kubectl create rolebinding {name}-image-pull --clusterrole={PULLER_ROLE} \
             --user={user} -n {image_namespace}"
        ),
    )
}

/// Attaches a pull secret to a service account; when `copy_from` names a namespace whose
/// secret of that name works, copies it first.
pub fn fix_pull_secret(namespace: &str, sa: &str, secret: &str, copy_from: Option<&str>) -> Fix {
    let patch = format!(
        "kubectl patch serviceaccount {sa} -n {namespace} -p '{{\"imagePullSecrets\":[{{\"name\":\"{secret}\"}}]}}'"
    );
    match copy_from {
        Some(src) => Fix::run(
            format!(
                "copy the pull secret {secret} from {src} into {namespace} and attach it to {sa}"
            ),
            format!(
                "kubectl get secret {secret} -n {src} -o yaml | sed -e '/^  namespace:/d' -e '/^  uid:/d' \
                 -e '/^  resourceVersion:/d' -e '/^  creationTimestamp:/d' | kubectl apply -n {namespace} -f - && {patch}"
            ),
        ),
        None => Fix::run(
            format!("attach the registry pull secret {secret} to {namespace}:{sa}"),
            patch,
        ),
    }
}

/// The days from `now` to `not_after`, both in Unix seconds, rounded down.
pub fn days_left(now: i64, not_after: i64) -> i64 {
    (not_after - now).div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: &str = "10.4.216.11";

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn certificate_lifetimes() {
        assert_eq!(cert_verdict(-1), Verdict::Fail);
        assert_eq!(cert_verdict(0), Verdict::Warn);
        assert_eq!(cert_verdict(29), Verdict::Warn);
        assert_eq!(cert_verdict(30), Verdict::Pass);
        assert_eq!(days_left(0, 86_399), 0);
        assert_eq!(days_left(0, -1), -1);
        assert_eq!(days_left(0, 30 * 86_400), 30);
    }

    #[test]
    fn the_guides_hosts_line_is_current_stale_or_missing() {
        let good = format!(
            "127.0.0.1   localhost localhost.localdomain\n{IP} internal-docker-registry.cpaas-system internal-docker-registry.cpaas-system.svc internal-docker-registry.cpaas-system.svc.cluster.local # {HOSTS_TAG}\n"
        );
        assert_eq!(
            hosts_line(&good, "internal-docker-registry", ip(IP)),
            HostsLine::Current
        );
        assert_eq!(
            hosts_line(&good, "internal-docker-registry", ip("10.4.0.9")),
            HostsLine::Stale { found: ip(IP) }
        );
        assert_eq!(
            hosts_line(&good, "image-registry", ip(IP)),
            HostsLine::Missing
        );
        let untagged = format!("{IP} internal-docker-registry.cpaas-system.svc\n");
        assert_eq!(
            hosts_line(&untagged, "internal-docker-registry", ip(IP)),
            HostsLine::Missing
        );
        assert_eq!(
            expected_hosts_line("internal-docker-registry", ip(IP)),
            good.lines().nth(1).unwrap_or_default()
        );
    }

    #[test]
    fn fixes_carry_the_real_names() {
        let f = fix_cross_namespace("my-ns", "default", "shared-ns");
        assert_eq!(
            f.command.as_deref(),
            Some(
                "kubectl create rolebinding cross-ns-pull --clusterrole=system:image-puller --serviceaccount=my-ns:default -n shared-ns"
            )
        );
        let u = fix_user("alice@example.com", "shared-ns");
        assert!(
            u.command
                .as_deref()
                .is_some_and(|c| c.contains("--user=alice@example.com -n shared-ns"))
        );
        let p = fix_pull_secret("no-secret-ns", "default", "registry-pull", Some("my-ns"));
        let cmd = p.command.unwrap_or_default();
        assert!(cmd.starts_with("kubectl get secret registry-pull -n my-ns"));
        assert!(cmd.ends_with(r#"kubectl patch serviceaccount default -n no-secret-ns -p '{"imagePullSecrets":[{"name":"registry-pull"}]}'"#));
        let h = fix_hosts_line("node-2", "image-registry", ip(IP));
        assert!(
            h.command
                .unwrap_or_default()
                .contains("10.4.216.11 image-registry.cpaas-system ")
        );
    }
}
