//! `GET /audit`: what people did about findings, newest first (filters `action`, `via`;
//! free text over who, the finding and the detail; sort; paging; htmx; JSON and CSV).

use std::cmp::Ordering;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::cop::AuditEntry;
use polo_core::listing::{Column, FilterField, Filterable};
use polo_core::text::{ago, rfc3339};
use polo_web::request::{Htmx, TableQuery};
use polo_web::response::html;
use polo_web::table::{
    Cells, CsvRow, FilterControl, Table, TableFrame, filter_and_sort, respond, selects_over,
};
use polo_web::{AppError, AppState, Chrome};
use time::OffsetDateTime;

/// The columns of the audit table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditColumn {
    At,
    By,
    Via,
    Action,
    Finding,
}

impl Column for AuditColumn {
    const ALL: &'static [Self] =
        &[AuditColumn::At, AuditColumn::By, AuditColumn::Via, AuditColumn::Action, AuditColumn::Finding];

    fn name(self) -> &'static str {
        match self {
            AuditColumn::At => "at",
            AuditColumn::By => "by",
            AuditColumn::Via => "via",
            AuditColumn::Action => "action",
            AuditColumn::Finding => "finding_id",
        }
    }
}

const SHOWN: &[(AuditColumn, &str, bool)] = &[
    (AuditColumn::At, "When", false),
    (AuditColumn::By, "Who", false),
    (AuditColumn::Via, "Via", false),
    (AuditColumn::Action, "Action", false),
    (AuditColumn::Finding, "Finding", false),
];

const FILTERS: &[(FilterField, &str)] = &[(FilterField::Action, "Action"), (FilterField::Via, "Via")];

/// The CSV columns: the JSON item keys.
const CSV_COLUMNS: &[&str] = &["at", "by", "via", "action", "finding_id", "before", "after", "detail"];

/// An entry, filterable.
pub struct Entry(AuditEntry);

impl Filterable for Entry {
    fn field(&self, field: FilterField) -> Option<&str> {
        match field {
            FilterField::Action => Some(&self.0.action),
            FilterField::Via => Some(match self.0.via {
                polo_core::cop::Via::Web => "web",
                polo_core::cop::Via::Slack => "slack",
            }),
            _ => None,
        }
    }

    fn search_text(&self) -> String {
        polo_core::listing::haystack([self.0.by.as_str(), self.0.finding_id.as_str(), self.0.detail.as_str()])
    }
}

/// An entry as JSON and CSV give it.
#[derive(serde::Serialize)]
#[serde(transparent)]
pub struct EntryItem<'a>(&'a AuditEntry);

impl CsvRow for EntryItem<'_> {
    fn write_cells(&self, cells: &mut Cells<'_>) {
        let e = self.0;
        cells.time(Some(e.at));
        cells.text(&e.by);
        cells.text(if e.via == polo_core::cop::Via::Web { "web" } else { "slack" });
        cells.text(&e.action);
        cells.text(&e.finding_id);
        cells.text(e.before.as_str());
        cells.text(e.after.as_str());
        cells.text(&e.detail);
    }
}

/// An entry ready to print.
pub struct EntryCells {
    pub at: String,
    pub at_exact: String,
    pub by: String,
    pub via: &'static str,
    pub action: String,
    pub finding_id: String,
    pub change: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "dashboard/audit_region.html")]
struct AuditRegion {
    frame: TableFrame<AuditColumn>,
    rows: Vec<EntryCells>,
}

#[derive(Template)]
#[template(path = "dashboard/audit.html")]
struct AuditPage {
    chrome: Chrome,
    frame: TableFrame<AuditColumn>,
    rows: Vec<EntryCells>,
}

struct AuditTable {
    entries: Vec<Entry>,
}

fn compare(a: &Entry, b: &Entry, column: AuditColumn) -> Ordering {
    let (a, b) = (&a.0, &b.0);
    match column {
        AuditColumn::At => a.at.cmp(&b.at),
        AuditColumn::By => a.by.cmp(&b.by),
        AuditColumn::Via => (a.via == polo_core::cop::Via::Slack).cmp(&(b.via == polo_core::cop::Via::Slack)),
        AuditColumn::Action => a.action.cmp(&b.action),
        AuditColumn::Finding => a.finding_id.cmp(&b.finding_id),
    }
}

impl Table for AuditTable {
    type Column = AuditColumn;
    type Row<'a> = &'a Entry;
    type Item<'a> = EntryItem<'a>;
    type Cells = EntryCells;
    type Extra<'a> = ();

    const SHOWN: &'static [(AuditColumn, &'static str, bool)] = SHOWN;
    const CSV_COLUMNS: &'static [&'static str] = CSV_COLUMNS;

    fn csv_name(&self) -> String {
        "audit.csv".to_owned()
    }

    fn rows<'a>(&'a self, query: &TableQuery<AuditColumn>) -> Vec<&'a Entry> {
        filter_and_sort(&self.entries, query, compare, |a, b| {
            b.0.at.cmp(&a.0.at).then_with(|| a.0.finding_id.cmp(&b.0.finding_id))
        })
    }

    fn item<'a>(&'a self, row: &&'a Entry) -> EntryItem<'a> {
        EntryItem(&row.0)
    }

    fn cells(&self, row: &&Entry, now: OffsetDateTime) -> EntryCells {
        let e = &row.0;
        EntryCells {
            at: ago(e.at, now),
            at_exact: rfc3339(e.at),
            by: e.by.clone(),
            via: if e.via == polo_core::cop::Via::Web { "web" } else { "slack" },
            action: e.action.clone(),
            finding_id: e.finding_id.clone(),
            change: if e.before == e.after {
                e.after.as_str().to_owned()
            } else {
                format!("{} → {}", e.before.as_str(), e.after.as_str())
            },
            detail: e.detail.clone(),
        }
    }

    fn extra(&self, _now: OffsetDateTime) {}

    fn filters(&self, query: &TableQuery<AuditColumn>) -> Vec<FilterControl> {
        selects_over(&self.entries, query, FILTERS)
    }

    fn page(
        &self,
        chrome: Chrome,
        frame: TableFrame<AuditColumn>,
        rows: Vec<EntryCells>,
    ) -> Result<Response, AppError> {
        html(&AuditPage { chrome, frame, rows })
    }

    fn region(&self, frame: TableFrame<AuditColumn>, rows: Vec<EntryCells>) -> Result<Response, AppError> {
        html(&AuditRegion { frame, rows })
    }
}

/// `GET /audit`.
pub async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    htmx: Htmx,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let fields: Vec<FilterField> = FILTERS.iter().map(|(field, _)| *field).collect();
    let query = TableQuery::<AuditColumn>::parse(raw.as_deref(), &request_headers, &fields)?;
    let entries = state.audit.entries().await?.into_iter().map(Entry).collect();
    respond(&state, chrome, htmx, &AuditTable { entries }, query).await
}
