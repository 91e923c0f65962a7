//! The combine step: the sync documents of every configured account and region merged into
//! the snapshot, the differences from what was known before, and (in production) the
//! resource table brought up to date.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt as _;
use polo_aws::{ResourceItem, ResourceTable, vanished};
use polo_core::config::Config;
use polo_core::model::{
    AccountSync, Change, ChangeKind, CostFacts, DocumentStatus, Everything, Index, Instance, ResourceKind,
    SyncDocument, SyncStatus, Tracked, diff,
};
use polo_core::ports::{DataError, SyncStore};
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

/// What was known before this combine.
#[derive(Clone, Debug, Default)]
pub struct Previous {
    pub instances: Vec<Instance>,
    pub indexes: Vec<Index>,
    /// Ids known to have vanished (a later sighting "came back").
    pub vanished: HashSet<String>,
    /// Cost rows and history to carry over (local mode).
    pub snapshot: Option<Everything>,
}

impl Previous {
    /// What a previous local snapshot knew.
    pub fn from_snapshot(snapshot: Everything) -> Previous {
        Previous {
            instances: snapshot.instances.clone(),
            indexes: snapshot.indexes.clone(),
            vanished: polo_core::model::vanished_ids(&snapshot.history),
            snapshot: Some(snapshot),
        }
    }

    /// What the resource table knows (production).
    pub async fn from_table(table: &ResourceTable) -> Result<Previous, DataError> {
        let (instances, indexes) =
            tokio::try_join!(table.list(ResourceKind::Instances), table.list(ResourceKind::Indexes))?;
        let mut gone = vanished(&instances);
        gone.extend(vanished(&indexes));
        Ok(Previous {
            instances: instances
                .into_iter()
                .filter(|r| r.vanished_at.is_none())
                .filter_map(|r| r.instance)
                .collect(),
            indexes: indexes
                .into_iter()
                .filter(|r| r.vanished_at.is_none())
                .filter_map(|r| r.index)
                .collect(),
            vanished: gone,
            snapshot: None,
        })
    }
}

/// The combined snapshot and what changed since [`Previous`].
#[derive(Clone, Debug)]
pub struct Combined {
    pub everything: Everything,
    pub changes: Vec<Change>,
    /// Resources skipped because another account or region already gave the same id.
    pub duplicates: Vec<Duplicate>,
}

/// A resource whose id another account or region gave first (configured account order,
/// then region order): listed in the snapshot with its own account and region, but kept out
/// of the resource table (one item per id there, until index identity includes the
/// scope), logged and counted in the run summary; never fatal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Duplicate {
    pub resource: ResourceKind,
    pub id: String,
    /// `account/region` of the one the table keeps, and of the one it does not.
    pub kept: String,
    pub skipped: String,
}

/// The resources of `items` whose id an earlier one already has.
fn duplicates_of<T: Tracked>(items: &[T]) -> Vec<Duplicate> {
    let mut seen: HashMap<&str, String> = HashMap::new();
    let mut out = Vec::new();
    for item in items {
        let scope = format!("{}/{}", item.account(), item.region());
        match seen.entry(item.id()) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(scope);
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                tracing::warn!(resource = %T::KIND, id = item.id(), kept = %o.get(), skipped = %scope, "the same id in another scope");
                out.push(Duplicate {
                    resource: T::KIND,
                    id: item.id().to_owned(),
                    kept: o.get().clone(),
                    skipped: scope,
                });
            }
        }
    }
    out
}

/// Sync documents read at once by [`combine`].
const DOCUMENT_READS: usize = 16;

struct Kind<T> {
    items: Vec<T>,
    pulled: HashSet<(String, String)>,
}

async fn read_kind<T: DeserializeOwned + Clone + Tracked>(
    config: &Config,
    store: &dyn SyncStore,
    resource: ResourceKind,
    previous: &[T],
    statuses: &mut HashMap<String, Vec<DocumentStatus>>,
) -> Kind<T> {
    let mut kind = Kind { items: Vec::new(), pulled: HashSet::new() };
    // Accounts and regions removed from the config: what they held has vanished.
    for r in previous {
        let configured = config
            .accounts
            .iter()
            .any(|a| a.name == r.account() && a.regions.iter().any(|g| g == r.region()));
        if !configured {
            kind.pulled.insert((r.account().to_owned(), r.region().to_owned()));
        }
    }
    // Every scope's document, read concurrently (at most `DOCUMENT_READS` at a time: a
    // hundred accounts hold thousands), in the configured order.
    let scopes: Vec<(&polo_core::config::Account, &String)> =
        config.accounts.iter().flat_map(|a| a.regions.iter().map(move |r| (a, r))).collect();
    let reads: Vec<_> = futures_util::stream::iter(
        scopes.iter().map(|(account, region)| store.read_document(&account.name, region, resource)),
    )
    .buffered(DOCUMENT_READS)
    .collect()
    .await;
    for ((account, region), read) in scopes.into_iter().zip(reads) {
        let kept = || {
            previous
                .iter()
                .filter(|r| r.account() == account.name && r.region() == region)
                .cloned()
                .collect::<Vec<_>>()
        };
        let (status, items) = match read {
            Ok(Some(bytes)) => match SyncDocument::<T>::parse(&bytes) {
                Ok(doc) => {
                    if doc.status == SyncStatus::Ok {
                        kind.pulled.insert((account.name.clone(), region.clone()));
                    }
                    let status = DocumentStatus {
                        resource,
                        region: region.clone(),
                        synced_at: doc.synced_at,
                        status: doc.status,
                        error: doc.error,
                    };
                    (status, doc.items)
                }
                Err(e) => (error_status(resource, region, e.to_string()), kept()),
            },
            Ok(None) => (error_status(resource, region, "never synced".into()), kept()),
            Err(e) => (error_status(resource, region, e.to_string()), kept()),
        };
        statuses.entry(account.name.clone()).or_default().push(status);
        kind.items.extend(items);
    }
    kind
}

