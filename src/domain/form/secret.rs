//! A secret typed into the form, and its base64 form in the resource.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

/// A secret typed into the form: wiped from memory on drop, shown as `<redacted>` by `Debug`.
/// It implements neither `Serialize` nor `Deserialize`, so no draft or log can carry it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(Zeroizing::new(s.into()))
    }

    /// The secret text, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(super) fn to_base64(&self) -> Option<String> {
        (!self.is_empty()).then(|| B64.encode(self.0.as_bytes()))
    }

    /// Decodes a base64 field; text that is not base64 of UTF-8 gives an empty secret (the
    /// rules report such fields on the resource).
    pub(super) fn from_base64(b64: Option<&str>) -> Self {
        b64.and_then(|s| B64.decode(s.trim()).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .map(Self::new)
            .unwrap_or_default()
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::domain::form::ClusterForm;
    use crate::domain::form::tests::sample;

    #[test]
    fn secrets_never_reach_debug_or_drafts() {
        let f = sample();
        let dbg = format!("{f:?}");
        let json = serde_json::to_string(&f).expect("draft json");
        for s in ["s3cret!", "proxy-pw", "OPENSSH", "\"pp\""] {
            assert!(!dbg.contains(s), "{s} in Debug");
            assert!(!json.contains(s), "{s} in serialized form");
        }
        let restored: ClusterForm = serde_json::from_str(&json).expect("draft loads");
        assert!(restored.nodes()[0].password.is_empty());
        assert_eq!(restored.nodes()[0].ip, "192.168.0.11");
    }
}
