//! The support matrix: which OS releases and kernels the `os-supported` and `kernel` checks
//! accept, per architecture. Shipped as `preflight/support-matrix.toml`; a user's override
//! file (the engine reads it, this module gets its text) is merged over it. Bad files are
//! reported with their line number.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The shipped matrix file.
pub const SHIPPED_MATRIX: &str = include_str!("../../../preflight/support-matrix.toml");

/// Architectures a matrix may name, as `uname -m` prints them.
pub const KNOWN_ARCHES: [&str; 2] = ["x86_64", "aarch64"];

/// `amd64` (Kubernetes' name) and `x86_64` (the kernel's) are one architecture; likewise
/// `arm64` and `aarch64`. Everything else is lower-cased and kept.
pub fn normalize_arch(arch: &str) -> String {
    let a = arch.trim().to_ascii_lowercase();
    match a.as_str() {
        "amd64" | "x86-64" | "x64" => "x86_64".into(),
        "arm64" | "armv8" => "aarch64".into(),
        _ => a,
    }
}

/// What a finding of a policy-controlled check is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    #[default]
    Warn,
    Fail,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// An OS release not in the matrix.
    pub unsupported_os: Level,
    /// A kernel below the matrix's minimum for its OS.
    pub kernel_below_minimum: Level,
}

/// One supported OS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OsSupport {
    pub id: String,
    pub name: String,
    pub versions: Vec<String>,
    pub arch: Vec<String>,
    pub kernel_min: Option<String>,
}

impl OsSupport {
    pub fn has_version(&self, version_id: &str) -> bool {
        self.versions.iter().any(|v| match v.strip_suffix('*') {
            Some(prefix) => version_id.starts_with(prefix),
            None => v == version_id,
        })
    }

    pub fn has_arch(&self, arch: &str) -> bool {
        let arch = normalize_arch(arch);
        self.arch.iter().any(|a| normalize_arch(a) == arch)
    }
}

/// The matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SupportMatrix {
    pub policy: Policy,
    pub os: Vec<OsSupport>,
}

/// Where a node's OS stands in the matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OsMatch<'a> {
    Supported(&'a OsSupport),
    /// The OS is listed, this release is not.
    VersionNotListed(&'a OsSupport),
    /// The OS release is listed, not for this architecture.
    ArchNotListed(&'a OsSupport),
    NotListed,
}

impl SupportMatrix {
    /// The matrix shipped with the program.
    pub fn shipped() -> Self {
        // The shipped file is part of the program and a unit test parses it; an empty matrix
        // is the fallback so a broken build still runs and reports every OS as unlisted.
        Self::parse(SHIPPED_MATRIX, "support-matrix.toml (shipped)").unwrap_or(SupportMatrix {
            policy: Policy::default(),
            os: Vec::new(),
        })
    }

    /// Parses a whole matrix file. `origin` names the file in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, MatrixError> {
        let file = read_file(text, origin)?;
        let policy = Policy {
            unsupported_os: file.policy.unsupported_os.unwrap_or_default(),
            kernel_below_minimum: file.policy.kernel_below_minimum.unwrap_or_default(),
        };
        Ok(Self {
            policy,
            os: file.os,
        })
    }

    /// This matrix with a user's override file merged over it: an entry whose `id` matches
    /// replaces the existing one, new ids are added, `[policy]` fields given replace ours,
    /// and `replace = true` starts from an empty list.
    pub fn merged_with(&self, override_text: &str, origin: &str) -> Result<Self, MatrixError> {
        let file = read_file(override_text, origin)?;
        let mut out = if file.replace {
            Self {
                policy: self.policy,
                os: Vec::new(),
            }
        } else {
            self.clone()
        };
        if let Some(l) = file.policy.unsupported_os {
            out.policy.unsupported_os = l;
        }
        if let Some(l) = file.policy.kernel_below_minimum {
            out.policy.kernel_below_minimum = l;
        }
        for entry in file.os {
            match out
                .os
                .iter_mut()
                .find(|o| o.id.eq_ignore_ascii_case(&entry.id))
            {
                Some(existing) => *existing = entry,
                None => out.os.push(entry),
            }
        }
        Ok(out)
    }

    /// Looks up an os-release ID and VERSION_ID on an architecture.
    pub fn lookup(&self, os_id: &str, version_id: &str, arch: &str) -> OsMatch<'_> {
        let mut same_os = None;
        let mut same_release = None;
        for o in self.os.iter().filter(|o| o.id.eq_ignore_ascii_case(os_id)) {
            if o.has_version(version_id) {
                if o.has_arch(arch) {
                    return OsMatch::Supported(o);
                }
                same_release.get_or_insert(o);
            }
            same_os.get_or_insert(o);
        }
        match (same_release, same_os) {
            (Some(o), _) => OsMatch::ArchNotListed(o),
            (None, Some(o)) => OsMatch::VersionNotListed(o),
            (None, None) => OsMatch::NotListed,
        }
    }
}

