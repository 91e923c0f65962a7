//! Reports: what changed in a day, an ISO week or a month of the report time zone, built
//! from the inventory, the cost store, the resource history and the findings. One file per
//! report type; [`generate`] picks the right one.

mod body;
mod daily_cost;
mod idle_resources;
mod inventory_changes;
mod monthly_close;
mod period;
mod plain;
mod run;
mod weekly_summary;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

pub use body::{Fact, MAX_ROWS, ReportBody, Section, TrendPoint};
pub use period::{Granularity, Period, PeriodError};
pub use plain::plain_text;
pub use run::{ReportSources, RunError, RunOutcome, period_for, run_report};

use crate::Money;
use crate::calendar::ReportZone;
use crate::config::Config;
use crate::model::{Change, CostStore, Finding, Fleet};

/// The report types (CONTRACT.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportType {
    DailyCost,
    WeeklySummary,
    MonthlyClose,
    InventoryChanges,
    IdleResources,
}

impl ReportType {
    /// Every type, in the order pages list them.
    pub const ALL: [ReportType; 5] = [
        ReportType::DailyCost,
        ReportType::WeeklySummary,
        ReportType::MonthlyClose,
        ReportType::InventoryChanges,
        ReportType::IdleResources,
    ];

    /// The name in URLs, commands and config.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportType::DailyCost => "daily-cost",
            ReportType::WeeklySummary => "weekly-summary",
            ReportType::MonthlyClose => "monthly-close",
            ReportType::InventoryChanges => "inventory-changes",
            ReportType::IdleResources => "idle-resources",
        }
    }

    /// A heading.
    pub fn title(self) -> &'static str {
        match self {
            ReportType::DailyCost => "Daily cost",
            ReportType::WeeklySummary => "Weekly summary",
            ReportType::MonthlyClose => "Monthly close",
            ReportType::InventoryChanges => "Inventory changes",
            ReportType::IdleResources => "Idle resources",
        }
    }

    /// The type named `text`.
    pub fn parse(text: &str) -> Result<ReportType, UnknownReportType> {
        ReportType::ALL
            .into_iter()
            .find(|t| t.as_str() == text)
            .ok_or_else(|| UnknownReportType(text.to_owned()))
    }

    /// Whether it shows the resource history (read, in production, by Query on the `by-day` index).
    pub fn reads_history(self) -> bool {
        matches!(self, ReportType::WeeklySummary | ReportType::InventoryChanges)
    }

    /// How long its period is.
    pub fn granularity(self) -> Granularity {
        match self {
            ReportType::WeeklySummary => Granularity::Week,
            ReportType::MonthlyClose => Granularity::Month,
            ReportType::DailyCost | ReportType::InventoryChanges | ReportType::IdleResources => {
                Granularity::Day
            }
        }
    }
}

/// A name that is no report type.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "unknown report type {0:?}: expected daily-cost, weekly-summary, monthly-close, inventory-changes or idle-resources"
)]
pub struct UnknownReportType(pub String);

/// One stored report (CONTRACT.md "Reports").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    #[serde(rename = "type")]
    pub kind: ReportType,
    /// `2026-03-08`, `2026-W10` or `2026-03`.
    pub period: String,
    /// The period's first instant, and the next period's (exclusive), in UTC.
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// Gone for every reader from then on (the table's `ttl`).
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub body: ReportBody,
    /// `false` while its numbers can still change: a cost report whose period has a day
    /// Cost Explorer still estimates, or a day it has not answered for yet. Reports stored
    /// before this was recorded read as final.
    #[serde(rename = "final", default = "final_by_default")]
    pub is_final: bool,
    /// When Slack accepted its message; `None` while it waits in the outbox.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub sent_at: Option<OffsetDateTime>,
    /// The period's whole bill, for a report of cost days (what a revision is judged on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    /// The total of the last message Slack accepted, kept while later revisions too small to
    /// send change the report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heard_total: Option<Money>,
    /// On a revision waiting to be sent again: the total Slack had heard. The message says it
    /// is a revision, from what to what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revised_from: Option<Money>,
}

fn final_by_default() -> bool {
    true
}

/// Whether a report of `kind` over `period` is final at `now` on `costs`: reports of cost
/// days are not while any of those days is estimated or missing, and a `monthly-close` not
/// before `[reports] month_final_after_days` after its month; the others count no cost day.
pub fn is_final(
    kind: ReportType,
    period: &Period,
    costs: &CostStore,
    now: OffsetDateTime,
    config: &Config,
) -> bool {
    let (first, last) = (period.first_day(), period.last_day());
    let settled =
        || costs.as_of().is_some_and(|newest| newest >= last) && costs.estimated_days(first, last) == 0;
    match kind {
        ReportType::DailyCost | ReportType::WeeklySummary => settled(),
        ReportType::MonthlyClose => {
            let after = Duration::days(i64::from(config.reports.month_final_after_days));
            settled() && now.date() > last + after
        }
        ReportType::InventoryChanges | ReportType::IdleResources => true,
    }
}

