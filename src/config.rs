//! Runtime configuration and paths.