/// A kernel release compared number by number: `3.10.0-1160.el7.x86_64` is 3, 10, 0, 1160;
/// reading stops at the first part that is not a number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelVersion(pub Vec<u64>);

impl KernelVersion {
    pub fn parse(release: &str) -> Option<Self> {
        let nums: Vec<u64> = release
            .trim()
            .split(['.', '-', '_', '+'])
            .map_while(|p| p.parse().ok())
            .collect();
        (!nums.is_empty()).then_some(Self(nums))
    }
}

impl PartialOrd for KernelVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for KernelVersion {
    /// Missing parts count as 0, so 3.10 equals 3.10.0.
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.0.len().max(other.0.len());
        (0..n)
            .map(|i| {
                self.0
                    .get(i)
                    .unwrap_or(&0)
                    .cmp(other.0.get(i).unwrap_or(&0))
            })
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

/// A matrix file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixError {
    pub origin: String,
    /// 1-based line of the offending entry or value, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for MatrixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{l}: {}", self.origin, self.message)?,
            None => write!(f, "{}: {}", self.origin, self.message)?,
        }
        write!(f, " (fix the file, or remove it to use the shipped matrix)")
    }
}

impl std::error::Error for MatrixError {}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    replace: bool,
    #[serde(default)]
    policy: RawPolicy,
    #[serde(default)]
    os: Vec<Spanned<RawOs>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    unsupported_os: Option<Level>,
    kernel_below_minimum: Option<Level>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOs {
    id: String,
    #[serde(default)]
    name: String,
    versions: Vec<String>,
    arch: Vec<String>,
    #[serde(default)]
    kernel_min: Option<String>,
}

struct ParsedFile {
    replace: bool,
    policy: RawPolicy,
    os: Vec<OsSupport>,
}

fn read_file(text: &str, origin: &str) -> Result<ParsedFile, MatrixError> {
    let err = |line: Option<usize>, message: String| MatrixError {
        origin: origin.to_string(),
        line,
        message,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        err(
            e.span().map(|s| line_of(text, s.start)),
            e.message().to_string(),
        )
    })?;
    let mut os = Vec::with_capacity(raw.os.len());
    for spanned in raw.os {
        let line = Some(line_of(text, spanned.span().start));
        let o = spanned.into_inner();
        let bad = |m: String| err(line, format!("[[os]] `{}`: {m}", o.id));
        if o.id.trim().is_empty() {
            return Err(err(line, "[[os]] entry with an empty `id`".into()));
        }
        if o.versions.is_empty() || o.versions.iter().any(|v| v.trim().is_empty()) {
            return Err(bad(
                "`versions` needs at least one non-empty VERSION_ID".into()
            ));
        }
        let arch: Vec<String> = o.arch.iter().map(|a| normalize_arch(a)).collect();
        if let Some(a) = arch.iter().find(|a| !KNOWN_ARCHES.contains(&a.as_str())) {
            return Err(bad(format!(
                "unknown architecture `{a}`, expected x86_64 or aarch64"
            )));
        }
        if arch.is_empty() {
            return Err(bad("`arch` needs x86_64 and/or aarch64".into()));
        }
        if let Some(k) = &o.kernel_min
            && KernelVersion::parse(k).is_none()
        {
            return Err(bad(format!(
                "kernel_min `{k}` does not start with a number, e.g. \"4.18.0\""
            )));
        }
        let name = if o.name.is_empty() {
            o.id.clone()
        } else {
            o.name
        };
        os.push(OsSupport {
            id: o.id,
            name,
            versions: o.versions,
            arch,
            kernel_min: o.kernel_min,
        });
    }
    Ok(ParsedFile {
        replace: raw.replace,
        policy: raw.policy,
        os,
    })
}

