use super::*;
use crate::sandbox::apiserver::kinds::{KINDS, by_name, names, served};

fn global() -> Vec<&'static ResourceKind> {
    served(true).collect()
}

#[test]
fn root_lists_every_group_version_with_its_hash() {
    let kinds = global();
    let d = docs(&kinds);
    let root = document("/openapi/v3", &kinds).expect("root");
    let url = root["paths"]["apis/platform.tkestack.io/v1"]["serverRelativeURL"]
        .as_str()
        .expect("platform group listed");
    let (doc, hash) = &d.v3["apis/platform.tkestack.io/v1"];
    assert_eq!(
        url,
        format!("/openapi/v3/apis/platform.tkestack.io/v1?hash={hash}")
    );
    assert_eq!(hash, &content_hash(&serde_json::to_vec(doc).expect("json")));
    assert!(root["paths"]["api/v1"].is_object());
    assert!(document("/openapi/v3/apis/nope.example.com/v1", &kinds).is_none());
}

#[test]
fn cluster_schema_is_explainable() {
    let kinds = global();
    let doc = document("/openapi/v3/apis/platform.tkestack.io/v1", &kinds).expect("doc");
    let schemas = &doc["components"]["schemas"];
    let cls = &schemas["io.tkestack.platform.v1.Cluster"];
    assert_eq!(
        cls["x-kubernetes-group-version-kind"],
        json!([{"group": "platform.tkestack.io", "version": "v1", "kind": "Cluster"}])
    );
    let spec = &cls["properties"]["spec"];
    assert!(spec["properties"]["clusterCIDR"].is_object());
    // Free-form fields must not be published as `{}` (kubectl explain fails on those).
    let free = &spec["properties"]["features"]["properties"]["authzWebhookAddr"];
    assert_eq!(free["x-kubernetes-preserve-unknown-fields"], true, "{free}");
    assert!(spec.get("x-kubernetes-preserve-unknown-fields").is_none());
    let meta_ref = cls["properties"]["metadata"]["allOf"][0]["$ref"]
        .as_str()
        .expect("metadata ref");
    let meta_name = meta_ref.rsplit('/').next().expect("name");
    assert!(schemas[meta_name]["properties"]["labels"].is_object());
    assert!(schemas["io.tkestack.platform.v1.ClusterList"]["properties"]["items"].is_object());
}

#[test]
fn patch_operations_advertise_field_validation() {
    let kinds = global();
    for (gv, path) in [
        (
            "apis/platform.tkestack.io/v1",
            "/apis/platform.tkestack.io/v1/clusters/{name}",
        ),
        ("api/v1", "/api/v1/namespaces/{namespace}/configmaps/{name}"),
    ] {
        let doc = document(&format!("/openapi/v3/{gv}"), &kinds).expect("doc");
        let patch = &doc["paths"][path]["patch"];
        assert!(
            patch["x-kubernetes-group-version-kind"].is_object(),
            "{path}"
        );
        let params = patch["parameters"].as_array().expect("params");
        assert!(
            params
                .iter()
                .any(|p| p["name"] == "fieldValidation" && p["in"] == "query"),
            "{path}"
        );
    }
}

#[test]
fn builtin_kinds_use_upstream_schemas() {
    let kinds = global();
    let doc = document("/openapi/v3/api/v1", &kinds).expect("doc");
    let cm = &doc["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"];
    assert!(cm["properties"]["data"].is_object());
    assert_eq!(
        cm["x-kubernetes-group-version-kind"][0]["kind"],
        "ConfigMap"
    );
    let v2 = document("/openapi/v2", &kinds).expect("v2");
    assert_eq!(v2["swagger"], "2.0");
    assert!(v2["definitions"]["io.k8s.api.core.v1.ConfigMap"].is_object());
    assert!(
        v2["paths"]["/apis/platform.tkestack.io/v1/clusters"]["get"]["x-kubernetes-action"]
            == "list"
    );
}

