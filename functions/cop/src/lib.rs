//! The scheduled Cloud Cop: each run takes the Cop's lease (a second run at the same time
//! does nothing), judges the fleet and its costs, remembers the findings in the report
//! table, and sends the digest of what is due through the Slack outbox.

use std::sync::Arc;
use std::time::Duration;

use polo_core::Clock;
use polo_core::config::Config;
use polo_core::cop::{CopSources, Notice, run_cop};
use polo_core::model::Severity;
use polo_core::ports::{CostReader, FindingStore, FleetReader, Stores};
use polo_telemetry::emf::MetricSet;
use polo_telemetry::names;
use serde::Serialize;

/// How long one run may hold the lease (the function's timeout is shorter).
pub const LEASE: Duration = Duration::from_mins(10);

/// Readers, the findings and the configuration, built once per container.
pub struct State {
    pub fleet: Arc<dyn FleetReader>,
    pub costs: Arc<dyn CostReader>,
    /// The usage ledger: the causes a cost spike names.
    pub usage: Arc<dyn polo_core::ports::UsageReader>,
    /// The fleet's daily metrics: utilization, idle instances, dormant indexes.
    pub metrics: Arc<polo_core::ports::MetricsReader>,
    pub findings: Arc<dyn FindingStore>,
    pub config: Config,
    pub clock: Arc<dyn Clock>,
    /// Slack: the webhook (without one, the digest waits in the outbox) and the links' address.
    pub delivery: polo_slack::Delivery,
}

impl State {
    /// The Cop's state over `stores` (`polo_aws::stores` when deployed).
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
            findings: Arc::clone(&stores.findings),
            config,
            clock,
            delivery,
        }
    }
}

/// What a run did.
#[derive(Debug, Serialize)]
pub struct CopSummary {
    /// `false` when another run held the lease.
    pub ran: bool,
    pub open: usize,
    pub new: usize,
    pub reminders: usize,
    pub resolved: usize,
    /// Digest messages Slack accepted, and those left for the next run.
    pub sent: usize,
    pub left: usize,
    pub problems: Vec<String>,
    /// Open findings per severity (every severity, zero too).
    pub open_by_severity: Vec<(Severity, usize)>,
    /// Whether a webhook was there to drain the outbox (`sent` and `left` mean nothing without).
    pub slack: bool,
}

impl CopSummary {
    /// What the run tells CloudWatch besides itself: new findings, Slack sent and left, and
    /// open findings per severity. A run that did not hold the lease tells nothing more.
    pub fn metric_sets(&self) -> Vec<MetricSet> {
        if !self.ran {
            return Vec::new();
        }
        let mut run = MetricSet::new().count(names::FINDINGS_NEW, self.new);
        if self.slack {
            run = run.count(names::SLACK_SENT, self.sent).count(names::OUTBOX_LEFT, self.left);
        }
        let mut sets = vec![run];
        sets.extend(self.open_by_severity.iter().map(|(severity, open)| {
            MetricSet::new().dimension(names::SEVERITY, severity.as_str()).count(names::FINDINGS_OPEN, *open)
        }));
        sets
    }
}

/// One run as `holder` (the invocation's request id), with `budget` for Slack.
pub async fn handle(state: &State, holder: &str, budget: Duration) -> Result<CopSummary, String> {
    let now = state.clock.now();
    let started = std::time::Instant::now();
    if !state.findings.acquire(holder, now, LEASE).await.map_err(|e| e.to_string())? {
        tracing::info!("another Cop run holds the lease: nothing to do");
        return Ok(CopSummary {
            ran: false,
            open: 0,
            new: 0,
            reminders: 0,
            resolved: 0,
            sent: 0,
            left: 0,
            problems: Vec::new(),
            open_by_severity: Vec::new(),
            slack: false,
        });
    }
    let result = judge_and_tell(state, now, started, budget).await;
    state.findings.release(holder, now).await.map_err(|e| e.to_string())?;
    result
}

async fn judge_and_tell(
    state: &State,
    now: time::OffsetDateTime,
    started: std::time::Instant,
    budget: Duration,
) -> Result<CopSummary, String> {
    let sources = CopSources {
        fleet: state.fleet.as_ref(),
        costs: state.costs.as_ref(),
        store: state.findings.as_ref(),
        config: &state.config,
        usage: Some(state.usage.as_ref()),
        metrics: Some(state.metrics.as_ref()),
    };
    let run = run_cop(&sources, now, false).await.map_err(|e| e.to_string())?;
    let count = |n: Notice| run.due.iter().filter(|(_, x)| *x == n).count();
    let open =
        |s: Severity| run.findings.iter().filter(|f| f.resolved_at.is_none() && f.severity == s).count();
    let mut summary = CopSummary {
        ran: true,
        open: run.findings.iter().filter(|f| f.resolved_at.is_none()).count(),
        new: count(Notice::New),
        reminders: count(Notice::Reminder),
        resolved: count(Notice::Resolved),
        sent: 0,
        left: 0,
        problems: Vec::new(),
        open_by_severity: [Severity::Critical, Severity::Warning, Severity::Info]
            .map(|s| (s, open(s)))
            .to_vec(),
        slack: false,
    };
    let outbox = polo_slack::digest::FindingOutbox {
        store: state.findings.as_ref(),
        renotify: polo_core::cop::Renotify::of(&state.config.cop),
        public_url: &state.delivery.public_url,
    };
    let budget = budget.saturating_sub(started.elapsed());
    if let Some(drained) =
        state.delivery.send(&outbox, now, budget).await.map_err(|e| format!("outbox: {e}"))?
    {
        (summary.sent, summary.left, summary.problems) = (drained.sent, drained.left, drained.problems);
        summary.slack = true;
    }
    tracing::info!(open = summary.open, new = summary.new, sent = summary.sent, "cop run");
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(slack: bool) -> CopSummary {
        CopSummary {
            ran: true,
            open: 3,
            new: 1,
            reminders: 0,
            resolved: 0,
            sent: 1,
            left: 2,
            problems: Vec::new(),
            open_by_severity: vec![(Severity::Critical, 1), (Severity::Warning, 2), (Severity::Info, 0)],
            slack,
        }
    }

    #[test]
    fn a_run_reports_open_findings_per_severity_and_its_outbox_only_with_a_webhook() {
        let value = |set: &MetricSet, name: &str| set.values.iter().find(|v| v.0 == name).map(|v| v.2);
        let sets = summary(true).metric_sets();
        assert_eq!(sets.len(), 4);
        assert_eq!(value(&sets[0], names::OUTBOX_LEFT), Some(2.0));
        assert_eq!(sets[1].dimensions, vec![(names::SEVERITY, "critical".to_owned())]);
        assert_eq!(value(&sets[3], names::FINDINGS_OPEN), Some(0.0), "zero too");
        let without = summary(false).metric_sets();
        assert!(without[0].values.iter().all(|v| v.0 != names::OUTBOX_LEFT && v.0 != names::SLACK_SENT));
        assert!(CopSummary { ran: false, ..summary(true) }.metric_sets().is_empty());
    }
}
