//! One sync: every selected account × region × resource pulled concurrently (bounded), each
//! landing as its own document. A failed pull keeps the document's last good items.

use std::sync::Arc;

use aws_config::SdkConfig;
use polo_core::config::{Account, TagKeys};
use polo_core::model::{ResourceKind, SyncDocument, SyncStatus};
use polo_core::ports::SyncStore;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument as _;

use crate::accounts::{Reach, account_config};

/// What to pull.
#[derive(Clone, Debug)]
pub struct SyncPlan {
    pub accounts: Vec<Account>,
    /// `Instances` and/or `Indexes`.
    pub resources: Vec<ResourceKind>,
    /// Pulls in flight at once (1 = one account and region at a time).
    pub concurrency: usize,
    pub reach: Reach,
    pub tags: TagKeys,
}

impl SyncPlan {
    /// How many pulls the plan makes: each account's regions times the resources.
    pub fn pulls(&self) -> usize {
        self.accounts.iter().map(|a| a.regions.len()).sum::<usize>() * self.resources.len()
    }

    /// Instances and indexes of every account of `config`.
    pub fn all(config: &polo_core::config::Config, concurrency: usize, reach: Reach) -> SyncPlan {
        SyncPlan {
            accounts: config.accounts.clone(),
            resources: vec![ResourceKind::Instances, ResourceKind::Indexes],
            concurrency,
            reach,
            tags: config.tags.clone(),
        }
    }
}

/// How one document fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentOutcome {
    pub account: String,
    pub region: String,
    pub resource: ResourceKind,
    pub status: SyncStatus,
    /// Items in the document now (kept ones after a failure).
    pub items: usize,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    /// Time the pull and its write took, in milliseconds.
    pub millis: u64,
}

/// Pulls everything in `plan` and writes each document to `store`.
pub async fn sync(
    plan: &SyncPlan,
    base: &SdkConfig,
    store: Arc<dyn SyncStore>,
    now: OffsetDateTime,
) -> Vec<DocumentOutcome> {
    sync_observed(plan, base, store, now, &|_| {}).await
}

/// [`sync`], calling `finished` with each pull's outcome as it finishes (for progress).
pub async fn sync_observed(
    plan: &SyncPlan,
    base: &SdkConfig,
    store: Arc<dyn SyncStore>,
    now: OffsetDateTime,
    finished: &(dyn Fn(&DocumentOutcome) + Sync),
) -> Vec<DocumentOutcome> {
    let permits = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let configs = account_configs(plan, base, &permits).await;
    let mut tasks = JoinSet::new();
    for (account, config) in plan.accounts.iter().zip(configs) {
        for region in &account.regions {
            for &resource in &plan.resources {
                let (config, store, permits) = (config.clone(), Arc::clone(&store), Arc::clone(&permits));
                let (account, region, tags) = (account.clone(), region.clone(), plan.tags.clone());
                // Each pull runs in the caller's span (so its log lines carry the invocation's
                // ids) and is one X-Ray subsegment, timed from when it may start.
                let caller = tracing::Span::current();
                tasks.spawn(async move {
                    let _permit = permits.acquire_owned().await;
                    let span = tracing::info_span!(
                        parent: &caller, "pull", subsegment = "pull", account = %account.name, region = %region, resource = %resource
                    );
                    async {
                        match config {
                            Ok(config) => {
                                pull_one(&config, &account, &region, resource, &tags, store.as_ref(), now).await
                            }
                            Err(e) => {
                                unreachable_account(&account, &region, resource, e, store.as_ref(), now).await
                            }
                        }
                    }
                    .instrument(span)
                    .await
                });
            }
        }
    }
    let mut outcomes = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(outcome) => {
                finished(&outcome);
                outcomes.push(outcome);
            }
            Err(e) => tracing::error!(error = %e, "a pull task failed"),
        }
    }
    outcomes.sort_by(|a, b| (&a.account, &a.region, a.resource).cmp(&(&b.account, &b.region, b.resource)));
    outcomes
}

/// Every account's credentials, resolved concurrently (at most `permits` at once: one
/// AssumeRole per account and run), in the plan's order.
async fn account_configs(
    plan: &SyncPlan,
    base: &SdkConfig,
    permits: &Arc<Semaphore>,
) -> Vec<Result<Arc<SdkConfig>, String>> {
    let mut tasks = JoinSet::new();
    for (n, account) in plan.accounts.iter().enumerate() {
        let (base, account, reach, permits) =
            (base.clone(), account.clone(), plan.reach, Arc::clone(permits));
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            (n, account_config(&base, &account, reach).await.map(Arc::new))
        });
    }
    let mut configs: Vec<Result<Arc<SdkConfig>, String>> =
        plan.accounts.iter().map(|a| Err(format!("account {}: credentials not resolved", a.name))).collect();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok((n, config)) => configs[n] = config,
            Err(e) => tracing::error!(error = %e, "a credentials task failed"),
        }
    }
    configs
}

