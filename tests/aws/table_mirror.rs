//! The resource table mirrors the fleet (every field, retired regions vanish), history is
//! never lost to a failed write, and a failed pull never replaces a stored document it could
//! not read.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use aws_sdk_ec2::types::Tag;
use polo_aws::{DynamoDataService, ResourceTable};
use polo_core::config::Config;
use polo_core::model::{AccountKind, ChangeKind, ResourceKind, SyncStatus};
use polo_core::ports::{DataError, LocalStore, ResourceReader, SyncStore};
use polo_sync_engine::{Previous, Reach, SyncPlan, apply_to_table, combine, sync};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::fleet::{create_registry, create_resource_table, ec2, launch};
use crate::harness::{account, base_config, config_with, emulator, fresh_account_id, fresh_name, in_account};
use crate::proxy::Proxy;

const T1: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

/// One production-shaped run: pull, compare with the table, write the table.
async fn run_once(
    config: &Config,
    base: &aws_config::SdkConfig,
    store: Arc<LocalStore>,
    table: &ResourceTable,
    now: OffsetDateTime,
) -> Result<usize, DataError> {
    let outcomes = sync(&SyncPlan::all(config, 2, Reach::Roles), base, store.clone(), now).await;
    assert!(outcomes.iter().all(|o| o.status == SyncStatus::Ok), "{outcomes:?}");
    let previous = Previous::from_table(table).await?;
    let combined = combine(config, store.as_ref(), previous.clone(), now).await;
    apply_to_table(table, &combined, &previous, now).await
}

#[tokio::test]
async fn the_table_mirrors_every_field_and_history_survives_a_failed_write() {
    let direct = base_config(&emulator()).await;
    let proxy = Proxy::start(&emulator()).await;
    let via_proxy = base_config(&proxy.url).await;
    let id = fresh_account_id(610);
    let cfg = in_account(&direct, &id).await;
    let launched =
        launch(&cfg, "us-east-1", 2, "m6i.large", &[("owner", "alice"), ("Name", "first")], false).await;
    let (renamed, stopped) = (launched[0].instance_id().unwrap(), launched[1].instance_id().unwrap());
    let eu = launch(&cfg, "eu-west-1", 1, "m6i.large", &[("owner", "carol")], false).await;
    let eu_id = eu[0].instance_id().unwrap();
    create_registry(&cfg, "us-east-1", "marqo-indexes").await;
    create_registry(&cfg, "eu-west-1", "marqo-indexes").await;
    let table_name = fresh_name("polo-mirror");
    create_resource_table(&direct, &table_name).await;
    let table = ResourceTable::new(aws_sdk_dynamodb::Client::new(&via_proxy), &table_name);
    let reader =
        DynamoDataService::new(ResourceTable::new(aws_sdk_dynamodb::Client::new(&direct), &table_name));
    let both = config_with(vec![account("foxtrot", &id, AccountKind::Dev, &["us-east-1", "eu-west-1"])]);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::new(dir.path().join("sync"), dir.path().join("local_data.json")));

    run_once(&both, &via_proxy, store.clone(), &table, T1).await.unwrap();

    // A new name and a new tag change nothing history records, and still reach the table.
    ec2(&cfg, "us-east-1")
        .create_tags()
        .resources(renamed)
        .tags(Tag::builder().key("Name").value("second").build())
        .tags(Tag::builder().key("customer").value("globex").build())
        .send()
        .await
        .unwrap();
    let t2 = T1 + Duration::hours(1);
    assert_eq!(
        run_once(&both, &via_proxy, store.clone(), &table, t2).await.unwrap(),
        1,
        "only the renamed instance"
    );
    let stored = reader.instance(renamed).await.unwrap().unwrap();
    assert_eq!(stored.name.as_deref(), Some("second"));
    assert_eq!(stored.customer.as_deref(), Some("globex"));
    assert_eq!(stored.tags.get("customer").map(polo_core::model::Text::as_str), Some("globex"));
    assert_eq!(reader.history(ResourceKind::Instances, renamed).await.unwrap().len(), 1, "appeared only");

    // A change whose write fails is not lost: the next run records it, once.
    ec2(&cfg, "us-east-1").stop_instances().instance_ids(stopped).send().await.unwrap();
    proxy.faults.fail_transactions.store(true, Ordering::SeqCst);
    let t3 = t2 + Duration::hours(1);
    assert!(run_once(&both, &via_proxy, store.clone(), &table, t3).await.is_err());
    assert_eq!(reader.history(ResourceKind::Instances, stopped).await.unwrap().len(), 1);
    assert_eq!(
        reader.instance(stopped).await.unwrap().unwrap().state.to_string(),
        "running",
        "body and history together"
    );
    proxy.faults.fail_transactions.store(false, Ordering::SeqCst);
    let t4 = t3 + Duration::hours(1);
    run_once(&both, &via_proxy, store.clone(), &table, t4).await.unwrap();
    let history = reader.history(ResourceKind::Instances, stopped).await.unwrap();
    let kinds: Vec<(&ChangeKind, OffsetDateTime)> = history.iter().map(|c| (&c.what, c.at)).collect();
    assert_eq!(
        kinds,
        vec![
            (&ChangeKind::Appeared, T1),
            (&ChangeKind::StateChanged { from: "running".into(), to: "stopped".into() }, t4),
        ]
    );

    // A region removed from the config: what it held has vanished.
    let us_only = config_with(vec![account("foxtrot", &id, AccountKind::Dev, &["us-east-1"])]);
    let t5 = t4 + Duration::hours(1);
    run_once(&us_only, &via_proxy, store.clone(), &table, t5).await.unwrap();
    assert!(reader.instance(eu_id).await.unwrap().is_none());
    let eu_history = reader.history(ResourceKind::Instances, eu_id).await.unwrap();
    assert_eq!(eu_history.last().map(|c| (&c.what, c.at)), Some((&ChangeKind::Vanished, t5)));

    // DynamoDB's TTL deletes what is no longer current: the vanished resource 30 days after
    // it vanished, each change 400 days after it ([retention]); a current one never.
    let items = aws_sdk_dynamodb::Client::new(&direct)
        .query()
        .table_name(&table_name)
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(
            ":pk",
            aws_sdk_dynamodb::types::AttributeValue::S(polo_aws::resource_pk(ResourceKind::Instances, eu_id)),
        )
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    let ttl = |sk_prefix: &str| -> Vec<i64> {
        items
            .iter()
            .filter(|i| i["sk"].as_s().unwrap().starts_with(sk_prefix))
            .map(|i| i["ttl"].as_n().unwrap().parse().unwrap())
            .collect()
    };
    assert_eq!(ttl("resource"), [(t5 + Duration::days(30)).unix_timestamp()]);
    assert_eq!(
        ttl("history#"),
        [(T1 + Duration::days(400)).unix_timestamp(), (t5 + Duration::days(400)).unix_timestamp()]
    );
    let current = reader.instance(renamed).await.unwrap();
    assert!(current.is_some(), "a current resource stays");
}

