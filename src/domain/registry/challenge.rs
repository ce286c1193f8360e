//! The `WWW-Authenticate` challenge of a registry's `/v2/` (distribution's token spec).

/// What the registry asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Challenge {
    Basic {
        realm: String,
    },
    Bearer {
        realm: String,
        service: Option<String>,
    },
}

/// Parses `Basic realm="x"` or `Bearer realm="https://…/auth/token",service="…",scope="…"`.
pub fn parse(header: &str) -> Option<Challenge> {
    let (scheme, params) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    let mut realm = None;
    let mut service = None;
    for (k, v) in params_of(params) {
        match k.to_ascii_lowercase().as_str() {
            "realm" => realm = Some(v),
            "service" => service = Some(v),
            _ => {}
        }
    }
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic {
            realm: realm.unwrap_or_default(),
        }),
        "bearer" => Some(Challenge::Bearer {
            realm: realm?,
            service,
        }),
        _ => None,
    }
}

/// `k="v",k2=v2` pairs; quoted values may hold commas.
fn params_of(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((k, after)) = rest.split_once('=') else {
            break;
        };
        let (v, tail) = match after.strip_prefix('"') {
            Some(q) => match q.split_once('"') {
                Some((v, t)) => (v, t),
                None => (q, ""),
            },
            None => after.split_once(',').unwrap_or((after, "")),
        };
        out.push((k.trim().to_string(), v.to_string()));
        rest = tail.trim_start_matches([',', ' ']);
    }
    out
}

/// The scope a pull of `repository` asks a token for.
pub fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_challenges() {
        assert_eq!(
            parse(r#"Basic realm="ci-registry""#),
            Some(Challenge::Basic {
                realm: "ci-registry".into()
            })
        );
        assert_eq!(
            parse(
                r#"Bearer realm="https://127.0.0.1:5001/auth/token",service="registry, inc",scope="repository:a/b:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://127.0.0.1:5001/auth/token".into(),
                service: Some("registry, inc".into())
            })
        );
        assert_eq!(parse("Bearer service=x"), None);
        assert_eq!(parse("Negotiate abc"), None);
        assert_eq!(pull_scope("my-ns/my-app"), "repository:my-ns/my-app:pull");
    }
}
