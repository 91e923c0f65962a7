//! Where findings are remembered between runs: locally a JSON file under `POLO_STATE`
//! (`cop/findings.json`), in tests memory. Each store also answers the pages'
//! [`FindingReader`].

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{DataError, FindingReader};
use crate::model::Finding;

/// Keeps findings, and the lease that keeps two Cop runs from judging at once. Every
/// store also answers the pages ([`FindingReader`], through [`crate::finding_reader!`]).
#[async_trait]
pub trait FindingStore: FindingReader {
    /// Every finding, open and resolved.
    async fn all(&self) -> Result<Vec<Finding>, DataError>;
    /// Replaces what is kept with `findings` (the result of a run).
    async fn save(&self, findings: &[Finding]) -> Result<(), DataError>;
    /// Records that Slack accepted a notice of `ids` at `at`.
    async fn mark_notified(&self, ids: &[String], at: OffsetDateTime) -> Result<(), DataError>;
    /// Takes the run lease for `holder` until `now + ttl`; `false` while another holder has
    /// an unexpired one.
    async fn acquire(&self, holder: &str, now: OffsetDateTime, ttl: Duration) -> Result<bool, DataError>;
    /// Gives the lease back (only if `holder` still has it).
    async fn release(&self, holder: &str, now: OffsetDateTime) -> Result<(), DataError>;
    /// The findings `which` keeps: a store that holds them in memory copies only those.
    async fn matching(&self, which: Which<'_>) -> Result<Vec<Finding>, DataError> {
        Ok(self.all().await?.into_iter().filter(|f| which.keeps(f)).collect())
    }
    /// Every finding, shared (see [`FindingReader::all_findings`]).
    async fn all_shared(&self) -> Result<Vec<std::sync::Arc<Finding>>, DataError> {
        Ok(self.all().await?.into_iter().map(std::sync::Arc::new).collect())
    }
    /// The open findings counted (see [`FindingReader::open_summary`]).
    async fn open_summary(&self) -> Result<crate::model::OpenSummary, DataError> {
        Ok(crate::model::OpenSummary::of(&self.matching(Which::Open).await?))
    }
}

/// Which findings a page wants.
#[derive(Clone, Copy, Debug)]
pub enum Which<'a> {
    /// Those about one resource.
    About(crate::model::ResourceKind, &'a str),
    /// The open ones.
    Open,
}

impl Which<'_> {
    /// Whether `f` is one of them.
    pub fn keeps(&self, f: &Finding) -> bool {
        match self {
            Which::About(kind, id) => f.resource_kind == *kind && f.resource_id == *id,
            Which::Open => f.resolved_at.is_none(),
        }
    }
}

/// Open first, then the newest seen: how detail pages list a resource's findings.
pub fn open_first(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.resolved_at.is_some().cmp(&b.resolved_at.is_some()).then(b.last_seen.cmp(&a.last_seen))
    });
}

/// Findings in a JSON file.
pub struct LocalFindings {
    path: PathBuf,
}

impl LocalFindings {
    /// Findings under `state_dir/cop/findings.json`.
    pub fn new(state_dir: &Path) -> LocalFindings {
        LocalFindings { path: state_dir.join("cop").join("findings.json") }
    }

    /// When the findings were last written (a Cop run or a Slack notice); `None` before
    /// the first run.
    pub fn saved_at(&self) -> Option<std::time::SystemTime> {
        std::fs::metadata(&self.path).and_then(|m| m.modified()).ok()
    }

    fn read(&self) -> Result<Vec<Finding>, DataError> {
        read_list(&self.path)
    }

    fn write(&self, findings: &[Finding]) -> Result<(), DataError> {
        write_list(&self.path, findings)
    }
}

