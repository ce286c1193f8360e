//! One-shot kube operations, callable directly by the CLI and spawned by the engine.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::client::{ClientPool, FailureKind, KubeFailure, initial_context};
use super::watch::Watched;
use super::{KubeSource, ObjectKind};
use crate::domain::cluster::{Cluster, Machine};

/// Field manager recorded on objects this program creates.
pub const FIELD_MANAGER: &str = "acp-cockpit";

/// A connected platform: its context name and `global` client.
#[derive(Clone)]
pub struct Connected {
    pub context: String,
    pub client: Client,
    pub pool: ClientPool,
}

/// Connects to a source's platform (its `--context`, else the current context).
pub async fn connect(source: &KubeSource) -> Result<Connected, KubeFailure> {
    let pool = ClientPool::new(source)?;
    let context = initial_context(source, pool.kubeconfig()).ok_or_else(|| {
        KubeFailure::new(
            FailureKind::Config,
            "the kubeconfig has no current context",
            Some("pass --context <name> (see `kubectl config get-contexts`)"),
        )
    })?;
    let client = pool.platform(&context).await?;
    Ok(Connected {
        context,
        client,
        pool,
    })
}

async fn list_all<K: Watched>(client: &Client) -> Result<Vec<K>, KubeFailure> {
    let api: Api<K> = Api::all(client.clone());
    let mut out = Vec::new();
    let mut lp = ListParams::default().limit(500);
    loop {
        let page = api
            .list(&lp)
            .await
            .map_err(|e| KubeFailure::from_kube(&e, &format!("list {}", K::RESOURCE)))?;
        let cont = page.metadata.continue_.clone().filter(|c| !c.is_empty());
        for mut o in page.items {
            o.sanitize();
            out.push(o);
        }
        match cont {
            Some(c) => lp = lp.continue_token(&c),
            None => return Ok(out),
        }
    }
}

/// Every cluster of the platform, managedFields stripped and machine secrets masked.
pub async fn list_clusters(client: &Client) -> Result<Vec<Cluster>, KubeFailure> {
    list_all::<Cluster>(client).await
}

/// Every machine; a platform without the resource gives an empty list.
pub async fn list_machines(client: &Client) -> Result<Vec<Machine>, KubeFailure> {
    match list_all::<Machine>(client).await {
        Err(f) if f.kind == FailureKind::NotFound => Ok(Vec::new()),
        r => r,
    }
}

/// One cluster.
pub async fn get_cluster(client: &Client, name: &str) -> Result<Cluster, KubeFailure> {
    get::<Cluster>(client, name).await
}

async fn get<K: Watched>(client: &Client, name: &str) -> Result<K, KubeFailure> {
    let api: Api<K> = Api::all(client.clone());
    let mut o = api
        .get(name)
        .await
        .map_err(|e| KubeFailure::from_kube(&e, &format!("get {} {name}", K::RESOURCE)))?;
    o.sanitize();
    Ok(o)
}

fn to_yaml<T: Serialize>(v: &T) -> Result<String, KubeFailure> {
    serde_saphyr::to_string(v).map_err(|e| {
        KubeFailure::new(
            FailureKind::Other,
            format!("cannot render the object as YAML: {e}"),
            None,
        )
    })
}

/// An object as YAML, fetched on demand: managedFields stripped, secrets masked.
pub async fn fetch_yaml(
    client: &Client,
    kind: ObjectKind,
    name: &str,
) -> Result<String, KubeFailure> {
    match kind {
        ObjectKind::Cluster => to_yaml(&get::<Cluster>(client, name).await?),
        ObjectKind::Machine => to_yaml(&get::<Machine>(client, name).await?),
    }
}

/// A permission to check before an action that writes: what a SelfSubjectAccessReview asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

/// The answer of a SelfSubjectAccessReview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessDecision {
    pub allowed: bool,
    /// Why, as the authorizer put it (may be empty).
    pub reason: String,
}

/// Asks the platform whether the current user may do `access`.
pub async fn check_access(client: &Client, access: &Access) -> Result<AccessDecision, KubeFailure> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(access.verb.clone()),
                group: Some(access.group.clone()),
                resource: Some(access.resource.clone()),
                namespace: access.namespace.clone(),
                name: access.name.clone(),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let out = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| KubeFailure::from_kube(&e, "review access"))?;
    let status = out.status.unwrap_or_default();
    Ok(AccessDecision {
        allowed: status.allowed && !status.denied.unwrap_or(false),
        reason: status
            .reason
            .or(status.evaluation_error)
            .unwrap_or_default(),
    })
}

async fn post<K>(api: &Api<K>, obj: &K, dry_run: bool, what: &str) -> Result<K, KubeFailure>
where
    K: kube::Resource + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let pp = PostParams {
        dry_run,
        field_manager: Some(FIELD_MANAGER.to_string()),
    };
    api.create(&pp, obj)
        .await
        .map_err(|e| KubeFailure::from_kube(&e, what))
}

/// Creates a cluster after a server-side dry run (`dryRun=All`) accepted it; with `dry_run`
/// only the dry run is done. Returns the object as the server answered.
pub async fn create_cluster(
    client: &Client,
    cluster: &Cluster,
    dry_run: bool,
) -> Result<Cluster, KubeFailure> {
    let name = cluster.metadata.name.clone().unwrap_or_default();
    let api: Api<Cluster> = Api::all(client.clone());
    let checked = post(
        &api,
        cluster,
        true,
        &format!("dry-run create of cluster {name}"),
    )
    .await?;
    if dry_run {
        return Ok(checked);
    }
    post(&api, cluster, false, &format!("create cluster {name}")).await
}
