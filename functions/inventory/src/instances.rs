//! `/instances` and `/instances/{id}`.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::listing::{
    FilterField, INSTANCE_FILTERS, InstanceColumn, InstanceRow, Page, PendingPage, list_instances,
};
use polo_core::model::{Fleet, Instance, InstanceState, ResourceKind, resolve};
use polo_core::pricing::PriceTable;
use polo_core::text::{age, ago, rfc3339};
use polo_web::request::Htmx;
use polo_web::request::PathId;
use polo_web::request::{TableQuery, detail_format};
use polo_web::response::{csv, html, json};
use polo_web::table::FilterControl;
use polo_web::table::rows_to_csv;
use polo_web::table::{Table, TableFrame, respond};
use polo_web::{AppError, AppState, Chrome, Format};
use time::OffsetDateTime;

use crate::items::{INSTANCE_COLUMNS, InstanceItem};

/// The columns the HTML table shows, each sortable.
const SHOWN: &[(InstanceColumn, &str, bool)] = &[
    (InstanceColumn::Id, "Instance", false),
    (InstanceColumn::Name, "Name", false),
    (InstanceColumn::Account, "Account", false),
    (InstanceColumn::Region, "Region", false),
    (InstanceColumn::Az, "AZ", false),
    (InstanceColumn::Type, "Type", false),
    (InstanceColumn::State, "State", false),
    (InstanceColumn::StateSince, "Since", false),
    (InstanceColumn::Lifecycle, "Lifecycle", false),
    (InstanceColumn::LaunchTime, "Launched", false),
    (InstanceColumn::PrivateIp, "Private IP", false),
    (InstanceColumn::Owner, "Owner", false),
    (InstanceColumn::Index, "Index", false),
    (InstanceColumn::Customer, "Customer", false),
    (InstanceColumn::HourlyCost, "$/hour", true),
];

/// The select filters of the page, each with the values the other filters leave.
const SELECTS: &[(FilterField, &str)] = &[
    (FilterField::Account, "Account"),
    (FilterField::Region, "Region"),
    (FilterField::State, "State"),
    (FilterField::Type, "Type"),
    (FilterField::Owner, "Owner"),
    (FilterField::Customer, "Customer"),
];

/// One table row, ready to print.
pub struct InstanceCells {
    pub id: String,
    pub name: String,
    pub account: String,
    pub region: String,
    pub az: String,
    pub instance_type: String,
    pub state: &'static str,
    pub state_tone: &'static str,
    pub state_since: String,
    pub state_since_at: String,
    pub lifecycle: &'static str,
    pub launched: String,
    pub launch_time: String,
    pub private_ip: String,
    pub owner: String,
    pub index: String,
    pub index_known: bool,
    pub customer: String,
    pub hourly: String,
}

/// A Tailwind tone for a state badge.
pub fn state_tone(state: InstanceState) -> &'static str {
    match state {
        InstanceState::Running => "bg-emerald-100 text-emerald-800 dark:bg-emerald-900 dark:text-emerald-100",
        InstanceState::Pending | InstanceState::Stopping | InstanceState::Unknown => {
            "bg-amber-100 text-amber-800 dark:bg-amber-900 dark:text-amber-100"
        }
        InstanceState::Stopped => "bg-slate-200 text-slate-700 dark:bg-slate-700 dark:text-slate-100",
        InstanceState::ShuttingDown | InstanceState::Terminated => {
            "bg-rose-100 text-rose-800 dark:bg-rose-900 dark:text-rose-100"
        }
    }
}

