//! The scheduled sync function: each EventBridge scheduled event runs one full sync.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use polo_aws::{AwsEnv, ResourceTable, S3Store, SdkConfig};
use polo_core::Clock;
use polo_core::config::Config;
use polo_sync_engine::production::{RunSummary, run};
use polo_telemetry::emf::MetricSet;
use polo_telemetry::names;

/// Clients and configuration, built once per container.
pub struct State {
    pub config: Config,
    pub sdk: SdkConfig,
    pub store: Arc<S3Store>,
    pub table: ResourceTable,
    pub clock: Arc<dyn Clock>,
    /// Acting in the payer account (`CORE_ROLE_ARN`) for Cost Explorer; no costs without it.
    pub costs_source: Option<SdkConfig>,
}

impl State {
    /// The sync's state over the bucket and resource table `env` names; Cost Explorer is
    /// asked as `CORE_ROLE_ARN` when it is set.
    pub async fn new(env: &AwsEnv, sdk: SdkConfig, config: Config, clock: Arc<dyn Clock>) -> State {
        let costs_source = if let Some(arn) = &env.core_role_arn {
            Some(polo_aws::assume_role(&sdk, arn).await)
        } else {
            tracing::warn!("CORE_ROLE_ARN is not set: Cost Explorer is not asked");
            None
        };
        State {
            store: Arc::new(polo_aws::bucket(env, &sdk)),
            table: polo_aws::resource_table(env, &sdk).with_retention(config.retention),
            config,
            sdk,
            clock,
            costs_source,
        }
    }
}

/// The lease one sync run holds, in the resource table.
pub const LEASE: &str = "sync";
/// Longer than the function's 5-minute timeout: a run that dies frees it by expiry.
pub const LEASE_TTL: std::time::Duration = std::time::Duration::from_mins(6);

/// What one event did: a run, or nothing because another run holds the lease or this
/// event (by its id) already ran.
#[derive(Debug, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Ran(Box<RunSummary>),
    Skipped { reason: String },
}

impl Outcome {
    /// What the run tells CloudWatch besides itself: pulls, failures, items and whether the
    /// snapshot was written. A skipped run tells nothing more. Per account, the run logs a
    /// line instead ([`Outcome::log_accounts`]).
    pub fn metric_sets(&self) -> Vec<MetricSet> {
        let Outcome::Ran(summary) = self else { return Vec::new() };
        vec![
            MetricSet::new()
                .count(names::SCOPES, summary.pulls)
                .count(names::SCOPES_FAILED, summary.accounts.iter().map(|a| a.failed).sum())
                .count(names::ITEMS, summary.instances + summary.indexes)
                .count(names::SNAPSHOTS_WRITTEN, usize::from(summary.snapshot_written)),
        ]
    }

    /// One log line per account (`account pulled`: its items, failed pulls and pull time),
    /// which the health dashboard's Logs Insights widget reads: per-account metric
    /// dimensions would cost $0.30 a metric-month each.
    pub fn log_accounts(&self) {
        let Outcome::Ran(summary) = self else { return };
        for a in &summary.accounts {
            tracing::info!(account = %a.account, items = a.items, failed = a.failed, pull_ms = a.pull_millis, "account pulled");
        }
    }
}

/// Runs one sync for one scheduled event, under the sync lease (held by the event's id,
/// so a duplicate delivery of the same event is a no-op), within `budget` (the invocation's
/// time left, less what recording the outcome takes).
pub async fn handle(
    state: &State,
    event: EventBridgeEvent<serde_json::Value>,
    budget: std::time::Duration,
) -> Result<Outcome, String> {
    let now = state.clock.now();
    let holder = match event.id.as_deref().filter(|id| !id.is_empty()) {
        Some(id) => id.to_owned(),
        None => format!("run-{}", now.unix_timestamp_nanos()),
    };
    tracing::info!(detail_type = %event.detail_type, source = %event.source, event_id = %holder, "sync started");
    if !state.table.acquire_lease(LEASE, &holder, now, LEASE_TTL).await.map_err(|e| e.to_string())? {
        let reason = "another sync holds the lease, or this event already ran".to_owned();
        tracing::warn!(event_id = %holder, "{reason}; nothing to do");
        return Ok(Outcome::Skipped { reason });
    }
    let result = Box::pin(run(
        &state.config,
        &state.sdk,
        state.costs_source.as_ref(),
        Arc::clone(&state.store),
        &state.table,
        now,
        budget,
    ))
    .await;
    let summary = match result {
        Ok(summary) => summary,
        Err(e) => {
            // The lease stays until it expires: the failure is visible, and a later run retries.
            return Err(e.to_string());
        }
    };
    state.table.release_lease(LEASE, &holder, state.clock.now()).await.map_err(|e| e.to_string())?;
    tracing::info!(
        pulls = summary.pulls,
        failed = summary.failed.len(),
        instances = summary.instances,
        indexes = summary.indexes,
        changes = summary.changes,
        "sync finished"
    );
    let outcome = Outcome::Ran(Box::new(summary));
    outcome.log_accounts();
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_reports_its_pulls_and_each_account_a_skip_nothing() {
        let summary = RunSummary {
            pulls: 6,
            failed: vec!["beta/us-east-1/instances: denied".into(), "costs: throttled".into()],
            instances: 10,
            indexes: 2,
            changes: 1,
            items_written: 3,
            snapshot_written: true,
            usage: None,
            metrics: None,
            accounts: vec![
                polo_sync_engine::production::AccountRun {
                    account: "alpha".into(),
                    pulls: 4,
                    failed: 0,
                    items: 9,
                    pull_millis: 120,
                },
                polo_sync_engine::production::AccountRun {
                    account: "beta".into(),
                    pulls: 2,
                    failed: 1,
                    items: 3,
                    pull_millis: 80,
                },
            ],
            costs: None,
            duplicates: Vec::new(),
        };
        let sets = Outcome::Ran(Box::new(summary)).metric_sets();
        assert_eq!(sets.len(), 1, "no metric per account: a log line each");
        let value = |set: &MetricSet, name: &str| set.values.iter().find(|v| v.0 == name).map(|v| v.2);
        assert_eq!(value(&sets[0], names::SCOPES_FAILED), Some(1.0), "pull failures, not the costs one");
        assert_eq!(value(&sets[0], names::ITEMS), Some(12.0));
        assert_eq!(value(&sets[0], names::SNAPSHOTS_WRITTEN), Some(1.0));
        assert!(Outcome::Skipped { reason: "lease".into() }.metric_sets().is_empty());
    }
}
