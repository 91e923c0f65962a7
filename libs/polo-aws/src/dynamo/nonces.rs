//! Requests answered once, in the report table: `pk = "nonce"`, `sk` the key (a Slack
//! request's signature), `ttl` the end of its window. One conditional put per request: it
//! succeeds only when the key is absent or its window has passed (DynamoDB deletes expired
//! items lazily, within days), so two containers given the same request agree that one of
//! them answers it.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use polo_core::ports::{DataError, Nonces};
use time::{Duration, OffsetDateTime};

use super::resources::store_error;

/// The keys of the report table.
#[derive(Debug)]
pub struct NonceTable {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl NonceTable {
    /// The keys in the report table `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: &str) -> NonceTable {
        NonceTable { client, table: table.to_owned() }
    }
}

#[async_trait]
impl Nonces for NonceTable {
    async fn first_time(&self, key: &str, now: OffsetDateTime, window: Duration) -> Result<bool, DataError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S("nonce".into()))
            .item("sk", AttributeValue::S(key.to_owned()))
            .item("ttl", AttributeValue::N((now + window).unix_timestamp().to_string()))
            .condition_expression("attribute_not_exists(pk) OR #ttl <= :now")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":now", AttributeValue::N(now.unix_timestamp().to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error().is_some_and(PutItemError::is_conditional_check_failed_exception) =>
            {
                Ok(false)
            }
            Err(e) => Err(store_error(&format!("PutItem {}", self.table), e)),
        }
    }
}
