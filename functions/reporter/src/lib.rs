//! The scheduled reporter: a rule's constant input `{"type": "daily-cost"}` builds that
//! type's report for its last complete period (or `"period"`); any other event (a plain
//! scheduled event) builds every type's. A period already stored with the same body is
//! left as it is, so a repeated delivery changes nothing. Then every report Slack has not
//! accepted yet, of any type, is sent (the outbox of `polo-slack`).

use std::sync::Arc;

use polo_core::Clock;
use polo_core::config::Config;
use polo_core::ports::{
    ChangeReader, CostReader, FindingReader, FleetReader, ReportFilter, ReportStore, Stores,
};
use polo_core::reports::{ReportSources, ReportType, RunOutcome, run_report};
use polo_telemetry::emf::MetricSet;
use polo_telemetry::names;
use serde::{Deserialize, Serialize};

/// Readers, the report store and the configuration, built once per container.
pub struct State {
    pub fleet: Arc<dyn FleetReader>,
    pub costs: Arc<dyn CostReader>,
    /// The usage ledger: the causes the daily-cost report names.
    pub usage: Arc<dyn polo_core::ports::UsageReader>,
    /// The fleet's daily metrics: utilization, idle instances, dormant indexes.
    pub metrics: Arc<polo_core::ports::MetricsReader>,
    pub changes: Arc<dyn ChangeReader>,
    pub findings: Arc<dyn FindingReader>,
    pub store: Arc<dyn ReportStore>,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    /// Slack: the webhook (without one, reports wait in the outbox) and the links' address.
    pub delivery: polo_slack::Delivery,
}

impl State {
    /// The reporter's state over `stores` (`polo_aws::stores` when deployed): the
    /// snapshot, the cost store, the history, the Cop's findings and the reports, so what
    /// `main` runs and what the emulator tests run cannot differ.
    pub fn new(
        stores: &Stores,
        config: Config,
        clock: Arc<dyn Clock>,
        delivery: polo_slack::Delivery,
    ) -> State {
        State {
            fleet: Arc::clone(&stores.fleet),
            costs: Arc::clone(&stores.costs),
            usage: Arc::clone(&stores.usage),
            metrics: Arc::clone(&stores.metrics),
            changes: Arc::clone(&stores.history),
            findings: stores.findings.clone(),
            store: Arc::clone(&stores.reports),
            config,
            clock,
            delivery,
        }
    }
}

/// What a run is asked for.
#[derive(Debug, Default, Deserialize)]
pub struct Request {
    /// One report type; every type when absent.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// That type's period; the last complete one when absent.
    pub period: Option<String>,
}

/// One report a run built.
#[derive(Debug, Serialize)]
pub struct Built {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub period: String,
    /// `stored` (new or changed) or `unchanged`.
    pub outcome: &'static str,
    pub headline: String,
}

/// The answer of a run.
#[derive(Debug, Serialize)]
pub struct RunSummary {
    pub reports: Vec<Built>,
    /// What the outbox sent and left (none without a webhook).
    pub slack: Option<SlackSummary>,
}

impl RunSummary {
    /// What the run tells CloudWatch besides itself: reports stored new or changed, and what
    /// Slack accepted and what is left in the outbox.
    pub fn metric_sets(&self) -> Vec<MetricSet> {
        let stored = self.reports.iter().filter(|r| r.outcome == "stored").count();
        let mut set = MetricSet::new().count(names::REPORTS_STORED, stored);
        if let Some(slack) = &self.slack {
            set = set.count(names::SLACK_SENT, slack.sent).count(names::OUTBOX_LEFT, slack.left);
        }
        vec![set]
    }
}

/// What one drain of the outbox did.
#[derive(Debug, Serialize)]
pub struct SlackSummary {
    pub sent: usize,
    pub left: usize,
    pub problems: Vec<String>,
}

