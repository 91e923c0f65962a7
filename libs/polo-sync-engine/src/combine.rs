//! The combine step: the sync documents of every configured account and region merged into
//! the snapshot, the differences from what was known before, and (in production) the
//! resource table brought up to date.

use std::collections::{HashMap, HashSet};

use futures_util::StreamExt as _;
use std::borrow::Cow;

use polo_aws::{ResourceItem, ResourceTable, live};
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
    /// Keys ([`Tracked::key`]) known to have vanished (a later sighting "came back").
    pub vanished: HashSet<String>,
    /// Where to ask whether a key this sync sees for the first time had vanished (the table
    /// lists only live resources); `None` when `vanished` already says it (local mode).
    pub ask: Option<ResourceTable>,
    /// Items of the old table layout to relay ([`ResourceTable::relay`]).
    pub old_layout: Vec<ResourceItem>,
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
            ask: None,
            old_layout: Vec::new(),
            snapshot: Some(snapshot),
        }
    }

    /// What the resource table knows (production): the live resources, by Query on the
    /// sparse `by-kind` index; vanished ones are asked for only when seen again.
    pub async fn from_table(table: &ResourceTable) -> Result<Previous, DataError> {
        let (instances, indexes) =
            tokio::try_join!(table.list(ResourceKind::Instances), table.list(ResourceKind::Indexes))?;
        let old_layout: Vec<ResourceItem> =
            instances.iter().chain(&indexes).filter(|r| r.relaid().is_some()).cloned().collect();
        // Vanished items of the old layout are still in `by-kind`: known without asking.
        let vanished =
            old_layout.iter().filter(|r| r.vanished_at.is_some()).filter_map(ResourceItem::key).collect();
        Ok(Previous {
            instances: live(instances).filter_map(|r| r.instance).collect(),
            indexes: live(indexes).filter_map(|r| r.index).collect(),
            vanished,
            ask: Some(table.clone()),
            old_layout,
            snapshot: None,
        })
    }

    /// Those of `current`'s keys, new to `known`, that the table holds as vanished (one GetItem each, 16 at a time). Not asked when the table lists none of the
    /// kind live (a first sync would ask for every resource: 100,000 reads at the huge
    /// scale), so resources that return to a table where everything had vanished read as
    /// appearing. A failed lookup too only makes a return read as a first appearance: logged.
    async fn returns<T: Tracked>(&self, known: &[T], current: &[T]) -> HashSet<String> {
        let Some(table) = self.ask.as_ref().filter(|_| !known.is_empty()) else { return HashSet::new() };
        let known: HashSet<_> = known.iter().map(Tracked::key).collect();
        let new: Vec<String> = current
            .iter()
            .map(Tracked::key)
            .filter(|k| !known.contains(k) && !self.vanished.contains(k.as_ref()))
            .map(std::borrow::Cow::into_owned)
            .collect();
        if new.is_empty() {
            return HashSet::new();
        }
        table.vanished_among(T::KIND, new).await.unwrap_or_else(|e| {
            tracing::warn!(resource = %T::KIND, error = %e, "could not tell returns from new resources");
            HashSet::new()
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

/// A resource whose key ([`Tracked::key`]) an earlier one already has: an index id twice in
/// one account's registry in one region, or an instance id from two scopes (configured
/// account order, then region order). The first is kept, the other skipped (from the
/// snapshot and the table), logged and counted in the run summary; never fatal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Duplicate {
    pub resource: ResourceKind,
    pub id: String,
    /// `account/region` of the one the table keeps, and of the one it does not.
    pub kept: String,
    pub skipped: String,
}

/// `items` without those whose key an earlier one already has, and those.
fn without_duplicates<T: Tracked>(items: Vec<T>) -> (Vec<T>, Vec<Duplicate>) {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut kept = Vec::with_capacity(items.len());
    let mut out = Vec::new();
    for item in items {
        let scope = format!("{}/{}", item.account(), item.region());
        match seen.entry(item.key().into_owned()) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(scope);
                kept.push(item);
            }
            std::collections::hash_map::Entry::Occupied(o) => {
                tracing::warn!(resource = %T::KIND, id = item.id(), kept = %o.get(), skipped = %scope, "the same resource twice: skipped");
                out.push(Duplicate {
                    resource: T::KIND,
                    id: item.id().to_owned(),
                    kept: o.get().clone(),
                    skipped: scope,
                });
            }
        }
    }
    (kept, out)
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
    mut previous: Previous,
    now: OffsetDateTime,
) -> Combined {
    let mut statuses: HashMap<String, Vec<DocumentStatus>> = HashMap::new();
    let mut instances =
        read_kind(config, store, ResourceKind::Instances, &previous.instances, &mut statuses).await;
    let mut indexes = read_kind(config, store, ResourceKind::Indexes, &previous.indexes, &mut statuses).await;
    let (kept, mut duplicates) = without_duplicates(std::mem::take(&mut instances.items));
    instances.items = kept;
    let (kept, more) = without_duplicates(std::mem::take(&mut indexes.items));
    indexes.items = kept;
    duplicates.extend(more);
    let returned = previous.returns(&previous.instances, &instances.items).await;
    previous.vanished.extend(returned);
    let returned = previous.returns(&previous.indexes, &indexes.items).await;
    previous.vanished.extend(returned);
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
    everything.indexes.sort_by(polo_core::model::index_order);
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
    let stored_instances: HashMap<Cow<'_, str>, &Instance> =
        previous.instances.iter().map(|i| (i.key(), i)).collect();
    let stored_indexes: HashMap<Cow<'_, str>, &Index> =
        previous.indexes.iter().map(|x| (x.key(), x)).collect();
    let mut items = Vec::new();
    // `combine` left one resource per key, so no call ever holds a key twice.
    for i in &combined.everything.instances {
        if stored_instances.get(&i.key()) != Some(&i) {
            items.push(ResourceItem::of_instance(i.clone(), now));
        }
    }
    for x in &combined.everything.indexes {
        if stored_indexes.get(&x.key()) != Some(&x) {
            items.push(ResourceItem::of_index(x.clone(), now));
        }
    }
    for c in combined.changes.iter().filter(|c| c.what == ChangeKind::Vanished) {
        let item = match c.resource {
            ResourceKind::Instances => {
                stored_instances.get(&c.key()).map(|i| ResourceItem::of_instance((*i).clone(), now))
            }
            ResourceKind::Indexes => {
                stored_indexes.get(&c.key()).map(|x| ResourceItem::of_index((*x).clone(), now))
            }
            ResourceKind::Costs => None,
        };
        items.extend(item.map(|item| item.vanished(now)));
    }
    // Items of the old layout move first: the bodies written below then overwrite theirs.
    let mut written = table.relay(previous.old_layout.clone(), now).await?;
    written += table.put_resources(items, &combined.changes).await?;
    table.put_meta(&combined.everything).await?;
    Ok(written)
}
