//! What the checks run on, from what the user gave: a namespace and an image, or a pod or a
//! deployment whose spec and Events give the image, the pull secrets and the service account.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod, PodSpec, Service};
use kube::api::ListParams;
use kube::{Api, Client};
use serde::Serialize;

use crate::domain::registry::{ImageRef, REGISTRY_NAMESPACE, SERVICE_NAMES, service_host};
use crate::engine::Failure;
use crate::engine::failure::FailureKind;

/// What the user asked about.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    pub namespace: String,
    /// A full reference, or `app:tag` in the namespace on the built-in registry.
    pub image: Option<String>,
    pub pod: Option<String>,
    pub deployment: Option<String>,
    /// A user whose pull rights are checked too (`--as`).
    pub user: Option<String>,
}

/// A recent pull failure the kubelet reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PullEvent {
    pub object: String,
    pub reason: String,
    pub message: String,
    pub count: i32,
}

/// The registry Service as found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RegistryService {
    pub name: String,
    pub cluster_ip: Option<IpAddr>,
    pub ports: Vec<i32>,
    pub selector: BTreeMap<String, String>,
}

/// Everything the checks need to know before they start.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Inputs {
    pub namespace: String,
    pub service_account: String,
    pub images: Vec<ImageRef>,
    pub pull_secrets: Vec<String>,
    pub pod_labels: BTreeMap<String, String>,
    pub subject: Option<String>,
    pub user: Option<String>,
    pub events: Vec<PullEvent>,
    pub service: Option<RegistryService>,
}

fn failure(e: &kube::Error, what: &str) -> Failure {
    Failure::from_kube(e, what)
}

/// Finds the registry Service under either name, newest first.
pub async fn registry_service(client: &Client) -> Result<Option<RegistryService>, Failure> {
    let api: Api<Service> = Api::namespaced(client.clone(), REGISTRY_NAMESPACE);
    for name in SERVICE_NAMES {
        let Some(svc) = api
            .get_opt(name)
            .await
            .map_err(|e| failure(&e, &format!("get Service {REGISTRY_NAMESPACE}/{name}")))?
        else {
            continue;
        };
        let spec = svc.spec.unwrap_or_default();
        let mut ports = Vec::new();
        for p in spec.ports.iter().flatten() {
            ports.push(p.port);
            if let Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(t)) =
                p.target_port
            {
                ports.push(t);
            }
        }
        ports.sort_unstable();
        ports.dedup();
        return Ok(Some(RegistryService {
            name: name.to_string(),
            cluster_ip: spec.cluster_ip.as_deref().and_then(|s| s.parse().ok()),
            ports,
            selector: spec.selector.unwrap_or_default(),
        }));
    }
    Ok(None)
}

/// How long reading the inputs (Service, pod or deployment, Events) may take in all.
pub const RESOLVE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Turns a request into inputs, reading the pod or deployment it names, within
/// [`RESOLVE_TIMEOUT`].
pub async fn resolve(client: &Client, req: &Request) -> Result<Inputs, Failure> {
    tokio::time::timeout(RESOLVE_TIMEOUT, resolve_now(client, req))
        .await
        .unwrap_or_else(|_| {
            Err(Failure::new(
                FailureKind::Timeout,
                format!("reading the inputs took more than {} s", RESOLVE_TIMEOUT.as_secs()),
                Some("the cluster's API server is slow or unreachable; retry, or check the connection"),
            ))
        })
}

