//! kube-apiserver's `EncryptionConfiguration` (`apiserver.config.k8s.io/v1`) as the
//! etcd-encryption-manager writes it to `/etc/kubernetes/encryption-provider.conf` on every
//! control-plane node, reduced to what may leave the engine: resources, provider kinds, key
//! names and a short SHA-256 fingerprint of each key.
//!
//! The file holds the keys themselves. The parser never keeps a secret: each one is decoded,
//! fingerprinted and wiped in place, and no error message quotes the file (a YAML library's
//! message may echo the value it choked on, which could be a key), only paths and line numbers.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

/// `apiVersion` of the file.
pub const API_VERSION: &str = "apiserver.config.k8s.io/v1";
/// `kind` of the file.
pub const KIND: &str = "EncryptionConfiguration";
/// Largest file read: the manager's file with eight keys is well under 2 KiB.
pub const MAX_FILE_BYTES: usize = 64 * 1024;
/// Hex digits of SHA-256 shown: enough to tell keys apart, far too few to matter.
pub const FINGERPRINT_HEX: usize = 12;
/// Provider kinds kube-apiserver knows.
pub const PROVIDER_KINDS: [&str; 5] = ["aesgcm", "aescbc", "secretbox", "kms", "identity"];
/// Sizes of an AES-GCM key in bytes.
const AESGCM_SIZES: [usize; 3] = [16, 24, 32];

/// One key as it may be shown: its name and a fingerprint, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct KeyInfo {
    pub name: String,
    /// `sha256:` and the first [`FINGERPRINT_HEX`] hex digits of SHA-256 over the decoded key.
    pub fingerprint: String,
}

/// One entry of a rule's `providers`, in order (the first encrypts new writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderInfo {
    /// `aesgcm`, `aescbc`, `secretbox`, `kms` or `identity`.
    pub kind: String,
    pub keys: Vec<KeyInfo>,
}

/// One entry of the top-level `resources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceRule {
    pub resources: Vec<String>,
    pub providers: Vec<ProviderInfo>,
}

/// What the file says, without key material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EncryptionFacts {
    pub rules: Vec<ResourceRule>,
}

/// Why a file was rejected: where in the file, and what is wrong. Holds no file content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// A path such as `resources[0].providers[1].aesgcm.keys[2].secret`, or `line 4`.
    pub at: String,
    pub problem: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}", self.problem)
        } else {
            write!(f, "{}: {}", self.at, self.problem)
        }
    }
}

impl std::error::Error for ParseError {}

fn err(at: impl Into<String>, problem: impl Into<String>) -> ParseError {
    ParseError {
        at: at.into(),
        problem: problem.into(),
    }
}

/// The short fingerprint of a decoded key.
pub fn fingerprint(key: &[u8]) -> String {
    let digest = Sha256::digest(key);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{}", &hex[..FINGERPRINT_HEX])
}

/// The revision a key name stands for: its trailing digits (`key7`, `7`, `rev-7`). ACP's own
/// naming is not documented, so only the number is compared.
pub fn key_revision(name: &str) -> Option<i64> {
    let digits: String = name
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().ok()
}

/// Parses the file's text. Every secret met is wiped from the parsed tree before returning.
pub fn parse(text: &str) -> Result<EncryptionFacts, ParseError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(err(
            "",
            format!(
                "the file is {} bytes, more than the {MAX_FILE_BYTES} an encryption config needs",
                text.len()
            ),
        ));
    }
    if text.trim().is_empty() {
        return Err(err("", "the file is empty"));
    }
    let mut doc: Value = serde_saphyr::from_str(text).map_err(|e| {
        let at = e
            .location()
            .map(|l| format!("line {} column {}", l.line(), l.column()))
            .unwrap_or_default();
        err(
            at,
            "not valid YAML (the parser's own words are withheld: they may quote a key)",
        )
    })?;
    let result = facts_of(&doc);
    wipe_secrets(&mut doc);
    result
}

fn facts_of(doc: &Value) -> Result<EncryptionFacts, ParseError> {
    if !doc.is_object() {
        return Err(err(
            "",
            "expected a mapping with apiVersion, kind and resources",
        ));
    }
    match doc.get("kind").and_then(Value::as_str) {
        Some(KIND) => {}
        Some(other) => return Err(err("kind", format!("is {other:?}, expected {KIND}"))),
        None => return Err(err("kind", format!("is missing, expected {KIND}"))),
    }
    match doc.get("apiVersion").and_then(Value::as_str) {
        Some(API_VERSION) | Some("apiserver.config.k8s.io/v1beta1") => {}
        Some(other) => {
            return Err(err(
                "apiVersion",
                format!("is {other:?}, expected {API_VERSION}"),
            ));
        }
        None => {
            return Err(err(
                "apiVersion",
                format!("is missing, expected {API_VERSION}"),
            ));
        }
    }
    let rules = doc
        .get("resources")
        .and_then(Value::as_array)
        .ok_or_else(|| err("resources", "is missing or not a list"))?;
    if rules.is_empty() {
        return Err(err("resources", "is empty: nothing would be encrypted"));
    }
    let rules = rules
        .iter()
        .enumerate()
        .map(|(i, r)| rule_of(r, &format!("resources[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EncryptionFacts { rules })
}

fn strings_of(v: Option<&Value>, at: &str) -> Result<Vec<String>, ParseError> {
    let list = v
        .and_then(Value::as_array)
        .ok_or_else(|| err(at, "is missing or not a list"))?;
    list.iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| err(format!("{at}[{i}]"), "is not a text"))
        })
        .collect()
}