/// Builds and stores the reports `payload` asks for. A payload that names an unknown type
/// or a malformed period fails the run with that one line.
pub async fn handle(
    state: &State,
    payload: serde_json::Value,
    budget: std::time::Duration,
) -> Result<RunSummary, String> {
    // A payload that means to ask (has `type` or `period`) must be well formed; anything
    // else (a scheduled event) asks for every type.
    let asks = payload.get("type").is_some() || payload.get("period").is_some();
    let request: Request = if asks {
        serde_json::from_value(payload).map_err(|e| format!("reporter request: {e}"))?
    } else {
        Request::default()
    };
    let kinds: Vec<ReportType> = match &request.kind {
        Some(name) => vec![ReportType::parse(name).map_err(|e| e.to_string())?],
        None => ReportType::ALL.to_vec(),
    };
    if request.period.is_some() && request.kind.is_none() {
        return Err("a period needs its report type (\"type\")".to_owned());
    }
    let sources = ReportSources {
        fleet: state.fleet.as_ref(),
        costs: state.costs.as_ref(),
        changes: state.changes.as_ref(),
        findings: state.findings.as_ref(),
        store: state.store.as_ref(),
        config: &state.config,
        usage: Some(state.usage.as_ref()),
        metrics: Some(state.metrics.as_ref()),
    };
    let now = state.clock.now();
    let started = std::time::Instant::now();
    let mut reports = Vec::new();
    // Each asked type's period, then every stored period of those types not final yet
    // (Cost Explorer still estimated a day of it): rebuilt until it is.
    let stored =
        state.store.heads(&ReportFilter::default(), now).await.map_err(|e| format!("reports: {e}"))?;
    let mut runs: Vec<(ReportType, Option<String>)> =
        kinds.iter().map(|k| (*k, request.period.clone())).collect();
    for r in stored.iter().filter(|r| !r.is_final && kinds.contains(&r.kind)) {
        runs.push((r.kind, Some(r.period.clone())));
    }
    let mut done: Vec<(ReportType, String)> = Vec::new();
    for (kind, period) in runs {
        if period.as_ref().is_some_and(|p| done.iter().any(|(k, d)| *k == kind && d == p)) {
            continue;
        }
        let outcome = run_report(kind, period.as_deref(), &sources, now, false)
            .await
            .map_err(|e| format!("{}: {e}", kind.as_str()))?;
        done.push((kind, outcome.report().period.clone()));
        let report = outcome.report();
        let built = Built {
            kind: kind.as_str(),
            period: report.period.clone(),
            outcome: if matches!(outcome, RunOutcome::Unchanged(_)) { "unchanged" } else { "stored" },
            headline: report.body.headline.clone(),
        };
        tracing::info!(report = built.kind, period = %built.period, outcome = built.outcome, "report");
        reports.push(built);
    }
    let outbox = polo_slack::report_message::ReportOutbox {
        store: state.store.as_ref(),
        public_url: &state.delivery.public_url,
    };
    let slack = state
        .delivery
        .send(&outbox, now, budget.saturating_sub(started.elapsed()))
        .await
        .map_err(|e| format!("outbox: {e}"))?
        .map(|drained| SlackSummary { sent: drained.sent, left: drained.left, problems: drained.problems });
    Ok(RunSummary { reports, slack })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;

    use polo_core::ports::{
        InMemoryCosts, LocalDataService, MemoryFindings, MemoryReports, ReportStore as _,
    };
    use polo_core::reports::ReportType;
    use time::macros::datetime;

    use super::{State, handle};

    const NOW: time::OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

    fn state(
        costs: polo_core::model::CostStore,
        store: Arc<MemoryReports>,
        now: time::OffsetDateTime,
    ) -> State {
        let (everything, _) =
            polo_core::sample::generate_with_costs(42, polo_core::sample::Scale::Small, NOW);
        let data = Arc::new(LocalDataService::from_snapshot(everything));
        State {
            fleet: data.clone(),
            costs: Arc::new(InMemoryCosts(Arc::new(costs))),
            usage: Arc::new(polo_core::ports::InMemoryUsage(
                Arc::new(polo_core::model::UsageLedger::empty()),
            )),
            metrics: Arc::new(polo_core::ports::InMemoryDocument(Arc::new(
                polo_core::model::MetricsDocument::empty(),
            ))),
            changes: data,
            findings: Arc::new(MemoryFindings::default()),
            store,
            config: polo_core::config::Config::bundled().unwrap(),
            clock: Arc::new(polo_core::FixedClock(now)),
            delivery: polo_slack::Delivery::none("https://polo.example.com"),
        }
    }

    #[tokio::test]
    async fn a_period_not_final_is_rebuilt_by_later_runs_until_it_is() {
        let (_, costs) = polo_core::sample::generate_with_costs(42, polo_core::sample::Scale::Small, NOW);
        let store = Arc::new(MemoryReports::default());
        let daily = serde_json::json!({"type": "daily-cost"});
        handle(&state(costs.clone(), store.clone(), NOW), daily.clone(), std::time::Duration::MAX)
            .await
            .unwrap();
        let first = store.get(ReportType::DailyCost, "2026-11-23", NOW).await.unwrap().unwrap();
        assert!(!first.is_final, "the sample's newest days are estimated");
        // A day later Cost Explorer has settled 23 November: the run for 24 November also
        // rebuilds the 23rd, which is now final.
        let mut settled = costs;
        settled.estimated.clear();
        let later = NOW + time::Duration::days(1);
        let run =
            handle(&state(settled, store.clone(), later), daily, std::time::Duration::MAX).await.unwrap();
        let periods: Vec<&str> = run.reports.iter().map(|r| r.period.as_str()).collect();
        assert_eq!(periods, ["2026-11-24", "2026-11-23"], "{periods:?}");
        assert!(store.get(ReportType::DailyCost, "2026-11-23", later).await.unwrap().unwrap().is_final);
    }
}
