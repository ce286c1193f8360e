//! Protobuf encoding of the v2 document in gnostic's `openapi.v2.Document` message, which
//! is what client-go's `OpenAPISchema()` asks for and parses (kubectl falls back to it for
//! client-side validation and `explain --output plaintext-openapiv2`). Definitions are
//! encoded in full; paths are left out (clients use the v3 documents for those).

use serde_json::Value;

#[derive(Default)]
pub struct Msg(Vec<u8>);

impl Msg {
    fn varint(&mut self, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(b);
                return;
            }
            self.0.push(b | 0x80);
        }
    }

    pub fn bytes(&mut self, field: u64, b: &[u8]) -> &mut Self {
        self.varint((field << 3) | 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }

    pub fn string(&mut self, field: u64, s: &str) -> &mut Self {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
        self
    }

    pub fn msg(&mut self, field: u64, m: &Msg) -> &mut Self {
        self.bytes(field, &m.0)
    }

    pub fn boolean(&mut self, field: u64, v: bool) -> &mut Self {
        if v {
            self.varint(field << 3);
            self.varint(1);
        }
        self
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// `openapi.v2.Any` carrying a value as YAML text (JSON is valid YAML).
fn any(v: &Value) -> Msg {
    let mut m = Msg::default();
    m.string(2, &serde_json::to_string(v).unwrap_or_default());
    m
}

fn named(name: &str, value: &Msg) -> Msg {
    let mut m = Msg::default();
    m.string(1, name).msg(2, value);
    m
}

/// `openapi.v2.Schema` from a JSON schema object.
pub fn schema(v: &Value) -> Msg {
    let mut m = Msg::default();
    let Some(o) = v.as_object() else {
        return m;
    };
    let s = |k: &str| o.get(k).and_then(Value::as_str).unwrap_or_default();
    m.string(1, s("$ref"))
        .string(2, s("format"))
        .string(3, s("title"))
        .string(4, s("description"));
    if let Some(req) = o.get("required").and_then(Value::as_array) {
        for r in req.iter().filter_map(Value::as_str) {
            m.string(19, r);
        }
    }
    if let Some(vals) = o.get("enum").and_then(Value::as_array) {
        for e in vals {
            m.msg(20, &any(e));
        }
    }
    match o.get("additionalProperties") {
        Some(Value::Object(_)) => {
            let mut item = Msg::default();
            item.msg(1, &schema(&o["additionalProperties"]));
            m.msg(21, &item);
        }
        Some(Value::Bool(b)) => {
            let mut item = Msg::default();
            // A oneof bool must be written even when false.
            item.varint(2 << 3);
            item.varint(u64::from(*b));
            m.msg(21, &item);
        }
        _ => {}
    }
    let types: Vec<&str> = match o.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !types.is_empty() {
        let mut t = Msg::default();
        for ty in types {
            t.string(1, ty);
        }
        m.msg(22, &t);
    }
    if let Some(items) = o.get("items").filter(|i| i.is_object()) {
        let mut it = Msg::default();
        it.msg(1, &schema(items));
        m.msg(23, &it);
    }
    if let Some(all) = o.get("allOf").and_then(Value::as_array) {
        for a in all {
            m.msg(24, &schema(a));
        }
    }
    if let Some(props) = o.get("properties").and_then(Value::as_object) {
        let mut p = Msg::default();
        for (name, ps) in props {
            p.msg(1, &named(name, &schema(ps)));
        }
        m.msg(25, &p);
    }
    m.boolean(27, o.get("readOnly") == Some(&Value::Bool(true)));
    for (k, x) in o.iter().filter(|(k, _)| k.starts_with("x-")) {
        m.msg(31, &named(k, &any(x)));
    }
    m
}

/// `openapi.v2.Document` from the JSON v2 document.
pub fn document(doc: &Value) -> Vec<u8> {
    let mut info = Msg::default();
    info.string(1, doc["info"]["title"].as_str().unwrap_or_default())
        .string(2, doc["info"]["version"].as_str().unwrap_or_default());
    let mut defs = Msg::default();
    if let Some(d) = doc["definitions"].as_object() {
        for (name, s) in d {
            defs.msg(1, &named(name, &schema(s)));
        }
    }
    let mut m = Msg::default();
    m.string(1, doc["swagger"].as_str().unwrap_or("2.0"))
        .msg(2, &info)
        .msg(8, &Msg::default())
        .msg(9, &defs);
    m.into_bytes()
}