#[tokio::test]
async fn a_failed_pull_never_replaces_a_stored_document_it_cannot_read() {
    let direct = base_config(&emulator()).await;
    let proxy = Proxy::start(&emulator()).await;
    let via_proxy = base_config(&proxy.url).await;
    let id = fresh_account_id(620);
    let cfg = in_account(&direct, &id).await;
    launch(&cfg, "eu-west-1", 1, "m6i.large", &[], false).await;
    create_registry(&cfg, "eu-west-1", "marqo-indexes").await;
    let config = config_with(vec![account("golf", &id, AccountKind::Dev, &["eu-west-1"])]);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::new(dir.path().join("sync"), dir.path().join("local_data.json")));
    let newer = br#"{"format":99,"account":"golf","region":"eu-west-1","resource":"instances","status":"ok","items":[{"from":"the future"}]}"#;
    store.write_document("golf", "eu-west-1", ResourceKind::Instances, newer.to_vec()).await.unwrap();

    *proxy.faults.refuse_region.lock().unwrap() = Some("eu-west-1".into());
    let outcomes = sync(&SyncPlan::all(&config, 2, Reach::Roles), &via_proxy, store.clone(), T1).await;
    let instances = outcomes.iter().find(|o| o.resource == ResourceKind::Instances).unwrap();
    assert_eq!(instances.status, SyncStatus::Error);
    assert!(instances.error.as_deref().unwrap().contains("left untouched"), "{instances:?}");
    let kept = store.read_document("golf", "eu-west-1", ResourceKind::Instances).await.unwrap().unwrap();
    assert_eq!(kept, newer.to_vec(), "the stored document is exactly as it was");
}
