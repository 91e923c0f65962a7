//! Filtering, sorting and paging of the inventory tables, independent of how a request
//! spelled them.

mod columns;
mod facets;
mod filter;
mod indexes;
mod instances;
mod page;

pub use columns::{Columns, RowSet, TextRows};
pub use facets::{FACETS_FORMAT, Facets, all_facets, facets_for, view_facets};
pub use filter::{FilterField, Filterable, Filters, NONE_VALUE, haystack};
pub use indexes::{INDEX_FILTERS, IndexColumn, IndexRow, Judged, drift_labels, index_order_of, list_indexes};
pub use instances::{
    INSTANCE_FILTERS, InstanceColumn, InstanceOrders, InstanceRow, PendingPage, list_instances,
};
pub use page::{DEFAULT_PER_PAGE, MAX_PER_PAGE, Page, PageRequest};

/// Ascending or descending.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    Ascending,
    Descending,
}

/// A column and a direction: `sort=name` or `sort=-name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort<C> {
    pub column: C,
    pub direction: Direction,
}

impl<C: Column> Sort<C> {
    /// Parses `COLUMN` or `-COLUMN`; `None` for a column the table does not have.
    pub fn parse(text: &str) -> Option<Self> {
        let (direction, name) = match text.strip_prefix('-') {
            Some(rest) => (Direction::Descending, rest),
            None => (Direction::Ascending, text),
        };
        C::from_name(name).map(|column| Sort { column, direction })
    }

    /// The `sort` parameter that gives this order.
    pub fn param(&self) -> String {
        match self.direction {
            Direction::Ascending => self.column.name().to_owned(),
            Direction::Descending => format!("-{}", self.column.name()),
        }
    }
}

/// The columns of a table, by their JSON names.
pub trait Column: Copy + Eq + Sized + 'static {
    /// Every column, in table order.
    const ALL: &'static [Self];
    /// The JSON/CSV name of the column.
    fn name(self) -> &'static str;
    /// The column with this name.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }
}

/// Sorts `rows` by `compare` in `direction`, ties by `position` ascending in either
/// direction (so by id: a table's positions are in id order).
fn sort_with_ties<R>(
    rows: &mut [R],
    direction: Direction,
    compare: impl Fn(&R, &R) -> std::cmp::Ordering,
    position: impl Fn(&R) -> usize,
) {
    rows.sort_unstable_by(|a, b| {
        let ord = compare(a, b);
        let ord = if direction == Direction::Descending { ord.reverse() } else { ord };
        ord.then_with(|| position(a).cmp(&position(b)))
    });
}
