//! The scheduled sync of production: every account by role, documents and snapshot in S3,
//! the resource table (with history) brought up to date.

use std::sync::Arc;

use aws_config::SdkConfig;
use polo_aws::{ResourceTable, S3Store};
use polo_core::config::Config;
use polo_core::model::SyncStatus;
use polo_core::model::{CostFacts, CostStore};
use polo_core::ports::{COSTS_KEY, DataError, SyncStore, parse_snapshot_bytes};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Previous, Reach, SyncPlan, apply_to_table, combine, sync};

/// Pulls in flight at once in production.
pub const CONCURRENCY: usize = 8;

/// What one scheduled run did.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub pulls: usize,
    pub failed: Vec<String>,
    pub instances: usize,
    pub indexes: usize,
    pub changes: usize,
    pub items_written: usize,
    /// False when a newer snapshot was already stored (a late run never rolls it back).
    pub snapshot_written: bool,
    /// Each account's pulls, in the accounts' order.
    pub accounts: Vec<AccountRun>,
    /// The cost refresh after the snapshot was written (`None`: no Cost Explorer role).
    pub costs: Option<CostsRun>,
    /// Resources skipped because another scope gave the same id first (never fatal).
    pub duplicates: Vec<crate::Duplicate>,
}

/// How the cost refresh of a run went.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CostsRun {
    /// Not asked (fresh, or backing off after failures).
    NotDue { why: String },
    /// Read again from `from` (the whole window when `whole`).
    Refreshed { from: time::Date, whole: bool, requests: u32 },
    /// Asked and failed; backed off before the next attempt.
    Failed { requests: u32, error: String },
}

/// How one account's pulls went in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccountRun {
    pub account: String,
    pub pulls: usize,
    pub failed: usize,
    /// Items in its documents now (kept ones for failed pulls).
    pub items: usize,
    /// Time its pulls took, summed (they run concurrently), in milliseconds.
    pub pull_millis: u64,
}

impl AccountRun {
    /// The outcomes of one run, per account, in order of first appearance.
    pub fn of(outcomes: &[crate::DocumentOutcome]) -> Vec<AccountRun> {
        let mut accounts: Vec<AccountRun> = Vec::new();
        for o in outcomes {
            if !accounts.iter().any(|a| a.account == o.account) {
                accounts.push(AccountRun { account: o.account.clone(), ..AccountRun::default() });
            }
            let Some(a) = accounts.iter_mut().find(|a| a.account == o.account) else { continue };
            a.pulls += 1;
            a.failed += usize::from(o.status == SyncStatus::Error);
            a.items += o.items;
            a.pull_millis = a.pull_millis.saturating_add(o.millis);
        }
        accounts
    }
}

