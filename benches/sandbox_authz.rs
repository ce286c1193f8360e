//! Cost of one authorization decision in the sandbox API server, which every request pays:
//! the pure RBAC evaluation, and the full decision (reading the RBAC objects of the store).
//! Run with `cargo bench --bench sandbox_authz`; prints one line per figure.

use std::time::Instant;

use acp_cockpit::sandbox::apiserver::rbac::{Policy, Request};
use acp_cockpit::sandbox::apiserver::{
    self, ApiServerConfig, RequestAttributes, StoreView, UserInfo, authz, names,
};
use serde_json::{Value, json};

fn binding(kind: &str, name: &str, ns: Option<&str>, role: &str, user: &str) -> Value {
    let mut meta = json!({"name": name});
    if let Some(ns) = ns {
        meta["namespace"] = ns.into();
    }
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind, "metadata": meta,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "User", "name": user}],
    })
}

fn role(name: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": [{"apiGroups": ["platform.tkestack.io"], "resources": ["clusters"], "verbs": ["get", "list"]}],
    })
}

fn per_op(label: &str, iterations: u32, mut f: impl FnMut() -> bool) {
    let mut allowed = 0u32;
    let start = Instant::now();
    for _ in 0..iterations {
        if f() {
            allowed += 1;
        }
    }
    let each = start.elapsed() / iterations;
    println!("{label}: {each:?} per decision ({allowed}/{iterations} allowed)");
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for (cluster_bindings, ns_bindings) in [(10usize, 10usize), (100, 100), (1000, 1000)] {
        let roles: Vec<Value> = (0..cluster_bindings)
            .map(|i| role(&format!("r{i}")))
            .collect();
        let crbs: Vec<Value> = (0..cluster_bindings)
            .map(|i| {
                binding(
                    "ClusterRoleBinding",
                    &format!("b{i}"),
                    None,
                    &format!("r{i}"),
                    &format!("u{i}"),
                )
            })
            .collect();
        let rbs: Vec<Value> = (0..ns_bindings)
            .map(|i| {
                binding(
                    "RoleBinding",
                    &format!("rb{i}"),
                    Some("team"),
                    &format!("r{}", i % cluster_bindings),
                    &format!("n{i}"),
                )
            })
            .collect();

        // The last binding matches: the worst case of the linear scan.
        let req = Request {
            user: format!("n{}", ns_bindings - 1),
            groups: vec!["system:authenticated".into()],
            verb: "get".into(),
            resource_request: true,
            namespace: "team".into(),
            api_group: "platform.tkestack.io".into(),
            resource: "clusters".into(),
            ..Request::default()
        };
        let policy = Policy::from_json(Vec::new(), roles.clone(), rbs.clone(), crbs.clone());
        per_op(
            &format!(
                "rbac evaluation, {cluster_bindings} cluster + {ns_bindings} namespace bindings"
            ),
            2_000,
            || policy.authorize(&req).allowed,
        );

        runtime.block_on(async {
            let server = apiserver::start(ApiServerConfig::default())
                .await
                .expect("start the sandbox API server");
            let store = server.store("global").expect("global");
            store
                .create(names::NAMESPACES, None, json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}))
                .expect("namespace");
            for r in roles {
                store.create(names::CLUSTER_ROLES, None, r).expect("clusterrole");
            }
            for b in crbs {
                store.create(names::CLUSTER_ROLE_BINDINGS, None, b).expect("clusterrolebinding");
            }
            for b in rbs {
                store.create(names::ROLE_BINDINGS, Some("team"), b).expect("rolebinding");
            }
            let view = StoreView::new(&store);
            let user = UserInfo {
                name: req.user.clone(),
                groups: req.groups.clone(),
            };
            let attrs = RequestAttributes {
                verb: "get".into(),
                resource_request: true,
                api_group: "platform.tkestack.io".into(),
                api_version: "v1".into(),
                resource: "clusters".into(),
                namespace: Some("team".into()),
                ..RequestAttributes::default()
            };
            let iterations = if cluster_bindings >= 1000 { 50 } else { 500 };
            per_op(
                &format!("full decision from the store, {cluster_bindings} cluster + {ns_bindings} namespace bindings"),
                iterations,
                || authz::authorize(&view, &user, &attrs) == apiserver::Decision::Allow,
            );
            server.shutdown().await;
        });
    }
}
