//! Preflight results in words: verdict labels and tones, the node x check matrix, findings
//! with evidence and fix, the summary, the host-key question and the reachability note.

use super::Tone;
use crate::domain::preflight::{CATALOGUE, CheckResult, Summary, Verdict, catalogue};
use crate::engine::preflight::{HostKeyOffer, NodeReport, Report};

/// A verdict as a table cell.
pub fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "ok",
        Verdict::Warn => "WARN",
        Verdict::Fail => "FAIL",
        Verdict::PlatformFixes => "fixed-by-acp",
        Verdict::CannotCheck => "n/a",
        Verdict::Ignored => "ignored",
    }
}

pub fn verdict_tone(v: Verdict) -> Tone {
    match v {
        Verdict::Pass => Tone::Ok,
        Verdict::Warn => Tone::Warn,
        Verdict::Fail => Tone::Fail,
        Verdict::PlatformFixes => Tone::Info,
        Verdict::CannotCheck | Verdict::Ignored => Tone::Muted,
    }
}

/// The check's title from the catalogue, or its id for one the catalogue does not know.
pub fn check_title(id: &str) -> &str {
    catalogue::check(id).map_or(id, |d| d.title)
}

/// The worst verdict of a node's results (fleet results included by the caller).
pub fn worst<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> Option<Verdict> {
    results
        .into_iter()
        .map(|r| r.verdict)
        .max_by_key(|v| v.severity())
}

/// One line per node for a list: name, target and its worst verdict, or the connection stage
/// that failed.
pub fn node_line(n: &NodeReport) -> String {
    let state = match worst(&n.results) {
        None => "running".to_string(),
        Some(v) if !n.reached() => format!(
            "{}: {}",
            verdict_label(v),
            n.results.first().map_or("", |r| r.evidence.as_str())
        ),
        Some(v) => verdict_label(v).to_string(),
    };
    format!("{} ({}) {}", n.name, n.target, state)
}