impl InstanceCells {
    /// Formats an instance for the table; `index_known` says whether its index exists.
    pub fn new(
        instance: &Instance,
        hourly: Option<polo_core::Money>,
        index_known: bool,
        now: OffsetDateTime,
    ) -> Self {
        InstanceCells {
            id: instance.id.clone(),
            name: instance.name.as_deref().unwrap_or_default().to_owned(),
            account: instance.account.to_string(),
            region: instance.region.to_string(),
            az: instance.az.to_string(),
            instance_type: instance.instance_type.to_string(),
            state: instance.state.as_str(),
            state_tone: state_tone(instance.state),
            state_since: instance.state_since.map(|t| age(t, now)).unwrap_or_default(),
            state_since_at: instance.state_since.map(rfc3339).unwrap_or_default(),
            lifecycle: instance.lifecycle.as_str(),
            launched: age(instance.launch_time, now),
            launch_time: rfc3339(instance.launch_time),
            private_ip: instance.private_ip.clone().unwrap_or_default(),
            owner: instance.owner.as_deref().unwrap_or_default().to_owned(),
            index: instance.index.as_deref().unwrap_or_default().to_owned(),
            index_known,
            customer: instance.customer.as_deref().unwrap_or_default().to_owned(),
            hourly: hourly.map_or_else(|| "unpriced".to_owned(), |m| m.to_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "inventory/instances_region.html")]
struct InstancesRegion {
    frame: TableFrame<InstanceColumn>,
    rows: Vec<InstanceCells>,
}

#[derive(Template)]
#[template(path = "inventory/instances.html")]
struct InstancesPage {
    chrome: Chrome,
    frame: TableFrame<InstanceColumn>,
    rows: Vec<InstanceCells>,
}

/// The instances table over one fleet.
struct InstancesTable {
    fleet: Arc<Fleet>,
    prices: Arc<PriceTable>,
    /// The page asked for, built alone while the instances are still pending.
    pending: Option<PendingPage>,
}

impl Table for InstancesTable {
    type Column = InstanceColumn;
    type Row<'a> = InstanceRow<'a>;
    type Item<'a> = InstanceItem<'a>;
    type Cells = InstanceCells;
    type Extra<'a> = ();

    const SHOWN: &'static [(InstanceColumn, &'static str, bool)] = SHOWN;
    const CSV_COLUMNS: &'static [&'static str] = INSTANCE_COLUMNS;

    fn csv_name(&self) -> String {
        "instances.csv".to_owned()
    }

    fn rows<'a>(&'a self, query: &TableQuery<InstanceColumn>) -> Vec<InstanceRow<'a>> {
        list_instances(&self.fleet, &query.filters, query.sort, &self.prices)
    }

    fn page_alone<'a>(&'a self, _query: &TableQuery<InstanceColumn>) -> Option<Page<InstanceRow<'a>>> {
        Some(self.pending.as_ref()?.page(&self.prices))
    }

    fn item<'a>(&'a self, row: &InstanceRow<'a>) -> InstanceItem<'a> {
        InstanceItem::from(row)
    }

    fn cells(&self, row: &InstanceRow<'_>, now: OffsetDateTime) -> InstanceCells {
        let known = row.instance.index.as_deref().is_some_and(|x| self.fleet.index(x).is_some());
        InstanceCells::new(row.instance, row.hourly_cost, known, now)
    }

    fn extra(&self, _now: OffsetDateTime) {}

    fn filters(&self, query: &TableQuery<InstanceColumn>) -> Vec<FilterControl> {
        fleet_filters(query, SELECTS, &self.fleet.instance_facets_for(&query.filters))
    }

    fn page(
        &self,
        chrome: Chrome,
        frame: TableFrame<InstanceColumn>,
        rows: Vec<InstanceCells>,
    ) -> Result<Response, AppError> {
        html(&InstancesPage { chrome, frame, rows })
    }

    fn region(
        &self,
        frame: TableFrame<InstanceColumn>,
        rows: Vec<InstanceCells>,
    ) -> Result<Response, AppError> {
        html(&InstancesRegion { frame, rows })
    }
}

/// `GET /instances`: the filtered, sorted, paged table as HTML, JSON or CSV.
pub async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    htmx: Htmx,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let query = TableQuery::<InstanceColumn>::parse(raw.as_deref(), &request_headers, &INSTANCE_FILTERS)?;
    let fleet = state.fleet.fleet().await?;
    // A page of the default view reads its rows alone while the instances are unbuilt; not a
    // download (every row), nor a whole page whose filter menus must count every instance
    // (a snapshot without the sync's facets).
    let counts_every_row = query.format == Format::Html && !htmx.partial && !fleet.instance_facets_counted();
    let pending = (query.format != Format::Csv && !counts_every_row)
        .then(|| PendingPage::of(&fleet, &query.filters, query.sort, query.page))
        .flatten();
    let table = InstancesTable { fleet, prices: state.prices.clone(), pending };
    respond(&state, chrome, htmx, &table, query).await
}

