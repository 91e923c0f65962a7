//! The cost refresh on the large sample's bill, against the emulator through a proxy adding
//! a Cost Explorer-like latency to every request (ignored in the test suite; `just bench`):
//! the requests and time of the first, whole refresh and of the incremental one the next
//! day. Cost Explorer's page size is not documented: the answers are paged at
//! `GROUPS_PER_PAGE` groups (whole days), which `bench/cost_refresh.json` states. Numbers to
//! `bench/cost_refresh.json`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use polo_core::model::{CostDimension, CostMetric, CostStore};
use polo_core::sample::{Scale, generate_with_costs};
use polo_sync_engine::costs::{RefreshSettings, Refreshed, refresh_costs};
use polo_tests::write_bench;
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Date, OffsetDateTime};

use crate::costs::{answer, estimated, preload};
use crate::harness::{base_config, emulator, fresh_account_id, in_account};

/// Groups an answer page holds in this model (whole days, at least one day a page).
const GROUPS_PER_PAGE: usize = 5_000;
/// The latency the proxy adds to each request, in milliseconds: Cost Explorer's grouped
/// answers are large and slow.
const LATENCY_MS: (usize, usize) = (300, 600);

/// The key Cost Explorer gives a store key of `dimension`.
fn group_key(dimension: CostDimension, key: &str) -> String {
    if dimension == CostDimension::Index { format!("marqo-index${key}") } else { key.to_owned() }
}

/// One grouping's answer pages over the days of `store` from `from`, as Cost Explorer would
/// give them.
fn pages(store: &CostStore, dimension: CostDimension, from: Date) -> Vec<Value> {
    let keys = &store.dimensions[&dimension];
    let mut days: Vec<(Value, usize)> = Vec::new();
    for n in store.columns(from, store.as_of().unwrap()) {
        let date = store.day(n);
        let groups: Vec<Value> = keys
            .iter()
            .filter(|(key, series)| series[n] != 0 || key.is_empty())
            .map(|(key, series)| {
                let amount = polo_core::Money::from_scaled(series[n], 2).to_string();
                json!({ "Keys": [group_key(dimension, key)], "Metrics": { "AmortizedCost": { "Amount": amount, "Unit": "USD" } } })
            })
            .collect();
        let count = groups.len();
        let next = date.next_day().unwrap();
        let mut result = json!({
            "TimePeriod": { "Start": date.to_string(), "End": next.to_string() },
            "Total": {}, "Groups": groups, "Estimated": false
        });
        if store.is_estimated(date) {
            result = estimated(result);
        }
        days.push((result, count));
    }
    let mut out = Vec::new();
    let mut page: Vec<Value> = Vec::new();
    let mut in_page = 0;
    for (day, count) in days {
        if !page.is_empty() && in_page + count > GROUPS_PER_PAGE {
            out.push(std::mem::take(&mut page));
            in_page = 0;
        }
        in_page += count;
        page.push(day);
    }
    out.push(page);
    let last = out.len() - 1;
    out.into_iter()
        .enumerate()
        .map(|(i, days)| answer(days, (i < last).then(|| format!("page-{}", i + 2)).as_deref()))
        .collect()
}

/// Every grouping's pages from `from`, in the order the refresh asks.
fn all_pages(store: &CostStore, from: Date) -> Vec<Value> {
    [CostDimension::Index, CostDimension::Account, CostDimension::Service, CostDimension::Charge]
        .into_iter()
        .flat_map(|d| pages(store, d, from))
        .collect()
}

/// The closed months' check answer: each whole month's bill as stored.
fn months(store: &CostStore, from: Date, to: Date) -> Value {
    let mut totals: BTreeMap<Date, polo_core::Money> = BTreeMap::new();
    let mut day = from;
    while day < to {
        let month = day.replace_day(1).unwrap();
        *totals.entry(month).or_default() += store.bill(day, day);
        day = day.next_day().unwrap();
    }
    let results = totals
        .into_iter()
        .map(|(month, total)| {
            let next = (month + time::Duration::days(31)).replace_day(1).unwrap();
            json!({
                "TimePeriod": { "Start": month.to_string(), "End": next.to_string() },
                "Total": { "AmortizedCost": { "Amount": total.to_string(), "Unit": "USD" } },
                "Groups": [], "Estimated": false
            })
        })
        .collect();
    answer(results, None)
}

