//! One resource request's context and the collection handlers: get, list (paged or
//! streamed), watch and deletecollection.

use std::convert::Infallible;
use std::time::Duration;

use http::{Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::Value;

use super::{Body, MAX_WATCH, Query, Shared, full, json_response};
use crate::sandbox::apiserver::kinds::{KindId, ResourceKind};
use crate::sandbox::apiserver::render::{self, Repr};
use crate::sandbox::apiserver::selectors::{FieldSelector, LabelSelector, Selectors};
use crate::sandbox::apiserver::status::{self, ApiError};
use crate::sandbox::apiserver::store::{
    DeleteOutcome, ListOptions, Preconditions, Store, Subresource, WriteOptions,
};
use crate::sandbox::apiserver::watch::{self, Start, WatchRequest};

pub(super) struct Ctx<'a> {
    pub(super) shared: &'a Shared,
    pub(super) store: &'a Store,
    pub(super) kind_id: KindId,
    pub(super) kind: &'static ResourceKind,
    pub(super) ns: Option<&'a str>,
    pub(super) query: &'a Query,
    pub(super) repr: Repr,
    /// The kinds this cluster serves: the schemas field validation checks against.
    pub(super) served: &'a [&'static ResourceKind],
    /// `/status` writes change only `status`.
    pub(super) sub: Subresource,
}

