//! Sandbox API server figures: watch fan-out throughput, large list latency, store memory.
//! Run with `cargo bench --bench sandbox`; prints one line per figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use acp_cockpit::sandbox::apiserver::{self, ApiServerConfig, ApiServerHandle, TokenUser, names};
use base64::Engine as _;
use http_body_util::BodyExt as _;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::json;

/// Counts live heap bytes so the store's footprint can be reported.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const TOKEN: &str = "bench";

async fn client(h: &ApiServerHandle) -> Client {
    let ca = base64::engine::general_purpose::STANDARD.encode(h.ca_pem());
    let yaml = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sb\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\nusers:\n- name: u\n  user:\n    token: {TOKEN}\ncontexts:\n- name: c\n  context:\n    cluster: sb\n    user: u\ncurrent-context: c\n",
        h.cluster_url("global")
    );
    let kc = Kubeconfig::from_yaml(&yaml).expect("kubeconfig");
    let mut cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    cfg.proxy_url = None;
    Client::try_from(cfg).expect("client")
}

fn configmap(i: usize) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("cm-{i:05}"), "labels": {"app": "bench", "shard": (i % 16).to_string()}},
        "data": {"key": "x".repeat(64), "index": i.to_string()}})
}

fn cluster(i: usize) -> serde_json::Value {
    json!({"apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
        "metadata": {"name": format!("cls-{i:05}"), "annotations": {"cpaas.io/network-type": "kube-ovn"}},
        "spec": {"type": "Baremetal", "version": "1.28.13", "clusterCIDR": "10.3.0.0/16",
            "machines": [{"ip": "192.168.0.11", "port": 22, "username": "root", "role": "master"}]}})
}

async fn get(c: &Client, path: &str) -> (u16, bytes::Bytes) {
    let req = http::Request::builder()
        .uri(path)
        .body(kube::client::Body::empty())
        .expect("request");
    let resp = c.send(req).await.expect("send");
    let code = resp.status().as_u16();
    (
        code,
        resp.into_body().collect().await.expect("body").to_bytes(),
    )
}

/// 20 watchers from one RV, then 10k creates; time until every watcher saw every event.
async fn watch_fanout(h: &ApiServerHandle, c: &Client) {
    const WATCHERS: usize = 20;
    const OBJECTS: usize = 10_000;
    let store = h.store("global").expect("global");
    let rv = store.resource_version();
    let mut tasks = Vec::new();
    for _ in 0..WATCHERS {
        let c = c.clone();
        let path = format!(
            "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=120"
        );
        tasks.push(tokio::spawn(async move {
            let req = http::Request::builder()
                .uri(path)
                .body(kube::client::Body::empty())
                .expect("request");
            let mut body = c.send(req).await.expect("watch").into_body();
            let mut lines = 0usize;
            while lines < OBJECTS {
                match body.frame().await {
                    Some(Ok(f)) => {
                        if let Some(d) = f.data_ref() {
                            lines += d.iter().filter(|b| **b == b'\n').count();
                        }
                    }
                    _ => break,
                }
            }
            lines
        }));
    }
    // Let every watch reach the server before writing.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    for i in 0..OBJECTS {
        store
            .create(names::CONFIG_MAPS, Some("default"), configmap(i))
            .expect("create");
    }
    let mut delivered = 0;
    for t in tasks {
        delivered += t.await.expect("watcher");
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "watch fan-out: {WATCHERS} watchers x {OBJECTS} objects: {delivered} events in {secs:.2} s = {:.0} events/s (goal >= 20000)",
        delivered as f64 / secs
    );
}

async fn list_clusters(h: &ApiServerHandle, c: &Client) {
    const N: usize = 5_000;
    let store = h.store("global").expect("global");
    for i in 0..N {
        store
            .create(names::CLUSTERS, None, cluster(i))
            .expect("create");
    }
    let mut times = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let (code, body) = get(c, "/apis/platform.tkestack.io/v1/clusters").await;
        assert_eq!(code, 200);
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["items"].as_array().map(Vec::len), Some(N));
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "list {N} clusters over HTTPS (incl. client JSON parse): median {:.1} ms, min {:.1} ms (goal <= 100 ms)",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
    let t = Instant::now();
    let items = store.list(names::CLUSTERS, None).expect("list");
    println!(
        "list {} clusters in-process (cloned values): {:.1} ms",
        items.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
}

async fn memory() {
    let h = apiserver::start(ApiServerConfig {
        users: vec![TokenUser::new(TOKEN, "admin", &["system:masters"])],
        event_retention: 1,
        ..ApiServerConfig::default()
    })
    .await
    .expect("start");
    let store = h.add_cluster("mem");
    let before = LIVE.load(Ordering::SeqCst);
    for i in 0..10_000 {
        store
            .create(names::CONFIG_MAPS, Some("default"), configmap(i))
            .expect("create");
    }
    let after = LIVE.load(Ordering::SeqCst);
    let per = (after - before) as f64 / 10_000.0;
    println!(
        "store memory: 10000 configmaps (~250 B of JSON each) = {:.1} MiB live heap ({per:.0} B/object, event log retention 1)",
        (after - before) as f64 / (1024.0 * 1024.0)
    );
    h.shutdown().await;
}

fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        memory().await;
        let h = apiserver::start(ApiServerConfig {
            users: vec![TokenUser::new(TOKEN, "admin", &["system:masters"])],
            // Every watcher must be able to replay the whole burst.
            event_retention: 100_000,
            ..ApiServerConfig::default()
        })
        .await
        .expect("start");
        let c = client(&h).await;
        watch_fanout(&h, &c).await;
        list_clusters(&h, &c).await;
        h.shutdown().await;
    });
}
