//! Results: one verdict per check and node, with evidence; the summary and exit code.

use std::fmt;

use serde::Serialize;

use super::catalogue::{self, CheckDef};

/// How one check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    /// Worth a look; does not block Create.
    Warn,
    /// The platform would refuse the node, or the cluster would not work. Blocks Create.
    Fail,
    /// Not as the platform needs it, but the platform's own install steps set it anyway
    /// (ip_forward, bridge-nf, swap, the registry /etc/hosts line).
    PlatformFixes,
    /// The probe could not tell (a tool missing on the node, a root-only file without root).
    CannotCheck,
    /// On the user's ignore list; the verdict it had is kept.
    Ignored,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "fail",
            Self::PlatformFixes => "platform-fixes",
            Self::CannotCheck => "cannot-check",
            Self::Ignored => "ignored",
        }
    }

    /// Ordering for "the worst verdict of a node": fail, warn, cannot-check, platform-fixes,
    /// pass, ignored.
    pub fn severity(self) -> u8 {
        match self {
            Self::Fail => 5,
            Self::Warn => 4,
            Self::CannotCheck => 3,
            Self::PlatformFixes => 2,
            Self::Pass => 1,
            Self::Ignored => 0,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One check's outcome on one node.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckResult {
    /// The catalogue id.
    pub id: &'static str,
    pub verdict: Verdict,
    /// For an ignored check, the verdict it had.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignored_verdict: Option<Verdict>,
    /// A short excerpt of what the probe printed (or of the failure), for the user to judge.
    pub evidence: String,
    /// The measured number, for checks that measure (CPUs, GiB, seconds...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<f64>,
    /// The threshold the measurement was held against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<f64>,
    /// A fix particular to this result; otherwise the catalogue's applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl CheckResult {
    pub fn new(id: &'static str, verdict: Verdict, evidence: impl Into<String>) -> Self {
        Self {
            id,
            verdict,
            ignored_verdict: None,
            evidence: evidence.into(),
            observed: None,
            required: None,
            hint: None,
        }
    }

    pub fn measured(mut self, observed: f64, required: f64) -> Self {
        self.observed = Some(observed);
        self.required = Some(required);
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The catalogue entry.
    pub fn def(&self) -> Option<&'static CheckDef> {
        catalogue::check(self.id)
    }

    /// What to do: this result's hint, else the catalogue's fix.
    pub fn fix(&self) -> &str {
        match &self.hint {
            Some(h) => h,
            None => self.def().map_or("", |d| d.fix),
        }
    }

    /// Marks this result ignored, keeping its verdict in `ignored_verdict` and the evidence.
    pub fn ignore(mut self) -> Self {
        if self.verdict != Verdict::Ignored {
            self.ignored_verdict = Some(self.verdict);
            self.evidence = format!("ignored (was {}): {}", self.verdict, self.evidence);
            self.verdict = Verdict::Ignored;
        }
        self
    }
}

/// Turns every result whose id the ignore list names (exactly or by `prefix*`) into
/// `Ignored`.
pub fn apply_ignore<'a>(
    results: Vec<CheckResult>,
    ignore: impl IntoIterator<Item = &'a str> + Clone,
) -> Vec<CheckResult> {
    results
        .into_iter()
        .map(|r| {
            if ignore
                .clone()
                .into_iter()
                .any(|p| catalogue::id_matches(p, r.id))
            {
                r.ignore()
            } else {
                r
            }
        })
        .collect()
}

/// The stage of reaching a node that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConnectStage {
    /// Reading the node's connection settings (base64 secrets, proxy address), before any
    /// traffic: the manifest itself needs fixing.
    Config,
    /// Opening the TCP connection to the node (or to the proxy).
    Tcp,
    /// The SOCKS5 proxy refused, failed to authenticate, or could not reach the node.
    Proxy,
    /// The SSH protocol handshake.
    Handshake,
    /// The node's host key is unknown (not accepted) or changed.
    HostKey,
    /// Login: password, keyboard-interactive or key.
    Auth,
    /// Running the probe on the open session.
    Probe,
}

impl ConnectStage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Config => "config",
            Self::Tcp => "tcp",
            Self::Proxy => "proxy",
            Self::Handshake => "handshake",
            Self::HostKey => "host-key",
            Self::Auth => "auth",
            Self::Probe => "probe",
        }
    }
}

/// The `ssh-connect` result for a node that could not be reached: the failed stage is
/// reported as itself (a timeout at TCP is never "must be root").
pub fn connection_failure_result(stage: ConnectStage, message: &str, hint: &str) -> CheckResult {
    let r = CheckResult::new(
        "ssh-connect",
        Verdict::Fail,
        format!("{}: {}", stage.as_str(), message.trim()),
    );
    if hint.trim().is_empty() {
        r
    } else {
        r.with_hint(hint.trim())
    }
}

/// Above this, the platform's own validation (a 1 s dial timeout) may not reach the node.
pub const SLOW_CONNECT_SECS: f64 = 1.0;

