//! The daily metrics pull against the emulator's CloudWatch: seeded with `PutMetricData` in
//! a fleet account, read back with `GetMetricData` through that account's assumed role (the
//! emulator keeps metrics per account, so the base credentials would read nothing), in more
//! than one request of at most 500 queries; a region whose role may not read CloudWatch is
//! reported and the rest still pulled.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
use polo_core::model::{AccountKind, Everything, Fleet, IndexStatus, InstanceState, index_key};
use polo_core::pricing::PriceTable;
use polo_core::utilization::plan::{MAX_QUERIES, plan};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::harness::{account, base_config, config_with, emulator, fresh_account_id, in_account};
use crate::proxy::Proxy;

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

/// Running instances enough for more than one request (4 queries each: CPU, network in and
/// out, memory; a fifth, GPU, on a GPU type), all in `account` and the two regions, and one
/// ready index in us-east-1.
fn fleet(account: &str, account_id: &str) -> Everything {
    let mut everything = polo_core::sample::generate_all(42, polo_core::sample::Scale::Small, NOW).everything;
    everything.instances.retain(|i| i.state == InstanceState::Running);
    everything.instances.truncate(140);
    assert!(everything.instances.len() * 4 > MAX_QUERIES, "{}", everything.instances.len());
    for (n, i) in everything.instances.iter_mut().enumerate() {
        i.account = account.into();
        i.account_id = account_id.into();
        i.region = if n < 135 { "us-east-1" } else { "eu-west-1" }.into();
        i.index = None;
    }
    everything.indexes.retain(|x| x.status == IndexStatus::Ready);
    everything.indexes.truncate(1);
    let index = &mut everything.indexes[0];
    index.account = account.to_owned();
    index.region = "us-east-1".to_owned();
    everything
}

fn datum(name: &str, dimension: (&str, &str), at: OffsetDateTime, value: f64) -> MetricDatum {
    MetricDatum::builder()
        .metric_name(name)
        .dimensions(Dimension::builder().name(dimension.0).value(dimension.1).build())
        .timestamp(DateTime::from_secs(at.unix_timestamp()))
        .value(value)
        .build()
}