fn rule_of(rule: &Value, at: &str) -> Result<ResourceRule, ParseError> {
    let resources = strings_of(rule.get("resources"), &format!("{at}.resources"))?;
    if resources.is_empty() {
        return Err(err(format!("{at}.resources"), "is empty"));
    }
    let providers = rule
        .get("providers")
        .and_then(Value::as_array)
        .ok_or_else(|| err(format!("{at}.providers"), "is missing or not a list"))?;
    if providers.is_empty() {
        return Err(err(format!("{at}.providers"), "is empty"));
    }
    let providers = providers
        .iter()
        .enumerate()
        .map(|(i, p)| provider_of(p, &format!("{at}.providers[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ResourceRule {
        resources,
        providers,
    })
}

fn provider_of(p: &Value, at: &str) -> Result<ProviderInfo, ParseError> {
    let map = p
        .as_object()
        .ok_or_else(|| err(at, "is not a mapping with one provider"))?;
    if map.len() != 1 {
        return Err(err(
            at,
            format!(
                "holds {} provider types; each entry holds exactly one",
                map.len()
            ),
        ));
    }
    let Some((kind, body)) = map.iter().next() else {
        return Err(err(at, "is empty"));
    };
    if !PROVIDER_KINDS.contains(&kind.as_str()) {
        return Err(err(
            format!("{at}.{kind}"),
            "is not a provider kube-apiserver knows (aesgcm, aescbc, secretbox, kms, identity)",
        ));
    }
    let at = format!("{at}.{kind}");
    if kind == "identity" || kind == "kms" {
        return Ok(ProviderInfo {
            kind: kind.clone(),
            keys: Vec::new(),
        });
    }
    let keys = body
        .get("keys")
        .and_then(Value::as_array)
        .ok_or_else(|| err(format!("{at}.keys"), "is missing or not a list"))?;
    if keys.is_empty() {
        return Err(err(format!("{at}.keys"), "is empty"));
    }
    let mut out: Vec<KeyInfo> = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        let kat = format!("{at}.keys[{i}]");
        let info = key_of(k, kind, &kat)?;
        if out.iter().any(|o| o.name == info.name) {
            return Err(err(
                format!("{kat}.name"),
                format!("{:?} appears twice; key names must be unique", info.name),
            ));
        }
        out.push(info);
    }
    Ok(ProviderInfo {
        kind: kind.clone(),
        keys: out,
    })
}

fn key_of(k: &Value, kind: &str, at: &str) -> Result<KeyInfo, ParseError> {
    let name = k
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| err(format!("{at}.name"), "is missing or empty"))?
        .to_string();
    let secret = k
        .get("secret")
        .and_then(Value::as_str)
        .ok_or_else(|| err(format!("{at}.secret"), "is missing or not a text"))?;
    let bytes: Zeroizing<Vec<u8>> = Zeroizing::new(
        B64.decode(secret.trim())
            .map_err(|_| err(format!("{at}.secret"), "is not base64"))?,
    );
    if kind == "aesgcm" && !AESGCM_SIZES.contains(&bytes.len()) {
        return Err(err(
            format!("{at}.secret"),
            format!(
                "decodes to {} bytes; an aesgcm key is 16, 24 or 32 bytes",
                bytes.len()
            ),
        ));
    }
    Ok(KeyInfo {
        name,
        fingerprint: fingerprint(&bytes),
    })
}

/// Overwrites every `secret` text in the tree, so the parsed copy holds no key once dropped.
fn wipe_secrets(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "secret"
                    && let Value::String(s) = child
                {
                    s.zeroize();
                } else {
                    wipe_secrets(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(wipe_secrets),
        _ => {}
    }
}

impl EncryptionFacts {
    /// The rule that covers `resource`, if any.
    pub fn rule_for(&self, resource: &str) -> Option<&ResourceRule> {
        self.rules
            .iter()
            .find(|r| r.resources.iter().any(|x| x == resource))
    }

    /// Every resource named by any rule, in file order.
    pub fn resources(&self) -> Vec<String> {
        self.rules
            .iter()
            .flat_map(|r| r.resources.iter().cloned())
            .collect()
    }

    /// The provider that encrypts new writes of the first rule.
    pub fn active_provider(&self) -> Option<&ProviderInfo> {
        self.rules.first().and_then(|r| r.providers.first())
    }

    /// The key that encrypts new writes (first key of the first provider).
    pub fn active_key(&self) -> Option<&KeyInfo> {
        self.active_provider().and_then(|p| p.keys.first())
    }
}

#[cfg(test)]
mod tests;
