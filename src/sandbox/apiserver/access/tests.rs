use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde_json::json;

use super::*;
use crate::sandbox::apiserver::authz::ReviewKind;
use crate::sandbox::apiserver::kinds::{KINDS, ResourceKind, by_name};
use crate::sandbox::apiserver::store::Store;

fn store() -> Store {
    let s = Store::new("global", true, Arc::new(AtomicU64::new(1)), 1000);
    s.create(
        names::NAMESPACES,
        None,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "my-ns"}}),
    )
    .expect("namespace");
    s.create(
        names::ROLE_BINDINGS,
        Some("my-ns"),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "sa-view", "namespace": "my-ns"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
               "subjects": [{"kind": "ServiceAccount", "name": "default"}]}),
    )
    .expect("rolebinding");
    s
}

fn kind(name: &str) -> &'static ResourceKind {
    &KINDS[by_name(name).expect("kind")]
}

fn sa() -> UserInfo {
    UserInfo {
        name: "system:serviceaccount:my-ns:default".into(),
        groups: vec![
            "system:serviceaccounts".into(),
            "system:serviceaccounts:my-ns".into(),
            "system:authenticated".into(),
        ],
    }
}

fn attrs(verb: &str, ns: Option<&str>, resource: &str) -> RequestAttributes {
    RequestAttributes {
        verb: verb.into(),
        resource_request: true,
        api_version: "v1".into(),
        resource: resource.into(),
        namespace: ns.map(str::to_string),
        ..RequestAttributes::default()
    }
}

#[test]
fn reviews_answer_like_requests() {
    let s = store();
    let view = StoreView::new(&s);
    let ssar = kind("selfsubjectaccessreviews.authorization.k8s.io");
    for (verb, ns, want) in [
        ("list", "my-ns", true),
        ("create", "my-ns", false),
        ("list", "other", false),
    ] {
        let out = review(
            &view,
            &sa(),
            ssar,
            ReviewKind::SelfSubjectAccessReview,
            None,
            json!({"spec": {"resourceAttributes": {"verb": verb, "namespace": ns, "resource": "configmaps"}}}),
        )
        .expect("review");
        assert_eq!(out["status"]["allowed"], want, "{verb} in {ns}: {out}");
        assert_eq!(out["kind"], "SelfSubjectAccessReview");
        assert_eq!(out["apiVersion"], "authorization.k8s.io/v1");
        let real = authorize(&view, &sa(), &attrs(verb, Some(ns), "configmaps"));
        assert_eq!(real == Decision::Allow, want, "{verb} in {ns}");
    }
    let out = review(
        &view,
        &sa(),
        ssar,
        ReviewKind::SelfSubjectAccessReview,
        None,
        json!({"spec": {"resourceAttributes": {"verb": "list", "namespace": "my-ns", "resource": "configmaps"}}}),
    )
    .expect("review");
    assert_eq!(
        out["status"]["reason"],
        "RBAC: allowed by RoleBinding \"sa-view/my-ns\" of ClusterRole \"view\" to ServiceAccount \"default/my-ns\""
    );
    // Discovery and SSAR creation come from the bootstrap policy, not the store.
    let discovery = RequestAttributes {
        verb: "get".into(),
        path: "/apis".into(),
        ..RequestAttributes::default()
    };
    assert_eq!(authorize(&view, &sa(), &discovery), Decision::Allow);
    let masters = UserInfo {
        name: "admin".into(),
        groups: vec![MASTERS.into()],
    };
    assert_eq!(
        authorize(&view, &masters, &attrs("delete", None, "nodes")),
        Decision::Allow
    );
    assert_eq!(
        authorize(&view, &sa(), &attrs("delete", None, "nodes")),
        Decision::Deny(String::new())
    );
}