/// Two days of points for each instance: CPU at 03:00 and 15:00 (the day's highest is the
/// later, `10 + n % 40`), network in 1 MB and out 2 MB a day, memory 30 %; the index's
/// queries, 7 and 0.
async fn seed(sdk: &aws_config::SdkConfig, everything: &Everything) {
    // Uncompressed: the SDK gzips PutMetricData, which the translating proxy does not undo.
    let client = aws_sdk_cloudwatch::Client::from_conf(
        aws_sdk_cloudwatch::config::Builder::from(sdk).disable_request_compression(true).build(),
    );
    let day0 = datetime!(2026-11-22 00:00 UTC);
    let mut by_namespace: Vec<(&str, Vec<MetricDatum>)> =
        vec![("AWS/EC2", Vec::new()), ("CWAgent", Vec::new()), ("Marqo/Indexes", Vec::new())];
    for (n, i) in everything.instances.iter().enumerate().filter(|(_, i)| i.region == "us-east-1") {
        let id = ("InstanceId", i.id.as_str());
        #[allow(clippy::cast_precision_loss)]
        let peak = 10.0 + (n % 40) as f64;
        for day in 0..2 {
            let at = day0 + time::Duration::days(day);
            let ec2 = &mut by_namespace[0].1;
            ec2.push(datum("CPUUtilization", id, at + time::Duration::hours(3), 2.0));
            ec2.push(datum("CPUUtilization", id, at + time::Duration::hours(15), peak));
            ec2.push(datum("NetworkIn", id, at + time::Duration::hours(1), 1_000_000.0));
            ec2.push(datum("NetworkOut", id, at + time::Duration::hours(1), 2_000_000.0));
            by_namespace[1].1.push(datum("mem_used_percent", id, at + time::Duration::hours(2), 30.0));
        }
    }
    let index = &everything.indexes[0];
    for (day, queries) in [(0, 7.0), (1, 0.0)] {
        let at = day0 + time::Duration::days(day) + time::Duration::hours(5);
        by_namespace[2].1.push(datum("Queries", ("IndexId", &index.index_id), at, queries));
    }
    for (namespace, data) in by_namespace {
        for chunk in data.chunks(500) {
            client
                .put_metric_data()
                .namespace(namespace)
                .set_metric_data(Some(chunk.to_vec()))
                .send()
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn the_pull_reads_each_instances_days_through_the_fleet_role_in_batches_of_500_and_reports_a_denied_region()
 {
    let proxy = Proxy::start(&emulator()).await;
    let base = base_config(&proxy.url).await;
    let id = fresh_account_id(820);
    let everything = fleet("prod", &id);
    seed(&in_account(&base, &id).await, &everything).await;
    *proxy.faults.deny_metrics_region.lock().unwrap() = Some("eu-west-1".to_owned());
    let mut config = config_with(vec![account("prod", &id, AccountKind::Prod, &["us-east-1", "eu-west-1"])]);
    config.utilization.days = 2;
    config.utilization.idle_min_days = 1;
    config.utilization.dormant_days = 2;
    let prices = PriceTable::configured(&config).unwrap();
    let fleet = Fleet::new(everything);
    let asked = plan(&fleet, &prices, &config.utilization);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_mins(3);

    let doc = polo_sync_engine::metrics::pull(&config, &base, &fleet, &prices, NOW, deadline).await;

    let in_us: usize = asked.iter().filter(|q| q.region == "us-east-1").count();
    assert!(in_us > MAX_QUERIES, "{in_us} queries in one scope: more than one request");
    assert_eq!(doc.requests, 3, "two requests in us-east-1, one refused in eu-west-1");
    assert_eq!(doc.metrics_asked as usize, asked.len());
    assert_eq!(doc.cost().to_string(), "0.01", "{} metrics: a started thousand", doc.metrics_asked);
    assert_eq!(doc.first_day, Some(time::macros::date!(2026 - 11 - 22)));
    assert_eq!(doc.denied.len(), 1);
    assert!(
        doc.denied[0].starts_with("prod eu-west-1:") && doc.denied[0].contains("cloudwatch:GetMetricData"),
        "{:?}",
        doc.denied
    );
    assert_eq!(doc.left, 0, "the denied scope had one request: nothing left to ask");
    assert!(doc.optimizer.is_empty());
    assert_eq!(
        doc.optimizer_unavailable,
        [
            "prod eu-west-1: the account has not opted in to Compute Optimizer",
            "prod us-east-1: the account has not opted in to Compute Optimizer"
        ]
    );
    for (n, i) in fleet.instances().iter().enumerate().filter(|(_, i)| i.region == "us-east-1") {
        let m = doc.instance(&i.id).unwrap_or_else(|| panic!("{} has no metrics", i.id));
        #[allow(clippy::cast_precision_loss)]
        let peak = 10.0 + (n % 40) as f64;
        assert_eq!(m.cpu_max, [Some(peak), Some(peak)], "{}: each day's highest hourly average", i.id);
        let average = f64::midpoint(2.0, peak);
        assert_eq!(m.cpu_avg, [Some(average), Some(average)], "{}: the day's average of its hours", i.id);
        assert_eq!(m.network_bytes, [Some(3_000_000.0), Some(3_000_000.0)], "{}: in plus out", i.id);
        assert_eq!(m.memory_percent, [Some(30.0), Some(30.0)]);
    }
    assert!(
        fleet.instances().iter().filter(|i| i.region == "eu-west-1").all(|i| doc.instance(&i.id).is_none())
    );
    let index = &fleet.indexes()[0];
    assert_eq!(doc.indexes[&index_key(&index.index_id, "prod", "us-east-1")], [Some(7.0), Some(0.0)]);
    // Judged as the sync writes it: an instance whose days average at most 10 % CPU (peaks
    // up to 18 %) is idle.
    let idle = polo_core::utilization::idle_instances(&fleet, &doc, &prices, &config.utilization).count();
    let quiet =
        fleet.instances().iter().enumerate().filter(|(n, i)| i.region == "us-east-1" && n % 40 <= 8).count();
    assert_eq!(idle, quiet);
}

#[tokio::test]
async fn out_of_time_the_pull_asks_nothing_and_says_how_much_is_left() {
    let base = base_config(&emulator()).await;
    let id = fresh_account_id(821);
    let config = config_with(vec![account("prod", &id, AccountKind::Prod, &["us-east-1", "eu-west-1"])]);
    let prices = PriceTable::configured(&config).unwrap();
    let fleet = Fleet::new(fleet("prod", &id));
    let doc =
        polo_sync_engine::metrics::pull(&config, &base, &fleet, &prices, NOW, tokio::time::Instant::now())
            .await;
    assert_eq!(doc.requests, 0);
    assert_eq!(doc.left as usize, plan(&fleet, &prices, &config.utilization).len());
    assert!(polo_sync_engine::metrics::due(Some(&doc), NOW).unwrap_err().contains("asked again from"));
    let later = NOW + polo_sync_engine::metrics::RETRY_AFTER;
    assert!(polo_sync_engine::metrics::due(Some(&doc), later).is_ok(), "left queries: due again");
}

/// Compute Optimizer as AWS documents `GetEC2InstanceRecommendations` (JSON 1.0): two pages
/// of recommendations, the first-ranked option with its estimated monthly savings.
async fn fake_optimizer() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use axum::extract::State;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = std::sync::Arc::new(AtomicUsize::new(0));
    let answer = |State(calls): State<std::sync::Arc<AtomicUsize>>, body: axum::body::Bytes| async move {
        calls.fetch_add(1, Ordering::SeqCst);
        let request: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let recommendation = |id: &str, finding: &str, options: serde_json::Value| {
            serde_json::json!({
                "instanceArn": format!("arn:aws:ec2:us-east-1:111122223333:instance/{id}"),
                "accountId": "111122223333",
                "currentInstanceType": "c6i.2xlarge",
                "finding": finding,
                "lookBackPeriodInDays": 14.0,
                "recommendationOptions": options,
            })
        };
        let page = if request["nextToken"] == "page-2" {
            serde_json::json!({ "instanceRecommendations": [
                recommendation("i-optimized", "Optimized", serde_json::json!([])),
                recommendation("i-not-ours", "Overprovisioned", serde_json::json!([])),
            ]})
        } else {
            serde_json::json!({ "nextToken": "page-2", "instanceRecommendations": [
                recommendation("i-over", "Overprovisioned", serde_json::json!([
                    { "instanceType": "c6i.large", "rank": 2, "performanceRisk": 3.0,
                      "savingsOpportunity": { "savingsOpportunityPercentage": 70.0, "estimatedMonthlySavings": { "currency": "USD", "value": 180.2 } } },
                    { "instanceType": "c6i.xlarge", "rank": 1, "performanceRisk": 1.0,
                      "savingsOpportunity": { "savingsOpportunityPercentage": 50.0, "estimatedMonthlySavings": { "currency": "USD", "value": 124.104 } } },
                ])),
            ]})
        };
        ([("content-type", "application/x-amz-json-1.0")], page.to_string())
    };
    let app = axum::Router::new().fallback(answer).with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

#[tokio::test]
async fn compute_optimizers_advice_is_read_through_the_role_page_by_page_for_our_instances_only() {
    let (url, calls) = fake_optimizer().await;
    let base = base_config(&emulator()).await;
    let role = in_account(&base, &fresh_account_id(822)).await;
    let sdk = role.to_builder().endpoint_url(&url).build();
    let wanted: std::collections::HashSet<&str> = ["i-over", "i-optimized", "i-absent"].into_iter().collect();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_mins(1);
    let advice = polo_sync_engine::optimizer::advice(&sdk, &wanted, deadline).await.unwrap();
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2, "both pages");
    assert_eq!(
        advice.keys().collect::<Vec<_>>(),
        ["i-optimized", "i-over"],
        "not another instance of the account"
    );
    let over = &advice["i-over"];
    assert_eq!(
        (over.finding.as_str(), over.recommended_type.as_deref()),
        ("over-provisioned", Some("c6i.xlarge"))
    );
    assert_eq!(over.monthly_savings.unwrap().to_string(), "124.10", "the first-ranked option, to the cent");
    assert_eq!(over.performance_risk, Some(1.0));
    assert_eq!(
        (advice["i-optimized"].finding.as_str(), advice["i-optimized"].recommended_type.as_deref()),
        ("optimized", None)
    );
}
