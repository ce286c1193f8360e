//! The steps a resource is expected to run: TKE's published lists, or the plan learned from
//! the resources of the same platform that finished.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::*;

/// TKE baremetal `CreateHandlers`, in order: the best public guess at a cluster's steps.
pub const CLUSTER_CREATE_STEPS: &[&str] = &[
    "EnsureCopyFiles",
    "EnsurePreClusterInstallHook",
    "EnsurePreInstallHook",
    "EnsureRegistryHosts",
    "EnsureInitAPIServerHost",
    "EnsureKernelModule",
    "EnsureSysctl",
    "EnsureDisableSwap",
    "EnsurePreflight",
    "EnsureClusterComplete",
    "EnsureNvidiaDriver",
    "EnsureNvidiaContainerRuntime",
    "EnsureContainerRuntime",
    "EnsureKubernetesImages",
    "EnsureKubelet",
    "EnsureCNIPlugins",
    "EnsureConntrackTools",
    "EnsureKubeadm",
    "EnsureKeepalivedInit",
    "EnsureThirdPartyHAInit",
    "EnsureAuthzWebhook",
    "EnsureAuditConfig",
    "EnsurePrepareForControlplane",
    "EnsureKubeadmInitPhaseKubeletStart",
    "EnsureKubeadmInitPhaseCerts",
    "EnsureStoreCredential",
    "EnsureKubeconfig",
    "EnsureKubeadmInitPhaseKubeConfig",
    "EnsureKubeadmInitPhaseControlPlane",
    "EnsureKubeadmInitPhaseETCD",
    "EnsureKubeadmInitPhaseWaitControlPlane",
    "EnsureKubeadmInitPhaseUploadConfig",
    "EnsureKubeadmInitPhaseUploadCerts",
    "EnsureKubeadmInitPhaseBootstrapToken",
    "EnsureKubeadmInitPhaseAddon",
    "EnsureJoinPhasePreflight",
    "EnsureJoinPhaseControlPlanePrepare",
    "EnsureJoinPhaseKubeletStart",
    "EnsureJoinPhaseControlPlaneJoinETCD",
    "EnsureJoinPhaseControlPlaneJoinUpdateStatus",
    "EnsureClusternetRegistration",
    "EnsureGalaxy",
    "EnsureCilium",
    "EnsurePatchAnnotation",
    "EnsureMarkControlPlane",
    "EnsureKeepalivedWithLBOption",
    "EnsureThirdPartyHA",
    "EnsureModifyAPIServerHost",
    "EnsureNvidiaDevicePlugin",
    "EnsureGPUManager",
    "EnsureCSIOperator",
    "EnsureMetricsServer",
    "EnsureCleanup",
    "EnsureCreateClusterMark",
    "EnsurePostInstallHook",
    "EnsurePostClusterInstallHook",
];

/// TKE baremetal machine create handlers, in order.
pub const MACHINE_CREATE_STEPS: &[&str] = &[
    "EnsureCopyFiles",
    "EnsurePreInstallHook",
    "EnsureClean",
    "EnsureRegistryHosts",
    "EnsureInitAPIServerHost",
    "EnsureKernelModule",
    "EnsureSysctl",
    "EnsureDisableSwap",
    "EnsureManifestDir",
    "EnsurePreflight",
    "EnsureNvidiaDriver",
    "EnsureNvidiaContainerRuntime",
    "EnsureContainerRuntime",
    "EnsureKubernetesImages",
    "EnsureKubelet",
    "EnsureCNIPlugins",
    "EnsureConntrackTools",
    "EnsureKubeadm",
    "EnsureJoinPhasePreflight",
    "EnsureJoinPhaseKubeletStart",
    "EnsureKubeconfig",
    "EnsureMarkNode",
    "EnsureNodeReady",
    "EnsurePostInstallHook",
];

/// Condition types that are not creation steps: the periodic health check and TKE's update,
/// upgrade, scale-down and delete handlers append their conditions to the same list after
/// creation, so a finished resource's plan leaves them out.
pub const NOT_CREATE_STEPS: &[&str] = &[
    "HealthCheck",
    "EnsureAPIServerCert",
    "EnsureRenewCerts",
    "EnsurePreClusterUpgradeHook",
    "EnsureUpgradeCoreDNS",
    "EnsureUpgradeControlPlaneNode",
    "EnsurePostClusterUpgradeHook",
    "EnsureRemoveETCDMember",
    "EnsureRemoveNode",
    "EnsureRemoveMachine",
    "EnsureCleanClusterMark",
];

/// Which kind of resource a timeline is about: clusters and machines run different steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Cluster,
    Machine,
}

