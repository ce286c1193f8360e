//! Image references as kubelet reads them: `[host[:port]/]path[:tag][@digest]`.

use std::fmt;

use serde::Serialize;

/// A parsed image reference. The built-in registry stores images as `<host>/<namespace>/<app>`,
/// so the first path component is the namespace whose pull rights matter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    pub host: String,
    pub repository: String,
    /// The tag, or the digest when the reference pins one.
    pub reference: String,
}

impl ImageRef {
    /// Parses a reference; `None` for something that is not one (empty parts, spaces).
    pub fn parse(s: &str) -> Option<ImageRef> {
        let s = s.trim();
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            return None;
        }
        let (name, digest) = match s.split_once('@') {
            Some((n, d)) if d.contains(':') => (n, Some(d)),
            Some(_) => return None,
            None => (s, None),
        };
        let (host, path) = match name.split_once('/') {
            Some((h, p)) if h.contains('.') || h.contains(':') || h == "localhost" => (h, p),
            _ => ("docker.io", name),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t)),
            _ => (path, None),
        };
        if host.is_empty()
            || repository.is_empty()
            || repository.split('/').any(str::is_empty)
            || tag.is_some_and(str::is_empty)
        {
            return None;
        }
        let reference = digest.or(tag).unwrap_or("latest");
        Some(ImageRef {
            host: host.to_string(),
            repository: repository.to_string(),
            reference: reference.to_string(),
        })
    }

    /// The image the guide's layout gives: `<host>/<namespace>/<app>:<tag>`.
    pub fn in_namespace(host: &str, namespace: &str, app: &str, tag: &str) -> ImageRef {
        ImageRef {
            host: host.to_string(),
            repository: format!("{namespace}/{app}"),
            reference: tag.to_string(),
        }
    }

    /// The namespace the image lives in: the first path component, when there are two or more.
    pub fn namespace(&self) -> Option<&str> {
        self.repository.split_once('/').map(|(ns, _)| ns)
    }

    /// The host without a port, as a certificate or a resolver sees it.
    pub fn hostname(&self) -> &str {
        split_host_port(&self.host).0
    }

    /// The port the registry listens on (443 unless the reference names one).
    pub fn port(&self) -> u16 {
        split_host_port(&self.host).1.unwrap_or(443)
    }

    pub fn is_digest(&self) -> bool {
        self.reference.contains(':')
    }
}

/// Splits `host:port` (or `[v6]:port`); a host without a port gives `None`.
pub fn split_host_port(h: &str) -> (&str, Option<u16>) {
    if let Some(rest) = h.strip_prefix('[')
        && let Some((ip, tail)) = rest.split_once(']')
    {
        return (ip, tail.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    match h.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(p) => (host, Some(p)),
            Err(_) => (h, None),
        },
        _ => (h, None),
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.is_digest() { '@' } else { ':' };
        write!(
            f,
            "{}/{}{sep}{}",
            self.host, self.repository, self.reference
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_image_names_its_namespace() {
        let r = ImageRef::parse("internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1");
        let r = r.expect("parses");
        assert_eq!(r.host, "internal-docker-registry.cpaas-system.svc");
        assert_eq!(r.repository, "my-ns/my-app");
        assert_eq!(r.reference, "v1");
        assert_eq!(r.namespace(), Some("my-ns"));
        assert_eq!(r.port(), 443);
        assert_eq!(
            r.to_string(),
            "internal-docker-registry.cpaas-system.svc/my-ns/my-app:v1"
        );
    }

    #[test]
    fn ports_digests_and_defaults() {
        let r = ImageRef::parse("127.0.0.1:5000/shared-ns/base@sha256:abc").expect("parses");
        assert_eq!((r.hostname(), r.port()), ("127.0.0.1", 5000));
        assert!(r.is_digest());
        assert_eq!(r.to_string(), "127.0.0.1:5000/shared-ns/base@sha256:abc");
        let d = ImageRef::parse("nginx").expect("parses");
        assert_eq!(
            (d.host.as_str(), d.repository.as_str()),
            ("docker.io", "nginx")
        );
        assert_eq!(d.reference, "latest");
        assert_eq!(d.namespace(), None);
        let l = ImageRef::parse("localhost/a/b").expect("parses");
        assert_eq!(l.host, "localhost");
        assert_eq!(split_host_port("[::1]:5000"), ("::1", Some(5000)));
    }

    #[test]
    fn garbage_is_not_a_reference() {
        for s in [
            "",
            "a b",
            "host.io//x",
            "host.io/x:",
            "x@nodigest",
            "host.io/",
        ] {
            assert_eq!(ImageRef::parse(s), None, "{s}");
        }
    }
}
