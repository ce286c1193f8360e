//! Picks the platform: a kubeconfig, or the embedded sandbox when there is none or `--sandbox`.
