//! One report run: the period (asked for, or the last complete one), the inputs read, the
//! report built, and stored unless the stored one already says the same.

use time::OffsetDateTime;

use super::{Period, PeriodError, Report, ReportInputs, ReportType, generate};
use crate::config::Config;
use crate::ports::{ChangeReader, CostReader, DataError, FindingReader, FleetReader, ReportStore};

/// Where a report run reads from and writes to.
pub struct ReportSources<'a> {
    pub fleet: &'a dyn FleetReader,
    pub costs: &'a dyn CostReader,
    pub changes: &'a dyn ChangeReader,
    pub findings: &'a dyn FindingReader,
    pub store: &'a dyn ReportStore,
    pub config: &'a Config,
    /// The usage ledger, whose causes the daily-cost report names (`None`: it names none).
    pub usage: Option<&'a dyn crate::ports::UsageReader>,
    /// The fleet's daily metrics, whose proposals the idle-resources report lists.
    pub metrics: Option<&'a crate::ports::MetricsReader>,
}

/// What a run did.
#[derive(Debug)]
pub enum RunOutcome {
    /// A new or changed report, stored (and waiting in the outbox).
    Stored(Report),
    /// The stored report of the period says the same: kept as it was.
    Unchanged(Report),
    /// Built and not stored (`--dry-run`).
    DryRun(Report),
}

impl RunOutcome {
    /// The report built or kept.
    pub fn report(&self) -> &Report {
        match self {
            RunOutcome::Stored(r) | RunOutcome::Unchanged(r) | RunOutcome::DryRun(r) => r,
        }
    }
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Period(#[from] PeriodError),
    #[error(transparent)]
    Data(#[from] DataError),
}

/// The period a run covers: `asked` (complete at `now`), else the last complete one.
pub fn period_for(
    kind: ReportType,
    asked: Option<&str>,
    now: OffsetDateTime,
    config: &Config,
) -> Result<Period, PeriodError> {
    let zone = &config.reports.timezone;
    match asked {
        Some(text) => Period::parse(text, kind.granularity())?.complete_at(now, zone),
        None => Ok(Period::last_complete(kind.granularity(), now, zone)),
    }
}

/// Builds the report of `kind` for `period` (else the last complete one) at `now`, and
/// stores it unless `dry_run` or the stored report of that period says the same (body and
/// finality). A revision of a report Slack already had is sent again only when its total
/// moved by more than `[reports] revision_share` ([`revise`]).
pub async fn run_report(
    kind: ReportType,
    period: Option<&str>,
    sources: &ReportSources<'_>,
    now: OffsetDateTime,
    dry_run: bool,
) -> Result<RunOutcome, RunError> {
    let period = period_for(kind, period, now, sources.config)?;
    let (start, end) = period.bounds(&sources.config.reports.timezone);
    let (fleet, costs) = tokio::try_join!(sources.fleet.fleet(), sources.costs.costs())?;
    let changes_of_period = async {
        if kind.reads_history() { sources.changes.changes_between(start, end).await } else { Ok(Vec::new()) }
    };
    let (changes, findings) = tokio::try_join!(changes_of_period, sources.findings.open_findings())?;
    let usage =
        if kind == ReportType::DailyCost { crate::ports::usage_if_any(sources.usage).await } else { None };
    let metrics = if kind == ReportType::IdleResources {
        crate::ports::document_if_any(sources.metrics).await
    } else {
        None
    };
    let inputs = ReportInputs {
        fleet: &fleet,
        costs: &costs,
        changes: &changes,
        findings: &findings,
        config: sources.config,
        usage: usage.as_deref(),
        metrics: metrics.as_deref(),
    };
    let mut report = generate(kind, period, &inputs, now);
    if dry_run {
        return Ok(RunOutcome::DryRun(report));
    }
    if let Some(stored) = sources.store.get(kind, &report.period, now).await? {
        if stored.body == report.body && stored.is_final == report.is_final {
            return Ok(RunOutcome::Unchanged(stored));
        }
        revise(&mut report, &stored, sources.config.reports.revision_share);
    }
    sources.store.put(&report).await?;
    Ok(RunOutcome::Stored(report))
}

/// `report` replacing `stored`: while Slack has not had `stored`, the new one simply waits
/// in its place. Once Slack has had it, the new one is sent again, marked as a revision,
/// only when its total moved by more than `share` of the total Slack heard; otherwise it
/// stays sent (the page changes, Slack hears nothing) and remembers what Slack heard.
fn revise(report: &mut Report, stored: &Report, share: f64) {
    if stored.sent_at.is_none() {
        report.revised_from = stored.revised_from;
        return;
    }
    let heard = stored.heard_total.or(stored.total);
    let moved = match (heard, report.total) {
        (Some(heard), Some(now)) => {
            let share = rust_decimal::Decimal::try_from(share).unwrap_or(rust_decimal::Decimal::ZERO);
            (now.amount() - heard.amount()).abs() > heard.amount().abs() * share
        }
        _ => false,
    };
    if moved {
        report.sent_at = None;
        report.revised_from = heard;
    } else {
        report.sent_at = stored.sent_at;
        report.heard_total = heard;
    }
}
