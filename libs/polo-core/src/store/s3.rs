use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;

use super::{SNAPSHOT_KEY, SyncStore, document_key};
use crate::data::DataError;
use crate::model::ResourceKind;

/// An S3 client for `config`. Path-style addressing when an endpoint is configured
/// (`AWS_ENDPOINT_URL`: S3-compatible stores and emulators want it), virtual-hosted otherwise.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    let builder = aws_sdk_s3::config::Builder::from(config).force_path_style(config.endpoint_url().is_some());
    aws_sdk_s3::Client::from_conf(builder.build())
}

/// Sync documents and the snapshot in the data bucket (`DATA_BUCKET_NAME`).
#[derive(Clone, Debug)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    /// The store over `bucket`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> Self {
        S3Store { client, bucket: bucket.into() }
    }

    /// The object at `key`, if it exists.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, DataError> {
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(output) => {
                let bytes = output
                    .body
                    .collect()
                    .await
                    .map_err(|e| DataError::Store(format!("s3://{}/{key}: {e}", self.bucket)))?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => Ok(None),
            Err(e) => {
                Err(DataError::Store(format!("s3://{}/{key}: {}", self.bucket, DisplayErrorContext(&e))))
            }
        }
    }

    /// Replaces the object at `key`.
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), DataError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| {
                DataError::Store(format!("s3://{}/{key}: {}", self.bucket, DisplayErrorContext(&e)))
            })?;
        Ok(())
    }
}

#[async_trait]
impl SyncStore for S3Store {
    async fn read_document(
        &self,
        account: &str,
        region: &str,
        resource: ResourceKind,
    ) -> Result<Option<Vec<u8>>, DataError> {
        self.get(&document_key(account, region, resource)).await
    }

    async fn write_document(
        &self,
        account: &str,
        region: &str,
        resource: ResourceKind,
        bytes: Vec<u8>,
    ) -> Result<(), DataError> {
        self.put(&document_key(account, region, resource), bytes).await
    }

    async fn read_snapshot(&self) -> Result<Option<Vec<u8>>, DataError> {
        self.get(SNAPSHOT_KEY).await
    }

    async fn write_snapshot(&self, bytes: Vec<u8>) -> Result<(), DataError> {
        self.put(SNAPSHOT_KEY, bytes).await
    }
}
