//! One path for every table route: the handler parses the query and loads its data; then
//! [`respond`] lists the rows and answers one page as HTML (the whole page, or the table
//! region an htmx request asked for) or JSON, or every row as CSV. A new table is a
//! [`Table`] implementation (its rows, items and cells) and its two templates.

use axum::response::Response;
use polo_core::listing::{Column, Page};
use serde::Serialize;
use time::OffsetDateTime;

use crate::request::htmx::Htmx;
use crate::request::params::TableQuery;
use crate::response::respond::{csv_export, json};
use crate::table::filters::{FilterControl, HeaderCell, Pager, headers};
use crate::table::tabular::{CsvRow, rows_to_csv};
use crate::{AppError, AppState, Chrome, Format};

/// What a table page shows around its rows, the same for every kind of row.
pub struct TableFrame<C> {
    pub query: TableQuery<C>,
    pub headers: Vec<HeaderCell>,
    /// Empty in a partial answer (it has no filter controls).
    pub filters: Vec<FilterControl>,
    /// `(sort parameter, label)`: every shown column both ways.
    pub sort_options: Vec<(String, String)>,
    /// The current `sort` parameter, empty for the default order.
    pub sort_param: String,
    pub pager: Pager,
}

/// The JSON list envelope of CONTRACT.md, plus what a table adds (flattened).
#[derive(Serialize)]
struct ListBody<I, E> {
    items: Vec<I>,
    total: usize,
    page: usize,
    per_page: usize,
    #[serde(flatten)]
    extra: E,
}

/// A short list given whole as JSON, in the list envelope (one page holding every item).
pub fn json_whole<I: Serialize>(items: Vec<I>) -> Result<Response, AppError> {
    let total = items.len();
    json(&ListBody { items, total, page: 1, per_page: total.max(1), extra: () })
}

/// One kind of table, over the data its handler loaded.
pub trait Table {
    /// The sortable columns.
    type Column: Column;
    /// One listed row, borrowing the table's data.
    type Row<'a>
    where
        Self: 'a;
    /// A row as JSON and CSV give it.
    type Item<'a>: Serialize + CsvRow
    where
        Self: 'a;
    /// A row ready to print.
    type Cells;
    /// What the JSON envelope adds to `items`, `total`, `page` and `per_page`.
    type Extra<'a>: Serialize
    where
        Self: 'a;

    /// The columns the HTML table shows: column, label, right-aligned.
    const SHOWN: &'static [(Self::Column, &'static str, bool)];
    /// The CSV header: the JSON item keys, in order.
    const CSV_COLUMNS: &'static [&'static str];

    /// The CSV download's file name.
    fn csv_name(&self) -> String;
    /// The rows the query selects, sorted.
    fn rows<'a>(&'a self, query: &TableQuery<Self::Column>) -> Vec<Self::Row<'a>>;
    /// One page of the rows the query selects, when the table finds it without listing every
    /// row (a cold start's first page); `None`, the default, lists them and cuts the page.
    fn page_alone<'a>(&'a self, _query: &TableQuery<Self::Column>) -> Option<Page<Self::Row<'a>>> {
        None
    }
    /// A row as JSON and CSV give it.
    fn item<'a>(&'a self, row: &Self::Row<'a>) -> Self::Item<'a>;
    /// A row ready to print at `now`.
    fn cells(&self, row: &Self::Row<'_>, now: OffsetDateTime) -> Self::Cells;
    /// The envelope's additions at `now`.
    fn extra(&self, now: OffsetDateTime) -> Self::Extra<'_>;
    /// Rows the CSV adds after the listed ones (totals).
    fn csv_footer(&self) -> Vec<Self::Item<'_>> {
        Vec::new()
    }
    /// The filter controls of the whole page, counted for the query.
    fn filters(&self, _query: &TableQuery<Self::Column>) -> Vec<FilterControl> {
        Vec::new()
    }
    /// Renders the whole page.
    fn page(
        &self,
        chrome: Chrome,
        frame: TableFrame<Self::Column>,
        rows: Vec<Self::Cells>,
    ) -> Result<Response, AppError>;
    /// Renders the table region alone (an htmx swap).
    fn region(&self, frame: TableFrame<Self::Column>, rows: Vec<Self::Cells>) -> Result<Response, AppError>;
}

