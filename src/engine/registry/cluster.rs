//! The checks that read the cluster: pull events, pull secrets, pull rights (SubjectAccessReview),
//! the registry Service, NetworkPolicies, and the external address objects.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{Namespace, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};

use super::inputs::Inputs;
use crate::domain::registry::dockercfg::{Credentials, DockerConfig};
use crate::domain::registry::netpol::{self, Destination, Egress};
use crate::domain::registry::rules::{
    cert_verdict, fix_cross_namespace, fix_pull_secret, fix_user,
};
use crate::domain::registry::{
    CheckId, CheckResult, EXTERNAL_INGRESS, EXTERNAL_NAMESPACE, EXTERNAL_SERVICE,
    EXTERNAL_TLS_SECRET, Fix, IMAGE_GROUP, IMAGE_RESOURCE, ImageRef, REGISTRY_NAMESPACE,
    SERVICE_NAMES, classify, external,
};
use crate::engine::Failure;

fn failed(id: CheckId, f: &Failure) -> CheckResult {
    let mut r = CheckResult::fail(id, f.message.clone());
    if let Some(h) = &f.hint {
        r = r.with_fix(Fix::say(h.clone()));
    }
    r
}

/// The kubelet's recent pull failures, each with its cause.
pub fn pull_events(inputs: &Inputs) -> CheckResult {
    let Some(subject) = &inputs.subject else {
        return CheckResult::skip(CheckId::PullEvents, "no pod or deployment given");
    };
    if inputs.events.is_empty() {
        return CheckResult::pass(
            CheckId::PullEvents,
            format!("no recent pull errors for {subject}"),
        );
    }
    let causes: Vec<_> = inputs
        .events
        .iter()
        .map(|e| classify(&e.message))
        .filter(|c| *c != crate::domain::registry::PullCause::BackOff)
        .collect();
    // The generic "ErrImagePull" line says nothing; the kubelet's detailed message does.
    let main = causes
        .iter()
        .copied()
        .find(|c| *c != crate::domain::registry::PullCause::Unknown)
        .or(causes.first().copied())
        .unwrap_or(crate::domain::registry::PullCause::BackOff);
    let mut r = CheckResult::fail(
        CheckId::PullEvents,
        format!(
            "{subject} cannot pull: {} ({})",
            main.as_str(),
            main.advice()
        ),
    );
    for e in inputs.events.iter().take(10) {
        r.evidence.push(format!(
            "{} {} x{}: {}",
            e.object, e.reason, e.count, e.message
        ));
    }
    r
}

/// Whether the service account's (and the pod's) pull secrets cover the registry host; the
/// credentials found go on to the API checks.
pub async fn pull_secret(
    client: &Client,
    inputs: &Inputs,
    image: &ImageRef,
) -> (CheckResult, Option<Credentials>) {
    let ns = inputs.namespace.as_str();
    let sa_name = inputs.service_account.as_str();
    let sas: Api<ServiceAccount> = Api::namespaced(client.clone(), ns);
    let sa = match sas.get_opt(sa_name).await {
        Ok(Some(sa)) => sa,
        Ok(None) => {
            return (
                CheckResult::fail(
                    CheckId::PullSecret,
                    format!("ServiceAccount {ns}/{sa_name} does not exist"),
                )
                .with_fix(Fix::run(
                    "create it",
                    format!("kubectl create serviceaccount {sa_name} -n {ns}"),
                )),
                None,
            );
        }
        Err(e) => {
            return (
                failed(
                    CheckId::PullSecret,
                    &Failure::from_kube(&e, "get the ServiceAccount"),
                ),
                None,
            );
        }
    };
    let mut names: Vec<String> = sa
        .image_pull_secrets
        .iter()
        .flatten()
        .map(|r| r.name.clone())
        .collect();
    names.extend(inputs.pull_secrets.iter().cloned());
    names.dedup();
    let secrets: Api<Secret> = Api::namespaced(client.clone(), ns);
    let host = image.host.as_str();
    let mut evidence = Vec::new();
    let mut missing = Vec::new();
    for name in &names {
        match secrets.get_opt(name).await {
            Ok(Some(s)) => {
                let data = s.data.unwrap_or_default();
                let raw = data
                    .get(".dockerconfigjson")
                    .or_else(|| data.get(".dockercfg"));
                match raw.map(|b| DockerConfig::parse(&b.0)) {
                    Some(Ok(cfg)) => {
                        if let Some((_, creds)) = cfg.find(host) {
                            let r = CheckResult::pass(
                                CheckId::PullSecret,
                                format!("secret {name} covers {host}"),
                            )
                            .with_evidence(format!(
                                "{ns}:{sa_name} pull secrets: {}",
                                names.join(", ")
                            ));
                            return (r, creds.clone());
                        }
                        evidence.push(format!(
                            "secret {name} covers {}, not {host}",
                            cfg.hosts().join(", ")
                        ));
                    }
                    Some(Err(e)) => {
                        evidence.push(format!("secret {name} is not a docker config: {}", e.0))
                    }
                    None => evidence.push(format!("secret {name} has no .dockerconfigjson")),
                }
            }
            Ok(None) => missing.push(name.clone()),
            Err(e) => evidence.push(format!("secret {name}: {}", Failure::from_kube(&e, "get"))),
        }
    }
    let summary = if names.is_empty() {
        format!("{ns}:{sa_name} has no imagePullSecrets")
    } else if !missing.is_empty() {
        format!("pull secret(s) {} do not exist in {ns}", missing.join(", "))
    } else {
        format!("no pull secret of {ns}:{sa_name} covers {host}")
    };
    let (secret, from) = donor(client, image, ns)
        .await
        .unwrap_or_else(|| ("<registry-pull-secret>".to_string(), None));
    let mut r = CheckResult::fail(CheckId::PullSecret, summary).with_fix(fix_pull_secret(
        ns,
        sa_name,
        &secret,
        from.as_deref(),
    ));
    r.evidence = evidence;
    (r, None)
}

