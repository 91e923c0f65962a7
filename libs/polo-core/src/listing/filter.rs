/// The filter value that selects rows where the field has no value (no owner tag, say).
pub const NONE_VALUE: &str = "(none)";

/// The fields a table can be filtered on, by their query parameter names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FilterField {
    Account,
    Region,
    State,
    Type,
    Owner,
    Index,
    Customer,
    Status,
    /// A report's period.
    Period,
    /// A finding's rule.
    Rule,
    /// A finding's severity.
    Severity,
    /// An index's drift kinds (`crate::drift`), `none`, or `not-judged`.
    Drift,
    /// The cost breakdown a table of cost changes is by (`index`, `customer`, `account`).
    Dimension,
    /// The first day of a compared period (`YYYY-MM-DD`).
    From,
    /// The last day of a compared period (`YYYY-MM-DD`).
    To,
    /// What an audit entry did (`ack`, `snooze`, …).
    Action,
    /// Through what it came (`web`, `slack`).
    Via,
}

impl FilterField {
    /// Every field.
    pub const ALL: [FilterField; 17] = [
        FilterField::Account,
        FilterField::Region,
        FilterField::State,
        FilterField::Type,
        FilterField::Owner,
        FilterField::Index,
        FilterField::Customer,
        FilterField::Status,
        FilterField::Period,
        FilterField::Rule,
        FilterField::Severity,
        FilterField::Drift,
        FilterField::Dimension,
        FilterField::From,
        FilterField::To,
        FilterField::Action,
        FilterField::Via,
    ];

    /// The query parameter name.
    pub fn param(self) -> &'static str {
        match self {
            FilterField::Account => "account",
            FilterField::Region => "region",
            FilterField::State => "state",
            FilterField::Type => "type",
            FilterField::Owner => "owner",
            FilterField::Index => "index",
            FilterField::Customer => "customer",
            FilterField::Status => "status",
            FilterField::Period => "period",
            FilterField::Rule => "rule",
            FilterField::Severity => "severity",
            FilterField::Drift => "drift",
            FilterField::Dimension => "dimension",
            FilterField::From => "from",
            FilterField::To => "to",
            FilterField::Action => "action",
            FilterField::Via => "via",
        }
    }

    /// The field with this parameter name.
    pub fn from_param(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.param() == name)
    }
}

/// As its query parameter name (the facets the sync writes into the snapshot).
impl serde::Serialize for FilterField {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.param())
    }
}

impl<'de> serde::Deserialize<'de> for FilterField {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <String as serde::Deserialize>::deserialize(d)?;
        FilterField::from_param(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown filter field {name:?}")))
    }
}

/// Joins texts into a search haystack: lowercase, one per line.
pub fn haystack<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for text in texts {
        out.push_str(&text.to_lowercase());
        out.push('\n');
    }
    out
}

/// A row of a filterable table.
pub trait Filterable {
    /// The row's value of `field`: `None` when the row has no value.
    fn field(&self, field: FilterField) -> Option<&str>;
    /// Every text free-text search looks at, lowercased, one per line.
    fn search_text(&self) -> String;
}

/// Field filters (a row matches one of the values of every field given) and free-text
/// terms (a row contains every term somewhere).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    fields: Vec<(FilterField, Vec<String>)>,
    terms: Vec<String>,
    q: String,
}

impl Filters {
    /// No filter at all.
    pub fn none() -> Self {
        Filters::default()
    }

    /// Adds a filter: comma-separated values, any of which matches; blanks are ignored.
    #[must_use]
    pub fn with(mut self, field: FilterField, values: &str) -> Self {
        let values: Vec<String> =
            values.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect();
        if !values.is_empty() {
            self.fields.retain(|(f, _)| *f != field);
            self.fields.push((field, values));
        }
        self
    }

    /// Adds a filter of these values, any of which matches; blanks are ignored.
    #[must_use]
    pub fn with_values(mut self, field: FilterField, values: Vec<String>) -> Self {
        let values: Vec<String> =
            values.into_iter().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()).collect();
        if !values.is_empty() {
            self.fields.retain(|(f, _)| *f != field);
            self.fields.push((field, values));
        }
        self
    }

    /// Sets the free text; whitespace separates terms, all of which must match.
    #[must_use]
    pub fn with_text(mut self, q: &str) -> Self {
        q.trim().clone_into(&mut self.q);
        self.terms = q.split_whitespace().map(str::to_lowercase).collect();
        self
    }

    /// The free-text terms, lowercase; all must match.
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The free text as given.
    pub fn text(&self) -> &str {
        &self.q
    }

    /// The same filters without `field`'s (which the caller applies itself).
    #[must_use]
    pub fn without(&self, field: FilterField) -> Filters {
        let mut rest = self.clone();
        rest.fields.retain(|(f, _)| *f != field);
        rest
    }

    /// The values of one field filter, if set.
    pub fn values(&self, field: FilterField) -> Option<&[String]> {
        self.fields.iter().find(|(f, _)| *f == field).map(|(_, v)| v.as_slice())
    }

    /// The field filters that are set.
    pub fn fields(&self) -> impl Iterator<Item = (FilterField, &[String])> {
        self.fields.iter().map(|(f, v)| (*f, v.as_slice()))
    }

    /// True when neither a field filter nor free text is set.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.terms.is_empty()
    }

    /// Does the row, whose [`Filterable::search_text`] is `haystack`, pass every filter?
    pub fn matches<'h, R: Filterable + ?Sized>(&self, row: &R, haystack: impl FnOnce() -> &'h str) -> bool {
        self.fields.iter().all(|(field, _)| self.field_matches(row, *field)) && self.text_matches(haystack)
    }

    /// Does the row pass the filter of `field` (true when that field is not filtered)?
    pub fn field_matches<R: Filterable + ?Sized>(&self, row: &R, field: FilterField) -> bool {
        let Some(values) = self.values(field) else { return true };
        let value = row.field(field);
        values.iter().any(|wanted| match value {
            None => wanted.eq_ignore_ascii_case(NONE_VALUE),
            Some(v) => v.eq_ignore_ascii_case(wanted),
        })
    }

    /// Does `row` pass every filter? Its haystack is made only when there is free text (a
    /// small table's rows make theirs on demand).
    pub fn matches_own<R: Filterable + ?Sized>(&self, row: &R) -> bool {
        self.fields.iter().all(|(field, _)| self.field_matches(row, *field)) && self.text_matches_own(row)
    }

    /// Does `row` contain every free-text term? Its haystack is made only when there are terms.
    pub fn text_matches_own<R: Filterable + ?Sized>(&self, row: &R) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        let text = row.search_text();
        self.text_matches(|| text.as_str())
    }

    /// Does a row with this haystack contain every free-text term?
    pub fn text_matches<'h>(&self, haystack: impl FnOnce() -> &'h str) -> bool {
        if self.terms.is_empty() {
            return true;
        }
        let haystack = haystack();
        self.terms.iter().all(|term| haystack.contains(term.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::FilterField;

    #[test]
    fn a_filter_field_serializes_as_its_query_parameter_and_reads_back() {
        for field in FilterField::ALL {
            let json = serde_json::to_string(&field).unwrap();
            assert_eq!(json, format!("\"{}\"", field.param()));
            assert_eq!(serde_json::from_str::<FilterField>(&json).unwrap(), field);
        }
        assert!(serde_json::from_str::<FilterField>("\"nope\"").is_err());
    }
}
