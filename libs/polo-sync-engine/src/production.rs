//! The scheduled sync of production: every account by role, documents and snapshot in S3,
//! the resource table (with history) brought up to date.

use std::sync::Arc;

use aws_config::SdkConfig;
use polo_aws::{ResourceTable, S3Store};
use polo_core::config::Config;
use polo_core::model::SyncStatus;
use polo_core::model::{CostFacts, CostStore, MetricsDocument, UsageLedger};
use polo_core::ports::{
    COSTS_BINARY_KEY, COSTS_KEY, DataError, METRICS_KEY, StoredDocument, SyncStore, USAGE_KEY,
    parse_snapshot_bytes,
};
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
    /// The usage ledger kept after it (`None`: it failed, and `failed` says why).
    pub usage: Option<UsageRun>,
    /// The daily metrics pull (`None`: it failed, and `failed` says why).
    pub metrics: Option<crate::metrics::MetricsRun>,
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
            tracing::error!(error = %format!("{e:#}"), "the cost store unreadable; pulled whole again");
            CostStore::empty()
        }
    };
    // History lives in the resource table; the snapshot carries only what lists need.
    combined.everything.history.clear();
    let encoding = std::time::Instant::now();
    // The prices of this run, parsed once: `/`'s counts in the snapshot (so a route function's
    // cold start need not build every instance), the usage ledger and the metrics pull.
    let prices =
        polo_core::pricing::PriceTable::configured(config).map_err(|e| DataError::Store(e.to_string()))?;
    let binary = polo_core::model::binary::encode_for_pages(&combined.everything, &prices);
    let json = serde_json::to_vec(&combined.everything).map_err(|e| DataError::Store(e.to_string()))?;
    tracing::info!(
        binary_bytes = binary.len(),
        json_bytes = json.len(),
        encode_ms = encoding.elapsed().as_millis(),
        "snapshot encoded"
    );
    let snapshot_written = store.write_snapshot_if_newer(binary, json, now).await?;
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
    let (instances, indexes, changes) =
        (combined.everything.instances.len(), combined.everything.indexes.len(), combined.changes.len());
    // What is left of the run reads one fleet: the ledger, CloudTrail, the metrics.
    let seen = std::mem::take(&mut combined.changes);
    let fleet = polo_core::model::Fleet::new(std::mem::replace(&mut combined.everything, emptied(now)));
    let run = LastSteps { config, base, store: store.as_ref(), fleet: &fleet, prices: &prices, now };
    let left = budget.saturating_sub(started.elapsed());
    let usage = keep_usage(&run, &seen, left).await;
    if let Err(error) = &usage {
        failed.push(format!("usage: {error}"));
    }
    let left = budget.saturating_sub(started.elapsed());
    let metrics = keep_metrics(&run, left).await;
    if let Err(error) = &metrics {
        failed.push(format!("metrics: {error}"));
    }
    Ok(RunSummary {
        pulls: outcomes.len(),
        failed,
        instances,
        indexes,
        changes,
        items_written,
        snapshot_written,
        accounts: AccountRun::of(&outcomes),
        costs,
        usage: usage.ok(),
        metrics: metrics.ok(),
        duplicates: combined.duplicates,
    })
}

/// What keeping the usage ledger did in a run.
#[derive(Clone, Debug, Serialize)]
pub struct UsageRun {
    /// Instances the ledger holds.
    pub instances: usize,
    /// Who made the largest changes, from CloudTrail.
    pub trail: crate::usage::TrailRun,
}

/// The longest a run spends asking CloudTrail.
const TRAIL_BUDGET: std::time::Duration = std::time::Duration::from_mins(1);

/// What a run's last steps (the usage ledger, the metrics) read: its configuration and
/// clients, the fleet it wrote, the one price table it priced with, its clock.
#[derive(Clone, Copy)]
struct LastSteps<'a> {
    config: &'a Config,
    base: &'a SdkConfig,
    store: &'a S3Store,
    fleet: &'a polo_core::model::Fleet,
    prices: &'a polo_core::pricing::PriceTable,
    now: OffsetDateTime,
}