#[test]
fn policy_changes_take_effect_at_once() {
    let s = store();
    let view = StoreView::new(&s);
    let create = attrs("create", Some("my-ns"), "configmaps");
    assert!(matches!(
        authorize(&view, &sa(), &create),
        Decision::Deny(_)
    ));
    s.create(
        names::ROLE_BINDINGS,
        Some("my-ns"),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": "sa-edit", "namespace": "my-ns"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
               "subjects": [{"kind": "ServiceAccount", "name": "default"}]}),
    )
    .expect("rolebinding");
    assert_eq!(authorize(&view, &sa(), &create), Decision::Allow);
    s.delete(names::ROLE_BINDINGS, Some("my-ns"), "sa-edit")
        .expect("delete");
    assert!(matches!(
        authorize(&view, &sa(), &create),
        Decision::Deny(_)
    ));
    // A stored ClusterRole replaces the bootstrap one of the same name.
    s.create(
        names::CLUSTER_ROLES,
        None,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "view"},
               "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]}]}),
    )
    .expect("clusterrole");
    assert_eq!(authorize(&view, &sa(), &create), Decision::Allow);
    let list = attrs("list", Some("my-ns"), "configmaps");
    assert!(matches!(authorize(&view, &sa(), &list), Decision::Deny(_)));
}

#[test]
fn subject_reviews_use_the_named_subject() {
    let s = store();
    let view = StoreView::new(&s);
    let sar = kind("subjectaccessreviews.authorization.k8s.io");
    let nobody = UserInfo {
        name: "admin".into(),
        groups: vec![MASTERS.into()],
    };
    let out = review(
        &view,
        &nobody,
        sar,
        ReviewKind::SubjectAccessReview,
        None,
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
               "spec": {"user": "system:serviceaccount:my-ns:default",
                        "resourceAttributes": {"verb": "delete", "namespace": "my-ns", "resource": "configmaps"}}}),
    )
    .expect("review");
    assert_eq!(out["status"]["allowed"], false);
    let err = review(
        &view,
        &nobody,
        sar,
        ReviewKind::SubjectAccessReview,
        None,
        json!({"spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}}),
    )
    .expect_err("no subject");
    assert_eq!(err.code, 422);
    assert!(
        err.message
            .contains("at least one of user or group must be specified")
    );

    let local = kind("localsubjectaccessreviews.authorization.k8s.io");
    let err = review(
        &view,
        &nobody,
        local,
        ReviewKind::LocalSubjectAccessReview,
        Some("my-ns"),
        json!({"spec": {"user": "u", "resourceAttributes": {"verb": "get", "namespace": "other", "resource": "configmaps"}}}),
    )
    .expect_err("namespace mismatch");
    assert_eq!(err.code, 422);
    let out = review(
        &view,
        &nobody,
        local,
        ReviewKind::LocalSubjectAccessReview,
        Some("my-ns"),
        json!({"spec": {"user": "system:serviceaccount:my-ns:default",
                        "groups": ["system:serviceaccounts"],
                        "resourceAttributes": {"verb": "get", "namespace": "my-ns", "resource": "configmaps"}}}),
    )
    .expect("local review");
    assert_eq!(out["status"]["allowed"], true);
    assert_eq!(out["metadata"]["namespace"], "my-ns");
}

#[test]
fn malformed_reviews_are_rejected() {
    let s = store();
    let view = StoreView::new(&s);
    let ssar = kind("selfsubjectaccessreviews.authorization.k8s.io");
    let run = |body: Value| {
        review(
            &view,
            &sa(),
            ssar,
            ReviewKind::SelfSubjectAccessReview,
            None,
            body,
        )
    };
    assert_eq!(run(json!("x")).expect_err("not object").code, 400);
    assert_eq!(run(json!({})).expect_err("no spec").code, 422);
    assert_eq!(
        run(json!({"spec": {}})).expect_err("no attributes").code,
        422
    );
    let both = json!({"spec": {"resourceAttributes": {"verb": "get"},
                                "nonResourceAttributes": {"verb": "get", "path": "/x"}}});
    assert_eq!(run(both).expect_err("both").code, 422);
    let wrong_kind = json!({"kind": "SubjectAccessReview", "spec": {"resourceAttributes": {}}});
    assert_eq!(run(wrong_kind).expect_err("kind").code, 400);
    let non = run(json!({"spec": {"nonResourceAttributes": {"verb": "get", "path": "/version"}}}))
        .expect("non-resource");
    assert_eq!(non["status"]["allowed"], true);
}

#[test]
fn rules_review_lists_what_the_user_holds() {
    let s = store();
    let view = StoreView::new(&s);
    let k = kind("selfsubjectaccessreviews.authorization.k8s.io");
    let out =
        rules_review(&view, &sa(), k, json!({"spec": {"namespace": "my-ns"}})).expect("review");
    let rules = out["status"]["resourceRules"].as_array().expect("rules");
    // `view` (through the RoleBinding) and `system:basic-user` (bootstrap).
    assert!(rules.iter().any(|r| {
        r["resources"]
            .as_array()
            .is_some_and(|l| l.contains(&json!("configmaps")))
            && r["verbs"] == json!(["get", "list", "watch"])
    }));
    assert!(rules.iter().any(|r| {
        r["resources"]
            .as_array()
            .is_some_and(|l| l.contains(&json!("selfsubjectaccessreviews")))
    }));
    assert!(
        !out["status"]["nonResourceRules"]
            .as_array()
            .expect("non-resource rules")
            .is_empty()
    );
    assert_eq!(out["status"]["incomplete"], false);
    let elsewhere =
        rules_review(&view, &sa(), k, json!({"spec": {"namespace": "other"}})).expect("review");
    assert!(
        !elsewhere["status"]["resourceRules"]
            .as_array()
            .expect("rules")
            .iter()
            .any(|r| r["resources"]
                .as_array()
                .is_some_and(|l| l.contains(&json!("configmaps"))))
    );
    let err = rules_review(&view, &sa(), k, json!({"spec": {}})).expect_err("namespace");
    assert_eq!(err.code, 422);
}

fn pb_len(field: u64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let push_varint = |mut v: u64, out: &mut Vec<u8>| loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    };
    push_varint((field << 3) | 2, &mut out);
    push_varint(bytes.len() as u64, &mut out);
    out.extend_from_slice(bytes);
    out
}

