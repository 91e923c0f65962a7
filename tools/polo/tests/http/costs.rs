//! The cost pages over the sample's cost store: breakdowns that reconcile to the cent, the
//! same total for every dimension, one key's daily series, errors by name.

use polo_core::Money;
use serde_json::Value;

use crate::harness::{TestApp, sample};

fn money(v: &Value) -> Money {
    v.as_str().unwrap_or_else(|| panic!("not a money string: {v}")).parse().unwrap()
}

const FIELDS: [&str; 4] = ["month_to_date", "previous_month", "trailing_30d", "forecast"];

#[tokio::test]
async fn every_breakdown_adds_up_to_the_same_total_to_the_cent() {
    let app = TestApp::sample().await;
    let mut totals = Vec::new();
    for dimension in ["index", "customer", "account", "service", "charge"] {
        let page = app.json(&format!("/costs/{dimension}?format=json&per_page=500")).await;
        assert_eq!(
            page["total"].as_u64().unwrap() as usize,
            page["items"].as_array().unwrap().len(),
            "{dimension}"
        );
        assert_eq!(page["as_of"], "2026-11-23");
        assert_eq!(page["data_age_seconds"], 12 * 3600, "the sample's clock is noon after the last cost day");
        for field in FIELDS {
            let items: Money = page["items"].as_array().unwrap().iter().map(|i| money(&i[field])).sum();
            assert_eq!(
                items + money(&page["unattributed"][field]) + money(&page["other_charges"][field]),
                money(&page["sum"][field]),
                "{dimension} {field}"
            );
        }
        assert!(money(&page["unattributed"]["month_to_date"]) >= Money::ZERO, "{dimension}: usage only");
        assert!(money(&page["unattributed"]["previous_month"]) >= Money::ZERO, "{dimension}: usage only");
        totals.push(FIELDS.map(|f| money(&page["sum"][f])));
    }
    assert!(totals.windows(2).all(|w| w[0][..3] == w[1][..3]), "{totals:?}");
    let index = app.json("/costs/index?format=json&per_page=500").await;
    assert!(
        money(&index["unattributed"]["month_to_date"]) > Money::ZERO,
        "untagged spend is shown, not spread"
    );
    // Credits, refunds, tax, support and fees are one line of their own.
    assert!(money(&index["other_charges"]["previous_month"]) != Money::ZERO);
    let overview = app.json("/costs?format=json").await;
    assert_eq!(overview["total"]["month_to_date"], index["sum"]["month_to_date"]);
    let first = app.json("/?format=json").await;
    assert_eq!(
        money(&first["month_to_date"]["amount"]),
        money(&overview["total"]["month_to_date"]),
        "`/` agrees"
    );
}

