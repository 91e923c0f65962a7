//! `GET /reports`: the newest report of each type, then every stored report as a table
//! (filters `type` and `period`, free text, sort, paging, htmx, JSON and CSV).

use std::cmp::Ordering;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::listing::{Column, FilterField};
use polo_core::ports::ReportFilter;
use polo_core::reports::{ReportHead, ReportType};
use polo_core::text::{ago, rfc3339};
use polo_web::request::Htmx;
use polo_web::request::TableQuery;
use polo_web::response::html;
use polo_web::table::FilterControl;
use polo_web::table::{Cells, CsvRow};
use polo_web::table::{Table, TableFrame, filter_and_sort, respond, selects_over};
use polo_web::{AppError, AppState, Chrome};
use serde::Serialize;
use time::OffsetDateTime;

/// The columns of the reports table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportColumn {
    Type,
    Period,
    Start,
    End,
    GeneratedAt,
    ExpiresAt,
}

impl Column for ReportColumn {
    const ALL: &'static [Self] = &[
        ReportColumn::Type,
        ReportColumn::Period,
        ReportColumn::Start,
        ReportColumn::End,
        ReportColumn::GeneratedAt,
        ReportColumn::ExpiresAt,
    ];

    fn name(self) -> &'static str {
        match self {
            ReportColumn::Type => "type",
            ReportColumn::Period => "period",
            ReportColumn::Start => "start",
            ReportColumn::End => "end",
            ReportColumn::GeneratedAt => "generated_at",
            ReportColumn::ExpiresAt => "expires_at",
        }
    }
}

const SHOWN: &[(ReportColumn, &str, bool)] = &[
    (ReportColumn::Type, "Type", false),
    (ReportColumn::Period, "Period", false),
    (ReportColumn::Start, "From", false),
    (ReportColumn::End, "To", false),
    (ReportColumn::GeneratedAt, "Generated", false),
    (ReportColumn::ExpiresAt, "Kept until", false),
];

/// The filters (CONTRACT.md "Reports"), each a select with counts.
const FILTERS: &[(FilterField, &str)] = &[(FilterField::Type, "Type"), (FilterField::Period, "Period")];

const CSV_COLUMNS: &[&str] =
    &["type", "period", "start", "end", "generated_at", "expires_at", "final", "url"];

/// A report as the list gives it (CONTRACT.md): no body.
#[derive(Serialize)]
pub struct ReportItem<'a> {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub period: &'a str,
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// `false` while Cost Explorer still estimates a day it counts: it will be rebuilt.
    #[serde(rename = "final")]
    pub is_final: bool,
    /// The period's whole bill, for a report of cost days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<polo_core::Money>,
    pub url: String,
}

impl<'a> ReportItem<'a> {
    /// The list item of `report`.
    pub fn of(report: &'a ReportHead) -> ReportItem<'a> {
        ReportItem {
            kind: report.kind.as_str(),
            period: &report.period,
            start: report.start,
            end: report.end,
            generated_at: report.generated_at,
            expires_at: report.expires_at,
            is_final: report.is_final,
            total: report.total,
            url: report.path(),
        }
    }
}

impl CsvRow for ReportItem<'_> {
    fn write_cells(&self, cells: &mut Cells<'_>) {
        cells.text(self.kind);
        cells.text(self.period);
        cells.time(Some(self.start));
        cells.time(Some(self.end));
        cells.time(Some(self.generated_at));
        cells.time(Some(self.expires_at));
        cells.text(if self.is_final { "true" } else { "false" });
        cells.text(&self.url);
    }
}

/// One row, ready to print.
pub struct ReportCells {
    pub href: String,
    pub title: &'static str,
    pub kind: &'static str,
    pub period: String,
    pub headline: String,
    pub start: String,
    pub end: String,
    pub generated: String,
    pub generated_at: String,
    pub expires_at: String,
}

