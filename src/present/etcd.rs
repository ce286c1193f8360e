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
