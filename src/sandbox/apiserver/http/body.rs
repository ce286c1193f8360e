//! Request bodies and write parameters: size-bounded reads, JSON/YAML decoding, dry run,
//! field manager and delete options.

use bytes::Bytes;
use http::Request;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::Value;

use super::{MAX_BODY, Query};
use crate::sandbox::apiserver::status::ApiError;
use crate::sandbox::apiserver::store::{Preconditions, WriteOptions};

pub(super) fn write_options(q: &Query, user_agent: &str) -> Result<WriteOptions, ApiError> {
    let dry_run = match q.get("dryRun") {
        None | Some("") => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid dry run value: unsupported value \"{other}\": supported values: \"All\""
            )));
        }
    };
    if let Some(v) = q.get("fieldValidation")
        && !["", "Strict", "Warn", "Ignore"].contains(&v)
    {
        return Err(ApiError::bad_request(format!(
            "fieldValidation: Unsupported value: \"{v}\": supported values: \"Ignore\", \"Strict\", \"Warn\""
        )));
    }
    let field_manager = match q.get("fieldManager") {
        Some(m) if !m.is_empty() => {
            if m.len() > 128 {
                return Err(ApiError::bad_request(
                    "fieldManager: Too long: may not be longer than 128",
                ));
            }
            Some(m.to_string())
        }
        _ => user_agent
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    };
    Ok(WriteOptions {
        dry_run,
        field_manager,
        force: q.flag("force"),
        creation_timestamp: None,
    })
}

pub(super) async fn read_body(req: Request<Incoming>) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(req.into_body(), MAX_BODY);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(ApiError::new(
                413,
                "RequestEntityTooLarge",
                "the request entity is too large",
            ))
        }
        Err(e) => Err(ApiError::bad_request(format!(
            "reading the request body: {e}"
        ))),
    }
}

pub(super) fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the body of the request was in an unknown format - couldn't get version/kind; json parse error: {e}"
        ))
    })
}

pub(super) fn parse_yaml_or_json(bytes: &[u8]) -> Result<Value, ApiError> {
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Ok(v);
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::bad_request("the body of the request is not valid UTF-8"))?;
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))
}

/// Reads a create/update body: JSON, or YAML when the client says so.
pub(super) async fn read_json(
    req: Request<Incoming>,
    content_type: &str,
) -> Result<Value, ApiError> {
    let base = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let bytes = read_body(req).await?;
    match base.as_str() {
        "" | "application/json" | "*/*" => parse_json(&bytes),
        "application/yaml" => parse_yaml_or_json(&bytes),
        "application/vnd.kubernetes.protobuf" => {
            crate::sandbox::apiserver::protobuf::decode(&bytes)
        }
        other => Err(ApiError::unsupported_media_type(
            other,
            &[
                "application/json",
                "application/yaml",
                "application/vnd.kubernetes.protobuf",
            ],
        )),
    }
}

/// `DeleteOptions` from a DELETE body (`{}` or empty when defaulted).
pub(super) fn delete_options(
    content_type: &str,
    bytes: &[u8],
) -> Result<(Preconditions, bool), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((Preconditions::default(), false));
    }
    let v = if content_type.starts_with("application/vnd.kubernetes.protobuf") {
        crate::sandbox::apiserver::protobuf::decode(bytes)?
    } else {
        parse_json(bytes)?
    };
    let dry = match v.get("dryRun") {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) if a.is_empty() => false,
        Some(Value::Array(a)) if a.len() == 1 && a[0] == "All" => true,
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid dry run value: unsupported value {other}: supported values: \"All\""
            )));
        }
    };
    let pre = v.get("preconditions");
    let s = |k: &str| {
        pre.and_then(|p| p.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    Ok((
        Preconditions {
            uid: s("uid"),
            resource_version: s("resourceVersion"),
        },
        dry,
    ))
}
