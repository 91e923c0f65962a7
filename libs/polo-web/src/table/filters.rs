//! What every HTML table page shows around its rows: sortable headers, filter controls and
//! the pager, built from the parsed query so links keep the rest of the view.

use polo_core::listing::{Column, Direction, FilterField, Page, Sort};

use crate::request::params::{TableQuery, escape_value};

/// A column header: its label and the link that sorts by it.
#[derive(Clone, Debug)]
pub struct HeaderCell {
    pub label: &'static str,
    pub href: String,
    /// `ascending`, `descending` or `none`, for `aria-sort`.
    pub aria_sort: &'static str,
    /// ▲, ▼ or nothing.
    pub arrow: &'static str,
    /// Right-aligned (numbers, money).
    pub numeric: bool,
}

/// The headers of `columns` (column, label, numeric), each linking to sort by it: first
/// ascending, descending when it is already the ascending sort.
pub(crate) fn headers<C: Column>(
    query: &TableQuery<C>,
    columns: &[(C, &'static str, bool)],
) -> Vec<HeaderCell> {
    columns
        .iter()
        .map(|&(column, label, numeric)| {
            let current = query.sort.filter(|s| s.column == column).map(|s| s.direction);
            let next = match current {
                Some(Direction::Ascending) => Sort { column, direction: Direction::Descending },
                _ => Sort { column, direction: Direction::Ascending },
            };
            let (aria_sort, arrow) = match current {
                Some(Direction::Ascending) => ("ascending", "▲"),
                Some(Direction::Descending) => ("descending", "▼"),
                None => ("none", ""),
            };
            HeaderCell { label, href: query.link(Some(&next), 1), aria_sort, arrow, numeric }
        })
        .collect()
}

/// One filter control: a select of the values seen (with counts), or a free text box.
#[derive(Clone, Debug)]
pub struct FilterControl {
    pub param: &'static str,
    pub label: &'static str,
    /// The value as typed or selected, as the parameter takes it (several comma-joined,
    /// commas inside a value escaped as `\,`).
    pub current: String,
    /// `(value, count)`; empty means a text box.
    pub options: Vec<(String, usize)>,
}

impl FilterControl {
    /// A select over `counts` (value, rows), in their order.
    pub fn select<C>(
        query: &TableQuery<C>,
        field: FilterField,
        label: &'static str,
        counts: &[(String, usize)],
    ) -> Self {
        let options = counts.to_vec();
        FilterControl { param: field.param(), label, current: current(query, field), options }
    }

    /// One select per `(field, label)`, each counted from `facets`.
    pub fn selects<C>(
        query: &TableQuery<C>,
        fields: &[(FilterField, &'static str)],
        facets: &polo_core::model::Facets,
    ) -> Vec<Self> {
        fields
            .iter()
            .map(|&(field, label)| {
                FilterControl::select(query, field, label, facets.get(&field).map_or(&[][..], Vec::as_slice))
            })
            .collect()
    }

    /// A text box.
    pub fn text<C>(query: &TableQuery<C>, field: FilterField, label: &'static str) -> Self {
        FilterControl { param: field.param(), label, current: current(query, field), options: Vec::new() }
    }

    /// A value is filtered on that the options do not list (typed into the URL, say).
    pub fn current_is_unlisted(&self) -> bool {
        !self.current.is_empty() && !self.options.iter().any(|(value, _)| self.is_selected(value))
    }

    /// Is `value` the selected one?
    pub fn is_selected(&self, value: &str) -> bool {
        self.current == escape_value(value)
    }

    /// What an option of `value` submits: commas inside it escaped, so it stays one value.
    pub fn submitted(&self, value: &str) -> String {
        escape_value(value)
    }
}

fn current<C>(query: &TableQuery<C>, field: FilterField) -> String {
    query
        .filters
        .values(field)
        .map(|v| v.iter().map(|x| escape_value(x)).collect::<Vec<_>>().join(","))
        .unwrap_or_default()
}

/// Where a page stands, with links to its neighbours.
#[derive(Clone, Debug)]
pub struct Pager {
    pub first_row: usize,
    pub last_row: usize,
    pub total: usize,
    pub page: usize,
    pub page_count: usize,
    pub per_page: usize,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub first_href: Option<String>,
    pub last_href: Option<String>,
    /// The same view as JSON and as CSV.
    pub json_href: String,
    pub csv_href: String,
}

impl Pager {
    /// The pager of `page` within the view `query` describes.
    pub fn new<C: Column, T>(query: &TableQuery<C>, page: &Page<T>) -> Pager {
        let count = page.page_count();
        let link = |n: usize| query.link(query.sort.as_ref(), n);
        Pager {
            first_row: page.first_row(),
            last_row: page.last_row(),
            total: page.total,
            page: page.page,
            page_count: count,
            per_page: page.per_page,
            prev_href: (page.page > 1).then(|| link((page.page - 1).min(count))),
            next_href: (page.page < count).then(|| link(page.page + 1)),
            first_href: (page.page > 1).then(|| link(1)),
            last_href: (page.page < count).then(|| link(count)),
            json_href: query.link_as("json"),
            csv_href: query.link_as("csv"),
        }
    }
}
