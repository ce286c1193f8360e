//! The Preflight step: one engine run over every node of the form, its results folded in as
//! they stream, a cell cursor over the node x check-group matrix, warnings acknowledged one
//! by one, unknown host keys confirmed through the safety gate, and what blocks submitting.
//!
//! Results belong to the nodes and SSH settings they were run with: a fingerprint of those is
//! kept with the run, and a form that no longer matches it shows the run as stale and does
//! not let its results block or pass anything.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use super::editor::wipe_secrets;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};

use super::{CreateAction, Effect, Section, WizardPane};
use crate::config::theme::Role;
use crate::domain::preflight::catalogue::{Kind as CheckKind, Scope};
use crate::domain::preflight::{CheckResult, Requirements, Verdict};
use crate::engine::preflight::setup::{ArchSource, RunSetup, jobs_from_cluster};
use crate::engine::preflight::{
    HostKeyOffer, NodeReport, PreflightCommand, PreflightEvent, PreflightRequest, Report,
};
use crate::engine::ssh::ProxySpec;
use crate::engine::{Command, RequestId};
use crate::present::preflight::{check_title, host_key_question};
use crate::tui::panes::Guarded;

/// Where the SSH proxy for the sandbox's nodes arrives. The sandbox starts after the first
/// frame, so the pane cannot be handed the proxy when it is built: launch sets this slot once
/// the proxy is known (at once for a kubeconfig that names none, it simply stays empty), and
/// the wizard reads it each time a run starts.
pub type ProxySlot = Arc<OnceLock<ProxySpec>>;

/// What a run needs from outside the form.
#[derive(Debug, Clone, Default)]
pub struct PreflightEnv {
    /// The proxy every node is reached through (the sandbox's SOCKS5 endpoint).
    pub proxy: ProxySlot,
    /// The nodes are the sandbox's: their host keys are kept apart from real ones.
    pub sandbox: bool,
    /// The kubeconfig context whose global cluster gives the platform's architecture.
    pub context: Option<String>,
    /// Holds the user's support-matrix override.
    pub config_dir: Option<PathBuf>,
}

/// The matrix's columns: checks grouped by what they look at, so every node fits on a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Ssh,
    System,
    Ports,
    Tools,
    Leftovers,
    Fleet,
}

impl Group {
    pub const ALL: [Group; 6] = [
        Group::Ssh,
        Group::System,
        Group::Ports,
        Group::Tools,
        Group::Leftovers,
        Group::Fleet,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Group::Ssh => "ssh",
            Group::System => "system",
            Group::Ports => "ports",
            Group::Tools => "tools",
            Group::Leftovers => "leftover",
            Group::Fleet => "fleet",
        }
    }

    pub fn of(id: &str) -> Group {
        let Some(def) = crate::domain::preflight::catalogue::check(id) else {
            return Group::System;
        };
        match (def.scope, def.kind) {
            (Scope::Connection, _) => Group::Ssh,
            (Scope::Fleet, _) => Group::Fleet,
            (_, CheckKind::Port(_)) => Group::Ports,
            (_, CheckKind::Binary { .. }) => Group::Tools,
            (_, CheckKind::Leftover { .. }) => Group::Leftovers,
            (_, CheckKind::Plain) => Group::System,
        }
    }
}

/// One node's row.
#[derive(Debug, Clone)]
pub struct NodeRow {
    pub name: String,
    pub running: bool,
    pub report: Option<NodeReport>,
}

/// A run the wizard started.
#[derive(Debug)]
pub struct PreflightRun {
    pub id: RequestId,
    /// Of the nodes and SSH settings the run was given; see [`WizardPane::preflight_fingerprint`].
    pub fingerprint: u64,
    pub nodes: Vec<NodeRow>,
    pub notes: Vec<String>,
    /// The latest whole report (fleet checks and summary), after every node finished.
    pub report: Option<Report>,
    pub failure: Option<String>,
    /// Warnings the user acknowledged: (node index, check id).
    pub acked: BTreeSet<(usize, &'static str)>,
    /// The host key the gate was asked about and whose answer has not come back.
    pub asking: Option<(String, u16)>,
}

impl PreflightRun {
    pub fn running(&self) -> usize {
        self.nodes.iter().filter(|n| n.running).count()
    }

