//! Panes that watched the demo rotations of [`crate::fixtures::etcd`].

use super::EtcdPane;
use crate::fixtures::clusters as clusters_demo;
use crate::fixtures::etcd::{self as rotations, Scenario};
use crate::tui::panes::Pane;

pub use rotations::{complete_config, now};

fn watched(s: Scenario) -> EtcdPane {
    let mut p = EtcdPane::new();
    for ev in clusters_demo::events() {
        p.on_event(&ev);
    }
    p.on_open(Some(s.cluster));
    for ev in s.events() {
        p.apply(&ev);
    }
    p
}

pub fn failed() -> EtcdPane {
    watched(rotations::failed())
}

pub fn lagging() -> EtcdPane {
    watched(rotations::lagging())
}

pub fn in_progress() -> EtcdPane {
    watched(rotations::in_progress())
}

/// The overview: prod-east with a failed node, prod-west overdue (complete 8 days ago on
/// a 7-day interval), the others not Running.
pub fn fleet() -> EtcdPane {
    use crate::engine::kube::KubeEvent;
    use crate::engine::kube::etcd::EtcdState;
    let mut p = EtcdPane::new();
    for ev in clusters_demo::events() {
        p.on_event(&ev);
    }
    p.on_open(None);
    let states = [
        ("prod-east", rotations::failed().last().clone()),
        ("prod-west", complete_config(9, 8 * 24 * 60, "168h0m0s")),
    ];
    for (cluster, cfg) in states {
        p.apply(&KubeEvent::Etcd {
            context: clusters_demo::CONTEXT.into(),
            cluster: cluster.into(),
            state: EtcdState::Config {
                config: Box::new(cfg),
                observed: now(),
            },
        });
    }
    p
}

/// The plugin is not installed.
pub fn not_installed() -> EtcdPane {
    let mut p = EtcdPane::new();
    for ev in clusters_demo::events() {
        p.on_event(&ev);
    }
    p.on_open(Some("dev-new"));
    p.apply(&crate::engine::kube::KubeEvent::Etcd {
        context: clusters_demo::CONTEXT.into(),
        cluster: "dev-new".into(),
        state: crate::engine::kube::etcd::EtcdState::NotInstalled {
            reason: crate::engine::kube::etcd::not_installed_reason(false),
        },
    });
    p
}
