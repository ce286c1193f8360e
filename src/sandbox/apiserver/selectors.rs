//! Label and field selectors: parsing the query-string syntax and matching objects.

use serde_json::Value;

use super::kinds::ResourceKind;
use super::status::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Req {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
    Gt(String, i64),
    Lt(String, i64),
}

/// A parsed `labelSelector`. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    reqs: Vec<Req>,
}

struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    src: &'a str,
}

const SPECIAL: &[u8] = b"=!(),<> \t";

impl<'a> Lexer<'a> {
    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && (self.s[self.pos] == b' ' || self.s[self.pos] == b'\t') {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn word(&mut self) -> &'a str {
        let start = self.pos;
        while self.pos < self.s.len() && !SPECIAL.contains(&self.s[self.pos]) {
            self.pos += 1;
        }
        &self.src[start..self.pos]
    }

    fn eat(&mut self, lit: &str) -> bool {
        if self.src[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            true
        } else {
            false
        }
    }

    fn err(&self, what: &str) -> String {
        let found = match self.peek() {
            None => "end of string".to_string(),
            Some(c) => format!("'{}'", c as char),
        };
        format!("unable to parse requirement: found {found}, expected: {what}")
    }
}

fn valid_label_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 63
        && n.bytes().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.bytes().last().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
}

/// Label key syntax: `[prefix/]name`, prefix a DNS subdomain.
pub fn valid_label_key(k: &str) -> bool {
    match k.split_once('/') {
        Some((prefix, name)) => {
            super::validation::is_dns1123_subdomain(prefix) && valid_label_name(name)
        }
        None => valid_label_name(k),
    }
}

/// Label value syntax: empty, or a label name.
pub fn valid_label_value(v: &str) -> bool {
    v.is_empty() || valid_label_name(v)
}

impl LabelSelector {
    /// Parses the `labelSelector` syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
    /// `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by commas.
    pub fn parse(src: &str) -> Result<Self, ApiError> {
        Self::parse_inner(src).map_err(|m| {
            ApiError::bad_request(format!(
                "unable to parse requirement: couldn't parse the selector string \"{src}\": {m}"
            ))
        })
    }

    fn parse_inner(src: &str) -> Result<Self, String> {
        let mut lx = Lexer {
            s: src.as_bytes(),
            pos: 0,
            src,
        };
        let mut reqs = Vec::new();
        lx.skip_ws();
        if lx.peek().is_none() {
            return Ok(LabelSelector { reqs });
        }
        loop {
            lx.skip_ws();
            reqs.push(Self::term(&mut lx)?);
            lx.skip_ws();
            match lx.peek() {
                None => break,
                Some(b',') => lx.pos += 1,
                Some(_) => return Err(lx.err("',' or end of string")),
            }
        }
        Ok(LabelSelector { reqs })
    }

    fn key(lx: &mut Lexer<'_>) -> Result<String, String> {
        let k = lx.word();
        if k.is_empty() {
            return Err(lx.err("identifier"));
        }
        if !valid_label_key(k) {
            return Err(format!("invalid label key \"{k}\""));
        }
        Ok(k.to_string())
    }

    fn value(lx: &mut Lexer<'_>) -> Result<String, String> {
        lx.skip_ws();
        let v = lx.word();
        if !valid_label_value(v) {
            return Err(format!("invalid label value: \"{v}\""));
        }
        Ok(v.to_string())
    }

    fn set(lx: &mut Lexer<'_>) -> Result<Vec<String>, String> {
        lx.skip_ws();
        if !lx.eat("(") {
            return Err(lx.err("'('"));
        }
        let mut vals = Vec::new();
        loop {
            vals.push(Self::value(lx)?);
            lx.skip_ws();
            if lx.eat(")") {
                return Ok(vals);
            }
            if !lx.eat(",") {
                return Err(lx.err("',' or ')'"));
            }
        }
    }