    /// Every result of node `i`, the fleet's included once the run finished.
    pub fn results(&self, i: usize) -> Vec<&CheckResult> {
        let mut out: Vec<&CheckResult> = self
            .nodes
            .get(i)
            .and_then(|n| n.report.as_ref())
            .map(|r| r.results.iter().collect())
            .unwrap_or_default();
        if let Some(rep) = &self.report {
            out.extend(rep.fleet.iter().filter(|f| f.node == i).map(|f| &f.result));
        }
        out
    }

    pub fn cell(&self, i: usize, g: Group) -> Vec<&CheckResult> {
        self.results(i)
            .into_iter()
            .filter(|r| Group::of(r.id) == g)
            .collect()
    }

    pub fn is_acked(&self, i: usize, r: &CheckResult) -> bool {
        r.verdict == Verdict::Warn && self.acked.contains(&(i, r.id))
    }

    /// What keeps Create back: every failure and every warning not acknowledged, as
    /// (node name, check id, verdict).
    pub fn blockers(&self) -> Vec<(String, &'static str, Verdict)> {
        let mut out = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            for r in self.results(i) {
                let blocks = r.verdict == Verdict::Fail
                    || (r.verdict == Verdict::Warn && !self.is_acked(i, r));
                if blocks {
                    out.push((n.name.clone(), r.id, r.verdict));
                }
            }
        }
        out
    }

    /// Host keys offered and not yet asked about.
    fn next_offer(&self) -> Option<HostKeyOffer> {
        self.nodes
            .iter()
            .filter(|n| !n.running)
            .find_map(|n| n.report.as_ref()?.host_key.clone())
    }
}

/// The pane's cursor in the matrix and whether the cell's findings are open.
#[derive(Debug, Default, Clone, Copy)]
pub struct Cursor {
    pub node: usize,
    pub group: usize,
    pub detail: bool,
}

impl WizardPane {
    /// Identifies what a run depends on: every machine (addresses, users, keys and
    /// passwords), and the cluster settings the checks read (NIC, VIP, network, registry).
    /// Other fields (a display name, say) leave the results valid. Only a hash is kept.
    pub(super) fn preflight_fingerprint(&self) -> u64 {
        let mut c = self.form.to_cluster();
        let mut req = Requirements::default();
        let jobs = jobs_from_cluster(&c, &mut req, None);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let machines =
            zeroize::Zeroizing::new(serde_json::to_string(&c.spec.machines).unwrap_or_default());
        machines.hash(&mut h);
        wipe_secrets(&mut c);
        for j in &jobs {
            format!("{:?}", j.input).hash(&mut h);
        }
        format!(
            "{:?} {:?} {}",
            req.vip, req.ignore, req.hostname_is_node_name
        )
        .hash(&mut h);
        h.finish()
    }

    /// The run whose results still describe the form.
    pub(super) fn current_preflight(&self) -> Option<&PreflightRun> {
        self.preflight
            .as_ref()
            .filter(|r| r.fingerprint == self.preflight_fingerprint())
    }