/// A secret in the image's namespace that covers the registry, to copy.
async fn donor(client: &Client, image: &ImageRef, ns: &str) -> Option<(String, Option<String>)> {
    let src = image.namespace().filter(|n| *n != ns)?;
    let sa = Api::<ServiceAccount>::namespaced(client.clone(), src)
        .get_opt("default")
        .await
        .ok()??;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), src);
    for r in sa.image_pull_secrets.iter().flatten() {
        let Ok(Some(s)) = secrets.get_opt(&r.name).await else {
            continue;
        };
        let data = s.data.unwrap_or_default();
        if let Some(b) = data.get(".dockerconfigjson")
            && DockerConfig::parse(&b.0).is_ok_and(|c| c.find(&image.host).is_some())
        {
            return Some((r.name.clone(), Some(src.to_string())));
        }
    }
    None
}

/// What a SubjectAccessReview says about pulling from `image_ns`.
pub async fn may_pull(
    client: &Client,
    user: &str,
    groups: Vec<String>,
    image_ns: &str,
) -> Result<(bool, String), Failure> {
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_string()),
            groups: Some(groups),
            resource_attributes: Some(ResourceAttributes {
                verb: Some("get".into()),
                group: Some(IMAGE_GROUP.into()),
                resource: Some(IMAGE_RESOURCE.into()),
                namespace: Some(image_ns.to_string()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SubjectAccessReview> = Api::all(client.clone());
    let out = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| Failure::from_kube(&e, "create a SubjectAccessReview"))?;
    let st = out.status.unwrap_or_default();
    Ok((
        st.allowed && !st.denied.unwrap_or(false),
        st.reason.unwrap_or_default(),
    ))
}

/// The service account's pull rights in the image's namespace.
pub async fn pull_rights(client: &Client, inputs: &Inputs, image: &ImageRef) -> CheckResult {
    let ns = inputs.namespace.as_str();
    let sa = inputs.service_account.as_str();
    let image_ns = image.namespace().unwrap_or(ns);
    let user = format!("system:serviceaccount:{ns}:{sa}");
    let groups = vec![
        "system:serviceaccounts".to_string(),
        format!("system:serviceaccounts:{ns}"),
        "system:authenticated".to_string(),
    ];
    let can_i = format!(
        "kubectl auth can-i get {IMAGE_RESOURCE}.{IMAGE_GROUP} --namespace {image_ns} --as={user}"
    );
    match may_pull(client, &user, groups, image_ns).await {
        Ok((true, why)) => CheckResult::pass(
            CheckId::PullRights,
            format!("{user} may pull from {image_ns}"),
        )
        .with_evidence(format!("{can_i}: yes {why}")),
        Ok((false, why)) => {
            let what = if image_ns == ns {
                "in its own namespace"
            } else {
                "across namespaces (no cross-namespace binding)"
            };
            CheckResult::fail(
                CheckId::PullRights,
                format!("{user} may not pull from {image_ns} {what}"),
            )
            .with_evidence(format!("{can_i}: no {why}"))
            .with_fix(fix_cross_namespace(ns, sa, image_ns))
        }
        Err(f) => failed(CheckId::PullRights, &f),
    }
}

/// A named user's pull rights (`--as`).
pub async fn user_rights(client: &Client, inputs: &Inputs, image: &ImageRef) -> CheckResult {
    let Some(user) = &inputs.user else {
        return CheckResult::skip(CheckId::UserRights, "no user given (--as)");
    };
    let image_ns = image.namespace().unwrap_or(&inputs.namespace);
    let can_i = format!(
        "kubectl auth can-i get {IMAGE_RESOURCE}.{IMAGE_GROUP} --namespace {image_ns} --as={user}"
    );
    match may_pull(client, user, vec!["system:authenticated".into()], image_ns).await {
        Ok((true, why)) => CheckResult::pass(
            CheckId::UserRights,
            format!("{user} may pull from {image_ns}"),
        )
        .with_evidence(format!("{can_i}: yes {why}")),
        Ok((false, why)) => CheckResult::fail(
            CheckId::UserRights,
            format!("{user} may not pull from {image_ns}"),
        )
        .with_evidence(format!("{can_i}: no {why}"))
        .with_fix(fix_user(user, image_ns)),
        Err(f) => failed(CheckId::UserRights, &f),
    }
}

/// The registry Service under either name.
pub fn service(inputs: &Inputs) -> CheckResult {
    match &inputs.service {
        Some(s) => {
            let ip = s.cluster_ip.map_or("none".to_string(), |ip| ip.to_string());
            let r = CheckResult::pass(CheckId::Service, format!("Service {REGISTRY_NAMESPACE}/{} ClusterIP {ip}", s.name))
                .with_evidence(format!("ports {:?}", s.ports));
            if s.cluster_ip.is_none() {
                return CheckResult::fail(CheckId::Service, format!("Service {REGISTRY_NAMESPACE}/{} has no ClusterIP", s.name));
            }
            r
        }
        None => CheckResult::fail(
            CheckId::Service,
            format!("neither {} nor {} exists in {REGISTRY_NAMESPACE}", SERVICE_NAMES[0], SERVICE_NAMES[1]),
        )
        .with_fix(Fix::run(
            "check the registry plugin is installed and its Service is there",
            format!("kubectl get svc -n {REGISTRY_NAMESPACE} | grep -E 'image-registry|internal-docker-registry'"),
        )),
    }
}

/// NetworkPolicies of the namespace that keep its pods from the registry.
pub async fn network_policy(client: &Client, inputs: &Inputs) -> CheckResult {
    let ns = inputs.namespace.as_str();
    let Some(svc) = &inputs.service else {
        return CheckResult::skip(CheckId::NetworkPolicy, "no registry Service to reach");
    };
    let list = match Api::<NetworkPolicy>::namespaced(client.clone(), ns)
        .list(&ListParams::default().limit(500))
        .await
    {
        Ok(l) => l.items,
        Err(e) => {
            return failed(
                CheckId::NetworkPolicy,
                &Failure::from_kube(&e, "list NetworkPolicies"),
            );
        }
    };
    let ns_labels = Api::<Namespace>::all(client.clone())
        .get_opt(REGISTRY_NAMESPACE)
        .await
        .ok()
        .flatten()
        .and_then(|n| n.metadata.labels)
        .unwrap_or_else(|| {
            [(
                "kubernetes.io/metadata.name".to_string(),
                REGISTRY_NAMESPACE.to_string(),
            )]
            .into()
        });
    let dst = Destination {
        namespace_labels: ns_labels,
        pod_labels: svc.selector.clone(),
        ips: svc.cluster_ip.into_iter().collect(),
        ports: svc.ports.clone(),
    };
    match netpol::evaluate(&list, &inputs.pod_labels, &dst) {
        Egress::Unrestricted => CheckResult::pass(CheckId::NetworkPolicy, format!("no NetworkPolicy in {ns} restricts egress ({} policies)", list.len())),
        Egress::AllowedBy(p) => CheckResult::pass(CheckId::NetworkPolicy, format!("egress to the registry allowed by {}", p.join(", "))),
        Egress::BlockedBy(p) => CheckResult::fail(
            CheckId::NetworkPolicy,
            format!("NetworkPolicy {} in {ns} blocks egress to the registry", p.join(", ")),
        )
        .with_fix(Fix::say(format!(
            "add an egress rule to {} allowing namespace {REGISTRY_NAMESPACE} on ports {:?}, or remove the policy: kubectl -n {ns} edit networkpolicy {}",
            p.join(", "),
            svc.ports,
            p[0]
        ))),
    }
}

/// The `registry-address.tls` certificate's lifetime.
pub async fn external_cert(client: &Client, now: i64) -> CheckResult {
    let api: Api<Secret> = Api::namespaced(client.clone(), EXTERNAL_NAMESPACE);
    let s = match api.get_opt(EXTERNAL_TLS_SECRET).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return CheckResult::skip(
                CheckId::ExternalCert,
                format!(
                    "no {EXTERNAL_NAMESPACE}/{EXTERNAL_TLS_SECRET}: no external address configured"
                ),
            );
        }
        Err(e) => {
            return failed(
                CheckId::ExternalCert,
                &Failure::from_kube(&e, "get the TLS secret"),
            );
        }
    };
    let pem = s
        .data
        .unwrap_or_default()
        .get("tls.crt")
        .map(|b| b.0.clone())
        .unwrap_or_default();
    let chain = super::tls::pem_facts(&pem, now);
    let Some(leaf) = chain.first() else {
        return CheckResult::fail(
            CheckId::ExternalCert,
            format!("{EXTERNAL_TLS_SECRET} holds no readable certificate"),
        );
    };
    let v = cert_verdict(leaf.days_left);
    let mut r = CheckResult::new(
        CheckId::ExternalCert,
        v,
        format!(
            "{EXTERNAL_TLS_SECRET} for [{}] expires {} ({} days)",
            leaf.names.join(", "),
            leaf.not_after,
            leaf.days_left
        ),
    );
    if v != crate::domain::registry::Verdict::Pass {
        r = r.with_fix(Fix::run(
            "replace the certificate before it expires",
            format!("kubectl create secret tls {EXTERNAL_TLS_SECRET} --cert=<new.crt> --key=<new.key> -n {EXTERNAL_NAMESPACE} --dry-run=client -o yaml | kubectl apply -f -"),
        ));
    }
    r.evidence
        .push(format!("subject {}; issuer {}", leaf.subject, leaf.issuer));
    r
}

