//! The audit log of what people did about findings (issue 31): every action, who, via web
//! or Slack, when, the finding, its state before and after. Locally a JSON file under
//! `POLO_STATE` (`cop/audit.json`), in tests memory, in production the report table.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

use super::DataError;
use crate::cop::AuditEntry;

/// Keeps the audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Adds `entry`.
    async fn append(&self, entry: &AuditEntry) -> Result<(), DataError>;
    /// Every entry kept, newest first.
    async fn entries(&self) -> Result<Vec<AuditEntry>, DataError>;
}

/// Newest first, then by finding.
pub fn latest_first(entries: &mut [AuditEntry]) {
    entries.sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.finding_id.cmp(&b.finding_id)));
}

/// The audit log in a JSON file.
pub struct LocalAudit {
    path: PathBuf,
    /// One writer at a time within the process.
    lock: Mutex<()>,
}

impl LocalAudit {
    /// The log under `state_dir/cop/audit.json`.
    pub fn new(state_dir: &Path) -> LocalAudit {
        LocalAudit { path: state_dir.join("cop").join("audit.json"), lock: Mutex::new(()) }
    }

    fn read(&self) -> Result<Vec<AuditEntry>, DataError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => crate::json::decode(&bytes).map_err(|problem| DataError::Unreadable {
                source_name: self.path.display().to_string(),
                problem,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(DataError::Unreadable {
                source_name: self.path.display().to_string(),
                problem: e.to_string(),
            }),
        }
    }
}

#[async_trait]
impl AuditStore for LocalAudit {
    async fn append(&self, entry: &AuditEntry) -> Result<(), DataError> {
        let _one = self.lock.lock().map_err(|_| DataError::Store("audit log lock poisoned".into()))?;
        let mut all = self.read()?;
        all.push(entry.clone());
        let store = |e: std::io::Error| DataError::Store(format!("{}: {e}", self.path.display()));
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(store)?;
        }
        let bytes = serde_json::to_vec_pretty(&all).map_err(|e| DataError::Store(e.to_string()))?;
        // Whole or not at all: a torn write would lose the log.
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, bytes).map_err(store)?;
        std::fs::rename(&tmp, &self.path).map_err(store)
    }

    async fn entries(&self) -> Result<Vec<AuditEntry>, DataError> {
        let mut all = self.read()?;
        latest_first(&mut all);
        Ok(all)
    }
}

/// The audit log in memory (tests, tools).
#[derive(Default)]
pub struct MemoryAudit(Mutex<Vec<AuditEntry>>);

#[async_trait]
impl AuditStore for MemoryAudit {
    async fn append(&self, entry: &AuditEntry) -> Result<(), DataError> {
        self.0.lock().map_err(|_| DataError::Store("audit log lock poisoned".into()))?.push(entry.clone());
        Ok(())
    }

    async fn entries(&self) -> Result<Vec<AuditEntry>, DataError> {
        let mut all = self.0.lock().map_err(|_| DataError::Store("audit log lock poisoned".into()))?.clone();
        latest_first(&mut all);
        Ok(all)
    }
}
