//! Object-meta validation shared by every kind: names, labels, annotations.

use serde_json::Value;

use super::kinds::{NameRule, ResourceKind};
use super::selectors::{valid_label_key, valid_label_value};
use super::status::{ApiError, Cause};

fn is_label_1123(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && s.bytes()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && s.bytes()
            .last()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_label_1123)
}

fn is_dns1035_label(s: &str) -> bool {
    is_label_1123(s) && s.bytes().next().is_some_and(|c| c.is_ascii_lowercase())
}

/// Checks `name` against the kind's rule; returns the message a real server would give.
pub fn name_error(rule: NameRule, name: &str) -> Option<String> {
    const SUB: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric \
         characters, '-' or '.', and must start and end with an alphanumeric character \
         (e.g. 'example.com', regex used for validation is \
         '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    const LABEL: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric \
         characters or '-', and must start and end with an alphanumeric character \
         (e.g. 'my-name',  or '123-abc', regex used for validation is \
         '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
    const L1035: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or \
         '-', start with an alphabetic character, and end with an alphanumeric character \
         (e.g. 'my-name',  or 'abc-123', regex used for validation is \
         '[a-z]([-a-z0-9]*[a-z0-9])?')";
    match rule {
        NameRule::Subdomain if !is_dns1123_subdomain(name) => Some(SUB.into()),
        NameRule::Label if !is_label_1123(name) => Some(LABEL.into()),
        NameRule::Label1035 if !is_dns1035_label(name) => Some(L1035.into()),
        NameRule::PathSegment
            if name.is_empty()
                || name == "."
                || name == ".."
                || name.contains('/')
                || name.contains('%') =>
        {
            Some("may not contain '/' or '%', and may not be '.' or '..'".into())
        }
        _ => None,
    }
}

/// Validates name, labels and annotations of an object about to be stored.
pub fn validate_meta(kind: &ResourceKind, obj: &Value) -> Result<(), ApiError> {
    let meta = obj.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut causes = Vec::new();
    if name.is_empty() {
        causes.push(Cause {
            reason: "FieldValueRequired".into(),
            message: "Required value: name or generateName is required".into(),
            field: "metadata.name".into(),
        });
    } else if let Some(msg) = name_error(kind.name_rule, name) {
        causes.push(Cause {
            reason: "FieldValueInvalid".into(),
            message: format!("Invalid value: \"{name}\": {msg}"),
            field: "metadata.name".into(),
        });
    }
    if let Some(labels) = meta.and_then(|m| m.get("labels")) {
        match labels {
            Value::Null => {}
            Value::Object(map) => {
                for (k, v) in map {
                    if !valid_label_key(k) {
                        causes.push(Cause {
                            reason: "FieldValueInvalid".into(),
                            message: format!("Invalid value: \"{k}\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
                            field: "metadata.labels".into(),
                        });
                    }
                    match v.as_str() {
                        Some(s) if valid_label_value(s) => {}
                        _ => causes.push(Cause {
                            reason: "FieldValueInvalid".into(),
                            message: format!("Invalid value: {v}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"),
                            field: "metadata.labels".into(),
                        }),
                    }
                }
            }
            _ => causes.push(Cause {
                reason: "FieldValueInvalid".into(),
                message: "Invalid value: must be a map of strings".into(),
                field: "metadata.labels".into(),
            }),
        }
    }
    if let Some(ann) = meta.and_then(|m| m.get("annotations")) {
        let ok = match ann {
            Value::Null => true,
            Value::Object(map) => map.values().all(Value::is_string),
            _ => false,
        };
        if !ok {
            causes.push(Cause {
                reason: "FieldValueInvalid".into(),
                message: "Invalid value: must be a map of strings".into(),
                field: "metadata.annotations".into(),
            });
        }
    }
    if let Some(f) = meta.and_then(|m| m.get("finalizers")) {
        let ok = match f {
            Value::Null => true,
            Value::Array(a) => a.iter().all(Value::is_string),
            _ => false,
        };
        if !ok {
            causes.push(Cause {
                reason: "FieldValueInvalid".into(),
                message: "Invalid value: must be a list of strings".into(),
                field: "metadata.finalizers".into(),
            });
        }
    }
    if causes.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(kind, name, causes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_dns1123_subdomain("a.b-c.d"));
        assert!(!is_dns1123_subdomain("A"));
        assert!(!is_dns1123_subdomain("-a"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(name_error(NameRule::Label, "a.b").is_some());
        assert!(name_error(NameRule::Label1035, "1ab").is_some());
        assert!(name_error(NameRule::PathSegment, "system:controller:x").is_none());
        assert!(name_error(NameRule::PathSegment, "a/b").is_some());
    }
}
