//! Where reports are kept: keyed by type and period, replaced by a re-run, gone for every
//! reader once past `expires_at` (before DynamoDB's TTL deletes them), and an outbox of the
//! ones Slack has not accepted yet.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use time::OffsetDateTime;

use super::DataError;
use crate::reports::{Report, ReportHead, ReportType};

/// Which reports a list wants.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportFilter {
    pub kind: Option<ReportType>,
    pub period: Option<String>,
}

impl ReportFilter {
    /// Does `report` pass?
    pub fn matches(&self, report: &Report) -> bool {
        self.kind.is_none_or(|k| k == report.kind) && self.period.as_ref().is_none_or(|p| *p == report.period)
    }
}

/// Keeps reports.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores `report`, replacing the one of the same type and period.
    async fn put(&self, report: &Report) -> Result<(), DataError>;
    /// The report of `kind` for `period`, if one is stored and live at `now`.
    async fn get(
        &self,
        kind: ReportType,
        period: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Report>, DataError>;
    /// The live reports at `now` that pass `filter`: by type, newest period first.
    async fn list(&self, filter: &ReportFilter, now: OffsetDateTime) -> Result<Vec<Report>, DataError>;
    /// The same as [`ReportStore::list`], without the bodies (lists, the outbox's choice).
    async fn heads(&self, filter: &ReportFilter, now: OffsetDateTime) -> Result<Vec<ReportHead>, DataError> {
        Ok(self.list(filter, now).await?.iter().map(Report::head).collect())
    }
    /// Marks `report` sent at `at` (Slack accepted it), unless it was marked already or
    /// replaced by a newer one since it was read (then nothing changes).
    async fn mark_sent(&self, report: &Report, at: OffsetDateTime) -> Result<(), DataError>;

    /// The newest live report of each type that has one, in type order.
    async fn latest(&self, now: OffsetDateTime) -> Result<Vec<Report>, DataError> {
        let mut latest: Vec<Report> = Vec::new();
        for report in self.list(&ReportFilter::default(), now).await? {
            if latest.last().is_none_or(|l| l.kind != report.kind) {
                latest.push(report);
            }
        }
        Ok(latest)
    }
}

/// Orders reports by type, then newest period first (each type's periods sort as text).
pub fn newest_first(reports: &mut [Report]) {
    reports.sort_by(|a, b| a.kind.cmp(&b.kind).then_with(|| b.period.cmp(&a.period)));
}

/// Reports as JSON files under a directory (`POLO_STATE/reports/{type}/{period}.json`).
pub struct LocalReports {
    dir: PathBuf,
}

impl LocalReports {
    /// Reports under `state_dir/reports`.
    pub fn new(state_dir: &Path) -> LocalReports {
        LocalReports { dir: state_dir.join("reports") }
    }

    fn path(&self, kind: ReportType, period: &str) -> PathBuf {
        self.dir.join(kind.as_str()).join(format!("{period}.json"))
    }

    fn read(path: &Path) -> Result<Option<Report>, DataError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(unreadable(path, &e.to_string())),
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| unreadable(path, &e.to_string()))
    }
}

fn unreadable(path: &Path, problem: &str) -> DataError {
    DataError::Unreadable { source_name: path.display().to_string(), problem: problem.to_owned() }
}

/// A period as it may appear in a file name: the three period shapes, nothing else.
fn safe_period(period: &str) -> bool {
    !period.is_empty()
        && period.len() <= 10
        && period.bytes().all(|b| b.is_ascii_digit() || b == b'-' || b == b'W')
}

#[async_trait]
impl ReportStore for LocalReports {
    async fn put(&self, report: &Report) -> Result<(), DataError> {
        if !safe_period(&report.period) {
            return Err(DataError::Store(format!("not a period: {:?}", report.period)));
        }
        let path = self.path(report.kind, &report.period);
        let store = |e: std::io::Error| DataError::Store(format!("{}: {e}", path.display()));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(store)?;
        }
        let bytes = serde_json::to_vec_pretty(report).map_err(|e| DataError::Store(e.to_string()))?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes).map_err(store)?;
        std::fs::rename(&tmp, &path).map_err(store)
    }

    async fn get(
        &self,
        kind: ReportType,
        period: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Report>, DataError> {
        if !safe_period(period) {
            return Ok(None);
        }
        Ok(LocalReports::read(&self.path(kind, period))?.filter(|r| r.is_live(now)))
    }

    async fn list(&self, filter: &ReportFilter, now: OffsetDateTime) -> Result<Vec<Report>, DataError> {
        let mut reports = Vec::new();
        for kind in ReportType::ALL.into_iter().filter(|k| filter.kind.is_none_or(|f| f == *k)) {
            let dir = self.dir.join(kind.as_str());
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(unreadable(&dir, &e.to_string())),
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|x| x == "json")
                    && let Some(report) = LocalReports::read(&path)?
                    && report.is_live(now)
                    && filter.matches(&report)
                {
                    reports.push(report);
                }
            }
        }
        newest_first(&mut reports);
        Ok(reports)
    }

    async fn mark_sent(&self, sent: &Report, at: OffsetDateTime) -> Result<(), DataError> {
        let path = self.path(sent.kind, &sent.period);
        match LocalReports::read(&path)? {
            Some(mut report) if report.sent_at.is_none() && report.generated_at == sent.generated_at => {
                report.sent_at = Some(at);
                self.put(&report).await
            }
            _ => Ok(()),
        }
    }
}

/// Reports held in memory (tests, and pages with no store configured).
#[derive(Default)]
pub struct MemoryReports {
    reports: std::sync::Mutex<Vec<Report>>,
}

impl MemoryReports {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Vec<Report>>, DataError> {
        self.reports.lock().map_err(|_| DataError::Store("report store lock poisoned".into()))
    }
}

#[async_trait]
impl ReportStore for MemoryReports {
    async fn put(&self, report: &Report) -> Result<(), DataError> {
        let mut reports = self.lock()?;
        reports.retain(|r| !(r.kind == report.kind && r.period == report.period));
        reports.push(report.clone());
        Ok(())
    }

    async fn get(
        &self,
        kind: ReportType,
        period: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Report>, DataError> {
        Ok(self.lock()?.iter().find(|r| r.kind == kind && r.period == period && r.is_live(now)).cloned())
    }

    async fn list(&self, filter: &ReportFilter, now: OffsetDateTime) -> Result<Vec<Report>, DataError> {
        let mut reports: Vec<Report> =
            self.lock()?.iter().filter(|r| r.is_live(now) && filter.matches(r)).cloned().collect();
        newest_first(&mut reports);
        Ok(reports)
    }

    async fn mark_sent(&self, sent: &Report, at: OffsetDateTime) -> Result<(), DataError> {
        let mut reports = self.lock()?;
        if let Some(report) = reports.iter_mut().find(|r| {
            r.kind == sent.kind
                && r.period == sent.period
                && r.generated_at == sent.generated_at
                && r.sent_at.is_none()
        }) {
            report.sent_at = Some(at);
        }
        Ok(())
    }
}
