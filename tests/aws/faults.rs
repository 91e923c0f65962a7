use std::sync::Arc;

use polo_core::data::{LocalDataService, parse_snapshot};
use polo_core::model::{AccountKind, Instance, ResourceKind, SyncDocument, SyncStatus};
use polo_core::store::{LocalStore, SyncStore};
use polo_sync_engine::{Previous, Reach, SyncPlan, combine, sync};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::fleet::{create_registry, launch, put_items, registry_item};
use crate::harness::{account, base_config, config_with, emulator, fresh_account_id, in_account};
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
