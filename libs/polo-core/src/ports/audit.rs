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
}

#[async_trait]
impl AuditStore for LocalAudit {
    async fn append(&self, entry: &AuditEntry) -> Result<(), DataError> {
        let _one = self.lock.lock().map_err(|_| DataError::Store("audit log lock poisoned".into()))?;
        let mut all: Vec<AuditEntry> = super::findings::read_list(&self.path)?;
        all.push(entry.clone());
        super::findings::write_list(&self.path, &all)
    }

    async fn entries(&self) -> Result<Vec<AuditEntry>, DataError> {
        let mut all: Vec<AuditEntry> = super::findings::read_list(&self.path)?;
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

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::cop::Via;
    use crate::model::FindingState;

    fn entry(at: time::OffsetDateTime, action: &str) -> AuditEntry {
        AuditEntry {
            at,
            by: "alice@example.com".into(),
            via: Via::Web,
            action: action.into(),
            finding_id: "instance-idle:instances:i-1".into(),
            before: FindingState::Open,
            after: FindingState::Acknowledged,
            detail: String::new(),
        }
    }

    #[tokio::test]
    async fn the_local_log_keeps_every_entry_and_gives_the_newest_first() {
        let dir = std::env::temp_dir().join(format!("polo-audit-{}", std::process::id()));
        let log = LocalAudit::new(&dir);
        assert!(log.entries().await.unwrap().is_empty(), "no file yet: nothing done");
        let (first, second) = (datetime!(2026-11-24 12:00 UTC), datetime!(2026-11-24 13:00 UTC));
        log.append(&entry(first, "ack")).await.unwrap();
        log.append(&entry(second, "assign")).await.unwrap();
        let again = LocalAudit::new(&dir).entries().await.unwrap();
        assert_eq!(again.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["assign", "ack"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
