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
    /// A `format` value other than html, json or csv is a 400 naming it; an `Accept` that
    /// admits none of the three is a 406.
    pub fn choose(format_param: Option<&str>, headers: &HeaderMap) -> Result<Format, AppError> {
        match format_param.filter(|f| !f.is_empty()) {
            Some("html") => Ok(Format::Html),
            Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some(other) => {
                Err(AppError::bad_param("format", format!("format must be html, json or csv, not {other:?}")))
            }
            None => Format::from_accept(headers).ok_or_else(|| {
                AppError::NotAcceptable(
                    "this page is served as text/html, application/json or text/csv; Accept admits none"
                        .into(),
                )
            }),
        }
    }

    /// Like [`Format::choose`] from a raw query, but never fails: for error pages.
    pub fn lenient(query: Option<&str>, headers: &HeaderMap) -> Format {
        let param = query.and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "format")
                .map(|(_, v)| v.into_owned())
        });
        Format::choose(param.as_deref(), headers)
            .unwrap_or_else(|_| Format::from_accept(headers).unwrap_or(Format::Html))
    }

    /// The format `Accept` prefers (RFC 9110 §12.5.1): media ranges matched case-insensitively,
    /// the most specific range that matches a type gives its `q`, the highest `q` wins (ties
    /// go to the type listed first, then HTML, JSON, CSV). No header, or one that cannot be
    /// read, means HTML; `None` when every type we serve has `q=0`.
    pub fn from_accept(headers: &HeaderMap) -> Option<Format> {
        let values: Vec<&str> =
            headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).collect();
        if values.is_empty() || values.iter().all(|v| v.trim().is_empty()) {
            return Some(Format::Html);
        }
        let ranges: Vec<MediaRange> =
            values.iter().flat_map(|v| v.split(',')).filter_map(MediaRange::parse).collect();
        if ranges.is_empty() {
            return Some(Format::Html);
        }
        let mut best: Option<(u16, usize, Format)> = None;
        for (order, (format, (kind, sub))) in [
            (Format::Html, ("text", "html")),
            (Format::Json, ("application", "json")),
            (Format::Csv, ("text", "csv")),
        ]
        .into_iter()
        .enumerate()
        {
            let matching = ranges
                .iter()
                .enumerate()
                .filter(|(_, r)| r.matches(kind, sub))
                .max_by_key(|(pos, r)| (r.specificity(), std::cmp::Reverse(*pos)));
            let Some((pos, range)) = matching else { continue };
            if range.q == 0 {
                continue;
            }
            let rank = (range.q, usize::MAX - pos * 4 - order);
            if best.is_none_or(|(q, r, _)| (rank.0, rank.1) > (q, r)) {
                best = Some((rank.0, rank.1, format));
            }
        }
        best.map(|(_, _, f)| f)
    }
}

/// One media range of `Accept`, lowercased, with its weight in thousandths.
#[derive(Debug)]
struct MediaRange {
    kind: String,
    sub: String,
    q: u16,
}

impl MediaRange {
    fn parse(text: &str) -> Option<MediaRange> {
        let mut parts = text.split(';');
        let (kind, sub) = parts.next()?.trim().split_once('/')?;
        let (kind, sub) = (kind.trim().to_ascii_lowercase(), sub.trim().to_ascii_lowercase());
        if kind.is_empty() || sub.is_empty() || (kind == "*" && sub != "*") {
            return None;
        }
        let mut q = 1000;
        for param in parts {
            if let Some((name, value)) = param.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = parse_q(value.trim())?;
            }
        }
        Some(MediaRange { kind, sub, q })
    }

    fn matches(&self, kind: &str, sub: &str) -> bool {
        (self.kind == "*" || self.kind == kind) && (self.sub == "*" || self.sub == sub)
    }

    fn specificity(&self) -> u8 {
        u8::from(self.kind != "*") + u8::from(self.sub != "*")
    }
}

/// A `qvalue`: 0 to 1 with at most three decimals, in thousandths.
fn parse_q(text: &str) -> Option<u16> {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value: u16 = format!("{frac:0<3}").parse().ok()?;
    match whole {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
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

    #[test]
    fn accept_is_read_as_rfc_9110_says() {
        let pick = |a: &str| Format::from_accept(&accept(a));
        assert_eq!(pick("application/json;q=0, text/html"), Some(Format::Html));
        assert_eq!(pick("application/jsonx"), None, "no substring matches");
        assert_eq!(pick("APPLICATION/JSON"), Some(Format::Json));
        assert_eq!(pick("text/*;q=0.5, application/json;q=0.9"), Some(Format::Json));
        assert_eq!(pick("text/csv;q=1, text/html;q=0.8"), Some(Format::Csv));
        assert_eq!(pick("*/*"), Some(Format::Html));
        assert_eq!(pick("text/*, text/html;q=0"), Some(Format::Csv), "the most specific range wins");
        assert_eq!(pick("application/json, text/html"), Some(Format::Json), "ties go to the first listed");
        assert_eq!(pick("image/png"), None);
        assert_eq!(pick("*/*;q=0"), None);
        assert_eq!(pick("text/html;q=2"), Some(Format::Html), "an unreadable range is ignored");
        assert_eq!(pick(""), Some(Format::Html));
        assert!(matches!(Format::choose(None, &accept("image/png")), Err(AppError::NotAcceptable(_))));
    }
}
