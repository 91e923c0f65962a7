//! What the page benchmarks share: timing requests through the router, percentiles, and
//! the process's peak memory.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use tower::ServiceExt;

/// Percentiles of one page's answers.
pub struct Stats {
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub bytes: usize,
}

/// Answers `path` `runs` times through `app`; `hx:/path` asks as htmx does, for the partial;
/// `a | b` asks `a` and `b` in turn (so nothing kept from the request before answers it).
pub async fn measure(app: &axum::Router, path: &str, runs: usize) -> Stats {
    let mut times = Vec::with_capacity(runs);
    let mut bytes = 0;
    let paths: Vec<&str> = path.split(" | ").collect();
    for run in 0..runs {
        let path = paths[run % paths.len()];
        let request = match path.strip_prefix("hx:") {
            Some(path) => Request::get(path).header("hx-request", "true").body(Body::empty()).unwrap(),
            None => Request::get(path).body(Body::empty()).unwrap(),
        };
        let started = Instant::now();
        let response = app.clone().oneshot(request).await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        times.push(started.elapsed());
        bytes = body.len();
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    Stats { p50: at(0.5), p99: at(0.99), max: times[times.len() - 1], bytes }
}

/// Milliseconds, to the microsecond.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// This process's peak resident memory so far (`VmHWM`), in MB.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

/// Where the benchmarks write their numbers: `bench/{name}.json`.
pub fn write_bench(name: &str, value: &serde_json::Value) {
    // The checkout running the bench, not the one that compiled it (clones share a target dir).
    let manifest =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned());
    let dir = format!("{manifest}/../../bench");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(format!("{dir}/{name}.json"), serde_json::to_string_pretty(value).unwrap() + "\n")
        .unwrap();
}

/// The median time of splitting every index's cost change over `state`'s documents, before
/// any cache (`runs` times): what the first `/costs/changes` after a new snapshot, cost store
/// or usage ledger pays.
#[allow(dead_code)] // each bench binary compiles this module; not every one calls each helper
pub async fn split_uncached(state: &polo_web::AppState, runs: usize) -> Duration {
    let (fleet, store, ledger) = (
        state.fleet.fleet().await.unwrap(),
        state.costs.costs().await.unwrap(),
        state.usage.usage().await.unwrap(),
    );
    let cmp = polo_core::cost_changes::Comparison::default_for(&store).unwrap();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = std::time::Instant::now();
            let all = polo_core::cost_changes::changes(
                &store,
                &ledger,
                &fleet,
                polo_core::costs::Breakdown::Index,
                &cmp,
            );
            assert!(!all.is_empty());
            started.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}