impl ReportType {
    /// Whether its numbers are cost days (it can be revised as Cost Explorer revises them).
    pub fn counts_cost_days(self) -> bool {
        matches!(self, ReportType::DailyCost | ReportType::WeeklySummary | ReportType::MonthlyClose)
    }
}

impl Report {
    /// Its page.
    pub fn path(&self) -> String {
        page_of(self.kind, &self.period)
    }

    /// Whether readers still see it at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }
}

/// What reports are built from.
pub struct ReportInputs<'a> {
    pub fleet: &'a Fleet,
    pub costs: &'a CostStore,
    /// The resource history within (at least) the period.
    pub changes: &'a [Change],
    pub findings: &'a [Finding],
    pub config: &'a Config,
    /// What each instance ran (`None`: no causes named).
    pub usage: Option<&'a crate::model::UsageLedger>,
    /// The fleet's daily metrics, whose proposals the idle-resources report lists (`None`:
    /// it lists none, and says why).
    pub metrics: Option<&'a crate::model::MetricsDocument>,
}

/// Builds the report of `kind` for `period` at `now`, kept for the type's `ttl_days`.
pub fn generate(kind: ReportType, period: Period, inputs: &ReportInputs<'_>, now: OffsetDateTime) -> Report {
    let zone: &ReportZone = &inputs.config.reports.timezone;
    let (start, end) = period.bounds(zone);
    let body = match kind {
        ReportType::DailyCost => daily_cost::build(period, inputs),
        ReportType::WeeklySummary => weekly_summary::build(period, inputs, (start, end)),
        ReportType::MonthlyClose => monthly_close::build(period, inputs),
        ReportType::InventoryChanges => inventory_changes::build(inputs, (start, end)),
        ReportType::IdleResources => idle_resources::build(period, inputs, end),
    };
    let days = inputs.config.reports.ttl_days.get(kind.as_str()).copied().unwrap_or(35);
    Report {
        kind,
        period: period.to_string(),
        start,
        end,
        generated_at: now,
        expires_at: now + Duration::days(i64::from(days)),
        body,
        is_final: is_final(kind, &period, inputs.costs, now, inputs.config),
        sent_at: None,
        total: kind.counts_cost_days().then(|| inputs.costs.bill(period.first_day(), period.last_day())),
        heard_total: None,
        revised_from: None,
    }
}

/// The changes of `changes` within `[start, end)`.
fn within(
    changes: &[Change],
    (start, end): (OffsetDateTime, OffsetDateTime),
) -> impl Iterator<Item = &Change> {
    changes.iter().filter(move |c| c.at >= start && c.at < end)
}

/// A report without its body, but for its headline: what lists and the outbox's choice read
/// (a store holds up to hundreds of bodies per type, megabytes in all).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportHead {
    #[serde(rename = "type")]
    pub kind: ReportType,
    pub period: String,
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(rename = "final", default = "final_by_default")]
    pub is_final: bool,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Money>,
    pub headline: String,
}

impl Report {
    /// Its head.
    pub fn head(&self) -> ReportHead {
        ReportHead {
            kind: self.kind,
            period: self.period.clone(),
            start: self.start,
            end: self.end,
            generated_at: self.generated_at,
            expires_at: self.expires_at,
            is_final: self.is_final,
            sent_at: self.sent_at,
            total: self.total,
            headline: self.body.headline.clone(),
        }
    }
}

/// The page of the report of `kind` for `period`.
fn page_of(kind: ReportType, period: &str) -> String {
    format!("/reports/{}/{period}", kind.as_str())
}

impl ReportHead {
    /// Its report's page.
    pub fn path(&self) -> String {
        page_of(self.kind, &self.period)
    }

    /// Whether readers still see it at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }
}

impl crate::listing::Filterable for ReportHead {
    fn field(&self, field: crate::listing::FilterField) -> Option<&str> {
        match field {
            crate::listing::FilterField::Type => Some(self.kind.as_str()),
            crate::listing::FilterField::Period => Some(&self.period),
            _ => None,
        }
    }

    fn search_text(&self) -> String {
        crate::listing::haystack([
            self.kind.as_str(),
            self.kind.title(),
            self.period.as_str(),
            self.headline.as_str(),
        ])
    }
}

#[cfg(test)]
mod tests;
