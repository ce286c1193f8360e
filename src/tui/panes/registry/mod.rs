//! The Registry pane: the built-in registry's pull checklist for a namespace, pod or image.
//! `:registry <ns>[/<pod>]` (or `<ns>/<app>:<tag>`) runs every check; results fill in as they
//! finish, Enter shows a check's evidence and fix, and the copy key puts the fix command on
//! the clipboard through the terminal (OSC 52, which also works over SSH).

#[cfg(test)]
mod tests;
mod view;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ratatui::{Frame, layout::Rect};

use super::{CommandArg, Effect, Pane, PaneId, PaneSpec, RenderCtx, pane_actions};
use crate::domain::registry::catalogue::CATALOGUE;
use crate::domain::registry::{CheckId, CheckResult};
use crate::engine::registry::inputs::{Inputs, Request};
use crate::engine::registry::task::{RegistryCommand, RegistryEvent};
use crate::engine::{Command, Event, Failure, RequestId};
use crate::tui::toast::Toast;

pane_actions! {
    /// What this pane does with its keymap layer.
    pub enum RegistryAction {
        SelectNext = new("select_next", "next check"),
        SelectPrev = new("select_prev", "previous check"),
        Open = new("open", "show or hide the check's evidence and fix"),
        Copy = new("copy", "copy the fix command to the clipboard"),
        Refresh = new("refresh", "run the checks again"),
    }
}

pub static SPEC: PaneSpec = PaneSpec {
    id: PaneId::Registry,
    title: "Registry",
    command: CommandArg::Optional("<ns/pod>"),
    command_help: "registry pull checks for a namespace, pod or <ns>/<app>:<tag>",
    actions: RegistryAction::SPECS,
    build: |_| Box::new(RegistryPane::new()),
    demo: || Box::new(RegistryPane::demo()),
};

/// The pane's state: the question, the answers so far, and the cursor.
#[derive(Debug, Default)]
pub struct RegistryPane {
    request: Option<Request>,
    pending: Option<RequestId>,
    running: bool,
    inputs: Option<Inputs>,
    results: BTreeMap<CheckId, CheckResult>,
    failure: Option<Failure>,
    selected: usize,
    details: bool,
}

/// Reads `ns`, `ns/pod` or `ns/app:tag`.
pub fn parse_target(t: &str) -> Option<Request> {
    let t = t.trim();
    let (ns, rest) = match t.split_once('/') {
        Some((ns, rest)) => (ns, Some(rest)),
        None => (t, None),
    };
    if ns.is_empty() || ns.contains(char::is_whitespace) || rest.is_some_and(str::is_empty) {
        return None;
    }
    let mut req = Request {
        namespace: ns.to_string(),
        ..Default::default()
    };
    match rest {
        Some(r) if r.contains(':') || r.contains('/') => req.image = Some(r.to_string()),
        Some(pod) => req.pod = Some(pod.to_string()),
        None => {}
    }
    Some(req)
}

impl RegistryPane {
    pub fn new() -> Self {
        Self::default()
    }

    fn start(&mut self, req: Request) -> Vec<Effect> {
        let (id, cmd) = Command::registry(RegistryCommand::Check {
            request: req.clone(),
            cluster: None,
            connect: None,
        });
        self.request = Some(req);
        self.pending = Some(id);
        self.running = true;
        self.inputs = None;
        self.results.clear();
        self.failure = None;
        vec![Effect::Engine(cmd)]
    }

    fn selected_id(&self) -> CheckId {
        CATALOGUE[self.selected.min(CATALOGUE.len() - 1)].id
    }

    fn copy(&self) -> Vec<Effect> {
        let fix = self
            .results
            .get(&self.selected_id())
            .and_then(|r| r.fix.as_ref());
        match fix.and_then(|f| f.command.clone()) {
            Some(c) => vec![Effect::Copy(c)],
            None => vec![Effect::Toast(Toast::info(
                "this check has no fix command to copy",
            ))],
        }
    }

    /// Folds one registry event of the pending question; others are stale.
    pub fn apply(&mut self, id: RequestId, ev: &RegistryEvent) -> bool {
        if Some(id) != self.pending {
            return false;
        }
        match ev {
            RegistryEvent::Inputs(i) => self.inputs = Some((**i).clone()),
            RegistryEvent::Result(r) => {
                self.results.insert(r.id, r.clone());
            }
            RegistryEvent::Done => self.running = false,
            RegistryEvent::Failed(f) => {
                self.failure = Some(f.clone());
                self.running = false;
            }
        }
        true
    }
}

impl Pane for RegistryPane {
    fn id(&self) -> PaneId {
        PaneId::Registry
    }