#[test]
fn unknown_fields_and_directives() {
    let kinds = global();
    let cls = &KINDS[by_name(names::CLUSTERS).expect("kind")];
    let obj = json!({
        "apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
        "metadata": {"name": "a", "labels": {"any": "thing"}, "bogus": 1},
        "spec": {"type": "Baremetal", "version": "1.30.0", "nonsense": true},
    });
    let unknown = unknown_fields(cls, &kinds, &obj);
    assert_eq!(
        unknown,
        vec!["metadata.bogus".to_string(), "spec.nonsense".to_string()]
    );
    let err = field_validation(cls, &kinds, Some("Strict"), &obj).expect_err("strict");
    assert_eq!(err.code, 400);
    assert_eq!(
        err.message,
        "Cluster in version \"v1\" cannot be handled as a Cluster: strict decoding error: \
         unknown field \"metadata.bogus\", unknown field \"spec.nonsense\""
    );
    let warns = field_validation(cls, &kinds, None, &obj).expect("warn");
    assert_eq!(warns.len(), 2);
    assert!(
        field_validation(cls, &kinds, Some("Ignore"), &obj)
            .expect("ignore")
            .is_empty()
    );
    assert_eq!(
        field_validation(cls, &kinds, Some("Loose"), &obj)
            .expect_err("bad")
            .code,
        422
    );
    let cm = &KINDS[by_name(names::CONFIG_MAPS).expect("kind")];
    let good = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "x", "annotations": {"a": "b"}}, "data": {"k": "v"}});
    assert!(unknown_fields(cm, &kinds, &good).is_empty());
    let bad = json!({"metadata": {"name": "x"}, "datta": {}});
    assert_eq!(unknown_fields(cm, &kinds, &bad), vec!["datta".to_string()]);
}

/// Reads (field, bytes) of the length-delimited fields of a protobuf message.
fn pb_fields(mut b: &[u8]) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let varint = |b: &mut &[u8]| {
        let mut v = 0u64;
        let mut shift = 0;
        while let Some((&x, rest)) = b.split_first() {
            *b = rest;
            v |= u64::from(x & 0x7f) << shift;
            shift += 7;
            if x & 0x80 == 0 {
                break;
            }
        }
        v
    };
    while !b.is_empty() {
        let key = varint(&mut b);
        match key & 7 {
            0 => {
                varint(&mut b);
            }
            2 => {
                let n = usize::try_from(varint(&mut b)).expect("length");
                out.push((key >> 3, b[..n].to_vec()));
                b = &b[n..];
            }
            other => panic!("unexpected wire type {other}"),
        }
    }
    out
}

#[test]
fn v2_negotiates_protobuf_json_or_406() {
    let kinds = global();
    let (ct, body) = respond("/openapi/v2", V2_PROTOBUF, &kinds)
        .expect("ok")
        .expect("found");
    assert_eq!(ct, V2_PROTOBUF_RESPONSE);
    let doc = pb_fields(&body);
    assert_eq!(doc[0], (1, b"2.0".to_vec()));
    let defs = &doc.iter().find(|(f, _)| *f == 9).expect("definitions").1;
    let cluster = pb_fields(defs)
        .into_iter()
        .map(|(_, named)| pb_fields(&named))
        .find(|named| named[0].1 == b"io.tkestack.platform.v1.Cluster")
        .expect("Cluster definition");
    let schema = pb_fields(&cluster[1].1);
    let gvk = schema
        .iter()
        .filter(|(f, _)| *f == 31)
        .map(|(_, ext)| pb_fields(ext))
        .find(|ext| ext[0].1 == b"x-kubernetes-group-version-kind")
        .expect("gvk extension");
    let yaml = pb_fields(&gvk[1].1);
    assert_eq!(
        String::from_utf8_lossy(&yaml[0].1),
        r#"[{"group":"platform.tkestack.io","kind":"Cluster","version":"v1"}]"#
    );

    let (ct, _) = respond("/openapi/v2", "application/json", &kinds)
        .expect("ok")
        .expect("found");
    assert_eq!(ct, "application/json");
    let (ct, _) = respond("/openapi/v3/api/v1", "", &kinds)
        .expect("ok")
        .expect("found");
    assert_eq!(ct, "application/json");
    let err = respond(
        "/openapi/v3/api/v1",
        "application/vnd.kubernetes.protobuf",
        &kinds,
    )
    .expect_err("406");
    assert_eq!(err.code, 406);
    assert!(
        respond("/openapi/v3/apis/x.io/v1", "", &kinds)
            .expect("ok")
            .is_none()
    );
}

/// The manifest of ACP's own example (API reference §1.7), which must pass Strict as is.
fn acp_example() -> Value {
    json!({
        "apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
        "metadata": {"name": "demo", "annotations": {
            "cpaas.io/container-runtime": "containerd://1.6.28-4",
            "cpaas.io/network-type": "kube-ovn"}},
        "spec": {
            "type": "Baremetal", "version": "1.28.13", "displayName": "demo",
            "clusterCIDR": "10.3.0.0/16", "serviceCIDR": "10.4.0.0/16", "networkDevice": "eth0",
            "properties": {"maxNodePodNum": 256},
            "features": {"ipvs": true, "ipv6DualStack": false, "enableMasterSchedule": false,
                "ha": {"tke": {"vip": "192.168.0.10", "vrid": 137}}},
            "publicAlternativeNames": ["k8s.example.com"],
            "kubeletExtraArgs": {}, "apiServerExtraArgs": {},
            "controllerManagerExtraArgs": {}, "schedulerExtraArgs": {},
            "machines": [
                {"ip": "192.168.0.11", "port": 22, "role": "master", "username": "root",
                 "password": "cm9vdA=="},
                {"ip": "192.168.0.21", "port": 22, "role": "node", "username": "root",
                 "privateKey": "a2V5", "passPhrase": "cA==",
                 "proxy": {"type": "SOCKS5", "address": "192.168.1.1:1080"}},
            ],
        },
    })
}

