//! The `/openapi/v2` and `/openapi/v3` documents, generated from the kinds table: the
//! contract `http.rs` calls. The documents and the schema-based field validation are built
//! in [`super::openapi_docs`].

use serde_json::Value;

use super::kinds::ResourceKind;
use super::status::ApiError;

/// Server-side field validation for create/update/patch/apply bodies: the HTTP layer calls
/// `field_validation(kind, &served, query.get("fieldValidation"), &body)` before storing;
/// `Err` is the 400 (Strict) or 422 (bad directive) to return, `Ok(texts)` are warnings to
/// send as `Warning: 299 - "<text>"` headers (Warn, the default). The published schemas
/// advertise the `fieldValidation` parameter, so kubectl leaves validation to the server
/// and does not validate client-side.
pub use super::openapi_docs::{field_validation, unknown_fields};

/// The document for `path` (the part of the URL after the cluster prefix, starting with
/// `/openapi/`; query string removed), or `None` for 404. `served` are the kinds of this
/// cluster.
///
/// Always JSON: prefer [`respond`], which also serves the protobuf form client-go asks for.
pub fn document(path: &str, served: &[&'static ResourceKind]) -> Option<Value> {
    super::openapi_docs::document(path, served)
}

/// The HTTP layer's entry point for `/openapi/...`: `(content type, body)` negotiated from
/// `Accept` — `/openapi/v2` as gnostic protobuf when the client asks for it (client-go's
/// `OpenAPISchema()` only parses protobuf), JSON otherwise; `Ok(None)` is a 404 and `Err`
/// a 406. Use it as
/// `Target::OpenApi => match openapi::respond(path, &accept, &served)? {
///     Some((ct, body)) => full(StatusCode::OK, ct, body),
///     None => return Err(ApiError::page_not_found()) }`.
pub fn respond(
    path: &str,
    accept: &str,
    served: &[&'static ResourceKind],
) -> Result<Option<(&'static str, Vec<u8>)>, ApiError> {
    super::openapi_docs::respond(path, accept, served)
}
