//! The driver: tokio tasks that watch the in-process store and apply each decision.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Next, SimClock, Target, health_check, plan_machine, plan_next, run_machine_step};
use crate::sandbox::apiserver::store::now_rfc3339;
use crate::sandbox::apiserver::{ApiError, Store, names};
use crate::sandbox::scenario::Scenario;

/// What the controllers need from the API server: the stores and serving workload clusters.
pub trait ClusterHost: Send + Sync + 'static {
    fn store(&self, cluster: &str) -> Option<Store>;
    /// Starts serving `/kubernetes/<name>`; returns its (possibly existing) store.
    fn add_cluster(&self, name: &str) -> Store;
    fn remove_cluster(&self, name: &str);
}

impl ClusterHost for crate::sandbox::apiserver::ApiServerHandle {
    fn store(&self, cluster: &str) -> Option<Store> {
        crate::sandbox::apiserver::ApiServerHandle::store(self, cluster)
    }
    fn add_cluster(&self, name: &str) -> Store {
        crate::sandbox::apiserver::ApiServerHandle::add_cluster(self, name)
    }
    fn remove_cluster(&self, name: &str) {
        crate::sandbox::apiserver::ApiServerHandle::remove_cluster(self, name)
    }
}

/// The simulation's tasks, so that shutdown can wait for every one of them to end.
#[derive(Clone, Default)]
pub struct Tasks(Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>);

impl Tasks {
    pub fn spawn(&self, f: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(f);
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|h| !h.is_finished());
        all.push(handle);
    }

    /// Waits until every task (including ones spawned meanwhile) has ended.
    pub async fn wait(&self) {
        loop {
            let batch = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
            if batch.is_empty() {
                return;
            }
            for h in batch {
                let _ = h.await;
            }
        }
    }
}

/// Shared state of the controllers.
pub struct Controllers {
    pub host: Arc<dyn ClusterHost>,
    pub global: Store,
    pub seed: u64,
    pub clock: SimClock,
    pub scenario: Scenario,
    /// CA of the API server, written into ClusterCredentials.
    pub ca_pem: String,
    pub stop: CancellationToken,
    pub tasks: Tasks,
    /// The etcd simulation of each served cluster, to stop it when the cluster goes.
    pub(super) etcd: Mutex<HashMap<String, CancellationToken>>,
}

/// Everything [`Controllers::new`] needs.
pub struct ControllerSetup {
    pub host: Arc<dyn ClusterHost>,
    pub global: Store,
    pub seed: u64,
    pub clock: SimClock,
    pub scenario: Scenario,
    pub ca_pem: String,
    pub stop: CancellationToken,
    pub tasks: Tasks,
}

impl Controllers {
    pub fn new(setup: ControllerSetup) -> Arc<Self> {
        let ControllerSetup {
            host,
            global,
            seed,
            clock,
            scenario,
            ca_pem,
            stop,
            tasks,
        } = setup;
        Arc::new(Controllers {
            host,
            global,
            seed,
            clock,
            scenario,
            ca_pem,
            stop,
            tasks,
            etcd: Mutex::new(HashMap::new()),
        })
    }

    /// Starts the cluster and machine controllers.
    pub fn start(self: &Arc<Self>) {
        let me = self.clone();
        self.tasks.spawn(async move { me.watch_global().await });
    }

