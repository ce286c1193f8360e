//! Request bodies in Kubernetes protobuf (`application/vnd.kubernetes.protobuf`).
//!
//! kubectl's typed clients (`kubectl create configmap|secret|namespace|role|...`) send
//! built-in objects as protobuf and never retry with JSON, so a server that only reads JSON
//! is told apart at once. This decodes the envelope (`k8s\0` + `runtime.Unknown`) and the
//! messages of the built-in kinds the sandbox serves into the JSON the store keeps, driven
//! by field tables transcribed from the upstream `generated.proto` files. Fields the tables
//! do not list (mostly `status`, which create and update ignore) are skipped. Custom
//! resources have no protobuf form: 415, as on a real server.

use base64::Engine as _;
use serde_json::{Map, Value};

use super::status::ApiError;

#[derive(Clone, Copy)]
enum Ty {
    Str,
    /// Non-pointer int (`omitempty` in JSON: 0 is dropped).
    Int,
    /// Pointer int: 0 is kept.
    IntP,
    /// Non-pointer bool (`omitempty`: false is dropped).
    Bool,
    /// Pointer bool: false is kept.
    BoolP,
    /// `meta.v1.Time` {seconds, nanos}.
    Time,
    IntOrString,
    /// `meta.v1.FieldsV1` {Raw: JSON bytes}.
    FieldsV1,
    Msg(&'static [F]),
    /// A message whose fields JSON inlines into the parent (`json:",inline"`).
    Inline(&'static [F]),
    MapStr,
    MapBytes,
}

struct F {
    num: u64,
    name: &'static str,
    ty: Ty,
    repeated: bool,
}

const fn f(num: u64, name: &'static str, ty: Ty) -> F {
    F {
        num,
        name,
        ty,
        repeated: false,
    }
}

const fn r(num: u64, name: &'static str, ty: Ty) -> F {
    F {
        num,
        name,
        ty,
        repeated: true,
    }
}

use Ty::*;

const OWNER_REF: &[F] = &[
    f(5, "apiVersion", Str),
    f(1, "kind", Str),
    f(3, "name", Str),
    f(4, "uid", Str),
    f(6, "controller", BoolP),
    f(7, "blockOwnerDeletion", BoolP),
];

const MANAGED_FIELDS: &[F] = &[
    f(1, "manager", Str),
    f(2, "operation", Str),
    f(3, "apiVersion", Str),
    f(4, "time", Time),
    f(6, "fieldsType", Str),
    f(7, "fieldsV1", FieldsV1),
    f(8, "subresource", Str),
];

const OBJECT_META: &[F] = &[
    f(1, "name", Str),
    f(2, "generateName", Str),
    f(3, "namespace", Str),
    f(4, "selfLink", Str),
    f(5, "uid", Str),
    f(6, "resourceVersion", Str),
    f(7, "generation", Int),
    f(8, "creationTimestamp", Time),
    f(9, "deletionTimestamp", Time),
    f(10, "deletionGracePeriodSeconds", IntP),
    f(11, "labels", MapStr),
    f(12, "annotations", MapStr),
    r(13, "ownerReferences", Msg(OWNER_REF)),
    r(14, "finalizers", Str),
    r(17, "managedFields", Msg(MANAGED_FIELDS)),
];

const LABEL_SELECTOR_REQ: &[F] = &[f(1, "key", Str), f(2, "operator", Str), r(3, "values", Str)];

const LABEL_SELECTOR: &[F] = &[
    f(1, "matchLabels", MapStr),
    r(2, "matchExpressions", Msg(LABEL_SELECTOR_REQ)),
];

const CONFIG_MAP: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    f(4, "immutable", BoolP),
    f(2, "data", MapStr),
    f(3, "binaryData", MapBytes),
];

const SECRET: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    f(5, "immutable", BoolP),
    f(2, "data", MapBytes),
    f(4, "stringData", MapStr),
    f(3, "type", Str),
];

const NAMESPACE_SPEC: &[F] = &[r(1, "finalizers", Str)];

const NAMESPACE: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    f(2, "spec", Msg(NAMESPACE_SPEC)),
];

