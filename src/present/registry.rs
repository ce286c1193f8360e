//! Registry check wording: verdict marks and the lines of a result, the same in the pane and
//! in `acp-cockpit registry check`.

use super::Tone;
use crate::domain::registry::{CheckResult, Verdict};

/// A short, fixed-width mark for a verdict (no glyphs beyond ASCII).
pub fn mark(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Warn => "WARN",
        Verdict::Fail => "FAIL",
        Verdict::Skip => "skip",
    }
}

pub fn tone(v: Verdict) -> Tone {
    match v {
        Verdict::Pass => Tone::Ok,
        Verdict::Warn => Tone::Warn,
        Verdict::Fail => Tone::Fail,
        Verdict::Skip => Tone::Muted,
    }
}

/// `FAIL  pull-rights      system:serviceaccount:… may not pull …  (12 ms)`.
pub fn line(r: &CheckResult) -> String {
    format!(
        "{:<4}  {:<16}  {}  ({} ms)",
        mark(r.verdict),
        r.id.as_str(),
        r.summary,
        r.millis
    )
}

/// Evidence and fix, indented under the line.
pub fn details(r: &CheckResult) -> Vec<String> {
    let mut out: Vec<String> = r.evidence.iter().map(|e| format!("      {e}")).collect();
    if let Some(f) = &r.fix {
        out.push(format!("      fix: {}", f.text));
        if let Some(c) = &f.command {
            out.push(format!("        $ {c}"));
        }
    }
    out
}

/// `3 pass, 1 warn, 2 fail, 1 skip`.
pub fn tally(rs: &[CheckResult]) -> String {
    let n = |v| rs.iter().filter(|r| r.verdict == v).count();
    format!(
        "{} pass, {} warn, {} fail, {} skip",
        n(Verdict::Pass),
        n(Verdict::Warn),
        n(Verdict::Fail),
        n(Verdict::Skip)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::registry::CheckId;
    use crate::domain::registry::rules::fix_cross_namespace;

    #[test]
    fn a_failure_reads_with_its_fix_command() {
        let r = CheckResult::fail(CheckId::PullRights, "denied")
            .with_evidence("kubectl auth can-i …: no")
            .with_fix(fix_cross_namespace("my-ns", "default", "shared-ns"));
        assert_eq!(line(&r), "FAIL  pull-rights       denied  (0 ms)");
        let d = details(&r);
        assert_eq!(d.len(), 3);
        assert!(d[2].contains("$ kubectl create rolebinding cross-ns-pull"));
        assert_eq!(tally(&[r]), "0 pass, 0 warn, 1 fail, 0 skip");
    }
}
