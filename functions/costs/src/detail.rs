//! `GET /costs/{dimension}/{key}`: one key's month to date, previous month, trailing 30
//! days and forecast, and its daily trend as an SVG chart drawn on the server.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::costs::{Breakdown, CostLine, DailyCost, breakdown, daily};
use polo_web::request::detail_format;
use polo_web::response::{csv, html, json};
use polo_web::table::to_csv;
use polo_web::{AppError, AppState, Chrome, Format};
use serde::Serialize;

use crate::table::{LineCells, title};
use crate::today;
use polo_web::response::Chart;

/// The JSON of one key: its line plus every day.
#[derive(Serialize)]
struct Detail<'a> {
    /// `amortized`, `net_amortized` or `unblended`: what every amount is.
    metric: &'static str,
    #[serde(flatten)]
    line: &'a CostLine,
    as_of: Option<String>,
    daily: Vec<Day>,
}

/// One day, as the JSON of CONTRACT.md has it.
#[derive(Serialize)]
struct Day {
    date: String,
    amount: polo_core::Money,
    /// Cost Explorer still estimates the day: its amount may change.
    estimated: bool,
}

impl Day {
    fn of(d: &DailyCost) -> Day {
        Day { date: d.date.to_string(), amount: d.amount, estimated: d.estimated }
    }
}

#[derive(Template)]
#[template(path = "costs/detail.html")]
struct DetailPage {
    chrome: Chrome,
    dimension: &'static str,
    heading: &'static str,
    line: LineCells,
    /// Where the thing itself is shown (an index page, an account's instances).
    inventory_href: Option<String>,
    chart: Chart,
    /// The metric's name, as pages say it.
    metric: &'static str,
}

impl DetailPage {
    fn totals(&self) -> [(&'static str, &str); 4] {
        [
            ("Month to date", self.line.month_to_date.as_str()),
            ("Forecast", self.line.forecast.as_str()),
            ("Previous month", self.line.previous_month.as_str()),
            ("Last 30 days", self.line.trailing_30d.as_str()),
        ]
    }
}

/// `GET /costs/{dimension}/{key}`.
pub async fn detail(
    State(state): State<AppState>,
    chrome: Chrome,
    Path((dimension, key)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let dimension = crate::dimension(&dimension)?;
    let format = detail_format(raw.as_deref(), &request_headers)?;
    let (fleet, store) = tokio::try_join!(state.fleet.fleet(), state.costs.costs())?;
    let b = breakdown(&store, &fleet, dimension, today(&state));
    let line =
        b.items.iter().find(|l| l.key == key).ok_or_else(|| {
            AppError::NotFound(format!("no {} {key:?} in the cost data", dimension.as_str()))
        })?;
    let days: Vec<DailyCost> = daily(&store, &fleet, dimension, &key).unwrap_or_default();
    match format {
        Format::Json => json(&Detail {
            metric: b.metric.as_str(),
            line,
            as_of: b.periods.map(|p| p.as_of.to_string()),
            daily: days.iter().map(Day::of).collect(),
        }),
        Format::Csv => {
            let rows: Vec<Day> = days.iter().map(Day::of).collect();
            csv(
                to_csv(&["date", "amount", "estimated"], &rows)?,
                &format!("costs-{}-{}.csv", dimension.as_str(), crate::table::urlencode(&key)),
            )
        }
        Format::Html => {
            let inventory_href = match dimension {
                Breakdown::Index => Some(format!("/indexes/{}", crate::table::urlencode(&key))),
                Breakdown::Customer => Some(format!("/indexes?customer={}", crate::table::urlencode(&key))),
                Breakdown::Account => fleet
                    .everything()
                    .accounts
                    .iter()
                    .find(|a| a.id == key)
                    .map(|a| format!("/instances?account={}", crate::table::urlencode(&a.name))),
                Breakdown::Service | Breakdown::Charge => None,
            };
            // The chart shows the last 90 days: readable on a phone, enough for a trend.
            let recent = &days[days.len().saturating_sub(90)..];
            html(&DetailPage {
                chrome,
                dimension: dimension.as_str(),
                heading: title(dimension),
                line: LineCells::new(line, None),
                inventory_href,
                metric: b.metric.title(),
                chart: Chart::of(
                    "cost-chart",
                    &recent.iter().map(|d| (d.date, d.amount, d.estimated)).collect::<Vec<_>>(),
                ),
            })
        }
    }
}
