//! The documents beside the snapshot in the data bucket: the cost store (`costs.bin`, else
//! `costs.json`), `usage.json` and `metrics.json`.

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

/// The cost store in the data bucket: `costs.bin`, else `costs.json`.
pub type S3CostReader = S3DocumentReader<CostStore>;

/// A loaded document: the key it came from, its ETag, when it was last checked, the document.
struct Loaded<T> {
    key: &'static str,
    etag: Option<String>,
    checked: Instant,
    doc: Arc<T>,
}

impl<T: StoredDocument> S3DocumentReader<T> {
    /// Reads `T` from `s3://{bucket}/`, under the first of its [`StoredDocument::READ_KEYS`] there.
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

/// What one read of a key found.
enum Found<T> {
    Read {
        etag: Option<String>,
        doc: T,
    },
    /// 304: still the version held.
    Unchanged,
    Missing,
}

impl<T: StoredDocument> S3DocumentReader<T> {
    /// The document, from the first of [`StoredDocument::READ_KEYS`] there (`costs.bin`, then
    /// `costs.json` while the binary one is missing, or unreadable with nothing loaded yet).
    async fn load(&self) -> Result<Arc<T>, DataError> {
        let mut cached = self.cached.lock().await;
        if let Some(loaded) = cached.as_ref()
            && loaded.checked.elapsed() < self.revalidate_after
        {
            return Ok(Arc::clone(&loaded.doc));
        }
        let mut fresh = Ok(None);
        for (n, &key) in T::READ_KEYS.iter().enumerate() {
            let held = cached.as_ref().filter(|l| l.key == key);
            match self.get(key, held.and_then(|l| l.etag.clone())).await {
                Ok(Found::Read { etag, doc }) => {
                    fresh = Ok(Some(Loaded { key, etag, checked: Instant::now(), doc: Arc::new(doc) }));
                    break;
                }
                Ok(Found::Unchanged) => {
                    if let Some(loaded) = cached.as_mut().filter(|l| l.key == key) {
                        loaded.checked = Instant::now();
                        return Ok(Arc::clone(&loaded.doc));
                    }
                    fresh =
                        Err(DataError::Store(format!("{}: 304 without a loaded document", self.source(key))));
                    break;
                }
                Ok(Found::Missing) => {}
                // An unreadable first layout with nothing loaded: the next one serves meanwhile.
                Err(e @ DataError::Unreadable { .. }) if cached.is_none() && n + 1 < T::READ_KEYS.len() => {
                    tracing::warn!(error = %e, "unreadable; reading the next layout");
                    fresh = Err(e);
                }
                Err(e) => {
                    fresh = Err(e);
                    break;
                }
            }
        }
        match fresh {
            Ok(Some(loaded)) => {
                let doc = Arc::clone(&loaded.doc);
                *cached = Some(loaded);
                Ok(doc)
            }
            // No key there: nothing written yet.
            Ok(None) => {
                let doc = Arc::new(T::empty());
                let key = T::READ_KEYS.last().copied().unwrap_or(T::KEY);
                *cached = Some(Loaded { key, etag: None, checked: Instant::now(), doc: Arc::clone(&doc) });
                Ok(doc)
            }
            Err(e) => match cached.as_mut() {
                Some(loaded) => {
                    tracing::warn!(error = %e, document = T::KEY, "not refreshed; serving the loaded one");
                    loaded.checked = Instant::now();
                    Ok(Arc::clone(&loaded.doc))
                }
                None => Err(e),
            },
        }
    }

    fn source(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// One conditional GET of `key`, read.
    async fn get(&self, key: &str, etag: Option<String>) -> Result<Found<T>, DataError> {
        let source = self.source(key);
        let answer =
            self.client.get_object().bucket(&self.bucket).key(key).set_if_none_match(etag).send().await;
        match answer {
            Ok(output) => {
                let etag = output.e_tag.clone();
                let bytes =
                    output.body.collect().await.map_err(|e| DataError::Store(format!("{source}: {e}")))?;
                let unreadable = |problem| DataError::Unreadable { source_name: source.clone(), problem };
                let doc = T::decode(&bytes.into_bytes()).map_err(unreadable)?;
                if doc.format() > T::FORMAT {
                    return Err(unreadable(format!(
                        "format {} is newer than this build reads",
                        doc.format()
                    )));
                }
                Ok(Found::Read { etag, doc })
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 304) => Ok(Found::Unchanged),
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                Ok(Found::Missing)
            }
            Err(e) => Err(DataError::Store(format!("{source}: {}", DisplayErrorContext(&e)))),
        }
    }
}
