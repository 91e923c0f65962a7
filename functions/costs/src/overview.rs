//! `GET /costs`: this month so far, the previous month, the trailing 30 days, the change
//! against the same days of the previous month, the month-end forecast, top movers and how
//! old the data is.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::Money;
use polo_core::costs::{Breakdown, CostLine, Periods};
use polo_core::model::{CostDimension, CostStore, Fleet};
use polo_web::request::detail_format;
use polo_web::response::{csv, html, json};
use polo_web::table::to_csv;
use polo_web::{AppError, AppState, Chrome, Format};
use serde::Serialize;
use time::Duration;

use crate::table::{LineCells, title, urlencode};
use crate::today;

/// An index whose last 7 days cost more (or less) than the 7 before.
#[derive(Clone, Debug, Serialize)]
pub struct Mover {
    pub key: String,
    pub name: String,
    pub last_7_days: Money,
    pub previous_7_days: Money,
    pub change: Money,
}

/// What `/costs` answers as JSON.
#[derive(Serialize)]
struct Overview {
    /// `amortized`, `net_amortized` or `unblended`: what every amount is.
    metric: &'static str,
    as_of: Option<String>,
    data_age_seconds: Option<i64>,
    /// Days of the month to date Cost Explorer still estimates (they may change).
    estimated_days: usize,
    total: CostLine,
    /// The same days of the previous month as the month so far.
    previous_month_to_date: Money,
    change_vs_previous_month_to_date: Money,
    movers: Vec<Mover>,
    /// What asking Cost Explorer has cost, and how the last refresh went.
    cost_explorer: CostExplorerUse,
}

/// The refreshes' billed requests this month and the last attempt.
#[derive(Serialize)]
struct CostExplorerUse {
    /// Requests made this month (each page of an answer is one, $0.01 each).
    requests_this_month: u32,
    cost_this_month: Money,
    /// When Cost Explorer last answered.
    #[serde(with = "time::serde::rfc3339::option")]
    fetched_at: Option<time::OffsetDateTime>,
    /// The last attempt, successful or not.
    #[serde(with = "time::serde::rfc3339::option")]
    attempted_at: Option<time::OffsetDateTime>,
    /// Failed attempts in a row (0: the last succeeded), and the last one's error.
    failures: u32,
    last_error: Option<String>,
}

impl CostExplorerUse {
    fn of(store: &CostStore, today: time::Date) -> CostExplorerUse {
        let log = &store.refresh;
        CostExplorerUse {
            requests_this_month: log.requests_in_month(today),
            cost_this_month: log.cost_in_month(today),
            fetched_at: store.fetched_at,
            attempted_at: log.attempted_at,
            failures: log.failures,
            last_error: log.last_error.clone(),
        }
    }
}

fn movers(store: &CostStore, fleet: &Fleet, p: &Periods) -> Vec<Mover> {
    let (last_from, prev_from, prev_to) =
        (p.as_of - Duration::days(6), p.as_of - Duration::days(13), p.as_of - Duration::days(7));
    let mut out: Vec<Mover> = store
        .dimensions
        .get(&CostDimension::Index)
        .into_iter()
        .flat_map(|d| d.keys())
        .filter_map(|key| {
            let index = fleet.index(key)?;
            let last = store.sum(CostDimension::Index, key, last_from, p.as_of);
            let previous = store.sum(CostDimension::Index, key, prev_from, prev_to);
            Some(Mover {
                key: key.clone(),
                name: index.name.clone(),
                last_7_days: last,
                previous_7_days: previous,
                change: last - previous,
            })
        })
        .collect();
    out.sort_by(|a, b| b.change.cmp(&a.change).then_with(|| a.key.cmp(&b.key)));
    out.truncate(5);
    out
}

struct MoverCells {
    href: String,
    key: String,
    name: String,
    last: String,
    previous: String,
    change: String,
}

#[derive(Template)]
#[template(path = "costs/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    as_of: String,
    age: String,
    /// The metric's name, as pages say it.
    metric: &'static str,
    /// Days of the month to date still estimated (0: every day is final).
    estimated_days: usize,
    /// The report time zone, whose calendar months are.
    zone: String,
    total: LineCells,
    previous_mtd: String,
    /// `+$1,234.56` or `-$1,234.56`.
    change: String,
    movers: Vec<MoverCells>,
    breakdowns: Vec<(&'static str, &'static str, Vec<LineCells>)>,
    /// Cost Explorer requests this month and what they cost.
    requests: u32,
    requests_cost: String,
    /// The last refresh's error, while refreshes fail.
    refresh_error: Option<String>,
}