#[derive(Template)]
#[template(path = "inventory/instance.html")]
struct InstancePage {
    chrome: Chrome,
    cells: InstanceCells,
    account_id: String,
    monthly: String,
    index_name: Option<String>,
    /// The account and region of the index its tag resolves to.
    index_scope: Option<(String, String)>,
    siblings: Vec<InstanceCells>,
    tags: Vec<(String, String)>,
    age: String,
    history: Vec<HistoryRow>,
    /// `Err` (why) when the findings could not be read: the rest of the page still shows.
    findings: Result<Vec<FindingRow>, &'static str>,
}

/// One change of a resource, ready to print.
pub struct HistoryRow {
    pub at: String,
    pub ago: String,
    pub what: String,
}

/// One finding, ready to print.
pub struct FindingRow {
    pub rule: String,
    pub severity: &'static str,
    pub message: String,
    pub first_seen: String,
    pub open: bool,
    pub resolved: String,
}

/// The rows of `findings`, as the reader ordered them.
pub fn finding_rows(findings: &[polo_core::model::Finding], now: OffsetDateTime) -> Vec<FindingRow> {
    findings
        .iter()
        .map(|f| FindingRow {
            rule: f.rule.clone(),
            severity: f.severity.as_str(),
            message: f.message.clone(),
            first_seen: ago(f.first_seen, now),
            open: f.resolved_at.is_none(),
            resolved: f.resolved_at.map(|t| ago(t, now)).unwrap_or_default(),
        })
        .collect()
}

/// The history rows of `changes`, newest first.
pub fn history_rows(changes: &[polo_core::model::Change], now: OffsetDateTime) -> Vec<HistoryRow> {
    changes
        .iter()
        .rev()
        .map(|c| HistoryRow { at: rfc3339(c.at), ago: ago(c.at, now), what: c.what.describe() })
        .collect()
}

/// `GET /instances/{id}`: everything about one instance.
pub async fn detail(
    State(state): State<AppState>,
    chrome: Chrome,
    PathId(id): PathId,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let format = detail_format(raw.as_deref(), &request_headers)?;
    let instance = state
        .resources
        .instance(&id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no instance {id:?} in the inventory")))?;
    let hourly = state.prices.instance_hourly(&instance);
    let item = InstanceItem { instance: &instance, hourly_cost: hourly };
    match format {
        Format::Json => json(&item),
        Format::Csv => csv(rows_to_csv(INSTANCE_COLUMNS, [&item])?, &format!("{}.csv", instance.id)),
        Format::Html => {
            let now = state.clock.now();
            // The tag resolves in the instance's own account and region first.
            let index = match &instance.index {
                Some(index_id) => {
                    let scopes = state.resources.indexes(index_id).await?;
                    resolve(&scopes.iter().collect::<Vec<_>>(), &instance.account, &instance.region).cloned()
                }
                None => None,
            };
            let siblings = match &index {
                Some(index) => state
                    .resources
                    .instances_of_index(index)
                    .await?
                    .iter()
                    .filter(|i| i.id != instance.id)
                    .map(|i| InstanceCells::new(i, state.prices.instance_hourly(i), true, now))
                    .collect(),
                None => Vec::new(),
            };
            html(&InstancePage {
                chrome,
                cells: InstanceCells::new(&instance, hourly, index.is_some(), now),
                account_id: instance.account_id.to_string(),
                monthly: hourly
                    .map_or_else(|| "unpriced".to_owned(), |h| h.hourly_to_monthly().to_grouped_cents()),
                index_scope: index.as_ref().map(|i| (i.account.clone(), i.region.clone())),
                index_name: index.map(|i| i.name),
                siblings,
                tags: instance.tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                age: age(instance.launch_time, now),
                history: history_rows(
                    &state.resources.history(ResourceKind::Instances, &instance.id).await?,
                    now,
                ),
                findings: state
                    .findings
                    .findings_for(ResourceKind::Instances, &instance.id)
                    .await
                    .map(|f| finding_rows(&f, now))
                    .map_err(|e| polo_web::response::unavailable("findings", &e)),
            })
        }
    }
}

/// The filter controls of a fleet table: a select per `selects` field counted from
/// `facets`, then the index id as a text box.
pub fn fleet_filters<C>(
    query: &TableQuery<C>,
    selects: &[(FilterField, &'static str)],
    facets: &polo_core::model::Facets,
) -> Vec<FilterControl> {
    let mut filters = FilterControl::selects(query, selects, facets);
    filters.push(FilterControl::text(query, FilterField::Index, "Index id"));
    filters
}
