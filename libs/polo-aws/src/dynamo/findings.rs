//! The Cop's findings in the report table: `pk = "finding"`, `sk` = the finding's id, its
//! fields, and for a resolved finding a `ttl` 30 days after it was resolved (the history of
//! what was fixed stays a month). A run holds the lease `cop` of the same table
//! ([`ResourceTable::acquire_lease`] over this table), so two runs never judge and notify at
//! once.

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
#[derive(Clone, Debug)]
pub struct FindingTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// The same table, for its batch writes and leases.
    writer: ResourceTable,
}

impl FindingTable {
    /// The findings of the report table `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        let table = table.into();
        FindingTable { writer: ResourceTable::new(client.clone(), &table), client, table }
    }
}

#[async_trait]
impl FindingStore for FindingTable {
    async fn all(&self) -> Result<Vec<Finding>, DataError> {
        let items = self.writer.query_all(None, "pk", "finding", None).await?;
        items
            .into_iter()
            .map(|i| {
                serde_dynamo::from_item::<_, FindingItem>(i)
                    .map(|f| f.finding)
                    .map_err(|e| item_error(&self.table, e))
            })
            .collect()
    }

    async fn save(&self, findings: &[Finding]) -> Result<(), DataError> {
        let items = findings
            .iter()
            .map(|f| {
                let item = FindingItem {
                    pk: "finding".into(),
                    sk: f.id.clone(),
                    ttl: f.resolved_at.map(|t| (t + KEEP_RESOLVED).unix_timestamp()),
                    finding: f.clone(),
                };
                serde_dynamo::to_item(item).map_err(|e| item_error(&f.id, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.writer.write_items(items).await.map(|_| ())
    }

    async fn mark_notified(&self, ids: &[String], at: OffsetDateTime) -> Result<(), DataError> {
        for id in ids {
            self.client
                .update_item()
                .table_name(&self.table)
                .key("pk", AttributeValue::S("finding".into()))
                .key("sk", AttributeValue::S(id.clone()))
                .update_expression("SET last_notified = :at")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":at", AttributeValue::S(polo_core::text::rfc3339(at)))
                .send()
                .await
                .map_err(|e| store_error(&format!("UpdateItem {}", self.table), e))?;
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