impl Ctx<'_> {
    pub(super) fn selectors(&self) -> Result<Selectors, ApiError> {
        Ok(Selectors {
            labels: LabelSelector::parse(self.query.get("labelSelector").unwrap_or(""))?,
            fields: FieldSelector::parse(self.query.get("fieldSelector").unwrap_or(""), self.kind)?,
        })
    }

    pub(super) fn parse_rv(&self) -> Result<Option<u64>, ApiError> {
        match self.query.get("resourceVersion") {
            None | Some("") => Ok(None),
            Some(s) => s
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid resource version \"{s}\""))),
        }
    }

    pub(super) fn list_options_invalid(&self, field: &str, msg: &str) -> ApiError {
        ApiError::new(
            422,
            "Invalid",
            format!("ListOptions.meta.k8s.io \"\" is invalid: {field}: {msg}"),
        )
        .with_details(status::Details {
            group: "meta.k8s.io".into(),
            kind: "ListOptions".into(),
            causes: vec![status::Cause {
                reason: "FieldValueForbidden".into(),
                message: msg.to_string(),
                field: field.to_string(),
            }],
            ..status::Details::default()
        })
    }

    pub(super) fn get(&self, name: &str) -> Result<Response<Body>, ApiError> {
        self.parse_rv()?;
        let obj = self.store.get_at(self.kind_id, self.ns, name)?;
        Ok(json_response(
            200,
            &render::object(self.kind, &obj, self.repr),
        ))
    }

    pub(super) async fn list(&self) -> Result<Response<Body>, ApiError> {
        let selectors = self.selectors()?;
        let limit = match self.query.get("limit") {
            None | Some("") => None,
            Some(s) => Some(
                s.parse::<i64>()
                    .map_err(|_| ApiError::bad_request(format!("limit: invalid value \"{s}\"")))?,
            ),
        };
        let rv = self.parse_rv()?;
        let rv_match = self.query.get("resourceVersionMatch").unwrap_or("");
        let cont = self.query.get("continue").filter(|c| !c.is_empty());
        if !rv_match.is_empty() {
            if rv.is_none() {
                return Err(self.list_options_invalid(
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if cont.is_some() {
                return Err(self.list_options_invalid(
                    "resourceVersionMatch",
                    "Forbidden: resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if !["Exact", "NotOlderThan"].contains(&rv_match) {
                return Err(self.list_options_invalid(
                    "resourceVersionMatch",
                    &format!("Unsupported value: \"{rv_match}\": supported values: \"Exact\", \"NotOlderThan\""),
                ));
            }
        }
        let current = self.store.resource_version();
        let mut exact_rv = None;
        if let Some(want) = rv.filter(|r| *r > 0) {
            if rv_match == "Exact" && want < current {
                // Servable only if nothing of this kind changed since `want`.
                if !self.store.unchanged_since(self.kind_id, self.ns, want) {
                    return Err(ApiError::expired(format!(
                        "too old resource version: {want} ({current})"
                    )));
                }
                exact_rv = Some(want);
            }
            if want > current {
                self.wait_for_rv(want).await?;
            }
        }
        let page = self.store.list_at(
            self.kind_id,
            self.ns,
            &ListOptions {
                selectors,
                limit: limit.filter(|l| *l > 0).map(|l| l as usize),
                continue_token: cont.map(str::to_string),
            },
        )?;
        let body = render::list(
            self.kind,
            &page.items,
            exact_rv.unwrap_or(page.resource_version),
            page.continue_token.as_deref(),
            self.repr,
        );
        Ok(full(StatusCode::OK, "application/json", body))
    }

    /// A list/watch at an RV the store has not reached: wait up to 3 s like the apiserver.
    async fn wait_for_rv(&self, want: u64) -> Result<(), ApiError> {
        let mut changes = self.store.changes();
        let until = tokio::time::Instant::now() + Duration::from_secs(3);
        while self.store.resource_version() < want {
            tokio::select! {
                r = changes.changed() => if r.is_err() { break },
                _ = tokio::time::sleep_until(until) => return Err(ApiError::too_large_rv()),
            }
        }
        Ok(())
    }

    pub(super) fn watch(&self) -> Result<Response<Body>, ApiError> {
        let selectors = self.selectors()?;
        let rv = self.parse_rv()?;
        let send_initial = self.query.get("sendInitialEvents");
        let rv_match = self.query.get("resourceVersionMatch").unwrap_or("");
        let start = match send_initial {
            Some("true") => {
                if rv_match != "NotOlderThan" {
                    return Err(self.list_options_invalid(
                        "sendInitialEvents",
                        "Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan",
                    ));
                }
                if !self.query.flag("allowWatchBookmarks") {
                    return Err(self.list_options_invalid(
                        "allowWatchBookmarks",
                        "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
                    ));
                }
                Start::InitialEvents
            }
            Some("false") | None | Some("") => {
                if !rv_match.is_empty() && rv_match != "NotOlderThan" {
                    return Err(self.list_options_invalid(
                        "resourceVersionMatch",
                        "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    ));
                }
                match rv {
                    None | Some(0) => Start::CurrentState,
                    Some(n) => Start::From(n),
                }
            }
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "sendInitialEvents: invalid value \"{other}\""
                )));
            }
        };
        let timeout = match self.query.get("timeoutSeconds") {
            None | Some("") => MAX_WATCH,
            Some(s) => {
                let secs: u64 = s.parse().map_err(|_| {
                    ApiError::bad_request(format!("timeoutSeconds: invalid value \"{s}\""))
                })?;
                // 0 means "server default", as upstream.
                if secs == 0 {
                    MAX_WATCH
                } else {
                    Duration::from_secs(secs).min(MAX_WATCH)
                }
            }
        };
        let req = WatchRequest {
            kind_id: self.kind_id,
            namespace: if self.kind.namespaced {
                self.ns.map(str::to_string)
            } else {
                None
            },
            selectors,
            start,
            timeout,
            bookmarks: self.query.flag("allowWatchBookmarks"),
            bookmark_interval: self.shared.bookmark_interval,
            repr: self.repr,
        };
        let rx = watch::spawn(
            self.store.clone(),
            req,
            &self.shared.faults,
            self.shared.shutdown.clone(),
        );
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
        });
        let mut r = Response::new(BodyExt::boxed_unsync(StreamBody::new(stream)));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        );
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-cache, private"),
        );
        Ok(r)
    }

    pub(super) fn delete_collection(
        &self,
        opts: &WriteOptions,
    ) -> Result<Response<Body>, ApiError> {
        if self.kind.namespaced && self.ns.is_none() {
            return Err(ApiError::method_not_allowed(
                "the server does not allow this method on the requested resource (delete)",
            ));
        }
        let selectors = self.selectors()?;
        let page = self.store.list_at(
            self.kind_id,
            self.ns,
            &ListOptions {
                selectors,
                ..ListOptions::default()
            },
        )?;
        let mut deleted = Vec::new();
        for item in &page.items {
            let name = item
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .unwrap_or("");
            match self
                .store
                .delete_at(self.kind_id, self.ns, name, &Preconditions::default(), opts)
            {
                Ok(DeleteOutcome::Deleted(o)) | Ok(DeleteOutcome::Pending(o)) => deleted.push(o),
                // Deleted concurrently: not ours to report.
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        let rv = self.store.resource_version();
        let body = render::list(self.kind, &deleted, rv, None, self.repr);
        Ok(full(StatusCode::OK, "application/json", body))
    }
}