    /// Starts a run over every node; `auto` (entering the step) starts only when no current
    /// run exists and at least one node can be reached at all.
    pub(super) fn start_preflight(&mut self, auto: bool) -> Vec<Effect> {
        if auto && (self.current_preflight().is_some() || self.form.nodes().is_empty()) {
            return Vec::new();
        }
        if self.form.nodes().is_empty() {
            self.notice = Some((
                Role::Warn,
                "No nodes to check: add them in Node Settings (a)".into(),
            ));
            return Vec::new();
        }
        let proxy = self.preflight_env.proxy.get();
        // The sandbox's nodes have private-range addresses that must never see traffic from
        // here: without its SOCKS5 endpoint there is nothing to run through.
        if self.preflight_env.sandbox && proxy.is_none() {
            self.notice = Some((
                Role::Warn,
                "The sandbox is still starting: its SSH nodes are not up yet; p again shortly"
                    .into(),
            ));
            return Vec::new();
        }
        let mut cluster = self.form.to_cluster();
        let mut req = Requirements::default();
        let jobs = jobs_from_cluster(&cluster, &mut req, proxy);
        wipe_secrets(&mut cluster);
        if auto && jobs.iter().all(|j| j.target.is_err()) {
            return Vec::new();
        }
        if let Some(old) = self.preflight.take()
            && old.running() > 0
        {
            self.pending.push(Effect::Engine(Command::Preflight {
                id: old.id,
                cmd: PreflightCommand::Cancel,
            }));
        }
        let nodes = jobs
            .iter()
            .map(|j| NodeRow {
                name: j.input.name.clone(),
                running: true,
                report: None,
            })
            .collect();
        let setup = RunSetup {
            arch: match &self.preflight_env.context {
                Some(context) => ArchSource::Platform {
                    context: context.clone(),
                },
                None => ArchSource::Unknown,
            },
            config_dir: self.preflight_env.config_dir.clone(),
            sandbox: self.preflight_env.sandbox,
        };
        let request = PreflightRequest {
            nodes: jobs,
            requirements: req,
        };
        let (id, cmd) = Command::preflight(request, setup);
        self.preflight = Some(PreflightRun {
            id,
            fingerprint: self.preflight_fingerprint(),
            nodes,
            notes: Vec::new(),
            report: None,
            failure: None,
            acked: BTreeSet::new(),
            asking: None,
        });
        self.pf_cursor = Cursor::default();
        self.notice = None;
        let mut out = std::mem::take(&mut self.pending);
        out.push(Effect::Engine(cmd));
        out
    }

    /// Re-runs the node under the cursor.
    pub(super) fn rerun_selected(&mut self) -> Vec<Effect> {
        let i = self.pf_cursor.node;
        // A stale run would re-check the node with the settings it had then.
        if self.preflight.is_some() && self.current_preflight().is_none() {
            return self.start_preflight(false);
        }
        let Some(run) = self.preflight.as_mut() else {
            self.notice = Some((Role::Info, "No preflight yet: p runs it".into()));
            return Vec::new();
        };
        let Some(node) = run.nodes.get_mut(i) else {
            return Vec::new();
        };
        node.running = true;
        run.acked.retain(|(n, _)| *n != i);
        vec![Effect::Engine(Command::Preflight {
            id: run.id,
            cmd: PreflightCommand::RerunNode { index: i },
        })]
    }

    /// Acknowledges the first warning of the selected cell not yet acknowledged.
    pub(super) fn ack_selected(&mut self) {
        let Cursor { node, group, .. } = self.pf_cursor;
        let Some(run) = self.preflight.as_mut() else {
            return;
        };
        let g = Group::ALL[group.min(Group::ALL.len() - 1)];
        let next = run
            .cell(node, g)
            .into_iter()
            .find(|r| r.verdict == Verdict::Warn && !run.is_acked(node, r))
            .map(|r| r.id);
        let name = run
            .nodes
            .get(node)
            .map(|n| n.name.clone())
            .unwrap_or_default();
        self.notice = Some(match next {
            Some(id) => {
                run.acked.insert((node, id));
                (
                    Role::Info,
                    format!("Acknowledged {id} ({}) on {name}", check_title(id)),
                )
            }
            None => (
                Role::Info,
                format!("No unacknowledged warning in {} of {name}", g.title()),
            ),
        });
    }

