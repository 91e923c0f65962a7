//! `GET /`: counts, run-rate, month to date and data freshness.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;
use polo_core::model::Severity;
use polo_core::summary::{FleetSummary, GroupSummary, summarize_counted};
use polo_core::text::{ago, rfc3339};
use polo_web::request::detail_format;
use polo_web::response::{csv, html, json};
use polo_web::table::to_csv;
use polo_web::{AppError, AppState, Chrome, Format};
use serde::Serialize;

/// One account's freshness, ready to print.
struct FreshnessRow {
    account: String,
    account_id: String,
    kind: String,
    synced: String,
    synced_at: String,
    stale: bool,
    errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    s: FleetSummary,
    hourly: String,
    monthly: String,
    /// Fleet drift a month: what runs beyond the registries' ask, and what they ask for and
    /// does not run (without its sign).
    drift_waste: String,
    drift_short: String,
    mtd: Option<(String, String)>,
    snapshot_age: String,
    freshness: Vec<FreshnessRow>,
    /// Why the snapshot shown may not be the newest one stored.
    problem: Option<String>,
    /// The newest report of each type: (page, title, period, headline); `Err` says why the
    /// reports could not be read (the rest of the page still shows).
    reports: Result<Vec<(String, &'static str, String, String)>, &'static str>,
    /// Open findings by severity, worst first: (severity, count); `Err` as for reports.
    findings: Result<Vec<(&'static str, usize)>, &'static str>,
}

impl OverviewPage {
    fn money(m: polo_core::Money) -> String {
        m.to_grouped_cents()
    }

    fn breakdowns(&self) -> [(&'static str, &[GroupSummary], &'static str); 2] {
        [
            ("By account", &self.s.counts.by_account, "account"),
            ("By region", &self.s.counts.by_region, "region"),
        ]
    }

    fn group_hourly(g: &GroupSummary) -> String {
        Self::money(g.hourly_cost)
    }
}

/// A CSV row of `/`: one group of one breakdown.
#[derive(Serialize)]
struct CountRow<'a> {
    breakdown: &'a str,
    key: &'a str,
    instances: usize,
    running: usize,
    indexes: usize,
    hourly_cost: polo_core::Money,
}

const CSV_COLUMNS: &[&str] = &["breakdown", "key", "instances", "running", "indexes", "hourly_cost"];

/// `GET /`: the fleet at a glance, as HTML, JSON or CSV.
pub async fn overview(
    State(state): State<AppState>,
    chrome: Chrome,
    RawQuery(raw): RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let format = detail_format(raw.as_deref(), &request_headers)?;
    let fleet = state.fleet.fleet().await?;
    let now = state.clock.now();
    // Drift as the Cop's open fleet-* findings price it (the weekly summary's figures too);
    // unreadable findings leave it at zero, and the findings card says why. The page also
    // shows the latest reports: both are asked at once.
    let reports = async {
        match format {
            Format::Html => Some(state.reports.latest(now).await),
            Format::Json | Format::Csv => None,
        }
    };
    let (open, latest) = tokio::join!(state.findings.open_summary(), reports);
    let drift = open.as_ref().map(|o| o.drift).unwrap_or_default();
    let s = summarize_counted(&state.fleet_counts(&fleet), &fleet, &state.prices, drift, now);
    match format {
        Format::Json => json(&s),
        Format::Csv => {
            let groups = s
                .counts
                .by_account
                .iter()
                .map(|g| ("account", g))
                .chain(s.counts.by_region.iter().map(|g| ("region", g)))
                .map(|(breakdown, g)| CountRow {
                    breakdown,
                    key: &g.key,
                    instances: g.instances,
                    running: g.running,
                    indexes: g.indexes,
                    hourly_cost: g.hourly_cost,
                });
            csv(to_csv(CSV_COLUMNS, groups)?, "overview.csv")
        }
        Format::Html => {
            let freshness = s
                .freshness
                .iter()
                .map(|f| FreshnessRow {
                    account: f.account.clone(),
                    account_id: f.account_id.clone(),
                    kind: f.kind.clone(),
                    synced: f.synced_at.map_or_else(|| "never".to_owned(), |t| ago(t, now)),
                    synced_at: f.synced_at.map(rfc3339).unwrap_or_default(),
                    stale: f.stale,
                    errors: f.errors.clone(),
                })
                .collect();
            // The snapshot is the page; reports and findings are parts of it that may be
            // missing on their own.
            let reports = latest
                .unwrap_or_else(|| Ok(Vec::new()))
                .map(|l| {
                    l.into_iter().map(|r| (r.path(), r.kind.title(), r.period, r.body.headline)).collect()
                })
                .map_err(|e| polo_web::response::unavailable("reports", &e));
            let findings = open
                .map(|open| {
                    [Severity::Critical, Severity::Warning, Severity::Info]
                        .into_iter()
                        .map(|s| (s.as_str(), open.count(s)))
                        .collect()
                })
                .map_err(|e| polo_web::response::unavailable("findings", &e));
            html(&OverviewPage {
                chrome,
                reports,
                findings,
                hourly: OverviewPage::money(s.counts.hourly_cost),
                monthly: OverviewPage::money(s.monthly_cost),
                drift_waste: OverviewPage::money(s.drift_waste),
                drift_short: OverviewPage::money(s.drift_short.abs()),
                mtd: s.month_to_date.as_ref().map(|m| (OverviewPage::money(m.amount), m.as_of.to_string())),
                snapshot_age: ago(s.generated_at, now),
                freshness,
                problem: state.fleet.problem(),
                s,
            })
        }
    }
}
