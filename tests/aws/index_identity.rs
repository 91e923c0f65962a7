//! An index is (account, region, index_id): two accounts whose registries hold the same id
//! sync without error, keep both in the table, each with its own account, and the id's page
//! offers both. Nothing on the way Scans a table of Polo's (a proxy counts the calls), and the
//! reports' history reads Query only the days they cover. A table of the old layout (indexes
//! keyed by id alone, vanished resources in `by-kind`) is relaid by the first sync.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use polo_aws::{DynamoDataService, ResourceItem, ResourceTable, S3Store, s3_client};
use polo_core::FixedClock;
use polo_core::model::{AccountKind, ChangeKind, ResourceKind};
use polo_core::ports::{ChangeReader, LocalDataService, ResourceReader, SyncStore, parse_snapshot};
use polo_sync::Outcome;
use time::macros::datetime;

use crate::fleet::{create_bucket, create_registry_with, create_resource_table, launch, registry_item};
use crate::harness::{
    BUDGET, account, base_config, config_with, emulator, fresh_account_id, fresh_name, in_account,
};
use crate::proxy::Proxy;

const EVENT: &str = r#"{
    "version": "0", "id": "ID", "detail-type": "Scheduled Event", "source": "aws.events",
    "account": "123456789012", "time": "2026-11-24T12:00:00Z", "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/polo-sync"], "detail": {}
}"#;

/// The registry table of every account: the one table a sync Scans (it is the source).
const REGISTRY: &str = "marqo-indexes";

