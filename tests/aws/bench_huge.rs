//! The huge fleet's sync, run by `just bench` (ignored in the test suite): 100 accounts,
//! 1,208 account × region scopes (8 accounts in 13 regions, 92 in 12), through the sync
//! function's handler, with an AWS-like latency on every call. STS, S3 and the resource
//! table are the emulator's; DescribeInstances and the registry Scans are answered by the
//! proxy as AWS documents them ([`crate::proxy::RecordedFleet`]), because the emulator keeps
//! an EC2 and a DynamoDB backend per account and region in memory and passed 10 GB before
//! a third of the fleet existed. Few resources per scope (volume is `bench_sync`'s large
//! fleet): this measures what the number of accounts and scopes costs, against the
//! function's 300 s timeout. Numbers go to `bench/huge_sync.json`.

use std::sync::Arc;
use std::time::Instant;

use polo_aws::{ResourceTable, S3Store, s3_client};
use polo_core::FixedClock;
use polo_core::model::AccountKind;
use polo_sync::Outcome;
use polo_tests::write_bench;
use serde_json::json;
use time::macros::datetime;

use crate::fleet::{create_bucket, create_resource_table};
use crate::harness::{BUDGET, account, base_config, config_with, emulator, fresh_account_id, fresh_name};

const REGIONS: [&str; 13] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
];
const ACCOUNTS: usize = 100;
/// Instances and registry items per scope (one of the items, `idx-shared`, every scope's).
const INSTANCES: usize = 2;
const INDEXES: usize = 3;
/// The sync function's timeout (functions/sync/Cargo.toml), and the share a run may take.
const TIMEOUT_S: f64 = 300.0;
/// The registry tables' name: their Scans are the proxy's, not the resource table's reads.
const REGISTRY: &str = "marqo-indexes";
/// Per call, as `bench_sync`: the round trip from a Lambda to another region's API.
const LATENCY_MS: (usize, usize) = (80, 150);

fn regions_of(n: usize) -> &'static [&'static str] {
    if n < 8 { &REGIONS } else { &REGIONS[..12] }
}