impl Resource {
    /// TKE's published step list: the fallback plan while nothing has finished on a platform.
    pub fn published_steps(self) -> &'static [&'static str] {
        match self {
            Resource::Cluster => CLUSTER_CREATE_STEPS,
            Resource::Machine => MACHINE_CREATE_STEPS,
        }
    }
}

/// Distinct finished sequences a tally keeps; platforms have a handful (one per release), so
/// past this a new one is simply not counted and memory stays bounded.
pub(super) const MAX_PLANS: usize = 64;
/// Longer sequences are not plausible creation plans (TKE's list has 56 steps).
pub(super) const MAX_PLAN_STEPS: usize = 512;

/// The step sequences of the finished resources of one platform, with how often each was seen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlanTally {
    seen: HashMap<Vec<Arc<str>>, usize>,
}

impl PlanTally {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, seq: Vec<Arc<str>>) {
        if seq.is_empty() || seq.len() > MAX_PLAN_STEPS {
            return;
        }
        if let Some(n) = self.seen.get_mut(&seq) {
            *n += 1;
        } else if self.seen.len() < MAX_PLANS {
            self.seen.insert(seq, 1);
        }
    }

    /// Forgets one resource that was counted (it changed or was deleted).
    pub fn remove(&mut self, seq: &[Arc<str>]) {
        if let Some(n) = self.seen.get_mut(seq) {
            *n -= 1;
            if *n == 0 {
                self.seen.remove(seq);
            }
        }
    }

    pub fn clear(&mut self) {
        self.seen.clear();
    }

    /// How many finished resources were counted.
    pub fn finished(&self) -> usize {
        self.seen.values().sum()
    }

    /// The plan to expect: the most common finished sequence; ties go to the longer one (a
    /// shorter one may come from a release that skipped steps), then to the smaller one, so the
    /// choice never depends on hash order.
    pub fn best(&self) -> Option<&[Arc<str>]> {
        self.seen
            .iter()
            .max_by(|(a, na), (b, nb)| {
                na.cmp(nb)
                    .then(a.len().cmp(&b.len()))
                    .then_with(|| b.cmp(a))
            })
            .map(|(seq, _)| seq.as_slice())
    }
}

/// The creation sequence of a finished (`Running`, every step `True`) resource: its condition
/// types in order without [`NOT_CREATE_STEPS`]; `None` for a resource not finished.
pub fn finished_sequence<C: CondLike>(phase: &str, conditions: &[C]) -> Option<Vec<Arc<str>>> {
    if phase != "Running" {
        return None;
    }
    let mut seq = Vec::with_capacity(conditions.len());
    for c in conditions {
        if NOT_CREATE_STEPS.contains(&c.kind()) {
            continue;
        }
        if !c.is_true() {
            return None;
        }
        seq.push(c.kind_arc());
    }
    (!seq.is_empty()).then_some(seq)
}

/// Where an expected plan came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PlanSource {
    /// The most common step sequence of the resources that finished on this platform.
    Learned,
    /// TKE's published list: nothing has finished on this platform yet.
    Published,
}

/// The steps a resource being created is expected to run.
#[derive(Debug, Clone, Copy)]
pub struct Plan<'a> {
    pub learned: Option<&'a [Arc<str>]>,
    pub published: &'static [&'static str],
}

