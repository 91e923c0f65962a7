//! The month-end forecast backtested over the large sample's 400 cost days: on every day
//! whose month is complete in the data, each method forecasts that month's usage from the
//! days through it, against what the month came to. The mean absolute percentage error of
//! the weekday-aware forecast the pages show and of the mean of the last 7 days it replaced,
//! to `bench/forecast.json` (`cargo bench -p polo-core --bench forecast`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use polo_core::costs::Forecast;
use polo_core::model::CostDimension;
use polo_core::sample::{Scale, generate_with_costs};
use serde_json::json;
use time::Duration;
use time::macros::datetime;

/// Days of history a forecast needs before it is judged (four weeks and a week).
const WARM_UP: i64 = 35;

fn main() {
    let (_, store) = generate_with_costs(42, Scale::Large, datetime!(2026-11-24 12:00 UTC));
    let width = usize::try_from(store.days).unwrap();
    // The whole fleet's daily usage (every account).
    let mut series = vec![0i64; width];
    for s in store.dimensions[&CostDimension::Account].values() {
        for (total, c) in series.iter_mut().zip(s) {
            *total += c;
        }
    }
    let newest = store.as_of().unwrap();
    let (mut weekday_errors, mut flat_errors) = (Vec::new(), Vec::new());
    for n in WARM_UP..i64::from(store.days) {
        let cutoff = store.first_day + Duration::days(n);
        let month_start = cutoff.replace_day(1).unwrap();
        let month_end = month_start + Duration::days(i64::from(cutoff.month().length(cutoff.year())) - 1);
        if month_end >= newest || cutoff == month_end || month_start < store.first_day {
            continue;
        }
        let actual: i64 = series[store.columns(month_start, month_end)].iter().sum();
        let weekday = Forecast::new(&store, cutoff, cutoff, month_end).month_end(&series);
        let flat = Forecast::flat(&store, &series, cutoff, month_end);
        let error = |forecast: i64| (forecast - actual).unsigned_abs() as f64 / actual as f64 * 100.0;
        weekday_errors.push(error(weekday));
        flat_errors.push(error(flat));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    let (weekday, flat) = (round(mean(&weekday_errors)), round(mean(&flat_errors)));
    println!(
        "forecast backtest over {} days: weekday-aware MAPE {weekday} %, mean of the last 7 days {flat} %",
        weekday_errors.len()
    );
    let doc = json!({
        "what": "month-end forecast of the large sample's usage, backtested on every day of its complete months (400 days of data, 35 days of warm-up)",
        "figures": [
            {"name": "forecast backtest: weekday-aware MAPE", "value": weekday, "unit": "%", "target": flat, "compare": "<="},
            {"name": "forecast backtest: mean of the last 7 days MAPE (before)", "value": flat, "unit": "%"},
            {"name": "forecast backtest: forecasts judged", "value": weekday_errors.len(), "unit": "days"},
        ],
    });
    let out = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned()),
    )
    .join("../../bench/forecast.json");
    std::fs::write(out, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    assert!(weekday <= flat, "the weekday-aware forecast must not be worse than the one it replaced");
}
