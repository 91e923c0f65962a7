//! Query parameters of tables and detail pages, parsed into types or refused with a 400
//! that names the parameter.

use axum::http::HeaderMap;
use polo_core::listing::{Column, DEFAULT_PER_PAGE, FilterField, Filters, MAX_PER_PAGE, PageRequest, Sort};

use crate::error::AppError;
use crate::request::negotiate::Format;

/// What a table request asked for.
#[derive(Clone, Debug)]
pub struct TableQuery<C> {
    pub filters: Filters,
    pub sort: Option<Sort<C>>,
    pub page: PageRequest,
    /// Whether `per_page` was given (links keep it only then).
    pub per_page_given: bool,
    pub format: Format,
}

/// Longest free-text or filter value, in characters.
pub(crate) const MAX_VALUE_CHARS: usize = 200;
/// Most values one filter takes (its occurrences and comma-separated values together).
pub(crate) const MAX_FILTER_VALUES: usize = 50;
/// Most parameters one query string holds.
pub(crate) const MAX_PARAMS: usize = 200;

/// `application/x-www-form-urlencoded` decoding that refuses what it cannot read exactly:
/// `+` is a space, `%XX` a byte, and the bytes must be UTF-8.
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The query's `(key, value)` pairs, each decoded; a value that is not UTF-8 (or a broken
/// `%` escape) is a 400 naming its parameter.
pub(crate) fn pairs(query: Option<&str>) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for part in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        if out.len() >= MAX_PARAMS {
            return Err(AppError::bad_param(
                "query",
                format!("the query string holds more than {MAX_PARAMS} parameters"),
            ));
        }
        let (raw_key, raw_value) = part.split_once('=').unwrap_or((part, ""));
        let key = decode(raw_key).ok_or_else(|| {
            AppError::bad_param("query", "a parameter name is not valid UTF-8 or has a broken % escape")
        })?;
        let value = decode(raw_value).ok_or_else(|| {
            AppError::bad_param(&key, format!("{key} is not valid UTF-8 or has a broken % escape"))
        })?;
        out.push((key, value));
    }
    Ok(out)
}

/// A free-text value within [`MAX_VALUE_CHARS`].
fn capped(param: &str, value: String) -> Result<String, AppError> {
    if value.chars().count() > MAX_VALUE_CHARS {
        return Err(AppError::bad_param(
            param,
            format!("{param} is longer than {MAX_VALUE_CHARS} characters"),
        ));
    }
    Ok(value)
}

/// Splits one occurrence of a filter on commas; `\,` is a comma inside a value and `\\` a
/// backslash.
pub(crate) fn split_values(text: &str) -> Vec<String> {
    let mut values = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next @ (',' | '\\')) => values.last_mut().map_or((), |v| v.push(next)),
                Some(other) => {
                    if let Some(v) = values.last_mut() {
                        v.push('\\');
                        v.push(other);
                    }
                }
                None => values.last_mut().map_or((), |v| v.push('\\')),
            },
            ',' => values.push(String::new()),
            c => values.last_mut().map_or((), |v| v.push(c)),
        }
    }
    values
}

/// The value of one filter occurrence as a link writes it: commas and backslashes escaped.
pub(crate) fn escape_value(value: &str) -> String {
    value.replace('\\', "\\\\").replace(',', "\\,")
}

fn number(param: &str, value: &str, range: std::ops::RangeInclusive<usize>) -> Result<usize, AppError> {
    let digits = !value.is_empty() && value.len() <= 20 && value.bytes().all(|b| b.is_ascii_digit());
    digits.then(|| value.parse::<usize>().ok()).flatten().filter(|n| range.contains(n)).ok_or_else(|| {
        AppError::bad_param(
            param,
            if *range.end() == usize::MAX {
                format!("{param} must be a whole number from {}, not {value:?}", range.start())
            } else {
                format!(
                    "{param} must be a whole number from {} to {}, not {value:?}",
                    range.start(),
                    range.end()
                )
            },
        )
    })
}

