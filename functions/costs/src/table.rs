//! `GET /costs/{dimension}`: what each index, customer, account or service costs, as a
//! table like the inventory ones (free text, sort on every column, paging, htmx swaps,
//! JSON and CSV), with the unattributed row and the total always shown.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::costs::{Breakdown, CostBreakdown, CostColumn, CostLine, list_lines};
use polo_web::request::Htmx;
use polo_web::request::TableQuery;
use polo_web::response::html;
use polo_web::table::{Cells, CsvRow};
use polo_web::table::{Table, TableFrame, respond};
use polo_web::{AppError, AppState, Chrome};
use serde::Serialize;
use time::OffsetDateTime;

use crate::today;

const SHOWN: &[(CostColumn, &str, bool)] = &[
    (CostColumn::Key, "Key", false),
    (CostColumn::Name, "Name", false),
    (CostColumn::MonthToDate, "Month to date", true),
    (CostColumn::PreviousMonth, "Previous month", true),
    (CostColumn::Trailing30d, "Last 30 days", true),
    (CostColumn::Forecast, "Forecast", true),
];

const CSV_COLUMNS: &[&str] = &["key", "name", "month_to_date", "previous_month", "trailing_30d", "forecast"];

/// What the JSON of a cost table adds to the list envelope: the reconciling rows.
#[derive(Serialize)]
struct CostTotals<'a> {
    /// `amortized`, `net_amortized` or `unblended`: what every amount is.
    metric: &'static str,
    sum: &'a CostLine,
    /// Usage no item accounts for (untagged, or a tag naming no known index).
    unattributed: &'a CostLine,
    /// Credits, refunds, tax, support and fees: no index, account or service holds them.
    other_charges: &'a CostLine,
    as_of: Option<String>,
    data_age_seconds: Option<i64>,
}

/// A line as JSON and CSV give it.
#[derive(Serialize)]
#[serde(transparent)]
struct CostItem<'a>(&'a CostLine);

impl CsvRow for CostItem<'_> {
    fn write_cells(&self, cells: &mut Cells<'_>) {
        let l = self.0;
        cells.text(&l.key);
        cells.text(&l.name);
        for money in [l.month_to_date, l.previous_month, l.trailing_30d, l.forecast] {
            cells.display(money);
        }
    }
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
    as_of: String,
    /// The metric's name, as pages say it.
    metric: &'static str,
    frame: TableFrame<CostColumn>,
    rows: Vec<LineCells>,
    unattributed: LineCells,
    other_charges: LineCells,
    sum: LineCells,
}

#[derive(Template)]
#[template(path = "costs/table_region.html")]
struct CostTableRegion {
    frame: TableFrame<CostColumn>,
    rows: Vec<LineCells>,
    unattributed: LineCells,
    other_charges: LineCells,
    sum: LineCells,
}

/// The breakdowns as navigation links.
const LINKS: [(&str, &str); 5] = [
    ("index", "Indexes"),
    ("customer", "Customers"),
    ("account", "Accounts"),
    ("service", "Services"),
    ("charge", "Charges"),
];

impl CostTablePage {
    #[allow(clippy::unused_self)] // askama calls it on the page
    fn links(&self) -> [(&'static str, &'static str); 5] {
        LINKS
    }

    fn footer(&self) -> [(&LineCells, &'static str); 3] {
        [(&self.unattributed, "unattributed"), (&self.other_charges, "other-charges"), (&self.sum, "total")]
    }
}

impl CostTableRegion {
    fn footer(&self) -> [(&LineCells, &'static str); 3] {
        [(&self.unattributed, "unattributed"), (&self.other_charges, "other-charges"), (&self.sum, "total")]
    }
}

/// The heading of a breakdown.
pub fn title(d: Breakdown) -> &'static str {
    match d {
        Breakdown::Index => "Cost by index",
        Breakdown::Customer => "Cost by customer",
        Breakdown::Account => "Cost by account",
        Breakdown::Service => "Cost by service",
        Breakdown::Charge => "Cost by charge",
    }
}

/// The rows under a cost table.
struct Footer {
    unattributed: LineCells,
    other_charges: LineCells,
    sum: LineCells,
}

/// One breakdown as a table.
struct CostTable {
    dimension: Breakdown,
    breakdown: std::sync::Arc<CostBreakdown>,
}

impl CostTable {
    fn as_of(&self) -> Option<time::Date> {
        self.breakdown.periods.map(|p| p.as_of)
    }

    fn footer(&self) -> Footer {
        let b = &self.breakdown;
        Footer {
            unattributed: LineCells::new(&b.unattributed, None),
            // The charges page lists what the row holds.
            other_charges: LineCells {
                href: Some("/costs/charge".to_owned()),
                ..LineCells::new(&b.other_charges, None)
            },
            sum: LineCells::new(&b.sum, None),
        }
    }
}

impl Table for CostTable {
    type Column = CostColumn;
    type Row<'a> = &'a CostLine;
    type Item<'a> = CostItem<'a>;
    type Cells = LineCells;
    type Extra<'a> = CostTotals<'a>;

    const SHOWN: &'static [(CostColumn, &'static str, bool)] = SHOWN;
    const CSV_COLUMNS: &'static [&'static str] = CSV_COLUMNS;

    fn csv_name(&self) -> String {
        format!("costs-{}.csv", self.dimension.as_str())
    }

    fn rows<'a>(&'a self, query: &TableQuery<CostColumn>) -> Vec<&'a CostLine> {
        let terms: Vec<String> = query.filters.text().split_whitespace().map(str::to_lowercase).collect();
        list_lines(&self.breakdown.items, &terms, query.sort)
    }

    fn item<'a>(&'a self, row: &&'a CostLine) -> CostItem<'a> {
        CostItem(row)
    }

    fn cells(&self, row: &&CostLine, _now: OffsetDateTime) -> LineCells {
        LineCells::new(row, Some(self.dimension))
    }

    fn extra(&self, now: OffsetDateTime) -> CostTotals<'_> {
        CostTotals {
            metric: self.breakdown.metric.as_str(),
            sum: &self.breakdown.sum,
            unattributed: &self.breakdown.unattributed,
            other_charges: &self.breakdown.other_charges,
            as_of: self.as_of().map(|d| d.to_string()),
            data_age_seconds: crate::data_age_seconds(self.as_of(), now),
        }
    }

    fn csv_footer(&self) -> Vec<CostItem<'_>> {
        let b = &self.breakdown;
        vec![CostItem(&b.unattributed), CostItem(&b.other_charges), CostItem(&b.sum)]
    }

    fn page(
        &self,
        chrome: Chrome,
        frame: TableFrame<CostColumn>,
        rows: Vec<LineCells>,
    ) -> Result<Response, AppError> {
        let Footer { unattributed, other_charges, sum } = self.footer();
        html(&CostTablePage {
            chrome,
            dimension: self.dimension.as_str(),
            title: title(self.dimension),
            as_of: self.as_of().map(|d| d.to_string()).unwrap_or_default(),
            metric: self.breakdown.metric.title(),
            frame,
            rows,
            unattributed,
            other_charges,
            sum,
        })
    }

    fn region(&self, frame: TableFrame<CostColumn>, rows: Vec<LineCells>) -> Result<Response, AppError> {
        let Footer { unattributed, other_charges, sum } = self.footer();
        html(&CostTableRegion { frame, rows, unattributed, other_charges, sum })
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
    let table =
        CostTable { dimension, breakdown: state.cost_breakdown(&store, &fleet, dimension, today(&state)) };
    respond(&state, chrome, htmx, &table, query).await
}
