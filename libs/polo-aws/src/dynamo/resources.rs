//! The resource table (`DYNAMODB_TABLE_NAME`): one item per resource plus its history items.
//!
//! Keys (see docs/data.md): `pk = "{kind}#{key}"`, where the key is an instance's id or an
//! index's `{index_id}#{account}#{region}`; `sk = "resource"` for the resource itself,
//! `sk = "history#{at}#{n}"` for each change. GSI `by-kind` (`gsi1pk = kind`, `gsi1sk = key`)
//! lists the live resources of a kind with Query: it is sparse, a vanished resource has no
//! `gsi1pk`. GSI `by-index` (`gsi2pk = index id`, `gsi2sk = instance id`) lists the live
//! instances tagged with an index. GSI `by-day` (`gsi3pk = "history#{date}#{shard}"`,
//! `gsi3sk = "{at}#{key}#{n}"`) lists the changes of one UTC day, spread over
//! [`DAY_SHARDS`] partitions by key so a sync's burst of changes is not one hot partition. The item `pk = "meta"`, `sk =
//! "accounts"` holds the accounts' sync status. No path reads the table with Scan.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, PutRequest, TransactWriteItem, WriteRequest};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use futures_util::StreamExt as _;
use polo_core::model::{
    AccountSync, Change, Everything, Fleet, Index, Instance, ResourceKind, Tracked as _, resolve,
};
use polo_core::ports::{ChangeReader, DataError, FleetReader, ResourceReader};

/// The GSI that lists a kind.
pub const BY_KIND: &str = "by-kind";
/// The GSI that lists the instances of an index.
pub const BY_INDEX: &str = "by-index";
/// The GSI that lists the changes of a day.
pub const BY_DAY: &str = "by-day";
/// How many `by-day` partitions one day's changes are spread over: a first sync of a huge
/// fleet writes 100,000 changes in a minute, and one partition takes 1,000 writes a second.
pub const DAY_SHARDS: u32 = 8;
/// Items per BatchWriteItem call (the API's limit).
pub const BATCH: usize = 25;
/// Items per TransactWriteItems call (the API's limit).
pub const TRANSACTION: usize = 100;
const MAX_BATCH_ATTEMPTS: u32 = 8;

fn kind_key(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Instances => "instance",
        ResourceKind::Indexes => "index",
        ResourceKind::Costs => "cost",
    }
}

/// The partition key of a resource, by its [`Tracked::key`](polo_core::model::Tracked::key).
pub fn resource_pk(kind: ResourceKind, key: &str) -> String {
    format!("{}#{key}", kind_key(kind))
}

/// One resource as the table holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceItem {
    pub pk: String,
    pub sk: String,
    /// The kind, while it is live (the `by-kind` index is sparse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When a successful sync of its account and region stopped seeing it.
    #[serde(with = "time::serde::rfc3339::option", default, skip_serializing_if = "Option::is_none")]
    pub vanished_at: Option<OffsetDateTime>,
    /// When DynamoDB may delete it (epoch seconds): a vanished resource's, after
    /// `[retention] vanished_days`; a current one has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    /// Set on an item of the old layout (an index keyed by its id alone) once it has moved:
    /// the partition key it moved to. It has no body and expires at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<Instance>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<Index>,
}

impl ResourceItem {
    /// The item of a live instance.
    pub fn of_instance(instance: Instance, now: OffsetDateTime) -> Self {
        ResourceItem {
            pk: resource_pk(ResourceKind::Instances, &instance.id),
            sk: "resource".into(),
            gsi1pk: Some(kind_key(ResourceKind::Instances).into()),
            gsi1sk: Some(instance.id.clone()),
            gsi2pk: instance.index.as_deref().map(str::to_owned),
            gsi2sk: instance.index.as_ref().map(|_| instance.id.clone()),
            updated_at: now,
            vanished_at: None,
            ttl: None,
            moved_to: None,
            instance: Some(instance),
            index: None,
        }
    }

    /// The item of a live index.
    pub fn of_index(index: Index, now: OffsetDateTime) -> Self {
        let key = index.key().into_owned();
        ResourceItem {
            pk: resource_pk(ResourceKind::Indexes, &key),
            sk: "resource".into(),
            gsi1pk: Some(kind_key(ResourceKind::Indexes).into()),
            gsi1sk: Some(key),
            gsi2pk: None,
            gsi2sk: None,
            updated_at: now,
            vanished_at: None,
            ttl: None,
            moved_to: None,
            instance: None,
            index: Some(index),
        }
    }

    /// The same resource, vanished at `now`: it keeps its last known body and leaves the
    /// `by-kind` and `by-index` indexes.
    #[must_use]
    pub fn vanished(mut self, now: OffsetDateTime) -> Self {
        self.vanished_at = Some(now);
        self.gsi1pk = None;
        self.gsi1sk = None;
        self.gsi2pk = None;
        self.gsi2sk = None;
        self
    }

    /// Where this item belongs now: an item of the old layout (an index keyed by its id
    /// alone, or a vanished resource still in `by-kind`) as the current layout writes it;
    /// `None` when it is already there.
    pub fn relaid(&self) -> Option<ResourceItem> {
        let now = self.updated_at;
        let mut item = match (&self.instance, &self.index) {
            (Some(i), _) => ResourceItem::of_instance(i.clone(), now),
            (None, Some(x)) => ResourceItem::of_index(x.clone(), now),
            (None, None) => return None,
        };
        if let Some(at) = self.vanished_at {
            item = item.vanished(at);
            item.updated_at = now;
        }
        let same = item.pk == self.pk && item.gsi1pk == self.gsi1pk && item.gsi2pk == self.gsi2pk;
        (!same).then_some(item)
    }