/// `+$1,234.56`, `-$1,234.56` or `$0.00`.
fn signed_dollars(m: Money) -> String {
    match m.cmp(&Money::ZERO) {
        std::cmp::Ordering::Greater => format!("+${}", m.to_grouped_cents()),
        std::cmp::Ordering::Less => format!("-${}", (Money::ZERO - m).to_grouped_cents()),
        std::cmp::Ordering::Equal => format!("${}", m.to_grouped_cents()),
    }
}

/// `GET /costs`.
pub async fn overview(
    State(state): State<AppState>,
    chrome: Chrome,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let format = detail_format(raw.as_deref(), &request_headers)?;
    let (fleet, store) = tokio::try_join!(state.fleet.fleet(), state.costs.costs())?;
    let now = state.clock.now();
    let by_account = state.cost_breakdown(&store, &fleet, Breakdown::Account, today(&state));
    let periods = by_account.periods;
    let previous_mtd = periods.map_or(Money::ZERO, |p| {
        p.previous_month_to_date().map_or(Money::ZERO, |(from, to)| store.bill(from, to))
    });
    let movers = periods.map(|p| movers(&store, &fleet, &p)).unwrap_or_default();
    let as_of = periods.map(|p| p.as_of);
    let change = by_account.sum.month_to_date - previous_mtd;
    let usage = CostExplorerUse::of(&store, now.date());
    match format {
        Format::Json => json(&Overview {
            metric: by_account.metric.as_str(),
            as_of: as_of.map(|d| d.to_string()),
            data_age_seconds: crate::data_age_seconds(as_of, now),
            estimated_days: periods.map_or(0, |p| p.estimated_days),
            total: by_account.sum.clone(),
            previous_month_to_date: previous_mtd,
            change_vs_previous_month_to_date: change,
            movers,
            cost_explorer: usage,
        }),
        Format::Csv => csv(
            to_csv(&["key", "name", "last_7_days", "previous_7_days", "change"], &movers)?,
            "cost-movers.csv",
        ),
        Format::Html => {
            let breakdowns = Breakdown::ALL
                .into_iter()
                .map(|d| {
                    let b = state.cost_breakdown(&store, &fleet, d, today(&state));
                    let mut top: Vec<&CostLine> = b.items.iter().collect();
                    top.sort_by(|x, y| y.month_to_date.cmp(&x.month_to_date).then_with(|| x.key.cmp(&y.key)));
                    let mut cells: Vec<LineCells> =
                        top.into_iter().take(3).map(|l| LineCells::new(l, Some(d))).collect();
                    cells.push(LineCells::new(&b.unattributed, None));
                    if b.other_charges.month_to_date != Money::ZERO {
                        cells.push(LineCells {
                            href: Some("/costs/charge".to_owned()),
                            ..LineCells::new(&b.other_charges, None)
                        });
                    }
                    (d.as_str(), title(d), cells)
                })
                .collect();
            html(&OverviewPage {
                chrome,
                as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
                estimated_days: periods.map_or(0, |p| p.estimated_days),
                metric: by_account.metric.title(),
                zone: state.config.reports.timezone.name().to_owned(),
                age: crate::data_age_seconds(as_of, now)
                    .map(|s| polo_core::text::age(now - Duration::seconds(s), now))
                    .unwrap_or_default(),
                total: LineCells::new(&by_account.sum, None),
                previous_mtd: previous_mtd.to_grouped_cents(),
                change: signed_dollars(change),
                movers: movers
                    .iter()
                    .map(|m| MoverCells {
                        href: format!("/costs/index/{}", urlencode(&m.key)),
                        key: m.key.clone(),
                        name: m.name.clone(),
                        last: m.last_7_days.to_grouped_cents(),
                        previous: m.previous_7_days.to_grouped_cents(),
                        change: m.change.to_grouped_cents(),
                    })
                    .collect(),
                breakdowns,
                requests: usage.requests_this_month,
                requests_cost: usage.cost_this_month.to_grouped_cents(),
                refresh_error: usage.last_error.filter(|_| usage.failures > 0),
            })
        }
    }
}