/// The `ssh-connect` result for a node that was reached, `connect_secs` after dialling.
pub fn connection_ok_result(connect_secs: f64) -> CheckResult {
    let evidence = format!("connected in {connect_secs:.2} s");
    let r = if connect_secs > SLOW_CONNECT_SECS {
        CheckResult::new("ssh-connect", Verdict::Warn, format!("{evidence}; the platform's SSH validation gives up after 1 s"))
            .with_hint("Connect over a faster path (a closer SOCKS5 proxy), or expect the platform's validation to time out.")
    } else {
        CheckResult::new("ssh-connect", Verdict::Pass, evidence)
    };
    r.measured(connect_secs, SLOW_CONNECT_SECS)
}

/// Counts per verdict over a set of results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
    pub platform_fixes: usize,
    pub cannot_check: usize,
    pub ignored: usize,
    /// Results where a check really ran on a reached node (not cannot-check, not a failed
    /// connection; an ignored check counts by its original verdict).
    pub ran: usize,
}

impl Summary {
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CheckResult>) -> Self {
        let mut s = Self::default();
        for r in results {
            match r.verdict {
                Verdict::Pass => s.pass += 1,
                Verdict::Warn => s.warn += 1,
                Verdict::Fail => s.fail += 1,
                Verdict::PlatformFixes => s.platform_fixes += 1,
                Verdict::CannotCheck => s.cannot_check += 1,
                Verdict::Ignored => s.ignored += 1,
            }
            let original = r.ignored_verdict.unwrap_or(r.verdict);
            let unreached = r.id == "ssh-connect" && original == Verdict::Fail;
            if original != Verdict::CannotCheck && !unreached {
                s.ran += 1;
            }
        }
        s
    }

    /// Any failure blocks Create.
    pub fn blocks_create(&self) -> bool {
        self.fail > 0
    }

    /// The CLI exit code: 2 when no check could run at all, 1 on any failure, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.ran == 0 {
            2
        } else if self.fail > 0 {
            1
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: &'static str, v: Verdict) -> CheckResult {
        CheckResult::new(id, v, "e")
    }

    #[test]
    fn connection_failures_name_their_stage_and_keep_the_hint() {
        let res = connection_failure_result(
            ConnectStage::Tcp,
            "timed out after 5 s ",
            "check the address",
        );
        assert_eq!(res.id, "ssh-connect");
        assert_eq!(res.verdict, Verdict::Fail);
        assert_eq!(res.evidence, "tcp: timed out after 5 s");
        assert_eq!(res.fix(), "check the address");
        let res = connection_failure_result(ConnectStage::HostKey, "changed", "");
        assert!(res.evidence.starts_with("host-key: "));
        assert!(
            res.fix().starts_with("Fix the stage"),
            "falls back to the catalogue"
        );
    }

    #[test]
    fn a_slow_connection_warns() {
        assert_eq!(connection_ok_result(0.2).verdict, Verdict::Pass);
        let slow = connection_ok_result(1.6);
        assert_eq!(slow.verdict, Verdict::Warn);
        assert_eq!(slow.observed, Some(1.6));
    }

    #[test]
    fn ignoring_keeps_the_original_verdict() {
        let out = apply_ignore(
            vec![
                r("swap", Verdict::PlatformFixes),
                r("port-6443", Verdict::Fail),
                r("cpu", Verdict::Fail),
            ],
            ["port-*"],
        );
        assert_eq!(out[0].verdict, Verdict::PlatformFixes);
        assert_eq!(out[1].verdict, Verdict::Ignored);
        assert_eq!(out[1].ignored_verdict, Some(Verdict::Fail));
        assert!(out[1].evidence.starts_with("ignored (was fail): "));
        assert_eq!(out[2].verdict, Verdict::Fail);
        let s = Summary::of(&out);
        assert_eq!((s.fail, s.ignored, s.platform_fixes, s.ran), (1, 1, 1, 3));
    }

    #[test]
    fn exit_codes_follow_the_convention() {
        let all_pass = [
            r("cpu", Verdict::Pass),
            r("swap", Verdict::PlatformFixes),
            r("ufw", Verdict::Warn),
        ];
        assert_eq!(Summary::of(&all_pass).exit_code(), 0);
        assert!(!Summary::of(&all_pass).blocks_create());
        let one_fail = [r("cpu", Verdict::Pass), r("memory", Verdict::Fail)];
        assert_eq!(Summary::of(&one_fail).exit_code(), 1);
        assert!(Summary::of(&one_fail).blocks_create());
        let unreachable = [connection_failure_result(ConnectStage::Auth, "denied", "")];
        assert_eq!(Summary::of(&unreachable).exit_code(), 2);
        let blind = [
            r("cpu", Verdict::CannotCheck),
            r("arch", Verdict::CannotCheck),
        ];
        assert_eq!(Summary::of(&blind).exit_code(), 2);
        assert_eq!(Summary::of(&[]).exit_code(), 2);
        let partly = [
            connection_failure_result(ConnectStage::Auth, "denied", ""),
            r("cpu", Verdict::Pass),
        ];
        assert_eq!(Summary::of(&partly).exit_code(), 1);
    }

    #[test]
    fn results_serialize_as_data() {
        let json = serde_json::to_value(r("port-6443", Verdict::PlatformFixes).measured(3.0, 2.0))
            .expect("json");
        assert_eq!(json["id"], "port-6443");
        assert_eq!(json["verdict"], "platform-fixes");
        assert_eq!(json["observed"], 3.0);
        assert!(json.get("hint").is_none());
        assert!(json.get("ignored_verdict").is_none());
    }
}
