use std::sync::Arc;

use polo_core::FixedClock;
use polo_core::data::{DynamoDataService, FleetReader, ResourceTable, parse_snapshot};
use polo_core::model::AccountKind;
use polo_core::store::{S3Store, SyncStore, s3_client};
use time::macros::datetime;

use crate::fleet::{create_bucket, create_registry, create_resource_table, launch, put_items, registry_item};
use crate::harness::{account, base_config, config_with, emulator, fresh_account_id, fresh_name, in_account};

const SCHEDULED: &str = r#"{
  "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
  "source": "aws.events", "account": "123456789012", "time": "2026-11-24T12:00:00Z", "region": "us-east-1",
  "resources": ["arn:aws:events:us-east-1:123456789012:rule/polo-sync"], "detail": {}
}"#;

#[tokio::test]
async fn the_sync_function_fills_the_bucket_and_the_table() {
    let base = base_config(&emulator()).await;
    let id = fresh_account_id(510);
    let cfg = in_account(&base, &id).await;
    launch(&cfg, "us-east-1", 3, "m6i.large", &[("owner", "alice"), ("marqo-index", "idx-f1")], false).await;
    create_registry(&cfg, "us-east-1", "marqo-indexes").await;
    put_items(&cfg, "us-east-1", "marqo-indexes", vec![registry_item("idx-f1", "one", "acme", "READY")])
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
    };
    let event = serde_json::from_str(SCHEDULED).unwrap();
    let summary = polo_sync::handle(&state, event).await.unwrap();
    assert_eq!((summary.pulls, summary.instances, summary.indexes, summary.changes), (2, 3, 1, 4));
    assert!(summary.failed.is_empty());
    assert_eq!(summary.items_written, 8, "4 resources and 4 history items");

    let snapshot =
        parse_snapshot(&String::from_utf8(store.read_snapshot().await.unwrap().unwrap()).unwrap(), "s3")
            .unwrap();
    assert_eq!(snapshot.instances.len(), 3);
    assert!(snapshot.history.is_empty(), "history lives in the table");
    let docs =
        store.read_document("delta", "us-east-1", polo_core::model::ResourceKind::Instances).await.unwrap();
    assert!(docs.is_some(), "the sync documents land in S3 too");
    let dynamo =
        DynamoDataService::new(ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name));
    assert_eq!(dynamo.fleet().await.unwrap().instances().len(), 3);

    let event = serde_json::from_str(SCHEDULED).unwrap();
    let again = polo_sync::handle(&state, event).await.unwrap();
    assert_eq!((again.changes, again.items_written), (0, 0), "nothing changed, nothing written");
}