impl<C: Column> TableQuery<C> {
    /// Parses a table's query string. `filters` are the filter parameters the table takes.
    pub fn parse(
        query: Option<&str>,
        headers: &HeaderMap,
        filters: &[FilterField],
    ) -> Result<Self, AppError> {
        let mut parsed = Filters::none();
        let (mut sort, mut page, mut per_page, mut format, mut q) = (None, None, None, None, None);
        let mut filter_values: Vec<(FilterField, Vec<String>)> = Vec::new();
        for (key, value) in pairs(query)? {
            let once = |slot: &Option<String>| {
                if slot.is_some() {
                    Err(AppError::bad_param(&key, format!("{key} is given more than once")))
                } else {
                    Ok(())
                }
            };
            match key.as_str() {
                "q" => {
                    once(&q)?;
                    q = Some(capped("q", value)?);
                }
                "sort" => {
                    once(&sort)?;
                    sort = Some(value);
                }
                "page" => {
                    once(&page)?;
                    page = Some(value);
                }
                "per_page" => {
                    once(&per_page)?;
                    per_page = Some(value);
                }
                "format" => {
                    once(&format)?;
                    format = Some(value);
                }
                other => {
                    if let Some(field) = FilterField::from_param(other).filter(|f| filters.contains(f)) {
                        let value = capped(other, value)?;
                        match filter_values.iter_mut().find(|(f, _)| *f == field) {
                            Some((_, values)) => values.push(value),
                            None => filter_values.push((field, vec![value])),
                        }
                    } else {
                        let mut known: Vec<&str> = vec!["q"];
                        known.extend(filters.iter().map(|f| f.param()));
                        known.extend(["sort", "page", "per_page", "format"]);
                        return Err(AppError::bad_param(
                            other,
                            format!("unknown parameter {other:?}; this table takes {}", known.join(", ")),
                        ));
                    }
                }
            }
        }
        filter_values.sort_by_key(|(field, _)| *field);
        for (field, occurrences) in filter_values {
            // One occurrence may list values with commas; repeated ones are a value each.
            let values: Vec<String> = if occurrences.len() == 1 {
                occurrences.iter().flat_map(|o| split_values(o)).collect()
            } else {
                occurrences
            };
            if values.len() > MAX_FILTER_VALUES {
                return Err(AppError::bad_param(
                    field.param(),
                    format!("{} takes at most {MAX_FILTER_VALUES} values", field.param()),
                ));
            }
            parsed = parsed.with_values(field, values);
        }
        if let Some(q) = &q {
            parsed = parsed.with_text(q);
        }
        let sort = match sort.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => Some(Sort::<C>::parse(text).ok_or_else(|| {
                let columns: Vec<&str> = C::ALL.iter().map(|c| c.name()).collect();
                AppError::bad_param(
                    "sort",
                    format!(
                        "cannot sort by {text:?}; sort takes a column, or -column for descending: {}",
                        columns.join(", ")
                    ),
                )
            })?),
        };
        let page_number = match page.as_deref().filter(|s| !s.is_empty()) {
            None => 1,
            Some(v) => number("page", v, 1..=usize::MAX)?,
        };
        let per_page_given = per_page.as_deref().is_some_and(|s| !s.is_empty());
        let per_page_number = match per_page.as_deref().filter(|s| !s.is_empty()) {
            None => DEFAULT_PER_PAGE,
            Some(v) => number("per_page", v, 1..=MAX_PER_PAGE)?,
        };
        let page = PageRequest::new(page_number, per_page_number)
            .ok_or_else(|| AppError::bad_param("page", "page out of range"))?;
        let format = Format::choose(format.as_deref(), headers)?;
        Ok(TableQuery { filters: parsed, sort, page, per_page_given, format })
    }

    /// The query string for the same table with another sort and page (HTML links).
    pub fn link(&self, sort: Option<&Sort<C>>, page: usize) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.filters.text().is_empty() {
            pairs.push(("q", self.filters.text().to_owned()));
        }
        for (field, values) in self.filters.fields() {
            // Several values as repeated parameters; one as itself, its commas escaped.
            match values {
                [one] => pairs.push((field.param(), escape_value(one))),
                many => pairs.extend(many.iter().map(|v| (field.param(), v.clone()))),
            }
        }
        if let Some(sort) = sort {
            pairs.push(("sort", sort.param()));
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        if self.per_page_given {
            pairs.push(("per_page", self.page.per_page().to_string()));
        }
        let encoded = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        if encoded.is_empty() { String::new() } else { format!("?{encoded}") }
    }

    /// The query string of this very view in another format (`?...&format=csv`).
    pub fn link_as(&self, format: &str) -> String {
        let base = self.link(self.sort.as_ref(), self.page.page());
        if base.is_empty() { format!("?format={format}") } else { format!("{base}&format={format}") }
    }
}

/// Parses `/search`: `q` and `format`, nothing else.
pub fn search_query(query: Option<&str>, headers: &HeaderMap) -> Result<(String, Format), AppError> {
    let (mut q, mut format) = (None, None);
    for (key, value) in pairs(query)? {
        let slot = match key.as_str() {
            "q" => &mut q,
            "format" => &mut format,
            other => {
                return Err(AppError::bad_param(
                    other,
                    format!("unknown parameter {other:?}; search takes q and format"),
                ));
            }
        };
        if slot.is_some() {
            return Err(AppError::bad_param(&key, format!("{key} is given more than once")));
        }
        *slot = Some(value);
    }
    Ok((capped("q", q.unwrap_or_default())?, Format::choose(format.as_deref(), headers)?))
}

/// Parses a detail page's query string: it takes only `format`.
pub fn detail_format(query: Option<&str>, headers: &HeaderMap) -> Result<Format, AppError> {
    detail_params(query, headers, &[]).map(|(format, _)| format)
}

