//! Discovery documents: `/version`, `/api`, `/api/v1`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>`,
//! in the legacy form and the aggregated form (`apidiscovery.k8s.io/v2`, asked for by kubectl
//! 1.30+ and kube-rs `run_aggregated` through the Accept header).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::kinds::ResourceKind;

/// Which aggregated discovery version the client accepts, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregated {
    V2,
    V2Beta1,
}

impl Aggregated {
    /// Reads the Accept header: the first acceptable aggregated form wins, a plain
    /// `application/json` before it means legacy.
    pub fn from_accept(accept: &str) -> Option<Aggregated> {
        for part in accept.split(',') {
            let params: Vec<&str> = part.split(';').map(str::trim).collect();
            let Some(mime) = params.first() else { continue };
            if *mime != "application/json" && *mime != "*/*" {
                continue;
            }
            let has = |p: &str| params.contains(&p);
            if has("g=apidiscovery.k8s.io") && has("as=APIGroupDiscoveryList") {
                if has("v=v2") {
                    return Some(Aggregated::V2);
                }
                if has("v=v2beta1") {
                    return Some(Aggregated::V2Beta1);
                }
                continue;
            }
            if params.len() == 1 {
                return None;
            }
        }
        None
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Aggregated::V2 => {
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            }
            Aggregated::V2Beta1 => {
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            }
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            Aggregated::V2 => "apidiscovery.k8s.io/v2",
            Aggregated::V2Beta1 => "apidiscovery.k8s.io/v2beta1",
        }
    }
}

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "emulationMajor": "1",
        "emulationMinor": "33",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "32",
        "gitVersion": "v1.33.0",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

/// Groups (other than core) with their versions, in table order.
fn groups(served: &[&'static ResourceKind]) -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for k in served.iter().filter(|k| !k.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == k.group) {
            Some((_, vs)) if !vs.contains(&k.version) => vs.push(k.version),
            Some(_) => {}
            None => out.push((k.group, vec![k.version])),
        }
    }
    out
}

fn group_json(group: &str, versions: &[&str]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    json!({
        "name": group,
        "versions": vs,
        "preferredVersion": {"groupVersion": format!("{group}/{}", versions[0]), "version": versions[0]},
    })
}

/// `/apis`.
pub fn group_list(served: &[&'static ResourceKind]) -> Value {
    let gs: Vec<Value> = groups(served)
        .iter()
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": gs})
}

/// `/apis/<group>`, or `None` if the group is not served.
pub fn group(served: &[&'static ResourceKind], name: &str) -> Option<Value> {
    let (g, vs) = groups(served).into_iter().find(|(g, _)| *g == name)?;
    let mut v = group_json(g, &vs);
    v["kind"] = "APIGroup".into();
    v["apiVersion"] = "v1".into();
    Some(v)
}

/// `/api/v1` or `/apis/<group>/<version>`, or `None` if nothing is served there.
pub fn resource_list(
    served: &[&'static ResourceKind],
    group: &str,
    version: &str,
) -> Option<Value> {
    let kinds: Vec<&&ResourceKind> = served
        .iter()
        .filter(|k| k.group == group && k.version == version)
        .collect();
    if kinds.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for k in kinds {
        let mut r = json!({
            "name": k.resource,
            "singularName": k.singular,
            "namespaced": k.namespaced,
            "kind": k.kind,
            "verbs": k.verbs(),
        });
        if !k.short_names.is_empty() {
            r["shortNames"] = json!(k.short_names);
        }
        if !k.categories.is_empty() {
            r["categories"] = json!(k.categories);
        }
        resources.push(r);
        if k.status_subresource {
            resources.push(json!({
                "name": format!("{}/status", k.resource),
                "singularName": "",
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": ["get", "patch", "update"],
            }));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": gv,
        "resources": resources,
    }))
}

/// Aggregated discovery for `/api` (`core == true`) or `/apis`.
pub fn aggregated(served: &[&'static ResourceKind], core: bool, which: Aggregated) -> Value {
    let mut by_group: BTreeMap<(usize, &str), Vec<&ResourceKind>> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    for k in served.iter().filter(|k| k.group.is_empty() == core) {
        if !order.contains(&k.group) {
            order.push(k.group);
        }
        let idx = order.iter().position(|g| *g == k.group).unwrap_or(0);
        by_group.entry((idx, k.group)).or_default().push(k);
    }
    let items: Vec<Value> = by_group
        .into_iter()
        .map(|((_, g), kinds)| {
            let mut versions: Vec<(&str, Vec<Value>)> = Vec::new();
            for k in kinds {
                let mut r = json!({
                    "resource": k.resource,
                    "responseKind": {"group": k.group, "version": k.version, "kind": k.kind},
                    "scope": if k.namespaced { "Namespaced" } else { "Cluster" },
                    "singularResource": k.singular,
                    "verbs": k.verbs(),
                });
                if !k.short_names.is_empty() {
                    r["shortNames"] = json!(k.short_names);
                }
                if !k.categories.is_empty() {
                    r["categories"] = json!(k.categories);
                }
                if k.status_subresource {
                    r["subresources"] = json!([{
                        "subresource": "status",
                        "responseKind": {"group": k.group, "version": k.version, "kind": k.kind},
                        "verbs": ["get", "patch", "update"],
                    }]);
                }
                match versions.iter_mut().find(|(v, _)| *v == k.version) {
                    Some((_, rs)) => rs.push(r),
                    None => versions.push((k.version, vec![r])),
                }
            }
            let vs: Vec<Value> = versions
                .into_iter()
                .map(|(v, rs)| json!({"version": v, "resources": rs, "freshness": "Current"}))
                .collect();
            json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": vs})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": which.api_version(),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::apiserver::kinds::served;

    #[test]
    fn accept_header_negotiation() {
        let kubectl = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(Aggregated::from_accept(kubectl), Some(Aggregated::V2));
        assert_eq!(Aggregated::from_accept("application/json"), None);
        assert_eq!(Aggregated::from_accept(""), None);
        assert_eq!(
            Aggregated::from_accept(
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
            ),
            Some(Aggregated::V2Beta1)
        );
    }

    #[test]
    fn global_serves_platform_group() {
        let s: Vec<_> = served(true).collect();
        let l = group_list(&s);
        assert!(
            l["groups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|g| g["name"] == "platform.tkestack.io"))
        );
        let r = resource_list(&s, "platform.tkestack.io", "v1").expect("served");
        assert_eq!(r["resources"][0]["shortNames"][0], "cls");
        let w: Vec<_> = served(false).collect();
        assert!(resource_list(&w, "platform.tkestack.io", "v1").is_none());
        let agg = aggregated(&s, false, Aggregated::V2);
        assert!(agg["items"].as_array().is_some_and(|i| !i.is_empty()));
    }
}
