//! `GET /reports/{type}/{period}`: one report, its facts and tables, and its trend as a
//! chart drawn on the server.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::reports::{Fact, Report, ReportType, Section};
use polo_core::text::ago;
use polo_web::request::detail_format;
use polo_web::response::Chart;
use polo_web::response::{html, json};
use polo_web::{AppError, AppState, Chrome, Format};
use serde::Serialize;

use crate::list::ReportItem;

/// The JSON of one report: its list item plus the body.
#[derive(Serialize)]
struct Detail<'a> {
    #[serde(flatten)]
    item: ReportItem<'a>,
    body: &'a polo_core::reports::ReportBody,
}

#[derive(Template)]
#[template(path = "reports/detail.html")]
struct DetailPage<'a> {
    chrome: Chrome,
    title: &'static str,
    period: &'a str,
    headline: &'a str,
    facts: &'a [Fact],
    sections: &'a [Section],
    chart: Option<Chart>,
    generated: String,
    generated_at: String,
    kept_until: String,
    bounds: String,
}

/// `GET /reports/{type}/{period}`.
pub async fn detail(
    State(state): State<AppState>,
    chrome: Chrome,
    Path((kind, period)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let kind = ReportType::parse(&kind).map_err(|e| AppError::NotFound(e.to_string()))?;
    let format = detail_format(raw.as_deref(), &request_headers)?;
    let now = state.clock.now();
    let report: Report = state.reports.get(kind, &period, now).await?.ok_or_else(|| {
        AppError::NotFound(format!(
            "no {} report for {period:?}: not generated, or past the days reports of this type are kept",
            kind.as_str()
        ))
    })?;
    match format {
        Format::Json => {
            let head = report.head();
            json(&Detail { item: ReportItem::of(&head), body: &report.body })
        }
        Format::Csv => Err(AppError::bad_param("format", "a report answers html or json, not csv")),
        Format::Html => {
            let points: Vec<_> = report.body.trend.iter().map(|p| (p.date, p.amount, p.estimated)).collect();
            html(&DetailPage {
                chrome,
                title: kind.title(),
                period: &report.period,
                headline: &report.body.headline,
                facts: &report.body.facts,
                sections: &report.body.sections,
                chart: (!points.is_empty()).then(|| Chart::of("report-chart", &points)),
                generated: ago(report.generated_at, now),
                generated_at: polo_core::text::rfc3339(report.generated_at),
                kept_until: report.expires_at.date().to_string(),
                bounds: format!(
                    "{} to {} ({})",
                    polo_core::text::rfc3339(report.start),
                    polo_core::text::rfc3339(report.end),
                    state.config.reports.timezone
                ),
            })
        }
    }
}