async fn pull_one(
    config: &SdkConfig,
    account: &Account,
    region: &str,
    resource: ResourceKind,
    tags: &TagKeys,
    store: &dyn SyncStore,
    now: OffsetDateTime,
) -> DocumentOutcome {
    let started = std::time::Instant::now();
    let mut outcome = match resource {
        ResourceKind::Instances => {
            let pulled = crate::instances::pull_instances(config, account, region, tags).await;
            land(store, account, region, resource, pulled, now).await
        }
        ResourceKind::Indexes => {
            let pulled = crate::registry::pull_indexes(config, account, region).await;
            land(store, account, region, resource, pulled, now).await
        }
        ResourceKind::Costs => DocumentOutcome {
            account: account.name.clone(),
            region: region.to_owned(),
            resource,
            status: SyncStatus::Error,
            items: 0,
            error: Some("costs are not synced by this build".into()),
            warnings: Vec::new(),
            millis: 0,
        },
    };
    outcome.millis = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    tracing::info!(
        account = %account.name, region, resource = %resource, status = ?outcome.status, items = outcome.items,
        error = outcome.error.as_deref().unwrap_or(""), millis = outcome.millis,
        "pulled"
    );
    outcome
}

/// Writes the failed document of an account whose credentials could not be had.
async fn unreachable_account(
    account: &Account,
    region: &str,
    resource: ResourceKind,
    error: String,
    store: &dyn SyncStore,
    now: OffsetDateTime,
) -> DocumentOutcome {
    match resource {
        ResourceKind::Instances => {
            land::<polo_core::model::Instance>(store, account, region, resource, failure(&error), now).await
        }
        _ => land::<polo_core::model::Index>(store, account, region, resource, failure(&error), now).await,
    }
}

/// A failed pull of any item type.
fn failure<T>(error: &str) -> anyhow::Result<(Vec<T>, Vec<String>)> {
    Err(anyhow::anyhow!(error.to_owned()))
}

/// The outcome of a failed pull whose stored document could not be read: nothing is written.
fn kept_as_is(
    account: &Account,
    region: &str,
    resource: ResourceKind,
    error: &str,
    unreadable: &str,
) -> DocumentOutcome {
    tracing::error!(account = %account.name, region, resource = %resource, error = %error, stored = %unreadable,
        "pull failed and the stored document is unreadable; it is left untouched");
    DocumentOutcome {
        account: account.name.clone(),
        region: region.to_owned(),
        resource,
        status: SyncStatus::Error,
        items: 0,
        error: Some(format!("{error} (stored document left untouched: {unreadable})")),
        warnings: Vec::new(),
        millis: 0,
    }
}

/// Writes the document of one pull: the new items, or the previous items with the error.
async fn land<T: Serialize + DeserializeOwned>(
    store: &dyn SyncStore,
    account: &Account,
    region: &str,
    resource: ResourceKind,
    pulled: anyhow::Result<(Vec<T>, Vec<String>)>,
    now: OffsetDateTime,
) -> DocumentOutcome {
    let document = match pulled {
        Ok((items, warnings)) => {
            let mut doc = SyncDocument::ok(&account.name, region, resource, items, now);
            doc.warnings = warnings;
            doc
        }
        Err(e) => {
            // A failed pull keeps the stored items; if they cannot be read, the stored
            // document is left exactly as it is rather than replaced by an empty one.
            let previous = match store.read_document(&account.name, region, resource).await {
                Ok(Some(bytes)) => match SyncDocument::<T>::parse(&bytes) {
                    Ok(doc) => Some(doc),
                    Err(unreadable) => {
                        return kept_as_is(
                            account,
                            region,
                            resource,
                            &format!("{e:#}"),
                            &unreadable.to_string(),
                        );
                    }
                },
                Ok(None) => None,
                Err(unreadable) => {
                    return kept_as_is(account, region, resource, &format!("{e:#}"), &unreadable.to_string());
                }
            };
            SyncDocument::failed(previous, &account.name, region, resource, format!("{e:#}"), now)
        }
    };
    let mut outcome = DocumentOutcome {
        account: account.name.clone(),
        region: region.to_owned(),
        resource,
        status: document.status,
        items: document.items.len(),
        error: document.error.clone(),
        warnings: document.warnings.clone(),
        millis: 0,
    };
    let written = match serde_json::to_vec(&document) {
        Ok(bytes) => {
            store.write_document(&account.name, region, resource, bytes).await.map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = written {
        outcome.status = SyncStatus::Error;
        outcome.error = Some(format!("document not written: {e}"));
    }
    outcome
}
