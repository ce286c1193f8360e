//! draft (being built).