#[tokio::test]
async fn the_charges_page_lists_every_record_type_and_the_newest_days_are_estimated() {
    let app = TestApp::sample().await;
    let page = app.json("/costs/charge?format=json&per_page=500").await;
    let keys: Vec<&str> =
        page["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
    for kind in [
        "Usage",
        "SavingsPlanCoveredUsage",
        "SavingsPlanRecurringFee",
        "Credit",
        "Refund",
        "Tax",
        "Support",
        "Fee",
    ] {
        assert!(keys.contains(&kind), "{kind} in {keys:?}");
    }
    assert_eq!(page["other_charges"]["month_to_date"], "0.00", "every charge is a line of its own here");
    let credit = app.json("/costs/charge/Credit?format=json").await;
    assert_eq!(credit["name"], "Credit");
    assert!(credit["daily"].as_array().unwrap().iter().any(|d| money(&d["amount"]) < Money::ZERO));
    let html = app.get("/costs/charge").await;
    assert!(
        html.body.contains("Savings Plans unused commitment") && html.body.contains("aria-current=\"page\"")
    );
    let index = app.get("/costs/index").await;
    assert!(index.body.contains("id=\"other-charges\"") && index.body.contains("href=\"/costs/charge\""));
    // The sample's newest two days are estimated, in the daily series and on the overview.
    let daily = app.json("/costs/account/111111111111?format=json").await;
    let days = daily["daily"].as_array().unwrap();
    let flags: Vec<bool> = days.iter().rev().take(3).map(|d| d["estimated"].as_bool().unwrap()).collect();
    assert_eq!(flags, [true, true, false]);
    let overview = app.json("/costs?format=json").await;
    assert_eq!(overview["estimated_days"], 2);
    assert_eq!(overview["cost_explorer"]["requests_this_month"], 0, "the sample never asked Cost Explorer");
    let chart = app.get("/costs/charge/Credit").await;
    assert!(chart.body.contains("data-tick=\"$0\""), "the chart has a y-axis with values");
}

#[tokio::test]
async fn cost_tables_sort_search_and_page_like_the_others() {
    let app = TestApp::sample().await;
    let by_forecast = app.json("/costs/index?format=json&sort=-forecast&per_page=500").await;
    let forecasts: Vec<Money> =
        by_forecast["items"].as_array().unwrap().iter().map(|i| money(&i["forecast"])).collect();
    assert!(forecasts.windows(2).all(|w| w[0] >= w[1]));
    for column in ["key", "name", "month_to_date", "previous_month", "trailing_30d", "forecast"] {
        for dir in ["", "-"] {
            let answer = app.get(&format!("/costs/account?format=json&sort={dir}{column}")).await;
            assert_eq!(answer.status, 200, "{dir}{column}");
        }
    }
    let e = sample();
    let named = &e.indexes[0];
    let found = app.json(&format!("/costs/index?format=json&q={}", named.index_id)).await;
    assert_eq!(found["items"][0]["key"], named.index_id.as_str());
    let paged = app.json("/costs/index?format=json&per_page=2&page=2").await;
    assert_eq!(paged["items"].as_array().unwrap().len(), 2);
    let csv = app.get("/costs/service?format=csv").await;
    assert!(csv.body.starts_with("key,name,month_to_date,previous_month,trailing_30d,forecast\n"));
    assert!(csv.body.lines().last().unwrap().contains(",Total,"), "the total closes the CSV");
    let partial = app.get_with("/costs/index?page=2", None).await;
    assert!(partial.body.contains("id=\"costs-table\""));
}

#[tokio::test]
async fn one_key_has_its_daily_series_and_chart() {
    let app = TestApp::sample().await;
    let e = sample();
    let index = e.indexes[0].index_id.clone();
    let detail = app.json(&format!("/costs/index/{index}?format=json")).await;
    let daily = detail["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 120);
    let last_30: Money = daily[daily.len() - 30..].iter().map(|d| money(&d["amount"])).sum();
    assert_eq!(last_30, money(&detail["trailing_30d"]));
    assert_eq!(daily.last().unwrap()["date"], "2026-11-23");
    let page = app.get(&format!("/costs/index/{index}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<svg") && page.body.contains("<title>2026-11-23: $"),
        "a chart with values on hover"
    );
    assert!(page.body.contains(&format!("href=\"/indexes/{index}\"")), "links to the index");
    let customer = &e.indexes[0].customer;
    assert_eq!(app.get(&format!("/costs/customer/{customer}?format=json")).await.status, 200);
}

#[tokio::test]
async fn unknown_dimensions_and_keys_are_404s_and_bad_parameters_400s() {
    let app = TestApp::sample().await;
    for path in
        ["/costs/region", "/costs/index/idx-nosuch", "/costs/service/Nothing", "/costs/account/000000000000"]
    {
        let answer = app.get_with(path, Some("application/json")).await;
        assert_eq!(answer.status, 404, "{path}");
    }
    for (path, param) in [
        ("/costs/index?sort=nosuch", "sort"),
        ("/costs/index?colour=red", "colour"),
        ("/costs?page=2", "page"),
        ("/costs/index?per_page=0", "per_page"),
    ] {
        let answer = app.get_with(path, Some("application/json")).await;
        assert_eq!(answer.status, 400, "{path}");
        assert_eq!(answer.json()["error"]["param"], param, "{path}");
    }
}

#[tokio::test]
async fn a_cost_breakdown_is_made_once_per_cost_store_snapshot_breakdown_and_day() {
    use polo_core::costs::Breakdown;
    use std::sync::Arc;
    let now = crate::harness::NOW;
    let (everything, costs) =
        polo_core::sample::generate_with_costs(42, polo_core::sample::Scale::Small, now);
    let settings = polo_web::app::WebSettings { dev: true, ..polo_web::app::WebSettings::default() };
    let state = polo_web::AppState::over(
        Arc::new(polo_core::ports::LocalDataService::from_snapshot(everything)),
        polo_core::config::Config::bundled().unwrap(),
        Arc::new(polo_core::FixedClock(now)),
        settings,
    )
    .unwrap();
    let fleet = state.fleet.fleet().await.unwrap();
    let (store, today) = (Arc::new(costs), now.date());
    let by_index = state.cost_breakdown(&store, &fleet, Breakdown::Index, today);
    assert_eq!(*by_index, polo_core::costs::breakdown(&store, &fleet, Breakdown::Index, today));
    let by_customer = state.cost_breakdown(&store, &fleet, Breakdown::Customer, today);
    assert!(Arc::ptr_eq(&by_index, &state.cost_breakdown(&store, &fleet, Breakdown::Index, today)));
    assert!(Arc::ptr_eq(&by_customer, &state.cost_breakdown(&store, &fleet, Breakdown::Customer, today)));
    // A refreshed cost store is broken down again (equal here: the same rows), and so is
    // the next day.
    let refreshed = Arc::new(store.as_ref().clone());
    let again = state.cost_breakdown(&refreshed, &fleet, Breakdown::Index, today);
    assert!(!Arc::ptr_eq(&by_index, &again));
    assert_eq!(*again, *by_index);
    let tomorrow = today.next_day().unwrap();
    let next_day = state.cost_breakdown(&refreshed, &fleet, Breakdown::Index, tomorrow);
    assert!(!Arc::ptr_eq(&again, &next_day));
    assert_eq!(*next_day, polo_core::costs::breakdown(&refreshed, &fleet, Breakdown::Index, tomorrow));
}
