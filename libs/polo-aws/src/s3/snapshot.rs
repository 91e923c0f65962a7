use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;

use polo_core::model::Fleet;
use polo_core::ports::{DataError, FleetReader, open_snapshot};

/// Longest pause between attempts while the stored snapshot cannot be read.
const MAX_BACKOFF: Duration = Duration::from_mins(5);

/// The production list reader: the combined snapshot in S3, loaded once per container and
/// revalidated by ETag (a conditional GET answered 304 costs no transfer) at most every
/// `revalidate_after`. A snapshot that fails to download or parse never replaces a good one:
/// the loaded fleet keeps serving (and [`FleetReader::problem`] says so), the bad version is
/// not downloaded again (its ETag is sent as `If-None-Match`), and attempts back off.
///
/// It reads its key (the binary `snapshot.bin`) and, while that is missing or unreadable, a
/// fallback (`snapshot.json`, which every sync also writes): the first deploy of a build that
/// reads the binary layout serves the JSON one until the next sync writes both.
pub struct S3SnapshotReader {
    client: aws_sdk_s3::Client,
    bucket: String,
    keys: Vec<String>,
    revalidate_after: Duration,
    /// What "no data yet" pages say about when data comes.
    first_sync_hint: String,
    cached: tokio::sync::Mutex<Cached>,
    problem: std::sync::Mutex<Option<String>>,
}

#[derive(Default)]
struct Cached {
    /// The good snapshot, the key it came from and its ETag.
    good: Option<Good>,
    /// The ETag of each key's stored snapshot that did not parse, not to be downloaded again.
    bad_etags: Vec<(String, String)>,
    checked: Option<Instant>,
    /// Failures in a row, for the back-off.
    failures: u32,
    /// The last look found no snapshot at all.
    missing: bool,
}

struct Good {
    key: String,
    etag: Option<String>,
    fleet: Arc<Fleet>,
}

impl Cached {
    /// The ETag to send as `If-None-Match` for `key`: the known-bad version's, else the held one's.
    fn etag_for(&self, key: &str) -> Option<String> {
        self.bad_etags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, e)| e.clone())
            .or_else(|| self.good.as_ref().filter(|g| g.key == key).and_then(|g| g.etag.clone()))
    }

    fn is_bad(&self, key: &str) -> bool {
        self.bad_etags.iter().any(|(k, _)| k == key)
    }
}

/// What one conditional GET found.
enum Found {
    Body {
        etag: Option<String>,
        bytes: aws_sdk_s3::primitives::AggregatedBytes,
    },
    /// 304: still the version whose ETag was sent.
    Unchanged,
    Missing,
    Failed(DataError),
}