const OBJECT_REF: &[F] = &[
    f(1, "kind", Str),
    f(2, "namespace", Str),
    f(3, "name", Str),
    f(4, "uid", Str),
    f(5, "apiVersion", Str),
    f(6, "resourceVersion", Str),
    f(7, "fieldPath", Str),
];

const LOCAL_OBJECT_REF: &[F] = &[f(1, "name", Str)];

const SERVICE_ACCOUNT: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    r(2, "secrets", Msg(OBJECT_REF)),
    r(3, "imagePullSecrets", Msg(LOCAL_OBJECT_REF)),
    f(4, "automountServiceAccountToken", BoolP),
];

const SERVICE_PORT: &[F] = &[
    f(1, "name", Str),
    f(2, "protocol", Str),
    f(6, "appProtocol", Str),
    f(3, "port", Int),
    f(4, "targetPort", IntOrString),
    f(5, "nodePort", Int),
];

const CLIENT_IP_CONFIG: &[F] = &[f(1, "timeoutSeconds", IntP)];

const SESSION_AFFINITY_CONFIG: &[F] = &[f(1, "clientIP", Msg(CLIENT_IP_CONFIG))];

const SERVICE_SPEC: &[F] = &[
    r(1, "ports", Msg(SERVICE_PORT)),
    f(2, "selector", MapStr),
    f(3, "clusterIP", Str),
    r(18, "clusterIPs", Str),
    f(4, "type", Str),
    r(5, "externalIPs", Str),
    f(7, "sessionAffinity", Str),
    f(8, "loadBalancerIP", Str),
    r(9, "loadBalancerSourceRanges", Str),
    f(10, "externalName", Str),
    f(11, "externalTrafficPolicy", Str),
    f(12, "healthCheckNodePort", Int),
    f(13, "publishNotReadyAddresses", Bool),
    f(14, "sessionAffinityConfig", Msg(SESSION_AFFINITY_CONFIG)),
    r(19, "ipFamilies", Str),
    f(17, "ipFamilyPolicy", Str),
    f(20, "allocateLoadBalancerNodePorts", BoolP),
    f(21, "loadBalancerClass", Str),
    f(22, "internalTrafficPolicy", Str),
    f(23, "trafficDistribution", Str),
];

const SERVICE: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    f(2, "spec", Msg(SERVICE_SPEC)),
];

const TAINT: &[F] = &[
    f(1, "key", Str),
    f(2, "value", Str),
    f(3, "effect", Str),
    f(4, "timeAdded", Time),
];

const NODE_SPEC: &[F] = &[
    f(1, "podCIDR", Str),
    r(7, "podCIDRs", Str),
    f(3, "providerID", Str),
    f(4, "unschedulable", Bool),
    r(5, "taints", Msg(TAINT)),
    f(2, "externalID", Str),
];

const NODE: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    f(2, "spec", Msg(NODE_SPEC)),
];

const POLICY_RULE: &[F] = &[
    r(1, "verbs", Str),
    r(2, "apiGroups", Str),
    r(3, "resources", Str),
    r(4, "resourceNames", Str),
    r(5, "nonResourceURLs", Str),
];

const AGGREGATION_RULE: &[F] = &[r(1, "clusterRoleSelectors", Msg(LABEL_SELECTOR))];

const ROLE: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    r(2, "rules", Msg(POLICY_RULE)),
];

const CLUSTER_ROLE: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    r(2, "rules", Msg(POLICY_RULE)),
    f(3, "aggregationRule", Msg(AGGREGATION_RULE)),
];

const SUBJECT: &[F] = &[
    f(1, "kind", Str),
    f(2, "apiGroup", Str),
    f(3, "name", Str),
    f(4, "namespace", Str),
];

const ROLE_REF: &[F] = &[f(1, "apiGroup", Str), f(2, "kind", Str), f(3, "name", Str)];

const ROLE_BINDING: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    r(2, "subjects", Msg(SUBJECT)),
    f(3, "roleRef", Msg(ROLE_REF)),
];

const TYPED_LOCAL_REF: &[F] = &[f(1, "apiGroup", Str), f(2, "kind", Str), f(3, "name", Str)];