impl ReportCells {
    /// Formats `report` at `now`.
    pub fn new(report: &ReportHead, now: OffsetDateTime) -> ReportCells {
        ReportCells {
            href: report.path(),
            title: report.kind.title(),
            kind: report.kind.as_str(),
            period: report.period.clone(),
            headline: report.headline.clone(),
            start: rfc3339(report.start),
            end: rfc3339(report.end),
            generated: ago(report.generated_at, now),
            generated_at: rfc3339(report.generated_at),
            expires_at: report.expires_at.date().to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "reports/list_region.html")]
struct ReportsRegion {
    frame: TableFrame<ReportColumn>,
    rows: Vec<ReportCells>,
}

#[derive(Template)]
#[template(path = "reports/list.html")]
struct ReportsPage {
    chrome: Chrome,
    frame: TableFrame<ReportColumn>,
    rows: Vec<ReportCells>,
    latest: Vec<ReportCells>,
    missing: Vec<&'static str>,
}

/// The live reports at one instant.
struct ReportsTable {
    reports: Vec<ReportHead>,
    now: OffsetDateTime,
}

fn compare(a: &ReportHead, b: &ReportHead, column: ReportColumn) -> Ordering {
    match column {
        ReportColumn::Type => a.kind.as_str().cmp(b.kind.as_str()),
        ReportColumn::Period => a.period.cmp(&b.period),
        ReportColumn::Start => a.start.cmp(&b.start),
        ReportColumn::End => a.end.cmp(&b.end),
        ReportColumn::GeneratedAt => a.generated_at.cmp(&b.generated_at),
        ReportColumn::ExpiresAt => a.expires_at.cmp(&b.expires_at),
    }
}

impl Table for ReportsTable {
    type Column = ReportColumn;
    type Row<'a> = &'a ReportHead;
    type Item<'a> = ReportItem<'a>;
    type Cells = ReportCells;
    type Extra<'a> = ();

    const SHOWN: &'static [(ReportColumn, &'static str, bool)] = SHOWN;
    const CSV_COLUMNS: &'static [&'static str] = CSV_COLUMNS;

    fn csv_name(&self) -> String {
        "reports.csv".to_owned()
    }

    fn rows<'a>(&'a self, query: &TableQuery<ReportColumn>) -> Vec<&'a ReportHead> {
        // Default: by type, newest period first (the store's order).
        filter_and_sort(&self.reports, query, compare, |a, b| {
            a.kind.cmp(&b.kind).then_with(|| b.period.cmp(&a.period))
        })
    }

    fn item<'a>(&'a self, row: &&'a ReportHead) -> ReportItem<'a> {
        ReportItem::of(row)
    }

    fn cells(&self, row: &&ReportHead, now: OffsetDateTime) -> ReportCells {
        ReportCells::new(row, now)
    }

    fn extra(&self, _now: OffsetDateTime) {}

    fn filters(&self, query: &TableQuery<ReportColumn>) -> Vec<FilterControl> {
        selects_over(&self.reports, query, FILTERS)
    }

    fn page(
        &self,
        chrome: Chrome,
        frame: TableFrame<ReportColumn>,
        rows: Vec<ReportCells>,
    ) -> Result<Response, AppError> {
        let latest: Vec<ReportCells> = ReportType::ALL
            .iter()
            .filter_map(|k| {
                self.reports.iter().filter(|r| r.kind == *k).max_by(|a, b| a.period.cmp(&b.period))
            })
            .map(|r| ReportCells::new(r, self.now))
            .collect();
        let missing = ReportType::ALL
            .iter()
            .filter(|k| !self.reports.iter().any(|r| r.kind == **k))
            .map(|k| k.as_str())
            .collect();
        html(&ReportsPage { chrome, frame, rows, latest, missing })
    }

    fn region(&self, frame: TableFrame<ReportColumn>, rows: Vec<ReportCells>) -> Result<Response, AppError> {
        html(&ReportsRegion { frame, rows })
    }
}

/// `GET /reports`.
pub async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    htmx: Htmx,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let fields: Vec<FilterField> = FILTERS.iter().map(|(field, _)| *field).collect();
    let query = TableQuery::<ReportColumn>::parse(raw.as_deref(), &request_headers, &fields)?;
    let now = state.clock.now();
    let reports = state.reports.heads(&ReportFilter::default(), now).await?;
    respond(&state, chrome, htmx, &ReportsTable { reports, now }, query).await
}
