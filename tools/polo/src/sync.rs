//! `polo sync` and `polo combine`: the local data plane.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, bail};
use polo_core::config::Config;
use polo_core::model::{ResourceKind, SyncStatus};
use polo_core::ports::{Stores, SyncStore, parse_snapshot};
use polo_sync_engine::production::AccountRun;
use polo_sync_engine::{Previous, Reach, SyncPlan, combine, sync_observed};
use time::OffsetDateTime;

use crate::cli::SyncResource;
use crate::progress::{Progress, seconds, thousands};

/// What `polo sync` was asked.
#[derive(Clone, Debug)]
pub struct SyncOptions {
    pub resource: Option<SyncResource>,
    /// Account names; empty means all.
    pub accounts: Vec<String>,
    pub out: PathBuf,
    pub data: PathBuf,
    pub concurrency: usize,
}

/// The configured accounts named in `names` (all when empty); an unknown name is an error
/// naming the ones there are.
pub fn select_accounts(config: &Config, names: &[String]) -> anyhow::Result<Vec<polo_core::config::Account>> {
    if names.is_empty() {
        return Ok(config.accounts.clone());
    }
    names
        .iter()
        .map(|name| {
            config.account(name).cloned().ok_or_else(|| {
                let known: Vec<&str> = config.accounts.iter().map(|a| a.name.as_str()).collect();
                anyhow::anyhow!("-p: no account named {name:?}; configured: {}", known.join(", "))
            })
        })
        .collect()
}

/// Pulls, writes the documents, combines, and fails (after writing everything) when a pull failed.
pub async fn run_sync(config: &Config, options: &SyncOptions, now: OffsetDateTime) -> anyhow::Result<()> {
    let resources = match options.resource {
        None => vec![ResourceKind::Instances, ResourceKind::Indexes],
        Some(SyncResource::Instances) => vec![ResourceKind::Instances],
        Some(SyncResource::Indexes) => vec![ResourceKind::Indexes],
        Some(SyncResource::Costs) => return run_cost_sync(config, &options.data, now).await,
    };
    let plan = SyncPlan {
        accounts: select_accounts(config, &options.accounts)?,
        resources,
        concurrency: options.concurrency,
        reach: Reach::ProfilesFirst,
        tags: config.tags.clone(),
    };
    let base = polo_aws::sdk_config().await;
    let store = documents(&options.out, &options.data);
    let mut progress = Progress::bar(plan.pulls(), "sync");
    let pulled = std::sync::atomic::AtomicUsize::new(0);
    let outcomes = sync_observed(&plan, &base, Arc::clone(&store), now, &|o| {
        let items = pulled.fetch_add(o.items, std::sync::atomic::Ordering::Relaxed) + o.items;
        progress.step(&format!("{} items · {} {} {}", thousands(items), o.account, o.region, o.resource));
        let line = outcome_line(o);
        // On a terminal the bar counts the pulls that went well; failures and warnings
        // always get their line, as they happen.
        if !progress.drawn() || o.status == SyncStatus::Error {
            progress.line(&line);
        }
        for w in &o.warnings {
            progress
                .line(&format!("       {:<10} {:<14} {:<9} warning: {w}", o.account, o.region, o.resource));
        }
    })
    .await;
    progress.clear();
    let combined = run_combine(config, &options.out, &options.data, now).await;
    let accounts = AccountRun::of(&outcomes);
    for a in &accounts {
        progress.line(&format!(
            "  {:<10} {} pulls, {} failed, {} items, {} pulling",
            a.account,
            a.pulls,
            a.failed,
            thousands(a.items),
            seconds(std::time::Duration::from_millis(a.pull_millis))
        ));
    }
    let failed: usize = accounts.iter().map(|a| a.failed).sum();
    let items: usize = accounts.iter().map(|a| a.items).sum();
    progress.finish(&format!(
        "sync: {} pulls, {} ok, {failed} failed, {} items",
        outcomes.len(),
        outcomes.len() - failed,
        thousands(items),
    ));
    combined?;
    if failed > 0 {
        bail!("{failed} of {} pulls failed; their documents keep the last good items", outcomes.len());
    }
    Ok(())
}

/// The line of one pull: what it brought, or what failed and what it kept.
fn outcome_line(o: &polo_sync_engine::DocumentOutcome) -> String {
    match o.status {
        SyncStatus::Ok => {
            format!("ok     {:<10} {:<14} {:<9} {} items", o.account, o.region, o.resource, o.items)
        }
        SyncStatus::Error => format!(
            "FAILED {:<10} {:<14} {:<9} kept {} items: {}",
            o.account,
            o.region,
            o.resource,
            o.items,
            o.error.as_deref().unwrap_or("")
        ),
    }
}