const SERVICE_BACKEND_PORT: &[F] = &[f(1, "name", Str), f(2, "number", Int)];

const INGRESS_SERVICE_BACKEND: &[F] = &[f(1, "name", Str), f(2, "port", Msg(SERVICE_BACKEND_PORT))];

const INGRESS_BACKEND: &[F] = &[
    f(4, "service", Msg(INGRESS_SERVICE_BACKEND)),
    f(3, "resource", Msg(TYPED_LOCAL_REF)),
];

const HTTP_INGRESS_PATH: &[F] = &[
    f(1, "path", Str),
    f(3, "pathType", Str),
    f(2, "backend", Msg(INGRESS_BACKEND)),
];

const HTTP_INGRESS_RULE_VALUE: &[F] = &[r(1, "paths", Msg(HTTP_INGRESS_PATH))];

const INGRESS_RULE_VALUE: &[F] = &[f(1, "http", Msg(HTTP_INGRESS_RULE_VALUE))];

const INGRESS_RULE: &[F] = &[
    f(1, "host", Str),
    f(2, "ingressRuleValue", Inline(INGRESS_RULE_VALUE)),
];

const INGRESS_TLS: &[F] = &[r(1, "hosts", Str), f(2, "secretName", Str)];

const INGRESS_SPEC: &[F] = &[
    f(4, "ingressClassName", Str),
    f(1, "defaultBackend", Msg(INGRESS_BACKEND)),
    r(2, "tls", Msg(INGRESS_TLS)),
    r(3, "rules", Msg(INGRESS_RULE)),
];

const INGRESS: &[F] = &[
    f(1, "metadata", Msg(OBJECT_META)),
    f(2, "spec", Msg(INGRESS_SPEC)),
];

const PRECONDITIONS: &[F] = &[f(1, "uid", Str), f(2, "resourceVersion", Str)];

const DELETE_OPTIONS: &[F] = &[
    f(1, "gracePeriodSeconds", IntP),
    f(2, "preconditions", Msg(PRECONDITIONS)),
    f(3, "orphanDependents", BoolP),
    f(4, "propagationPolicy", Str),
    r(5, "dryRun", Str),
];

const TYPE_META: &[F] = &[f(1, "apiVersion", Str), f(2, "kind", Str)];

fn schema(api_version: &str, kind: &str) -> Option<&'static [F]> {
    Some(match (api_version, kind) {
        ("v1", "ConfigMap") => CONFIG_MAP,
        ("v1", "Secret") => SECRET,
        ("v1", "Namespace") => NAMESPACE,
        ("v1", "ServiceAccount") => SERVICE_ACCOUNT,
        ("v1", "Service") => SERVICE,
        ("v1", "Node") => NODE,
        ("rbac.authorization.k8s.io/v1", "Role") => ROLE,
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => CLUSTER_ROLE,
        ("rbac.authorization.k8s.io/v1", "RoleBinding" | "ClusterRoleBinding") => ROLE_BINDING,
        ("networking.k8s.io/v1", "Ingress") => INGRESS,
        ("meta.k8s.io/v1" | "v1", "DeleteOptions") => DELETE_OPTIONS,
        _ => return None,
    })
}

enum Wire<'a> {
    Varint(u64),
    Len(&'a [u8]),
    Fixed,
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut out = 0u64;
        for i in 0..10 {
            let (b, rest) = self.buf.split_first()?;
            self.buf = rest;
            out |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Some(out);
            }
        }
        None
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.buf.len() < n {
            return None;
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Some(a)
    }

    /// The next field, `Err` on malformed input.
    fn next(&mut self) -> Option<Result<(u64, Wire<'a>), ()>> {
        if self.buf.is_empty() {
            return None;
        }
        let item = (|| {
            let tag = self.varint()?;
            let wire = match tag & 7 {
                0 => Wire::Varint(self.varint()?),
                1 => {
                    self.take(8)?;
                    Wire::Fixed
                }
                2 => {
                    let n = usize::try_from(self.varint()?).ok()?;
                    Wire::Len(self.take(n)?)
                }
                5 => {
                    self.take(4)?;
                    Wire::Fixed
                }
                _ => return None,
            };
            Some((tag >> 3, wire))
        })();
        Some(item.ok_or(()))
    }
}