fn error_status(resource: ResourceKind, region: &str, error: String) -> DocumentStatus {
    DocumentStatus {
        resource,
        region: region.to_owned(),
        synced_at: None,
        status: SyncStatus::Error,
        error: Some(error),
    }
}

/// Merges the documents of every configured account and region. A document that is missing
/// or unreadable keeps what `previous` knew of its account and region and marks it stale.
pub async fn combine(
    config: &Config,
    store: &dyn SyncStore,
    previous: Previous,
    now: OffsetDateTime,
) -> Combined {
    let mut statuses: HashMap<String, Vec<DocumentStatus>> = HashMap::new();
    let instances =
        read_kind(config, store, ResourceKind::Instances, &previous.instances, &mut statuses).await;
    let indexes = read_kind(config, store, ResourceKind::Indexes, &previous.indexes, &mut statuses).await;
    let mut duplicates = duplicates_of(&instances.items);
    duplicates.extend(duplicates_of(&indexes.items));
    let mut changes = diff(&previous.instances, &previous.vanished, &instances.items, &instances.pulled, now);
    changes.extend(diff(&previous.indexes, &previous.vanished, &indexes.items, &indexes.pulled, now));
    let (costs, mut history, price_table_version, findings) = match previous.snapshot {
        Some(s) => {
            let cost_docs = s.accounts.iter().flat_map(|a| {
                a.documents
                    .iter()
                    .filter(|d| d.resource == ResourceKind::Costs)
                    .map(move |d| (a.name.clone(), d.clone()))
            });
            for (account, doc) in cost_docs.collect::<Vec<_>>() {
                statuses.entry(account).or_default().push(doc);
            }
            (s.cost_facts, s.history, s.price_table_version, s.findings)
        }
        None => (CostFacts::default(), Vec::new(), String::new(), Vec::new()),
    };
    history.extend(changes.iter().cloned());
    let accounts = config
        .accounts
        .iter()
        .map(|a| AccountSync {
            name: a.name.clone(),
            id: a.id.clone(),
            kind: a.kind,
            documents: statuses.remove(&a.name).unwrap_or_default(),
        })
        .collect();
    let mut everything = Everything {
        generated_at: now,
        price_table_version,
        accounts,
        instances: instances.items,
        indexes: indexes.items,
        cost_facts: costs,
        history,
        findings,
    };
    everything.instances.sort_by(|a, b| a.id.cmp(&b.id));
    everything.indexes.sort_by(|a, b| a.index_id.cmp(&b.index_id));
    Combined { everything, changes, duplicates }
}

/// Brings the resource table up to date: writes every resource whose stored body differs
/// from the pulled one (a change history records, or any other field: a name, a tag, an IP),
/// marks the vanished ones (keeping their last known body), writes each change with its
/// resource, and records the accounts' status. Identical resources are not written.
pub async fn apply_to_table(
    table: &ResourceTable,
    combined: &Combined,
    previous: &Previous,
    now: OffsetDateTime,
) -> Result<usize, DataError> {
    let stored_instances: HashMap<&str, &Instance> =
        previous.instances.iter().map(|i| (i.id.as_str(), i)).collect();
    let stored_indexes: HashMap<&str, &Index> =
        previous.indexes.iter().map(|x| (x.index_id.as_str(), x)).collect();
    let mut items = Vec::new();
    // One item per id: a duplicate of another scope is not written (the first is; the run
    // summary lists the others), so no call ever holds a key twice.
    let mut taken: HashSet<(ResourceKind, &str)> = HashSet::new();
    for i in &combined.everything.instances {
        if taken.insert((ResourceKind::Instances, i.id.as_str()))
            && stored_instances.get(i.id.as_str()) != Some(&i)
        {
            items.push(ResourceItem::of_instance(i.clone(), now));
        }
    }
    for x in &combined.everything.indexes {
        if taken.insert((ResourceKind::Indexes, x.index_id.as_str()))
            && stored_indexes.get(x.index_id.as_str()) != Some(&x)
        {
            items.push(ResourceItem::of_index(x.clone(), now));
        }
    }
    for c in combined.changes.iter().filter(|c| c.what == ChangeKind::Vanished) {
        let item = match c.resource {
            ResourceKind::Instances => {
                stored_instances.get(c.id.as_str()).map(|i| ResourceItem::of_instance((*i).clone(), now))
            }
            ResourceKind::Indexes => {
                stored_indexes.get(c.id.as_str()).map(|x| ResourceItem::of_index((*x).clone(), now))
            }
            ResourceKind::Costs => None,
        };
        if let Some(mut item) = item {
            item.vanished_at = Some(now);
            items.push(item);
        }
    }
    let written = table.put_resources(items, &combined.changes).await?;
    table.put_meta(&combined.everything).await?;
    Ok(written)
}
