//! Kubernetes `Status` bodies. kube-rs decides `is_not_found()` and friends from `reason`
//! alone, so every constructor here fixes the exact reason string a real apiserver sends.

use serde_json::{Value, json};

use super::kinds::ResourceKind;

/// One entry of `details.causes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// An error as the API reports it: HTTP code + `Status` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: u16,
    /// Empty for errors that have no reason (plain-text 404 of unknown paths).
    pub reason: String,
    pub message: String,
    /// Boxed to keep `Result<_, ApiError>` small.
    pub details: Option<Box<Details>>,
    /// The real apiserver answers unknown resource paths with plain text, not JSON.
    pub plain_text: bool,
    /// `metadata.continue` for an expired continue token.
    pub continue_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Details {
    pub name: String,
    pub group: String,
    pub kind: String,
    pub uid: String,
    pub causes: Vec<Cause>,
    pub retry_after_seconds: Option<u32>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.reason, self.message)
    }
}

impl std::error::Error for ApiError {}

fn details_for(kind: &ResourceKind, name: &str) -> Details {
    Details {
        name: name.to_string(),
        group: kind.group.to_string(),
        kind: kind.resource.to_string(),
        ..Details::default()
    }
}

impl ApiError {
    pub fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason: reason.to_string(),
            message: message.into(),
            details: None,
            plain_text: false,
            continue_token: None,
        }
    }

    pub fn with_details(mut self, details: Details) -> Self {
        self.details = Some(Box::new(details));
        self
    }

    /// `404 page not found` in plain text: what a real server says for a path it does not serve.
    pub fn page_not_found() -> Self {
        ApiError {
            plain_text: true,
            ..ApiError::new(404, "", "404 page not found")
        }
    }

    pub fn not_found(kind: &ResourceKind, name: &str) -> Self {
        ApiError::new(
            404,
            "NotFound",
            format!("{} \"{}\" not found", kind.qualified(), name),
        )
        .with_details(details_for(kind, name))
    }

    /// A namespaced request under a namespace that does not exist.
    pub fn namespace_not_found(ns: &str) -> Self {
        ApiError::new(404, "NotFound", format!("namespaces \"{ns}\" not found")).with_details(
            Details {
                name: ns.to_string(),
                kind: "namespaces".into(),
                ..Details::default()
            },
        )
    }

    pub fn already_exists(kind: &ResourceKind, name: &str) -> Self {
        ApiError::new(
            409,
            "AlreadyExists",
            format!("{} \"{}\" already exists", kind.qualified(), name),
        )
        .with_details(details_for(kind, name))
    }

    pub fn conflict(kind: &ResourceKind, name: &str) -> Self {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                kind.qualified(),
                name
            ),
        )
        .with_details(details_for(kind, name))
    }

    /// A conflict with a custom message (precondition failures, deletion in progress).
    pub fn conflict_msg(kind: &ResourceKind, name: &str, msg: &str) -> Self {
        ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{}\": {}",
                kind.qualified(),
                name,
                msg
            ),
        )
        .with_details(details_for(kind, name))
    }

    /// 422 Invalid with field causes: `<Kind> "name" is invalid: field: message`.
    pub fn invalid(kind: &ResourceKind, name: &str, causes: Vec<Cause>) -> Self {
        let list: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let body = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let mut d = details_for(kind, name);
        d.kind = kind.kind.to_string();
        d.causes = causes;
        ApiError::new(
            422,
            "Invalid",
            format!("{} \"{}\" is invalid: {}", kind.kind, name, body),
        )
        .with_details(d)
    }

    /// One `FieldValueInvalid` cause.
    pub fn invalid_field(
        kind: &ResourceKind,
        name: &str,
        field: &str,
        value: &str,
        msg: &str,
    ) -> Self {
        ApiError::invalid(
            kind,
            name,
            vec![Cause {
                reason: "FieldValueInvalid".into(),
                message: format!("Invalid value: \"{value}\": {msg}"),
                field: field.into(),
            }],
        )
    }

    /// One `FieldValueRequired` cause.
    pub fn required_field(kind: &ResourceKind, name: &str, field: &str) -> Self {
        ApiError::invalid(
            kind,
            name,
            vec![Cause {
                reason: "FieldValueRequired".into(),
                message: "Required value".into(),
                field: field.into(),
            }],
        )
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", msg)
    }

    pub fn expired(msg: impl Into<String>) -> Self {
        ApiError::new(410, "Expired", msg)
    }

    pub fn unauthorized() -> Self {
        ApiError::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn forbidden(msg: impl Into<String>) -> Self {
        ApiError::new(403, "Forbidden", msg)
    }

    pub fn unsupported_media_type(content_type: &str, accepted: &[&str]) -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
        )
        .with_details(Details {
            causes: vec![Cause {
                reason: "UnexpectedServerResponse".into(),
                message: format!("unsupported media type \"{content_type}\""),
                field: String::new(),
            }],
            ..Details::default()
        })
    }

    pub fn method_not_allowed(msg: impl Into<String>) -> Self {
        ApiError::new(405, "MethodNotAllowed", msg)
    }

    pub fn internal(msg: impl Into<String>) -> Self {
        ApiError::new(
            500,
            "InternalError",
            format!("Internal error occurred: {}", msg.into()),
        )
    }

    pub fn too_large_rv() -> Self {
        ApiError::new(504, "Timeout", "Too large resource version").with_details(Details {
            causes: vec![Cause {
                reason: "ResourceVersionTooLarge".into(),
                message: "Too large resource version".into(),
                field: String::new(),
            }],
            retry_after_seconds: Some(1),
            ..Details::default()
        })
    }

    pub fn is_not_found(&self) -> bool {
        self.reason == "NotFound"
    }

    pub fn is_conflict(&self) -> bool {
        self.reason == "Conflict"
    }

    pub fn is_already_exists(&self) -> bool {
        self.reason == "AlreadyExists"
    }

    /// The `Status` object.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if self.reason.is_empty()
            && let Some(m) = v.as_object_mut()
        {
            m.remove("reason");
        }
        if let Some(t) = &self.continue_token {
            v["metadata"] = json!({ "continue": t });
        }
        if let Some(d) = &self.details {
            let mut dj = serde_json::Map::new();
            if !d.name.is_empty() {
                dj.insert("name".into(), d.name.clone().into());
            }
            if !d.group.is_empty() {
                dj.insert("group".into(), d.group.clone().into());
            }
            if !d.kind.is_empty() {
                dj.insert("kind".into(), d.kind.clone().into());
            }
            if !d.uid.is_empty() {
                dj.insert("uid".into(), d.uid.clone().into());
            }
            if !d.causes.is_empty() {
                let causes: Vec<Value> = d
                    .causes
                    .iter()
                    .map(|c| {
                        let mut o = json!({"reason": c.reason, "message": c.message});
                        if !c.field.is_empty() {
                            o["field"] = c.field.clone().into();
                        }
                        o
                    })
                    .collect();
                dj.insert("causes".into(), causes.into());
            }
            if let Some(r) = d.retry_after_seconds {
                dj.insert("retryAfterSeconds".into(), r.into());
            }
            v["details"] = Value::Object(dj);
        }
        v
    }
}