fn line_of(text: &str, byte: usize) -> usize {
    let end = byte.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_matrix_parses_and_lists_both_architectures() {
        let m = SupportMatrix::parse(SHIPPED_MATRIX, "shipped").expect("shipped matrix");
        assert_eq!(m, SupportMatrix::shipped());
        assert!(m.os.len() >= 5);
        assert_eq!(
            m.policy,
            Policy {
                unsupported_os: Level::Warn,
                kernel_below_minimum: Level::Warn
            }
        );
        for arch in KNOWN_ARCHES {
            assert!(m.os.iter().any(|o| o.has_arch(arch)), "{arch}");
        }
    }

    #[test]
    fn lookup_distinguishes_release_arch_and_os() {
        let m = SupportMatrix::shipped();
        assert!(matches!(
            m.lookup("ubuntu", "22.04", "x86_64"),
            OsMatch::Supported(_)
        ));
        assert!(matches!(
            m.lookup("ubuntu", "22.04", "arm64"),
            OsMatch::Supported(_)
        ));
        assert!(matches!(
            m.lookup("centos", "7", "x86_64"),
            OsMatch::Supported(_)
        ));
        assert!(matches!(
            m.lookup("openeuler", "22.03", "aarch64"),
            OsMatch::Supported(_)
        ));
        assert!(matches!(
            m.lookup("centos", "7", "aarch64"),
            OsMatch::ArchNotListed(_)
        ));
        assert!(matches!(
            m.lookup("ubuntu", "18.04", "x86_64"),
            OsMatch::VersionNotListed(_)
        ));
        assert_eq!(m.lookup("gentoo", "2.15", "x86_64"), OsMatch::NotListed);
    }

    #[test]
    fn an_override_replaces_entries_by_id_adds_new_ones_and_sets_policy() {
        let m = SupportMatrix::shipped();
        let text = "[policy]\nunsupported_os = \"fail\"\n\n[[os]]\nid = \"ubuntu\"\nversions = [\"24.04\"]\narch = [\"amd64\"]\n\n[[os]]\nid = \"debian\"\nversions = [\"12\"]\narch = [\"x86_64\"]\nkernel_min = \"6.1\"\n";
        let merged = m.merged_with(text, "override.toml").expect("override");
        assert_eq!(merged.policy.unsupported_os, Level::Fail);
        assert_eq!(merged.policy.kernel_below_minimum, Level::Warn);
        assert!(matches!(
            merged.lookup("ubuntu", "22.04", "x86_64"),
            OsMatch::VersionNotListed(_)
        ));
        assert!(matches!(
            merged.lookup("ubuntu", "24.04", "x86_64"),
            OsMatch::Supported(_)
        ));
        assert!(matches!(
            merged.lookup("debian", "12", "x86_64"),
            OsMatch::Supported(_)
        ));
        assert_eq!(merged.os.len(), m.os.len() + 1);
        let only = m.merged_with("replace = true\n[[os]]\nid = \"debian\"\nversions = [\"12\"]\narch = [\"x86_64\"]\n", "o").expect("replace");
        assert_eq!(only.os.len(), 1);
    }

    #[test]
    fn bad_files_are_reported_with_their_line() {
        let m = SupportMatrix::shipped();
        let cases = [
            (
                "[[os]]\nid = \"x\"\nversions = [\"1\"]\narch = [\"x86_64\"]\nkernl_min = \"4\"\n",
                5,
                "unknown field",
            ),
            (
                "\n\n[[os]]\nid = \"x\"\nversions = [\"1\"]\narch = [\"sparc\"]\n",
                3,
                "unknown architecture `sparc`",
            ),
            (
                "[[os]]\nid = \"x\"\nversions = []\narch = [\"x86_64\"]\n",
                1,
                "versions",
            ),
            (
                "[[os]]\nid = \"x\"\nversions = [\"1\"]\narch = [\"x86_64\"]\nkernel_min = \"new\"\n",
                1,
                "kernel_min",
            ),
            (
                "[policy]\nunsupported_os = \"maybe\"\n",
                2,
                "unknown variant",
            ),
            ("[[os]\n", 1, ""),
        ];
        for (text, line, needle) in cases {
            let e = m.merged_with(text, "my.toml").expect_err(text);
            assert_eq!(e.line, Some(line), "{text}: {e}");
            assert!(e.message.contains(needle), "{text}: {e}");
            assert!(
                e.to_string().starts_with(&format!("my.toml:{line}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn kernel_versions_compare_number_by_number() {
        let k = |s| KernelVersion::parse(s).expect(s);
        assert!(k("3.10.0-1160.el7.x86_64") > k("3.10.0-1127"));
        assert!(k("3.10.0-957.el7.x86_64") < k("3.10.0-1127"));
        assert!(k("5.15.0-91-generic") > k("5.4.0"));
        assert!(k("6.18.44-fc-v1272") > k("4.19.90"));
        assert_eq!(k("3.10").cmp(&k("3.10.0")), Ordering::Equal);
        assert!(k("3.9.10") < k("3.10"));
        assert_eq!(KernelVersion::parse("generic"), None);
        assert_eq!(normalize_arch("AMD64"), "x86_64");
        assert_eq!(normalize_arch("arm64"), "aarch64");
    }
}
