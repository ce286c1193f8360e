//! Pull secrets: which registry hosts a `.dockerconfigjson` (or legacy `.dockercfg`) covers,
//! and the credentials for one. Credentials stay in zeroized memory and out of `Debug`.

use std::fmt;

use base64::Engine as _;
use zeroize::Zeroizing;

/// A user name and password from a pull secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Zeroizing<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

/// The entries of a docker config: host key as written, and its credentials when readable.
#[derive(Clone, Debug, Default)]
pub struct DockerConfig {
    pub entries: Vec<(String, Option<Credentials>)>,
}

/// Why a secret's data is not a docker config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotDockerConfig(pub String);

impl DockerConfig {
    /// Parses `.dockerconfigjson` (`{"auths": {...}}`) or `.dockercfg` (the map itself).
    pub fn parse(json: &[u8]) -> Result<DockerConfig, NotDockerConfig> {
        let v: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| NotDockerConfig(e.to_string()))?;
        let map = v
            .get("auths")
            .unwrap_or(&v)
            .as_object()
            .ok_or_else(|| NotDockerConfig("no \"auths\" object".to_string()))?;
        let entries = map
            .iter()
            .map(|(host, e)| (host.clone(), credentials(e)))
            .collect();
        Ok(DockerConfig { entries })
    }

    /// The host keys, as written.
    pub fn hosts(&self) -> Vec<&str> {
        self.entries.iter().map(|(h, _)| h.as_str()).collect()
    }

    /// The entry that covers `host` (with port when the image names one), the way the kubelet
    /// matches: scheme and path ignored, host and port equal.
    pub fn find(&self, host: &str) -> Option<&(String, Option<Credentials>)> {
        self.entries
            .iter()
            .find(|(k, _)| normalise(k).eq_ignore_ascii_case(host))
    }
}

fn normalise(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

fn credentials(e: &serde_json::Value) -> Option<Credentials> {
    let field = |k: &str| e.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
    if let (Some(u), Some(p)) = (field("username"), field("password")) {
        return Some(Credentials {
            username: u.to_string(),
            password: Zeroizing::new(p.to_string()),
        });
    }
    let raw = Zeroizing::new(
        base64::engine::general_purpose::STANDARD
            .decode(field("auth")?)
            .ok()?,
    );
    let text = std::str::from_utf8(&raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some(Credentials {
        username: u.to_string(),
        password: Zeroizing::new(p.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_and_explicit_fields_both_give_credentials() {
        let auth = base64::engine::general_purpose::STANDARD.encode("puller:s3cret");
        let json = format!(
            r#"{{"auths":{{"https://internal-docker-registry.cpaas-system.svc/v2/":{{"auth":"{auth}"}},
               "127.0.0.1:5000":{{"username":"u","password":"p"}},"broken":{{"auth":"@@"}}}}}}"#
        );
        let c = DockerConfig::parse(json.as_bytes()).expect("parses");
        let (_, cred) = c
            .find("internal-docker-registry.cpaas-system.svc")
            .expect("covered");
        let cred = cred.as_ref().expect("credentials");
        assert_eq!(cred.username, "puller");
        assert_eq!(cred.password.as_str(), "s3cret");
        assert!(!format!("{cred:?}").contains("s3cret"));
        assert!(c.find("127.0.0.1:5000").is_some());
        assert!(c.find("127.0.0.1").is_none());
        assert!(c.find("image-registry.cpaas-system.svc").is_none());
        assert!(c.find("broken").is_some_and(|(_, c)| c.is_none()));
    }

    #[test]
    fn legacy_format_and_garbage() {
        let c = DockerConfig::parse(br#"{"reg.example":{"username":"a","password":"b"}}"#);
        assert_eq!(c.map(|c| c.hosts().len()).ok(), Some(1));
        assert!(DockerConfig::parse(b"[1]").is_err());
        assert!(DockerConfig::parse(b"not json").is_err());
    }
}
