use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;

use polo_core::model::Fleet;
use polo_core::ports::{DataError, FleetReader, parse_snapshot_bytes};

/// Longest pause between attempts while the stored snapshot cannot be read.
const MAX_BACKOFF: Duration = Duration::from_mins(5);

/// The production list reader: the combined snapshot in S3, loaded once per container and
/// revalidated by ETag (a conditional GET answered 304 costs no transfer) at most every
/// `revalidate_after`. A snapshot that fails to download or parse never replaces a good one:
/// the loaded fleet keeps serving (and [`FleetReader::problem`] says so), the bad version is
/// not downloaded again (its ETag is sent as `If-None-Match`), and attempts back off.
pub struct S3SnapshotReader {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    revalidate_after: Duration,
    /// What "no data yet" pages say about when data comes.
    first_sync_hint: String,
    cached: tokio::sync::Mutex<Cached>,
    problem: std::sync::Mutex<Option<String>>,
}

#[derive(Default)]
struct Cached {
    /// The good snapshot and its ETag.
    good: Option<(Option<String>, Arc<Fleet>)>,
    /// The ETag of a stored snapshot that did not parse, not to be downloaded again.
    bad_etag: Option<String>,
    checked: Option<Instant>,
    /// Failures in a row, for the back-off.
    failures: u32,
    /// The last look found no snapshot at all.
    missing: bool,
}

impl S3SnapshotReader {
    /// Reads `s3://{bucket}/{key}`.
    pub fn new(client: aws_sdk_s3::Client, bucket: &str, key: &str, revalidate_after: Duration) -> Self {
        S3SnapshotReader {
            client,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            revalidate_after,
            first_sync_hint: "the first sync has not finished".to_owned(),
            cached: tokio::sync::Mutex::new(Cached::default()),
            problem: std::sync::Mutex::new(None),
        }
    }

    /// What to tell people while no snapshot exists ("the first sync runs every 15 minutes").
    #[must_use]
    pub fn with_first_sync_hint(mut self, hint: impl Into<String>) -> Self {
        self.first_sync_hint = hint.into();
        self
    }

    fn no_data_yet(&self) -> DataError {
        DataError::NoDataYet(format!(
            "{} (s3://{}/{} is not written yet)",
            self.first_sync_hint, self.bucket, self.key
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
        cached.failures = cached.failures.saturating_add(1);
        cached.checked = Some(Instant::now());
        match &cached.good {
            Some((_, fleet)) => {
                tracing::warn!(error = %error, failures = cached.failures, "snapshot not refreshed; serving the loaded one");
                self.set_problem(Some(format!(
                    "the newest snapshot could not be read ({error}); showing the one built at {}",
                    polo_core::text::rfc3339(fleet.everything().generated_at)
                )));
                Ok(Arc::clone(fleet))
            }
            None => Err(error),
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
                Some((_, fleet)) => Ok(Arc::clone(fleet)),
                None if cached.missing => Err(self.no_data_yet()),
                None => Err(DataError::Store(format!(
                    "s3://{}/{}: not readable; trying again shortly",
                    self.bucket, self.key
                ))),
            };
        }
        // Ask for a version other than the one held, or the one known to be bad.
        let etag = cached.bad_etag.clone().or_else(|| cached.good.as_ref().and_then(|(e, _)| e.clone()));
        let request = self.client.get_object().bucket(&self.bucket).key(&self.key).set_if_none_match(etag);
        let source = format!("s3://{}/{}", self.bucket, self.key);
        match request.send().await {
            Ok(output) => {
                let etag = output.e_tag.clone();
                let bytes = match output.body.collect().await {
                    Ok(b) => b.into_bytes(),
                    Err(e) => return self.failed(&mut cached, DataError::Store(format!("{source}: {e}"))),
                };
                match parse_snapshot_bytes(&bytes, &source) {
                    Ok(everything) => {
                        let fleet = Arc::new(Fleet::new(everything));
                        *cached = Cached {
                            good: Some((etag, Arc::clone(&fleet))),
                            bad_etag: None,
                            checked: Some(Instant::now()),
                            failures: 0,
                            missing: false,
                        };
                        self.set_problem(None);
                        tracing::info!(source = %source, bytes = bytes.len(), "snapshot loaded");
                        Ok(fleet)
                    }
                    Err(e) => {
                        cached.bad_etag = etag;
                        self.failed(&mut cached, e)
                    }
                }
            }
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 304) => {
                cached.checked = Some(Instant::now());
                match &cached.good {
                    // Still the version we hold, or still the bad one: nothing new either way.
                    Some((_, fleet)) if cached.bad_etag.is_none() => Ok(Arc::clone(fleet)),
                    _ => {
                        let error = DataError::Unreadable {
                            source_name: source,
                            problem: "the stored snapshot is still the unreadable one".into(),
                        };
                        self.failed(&mut cached, error)
                    }
                }
            }
            Err(SdkError::ServiceError(e)) if matches!(e.err(), GetObjectError::NoSuchKey(_)) => {
                cached.checked = Some(Instant::now());
                cached.missing = true;
                match &cached.good {
                    Some((_, fleet)) => Ok(Arc::clone(fleet)),
                    None => Err(self.no_data_yet()),
                }
            }
            Err(e) => {
                let error = DataError::Store(format!("{source}: {}", DisplayErrorContext(&e)));
                self.failed(&mut cached, error)
            }
        }
    }

    fn problem(&self) -> Option<String> {
        self.problem.lock().ok().and_then(|p| p.clone())
    }
}
