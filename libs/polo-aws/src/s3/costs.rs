//! The documents beside the snapshot in the data bucket: `costs.json`, `usage.json` and
//! `metrics.json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use polo_core::model::{CostStore, UsageLedger};
use polo_core::ports::{CostReader, DataError, StoredDocument, UsageReader};

/// A document in the data bucket, revalidated by ETag at most every `revalidate_after`; a
/// failed refresh keeps serving the loaded one.
pub struct S3DocumentReader<T> {
    client: aws_sdk_s3::Client,
    bucket: String,
    revalidate_after: Duration,
    cached: tokio::sync::Mutex<Option<Loaded<T>>>,
}

/// `costs.json` in the data bucket.
pub type S3CostReader = S3DocumentReader<CostStore>;

/// A loaded document: its ETag, when it was last checked, the document.
type Loaded<T> = (Option<String>, Instant, Arc<T>);

impl<T: StoredDocument> S3DocumentReader<T> {
    /// Reads `s3://{bucket}/{T::KEY}`.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str, revalidate_after: Duration) -> Self {
        S3DocumentReader {
            client,
            bucket: bucket.to_owned(),
            revalidate_after,
            cached: tokio::sync::Mutex::new(None),
        }
    }
}

#[async_trait]
impl CostReader for S3DocumentReader<CostStore> {
    async fn costs(&self) -> Result<Arc<CostStore>, DataError> {
        self.load().await
    }
}

#[async_trait]
impl UsageReader for S3DocumentReader<UsageLedger> {
    async fn usage(&self) -> Result<Arc<UsageLedger>, DataError> {
        self.load().await
    }
}

#[async_trait]
impl<T: StoredDocument> polo_core::ports::DocumentReader<T> for S3DocumentReader<T> {
    async fn read(&self) -> Result<Arc<T>, DataError> {
        self.load().await
    }
}

impl<T: StoredDocument> S3DocumentReader<T> {
    async fn load(&self) -> Result<Arc<T>, DataError> {
        let mut cached = self.cached.lock().await;
        if let Some((_, at, store)) = cached.as_ref()
            && at.elapsed() < self.revalidate_after
        {
            return Ok(Arc::clone(store));
        }
        let key = T::KEY;
        let source = format!("s3://{}/{key}", self.bucket);
        let etag = cached.as_ref().and_then(|(e, _, _)| e.clone());
        let answer =
            self.client.get_object().bucket(&self.bucket).key(key).set_if_none_match(etag).send().await;
        let fresh = match answer {
            Ok(output) => {
                let etag = output.e_tag.clone();
                let parsed = match output.body.collect().await {
                    Ok(bytes) => serde_json::from_slice::<T>(&bytes.into_bytes())
                        .map_err(|e| DataError::Unreadable {
                            source_name: source.clone(),
                            problem: e.to_string(),
                        })
                        .and_then(|s| {
                            if s.format() > T::FORMAT {
                                Err(DataError::Unreadable {
                                    source_name: source.clone(),
                                    problem: format!("format {} is newer than this build reads", s.format()),
                                })
                            } else {
                                Ok(s)
                            }
                        }),
                    Err(e) => Err(DataError::Store(format!("{source}: {e}"))),
                };
                parsed.map(|s| (etag, Arc::new(s)))
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 304) => {
                if let Some((_, at, store)) = cached.as_mut() {
                    *at = Instant::now();
                    return Ok(Arc::clone(store));
                }
                Err(DataError::Store(format!("{source}: 304 without a loaded document")))
            }
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                Ok((None, Arc::new(T::empty())))
            }
            Err(e) => Err(DataError::Store(format!("{source}: {}", DisplayErrorContext(&e)))),
        };
        match fresh {
            Ok((etag, store)) => {
                *cached = Some((etag, Instant::now(), Arc::clone(&store)));
                Ok(store)
            }
            Err(e) => match cached.as_mut() {
                Some((_, at, store)) => {
                    tracing::warn!(error = %e, document = key, "not refreshed; serving the loaded one");
                    *at = Instant::now();
                    Ok(Arc::clone(store))
                }
                None => Err(e),
            },
        }
    }
}