#[test]
fn protobuf_reviews_decode() {
    let attrs = [
        pb_len(1, b"my-ns"),
        pb_len(2, b"list"),
        pb_len(3, b""),
        pb_len(5, b"configmaps"),
    ]
    .concat();
    let spec = [
        pb_len(1, &attrs),
        pb_len(3, b"alice"),
        pb_len(4, b"ops"),
        pb_len(4, b"dev"),
    ]
    .concat();
    // A varint field (number 9) and a fixed64 field (number 10) must be skipped.
    let mut raw = [pb_len(1, &pb_len(3, b"my-ns")), pb_len(2, &spec)].concat();
    raw.extend_from_slice(&[9 << 3, 5, (10 << 3) | 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    let type_meta = [
        pb_len(1, b"authorization.k8s.io/v1"),
        pb_len(2, b"SubjectAccessReview"),
    ]
    .concat();
    let mut body = b"k8s\x00".to_vec();
    body.extend(pb_len(1, &type_meta));
    body.extend(pb_len(2, &raw));
    body.extend(pb_len(3, b""));
    body.extend(pb_len(4, b"application/vnd.kubernetes.protobuf"));
    let v = review_body("application/vnd.kubernetes.protobuf", &body).expect("decode");
    assert_eq!(
        v,
        json!({
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "metadata": {"namespace": "my-ns"},
            "spec": {
                "resourceAttributes": {"namespace": "my-ns", "verb": "list", "group": "", "resource": "configmaps"},
                "user": "alice", "groups": ["ops", "dev"],
            },
        })
    );
    assert_eq!(
        review_body(PROTOBUF, b"k8s\x00\x0a\xff")
            .expect_err("truncated")
            .code,
        400
    );
    assert_eq!(
        review_body(PROTOBUF, b"{}").expect_err("no magic").code,
        400
    );
    let rr_raw = [pb_len(1, &pb_len(1, b"x")), pb_len(2, &pb_len(1, b"my-ns"))].concat();
    let mut rr = b"k8s\x00".to_vec();
    rr.extend(pb_len(
        1,
        &[
            pb_len(1, b"authorization.k8s.io/v1"),
            pb_len(2, b"SelfSubjectRulesReview"),
        ]
        .concat(),
    ));
    rr.extend(pb_len(2, &rr_raw));
    assert_eq!(
        rules_review_body(PROTOBUF, &rr).expect("rules review"),
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
               "metadata": {"name": "x"}, "spec": {"namespace": "my-ns"}})
    );
    assert_eq!(
        review_body("application/json", br#"{"spec":{}}"#).expect("json")["spec"],
        json!({})
    );
    assert_eq!(
        review_body("application/yaml", b"spec:\n  user: bob\n").expect("yaml")["spec"]["user"],
        "bob"
    );
}
