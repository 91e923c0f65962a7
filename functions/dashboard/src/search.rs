//! `GET /search?q=`: instances, indexes, accounts and customers at once. htmx asks for the
//! results partial as one types; without JavaScript it is a whole page; JSON with `format`.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::search::{Hits, SearchResults, search};
use polo_web::request::Htmx;
use polo_web::request::search_query;
use polo_web::response::{html, html_body, json};
use polo_web::{AppError, AppState, Chrome, Format};

/// Hits per kind.
pub const LIMIT: usize = 20;

#[derive(Template)]
#[template(path = "dashboard/search_results.html")]
struct ResultsPartial {
    r: SearchResults,
}

#[derive(Template)]
#[template(path = "dashboard/search.html")]
struct SearchPage {
    chrome: Chrome,
    r: SearchResults,
}

/// One kind of hits as the results list shows it: title, kind, hits, link prefix.
type Section<'a> = (&'static str, &'static str, &'a Hits, &'static str);

fn sections(r: &SearchResults) -> [Section<'_>; 4] {
    [
        ("Instances", "instances", &r.instances, "/instances/"),
        ("Indexes", "indexes", &r.indexes, "/indexes/"),
        ("Accounts", "accounts", &r.accounts, "/instances?account="),
        ("Customers", "customers", &r.customers, "/indexes?customer="),
    ]
}

impl ResultsPartial {
    fn sections(&self) -> [Section<'_>; 4] {
        sections(&self.r)
    }
}

impl SearchPage {
    fn sections(&self) -> [Section<'_>; 4] {
        sections(&self.r)
    }
}

/// `GET /search`.
pub async fn search_page(
    State(state): State<AppState>,
    chrome: Chrome,
    htmx: Htmx,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let (q, format) = search_query(raw.as_deref(), &headers)?;
    let fleet = state.fleet.fleet().await?;
    let r = search(&fleet, &q, LIMIT);
    match format {
        Format::Json => json(&r),
        Format::Csv => Err(AppError::bad_param("format", "search answers html or json, not csv")),
        // Cleared (Escape, or the input emptied): nothing, so the results box closes.
        Format::Html if htmx.partial && r.q.is_empty() => Ok(html_body(String::new())),
        Format::Html if htmx.partial => html(&ResultsPartial { r }),
        Format::Html => html(&SearchPage { chrome: chrome.with_search(&q), r }),
    }
}
