//! A table's filter fields as columns, built once per snapshot, and sets of rows as bitsets:
//! a filter, a total and the facet counts of a view are word operations and tight loops
//! over value ids, never a trait call or a string comparison per row and field.
//!
//! It answers exactly what [`Filters::matches`] and [`super::view_facets`] answer row by row
//! (the tests compare them over the sample).

use std::sync::OnceLock;

use super::{Facets, FilterField, Filterable, Filters, NONE_VALUE};

/// A set of rows (by position).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowSet {
    words: Vec<u64>,
    len: usize,
}

impl RowSet {
    /// Every one of `len` rows.
    pub fn all(len: usize) -> RowSet {
        let mut words = vec![u64::MAX; len.div_ceil(64)];
        if let Some(last) = words.last_mut()
            && !len.is_multiple_of(64)
        {
            *last = (1u64 << (len % 64)) - 1;
        }
        RowSet { words, len }
    }

    /// None of `len` rows.
    pub fn none(len: usize) -> RowSet {
        RowSet { words: vec![0; len.div_ceil(64)], len }
    }

    fn insert(&mut self, row: usize) {
        if let Some(word) = self.words.get_mut(row / 64) {
            *word |= 1 << (row % 64);
        }
    }

    /// Whether `row` is in the set.
    pub fn contains(&self, row: usize) -> bool {
        self.words.get(row / 64).is_some_and(|w| w & (1 << (row % 64)) != 0)
    }

    /// Keeps only the rows also in `other`.
    pub fn retain(&mut self, other: &RowSet) {
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w &= o;
        }
    }

    /// How many rows are in the set.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The rows in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let bit = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                Some(i * 64 + bit)
            })
        })
    }
}

/// Every row's free-text haystack, lowercased, in one buffer (each followed by a NUL).
#[derive(Debug, Default)]
pub struct TextRows {
    text: String,
    /// Where each row's haystack starts, and one more: the end.
    starts: Vec<usize>,
}

impl TextRows {
    /// The haystacks of `rows` ([`Filterable::search_text`]).
    pub fn build<R: Filterable>(rows: &[R]) -> TextRows {
        let mut text = String::new();
        let mut starts = Vec::with_capacity(rows.len() + 1);
        for row in rows {
            starts.push(text.len());
            text.push_str(&row.search_text());
            text.push('\0');
        }
        starts.push(text.len());
        TextRows { text, starts }
    }

    /// The haystack of the row at `pos` ("" past the end).
    pub fn row(&self, pos: usize) -> &str {
        match (self.starts.get(pos), self.starts.get(pos + 1)) {
            (Some(&start), Some(&end)) => self.text.get(start..end - 1).unwrap_or(""),
            _ => "",
        }
    }

    /// The rows whose haystack holds every one of `terms` (lowercase): the longest term is
    /// found by one scan of the buffer, the others only in the rows it left.
    fn holding(&self, terms: &[String]) -> RowSet {
        let len = self.starts.len().saturating_sub(1);
        let mut rows = RowSet::none(len);
        // A term never holds the NUL between rows; one that does matches no haystack.
        let Some(first) =
            terms.iter().max_by_key(|t| t.len()).filter(|_| terms.iter().all(|t| !t.contains('\0')))
        else {
            return rows;
        };
        let others: Vec<memchr::memmem::Finder<'_>> =
            terms.iter().filter(|t| *t != first).map(|t| memchr::memmem::Finder::new(t.as_bytes())).collect();
        let mut row = 0;
        let mut last: Option<usize> = None;
        for at in memchr::memmem::find_iter(self.text.as_bytes(), first.as_bytes()) {
            while self.starts.get(row + 1).is_some_and(|&next| next <= at) {
                row += 1;
            }
            if last == Some(row) {
                continue;
            }
            last = Some(row);
            let haystack = self.row(row).as_bytes();
            if others.iter().all(|f| f.find(haystack).is_some()) {
                rows.insert(row);
            }
        }
        rows
    }
}

/// One filter field's values: each distinct value once (`(none)` for rows without one),
/// and each row's value by its id.
#[derive(Debug)]
struct Column {
    values: Vec<String>,
    ids: Vec<u32>,
}

impl Column {
    fn build<R: Filterable>(rows: &[R], field: FilterField) -> Column {
        let mut by_value: foldhash::HashMap<&str, u32> = foldhash::HashMap::default();
        let mut values = Vec::new();
        let ids = rows
            .iter()
            .map(|row| {
                let value = row.field(field).unwrap_or(NONE_VALUE);
                *by_value.entry(value).or_insert_with(|| {
                    values.push(value.to_owned());
                    u32::try_from(values.len() - 1).unwrap_or(u32::MAX)
                })
            })
            .collect();
        Column { values, ids }
    }

    /// The rows whose value is one of `wanted` (ASCII case-insensitively, as
    /// [`Filters::field_matches`]).
    fn passing(&self, wanted: &[String]) -> RowSet {
        let chosen: Vec<bool> =
            self.values.iter().map(|v| wanted.iter().any(|w| w.eq_ignore_ascii_case(v))).collect();
        let mut rows = RowSet::none(self.ids.len());
        for (row, &id) in self.ids.iter().enumerate() {
            if chosen.get(id as usize).copied().unwrap_or(false) {
                rows.insert(row);
            }
        }
        rows
    }

