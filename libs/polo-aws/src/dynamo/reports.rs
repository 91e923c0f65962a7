//! Reports in the report table (`DYNAMODB_REPORT_TABLE_NAME`): `pk = "report#{type}"`,
//! `sk = period`, the report's fields, and `ttl` (epoch seconds of `expires_at`, which
//! DynamoDB deletes within days of; readers hide it from `expires_at` on).

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use polo_core::ports::{DataError, ReportFilter, ReportStore, newest_first};
use polo_core::reports::{Report, ReportHead, ReportType};

use super::resources::{ResourceTable, item_error, store_error};

/// One report as the table holds it.
#[derive(Serialize, Deserialize)]
struct ReportItem {
    pk: String,
    sk: String,
    ttl: i64,
    #[serde(flatten)]
    report: Report,
}

fn report_pk(kind: ReportType) -> String {
    format!("report#{}", kind.as_str())
}

/// The report table.
#[derive(Clone, Debug)]
pub struct ReportTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// The same table, for its paged queries.
    reader: ResourceTable,
}

impl ReportTable {
    /// The table named `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        let table = table.into();
        ReportTable { reader: ResourceTable::new(client.clone(), &table), client, table }
    }

    /// The newest live report of `kind` at `now`: newest period first, a few at a time,
    /// until one is live (expired ones wait for DynamoDB's TTL).
    async fn newest_of_kind(
        &self,
        kind: ReportType,
        now: OffsetDateTime,
    ) -> Result<Option<Report>, DataError> {
        let mut start = None;
        loop {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(report_pk(kind)))
                .scan_index_forward(false)
                .limit(4)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| store_error(&format!("Query {}", self.table), e))?;
            for item in output.items.unwrap_or_default() {
                let item: ReportItem =
                    serde_dynamo::from_item(item).map_err(|e| item_error(&self.table, e))?;
                if item.report.is_live(now) {
                    return Ok(Some(item.report));
                }
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(None),
            }
        }
    }

    /// Every stored report of `kind`, live or not, without its body but for the headline (a
    /// projection: the bodies never leave the table).
    async fn heads_of_kind(&self, kind: ReportType) -> Result<Vec<ReportHead>, DataError> {
        const NAMES: [&str; 11] = [
            "type",
            "period",
            "start",
            "end",
            "generated_at",
            "expires_at",
            "final",
            "sent_at",
            "total",
            "body",
            "headline",
        ];
        let mut heads = Vec::new();
        let mut start: Option<std::collections::HashMap<String, AttributeValue>> = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(report_pk(kind)))
                .projection_expression(
                    "#type, #period, #start, #end, #generated_at, #expires_at, #final, #sent_at, #total, #body.#headline",
                )
                .set_exclusive_start_key(start.take());
            for name in NAMES {
                query = query.expression_attribute_names(format!("#{name}"), name);
            }
            let output = query.send().await.map_err(|e| store_error(&format!("Query {}", self.table), e))?;
            for mut item in output.items.unwrap_or_default() {
                // The head holds the body's headline as its own field.
                if let Some(AttributeValue::M(mut body)) = item.remove("body")
                    && let Some(headline) = body.remove("headline")
                {
                    item.insert("headline".into(), headline);
                }
                heads.push(serde_dynamo::from_item(item).map_err(|e| item_error(&self.table, e))?);
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(heads),
            }
        }
    }

    /// Every stored report of `kind`, live or not.
    async fn of_kind(&self, kind: ReportType) -> Result<Vec<Report>, DataError> {
        let items = self.reader.query_all(None, "pk", &report_pk(kind), None).await?;
        items
            .into_iter()
            .map(|i| {
                serde_dynamo::from_item::<_, ReportItem>(i)
                    .map(|r| r.report)
                    .map_err(|e| item_error(&self.table, e))
            })
            .collect()
    }
}

#[async_trait]
impl ReportStore for ReportTable {
    async fn put(&self, report: &Report) -> Result<(), DataError> {
        let item = ReportItem {
            pk: report_pk(report.kind),
            sk: report.period.clone(),
            ttl: report.expires_at.unix_timestamp(),
            report: report.clone(),
        };
        self.reader.put_one(&item).await
    }

    async fn get(
        &self,
        kind: ReportType,
        period: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Report>, DataError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(report_pk(kind)))
            .key("sk", AttributeValue::S(period.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error(&format!("GetItem {}", self.table), e))?;
        let Some(item) = output.item else { return Ok(None) };
        let item: ReportItem = serde_dynamo::from_item(item).map_err(|e| item_error(&self.table, e))?;
        Ok(Some(item.report).filter(|r| r.is_live(now)))
    }

    async fn list(&self, filter: &ReportFilter, now: OffsetDateTime) -> Result<Vec<Report>, DataError> {
        let mut reports = Vec::new();
        for kind in ReportType::ALL.into_iter().filter(|k| filter.kind.is_none_or(|f| f == *k)) {
            reports.extend(
                self.of_kind(kind).await?.into_iter().filter(|r| r.is_live(now) && filter.matches(r)),
            );
        }
        newest_first(&mut reports);
        Ok(reports)
    }

    async fn heads(&self, filter: &ReportFilter, now: OffsetDateTime) -> Result<Vec<ReportHead>, DataError> {
        let mut heads = Vec::new();
        for kind in ReportType::ALL.into_iter().filter(|k| filter.kind.is_none_or(|f| f == *k)) {
            heads.extend(
                self.heads_of_kind(kind)
                    .await?
                    .into_iter()
                    .filter(|h| h.is_live(now) && filter.period.as_ref().is_none_or(|p| *p == h.period)),
            );
        }
        heads.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| b.period.cmp(&a.period)));
        Ok(heads)
    }

    /// One short query per type, all at once: `/` asks this on every view, and a type keeps
    /// up to hundreds of reports with their bodies.
    async fn latest(&self, now: OffsetDateTime) -> Result<Vec<Report>, DataError> {
        let [daily, weekly, monthly, changes, idle] =
            ReportType::ALL.map(|kind| self.newest_of_kind(kind, now));
        let found = tokio::try_join!(daily, weekly, monthly, changes, idle)?;
        Ok([found.0, found.1, found.2, found.3, found.4].into_iter().flatten().collect())
    }

    async fn mark_sent(&self, report: &Report, at: OffsetDateTime) -> Result<(), DataError> {
        let generated = report
            .generated_at
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| DataError::Store(format!("generated_at: {e}")))?;
        // Only the version that was sent, and only once: a report replaced meanwhile, or
        // marked by another run, is left as it is (`sent_at` is absent or NULL until sent).
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(report_pk(report.kind)))
            .key("sk", AttributeValue::S(report.period.clone()))
            .update_expression("SET sent_at = :at")
            .condition_expression(
                "generated_at = :g AND (attribute_not_exists(sent_at) OR attribute_type(sent_at, :null))",
            )
            .expression_attribute_values(":at", AttributeValue::S(polo_core::text::rfc3339(at)))
            .expression_attribute_values(":g", AttributeValue::S(generated))
            .expression_attribute_values(":null", AttributeValue::S("NULL".into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
            {
                Ok(())
            }
            Err(e) => Err(store_error(&format!("UpdateItem {}", self.table), e)),
        }
    }
}