    /// The item as DynamoDB takes it.
    pub fn to_item(&self) -> Result<HashMap<String, AttributeValue>, DataError> {
        serde_dynamo::to_item(self).map_err(|e| item_error(&self.pk, e))
    }

    /// The body's key ([`Tracked::key`](polo_core::model::Tracked::key)).
    pub fn key(&self) -> Option<String> {
        match (&self.instance, &self.index) {
            (Some(i), _) => Some(i.key().into_owned()),
            (None, Some(x)) => Some(x.key().into_owned()),
            (None, None) => None,
        }
    }
}

/// One change as the table holds it, under its resource's partition.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct HistoryItem {
    pk: String,
    sk: String,
    /// `history#{UTC date}#{shard}`: the `by-day` index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi3pk: Option<String>,
    /// `{at}#{key}#{n}`, in time order within the day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gsi3sk: Option<String>,
    /// When DynamoDB may delete it (epoch seconds): `[retention] history_days` after it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(flatten)]
    change: Change,
}

impl HistoryItem {
    /// The `n`th change of its resource in one sync, kept `days` after it happened.
    fn new(change: Change, n: usize, days: u32) -> Self {
        let key = change.key().into_owned();
        let at = polo_core::text::rfc3339(change.at);
        HistoryItem {
            pk: resource_pk(change.resource, &key),
            sk: format!("history#{at}#{n:03}"),
            gsi3pk: Some(day_key(
                change.at.to_offset(time::UtcOffset::UTC).date(),
                shard_of(&key, DAY_SHARDS),
            )),
            gsi3sk: Some(format!("{at}#{key}#{n:03}")),
            ttl: Some(expiry(change.at, days)),
            change,
        }
    }
}

/// The `by-day` partition `shard` of the changes on `date` (UTC).
fn day_key(date: time::Date, shard: u32) -> String {
    format!("history#{date}#{shard}")
}

/// Which of `shards` partitions `key` goes to: FNV-1a of it, stable across builds and
/// platforms (unlike `std`'s hasher).
pub(super) fn shard_of(key: &str, shards: u32) -> u32 {
    let hash = key.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    hash % shards
}

/// The accounts' sync status and the snapshot's own facts.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct MetaItem {
    pk: String,
    sk: String,
    #[serde(with = "time::serde::rfc3339")]
    generated_at: OffsetDateTime,
    price_table_version: String,
    accounts: Vec<AccountSync>,
}

/// What [`ResourceTable::upgrade`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Upgrade {
    /// Items the Scan read.
    pub scanned: usize,
    /// History items given their `by-day` keys.
    pub history: usize,
    /// Vanished resources given a `ttl`.
    pub vanished: usize,
    /// Items another writer changed between the Scan and the update: left as they are.
    pub skipped: usize,
}

/// The resource table.
#[derive(Clone, Debug)]
pub struct ResourceTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// Pause before the first retry of unprocessed items; doubles each time.
    backoff: Duration,
    /// How long vanished resources and history stay (`[retention]`).
    retention: polo_core::config::Retention,
}