    /// The gate's question for an unknown host key; confirming records it and re-runs the
    /// nodes at that address.
    pub(super) fn host_key_effect(&mut self, offer: &HostKeyOffer, node: &str) -> Option<Effect> {
        let run = self.preflight.as_mut()?;
        run.asking = Some((offer.host.clone(), offer.port));
        Some(Effect::Guarded(Guarded {
            title: format!("Trust the SSH host key of node {node}"),
            detail: host_key_question(offer),
            access: None,
            command: Command::Preflight {
                id: run.id,
                cmd: PreflightCommand::AcceptHostKey {
                    host: offer.host.clone(),
                    port: offer.port,
                    key: offer.key_line(),
                },
            },
        }))
    }

    /// Enter in the step: asks about the selected node's host key when it offers one,
    /// otherwise opens or closes the selected cell's findings.
    pub(super) fn preflight_enter(&mut self) -> Vec<Effect> {
        let i = self.pf_cursor.node;
        let offer = self.preflight.as_ref().and_then(|r| {
            let n = r.nodes.get(i)?;
            Some((n.report.as_ref()?.host_key.clone()?, n.name.clone()))
        });
        if let Some((offer, name)) = offer {
            return self.host_key_effect(&offer, &name).into_iter().collect();
        }
        self.pf_cursor.detail = !self.pf_cursor.detail;
        Vec::new()
    }