    fn render(&mut self, frame: &mut Frame, area: Rect, ctx: &RenderCtx) {
        view::render(self, frame, area, ctx);
    }

    fn on_action(&mut self, action: &str) -> Vec<Effect> {
        let Some(a) = RegistryAction::parse(action) else {
            return Vec::new();
        };
        match a {
            RegistryAction::SelectNext => {
                self.selected = (self.selected + 1).min(CATALOGUE.len() - 1)
            }
            RegistryAction::SelectPrev => self.selected = self.selected.saturating_sub(1),
            RegistryAction::Open => self.details = !self.details,
            RegistryAction::Copy => return self.copy(),
            RegistryAction::Refresh => {
                if let Some(r) = self.request.clone() {
                    return self.start(r);
                }
            }
        }
        Vec::new()
    }

    fn on_event(&mut self, event: &Event) -> bool {
        match event {
            Event::Registry { id, event } => self.apply(*id, event),
            _ => false,
        }
    }

    fn on_open(&mut self, target: Option<&str>) -> Vec<Effect> {
        let Some(t) = target else { return Vec::new() };
        match parse_target(t) {
            Some(req) => self.start(req),
            None => vec![Effect::Toast(Toast::error(
                format!("{t:?} is not a registry target"),
                Some(":registry <namespace>[/<pod>] or <namespace>/<app>:<tag>".to_string()),
            ))],
        }
    }

    fn tick_interval(&self, _now: DateTime<Utc>) -> Option<std::time::Duration> {
        // The spinners move only while checks run; an idle pane never wakes the loop.
        self.running.then(|| std::time::Duration::from_millis(125))
    }
}

/// Demo states for screenshots and snapshots.
pub mod demo {
    use super::*;
    use crate::domain::registry::rules::{fix_cross_namespace, fix_pull_secret};
    use crate::domain::registry::{Fix, ImageRef};

    impl RegistryPane {
        /// The sandbox's failing pod half-way through its checks.
        pub fn demo() -> Self {
            let mut p = RegistryPane::new();
            let req = parse_target("legacy-ns/legacy-app-7d4b9c6f5-x2k8p").unwrap_or_default();
            let _ = p.start(req);
            let id = p.pending.unwrap_or(RequestId(0));
            let image =
                ImageRef::parse("internal-docker-registry.cpaas-system.svc/shared-ns/base:v1");
            let inputs = Inputs {
                namespace: "legacy-ns".into(),
                service_account: "default".into(),
                images: image.into_iter().collect(),
                subject: Some("pod legacy-ns/legacy-app-7d4b9c6f5-x2k8p".into()),
                ..Default::default()
            };
            p.apply(id, &RegistryEvent::Inputs(Box::new(inputs)));
            let results = [
                CheckResult::fail(CheckId::PullEvents, "pod legacy-ns/legacy-app-7d4b9c6f5-x2k8p cannot pull: unauthorized (the pull secret is missing, wrong, or does not cover the registry host)")
                    .with_evidence("legacy-app-7d4b9c6f5-x2k8p Failed x6: Failed to pull image \"internal-docker-registry.cpaas-system.svc/shared-ns/base:v1\": … 401 Unauthorized"),
                CheckResult::fail(CheckId::PullSecret, "legacy-ns:default has no imagePullSecrets")
                    .with_fix(fix_pull_secret("legacy-ns", "default", "internal-docker-registry-pull", Some("shared-ns"))),
                CheckResult::fail(CheckId::PullRights, "system:serviceaccount:legacy-ns:default may not pull from shared-ns across namespaces (no cross-namespace binding)")
                    .with_evidence("kubectl auth can-i get images.registry.alauda.io --namespace shared-ns --as=system:serviceaccount:legacy-ns:default: no")
                    .with_fix(fix_cross_namespace("legacy-ns", "default", "shared-ns")),
                CheckResult::skip(CheckId::UserRights, "no user given (--as)"),
                CheckResult::pass(CheckId::Service, "Service cpaas-system/internal-docker-registry ClusterIP 10.96.216.11"),
                CheckResult::fail(CheckId::NetworkPolicy, "NetworkPolicy deny-egress-except-dns in legacy-ns blocks egress to the registry")
                    .with_fix(Fix::say("add an egress rule allowing namespace cpaas-system, or remove the policy")),
                CheckResult::warn(CheckId::ExternalCert, "registry-address.tls for [registry.sandbox.example] expires in 12 days"),
            ];
            for mut r in results {
                r.millis = 4;
                p.apply(id, &RegistryEvent::Result(r));
            }
            p.selected = 2;
            p.details = true;
            p
        }
    }
}