/// Brings `usage.json` up to date with this run's fleet, then asks CloudTrail who made the
/// changes behind the largest cost changes (with the cost store as it is now), within
/// `budget`. An unreadable ledger starts again empty (logged): it fills from this run on.
async fn keep_usage(
    run: &LastSteps<'_>,
    changes: &[polo_core::model::Change],
    budget: std::time::Duration,
) -> Result<UsageRun, String> {
    use polo_core::cost_changes::{Comparison, actors_wanted, changes as split};
    let LastSteps { config, base, store, fleet, prices, now } = *run;
    let mut ledger = match store.get(USAGE_KEY).await.map_err(|e| e.to_string())? {
        Some(bytes) => serde_json::from_slice::<UsageLedger>(&bytes).unwrap_or_else(|e| {
            tracing::error!(error = %e, "usage.json unreadable; kept again from this run");
            UsageLedger::empty()
        }),
        None => UsageLedger::empty(),
    };
    crate::usage::observe(&mut ledger, fleet.accounts(), fleet.instances(), changes, prices, now);
    // Written before CloudTrail is asked: a run that times out there keeps this run's spans.
    let bytes = serde_json::to_vec(&ledger).map_err(|e| e.to_string())?;
    store.put(USAGE_KEY, bytes).await.map_err(|e| format!("{USAGE_KEY} not written: {e}"))?;
    let costs = read_costs(store).await.unwrap_or_else(|_| CostStore::empty());
    let mut wanted = Vec::new();
    if let Ok(cmp) = Comparison::default_for(&costs) {
        for dimension in [polo_core::costs::Breakdown::Index, polo_core::costs::Breakdown::Account] {
            let all = split(&costs, &ledger, fleet, dimension, &cmp);
            for (id, since) in
                actors_wanted(&all, &ledger, &cmp, crate::usage::TOP_CHANGES, crate::usage::MAX_LOOKUPS, now)
            {
                if !wanted.iter().any(|w: &crate::usage::Wanted| w.instance_id == id) {
                    wanted.push(crate::usage::Wanted { instance_id: id, since });
                }
            }
        }
    }
    wanted.truncate(crate::usage::MAX_LOOKUPS);
    let trail =
        crate::usage::look_up_actors(config, base, &mut ledger, &wanted, now, budget.min(TRAIL_BUDGET)).await;
    if trail.asked > 0 {
        let bytes = serde_json::to_vec(&ledger).map_err(|e| e.to_string())?;
        store
            .put(USAGE_KEY, bytes)
            .await
            .map_err(|e| format!("{USAGE_KEY} not written with the trails: {e}"))?;
    }
    tracing::info!(
        instances = ledger.instances.len(),
        asked = trail.asked,
        denied = trail.denied.len(),
        "usage kept"
    );
    Ok(UsageRun { instances: ledger.instances.len(), trail })
}

/// An empty snapshot in place of one handed on.
fn emptied(now: OffsetDateTime) -> polo_core::model::Everything {
    polo_core::model::Everything {
        generated_at: now,
        price_table_version: String::new(),
        accounts: Vec::new(),
        instances: Vec::new(),
        indexes: Vec::new(),
        cost_facts: CostFacts::default(),
        history: Vec::new(),
        findings: Vec::new(),
    }
}

/// Pulls the fleet's daily metrics when due ([`crate::metrics::due`]), within `budget` (at
/// most [`crate::metrics::METRICS_BUDGET`]), and writes `metrics.json`.
async fn keep_metrics(
    run: &LastSteps<'_>,
    budget: std::time::Duration,
) -> Result<crate::metrics::MetricsRun, String> {
    use crate::metrics::{METRICS_BUDGET, MetricsRun, due, pull};
    let LastSteps { config, base, store, fleet, prices, now } = *run;
    let stored = match store.get(METRICS_KEY).await.map_err(|e| e.to_string())? {
        Some(bytes) => serde_json::from_slice::<MetricsDocument>(&bytes)
            .inspect_err(|e| tracing::error!(error = %e, "metrics.json unreadable; pulled again"))
            .ok(),
        None => None,
    };
    if let Err(why) = due(stored.as_ref(), now) {
        return Ok(MetricsRun::NotDue { why });
    }
    let deadline = tokio::time::Instant::now() + budget.min(METRICS_BUDGET);
    let mut doc = pull(config, base, fleet, prices, now, deadline).await;
    // A retry keeps what the day's first pull had; a new day's pull stands alone (the pages
    // say which scopes were denied rather than show an older window).
    match &stored {
        Some(earlier) => doc.fill_from(earlier),
        None => doc.attempts = 1,
    }
    let bytes = serde_json::to_vec(&doc).map_err(|e| e.to_string())?;
    store.put(METRICS_KEY, bytes).await.map_err(|e| format!("{METRICS_KEY} not written: {e}"))?;
    tracing::info!(
        requests = doc.requests,
        metrics = doc.metrics_asked,
        denied = doc.denied.len(),
        left = doc.left,
        "metrics pulled"
    );
    Ok(MetricsRun::of(&doc))
}

