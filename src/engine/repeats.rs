//! Rate-limiting a message that repeats, so a platform that fails the same way every second
//! does not fill the log.

use std::time::{Duration, Instant};

/// Rate-limits a repeated message: the first of a run is logged, identical repeats are counted
/// and logged at most once per interval with their count, and a different message starts a new
/// run. A watch that fails the same way every second thus writes one line a minute, not sixty.
#[derive(Debug)]
pub struct Repeats {
    every: Duration,
    last: Option<String>,
    logged_at: Option<Instant>,
    suppressed: u64,
}

/// What to do with one occurrence.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Log it.
    Log,
    /// Log it, saying it was seen this many more times since the last line.
    LogRepeated(u64),
    /// Count it only.
    Skip,
}

impl Repeats {
    pub fn new(every: Duration) -> Self {
        Repeats {
            every,
            last: None,
            logged_at: None,
            suppressed: 0,
        }
    }

    pub fn check(&mut self, message: &str, now: Instant) -> Verdict {
        if self.last.as_deref() != Some(message) {
            self.last = Some(message.to_string());
            self.logged_at = Some(now);
            self.suppressed = 0;
            return Verdict::Log;
        }
        if self
            .logged_at
            .is_some_and(|at| now.duration_since(at) < self.every)
        {
            self.suppressed += 1;
            return Verdict::Skip;
        }
        self.logged_at = Some(now);
        let n = std::mem::take(&mut self.suppressed);
        if n == 0 {
            Verdict::Log
        } else {
            Verdict::LogRepeated(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_logged_once_per_interval_with_their_count() {
        let mut r = Repeats::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!(r.check("refused", t0), Verdict::Log);
        for s in 1..=59 {
            assert_eq!(
                r.check("refused", t0 + Duration::from_secs(s)),
                Verdict::Skip
            );
        }
        assert_eq!(
            r.check("refused", t0 + Duration::from_secs(61)),
            Verdict::LogRepeated(59)
        );
        assert_eq!(
            r.check("timed out", t0 + Duration::from_secs(62)),
            Verdict::Log
        );
    }
}
