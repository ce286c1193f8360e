//! The write verbs of one resource: create, update, patch (merge, JSON, strategic, apply)
//! and delete, each with server-side field validation where upstream does it.

use http::Request;
use http::Response;
use hyper::body::Incoming;
use serde_json::Value;

use super::body::{delete_options, parse_json, parse_yaml_or_json, read_body, read_json};
use super::ctx::Ctx;
use super::{Body, field_checks, json_response, with_warnings};
use crate::sandbox::apiserver::patch::PatchType;
use crate::sandbox::apiserver::render;
use crate::sandbox::apiserver::status::{self, ApiError};
use crate::sandbox::apiserver::store::{DeleteOutcome, WriteOptions};

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or("")
}

impl Ctx<'_> {
    fn written(&self, code: u16, obj: &Value, warnings: &[String]) -> Response<Body> {
        with_warnings(
            json_response(code, &render::object(self.kind, obj, self.repr)),
            warnings,
        )
    }

    pub(super) async fn create(
        &self,
        req: Request<Incoming>,
        content_type: &str,
        opts: &WriteOptions,
    ) -> Result<Response<Body>, ApiError> {
        let body = read_json(req, content_type).await?;
        let warnings = field_checks(self.kind, self.served, self.query, &body)?;
        let out = self.store.create_at(self.kind_id, self.ns, body, opts)?;
        Ok(self.written(201, &out, &warnings))
    }

    pub(super) async fn update(
        &self,
        name: &str,
        req: Request<Incoming>,
        content_type: &str,
        opts: &WriteOptions,
    ) -> Result<Response<Body>, ApiError> {
        let body = read_json(req, content_type).await?;
        let body_name = meta_str(&body, "name");
        if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        if self.kind.custom && meta_str(&body, "resourceVersion").is_empty() {
            return Err(ApiError::invalid(
                self.kind,
                name,
                vec![status::Cause {
                    reason: "FieldValueInvalid".into(),
                    message: "Invalid value: 0x0: must be specified for an update".into(),
                    field: "metadata.resourceVersion".into(),
                }],
            ));
        }
        let warnings = field_checks(self.kind, self.served, self.query, &body)?;
        let out = self
            .store
            .replace_at(self.kind_id, self.ns, name, self.sub, body, opts)?;
        Ok(self.written(200, &out, &warnings))
    }

    pub(super) async fn patch(
        &self,
        name: &str,
        req: Request<Incoming>,
        content_type: &str,
        opts: &WriteOptions,
    ) -> Result<Response<Body>, ApiError> {
        let pt = PatchType::from_content_type(content_type, self.kind)?;
        let bytes = read_body(req).await?;
        let body = if pt == PatchType::Apply {
            parse_yaml_or_json(&bytes)?
        } else {
            parse_json(&bytes)?
        };
        // An apply body is a whole (partial) object, so it can be checked like a create;
        // merge and JSON patches are fragments and are not.
        let warnings = if pt == PatchType::Apply {
            field_checks(self.kind, self.served, self.query, &body)?
        } else {
            Vec::new()
        };
        let (out, created) =
            self.store
                .patch_at(self.kind_id, self.ns, name, self.sub, pt, body, opts)?;
        Ok(self.written(if created { 201 } else { 200 }, &out, &warnings))
    }

    pub(super) async fn delete(
        &self,
        name: &str,
        req: Request<Incoming>,
        content_type: &str,
        opts: WriteOptions,
    ) -> Result<Response<Body>, ApiError> {
        let bytes = read_body(req).await?;
        let (pre, dry) = delete_options(content_type, &bytes)?;
        let opts = WriteOptions {
            dry_run: opts.dry_run || dry,
            ..opts
        };
        match self
            .store
            .delete_at(self.kind_id, self.ns, name, &pre, &opts)?
        {
            DeleteOutcome::Deleted(o) => {
                let uid = meta_str(&o, "uid");
                Ok(json_response(
                    200,
                    &status::delete_success(self.kind, name, uid),
                ))
            }
            DeleteOutcome::Pending(o) => Ok(self.written(200, &o, &[])),
        }
    }
}
