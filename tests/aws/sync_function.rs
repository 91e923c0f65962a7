use std::sync::Arc;

use polo_aws::{DynamoDataService, ResourceTable, S3SnapshotReader, S3Store, s3_client};
use polo_core::FixedClock;
use polo_core::model::AccountKind;
use polo_core::ports::{DataError, FleetReader, SyncStore, parse_snapshot};
use polo_sync::Outcome;
use time::macros::datetime;

use crate::fleet::{
    create_bucket, create_registry, create_registry_with, create_resource_table, launch, registry_item,
};
use crate::harness::{
    BUDGET, account, base_config, config_with, emulator, fresh_account_id, fresh_name, in_account,
};

const SCHEDULED: &str = r#"{
  "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
  "source": "aws.events", "account": "123456789012", "time": "2026-11-24T12:00:00Z", "region": "us-east-1",
  "resources": ["arn:aws:events:us-east-1:123456789012:rule/polo-sync"], "detail": {}
}"#;

#[tokio::test]
async fn the_sync_function_fills_the_bucket_and_the_table() {
    // Through the proxy, which carries CloudWatch's CBOR to the emulator.
    let proxy = crate::proxy::Proxy::start(&emulator()).await;
    let base = base_config(&proxy.url).await;
    let id = fresh_account_id(510);
    let cfg = in_account(&base, &id).await;
    launch(&cfg, "us-east-1", 3, "m6i.large", &[("owner", "alice"), ("marqo-index", "idx-f1")], false).await;
    create_registry_with(
        &cfg,
        "us-east-1",
        "marqo-indexes",
        vec![registry_item("idx-f1", "one", "acme", "READY")],
    )
    .await;
    let (bucket, table_name) = (fresh_name("polo-fn"), fresh_name("polo-fn-table"));
    create_bucket(&base, &bucket).await;
    create_resource_table(&base, &table_name).await;
    let store = Arc::new(S3Store::new(s3_client(&base), &bucket));
    let state = polo_sync::State {
        config: config_with(vec![account("delta", &id, AccountKind::Prod, &["us-east-1"])]),
        sdk: base.clone(),
        store: store.clone(),
        table: ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name),
        clock: Arc::new(FixedClock(datetime!(2026-11-24 12:00 UTC))),
        costs_source: None,
    };
    // A fresh bucket: no snapshot yet, and the readers say so rather than fail.
    let reader = S3SnapshotReader::new(s3_client(&base), &bucket, "snapshot.json", std::time::Duration::ZERO)
        .with_first_sync_hint("the first sync runs every 15 minutes");
    assert!(matches!(reader.fleet().await, Err(DataError::NoDataYet(_))));
    let patient =
        S3SnapshotReader::new(s3_client(&base), &bucket, "snapshot.json", std::time::Duration::from_mins(1));
    assert!(matches!(patient.fleet().await, Err(DataError::NoDataYet(_))));
    assert!(matches!(patient.fleet().await, Err(DataError::NoDataYet(_))), "still no data within the window");

    let event = serde_json::from_str(SCHEDULED).unwrap();
    let Outcome::Ran(summary) = polo_sync::handle(&state, event, BUDGET).await.unwrap() else {
        panic!("skipped")
    };
    assert_eq!((summary.pulls, summary.instances, summary.indexes, summary.changes), (2, 3, 1, 4));
    assert!(summary.failed.is_empty());
    assert_eq!(summary.items_written, 8, "4 resources and 4 history items");

    let snapshot =
        parse_snapshot(&String::from_utf8(store.read_snapshot().await.unwrap().unwrap()).unwrap(), "s3")
            .unwrap();
    assert_eq!(snapshot.instances.len(), 3);
    // The same snapshot in the binary layout, which the deployed readers ask for first.
    let binary = store.get(polo_core::ports::SNAPSHOT_BINARY_KEY).await.unwrap().unwrap();
    assert_eq!(polo_core::model::binary::decode(&binary).unwrap(), snapshot);
    assert!(snapshot.history.is_empty(), "history lives in the table");
    let docs =
        store.read_document("delta", "us-east-1", polo_core::model::ResourceKind::Instances).await.unwrap();
    assert!(docs.is_some(), "the sync documents land in S3 too");
    let dynamo =
        DynamoDataService::new(ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name));
    assert_eq!(dynamo.fleet().await.unwrap().instances().len(), 3);

    assert_eq!(reader.fleet().await.unwrap().instances().len(), 3, "the reader finds the first snapshot");
    // The usage ledger beside it: each running instance billed from when it started.
    let usage = summary.usage.as_ref().expect("the ledger was kept");
    assert_eq!(usage.instances, 3);
    assert_eq!(usage.trail.asked, 0, "no cost data yet: no change to explain, CloudTrail not asked");
    let ledger: polo_core::model::UsageLedger =
        serde_json::from_slice(&store.get(polo_core::ports::USAGE_KEY).await.unwrap().unwrap()).unwrap();
    assert_eq!(ledger.instances.len(), 3);
    assert!(ledger.instances.iter().all(|u| u.spans.len() == 1 && u.spans[0].to.is_none()));
    assert!(ledger.instances.iter().all(|u| u.spans[0].hourly.is_some_and(|h| h.to_string() == "0.0960")));
    let usage_reader = polo_aws::S3DocumentReader::<polo_core::model::UsageLedger>::new(
        s3_client(&base),
        &bucket,
        std::time::Duration::ZERO,
    );
    assert_eq!(polo_core::ports::UsageReader::usage(&usage_reader).await.unwrap().instances.len(), 3);
    // The day's metrics: 3 instances × CPU, network in and out, memory, and the index's
    // queries, in one request through the fleet role (the emulator's EC2 publishes no
    // points, so every day is unknown: no point is not a quiet day).
    assert_eq!(
        summary.metrics,
        Some(polo_sync_engine::metrics::MetricsRun::Pulled {
            requests: 1,
            metrics: 13,
            dollars: "0.00".to_owned(),
            denied: Vec::new(),
            left: 0
        })
    );
    let metrics_reader = polo_aws::S3DocumentReader::<polo_core::model::MetricsDocument>::new(
        s3_client(&base),
        &bucket,
        std::time::Duration::ZERO,
    );
    let metrics = polo_core::ports::DocumentReader::read(&metrics_reader).await.unwrap();
    assert_eq!((metrics.instances.len(), metrics.days, metrics.indexes.len()), (3, 14, 1));
    assert!(metrics.instances.values().all(|m| m.cpu_max == [None; 14]));

    // EventBridge delivering the same event again: a no-op.
    let duplicate = serde_json::from_str(SCHEDULED).unwrap();
    assert!(matches!(polo_sync::handle(&state, duplicate, BUDGET).await.unwrap(), Outcome::Skipped { .. }));

    let next = SCHEDULED.replace("53dc4d37", "63dc4d37");
    let Outcome::Ran(again) =
        polo_sync::handle(&state, serde_json::from_str(&next).unwrap(), BUDGET).await.unwrap()
    else {
        panic!("the next event should run")
    };
    assert_eq!((again.changes, again.items_written), (0, 0), "nothing changed, nothing written");
    assert!(
        matches!(&again.metrics, Some(polo_sync_engine::metrics::MetricsRun::NotDue { why }) if why.starts_with("pulled today")),
        "once a day: {:?}",
        again.metrics
    );
}