    /// Left/Right move across the matrix's check groups; other keys are the keymap's.
    pub(super) fn preflight_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let d = match key.code {
            KeyCode::Left => -1,
            KeyCode::Right => 1,
            _ => return None,
        };
        if key.kind != KeyEventKind::Release {
            self.move_cell(0, d);
        }
        Some(Vec::new())
    }

    /// The step's own actions: `p` runs every node, `P` the selected one, `A` acknowledges.
    pub(super) fn preflight_action(&mut self, action: CreateAction) -> Vec<Effect> {
        match action {
            CreateAction::Preflight => {
                self.set_section(Section::Preflight);
                self.start_preflight(false)
            }
            CreateAction::RerunNode => self.rerun_selected(),
            CreateAction::AckWarning => {
                self.ack_selected();
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn move_cell(&mut self, dnode: isize, dgroup: isize) {
        let nodes = self.preflight.as_ref().map_or(0, |r| r.nodes.len());
        let c = &mut self.pf_cursor;
        c.node = c
            .node
            .saturating_add_signed(dnode)
            .min(nodes.saturating_sub(1));
        c.group = c
            .group
            .saturating_add_signed(dgroup)
            .min(Group::ALL.len() - 1);
    }

    /// Folds in one event of the pane's run; false for another run's.
    pub(super) fn on_preflight_event(&mut self, id: RequestId, event: &PreflightEvent) -> bool {
        let Some(run) = self.preflight.as_mut().filter(|r| r.id == id) else {
            return false;
        };
        match event {
            PreflightEvent::Started { notes, .. } => run.notes = notes.clone(),
            PreflightEvent::Node(report) => {
                let was_asked = run.asking.as_ref().is_some_and(|(h, p)| {
                    report.host_key.is_none()
                        && run
                            .nodes
                            .get(report.index)
                            .and_then(|n| n.report.as_ref())
                            .is_some_and(|old| {
                                old.host_key
                                    .as_ref()
                                    .is_some_and(|o| &o.host == h && o.port == *p)
                            })
                });
                if let Some(row) = run.nodes.get_mut(report.index) {
                    row.running = false;
                    row.report = Some((**report).clone());
                }
                if was_asked {
                    run.asking = None;
                }
                if run.asking.is_none()
                    && let Some(offer) = run.next_offer()
                {
                    let name = run
                        .nodes
                        .iter()
                        .find(|n| {
                            n.report
                                .as_ref()
                                .is_some_and(|r| r.host_key.as_ref() == Some(&offer))
                        })
                        .map(|n| n.name.clone())
                        .unwrap_or_else(|| offer.host.clone());
                    if let Some(e) = self.host_key_effect(&offer, &name) {
                        self.pending.push(e);
                    }
                }
            }
            PreflightEvent::Finished(report) => {
                for row in &mut run.nodes {
                    row.running = false;
                }
                run.report = Some((**report).clone());
            }
            PreflightEvent::Failed(f) => {
                for row in &mut run.nodes {
                    row.running = false;
                }
                run.asking = None;
                let hint = f
                    .hint
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                run.failure = Some(format!("{}{hint}", f.message));
            }
        }
        true
    }

    /// Why submitting must wait for the preflight, if it must: a run still going, a failed
    /// check, or a warning nobody acknowledged. A stale run or none at all does not block:
    /// the platform runs its own preflight, and the Review says the cockpit's did not run.
    pub(super) fn preflight_block(&self) -> Option<String> {
        let run = self.current_preflight()?;
        if run.running() > 0 {
            return Some(format!(
                "preflight still runs on {} node(s); wait for it",
                run.running()
            ));
        }
        let blockers = run.blockers();
        // A failure is named before any warning: it is what needs the user's work.
        let (node, id, verdict) = blockers
            .iter()
            .find(|b| b.2 == Verdict::Fail)
            .or(blockers.first())?;
        let fails = blockers.iter().filter(|b| b.2 == Verdict::Fail).count();
        let warns = blockers.len() - fails;
        let first = if *verdict == Verdict::Fail {
            "fails"
        } else {
            "warns (A acknowledges)"
        };
        Some(format!(
            "preflight: {fails} failed check(s), {warns} unacknowledged warning(s); {node} {first} {id}"
        ))
    }
}

impl WizardPane {
    /// The demo form after a preflight: one node warns, one fails `arch`, with the failing
    /// cell's findings open; for the screenshots.
    pub fn demo_preflight() -> Self {
        use crate::domain::preflight::{NodeInput, Summary};
        use crate::engine::preflight::REACHABILITY_NOTE;
        let mut p = Self::demo();
        let Some(Effect::Engine(Command::Preflight { id, .. })) = p.start_preflight(false).pop()
        else {
            return p;
        };
        let checks = [
            "ssh-connect",
            "root",
            "arch",
            "os",
            "cpu",
            "memory",
            "port-6443",
        ];
        let nodes: Vec<NodeReport> = p
            .preflight
            .as_ref()
            .map(|r| r.nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, name)| {
                let mut results: Vec<CheckResult> = checks
                    .iter()
                    .map(|id| CheckResult::new(id, Verdict::Pass, "as required"))
                    .collect();
                if index == 1 {
                    results.push(CheckResult::new("firewalld", Verdict::Warn, "active"));
                }
                if index == 2 {
                    results[2] = CheckResult::new(
                        "arch",
                        Verdict::Fail,
                        "aarch64; the platform runs x86_64",
                    );
                }
                let role = crate::domain::preflight::Role::Worker;
                NodeReport {
                    index,
                    target: format!("root@{name}:22"),
                    input: NodeInput::new(name.clone(), role),
                    name,
                    role,
                    results,
                    host_key: None,
                    facts: None,
                    clock: None,
                    elapsed_ms: 420,
                }
            })
            .collect();
        for n in &nodes {
            p.on_preflight_event(id, &PreflightEvent::Node(Box::new(n.clone())));
        }
        let summary = Summary::of(nodes.iter().flat_map(|n| n.results.iter()));
        let report = Report {
            platform_arch: Some("x86_64".into()),
            nodes,
            fleet: Vec::new(),
            summary,
            exit_code: summary.exit_code(),
            note: REACHABILITY_NOTE,
        };
        p.on_preflight_event(id, &PreflightEvent::Finished(Box::new(report)));
        p.set_section(Section::Preflight);
        p.pf_cursor = Cursor {
            node: 2,
            group: 1,
            detail: true,
        };
        p
    }
}
