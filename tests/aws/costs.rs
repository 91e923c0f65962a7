//! Cost Explorer against the emulator: answers preloaded through moto's own API (each
//! distinct request takes the next queued answer), several pages, accounts and services,
//! untagged spend and a tag naming no index; the cache; a malformed answer.

use polo_core::Money;
use polo_core::costs::{Breakdown, breakdown};
use polo_core::model::{CostDimension, CostMetric, CostStore, Fleet};
use polo_sync_engine::costs::refresh_costs;
use serde_json::{Value, json};
use time::Duration;
use time::macros::datetime;

use crate::harness::{base_config, emulator, fresh_account_id, in_account};

fn day(date: &str, groups: &[(&str, &str)]) -> Value {
    let next = time::Date::parse(date, time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap()
        .next_day()
        .unwrap();
    json!({
        "TimePeriod": { "Start": date, "End": next.to_string() },
        "Total": {},
        "Groups": groups.iter().map(|(k, a)| json!({ "Keys": [k], "Metrics": { "AmortizedCost": { "Amount": a, "Unit": "USD" } } })).collect::<Vec<_>>(),
        "Estimated": false
    })
}

/// The same day, still estimated by Cost Explorer (its newest days are).
#[allow(clippy::needless_pass_by_value)] // built inline by each call
fn estimated(mut day: Value) -> Value {
    day["Estimated"] = json!(true);
    day
}

#[allow(clippy::needless_pass_by_value)] // built inline by each call
fn answer(days: Vec<Value>, next: Option<&str>) -> Value {
    let mut a = json!({ "ResultsByTime": days, "DimensionValueAttributes": [] });
    if let Some(next) = next {
        a["NextPageToken"] = json!(next);
    }
    a
}

async fn preload(account_id: &str, results: Vec<Value>) {
    let url = format!("{}/moto-api/static/ce/cost-and-usage-results", emulator());
    let response = reqwest::Client::new()
        .post(url)
        .json(&json!({ "account_id": account_id, "results": results }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

#[tokio::test]
async fn cost_explorer_pages_groups_and_the_cache() {
    let base = base_config(&emulator()).await;
    let core = fresh_account_id(710);
    preload(
        &core,
        vec![
            // By the index tag: two pages; untagged spend (`marqo-index$`) and a tag naming no index.
            answer(
                vec![day(
                    "2026-11-22",
                    &[
                        ("marqo-index$idx-a", "10.004"),
                        ("marqo-index$", "2.003"),
                        ("marqo-index$idx-gone", "1.003"),
                    ],
                )],
                Some("page-2"),
            ),
            answer(
                vec![estimated(day(
                    "2026-11-23",
                    &[("marqo-index$idx-a", "12.50"), ("marqo-index$", "2.50")],
                ))],
                None,
            ),
            // By linked account.
            answer(
                vec![
                    day("2026-11-22", &[("111111111111", "9.00"), ("222222222222", "4.01")]),
                    day("2026-11-23", &[("111111111111", "10.00"), ("222222222222", "5.00")]),
                ],
                None,
            ),
            // By service.
            answer(
                vec![
                    day(
                        "2026-11-22",
                        &[("Amazon Elastic Compute Cloud - Compute", "11.01"), ("Amazon DynamoDB", "2.00")],
                    ),
                    day(
                        "2026-11-23",
                        &[("Amazon Elastic Compute Cloud - Compute", "13.00"), ("Amazon DynamoDB", "2.00")],
                    ),
                ],
                None,
            ),
        ],
    )
    .await;
    let source = in_account(&base, &core).await;
    let now = datetime!(2026-11-24 12:00 UTC);
    let store = refresh_costs(&source, "marqo-index", CostMetric::Amortized, &CostStore::empty(), 12, now)
        .await
        .unwrap()
        .expect("asked");
    assert_eq!(store.fetched_at, Some(now));
    assert_eq!(store.metric, CostMetric::Amortized, "the default metric, recorded with the numbers");
    assert_eq!(store.as_of().map(|d| d.to_string()).as_deref(), Some("2026-11-23"));
    // Cost Explorer still estimates the newest day: recorded, so pages and rules tell it apart.
    assert_eq!(store.estimated, vec![time::macros::date!(2026 - 11 - 23)]);
    assert_eq!(store.newest_final_day(), Some(time::macros::date!(2026 - 11 - 22)));
    let index = &store.dimensions[&CostDimension::Index];
    assert_eq!(index["idx-a"], vec![1001, 1250], "both pages read; the largest remainder gets the cent");
    assert_eq!(index[""], vec![200, 250]);
    assert_eq!(index["idx-gone"], vec![100, 0], "13.010 in three parts still sums to 13.01");
    assert_eq!(store.dimensions[&CostDimension::Account].len(), 2);
    assert_eq!(store.dimensions[&CostDimension::Service].len(), 2);

    // Against a fleet that knows idx-a only: the rest is unattributed, and every breakdown
    // adds up to the same total.
    let mut everything = polo_core::sample::generate(1, polo_core::sample::Scale::Small, now);
    everything.indexes.truncate(1);
    everything.indexes[0].index_id = "idx-a".into();
    let fleet = Fleet::new(everything);
    let by_index = breakdown(&store, &fleet, Breakdown::Index, now.date());
    assert_eq!(by_index.items.len(), 1);
    assert_eq!(by_index.unattributed.month_to_date, Money::from_scaled(200 + 250 + 100, 2));
    for d in [Breakdown::Account, Breakdown::Service, Breakdown::Customer] {
        assert_eq!(
            breakdown(&store, &fleet, d, now.date()).sum.month_to_date,
            by_index.sum.month_to_date,
            "{d:?}"
        );
    }

    // Younger than cache_hours: not asked again; older: asked again.
    assert!(
        refresh_costs(&source, "marqo-index", CostMetric::Amortized, &store, 12, now + Duration::hours(11))
            .await
            .unwrap()
            .is_none()
    );
    // The metric changed in polo.toml: asked again at once, whatever the cache says.
    let other =
        refresh_costs(&source, "marqo-index", CostMetric::Unblended, &store, 12, now + Duration::hours(1))
            .await
            .unwrap();
    assert_eq!(other.map(|s| s.metric), Some(CostMetric::Unblended));
    let again =
        refresh_costs(&source, "marqo-index", CostMetric::Amortized, &store, 12, now + Duration::hours(13))
            .await
            .unwrap();
    assert!(again.is_some());
}

#[tokio::test]
async fn a_malformed_answer_is_an_error_naming_the_day_and_group() {
    let base = base_config(&emulator()).await;
    let core = fresh_account_id(720);
    preload(&core, vec![answer(vec![day("2026-11-22", &[("marqo-index$idx-a", "lots")])], None)]).await;
    let source = in_account(&base, &core).await;
    let e = refresh_costs(
        &source,
        "marqo-index",
        CostMetric::Amortized,
        &CostStore::empty(),
        12,
        datetime!(2026-11-24 12:00 UTC),
    )
    .await
    .unwrap_err();
    let text = format!("{e:#}");
    assert!(text.contains("2026-11-22") && text.contains("idx-a") && text.contains("not a number"), "{text}");
}
