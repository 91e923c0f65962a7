//! Every list page: filters, sort and pages over rows, in HTML, htmx fragments, JSON and CSV
//! (large CSVs as exports).

pub(crate) mod filters;
pub(crate) mod route;
pub(crate) mod tabular;

pub use filters::FilterControl;
pub use route::{Table, TableFrame, filter_and_sort, json_whole, respond, selects_over};
pub use tabular::{Cells, CsvRow, rows_to_csv, to_csv};