#[tokio::test]
async fn runs_never_overlap_and_the_snapshot_never_rolls_back() {
    let base = base_config(&emulator()).await;
    let id = fresh_account_id(511);
    let cfg = in_account(&base, &id).await;
    launch(&cfg, "us-east-1", 1, "m6i.large", &[("owner", "bob")], false).await;
    create_registry(&cfg, "us-east-1", "marqo-indexes").await;
    let (bucket, table_name) = (fresh_name("polo-lease"), fresh_name("polo-lease-table"));
    create_bucket(&base, &bucket).await;
    create_resource_table(&base, &table_name).await;
    let table = ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name);
    let t = datetime!(2026-11-24 12:00 UTC);
    let ttl = std::time::Duration::from_mins(6);

    // A run in progress holds the lease: a second event finds it taken.
    assert!(table.acquire_lease("sync", "event-a", t, ttl).await.unwrap());
    assert!(!table.acquire_lease("sync", "event-b", t + time::Duration::minutes(1), ttl).await.unwrap());
    // Once released, the same event is done for good; another one may run.
    table.release_lease("sync", "event-a", t + time::Duration::minutes(2)).await.unwrap();
    assert!(!table.acquire_lease("sync", "event-a", t + time::Duration::minutes(3), ttl).await.unwrap());
    assert!(table.acquire_lease("sync", "event-b", t + time::Duration::minutes(3), ttl).await.unwrap());
    // A run that died keeps the lease only until it expires.
    assert!(!table.acquire_lease("sync", "event-c", t + time::Duration::minutes(5), ttl).await.unwrap());
    assert!(table.acquire_lease("sync", "event-c", t + time::Duration::minutes(10), ttl).await.unwrap());

    // A late run (older `now`) does not replace a newer snapshot.
    let store = Arc::new(S3Store::new(s3_client(&base), &bucket));
    let state = |now| polo_sync::State {
        config: config_with(vec![account("echo", &id, AccountKind::Dev, &["us-east-1"])]),
        sdk: base.clone(),
        store: store.clone(),
        table: ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name),
        clock: Arc::new(FixedClock(now)),
        costs_source: None,
    };
    let newer = t + time::Duration::hours(2);
    let event = |id: &str| serde_json::from_str(&SCHEDULED.replace("53dc4d37", id)).unwrap();
    let Outcome::Ran(first) = polo_sync::handle(&state(newer), event("aaaaaaaa"), BUDGET).await.unwrap()
    else {
        panic!()
    };
    assert!(first.snapshot_written);
    // A late writer (a retried run that started earlier) is refused by generation time.
    let older = polo_core::model::Everything {
        generated_at: newer - time::Duration::hours(1),
        price_table_version: String::new(),
        accounts: Vec::new(),
        instances: Vec::new(),
        indexes: Vec::new(),
        cost_facts: polo_core::model::CostFacts::default(),
        history: Vec::new(),
        findings: Vec::new(),
    };
    let written = store
        .write_snapshot_if_newer(
            polo_core::model::binary::encode(&older),
            serde_json::to_vec(&older).unwrap(),
            older.generated_at,
        )
        .await
        .unwrap();
    assert!(!written, "an older snapshot must not replace a newer one");
    let stored =
        parse_snapshot(&String::from_utf8(store.read_snapshot().await.unwrap().unwrap()).unwrap(), "s3")
            .unwrap();
    assert_eq!(stored.generated_at, newer);
    let binary = store.get(polo_core::ports::SNAPSHOT_BINARY_KEY).await.unwrap().unwrap();
    assert_eq!(
        polo_core::model::binary::decode(&binary).unwrap().generated_at,
        newer,
        "the binary one is not rolled back either"
    );
}

