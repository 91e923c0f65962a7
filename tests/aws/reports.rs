//! The reporter function's handler against the emulator: reports from the S3 snapshot, the
//! cost store and the resource table's history, written to the report table with `ttl`,
//! read back by the reports pages.

use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use polo_aws::{
    DynamoDataService, ReportTable, ResourceItem, ResourceTable, S3CostReader, S3SnapshotReader, S3Store,
    s3_client,
};
use polo_core::FixedClock;
use polo_core::config::Config;
use polo_core::model::{Change, CostStore, Everything};
use polo_core::ports::{COSTS_KEY, MemoryFindings, ReportStore, SNAPSHOT_KEY, SecretSource as _, SyncStore};
use polo_core::reports::ReportType;
use polo_core::sample::{Scale, generate_with_costs};
use polo_reporter::{State, handle};
use serde_json::json;
use time::Duration;
use time::macros::datetime;

use crate::fleet::{create_bucket, create_resource_table};
use crate::harness::{base_config, emulator, fresh_name};

const NOW: time::OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

pub async fn create_report_table(config: &aws_config::SdkConfig, table: &str) {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .unwrap()
    };
    let key =
        |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().unwrap();
    aws_sdk_dynamodb::Client::new(config)
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .unwrap();
}

/// Bucket, resource table and report table names; the snapshot, its history, its costs.
type World = (String, String, String, Everything, Vec<Change>, CostStore);

/// A reporter's world in the emulator: a fresh data bucket holding the sample's snapshot
/// (history taken out, as a sync leaves it) and cost store, and fresh resource and report
/// tables; returns their names, the snapshot and its history.
async fn reporter_world(base: &aws_config::SdkConfig) -> World {
    let (bucket, resources, reports) = (fresh_name("polo-data"), fresh_name("res"), fresh_name("reports"));
    create_bucket(base, &bucket).await;
    create_resource_table(base, &resources).await;
    create_report_table(base, &reports).await;
    let (mut everything, costs) = generate_with_costs(42, Scale::Small, NOW);
    let history = std::mem::take(&mut everything.history);
    let s3 = S3Store::new(s3_client(base), &bucket);
    s3.write_snapshot(serde_json::to_vec(&everything).unwrap()).await.unwrap();
    s3.put(COSTS_KEY, serde_json::to_vec(&costs).unwrap()).await.unwrap();
    (bucket, resources, reports, everything, history, costs)
}

