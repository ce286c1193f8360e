//! Review bodies as clients send them: JSON, or Kubernetes protobuf from kubectl's typed
//! clients, decoded by a minimal protobuf reader.

use serde_json::{Value, json};

use crate::sandbox::apiserver::status::ApiError;

/// The media type of Kubernetes protobuf bodies.
pub const PROTOBUF: &str = "application/vnd.kubernetes.protobuf";

/// A minimal protobuf reader: enough for the review messages below.
struct Pb<'a> {
    buf: &'a [u8],
}

enum Field<'a> {
    Bytes(&'a [u8]),
    /// Numbers and fixed-width values: reviews have none that matter.
    Skipped,
}

impl<'a> Pb<'a> {
    pub(super) fn varint(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.buf.split_first()?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Some(head)
    }

    /// The next (field number, value); `Err` on malformed input.
    pub(super) fn next(&mut self) -> Option<Result<(u64, Field<'a>), ()>> {
        if self.buf.is_empty() {
            return None;
        }
        let Some(key) = self.varint() else {
            return Some(Err(()));
        };
        let field = match key & 7 {
            0 => self.varint().map(|_| Field::Skipped),
            1 => self.take(8).map(|_| Field::Skipped),
            2 => self
                .varint()
                .and_then(|n| usize::try_from(n).ok())
                .and_then(|n| self.take(n))
                .map(Field::Bytes),
            5 => self.take(4).map(|_| Field::Skipped),
            _ => None,
        };
        Some(field.map(|f| (key >> 3, f)).ok_or(()))
    }
}

/// Reads a message into (field number -> values), strings and sub-messages as bytes.
fn pb_fields(buf: &[u8]) -> Result<Vec<(u64, &[u8])>, ApiError> {
    let mut out = Vec::new();
    let mut r = Pb { buf };
    while let Some(item) = r.next() {
        match item {
            Ok((n, Field::Bytes(b))) => out.push((n, b)),
            Ok(_) => {}
            Err(()) => {
                return Err(ApiError::bad_request(
                    "the protobuf body of the request is malformed",
                ));
            }
        }
    }
    Ok(out)
}

fn pb_string(b: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(b.to_vec())
        .map_err(|_| ApiError::bad_request("a protobuf string field is not valid UTF-8"))
}

/// Decodes `{field number: json key}` string fields of a message into a JSON object.
fn pb_strings(buf: &[u8], keys: &[(u64, &str)]) -> Result<Value, ApiError> {
    let mut m = serde_json::Map::new();
    for (n, b) in pb_fields(buf)? {
        if let Some((_, key)) = keys.iter().find(|(k, _)| *k == n) {
            m.insert((*key).to_string(), pb_string(b)?.into());
        }
    }
    Ok(Value::Object(m))
}

/// Decodes an access review sent as Kubernetes protobuf (what kubectl's typed clients, such
/// as `kubectl auth can-i`, send) into the JSON object [`review`] takes. Only the fields
/// reviews use are read: `metadata.name/namespace`, the resource and non-resource
/// attributes, `user`, `groups` and `uid`.
pub fn decode_review_protobuf(body: &[u8]) -> Result<Value, ApiError> {
    let inner = body.strip_prefix(b"k8s\x00").ok_or_else(|| {
        ApiError::bad_request("the protobuf body does not start with the Kubernetes magic bytes")
    })?;
    // runtime.Unknown { typeMeta = 1 { apiVersion = 1, kind = 2 }, raw = 2 }
    let mut type_meta = json!({});
    let mut raw: &[u8] = &[];
    for (n, b) in pb_fields(inner)? {
        match n {
            1 => type_meta = pb_strings(b, &[(1, "apiVersion"), (2, "kind")])?,
            2 => raw = b,
            _ => {}
        }
    }
    let mut out = json!({"metadata": {}, "spec": {}});
    for key in ["apiVersion", "kind"] {
        if let Some(v) = type_meta.get(key) {
            out[key] = v.clone();
        }
    }
    // Reviews: metadata = 1, spec = 2 (status = 3 is output only).
    for (n, b) in pb_fields(raw)? {
        match n {
            1 => out["metadata"] = pb_strings(b, &[(1, "name"), (3, "namespace")])?,
            2 => {
                let mut groups: Vec<Value> = Vec::new();
                for (f, v) in pb_fields(b)? {
                    match f {
                        1 => {
                            out["spec"]["resourceAttributes"] = pb_strings(
                                v,
                                &[
                                    (1, "namespace"),
                                    (2, "verb"),
                                    (3, "group"),
                                    (4, "version"),
                                    (5, "resource"),
                                    (6, "subresource"),
                                    (7, "name"),
                                ],
                            )?
                        }
                        2 => {
                            out["spec"]["nonResourceAttributes"] =
                                pb_strings(v, &[(1, "path"), (2, "verb")])?
                        }
                        3 => out["spec"]["user"] = pb_string(v)?.into(),
                        4 => groups.push(pb_string(v)?.into()),
                        6 => out["spec"]["uid"] = pb_string(v)?.into(),
                        _ => {}
                    }
                }
                if !groups.is_empty() {
                    out["spec"]["groups"] = Value::Array(groups);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The body of a SelfSubjectRulesReview as JSON, from JSON, YAML or Kubernetes protobuf
/// (`metadata = 1`, `spec = 2 { namespace = 1 }`), as `kubectl auth can-i --list` sends it.
pub fn rules_review_body(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    if media != PROTOBUF {
        return review_body(content_type, body);
    }
    let inner = body.strip_prefix(b"k8s\x00").ok_or_else(|| {
        ApiError::bad_request("the protobuf body does not start with the Kubernetes magic bytes")
    })?;
    let mut out = json!({"metadata": {}, "spec": {}});
    for (n, b) in pb_fields(inner)? {
        match n {
            1 => {
                let tm = pb_strings(b, &[(1, "apiVersion"), (2, "kind")])?;
                for key in ["apiVersion", "kind"] {
                    if let Some(v) = tm.get(key) {
                        out[key] = v.clone();
                    }
                }
            }
            2 => {
                for (f, v) in pb_fields(b)? {
                    match f {
                        1 => out["metadata"] = pb_strings(v, &[(1, "name"), (3, "namespace")])?,
                        2 => out["spec"] = pb_strings(v, &[(1, "namespace")])?,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The body of an access-review request as JSON, whatever form the client sent it in:
/// JSON, YAML or (as kubectl's typed clients do) Kubernetes protobuf.
pub fn review_body(content_type: &str, body: &[u8]) -> Result<Value, ApiError> {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    match media {
        PROTOBUF => decode_review_protobuf(body),
        "application/yaml" => std::str::from_utf8(body)
            .map_err(|_| ApiError::bad_request("the YAML body is not valid UTF-8"))
            .and_then(|text| {
                serde_saphyr::from_str::<Value>(text).map_err(|e| {
                    ApiError::bad_request(format!("the YAML body does not parse: {e}"))
                })
            }),
        _ => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the JSON body does not parse: {e}"))),
    }
}