/// A JSON array kept in the file at `path` (none yet: empty).
pub(super) fn read_list<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>, DataError> {
    match std::fs::read(path) {
        Ok(bytes) => crate::json::decode(&bytes)
            .map_err(|problem| DataError::Unreadable { source_name: path.display().to_string(), problem }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => {
            Err(DataError::Unreadable { source_name: path.display().to_string(), problem: e.to_string() })
        }
    }
}

/// Writes `items` to `path` whole or not at all (a torn write would lose them).
pub(super) fn write_list<T: serde::Serialize>(path: &Path, items: &[T]) -> Result<(), DataError> {
    let store = |e: std::io::Error| DataError::Store(format!("{}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(store)?;
    }
    let bytes = serde_json::to_vec_pretty(items).map_err(|e| DataError::Store(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, bytes).map_err(store)?;
    std::fs::rename(&tmp, path).map_err(store)
}

#[async_trait]
impl FindingStore for LocalFindings {
    async fn all(&self) -> Result<Vec<Finding>, DataError> {
        self.read()
    }

    async fn save(&self, findings: &[Finding]) -> Result<(), DataError> {
        self.write(findings)
    }

    async fn mark_notified(&self, ids: &[String], at: OffsetDateTime) -> Result<(), DataError> {
        let mut findings = self.read()?;
        for f in findings.iter_mut().filter(|f| ids.contains(&f.id)) {
            f.last_notified = Some(at);
        }
        self.write(&findings)
    }

    /// Always granted: the local state has one writer, the `polo` process judging it.
    async fn acquire(&self, _holder: &str, _now: OffsetDateTime, _ttl: Duration) -> Result<bool, DataError> {
        Ok(true)
    }

    async fn release(&self, _holder: &str, _now: OffsetDateTime) -> Result<(), DataError> {
        Ok(())
    }
}

/// Findings in memory, with a lease that expires like the table's.
#[derive(Default)]
pub struct MemoryFindings {
    /// Each shared with the pages reading it; a write copies one only while a page holds it.
    findings: Mutex<Vec<std::sync::Arc<Finding>>>,
    lease: Mutex<Option<(String, OffsetDateTime)>>,
}

impl MemoryFindings {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Vec<std::sync::Arc<Finding>>>, DataError> {
        self.findings.lock().map_err(|_| DataError::Store("finding store lock poisoned".into()))
    }

    fn lease(&self) -> Result<std::sync::MutexGuard<'_, Option<(String, OffsetDateTime)>>, DataError> {
        self.lease.lock().map_err(|_| DataError::Store("finding lease lock poisoned".into()))
    }
}

#[async_trait]
impl FindingStore for MemoryFindings {
    async fn all(&self) -> Result<Vec<Finding>, DataError> {
        Ok(self.lock()?.iter().map(|f| f.as_ref().clone()).collect())
    }

    async fn all_shared(&self) -> Result<Vec<std::sync::Arc<Finding>>, DataError> {
        Ok(self.lock()?.clone())
    }

    async fn save(&self, findings: &[Finding]) -> Result<(), DataError> {
        *self.lock()? = findings.iter().cloned().map(std::sync::Arc::new).collect();
        Ok(())
    }

    async fn mark_notified(&self, ids: &[String], at: OffsetDateTime) -> Result<(), DataError> {
        for f in self.lock()?.iter_mut().filter(|f| ids.contains(&f.id)) {
            std::sync::Arc::make_mut(f).last_notified = Some(at);
        }
        Ok(())
    }

    async fn acquire(&self, holder: &str, now: OffsetDateTime, ttl: Duration) -> Result<bool, DataError> {
        let mut lease = self.lease()?;
        if lease.as_ref().is_some_and(|(other, until)| other != holder && *until > now) {
            return Ok(false);
        }
        *lease = Some((holder.to_owned(), now + ttl));
        Ok(true)
    }

    async fn release(&self, holder: &str, _now: OffsetDateTime) -> Result<(), DataError> {
        let mut lease = self.lease()?;
        if lease.as_ref().is_some_and(|(other, _)| other == holder) {
            *lease = None;
        }
        Ok(())
    }

    async fn matching(&self, which: Which<'_>) -> Result<Vec<Finding>, DataError> {
        Ok(self.lock()?.iter().filter(|f| which.keeps(f)).map(|f| f.as_ref().clone()).collect())
    }

    async fn open_summary(&self) -> Result<crate::model::OpenSummary, DataError> {
        Ok(crate::model::OpenSummary::of(
            self.lock()?.iter().map(AsRef::as_ref).filter(|f| Which::Open.keeps(f)),
        ))
    }
}

/// Every finding store answers the pages: a resource's findings (open first), the open
/// ones, and all of them.
#[macro_export]
macro_rules! finding_reader {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::ports::FindingReader for $store {
            async fn findings_for(
                &self,
                kind: $crate::model::ResourceKind,
                id: &str,
            ) -> Result<Vec<$crate::model::Finding>, $crate::ports::DataError> {
                let mut found: Vec<$crate::model::Finding> =
                    $crate::ports::FindingStore::matching(self, $crate::ports::Which::About(kind, id))
                        .await?;
                $crate::ports::open_first(&mut found);
                Ok(found)
            }

            async fn open_findings(&self) -> Result<Vec<$crate::model::Finding>, $crate::ports::DataError> {
                $crate::ports::FindingStore::matching(self, $crate::ports::Which::Open).await
            }

            async fn all_findings(
                &self,
            ) -> Result<Vec<std::sync::Arc<$crate::model::Finding>>, $crate::ports::DataError> {
                $crate::ports::FindingStore::all_shared(self).await
            }

            async fn open_summary(&self) -> Result<$crate::model::OpenSummary, $crate::ports::DataError> {
                $crate::ports::FindingStore::open_summary(self).await
            }
        }
    };
}
finding_reader!(LocalFindings);
finding_reader!(MemoryFindings);
