//! A creation timeline's marks and summary lines.

use super::Tone;
use crate::domain::timeline::{StepState, Timeline, format_secs};

/// Glyph and role of a step: ASCII inside box-drawing rails, readable on any terminal font.
pub fn step_mark(state: StepState) -> (&'static str, Tone) {
    match state {
        StepState::Done => ("[+]", Tone::Ok),
        StepState::Skipped => ("[-]", Tone::Muted),
        StepState::Running => ("[>]", Tone::Accent),
        StepState::Failed => ("[!]", Tone::Fail),
        StepState::Pending => ("[ ]", Tone::Muted),
    }
}

/// `[#####-----]` as text; the gauge is part of the text so snapshots and copies show it.
pub fn gauge(ratio: f64, width: usize) -> String {
    let w = width.max(1);
    let filled = ((ratio.clamp(0.0, 1.0) * w as f64).round() as usize).min(w);
    let mut s = String::with_capacity(w + 2);
    s.push('[');
    s.extend(std::iter::repeat_n('#', filled));
    s.extend(std::iter::repeat_n('-', w - filled));
    s.push(']');
    s
}

/// `blocked: EnsureKubeadmInitPhaseETCD failing` while the current step fails: the steps after
/// it wait for a fix, so no time can be promised.
pub fn blocked_text(tl: &Timeline) -> Option<String> {
    let f = tl.failure.as_ref().filter(|_| tl.blocked)?;
    Some(format!("blocked: {} failing", f.type_))
}

/// `created in 14m05s`, or just `created` when the times are missing.
pub fn created_text(tl: &Timeline) -> String {
    match tl.took_secs {
        Some(d) => format!("created in {}", format_secs(d)),
        None => "created".to_string(),
    }
}

/// `FAILED HealthCheck (FailedHealthCheck) for 16s: apiserver down`: a created cluster's
/// failing check, on its own line because it is not a creation step.
pub fn check_failure_text(tl: &Timeline) -> Option<String> {
    let f = tl.check_failure.as_ref()?;
    let mut s = format!("FAILED {}", f.type_);
    if let Some(r) = &f.reason {
        s.push_str(&format!(" ({r})"));
    }
    if let Some(d) = f.retrying_secs {
        s.push_str(&format!(" for {}", format_secs(d)));
    }
    if let Some(m) = &f.message {
        s.push_str(&format!(": {m}"));
    }
    Some(s)
}

/// `~14m05s`, with `+` when steps without a median follow.
pub fn eta_text(tl: &Timeline) -> Option<String> {
    let e = tl.eta?;
    Some(format!(
        "~{}{}",
        format_secs(e.remaining_secs),
        if e.partial { "+" } else { "" }
    ))
}

/// `deleting for 12m05s; waiting on finalizers platform.tkestack.io/cluster` while a cluster is
/// being deleted.
pub fn deletion_text(tl: &Timeline) -> Option<String> {
    let d = tl.deletion.as_ref()?;
    let mut s = format!("deleting for {}", format_secs(d.for_secs));
    if d.finalizers.is_empty() {
        s.push_str("; no finalizer left, it goes once the platform lets go");
    } else {
        s.push_str(&format!(
            "; waiting on finalizers {}",
            d.finalizers.join(", ")
        ));
    }
    Some(s)
}

/// What a node without steps shows: it waits for the cluster, or goes with it when the cluster
/// is being deleted.
pub fn node_waiting_text(tl: &Timeline) -> &'static str {
    if tl.deletion.is_some() {
        "being deleted with the cluster"
    } else if tl.finished {
        "waiting: no step started yet"
    } else {
        "waiting: the cluster's own steps install it"
    }
}
