//! How the resources read, skip and print fields.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::MASK;

pub(super) fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Reads a timestamp, treating `null`, `""` and anything unparsable as absent: a status
/// written by an older controller must not make the whole object unreadable.
pub(super) fn lenient_time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Time>, D::Error> {
    let raw = Option::<Value>::deserialize(d)?;
    Ok(match raw {
        Some(Value::String(s)) => s.parse::<k8s_openapi::jiff::Timestamp>().ok().map(Time),
        _ => None,
    })
}

/// A secret as `Debug` shows it: whether it is there, never what it is.
pub(super) fn redact(s: &Option<String>) -> Option<&'static str> {
    s.as_ref().map(|_| MASK)
}
