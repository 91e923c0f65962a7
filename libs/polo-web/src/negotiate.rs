//! Which representation a request wants: HTML, JSON or CSV.

use axum::http::{HeaderMap, header};

use crate::error::AppError;

/// A representation of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Html,
    Json,
    Csv,
}

impl Format {
    /// From the `format` parameter when given, else from `Accept`, else HTML.
    /// A `format` value other than html, json or csv is a 400 naming it.
    pub fn choose(format_param: Option<&str>, headers: &HeaderMap) -> Result<Format, AppError> {
        match format_param.filter(|f| !f.is_empty()) {
            Some("html") => Ok(Format::Html),
            Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(other) => {
                Err(AppError::bad_param("format", format!("format must be html, json or csv, not {other:?}")))
            }
            None => Ok(Format::from_accept(headers)),
        }
    }

    /// Like [`Format::choose`] from a raw query, but never fails: for error pages.
    pub fn lenient(query: Option<&str>, headers: &HeaderMap) -> Format {
        let param = query.and_then(|q| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(q)
                .ok()?
                .into_iter()
                .find(|(k, _)| k == "format")
                .map(|(_, v)| v)
        });
        Format::choose(param.as_deref(), headers).unwrap_or_else(|_| Format::from_accept(headers))
    }

    fn from_accept(headers: &HeaderMap) -> Format {
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
        // The first of the types we serve that the client lists wins; browsers list text/html first.
        let mut best: Option<(usize, Format)> = None;
        for (kind, format) in
            [("text/html", Format::Html), ("application/json", Format::Json), ("text/csv", Format::Csv)]
        {
            if let Some(pos) = accept.find(kind)
                && best.is_none_or(|(p, _)| pos < p)
            {
                best = Some((pos, format));
            }
        }
        best.map_or(Format::Html, |(_, f)| f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn parameter_wins_over_accept() {
        assert_eq!(Format::choose(Some("csv"), &accept("application/json")).unwrap(), Format::Csv);
        assert_eq!(Format::choose(None, &accept("application/json")).unwrap(), Format::Json);
        assert_eq!(Format::choose(None, &accept("text/csv")).unwrap(), Format::Csv);
        assert_eq!(
            Format::choose(None, &accept("text/html,application/xhtml+xml,*/*")).unwrap(),
            Format::Html
        );
        assert_eq!(Format::choose(None, &HeaderMap::new()).unwrap(), Format::Html);
        assert!(Format::choose(Some("xml"), &HeaderMap::new()).is_err());
        assert_eq!(Format::lenient(Some("format=xml"), &accept("application/json")), Format::Json);
    }
}