/// One full run. Failed pulls keep their last good items and are listed in the summary;
/// only a failure to write the snapshot or the table fails the run. The cost refresh comes
/// after both are written, with what is left of `budget`: a slow or failed Cost Explorer
/// never holds the snapshot back.
pub async fn run(
    config: &Config,
    base: &SdkConfig,
    costs_source: Option<&SdkConfig>,
    store: Arc<S3Store>,
    table: &ResourceTable,
    now: OffsetDateTime,
    budget: std::time::Duration,
) -> Result<RunSummary, DataError> {
    let started = tokio::time::Instant::now();
    let plan = SyncPlan::all(config, CONCURRENCY, Reach::Roles);
    // The documents the pulls write are combined from memory, not read back from S3.
    let documents = Arc::new(polo_core::ports::Remembering::new(store.clone()));
    let outcomes = sync(&plan, base, documents.clone(), now).await;
    let mut previous = Box::pin(Previous::from_table(table)).await?;
    previous.snapshot = match store.read_snapshot().await? {
        Some(bytes) => match parse_snapshot_bytes(&bytes, "s3 snapshot.json") {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!(error = %e, "previous snapshot unreadable; its cost rows are not carried over");
                None
            }
        },
        None => None,
    };
    let mut combined = combine(config, documents.as_ref(), previous.clone(), now).await;
    // The cost facts of the stored costs; the refresh below shows in the next snapshot. An
    // unreadable store is pulled whole again and replaced.
    let costs = match read_costs(store.as_ref()).await {
        Ok(costs) => {
            combined.everything.cost_facts = CostFacts::of(&costs);
            costs
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "costs.json unreadable; pulled whole again");
            CostStore::empty()
        }
    };
    // History lives in the resource table; the snapshot carries only what lists need.
    combined.everything.history.clear();
    let bytes = serde_json::to_vec(&combined.everything).map_err(|e| DataError::Store(e.to_string()))?;
    let snapshot_written = store.write_snapshot_if_newer(bytes, now).await?;
    let items_written = apply_to_table(table, &combined, &previous, now).await?;
    let mut failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.status == SyncStatus::Error)
        .map(|o| {
            format!("{}/{}/{}: {}", o.account, o.region, o.resource, o.error.as_deref().unwrap_or("failed"))
        })
        .collect();
    for f in &failed {
        tracing::error!(pull = %f, "pull failed; its last good items were kept");
    }
    let costs = match costs_source {
        Some(source) => {
            let left = budget.saturating_sub(started.elapsed());
            Some(refresh_s3_costs(config, source, store.as_ref(), &costs, now, left).await)
        }
        None => None,
    };
    if let Some(CostsRun::Failed { error, .. }) = &costs {
        failed.push(format!("costs: {error}"));
    }
    Ok(RunSummary {
        pulls: outcomes.len(),
        failed,
        instances: combined.everything.instances.len(),
        indexes: combined.everything.indexes.len(),
        changes: combined.changes.len(),
        items_written,
        snapshot_written,
        accounts: AccountRun::of(&outcomes),
        costs,
        duplicates: combined.duplicates,
    })
}

/// The stored cost store (empty when there is none yet).
async fn read_costs(store: &S3Store) -> anyhow::Result<CostStore> {
    Ok(match store.get(COSTS_KEY).await? {
        Some(bytes) => {
            serde_json::from_slice::<CostStore>(&bytes).map_err(|e| anyhow::anyhow!("s3 {COSTS_KEY}: {e}"))?
        }
        None => CostStore::empty(),
    })
}

/// Refreshes `costs.json` in the bucket from Cost Explorer within `budget`, writing what it
/// asked (the new numbers, or on a failure only the log that backs the next attempt off).
async fn refresh_s3_costs(
    config: &Config,
    source: &SdkConfig,
    store: &S3Store,
    current: &CostStore,
    now: OffsetDateTime,
    budget: std::time::Duration,
) -> CostsRun {
    let settings = crate::costs::RefreshSettings::of(config);
    // What to write back, and what the refresh did: read again from `from`, or failed.
    let (to_write, outcome) = match crate::costs::refresh_costs(source, &settings, current, now, budget).await
    {
        crate::costs::Refreshed::NotDue { why } => {
            tracing::info!(%why, "costs not asked");
            return CostsRun::NotDue { why };
        }
        crate::costs::Refreshed::Stored { store: fresh, from, whole, requests } => {
            tracing::info!(%from, whole, requests, "costs refreshed");
            (fresh, Ok((from, whole)))
        }
        crate::costs::Refreshed::Failed { store: logged, error } => {
            let error = format!("{error:#}");
            tracing::error!(%error, "costs not refreshed; the last good cost data stays");
            (logged, Err(error))
        }
    };
    // Both kinds of attempt leave their requests in the log.
    let requests = to_write.refresh.last_requests;
    let written = match serde_json::to_vec(&to_write) {
        Ok(bytes) => store.put(COSTS_KEY, bytes).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match (outcome, written) {
        (Ok((from, whole)), Ok(())) => CostsRun::Refreshed { from, whole, requests },
        (Ok(_), Err(e)) => CostsRun::Failed { requests, error: format!("{COSTS_KEY} not written: {e}") },
        (Err(error), Ok(())) => CostsRun::Failed { requests, error },
        (Err(error), Err(e)) => {
            CostsRun::Failed { requests, error: format!("{error}; and {COSTS_KEY} not written: {e}") }
        }
    }
}
