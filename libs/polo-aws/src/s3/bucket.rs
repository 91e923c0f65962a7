//! The data bucket: sync documents, the snapshot (written only when newer) and any object by key.

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;

use polo_core::model::ResourceKind;
use polo_core::ports::{DataError, SNAPSHOT_BINARY_KEY, SNAPSHOT_KEY, SyncStore, document_key};

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
            Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 403 => {
                Err(DataError::Store(format!(
                    "s3://{}/{key}: access denied (a missing key also answers 403 to a role without s3:ListBucket on the bucket)",
                    self.bucket
                )))
            }
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

/// The object metadata key holding a snapshot's `generated_at` (RFC 3339).
const GENERATED_AT_META: &str = "generated-at";

impl S3Store {
    /// Replaces the snapshot, in both layouts (the binary one route functions read first,
    /// then the JSON one, whose write is the event the Cop runs on), only if the stored one was
    /// generated before `generated_at`: a late or retried run never rolls the snapshot back.
    /// Returns whether it was written.
    pub async fn write_snapshot_if_newer(
        &self,
        binary: Vec<u8>,
        json: Vec<u8>,
        generated_at: time::OffsetDateTime,
    ) -> Result<bool, DataError> {
        if !self.write_if_newer(SNAPSHOT_BINARY_KEY, "application/octet-stream", binary, generated_at).await?
        {
            return Ok(false);
        }
        self.write_if_newer(SNAPSHOT_KEY, "application/json", json, generated_at).await
    }

    /// Replaces the object at `key` only if the stored one was generated before
    /// `generated_at`. The put is conditional on the version just looked at (`If-Match`, or
    /// `If-None-Match: *` when there is none), so a writer in between is noticed and compared
    /// again. Returns whether it was written.
    async fn write_if_newer(
        &self,
        key: &str,
        content_type: &str,
        bytes: Vec<u8>,
        generated_at: time::OffsetDateTime,
    ) -> Result<bool, DataError> {
        let ours = polo_core::text::rfc3339(generated_at);
        for _ in 0..3 {
            let head = self.client.head_object().bucket(&self.bucket).key(key).send().await;
            let (etag, stored_at) = match head {
                Ok(h) => {
                    let stored = h.metadata().and_then(|m| m.get(GENERATED_AT_META)).and_then(|t| {
                        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
                    });
                    (h.e_tag().map(str::to_owned), stored)
                }
                Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 404 => (None, None),
                Err(e) => {
                    return Err(DataError::Store(format!(
                        "s3://{}/{key}: {}",
                        self.bucket,
                        DisplayErrorContext(&e)
                    )));
                }
            };
            if let Some(stored_at) = stored_at
                && stored_at >= generated_at
            {
                tracing::warn!(key, stored = %polo_core::text::rfc3339(stored_at), ours = %ours, "a newer snapshot is stored; not replacing it");
                return Ok(false);
            }
            let mut put = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(key)
                .content_type(content_type)
                .metadata(GENERATED_AT_META, &ours)
                .body(ByteStream::from(bytes.clone()));
            put = match etag {
                Some(etag) => put.if_match(etag),
                None => put.if_none_match("*"),
            };
            match put.send().await {
                Ok(_) => return Ok(true),
                Err(SdkError::ServiceError(e)) if matches!(e.raw().status().as_u16(), 404 | 409 | 412) => {
                    tracing::warn!("the snapshot changed while writing; comparing again");
                }
                Err(e) => {
                    return Err(DataError::Store(format!(
                        "s3://{}/{key}: {}",
                        self.bucket,
                        DisplayErrorContext(&e)
                    )));
                }
            }
        }
        Err(DataError::Store(format!("s3://{}/{key}: kept changing while being written", self.bucket)))
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