pub(super) fn store_error(context: &str, e: impl std::error::Error) -> DataError {
    DataError::Store(format!("{context}: {}", DisplayErrorContext(e)))
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` calls
pub(super) fn item_error(context: &str, e: serde_dynamo::Error) -> DataError {
    DataError::Unreadable { source_name: context.to_owned(), problem: e.to_string() }
}

pub(super) type Item = HashMap<String, AttributeValue>;

/// Epoch seconds `days` after `at`: when DynamoDB's TTL may delete an item.
fn expiry(at: OffsetDateTime, days: u32) -> i64 {
    (at + time::Duration::days(i64::from(days))).unix_timestamp()
}

/// The first `(pk, sk)` that `items` hold twice.
fn repeated_key(items: &[Item]) -> Option<(String, String)> {
    let key = |item: &Item, name: &str| match item.get(name) {
        Some(AttributeValue::S(s)) => s.clone(),
        _ => String::new(),
    };
    let mut seen = std::collections::HashSet::new();
    items.iter().map(|item| (key(item, "pk"), key(item, "sk"))).find(|k| !seen.insert(k.clone()))
}

/// What the accounts' status may take of the meta item, as JSON bytes: DynamoDB's item limit
/// is 400 KB (409,600 bytes), and this item (strings, maps, lists, nulls: no numbers, which
/// DynamoDB may count a byte over their JSON) never counts more bytes than its JSON (no
/// quotes, no punctuation); the rest of the item is ~100 bytes.
const META_BUDGET: usize = 399_000;

/// `accounts` with their documents' error texts cut (on a character boundary, marked with
/// `…`) so that all of it stays within [`META_BUDGET`]: when many pulls fail with long SDK
/// error texts, each keeps its start, and the snapshot keeps them whole.
pub(crate) fn bounded_accounts(accounts: &[AccountSync]) -> Vec<AccountSync> {
    let size = |a: &[AccountSync]| serde_json::to_vec(a).map_or(usize::MAX, |v| v.len());
    if size(accounts) <= META_BUDGET {
        return accounts.to_vec();
    }
    let mut bounded = accounts.to_vec();
    let errors = bounded.iter().flat_map(|a| &a.documents).filter(|d| d.error.is_some()).count();
    let bare = {
        let mut bare = accounts.to_vec();
        for d in bare.iter_mut().flat_map(|a| &mut a.documents) {
            d.error = d.error.as_ref().map(|_| String::new());
        }
        size(&bare)
    };
    // Each error's share of what is left, in bytes (escaping may take a few more: a margin).
    let share = META_BUDGET.saturating_sub(bare) / errors.max(1) * 3 / 4;
    for d in bounded.iter_mut().flat_map(|a| &mut a.documents) {
        if let Some(e) = d.error.as_mut().filter(|e| e.len() > share) {
            let mut end = share.saturating_sub(3);
            while end > 0 && !e.is_char_boundary(end) {
                end -= 1;
            }
            e.truncate(end);
            e.push('…');
        }
    }
    // Too many scopes for even the start of each text: the snapshot keeps them whole.
    if size(&bounded) > META_BUDGET {
        for d in bounded.iter_mut().flat_map(|a| &mut a.documents) {
            if let Some(e) = d.error.as_mut() {
                "see the snapshot".clone_into(e);
            }
        }
    }
    bounded
}

/// Whether a transaction may succeed if sent again: one in progress, or one cancelled only
/// for reasons that pass (a conflicting transaction, throttling). A cancellation for a
/// validation error, a failed condition or an item too large never will.
fn is_cancelled<R>(e: &SdkError<TransactWriteItemsError, R>) -> bool {
    match e.as_service_error() {
        Some(TransactWriteItemsError::TransactionInProgressException(_)) => true,
        Some(TransactWriteItemsError::TransactionCanceledException(c)) => {
            retryable_reasons(c.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")))
        }
        _ => false,
    }
}

/// Whether cancellation reason codes (one per item; `None` for an item that was fine) all
/// pass with time, and at least one is there.
fn retryable_reasons<'a>(codes: impl Iterator<Item = &'a str>) -> bool {
    const PASSING: [&str; 3] = ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"];
    let mut any = false;
    for code in codes {
        match code {
            "None" => {}
            c if PASSING.contains(&c) => any = true,
            _ => return false,
        }
    }
    any
}

impl ResourceTable {
    /// The table `table` through `client`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        ResourceTable {
            client,
            table: table.into(),
            backoff: Duration::from_millis(50),
            retention: polo_core::config::Retention::default(),
        }
    }

    /// The same table, keeping vanished resources and history as `retention` says.
    #[must_use]
    pub fn with_retention(mut self, retention: polo_core::config::Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.table
    }

    /// Writes items in batches of 25; items DynamoDB leaves unprocessed are sent again with
    /// exponential back-off, and it fails only if some are still unprocessed after 8 tries.
    #[tracing::instrument(name = "pages", skip_all, fields(pages = "BatchWriteItem"))]
    pub async fn write_items(&self, items: Vec<Item>) -> Result<usize, DataError> {
        let mut written = 0;
        for chunk in items.chunks(BATCH) {
            self.refuse_repeated_keys("BatchWriteItem", chunk)?;
            let mut pending: Vec<WriteRequest> = chunk
                .iter()
                .map(|item| {
                    PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|put| WriteRequest::builder().put_request(put).build())
                        .map_err(|e| DataError::Store(format!("put request: {e}")))
                })
                .collect::<Result<_, _>>()?;
            let mut attempt = 0;
            while !pending.is_empty() {
                if attempt > 0 {
                    tokio::time::sleep(self.backoff * 2u32.saturating_pow(attempt - 1)).await;
                }
                attempt += 1;
                let sent = pending.len();
                let output = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(|e| store_error(&format!("BatchWriteItem {}", self.table), e))?;
                pending =
                    output.unprocessed_items.and_then(|mut u| u.remove(&self.table)).unwrap_or_default();
                written += sent - pending.len();
                if !pending.is_empty() {
                    tracing::warn!(table = %self.table, unprocessed = pending.len(), attempt, "retrying unprocessed items");
                    if attempt >= MAX_BATCH_ATTEMPTS {
                        return Err(DataError::Store(format!(
                            "BatchWriteItem {}: {} items still unprocessed after {attempt} attempts",
                            self.table,
                            pending.len()
                        )));
                    }
                }
            }
        }
        Ok(written)
    }

    /// Writes resources and their changes. A resource with changes is written together
    /// with its history items in one transaction (several resources per TransactWriteItems,
    /// at most 100 items), so a failure can never leave a new body without its history: the
    /// next sync then sees the same difference and records it. Resources without changes
    /// (a new name or tag) go by BatchWriteItem.
    pub async fn put_resources(
        &self,
        resources: Vec<ResourceItem>,
        changes: &[Change],
    ) -> Result<usize, DataError> {
        let mut history: HashMap<String, Vec<Item>> = HashMap::new();
        let mut seq: HashMap<(ResourceKind, String), usize> = HashMap::new();
        for change in changes {
            let n = seq.entry((change.resource, change.key().into_owned())).or_default();
            *n += 1;
            let item = HistoryItem::new(change.clone(), *n, self.retention.history_days);
            let encoded = serde_dynamo::to_item(&item).map_err(|e| item_error(&item.pk, e))?;
            history.entry(item.pk).or_default().push(encoded);
        }
        let mut plain = Vec::new();
        let mut groups: Vec<Vec<Item>> = Vec::new();
        for mut r in resources {
            r.ttl = r.vanished_at.map(|at| expiry(at, self.retention.vanished_days));
            let body = serde_dynamo::to_item(&r).map_err(|e| item_error(&r.pk, e))?;
            match history.remove(&r.pk) {
                Some(mut items) => {
                    items.push(body);
                    groups.push(items);
                }
                None => plain.push(body),
            }
        }
        // History of a resource whose body is not written (should not happen): still kept.
        groups.extend(history.into_values());
        let mut written = self.write_transactions(groups).await?;
        written += self.write_items(plain).await?;
        Ok(written)
    }

    /// DynamoDB refuses a whole BatchWriteItem whose items repeat a key ("Provided list of
    /// item keys contains duplicates") and a transaction with two operations on one item,
    /// and neither passes by trying again: the same error, named, before the call (the
    /// emulator accepts both).
    fn refuse_repeated_keys(&self, call: &str, items: &[Item]) -> Result<(), DataError> {
        match repeated_key(items) {
            Some((pk, sk)) => Err(DataError::Store(format!(
                "{call} {}: the key {pk} / {sk} twice in one call, which DynamoDB refuses whole",
                self.table
            ))),
            None => Ok(()),
        }
    }

    /// Writes each group atomically, packing groups into transactions of at most 100 items;
    /// a cancelled transaction (a conflicting write) is tried again with back-off.
    #[tracing::instrument(name = "pages", skip_all, fields(pages = "TransactWriteItems"))]
    pub async fn write_transactions(&self, groups: Vec<Vec<Item>>) -> Result<usize, DataError> {
        let mut batches: Vec<Vec<Item>> = Vec::new();
        for group in groups {
            match batches.last_mut() {
                Some(batch) if batch.len() + group.len() <= TRANSACTION => batch.extend(group),
                _ => batches.push(group),
            }
        }
        let mut written = 0;
        for batch in batches {
            self.refuse_repeated_keys("TransactWriteItems", &batch)?;
            let puts: Vec<TransactWriteItem> = batch
                .into_iter()
                .map(|item| {
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .build()
                        .map(|put| TransactWriteItem::builder().put(put).build())
                        .map_err(|e| DataError::Store(format!("transaction put: {e}")))
                })
                .collect::<Result<_, _>>()?;
            let count = puts.len();
            let mut attempt = 0;
            loop {
                attempt += 1;
                let sent =
                    self.client.transact_write_items().set_transact_items(Some(puts.clone())).send().await;
                match sent {
                    Ok(_) => break,
                    Err(e) if attempt < MAX_BATCH_ATTEMPTS && is_cancelled(&e) => {
                        tracing::warn!(table = %self.table, attempt, "transaction cancelled; retrying");
                        tokio::time::sleep(self.backoff * 2u32.saturating_pow(attempt - 1)).await;
                    }
                    Err(e) => return Err(store_error(&format!("TransactWriteItems {}", self.table), e)),
                }
            }
            written += count;
        }
        Ok(written)
    }

    /// Takes the lease `name` for `holder` until `now + ttl`, by a conditional write: free,
    /// or expired and not already completed by the same holder (a duplicate delivery of an
    /// event that ran is a no-op; one whose run died half-way may run again). `false` when
    /// another run holds it or this holder already finished.
    pub async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
        ttl: Duration,
    ) -> Result<bool, DataError> {
        let expires = now.unix_timestamp() + i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let n = |v: i64| AttributeValue::N(v.to_string());
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S("lease".into()))
            .item("sk", AttributeValue::S(name.to_owned()))
            .item("holder", AttributeValue::S(holder.to_owned()))
            .item("expires_at", n(expires))
            .item("done", AttributeValue::Bool(false))
            // Cleared by DynamoDB's TTL a week on.
            .item("ttl", n(now.unix_timestamp() + 7 * 86_400))
            .condition_expression(
                "attribute_not_exists(pk) OR (expires_at <= :now AND NOT (holder = :holder AND done = :true))",
            )
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_owned()))
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(aws_sdk_dynamodb::operation::put_item::PutItemError::is_conditional_check_failed_exception) => Ok(false),
            Err(e) => Err(store_error(&format!("PutItem lease {}", self.table), e)),
        }
    }

    /// Ends `holder`'s lease `name` as completed (its holder will not run again).
    pub async fn release_lease(
        &self,
        name: &str,
        holder: &str,
        now: OffsetDateTime,
    ) -> Result<(), DataError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S("lease".into()))
            .key("sk", AttributeValue::S(name.to_owned()))
            .update_expression("SET done = :true, expires_at = :now")
            .condition_expression("holder = :holder")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .expression_attribute_values(":now", AttributeValue::N(now.unix_timestamp().to_string()))
            .expression_attribute_values(":holder", AttributeValue::S(holder.to_owned()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception) => {
                tracing::warn!(lease = name, holder, "the lease was taken over before this run ended");
                Ok(())
            }
            Err(e) => Err(store_error(&format!("UpdateItem lease {}", self.table), e)),
        }
    }

    /// Writes the accounts' sync status, its error texts cut to fit one item
    /// ([`bounded_accounts`]).
    pub async fn put_meta(&self, everything: &Everything) -> Result<(), DataError> {
        let meta = MetaItem {
            pk: "meta".into(),
            sk: "accounts".into(),
            generated_at: everything.generated_at,
            price_table_version: everything.price_table_version.clone(),
            accounts: bounded_accounts(&everything.accounts),
        };
        self.put_one(&meta).await
    }

    /// Puts one item, whole (every table's single-item write).
    pub(super) async fn put_one<T: Serialize>(&self, item: &T) -> Result<(), DataError> {
        let item = serde_dynamo::to_item(item).map_err(|e| item_error(&self.table, e))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| store_error(&format!("PutItem {}", self.table), e))?;
        Ok(())
    }

    /// Every item whose `key` is `value` (in the table, or the GSI `index`), and whose sort
    /// key (`sk`, or the index's) starts with `sk_prefix` when given, reading every page.
    pub(super) async fn query_all(
        &self,
        index: Option<&str>,
        key: &str,
        value: &str,
        sk_prefix: Option<&str>,
    ) -> Result<Vec<Item>, DataError> {
        self.query_pages(index, key, value, sk_prefix, false).await
    }

    /// [`ResourceTable::query_all`], strongly consistent when `consistent` (the table only:
    /// a GSI has no consistent reads), so a read right after a write sees it.
    #[tracing::instrument(name = "pages", skip_all, fields(pages = index.unwrap_or("Query")))]
    pub(super) async fn query_pages(
        &self,
        index: Option<&str>,
        key: &str,
        value: &str,
        sk_prefix: Option<&str>,
        consistent: bool,
    ) -> Result<Vec<Item>, DataError> {
        let sort_key = match index {
            Some(BY_KIND) => "gsi1sk",
            Some(BY_INDEX) => "gsi2sk",
            Some(BY_DAY) => "gsi3sk",
            _ => "sk",
        };
        let mut items = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .expression_attribute_names("#k", key)
                .expression_attribute_values(":v", AttributeValue::S(value.to_owned()))
                .consistent_read(consistent && index.is_none())
                .set_exclusive_start_key(start.take());
            q = match sk_prefix {
                Some(prefix) => q
                    .key_condition_expression("#k = :v AND begins_with(#s, :p)")
                    .expression_attribute_names("#s", sort_key)
                    .expression_attribute_values(":p", AttributeValue::S(prefix.to_owned())),
                None => q.key_condition_expression("#k = :v"),
            };
            if let Some(index) = index {
                q = q.index_name(index);
            }
            let output = q.send().await.map_err(|e| store_error(&format!("Query {}", self.table), e))?;
            items.extend(output.items.unwrap_or_default());
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(items)
    }

    /// Every item in `by-kind` of a kind: the live resources, and items of the old layout
    /// not yet relaid ([`ResourceItem::relaid`]).
    pub async fn list(&self, kind: ResourceKind) -> Result<Vec<ResourceItem>, DataError> {
        self.decode_all(self.query_all(Some(BY_KIND), "gsi1pk", kind_key(kind), None).await?)
    }

    fn decode_all(&self, items: Vec<Item>) -> Result<Vec<ResourceItem>, DataError> {
        items
            .into_iter()
            .map(|i| serde_dynamo::from_item(i).map_err(|e| item_error(&self.table, e)))
            .collect()
    }

    async fn get(&self, kind: ResourceKind, key: &str) -> Result<Option<ResourceItem>, DataError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(resource_pk(kind, key)))
            .key("sk", AttributeValue::S("resource".into()))
            .send()
            .await
            .map_err(|e| store_error(&format!("GetItem {}", self.table), e))?;
        output.item.map(|i| serde_dynamo::from_item(i).map_err(|e| item_error(key, e))).transpose()
    }

    /// Which of `keys` name a resource of `kind` that the table holds as vanished: a sync
    /// that sees them again says they came back. One GetItem per key, a few at a time (the
    /// sparse `by-kind` index no longer lists vanished resources; a sync sees few new keys).
    #[tracing::instrument(name = "pages", skip_all, fields(pages = "came back"))]
    pub async fn vanished_among(
        &self,
        kind: ResourceKind,
        keys: Vec<String>,
    ) -> Result<HashSet<String>, DataError> {
        let found: Vec<Result<Option<String>, DataError>> =
            futures_util::stream::iter(keys.into_iter().map(|key| async move {
                let item = self.get(kind, &key).await?;
                Ok(item.filter(|r| r.vanished_at.is_some()).map(|_| key))
            }))
            .buffer_unordered(16)
            .collect()
            .await;
        found.into_iter().filter_map(Result::transpose).collect()
    }

    /// Every live index with the id `index_id`, one per account and region: a Query on
    /// `by-kind` for the key prefix `{index_id}#`, and the item of the old layout (keyed by
    /// the id alone) until a sync has relaid it.
    async fn indexes_with_id(&self, index_id: &str) -> Result<Vec<ResourceItem>, DataError> {
        let prefix = format!("{index_id}#");
        let kind = kind_key(ResourceKind::Indexes);
        let (current, old) = tokio::try_join!(
            self.query_all(Some(BY_KIND), "gsi1pk", kind, Some(&prefix)),
            self.get(ResourceKind::Indexes, index_id)
        )?;
        let mut items = self.decode_all(current)?;
        items.retain(|r| r.index.as_ref().is_some_and(|x| x.index_id == index_id));
        if let Some(old) =
            old.filter(|r| r.moved_to.is_none() && r.vanished_at.is_none() && r.index.is_some())
            && !items.iter().any(|r| r.key() == old.key())
        {
            items.push(old);
        }
        items.sort_by(|a, b| match (&a.index, &b.index) {
            (Some(a), Some(b)) => polo_core::model::index_order(a, b),
            _ => std::cmp::Ordering::Equal,
        });
        Ok(items)
    }

    /// The changes of one resource, oldest first.
    pub async fn history(&self, kind: ResourceKind, key: &str) -> Result<Vec<Change>, DataError> {
        self.history_at(&resource_pk(kind, key)).await
    }

    /// Every change seen in `[start, end)`, oldest first: one Query on `by-day` per UTC day
    /// the window touches and shard (a week is 56 or 64 Queries, 8 at a time), never a Scan.
    #[tracing::instrument(name = "pages", skip_all, fields(pages = "by-day"))]
    pub async fn changes_between(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<Change>, DataError> {
        let (start, end) = (start.to_offset(time::UtcOffset::UTC), end.to_offset(time::UtcOffset::UTC));
        let mut days = Vec::new();
        let mut day = start.date();
        while end > start && day <= (end - time::Duration::NANOSECOND).date() {
            days.extend((0..DAY_SHARDS).map(|shard| day_key(day, shard)));
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        let pages: Vec<Result<Vec<Item>, DataError>> = futures_util::stream::iter(
            days.into_iter()
                .map(|day| async move { self.query_all(Some(BY_DAY), "gsi3pk", &day, None).await }),
        )
        .buffered(8)
        .collect()
        .await;
        let mut changes = Vec::new();
        for page in pages {
            for item in page? {
                let history: HistoryItem =
                    serde_dynamo::from_item(item).map_err(|e| item_error(&self.table, e))?;
                if history.change.at >= start && history.change.at < end {
                    changes.push(history.change);
                }
            }
        }
        changes.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        Ok(changes)
    }

    /// Moves items of the old layout to the current one ([`ResourceItem::relaid`]): an index
    /// keyed by its id alone gets its history copied under its new key, its body written
    /// there, and the old body replaced by a marker that expires at once (PutItem only: no
    /// DeleteItem); a vanished resource still in `by-kind` leaves it and gets its TTL. The
    /// histories are read 16 at a time and everything is written 25 items a call, the
    /// markers last: each step overwrites, so a run that stops half-way is finished by the
    /// next. Returns the items written.
    #[tracing::instrument(name = "pages", skip_all, fields(pages = "relay"))]
    pub async fn relay(&self, old: Vec<ResourceItem>, now: OffsetDateTime) -> Result<usize, DataError> {
        let moves: Vec<(ResourceItem, ResourceItem)> =
            old.into_iter().filter_map(|item| item.relaid().map(|relaid| (item, relaid))).collect();
        if moves.is_empty() {
            return Ok(0);
        }
        let histories: Vec<Result<Vec<Change>, DataError>> =
            futures_util::stream::iter(moves.iter().map(|(item, relaid)| async move {
                if relaid.pk == item.pk { Ok(Vec::new()) } else { self.history_at(&item.pk).await }
            }))
            .buffered(16)
            .collect()
            .await;
        let mut writes = Vec::new();
        let mut markers = Vec::new();
        for ((item, mut relaid), history) in moves.into_iter().zip(histories) {
            for (n, change) in history?.into_iter().enumerate() {
                let copy = HistoryItem::new(change, n + 1, self.retention.history_days);
                writes.push(serde_dynamo::to_item(&copy).map_err(|e| item_error(&copy.pk, e))?);
            }
            relaid.ttl = relaid.vanished_at.map(|at| expiry(at, self.retention.vanished_days));
            writes.push(serde_dynamo::to_item(&relaid).map_err(|e| item_error(&relaid.pk, e))?);
            if relaid.pk != item.pk {
                let marker = ResourceItem {
                    pk: item.pk.clone(),
                    sk: item.sk.clone(),
                    gsi1pk: None,
                    gsi1sk: None,
                    gsi2pk: None,
                    gsi2sk: None,
                    updated_at: now,
                    vanished_at: None,
                    ttl: Some(now.unix_timestamp()),
                    moved_to: Some(relaid.pk.clone()),
                    instance: None,
                    index: None,
                };
                markers.push(serde_dynamo::to_item(&marker).map_err(|e| item_error(&marker.pk, e))?);
            }
        }
        tracing::info!(table = %self.table, items = writes.len(), markers = markers.len(), "relaying items of the old layout");
        // Markers only once every copy is written: a batch is not atomic.
        let written = self.write_items(writes).await?;
        Ok(written + self.write_items(markers).await?)
    }

    /// The one-off upgrade of a table written before the `by-day` index and TTLs: every
    /// history item without `gsi3pk` gets it (and a `ttl` if it has none), every vanished
    /// resource without a `ttl` gets one. Items of the old index layout are left to the sync,
    /// which relays them ([`ResourceTable::relay`]). This is the only Scan of the table: an
    /// operator runs it once, by hand (`polo table-upgrade`), never a page, report or sync.
    /// Each item is changed by a conditional UpdateItem (never a put of what the Scan read),
    /// so a sync writing at the same time is never undone. With `dry_run`, it counts and
    /// writes nothing.
    pub async fn upgrade(&self, dry_run: bool) -> Result<Upgrade, DataError> {
        let mut done = Upgrade::default();
        let mut from: Option<Item> = None;
        loop {
            let output = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(
                    "(begins_with(sk, :h) AND attribute_not_exists(gsi3pk)) \
                     OR (sk = :r AND attribute_exists(vanished_at) AND attribute_not_exists(#t))",
                )
                .expression_attribute_names("#t", "ttl")
                .expression_attribute_values(":h", AttributeValue::S("history#".into()))
                .expression_attribute_values(":r", AttributeValue::S("resource".into()))
                .set_exclusive_start_key(from.take())
                .send()
                .await
                .map_err(|e| store_error(&format!("Scan {}", self.table), e))?;
            done.scanned += usize::try_from(output.scanned_count).unwrap_or(0);
            for item in output.items.unwrap_or_default() {
                let is_history =
                    matches!(item.get("sk"), Some(AttributeValue::S(sk)) if sk.starts_with("history#"));
                let update = if is_history {
                    let old: HistoryItem =
                        serde_dynamo::from_item(item).map_err(|e| item_error(&self.table, e))?;
                    let key = old.change.key().into_owned();
                    if old.pk != resource_pk(old.change.resource, &key) {
                        continue; // under an index's old key: the sync copies it when it relays the index
                    }
                    let n = old.sk.rsplit('#').next().and_then(|n| n.parse().ok()).unwrap_or(1);
                    let new = HistoryItem::new(old.change, n, self.retention.history_days);
                    done.history += 1;
                    let s = |v: Option<String>| AttributeValue::S(v.unwrap_or_default());
                    self.client
                        .update_item()
                        .key("pk", AttributeValue::S(old.pk))
                        .key("sk", AttributeValue::S(old.sk))
                        .update_expression("SET gsi3pk = :p, gsi3sk = :s, #t = if_not_exists(#t, :t)")
                        .condition_expression("attribute_exists(pk) AND attribute_not_exists(gsi3pk)")
                        .expression_attribute_values(":p", s(new.gsi3pk))
                        .expression_attribute_values(":s", s(new.gsi3sk))
                        .expression_attribute_values(
                            ":t",
                            AttributeValue::N(new.ttl.unwrap_or_default().to_string()),
                        )
                } else {
                    let r: ResourceItem =
                        serde_dynamo::from_item(item).map_err(|e| item_error(&self.table, e))?;
                    let Some(at) = r.vanished_at.filter(|_| r.relaid().is_none()) else {
                        continue; // the sync relays it, with its TTL
                    };
                    done.vanished += 1;
                    let ttl = expiry(at, self.retention.vanished_days);
                    self.client
                        .update_item()
                        .key("pk", AttributeValue::S(r.pk))
                        .key("sk", AttributeValue::S(r.sk))
                        .update_expression("SET #t = :t")
                        // A sync may have revived it since the Scan: then it is left alone.
                        .condition_expression("attribute_exists(vanished_at) AND attribute_not_exists(#t)")
                        .expression_attribute_values(":t", AttributeValue::N(ttl.to_string()))
                };
                if dry_run {
                    continue;
                }
                let result =
                    update.table_name(&self.table).expression_attribute_names("#t", "ttl").send().await;
                match result {
                    Ok(_) => {}
                    Err(e) if e.as_service_error().is_some_and(aws_sdk_dynamodb::operation::update_item::UpdateItemError::is_conditional_check_failed_exception) => {
                        done.skipped += 1;
                        if is_history { done.history -= 1 } else { done.vanished -= 1 }
                    }
                    Err(e) => return Err(store_error(&format!("UpdateItem {}", self.table), e)),
                }
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => from = Some(key),
                _ => break,
            }
        }
        Ok(done)
    }

    /// The changes under the partition `pk`, oldest first.
    async fn history_at(&self, pk: &str) -> Result<Vec<Change>, DataError> {
        let items = self.query_all(None, "pk", pk, Some("history#")).await?;
        items
            .into_iter()
            .map(|i| {
                serde_dynamo::from_item::<_, HistoryItem>(i).map(|h| h.change).map_err(|e| item_error(pk, e))
            })
            .collect()
    }

    async fn meta(&self) -> Result<Option<MetaItem>, DataError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S("meta".into()))
            .key("sk", AttributeValue::S("accounts".into()))
            .send()
            .await
            .map_err(|e| store_error(&format!("GetItem {}", self.table), e))?;
        output.item.map(|i| serde_dynamo::from_item(i).map_err(|e| item_error("meta", e))).transpose()
    }
}