    /// Wakes one task per Cluster and per Machine on every change to it; a change to a
    /// Cluster also wakes the Machines, which wait for their cluster to run.
    pub(super) async fn watch_global(self: Arc<Self>) {
        let mut wakers: HashMap<(Target, String), watch::Sender<u64>> = HashMap::new();
        'resync: loop {
            // Subscribe before listing so that nothing written in between is missed.
            let mut sub = self.global.subscribe();
            for target in [Target::Cluster, Target::Machine] {
                match self.global.list(target.resource(), None) {
                    Ok(all) => {
                        for o in all {
                            let name = o["metadata"]["name"].as_str().unwrap_or_default();
                            self.wake(&mut wakers, target, name);
                        }
                    }
                    Err(e) => tracing::warn!(
                        "sandbox controllers cannot list {}: {}",
                        target.resource(),
                        e.message
                    ),
                }
            }
            loop {
                tokio::select! {
                    _ = self.stop.cancelled() => return,
                    ev = sub.recv() => match ev {
                        Ok(ev) => match ev.kind().resource {
                            "clusters" => {
                                self.wake(&mut wakers, Target::Cluster, ev.name());
                                let machines: Vec<String> = wakers
                                    .keys()
                                    .filter(|(t, _)| *t == Target::Machine)
                                    .map(|(_, n)| n.clone())
                                    .collect();
                                for m in machines {
                                    self.wake(&mut wakers, Target::Machine, &m);
                                }
                            }
                            "machines" => self.wake(&mut wakers, Target::Machine, ev.name()),
                            _ => {}
                        },
                        Err(_) => continue 'resync,
                    }
                }
            }
        }
    }

    pub(super) fn wake(
        self: &Arc<Self>,
        wakers: &mut HashMap<(Target, String), watch::Sender<u64>>,
        target: Target,
        name: &str,
    ) {
        if name.is_empty() {
            return;
        }
        let key = (target, name.to_string());
        if let Some(tx) = wakers.get(&key)
            && !tx.is_closed()
        {
            tx.send_modify(|n| *n += 1);
            return;
        }
        let (tx, rx) = watch::channel(0u64);
        wakers.insert(key, tx);
        let me = self.clone();
        let name = name.to_string();
        self.tasks
            .spawn(async move { me.object_task(target, name, rx).await });
    }

    pub(super) fn plan(&self, target: Target, obj: &Value) -> Next {
        match target {
            Target::Cluster => plan_next(obj, self.seed, self.clock),
            Target::Machine => {
                let cluster = obj["spec"]["clusterName"]
                    .as_str()
                    .and_then(|c| self.global.get(names::CLUSTERS, None, c).ok());
                plan_machine(obj, cluster.as_ref(), self.seed, self.clock)
            }
        }
    }

    /// Drives one Cluster or Machine until it is gone.
    pub(super) async fn object_task(
        self: Arc<Self>,
        target: Target,
        name: String,
        mut wake: watch::Receiver<u64>,
    ) {
        let resource = target.resource();
        let mut timer: Option<(String, tokio::time::Instant)> = None;
        loop {
            wake.borrow_and_update();
            let obj = match self.global.get(resource, None, &name) {
                Ok(o) => o,
                Err(e) if e.is_not_found() => return,
                Err(e) => {
                    tracing::warn!(object = %name, "sandbox controller cannot read {resource}: {}", e.message);
                    return;
                }
            };
            let next = self.plan(target, &obj);
            let result = match &next {
                Next::Idle => {
                    timer = None;
                    tokio::select! {
                        _ = self.stop.cancelled() => return,
                        r = wake.changed() => if r.is_err() { return },
                    }
                    continue;
                }
                Next::RunStep { after, .. } | Next::Finalize { after } => {
                    let key = next.timer_key();
                    let deadline = match &timer {
                        Some((k, d)) if *k == key => *d,
                        _ => tokio::time::Instant::now() + *after,
                    };
                    timer = Some((key, deadline));
                    tokio::select! {
                        _ = self.stop.cancelled() => return,
                        _ = tokio::time::sleep_until(deadline) => {}
                        r = wake.changed() => {
                            if r.is_err() { return }
                            continue;
                        }
                    }
                    timer = None;
                    // Act on the object as it is now, not as it was when the timer started.
                    let fresh = match self.global.get(resource, None, &name) {
                        Ok(o) => o,
                        Err(_) => continue,
                    };
                    if self.plan(target, &fresh).timer_key() != next.timer_key() {
                        continue;
                    }
                    self.apply(target, &fresh, &next)
                }
                _ => self.apply(target, &obj, &next),
            };
            if let Err(e) = result {
                // Usually a conflict with a concurrent edit: re-read and try again shortly.
                tracing::debug!(object = %name, "sandbox controller write to {resource} failed: {}", e.message);
                tokio::select! {
                    _ = self.stop.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        }
    }

    pub(super) fn apply(&self, target: Target, obj: &Value, next: &Next) -> WriteResult<()> {
        let name = obj["metadata"]["name"].as_str().unwrap_or_default();
        match (target, next) {
            (_, Next::Idle) => Ok(()),
            (Target::Cluster, Next::Adopt) => self.adopt(obj),
            (Target::Cluster, Next::StartTerminating) => self.start_terminating(obj),
            (Target::Cluster, Next::HealthCheck) => {
                let mut o = obj.clone();
                o["status"] = health_check(obj, &now_rfc3339());
                self.global
                    .update_status(names::CLUSTERS, None, name, o)
                    .map(|_| ())
                    .map_err(Box::new)
            }
            (Target::Cluster, Next::Finish) => self.finish(obj),
            (Target::Cluster, Next::RunStep { index, .. }) => self.run_step(obj, *index),
            (Target::Cluster, Next::Finalize { .. }) => self.finalize(obj),
            (Target::Machine, Next::Adopt) => self.adopt_machine(obj),
            (Target::Machine, Next::RunStep { index, .. }) => {
                let Some(status) = run_machine_step(obj, *index, &now_rfc3339()) else {
                    return Ok(());
                };
                let mut o = obj.clone();
                o["status"] = status;
                self.global.update_status(names::MACHINES, None, name, o)?;
                Ok(())
            }
            (Target::Machine, Next::Finish) => self.finish_machine(obj),
            (Target::Machine, Next::StartTerminating) => {
                let mut o = obj.clone();
                o["status"]["phase"] = json!("Terminating");
                self.global.update_status(names::MACHINES, None, name, o)?;
                Ok(())
            }
            (Target::Machine, Next::Finalize { .. }) => self.finalize_machine(obj),
            (Target::Machine, Next::HealthCheck) => Ok(()),
        }
    }
}
/// Errors of the controllers' writes; boxed because `ApiError` is large.
pub(super) type WriteResult<T> = Result<T, Box<ApiError>>;

pub(super) fn ignore_not_found<T>(r: Result<T, ApiError>) -> WriteResult<()> {
    match r {
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(Box::new(e)),
    }
}
