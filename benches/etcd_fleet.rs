//! etcd fleet overview figures: time until every cluster of a 500-cluster sandbox platform has
//! answered, and the heap the fleet's watches hold, at two concurrency caps.
//!
//! Run with `cargo bench --bench etcd_fleet`; prints one line per figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashSet;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use acp_cockpit::engine::Event;
use acp_cockpit::engine::etcd::fleet::FleetWatches;
use acp_cockpit::engine::kube::etcd::EtcdState;
use acp_cockpit::engine::kube::{ClientPool, KubeEvent, KubeSource};
use acp_cockpit::sandbox::apiserver::kinds::names;
use acp_cockpit::sandbox::{Platform, SandboxOptions, kubeconfig};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Counts live heap bytes.
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

const CLUSTERS: usize = 500;

fn eec(i: usize) -> serde_json::Value {
    let nodes: serde_json::Map<String, serde_json::Value> = (1..=3)
        .map(|n| {
            (
                format!("127.0.{}.{n}", i % 250),
                json!({"revision": 7, "state": "Success"}),
            )
        })
        .collect();
    json!({
        "apiVersion": "cluster.alauda.io/v1alpha1",
        "kind": "EtcdEncryptionConfig",
        "metadata": {"name": "default"},
        "spec": {"resources": ["secrets", "configmaps"], "rotationInterval": "168h0m0s", "type": "aesgcm"},
        "status": {"revision": 7, "deployStatus": nodes,
            "migration": {"revision": 7, "state": "Success", "resources": ["secrets", "configmaps"],
                "completeTimestamp": "2026-01-01T00:00:00Z"}},
    })
}

fn mib(bytes: isize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

async fn run(cap: usize) {
    let p = Platform::start(SandboxOptions {
        port: 0,
        speed: 1.0,
        seed: 1,
    })
    .await
    .expect("sandbox starts");
    let names: Vec<String> = (0..CLUSTERS).map(|i| format!("bench-{i:03}")).collect();
    for (i, n) in names.iter().enumerate() {
        let store = p.api().add_cluster(n);
        store
            .create(names::ETCD_ENCRYPTION_CONFIGS, None, eec(i))
            .expect("seed the config");
    }
    let source = KubeSource::InMemory {
        kubeconfig: Box::new(p.kubeconfig().clone()),
        context: Some(kubeconfig::CONTEXT.to_string()),
    };
    let pool = ClientPool::new(&source).expect("pool");
    let (tx, mut rx) = mpsc::channel::<Event>(1024);
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    let mut fleet = FleetWatches::new(cap);
    let before = LIVE.load(Ordering::Relaxed);
    let start = Instant::now();
    fleet.sync(&pool, kubeconfig::CONTEXT, &names, &tx, &stop, &tasks);
    let mut answered = HashSet::new();
    let mut first = None;
    let mut peak = 0isize;
    while answered.len() < CLUSTERS {
        let ev = tokio::time::timeout(Duration::from_secs(120), rx.recv()).await;
        let Ok(Some(Event::Kube(KubeEvent::Etcd { cluster, state, .. }))) = ev else {
            eprintln!(
                "stopped waiting with {} of {CLUSTERS} answered",
                answered.len()
            );
            break;
        };
        if !matches!(state, EtcdState::Connecting) {
            first.get_or_insert_with(|| start.elapsed());
            answered.insert(cluster);
        }
        peak = peak.max(LIVE.load(Ordering::Relaxed) - before);
    }
    let complete = start.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = LIVE.load(Ordering::Relaxed) - before;
    println!(
        "etcd fleet, {CLUSTERS} clusters, cap {cap}: first answer {:?}, overview complete {:?}, heap peak {:.1} MiB, held by the open watches {:.1} MiB ({:.1} KiB per cluster)",
        first.unwrap_or_default(),
        complete,
        mib(peak),
        mib(held),
        held as f64 / 1024.0 / CLUSTERS as f64
    );
    fleet.stop();
    stop.cancel();
    tasks.close();
    tasks.wait().await;
    drop(rx);
    p.shutdown().await;
}

fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for cap in [16, 64] {
        rt.block_on(run(cap));
    }
}