/// The recorded fleet answers every pull of a small fleet, and the emulator sees none.
#[tokio::test]
async fn the_proxy_answers_the_pulls_of_a_recorded_fleet() {
    let proxy = crate::proxy::Proxy::start(&emulator()).await;
    *proxy.faults.recorded_fleet.lock().unwrap() =
        Some(crate::proxy::RecordedFleet { instances: 3, own_indexes: 2, drop_last: false });
    let base = base_config(&proxy.url).await;
    let accounts: Vec<_> = (0..2)
        .map(|n| account(&format!("a{n}"), &fresh_account_id(701), AccountKind::Prod, &REGIONS[..2]))
        .collect();
    let config = config_with(accounts);
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(polo_core::ports::LocalStore::new(dir.path().join("sync"), dir.path().join("s.json")));
    let plan = polo_sync_engine::SyncPlan::all(&config, 4, polo_sync_engine::Reach::Roles);
    let outcomes = polo_sync_engine::sync(&plan, &base, store.clone(), datetime!(2026-11-24 12:00 UTC)).await;
    assert!(outcomes.iter().all(|o| o.error.is_none()), "{outcomes:?}");
    assert_eq!(proxy.faults.recorded_answers.load(std::sync::atomic::Ordering::SeqCst), 8);
    let combined = polo_sync_engine::combine(
        &config,
        store.as_ref(),
        polo_sync_engine::Previous::default(),
        datetime!(2026-11-24 12:00 UTC),
    )
    .await;
    assert_eq!((combined.everything.instances.len(), combined.everything.indexes.len()), (12, 12));
    assert!(combined.duplicates.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by `just bench`"]
async fn bench_huge_sync() {
    let direct = base_config(&emulator()).await;
    let started = Instant::now();
    let ids: Vec<String> = (0..ACCOUNTS).map(|_| fresh_account_id(700)).collect();
    let accounts: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| account(&format!("account-{n:03}"), id, AccountKind::Prod, regions_of(n)))
        .collect();
    let scopes: usize = accounts.iter().map(|a| a.regions.len()).sum();
    assert_eq!(scopes, 1_208);
    let (bucket, table_name) = (fresh_name("polo-huge"), fresh_name("polo-huge-table"));
    create_bucket(&direct, &bucket).await;
    create_resource_table(&direct, &table_name).await;
    let setup = started.elapsed();

    let proxy = crate::proxy::Proxy::start(&emulator()).await;
    proxy.faults.latency_ms.store(LATENCY_MS.0, std::sync::atomic::Ordering::SeqCst);
    proxy.faults.latency_max_ms.store(LATENCY_MS.1, std::sync::atomic::Ordering::SeqCst);
    *proxy.faults.recorded_fleet.lock().unwrap() = Some(crate::proxy::RecordedFleet {
        instances: INSTANCES,
        own_indexes: INDEXES - 1,
        drop_last: false,
    });
    proxy.faults.transactions_as_batches.store(true, std::sync::atomic::Ordering::SeqCst);
    let base = base_config(&proxy.url).await;
    // Progress, every 15 s: calls so far and the last DynamoDB operation.
    let faults = Arc::clone(&proxy.faults);
    let progress = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(15)).await;
            let last = faults.dynamo_calls.lock().unwrap().last().map(|c| c.operation.clone());
            eprintln!(
                "huge sync: {} calls, {} recorded answers, last DynamoDB call {last:?}",
                faults.requests.load(std::sync::atomic::Ordering::SeqCst),
                faults.recorded_answers.load(std::sync::atomic::Ordering::SeqCst)
            );
        }
    });
    let state = |now| polo_sync::State {
        config: config_with(accounts.clone()),
        sdk: base.clone(),
        store: Arc::new(S3Store::new(s3_client(&base), &bucket)),
        table: ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name),
        clock: Arc::new(FixedClock(now)),
        costs_source: None,
    };
    let event = |id: &str| {
        serde_json::from_str(&format!(
            r#"{{"version":"0","id":"{id}","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-11-24T12:00:00Z","region":"us-east-1","resources":[],"detail":{{}}}}"#
        ))
        .unwrap()
    };
    let mut runs = Vec::new();
    for (n, (name, at)) in [
        ("first: every resource appears", datetime!(2026-11-24 12:00 UTC)),
        ("second: a third of the scopes lost an index", datetime!(2026-11-24 12:15 UTC)),
        ("third: steady", datetime!(2026-11-24 12:30 UTC)),
    ]
    .into_iter()
    .enumerate()
    {
        if n == 1 {
            // Between the first and second run, every third scope's registry drops an index.
            proxy.faults.recorded_fleet.lock().unwrap().as_mut().unwrap().drop_last = true;
        }
        let calls = proxy.faults.requests.load(std::sync::atomic::Ordering::SeqCst);
        let (read, written) = (proxy.faults.dynamo_reads(REGISTRY), proxy.faults.dynamo_writes());
        let started = Instant::now();
        let Outcome::Ran(summary) =
            polo_sync::handle(&state(at), event(&format!("huge-{n}")), BUDGET).await.unwrap()
        else {
            panic!("run {n} skipped")
        };
        let wall = started.elapsed().as_secs_f64();
        assert!(summary.failed.is_empty(), "{:?}", &summary.failed[..summary.failed.len().min(3)]);
        assert!(summary.duplicates.is_empty(), "one id in 1,208 scopes is 1,208 indexes");
        let run = json!({
            "run": name,
            "wall_s": (wall * 10.0).round() / 10.0,
            "share_of_timeout": (wall / TIMEOUT_S * 100.0).round() / 100.0,
            "calls": proxy.faults.requests.load(std::sync::atomic::Ordering::SeqCst) - calls,
            "table_items_read": proxy.faults.dynamo_reads(REGISTRY) - read,
            "table_items_written": proxy.faults.dynamo_writes() - written,
            "instances": summary.instances,
            "indexes": summary.indexes,
            "changes": summary.changes,
        });
        println!("huge sync {run}");
        runs.push(run);
    }
    progress.abort();
    let worst = runs.iter().map(|r| r["wall_s"].as_f64().unwrap()).fold(0.0, f64::max);
    write_bench(
        "huge_sync",
        &json!({
            "what": "the sync function's handler (lease, credentials per account, pulls, combine, snapshot, resource table) over 100 accounts and 1,208 scopes, debug build; STS, S3 and DynamoDB in the emulator, DescribeInstances and the registry Scans answered by the test proxy as AWS documents them, TransactWriteItems passed to the emulator as BatchWriteItem (it copies every table per transaction, seconds a call at this size); every call delayed 80-150 ms by the proxy: conservative for S3 and DynamoDB, which answer a Lambda in its own region in ~10 ms",
            "accounts": ACCOUNTS,
            "scopes": scopes,
            "per_scope": { "instances": INSTANCES, "indexes": INDEXES },
            "latency_ms_per_call": [LATENCY_MS.0, LATENCY_MS.1],
            "concurrency": polo_sync_engine::production::CONCURRENCY,
            "runs": runs,
            "timeout_s": TIMEOUT_S,
            "target": "every run leaves at least half of the timeout free",
            "worst_wall_s": worst,
            "pass": worst <= TIMEOUT_S / 2.0,
            "setup_s": (setup.as_secs_f64() * 10.0).round() / 10.0,
        }),
    );
}
