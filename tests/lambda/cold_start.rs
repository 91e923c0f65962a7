//! Zip sizes, cold start and peak memory of the release zips (`just zip`), run by
//! `just bench` (ignored in the test suite). Numbers go to `bench/lambda.json`.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::functions::{LOGOUT, ada_claims, v2_event};
use crate::runtime_api::Function;

/// Every function of the manifest (`polo manifest`).
fn functions() -> Vec<String> {
    polo::manifest::manifest().unwrap().functions.into_iter().map(|f| f.name).collect()
}
const RUNS: usize = 7;
/// Runs of each mode in the tracing bench: its difference is small, so more of them.
const TRACING_RUNS: usize = 21;

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    (v[v.len() / 2].as_secs_f64() * 1e6).round() / 1e3
}

/// Writes the sample of `scale` to `path` as production writes what route functions read: the
/// snapshot in the binary layout (`snapshot.bin`) without history (the resource table has it),
/// and the cost store a document of its own, in its binary layout too (`costs.bin`).
fn write_sample(path: &std::path::Path, scale: polo_core::sample::Scale) {
    let (mut sample, costs) =
        polo_core::sample::generate_with_costs(42, scale, time::macros::datetime!(2026-11-24 12:00 UTC));
    sample.history.clear();
    // As the sync writes it: with `/`'s counts at the configured prices.
    let prices =
        polo_core::pricing::PriceTable::configured(&polo_core::config::Config::bundled().unwrap()).unwrap();
    std::fs::write(path, polo_core::model::binary::encode_for_pages(&sample, &prices)).unwrap();
    let costs_bin = polo_core::ports::document_paths::<polo_core::model::CostStore>(path).remove(0);
    std::fs::write(costs_bin, polo_core::model::cost_binary::encode(&costs)).unwrap();
}

/// The release zip of function `name` (`just zip`), unpacked into `work`: its bootstrap and
/// the zip's size.
fn unpack(work: &std::path::Path, name: &str) -> (PathBuf, u64) {
    let exe = std::env::current_exe().unwrap();
    let target = exe.ancestors().nth(3).unwrap().to_path_buf();
    let zip = target.join("lambda").join(name).join("bootstrap.zip");
    assert!(zip.exists(), "{} missing: run `just zip`", zip.display());
    let zip_bytes = std::fs::metadata(&zip).unwrap().len();
    let dir = work.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("python3")
        .args(["-c", "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])"])
        .arg(&zip)
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let bootstrap: PathBuf = dir.join("bootstrap");
    std::fs::set_permissions(&bootstrap, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (bootstrap, zip_bytes)
}

/// The page a route function is asked first.
fn first_page_of(name: &str) -> Option<&'static str> {
    match name {
        "dashboard" => Some("/"),
        "inventory" => Some("/instances"),
        "costs" => Some("/costs/index"),
        "report-pages" => Some("/reports"),
        "static" => Some("/static/favicon.svg"),
        _ => None,
    }
}

#[tokio::test]
#[ignore = "benchmark: run by `just bench` after `just zip`"]
async fn bench_zips_and_cold_starts() {
    let work = tempfile::tempdir().unwrap();
    let large = work.path().join("large.bin");
    write_sample(&large, polo_core::sample::Scale::Large);
    let large = large.display().to_string();
    let mut report = serde_json::Map::new();
    for name in functions() {
        let name = name.as_str();
        let (bootstrap, zip_bytes) = unpack(work.path(), name);
        let env: Vec<(&str, &str)> = match name {
            // Scheduled functions start with their stores named (clients are built without a call).
            "sync" | "reporter" | "cop" => {
                vec![
                    ("DATA_BUCKET_NAME", "b"),
                    ("DYNAMODB_TABLE_NAME", "t"),
                    ("DYNAMODB_REPORT_TABLE_NAME", "r"),
                ]
            }
            // The ops secret, read on the first alarm, not at start.
            "alarms" => vec![(
                "SLACK_WEBHOOK_SECRET_ARN",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:polo-ops-AbCdEf",
            )],
            _ => vec![("POLO_DATA", large.as_str()), ("LOGOUT_URL", LOGOUT)],
        };
        let (mut ready, mut first_page, mut peak) = (Vec::new(), Vec::new(), 0.0_f64);
        for _ in 0..RUNS {
            let mut f = Function::start_binary(&bootstrap, name, &env).await;
            ready.push(f.time_to_ready().await);
            if let Some(path) = first_page_of(name) {
                let (_, _) = f.invoke(&v2_event(path, "", "text/html", ada_claims())).await;
                first_page.push(f.since_start());
            }
            peak = peak.max(f.peak_rss_mb().unwrap_or(0.0));
        }
        let entry = json!({
            "zip_bytes": zip_bytes,
            "zip_mb": ((zip_bytes as f64) / 1e6 * 100.0).round() / 100.0,
            "ready_ms_median": median(ready),
            "first_page_ms_median": if first_page.is_empty() { serde_json::Value::Null } else { json!(median(first_page)) },
            "peak_rss_mb": peak,
        });
        println!("{name:<10} {entry}");
        report.insert(name.to_owned(), entry);
    }
    let value = json!({
        "what": "release zips of `just zip`; cold start = process start to the first /next request of a local Lambda runtime API, first page = to the first answered API Gateway v2 event; route functions serve the large sample from a file as production writes it (the same parse as the S3 snapshot: no history; costs in their own document); median of 7",
        "targets": { "zip_mb": 8, "ready_ms": 20, "first_page_ms": 50, "peak_rss_mb": 128 },
        "functions": report,
    });
    polo_tests::write_bench("lambda", &value);
}

