use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_ec2::types::Tag;
use polo_aws::{DynamoDataService, ResourceTable};
use polo_core::model::{AccountKind, ChangeKind, ResourceKind};
use polo_core::ports::{LocalDataService, LocalStore, ResourceReader, SyncStore};
use polo_sync_engine::{Combined, Previous, Reach, SyncPlan, apply_to_table, combine, sync};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::fleet::{
    create_registry_with, create_resource_table, dynamo, ec2, launch, put_items, registry_item,
};
use crate::harness::{account, base_config, config_with, emulator, fresh_account_id, fresh_name, in_account};

const T1: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

struct Run {
    config: polo_core::config::Config,
    plan: SyncPlan,
    store: Arc<LocalStore>,
    table: ResourceTable,
    base: aws_config::SdkConfig,
    snapshot: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Run {
    /// One sync, combined both ways: into the local snapshot and into the resource table.
    async fn once(&self, now: OffsetDateTime) -> Combined {
        let outcomes = sync(&self.plan, &self.base, self.store.clone(), now).await;
        assert!(outcomes.iter().all(|o| o.error.is_none()), "{outcomes:?}");
        let previous = match self.store.read_snapshot().await.unwrap() {
            Some(bytes) => Previous::from_snapshot(serde_json::from_slice(&bytes).unwrap()),
            None => Previous::default(),
        };
        let combined = combine(&self.config, self.store.as_ref(), previous, now).await;
        self.store.write_snapshot(serde_json::to_vec(&combined.everything).unwrap()).await.unwrap();
        let from_table = Previous::from_table(&self.table).await.unwrap();
        let for_table = combine(&self.config, self.store.as_ref(), from_table.clone(), now).await;
        assert_eq!(for_table.changes, combined.changes, "the table and the snapshot see the same changes");
        apply_to_table(&self.table, &for_table, &from_table, now).await.unwrap();
        combined
    }
}

#[tokio::test]
async fn two_syncs_record_exactly_what_changed() {
    let base = base_config(&emulator()).await;
    let id = fresh_account_id(410);
    let acct = account("gamma", &id, AccountKind::Dev, &["us-east-1"]);
    let cfg = in_account(&base, &id).await;
    let launched = launch(&cfg, "us-east-1", 4, "m6i.large", &[("owner", "alice")], false).await;
    let ids: Vec<&str> = launched.iter().map(|i| i.instance_id().unwrap()).collect();
    let (stopped, retagged, terminated, untouched) = (ids[0], ids[1], ids[2], ids[3]);
    create_registry_with(
        &cfg,
        "us-east-1",
        "marqo-indexes",
        vec![
            registry_item("idx-h1", "one", "acme", "READY"),
            registry_item("idx-h2", "two", "acme", "READY"),
        ],
    )
    .await;
    let table_name = fresh_name("polo-history");
    create_resource_table(&base, &table_name).await;
    let config = config_with(vec![acct]);
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("local_data.json");
    let run = Run {
        plan: SyncPlan::all(&config, 2, Reach::Roles),
        config,
        store: Arc::new(LocalStore::new(dir.path().join("sync"), &snapshot)),
        table: ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name),
        base: base.clone(),
        snapshot: snapshot.clone(),
        _dir: dir,
    };

    let first = run.once(T1).await;
    assert_eq!(first.changes.len(), 6);
    assert!(first.changes.iter().all(|c| c.what == ChangeKind::Appeared && c.at == T1));

    let client = ec2(&cfg, "us-east-1");
    client.stop_instances().instance_ids(stopped).send().await.unwrap();
    client
        .create_tags()
        .resources(retagged)
        .tags(Tag::builder().key("owner").value("bob").build())
        .send()
        .await
        .unwrap();
    client.terminate_instances().instance_ids(terminated).send().await.unwrap();
    let registry = dynamo(&cfg, "us-east-1");
    registry
        .delete_item()
        .table_name("marqo-indexes")
        .key("index_id", AttributeValue::S("idx-h1".into()))
        .send()
        .await
        .unwrap();
    put_items(&cfg, "us-east-1", "marqo-indexes", vec![registry_item("idx-h2", "two", "acme", "MODIFYING")])
        .await;

    let t2 = T1 + Duration::hours(1);
    let second = run.once(t2).await;
    let mut seen: Vec<(String, ChangeKind)> =
        second.changes.iter().map(|c| (c.id.clone(), c.what.clone())).collect();
    seen.sort_by(|a, b| a.0.cmp(&b.0));
    let mut want = vec![
        ("idx-h1".to_owned(), ChangeKind::Vanished),
        ("idx-h2".to_owned(), ChangeKind::StateChanged { from: "READY".into(), to: "MODIFYING".into() }),
        (stopped.to_owned(), ChangeKind::StateChanged { from: "running".into(), to: "stopped".into() }),
        (
            retagged.to_owned(),
            ChangeKind::OwnerChanged { from: Some("alice".into()), to: Some("bob".into()) },
        ),
        (terminated.to_owned(), ChangeKind::StateChanged { from: "running".into(), to: "terminated".into() }),
    ];
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(seen, want);
    assert!(second.changes.iter().all(|c| c.at == t2));
    assert!(!second.changes.iter().any(|c| c.id == untouched));

    // An index's history is under its key: (id, account, region).
    let h1_key = second.changes.iter().find(|c| c.id == "idx-h1").unwrap().key().into_owned();
    assert!(h1_key.starts_with("idx-h1#"), "{h1_key}");
    // Both stores tell the same history.
    let local = LocalDataService::from_file(&run.snapshot).unwrap();
    let dynamo_service =
        DynamoDataService::new(ResourceTable::new(aws_sdk_dynamodb::Client::new(&base), &table_name));
    for reader in [&local as &dyn ResourceReader, &dynamo_service] {
        let h = reader.history(ResourceKind::Instances, stopped).await.unwrap();
        let kinds: Vec<(&ChangeKind, OffsetDateTime)> = h.iter().map(|c| (&c.what, c.at)).collect();
        assert_eq!(
            kinds,
            vec![
                (&ChangeKind::Appeared, T1),
                (&ChangeKind::StateChanged { from: "running".into(), to: "stopped".into() }, t2),
            ]
        );
        assert!(reader.indexes("idx-h1").await.unwrap().is_empty(), "a vanished index is gone from reads");
        assert_eq!(reader.history(ResourceKind::Indexes, &h1_key).await.unwrap().len(), 2);
    }

    // The detail page shows it.
    let app = polo::app(crate::snapshot_s3::state_over(Arc::new(local), t2));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/instances/{stopped}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let page = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(page.contains("state running → stopped"), "history on the detail page");
    assert!(page.contains("appeared"));

    // What vanished and is seen again came back.
    put_items(&cfg, "us-east-1", "marqo-indexes", vec![registry_item("idx-h1", "one", "acme", "READY")])
        .await;
    let third = run.once(t2 + Duration::hours(1)).await;
    assert_eq!(third.changes.len(), 1);
    assert_eq!((third.changes[0].id.as_str(), &third.changes[0].what), ("idx-h1", &ChangeKind::CameBack));
    assert_eq!(dynamo_service.indexes("idx-h1").await.unwrap().len(), 1);
}
