//! The cop function's handler against the emulator: findings remembered in the report
//! table across runs, and two runs at once judging (and so notifying) once.

use std::sync::Arc;

use polo_aws::{FindingTable, S3CostReader, S3SnapshotReader, S3Store, s3_client};
use polo_cop::{State, handle};
use polo_core::FixedClock;
use polo_core::config::Config;
use polo_core::ports::{COSTS_KEY, Nonces as _, SNAPSHOT_KEY, SyncStore};
use polo_core::sample::{Scale, generate_with_costs};
use time::Duration;
use time::macros::datetime;

use crate::fleet::create_bucket;
use crate::harness::{base_config, emulator, fresh_name};

const NOW: time::OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

fn state(base: &aws_config::SdkConfig, bucket: &str, table: &str, now: time::OffsetDateTime) -> State {
    State {
        fleet: Arc::new(S3SnapshotReader::new(
            s3_client(base),
            bucket,
            SNAPSHOT_KEY,
            std::time::Duration::ZERO,
        )),
        costs: Arc::new(S3CostReader::new(s3_client(base), bucket, std::time::Duration::ZERO)),
        usage: Arc::new(polo_aws::S3DocumentReader::<polo_core::model::UsageLedger>::new(
            s3_client(base),
            bucket,
            std::time::Duration::ZERO,
        )),
        metrics: Arc::new(polo_aws::S3DocumentReader::<polo_core::model::MetricsDocument>::new(
            s3_client(base),
            bucket,
            std::time::Duration::ZERO,
        )),
        findings: Arc::new(FindingTable::new(aws_sdk_dynamodb::Client::new(base), table)),
        config: Config::bundled().unwrap(),
        clock: Arc::new(FixedClock(now)),
        delivery: polo_slack::Delivery::none("https://polo.example.com"),
    }
}

/// A bucket holding the small sample's snapshot and costs, and an empty report table.
async fn seeded(base: &aws_config::SdkConfig) -> (String, String) {
    let (bucket, table) = (fresh_name("polo-data"), fresh_name("reports"));
    create_bucket(base, &bucket).await;
    crate::reports::create_report_table(base, &table).await;
    let (everything, costs) = generate_with_costs(42, Scale::Small, NOW);
    let s3 = S3Store::new(s3_client(base), &bucket);
    s3.write_snapshot(serde_json::to_vec(&everything).unwrap()).await.unwrap();
    s3.put(COSTS_KEY, serde_json::to_vec(&costs).unwrap()).await.unwrap();
    (bucket, table)
}

#[tokio::test]
async fn findings_live_in_the_report_table_and_concurrent_runs_judge_once() {
    let base = base_config(&emulator()).await;
    let (bucket, table) = seeded(&base).await;

    let first = state(&base, &bucket, &table, NOW);
    let run = handle(&first, "run-1", std::time::Duration::MAX).await.unwrap();
    assert!(run.ran);
    assert!(run.open >= 10 && run.new == run.open, "{run:?}");
    let stored = first.findings.all().await.unwrap();
    assert_eq!(stored.len(), run.open);

    // An hour later: the same findings, first seen kept, nothing new.
    let later = state(&base, &bucket, &table, NOW + Duration::hours(1));
    let again = handle(&later, "run-2", std::time::Duration::MAX).await.unwrap();
    assert_eq!((again.ran, again.open), (true, run.open));
    assert_eq!(again.new, run.new, "never notified (no webhook), so still due as new");
    let kept = later.findings.all().await.unwrap();
    assert!(kept.iter().all(|f| f.first_seen == NOW && f.last_seen == NOW + Duration::hours(1)));

    // Two runs at once: one judges, the other finds the lease taken.
    let (a, b) = (
        state(&base, &bucket, &table, NOW + Duration::hours(2)),
        state(&base, &bucket, &table, NOW + Duration::hours(2)),
    );
    let (ra, rb) = tokio::join!(
        handle(&a, "run-a", std::time::Duration::MAX),
        handle(&b, "run-b", std::time::Duration::MAX)
    );
    let ran = [ra.unwrap().ran, rb.unwrap().ran];
    assert_eq!(ran.iter().filter(|r| **r).count(), 1, "{ran:?}");
    // The lease is given back: the next run goes ahead.
    let next = state(&base, &bucket, &table, NOW + Duration::hours(3));
    assert!(handle(&next, "run-3", std::time::Duration::MAX).await.unwrap().ran);
}