#[test]
fn strict_mode_rejects_fields_acp_does_not_publish() {
    let kinds = global();
    let cls = &KINDS[by_name(names::CLUSTERS).expect("kind")];
    let good = acp_example();
    assert_eq!(
        field_validation(cls, &kinds, Some("Strict"), &good).expect("ACP's example passes"),
        Vec::<String>::new()
    );
    // TKE has these fields, ACP's published list does not.
    let mut bad = good.clone();
    bad["spec"]["features"]["containerRuntime"] = json!("containerd");
    bad["spec"]["appVersion"] = json!("v1");
    bad["spec"]["machines"][1]["proxy"]["ip"] = json!("192.168.1.1");
    let err = field_validation(cls, &kinds, Some("Strict"), &bad).expect_err("strict");
    assert_eq!(err.code, 400);
    for field in [
        "spec.appVersion",
        "spec.features.containerRuntime",
        "spec.machines[1].proxy.ip",
    ] {
        assert!(
            err.message.contains(&format!("unknown field \"{field}\"")),
            "{field}: {}",
            err.message
        );
    }
    let eec = &KINDS[by_name(names::ETCD_ENCRYPTION_CONFIGS).expect("kind")];
    let obj = json!({"apiVersion": "cluster.alauda.io/v1alpha1", "kind": "EtcdEncryptionConfig",
        "metadata": {"name": "default"},
        "spec": {"resources": ["secrets"], "rotationInterval": "168h0m0s", "type": "aesgcm",
            "keyStrategy": "random"}});
    assert_eq!(
        unknown_fields(eec, &kinds, &obj),
        vec!["spec.keyStrategy".to_string()]
    );
    let cc = &KINDS[by_name(names::CLUSTER_CREDENTIALS).expect("kind")];
    let obj = json!({"apiVersion": "platform.tkestack.io/v1", "kind": "ClusterCredential",
        "metadata": {"name": "cc-a"}, "clusterName": "a", "tenantID": "default",
        "token": "t", "username": "admin"});
    assert_eq!(
        unknown_fields(cc, &kinds, &obj),
        vec!["username".to_string()]
    );
}

#[test]
fn machine_spec_carries_the_cluster_machine_fields() {
    let kinds = global();
    let mc = &KINDS[by_name(names::MACHINES).expect("kind")];
    let obj = json!({"apiVersion": "platform.tkestack.io/v1", "kind": "Machine",
        "metadata": {"name": "a-192-168-0-30"},
        "spec": {"clusterName": "a", "type": "Baremetal", "ip": "192.168.0.30", "port": 22,
            "username": "root", "password": "cm9vdA==", "role": "node", "publicIP": "10.1.1.1",
            "taints": [{"key": "k", "effect": "NoSchedule"}]},
        "status": {"phase": "Running", "addresses": [{"type": "InternalIP", "address": "x"}],
            "machineInfo": {"osImage": "x"}}});
    assert!(unknown_fields(mc, &kinds, &obj).is_empty());
}

/// The sandbox's own seeded objects must stay within what ACP publishes, or the sandbox
/// would show clients fields a real platform never has.
#[test]
fn seeded_objects_use_only_published_fields() {
    use crate::sandbox::scenario::Scenario;
    let kinds = global();
    let kind = |name: &str| &KINDS[by_name(name).expect("kind")];
    let now = chrono::Utc::now();
    for seed in [1, 7, 42] {
        let scenario = Scenario::generate(seed);
        for plan in &scenario.clusters {
            let obj = plan.cluster_object(seed, now);
            let unknown = unknown_fields(kind(names::CLUSTERS), &kinds, &obj);
            assert!(unknown.is_empty(), "{}: {unknown:?}", plan.name);
            for (mut machine, status) in plan.adding_machines(seed, now) {
                machine["status"] = status;
                let unknown = unknown_fields(kind(names::MACHINES), &kinds, &machine);
                assert!(unknown.is_empty(), "{} machine: {unknown:?}", plan.name);
            }
            if let Some(eec) = plan.etcd_object(now) {
                let unknown = unknown_fields(kind(names::ETCD_ENCRYPTION_CONFIGS), &kinds, &eec);
                assert!(unknown.is_empty(), "{} etcd: {unknown:?}", plan.name);
            }
        }
    }
}
