//! `GET /costs/changes?dimension=index|customer|account&from=&to=`: every key's change in
//! cost between two periods (by default the last 7 complete days against the 7 before),
//! split into fleet size, instance mix, price and other, with the events behind each
//! (`polo_core::cost_changes`). A table like every other: free text, sort, paging, htmx,
//! JSON (items with their causes and events) and CSV (a column per cause).

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::cost_changes::{
    CauseKind, ChangeColumn, Comparison, ComparisonError, CostChange, explained_from, list_changes, signed,
};
use polo_core::costs::Breakdown;
use polo_core::listing::FilterField;
use polo_web::request::{Htmx, TableQuery};
use polo_web::response::html;
use polo_web::table::{Cells, CsvRow, Table, TableFrame, respond};
use polo_web::{AppError, AppState, Chrome};
use serde::Serialize;
use time::{Date, OffsetDateTime};

use crate::table::urlencode;

/// The breakdowns changes can be explained for: those a fleet stands behind.
pub const EXPLAINED: [Breakdown; 3] = [Breakdown::Index, Breakdown::Customer, Breakdown::Account];

const SHOWN: &[(ChangeColumn, &str, bool)] = &[
    (ChangeColumn::Key, "Key", false),
    (ChangeColumn::Name, "Name", false),
    (ChangeColumn::Before, "Before", true),
    (ChangeColumn::After, "After", true),
    (ChangeColumn::Change, "Change", true),
    (ChangeColumn::FleetSize, "Fleet size", true),
    (ChangeColumn::InstanceMix, "Instance mix", true),
    (ChangeColumn::Price, "Price", true),
    (ChangeColumn::Other, "Other", true),
];

const CSV_COLUMNS: &[&str] =
    &["key", "name", "before", "after", "change", "fleet_size", "instance_mix", "price", "other"];

/// The periods and dimension of a request.
pub struct Asked {
    pub dimension: Breakdown,
    /// `None`: no cost data to compare yet.
    pub comparison: Option<Comparison>,
}

fn date(param: &str, text: &str) -> Result<Date, AppError> {
    Date::parse(text, time::macros::format_description!("[year]-[month]-[day]")).map_err(|_| {
        AppError::bad_param(param, format!("{param} must be a date like 2026-11-15, not {text:?}"))
    })
}

/// The one value of `field`, if given.
fn single<'a>(values: Option<&'a [String]>, param: &str) -> Result<Option<&'a str>, AppError> {
    match values {
        None => Ok(None),
        Some([one]) => Ok(Some(one.as_str())),
        Some(_) => Err(AppError::bad_param(param, format!("{param} takes one value"))),
    }
}

/// Reads `dimension`, `from` and `to` (both or neither) against `store`.
pub fn asked(
    dimension: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    store: &polo_core::model::CostStore,
) -> Result<Asked, AppError> {
    let dimension = match dimension {
        None => Breakdown::Index,
        Some(d) => Breakdown::from_param(d).filter(|b| EXPLAINED.contains(b)).ok_or_else(|| {
            AppError::bad_param(
                "dimension",
                format!("dimension must be index, customer or account, not {d:?}"),
            )
        })?,
    };
    let comparison = match (from, to) {
        (None, None) => match Comparison::default_for(store) {
            Ok(c) => Some(c),
            Err(ComparisonError::NoData) => None,
            Err(e) => return Err(AppError::bad_param("from", e.to_string())),
        },
        (Some(f), Some(t)) => Some(
            Comparison::of(date("from", f)?, date("to", t)?)
                .map_err(|e| AppError::bad_param("from", e.to_string()))?,
        ),
        (Some(_), None) => return Err(AppError::bad_param("to", "give to with from: the last day compared")),
        (None, Some(_)) => {
            return Err(AppError::bad_param("from", "give from with to: the first day compared"));
        }
    };
    Ok(Asked { dimension, comparison })
}

