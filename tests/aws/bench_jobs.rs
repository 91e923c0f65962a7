//! The Cop and the reporter over the huge sample, run by `just bench` after `just zip`
//! (ignored in the test suite): the release binaries under a local Lambda runtime API, their
//! stores in the emulator as deployed (the snapshot and cost store in the bucket, the report
//! and resource tables), one Cop run and one reporter run per report type (as its schedules
//! call it), each in a fresh process. Their peak memory is what their `memory-mb` is set from. Numbers go
//! to `bench/jobs_lambda.json`.

use polo_core::ports::{COSTS_KEY, SyncStore};
use serde_json::json;

use crate::fleet::{create_bucket, create_resource_table};
use crate::harness::{base_config, emulator, fresh_name};
use crate::runtime_api::{Function, Outcome};

const SCHEDULED: &str = r#"{"version":"0","id":"bench","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-24T12:00:00Z","region":"us-east-1","resources":[],"detail":{}}"#;

#[tokio::test]
#[ignore = "benchmark: run by `just bench` after `just zip`"]
async fn bench_jobs_at_huge_scale() {
    let endpoint = emulator();
    let base = base_config(&endpoint).await;
    let (bucket, resources, reports) =
        (fresh_name("polo-jobs"), fresh_name("polo-jobs-res"), fresh_name("polo-jobs-rep"));
    create_bucket(&base, &bucket).await;
    create_resource_table(&base, &resources).await;
    crate::reports::create_report_table(&base, &reports).await;
    let (mut huge, costs) = polo_core::sample::generate_with_costs(
        42,
        polo_core::sample::Scale::Huge,
        time::macros::datetime!(2026-11-24 12:00 UTC),
    );
    huge.history.clear();
    let store = polo_aws::S3Store::new(polo_aws::s3_client(&base), &bucket);
    store.write_snapshot(serde_json::to_vec(&huge).unwrap()).await.unwrap();
    store.put(COSTS_KEY, serde_json::to_vec(&costs).unwrap()).await.unwrap();
    drop((huge, costs));

    let exe = std::env::current_exe().unwrap();
    let release = exe.ancestors().nth(3).unwrap().join("x86_64-unknown-linux-gnu").join("release");
    let env = [
        ("DATA_BUCKET_NAME", bucket.as_str()),
        ("DYNAMODB_TABLE_NAME", resources.as_str()),
        ("DYNAMODB_REPORT_TABLE_NAME", reports.as_str()),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
    ];
    let manifest = polo::manifest::manifest().unwrap();
    let mut figures = Vec::new();
    // The Cop on its event; the reporter as its schedules call it, one type a run.
    let runs = [("cop", SCHEDULED.to_owned())].into_iter().chain(
        ["daily-cost", "weekly-summary", "monthly-close", "inventory-changes", "idle-resources"]
            .map(|kind| ("reporter", json!({ "type": kind }).to_string())),
    );
    for (name, event) in runs {
        let binary = release.join(name);
        assert!(binary.exists(), "{} missing: run `just zip`", binary.display());
        let mut f = Function::start_binary(&binary, name, &env).await;
        let started = std::time::Instant::now();
        // Within the functions' timeout.
        let memory = manifest.functions.iter().find(|x| x.name == name).unwrap();
        let limit = std::time::Duration::from_secs(u64::from(memory.timeout_seconds));
        let (_, outcome) = f.invoke_within(&event, limit).await;
        let took = (started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
        assert!(matches!(outcome, Outcome::Response(_)), "{name} {event}: {outcome:?}");
        let peak = f.peak_rss_mb().unwrap_or(0.0);
        let what =
            if name == "cop" { "cop".to_owned() } else { format!("reporter {}", &event[9..event.len() - 2]) };
        let memory = memory.memory_mb;
        println!("{what:<30} huge: a run {took} s, peak RSS {peak} MB (memory-mb {memory})");
        figures.push(
            json!({ "name": format!("huge: {what} run (emulator-bound)"), "value": took, "unit": "s" }),
        );
        figures.push(json!({
            "name": format!("huge: {what} peak RSS (of memory-mb {memory}, at most three quarters)"),
            "value": peak, "unit": "MB", "target": f64::from(memory) * 0.75,
        }));
    }
    polo_tests::write_bench(
        "jobs_lambda",
        &json!({
            "what": "release binaries of `just zip` over the huge sample (100,000 instances, 10,000 indexes, 100 accounts) stored as deployed in the emulator, under a local Lambda runtime API: one Cop run, and one reporter run per report type as its schedules call it, each in a fresh process; run times are the emulator's pace (it serves the 52 MB snapshot and every table call one at a time), peak RSS is the process's",
            "figures": figures,
        }),
    );
}