/// The format of a detail page and the values of the other parameters it takes
/// (`allowed`, each at most once, in `allowed`'s order; `None` when absent). Any other
/// parameter is a 400 naming it.
pub fn detail_params(
    query: Option<&str>,
    headers: &HeaderMap,
    allowed: &[&str],
) -> Result<(Format, Vec<Option<String>>), AppError> {
    let mut format = None;
    let mut values: Vec<Option<String>> = vec![None; allowed.len()];
    for (key, value) in pairs(query)? {
        let slot = if key == "format" {
            &mut format
        } else if let Some(n) = allowed.iter().position(|a| *a == key) {
            &mut values[n]
        } else {
            let takes =
                std::iter::once("format").chain(allowed.iter().copied()).collect::<Vec<_>>().join(", ");
            return Err(AppError::bad_param(
                &key,
                format!("unknown parameter {key:?}; this page takes {takes}"),
            ));
        };
        if slot.is_some() {
            return Err(AppError::bad_param(&key, format!("{key} is given more than once")));
        }
        *slot = Some(value);
    }
    Ok((Format::choose(format.as_deref(), headers)?, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polo_core::listing::{Direction, INSTANCE_FILTERS, InstanceColumn};

    fn parse(q: &str) -> Result<TableQuery<InstanceColumn>, AppError> {
        TableQuery::parse(Some(q), &HeaderMap::new(), &INSTANCE_FILTERS)
    }

    fn param_of(q: &str) -> String {
        match parse(q) {
            Err(AppError::BadParam { param, .. }) => param,
            other => panic!("{q}: expected a bad parameter, got {other:?}"),
        }
    }

    #[test]
    fn parses_everything_a_table_takes() {
        let t = parse(
            "q=web+prod&state=running,stopped&account=prod&sort=-launch_time&page=2&per_page=20&format=json",
        )
        .unwrap();
        assert_eq!(t.filters.text(), "web prod");
        assert_eq!(t.filters.values(FilterField::State).unwrap(), ["running", "stopped"]);
        assert_eq!(t.sort.unwrap().column, InstanceColumn::LaunchTime);
        assert_eq!(t.sort.unwrap().direction, Direction::Descending);
        assert_eq!((t.page.page(), t.page.per_page()), (2, 20));
        assert_eq!(t.format, Format::Json);
        assert_eq!(
            t.link(t.sort.as_ref(), 3),
            "?q=web+prod&account=prod&state=running&state=stopped&sort=-launch_time&page=3&per_page=20"
        );
        let blank = parse("q=&state=&sort=&page=&per_page=&format=").unwrap();
        assert!(blank.filters.is_empty());
        assert_eq!(blank.link(None, 1), "");
    }

    #[test]
    fn names_each_malformed_parameter() {
        assert_eq!(param_of("page=abc"), "page");
        assert_eq!(param_of("page=0"), "page");
        assert_eq!(param_of("page=-1"), "page");
        assert_eq!(param_of("per_page=0"), "per_page");
        assert_eq!(param_of("per_page=501"), "per_page");
        assert_eq!(param_of("sort=nosuch"), "sort");
        assert_eq!(param_of("sort=--id"), "sort");
        assert_eq!(param_of("format=xml"), "format");
        assert_eq!(param_of("colour=red"), "colour");
        assert_eq!(param_of("status=READY"), "status");
        assert_eq!(param_of("page=1&page=2"), "page");
        assert_eq!(param_of("page=%2B1"), "page");
        assert_eq!(param_of("per_page=+5"), "per_page");
        assert_eq!(param_of("page=1.0"), "page");
        assert_eq!(param_of("q=%ff%fe"), "q");
        assert_eq!(param_of("owner=a%e9b"), "owner");
        assert_eq!(param_of("q=%zz"), "q");
        assert_eq!(param_of(&format!("q={}", "a".repeat(201))), "q");
        assert_eq!(param_of(&format!("customer={}", "a".repeat(201))), "customer");
        assert_eq!(param_of(&"account=x&".repeat(51)), "account");
        assert_eq!(param_of(&format!("account={}", vec!["x"; 51].join(","))), "account");
        assert_eq!(param_of(&"x=1&".repeat(201)), "query");
    }

    #[test]
    fn values_with_commas_can_be_selected_and_linked() {
        let t = parse("customer=Acme%2C+Inc&customer=Globex").unwrap();
        assert_eq!(t.filters.values(FilterField::Customer).unwrap(), ["Acme, Inc", "Globex"]);
        assert_eq!(t.link(None, 1), "?customer=Acme%2C+Inc&customer=Globex");
        let one = parse("customer=Acme%5C%2C+Inc").unwrap();
        assert_eq!(one.filters.values(FilterField::Customer).unwrap(), ["Acme, Inc"]);
        assert_eq!(one.link(None, 1), "?customer=Acme%5C%2C+Inc");
        let split = parse("customer=Acme,Globex").unwrap();
        assert_eq!(split.filters.values(FilterField::Customer).unwrap(), ["Acme", "Globex"]);
        assert_eq!(split_values(r"a\\b,c\d"), [r"a\b", r"c\d"]);
    }
}
