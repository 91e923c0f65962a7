//! The scheduled sync function: each EventBridge scheduled event runs one full sync.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use polo_core::Clock;
use polo_core::config::Config;
use polo_core::data::ResourceTable;
use polo_core::store::S3Store;
use polo_sync_engine::production::{RunSummary, run};
use polo_telemetry::emf::MetricSet;
use polo_telemetry::names;

/// Clients and configuration, built once per container.
pub struct State {
    pub config: Config,
    pub sdk: aws_config::SdkConfig,
    pub store: Arc<S3Store>,
    pub table: ResourceTable,
    pub clock: Arc<dyn Clock>,
    /// Acting in the payer account (`CORE_ROLE_ARN`) for Cost Explorer; no costs without it.
    pub costs_source: Option<aws_config::SdkConfig>,
}

/// The environment the function needs, read once at cold start.
#[derive(Debug)]
pub struct Env {
    pub bucket: String,
    pub table: String,
    pub polo_config: Option<std::path::PathBuf>,
    /// `CORE_ROLE_ARN`: the Cost Explorer role in the payer account.
    pub core_role_arn: Option<String>,
}

impl Env {
    /// Reads `DATA_BUCKET_NAME`, `DYNAMODB_TABLE_NAME` and `POLO_CONFIG` through `get`;
    /// a missing one is an error naming it.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Env, String> {
        let need =
            |name: &str| get(name).filter(|v| !v.is_empty()).ok_or_else(|| format!("{name}: required"));
        Ok(Env {
            bucket: need("DATA_BUCKET_NAME")?,
            table: need("DYNAMODB_TABLE_NAME")?,
            polo_config: get("POLO_CONFIG").filter(|v| !v.is_empty()).map(Into::into),
            core_role_arn: get("CORE_ROLE_ARN").filter(|v| !v.is_empty()),
        })
    }
}

/// The SDK config that assumes `role_arn` (credentials on first use).
pub async fn assume(base: &aws_config::SdkConfig, role_arn: &str) -> aws_config::SdkConfig {
    let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
        .session_name(polo_sync_engine::accounts::SESSION_NAME)
        .configure(base)
        .build()
        .await;
    base.to_builder()
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(provider))
        .build()
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
    Ran(RunSummary),
    Skipped { reason: String },
}

impl Outcome {
    /// What the run tells CloudWatch besides itself: pulls, failures, items and whether the
    /// snapshot was written, and per account its items, failures and pull time. A skipped
    /// run tells nothing more.
    pub fn metric_sets(&self) -> Vec<MetricSet> {
        let Outcome::Ran(summary) = self else { return Vec::new() };
        let mut sets = vec![
            MetricSet::new()
                .count(names::SCOPES, summary.pulls)
                .count(names::SCOPES_FAILED, summary.accounts.iter().map(|a| a.failed).sum())
                .count(names::ITEMS, summary.instances + summary.indexes)
                .count(names::SNAPSHOTS_WRITTEN, usize::from(summary.snapshot_written)),
        ];
        sets.extend(summary.accounts.iter().map(|a| {
            MetricSet::new()
                .dimension(names::ACCOUNT, &a.account)
                .count(names::ACCOUNT_ITEMS, a.items)
                .count(names::ACCOUNT_SCOPES_FAILED, a.failed)
                .millis(names::ACCOUNT_PULL_TIME, std::time::Duration::from_millis(a.pull_millis))
        }));
        sets
    }
}

/// Runs one sync for one scheduled event, under the sync lease (held by the event's id,
/// so a duplicate delivery of the same event is a no-op).
pub async fn handle(state: &State, event: EventBridgeEvent<serde_json::Value>) -> Result<Outcome, String> {
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
    Ok(Outcome::Ran(summary))
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
        };
        let sets = Outcome::Ran(summary).metric_sets();
        assert_eq!(sets.len(), 3);
        let value = |set: &MetricSet, name: &str| set.values.iter().find(|v| v.0 == name).map(|v| v.2);
        assert_eq!(value(&sets[0], names::SCOPES_FAILED), Some(1.0), "pull failures, not the costs one");
        assert_eq!(value(&sets[0], names::ITEMS), Some(12.0));
        assert_eq!(value(&sets[0], names::SNAPSHOTS_WRITTEN), Some(1.0));
        assert_eq!(sets[2].dimensions, vec![(names::ACCOUNT, "beta".to_owned())]);
        assert_eq!(value(&sets[2], names::ACCOUNT_PULL_TIME), Some(80.0));
        assert!(Outcome::Skipped { reason: "lease".into() }.metric_sets().is_empty());
    }

    #[test]
    fn names_the_missing_variable() {
        let env = |vars: &'static [(&str, &str)]| {
            Env::from_lookup(move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()))
        };
        assert_eq!(env(&[]).unwrap_err(), "DATA_BUCKET_NAME: required");
        assert_eq!(env(&[("DATA_BUCKET_NAME", "b")]).unwrap_err(), "DYNAMODB_TABLE_NAME: required");
        assert_eq!(env(&[("DATA_BUCKET_NAME", "b"), ("DYNAMODB_TABLE_NAME", "t")]).unwrap().table, "t");
    }
}
