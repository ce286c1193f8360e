//! The `paths` section: operations, parameters and responses of every kind, as the
//! apiserver describes them.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::META;
use super::schemas::{Flavour, gvk};
use crate::sandbox::apiserver::kinds::ResourceKind;

pub(super) fn query(name: &str, ty: &str, description: &str, f: Flavour) -> Value {
    match f {
        Flavour::V3 => json!({
            "name": name, "in": "query", "description": description,
            "schema": {"type": ty, "uniqueItems": true},
        }),
        Flavour::V2 => json!({
            "name": name, "in": "query", "description": description,
            "type": ty, "uniqueItems": true,
        }),
    }
}

pub(super) fn path_param(name: &str, description: &str, f: Flavour) -> Value {
    match f {
        Flavour::V3 => json!({
            "name": name, "in": "path", "required": true, "description": description,
            "schema": {"type": "string", "uniqueItems": true},
        }),
        Flavour::V2 => json!({
            "name": name, "in": "path", "required": true, "description": description,
            "type": "string", "uniqueItems": true,
        }),
    }
}

pub(super) fn write_params(f: Flavour) -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted. Valid value: All.",
            f,
        ),
        query(
            "fieldManager",
            "string",
            "A name associated with the actor or entity that is making these changes.",
            f,
        ),
        query(
            "fieldValidation",
            "string",
            "How the server treats fields it does not know or that are duplicated: Ignore, Warn (the default) or Strict.",
            f,
        ),
    ]
}

pub(super) fn list_params(f: Flavour) -> Vec<Value> {
    vec![
        query(
            "allowWatchBookmarks",
            "boolean",
            "Requests watch events with type BOOKMARK.",
            f,
        ),
        query(
            "continue",
            "string",
            "The continue option from a previous list call, to fetch the next page.",
            f,
        ),
        query(
            "fieldSelector",
            "string",
            "A selector to restrict the list of returned objects by their fields.",
            f,
        ),
        query(
            "labelSelector",
            "string",
            "A selector to restrict the list of returned objects by their labels.",
            f,
        ),
        query(
            "limit",
            "integer",
            "Maximum number of responses to return for a list call.",
            f,
        ),
        query(
            "resourceVersion",
            "string",
            "Sets a constraint on what resource versions a request may be served from.",
            f,
        ),
        query(
            "resourceVersionMatch",
            "string",
            "Determines how resourceVersion is applied to list calls.",
            f,
        ),
        query(
            "sendInitialEvents",
            "boolean",
            "Starts a watch with synthetic events for the current state.",
            f,
        ),
        query(
            "timeoutSeconds",
            "integer",
            "Timeout for the list/watch call.",
            f,
        ),
        query(
            "watch",
            "boolean",
            "Watch for changes to the described resources.",
            f,
        ),
    ]
}

pub(super) fn body(
    schema: Value,
    f: Flavour,
    content_types: &[&str],
) -> (Option<Value>, Option<Value>) {
    match f {
        Flavour::V3 => {
            let mut content = Map::new();
            for ct in content_types {
                content.insert((*ct).into(), json!({"schema": schema}));
            }
            (Some(json!({"content": content, "required": true})), None)
        }
        Flavour::V2 => (
            None,
            Some(json!({"name": "body", "in": "body", "required": true, "schema": schema})),
        ),
    }
}

pub(super) fn response(schema: Value, f: Flavour) -> Value {
    match f {
        Flavour::V3 => json!({
            "description": "OK",
            "content": {
                "application/json": {"schema": schema},
                "application/yaml": {"schema": schema},
            },
        }),
        Flavour::V2 => json!({"description": "OK", "schema": schema}),
    }
}

/// `listPlatformTkestackIoV1Cluster`-style operation ids.
pub(super) fn operation_id(
    action: &str,
    k: &ResourceKind,
    namespaced_path: bool,
    suffix: &str,
) -> String {
    let mut id = String::from(action);
    let group = if k.group.is_empty() { "core" } else { k.group };
    for part in group.split('.').chain(std::iter::once(k.version)) {
        let mut c = part.chars();
        if let Some(first) = c.next() {
            id.push(first.to_ascii_uppercase());
            id.push_str(c.as_str());
        }
    }
    if namespaced_path {
        id.push_str("Namespaced");
    }
    id.push_str(k.kind);
    id.push_str(suffix);
    id
}

#[allow(clippy::too_many_arguments)]
pub(super) fn operation(
    action: &str,
    verb: &str,
    k: &ResourceKind,
    namespaced_path: bool,
    suffix: &str,
    params: Vec<Value>,
    request: Option<(Value, &[&str])>,
    response_schema: Value,
    f: Flavour,
) -> Value {
    let mut op = json!({
        "description": format!("{verb} {}", k.kind),
        "operationId": operation_id(action, k, namespaced_path, suffix),
        "tags": [operation_id("", k, false, "")],
        "parameters": params,
        "responses": {
            "200": response(response_schema, f),
            "401": {"description": "Unauthorized"},
        },
        "x-kubernetes-action": verb,
        "x-kubernetes-group-version-kind": gvk(k),
    });
    if let Some((schema, cts)) = request {
        let (rb, param) = body(schema, f, cts);
        if let Some(rb) = rb {
            op["requestBody"] = rb;
        }
        if let Some(p) = param
            && let Some(list) = op["parameters"].as_array_mut()
        {
            list.push(p);
        }
    }
    op
}