/// Answers `query` over `table` in the format it asked for.
pub async fn respond<T: Table>(
    state: &AppState,
    chrome: Chrome,
    htmx: Htmx,
    table: &T,
    query: TableQuery<T::Column>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let page = || table.page_alone(&query).unwrap_or_else(|| Page::of(table.rows(&query), query.page));
    match query.format {
        Format::Csv => {
            let rows = table.rows(&query);
            let items = rows.iter().map(|r| table.item(r)).chain(table.csv_footer());
            csv_export(state, rows_to_csv(T::CSV_COLUMNS, items)?, &table.csv_name()).await
        }
        Format::Json => {
            let page = page();
            json(&ListBody {
                items: page.items.iter().map(|r| table.item(r)).collect::<Vec<_>>(),
                total: page.total,
                page: page.page,
                per_page: page.per_page,
                extra: table.extra(now),
            })
        }
        Format::Html => {
            let page = page();
            let cells = page.items.iter().map(|r| table.cells(r, now)).collect();
            let filters = if htmx.partial { Vec::new() } else { table.filters(&query) };
            let frame = TableFrame {
                headers: headers(&query, T::SHOWN),
                filters,
                sort_options: sort_options(T::SHOWN),
                sort_param: query.sort.map(|s| s.param()).unwrap_or_default(),
                pager: Pager::new(&query, &page),
                query,
            };
            if htmx.partial {
                table.region(frame, cells)
            } else {
                let chrome = chrome.with_search(frame.query.filters.text());
                table.page(chrome, frame, cells)
            }
        }
    }
}

/// Sort choices for the form: every column both ways, labelled as the table shows it.
fn sort_options<C: Column>(shown: &[(C, &'static str, bool)]) -> Vec<(String, String)> {
    C::ALL
        .iter()
        .flat_map(|&c| {
            let label = shown.iter().find(|s| s.0 == c).map_or(c.name(), |s| s.1);
            [(c.name().to_owned(), format!("{label} ↑")), (format!("-{}", c.name()), format!("{label} ↓"))]
        })
        .collect()
}

/// The rows of a small in-memory table that pass `query`'s filters and free text, sorted
/// by its `sort` through `compare` (else by `default`): the `rows` of reports and findings.
pub fn filter_and_sort<'a, R: polo_core::listing::Filterable, C: Column>(
    items: &'a [R],
    query: &TableQuery<C>,
    compare: impl Fn(&R, &R, C) -> std::cmp::Ordering,
    default: impl Fn(&R, &R) -> std::cmp::Ordering,
) -> Vec<&'a R> {
    let mut rows: Vec<&R> = items.iter().filter(|r| query.filters.matches_own(*r)).collect();
    rows.sort_by(|a, b| match query.sort {
        Some(sort) => {
            let o = compare(a, b, sort.column);
            let o = if sort.direction == polo_core::listing::Direction::Descending { o.reverse() } else { o };
            o.then_with(|| default(a, b))
        }
        None => default(a, b),
    });
    rows
}

/// The filter selects of a small in-memory table (reports, findings): each of `fields` with
/// the values its rows have, counted under the query's free text and *other* filters, as
/// the inventory tables count theirs.
pub fn selects_over<R: polo_core::listing::Filterable, C>(
    items: &[R],
    query: &TableQuery<C>,
    fields: &[(polo_core::listing::FilterField, &'static str)],
) -> Vec<FilterControl> {
    FilterControl::selects(query, fields, &polo_core::listing::facets_for(items, &query.filters))
}
