use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_s3::error::DisplayErrorContext;

use super::{DataError, FleetReader, parse_snapshot};
use crate::model::Fleet;

/// The production list reader: the combined snapshot in S3, loaded once per container and
/// revalidated by ETag (a conditional GET answered 304 costs no transfer) at most every
/// `revalidate_after`. If S3 fails after a successful load, the loaded snapshot keeps serving.
pub struct S3SnapshotReader {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    revalidate_after: Duration,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

struct Cached {
    etag: Option<String>,
    checked: Instant,
    fleet: Arc<Fleet>,
}

impl S3SnapshotReader {
    /// Reads `s3://{bucket}/{key}`.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str, key: &str, revalidate_after: Duration) -> Self {
        S3SnapshotReader {
            client,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            revalidate_after,
            cached: tokio::sync::Mutex::new(None),
        }
    }
}

#[async_trait]
impl FleetReader for S3SnapshotReader {
    async fn fleet(&self) -> Result<Arc<Fleet>, DataError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| c.checked.elapsed() < self.revalidate_after) {
            return Ok(Arc::clone(&c.fleet));
        }
        let etag = cached.as_ref().and_then(|c| c.etag.clone());
        let request = self.client.get_object().bucket(&self.bucket).key(&self.key).set_if_none_match(etag);
        let source = format!("s3://{}/{}", self.bucket, self.key);
        match request.send().await {
            Ok(output) => {
                let etag = output.e_tag.clone();
                let bytes =
                    output.body.collect().await.map_err(|e| DataError::Store(format!("{source}: {e}")))?;
                let text = std::str::from_utf8(&bytes.into_bytes())
                    .map_err(|e| DataError::Unreadable {
                        source_name: source.clone(),
                        problem: e.to_string(),
                    })?
                    .to_owned();
                let everything = parse_snapshot(&text, &source)?;
                let fleet = Arc::new(Fleet::new(everything));
                *cached = Some(Cached { etag, checked: Instant::now(), fleet: Arc::clone(&fleet) });
                tracing::info!(source = %source, "snapshot loaded");
                Ok(fleet)
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 304) => match cached.as_mut() {
                Some(c) => {
                    c.checked = Instant::now();
                    Ok(Arc::clone(&c.fleet))
                }
                None => Err(DataError::Store(format!("{source}: 304 without a cached snapshot"))),
            },
            Err(e) => match cached.as_mut() {
                Some(c) => {
                    tracing::warn!(source = %source, error = %DisplayErrorContext(&e), "snapshot revalidation failed; serving the loaded one");
                    c.checked = Instant::now();
                    Ok(Arc::clone(&c.fleet))
                }
                None => Err(DataError::Store(format!("{source}: {}", DisplayErrorContext(&e)))),
            },
        }
    }
}