    /// The value counts among `rows`, by value.
    fn counts(&self, rows: &RowSet) -> Vec<(String, usize)> {
        let mut counts = vec![0usize; self.values.len()];
        if let [_] = self.values.as_slice() {
            counts[0] = rows.count();
        } else {
            for row in rows.iter() {
                if let Some(&id) = self.ids.get(row) {
                    counts[id as usize] += 1;
                }
            }
        }
        let mut out: Vec<(String, usize)> =
            self.values.iter().zip(counts).filter(|(_, n)| *n > 0).map(|(v, n)| (v.clone(), n)).collect();
        out.sort_unstable();
        out
    }
}

/// The columns of one table of a snapshot, each built on first use.
#[derive(Debug, Default)]
pub struct Columns {
    fields: [OnceLock<Column>; FilterField::ALL.len()],
    text: OnceLock<TextRows>,
    /// The rows the last free text passed: a page asks for its rows and then its facets.
    last_text: std::sync::Mutex<Option<(Vec<String>, std::sync::Arc<RowSet>)>>,
}

impl Columns {
    fn column<R: Filterable>(&self, rows: &[R], field: FilterField) -> &Column {
        let at = FilterField::ALL.iter().position(|f| *f == field).unwrap_or(0);
        self.fields[at].get_or_init(|| Column::build(rows, field))
    }

    /// The haystacks of `rows`.
    pub fn text<R: Filterable>(&self, rows: &[R]) -> &TextRows {
        self.text.get_or_init(|| TextRows::build(rows))
    }

    /// The rows that pass the free text of `filters`.
    fn text_passing<R: Filterable>(&self, rows: &[R], filters: &Filters) -> RowSet {
        let terms = filters.terms();
        if terms.is_empty() {
            return RowSet::all(rows.len());
        }
        let mut last = self.last_text.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((kept, passing)) = last.as_ref()
            && kept.as_slice() == terms
        {
            return RowSet::clone(passing);
        }
        let passing = self.text(rows).holding(terms);
        *last = Some((terms.to_vec(), std::sync::Arc::new(passing.clone())));
        passing
    }

    /// The rows of `rows` (this table's, always the same) that pass every filter.
    pub fn matching<R: Filterable>(&self, rows: &[R], filters: &Filters) -> RowSet {
        let mut passing = self.text_passing(rows, filters);
        for (field, wanted) in filters.fields() {
            passing.retain(&self.column(rows, field).passing(wanted));
        }
        passing
    }

    /// For each filter field, the value counts among the rows that pass the free text and
    /// every *other* field filter ([`super::view_facets`]).
    pub fn facets<R: Filterable>(&self, rows: &[R], filters: &Filters) -> Facets {
        let text = self.text_passing(rows, filters);
        let active: Vec<(FilterField, RowSet)> = filters
            .fields()
            .map(|(field, wanted)| (field, self.column(rows, field).passing(wanted)))
            .collect();
        let mut all = text.clone();
        for (_, passing) in &active {
            all.retain(passing);
        }
        FilterField::ALL
            .iter()
            .map(|&field| {
                let counted = if active.iter().any(|(f, _)| *f == field) {
                    let mut base = text.clone();
                    for (_, passing) in active.iter().filter(|(f, _)| *f != field) {
                        base.retain(passing);
                    }
                    base
                } else {
                    all.clone()
                };
                (field, self.column(rows, field).counts(&counted))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::listing::view_facets;
    use crate::sample::{Scale, generate};

    #[test]
    fn a_row_set_counts_and_walks_its_rows() {
        let mut set = RowSet::none(130);
        for row in [0, 63, 64, 129] {
            set.insert(row);
        }
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 63, 64, 129]);
        assert_eq!(set.count(), 4);
        let mut all = RowSet::all(130);
        assert_eq!(all.count(), 130);
        all.retain(&set);
        assert_eq!(all, set);
        assert!(!set.contains(130) && set.contains(129));
    }

    #[test]
    fn columns_filter_and_count_exactly_as_the_rows_do() {
        let everything = generate(42, Scale::Small, datetime!(2026-11-24 12:00 UTC));
        let rows = &everything.instances;
        let columns = Columns::default();
        let texts: Vec<String> = rows.iter().map(Filterable::search_text).collect();
        let owner = rows.iter().find_map(|i| i.field(FilterField::Owner)).unwrap().to_uppercase();
        let views = [
            Filters::none(),
            Filters::none().with(FilterField::State, "running"),
            Filters::none().with(FilterField::State, "RUNNING,stopped").with(FilterField::Account, "prod"),
            Filters::none().with(FilterField::Owner, &format!("{owner},(none)")),
            Filters::none().with(FilterField::Status, "(none)"),
            Filters::none().with_text("acme inference"),
            Filters::none().with_text("i-0").with(FilterField::Region, "us-east-1"),
            Filters::none().with_text("no-such-thing"),
            Filters::none().with(FilterField::Type, "nosuch"),
        ];
        for filters in views {
            let expected: Vec<usize> =
                (0..rows.len()).filter(|&p| filters.matches(&rows[p], || texts[p].as_str())).collect();
            assert_eq!(columns.matching(rows, &filters).iter().collect::<Vec<_>>(), expected, "{filters:?}");
            let by_rows = view_facets(rows, |p| filters.text_matches(|| texts[p].as_str()), &filters);
            assert_eq!(columns.facets(rows, &filters), by_rows, "{filters:?}");
        }
        assert_eq!(columns.text(rows).row(3), texts[3]);
        assert_eq!(columns.text(rows).row(rows.len()), "");
    }
}