fn malformed() -> ApiError {
    ApiError::bad_request("the protobuf body of the request is malformed")
}

fn fields(buf: &[u8]) -> Result<Vec<(u64, Wire<'_>)>, ApiError> {
    let mut r = Reader { buf };
    let mut out = Vec::new();
    while let Some(item) = r.next() {
        out.push(item.map_err(|_| malformed())?);
    }
    Ok(out)
}

fn utf8(b: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(b.to_vec())
        .map_err(|_| ApiError::bad_request("a protobuf string field is not valid UTF-8"))
}

fn map_entry(b: &[u8], bytes_value: bool) -> Result<(String, Value), ApiError> {
    let mut key = String::new();
    let mut val = Value::String(String::new());
    for (n, w) in fields(b)? {
        match (n, w) {
            (1, Wire::Len(k)) => key = utf8(k)?,
            (2, Wire::Len(v)) if bytes_value => {
                val = base64::engine::general_purpose::STANDARD.encode(v).into()
            }
            (2, Wire::Len(v)) => val = utf8(v)?.into(),
            _ => {}
        }
    }
    Ok((key, val))
}

fn time(b: &[u8]) -> Result<Option<Value>, ApiError> {
    let (mut secs, mut nanos) = (0i64, 0i64);
    for (n, w) in fields(b)? {
        match (n, w) {
            (1, Wire::Varint(v)) => secs = v as i64,
            (2, Wire::Varint(v)) => nanos = i64::from(v as i32),
            _ => {}
        }
    }
    // Go's zero time encodes as year 1; treat it and the empty message as unset.
    if secs <= -62_135_596_800 || (secs == 0 && nanos == 0) {
        return Ok(None);
    }
    Ok(chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string().into()))
}

fn int_or_string(b: &[u8]) -> Result<Value, ApiError> {
    let (mut ty, mut i, mut s) = (0u64, 0i64, String::new());
    for (n, w) in fields(b)? {
        match (n, w) {
            (1, Wire::Varint(v)) => ty = v,
            (2, Wire::Varint(v)) => i = i64::from(v as i32),
            (3, Wire::Len(v)) => s = utf8(v)?,
            _ => {}
        }
    }
    Ok(if ty == 1 { s.into() } else { i.into() })
}

fn decode_value(ty: Ty, w: Wire<'_>) -> Result<Option<Value>, ApiError> {
    Ok(match (ty, w) {
        (Str, Wire::Len(b)) => {
            let s = utf8(b)?;
            (!s.is_empty()).then(|| s.into())
        }
        (Int, Wire::Varint(v)) => (v != 0).then(|| (v as i64).into()),
        (IntP, Wire::Varint(v)) => Some((v as i64).into()),
        (Bool, Wire::Varint(v)) => (v != 0).then_some(Value::Bool(true)),
        (BoolP, Wire::Varint(v)) => Some((v != 0).into()),
        (Time, Wire::Len(b)) => time(b)?,
        (IntOrString, Wire::Len(b)) => Some(int_or_string(b)?),
        (FieldsV1, Wire::Len(b)) => {
            let mut raw: &[u8] = &[];
            for (n, w) in fields(b)? {
                if let (1, Wire::Len(v)) = (n, w) {
                    raw = v;
                }
            }
            Some(serde_json::from_slice(raw).unwrap_or(Value::Object(Map::new())))
        }
        (Msg(m), Wire::Len(b)) => Some(Value::Object(message(b, m)?)),
        _ => return Err(malformed()),
    })
}

