//! Downloads too large for one Lambda answer (6 MB), parked in the data bucket under
//! `exports/` and handed out by a short-lived presigned URL.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use polo_core::ports::{DataError, ExportStore};
use time::OffsetDateTime;

/// Exports in the data bucket, `exports/{time}-{n}/{filename}` (the bucket's lifecycle rule
/// deletes them after a day), fetched by presigned GET.
pub struct S3Exports {
    client: aws_sdk_s3::Client,
    bucket: String,
    expires: Duration,
    counter: AtomicU64,
}

impl S3Exports {
    /// Exports in `bucket`, their URLs valid for `expires`.
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, expires: Duration) -> Self {
        S3Exports { client, bucket: bucket.into(), expires, counter: AtomicU64::new(0) }
    }
}

#[async_trait]
impl ExportStore for S3Exports {
    async fn publish(
        &self,
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
        now: OffsetDateTime,
    ) -> Result<String, DataError> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let key = format!("exports/{}-{n}/{filename}", now.unix_timestamp_nanos());
        let fail = |e: &dyn std::fmt::Display| DataError::Store(format!("s3://{}/{key}: {e}", self.bucket));
        let disposition = format!("attachment; filename=\"{filename}\"");
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(content_type)
            .content_disposition(&disposition)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| fail(&DisplayErrorContext(&e)))?;
        let presigning = PresigningConfig::expires_in(self.expires).map_err(|e| fail(&e))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .presigned(presigning)
            .await
            .map_err(|e| fail(&DisplayErrorContext(&e)))?;
        Ok(request.uri().to_owned())
    }
}