#[tokio::test]
async fn the_reporter_writes_reports_with_ttl_that_the_pages_read() {
    let base = base_config(&emulator()).await;
    // The sample as a sync leaves it: snapshot and cost store in S3, history in the table.
    let (bucket, resources, reports, everything, history, _) = reporter_world(&base).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&base);
    let table = ResourceTable::new(dynamo.clone(), &resources);
    let items: Vec<ResourceItem> =
        everything.instances.iter().cloned().map(|i| ResourceItem::of_instance(i, NOW)).collect();
    table.put_resources(items, &history).await.unwrap();

    let store = Arc::new(ReportTable::new(dynamo.clone(), &reports));
    let state = State {
        fleet: Arc::new(S3SnapshotReader::new(
            s3_client(&base),
            &bucket,
            SNAPSHOT_KEY,
            std::time::Duration::ZERO,
        )),
        costs: Arc::new(S3CostReader::new(s3_client(&base), &bucket, std::time::Duration::ZERO)),
        usage: Arc::new(polo_aws::S3DocumentReader::<polo_core::model::UsageLedger>::new(
            s3_client(&base),
            &bucket,
            std::time::Duration::ZERO,
        )),
        metrics: Arc::new(polo_aws::S3DocumentReader::<polo_core::model::MetricsDocument>::new(
            s3_client(&base),
            &bucket,
            std::time::Duration::ZERO,
        )),
        changes: Arc::new(DynamoDataService::new(table.clone())),
        findings: Arc::new(MemoryFindings::default()),
        store: store.clone(),
        config: Config::bundled().unwrap(),
        clock: Arc::new(FixedClock(NOW)),
        delivery: polo_slack::Delivery::none("https://polo.example.com"),
    };

    // A rule's constant input: one type; a scheduled event: every type.
    let one = handle(&state, json!({"type": "daily-cost"}), std::time::Duration::MAX).await.unwrap();
    assert_eq!((one.reports.len(), one.reports[0].outcome), (1, "stored"));
    assert_eq!(one.reports[0].period, "2026-11-23");
    let again = handle(&state, json!({"type": "daily-cost"}), std::time::Duration::MAX).await.unwrap();
    assert_eq!(again.reports[0].outcome, "unchanged", "a repeated delivery changes nothing");
    let scheduled =
        json!({"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}});
    let all = handle(&state, scheduled, std::time::Duration::MAX).await.unwrap();
    assert_eq!(all.reports.len(), 5);
    assert_eq!(
        handle(&state, json!({"type": "nosuch"}), std::time::Duration::MAX)
            .await
            .unwrap_err()
            .split(':')
            .next(),
        Some("unknown report type \"nosuch\"")
    );

    let malformed = handle(&state, json!({"type": 5}), std::time::Duration::MAX).await.unwrap_err();
    assert!(malformed.starts_with("reporter request: invalid type"), "{malformed}");

    // The item: key, ttl as epoch seconds of expires_at, the body as maps and lists.
    let item = dynamo
        .get_item()
        .table_name(&reports)
        .key("pk", AttributeValue::S("report#daily-cost".into()))
        .key("sk", AttributeValue::S("2026-11-23".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let expires = NOW + Duration::days(35);
    assert_eq!(item["ttl"], AttributeValue::N(expires.unix_timestamp().to_string()));
    assert!(matches!(item["body"], AttributeValue::M(_)));

    // Inventory changes came from the table's history (one Query on `by-day` per day of the period).
    let changes = store.get(ReportType::InventoryChanges, "2026-11-23", NOW).await.unwrap().unwrap();
    let expected = history.iter().filter(|c| c.at.date() == time::macros::date!(2026 - 11 - 23)).count();
    assert_eq!(changes.body.sections[0].rows.len() + changes.body.sections[0].more, expected);

    // Read back as the reports function does; past expires_at a report is gone for readers
    // although the emulator (like DynamoDB, for up to days) still holds the item.
    let all = store.list(&polo_core::ports::ReportFilter::default(), NOW).await.unwrap();
    assert_eq!(all.len(), 5);
    // The list's heads come by a projection, without the bodies, and say the same.
    let heads = store.heads(&polo_core::ports::ReportFilter::default(), NOW).await.unwrap();
    assert_eq!(heads, all.iter().map(polo_core::reports::Report::head).collect::<Vec<_>>());
    let daily = polo_core::ports::ReportFilter { kind: Some(ReportType::DailyCost), period: None };
    assert!(store.heads(&daily, NOW).await.unwrap().iter().all(|h| h.kind == ReportType::DailyCost));
    assert!(store.heads(&polo_core::ports::ReportFilter::default(), expires).await.unwrap().len() < 5);
    assert!(store.get(ReportType::DailyCost, "2026-11-23", expires).await.unwrap().is_none());
    // The newest of each type, as `/` asks for it: the expired daily reports drop out.
    let latest = store.latest(NOW).await.unwrap();
    assert_eq!(latest.len(), 5);
    assert_eq!((latest[0].kind, latest[0].period.as_str()), (ReportType::DailyCost, "2026-11-23"));
    let later = store.latest(expires).await.unwrap();
    assert!(later.iter().all(|r| !matches!(r.kind, ReportType::DailyCost)), "{later:?}");
    let daily = store.get(ReportType::DailyCost, "2026-11-23", NOW).await.unwrap().unwrap();
    store.mark_sent(&daily, NOW).await.unwrap();
    let sent_at =
        || async { store.get(ReportType::DailyCost, "2026-11-23", NOW).await.unwrap().unwrap().sent_at };
    assert_eq!(sent_at().await, Some(NOW));
    // Marked once only: a second mark (another run) and a mark of a replaced version change nothing.
    store.mark_sent(&daily, NOW + Duration::hours(1)).await.unwrap();
    let mut replaced = daily.clone();
    replaced.generated_at = NOW - Duration::hours(1);
    store.mark_sent(&replaced, NOW + Duration::hours(2)).await.unwrap();
    assert_eq!(sent_at().await, Some(NOW));

    let app_state = crate::snapshot_s3::state_over(
        Arc::new(polo_core::ports::LocalDataService::from_snapshot(everything)),
        NOW,
    )
    .with_reports(store);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, polo::app(app_state)).await.unwrap() });
    let list: serde_json::Value =
        reqwest::get(format!("http://{address}/reports?format=json")).await.unwrap().json().await.unwrap();
    assert_eq!(list["total"], 5);
    let page = reqwest::get(format!("http://{address}/reports/monthly-close/2026-10")).await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
}

