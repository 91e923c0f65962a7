//! Benchmarks against the emulator, run by `just bench` (ignored in the test suite):
//! the sync of the large fleet, concurrently and one account and region at a time, and the
//! two production read paths. Numbers go to `bench/sync.json` and `bench/read_paths.json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_ec2::types::{InstanceType, ResourceType, Tag, TagSpecification};
use polo_core::data::{DynamoDataService, FleetReader, ResourceReader, ResourceTable, S3SnapshotReader};
use polo_core::model::{AccountKind, SyncStatus};
use polo_core::sample::{Scale, generate};
use polo_core::store::{LocalStore, S3Store, SNAPSHOT_KEY, SyncStore, s3_client};
use polo_sync_engine::{Previous, Reach, SyncPlan, apply_to_table, combine, sync};
use serde_json::json;
use time::macros::datetime;

use crate::fleet::{create_bucket, create_registry, create_resource_table, ec2, put_items, registry_item};
use crate::harness::{account, base_config, config_with, emulator, fresh_account_id, fresh_name, in_account};

/// The delay the latency proxy adds to each request (a typical cross-region AWS round trip).
const LATENCY_MS: usize = 250;

const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1"];

fn write_bench(name: &str, value: &serde_json::Value) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../bench");
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(format!("{dir}/{name}.json"), serde_json::to_string_pretty(value).unwrap() + "\n")
        .unwrap();
    let all_path = format!("{dir}/results.json");
    let mut all: serde_json::Map<String, serde_json::Value> = std::fs::read_to_string(&all_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    all.insert(name.to_owned(), value.clone());
    std::fs::write(&all_path, serde_json::to_string_pretty(&serde_json::Value::Object(all)).unwrap() + "\n")
        .unwrap();
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

#[tokio::test]
#[ignore = "benchmark: run by `just bench`"]
async fn bench_sync_of_the_large_fleet() {
    let base = base_config(&emulator()).await;
    let ids: Vec<String> = (0..3).map(|n| fresh_account_id(610 + n)).collect();
    let kinds = [AccountKind::Prod, AccountKind::Staging, AccountKind::Dev];
    let accounts: Vec<_> = ids
        .iter()
        .zip(["prod", "staging", "dev"])
        .zip(kinds)
        .map(|((id, name), kind)| account(name, id, kind, &REGIONS))
        .collect();
    let started = Instant::now();
    let (mut instances, mut indexes) = (0, 0);
    for (a, id) in ids.iter().enumerate() {
        let cfg = in_account(&base, id).await;
        for (r, region) in REGIONS.iter().enumerate() {
            let scope = a * REGIONS.len() + r;
            let want = 10_000 / 12 + usize::from(scope < 10_000 % 12);
            let client = ec2(&cfg, region);
            let mut left = want;
            while left > 0 {
                let n = left.min(100);
                let tags = TagSpecification::builder()
                    .resource_type(ResourceType::Instance)
                    .tags(Tag::builder().key("owner").value("bench").build())
                    .tags(
                        Tag::builder()
                            .key("marqo-index")
                            .value(format!("idx-{scope:02}-{:03}", left % 84))
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
            instances += want;
            create_registry(&cfg, region, "marqo-indexes").await;
            let per = 1_000 / 12 + usize::from(scope < 1_000 % 12);
            let items = (0..per)
                .map(|n| registry_item(&format!("idx-{scope:02}-{n:03}"), "bench", "acme", "READY"))
                .collect();
            put_items(&cfg, region, "marqo-indexes", items).await;
            indexes += per;
        }
    }
    let setup = started.elapsed();
    let config = config_with(accounts);
    let proxy = crate::proxy::Proxy::start(&emulator()).await;
    proxy.faults.latency_ms.store(LATENCY_MS, std::sync::atomic::Ordering::SeqCst);
    let with_latency = base_config(&proxy.url).await;
    let mut results = serde_json::Map::new();
    for (mode, base) in [("raw", &base), ("latency", &with_latency)] {
        for concurrency in [1usize, 12] {
            let dir = tempfile::tempdir().unwrap();
            let store =
                Arc::new(LocalStore::new(dir.path().join("sync"), dir.path().join("local_data.json")));
            let plan = SyncPlan::all(&config, concurrency, Reach::Roles);
            let started = Instant::now();
            let outcomes = sync(&plan, base, store.clone(), datetime!(2026-11-24 12:00 UTC)).await;
            let pulled = started.elapsed();
            assert!(outcomes.iter().all(|o| o.status == SyncStatus::Ok), "{outcomes:?}");
            let combined =
                combine(&config, store.as_ref(), Previous::default(), datetime!(2026-11-24 12:00 UTC)).await;
            let total = started.elapsed();
            assert_eq!(combined.everything.instances.len(), instances);
            assert_eq!(combined.everything.indexes.len(), indexes);
            println!(
                "sync {mode:<7} concurrency {concurrency:>2}: pull {:.2} s, with combine {:.2} s",
                secs(pulled),
                secs(total)
            );
            results.insert(
                format!("{mode}_concurrency_{concurrency}"),
                json!({ "pull_s": secs(pulled), "total_s": secs(total) }),
            );
        }
    }
    let speedup = |mode: &str| {
        let one = results[&format!("{mode}_concurrency_1")]["pull_s"].as_f64().unwrap();
        let many = results[&format!("{mode}_concurrency_12")]["pull_s"].as_f64().unwrap();
        (one / many * 100.0).round() / 100.0
    };
    let (raw, latency) = (speedup("raw"), speedup("latency"));
    println!(
        "speed-up {raw}x straight to the emulator, {latency}x with {LATENCY_MS} ms per request (target 4x); fleet set up in {:.1} s",
        secs(setup)
    );
    write_bench(
        "sync",
        &json!({
            "what": "polo sync of the large fleet (3 accounts x 4 regions, instances and index registries) from moto server on loopback; debug build. 'raw' talks to the emulator directly: moto answers one request at a time (Python), so concurrency cannot help there. 'latency' puts a proxy adding a fixed delay per request in front, modelling the round trip to AWS that concurrency hides.",
            "instances": instances, "indexes": indexes, "pulls": 24, "latency_ms_per_request": LATENCY_MS,
            "results": results,
            "speedup_raw": raw, "speedup_with_latency": latency, "target_speedup": 4.0,
            "meets_target_with_latency": latency >= 4.0,
            "setup_s": secs(setup),
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
    let combined = polo_sync_engine::Combined { everything: everything.clone(), changes: Vec::new() };
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
    let index_id = everything.indexes[3].index_id.clone();
    let started = Instant::now();
    for _ in 0..20 {
        let _ = dynamo.instances_of_index(&index_id).await.unwrap();
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
