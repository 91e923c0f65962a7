use std::collections::HashSet;
use std::sync::atomic::Ordering;

use polo_aws::{DynamoDataService, ResourceTable};
use polo_core::model::diff;
use polo_core::ports::{LocalDataService, conformance};
use polo_core::sample::{Scale, generate};
use polo_sync_engine::{Combined, Previous, apply_to_table};
use time::macros::datetime;

use crate::fleet::create_resource_table;
use crate::harness::{base_config, emulator, fresh_name};
use crate::proxy::Proxy;

/// The sample as a first sync would leave it: every resource appeared.
fn first_sync() -> Combined {
    let now = datetime!(2026-11-24 12:00 UTC);
    let mut everything = generate(42, Scale::Small, now);
    let pulled: HashSet<(String, String)> = HashSet::new();
    let mut changes = diff(&[], &HashSet::new(), &everything.instances, &pulled, now);
    changes.extend(diff(&[], &HashSet::new(), &everything.indexes, &pulled, now));
    everything.history = changes.clone();
    Combined { everything, changes, duplicates: Vec::new() }
}

#[tokio::test]
async fn dynamo_and_local_data_services_behave_the_same() {
    let base = base_config(&emulator()).await;
    let table_name = fresh_name("polo-resources");
    create_resource_table(&base, &table_name).await;
    let table = ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name);
    let combined = first_sync();
    let written = apply_to_table(&table, &combined, &Previous::default(), combined.everything.generated_at)
        .await
        .unwrap();
    assert_eq!(
        written,
        combined.everything.instances.len() + combined.everything.indexes.len() + combined.changes.len()
    );

    let dynamo = DynamoDataService::new(table);
    conformance::check(&dynamo, &combined.everything).await.unwrap();
    let local = LocalDataService::from_snapshot(combined.everything.clone());
    conformance::check(&local, &combined.everything).await.unwrap();
}

#[tokio::test]
async fn unprocessed_batch_items_are_retried_until_written() {
    let emulator = emulator();
    let proxy = Proxy::start(&emulator).await;
    let base = base_config(&proxy.url).await;
    let table_name = fresh_name("polo-retry");
    create_resource_table(&base, &table_name).await;
    let table = ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name);
    let mut combined = first_sync();
    combined.everything.instances.truncate(40);
    combined.everything.indexes.truncate(10);
    // Bodies without history changes (a rename, a new tag) go by BatchWriteItem; those with
    // changes go by transaction (table_mirror.rs).
    combined.changes.clear();
    combined.everything.history.clear();
    proxy.faults.unprocessed_calls.store(3, Ordering::SeqCst);
    let written = apply_to_table(&table, &combined, &Previous::default(), combined.everything.generated_at)
        .await
        .unwrap();
    assert_eq!(written, 50);
    assert_eq!(
        proxy.faults.faulted_batches.load(Ordering::SeqCst),
        3,
        "three answers left everything unprocessed"
    );
    assert_eq!(
        proxy.faults.forwarded_batches.load(Ordering::SeqCst),
        2,
        "50 items: 2 batches reached the table"
    );
    conformance::check(&DynamoDataService::new(table), &combined.everything).await.unwrap();

    proxy.faults.unprocessed_calls.store(100, Ordering::SeqCst);
    let table = ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name);
    let err = apply_to_table(&table, &combined, &Previous::default(), combined.everything.generated_at)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("still unprocessed after 8 attempts"), "{err}");
}
