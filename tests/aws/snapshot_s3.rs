use std::sync::Arc;
use std::time::Duration;

use polo_aws::{S3SnapshotReader, S3Store, s3_client};
use polo_core::FixedClock;
use polo_core::config::Config;
use polo_core::ports::{
    FindingReader, FleetReader, LocalDataService, ResourceReader, SNAPSHOT_KEY, SyncStore,
};
use polo_core::sample::{Scale, generate};
use polo_web::AppState;
use polo_web::app::WebSettings;
use time::OffsetDateTime;
use time::macros::datetime;

use crate::fleet::create_bucket;
use crate::harness::{base_config, emulator, fresh_name};

/// App state over any data service, development identity, clock at `now`.
pub fn state_over<D: FleetReader + ResourceReader + FindingReader + 'static>(
    data: Arc<D>,
    now: OffsetDateTime,
) -> AppState {
    let settings = WebSettings { dev: true, logout_url: None, ..WebSettings::default() };
    AppState::over(data, Config::bundled().unwrap(), Arc::new(FixedClock(now)), settings).unwrap()
}

#[tokio::test]
async fn the_s3_snapshot_is_loaded_once_and_revalidated_by_etag() {
    let base = base_config(&emulator()).await;
    let bucket = fresh_name("polo-data");
    create_bucket(&base, &bucket).await;
    let store = S3Store::new(s3_client(&base), &bucket);
    let first = generate(1, Scale::Small, datetime!(2026-11-24 12:00 UTC));
    store.write_snapshot(serde_json::to_vec(&first).unwrap()).await.unwrap();

    let reader = S3SnapshotReader::new(s3_client(&base), &bucket, SNAPSHOT_KEY, Duration::ZERO);
    let loaded = reader.fleet().await.unwrap();
    assert_eq!(loaded.instances(), first.instances.as_slice());
    let again = reader.fleet().await.unwrap();
    assert!(Arc::ptr_eq(&loaded, &again), "an unchanged ETag keeps the loaded snapshot");

    let second = generate(2, Scale::Small, datetime!(2026-11-25 12:00 UTC));
    store.write_snapshot(serde_json::to_vec(&second).unwrap()).await.unwrap();
    let reloaded = reader.fleet().await.unwrap();
    assert_eq!(reloaded.instances(), second.instances.as_slice());
    assert_eq!(reader.problem(), None);

    // A stored snapshot that does not parse never replaces the good one; pages say so.
    store.write_snapshot(br#"{"generated_at": 12"#.to_vec()).await.unwrap();
    let kept = reader.fleet().await.unwrap();
    assert!(Arc::ptr_eq(&kept, &reloaded), "the loaded snapshot keeps serving");
    let problem = reader.problem().unwrap();
    assert!(problem.contains("could not be read") && problem.contains("2026-11-25T12:00:00Z"), "{problem}");
    assert!(
        Arc::ptr_eq(&reader.fleet().await.unwrap(), &reloaded),
        "the bad version is not taken later either"
    );
    store.write_snapshot(serde_json::to_vec(&second).unwrap()).await.unwrap();
    assert_eq!(reader.fleet().await.unwrap().instances(), second.instances.as_slice());
    assert_eq!(reader.problem(), None, "a good snapshot clears the problem");

    let cached = S3SnapshotReader::new(s3_client(&base), &bucket, SNAPSHOT_KEY, Duration::from_hours(1));
    let a = cached.fleet().await.unwrap();
    store.write_snapshot(serde_json::to_vec(&first).unwrap()).await.unwrap();
    let b = cached.fleet().await.unwrap();
    assert!(Arc::ptr_eq(&a, &b), "within the revalidation window S3 is not asked");

    let missing = S3SnapshotReader::new(s3_client(&base), &bucket, "nosuch.json", Duration::ZERO);
    assert!(missing.fleet().await.unwrap_err().to_string().contains("nosuch.json"));

    // The same pages answer from the S3 snapshot as from a local file.
    let local = Arc::new(LocalDataService::from_snapshot(first.clone()));
    let _ = state_over(local, datetime!(2026-11-24 12:00 UTC));
}

#[tokio::test]
async fn the_binary_snapshot_is_read_first_and_a_broken_one_keeps_the_last_good_served() {
    use polo_core::model::binary;
    use polo_core::ports::SNAPSHOT_BINARY_KEY;
    let base = base_config(&emulator()).await;
    let bucket = fresh_name("polo-bin");
    create_bucket(&base, &bucket).await;
    let store = S3Store::new(s3_client(&base), &bucket);
    let reader = || {
        S3SnapshotReader::new(s3_client(&base), &bucket, SNAPSHOT_BINARY_KEY, Duration::ZERO)
            .with_fallback(SNAPSHOT_KEY)
    };
    // As a fleet holds them (rows in id order).
    let held = |e| polo_core::model::Fleet::new(e).to_everything();
    let (first, second) = (
        held(generate(1, Scale::Small, datetime!(2026-11-24 12:00 UTC))),
        held(generate(2, Scale::Small, datetime!(2026-11-25 12:00 UTC))),
    );
    // Before a sync of this build: only the JSON layout is stored, and it serves.
    store.write_snapshot(serde_json::to_vec(&first).unwrap()).await.unwrap();
    let upgraded = reader();
    assert_eq!(upgraded.fleet().await.unwrap().to_everything(), first);
    // Then the sync writes both: the binary one is taken.
    store
        .write_snapshot_if_newer(
            binary::encode(&second),
            serde_json::to_vec(&second).unwrap(),
            second.generated_at,
        )
        .await
        .unwrap();
    let loaded = upgraded.fleet().await.unwrap();
    assert_eq!(loaded.to_everything(), second);
    assert_eq!(upgraded.problem(), None);

    // A truncated binary snapshot never replaces the good one; pages say so.
    let bytes = binary::encode(&first);
    store.put(SNAPSHOT_BINARY_KEY, bytes[..bytes.len() / 2].to_vec()).await.unwrap();
    assert!(Arc::ptr_eq(&upgraded.fleet().await.unwrap(), &loaded), "the loaded snapshot keeps serving");
    let problem = upgraded.problem().unwrap();
    assert!(problem.contains("truncated") && problem.contains("2026-11-25T12:00:00Z"), "{problem}");
    // A container that holds nothing yet serves the JSON layout instead, and keeps taking
    // new JSON snapshots while the binary one stays unreadable.
    let fresh = reader();
    assert_eq!(fresh.fleet().await.unwrap().to_everything(), second);
    store.write_snapshot(serde_json::to_vec(&first).unwrap()).await.unwrap();
    assert_eq!(fresh.fleet().await.unwrap().to_everything(), first, "the fallback is still read");
    store.write_snapshot(serde_json::to_vec(&second).unwrap()).await.unwrap();
    // One of a newer layout version is refused by name, never misread.
    let mut newer = binary::encode(&first);
    newer[8..12].copy_from_slice(&(binary::VERSION + 1).to_le_bytes());
    store.put(SNAPSHOT_BINARY_KEY, newer).await.unwrap();
    assert!(Arc::ptr_eq(&upgraded.fleet().await.unwrap(), &loaded));
    assert!(upgraded.problem().unwrap().contains("newer Polo"), "{:?}", upgraded.problem());
    // A good one again clears the problem.
    store.put(SNAPSHOT_BINARY_KEY, binary::encode(&first)).await.unwrap();
    assert_eq!(upgraded.fleet().await.unwrap().to_everything(), first);
    assert_eq!(upgraded.problem(), None);
}

/// The cost pages read `costs.bin`, and `costs.json` while it is missing (the first deploy of
/// a build that reads it, until the sync's next cost refresh) or does not read.
#[tokio::test]
async fn the_cost_store_is_read_from_costs_bin_and_from_costs_json_while_it_is_missing_or_unreadable() {
    use polo_aws::S3CostReader;
    use polo_core::model::{CostDimension, CostStore, cost_binary};
    use polo_core::ports::{COSTS_BINARY_KEY, COSTS_KEY, CostReader};
    let base = base_config(&emulator()).await;
    let bucket = fresh_name("polo-data");
    create_bucket(&base, &bucket).await;
    let store = S3Store::new(s3_client(&base), &bucket);
    let costs = |cents: i64| {
        let mut store = CostStore::empty();
        store.dimensions.insert(CostDimension::Index, [("idx".to_owned(), vec![cents, 2 * cents])].into());
        store
    };
    let reader = S3CostReader::new(s3_client(&base), &bucket, Duration::ZERO);
    assert_eq!(*reader.costs().await.unwrap(), CostStore::empty(), "neither there: no cost data yet");
    store.put(COSTS_KEY, serde_json::to_vec(&costs(1)).unwrap()).await.unwrap();
    assert_eq!(*reader.costs().await.unwrap(), costs(1), "the JSON one while the binary one is missing");
    store.put(COSTS_BINARY_KEY, cost_binary::encode(&costs(2))).await.unwrap();
    assert_eq!(*reader.costs().await.unwrap(), costs(2), "the binary one once it is there");
    let held = reader.costs().await.unwrap();
    assert!(Arc::ptr_eq(&held, &reader.costs().await.unwrap()), "an unchanged ETag keeps it");
    store.put(COSTS_BINARY_KEY, cost_binary::encode(&costs(3))).await.unwrap();
    assert_eq!(*reader.costs().await.unwrap(), costs(3));

    // A binary one that does not read: the JSON one serves, and its changes show.
    store.put(COSTS_BINARY_KEY, b"POLOCOST and no more".to_vec()).await.unwrap();
    assert_eq!(*reader.costs().await.unwrap(), costs(1), "the JSON one while the binary one does not read");
    store.put(COSTS_KEY, serde_json::to_vec(&costs(4)).unwrap()).await.unwrap();
    assert_eq!(*reader.costs().await.unwrap(), costs(4));
    let fresh = S3CostReader::new(s3_client(&base), &bucket, Duration::ZERO);
    assert_eq!(*fresh.costs().await.unwrap(), costs(4), "likewise with nothing loaded");
    // Neither reads: the loaded store keeps serving; with none loaded, the error says why.
    store.put(COSTS_KEY, b"{ half a file".to_vec()).await.unwrap();
    assert_eq!(*reader.costs().await.unwrap(), costs(4), "the loaded store keeps serving");
    let error = S3CostReader::new(s3_client(&base), &bucket, Duration::ZERO).costs().await.unwrap_err();
    assert!(error.to_string().contains("costs.json"), "{error}");
    // The binary one mended: it serves again.
    store.put(COSTS_BINARY_KEY, cost_binary::encode(&costs(5))).await.unwrap();
    assert_eq!(*reader.costs().await.unwrap(), costs(5));
}
