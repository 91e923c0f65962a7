//! The Cop's findings in the report table: `pk = "finding#{shard}"` (the id's FNV-1a over
//! [`FINDING_SHARDS`] partitions, so no one partition takes every write), `sk` = the
//! finding's id, its fields, and for a resolved finding a `ttl` 30 days after it was resolved
//! (the history of what was fixed stays a month). A run writes only the findings whose state
//! changed: an open finding seen again changes only its `last_seen`, which is the last run's
//! time for every open finding, kept once in the item `pk = "finding-run"`, `sk = "last"`
//! and laid over the stored ones on reading. A run holds the lease `cop` of the same table
//! ([`ResourceTable::acquire_lease`] over this table), so two runs never judge and notify at
//! once.
//!
//! Findings written before the shards sit under `pk = "finding"`: they are read too, and the
//! first run that saves moves them (a marker with `moved` expiring at once stays behind).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use polo_core::model::Finding;
use polo_core::ports::{DataError, FindingStore};

use super::resources::{ResourceTable, item_error, store_error};

/// How long a resolved finding is kept.
const KEEP_RESOLVED: time::Duration = time::Duration::days(30);
/// The lease a Cop run holds.
pub const COP_LEASE: &str = "cop";

/// How many partitions findings are spread over.
pub const FINDING_SHARDS: u32 = 8;
/// The partition of findings written before the shards.
const OLD_PARTITION: &str = "finding";

/// The partition of the finding `id`.
fn partition_of(id: &str) -> String {
    format!("finding#{}", super::resources::shard_of(id, FINDING_SHARDS))
}

/// When the last run saw its open findings.
#[derive(Serialize, Deserialize)]
struct RunItem {
    pk: String,
    sk: String,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
}

#[derive(Serialize, Deserialize)]
struct FindingItem {
    pk: String,
    sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(flatten)]
    finding: Finding,
}

/// Findings in the report table.
#[derive(Debug)]
pub struct FindingTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// The same table, for its batch writes and leases.
    writer: ResourceTable,
    /// The findings as this store last read or wrote them, by id: what a save compares with.
    known: Mutex<Option<HashMap<String, Finding>>>,
    /// Ids read from the old partition and not yet moved.
    old: Mutex<HashSet<String>>,
}

impl FindingTable {
    /// The findings of the report table `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        let table = table.into();
        FindingTable {
            writer: ResourceTable::new(client.clone(), &table),
            client,
            table,
            known: Mutex::new(None),
            old: Mutex::new(HashSet::new()),
        }
    }

    fn decode(&self, items: Vec<super::resources::Item>) -> Result<Vec<Finding>, DataError> {
        items
            .into_iter()
            .filter(|i| !i.contains_key("moved"))
            .map(|i| {
                serde_dynamo::from_item::<_, FindingItem>(i)
                    .map(|f| f.finding)
                    .map_err(|e| item_error(&self.table, e))
            })
            .collect()
    }

    async fn last_run(&self) -> Result<Option<OffsetDateTime>, DataError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S("finding-run".into()))
            .key("sk", AttributeValue::S("last".into()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error(&format!("GetItem {}", self.table), e))?;
        output
            .item
            .map(|i| {
                serde_dynamo::from_item::<_, RunItem>(i)
                    .map(|r| r.at)
                    .map_err(|e| item_error("finding-run", e))
            })
            .transpose()
    }

    fn item(finding: &Finding) -> Result<super::resources::Item, DataError> {
        let item = FindingItem {
            pk: partition_of(&finding.id),
            sk: finding.id.clone(),
            ttl: finding.resolved_at.map(|t| (t + KEEP_RESOLVED).unix_timestamp()),
            finding: finding.clone(),
        };
        serde_dynamo::to_item(item).map_err(|e| item_error(&finding.id, e))
    }
}

/// Whether `a` and `b` differ in what a save keeps (everything but an open finding's
/// `last_seen`, which the run item holds).
fn differs(a: &Finding, b: &Finding) -> bool {
    let seen = |f: &Finding| if f.resolved_at.is_none() { OffsetDateTime::UNIX_EPOCH } else { f.last_seen };
    Finding { last_seen: seen(a), ..a.clone() } != Finding { last_seen: seen(b), ..b.clone() }
}

fn poisoned<T>(_: T) -> DataError {
    DataError::Store("finding store lock poisoned".into())
}

