//! The node probe: one POSIX `sh` script, sent as a single SSH exec per node, that prints
//! everything the checks need in sections the parser ([`super::facts`]) reads.
//!
//! The script (`probe.sh` beside this file) only reads: no package installs, no writes, no
//! interactive command, every external command under `timeout 5` where `timeout` exists.
//! It runs as the SSH user; root-only reads (`ss -p`, product_uuid, `/root/.kube/config`) go
//! through `sudo -n` when the user has passwordless sudo, as the platform's own installer
//! runs a non-root user's commands through sudo.

use std::time::Duration;

/// The script text. Prefer [`probe_command`] to send it as one exec.
pub const PROBE_SCRIPT: &str = include_str!("probe.sh");

/// The output format version the script prints on its first line (`@@acp-probe 1`).
pub const PROBE_VERSION: u32 = 1;

/// A command for the clock sample, run as its own short exec on the node's open session:
/// the full probe takes long enough that its round trip would swamp the skew being measured.
pub const CLOCK_COMMAND: &str = "date +%s.%N";

/// The most probe output worth reading: ten raw sections of at most 400 lines (the script
/// caps them) of a few hundred bytes each stay well below it. Output past it is cut, which
/// the parser reports as an incomplete run.
pub const MAX_OUTPUT_BYTES: usize = 2 * 1024 * 1024;

/// A limit for the whole probe exec. Each of its roughly forty commands is bounded to 5 s on
/// its own; a healthy node answers in well under a second.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// Paths an earlier install leaves behind, in the order the probe reports them.
pub const LEFTOVER_PATHS: [&str; 5] = [
    "/var/lib/etcd",
    "/var/lib/cni",
    "/etc/cni/net.d",
    "/etc/kubernetes/manifests",
    "/root/.kube/config",
];

/// Binaries the probe looks up with `command -v`, with root's PATH (/usr/sbin and /sbin
/// included, so a tool a non-root PATH misses is still found).
pub const PROBED_BINARIES: [&str; 20] = [
    "sysctl",
    "swapoff",
    "sed",
    "getconf",
    "ss",
    "grep",
    "id",
    "uname",
    "modinfo",
    "ip",
    "awk",
    "iptables",
    "which",
    "conntrack",
    "socat",
    "nsenter",
    "ebtables",
    "ethtool",
    "tc",
    "mount",
];

/// Section names of the probe output.
pub mod section {
    pub const CLOCK: &str = "clock";
    pub const IDENTITY: &str = "identity";
    pub const PLATFORM: &str = "platform";
    pub const OS_RELEASE: &str = "os-release";
    pub const DF_VAR_LIB: &str = "df /var/lib";
    pub const DF_VAR_LOG: &str = "df /var/log";
    pub const SS: &str = "ss";
    pub const PROC_NET_TCP: &str = "proc-net-tcp";
    pub const PROC_NET_TCP6: &str = "proc-net-tcp6";
    pub const PATHS: &str = "paths";
    pub const BINARIES: &str = "binaries";
    pub const SECURITY: &str = "security";
    pub const SYSCTL: &str = "sysctl";
    pub const SWAPS: &str = "swaps";
    pub const TIME: &str = "time";
    pub const IP_LINK: &str = "ip-link";
    pub const IP_ADDR: &str = "ip-addr";
    pub const IP_ROUTE: &str = "ip-route";
    pub const IP_ROUTE6: &str = "ip-route6";
    pub const SYS_CLASS_NET: &str = "sys-class-net";
    pub const HOSTS: &str = "hosts";
}

/// The probe as one exec command line: `sh -c '<script>'`. The script holds no single quote
/// and no `!`, so the quoting survives sh, bash, zsh, fish and csh login shells alike.
pub fn probe_command() -> String {
    format!("sh -c '{PROBE_SCRIPT}'")
}

/// The node's clock from [`CLOCK_COMMAND`]'s output, in seconds since the epoch.
pub fn parse_clock_output(out: &str) -> Option<f64> {
    out.lines().find_map(super::parse::parse_epoch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_survives_single_quoting_in_any_login_shell() {
        assert!(
            !PROBE_SCRIPT.contains('\''),
            "a single quote would end sh -c '...'"
        );
        assert!(
            !PROBE_SCRIPT.contains('!'),
            "csh expands ! even inside single quotes"
        );
        assert!(probe_command().starts_with("sh -c '# acp-cockpit node probe"));
    }

    #[test]
    fn script_reports_every_path_binary_and_section_the_parser_reads() {
        assert!(PROBE_SCRIPT.contains(&format!("@@acp-probe {PROBE_VERSION}")));
        for p in LEFTOVER_PATHS {
            assert!(PROBE_SCRIPT.contains(p), "{p}");
        }
        let bins = PROBE_SCRIPT
            .lines()
            .find(|l| l.starts_with("for b in "))
            .expect("the binaries loop");
        for b in PROBED_BINARIES {
            assert!(
                bins.split_whitespace()
                    .any(|w| w.trim_end_matches(';') == b),
                "{b}"
            );
        }
        for s in [
            section::CLOCK,
            section::IDENTITY,
            section::PLATFORM,
            section::OS_RELEASE,
            section::SS,
            section::PATHS,
            section::BINARIES,
            section::SECURITY,
            section::SYSCTL,
            section::SWAPS,
            section::TIME,
            section::IP_LINK,
            section::IP_ADDR,
            section::IP_ROUTE,
            section::IP_ROUTE6,
            section::SYS_CLASS_NET,
            section::HOSTS,
        ] {
            assert!(PROBE_SCRIPT.contains(&format!(" {s}\"")), "section {s}");
        }
        assert!(PROBE_SCRIPT.contains("proc-net-$f"));
        assert!(PROBE_SCRIPT.contains("@@raw df $d"));
    }

    #[test]
    fn every_external_command_that_could_block_is_bounded() {
        for cmd in [
            "sudo -n true",
            "ss -Htlnup",
            "df -P -k",
            "timedatectl show",
            "ufw status",
        ] {
            let line = PROBE_SCRIPT.lines().find(|l| l.contains(cmd)).expect(cmd);
            assert!(
                line.contains("$T "),
                "{cmd} runs without the timeout prefix: {line}"
            );
        }
    }

    #[test]
    fn clock_output_parses_with_and_without_nanoseconds() {
        assert_eq!(
            parse_clock_output("1700000000.250000000\n"),
            Some(1_700_000_000.25)
        );
        assert_eq!(parse_clock_output("1700000000.N\n"), Some(1_700_000_000.0));
        assert_eq!(parse_clock_output("1700000000.%N"), Some(1_700_000_000.0));
        assert_eq!(parse_clock_output("date: invalid\n"), None);
        assert_eq!(parse_clock_output(""), None);
    }
}