/// The SDK config acting in the `[costs] source_account`: that configured account's profile
/// or role, else the AWS profile of that name.
async fn cost_source(config: &Config, base: &aws_config::SdkConfig) -> anyhow::Result<aws_config::SdkConfig> {
    let name = &config.costs.source_account;
    if let Some(account) = config.account(name) {
        return polo_sync_engine::accounts::account_config(base, account, Reach::ProfilesFirst)
            .await
            .map_err(|e| anyhow::anyhow!("costs.source_account {name:?}: {e}"));
    }
    // Cost Explorer answers in us-east-1 (its client sets the region itself).
    Ok(polo_aws::profile_config(base, name).await)
}

/// `polo sync -r costs`: asks Cost Explorer for the days that can still change (unless the
/// stored answer is younger than `costs.cache_hours`, or failed attempts are being backed
/// off), writes the cost store beside the snapshot and the cost facts into it. A failure
/// keeps the numbers as they were and records the attempt.
pub async fn run_cost_sync(config: &Config, data: &Path, now: OffsetDateTime) -> anyhow::Result<()> {
    /// What one local refresh may take.
    const BUDGET: std::time::Duration = std::time::Duration::from_mins(10);
    let path = polo_core::ports::cost_store_path(data);
    let current = polo_core::ports::read_cost_store(&path)?;
    let base = polo_aws::sdk_config().await;
    let source = cost_source(config, &base).await?;
    let settings = polo_sync_engine::costs::RefreshSettings::of(config);
    let store = match polo_sync_engine::costs::refresh_costs(&source, &settings, &current, now, BUDGET).await
    {
        polo_sync_engine::costs::Refreshed::NotDue { why } => {
            eprintln!("costs: not asked: {why}");
            current
        }
        polo_sync_engine::costs::Refreshed::Stored { store, from, whole, requests } => {
            crate::cli::write_atomically(&path, &serde_json::to_vec(&store)?)?;
            eprintln!(
                "costs: {} read again ({requests} requests{}); {} days through {} into {}",
                from,
                if whole { ", the whole window" } else { "" },
                store.days,
                store.as_of().map(|d| d.to_string()).unwrap_or_default(),
                path.display()
            );
            *store
        }
        polo_sync_engine::costs::Refreshed::Failed { store, error } => {
            crate::cli::write_atomically(&path, &serde_json::to_vec(&store)?)?;
            return Err(error.context("costs not refreshed; the last good cost data stays"));
        }
    };
    if let Ok(text) = std::fs::read_to_string(data) {
        let mut everything = parse_snapshot(&text, &data.display().to_string())?;
        everything.cost_facts = polo_core::model::CostFacts::of(&store);
        crate::cli::write_atomically(data, &serde_json::to_vec_pretty(&everything)?)?;
    }
    Ok(())
}

/// The local sync documents under `out` and the snapshot at `data` ([`Stores::local`]).
fn documents(out: &Path, data: &Path) -> Arc<dyn SyncStore> {
    Stores::local(&crate::serve::local_paths(None, data).with_documents(out)).documents
}

/// Merges the documents under `out` into the snapshot at `data`, appending what changed
/// to its history.
pub async fn run_combine(
    config: &Config,
    out: &Path,
    data: &Path,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let store = documents(out, data);
    let previous = match store.read_snapshot().await? {
        Some(bytes) => {
            let text =
                String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", data.display()))?;
            Previous::from_snapshot(parse_snapshot(&text, &data.display().to_string())?)
        }
        None => Previous::default(),
    };
    let combined = combine(config, store.as_ref(), previous, now).await;
    let bytes = serde_json::to_vec_pretty(&combined.everything)?;
    store.write_snapshot(bytes).await?;
    // The usage ledger beside it: what each instance ran (CloudTrail is asked only by the
    // sync function, through the fleet roles).
    let usage_path = polo_core::ports::document_path::<polo_core::model::UsageLedger>(data);
    let mut ledger = polo_core::ports::read_document::<polo_core::model::UsageLedger>(&usage_path)?;
    let prices = polo_core::pricing::PriceTable::bundled()?.with_spot_discount(config.costs.spot_discount);
    polo_sync_engine::usage::observe(
        &mut ledger,
        &combined.everything.accounts,
        &combined.everything.instances,
        &combined.changes,
        &prices,
        now,
    );
    crate::cli::write_atomically(&usage_path, &serde_json::to_vec(&ledger)?)?;
    eprintln!(
        "combined {} instances and {} indexes into {} ({} changes; {} instances in {})",
        combined.everything.instances.len(),
        combined.everything.indexes.len(),
        data.display(),
        combined.changes.len(),
        ledger.instances.len(),
        usage_path.display(),
    );
    Ok(())
}