#[async_trait]
impl FindingStore for FindingTable {
    /// Every shard and the old partition, read at once, with the last run's time as the
    /// `last_seen` of every open finding.
    async fn all(&self) -> Result<Vec<Finding>, DataError> {
        let shards: Vec<String> =
            (0..FINDING_SHARDS).map(|n| format!("finding#{n}")).chain([OLD_PARTITION.to_owned()]).collect();
        let reads = futures_util::future::try_join_all(
            // Consistent: the outbox reads them right after a run saved them.
            shards.iter().map(|pk| self.writer.query_pages(None, "pk", pk, None, true)),
        );
        let (mut pages, last_run) = tokio::try_join!(reads, self.last_run())?;
        let old_items = pages.pop().unwrap_or_default();
        let mut by_id: HashMap<String, Finding> = HashMap::new();
        let old = self.decode(old_items)?;
        let old_ids: HashSet<String> = old.iter().map(|f| f.id.clone()).collect();
        // A moved finding's new copy wins over an old one not yet marked.
        for f in old.into_iter().chain(self.decode(pages.into_iter().flatten().collect())?) {
            by_id.insert(f.id.clone(), f);
        }
        for f in by_id.values_mut().filter(|f| f.resolved_at.is_none()) {
            if let Some(at) = last_run.filter(|at| *at > f.last_seen) {
                f.last_seen = at;
            }
        }
        *self.old.lock().map_err(poisoned)? = old_ids;
        *self.known.lock().map_err(poisoned)? = Some(by_id.clone());
        let mut all: Vec<Finding> = by_id.into_values().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(all)
    }

    /// Writes only what differs from what this store last read (it reads first when it has
    /// not), the findings still in the old partition, and the run's time.
    async fn save(&self, findings: &[Finding]) -> Result<(), DataError> {
        if self.known.lock().map_err(poisoned)?.is_none() {
            self.all().await?;
        }
        let known = self.known.lock().map_err(poisoned)?.clone().unwrap_or_default();
        let old = self.old.lock().map_err(poisoned)?.clone();
        let mut items = Vec::new();
        let mut markers = Vec::new();
        for f in findings {
            let moved = old.contains(&f.id);
            if moved || known.get(&f.id).is_none_or(|k| differs(k, f)) {
                items.push(Self::item(f)?);
            }
            if moved {
                let marker = [
                    ("pk", AttributeValue::S(OLD_PARTITION.into())),
                    ("sk", AttributeValue::S(f.id.clone())),
                    ("moved", AttributeValue::S(partition_of(&f.id))),
                    ("ttl", AttributeValue::N(f.last_seen.unix_timestamp().to_string())),
                ];
                markers.push(marker.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
            }
        }
        let changed = items.len();
        // Markers only once every copy is written: a batch is not atomic, and a marker
        // without its copy would lose the finding.
        self.writer.write_items(items).await?;
        self.writer.write_items(markers).await?;
        if let Some(at) = findings.iter().filter(|f| f.resolved_at.is_none()).map(|f| f.last_seen).max() {
            self.writer.put_one(&RunItem { pk: "finding-run".into(), sk: "last".into(), at }).await?;
        }
        tracing::info!(table = %self.table, findings = findings.len(), written = changed, "findings saved");
        *self.known.lock().map_err(poisoned)? =
            Some(findings.iter().map(|f| (f.id.clone(), f.clone())).collect());
        self.old.lock().map_err(poisoned)?.clear();
        Ok(())
    }

    /// One UpdateItem per id, in its shard (or, for a finding not moved yet, the old
    /// partition).
    async fn mark_notified(&self, ids: &[String], at: OffsetDateTime) -> Result<(), DataError> {
        for id in ids {
            let mut updated = false;
            for pk in [partition_of(id), OLD_PARTITION.to_owned()] {
                let result = self
                    .client
                    .update_item()
                    .table_name(&self.table)
                    .key("pk", AttributeValue::S(pk))
                    .key("sk", AttributeValue::S(id.clone()))
                    .update_expression("SET last_notified = :at")
                    .condition_expression("attribute_exists(pk) AND attribute_not_exists(moved)")
                    .expression_attribute_values(":at", AttributeValue::S(polo_core::text::rfc3339(at)))
                    .send()
                    .await;
                match result {
                    Ok(_) => {
                        updated = true;
                        break;
                    }
                    Err(e) if e.as_service_error().is_some_and(aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception) => {}
                    Err(e) => return Err(store_error(&format!("UpdateItem {}", self.table), e)),
                }
            }
            if !updated {
                tracing::warn!(table = %self.table, id, "no finding to mark notified");
            }
        }
        Ok(())
    }

    /// The Cop's lease, an item of the same table.
    async fn acquire(&self, holder: &str, now: OffsetDateTime, ttl: Duration) -> Result<bool, DataError> {
        self.writer.acquire_lease(COP_LEASE, holder, now, ttl).await
    }

    async fn release(&self, holder: &str, now: OffsetDateTime) -> Result<(), DataError> {
        self.writer.release_lease(COP_LEASE, holder, now).await
    }
}

polo_core::finding_reader!(FindingTable);