/// `200 Success` Status returned when a delete removed the object.
pub fn delete_success(kind: &ResourceKind, name: &str, uid: &str) -> Value {
    let mut details = json!({"name": name, "kind": kind.resource, "uid": uid});
    if !kind.group.is_empty() {
        details["group"] = kind.group.into();
    }
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::apiserver::kinds::{KINDS, by_name, names};

    #[test]
    fn not_found_names_group_resource() {
        let k = &KINDS[by_name(names::CLUSTERS).expect("kind")];
        let e = ApiError::not_found(k, "a").to_json();
        assert_eq!(e["reason"], "NotFound");
        assert_eq!(e["code"], 404);
        assert_eq!(
            e["message"],
            "clusters.platform.tkestack.io \"a\" not found"
        );
        assert_eq!(e["details"]["group"], "platform.tkestack.io");
        assert_eq!(e["details"]["kind"], "clusters");
    }

    #[test]
    fn invalid_lists_causes() {
        let k = &KINDS[by_name(names::CONFIG_MAPS).expect("kind")];
        let e = ApiError::invalid_field(k, "A", "metadata.name", "A", "bad").to_json();
        assert_eq!(e["code"], 422);
        assert_eq!(
            e["message"],
            "ConfigMap \"A\" is invalid: metadata.name: Invalid value: \"A\": bad"
        );
        assert_eq!(e["details"]["causes"][0]["reason"], "FieldValueInvalid");
    }
}
