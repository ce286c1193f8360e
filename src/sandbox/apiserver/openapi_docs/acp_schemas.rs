//! ACP's published schemas of the custom kinds the sandbox serves, read from the hand-written
//! fixture `src/sandbox/fixtures/acp-schemas.yaml` (its header names the ACP documentation
//! each part follows). They deliberately do not come from the cockpit's own types: the
//! sandbox must refuse a field ACP does not publish even when the cockpit's model has it.

use std::sync::OnceLock;

use serde_json::{Map, Value};

const FIXTURE: &str = include_str!("../../fixtures/acp-schemas.yaml");

/// Guards against a definition that uses itself.
const MAX_DEPTH: usize = 16;

/// `(group, version, kind)` -> expanded schema (no `apiVersion`, `kind`, `metadata`).
type Table = Vec<((String, String, String), Value)>;

/// The schema ACP publishes for a kind, or `None` when there is none (an unknown kind, or a
/// fixture that does not load, which the unit tests rule out).
pub(super) fn acp_schema(group: &str, version: &str, kind: &str) -> Option<Value> {
    static TABLE: OnceLock<Result<Table, String>> = OnceLock::new();
    let table = TABLE.get_or_init(|| load(FIXTURE)).as_ref().ok()?;
    table
        .iter()
        .find(|((g, v, k), _)| g == group && v == version && k == kind)
        .map(|(_, s)| s.clone())
}

/// Parses the fixture and expands every `$use` and `$extends`.
fn load(text: &str) -> Result<Table, String> {
    let doc: Value =
        serde_saphyr::from_str(text).map_err(|e| format!("the ACP schema fixture: {e}"))?;
    let empty = Map::new();
    let defs = doc["definitions"].as_object().unwrap_or(&empty);
    let kinds = doc["kinds"]
        .as_array()
        .ok_or("the ACP schema fixture has no `kinds` list")?;
    kinds
        .iter()
        .map(|k| {
            let field = |f: &str| {
                k[f].as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("a kind in the ACP schema fixture has no `{f}`"))
            };
            let id = (field("group")?, field("version")?, field("kind")?);
            Ok((id, expand(&k["schema"], defs, 0)?))
        })
        .collect()
}

fn definition<'a>(name: &Value, defs: &'a Map<String, Value>) -> Result<&'a Value, String> {
    let name = name
        .as_str()
        .ok_or("a `$use`/`$extends` that is not a name")?;
    defs.get(name)
        .ok_or_else(|| format!("`{name}` is not among the fixture's definitions"))
}

/// Adds `from`'s `properties` and `required` to `into`.
fn merge_object(into: &mut Map<String, Value>, from: &Value) {
    if let Some(props) = from["properties"].as_object() {
        let target = into
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(t) = target.as_object_mut() {
            t.extend(props.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    if let Some(req) = from["required"].as_array() {
        let target = into
            .entry("required")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(t) = target.as_array_mut() {
            for r in req {
                if !t.contains(r) {
                    t.push(r.clone());
                }
            }
        }
    }
}

fn expand(v: &Value, defs: &Map<String, Value>, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("the ACP schema fixture's definitions nest too deep".into());
    }
    let expand_in = |v: &Value| expand(v, defs, depth + 1);
    match v {
        Value::Object(m) => {
            let mut out = Map::new();
            if let Some(name) = m.get("$use")
                && let Value::Object(base) = expand_in(definition(name, defs)?)?
            {
                out.extend(base);
            }
            let extends = match m.get("$extends") {
                Some(name) => Some(expand_in(definition(name, defs)?)?),
                None => None,
            };
            for (k, child) in m {
                if k != "$use" && k != "$extends" {
                    out.insert(k.clone(), expand_in(child)?);
                }
            }
            if let Some(base) = extends {
                merge_object(&mut out, &base);
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items.iter().map(expand_in).collect(),
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::apiserver::kinds::KINDS;

    fn mentions_directive(v: &Value) -> bool {
        match v {
            Value::Object(m) => {
                m.contains_key("$use")
                    || m.contains_key("$extends")
                    || m.values().any(mentions_directive)
            }
            Value::Array(a) => a.iter().any(mentions_directive),
            _ => false,
        }
    }

    #[test]
    fn the_fixture_covers_every_custom_kind_and_expands_fully() {
        let table = load(FIXTURE).expect("the fixture loads");
        for k in KINDS.iter().filter(|k| k.custom) {
            let s = acp_schema(k.group, k.version, k.kind)
                .unwrap_or_else(|| panic!("no ACP schema for {}", k.kind));
            assert!(!mentions_directive(&s), "{} keeps a directive", k.kind);
        }
        assert_eq!(table.len(), KINDS.iter().filter(|k| k.custom).count());
    }

    #[test]
    fn uses_and_extends_take_the_definition() {
        let cluster = acp_schema("platform.tkestack.io", "v1", "Cluster").expect("cluster");
        let machine = &cluster["properties"]["spec"]["properties"]["machines"]["items"];
        assert_eq!(machine["properties"]["password"]["format"], "byte");
        assert_eq!(machine["properties"]["proxy"]["required"][1], "address");
        let m = acp_schema("platform.tkestack.io", "v1", "Machine").expect("machine");
        let spec = &m["properties"]["spec"];
        assert_eq!(spec["properties"]["publicIP"]["type"], "string");
        assert_eq!(spec["properties"]["clusterName"]["type"], "string");
        let required: Vec<&str> = spec["required"]
            .as_array()
            .expect("required")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(required, ["clusterName", "type", "port", "username"]);
    }

    #[test]
    fn broken_fixtures_are_errors() {
        assert!(load("kinds: [{group: g, version: v, kind: K, schema: {$use: Nope}}]").is_err());
        assert!(load("definitions: {A: {$use: A}}\nkinds: [{group: g, version: v, kind: K, schema: {$use: A}}]").is_err());
        assert!(load("kinds: [{version: v, kind: K, schema: {}}]").is_err());
        assert!(load("definitions: {}").is_err());
    }

    fn sandbox_sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        let entries = std::fs::read_dir(dir).expect("the sandbox sources are readable");
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                sandbox_sources(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&path).expect("a readable source file");
                out.push((path.display().to_string(), text));
            }
        }
    }

    /// The schemas must stay ACP's: schema derivation (schemars, kube's CRD generation) may
    /// serve k8s-openapi's built-in types, never the cockpit's own model.
    #[test]
    fn the_sandbox_derives_no_schema_from_the_cockpit_types() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sandbox");
        let mut files = Vec::new();
        sandbox_sources(&root, &mut files);
        assert!(files.len() > 20, "found only {} files", files.len());
        // Built from pieces so that this file does not match itself.
        let derivation = [
            ["Json", "Schema"].concat(),
            ["CustomResource", "Ext"].concat(),
            ["::cr", "d()"].concat(),
            ["schema_", "for!"].concat(),
        ];
        let schema_use = [["schem", "ars"].concat(), ["schema_", "for"].concat()];
        let ours = [["crate::", "domain"].concat(), ["domain", "::"].concat()];
        let mut offenders = Vec::new();
        for (path, text) in &files {
            if let Some(d) = derivation.iter().find(|d| text.contains(d.as_str())) {
                offenders.push(format!("{path}: {d}"));
            }
            let uses_schemas = schema_use.iter().any(|p| text.contains(p.as_str()));
            if uses_schemas && let Some(o) = ours.iter().find(|o| text.contains(o.as_str())) {
                offenders.push(format!("{path}: schema generation next to {o}"));
            }
        }
        assert!(offenders.is_empty(), "{offenders:#?}");
    }
}
