//! The external registry address as the platform guide sets it up: the `registry-address`
//! ingress (its paths, TLS host and secret) and the `registry` Service (443 -> 60080).

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::{EXTERNAL_SERVICE, EXTERNAL_SERVICE_PORT, EXTERNAL_TARGET_PORT, EXTERNAL_TLS_SECRET};

/// The paths the guide routes to the registry; a pull needs every one but `_catalog`.
pub const INGRESS_PATHS: [&str; 7] = [
    "/v2/",
    "/v2/_catalog",
    "/v2/./tags/list",
    "/v2/./manifests/[A-Za-z0-9_+.-:]+",
    "/v2/./blobs/[A-Za-z0-9-:]+",
    "/v2/./blobs/uploads/[A-Za-z0-9-:]+",
    "/auth/token",
];

/// What is wrong with the ingress, and the hosts its TLS section serves.
pub fn ingress_problems(ing: &Ingress) -> (Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let Some(spec) = &ing.spec else {
        return (vec!["the ingress has no spec".to_string()], Vec::new());
    };
    let mut paths = Vec::new();
    for rule in spec.rules.iter().flatten() {
        for p in rule.http.iter().flat_map(|h| &h.paths) {
            let backend = p.backend.service.as_ref();
            let to_registry = backend.is_some_and(|s| {
                s.name == EXTERNAL_SERVICE
                    && s.port.as_ref().and_then(|p| p.number) == Some(EXTERNAL_SERVICE_PORT)
            });
            let path = p.path.clone().unwrap_or_default();
            if !to_registry {
                problems.push(format!("path {path} does not go to Service {EXTERNAL_SERVICE} port {EXTERNAL_SERVICE_PORT}"));
            }
            paths.push(path);
        }
    }
    for want in INGRESS_PATHS {
        if !paths.iter().any(|p| p == want) {
            problems.push(format!("path {want} is missing"));
        }
    }
    let rule_hosts: Vec<String> = spec
        .rules
        .iter()
        .flatten()
        .filter_map(|r| r.host.clone())
        .collect();
    let mut tls_hosts = Vec::new();
    let tls_ok = spec.tls.iter().flatten().any(|t| {
        tls_hosts.extend(t.hosts.iter().flatten().cloned());
        t.secret_name.as_deref() == Some(EXTERNAL_TLS_SECRET)
    });
    if !tls_ok {
        problems.push(format!(
            "no TLS section uses the secret {EXTERNAL_TLS_SECRET}"
        ));
    }
    for h in &rule_hosts {
        if !tls_hosts.contains(h) {
            problems.push(format!("host {h} is not in the TLS hosts"));
        }
    }
    (problems, tls_hosts)
}

/// Whether the `registry` Service maps 443 to the registry's node port 60080.
pub fn service_problem(svc: &Service) -> Option<String> {
    let ports = svc.spec.as_ref().and_then(|s| s.ports.as_ref());
    let ok = ports.into_iter().flatten().any(|p| {
        p.port == EXTERNAL_SERVICE_PORT
            && p.target_port == Some(IntOrString::Int(EXTERNAL_TARGET_PORT))
    });
    (!ok).then(|| format!("no port {EXTERNAL_SERVICE_PORT} with targetPort {EXTERNAL_TARGET_PORT}"))
}

/// The guide's ingress, for the sandbox and tests.
pub fn guide_ingress_yaml(host: &str) -> String {
    let paths: String = INGRESS_PATHS
        .iter()
        .map(|p| format!("      - {{path: \"{p}\", pathType: ImplementationSpecific, backend: {{service: {{name: registry, port: {{number: 443}}}}}}}}\n"))
        .collect();
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: registry-address\n  namespace: kube-system\n  \
         annotations: {{nginx.ingress.kubernetes.io/backend-protocol: HTTPS}}\n  labels: {{service_name: registry}}\nspec:\n  \
         rules:\n  - host: {host}\n    http:\n      paths:\n{paths}  tls:\n  - secretName: registry-address.tls\n    hosts: [{host}]\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_ingress_has_no_problems_and_a_broken_one_is_named() {
        let ing: Ingress =
            serde_saphyr::from_str(&guide_ingress_yaml("registry.example.com")).expect("yaml");
        let (problems, hosts) = ingress_problems(&ing);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(hosts, vec!["registry.example.com".to_string()]);
        let broken = guide_ingress_yaml("registry.example.com")
            .replace("/auth/token", "/auth/other")
            .replace("secretName: registry-address.tls", "secretName: other");
        let ing: Ingress = serde_saphyr::from_str(&broken).expect("yaml");
        let (problems, _) = ingress_problems(&ing);
        assert!(
            problems.iter().any(|p| p == "path /auth/token is missing"),
            "{problems:?}"
        );
        assert!(problems.iter().any(|p| p.contains("registry-address.tls")));
    }

    #[test]
    fn the_registry_service_maps_443_to_60080() {
        let ok: Service = serde_saphyr::from_str(
            "metadata: {name: registry}\nspec: {ports: [{port: 443, targetPort: 60080}]}",
        )
        .expect("yaml");
        assert_eq!(service_problem(&ok), None);
        let bad: Service = serde_saphyr::from_str(
            "metadata: {name: registry}\nspec: {ports: [{port: 443, targetPort: 5000}]}",
        )
        .expect("yaml");
        assert!(service_problem(&bad).is_some());
    }
}
