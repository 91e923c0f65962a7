//! What a report says, in one shape for every type: a headline, a few facts, tables and
//! an optional daily trend. Pages render it as tables, Slack gets the headline and facts,
//! and JSON readers get the same structure.

use serde::{Deserialize, Serialize};
use time::Date;

use crate::Money;

/// Rows a section keeps at most: a report item must stay far below DynamoDB's 400 KB.
pub const MAX_ROWS: usize = 200;

/// The body of one report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportBody {
    /// One sentence: what happened in the period.
    pub headline: String,
    /// The key numbers, in order.
    pub facts: Vec<Fact>,
    pub sections: Vec<Section>,
    /// Daily amounts where a trend helps (a small chart on the page).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trend: Vec<TrendPoint>,
}

/// One key number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// A table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub title: String,
    pub columns: Vec<String>,
    /// Which columns are numbers (right-aligned), by position.
    pub numeric: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    /// Rows past [`MAX_ROWS`] that were left out.
    #[serde(default)]
    pub more: usize,
    /// What the table means, where its title does not say it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Section {
    /// A table of `columns` (label, numeric) with no rows yet.
    pub fn new(title: impl Into<String>, columns: &[(&str, bool)]) -> Section {
        Section {
            title: title.into(),
            columns: columns.iter().map(|(label, _)| (*label).to_owned()).collect(),
            numeric: columns.iter().map(|(_, numeric)| *numeric).collect(),
            rows: Vec::new(),
            more: 0,
            note: None,
        }
    }

    /// Adds a row, or counts it in `more` past [`MAX_ROWS`].
    pub fn push(&mut self, row: Vec<String>) {
        if self.rows.len() < MAX_ROWS {
            self.rows.push(row);
        } else {
            self.more += 1;
        }
    }

    /// Adds a row that sums the others (a total): always kept, whatever the cap.
    pub fn push_total(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// The same table with a note.
    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Section {
        self.note = Some(note.into());
        self
    }
}

/// One day of a trend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub date: Date,
    pub amount: Money,
    /// Cost Explorer still estimated the day when the report was built.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub estimated: bool,
}

impl TrendPoint {
    /// The whole bill on `date`, and whether Cost Explorer still estimates it.
    pub fn total_on(store: &crate::model::CostStore, date: Date) -> TrendPoint {
        TrendPoint { date, amount: store.bill(date, date), estimated: store.is_estimated(date) }
    }
}

/// A fact.
pub fn fact(label: &str, value: impl std::fmt::Display) -> Fact {
    Fact { label: label.to_owned(), value: value.to_string() }
}

/// `amount` as the pages write money (`12,345.67`).
pub fn money(amount: Money) -> String {
    amount.to_grouped_cents()
}

/// A change as a signed amount (`+1,234.50`, `-12.00`).
pub fn signed(amount: Money) -> String {
    if amount > Money::ZERO { format!("+{}", amount.to_grouped_cents()) } else { amount.to_grouped_cents() }
}