/// The same traits as [`polo_core::ports::LocalDataService`], over the resource table.
#[derive(Clone, Debug)]
pub struct DynamoDataService {
    table: Arc<ResourceTable>,
}

impl DynamoDataService {
    /// Reads `table`.
    pub fn new(table: ResourceTable) -> Self {
        DynamoDataService { table: Arc::new(table) }
    }
}

#[async_trait]
impl FleetReader for DynamoDataService {
    /// Every live resource, by Query on `by-kind` (all pages), and the accounts' status.
    async fn fleet(&self) -> Result<Arc<Fleet>, DataError> {
        let (instances, indexes, meta) = tokio::try_join!(
            self.table.list(ResourceKind::Instances),
            self.table.list(ResourceKind::Indexes),
            self.table.meta()
        )?;
        let instances = live(instances).filter_map(|r| r.instance).collect();
        let indexes = live(indexes).filter_map(|r| r.index).collect();
        let (generated_at, price_table_version, accounts) = meta.map_or_else(
            || (OffsetDateTime::UNIX_EPOCH, String::new(), Vec::new()),
            |m| (m.generated_at, m.price_table_version, m.accounts),
        );
        Ok(Arc::new(Fleet::new(Everything {
            generated_at,
            price_table_version,
            accounts,
            instances,
            indexes,
            cost_facts: polo_core::model::CostFacts::default(),
            history: Vec::new(),
            findings: Vec::new(),
        })))
    }
}