/// The definitions one kind's operations refer to.
struct Refs {
    obj: Value,
    list: Value,
    status: Value,
    patch: Value,
    delete_opts: Value,
}

const JSON_YAML: &[&str] = &["application/json", "application/yaml"];

/// Patch content types: strategic merge only for built-in kinds, as upstream.
fn patch_types(k: &ResourceKind) -> &'static [&'static str] {
    const ALL: &[&str] = &[
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ];
    if k.custom { &ALL[..3] } else { ALL }
}

fn delete_params(f: Flavour) -> Vec<Value> {
    vec![
        query(
            "dryRun",
            "string",
            "When present, indicates that modifications should not be persisted.",
            f,
        ),
        query(
            "gracePeriodSeconds",
            "integer",
            "The duration in seconds before the object should be deleted.",
            f,
        ),
        query(
            "propagationPolicy",
            "string",
            "Whether and how garbage collection will be performed.",
            f,
        ),
    ]
}

fn pretty(f: Flavour) -> Value {
    query(
        "pretty",
        "string",
        "If 'true', then the output is pretty printed.",
        f,
    )
}

fn namespace_param(f: Flavour) -> Value {
    path_param(
        "namespace",
        "object name and auth scope, such as for teams and projects",
        f,
    )
}

/// Adds the paths of one kind.
pub(super) fn kind_paths(
    k: &ResourceKind,
    def: &str,
    list_def: &str,
    f: Flavour,
    paths: &mut BTreeMap<String, Value>,
) {
    let root = if k.group.is_empty() {
        format!("/api/{}", k.version)
    } else {
        format!("/apis/{}/{}", k.group, k.version)
    };
    let refs = Refs {
        obj: f.reference(def),
        list: f.reference(list_def),
        status: f.reference(&format!("{META}.Status")),
        patch: f.reference(&format!("{META}.Patch")),
        delete_opts: f.reference(&format!("{META}.DeleteOptions")),
    };
    let coll = if k.namespaced {
        format!("{root}/namespaces/{{namespace}}/{}", k.resource)
    } else {
        format!("{root}/{}", k.resource)
    };
    let mut common = vec![pretty(f)];
    if k.namespaced {
        common.push(namespace_param(f));
    }
    let create = operation(
        "create",
        "post",
        k,
        k.namespaced,
        "",
        write_params(f),
        Some((refs.obj.clone(), JSON_YAML)),
        refs.obj.clone(),
        f,
    );
    if k.create_only {
        paths.insert(coll, json!({"parameters": common, "post": create}));
        return;
    }
    let mut delete_coll_params = list_params(f);
    delete_coll_params.extend(delete_params(f));
    paths.insert(
        coll.clone(),
        json!({
            "parameters": common,
            "get": operation("list", "list", k, k.namespaced, "", list_params(f), None, refs.list.clone(), f),
            "post": create,
            "delete": operation("deletecollection", "deletecollection", k, k.namespaced, "", delete_coll_params, Some((refs.delete_opts.clone(), JSON_YAML)), refs.status.clone(), f),
        }),
    );
    if k.namespaced {
        paths.insert(
            format!("{root}/{}", k.resource),
            json!({
                "parameters": [pretty(f)],
                "get": operation("list", "list", k, false, "ForAllNamespaces", list_params(f), None, refs.list.clone(), f),
            }),
        );
    }
    item_paths(k, &coll, &refs, f, paths);
}

/// `<collection>/{name}` and, with a status subresource, `<collection>/{name}/status`.
fn item_paths(
    k: &ResourceKind,
    coll: &str,
    refs: &Refs,
    f: Flavour,
    paths: &mut BTreeMap<String, Value>,
) {
    let Refs {
        obj,
        patch,
        delete_opts,
        status,
        ..
    } = refs;
    let mut item_common = vec![
        path_param("name", &format!("name of the {}", k.kind), f),
        pretty(f),
    ];
    if k.namespaced {
        item_common.push(namespace_param(f));
    }
    let mut patch_params = write_params(f);
    patch_params.push(query("force", "boolean", "Force is going to \"force\" Apply requests. It must be unset for non-apply patch requests.", f));
    let patch_types = patch_types(k);
    let item = format!("{coll}/{{name}}");
    paths.insert(
        item.clone(),
        json!({
            "parameters": item_common.clone(),
            "get": operation("read", "get", k, k.namespaced, "", vec![], None, obj.clone(), f),
            "put": operation("replace", "put", k, k.namespaced, "", write_params(f), Some((obj.clone(), JSON_YAML)), obj.clone(), f),
            "patch": operation("patch", "patch", k, k.namespaced, "", patch_params.clone(), Some((patch.clone(), patch_types)), obj.clone(), f),
            "delete": operation("delete", "delete", k, k.namespaced, "", delete_params(f), Some((delete_opts.clone(), JSON_YAML)), status.clone(), f),
        }),
    );
    if k.status_subresource {
        paths.insert(
            format!("{item}/status"),
            json!({
                "parameters": item_common,
                "get": operation("read", "get", k, k.namespaced, "Status", vec![], None, obj.clone(), f),
                "put": operation("replace", "put", k, k.namespaced, "Status", write_params(f), Some((obj.clone(), JSON_YAML)), obj.clone(), f),
                "patch": operation("patch", "patch", k, k.namespaced, "Status", patch_params, Some((patch.clone(), patch_types)), obj.clone(), f),
            }),
        );
    }
}