/// "3 nodes: 120 ok, 2 warn, 1 fail, ..." with Create blocked or not.
pub fn summary_line(nodes: usize, s: &Summary) -> String {
    let mut parts = vec![format!("{} ok", s.pass), format!("{} warn", s.warn)];
    parts.push(format!("{} fail", s.fail));
    for (n, what) in [
        (s.platform_fixes, "fixed by ACP's install"),
        (s.cannot_check, "not checkable"),
        (s.ignored, "ignored"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    let verdict = if s.ran == 0 {
        "no check could run"
    } else if s.blocks_create() {
        "Create is blocked"
    } else {
        "ready to create"
    };
    format!(
        "{nodes} node{}: {}. {verdict}.",
        if nodes == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// The question a front end asks before recording an unknown host key.
pub fn host_key_question(o: &HostKeyOffer) -> String {
    format!(
        "The host key of {}:{} is not known yet. It presents {} {}. Record it and check the node?",
        o.host, o.port, o.key.key_type, o.fingerprint
    )
}

/// Every result of a node with the fleet results that belong to it, in catalogue order.
pub fn node_results<'a>(report: &'a Report, n: &'a NodeReport) -> Vec<&'a CheckResult> {
    let mut all: Vec<&CheckResult> = n.results.iter().collect();
    all.extend(
        report
            .fleet
            .iter()
            .filter(|f| f.node == n.index)
            .map(|f| &f.result),
    );
    let pos = |id: &str| {
        CATALOGUE
            .iter()
            .position(|d| d.id == id)
            .unwrap_or(usize::MAX)
    };
    all.sort_by_key(|r| pos(r.id));
    all
}

/// The node x check matrix: one row per check that ran anywhere, one column per node.
pub fn matrix_lines(report: &Report) -> Vec<String> {
    let per_node: Vec<Vec<&CheckResult>> = report
        .nodes
        .iter()
        .map(|n| node_results(report, n))
        .collect();
    let mut ids: Vec<&str> = Vec::new();
    for d in CATALOGUE {
        if per_node.iter().flatten().any(|r| r.id == d.id) {
            ids.push(d.id);
        }
    }
    let id_w = ids.iter().map(|i| i.len()).max().unwrap_or(5).max(5);
    let widths: Vec<usize> = report
        .nodes
        .iter()
        .map(|n| n.name.chars().count().clamp(7, 24))
        .collect();
    let mut header = format!("{:<id_w$}", "CHECK");
    for (n, w) in report.nodes.iter().zip(&widths) {
        let name: String = n.name.chars().take(*w).collect();
        header.push_str(&format!("  {name:<w$}"));
    }
    let mut lines = vec![header.trim_end().to_string()];
    for id in ids {
        let mut line = format!("{id:<id_w$}");
        for (results, w) in per_node.iter().zip(&widths) {
            let cell = results
                .iter()
                .find(|r| r.id == id)
                .map_or("-", |r| verdict_label(r.verdict));
            line.push_str(&format!("  {cell:<w$}"));
        }
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Every result that is not a pass, with its evidence and fix, grouped by node.
pub fn finding_lines(report: &Report) -> Vec<String> {
    let mut lines = Vec::new();
    for n in &report.nodes {
        let findings: Vec<&CheckResult> = node_results(report, n)
            .into_iter()
            .filter(|r| r.verdict != Verdict::Pass && r.ignored_verdict != Some(Verdict::Pass))
            .collect();
        if findings.is_empty() {
            continue;
        }
        lines.push(format!("{} ({}):", n.name, n.target));
        for r in findings {
            lines.push(format!(
                "  {:<12} {} - {}",
                verdict_label(r.verdict),
                r.id,
                check_title(r.id)
            ));
            lines.push(format!("  {:<12} {}", "", r.evidence));
            if matches!(r.verdict, Verdict::Fail | Verdict::Warn) {
                lines.push(format!("  {:<12} fix: {}", "", r.fix()));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::preflight::{NodeInput, Role};
    use crate::engine::preflight::{FleetResult, REACHABILITY_NOTE};

    fn node(index: usize, name: &str, results: Vec<CheckResult>) -> NodeReport {
        NodeReport {
            index,
            name: name.into(),
            target: format!("root@{name}:22"),
            role: Role::Worker,
            input: NodeInput::new(name, Role::Worker),
            results,
            host_key: None,
            facts: None,
            clock: None,
            elapsed_ms: 1,
        }
    }

    fn report() -> Report {
        let a = node(
            0,
            "10.0.0.1",
            vec![
                CheckResult::new("ssh-connect", Verdict::Pass, "connected"),
                CheckResult::new("arch", Verdict::Fail, "aarch64").with_hint("use x86_64"),
            ],
        );
        let b = node(
            1,
            "10.0.0.2",
            vec![CheckResult::new("ssh-connect", Verdict::Pass, "c")],
        );
        let fleet = vec![FleetResult {
            node: 1,
            result: CheckResult::new("hostname-unique", Verdict::Warn, "same as 10.0.0.1"),
        }];
        let all: Vec<&CheckResult> = a
            .results
            .iter()
            .chain(&b.results)
            .chain(fleet.iter().map(|f| &f.result))
            .collect();
        let summary = Summary::of(all);
        Report {
            platform_arch: Some("x86_64".into()),
            nodes: vec![a, b],
            fleet,
            summary,
            exit_code: summary.exit_code(),
            note: REACHABILITY_NOTE,
        }
    }

    #[test]
    fn the_matrix_has_a_row_per_check_and_a_column_per_node() {
        let r = report();
        let m = matrix_lines(&r);
        assert!(
            m[0].starts_with("CHECK") && m[0].contains("10.0.0.2"),
            "{m:?}"
        );
        let arch = m.iter().find(|l| l.starts_with("arch")).expect("arch row");
        assert!(
            arch.contains("FAIL") && arch.trim_end().ends_with('-'),
            "{arch}"
        );
        assert!(
            m.iter()
                .any(|l| l.starts_with("hostname-unique") && l.ends_with("WARN"))
        );
    }

    #[test]
    fn findings_carry_evidence_and_the_fix_and_skip_passes() {
        let f = finding_lines(&report());
        let text = f.join("\n");
        assert!(
            text.contains("aarch64") && text.contains("fix: use x86_64"),
            "{text}"
        );
        assert!(text.contains("same as 10.0.0.1"));
        assert!(!text.contains("connected"));
    }

    #[test]
    fn the_summary_says_whether_create_is_blocked() {
        let r = report();
        let line = summary_line(2, &r.summary);
        assert!(line.starts_with("2 nodes: 2 ok, 1 warn, 1 fail"), "{line}");
        assert!(line.ends_with("Create is blocked."));
        assert_eq!(
            summary_line(1, &Summary::default()),
            "1 node: 0 ok, 0 warn, 0 fail. no check could run."
        );
        assert_eq!(verdict_tone(Verdict::Fail), Tone::Fail);
    }
}