#[async_trait]
impl ChangeReader for DynamoDataService {
    async fn changes_between(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Result<Vec<Change>, DataError> {
        self.table.changes_between(start, end).await
    }
}

#[async_trait]
impl ResourceReader for DynamoDataService {
    async fn instance(&self, id: &str) -> Result<Option<Instance>, DataError> {
        Ok(self
            .table
            .get(ResourceKind::Instances, id)
            .await?
            .filter(|r| r.vanished_at.is_none())
            .and_then(|r| r.instance))
    }

    async fn indexes(&self, index_id: &str) -> Result<Vec<Index>, DataError> {
        let items = self.table.indexes_with_id(index_id).await?;
        Ok(items.into_iter().filter(|r| r.vanished_at.is_none()).filter_map(|r| r.index).collect())
    }

    /// The live instances tagged with the index's id (`by-index`) that resolve to it among
    /// the scopes holding the id.
    async fn instances_of_index(&self, index: &Index) -> Result<Vec<Instance>, DataError> {
        let (items, scopes) = tokio::try_join!(
            self.table.query_all(Some(BY_INDEX), "gsi2pk", &index.index_id, None),
            self.indexes(&index.index_id)
        )?;
        let candidates: Vec<&Index> = scopes.iter().collect();
        let mut instances = Vec::with_capacity(items.len());
        for item in items {
            let r: ResourceItem =
                serde_dynamo::from_item(item).map_err(|e| item_error(&index.index_id, e))?;
            if r.vanished_at.is_some() {
                continue;
            }
            let serves =
                |i: &Instance| resolve(&candidates, &i.account, &i.region).is_some_and(|x| x == index);
            instances.extend(r.instance.filter(serves));
        }
        instances.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(instances)
    }

