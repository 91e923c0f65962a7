//! Cost Explorer against the emulator: answers preloaded through moto's own API (each
//! distinct request takes the next queued answer), several pages, accounts, services and
//! record types, untagged usage and a tag naming no index; the cache; the incremental
//! second refresh; the deadline and the back-off; a malformed answer.

use aws_config::SdkConfig;
use polo_core::Money;
use polo_core::costs::{Breakdown, breakdown};
use polo_core::model::{CostDimension, CostMetric, CostStore, Fleet};
use polo_sync_engine::costs::{RefreshSettings, Refreshed, refresh_costs};
use serde_json::{Value, json};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime};

use crate::harness::{base_config, emulator, fresh_account_id, in_account};

pub(crate) fn day(date: &str, groups: &[(&str, &str)]) -> Value {
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

/// A MONTHLY answer with no grouping: each month's total.
fn months(totals: &[(&str, &str)]) -> Value {
    let results: Vec<Value> = totals
        .iter()
        .map(|(start, amount)| {
            let first =
                time::Date::parse(start, time::macros::format_description!("[year]-[month]-[day]")).unwrap();
            let next = (first + Duration::days(31)).replace_day(1).unwrap();
            json!({
                "TimePeriod": { "Start": start, "End": next.to_string() },
                "Total": { "AmortizedCost": { "Amount": amount, "Unit": "USD" } },
                "Groups": [],
                "Estimated": false
            })
        })
        .collect();
    answer(results, None)
}

/// The same day, still estimated by Cost Explorer (its newest days are).
#[allow(clippy::needless_pass_by_value)] // built inline by each call
pub(crate) fn estimated(mut day: Value) -> Value {
    day["Estimated"] = json!(true);
    day
}

#[allow(clippy::needless_pass_by_value)] // built inline by each call
pub(crate) fn answer(days: Vec<Value>, next: Option<&str>) -> Value {
    let mut a = json!({ "ResultsByTime": days, "DimensionValueAttributes": [] });
    if let Some(next) = next {
        a["NextPageToken"] = json!(next);
    }
    a
}

pub(crate) async fn preload(account_id: &str, results: Vec<Value>) {
    let url = format!("{}/moto-api/static/ce/cost-and-usage-results", emulator());
    let response = reqwest::Client::new()
        .post(url)
        .json(&json!({ "account_id": account_id, "results": results }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

fn settings(metric: CostMetric) -> RefreshSettings {
    RefreshSettings {
        tag_key: "marqo-index".into(),
        metric,
        cache_hours: 12,
        month_final_after_days: 5,
        min_budget: std::time::Duration::from_secs(1),
    }
}

const MINUTES: std::time::Duration = std::time::Duration::from_mins(5);

/// A refresh that is expected to ask and succeed: the store, and the requests it made.
async fn stored(
    source: &SdkConfig,
    metric: CostMetric,
    current: &CostStore,
    now: OffsetDateTime,
) -> (CostStore, Date, bool, u32) {
    match refresh_costs(source, &settings(metric), current, now, MINUTES).await {
        Refreshed::Stored { store, from, whole, requests } => (*store, from, whole, requests),
        other => panic!("expected a refresh, got {other:?}"),
    }
}

#[tokio::test]
async fn cost_explorer_pages_groups_charges_apart_and_the_cache() {
    let base = base_config(&emulator()).await;
    let core = fresh_account_id(710);
    preload(
        &core,
        vec![
            // Usage by the index tag: two pages; untagged usage (`marqo-index$`) and a tag naming no index.
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
            // Usage by linked account.
            answer(
                vec![
                    day("2026-11-22", &[("111111111111", "9.00"), ("222222222222", "4.01")]),
                    day("2026-11-23", &[("111111111111", "10.00"), ("222222222222", "5.00")]),
                ],
                None,
            ),
            // Usage by service.
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
            // The whole bill by record type: usage, and a credit, tax and support apart.
            answer(
                vec![
                    day(
                        "2026-11-22",
                        &[
                            ("Usage", "9.01"),
                            ("SavingsPlanCoveredUsage", "4.00"),
                            ("Credit", "-30.00"),
                            ("Tax", "0.50"),
                        ],
                    ),
                    estimated(day("2026-11-23", &[("Usage", "15.00"), ("Support", "1.00")])),
                ],
                None,
            ),
            // The two indexes whose cost moved most (idx-a, then idx-gone) by usage type, over
            // the compared weeks (Nov 9-22): what `other` is made of.
            answer(
                vec![day(
                    "2026-11-22",
                    &[("USE1-BoxUsage:m6i.large", "8.004"), ("USE1-DataTransfer-Out-Bytes", "2.000")],
                )],
                None,
            ),
            answer(vec![day("2026-11-22", &[("USE1-EBS:VolumeUsage.gp3", "1.003")])], None),
        ],
    )
    .await;
    let source = in_account(&base, &core).await;
    let now = datetime!(2026-11-24 12:00 UTC);
    let (store, from, whole, requests) =
        stored(&source, CostMetric::Amortized, &CostStore::empty(), now).await;
    assert!(whole, "an empty store is pulled whole");
    assert_eq!(from, date!(2025 - 10 - 01));
    assert_eq!(requests, 7, "two pages by index, one for each other grouping, one per index by usage type");
    assert_eq!(store.refresh.requests_in_month(now.date()), 7);
    // The usage types of the indexes that moved most, over the compared weeks.
    let types = &store.usage_types["idx-a"];
    assert_eq!((types.first_day, types.days), (date!(2026 - 11 - 09), 14));
    assert_eq!(types.by_type["USE1-DataTransfer-Out-Bytes"][13], 200);
    assert_eq!(types.by_type["USE1-BoxUsage:m6i.large"][13], 800);
    assert_eq!(store.usage_types["idx-gone"].by_type["USE1-EBS:VolumeUsage.gp3"][13], 100);
    assert_eq!(store.fetched_at, Some(now));
    assert_eq!(store.metric, CostMetric::Amortized, "the default metric, recorded with the numbers");
    assert_eq!(store.as_of().map(|d| d.to_string()).as_deref(), Some("2026-11-23"));
    // Cost Explorer still estimates the newest day: recorded, so pages and rules tell it apart.
    assert_eq!(store.estimated, vec![date!(2026 - 11 - 23)]);
    assert_eq!(store.newest_final_day(), Some(date!(2026 - 11 - 22)));
    let index = &store.dimensions[&CostDimension::Index];
    assert_eq!(index["idx-a"], vec![1001, 1250], "both pages read; the largest remainder gets the cent");
    assert_eq!(index[""], vec![200, 250]);
    assert_eq!(index["idx-gone"], vec![100, 0], "13.010 in three parts still sums to 13.01");
    assert_eq!(store.dimensions[&CostDimension::Account].len(), 2);
    assert_eq!(store.dimensions[&CostDimension::Service].len(), 2);
    assert_eq!(store.dimensions[&CostDimension::Charge].len(), 5);

    // Against a fleet that knows idx-a only: the rest of the usage is unattributed (never the
    // credit), the credit, tax and support are other charges, and every breakdown adds up to
    // the same whole bill.
    let mut everything = polo_core::sample::generate(1, polo_core::sample::Scale::Small, now);
    everything.indexes.truncate(1);
    everything.indexes[0].index_id = "idx-a".into();
    let fleet = Fleet::new(everything);
    let by_index = breakdown(&store, &fleet, Breakdown::Index, now.date());
    assert_eq!(by_index.items.len(), 1);
    assert_eq!(by_index.unattributed.month_to_date, Money::from_scaled(200 + 250 + 100, 2));
    assert_eq!(by_index.other_charges.month_to_date, Money::from_scaled(-3000 + 50 + 100, 2));
    assert_eq!(by_index.sum.month_to_date, Money::from_scaled(1301 + 1500 - 3000 + 50 + 100, 2));
    for d in [Breakdown::Account, Breakdown::Service, Breakdown::Customer, Breakdown::Charge] {
        assert_eq!(
            breakdown(&store, &fleet, d, now.date()).sum.month_to_date,
            by_index.sum.month_to_date,
            "{d:?}"
        );
    }

    // Younger than cache_hours: not asked again.
    assert!(matches!(
        refresh_costs(&source, &settings(CostMetric::Amortized), &store, now + Duration::hours(11), MINUTES)
            .await,
        Refreshed::NotDue { .. }
    ));
    // The metric changed in polo.toml: the whole window asked again at once, whatever the cache says.
    let (other, _, whole, _) = stored(&source, CostMetric::Unblended, &store, now + Duration::hours(1)).await;
    assert_eq!((other.metric, whole), (CostMetric::Unblended, true));
}

#[tokio::test]
async fn a_second_refresh_reads_only_the_days_that_can_change_and_keeps_the_rest() {
    let base = base_config(&emulator()).await;
    let core = fresh_account_id(730);
    let bill = |date: &str, amount: &str| day(date, &[("Usage", amount)]);
    let account = |date: &str, amount: &str| day(date, &[("111111111111", amount)]);
    preload(
        &core,
        vec![
            // The first, whole pull: an October day and two November ones, the newest estimated.
            answer(
                vec![
                    day("2026-10-15", &[("marqo-index$", "7.00")]),
                    day("2026-11-22", &[("marqo-index$", "5.00")]),
                    estimated(day("2026-11-23", &[("marqo-index$", "2.00")])),
                ],
                None,
            ),
            answer(
                vec![
                    account("2026-10-15", "7.00"),
                    account("2026-11-22", "5.00"),
                    estimated(account("2026-11-23", "2.00")),
                ],
                None,
            ),
            answer(
                vec![
                    day("2026-10-15", &[("EC2", "7.00")]),
                    day("2026-11-22", &[("EC2", "5.00")]),
                    estimated(day("2026-11-23", &[("EC2", "2.00")])),
                ],
                None,
            ),
            answer(
                vec![
                    bill("2026-10-15", "7.00"),
                    bill("2026-11-22", "5.00"),
                    estimated(bill("2026-11-23", "2.00")),
                ],
                None,
            ),
            // The second refresh: the closed months as Cost Explorer has them now (October
            // as stored), then November only: the 23rd revised and final, the 24th estimated.
            months(&[("2026-10-01", "7.00")]),
            answer(
                vec![
                    day("2026-11-22", &[("marqo-index$", "5.00")]),
                    day("2026-11-23", &[("marqo-index$", "6.00")]),
                    estimated(day("2026-11-24", &[("marqo-index$", "1.00")])),
                ],
                None,
            ),
            answer(
                vec![
                    account("2026-11-22", "5.00"),
                    account("2026-11-23", "6.00"),
                    estimated(account("2026-11-24", "1.00")),
                ],
                None,
            ),
            answer(
                vec![
                    day("2026-11-22", &[("EC2", "5.00")]),
                    day("2026-11-23", &[("EC2", "6.00")]),
                    estimated(day("2026-11-24", &[("EC2", "1.00")])),
                ],
                None,
            ),
            answer(
                vec![
                    bill("2026-11-22", "5.00"),
                    bill("2026-11-23", "6.00"),
                    estimated(bill("2026-11-24", "1.00")),
                ],
                None,
            ),
        ],
    )
    .await;
    let source = in_account(&base, &core).await;
    let first_at = datetime!(2026-11-24 06:00 UTC);
    let (first, _, whole, requests) =
        stored(&source, CostMetric::Amortized, &CostStore::empty(), first_at).await;
    assert_eq!((whole, requests), (true, 4));
    let next_day = first_at + Duration::hours(13);
    let (second, from, whole, requests) = stored(&source, CostMetric::Amortized, &first, next_day).await;
    assert_eq!(
        (from, whole, requests),
        (date!(2026 - 11 - 01), false, 5),
        "the closed months' check and November"
    );
    assert_eq!(second.refresh.last_from, Some(date!(2026 - 11 - 01)));
    assert_eq!(second.refresh.requests_in_month(next_day.date()), 9, "both refreshes counted");
    let october = date!(2026 - 10 - 15);
    assert_eq!(
        second.sum(CostDimension::Account, "111111111111", october, october),
        Money::from_scaled(700, 2),
        "kept from the store"
    );
    let revised = date!(2026 - 11 - 23);
    assert_eq!(
        second.sum(CostDimension::Account, "111111111111", revised, revised),
        Money::from_scaled(600, 2),
        "the estimated day revised"
    );
    assert_eq!(second.estimated, vec![date!(2026 - 11 - 24)]);
}

/// The four groupings' answers (index, account, service, record type) of `days`.
fn answers_of(days: &[(&str, &str)]) -> Vec<Value> {
    let of =
        |key: &str| answer(days.iter().map(|(date, amount)| day(date, &[(key, amount)])).collect(), None);
    vec![of("marqo-index$"), of("111111111111"), of("EC2"), of("Usage")]
}

#[tokio::test]
async fn a_closed_month_cost_explorer_changed_is_read_again() {
    let base = base_config(&emulator()).await;
    let core = fresh_account_id(750);
    let mut answers = answers_of(&[("2026-10-15", "7.00"), ("2026-11-20", "3.00")]);
    // A refund landed on 15 October after the month closed: the check of the closed months
    // (through October: the store runs to 20 November) sees October moved.
    answers.push(months(&[("2026-09-01", "0.00"), ("2026-10-01", "5.00")]));
    answers.extend(answers_of(&[("2026-10-15", "5.00"), ("2026-11-20", "3.00")]));
    preload(&core, answers).await;
    let source = in_account(&base, &core).await;
    let (first, ..) =
        stored(&source, CostMetric::Amortized, &CostStore::empty(), datetime!(2026-11-24 06:00 UTC)).await;
    let later = datetime!(2026-12-10 06:00 UTC);
    let (second, from, whole, requests) = stored(&source, CostMetric::Amortized, &first, later).await;
    assert_eq!((from, whole, requests), (date!(2026 - 10 - 01), false, 5), "October read again, by day");
    let day = date!(2026 - 10 - 15);
    assert_eq!(second.bill(day, day), Money::from_scaled(500, 2));
}

#[tokio::test]
async fn a_refresh_with_too_little_time_left_waits_for_the_next_run() {
    let base = base_config(&emulator()).await;
    let source = in_account(&base, &fresh_account_id(740)).await;
    let now = datetime!(2026-11-24 12:00 UTC);
    let s = settings(CostMetric::Amortized);
    let Refreshed::NotDue { why } =
        refresh_costs(&source, &s, &CostStore::empty(), now, std::time::Duration::ZERO).await
    else {
        panic!("no time: not asked")
    };
    assert!(why.contains("0 s left"), "{why}");
}

#[tokio::test]
async fn a_refresh_out_of_time_stops_at_the_deadline_and_is_recorded_without_backing_off() {
    let core = fresh_account_id(745);
    preload(&core, answers_of(&[("2026-11-22", "5.00")])).await;
    // Cost Explorer answering in 1.5 s a request, with 2 s to go: a request is cut off at
    // the deadline.

    let proxy = crate::proxy::Proxy::start(&emulator()).await;
    proxy.faults.latency_ms.store(1_500, std::sync::atomic::Ordering::SeqCst);
    let slow = base_config(&proxy.url).await;
    let source = in_account(&slow, &core).await;
    let now = datetime!(2026-11-24 12:00 UTC);
    let started = std::time::Instant::now();
    let Refreshed::Failed { store, error } = refresh_costs(
        &source,
        &settings(CostMetric::Amortized),
        &CostStore::empty(),
        now,
        std::time::Duration::from_secs(2),
    )
    .await
    else {
        panic!("out of time: no refresh")
    };
    // Cut off at the deadline, whatever the machine's load (not a whole 1.5 s page after it).
    assert!(started.elapsed() < std::time::Duration::from_millis(3_400), "stopped at the deadline");
    assert!(format!("{error:#}").contains("out of time"), "{error:#}");
    // The requests sent before the deadline are counted (one or two, as the load allows).
    assert!((1..=2).contains(&store.refresh.last_requests), "{}", store.refresh.last_requests);
    assert_eq!(store.refresh.failures, 0, "running out of time does not back the next attempt off");
    assert!(store.refresh.last_error.is_some() && store.as_of().is_none());
}

#[tokio::test]
async fn a_malformed_answer_is_an_error_naming_the_day_and_group() {
    let base = base_config(&emulator()).await;
    let core = fresh_account_id(720);
    preload(&core, vec![answer(vec![day("2026-11-22", &[("marqo-index$idx-a", "lots")])], None)]).await;
    let source = in_account(&base, &core).await;
    let Refreshed::Failed { store, error } = refresh_costs(
        &source,
        &settings(CostMetric::Amortized),
        &CostStore::empty(),
        datetime!(2026-11-24 12:00 UTC),
        MINUTES,
    )
    .await
    else {
        panic!("a malformed answer fails the refresh")
    };
    let text = format!("{error:#}");
    assert!(text.contains("2026-11-22") && text.contains("idx-a") && text.contains("not a number"), "{text}");
    assert_eq!((store.refresh.failures, store.refresh.last_requests), (1, 1));
    assert!(store.refresh.last_error.as_deref().is_some_and(|e| e.contains("not a number")));
    // Backed off: 10 minutes later nothing is asked; 31 minutes later it is tried again.
    let s = settings(CostMetric::Amortized);
    let at = datetime!(2026-11-24 12:00 UTC);
    let Refreshed::NotDue { why } =
        refresh_costs(&source, &s, &store, at + Duration::minutes(10), MINUTES).await
    else {
        panic!("backed off")
    };
    assert!(why.contains("1 failed attempts in a row"), "{why}");
    assert!(!matches!(
        refresh_costs(&source, &s, &store, at + Duration::minutes(31), MINUTES).await,
        Refreshed::NotDue { .. }
    ));
}
