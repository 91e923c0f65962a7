//! `GET /costs/{dimension}`: what each index, customer, account or service costs, as a
//! table like the inventory ones (free text, sort on every column, paging, htmx swaps,
//! JSON and CSV), with the unattributed row and the total always shown.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::costs::{Breakdown, CostColumn, CostLine, breakdown, list_lines};
use polo_core::listing::Page;
use polo_web::htmx::Htmx;
use polo_web::params::TableQuery;
use polo_web::respond::{csv_export, html, json};
use polo_web::table::{HeaderCell, Pager, headers};
use polo_web::tabular::to_csv;
use polo_web::{AppError, AppState, Chrome, Format};
use serde::Serialize;

const SHOWN: &[(CostColumn, &str, bool)] = &[
    (CostColumn::Key, "Key", false),
    (CostColumn::Name, "Name", false),
    (CostColumn::MonthToDate, "Month to date", true),
    (CostColumn::PreviousMonth, "Previous month", true),
    (CostColumn::Trailing30d, "Last 30 days", true),
    (CostColumn::Forecast, "Forecast", true),
];

const CSV_COLUMNS: &[&str] = &["key", "name", "month_to_date", "previous_month", "trailing_30d", "forecast"];

/// The JSON of a cost table: the list envelope plus the reconciling rows.
#[derive(Serialize)]
struct CostList<'a> {
    items: Vec<&'a CostLine>,
    total: usize,
    page: usize,
    per_page: usize,
    sum: &'a CostLine,
    unattributed: &'a CostLine,
    as_of: Option<String>,
    data_age_seconds: Option<i64>,
}

/// A line ready to print.
pub struct LineCells {
    pub key: String,
    pub name: String,
    pub href: Option<String>,
    pub month_to_date: String,
    pub previous_month: String,
    pub trailing_30d: String,
    pub forecast: String,
}

impl LineCells {
    pub fn new(line: &CostLine, dimension: Option<Breakdown>) -> LineCells {
        LineCells {
            key: line.key.clone(),
            name: line.name.clone(),
            href: dimension.map(|d| format!("/costs/{}/{}", d.as_str(), urlencode(&line.key))),
            month_to_date: line.month_to_date.to_grouped_cents(),
            previous_month: line.previous_month.to_grouped_cents(),
            trailing_30d: line.trailing_30d.to_grouped_cents(),
            forecast: line.forecast.to_grouped_cents(),
        }
    }
}

/// Percent-encodes a path segment.
pub fn urlencode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xF)]));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "costs/table.html")]
struct CostTablePage {
    chrome: Chrome,
    dimension: &'static str,
    title: &'static str,
    q: String,
    as_of: String,
    headers: Vec<HeaderCell>,
    rows: Vec<LineCells>,
    unattributed: LineCells,
    sum: LineCells,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "costs/table_region.html")]
struct CostTableRegion {
    headers: Vec<HeaderCell>,
    rows: Vec<LineCells>,
    unattributed: LineCells,
    sum: LineCells,
    pager: Pager,
}

/// The breakdowns as navigation links.
const LINKS: [(&str, &str); 4] =
    [("index", "Indexes"), ("customer", "Customers"), ("account", "Accounts"), ("service", "Services")];

impl CostTablePage {
    #[allow(clippy::unused_self)] // askama calls it on the page
    fn links(&self) -> [(&'static str, &'static str); 4] {
        LINKS
    }

    fn footer(&self) -> [(&LineCells, &'static str); 2] {
        [(&self.unattributed, "unattributed"), (&self.sum, "total")]
    }
}

impl CostTableRegion {
    fn footer(&self) -> [(&LineCells, &'static str); 2] {
        [(&self.unattributed, "unattributed"), (&self.sum, "total")]
    }
}

/// The heading of a breakdown.
pub fn title(d: Breakdown) -> &'static str {
    match d {
        Breakdown::Index => "Cost by index",
        Breakdown::Customer => "Cost by customer",
        Breakdown::Account => "Cost by account",
        Breakdown::Service => "Cost by service",
    }
}

/// `GET /costs/{dimension}`.
pub async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    htmx: Htmx,
    Path(dimension): Path<String>,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let dimension = crate::dimension(&dimension)?;
    let query = TableQuery::<CostColumn>::parse(raw.as_deref(), &request_headers, &[])?;
    let (fleet, store) = tokio::try_join!(state.fleet.fleet(), state.costs.costs())?;
    let b = breakdown(&store, &fleet, dimension);
    let terms: Vec<String> = query.filters.text().split_whitespace().map(str::to_lowercase).collect();
    let rows = list_lines(&b.items, &terms, query.sort);
    let as_of = b.periods.map(|p| p.as_of);
    match query.format {
        Format::Csv => {
            let all = rows.into_iter().chain([&b.unattributed, &b.sum]);
            csv_export(&state, to_csv(CSV_COLUMNS, all)?, &format!("costs-{}.csv", dimension.as_str())).await
        }
        Format::Json => {
            let page = Page::of(rows, query.page);
            json(&CostList {
                items: page.items,
                total: page.total,
                page: page.page,
                per_page: page.per_page,
                sum: &b.sum,
                unattributed: &b.unattributed,
                as_of: as_of.map(|d| d.to_string()),
                data_age_seconds: crate::data_age_seconds(as_of, state.clock.now()),
            })
        }
        Format::Html => {
            let page = Page::of(rows, query.page);
            let cells = page.items.iter().map(|l| LineCells::new(l, Some(dimension))).collect();
            let pager = Pager::new(&query, &page);
            let (unattributed, sum) = (LineCells::new(&b.unattributed, None), LineCells::new(&b.sum, None));
            if htmx.partial {
                return html(&CostTableRegion {
                    headers: headers(&query, SHOWN),
                    rows: cells,
                    unattributed,
                    sum,
                    pager,
                });
            }
            html(&CostTablePage {
                chrome: chrome.with_search(query.filters.text()),
                dimension: dimension.as_str(),
                title: title(dimension),
                q: query.filters.text().to_owned(),
                as_of: as_of.map(|d| d.to_string()).unwrap_or_default(),
                headers: headers(&query, SHOWN),
                rows: cells,
                unattributed,
                sum,
                pager,
            })
        }
    }
}
