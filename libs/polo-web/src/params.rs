//! Query parameters of tables and detail pages, parsed into types or refused with a 400
//! that names the parameter.

use axum::http::HeaderMap;
use polo_core::listing::{Column, DEFAULT_PER_PAGE, FilterField, Filters, MAX_PER_PAGE, PageRequest, Sort};

use crate::error::AppError;
use crate::negotiate::Format;

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

fn pairs(query: Option<&str>) -> Result<Vec<(String, String)>, AppError> {
    serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| AppError::bad_param("query", format!("the query string cannot be read: {e}")))
}

fn number(param: &str, value: &str, range: std::ops::RangeInclusive<usize>) -> Result<usize, AppError> {
    value.trim().parse::<usize>().ok().filter(|n| range.contains(n)).ok_or_else(|| {
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
                    q = Some(value);
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
        for (field, values) in filter_values {
            parsed = parsed.with(field, &values.join(","));
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
            pairs.push((field.param(), values.join(",")));
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
    Ok((q.unwrap_or_default(), Format::choose(format.as_deref(), headers)?))
}

/// Parses a detail page's query string: it takes only `format`.
pub fn detail_format(query: Option<&str>, headers: &HeaderMap) -> Result<Format, AppError> {
    let mut format = None;
    for (key, value) in pairs(query)? {
        match key.as_str() {
            "format" if format.is_none() => format = Some(value),
            "format" => return Err(AppError::bad_param("format", "format is given more than once")),
            other => {
                return Err(AppError::bad_param(
                    other,
                    format!("unknown parameter {other:?}; this page takes format"),
                ));
            }
        }
    }
    Format::choose(format.as_deref(), headers)
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
            "?q=web+prod&account=prod&state=running%2Cstopped&sort=-launch_time&page=3&per_page=20"
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
    }
}
