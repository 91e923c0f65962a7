//! `GET /costs/{dimension}/{key}`: one key's month to date, previous month, trailing 30
//! days and forecast, and its daily trend as an SVG chart drawn on the server.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::cost_changes::{CauseKind, CostChange, explained_from, signed};
use polo_core::costs::{Breakdown, CostLine, DailyCost, daily};
use polo_web::request::detail_params;
use polo_web::response::{csv, html, json};
use polo_web::table::to_csv;
use polo_web::{AppError, AppState, Chrome, Format};
use serde::Serialize;

use crate::table::{LineCells, title};
use crate::today;
use polo_web::response::{Chart, Waterfall};

/// The JSON of one key: its line plus every day.
#[derive(Serialize)]
struct Detail<'a> {
    /// `amortized`, `net_amortized` or `unblended`: what every amount is.
    metric: &'static str,
    #[serde(flatten)]
    line: &'a CostLine,
    as_of: Option<String>,
    daily: Vec<Day>,
    /// The change between the compared periods and its causes (indexes, customers and
    /// accounts; `null` for the others, or before there is cost data).
    change: Option<&'a CostChange>,
    comparison: Option<polo_core::cost_changes::Comparison>,
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
    /// Its change between the compared periods, where it can be explained.
    change: Option<ChangeView>,
}

/// The change of a detail page: periods, waterfall, and each cause's events.
struct ChangeView {
    before: String,
    after: String,
    total: String,
    waterfall: Waterfall,
    causes: Vec<CauseView>,
    ledger_note: Option<String>,
    /// The list of every key's change over the same periods.
    list_href: String,
}

struct CauseView {
    kind: &'static str,
    title: &'static str,
    amount: String,
    events: Vec<EventView>,
    /// `and 12 more events: +$40.10`.
    more: Option<String>,
}

struct EventView {
    resource_id: String,
    href: Option<String>,
    at: String,
    what: String,
    actor: String,
    actor_note: Option<String>,
    hours: String,
    amount: String,
}

impl ChangeView {
    fn of(
        c: &CostChange,
        cmp: &polo_core::cost_changes::Comparison,
        dimension: Breakdown,
        ledger_note: Option<String>,
    ) -> ChangeView {
        let steps: Vec<(&str, polo_core::Money)> =
            c.causes.iter().map(|x| (x.kind.title(), x.amount)).collect();
        ChangeView {
            before: format!("{} – {}", cmp.before_from, cmp.before_to),
            after: format!("{} – {}", cmp.from, cmp.to),
            total: signed(c.change),
            waterfall: Waterfall::of("cost-waterfall", c.before, &steps, c.after),
            causes: c
                .causes
                .iter()
                .map(|x| CauseView {
                    kind: x.kind.as_str(),
                    title: x.kind.title(),
                    amount: signed(x.amount),
                    events: x
                        .events
                        .iter()
                        .map(|e| EventView {
                            resource_id: e.resource_id.clone(),
                            href: (x.kind != CauseKind::Price && e.resource_id.starts_with("i-"))
                                .then(|| format!("/instances/{}", crate::table::urlencode(&e.resource_id))),
                            at: e
                                .at
                                .map(|t| format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute()))
                                .unwrap_or_default(),
                            what: e.what.clone(),
                            actor: e.actor.clone(),
                            actor_note: e.actor_note.clone(),
                            hours: e.hours.to_string(),
                            amount: signed(e.amount),
                        })
                        .collect(),
                    more: (x.more_events > 0)
                        .then(|| format!("and {} more events: {}", x.more_events, signed(x.more_amount))),
                })
                .collect(),
            ledger_note,
            list_href: format!(
                "/costs/changes?dimension={}&from={}&to={}",
                dimension.as_str(),
                cmp.from,
                cmp.to
            ),
        }
    }
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
    let (format, periods) = detail_params(raw.as_deref(), &request_headers, &["from", "to"])?;
    let (fleet, store, usage) =
        tokio::try_join!(state.fleet.fleet(), state.costs.costs(), state.usage.usage())?;
    let b = state.cost_breakdown(&store, &fleet, dimension, today(&state));
    let line =
        b.items.iter().find(|l| l.key == key).ok_or_else(|| {
            AppError::NotFound(format!("no {} {key:?} in the cost data", dimension.as_str()))
        })?;
    let days: Vec<DailyCost> = daily(&store, &fleet, dimension, &key).unwrap_or_default();
    let explained = crate::changes::EXPLAINED.contains(&dimension);
    let asked = crate::changes::asked(
        Some(dimension.as_str()).filter(|_| explained),
        periods[0].as_deref(),
        periods[1].as_deref(),
        &store,
    )?;
    let comparison = asked.comparison.filter(|_| explained);
    // From the list of every key's change, split once per documents and periods (what
    // `/costs/changes` shows), with this key's events added.
    let change = comparison.and_then(|c| {
        let all = state.cost_changes(&store, &usage, &fleet, dimension, &c);
        all.iter().find(|x| x.key == key).map(|x| x.with_events(&usage, &c))
    });
    match format {
        Format::Json => json(&Detail {
            metric: b.metric.as_str(),
            line,
            as_of: b.periods.map(|p| p.as_of.to_string()),
            daily: days.iter().map(Day::of).collect(),
            change: change.as_ref(),
            comparison,
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
                    .accounts()
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
                change: change.as_ref().zip(comparison).map(|(c, cmp)| {
                    let note = crate::changes::ledger_note(explained_from(&usage), Some(cmp));
                    ChangeView::of(c, &cmp, dimension, note)
                }),
            })
        }
    }
}