impl S3SnapshotReader {
    /// Reads `s3://{bucket}/{key}`.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str, key: &str, revalidate_after: Duration) -> Self {
        S3SnapshotReader {
            client,
            bucket: bucket.to_owned(),
            keys: vec![key.to_owned()],
            revalidate_after,
            first_sync_hint: "the first sync has not finished".to_owned(),
            cached: tokio::sync::Mutex::new(Cached::default()),
            problem: std::sync::Mutex::new(None),
        }
    }

    /// Also reads `key` while the first one is missing or unreadable.
    #[must_use]
    pub fn with_fallback(mut self, key: &str) -> Self {
        self.keys.push(key.to_owned());
        self
    }

    /// What to tell people while no snapshot exists ("the first sync runs every 15 minutes").
    #[must_use]
    pub fn with_first_sync_hint(mut self, hint: impl Into<String>) -> Self {
        self.first_sync_hint = hint.into();
        self
    }

    fn source(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    fn no_data_yet(&self) -> DataError {
        DataError::NoDataYet(format!(
            "{} ({} is not written yet)",
            self.first_sync_hint,
            self.source(&self.keys[0])
        ))
    }

    fn set_problem(&self, problem: Option<String>) {
        if let Ok(mut slot) = self.problem.lock() {
            *slot = problem;
        }
    }

    fn wait(&self, failures: u32) -> Duration {
        if failures == 0 {
            self.revalidate_after
        } else {
            (self.revalidate_after * 2u32.saturating_pow(failures.min(16)))
                .min(MAX_BACKOFF.max(self.revalidate_after))
        }
    }

    /// Records a failure: keeps serving the good snapshot if there is one.
    fn failed(&self, cached: &mut Cached, error: DataError) -> Result<Arc<Fleet>, DataError> {
        // Something is stored (it could not be read): no longer "not written yet".
        cached.missing = false;
        cached.failures = cached.failures.saturating_add(1);
        cached.checked = Some(Instant::now());
        match &cached.good {
            Some(good) => {
                tracing::warn!(error = %error, failures = cached.failures, "snapshot not refreshed; serving the loaded one");
                self.set_problem(Some(format!(
                    "the newest snapshot could not be read ({error}); showing the one built at {}",
                    polo_core::text::rfc3339(good.fleet.generated_at())
                )));
                Ok(Arc::clone(&good.fleet))
            }
            None => Err(error),
        }
    }

    /// One conditional GET of `key`.
    async fn get(&self, key: &str, etag: Option<String>) -> Found {
        let request = self.client.get_object().bucket(&self.bucket).key(key).set_if_none_match(etag);
        match request.send().await {
            Ok(output) => {
                let etag = output.e_tag.clone();
                match output.body.collect().await {
                    Ok(bytes) => Found::Body { etag, bytes },
                    Err(e) => Found::Failed(DataError::Store(format!("{}: {e}", self.source(key)))),
                }
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 304) => Found::Unchanged,
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                Found::Missing
            }
            Err(e) => {
                Found::Failed(DataError::Store(format!("{}: {}", self.source(key), DisplayErrorContext(&e))))
            }
        }
    }

    /// What `key` holds now: `Ok(Some)` a readable snapshot (new or still the one held),
    /// `Ok(None)` nothing, `Err` why it cannot be read.
    async fn look(&self, cached: &mut Cached, key: &str) -> Result<Option<Arc<Fleet>>, DataError> {
        let source = self.source(key);
        match self.get(key, cached.etag_for(key)).await {
            Found::Body { etag, bytes } => match open_snapshot(bytes.into_bytes().into(), &source) {
                Ok(fleet) => {
                    let fleet = Arc::new(fleet);
                    cached.bad_etags.retain(|(k, _)| k != key);
                    cached.good = Some(Good { key: key.to_owned(), etag, fleet: Arc::clone(&fleet) });
                    tracing::info!(source = %source, "snapshot loaded");
                    Ok(Some(fleet))
                }
                Err(e) => {
                    cached.bad_etags.retain(|(k, _)| k != key);
                    if let Some(etag) = etag {
                        cached.bad_etags.push((key.to_owned(), etag));
                    }
                    Err(e)
                }
            },
            // Still the version held, or still the bad one.
            Found::Unchanged if cached.is_bad(key) => Err(DataError::Unreadable {
                source_name: source,
                problem: "the stored snapshot is still the unreadable one".into(),
            }),
            Found::Unchanged => Ok(cached.good.as_ref().map(|g| Arc::clone(&g.fleet))),
            Found::Missing => Ok(None),
            Found::Failed(e) => Err(e),
        }
    }
}

#[async_trait]
impl FleetReader for S3SnapshotReader {
    async fn fleet(&self) -> Result<Arc<Fleet>, DataError> {
        let mut cached = self.cached.lock().await;
        let fresh = cached.checked.is_some_and(|at| at.elapsed() < self.wait(cached.failures));
        if fresh {
            return match &cached.good {
                Some(good) => Ok(Arc::clone(&good.fleet)),
                None if cached.missing => Err(self.no_data_yet()),
                None => Err(DataError::Store(format!(
                    "{}: not readable; trying again shortly",
                    self.source(&self.keys[0])
                ))),
            };
        }
        // The first key that holds a readable snapshot (the next is asked while one is missing,
        // or unreadable and nothing is held); the first error otherwise.
        let mut first_error = None;
        for key in &self.keys {
            match self.look(&mut cached, key).await {
                Ok(Some(fleet)) => {
                    if let Some(e) = &first_error {
                        tracing::error!(error = %e, fallback = %key, "snapshot unreadable; serving the fallback");
                    }
                    cached.checked = Some(Instant::now());
                    cached.failures = 0;
                    cached.missing = false;
                    self.set_problem(None);
                    return Ok(fleet);
                }
                Ok(None) => {}
                Err(e) => {
                    // A failing key keeps the snapshot it gave served (and backs off) rather than
                    // downloading the fallback whole; one held from the fallback is asked after
                    // by its ETag (a 304 when unchanged), so it keeps refreshing.
                    let held_from_here = cached.good.as_ref().is_some_and(|g| g.key == *key);
                    first_error.get_or_insert(e);
                    if held_from_here {
                        break;
                    }
                }
            }
        }
        if let Some(error) = first_error {
            return self.failed(&mut cached, error);
        }
        // Nothing stored under any key: a fresh bucket (or one emptied by hand).
        cached.checked = Some(Instant::now());
        cached.missing = true;
        match &cached.good {
            Some(good) => Ok(Arc::clone(&good.fleet)),
            None => Err(self.no_data_yet()),
        }
    }

    fn problem(&self) -> Option<String> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }
}