async fn timed(
    source: &aws_config::SdkConfig,
    current: &CostStore,
    now: OffsetDateTime,
) -> (CostStore, u32, Date, Duration) {
    let settings = RefreshSettings {
        tag_key: "marqo-index".into(),
        metric: CostMetric::Amortized,
        cache_hours: 12,
        month_final_after_days: 5,
        min_budget: Duration::from_secs(10),
    };
    let started = Instant::now();
    let Refreshed::Stored { store, requests, from, .. } =
        refresh_costs(source, &settings, current, now, Duration::from_secs(280)).await
    else {
        panic!("the refresh should succeed")
    };
    (*store, requests, from, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by `just bench`"]
async fn bench_cost_refresh() {
    let now = datetime!(2026-11-24 12:00 UTC);
    let (_, bill) = generate_with_costs(42, Scale::Large, now);
    let core = fresh_account_id(760);
    let first_pages = all_pages(&bill, bill.first_day);
    let next = now + time::Duration::hours(13);
    let (window_start, _) = polo_sync_engine::costs::window(next);
    let november = time::macros::date!(2026 - 11 - 01);
    let mut answers = first_pages.clone();
    answers.push(months(&bill, window_start.max(bill.first_day), november));
    answers.extend(all_pages(&bill, november));
    preload(&core, answers).await;

    let proxy = crate::proxy::Proxy::start(&emulator()).await;
    proxy.faults.latency_ms.store(LATENCY_MS.0, std::sync::atomic::Ordering::SeqCst);
    proxy.faults.latency_max_ms.store(LATENCY_MS.1, std::sync::atomic::Ordering::SeqCst);
    let source = in_account(&base_config(&proxy.url).await, &core).await;
    let (first, first_requests, _, first_time) = timed(&source, &CostStore::empty(), now).await;
    let totals = |s: &CostStore| {
        let (from, to) = (bill.first_day, bill.as_of().unwrap());
        [CostDimension::Index, CostDimension::Account, CostDimension::Service, CostDimension::Charge]
            .map(|d| s.total(d, from, to))
    };
    assert_eq!(totals(&first), totals(&bill), "the whole bill read back");
    let (second, second_requests, from, second_time) = timed(&source, &first, next).await;
    assert_eq!(from, november);
    assert_eq!(totals(&second), totals(&bill), "November read again, the rest kept");
    let round = |d: Duration| (d.as_secs_f64() * 100.0).round() / 100.0;
    println!(
        "cost refresh, large sample: first {first_requests} requests in {:.2} s; incremental {second_requests} requests in {:.2} s",
        first_time.as_secs_f64(),
        second_time.as_secs_f64()
    );
    write_bench(
        "cost_refresh",
        &json!({
            "what": format!("the cost refresh of the large sample's bill (1,000 indexes, 400 days) against the emulator through a proxy adding {}-{} ms a request; answers paged at {GROUPS_PER_PAGE} groups (Cost Explorer's page size is not documented)", LATENCY_MS.0, LATENCY_MS.1),
            "figures": [
                {"name": "cost refresh, large: requests of the first (whole) refresh", "value": first_requests, "unit": "requests"},
                {"name": "cost refresh, large: requests of an incremental refresh", "value": second_requests, "unit": "requests"},
                {"name": "cost refresh, large: first refresh time", "value": round(first_time), "unit": "s", "target": 240, "compare": "<="},
                {"name": "cost refresh, large: incremental refresh time", "value": round(second_time), "unit": "s", "target": 30, "compare": "<="},
            ],
        }),
    );
}
