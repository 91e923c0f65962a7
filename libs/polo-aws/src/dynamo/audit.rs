//! The audit log in the report table: `pk = "audit"`, `sk` = the instant, the finding and
//! the action (`{at in nanoseconds}#{finding_id}#{action}#{by}`), the entry's fields, and a `ttl` 400 days
//! on. People act a few times a day, so one partition holds it; pages read it whole.

use async_trait::async_trait;
use polo_core::cop::AuditEntry;
use polo_core::ports::{AuditStore, DataError, latest_first};
use serde::{Deserialize, Serialize};

use super::resources::{ResourceTable, item_error};

/// How long an entry is kept.
const KEEP: time::Duration = time::Duration::days(400);

#[derive(Serialize, Deserialize)]
struct AuditItem {
    pk: String,
    sk: String,
    ttl: i64,
    #[serde(flatten)]
    entry: AuditEntry,
}

/// The audit log of the report table.
#[derive(Debug)]
pub struct AuditTable {
    table: ResourceTable,
    name: String,
}

impl AuditTable {
    /// The log in the report table `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: &str) -> AuditTable {
        AuditTable { table: ResourceTable::new(client, table), name: table.to_owned() }
    }
}

#[async_trait]
impl AuditStore for AuditTable {
    async fn append(&self, entry: &AuditEntry) -> Result<(), DataError> {
        // To the nanosecond: the same action twice in a second is two entries.
        let at = entry.at.unix_timestamp_nanos();
        let item = AuditItem {
            pk: "audit".into(),
            sk: format!("{at:020}#{}#{}#{}", entry.finding_id, entry.action, entry.by),
            ttl: (entry.at + KEEP).unix_timestamp(),
            entry: entry.clone(),
        };
        self.table.put_one(&item).await
    }

    async fn entries(&self) -> Result<Vec<AuditEntry>, DataError> {
        let items = self.table.query_pages(None, "pk", "audit", None, true).await?;
        let mut entries = items
            .into_iter()
            .map(|i| {
                serde_dynamo::from_item::<_, AuditItem>(i)
                    .map(|a| a.entry)
                    .map_err(|e| item_error(&self.name, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        latest_first(&mut entries);
        Ok(entries)
    }
}
