use super::*;
use serde_json::json;

fn policy() -> Policy {
    let mut crs: Vec<Value> = Vec::new();
    let mut crbs: Vec<Value> = Vec::new();
    for o in bootstrap_objects() {
        match o["kind"].as_str() {
            Some("ClusterRole") => crs.push(o),
            Some("ClusterRoleBinding") => crbs.push(o),
            _ => {}
        }
    }
    crs.push(json!({
        "metadata": {"name": "cluster-reader"},
        "rules": [{"apiGroups": ["platform.tkestack.io"], "resources": ["clusters", "machines"],
                   "verbs": ["get", "list", "watch"]}],
    }));
    crs.push(json!({
        "metadata": {"name": "status-writer"},
        "rules": [{"apiGroups": ["platform.tkestack.io"], "resources": ["*/status"],
                   "verbs": ["update", "patch"]}],
    }));
    crs.push(json!({
        "metadata": {"name": "impersonator"},
        "rules": [{"apiGroups": [""], "resources": ["users", "groups", "serviceaccounts"],
                   "verbs": ["impersonate"]}],
    }));
    crbs.push(json!({
        "metadata": {"name": "ops-read-clusters"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-reader"},
        "subjects": [{"kind": "Group", "name": "ops"}],
    }));
    crbs.push(json!({
        "metadata": {"name": "ctrl-status"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "status-writer"},
        "subjects": [{"kind": "ServiceAccount", "name": "ctrl", "namespace": "kube-system"}],
    }));
    crbs.push(json!({
        "metadata": {"name": "dangling"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "gone"},
        "subjects": [{"kind": "User", "name": "ghost"}],
    }));
    let roles = vec![json!({
        "metadata": {"name": "cm-one", "namespace": "my-ns"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["only-this"],
                   "verbs": ["get", "update"]}],
    })];
    let rbs = vec![
        json!({
            "metadata": {"name": "sa-view", "namespace": "my-ns"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            // No namespace: it defaults to the binding's.
            "subjects": [{"kind": "ServiceAccount", "name": "default"}],
        }),
        json!({
            "metadata": {"name": "alice-cm", "namespace": "my-ns"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "cm-one"},
            "subjects": [{"kind": "User", "name": "alice"}],
        }),
        json!({
            "metadata": {"name": "all-sa-view", "namespace": "shared"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "Group", "name": "system:serviceaccounts:my-ns"}],
        }),
        json!({
            "metadata": {"name": "imp", "namespace": "my-ns"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonator"},
            "subjects": [{"kind": "User", "name": "bob"}],
        }),
    ];
    Policy::from_json(roles, crs, rbs, crbs)
}

fn sa(ns: &str, name: &str) -> (String, Vec<String>) {
    let mut g = service_account_groups(ns);
    g.push("system:authenticated".into());
    (format!("system:serviceaccount:{ns}:{name}"), g)
}

fn user(name: &str, groups: &[&str]) -> (String, Vec<String>) {
    let mut g: Vec<String> = groups.iter().map(|s| s.to_string()).collect();
    g.push("system:authenticated".into());
    (name.to_string(), g)
}

fn res(
    who: (String, Vec<String>),
    verb: &str,
    ns: &str,
    group: &str,
    resource: &str,
    sub: &str,
    name: &str,
) -> Request {
    Request {
        user: who.0,
        groups: who.1,
        verb: verb.into(),
        resource_request: true,
        namespace: ns.into(),
        api_group: group.into(),
        resource: resource.into(),
        subresource: sub.into(),
        name: name.into(),
        path: String::new(),
    }
}

fn non_res(who: (String, Vec<String>), verb: &str, path: &str) -> Request {
    Request {
        user: who.0,
        groups: who.1,
        verb: verb.into(),
        resource_request: false,
        path: path.into(),
        ..Request::default()
    }
}

/// Checks each `(what, request, allowed)` case against the test policy.
fn check_decisions(cases: Vec<(&str, Request, bool)>) {
    let p = policy();
    for (what, req, want) in cases {
        let v = p.authorize(&req);
        assert_eq!(v.allowed, want, "{what}: {req:?} -> {v:?}");
        if v.allowed {
            assert!(
                v.reason.starts_with("RBAC: allowed by "),
                "{what}: {}",
                v.reason
            );
        }
    }
}

#[test]
fn decisions_follow_bindings_and_their_subjects() {
    check_decisions(vec![
        (
            "SA lists configmaps in its namespace via RoleBinding to view",
            res(
                sa("my-ns", "default"),
                "list",
                "my-ns",
                "",
                "configmaps",
                "",
                "",
            ),
            true,
        ),
        (
            "SA view does not include create",
            res(
                sa("my-ns", "default"),
                "create",
                "my-ns",
                "",
                "configmaps",
                "",
                "",
            ),
            false,
        ),
        (
            "SA binding does not reach another namespace",
            res(
                sa("my-ns", "default"),
                "list",
                "other",
                "",
                "configmaps",
                "",
                "",
            ),
            false,
        ),
        (
            "RoleBinding never grants at cluster scope",
            res(sa("my-ns", "default"), "list", "", "", "configmaps", "", ""),
            false,
        ),
        (
            "other SA in same namespace is not the bound SA",
            res(
                sa("my-ns", "builder"),
                "list",
                "my-ns",
                "",
                "configmaps",
                "",
                "",
            ),
            false,
        ),
        (
            "group system:serviceaccounts:my-ns is bound in shared",
            res(
                sa("my-ns", "builder"),
                "get",
                "shared",
                "",
                "services",
                "",
                "x",
            ),
            true,
        ),
        (
            "SA of another namespace lacks that group",
            res(
                sa("other", "builder"),
                "get",
                "shared",
                "",
                "services",
                "",
                "x",
            ),
            false,
        ),
    ]);
}

#[test]
fn decisions_follow_rules_resource_names_and_subresources() {
    let plat = "platform.tkestack.io";
    check_decisions(vec![
        (
            "view does not cover secrets",
            res(
                sa("my-ns", "default"),
                "get",
                "my-ns",
                "",
                "secrets",
                "",
                "s",
            ),
            false,
        ),
        (
            "resourceNames: named object allowed",
            res(
                user("alice", &[]),
                "get",
                "my-ns",
                "",
                "configmaps",
                "",
                "only-this",
            ),
            true,
        ),
        (
            "resourceNames: other object denied",
            res(
                user("alice", &[]),
                "get",
                "my-ns",
                "",
                "configmaps",
                "",
                "other",
            ),
            false,
        ),
        (
            "resourceNames: list has no name, denied",
            res(
                user("alice", &[]),
                "list",
                "my-ns",
                "",
                "configmaps",
                "",
                "",
            ),
            false,
        ),
        (
            "group ops reads clusters at cluster scope",
            res(
                user("carol", &["ops"]),
                "list",
                "",
                plat,
                "clusters",
                "",
                "",
            ),
            true,
        ),
        (
            "group ops cannot delete clusters",
            res(
                user("carol", &["ops"]),
                "delete",
                "",
                plat,
                "clusters",
                "",
                "c1",
            ),
            false,
        ),
        (
            "apiGroup must match",
            res(user("carol", &["ops"]), "list", "", "", "clusters", "", ""),
            false,
        ),
        (
            "a rule on clusters does not cover clusters/status",
            res(
                user("carol", &["ops"]),
                "get",
                "",
                plat,
                "clusters",
                "status",
                "c1",
            ),
            false,
        ),
        (
            "*/status covers clusters/status",
            res(
                sa("kube-system", "ctrl"),
                "patch",
                "",
                plat,
                "clusters",
                "status",
                "c1",
            ),
            true,
        ),
        (
            "*/status does not cover the main resource",
            res(
                sa("kube-system", "ctrl"),
                "patch",
                "",
                plat,
                "clusters",
                "",
                "c1",
            ),
            false,
        ),
        (
            "system:masters alone is not RBAC-special: cluster-admin binding grants it",
            res(
                user("root", &["system:masters"]),
                "delete",
                "",
                plat,
                "clusters",
                "",
                "c1",
            ),
            true,
        ),
    ]);
}

#[test]
fn decisions_on_paths_and_for_every_user() {
    check_decisions(vec![
        (
            "discovery for every authenticated user",
            non_res(user("nobody", &[]), "get", "/apis/platform.tkestack.io/v1"),
            true,
        ),
        (
            "openapi v3 via prefix rule",
            non_res(
                user("nobody", &[]),
                "get",
                "/openapi/v3/apis/platform.tkestack.io/v1",
            ),
            true,
        ),
        (
            "non-resource verb must match",
            non_res(user("nobody", &[]), "post", "/version"),
            false,
        ),
        (
            "unlisted path denied",
            non_res(user("nobody", &[]), "get", "/metrics"),
            false,
        ),
        (
            "every user may create SSARs",
            res(
                user("nobody", &[]),
                "create",
                "",
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                "",
                "",
            ),
            true,
        ),
        (
            "unauthenticated users get no basic-user",
            res(
                (
                    "system:anonymous".into(),
                    vec!["system:unauthenticated".into()],
                ),
                "create",
                "",
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                "",
                "",
            ),
            false,
        ),
    ]);
}

#[test]
fn decisions_on_impersonation() {
    check_decisions(vec![
        (
            "impersonate through a RoleBinding only in that namespace",
            res(
                user("bob", &[]),
                "impersonate",
                "my-ns",
                "",
                "serviceaccounts",
                "",
                "default",
            ),
            true,
        ),
        (
            "impersonate users is cluster scoped: RoleBinding does not grant it",
            res(
                user("bob", &[]),
                "impersonate",
                "",
                "",
                "users",
                "",
                "alice",
            ),
            false,
        ),
    ]);
}

#[test]
fn reasons_name_binding_role_and_subject() {
    let p = policy();
    let v = p.authorize(&res(
        sa("my-ns", "default"),
        "list",
        "my-ns",
        "",
        "configmaps",
        "",
        "",
    ));
    assert_eq!(
        v.reason,
        "RBAC: allowed by RoleBinding \"sa-view/my-ns\" of ClusterRole \"view\" to ServiceAccount \"default/my-ns\""
    );
    let v = p.authorize(&res(
        user("carol", &["ops"]),
        "list",
        "",
        "platform.tkestack.io",
        "clusters",
        "",
        "",
    ));
    assert_eq!(
        v.reason,
        "RBAC: allowed by ClusterRoleBinding \"ops-read-clusters\" of ClusterRole \"cluster-reader\" to Group \"ops\""
    );
    let v = p.authorize(&res(user("ghost", &[]), "get", "", "", "nodes", "", "n"));
    assert!(!v.allowed);
    assert_eq!(
        v.reason,
        "RBAC: clusterrole.rbac.authorization.k8s.io \"gone\" not found"
    );
    let v = p.authorize(&res(user("nobody", &[]), "get", "", "", "nodes", "", "n"));
    assert_eq!(v.reason, "");
}

#[test]
fn forbidden_messages_match_apiserver() {
    let r = res(
        sa("my-ns", "default"),
        "create",
        "",
        "platform.tkestack.io",
        "clusters",
        "",
        "",
    );
    assert_eq!(
        forbidden_message(&r, ""),
        "clusters.platform.tkestack.io is forbidden: User \"system:serviceaccount:my-ns:default\" \
         cannot create resource \"clusters\" in API group \"platform.tkestack.io\" at the cluster scope"
    );
    let r = res(user("u", &[]), "get", "ns1", "", "configmaps", "", "a");
    assert_eq!(
        forbidden_message(&r, ""),
        "configmaps \"a\" is forbidden: User \"u\" cannot get resource \"configmaps\" in API group \"\" in the namespace \"ns1\""
    );
    let r = res(
        user("u", &[]),
        "patch",
        "",
        "platform.tkestack.io",
        "clusters",
        "status",
        "c",
    );
    assert_eq!(
        forbidden_message(&r, "RBAC: x"),
        "clusters.platform.tkestack.io \"c\" is forbidden: User \"u\" cannot patch resource \"clusters/status\" in API group \"platform.tkestack.io\" at the cluster scope: RBAC: x"
    );
    let r = non_res(user("u", &[]), "get", "/metrics");
    assert_eq!(
        forbidden_message(&r, ""),
        "forbidden: User \"u\" cannot get path \"/metrics\""
    );
}

#[test]
fn service_account_names() {
    assert_eq!(
        split_service_account("system:serviceaccount:my-ns:default"),
        Some(("my-ns", "default"))
    );
    assert_eq!(split_service_account("system:serviceaccount:my-ns"), None);
    assert_eq!(split_service_account("system:serviceaccount::x"), None);
    assert_eq!(split_service_account("alice"), None);
}
