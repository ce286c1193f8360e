//! OpenSSH `known_hosts` text: parsing and host-key lookup.
//!
//! Written here rather than taken from the SSH library because that one only knows exact and
//! hashed host names: the wildcard, negation, `@cert-authority` and `@revoked` lines an SRE's
//! `~/.ssh/known_hosts` holds would otherwise be silently ignored, and a revoked key accepted.
//!
//! The name looked up is `host` for port 22 and `[host]:port` otherwise, lower-cased, as
//! OpenSSH writes and hashes it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

/// A marker at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// A plain host key line.
    None,
    /// `@cert-authority`: the key signs host certificates for the matching hosts.
    CertAuthority,
    /// `@revoked`: the key must never be accepted.
    Revoked,
}

/// One host pattern of a line's comma-separated host field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// A name or glob (`*`, `?`), lower-cased; `negated` for a leading `!`.
    Plain { pattern: String, negated: bool },
    /// `|1|salt|hash`: HMAC-SHA1 of the name keyed with the salt.
    Hashed { salt: Vec<u8>, hash: Vec<u8> },
}

/// One usable line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number in the file, for messages and `ssh-keygen -R`.
    pub line: usize,
    pub marker: Marker,
    pub hosts: Vec<HostPattern>,
    pub key_type: String,
    pub key_base64: String,
}

/// A line that could not be used, with the reason; the rest of the file still counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineProblem {
    pub line: usize,
    pub reason: String,
}

/// A parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownHosts {
    pub entries: Vec<Entry>,
    pub problems: Vec<LineProblem>,
}

/// The verdict for one presented host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    /// A line for this host holds exactly this key.
    Known { line: usize },
    /// Nothing recorded for this host with this key type.
    Unknown,
    /// A line for this host holds a different key of the same type: possibly an attack.
    Changed {
        line: usize,
        recorded_type: String,
        recorded_base64: String,
    },
    /// An `@revoked` line for this host holds this key.
    Revoked { line: usize },
    /// Only an `@cert-authority` line matches the host, and a plain key (no certificate) was
    /// presented, so nothing vouches for this key.
    CertAuthorityOnly { line: usize },
}

/// The host field OpenSSH writes for a host and port.
pub fn host_field(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// A line to append for a host key (unhashed, like `ssh-keygen` without `-H`).
pub fn format_line(host: &str, port: u16, key_type: &str, key_base64: &str) -> String {
    format!("{} {key_type} {key_base64}", host_field(host, port))
}

impl KnownHosts {
    /// Parses the whole text; broken lines become [`LineProblem`]s instead of failing the file.
    pub fn parse(text: &str) -> KnownHosts {
        let mut out = KnownHosts::default();
        for (idx, raw) in text.lines().enumerate() {
            let line = idx + 1;
            match parse_line(raw, line) {
                Ok(Some(entry)) => out.entries.push(entry),
                Ok(None) => {}
                Err(reason) => out.problems.push(LineProblem { line, reason }),
            }
        }
        out
    }

    /// Looks up the key a server presented. Revocation wins over everything, then an exact
    /// match, then a changed key; a key of another type only is unknown, as in OpenSSH.
    pub fn lookup(&self, host: &str, port: u16, key_type: &str, key_base64: &str) -> Match {
        let name = host_field(host, port);
        let presented = decode_key(key_base64);
        let same_key = |e: &Entry| e.key_type == key_type && keys_equal(e, key_base64, &presented);
        let for_host: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| hosts_match(&e.hosts, &name))
            .collect();
        if let Some(e) = for_host
            .iter()
            .find(|e| e.marker == Marker::Revoked && same_key(e))
        {
            return Match::Revoked { line: e.line };
        }
        let plain = || for_host.iter().filter(|e| e.marker == Marker::None);
        if let Some(e) = plain().find(|e| same_key(e)) {
            return Match::Known { line: e.line };
        }
        if let Some(e) = plain().find(|e| e.key_type == key_type) {
            return Match::Changed {
                line: e.line,
                recorded_type: e.key_type.clone(),
                recorded_base64: e.key_base64.clone(),
            };
        }
        if let Some(e) = for_host.iter().find(|e| e.marker == Marker::CertAuthority) {
            return Match::CertAuthorityOnly { line: e.line };
        }
        Match::Unknown
    }
}

