use std::sync::Arc;

use polo_core::model::{AccountKind, Instance, ResourceKind, SyncDocument, SyncStatus};
use polo_core::ports::{LocalDataService, LocalStore, SyncStore, parse_snapshot};
use polo_sync_engine::{Previous, Reach, SyncPlan, combine, sync};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::fleet::{create_registry, create_registry_with, launch, put_items, registry_item};
use crate::harness::{BUDGET, account, base_config, config_with, emulator, fresh_account_id, in_account};
use crate::proxy::Proxy;

const FIRST: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

#[tokio::test]
async fn a_failing_account_or_region_keeps_its_last_good_items_and_says_why() {
    let direct = base_config(&emulator()).await;
    let proxy = Proxy::start(&emulator()).await;
    let via_proxy = base_config(&proxy.url).await;
    let (a_id, b_id) = (fresh_account_id(310), fresh_account_id(320));
    let a = account("alpha", &a_id, AccountKind::Prod, &["us-east-1", "eu-west-1"]);
    let b = account("beta", &b_id, AccountKind::Staging, &["us-east-1"]);
    let (in_a, in_b) = (in_account(&direct, &a_id).await, in_account(&direct, &b_id).await);
    launch(&in_a, "us-east-1", 3, "m6i.large", &[("owner", "alice")], false).await;
    launch(&in_a, "eu-west-1", 2, "m6i.large", &[("owner", "alice")], false).await;
    launch(&in_b, "us-east-1", 2, "t3.medium", &[("owner", "bob")], false).await;
    for (cfg, region) in [(&in_a, "us-east-1"), (&in_a, "eu-west-1"), (&in_b, "us-east-1")] {
        create_registry(cfg, region, "marqo-indexes").await;
    }
    let mut malformed = registry_item("idx-broken", "broken", "acme", "READY");
    malformed.insert("inference_count".into(), aws_sdk_dynamodb::types::AttributeValue::S("many".into()));
    let mut bad_status = registry_item("idx-weird", "weird", "acme", "EXPLODED");
    bad_status.remove("marqo_version");
    put_items(
        &in_a,
        "us-east-1",
        "marqo-indexes",
        vec![
            registry_item("idx-good1", "one", "acme", "READY"),
            registry_item("idx-good2", "two", "acme", "READY"),
            malformed,
            bad_status,
        ],
    )
    .await;
    put_items(&in_a, "eu-west-1", "marqo-indexes", vec![registry_item("idx-eu", "eu", "acme", "READY")])
        .await;

    let config = config_with(vec![a, b]);
    let dir = tempfile::tempdir().unwrap();
    let snapshot_path = dir.path().join("local_data.json");
    let store = Arc::new(LocalStore::new(dir.path().join("sync"), &snapshot_path));
    let plan = SyncPlan::all(&config, 4, Reach::Roles);

    // A good sync first: malformed registry items are reported by id and skipped.
    let first = sync(&plan, &via_proxy, store.clone(), FIRST).await;
    assert!(first.iter().all(|o| o.status == SyncStatus::Ok), "{first:?}");
    let registry = first
        .iter()
        .find(|o| o.account == "alpha" && o.region == "us-east-1" && o.resource == ResourceKind::Indexes)
        .unwrap();
    assert_eq!(registry.items, 2);
    assert_eq!(registry.warnings.len(), 2, "{:?}", registry.warnings);
    assert!(registry.warnings.iter().any(|w| w.contains("idx-broken")));
    assert!(registry.warnings.iter().any(|w| w.contains("idx-weird")));
    let combined = combine(&config, store.as_ref(), Previous::default(), FIRST).await;
    store.write_snapshot(serde_json::to_vec(&combined.everything).unwrap()).await.unwrap();

    // Then beta's role cannot be assumed and eu-west-1 refuses every request.
    *proxy.faults.deny_account.lock().unwrap() = Some(b_id.clone());
    *proxy.faults.refuse_region.lock().unwrap() = Some("eu-west-1".into());
    launch(&in_a, "eu-west-1", 1, "m6i.large", &[], false).await;
    let later = FIRST + Duration::hours(1);
    let second = sync(&plan, &via_proxy, store.clone(), later).await;
    let status = |acct: &str, region: &str, r: ResourceKind| {
        second.iter().find(|o| o.account == acct && o.region == region && o.resource == r).unwrap().clone()
    };
    assert_eq!(status("alpha", "us-east-1", ResourceKind::Instances).status, SyncStatus::Ok);
    assert_eq!(status("alpha", "us-east-1", ResourceKind::Indexes).status, SyncStatus::Ok);
    for (acct, region, kept_instances, kept_indexes) in
        [("alpha", "eu-west-1", 2, 1), ("beta", "us-east-1", 2, 0)]
    {
        let i = status(acct, region, ResourceKind::Instances);
        assert_eq!((i.status, i.items), (SyncStatus::Error, kept_instances), "{acct}/{region}: {i:?}");
        let x = status(acct, region, ResourceKind::Indexes);
        assert_eq!((x.status, x.items), (SyncStatus::Error, kept_indexes), "{acct}/{region}: {x:?}");
        let doc: SyncDocument<Instance> = serde_json::from_slice(
            &store.read_document(acct, region, ResourceKind::Instances).await.unwrap().unwrap(),
        )
        .unwrap();
        assert_eq!(doc.status, SyncStatus::Error);
        assert_eq!(doc.synced_at, Some(FIRST), "synced_at stays the last good pull");
        assert_eq!(doc.attempted_at, Some(later));
        assert_eq!(doc.items.len(), kept_instances);
    }
    assert!(status("beta", "us-east-1", ResourceKind::Instances).error.unwrap().contains("AccessDenied"));
    assert!(status("alpha", "eu-west-1", ResourceKind::Instances).error.unwrap().contains("503"));

    let previous = parse_snapshot(&std::fs::read_to_string(&snapshot_path).unwrap(), "s").unwrap();
    let combined = combine(&config, store.as_ref(), Previous::from_snapshot(previous), later).await;
    assert_eq!(combined.everything.instances.len(), 7, "nothing synced earlier is lost");
    assert!(combined.changes.is_empty(), "a failed pull marks nothing vanished: {:?}", combined.changes);
    store.write_snapshot(serde_json::to_vec(&combined.everything).unwrap()).await.unwrap();

    // The overview shows both accounts stale, with the reason.
    let app = polo::app(crate::snapshot_s3::state_over(
        Arc::new(LocalDataService::from_file(&snapshot_path).unwrap()),
        later,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert_eq!(page.matches(">stale<").count(), 2, "both accounts stale");
    assert!(page.contains("AccessDenied"));
    assert!(page.contains("instances/eu-west-1"));
    let json: serde_json::Value =
        reqwest::get(format!("{url}?format=json")).await.unwrap().text().await.unwrap().parse().unwrap();
    assert_eq!(json["freshness"][0]["stale"], true);
    assert!(json["freshness"][1]["errors"][0].as_str().unwrap().contains("AccessDenied"));
}

/// A moto server of this test's own (`POLO_MOTO_SERVER`, set by `scripts/with-moto`), to kill.
struct OwnEmulator {
    url: String,
    child: std::process::Child,
}

impl OwnEmulator {
    async fn start() -> OwnEmulator {
        let binary =
            std::env::var("POLO_MOTO_SERVER").expect("POLO_MOTO_SERVER: run through scripts/with-moto");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Owned at once, so it is killed however this ends.
        let own = OwnEmulator { url: format!("http://127.0.0.1:{port}"), child };
        for _ in 0..100 {
            if reqwest::get(format!("{}/moto-api/", own.url)).await.is_ok() {
                return own;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("moto server did not start on {}", own.url);
    }
}

impl Drop for OwnEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_emulator_dying_mid_sync_fails_the_unfinished_scopes_and_loses_nothing() {
    let mut own = OwnEmulator::start().await;
    let direct = base_config(&own.url).await;
    // Calls take 100 ms through the proxy, so the kill lands while scopes are in flight.
    let proxy = Proxy::start(&own.url).await;
    proxy.faults.latency_ms.store(100, std::sync::atomic::Ordering::SeqCst);
    let via_proxy = base_config(&proxy.url).await;
    let ids = [fresh_account_id(330), fresh_account_id(340)];
    let accounts: Vec<_> = ids
        .iter()
        .zip(["alpha", "beta"])
        .map(|(id, name)| account(name, id, AccountKind::Prod, &["us-east-1", "eu-west-1", "eu-central-1"]))
        .collect();
    for id in &ids {
        let cfg = in_account(&direct, id).await;
        for region in ["us-east-1", "eu-west-1", "eu-central-1"] {
            launch(&cfg, region, 2, "m6i.large", &[("owner", "alice")], false).await;
            create_registry_with(
                &cfg,
                region,
                "marqo-indexes",
                vec![registry_item(&format!("idx-{region}"), "x", "acme", "READY")],
            )
            .await;
        }
    }
    let config = config_with(accounts);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::new(dir.path().join("sync"), dir.path().join("local_data.json")));
    let plan = SyncPlan::all(&config, 2, Reach::Roles);
    let first = sync(&plan, &via_proxy, store.clone(), FIRST).await;
    assert!(first.iter().all(|o| o.status == SyncStatus::Ok), "{first:?}");
    let before = combine(&config, store.as_ref(), Previous::default(), FIRST).await;
    assert_eq!((before.everything.instances.len(), before.everything.indexes.len()), (12, 6));

    // The second sync: the emulator is killed after a few calls.
    let later = FIRST + Duration::hours(1);
    let calls = proxy.faults.requests.load(std::sync::atomic::Ordering::SeqCst);
    let running = {
        let (plan, via_proxy, store) = (plan.clone(), via_proxy.clone(), store.clone());
        tokio::spawn(async move { sync(&plan, &via_proxy, store, later).await })
    };
    while proxy.faults.requests.load(std::sync::atomic::Ordering::SeqCst) < calls + 4 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    own.child.kill().unwrap();
    own.child.wait().unwrap();
    let second = running.await.unwrap();

    let failed: Vec<_> = second.iter().filter(|o| o.status == SyncStatus::Error).collect();
    assert!(!failed.is_empty(), "the run reports the scopes it could not finish: {second:?}");
    for outcome in &failed {
        assert!(outcome.error.as_deref().is_some_and(|e| !e.is_empty()), "{outcome:?}");
        // Its document keeps the last good items, and says when it last succeeded.
        let bytes =
            store.read_document(&outcome.account, &outcome.region, outcome.resource).await.unwrap().unwrap();
        let doc: SyncDocument<serde_json::Value> = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            (doc.status, doc.synced_at, doc.attempted_at),
            (SyncStatus::Error, Some(FIRST), Some(later))
        );
        let kept = if outcome.resource == ResourceKind::Instances { 2 } else { 1 };
        assert_eq!(doc.items.len(), kept, "{outcome:?}");
    }
    let after = combine(&config, store.as_ref(), Previous::from_snapshot(before.everything), later).await;
    assert_eq!(
        (after.everything.instances.len(), after.everything.indexes.len()),
        (12, 6),
        "nothing is lost"
    );
    assert!(after.changes.is_empty(), "a failed pull marks nothing vanished: {:?}", after.changes);
}

#[tokio::test]
async fn a_throttled_table_and_a_failing_snapshot_write_lose_nothing_and_leave_the_last_snapshot_whole() {
    use polo_aws::{DynamoDataService, ResourceTable, S3SnapshotReader};
    use polo_aws::{S3Store, s3_client};
    use polo_core::FixedClock;
    use polo_core::ports::FleetReader;

    use crate::fleet::{create_bucket, create_resource_table};
    use crate::harness::fresh_name;

    let direct = base_config(&emulator()).await;
    let proxy = Proxy::start(&emulator()).await;
    let via_proxy = base_config(&proxy.url).await;
    let id = fresh_account_id(350);
    let cfg = in_account(&direct, &id).await;
    launch(&cfg, "us-east-1", 3, "m6i.large", &[("owner", "alice")], false).await;
    create_registry_with(
        &cfg,
        "us-east-1",
        "marqo-indexes",
        vec![registry_item("idx-t1", "one", "acme", "READY")],
    )
    .await;
    let (bucket, table_name) = (fresh_name("polo-faults"), fresh_name("polo-faults-table"));
    create_bucket(&direct, &bucket).await;
    create_resource_table(&direct, &table_name).await;
    let state_at = |now: OffsetDateTime| polo_sync::State {
        config: config_with(vec![account("theta", &id, AccountKind::Prod, &["us-east-1"])]),
        sdk: via_proxy.clone(),
        store: Arc::new(S3Store::new(s3_client(&via_proxy), &bucket)),
        table: ResourceTable::new(aws_sdk_dynamodb::Client::new(&via_proxy), &table_name),
        clock: Arc::new(FixedClock(now)),
        costs_source: None,
    };
    let event = |id: &str| {
        serde_json::from_value(serde_json::json!({
            "version": "0", "id": id, "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-11-24T12:00:00Z", "region": "us-east-1",
            "resources": [], "detail": {}
        }))
        .unwrap()
    };
    let table =
        DynamoDataService::new(ResourceTable::new(aws_sdk_dynamodb::Client::new(&direct), &table_name));
    let snapshot =
        S3SnapshotReader::new(s3_client(&direct), &bucket, "snapshot.json", std::time::Duration::ZERO);

    // Every write to the table is throttled once: the SDK's retries carry each one through.
    proxy.faults.throttle_writes.store(true, std::sync::atomic::Ordering::SeqCst);
    let first = polo_sync::handle(&state_at(FIRST), event("run-1"), BUDGET).await.unwrap();
    assert!(matches!(first, polo_sync::Outcome::Ran(ref s) if s.failed.is_empty()), "{first:?}");
    assert!(proxy.faults.throttled.load(std::sync::atomic::Ordering::SeqCst) >= 2, "writes were throttled");
    assert_eq!(table.fleet().await.unwrap().instances().len(), 3, "every item written despite throttling");
    assert_eq!(snapshot.fleet().await.unwrap().instances().len(), 3);

    // A new instance, and the snapshot write fails on every attempt: the run fails and says
    // so; the stored snapshot stays the last whole one, and is what pages read.
    launch(&cfg, "us-east-1", 1, "m6i.large", &[("owner", "bob")], false).await;
    *proxy.faults.fail_puts_to.lock().unwrap() = Some("snapshot.json".into());
    let second = polo_sync::handle(&state_at(FIRST + Duration::hours(1)), event("run-2"), BUDGET).await;
    assert!(second.is_err(), "a run whose snapshot cannot be written fails: {second:?}");
    let stored = snapshot.fleet().await.unwrap();
    assert_eq!(stored.instances().len(), 3, "the last snapshot is still whole and served");

    // The store works again: the next run (after the failed run's lease expires) writes it all.
    *proxy.faults.fail_puts_to.lock().unwrap() = None;
    proxy.faults.throttle_writes.store(false, std::sync::atomic::Ordering::SeqCst);
    let third =
        polo_sync::handle(&state_at(FIRST + Duration::hours(2)), event("run-3"), BUDGET).await.unwrap();
    assert!(matches!(third, polo_sync::Outcome::Ran(_)), "{third:?}");
    assert_eq!(snapshot.fleet().await.unwrap().instances().len(), 4, "nothing was lost");
    assert_eq!(table.fleet().await.unwrap().instances().len(), 4);
}
