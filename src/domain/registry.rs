//! registry (being built).
