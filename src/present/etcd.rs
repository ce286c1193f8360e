//! etcd rotation verdicts in words.

use crate::domain::etcd::NodeVerdict;

/// A node's verdict in a few words, for the table and the CLI.
pub fn verdict_text(v: &NodeVerdict, revision: i64, attention: bool) -> String {
    match v {
        NodeVerdict::Done => format!("on key rev {revision}"),
        NodeVerdict::InProgress => "loading the new key".to_string(),
        NodeVerdict::Behind { node_revision } if attention => {
            format!("LAGGING: rev {node_revision} of {revision}")
        }
        NodeVerdict::Behind { node_revision } => {
            format!("waiting its turn (rev {node_revision})")
        }
        NodeVerdict::Failed { state, .. } => format!("FAILED ({state})"),
        NodeVerdict::Unknown(s) => format!("unknown state {s:?}"),
    }
}

/// The due date as a countdown: `in 6d18h`, `overdue 2h`, `-` when unknown.
pub fn due_text(
    due: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    use crate::domain::timeline::format_secs;
    match due {
        None => "-".to_string(),
        Some(d) if d < now => format!("overdue {}", format_secs((now - d).num_seconds())),
        Some(d) => format!("in {}", format_secs((d - now).num_seconds())),
    }
}

/// How long ago the last rotation completed: `6h ago`, `-` when never.
pub fn since_completed_text(
    at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    match at {
        None => "-".to_string(),
        Some(t) => format!(
            "{} ago",
            crate::domain::timeline::format_secs((now - t).num_seconds().max(0))
        ),
    }
}
