//! The fleet as the cockpit shows it: compact summaries of every cluster and machine the watches
//! report, the rows of the clusters table, their sorting and filtering. Pure: the engine fills
//! it from kube watches, both front ends read it.

mod columns;
mod filter;
mod model;
mod row;
mod summary;

pub use columns::*;
pub use filter::*;
pub use model::*;
pub use row::*;
pub use summary::*;

#[cfg(test)]
mod tests;