/// The `registry-address` ingress and the `registry` Service.
pub async fn external_objects(client: &Client) -> (CheckResult, CheckResult) {
    let ing = match Api::<Ingress>::namespaced(client.clone(), EXTERNAL_NAMESPACE)
        .get_opt(EXTERNAL_INGRESS)
        .await
    {
        Ok(None) => CheckResult::skip(
            CheckId::ExternalIngress,
            format!("no {EXTERNAL_NAMESPACE}/{EXTERNAL_INGRESS}: no external address configured"),
        ),
        Err(e) => failed(
            CheckId::ExternalIngress,
            &Failure::from_kube(&e, "get the ingress"),
        ),
        Ok(Some(i)) => {
            let (problems, hosts) = external::ingress_problems(&i);
            if problems.is_empty() {
                CheckResult::pass(
                    CheckId::ExternalIngress,
                    format!(
                        "{EXTERNAL_INGRESS} serves [{}] with every documented path",
                        hosts.join(", ")
                    ),
                )
            } else {
                let mut r = CheckResult::fail(
                    CheckId::ExternalIngress,
                    format!("{EXTERNAL_INGRESS}: {}", problems[0]),
                )
                .with_fix(Fix::run(
                    "compare with the platform guide's ingress",
                    format!("kubectl -n {EXTERNAL_NAMESPACE} edit ingress {EXTERNAL_INGRESS}"),
                ));
                r.evidence = problems;
                r
            }
        }
    };
    let svc = match Api::<Service>::namespaced(client.clone(), EXTERNAL_NAMESPACE).get_opt(EXTERNAL_SERVICE).await {
        Ok(None) if ing.verdict == crate::domain::registry::Verdict::Skip => {
            CheckResult::skip(CheckId::ExternalService, "no external address configured")
        }
        Ok(None) => CheckResult::fail(CheckId::ExternalService, format!("Service {EXTERNAL_NAMESPACE}/{EXTERNAL_SERVICE} is missing; the ingress has no backend"))
            .with_fix(Fix::say("create it as the platform guide shows: port 443, targetPort 60080, selector of the registry pods")),
        Err(e) => failed(CheckId::ExternalService, &Failure::from_kube(&e, "get the Service")),
        Ok(Some(s)) => match external::service_problem(&s) {
            None => CheckResult::pass(CheckId::ExternalService, format!("{EXTERNAL_NAMESPACE}/{EXTERNAL_SERVICE} maps 443 -> 60080")),
            Some(p) => CheckResult::fail(CheckId::ExternalService, format!("{EXTERNAL_NAMESPACE}/{EXTERNAL_SERVICE}: {p}"))
                .with_fix(Fix::run("fix the port mapping", format!("kubectl -n {EXTERNAL_NAMESPACE} edit svc {EXTERNAL_SERVICE}"))),
        },
    };
    (ing, svc)
}
