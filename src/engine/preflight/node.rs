//! One node: connect, probe, clock sample, verdicts.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use super::{HostKeyOffer, NodeJob, NodeReport};
use crate::domain::preflight::probe::{
    CLOCK_COMMAND, MAX_OUTPUT_BYTES, PROBE_TIMEOUT, probe_command,
};
use crate::domain::preflight::verdict::apply_ignore;
use crate::domain::preflight::{
    CheckResult, ClockSample, ConnectStage, NodeFacts, Requirements, connection_failure_result,
    connection_ok_result, evaluate_node, parse_probe_output,
};
use crate::engine::ssh::{FailureKind, Session, SshFailure, SshPool, Stage};

/// This machine's clock in seconds since the epoch.
pub fn now_epoch() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// What one connected session yielded.
struct Probed {
    facts: NodeFacts,
    clock: ClockSample,
    connect_secs: f64,
}

/// Connects to the node, runs the probe and the clock sample on one connection, and judges
/// the facts. Never fails: a node that cannot be reached gets its `ssh-connect` failure, with
/// the stage that failed.
pub async fn check_node(
    pool: &SshPool,
    index: usize,
    job: &NodeJob,
    req: &Requirements,
    cancel: &CancellationToken,
) -> NodeReport {
    let started = Instant::now();
    let input = &job.input;
    let mut report = NodeReport {
        index,
        name: input.name.clone(),
        target: job
            .target
            .as_ref()
            .map(|t| t.label())
            .unwrap_or_else(|_| input.name.clone()),
        role: input.role,
        input: input.clone(),
        results: Vec::new(),
        host_key: None,
        facts: None,
        clock: None,
        elapsed_ms: 0,
    };
    let outcome = match &job.target {
        Err(f) => Err(f.clone()),
        Ok(target) => {
            pool.with_session_timed(target, cancel, |s, connect| async move {
                probe(s, connect.as_secs_f64()).await
            })
            .await
        }
    };
    let ignore = || req.ignore.iter().map(String::as_str);
    match outcome {
        Ok(p) => {
            let mut results = apply_ignore(vec![connection_ok_result(p.connect_secs)], ignore());
            results.extend(evaluate_node(input, &p.facts, req));
            report.results = results;
            report.facts = Some(p.facts);
            report.clock = Some(p.clock);
        }
        Err(f) => {
            report.host_key = job
                .target
                .as_ref()
                .ok()
                .and_then(|t| offer(&f, &t.host, t.port));
            report.results = apply_ignore(vec![failure_result(&f)], ignore());
        }
    }
    report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    report
}

async fn probe(s: Arc<Session>, connect_secs: f64) -> Result<Probed, SshFailure> {
    let out = s.exec(&probe_command(), None, PROBE_TIMEOUT).await?;
    let mut stdout = out.stdout;
    stdout.truncate(MAX_OUTPUT_BYTES);
    let text = String::from_utf8_lossy(&stdout);
    if text.trim().is_empty() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(SshFailure::new(
            Stage::Command,
            FailureKind::CommandRefused,
            format!(
                "the probe printed nothing (exit {}): {}",
                out.exit
                    .map_or_else(|| "none".to_string(), |c| c.to_string()),
                excerpt(&stderr)
            ),
        )
        .hint("the node needs a POSIX sh; check the user's login shell and that `sh -c` runs"));
    }
    let facts = parse_probe_output(&text);
    let before = now_epoch();
    let clock = match s.run(CLOCK_COMMAND, None).await {
        Ok(o) => ClockSample::from_output(before, &String::from_utf8_lossy(&o.stdout), now_epoch()),
        Err(_) => ClockSample {
            local_before: before,
            remote: None,
            local_after: now_epoch(),
        },
    };
    Ok(Probed {
        facts,
        clock,
        connect_secs,
    })
}

/// The first lines of a command's error output, enough to recognise it.
fn excerpt(text: &str) -> String {
    let mut s: String = text.lines().take(3).collect::<Vec<_>>().join(" / ");
    if s.len() > 300 {
        let mut cut = 300;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    if s.is_empty() {
        "no error output".into()
    } else {
        s
    }
}

pub(super) fn connect_stage(stage: Stage) -> ConnectStage {
    match stage {
        Stage::Config => ConnectStage::Config,
        Stage::Tcp => ConnectStage::Tcp,
        Stage::Proxy => ConnectStage::Proxy,
        Stage::Handshake => ConnectStage::Handshake,
        Stage::HostKey => ConnectStage::HostKey,
        Stage::Auth => ConnectStage::Auth,
        Stage::Command => ConnectStage::Probe,
    }
}

fn failure_result(f: &SshFailure) -> CheckResult {
    let mut message = f.message.clone();
    if let Some(seen) = f
        .host_key
        .as_ref()
        .filter(|s| !message.contains(&s.fingerprint))
    {
        message.push_str(&format!(" (the node presents {})", seen.fingerprint));
    }
    connection_failure_result(
        connect_stage(f.stage),
        &message,
        f.hint.as_deref().unwrap_or(""),
    )
}

/// An unknown (never a changed) host key, offered for confirmation.
fn offer(f: &SshFailure, host: &str, port: u16) -> Option<HostKeyOffer> {
    if f.kind != FailureKind::HostKeyUnknown {
        return None;
    }
    let seen = f.host_key.as_ref()?;
    Some(HostKeyOffer {
        host: host.to_string(),
        port,
        fingerprint: seen.fingerprint.clone(),
        key: (&seen.key).into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_ssh_stage_maps_to_its_own_connect_stage() {
        assert_eq!(connect_stage(Stage::Command), ConnectStage::Probe);
        assert_eq!(connect_stage(Stage::Tcp), ConnectStage::Tcp);
        assert_eq!(connect_stage(Stage::Config), ConnectStage::Config);
        let f = SshFailure::new(Stage::Tcp, FailureKind::TimedOut, "no answer within 5 s")
            .hint("check the route");
        let r = failure_result(&f);
        assert_eq!(r.evidence, "tcp: no answer within 5 s");
        assert_eq!(r.fix(), "check the route");
    }

    #[test]
    fn excerpts_are_short_and_never_empty() {
        assert_eq!(excerpt(""), "no error output");
        assert_eq!(excerpt("a\nb\nc\nd"), "a / b / c");
        assert!(excerpt(&"é".repeat(400)).len() <= 300);
    }
}