/// A change as JSON and CSV give it: JSON with its events, written as it is serialized
/// (the CSV has only the amounts, and never pays for them).
struct ChangeItem<'a> {
    change: &'a CostChange,
    table: &'a ChangesTable,
}

impl Serialize for ChangeItem<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.table.shown(self.change).serialize(serializer)
    }
}

impl CsvRow for ChangeItem<'_> {
    fn write_cells(&self, cells: &mut Cells<'_>) {
        let c = self.change;
        cells.text(&c.key);
        cells.text(&c.name);
        for money in [c.before, c.after, c.change] {
            cells.display(money);
        }
        for kind in CauseKind::ALL {
            cells.display(c.amount_of(kind));
        }
    }
}

/// What the JSON envelope adds: the periods and what the causes rest on.
#[derive(Serialize)]
struct Envelope {
    dimension: &'static str,
    /// `amortized`, `net_amortized` or `unblended`: what every amount is.
    metric: &'static str,
    comparison: Option<Comparison>,
    /// The first day the usage ledger knows what ran: compute causes before it are unknown.
    usage_from: Option<Date>,
}

/// A change ready to print.
pub struct ChangeCells {
    pub key: String,
    pub name: String,
    pub href: String,
    pub before: String,
    pub after: String,
    pub change: String,
    pub causes: Vec<String>,
    /// The largest cause, in a line.
    pub top: Option<String>,
}

struct ChangesTable {
    asked: Asked,
    items: std::sync::Arc<Vec<CostChange>>,
    /// The ledger the changes were split from: the events of the rows shown come from it.
    usage: std::sync::Arc<polo_core::model::UsageLedger>,
    metric: polo_core::model::CostMetric,
    usage_from: Option<Date>,
}

#[derive(Template)]
#[template(path = "costs/changes.html")]
struct ChangesPage {
    chrome: Chrome,
    dimension: &'static str,
    /// `2026-11-08 – 2026-11-14`, and the after period.
    before: String,
    after: String,
    from: String,
    to: String,
    metric: &'static str,
    /// Why compute causes may be incomplete (the ledger starts inside the periods).
    ledger_note: Option<String>,
    frame: TableFrame<ChangeColumn>,
    rows: Vec<ChangeCells>,
}

#[derive(Template)]
#[template(path = "costs/changes_region.html")]
struct ChangesRegion {
    frame: TableFrame<ChangeColumn>,
    rows: Vec<ChangeCells>,
}

impl ChangesPage {
    #[allow(clippy::unused_self)] // askama calls it on the page
    fn dimensions(&self) -> [(&'static str, &'static str); 3] {
        [("index", "Indexes"), ("customer", "Customers"), ("account", "Accounts")]
    }
}

impl ChangesTable {
    /// `row` with its events written.
    fn shown(&self, row: &CostChange) -> CostChange {
        match &self.asked.comparison {
            Some(cmp) => row.with_events(&self.usage, cmp),
            None => row.clone(),
        }
    }

    fn query_of_periods(&self) -> String {
        self.asked.comparison.map(|c| format!("?from={}&to={}", c.from, c.to)).unwrap_or_default()
    }
}

impl Table for ChangesTable {
    type Column = ChangeColumn;
    type Row<'a> = &'a CostChange;
    type Item<'a> = ChangeItem<'a>;
    type Cells = ChangeCells;
    type Extra<'a> = Envelope;

