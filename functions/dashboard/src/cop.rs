//! `GET /cop`: every Cloud Cop finding as a table (filters `rule`, `severity`, `account`,
//! `state`; free text; sort; paging; htmx; JSON and CSV).

use std::cmp::Ordering;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::listing::{Column, FilterField};
use polo_core::model::{Finding, FindingState, ResourceKind};
use polo_core::text::{ago, rfc3339};
use polo_web::request::Htmx;
use polo_web::request::TableQuery;
use polo_web::response::html;
use polo_web::table::FilterControl;
use polo_web::table::{Cells, CsvRow};
use polo_web::table::{Table, TableFrame, filter_and_sort, respond, selects_over};
use polo_web::{AppError, AppState, Chrome};
use time::OffsetDateTime;

/// The columns of the findings table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindingColumn {
    Severity,
    Rule,
    Resource,
    Account,
    Region,
    State,
    FirstSeen,
    LastSeen,
}

impl Column for FindingColumn {
    const ALL: &'static [Self] = &[
        FindingColumn::Severity,
        FindingColumn::Rule,
        FindingColumn::Resource,
        FindingColumn::Account,
        FindingColumn::Region,
        FindingColumn::State,
        FindingColumn::FirstSeen,
        FindingColumn::LastSeen,
    ];

    fn name(self) -> &'static str {
        match self {
            FindingColumn::Severity => "severity",
            FindingColumn::Rule => "rule",
            FindingColumn::Resource => "resource_id",
            FindingColumn::Account => "account",
            FindingColumn::Region => "region",
            FindingColumn::State => "state",
            FindingColumn::FirstSeen => "first_seen",
            FindingColumn::LastSeen => "last_seen",
        }
    }
}

const SHOWN: &[(FindingColumn, &str, bool)] = &[
    (FindingColumn::Severity, "Severity", false),
    (FindingColumn::Rule, "Rule", false),
    (FindingColumn::Resource, "Resource", false),
    (FindingColumn::Account, "Account", false),
    (FindingColumn::Region, "Region", false),
    (FindingColumn::State, "State", false),
    (FindingColumn::FirstSeen, "First seen", false),
    (FindingColumn::LastSeen, "Last seen", false),
];

/// The filters (CONTRACT.md "Findings"), each a select with counts.
const FILTERS: &[(FilterField, &str)] = &[
    (FilterField::Rule, "Rule"),
    (FilterField::Severity, "Severity"),
    (FilterField::Account, "Account"),
    (FilterField::State, "State"),
];

/// The CSV columns: the JSON item keys (CONTRACT.md "Findings").
const CSV_COLUMNS: &[&str] = &[
    "id",
    "rule",
    "severity",
    "resource_kind",
    "resource_id",
    "account",
    "region",
    "message",
    "first_seen",
    "last_seen",
    "last_notified",
    "resolved_at",
    "monthly_cost_impact",
    "state",
    "acknowledged_by",
    "snoozed_until",
    "exception",
    "assignee",
];

/// A finding (shared with the store) and where it stands now.
pub struct Stated {
    finding: std::sync::Arc<Finding>,
    state: FindingState,
}

impl polo_core::listing::Filterable for Stated {
    fn field(&self, field: FilterField) -> Option<&str> {
        match field {
            FilterField::State => Some(self.state.as_str()),
            other => self.finding.field(other),
        }
    }

    fn search_text(&self) -> String {
        let mut text = self.finding.search_text();
        if let Some(who) = &self.finding.handling.assignee {
            text.push('\n');
            text.push_str(&who.to_lowercase());
        }
        text
    }
}

/// A finding as JSON and CSV give it: its fields (`acknowledged_by`, `snoozed_until`,
/// `exception`, `assignee` where set) and its `state` now.
#[derive(serde::Serialize)]
pub struct FindingItem<'a> {
    #[serde(flatten)]
    finding: &'a Finding,
    state: FindingState,
}