async fn resolve_now(client: &Client, req: &Request) -> Result<Inputs, Failure> {
    let ns = req.namespace.as_str();
    let service = registry_service(client).await?;
    let default_host = service_host(
        service
            .as_ref()
            .map_or(SERVICE_NAMES[0], |s| s.name.as_str()),
    );
    let mut inputs = Inputs {
        namespace: ns.to_string(),
        service_account: "default".to_string(),
        user: req.user.clone(),
        service,
        ..Default::default()
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let mut spec: Option<(PodSpec, BTreeMap<String, String>)> = None;
    let mut event_objects = Vec::new();
    if let Some(name) = &req.pod {
        let pod = pods
            .get(name)
            .await
            .map_err(|e| failure(&e, &format!("get Pod {ns}/{name}")))?;
        spec = pod
            .spec
            .map(|s| (s, pod.metadata.labels.unwrap_or_default()));
        event_objects.push(name.clone());
        inputs.subject = Some(format!("pod {ns}/{name}"));
    } else if let Some(name) = &req.deployment {
        let deps: Api<Deployment> = Api::namespaced(client.clone(), ns);
        let d = deps
            .get(name)
            .await
            .map_err(|e| failure(&e, &format!("get Deployment {ns}/{name}")))?;
        let ds = d.spec;
        let tpl = ds.template;
        spec = tpl
            .spec
            .map(|s| (s, tpl.metadata.and_then(|m| m.labels).unwrap_or_default()));
        let selector = ds
            .selector
            .match_labels
            .unwrap_or_default()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",");
        if !selector.is_empty()
            && let Ok(list) = pods
                .list(&ListParams::default().labels(&selector).limit(50))
                .await
        {
            event_objects.extend(list.items.into_iter().filter_map(|p| p.metadata.name));
        }
        inputs.subject = Some(format!("deployment {ns}/{name}"));
    }
    if let Some((s, labels)) = spec {
        if let Some(sa) = s.service_account_name.clone().filter(|s| !s.is_empty()) {
            inputs.service_account = sa;
        }
        inputs.pull_secrets = s
            .image_pull_secrets
            .iter()
            .flatten()
            .map(|r| r.name.clone())
            .collect();
        inputs.images = s
            .init_containers
            .iter()
            .flatten()
            .chain(&s.containers)
            .filter_map(|c| c.image.as_deref().and_then(ImageRef::parse))
            .collect();
        inputs.pod_labels = labels;
    }
    if let Some(img) = &req.image {
        let r = if img.contains('/') {
            ImageRef::parse(img)
        } else {
            let (app, tag) = img.split_once(':').unwrap_or((img, "latest"));
            ImageRef::parse(&format!("{default_host}/{ns}/{app}:{tag}"))
        };
        let r = r.ok_or_else(|| {
            Failure::new(
                FailureKind::Invalid,
                format!("{img} is not an image reference"),
                Some("give <registry>/<namespace>/<app>:<tag>, or <app>:<tag> for the built-in registry"),
            )
        })?;
        inputs.images = vec![r];
    }
    if inputs.images.is_empty() {
        return Err(Failure::new(
            FailureKind::Invalid,
            "no image to check",
            Some("pass --image <app>:<tag> (or a full reference), --pod or --deployment"),
        ));
    }
    inputs.events = pull_events(client, ns, &event_objects).await;
    Ok(inputs)
}

/// Recent `ErrImagePull` / `ImagePullBackOff` events of the named pods; a failed list is no
/// events (the check says it found none).
async fn pull_events(client: &Client, ns: &str, objects: &[String]) -> Vec<PullEvent> {
    let api: Api<Event> = Api::namespaced(client.clone(), ns);
    let mut out = Vec::new();
    for name in objects.iter().take(20) {
        let lp = ListParams::default()
            .fields(&format!("involvedObject.name={name}"))
            .limit(100);
        let Ok(list) = api.list(&lp).await else {
            continue;
        };
        for e in list.items {
            let reason = e.reason.unwrap_or_default();
            let message = e.message.unwrap_or_default();
            let pull = matches!(
                reason.as_str(),
                "ErrImagePull" | "ImagePullBackOff" | "Failed" | "BackOff"
            ) && (message.contains("pull")
                || message.contains("image")
                || message.contains("Image"));
            if pull {
                out.push(PullEvent {
                    object: name.clone(),
                    reason,
                    message,
                    count: e.count.unwrap_or(1),
                });
            }
        }
    }
    out
}