    async fn history(&self, kind: ResourceKind, key: &str) -> Result<Vec<Change>, DataError> {
        self.table.history(kind, key).await
    }
}

/// The live resources of a listing of `by-kind`: an item of the old layout may still be a
/// vanished one, or an index under its old key beside its new one (a relay stopped
/// half-way), which the new one wins.
pub fn live(items: Vec<ResourceItem>) -> impl Iterator<Item = ResourceItem> {
    let current: HashSet<String> =
        items.iter().filter(|r| r.relaid().is_none()).filter_map(ResourceItem::key).collect();
    items.into_iter().filter(move |r| {
        r.vanished_at.is_none()
            && r.moved_to.is_none()
            && (r.relaid().is_none() || !r.key().is_some_and(|k| current.contains(&k)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use polo_core::model::{AccountKind, DocumentStatus, SyncStatus};

    /// An item's size as DynamoDB counts it: each attribute's name and value in UTF-8 bytes,
    /// numbers about one byte per two digits plus one, lists and maps 3 bytes plus 1 a member.
    fn item_size(item: &Item) -> usize {
        fn value(v: &AttributeValue) -> usize {
            match v {
                AttributeValue::S(s) => s.len(),
                AttributeValue::N(n) => n.len().div_ceil(2) + 1,
                AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
                AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + value(v)).sum::<usize>(),
                AttributeValue::M(m) => 3 + m.iter().map(|(k, v)| 1 + k.len() + value(v)).sum::<usize>(),
                other => panic!("not used by the meta item: {other:?}"),
            }
        }
        item.iter().map(|(k, v)| k.len() + value(v)).sum()
    }

    #[test]
    fn a_key_twice_in_one_call_is_refused_before_dynamodb_refuses_it() {
        let item = |pk: &str, sk: &str| -> Item {
            [("pk".to_owned(), AttributeValue::S(pk.into())), ("sk".to_owned(), AttributeValue::S(sk.into()))]
                .into()
        };
        assert_eq!(repeated_key(&[item("index#a", "resource"), item("index#a", "history#1")]), None);
        assert_eq!(
            repeated_key(&[
                item("index#a", "resource"),
                item("index#b", "resource"),
                item("index#a", "resource")
            ]),
            Some(("index#a".into(), "resource".into()))
        );
    }

    #[test]
    fn only_conflicts_and_throttling_are_retried() {
        assert!(retryable_reasons(["None", "TransactionConflict"].into_iter()));
        assert!(retryable_reasons(["ThrottlingError", "None"].into_iter()));
        assert!(
            !retryable_reasons(["TransactionConflict", "ValidationError"].into_iter()),
            "a validation error never passes"
        );
        assert!(!retryable_reasons(["ConditionalCheckFailed"].into_iter()));
        assert!(!retryable_reasons(["ItemCollectionSizeLimitExceeded"].into_iter()));
        assert!(!retryable_reasons(["None", "None"].into_iter()), "no reason given: nothing to wait for");
    }

    #[test]
    fn the_status_item_fits_at_1208_failing_scopes() {
        // 100 accounts: 8 in 13 regions, 92 in 12 = 1,208 scopes, each pull failing with a
        // long SDK error text.
        let long = "dispatch failure: io error: error trying to connect: tcp connect error: Connection refused (os error 111) — ".repeat(6);
        let accounts: Vec<AccountSync> = (0..100)
            .map(|a| AccountSync {
                name: format!("account-{a:03}"),
                id: format!("{:012}", 100_000_000_000u64 + a),
                kind: AccountKind::Prod,
                documents: (0..if a < 8 { 13 } else { 12 })
                    .flat_map(|r| {
                        [ResourceKind::Instances, ResourceKind::Indexes].map(|resource| DocumentStatus {
                            resource,
                            region: format!("region-{r:02}"),
                            synced_at: Some(time::macros::datetime!(2026-11-24 12:00 UTC)),
                            status: SyncStatus::Error,
                            error: Some(format!("{resource:?} in region-{r:02}: {long}")),
                        })
                    })
                    .collect(),
            })
            .collect();
        assert_eq!(accounts.iter().map(|a| a.documents.len() / 2).sum::<usize>(), 1_208);
        let whole = serde_json::to_vec(&accounts).unwrap().len();
        assert!(whole > 1_000_000, "unbounded, it would be {whole} bytes");
        let meta = MetaItem {
            pk: "meta".into(),
            sk: "accounts".into(),
            generated_at: time::macros::datetime!(2026-11-24 12:00 UTC),
            price_table_version: "2026-11".into(),
            accounts: bounded_accounts(&accounts),
        };
        let item: Item = serde_dynamo::to_item(&meta).unwrap();
        let size = item_size(&item);
        println!("the status item at 1,208 failing scopes: {size} bytes");
        assert!(size < 400 * 1024, "{size} bytes: over DynamoDB's item limit");
        let kept = meta.accounts[0].documents[0].error.as_deref().unwrap();
        assert!(kept.starts_with("Instances in region-00: dispatch") && kept.ends_with('…'), "{kept}");
        // A few failures keep their whole text.
        let few = bounded_accounts(
            &accounts[..1]
                .iter()
                .map(|a| AccountSync { documents: a.documents[..2].to_vec(), ..a.clone() })
                .collect::<Vec<_>>(),
        );
        assert!(!few[0].documents[0].error.as_deref().unwrap().ends_with('…'));
    }
}