#[tokio::test]
async fn a_failing_cost_refresh_comes_after_the_snapshot_is_written_and_backs_off() {
    use crate::costs::{answer, day, preload};
    let base = base_config(&emulator()).await;
    let id = fresh_account_id(512);
    let cfg = in_account(&base, &id).await;
    launch(&cfg, "us-east-1", 1, "m6i.large", &[("owner", "carol")], false).await;
    create_registry(&cfg, "us-east-1", "marqo-indexes").await;
    let core = fresh_account_id(513);
    preload(&core, vec![answer(vec![day("2026-11-22", &[("marqo-index$idx-a", "lots")])], None)]).await;
    let (bucket, table_name) = (fresh_name("polo-ce"), fresh_name("polo-ce-table"));
    create_bucket(&base, &bucket).await;
    create_resource_table(&base, &table_name).await;
    let store = Arc::new(S3Store::new(s3_client(&base), &bucket));
    let source = in_account(&base, &core).await;
    let t = datetime!(2026-11-24 12:00 UTC);
    let state = |now| polo_sync::State {
        config: config_with(vec![account("foxtrot", &id, AccountKind::Dev, &["us-east-1"])]),
        sdk: base.clone(),
        store: store.clone(),
        table: ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name),
        clock: Arc::new(FixedClock(now)),
        costs_source: Some(source.clone()),
    };
    let event = |id: &str| serde_json::from_str(&SCHEDULED.replace("53dc4d37", id)).unwrap();
    let Outcome::Ran(first) = polo_sync::handle(&state(t), event("bbbbbbbb"), BUDGET).await.unwrap() else {
        panic!("the first event runs")
    };
    assert!(first.snapshot_written, "Cost Explorer failing never holds the snapshot back");
    assert_eq!(first.instances, 1);
    let Some(polo_sync_engine::production::CostsRun::Failed { requests, error }) = &first.costs else {
        panic!("the refresh failed: {:?}", first.costs)
    };
    assert_eq!(*requests, 1);
    assert!(error.contains("not a number"), "{error}");
    assert!(first.failed.iter().any(|f| f.starts_with("costs: ")), "{:?}", first.failed);
    let costs: polo_core::model::CostStore =
        serde_json::from_slice(&store.get(polo_core::ports::COSTS_KEY).await.unwrap().unwrap()).unwrap();
    let binary = store.get(polo_core::ports::COSTS_BINARY_KEY).await.unwrap().expect("written first");
    assert_eq!(polo_core::model::cost_binary::decode(&binary).unwrap(), costs, "both layouts hold one store");
    assert_eq!(
        (costs.refresh.failures, costs.refresh.requests_in_month(t.date())),
        (1, 1),
        "the attempt is recorded"
    );
    // The next run, 15 minutes on, is within the back-off: Cost Explorer is not asked.
    let Outcome::Ran(second) =
        polo_sync::handle(&state(t + time::Duration::minutes(15)), event("cccccccc"), BUDGET).await.unwrap()
    else {
        panic!("the second event runs")
    };
    assert!(
        matches!(&second.costs, Some(polo_sync_engine::production::CostsRun::NotDue { why }) if why.contains("failed attempts")),
        "{:?}",
        second.costs
    );
    // No time left: the snapshot is written, and the refresh waits for the next run.
    let Outcome::Ran(late) =
        polo_sync::handle(&state(t + time::Duration::hours(1)), event("dddddddd"), std::time::Duration::ZERO)
            .await
            .unwrap()
    else {
        panic!("the third event runs")
    };
    assert!(late.snapshot_written);
    assert!(
        matches!(&late.costs, Some(polo_sync_engine::production::CostsRun::NotDue { why }) if why.contains("s left")),
        "{:?}",
        late.costs
    );
}