fn message(buf: &[u8], schema: &[F]) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    for (n, w) in fields(buf)? {
        let Some(field) = schema.iter().find(|x| x.num == n) else {
            continue;
        };
        match field.ty {
            MapStr | MapBytes => {
                let Wire::Len(b) = w else {
                    return Err(malformed());
                };
                let (k, v) = map_entry(b, matches!(field.ty, MapBytes))?;
                if let Value::Object(m) = out
                    .entry(field.name)
                    .or_insert_with(|| Value::Object(Map::new()))
                {
                    m.insert(k, v);
                }
            }
            Inline(m) => {
                let Wire::Len(b) = w else {
                    return Err(malformed());
                };
                out.extend(message(b, m)?);
            }
            ty if field.repeated => {
                let v = decode_value(ty, w)?.unwrap_or_else(|| "".into());
                if let Value::Array(a) = out
                    .entry(field.name)
                    .or_insert_with(|| Value::Array(Vec::new()))
                {
                    a.push(v);
                }
            }
            ty => {
                if let Some(v) = decode_value(ty, w)? {
                    out.insert(field.name.to_string(), v);
                }
            }
        }
    }
    Ok(out)
}

/// Decodes a protobuf request body into JSON. 415 for kinds without a protobuf form here.
pub fn decode(body: &[u8]) -> Result<Value, ApiError> {
    let inner = body.strip_prefix(b"k8s\x00").ok_or_else(|| {
        ApiError::bad_request("the protobuf body does not start with the Kubernetes magic bytes")
    })?;
    let mut type_meta = Map::new();
    let mut raw: &[u8] = &[];
    for (n, w) in fields(inner)? {
        match (n, w) {
            (1, Wire::Len(b)) => type_meta = message(b, TYPE_META)?,
            (2, Wire::Len(b)) => raw = b,
            _ => {}
        }
    }
    let av = type_meta
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let kind = type_meta
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let Some(schema) = schema(&av, &kind) else {
        return Err(ApiError::unsupported_media_type(
            "application/vnd.kubernetes.protobuf",
            &["application/json", "application/yaml"],
        ));
    };
    let mut obj = message(raw, schema)?;
    obj.insert("apiVersion".into(), av.into());
    obj.insert("kind".into(), kind.into());
    Ok(Value::Object(obj))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn len_field(num: u64, payload: &[u8], out: &mut Vec<u8>) {
        varint(num << 3 | 2, out);
        varint(payload.len() as u64, out);
        out.extend_from_slice(payload);
    }

    fn entry(k: &str, v: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        len_field(1, k.as_bytes(), &mut e);
        len_field(2, v, &mut e);
        e
    }

    #[test]
    fn configmap_as_kubectl_sends_it() {
        let mut meta = Vec::new();
        len_field(1, b"foo", &mut meta);
        len_field(2, b"", &mut meta);
        len_field(3, b"", &mut meta);
        // Go's zero time.
        let mut t = Vec::new();
        varint(1 << 3, &mut t);
        varint((-62_135_596_800i64) as u64, &mut t);
        len_field(8, &t, &mut meta);
        len_field(11, &entry("app", b"web"), &mut meta);
        let mut cm = Vec::new();
        len_field(1, &meta, &mut cm);
        len_field(2, &entry("a", b"b"), &mut cm);
        len_field(3, &entry("bin", &[0, 1]), &mut cm);
        let mut tm = Vec::new();
        len_field(1, b"v1", &mut tm);
        len_field(2, b"ConfigMap", &mut tm);
        let mut unknown = Vec::new();
        len_field(1, &tm, &mut unknown);
        len_field(2, &cm, &mut unknown);
        let mut body = b"k8s\x00".to_vec();
        body.extend(unknown);
        let v = decode(&body).expect("decodes");
        assert_eq!(
            v,
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "foo", "labels": {"app": "web"}},
                "data": {"a": "b"}, "binaryData": {"bin": "AAE="}})
        );
    }

    #[test]
    fn custom_kinds_and_garbage_are_refused() {
        let mut tm = Vec::new();
        len_field(1, b"platform.tkestack.io/v1", &mut tm);
        len_field(2, b"Cluster", &mut tm);
        let mut body = b"k8s\x00".to_vec();
        len_field(1, &tm, &mut body);
        assert_eq!(decode(&body).expect_err("415").code, 415);
        assert_eq!(decode(b"k8s\x00\xff").expect_err("400").code, 400);
        assert_eq!(decode(b"{}").expect_err("400").code, 400);
    }
}