impl CsvRow for FindingItem<'_> {
    fn write_cells(&self, cells: &mut Cells<'_>) {
        let f = self.finding;
        cells.text(&f.id);
        cells.text(&f.rule);
        cells.text(f.severity.as_str());
        cells.text(f.resource_kind.as_str());
        cells.text(&f.resource_id);
        cells.text(&f.account);
        cells.text(&f.region);
        cells.text(&f.message);
        cells.time(Some(f.first_seen));
        cells.time(Some(f.last_seen));
        cells.time(f.last_notified);
        cells.time(f.resolved_at);
        match f.monthly_cost_impact {
            Some(impact) => cells.display(impact),
            None => cells.maybe(None),
        }
        let h = &f.handling;
        cells.text(self.state.as_str());
        cells.maybe(h.acknowledged_by.as_deref());
        cells.time(h.snoozed_until);
        cells.maybe(h.exception.as_ref().map(|e| e.reason.as_str()));
        cells.maybe(h.assignee.as_deref());
    }
}

/// A finding ready to print.
pub struct FindingCells {
    pub severity: &'static str,
    pub tone: &'static str,
    pub rule: String,
    pub resource_id: String,
    pub href: String,
    pub account: String,
    pub region: String,
    pub id: String,
    pub state: &'static str,
    /// Who acknowledged it, until when it is snoozed, why excepted, who is on it.
    pub handled: String,
    pub first_seen: String,
    pub first_seen_at: String,
    pub last_seen: String,
    pub message: String,
}

impl FindingCells {
    fn new(s: &Stated, now: OffsetDateTime) -> FindingCells {
        let f = &s.finding;
        FindingCells {
            severity: f.severity.as_str(),
            tone: match f.severity {
                polo_core::model::Severity::Critical => {
                    "bg-rose-100 text-rose-800 dark:bg-rose-900 dark:text-rose-100"
                }
                polo_core::model::Severity::Warning => {
                    "bg-amber-100 text-amber-800 dark:bg-amber-900 dark:text-amber-100"
                }
                polo_core::model::Severity::Info => {
                    "bg-slate-200 text-slate-700 dark:bg-slate-700 dark:text-slate-100"
                }
            },
            rule: f.rule.clone(),
            resource_id: f.resource_id.clone(),
            href: match f.resource_kind {
                ResourceKind::Instances => format!("/instances/{}", f.resource_id),
                ResourceKind::Indexes => format!("/indexes/{}", f.resource_id),
                ResourceKind::Costs => format!("/costs/account/{}", f.resource_id),
            },
            account: f.account.clone(),
            region: f.region.clone(),
            id: f.id.clone(),
            state: s.state.as_str(),
            handled: handled(f),
            first_seen: ago(f.first_seen, now),
            first_seen_at: rfc3339(f.first_seen),
            last_seen: ago(f.last_seen, now),
            message: f.message.clone(),
        }
    }
}

/// What people did about `f`, in a line: "acknowledged by bob; until 2026-12-01; standby
/// (alice); assigned to carol".
fn handled(f: &Finding) -> String {
    let h = &f.handling;
    let mut parts = Vec::new();
    if let Some(who) = &h.acknowledged_by {
        parts.push(format!("acknowledged by {who}"));
    }
    if let Some(until) = h.snoozed_until {
        parts.push(format!("snoozed until {}", rfc3339(until)));
    }
    if let Some(e) = &h.exception {
        let until = e.until.map_or_else(|| "for good".to_owned(), |d| format!("until {d}"));
        parts.push(format!("excepted by {}: {} ({until})", e.by, e.reason));
    }
    if let Some(who) = &h.assignee {
        parts.push(format!("assigned to {who}"));
    }
    parts.join("; ")
}

#[derive(Template)]
#[template(path = "dashboard/cop_region.html")]
struct CopRegion {
    frame: TableFrame<FindingColumn>,
    rows: Vec<FindingCells>,
    /// The form token of an operator who may act here; `None`: no buttons.
    token: Option<String>,
}

#[derive(Template)]
#[template(path = "dashboard/cop.html")]
struct CopPage {
    chrome: Chrome,
    frame: TableFrame<FindingColumn>,
    rows: Vec<FindingCells>,
    open: usize,
    token: Option<String>,
}