#[tokio::test]
async fn the_deployed_reporter_counts_the_findings_the_cop_keeps_in_the_report_table() {
    let base = base_config(&emulator()).await;
    let (bucket, resources, reports, everything, _, costs) = reporter_world(&base).await;

    // The Cop's run, kept where the deployed Cop keeps it: the report table.
    let config = Config::bundled().unwrap();
    let kept = polo_aws::FindingTable::new(aws_sdk_dynamodb::Client::new(&base), &reports);
    let fleet = polo_core::ports::LocalDataService::from_snapshot(everything);
    let cost_reader = polo_core::ports::InMemoryCosts(Arc::new(costs));
    let sources = polo_core::cop::CopSources::new(&fleet, &cost_reader, &kept, &config);
    let run = polo_core::cop::run_cop(&sources, NOW, false).await.unwrap();
    let open = run.findings.iter().filter(|f| f.resolved_at.is_none()).count();
    assert!(open > 0);

    // The reporter as `main` builds it, from its environment: the webhook's URL is in
    // Secrets Manager, and the function has only the secret's ARN. Created empty (the
    // placeholder CloudFormation generates), the secret reads as unset: nothing is sent.
    let (slack, webhook_url) = polo_tests::fake_slack::FakeSlack::start(&[]).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&base);
    let secret = secrets
        .create_secret()
        .name(fresh_name("polo-slack-webhook"))
        .secret_string("xZ8#generated-placeholder")
        .send()
        .await
        .unwrap();
    let arn = secret.arn.unwrap();
    let env: std::collections::HashMap<&str, String> = [
        ("DATA_BUCKET_NAME", bucket.clone()),
        ("DYNAMODB_TABLE_NAME", resources.clone()),
        ("DYNAMODB_REPORT_TABLE_NAME", reports.clone()),
        ("PUBLIC_URL", "https://polo.example.com".to_owned()),
        ("SLACK_WEBHOOK_SECRET_ARN", arn.clone()),
    ]
    .into_iter()
    .collect();
    let lookup = |name: &str| env.get(name).cloned();
    let stores = polo_aws::stores(&polo_aws::AwsEnv::from_lookup(lookup).unwrap(), &base);
    let unset = polo_slack::Delivery::from_lookup(lookup, polo_aws::slack_webhook_secret(lookup, &base));
    assert!(unset.webhook().await.unwrap().is_none(), "a placeholder is no webhook");
    let (cached, uncached) = (
        polo_aws::ManagedSecret::new(secrets.clone(), &arn, polo_aws::SECRET_CACHE, polo_aws::is_webhook_url),
        polo_aws::ManagedSecret::new(
            secrets.clone(),
            &arn,
            std::time::Duration::ZERO,
            polo_aws::is_webhook_url,
        ),
    );
    assert_eq!((cached.value().await.unwrap(), uncached.value().await.unwrap()), (None, None));
    secrets.put_secret_value().secret_id(&arn).secret_string(&webhook_url).send().await.unwrap();
    // A rotated value is read once the cache time has passed, not before.
    assert_eq!(cached.value().await.unwrap(), None);
    assert_eq!(uncached.value().await.unwrap().as_deref(), Some(webhook_url.as_str()));
    assert_eq!(cached.name(), arn, "named by its ARN, never its value");
    let delivery = polo_slack::Delivery::from_lookup(lookup, polo_aws::slack_webhook_secret(lookup, &base));
    let state =
        State::new(&stores, Config::from_lookup(lookup).unwrap(), Arc::new(FixedClock(NOW)), delivery);
    let summary = handle(&state, json!({"type": "weekly-summary"}), std::time::Duration::MAX).await.unwrap();
    assert_eq!(summary.reports[0].outcome, "stored");
    assert!(summary.slack.as_ref().is_some_and(|s| s.sent > 0), "{:?}", summary.slack);
    assert!(!slack.received().is_empty(), "the reports reached the webhook the secret names");
    let week = state.store.get(ReportType::WeeklySummary, "2026-W47", NOW).await.unwrap().unwrap();
    let counted = week.body.facts.iter().find(|f| f.label == "Open findings").map(|f| f.value.clone());
    assert_eq!(counted, Some(open.to_string()), "the weekly summary counts the Cop's open findings");
    assert!(week.body.headline.contains(&format!("{open} findings open")), "{}", week.body.headline);

    let missing = polo_aws::AwsEnv::from_lookup(|name| {
        ["DATA_BUCKET_NAME", "DYNAMODB_TABLE_NAME"].contains(&name).then(|| "x".to_owned())
    });
    assert_eq!(missing.unwrap_err().to_string(), "DYNAMODB_REPORT_TABLE_NAME: required");
}