fn parse_line(raw: &str, line: usize) -> Result<Option<Entry>, String> {
    let text = raw.trim();
    if text.is_empty() || text.starts_with('#') {
        return Ok(None);
    }
    let mut fields = text.split_whitespace();
    let mut first = fields.next().unwrap_or_default();
    let marker = if let Some(name) = first.strip_prefix('@') {
        let marker = match name {
            "cert-authority" => Marker::CertAuthority,
            "revoked" => Marker::Revoked,
            other => return Err(format!("unknown marker @{other}")),
        };
        first = fields
            .next()
            .ok_or_else(|| "a marker without host patterns".to_string())?;
        marker
    } else {
        Marker::None
    };
    let hosts = parse_hosts(first)?;
    let key_type = fields
        .next()
        .ok_or_else(|| "no key type after the host patterns".to_string())?;
    let key_base64 = fields
        .next()
        .ok_or_else(|| format!("no key after the key type {key_type}"))?;
    if decode_key(key_base64).is_none() {
        return Err(format!("the {key_type} key is not base64"));
    }
    Ok(Some(Entry {
        line,
        marker,
        hosts,
        key_type: key_type.to_string(),
        key_base64: key_base64.to_string(),
    }))
}

fn parse_hosts(field: &str) -> Result<Vec<HostPattern>, String> {
    if let Some(rest) = field.strip_prefix("|1|") {
        let (salt, hash) = rest
            .split_once('|')
            .ok_or_else(|| "a hashed host without its hash (expected |1|salt|hash)".to_string())?;
        let salt = B64
            .decode(salt)
            .map_err(|_| "the hashed host's salt is not base64".to_string())?;
        let hash = B64
            .decode(hash)
            .map_err(|_| "the hashed host's hash is not base64".to_string())?;
        return Ok(vec![HostPattern::Hashed { salt, hash }]);
    }
    if field.starts_with('|') {
        return Err("an unknown host hash format (only |1| exists)".to_string());
    }
    let patterns: Vec<HostPattern> = field
        .split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.strip_prefix('!') {
            Some(rest) => HostPattern::Plain {
                pattern: rest.to_ascii_lowercase(),
                negated: true,
            },
            None => HostPattern::Plain {
                pattern: p.to_ascii_lowercase(),
                negated: false,
            },
        })
        .collect();
    if patterns.is_empty() {
        return Err("an empty host field".to_string());
    }
    Ok(patterns)
}

/// A line applies when one positive pattern matches and no negated one does.
fn hosts_match(patterns: &[HostPattern], name: &str) -> bool {
    let mut positive = false;
    for p in patterns {
        match p {
            HostPattern::Plain { pattern, negated } => {
                if glob_match(pattern.as_bytes(), name.as_bytes()) {
                    if *negated {
                        return false;
                    }
                    positive = true;
                }
            }
            HostPattern::Hashed { salt, hash } => {
                if hashed_match(salt, hash, name) {
                    positive = true;
                }
            }
        }
    }
    positive
}

fn hashed_match(salt: &[u8], hash: &[u8], name: &str) -> bool {
    let Ok(mac) = Hmac::<Sha1>::new_from_slice(salt) else {
        return false;
    };
    mac.chain_update(name.as_bytes()).verify_slice(hash).is_ok()
}

/// `*` matches any run (also empty), `?` exactly one byte; iterative with one backtrack
/// point, so a hostile pattern cannot make it exponential.
fn glob_match(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == name[n]) {
            p += 1;
            n += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == b'*' {
        p += 1;
    }
    p == pattern.len()
}

fn decode_key(text: &str) -> Option<Vec<u8>> {
    B64.decode(text).ok().filter(|k| !k.is_empty())
}

