//! The Create pane: the cluster creation wizard.

pub mod field;
pub mod node_dialog;
