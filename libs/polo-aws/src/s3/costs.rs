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
/// failed refresh keeps serving the loaded one. A stored version that does not read is not
/// downloaded again (its ETag is sent as `If-None-Match`).
pub struct S3DocumentReader<T> {
    client: aws_sdk_s3::Client,
    bucket: String,
    revalidate_after: Duration,
    cached: tokio::sync::Mutex<Cached<T>>,
}

/// What a reader holds between requests.
struct Cached<T> {
    loaded: Option<Loaded<T>>,
    /// Each key's stored version that did not read (key, ETag).
    bad: Vec<(&'static str, String)>,
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
            cached: tokio::sync::Mutex::new(Cached { loaded: None, bad: Vec::new() }),
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
    /// 304: still the version whose ETag was sent.
    Unchanged,
    Missing,
    /// Stored, and not readable by this build (with its ETag, not to be downloaded again).
    Unreadable {
        etag: Option<String>,
        error: DataError,
    },
}

impl<T: StoredDocument> S3DocumentReader<T> {
    /// The document, from the first of [`StoredDocument::READ_KEYS`] that reads (`costs.bin`,
    /// then `costs.json` while the binary one is missing or does not read, or cannot be
    /// fetched with nothing loaded). The loaded document keeps serving when a fetch fails or
    /// no key reads; with no key there at all, the document is empty.
    async fn load(&self) -> Result<Arc<T>, DataError> {
        let mut cached = self.cached.lock().await;
        let Cached { loaded, bad } = &mut *cached;
        if let Some(held) = loaded.as_ref()
            && held.checked.elapsed() < self.revalidate_after
        {
            return Ok(Arc::clone(&held.doc));
        }
        let mut problem = None;
        let mut fresh = None;
        for &key in T::READ_KEYS {
            let known_bad = bad.iter().find(|(k, _)| *k == key).map(|(_, e)| e.clone());
            // Only a version of this very key may be answered 304: the bad one, or the one held.
            let held = loaded.as_ref().filter(|l| l.key == key);
            let etag = known_bad.clone().or_else(|| held.and_then(|l| l.etag.clone()));
            match self.get(key, etag).await {
                Ok(Found::Read { etag, doc }) => {
                    bad.retain(|(k, _)| *k != key);
                    fresh = Some(Loaded { key, etag, checked: Instant::now(), doc: Arc::new(doc) });
                    break;
                }
                Ok(Found::Unchanged) if known_bad.is_some() => {
                    problem = Some(DataError::Unreadable {
                        source_name: self.source(key),
                        problem: "still the version that does not read".into(),
                    });
                }
                Ok(Found::Unchanged) => {
                    if let Some(held) = loaded.as_mut().filter(|l| l.key == key) {
                        held.checked = Instant::now();
                        return Ok(Arc::clone(&held.doc));
                    }
                    let source = self.source(key);
                    problem = Some(DataError::Store(format!("{source}: 304 without a loaded document")));
                }
                Ok(Found::Missing) => bad.retain(|(k, _)| *k != key),
                Ok(Found::Unreadable { etag, error }) => {
                    tracing::warn!(error = %error, document = key, "does not read; trying the next layout");
                    bad.retain(|(k, _)| *k != key);
                    if let Some(etag) = etag {
                        bad.push((key, etag));
                    }
                    problem = Some(error);
                }
                // Not fetched (a transient failure): with a store loaded, keep it rather than
                // fall back to an older layout and flip back on the next look.
                Err(error) if loaded.is_some() => {
                    problem = Some(error);
                    break;
                }
                Err(error) => {
                    tracing::warn!(error = %error, document = key, "not fetched; trying the next layout");
                    problem = Some(error);
                }
            }
        }
        let fresh = match (fresh, problem) {
            (Some(fresh), _) => fresh,
            // No key there at all: nothing written yet.
            (None, None) => {
                let key = T::READ_KEYS.last().copied().unwrap_or(T::KEY);
                Loaded { key, etag: None, checked: Instant::now(), doc: Arc::new(T::empty()) }
            }
            (None, Some(error)) => {
                return match loaded.as_mut() {
                    Some(held) => {
                        tracing::warn!(error = %error, document = T::KEY, "not refreshed; serving the loaded one");
                        held.checked = Instant::now();
                        Ok(Arc::clone(&held.doc))
                    }
                    None => Err(error),
                };
            }
        };
        let doc = Arc::clone(&fresh.doc);
        *loaded = Some(fresh);
        Ok(doc)
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
                Ok(match T::decode(&bytes.into_bytes()) {
                    Ok(doc) if doc.format() > T::FORMAT => Found::Unreadable {
                        etag,
                        error: unreadable(format!("format {} is newer than this build reads", doc.format())),
                    },
                    Ok(doc) => Found::Read { etag, doc },
                    Err(problem) => Found::Unreadable { etag, error: unreadable(problem) },
                })
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 304) => Ok(Found::Unchanged),
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                Ok(Found::Missing)
            }
            Err(e) => Err(DataError::Store(format!("{source}: {}", DisplayErrorContext(&e)))),
        }
    }
}
