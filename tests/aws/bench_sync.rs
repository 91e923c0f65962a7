//! Benchmarks against the emulator, run by `just bench` (ignored in the test suite):
//! the sync of the large fleet, concurrently and one account and region at a time, and the
//! two production read paths. Numbers go to `bench/sync.json` and `bench/read_paths.json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{InstanceType, ResourceType, Tag, TagSpecification};
use polo_aws::{DynamoDataService, ResourceTable, S3SnapshotReader, S3Store, s3_client};
use polo_core::model::{AccountKind, SyncStatus};
use polo_core::ports::{FleetReader, LocalStore, ResourceReader, SNAPSHOT_KEY, SyncStore};
use polo_core::sample::{Scale, generate};
use polo_sync_engine::{Previous, Reach, SyncPlan, apply_to_table, combine, sync};
use polo_tests::write_bench;
use serde_json::json;
use time::macros::datetime;

use crate::fleet::{create_bucket, create_registry, create_resource_table, ec2, put_items, registry_item};
use crate::harness::{account, base_config, config_with, emulator, fresh_account_id, fresh_name, in_account};

/// The latency the proxy adds to each call: spread over the round trips AWS regional APIs
/// show from a Lambda in another region (`POLO_BENCH_LATENCY_MS=LOW-HIGH` to change it).
const LATENCY_MS: (usize, usize) = (80, 150);
/// Concurrency of the concurrent run (at least 8, as the target asks).
const CONCURRENCY: usize = 12;

const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// CPU time (user + system) this process has used: Polo's side of a sync, since the
/// emulator runs in its own process.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command name (which may hold spaces) start at ") ".
    let fields: Vec<&str> = stat.rsplit_once(") ").unwrap().1.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10) // USER_HZ = 100 on Linux
}

fn latency_range() -> (usize, usize) {
    match std::env::var("POLO_BENCH_LATENCY_MS") {
        Ok(v) => {
            let (low, high) = v.split_once('-').unwrap_or((&v, &v));
            (low.parse().unwrap(), high.parse().unwrap())
        }
        Err(_) => LATENCY_MS,
    }
}

/// A fleet of 3 accounts × 4 regions: `instances` per scope, each in its own reservation
/// when `one_per_reservation` (the emulator pages by reservation), and `indexes` per scope.
async fn make_fleet(
    base: &aws_config::SdkConfig,
    id_prefix: u32,
    instances_per_scope: usize,
    indexes_per_scope: usize,
    one_per_reservation: bool,
) -> (polo_core::config::Config, usize, usize) {
    let ids: Vec<String> = (0..3).map(|n| fresh_account_id(id_prefix + n)).collect();
    let kinds = [AccountKind::Prod, AccountKind::Staging, AccountKind::Dev];
    let accounts: Vec<_> = ids
        .iter()
        .zip(["prod", "staging", "dev"])
        .zip(kinds)
        .map(|((id, name), kind)| account(name, id, kind, &REGIONS))
        .collect();
    let (mut instances, mut indexes) = (0, 0);
    for (a, id) in ids.iter().enumerate() {
        let cfg = in_account(base, id).await;
        for (r, region) in REGIONS.iter().enumerate() {
            let scope = a * REGIONS.len() + r;
            let client = ec2(&cfg, region);
            let mut left = instances_per_scope;
            while left > 0 {
                let n = if one_per_reservation { 1 } else { left.min(100) };
                let tags = TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(Tag::builder().key("owner").value("bench").build())
                    .tags(
                        Tag::builder()
                            .key("marqo-index")
                            .value(format!("idx-{scope:02}-{:03}", left % indexes_per_scope.max(1)))
                            .build(),
                    )
                    .build();
                client
                    .run_instances()
                    .image_id("ami-12c6146b")
                    .min_count(i32::try_from(n).unwrap())
                    .max_count(i32::try_from(n).unwrap())
                    .instance_type(InstanceType::M6iLarge)
                    .tag_specifications(tags)
                    .send()
                    .await
                    .unwrap();
                left -= n;
            }
            instances += instances_per_scope;
            create_registry(&cfg, region, "marqo-indexes").await;
            let items = (0..indexes_per_scope)
                .map(|n| registry_item(&format!("idx-{scope:02}-{n:03}"), "bench", "acme", "READY"))
                .collect();
            put_items(&cfg, region, "marqo-indexes", items).await;
            indexes += indexes_per_scope;
        }
    }
    (config_with(accounts), instances, indexes)
}