#[tokio::test]
#[ignore = "benchmark: run by `just bench` after `just zip`"]
async fn bench_cold_starts_at_huge_scale() {
    const HUGE_RUNS: usize = 3;
    let work = tempfile::tempdir().unwrap();
    let huge = work.path().join("huge.bin");
    write_sample(&huge, polo_core::sample::Scale::Huge);
    let huge = huge.display().to_string();
    let mut figures = Vec::new();
    for name in ["dashboard", "inventory", "costs"] {
        let (bootstrap, _) = unpack(work.path(), name);
        let env = [("POLO_DATA", huge.as_str()), ("LOGOUT_URL", LOGOUT)];
        let (mut first, mut peak) = (Vec::new(), 0.0_f64);
        for _ in 0..HUGE_RUNS {
            let mut f = Function::start_binary(&bootstrap, name, &env).await;
            let path = first_page_of(name).unwrap();
            let (_, _) = f.invoke(&v2_event(path, "", "text/html", ada_claims())).await;
            first.push(f.since_start());
            peak = peak.max(f.peak_rss_mb().unwrap_or(0.0));
        }
        let first = median(first);
        println!("{name:<10} huge: first page {first} ms, peak RSS {peak} MB");
        // Before issue 32 (2026-11-26): the JSON snapshot, 52 MB, decoded on every cold start.
        let before = match name {
            "dashboard" => 262.0,
            "inventory" => 304.0,
            _ => 293.0,
        };
        figures.push(json!({ "name": format!("huge: {name} cold start to first page"), "value": first, "unit": "ms", "target": 100, "before": before }));
        figures.push(
            json!({ "name": format!("huge: {name} peak RSS"), "value": peak, "unit": "MB", "target": 256 }),
        );
    }
    let value = json!({
        "what": "release zips of `just zip` serving the huge sample (100,000 instances, 10,000 indexes, 100 accounts) from a file as production writes it, under a local Lambda runtime API; median of 3",
        "figures": figures,
    });
    polo_tests::write_bench("scale_lambda", &value);
}

#[tokio::test]
#[ignore = "benchmark: run by `just bench` after `just zip`"]
async fn bench_tracing_on_and_off() {
    let work = tempfile::tempdir().unwrap();
    let large = work.path().join("large.bin");
    write_sample(&large, polo_core::sample::Scale::Large);
    let large = large.display().to_string();
    // A daemon that takes whatever is sent: tracing on has somewhere to send.
    let daemon = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let address = daemon.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut buf = vec![0_u8; 65_536];
        while daemon.recv(&mut buf).is_ok() {}
    });
    let mut figures = Vec::new();
    for name in ["dashboard", "inventory", "static"] {
        let (bootstrap, _) = unpack(work.path(), name);
        let path = first_page_of(name).unwrap();
        // Off and on alternate, so drift on the machine falls on both alike.
        let modes = ["off", "on"];
        let (mut ready, mut first) = ([Vec::new(), Vec::new()], [Vec::new(), Vec::new()]);
        for _ in 0..TRACING_RUNS {
            for (m, tracing) in modes.iter().enumerate() {
                let mut env =
                    vec![("POLO_DATA", large.as_str()), ("LOGOUT_URL", LOGOUT), ("POLO_TRACING", *tracing)];
                if *tracing == "on" {
                    env.push(("AWS_XRAY_DAEMON_ADDRESS", address.as_str()));
                }
                let mut f = Function::start_binary(&bootstrap, name, &env).await;
                ready[m].push(f.time_to_ready().await);
                let (_, _) = f.invoke(&v2_event(path, "", "text/html", ada_claims())).await;
                first[m].push(f.since_start());
            }
        }
        let mut first_page_of_mode = Vec::new();
        for (m, tracing) in modes.iter().enumerate() {
            let (ready, first) = (median(ready[m].clone()), median(first[m].clone()));
            println!("{name:<10} tracing {tracing:<3}: ready {ready} ms, first page {first} ms");
            figures.push(json!({ "name": format!("{name}: cold start to ready, tracing {tracing}"), "value": ready, "unit": "ms", "target": 20 }));
            figures.push(json!({ "name": format!("{name}: cold start to first page, tracing {tracing}"), "value": first, "unit": "ms", "target": 50 }));
            first_page_of_mode.push(first);
        }
        let cost = ((first_page_of_mode[1] - first_page_of_mode[0]) * 1000.0).round() / 1000.0;
        figures.push(json!({ "name": format!("{name}: what tracing adds to the first page"), "value": cost, "unit": "ms", "target": 5 }));
    }
    let value = json!({
        "what": "release zips of `just zip` under a local Lambda runtime API with a sampled trace header per invocation: tracing off (POLO_TRACING=off) against on (AWS_XRAY_DAEMON_ADDRESS at a local UDP socket); the large sample from a file, so the first page makes no AWS call; off and on alternating, median of 21 each",
        "figures": figures,
    });
    polo_tests::write_bench("tracing", &value);
}
