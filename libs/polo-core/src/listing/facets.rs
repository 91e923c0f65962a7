//! Facet counts: for each filter field, the values rows have and how many have each, as
//! the filter selects of every table show them.

use std::collections::HashMap;

use super::{FilterField, Filterable, Filters, NONE_VALUE};

/// How [`all_facets`] counts: raised whenever what a row gives a field changes, so facets a
/// sync counted the old way and wrote into the snapshot are counted again.
pub const FACETS_FORMAT: u32 = 1;

/// For each filter field, every value with the number of rows that have it, by value.
pub type Facets = HashMap<FilterField, Vec<(String, usize)>>;

/// Every field's value counts over all `rows` (`(none)` for rows without a value).
pub fn all_facets<R: Filterable>(rows: &[R]) -> Facets {
    FilterField::ALL
        .iter()
        .map(|&field| {
            let mut counts: foldhash::HashMap<&str, usize> = foldhash::HashMap::default();
            // Rows without the field are counted apart: most fields are another kind's.
            let mut none = 0;
            for row in rows {
                match row.field(field) {
                    Some(value) => *counts.entry(value).or_default() += 1,
                    None => none += 1,
                }
            }
            if none > 0 {
                *counts.entry(NONE_VALUE).or_default() += none;
            }
            let mut counts: Vec<(String, usize)> =
                counts.into_iter().map(|(k, n)| (k.to_owned(), n)).collect();
            counts.sort_unstable();
            (field, counts)
        })
        .collect()
}

/// For each filter field, the value counts among the rows that pass the free text (`text`
/// of a row's position) and every *other* field filter: what a faceted search shows beside
/// each control, so a selected account narrows the state counts but not the account list
/// itself. One pass over the rows.
pub fn view_facets<R: Filterable>(rows: &[R], text: impl Fn(usize) -> bool, filters: &Filters) -> Facets {
    const FIELDS: usize = FilterField::ALL.len();
    let mut counts: [foldhash::HashMap<&str, usize>; FIELDS] =
        std::array::from_fn(|_| foldhash::HashMap::default());
    let active: Vec<(usize, FilterField)> = filters
        .fields()
        .filter_map(|(f, _)| FilterField::ALL.iter().position(|x| *x == f).map(|i| (i, f)))
        .collect();
    for (pos, row) in rows.iter().enumerate() {
        // The one active filter the row fails, if exactly one; rows failing two count nowhere.
        let mut failed: Option<usize> = None;
        let mut excluded = false;
        for &(i, field) in &active {
            if !filters.field_matches(row, field) {
                if failed.is_some() {
                    excluded = true;
                    break;
                }
                failed = Some(i);
            }
        }
        if excluded || !text(pos) {
            continue;
        }
        let mut count = |i: usize| {
            *counts[i].entry(row.field(FilterField::ALL[i]).unwrap_or(NONE_VALUE)).or_default() += 1;
        };
        match failed {
            Some(i) => count(i),
            None => (0..FIELDS).for_each(&mut count),
        }
    }
    FilterField::ALL
        .iter()
        .zip(counts)
        .map(|(&field, values)| {
            let mut values: Vec<(String, usize)> =
                values.into_iter().map(|(k, n)| (k.to_owned(), n)).collect();
            values.sort_unstable();
            (field, values)
        })
        .collect()
}

/// The facets of a small in-memory table (findings, reports) under `filters`: the
/// whole-table counts when nothing is filtered, else [`view_facets`] with each row's own
/// search text.
pub fn facets_for<R: Filterable>(rows: &[R], filters: &Filters) -> Facets {
    if filters.is_empty() {
        return all_facets(rows);
    }
    view_facets(rows, |pos| rows.get(pos).is_some_and(|row| filters.text_matches_own(row)), filters)
}