    const SHOWN: &'static [(ChangeColumn, &'static str, bool)] = SHOWN;
    const CSV_COLUMNS: &'static [&'static str] = CSV_COLUMNS;

    fn csv_name(&self) -> String {
        match self.asked.comparison {
            Some(c) => format!("cost-changes-{}-{}-{}.csv", self.asked.dimension.as_str(), c.from, c.to),
            None => format!("cost-changes-{}.csv", self.asked.dimension.as_str()),
        }
    }

    fn rows<'a>(&'a self, query: &TableQuery<ChangeColumn>) -> Vec<&'a CostChange> {
        let terms: Vec<String> = query.filters.text().split_whitespace().map(str::to_lowercase).collect();
        list_changes(&self.items, &terms, query.sort)
    }

    fn item<'a>(&'a self, row: &&'a CostChange) -> ChangeItem<'a> {
        ChangeItem { change: row, table: self }
    }

    fn cells(&self, row: &&CostChange, _now: OffsetDateTime) -> ChangeCells {
        let days = self.asked.comparison.map_or(7, |c| c.days());
        let row = &self.shown(row);
        ChangeCells {
            key: row.key.clone(),
            name: row.name.clone(),
            href: format!(
                "/costs/{}/{}{}",
                self.asked.dimension.as_str(),
                urlencode(&row.key),
                self.query_of_periods()
            ),
            before: row.before.to_grouped_cents(),
            after: row.after.to_grouped_cents(),
            change: signed(row.change),
            causes: CauseKind::ALL.iter().map(|k| signed(row.amount_of(*k))).collect(),
            top: row.lines(days, 1).into_iter().next(),
        }
    }

    fn extra(&self, _now: OffsetDateTime) -> Envelope {
        Envelope {
            dimension: self.asked.dimension.as_str(),
            metric: self.metric.as_str(),
            comparison: self.asked.comparison,
            usage_from: self.usage_from,
        }
    }

    fn page(
        &self,
        chrome: Chrome,
        frame: TableFrame<ChangeColumn>,
        rows: Vec<ChangeCells>,
    ) -> Result<Response, AppError> {
        let c = self.asked.comparison;
        let range = |a: Date, b: Date| format!("{a} – {b}");
        html(&ChangesPage {
            chrome,
            dimension: self.asked.dimension.as_str(),
            before: c.map(|c| range(c.before_from, c.before_to)).unwrap_or_default(),
            after: c.map(|c| range(c.from, c.to)).unwrap_or_default(),
            from: c.map(|c| c.from.to_string()).unwrap_or_default(),
            to: c.map(|c| c.to.to_string()).unwrap_or_default(),
            metric: self.metric.title(),
            ledger_note: ledger_note(self.usage_from, c),
            frame,
            rows,
        })
    }

    fn region(&self, frame: TableFrame<ChangeColumn>, rows: Vec<ChangeCells>) -> Result<Response, AppError> {
        html(&ChangesRegion { frame, rows })
    }
}

/// What a page says when the ledger begins after the before period starts.
pub fn ledger_note(usage_from: Option<Date>, c: Option<Comparison>) -> Option<String> {
    let c = c?;
    match usage_from {
        None => Some("No usage ledger yet: the sync keeps one from its next run, and until then every change is other.".to_owned()),
        Some(first) if first > c.before_from => Some(format!(
            "The usage ledger explains days from {first}: instances that ran and ended before then are not in it, so the compute causes of earlier days are incomplete (fleet size overstated by what they cost)."
        )),
        Some(_) => None,
    }
}

/// `GET /costs/changes`.
pub async fn list(
    State(state): State<AppState>,
    chrome: Chrome,
    htmx: Htmx,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let query = TableQuery::<ChangeColumn>::parse(
        raw.as_deref(),
        &request_headers,
        &[FilterField::Dimension, FilterField::From, FilterField::To],
    )?;
    let (fleet, store, usage) =
        tokio::try_join!(state.fleet.fleet(), state.costs.costs(), state.usage.usage())?;
    let f = &query.filters;
    let asked = asked(
        single(f.values(FilterField::Dimension), "dimension")?,
        single(f.values(FilterField::From), "from")?,
        single(f.values(FilterField::To), "to")?,
        &store,
    )?;
    let items = asked
        .comparison
        .map(|c| state.cost_changes(&store, &usage, &fleet, asked.dimension, &c))
        .unwrap_or_default();
    let usage_from = explained_from(&usage);
    let table = ChangesTable { asked, items, usage, metric: store.metric, usage_from };
    respond(&state, chrome, htmx, &table, query).await
}