/// The stored cost store (empty when there is none yet): of its two layouts, the one refreshed
/// last (`refresh.attempted_at`, then `fetched_at`), since a `costs.json` write that failed
/// after its `costs.bin`, or a rollback to a build that writes JSON only, leaves them apart;
/// or the one that reads, should the other not.
async fn read_costs(store: &S3Store) -> anyhow::Result<CostStore> {
    let (mut read, mut problems) = (Vec::new(), Vec::new());
    for &key in <CostStore as StoredDocument>::READ_KEYS {
        // One key's failure (a fetch or a decode) leaves the other to read.
        match store.get(key).await {
            Ok(Some(bytes)) => match <CostStore as StoredDocument>::decode(&bytes) {
                Ok(costs) => read.push(costs),
                Err(e) => problems.push(format!("s3 {key}: {e}")),
            },
            Ok(None) => {}
            Err(e) => problems.push(format!("s3 {key}: {e}")),
        }
    }
    match refreshed_last(read) {
        Some(costs) => {
            for problem in &problems {
                tracing::warn!(%problem, "one layout of the cost store unreadable; the other read");
            }
            Ok(costs)
        }
        None if problems.is_empty() => Ok(CostStore::empty()),
        None => Err(anyhow::anyhow!(problems.join("; "))),
    }
}

/// Of stores read from the cost store's layouts, the one refreshed last: by the last attempt
/// (success or failure, `refresh.attempted_at`), then by when Cost Explorer answered.
fn refreshed_last(read: Vec<CostStore>) -> Option<CostStore> {
    read.into_iter().max_by_key(|c| (c.refresh.attempted_at, c.fetched_at))
}

/// Writes the cost store in both layouts: `costs.bin` first, which route functions read, then
/// `costs.json` (for people, scripts and the next run; its write is the event the Cop runs
/// on, by when the binary one is there). Should the first write fail, the second is not made:
/// the two stay one version.
async fn write_costs(store: &S3Store, costs: &CostStore) -> Result<(), String> {
    let json = serde_json::to_vec(costs).map_err(|e| e.to_string())?;
    let binary = polo_core::model::cost_binary::encode(costs);
    store.put(COSTS_BINARY_KEY, binary).await.map_err(|e| format!("{COSTS_BINARY_KEY}: {e}"))?;
    store.put(COSTS_KEY, json).await.map_err(|e| e.to_string())
}

/// Refreshes the cost store in the bucket from Cost Explorer within `budget`, writing what it
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
    let written = write_costs(store, &to_write).await;
    match (outcome, written) {
        (Ok((from, whole)), Ok(())) => CostsRun::Refreshed { from, whole, requests },
        (Ok(_), Err(e)) => CostsRun::Failed { requests, error: format!("{COSTS_KEY} not written: {e}") },
        (Err(error), Ok(())) => CostsRun::Failed { requests, error },
        (Err(error), Err(e)) => {
            CostsRun::Failed { requests, error: format!("{error}; and {COSTS_KEY} not written: {e}") }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn of_the_two_layouts_the_sync_reads_the_one_refreshed_last() {
        let at = |attempt: Option<OffsetDateTime>, fetched: Option<OffsetDateTime>| {
            let mut store = CostStore::empty();
            store.refresh.attempted_at = attempt;
            store.fetched_at = fetched;
            store
        };
        let (t1, t2) = (datetime!(2026-12-01 06:00 UTC), datetime!(2026-12-01 12:00 UTC));
        // A JSON write that failed after its binary one: the binary one's attempt is newer.
        let (json, binary) = (at(Some(t1), Some(t1)), at(Some(t2), Some(t2)));
        assert_eq!(refreshed_last(vec![binary.clone(), json.clone()]), Some(binary.clone()));
        assert_eq!(refreshed_last(vec![json.clone(), binary.clone()]), Some(binary));
        // A failed attempt counts (its requests and back-off), though Cost Explorer answered before.
        let failed = at(Some(t2), Some(t1));
        assert_eq!(refreshed_last(vec![json.clone(), failed.clone()]), Some(failed));
        // Never attempted (generated data) against attempted; one alone; none.
        assert_eq!(refreshed_last(vec![at(None, None), json.clone()]), Some(json.clone()));
        assert_eq!(refreshed_last(vec![json.clone()]), Some(json));
        assert_eq!(refreshed_last(Vec::new()), None);
    }
}