impl<'a> Plan<'a> {
    /// Only the published list, for a resource seen without its platform.
    pub fn published(r: Resource) -> Plan<'static> {
        Plan {
            learned: None,
            published: r.published_steps(),
        }
    }

    /// The learned plan of `tally`, else the published list.
    pub fn from_tally(r: Resource, tally: &'a PlanTally) -> Plan<'a> {
        Plan {
            learned: tally.best(),
            published: r.published_steps(),
        }
    }

    pub(super) fn steps(&self, source: PlanSource) -> Vec<&str> {
        match (source, self.learned) {
            (PlanSource::Learned, Some(l)) => l.iter().map(|s| &**s).collect(),
            _ => self.published.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::timeline::tests::*;
    #[test]
    fn total_follows_the_plan_finished_clusters_ran_and_never_shrinks() {
        let stats = StepStats::from_clusters(&[
            finished("a", &ACP_PLAN),
            finished("b", &ACP_PLAN),
            // One cluster from an older release with a step fewer: outvoted.
            finished("c", &ACP_PLAN[1..]),
        ]);
        let mut totals = Vec::new();
        for k in 1..=ACP_PLAN.len() {
            let c = ran(
                "new",
                "Initializing",
                &ACP_PLAN[..k],
                ("Unknown", Some("Waiting")),
            );
            let tl = Timeline::for_cluster(&c, t(60 * k as i64 + 30), &stats);
            assert_eq!(tl.progress.plan, Some(PlanSource::Learned));
            assert_eq!(tl.progress.label(), format!("{}/~6", k - 1));
            assert_eq!(tl.upcoming.len(), ACP_PLAN.len() - k);
            totals.push(tl.progress.total);
        }
        assert!(totals.iter().all(|t| *t == ACP_PLAN.len()), "{totals:?}");
        // Done: the count is exact.
        let tl = Timeline::for_cluster(&finished("new", &ACP_PLAN), t(1000), &stats);
        assert_eq!(tl.progress.label(), "6/6");
    }

    #[test]
    fn total_moves_only_when_the_cluster_leaves_the_plan() {
        let stats = StepStats::from_clusters(&[finished("a", &ACP_PLAN)]);
        let w = ("Unknown", Some("Waiting"));
        // Skips EnsurePreflight, which the others ran: one step fewer to come.
        let skip = [ACP_PLAN[0], ACP_PLAN[1], ACP_PLAN[3]];
        let tl = Timeline::for_cluster(&ran("s", "Initializing", &skip, w), t(500), &stats);
        assert_eq!(tl.progress.label(), "2/~5");
        // Runs a step the others did not: one step more.
        let extra = [ACP_PLAN[0], "EnsureGPUManager", ACP_PLAN[1]];
        let tl = Timeline::for_cluster(&ran("e", "Initializing", &extra, w), t(500), &stats);
        assert_eq!(tl.progress.label(), "2/~7");
        // Nothing in common with the learned plan: back to TKE's list, which it follows.
        let tke = ["EnsureCopyFiles", "EnsurePreClusterInstallHook"];
        let tl = Timeline::for_cluster(&ran("t", "Initializing", &tke[1..], w), t(500), &stats);
        assert_eq!(tl.progress.plan, Some(PlanSource::Published));
        // Before its first condition a new cluster already expects the learned plan.
        let tl = Timeline::for_cluster(&cluster("n", "Initializing", vec![]), t(5), &stats);
        assert_eq!(tl.progress.label(), "0/~6");
        assert_eq!(tl.upcoming.len(), 6);
    }

    #[test]
    fn plans_come_from_running_clusters_only_without_health_checks() {
        let mut healthy = finished("h", &ACP_PLAN);
        if let Some(s) = healthy.status.as_mut() {
            s.conditions
                .push(cond("HealthCheck", "True", Some(9000), None));
        }
        let mut failed_check = finished("f", &ACP_PLAN[..3]);
        if let Some(s) = failed_check.status.as_mut() {
            s.phase = Some("Failed".into());
            s.conditions.push(cond(
                "HealthCheck",
                "False",
                Some(9000),
                Some("FailedHealthCheck"),
            ));
        }
        let creating = ran("c", "Initializing", &ACP_PLAN[..2], ("True", None));
        let stats = StepStats::from_clusters(&[healthy, failed_check, creating]);
        let tally = stats.tally(Resource::Cluster);
        assert_eq!(tally.finished(), 1);
        let best: Vec<&str> = tally.best().expect("plan").iter().map(|s| &**s).collect();
        assert_eq!(best, ACP_PLAN);
        assert_eq!(stats.tally(Resource::Machine).finished(), 0);
    }

    #[test]
    fn plan_tally_picks_most_common_then_longest_and_forgets() {
        let seq = |v: &[&str]| v.iter().map(|s| Arc::from(*s)).collect::<Vec<Arc<str>>>();
        let mut t = PlanTally::new();
        assert!(t.best().is_none());
        t.add(seq(&["A", "B"]));
        t.add(seq(&["A", "B", "C"]));
        assert_eq!(t.best(), Some(seq(&["A", "B", "C"]).as_slice()));
        t.add(seq(&["A", "B"]));
        assert_eq!(t.best(), Some(seq(&["A", "B"]).as_slice()));
        t.remove(&seq(&["A", "B"]));
        t.remove(&seq(&["A", "B"]));
        t.remove(&seq(&["never", "added"]));
        assert_eq!(t.best(), Some(seq(&["A", "B", "C"]).as_slice()));
        assert_eq!(t.finished(), 1);
        // Equal count and length: the same answer whatever the hash order.
        t.add(seq(&["X", "Y", "Z"]));
        assert_eq!(t.best(), Some(seq(&["A", "B", "C"]).as_slice()));
        t.add(Vec::new());
        for i in 0..(MAX_PLANS + 10) {
            t.add(seq(&[&format!("S{i}")]));
        }
        assert_eq!(t.seen.len(), MAX_PLANS);
    }
}
