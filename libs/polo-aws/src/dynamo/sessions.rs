//! Browser sessions in the session table (`DYNAMODB_SESSION_TABLE_NAME`): `pk = "session"`,
//! `sk` = the session id (the SHA-256 of the browser's secret), the session's fields, and
//! `ttl` (its absolute end, which DynamoDB deletes within days of; readers hide it from
//! `expires_at` on). A revoked session gets `revoked_at` and is hidden at once; the table
//! keeps it until its TTL, so who signed out when can still be read.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use polo_core::ports::{DataError, Session, SessionStore, newest_sessions_first};

use super::resources::{ResourceTable, item_error, store_error};

/// The one partition of every session: a company has hundreds, not millions.
const PK: &str = "session";

/// One session as the table holds it.
#[derive(Serialize, Deserialize)]
struct SessionItem {
    pk: String,
    sk: String,
    ttl: i64,
    #[serde(default, with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    revoked_at: Option<OffsetDateTime>,
    #[serde(flatten)]
    session: Session,
}

impl SessionItem {
    fn live(self, now: OffsetDateTime) -> Option<Session> {
        (self.revoked_at.is_none() && self.session.expires_at > now).then_some(self.session)
    }
}

/// The session table.
#[derive(Clone, Debug)]
pub struct SessionTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// The same table, for its paged queries and puts.
    reader: ResourceTable,
}

impl SessionTable {
    /// The table named `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        let table = table.into();
        SessionTable { reader: ResourceTable::new(client.clone(), &table), client, table }
    }

    /// `SET` `expression` on the live session `id`; `false` when there is none (a
    /// conditional check, so a revoked or expired-and-deleted session is never revived).
    async fn update_live(
        &self,
        id: &str,
        expression: &str,
        values: &[(&str, AttributeValue)],
    ) -> Result<bool, DataError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(PK.to_owned()))
            .key("sk", AttributeValue::S(id.to_owned()))
            .update_expression(expression)
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(revoked_at)");
        for (name, value) in values {
            update = update.expression_attribute_values(*name, value.clone());
        }
        match update.send().await {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(UpdateItemError::is_conditional_check_failed_exception) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error(&format!("UpdateItem {}", self.table), e)),
        }
    }
}

fn at(value: OffsetDateTime) -> AttributeValue {
    AttributeValue::S(polo_core::text::rfc3339(value))
}

#[async_trait]
impl SessionStore for SessionTable {
    async fn create(&self, session: &Session) -> Result<(), DataError> {
        let item = SessionItem {
            pk: PK.to_owned(),
            sk: session.id.clone(),
            ttl: session.expires_at.unix_timestamp(),
            revoked_at: None,
            session: session.clone(),
        };
        self.reader.put_one(&item).await
    }

    /// Strongly consistent: a session revoked a moment ago is refused on the next request.
    async fn get(&self, id: &str, now: OffsetDateTime) -> Result<Option<Session>, DataError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(PK.to_owned()))
            .key("sk", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error(&format!("GetItem {}", self.table), e))?;
        let Some(item) = output.item else { return Ok(None) };
        let item: SessionItem = serde_dynamo::from_item(item).map_err(|e| item_error(&self.table, e))?;
        Ok(item.live(now))
    }

    async fn touch(&self, id: &str, when: OffsetDateTime) -> Result<(), DataError> {
        self.update_live(id, "SET last_seen = :at", &[(":at", at(when))]).await.map(drop)
    }

    async fn revoke(&self, id: &str, now: OffsetDateTime) -> Result<bool, DataError> {
        if self.get(id, now).await?.is_none() {
            return Ok(false);
        }
        self.update_live(id, "SET revoked_at = :at", &[(":at", at(now))]).await
    }

    async fn list(&self, now: OffsetDateTime) -> Result<Vec<Session>, DataError> {
        let items = self.reader.query_pages(None, "pk", PK, None, true).await?;
        let mut live = Vec::new();
        for item in items {
            let item: SessionItem = serde_dynamo::from_item(item).map_err(|e| item_error(&self.table, e))?;
            live.extend(item.live(now));
        }
        newest_sessions_first(&mut live);
        Ok(live)
    }
}