/// One `polo sync` of `config` through `base` at `concurrency`, then the combine: the pull's
/// and the whole run's wall time, and this process's CPU time.
async fn timed_sync(
    config: &polo_core::config::Config,
    base: &aws_config::SdkConfig,
    concurrency: usize,
    want: (usize, usize),
) -> (Duration, Duration, Duration) {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::new(dir.path().join("sync"), dir.path().join("local_data.json")));
    let plan = SyncPlan::all(config, concurrency, Reach::Roles);
    let (started, cpu) = (Instant::now(), cpu_time());
    let outcomes = sync(&plan, base, store.clone(), datetime!(2026-11-24 12:00 UTC)).await;
    let pulled = started.elapsed();
    assert!(outcomes.iter().all(|o| o.status == SyncStatus::Ok), "{outcomes:?}");
    let combined =
        combine(config, store.as_ref(), Previous::default(), datetime!(2026-11-24 12:00 UTC)).await;
    let (total, cpu) = (started.elapsed(), cpu_time().saturating_sub(cpu));
    assert_eq!((combined.everything.instances.len(), combined.everything.indexes.len()), want);
    (pulled, total, cpu)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by `just bench`"]
async fn bench_sync() {
    let base = base_config(&emulator()).await;
    // 1. Concurrency against AWS-like latency. Each call to the emulator costs it about
    //    1.8 ms per instance and 0.3 ms per registry item, in one Python process on a shared
    //    2-core machine: AWS serves concurrent calls in parallel, the emulator does not. So this
    //    fleet keeps each call's emulator time well under the modelled latency (12 scopes, 5
    //    instances and 10 indexes each: about 10 ms of emulator time a call against 80-150 ms
    //    of latency); the figure is then Polo's concurrency, not the emulator's speed. (With
    //    20 instances and 60 indexes a scope, the emulator's serial 40 ms a call held it to
    //    2.8x.) The large fleet below covers volume.
    let started = Instant::now();
    let (config, instances, indexes) = make_fleet(&base, 640, 5, 10, true).await;
    let setup = started.elapsed();
    let proxy = crate::proxy::Proxy::start(&emulator()).await;
    let (low, high) = latency_range();
    proxy.faults.latency_ms.store(low, std::sync::atomic::Ordering::SeqCst);
    proxy.faults.latency_max_ms.store(high, std::sync::atomic::Ordering::SeqCst);
    let through_proxy = base_config(&proxy.url).await;
    let mut runs = serde_json::Map::new();
    let mut pull = std::collections::HashMap::new();
    for concurrency in [1, CONCURRENCY] {
        let before = proxy.faults.requests.load(std::sync::atomic::Ordering::SeqCst);
        let (pulled, total, _) = timed_sync(&config, &through_proxy, concurrency, (instances, indexes)).await;
        let calls = proxy.faults.requests.load(std::sync::atomic::Ordering::SeqCst) - before;
        println!(
            "sync with {low}-{high} ms per call, concurrency {concurrency:>2}: {calls} calls, pull {:.2} s, with combine {:.2} s",
            secs(pulled),
            secs(total)
        );
        runs.insert(
            format!("concurrency_{concurrency}"),
            json!({ "pull_s": secs(pulled), "total_s": secs(total), "calls": calls }),
        );
        pull.insert(concurrency, pulled);
    }
    let speedup = (pull[&1].as_secs_f64() / pull[&CONCURRENCY].as_secs_f64() * 100.0).round() / 100.0;
    println!("speed-up {speedup}x at concurrency {CONCURRENCY} (target 4x)");

    // 2. Polo's own CPU per 1,000 instances: the large fleet (10,000 instances, 1,000
    //    indexes) straight from the emulator, concurrently; this process's CPU time covers
    //    the SDK's parsing, the documents, the diff and the combine.
    let started = Instant::now();
    let (large, large_instances, large_indexes) = make_fleet(&base, 650, 834, 84, false).await;
    let large_setup = started.elapsed();
    let (pulled, total, cpu) = timed_sync(&large, &base, CONCURRENCY, (large_instances, large_indexes)).await;
    let per_1000 =
        (cpu.as_secs_f64() * 1000.0 / (f64::from(u32::try_from(large_instances).unwrap()) / 1000.0)).round();
    println!(
        "large fleet ({large_instances} instances): pull {:.2} s, with combine {:.2} s, Polo's CPU {:.2} s = {per_1000} ms per 1,000 instances",
        secs(pulled),
        secs(total),
        secs(cpu)
    );
    write_bench(
        "sync",
        &json!({
            "what": "polo sync, debug build, against moto server on loopback. speedup: 3 accounts x 4 regions (5 instances in 5 reservations and 10 registry items per scope) through a proxy adding an AWS-like latency to every call, one scope at a time vs concurrently; the fleet keeps the emulator's own time per call well under that latency, so the figure is Polo's concurrency. cpu: this process's CPU time (user + system) for a sync and combine of the large fleet straight from the emulator.",
            "latency_ms_per_call": [low, high],
            "concurrency": CONCURRENCY,
            "fleet": { "scopes": 12, "instances": instances, "indexes": indexes },
            "runs": runs,
            "speedup": speedup,
            "target_speedup": 4.0,
            "pass": speedup >= 4.0,
            "large_fleet": {
                "instances": large_instances, "indexes": large_indexes,
                "pull_s": secs(pulled), "total_s": secs(total), "cpu_s": secs(cpu),
            },
            "cpu_ms_per_1000_instances": per_1000,
            "setup_s": secs(setup + large_setup),
        }),
    );
}

