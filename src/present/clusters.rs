//! A cluster row's cells.

use super::Tone;
use crate::engine::kube::ClusterRow;

/// The PROGRESS cell: the cluster's own step first; on a created cluster, the nodes being added.
pub fn progress_text(row: &ClusterRow) -> String {
    let frac = row.progress.label();
    match (&row.current_step, &row.failing_node) {
        (Some(step), _) if row.cluster_failed() => format!("{frac} FAILED {step}"),
        (Some(step), _) => format!("{frac} {step}"),
        (None, Some(n)) => format!("{frac} node {} FAILED {}", n.ip, n.step),
        (None, None) if row.adding_nodes == 1 => format!("{frac} adding 1 node"),
        (None, None) if row.adding_nodes > 1 => {
            format!("{frac} adding {} nodes", row.adding_nodes)
        }
        (None, None) => frac,
    }
}

/// What a cluster phase means.
pub fn phase_tone(phase: &str) -> Tone {
    match phase {
        "Running" => Tone::Ok,
        "Failed" => Tone::Fail,
        "Terminating" => Tone::Muted,
        "Confined" | "Idling" => Tone::Warn,
        _ => Tone::Info,
    }
}