#[tokio::test]
async fn the_same_index_id_in_two_accounts_is_two_indexes_and_nothing_scans() {
    let proxy = Proxy::start(&emulator()).await;
    let base = base_config(&proxy.url).await;
    let (one, two) = (fresh_account_id(514), fresh_account_id(515));
    for id in [&one, &two] {
        let cfg = in_account(&base, id).await;
        create_registry_with(
            &cfg,
            "us-east-1",
            REGISTRY,
            vec![
                registry_item("idx-twice", if id == &one { "golf's" } else { "hotel's" }, "acme", "READY"),
                registry_item(&format!("idx-{id}"), "own", "acme", "READY"),
            ],
        )
        .await;
    }
    // An instance of hotel's idx-twice: its tag resolves in its own account first.
    let hotel = in_account(&base, &two).await;
    let served =
        launch(&hotel, "us-east-1", 1, "m6i.large", &[("marqo-index", "idx-twice"), ("owner", "ann")], false)
            .await;
    let served = served[0].instance_id().unwrap().to_owned();
    let (bucket, table_name) = (fresh_name("polo-dup"), fresh_name("polo-dup-table"));
    create_bucket(&base, &bucket).await;
    create_resource_table(&base, &table_name).await;
    let client = aws_sdk_dynamodb::Client::new(&base);
    let table = ResourceTable::new(client.clone(), &table_name);

    // The old layout: an index keyed by its id alone, with a change under it, and a vanished
    // instance still listed in `by-kind`, without a TTL.
    let t0 = datetime!(2026-11-20 08:00 UTC);
    let old_index = polo_core::model::Index {
        index_id: "idx-old".into(),
        name: "old".into(),
        account: "golf".into(),
        region: "us-east-1".into(),
        customer: "acme".into(),
        status: polo_core::model::IndexStatus::Ready,
        status_since: None,
        inference_type: "CPU.SMALL".into(),
        inference_count: 1,
        storage_class: "BASIC".into(),
        shards: 1,
        replicas: 0,
        marqo_version: "2.0".into(),
        created_at: t0,
    };
    let mut legacy = ResourceItem::of_index(old_index.clone(), t0);
    legacy.pk = "index#idx-old".into();
    legacy.gsi1sk = Some("idx-old".into());
    let mut gone = ResourceItem::of_index(
        polo_core::model::Index { index_id: "idx-gone".into(), ..old_index.clone() },
        t0,
    );
    gone.pk = "index#idx-gone".into();
    gone.gsi1sk = Some("idx-gone".into());
    gone.vanished_at = Some(t0);
    table.put_resources(vec![legacy, gone], &[]).await.unwrap();
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let old_change = [
        ("pk", s("index#idx-old")),
        ("sk", s("history#2026-11-20T08:00:00Z#001")),
        ("at", s("2026-11-20T08:00:00Z")),
        ("resource", s("indexes")),
        ("id", s("idx-old")),
        ("account", s("golf")),
        ("region", s("us-east-1")),
        ("change", s("appeared")),
    ];
    table.write_items(vec![old_change.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()]).await.unwrap();

    let now = datetime!(2026-11-24 12:00 UTC);
    let store = Arc::new(S3Store::new(s3_client(&base), &bucket));
    let state = polo_sync::State {
        config: config_with(vec![
            account("golf", &one, AccountKind::Prod, &["us-east-1"]),
            account("hotel", &two, AccountKind::Staging, &["us-east-1"]),
        ]),
        sdk: base.clone(),
        store: store.clone(),
        table: table.clone(),
        clock: Arc::new(FixedClock(now)),
        costs_source: None,
    };
    for (n, id) in ["eeeeeeee", "ffffffff"].into_iter().enumerate() {
        let event = serde_json::from_str(&EVENT.replace("ID", id)).unwrap();
        let Outcome::Ran(summary) = polo_sync::handle(&state, event, BUDGET).await.unwrap() else {
            panic!("run {n} skipped")
        };
        assert!(summary.failed.is_empty(), "{:?}", summary.failed);
        assert!(
            summary.duplicates.is_empty(),
            "two scopes are two indexes, not a duplicate: {:?}",
            summary.duplicates
        );
        assert_eq!(summary.indexes, 4, "both accounts' indexes listed, each with its own account");
    }
    let snapshot =
        parse_snapshot(&String::from_utf8(store.read_snapshot().await.unwrap().unwrap()).unwrap(), "s3")
            .unwrap();
    let twice: Vec<&str> =
        snapshot.indexes.iter().filter(|x| x.index_id == "idx-twice").map(|x| x.account.as_str()).collect();
    assert_eq!(twice, ["golf", "hotel"]);

    // The table keeps both, each under its own key, and the instance serves hotel's.
    let dynamo = DynamoDataService::new(table.clone());
    let both = dynamo.indexes("idx-twice").await.unwrap();
    assert_eq!(
        both.iter().map(|x| (x.account.as_str(), x.name.as_str())).collect::<Vec<_>>(),
        [("golf", "golf's"), ("hotel", "hotel's")]
    );
    assert!(dynamo.instances_of_index(&both[0]).await.unwrap().is_empty());
    let of_hotel = dynamo.instances_of_index(&both[1]).await.unwrap();
    assert_eq!(of_hotel.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), [served.as_str()]);
    let appeared = dynamo.history(ResourceKind::Indexes, "idx-twice#hotel#us-east-1").await.unwrap();
    assert_eq!(
        appeared.iter().map(|c| (&c.account, &c.what)).collect::<Vec<_>>(),
        [(&"hotel".to_owned(), &ChangeKind::Appeared)]
    );

    // The old layout is relaid: idx-old (its registry no longer lists it, so it vanished in
    // the first run) under its new key with its history, the old key a marker that expires
    // at once; idx-gone out of `by-kind`, with a TTL.
    let get = |pk: &str| {
        let client = client.clone();
        let (table_name, pk) = (table_name.clone(), pk.to_owned());
        async move {
            client
                .get_item()
                .table_name(table_name)
                .key("pk", AttributeValue::S(pk))
                .key("sk", AttributeValue::S("resource".into()))
                .send()
                .await
                .unwrap()
                .item
                .unwrap_or_default()
        }
    };
    let has = |item: &std::collections::HashMap<String, AttributeValue>, names: &[&str]| {
        names.iter().map(|n| item.contains_key(*n)).collect::<Vec<_>>()
    };
    let marker = get("index#idx-old").await;
    assert_eq!(marker.get("moved_to"), Some(&s("index#idx-old#golf#us-east-1")));
    assert_eq!(has(&marker, &["index", "gsi1pk", "ttl"]), [false, false, true], "{marker:?}");
    let moved = get("index#idx-old#golf#us-east-1").await;
    assert_eq!(
        has(&moved, &["index", "vanished_at", "gsi1pk", "ttl"]),
        [true, true, false, true],
        "vanished (its scope was pulled and no longer lists it), out of by-kind, with a TTL: {moved:?}"
    );
    let history = dynamo.history(ResourceKind::Indexes, "idx-old#golf#us-east-1").await.unwrap();
    assert_eq!(
        history.iter().map(|c| &c.what).collect::<Vec<_>>(),
        [&ChangeKind::Appeared, &ChangeKind::Vanished]
    );
    let relaid_gone = get("index#idx-gone#golf#us-east-1").await;
    assert_eq!(has(&relaid_gone, &["index", "vanished_at", "gsi1pk", "ttl"]), [true, true, false, true]);
    assert_eq!(has(&get("index#idx-gone").await, &["index", "moved_to"]), [false, true]);

    // The id's page offers both; `account` and `region` open one.
    let mut app_state =
        crate::snapshot_s3::state_over(Arc::new(LocalDataService::from_snapshot(snapshot)), now);
    app_state.resources = Arc::new(DynamoDataService::new(table.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, polo::app(app_state)).await.unwrap() });
    let page = reqwest::get(format!("{url}/indexes/idx-twice")).await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("id=\"index-scopes\""), "{page}");
    assert!(page.contains("/indexes/idx-twice?account=golf&amp;region=us-east-1"));
    assert!(page.contains("/indexes/idx-twice?account=hotel&amp;region=us-east-1"));
    let json: serde_json::Value =
        reqwest::get(format!("{url}/indexes/idx-twice?format=json")).await.unwrap().json().await.unwrap();
    assert_eq!(json["total"], 2, "{json}");
    let one_page =
        reqwest::get(format!("{url}/indexes/idx-twice?account=hotel&region=us-east-1")).await.unwrap();
    assert_eq!(one_page.status(), 200);
    let one_page = one_page.text().await.unwrap();
    assert!(one_page.contains("hotel&#39;s") || one_page.contains("hotel's"), "{one_page}");
    assert!(one_page.contains(&served), "its instance is listed");
    assert!(one_page.contains("This id is also in"), "and it says another index shares the id");
    let hotel_json: serde_json::Value =
        reqwest::get(format!("{url}/indexes/idx-twice?account=hotel&format=json"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(hotel_json["account"], "hotel");
    assert_eq!(hotel_json["instances"], serde_json::json!([served]));
    let nowhere = reqwest::get(format!("{url}/indexes/idx-twice?account=india")).await.unwrap();
    assert_eq!(nowhere.status(), 404);
    let instance = reqwest::get(format!("{url}/instances/{served}")).await.unwrap().text().await.unwrap();
    assert!(
        instance.contains("/indexes/idx-twice?account=hotel&amp;region=us-east-1"),
        "the instance links its own index"
    );

    // A week of history for the reports: one Query per day on `by-day`.
    let before = proxy.faults.dynamo_calls_of("Query").len();
    let week = dynamo
        .changes_between(datetime!(2026-11-18 00:00 UTC), datetime!(2026-11-25 00:00 UTC))
        .await
        .unwrap();
    assert!(week.iter().any(|c| c.id == "idx-twice" && c.account == "hotel"));
    let queries = proxy.faults.dynamo_calls_of("Query");
    assert_eq!(
        queries.len() - before,
        7 * polo_aws::DAY_SHARDS as usize,
        "one Query per day of the week and shard"
    );
    assert!(queries[before..].iter().all(|q| q.index == polo_aws::BY_DAY));

    // Nothing on the way Scanned a table of Polo's.
    let scans: Vec<_> =
        proxy.faults.dynamo_calls_of("Scan").into_iter().filter(|c| c.table != REGISTRY).collect();
    assert!(scans.is_empty(), "{scans:?}");
    assert!(!proxy.faults.dynamo_calls_of("Query").is_empty(), "the proxy saw the calls");
}

#[tokio::test]
async fn the_table_upgrade_gives_old_history_its_day_keys_and_vanished_resources_a_ttl() {
    let base = base_config(&emulator()).await;
    let table_name = fresh_name("polo-upgrade");
    create_resource_table(&base, &table_name).await;
    let client = aws_sdk_dynamodb::Client::new(&base);
    let table = ResourceTable::new(client.clone(), &table_name);
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let put = |fields: Vec<(&str, AttributeValue)>| {
        let (client, table_name) = (client.clone(), table_name.clone());
        let item: std::collections::HashMap<String, AttributeValue> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        async move { client.put_item().table_name(table_name).set_item(Some(item)).send().await.unwrap() }
    };
    let change = |pk: &str, id: &str, resource: &str| {
        vec![
            ("pk", s(pk)),
            ("sk", s("history#2026-11-23T09:00:00Z#002")),
            ("at", s("2026-11-23T09:00:00Z")),
            ("resource", s(resource)),
            ("id", s(id)),
            ("account", s("golf")),
            ("region", s("us-east-1")),
            ("change", s("appeared")),
        ]
    };
    // An instance's change written before `by-day`; an index's under its old key (the sync
    // relays that one); a vanished instance without a TTL.
    put(change("instance#i-0old", "i-0old", "instances")).await;
    put(change("index#idx-old", "idx-old", "indexes")).await;
    let mut gone = ResourceItem::of_instance(
        polo_core::sample::generate(1, polo_core::sample::Scale::Small, datetime!(2026-11-24 12:00 UTC))
            .instances[0]
            .clone(),
        datetime!(2026-11-20 12:00 UTC),
    )
    .vanished(datetime!(2026-11-20 12:00 UTC));
    gone.ttl = None;
    table.write_items(vec![gone.to_item().unwrap()]).await.unwrap();

    let week = (datetime!(2026-11-22 00:00 UTC), datetime!(2026-11-24 00:00 UTC));
    let dynamo = DynamoDataService::new(table.clone());
    assert!(dynamo.changes_between(week.0, week.1).await.unwrap().is_empty(), "not in by-day yet");
    let dry = table.upgrade(true).await.unwrap();
    assert_eq!((dry.history, dry.vanished), (1, 1), "{dry:?}");
    assert!(dynamo.changes_between(week.0, week.1).await.unwrap().is_empty(), "a dry run writes nothing");
    let done = table.upgrade(false).await.unwrap();
    assert_eq!((done.history, done.vanished), (1, 1));
    let found = dynamo.changes_between(week.0, week.1).await.unwrap();
    assert_eq!(
        found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["i-0old"],
        "the index's old-key history is the sync's to move"
    );
    assert_eq!(
        dynamo.history(ResourceKind::Instances, "i-0old").await.unwrap().len(),
        1,
        "rewritten in place, not copied"
    );
    let again = table.upgrade(false).await.unwrap();
    assert_eq!((again.history, again.vanished), (0, 0), "a second run finds nothing left: {again:?}");
}