fn keys_equal(entry: &Entry, presented_text: &str, presented: &Option<Vec<u8>>) -> bool {
    match (decode_key(&entry.key_base64), presented) {
        (Some(a), Some(b)) => a == *b,
        _ => entry.key_base64 == presented_text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two ed25519 public keys made with `ssh-keygen -t ed25519`.
    const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA37xxax8Wr5HC3glifdQoXR64uARIu5vdNEKemLaxAN";
    const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIOntGVhRq1T7/i9ljw2Q4K4/wNvEPOrWv6Poi9BxnaDB";
    const ED: &str = "ssh-ed25519";

    /// Output of `ssh-keygen -H` on a file holding `[127.0.0.1]:2222 K1` and
    /// `node-a.example.com K2`.
    const HASHED: &str = "\
|1|B5V3hjjb/P8gixo7pmnfIvFF06w=|6K43sAq+pD1UmtjluRMXPBEKzgQ= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA37xxax8Wr5HC3glifdQoXR64uARIu5vdNEKemLaxAN
|1|CV7AStoMzS/IBCeuVjQCmq9D7R4=|ZHLbLrdahPmq8XLJ7797WnUr3Bo= ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOntGVhRq1T7/i9ljw2Q4K4/wNvEPOrWv6Poi9BxnaDB
";

    fn kh(text: &str) -> KnownHosts {
        KnownHosts::parse(text)
    }

    #[test]
    fn host_field_brackets_only_non_default_ports() {
        assert_eq!(host_field("Node-A", 22), "node-a");
        assert_eq!(host_field("10.0.0.1", 2222), "[10.0.0.1]:2222");
        assert_eq!(
            format_line("h", 2200, ED, K1),
            format!("[h]:2200 {ED} {K1}")
        );
    }

    #[test]
    fn plain_entry_is_known_with_its_line_number() {
        let k = kh(&format!("# comment\n\nnode-a {ED} {K1} a comment\n"));
        assert_eq!(k.lookup("node-a", 22, ED, K1), Match::Known { line: 3 });
        assert_eq!(k.lookup("NODE-A", 22, ED, K1), Match::Known { line: 3 });
        assert!(k.problems.is_empty());
    }

    #[test]
    fn port_must_match_the_bracket_form() {
        let k = kh(&format!("[127.0.0.1]:2222 {ED} {K1}\n"));
        assert_eq!(
            k.lookup("127.0.0.1", 2222, ED, K1),
            Match::Known { line: 1 }
        );
        assert_eq!(k.lookup("127.0.0.1", 22, ED, K1), Match::Unknown);
        assert_eq!(k.lookup("127.0.0.1", 2223, ED, K1), Match::Unknown);
    }

    #[test]
    fn comma_lists_match_each_name() {
        let k = kh(&format!("node-a,10.0.0.5,[10.0.0.5]:2200 {ED} {K1}\n"));
        assert_eq!(k.lookup("10.0.0.5", 22, ED, K1), Match::Known { line: 1 });
        assert_eq!(k.lookup("10.0.0.5", 2200, ED, K1), Match::Known { line: 1 });
        assert_eq!(k.lookup("node-b", 22, ED, K1), Match::Unknown);
    }

    #[test]
    fn different_key_of_same_type_is_changed_and_names_the_line() {
        let k = kh(&format!("other {ED} {K2}\nnode-a {ED} {K2}\n"));
        assert_eq!(
            k.lookup("node-a", 22, ED, K1),
            Match::Changed {
                line: 2,
                recorded_type: ED.to_string(),
                recorded_base64: K2.to_string(),
            }
        );
    }

    #[test]
    fn a_key_of_another_type_only_is_unknown() {
        let k = kh(&format!("node-a ecdsa-sha2-nistp256 {K2}\n"));
        assert_eq!(k.lookup("node-a", 22, ED, K1), Match::Unknown);
    }

    #[test]
    fn exact_match_wins_over_an_older_changed_line() {
        let k = kh(&format!("node-a {ED} {K2}\nnode-a {ED} {K1}\n"));
        assert_eq!(k.lookup("node-a", 22, ED, K1), Match::Known { line: 2 });
    }

    #[test]
    fn hashed_lines_from_ssh_keygen_match_their_names_only() {
        let k = kh(HASHED);
        assert!(k.problems.is_empty(), "{:?}", k.problems);
        assert_eq!(
            k.lookup("127.0.0.1", 2222, ED, K1),
            Match::Known { line: 1 }
        );
        assert_eq!(
            k.lookup("node-a.example.com", 22, ED, K2),
            Match::Known { line: 2 }
        );
        assert_eq!(
            k.lookup("node-a.example.com", 22, ED, K1),
            Match::Changed {
                line: 2,
                recorded_type: ED.to_string(),
                recorded_base64: K2.to_string(),
            }
        );
        assert_eq!(k.lookup("127.0.0.1", 22, ED, K1), Match::Unknown);
        assert_eq!(k.lookup("node-b.example.com", 22, ED, K2), Match::Unknown);
    }

    #[test]
    fn hashed_line_we_produce_ourselves_matches() {
        let salt = b"0123456789abcdefghij";
        let mac = Hmac::<Sha1>::new_from_slice(salt).map(|m| m.chain_update(b"[h]:7"));
        let hash = mac
            .map(|m| m.finalize().into_bytes().to_vec())
            .unwrap_or_default();
        let line = format!("|1|{}|{} {ED} {K1}\n", B64.encode(salt), B64.encode(hash));
        assert_eq!(kh(&line).lookup("h", 7, ED, K1), Match::Known { line: 1 });
    }

    #[test]
    fn wildcards_and_question_marks() {
        let k = kh(&format!("*.prod.example.com,10.0.0.? {ED} {K1}\n"));
        assert_eq!(
            k.lookup("db1.prod.example.com", 22, ED, K1),
            Match::Known { line: 1 }
        );
        assert_eq!(k.lookup("10.0.0.7", 22, ED, K1), Match::Known { line: 1 });
        assert_eq!(k.lookup("10.0.0.17", 22, ED, K1), Match::Unknown);
        assert_eq!(k.lookup("prod.example.com", 22, ED, K1), Match::Unknown);
        // A bare * also covers bracketed non-default ports, as in OpenSSH.
        let all = kh(&format!("* {ED} {K1}\n"));
        assert_eq!(all.lookup("x", 2222, ED, K1), Match::Known { line: 1 });
    }

    #[test]
    fn negation_excludes_a_host_even_when_a_wildcard_matches() {
        let k = kh(&format!("*.example.com,!bastion.example.com {ED} {K1}\n"));
        assert_eq!(
            k.lookup("web.example.com", 22, ED, K1),
            Match::Known { line: 1 }
        );
        assert_eq!(k.lookup("bastion.example.com", 22, ED, K1), Match::Unknown);
        // A negation alone matches nothing.
        assert_eq!(
            kh(&format!("!x {ED} {K1}\n")).lookup("y", 22, ED, K1),
            Match::Unknown
        );
    }

    #[test]
    fn glob_is_linear_on_hostile_patterns() {
        let pattern = "*a".repeat(50);
        let name = "a".repeat(200) + "b";
        assert!(!glob_match(pattern.as_bytes(), name.as_bytes()));
        assert!(glob_match(b"a*b*c", b"axxbyyc"));
        assert!(glob_match(b"**", b""));
        assert!(!glob_match(b"?", b""));
    }

    #[test]
    fn revoked_key_is_refused_even_when_also_listed() {
        let k = kh(&format!("node-a {ED} {K1}\n@revoked * {ED} {K1}\n"));
        assert_eq!(k.lookup("node-a", 22, ED, K1), Match::Revoked { line: 2 });
        assert_eq!(
            k.lookup("node-a", 22, ED, K2),
            Match::Changed {
                line: 1,
                recorded_type: ED.to_string(),
                recorded_base64: K1.to_string(),
            }
        );
    }

    #[test]
    fn cert_authority_lines_neither_vouch_for_nor_conflict_with_plain_keys() {
        let k = kh(&format!("@cert-authority *.example.com {ED} {K2}\n"));
        assert_eq!(
            k.lookup("a.example.com", 22, ED, K1),
            Match::CertAuthorityOnly { line: 1 }
        );
        assert_eq!(k.lookup("a.other.org", 22, ED, K1), Match::Unknown);
        let both = kh(&format!(
            "@cert-authority *.example.com {ED} {K2}\na.example.com {ED} {K1}\n"
        ));
        assert_eq!(
            both.lookup("a.example.com", 22, ED, K1),
            Match::Known { line: 2 }
        );
    }

    #[test]
    fn broken_lines_are_reported_and_skipped() {
        let text = format!(
            "@bogus h {ED} {K1}\nonly-host\nh {ED}\nh {ED} not*base64\n|1|abc {ED} {K1}\n|2|a|b {ED} {K1}\n@revoked\ngood {ED} {K1}\n"
        );
        let k = kh(&text);
        let lines: Vec<usize> = k.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 4, 5, 6, 7]);
        assert!(k.problems[0].reason.contains("@bogus"));
        assert_eq!(k.entries.len(), 1);
        assert_eq!(k.lookup("good", 22, ED, K1), Match::Known { line: 8 });
    }

    #[test]
    fn crlf_and_tabs_are_tolerated() {
        let k = kh(&format!("node-a\t{ED}\t{K1}\r\n"));
        assert_eq!(k.lookup("node-a", 22, ED, K1), Match::Known { line: 1 });
    }
}