struct FindingsTable {
    findings: Vec<Stated>,
    /// An operator's form token, when they may act here.
    token: Option<String>,
}

fn compare(s: &Stated, t: &Stated, column: FindingColumn) -> Ordering {
    let (a, b) = (&s.finding, &t.finding);
    match column {
        FindingColumn::Severity => a.severity.cmp(&b.severity),
        FindingColumn::Rule => a.rule.cmp(&b.rule),
        FindingColumn::Resource => a.resource_id.cmp(&b.resource_id),
        FindingColumn::Account => a.account.cmp(&b.account),
        FindingColumn::Region => a.region.cmp(&b.region),
        FindingColumn::State => s.state.cmp(&t.state),
        FindingColumn::FirstSeen => a.first_seen.cmp(&b.first_seen),
        FindingColumn::LastSeen => a.last_seen.cmp(&b.last_seen),
    }
}

impl Table for FindingsTable {
    type Column = FindingColumn;
    type Row<'a> = &'a Stated;
    type Item<'a> = FindingItem<'a>;
    type Cells = FindingCells;
    type Extra<'a> = ();

    const SHOWN: &'static [(FindingColumn, &'static str, bool)] = SHOWN;
    const CSV_COLUMNS: &'static [&'static str] = CSV_COLUMNS;

    fn csv_name(&self) -> String {
        "findings.csv".to_owned()
    }

    fn rows<'a>(&'a self, query: &TableQuery<FindingColumn>) -> Vec<&'a Stated> {
        // Default: open first (then acknowledged, snoozed, excepted, resolved), worst first,
        // newest first.
        filter_and_sort(&self.findings, query, compare, |a, b| {
            let (x, y) = (&a.finding, &b.finding);
            a.state
                .cmp(&b.state)
                .then_with(|| y.severity.cmp(&x.severity))
                .then_with(|| y.first_seen.cmp(&x.first_seen))
                .then_with(|| x.id.cmp(&y.id))
        })
    }

    fn item<'a>(&'a self, row: &&'a Stated) -> FindingItem<'a> {
        FindingItem { finding: &row.finding, state: row.state }
    }

    fn cells(&self, row: &&Stated, now: OffsetDateTime) -> FindingCells {
        FindingCells::new(row, now)
    }

    fn extra(&self, _now: OffsetDateTime) {}

    fn filters(&self, query: &TableQuery<FindingColumn>) -> Vec<FilterControl> {
        selects_over(&self.findings, query, FILTERS)
    }

    fn page(
        &self,
        chrome: Chrome,
        frame: TableFrame<FindingColumn>,
        rows: Vec<FindingCells>,
    ) -> Result<Response, AppError> {
        let open = self.findings.iter().filter(|f| f.state != FindingState::Resolved).count();
        html(&CopPage { chrome, frame, rows, open, token: self.token.clone() })
    }

    fn region(
        &self,
        frame: TableFrame<FindingColumn>,
        rows: Vec<FindingCells>,
    ) -> Result<Response, AppError> {
        html(&CopRegion { frame, rows, token: self.token.clone() })
    }
}

/// `GET /cop`.
pub async fn list(
    State(state): State<AppState>,
    user: polo_web::CurrentUser,
    chrome: Chrome,
    htmx: Htmx,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let fields: Vec<FilterField> = FILTERS.iter().map(|(field, _)| *field).collect();
    let query = TableQuery::<FindingColumn>::parse(raw.as_deref(), &request_headers, &fields)?;
    let now = state.clock.now();
    let findings = state
        .findings
        .all_findings()
        .await?
        .into_iter()
        .map(|finding| Stated { state: finding.state(now), finding })
        .collect();
    let may_act = user.role == polo_core::ports::Role::Operator && state.finding_store.is_some();
    let token = if may_act { user.form_token(&state) } else { None };
    respond(&state, chrome, htmx, &FindingsTable { findings, token }, query).await
}