#[tokio::test]
async fn a_run_writes_only_the_findings_that_changed_and_moves_old_ones_to_their_shards() {
    let proxy = crate::proxy::Proxy::start(&emulator()).await;
    let base = base_config(&proxy.url).await;
    let (bucket, table) = seeded(&base).await;

    // One finding stored before the shards, under `pk = finding`, already notified.
    let first = state(&base, &bucket, &table, NOW);
    let found = polo_core::cop::run_cop(
        &polo_core::cop::CopSources {
            fleet: first.fleet.as_ref(),
            costs: first.costs.as_ref(),
            store: first.findings.as_ref(),
            config: &first.config,
            usage: Some(first.usage.as_ref()),
            metrics: Some(first.metrics.as_ref()),
        },
        NOW,
        true,
    )
    .await
    .unwrap();
    let old = found
        .findings
        .iter()
        .find(|f| f.resource_kind == polo_core::model::ResourceKind::Instances)
        .unwrap()
        .clone();
    let s = |v: &str| aws_sdk_dynamodb::types::AttributeValue::S(v.to_owned());
    let mut item: std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> = [
        ("pk", s("finding")),
        ("sk", s(&old.id)),
        ("id", s(&old.id)),
        ("rule", s(&old.rule)),
        ("severity", s(old.severity.as_str())),
        ("resource_kind", s(old.resource_kind.as_str())),
        ("resource_id", s(&old.resource_id)),
        ("account", s(&old.account)),
        ("region", s(&old.region)),
        ("message", s(&old.message)),
        ("first_seen", s("2026-11-20T12:00:00Z")),
        ("last_seen", s("2026-11-24T11:00:00Z")),
        ("last_notified", s("2026-11-20T12:00:00Z")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    item.insert("resolved_at".into(), aws_sdk_dynamodb::types::AttributeValue::Null(true));
    let dynamo = aws_sdk_dynamodb::Client::new(&base);
    dynamo.put_item().table_name(&table).set_item(Some(item)).send().await.unwrap();

    let run = handle(&first, "run-1", std::time::Duration::MAX).await.unwrap();
    assert!(run.ran && run.open >= 10, "{run:?}");
    let stored = first.findings.all().await.unwrap();
    assert_eq!(stored.len(), run.open, "the old finding is one of them, once");
    let kept = stored.iter().find(|f| f.id == old.id).unwrap();
    assert_eq!(kept.first_seen, datetime!(2026-11-20 12:00 UTC), "the same finding, moved");
    let marker = dynamo
        .get_item()
        .table_name(&table)
        .key("pk", s("finding"))
        .key("sk", s(&old.id))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(
        marker.contains_key("moved") && marker.contains_key("ttl") && !marker.contains_key("rule"),
        "{marker:?}"
    );

    // An hour later nothing changed but the time: no finding is written, only the run's time.
    let before = proxy.faults.dynamo_writes();
    let later = state(&base, &bucket, &table, NOW + Duration::hours(1));
    let again = handle(&later, "run-2", std::time::Duration::MAX).await.unwrap();
    assert_eq!((again.ran, again.open), (true, run.open));
    let batch_writes: usize =
        proxy.faults.dynamo_calls_of("BatchWriteItem").iter().map(|c| c.writes).sum::<usize>();
    let written = proxy.faults.dynamo_writes() - before;
    // The lease (taken, given back) and the run item.
    let seen = later.findings.all().await.unwrap();
    // Only findings whose message moved with the clock ("DELETING for 12 hours") changed.
    let changed = seen
        .iter()
        .filter(|f| stored.iter().find(|b| b.id == f.id).is_none_or(|b| b.message != f.message))
        .count();
    assert!(changed < run.open / 2, "{changed} of {} changed", run.open);
    // Those, the lease (taken, given back) and the run item.
    assert_eq!(written, changed + 3, "{written} items written");
    assert!(seen.iter().all(|f| f.last_seen == NOW + Duration::hours(1)), "last_seen is the last run's");
    assert!(batch_writes >= run.open, "the first run wrote them all");
    // Notified from its shard.
    later.findings.mark_notified(std::slice::from_ref(&old.id), NOW + Duration::hours(1)).await.unwrap();
    let notified = later.findings.all().await.unwrap().into_iter().find(|f| f.id == old.id).unwrap();
    assert_eq!(notified.last_notified, Some(NOW + Duration::hours(1)));
}

#[tokio::test]
async fn what_people_did_about_a_finding_survives_the_report_table() {
    use polo_core::model::{Exception, Finding, FindingState, Handling, ResourceKind, Severity};
    use polo_core::ports::{FindingStore as _, Which};
    let base = base_config(&emulator()).await;
    let (_, table) = seeded(&base).await;
    let store = FindingTable::new(aws_sdk_dynamodb::Client::new(&base), &table);
    let finding = Finding {
        id: "instance-idle:instances:i-1".into(),
        rule: "instance-idle".into(),
        severity: Severity::Info,
        resource_kind: ResourceKind::Instances,
        resource_id: "i-1".into(),
        account: "prod".into(),
        region: "us-east-1".into(),
        message: "idle".into(),
        first_seen: NOW,
        last_seen: NOW,
        last_notified: Some(NOW),
        resolved_at: None,
        monthly_cost_impact: None,
        handling: Handling {
            acknowledged_by: Some("bob@example.com".into()),
            acknowledged_at: Some(NOW),
            snoozed_until: Some(NOW + time::Duration::days(7)),
            exception: Some(Exception {
                reason: "standby".into(),
                until: Some(time::macros::date!(2027 - 01 - 31)),
                by: "alice@example.com".into(),
            }),
            assignee: Some("carol@example.com".into()),
        },
    };
    store.save(std::slice::from_ref(&finding)).await.unwrap();
    let fresh = FindingTable::new(aws_sdk_dynamodb::Client::new(&base), &table);
    let back = fresh.all().await.unwrap();
    assert_eq!(back, std::slice::from_ref(&finding));
    assert_eq!(back[0].state(NOW), FindingState::Excepted);
    let open = fresh.matching(Which::Open).await.unwrap();
    assert_eq!(open.len(), 1, "excepted is still open: not resolved");
}

#[tokio::test]
async fn the_digest_goes_out_as_the_bot_the_secret_names_and_a_slack_request_is_answered_once() {
    use polo_tests::fake_slack::{self, FakeSlack};
    let base = base_config(&emulator()).await;
    let (bucket, table) = seeded(&base).await;
    let secrets = aws_sdk_secretsmanager::Client::new(&base);
    let mut arns = Vec::new();
    for (name, value) in [
        ("polo-slack-bot-token", fake_slack::BOT_TOKEN),
        ("polo-slack-signing-secret", fake_slack::SIGNING_SECRET),
    ] {
        let made = secrets.create_secret().name(fresh_name(name)).secret_string(value).send().await.unwrap();
        arns.push(made.arn.unwrap());
    }
    let (slack, hook) = FakeSlack::start(&[]).await;
    let env: std::collections::HashMap<&str, String> = [
        ("DATA_BUCKET_NAME", bucket.clone()),
        ("DYNAMODB_TABLE_NAME", fresh_name("resources")),
        ("DYNAMODB_REPORT_TABLE_NAME", table.clone()),
        ("SLACK_BOT_TOKEN_SECRET_ARN", arns[0].clone()),
        ("SLACK_SIGNING_SECRET_ARN", arns[1].clone()),
        ("SLACK_API_URL", slack.api_url()),
    ]
    .into_iter()
    .collect();
    let stores = polo_aws::stores(&polo_aws::AwsEnv::from_lookup(|n| env.get(n).cloned()).unwrap(), &base);
    let read = |s: &Option<Arc<dyn polo_core::ports::SecretSource>>| s.clone().unwrap();
    assert_eq!(
        read(&stores.slack.signing_secret).value().await.unwrap().as_deref(),
        Some(fake_slack::SIGNING_SECRET)
    );

    // The Cop's digest: to the channel, as the bot, with buttons; the webhook hears nothing.
    let mut config = Config::bundled().unwrap();
    config.slack.channel = Some(fake_slack::CHANNEL.into());
    let delivery = polo_slack::Delivery::new(Some(&hook), "https://polo.example.com")
        .unwrap()
        .with_app(&stores.slack, &config.slack);
    let run_state = State { config, delivery, ..state(&base, &bucket, &table, NOW) };
    let run = handle(&run_state, "run-bot", std::time::Duration::MAX).await.unwrap();
    assert!(run.slack && run.sent >= 1 && run.left == 0, "{run:?}");
    assert!(slack.received().is_empty());
    let posted = slack.calls("chat.postMessage");
    assert_eq!(posted.len(), run.sent);
    assert!(posted[0]["blocks"].as_array().unwrap().iter().any(|b| b["type"] == "actions"));
    assert!(run_state.findings.all().await.unwrap().iter().all(|f| f.last_notified == Some(NOW)));

    // One request, two containers: the report table lets one answer it.
    let (a, b) =
        (polo_aws::NonceTable::new(aws_sdk_dynamodb::Client::new(&base), &table), stores.nonces.clone());
    let window = Duration::minutes(10);
    let (first, second) = tokio::join!(
        a.first_time("v0=abc", NOW, window),
        b.first_time("v0=abc", NOW + Duration::seconds(1), window)
    );
    let answered = [first.unwrap(), second.unwrap()];
    assert_eq!(answered.iter().filter(|x| **x).count(), 1, "{answered:?}");
    assert!(!a.first_time("v0=abc", NOW + Duration::minutes(9), window).await.unwrap());
    assert!(
        a.first_time("v0=abc", NOW + Duration::minutes(11), window).await.unwrap(),
        "its window has passed"
    );
    assert!(a.first_time("v0=def", NOW, window).await.unwrap());
}
