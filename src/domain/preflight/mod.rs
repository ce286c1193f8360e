//! Node preflight, the pure half: the probe script sent to each node and its parser. The
//! engine runs the probe over SSH (one exec per node) and calls these functions; nothing here
//! does I/O.

pub mod facts;
mod parse;
pub mod probe;
mod render;

pub use facts::{NodeFacts, parse_probe_output, render_probe_output};
