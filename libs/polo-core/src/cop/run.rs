//! One Cop run: the rules over the fleet and the cost store at `now`, set against the
//! findings remembered, saved (unless a dry run), and what is due a notice.

use time::OffsetDateTime;

use super::{Candidate, Notice, RuleContext, due, evaluate, reconcile};
use crate::config::Config;
use crate::model::Finding;
use crate::ports::{CostReader, DataError, FindingStore, FleetReader};

/// What a run reads and where it remembers.
pub struct CopSources<'a> {
    pub fleet: &'a dyn FleetReader,
    pub costs: &'a dyn CostReader,
    pub store: &'a dyn FindingStore,
    pub config: &'a Config,
    /// The usage ledger, whose causes `cost-spike` names (`None`: the findings say none).
    pub usage: Option<&'a dyn crate::ports::UsageReader>,
    /// The fleet's daily metrics, which the utilization rules judge (`None`: they find none).
    pub metrics: Option<&'a crate::ports::MetricsReader>,
}

impl<'a> CopSources<'a> {
    /// Sources without the documents that add detail (no causes, no utilization).
    pub fn new(
        fleet: &'a dyn FleetReader,
        costs: &'a dyn CostReader,
        store: &'a dyn FindingStore,
        config: &'a Config,
    ) -> CopSources<'a> {
        CopSources { fleet, costs, store, config, usage: None, metrics: None }
    }
}

/// What a run found and decided.
#[derive(Debug)]
pub struct CopRun {
    /// What the rules found now.
    pub found: Vec<Candidate>,
    /// Every finding after the run.
    pub findings: Vec<Finding>,
    /// The findings due a notice, and why.
    pub due: Vec<(Finding, Notice)>,
}

/// Runs the rules at `now`; stores the findings unless `dry_run`.
pub async fn run_cop(
    sources: &CopSources<'_>,
    now: OffsetDateTime,
    dry_run: bool,
) -> Result<CopRun, DataError> {
    let (fleet, costs) = tokio::try_join!(sources.fleet.fleet(), sources.costs.costs())?;
    let prices = crate::pricing::PriceTable::configured(sources.config).map_err(|e| {
        DataError::Unreadable { source_name: "the bundled price table".into(), problem: e.to_string() }
    })?;
    let usage = crate::ports::usage_if_any(sources.usage).await;
    let metrics = crate::ports::document_if_any(sources.metrics).await;
    let context = RuleContext::new(&fleet, &costs, sources.config, &prices, now)
        .with_usage(usage.as_deref())
        .with_metrics(metrics.as_deref());
    let found = evaluate(&context);
    let previous = sources.store.all().await?;
    let mut findings = reconcile(&previous, &found, now);
    super::state::apply_exceptions(&mut findings, &sources.config.cop.exceptions, now);
    if !dry_run {
        sources.store.save(&findings).await?;
    }
    let renotify = super::Renotify::of(&sources.config.cop);
    let due = findings.iter().filter_map(|f| due(f, now, &renotify).map(|n| (f.clone(), n))).collect();
    Ok(CopRun { found, findings, due })
}
