//! The cop function's handler against the emulator: findings remembered in the report
//! table across runs, and two runs at once judging (and so notifying) once.

use std::sync::Arc;

use polo_aws::{FindingTable, S3CostReader, S3SnapshotReader, S3Store, s3_client};
use polo_cop::{State, handle};
use polo_core::FixedClock;
use polo_core::config::Config;
use polo_core::ports::{COSTS_KEY, SNAPSHOT_KEY, SyncStore};
use polo_core::sample::{Scale, generate_with_costs};
use time::Duration;
use time::macros::datetime;

use crate::fleet::create_bucket;
use crate::harness::{base_config, emulator, fresh_name};

const NOW: time::OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

fn state(base: &aws_config::SdkConfig, bucket: &str, table: &str, now: time::OffsetDateTime) -> State {
    State {
        fleet: Arc::new(S3SnapshotReader::new(
            s3_client(base),
            bucket,
            SNAPSHOT_KEY,
            std::time::Duration::ZERO,
        )),
        costs: Arc::new(S3CostReader::new(s3_client(base), bucket, std::time::Duration::ZERO)),
        findings: Arc::new(FindingTable::new(aws_sdk_dynamodb::Client::new(base), table)),
        config: Config::bundled().unwrap(),
        clock: Arc::new(FixedClock(now)),
        delivery: polo_slack::Delivery::none("https://polo.example.com"),
    }
}

#[tokio::test]
async fn findings_live_in_the_report_table_and_concurrent_runs_judge_once() {
    let base = base_config(&emulator()).await;
    let (bucket, table) = (fresh_name("polo-data"), fresh_name("reports"));
    create_bucket(&base, &bucket).await;
    crate::reports::create_report_table(&base, &table).await;
    let (everything, costs) = generate_with_costs(42, Scale::Small, NOW);
    let s3 = S3Store::new(s3_client(&base), &bucket);
    s3.write_snapshot(serde_json::to_vec(&everything).unwrap()).await.unwrap();
    s3.put(COSTS_KEY, serde_json::to_vec(&costs).unwrap()).await.unwrap();

    let first = state(&base, &bucket, &table, NOW);
    let run = handle(&first, "run-1", std::time::Duration::MAX).await.unwrap();
    assert!(run.ran);
    assert!(run.open >= 10 && run.new == run.open, "{run:?}");
    let stored = first.findings.all().await.unwrap();
    assert_eq!(stored.len(), run.open);

    // An hour later: the same findings, first seen kept, nothing new.
    let later = state(&base, &bucket, &table, NOW + Duration::hours(1));
    let again = handle(&later, "run-2", std::time::Duration::MAX).await.unwrap();
    assert_eq!((again.ran, again.open), (true, run.open));
    assert_eq!(again.new, run.new, "never notified (no webhook), so still due as new");
    let kept = later.findings.all().await.unwrap();
    assert!(kept.iter().all(|f| f.first_seen == NOW && f.last_seen == NOW + Duration::hours(1)));

    // Two runs at once: one judges, the other finds the lease taken.
    let (a, b) = (
        state(&base, &bucket, &table, NOW + Duration::hours(2)),
        state(&base, &bucket, &table, NOW + Duration::hours(2)),
    );
    let (ra, rb) = tokio::join!(
        handle(&a, "run-a", std::time::Duration::MAX),
        handle(&b, "run-b", std::time::Duration::MAX)
    );
    let ran = [ra.unwrap().ran, rb.unwrap().ran];
    assert_eq!(ran.iter().filter(|r| **r).count(), 1, "{ran:?}");
    // The lease is given back: the next run goes ahead.
    let next = state(&base, &bucket, &table, NOW + Duration::hours(3));
    assert!(handle(&next, "run-3", std::time::Duration::MAX).await.unwrap().ran);
}
