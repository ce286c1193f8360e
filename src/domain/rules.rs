//! rules (being built).
