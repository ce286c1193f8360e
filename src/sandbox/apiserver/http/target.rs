//! What a URL addresses: the cluster prefix, health paths, percent-decoding and the parse of
//! Kubernetes REST paths into a [`Target`].

use crate::sandbox::apiserver::kinds::{self, KINDS, KindId};
use crate::sandbox::apiserver::status::ApiError;

pub(super) fn health_path(p: &str) -> bool {
    ["/healthz", "/livez", "/readyz"]
        .iter()
        .any(|h| p == *h || p.strip_prefix(h).is_some_and(|r| r.starts_with('/')))
}

/// Splits `/kubernetes/<cluster>/<rest>` into the cluster name and `/<rest>`.
pub(super) fn split_cluster(path: &str) -> Option<(&str, String)> {
    let rest = path.strip_prefix("/kubernetes/")?;
    let (cluster, sub) = rest.split_once('/').unwrap_or((rest, ""));
    if cluster.is_empty() {
        return None;
    }
    Some((cluster, format!("/{sub}")))
}

/// What a URL inside a cluster addresses.
pub(super) enum Target {
    Version,
    Health,
    CoreVersions,
    CoreResources,
    Groups,
    Group(String),
    GroupResources(String, String),
    OpenApi,
    Resource {
        kind_id: KindId,
        namespace: Option<String>,
        name: Option<String>,
        subresource: Option<String>,
    },
}

pub(super) fn parse_target(path: &str, global: bool) -> Result<Target, ApiError> {
    let p = path.trim_end_matches('/');
    if p == "/version" {
        return Ok(Target::Version);
    }
    if health_path(p) {
        return Ok(Target::Health);
    }
    if p == "/openapi" || p.starts_with("/openapi/") {
        return Ok(Target::OpenApi);
    }
    let segs: Vec<&str> = p.split('/').skip(1).collect();
    let (group, version, rest) = match segs.as_slice() {
        ["api"] => return Ok(Target::CoreVersions),
        ["api", "v1"] => return Ok(Target::CoreResources),
        ["apis"] => return Ok(Target::Groups),
        ["apis", g] => return Ok(Target::Group((*g).to_string())),
        ["apis", g, v] => return Ok(Target::GroupResources((*g).to_string(), (*v).to_string())),
        ["api", v, rest @ ..] => ("", *v, rest),
        ["apis", g, v, rest @ ..] => (*g, *v, rest),
        _ => return Err(ApiError::page_not_found()),
    };
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, tail @ ..]
            if !matches!(*plural, "status" | "finalize") || !tail.is_empty() =>
        {
            (Some((*ns).to_string()), {
                let mut v = vec![*plural];
                v.extend_from_slice(tail);
                v
            })
        }
        _ => (None, rest.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(*name), None),
        [plural, name, sub] => (*plural, Some(*name), Some(*sub)),
        _ => return Err(ApiError::page_not_found()),
    };
    let kind_id = kinds::by_path(group, version, plural).ok_or_else(ApiError::page_not_found)?;
    let kind = &KINDS[kind_id];
    if !kind.served_in_cluster(global) {
        return Err(ApiError::page_not_found());
    }
    if namespace.is_some() && !kind.namespaced {
        return Err(ApiError::page_not_found());
    }
    if let Some(s) = sub
        && !(s == "status" && kind.status_subresource)
    {
        return Err(ApiError::page_not_found());
    }
    Ok(Target::Resource {
        kind_id,
        namespace,
        name: name.map(str::to_string),
        subresource: sub.map(str::to_string),
    })
}

/// Percent-decodes a URL path (`system%3Acontroller%3Ax` names RBAC objects). Names never
/// contain `/`, so decoding before splitting cannot change the route.
pub(super) fn decode_path(raw: &str) -> Result<String, ApiError> {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| ApiError::bad_request("the request path is not valid UTF-8"))
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_percent_decoded() {
        assert_eq!(
            decode_path("/x/system%3Acontroller%3Aa").expect("ok"),
            "/x/system:controller:a"
        );
        assert_eq!(decode_path("/a%2").expect("ok"), "/a%2");
        assert!(decode_path("/%ff").is_err());
    }

    #[test]
    fn targets() {
        let t = parse_target("/api/v1/namespaces/default/configmaps/a", true).expect("cm");
        assert!(
            matches!(t, Target::Resource { namespace: Some(ns), name: Some(n), subresource: None, .. } if ns == "default" && n == "a")
        );
        let t = parse_target("/api/v1/namespaces/default/status", true).expect("ns status");
        assert!(
            matches!(t, Target::Resource { namespace: None, name: Some(n), subresource: Some(s), .. } if n == "default" && s == "status")
        );
        assert!(parse_target("/apis/platform.tkestack.io/v1/clusters", false).is_err());
        assert!(
            parse_target(
                "/apis/rbac.authorization.k8s.io/v1/namespaces/x/clusterroles",
                true
            )
            .is_err()
        );
        assert!(
            parse_target("/api/v1/configmaps/a/status", true).is_err(),
            "no status subresource"
        );
    }
}