#[tokio::test]
#[ignore = "benchmark: run by `just bench`"]
async fn bench_production_read_paths() {
    let base = base_config(&emulator()).await;
    let now = datetime!(2026-11-24 12:00 UTC);
    let everything = generate(42, Scale::Large, now);
    let bucket = fresh_name("polo-bench");
    create_bucket(&base, &bucket).await;
    let bytes = serde_json::to_vec(&everything).unwrap();
    let size = bytes.len();
    S3Store::new(s3_client(&base), &bucket).write_snapshot(bytes).await.unwrap();
    let table_name = fresh_name("polo-bench-table");
    create_resource_table(&base, &table_name).await;
    let table = ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name);
    let pulled = std::collections::HashSet::new();
    let mut changes =
        polo_core::model::diff(&[], &std::collections::HashSet::new(), &everything.instances, &pulled, now);
    changes.extend(polo_core::model::diff(
        &[],
        &std::collections::HashSet::new(),
        &everything.indexes,
        &pulled,
        now,
    ));
    let combined = polo_sync_engine::Combined {
        everything: everything.clone(),
        changes: Vec::new(),
        duplicates: Vec::new(),
    };
    let started = Instant::now();
    let mut only_resources = combined.clone();
    only_resources.changes = changes;
    apply_to_table(&table, &only_resources, &Previous::default(), now).await.unwrap();
    let load_table = started.elapsed();

    let s3 = S3SnapshotReader::new(s3_client(&base), &bucket, SNAPSHOT_KEY, Duration::ZERO);
    let started = Instant::now();
    let fleet = s3.fleet().await.unwrap();
    let s3_cold = started.elapsed();
    assert_eq!(fleet.instances().len(), 10_000);
    let started = Instant::now();
    let _ = s3.fleet().await.unwrap();
    let s3_revalidate = started.elapsed();

    let dynamo = DynamoDataService::new(table);
    let started = Instant::now();
    let listed = dynamo.fleet().await.unwrap();
    let dynamo_list = started.elapsed();
    assert_eq!(listed.instances().len(), 10_000);
    let id = everything.instances[500].id.clone();
    let started = Instant::now();
    for _ in 0..20 {
        dynamo.instance(&id).await.unwrap().unwrap();
    }
    let dynamo_get = started.elapsed() / 20;
    let index = everything.indexes[3].clone();
    let started = Instant::now();
    for _ in 0..20 {
        let _ = dynamo.instances_of_index(&index).await.unwrap();
    }
    let dynamo_index = started.elapsed() / 20;
    let report = json!({
        "what": "the two production read paths over the large sample, against moto server on loopback; debug build",
        "snapshot_bytes": size,
        "s3_snapshot_first_load_s": secs(s3_cold),
        "s3_snapshot_revalidate_304_s": secs(s3_revalidate),
        "dynamo_full_list_s": secs(dynamo_list),
        "dynamo_get_item_ms": (dynamo_get.as_secs_f64() * 1e6).round() / 1e3,
        "dynamo_instances_of_index_ms": (dynamo_index.as_secs_f64() * 1e6).round() / 1e3,
        "table_load_s": secs(load_table),
    });
    println!("{report:#}");
    write_bench("read_paths", &report);
}