    fn term(lx: &mut Lexer<'_>) -> Result<Req, String> {
        if lx.eat("!") {
            lx.skip_ws();
            let k = Self::key(lx)?;
            return Ok(Req::NotExists(k));
        }
        let k = Self::key(lx)?;
        lx.skip_ws();
        match lx.peek() {
            None | Some(b',') => return Ok(Req::Exists(k)),
            _ => {}
        }
        if lx.eat("==") || lx.eat("=") {
            return Ok(Req::Eq(k, Self::value(lx)?));
        }
        if lx.eat("!=") {
            return Ok(Req::NotEq(k, Self::value(lx)?));
        }
        if lx.eat(">") || lx.eat("<") {
            let gt = lx.s[lx.pos - 1] == b'>';
            lx.skip_ws();
            let w = lx.word();
            let n: i64 = w.parse().map_err(|_| {
                format!("for 'Gt', 'Lt' operators, the value must be an integer: {w}")
            })?;
            return Ok(if gt { Req::Gt(k, n) } else { Req::Lt(k, n) });
        }
        let op = lx.word();
        match op {
            "in" => Ok(Req::In(k, Self::set(lx)?)),
            "notin" => Ok(Req::NotIn(k, Self::set(lx)?)),
            _ => Err(format!(
                "unable to parse requirement: found '{op}', expected: in, notin, =, ==, !=, gt, lt"
            )),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Matches `metadata.labels` of an object.
    pub fn matches(&self, obj: &Value) -> bool {
        if self.reqs.is_empty() {
            return true;
        }
        let labels = obj.get("metadata").and_then(|m| m.get("labels"));
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            Req::Eq(k, v) => get(k) == Some(v.as_str()),
            Req::NotEq(k, v) => get(k) != Some(v.as_str()),
            Req::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Req::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Req::Exists(k) => get(k).is_some(),
            Req::NotExists(k) => get(k).is_none(),
            Req::Gt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            Req::Lt(k, n) => get(k)
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldReq {
    path: Vec<String>,
    equal: bool,
    value: String,
}

/// A parsed `fieldSelector`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    reqs: Vec<FieldReq>,
}

impl FieldSelector {
    /// Parses `f=v`, `f==v`, `f!=v` terms joined by commas; only the kind's known fields are
    /// accepted, as on a real server.
    pub fn parse(src: &str, kind: &ResourceKind) -> Result<Self, ApiError> {
        let mut reqs = Vec::new();
        if src.trim().is_empty() {
            return Ok(FieldSelector { reqs });
        }
        for term in src.split(',') {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, true, v)
            } else {
                return Err(ApiError::bad_request(format!(
                    "invalid selector: '{src}'; can't understand '{term}'"
                )));
            };
            let field = field.trim();
            let known = field == "metadata.name"
                || (field == "metadata.namespace")
                || kind.extra_field_selectors.contains(&field);
            if !known {
                let mut allowed = vec!["\"metadata.name\"".to_string()];
                allowed.push("\"metadata.namespace\"".to_string());
                allowed.extend(
                    kind.extra_field_selectors
                        .iter()
                        .map(|f| format!("\"{f}\"")),
                );
                return Err(ApiError::bad_request(format!(
                    "\"{field}\" is not a known field selector: only {}",
                    allowed.join(", ")
                )));
            }
            reqs.push(FieldReq {
                path: field.split('.').map(str::to_string).collect(),
                equal,
                value: value.trim().to_string(),
            });
        }
        Ok(FieldSelector { reqs })
    }

    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// `metadata.name=<n>` as a single equality, if that is all the selector says (lets the
    /// store answer `watch_object` without scanning).
    pub fn single_name(&self) -> Option<&str> {
        match self.reqs.as_slice() {
            [r] if r.equal && r.path == ["metadata", "name"] => Some(&r.value),
            _ => None,
        }
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.reqs.iter().all(|r| {
            let mut cur = Some(obj);
            for p in &r.path {
                cur = cur.and_then(|c| c.get(p));
            }
            let actual = match cur {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            (actual == r.value) == r.equal
        })
    }
}

/// Both selectors of a request.
#[derive(Debug, Clone, Default)]
pub struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(obj) && self.fields.matches(obj)
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.fields.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::apiserver::kinds::{KINDS, by_name, names};
    use serde_json::json;

    fn obj(labels: Value) -> Value {
        json!({"metadata": {"name": "a", "namespace": "ns", "labels": labels}, "clusterName": "c1"})
    }

    #[test]
    fn label_operators() {
        let o = obj(json!({"app": "web", "tier": "fe", "n": "5"}));
        for (sel, want) in [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app in (web,db)", true),
            ("app notin (web)", false),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("missing!=x", true),
            ("app=web,tier=be", false),
            ("app in (web), tier", true),
            ("n>4", true),
            ("n<4", false),
            ("app=", false),
        ] {
            let s = LabelSelector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&o), want, "{sel}");
        }
    }

    #[test]
    fn label_syntax_errors_are_400() {
        for sel in [
            "app in (web",
            "app in web",
            "=x",
            "app=web,",
            "app ~ x",
            "a b",
            "app=(x)",
        ] {
            let e = LabelSelector::parse(sel).expect_err(sel);
            assert_eq!(e.code, 400, "{sel}");
            assert_eq!(e.reason, "BadRequest");
        }
    }

    #[test]
    fn field_selectors() {
        let cc = &KINDS[by_name(names::CLUSTER_CREDENTIALS).expect("kind")];
        let cm = &KINDS[by_name(names::CONFIG_MAPS).expect("kind")];
        let o = obj(json!({}));
        assert!(
            FieldSelector::parse("clusterName=c1", cc)
                .expect("ok")
                .matches(&o)
        );
        assert!(
            !FieldSelector::parse("clusterName!=c1", cc)
                .expect("ok")
                .matches(&o)
        );
        assert!(
            FieldSelector::parse("metadata.name==a,metadata.namespace=ns", cm)
                .expect("ok")
                .matches(&o)
        );
        let e = FieldSelector::parse("clusterName=c1", cm).expect_err("unknown field");
        assert_eq!(e.code, 400);
        assert!(FieldSelector::parse("metadata.name", cm).is_err());
        assert_eq!(
            FieldSelector::parse("metadata.name=x", cm)
                .expect("ok")
                .single_name(),
            Some("x")
        );
    }
}
