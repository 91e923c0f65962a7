//! The composition root of Polo's data: one [`Stores`] holds every store a binary may use,
//! built in exactly two places — [`Stores::local`] here, `polo_aws::stores` for AWS. Mains
//! and `polo` take the stores they need from it and never build one by hand.

use std::path::PathBuf;
use std::sync::Arc;

use super::{
    ChangeReader, CostReader, ExportStore, FindingStore, FleetReader, LocalCostReader, LocalDataService,
    LocalDocumentReader, LocalFindings, LocalReports, LocalSessions, LocalStore, ReportStore, ResourceReader,
    SessionStore, SyncStore, UsageReader,
};
use crate::model::UsageLedger;

/// Every store, each behind its port.
#[derive(Clone)]
pub struct Stores {
    /// The whole fleet (the snapshot), for lists, overviews, the Cop and reports.
    pub fleet: Arc<dyn FleetReader>,
    /// Keyed reads, for detail pages.
    pub resources: Arc<dyn ResourceReader>,
    /// The resource history across resources, for reports.
    pub history: Arc<dyn ChangeReader>,
    /// Cloud Cop findings: kept by the Cop, read by pages and reports.
    pub findings: Arc<dyn FindingStore>,
    /// The cost store.
    pub costs: Arc<dyn CostReader>,
    /// The usage ledger (what each instance ran), which explains cost changes.
    pub usage: Arc<dyn UsageReader>,
    /// The fleet's daily metrics (`metrics.json`).
    pub metrics: Arc<super::MetricsReader>,
    /// What people did about findings.
    pub audit: Arc<dyn super::AuditStore>,
    /// Stored reports and their Slack outbox.
    pub reports: Arc<dyn ReportStore>,
    /// Sync documents and the combined snapshot, as bytes (what the sync writes).
    pub documents: Arc<dyn SyncStore>,
    /// Where downloads too large for one answer go; `None` where answers have no size limit.
    pub exports: Option<Arc<dyn ExportStore>>,
    /// Browser sessions; `None` where none is configured (a function without a session table).
    pub sessions: Option<Arc<dyn SessionStore>>,
    /// Signed requests already answered (Slack's interactions): a replay is refused.
    pub nonces: Arc<dyn super::Nonces>,
    /// The Slack app's secrets and API (none locally unless `polo serve` is given them).
    pub slack: super::SlackApp,
}

/// Where the local stores keep their files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPaths {
    /// The snapshot file (`local_data.json`, or the bundled sample); its cost store beside it.
    pub data: PathBuf,
    /// Reports and Cop state (`POLO_STATE`).
    pub state: PathBuf,
    /// Sync documents (`data/sync`).
    pub documents: PathBuf,
}

impl LocalPaths {
    /// The same paths with sync documents under `documents`.
    #[must_use]
    pub fn with_documents(self, documents: &std::path::Path) -> LocalPaths {
        LocalPaths { documents: documents.to_path_buf(), ..self }
    }

    /// When the Cop's findings were last written under `state`; `None` before its first run.
    pub fn findings_saved_at(&self) -> Option<std::time::SystemTime> {
        LocalFindings::new(&self.state).saved_at()
    }
}

impl Stores {
    /// The local stores: the snapshot file read on first use and again when it changes, its
    /// cost store, findings and reports under the state folder, sync documents in theirs.
    pub fn local(paths: &LocalPaths) -> Stores {
        let data = Arc::new(LocalDataService::on_first_use(&paths.data));
        Stores {
            fleet: data.clone(),
            resources: data.clone(),
            history: data,
            findings: Arc::new(LocalFindings::new(&paths.state)),
            costs: Arc::new(LocalCostReader::beside(&paths.data)),
            usage: Arc::new(LocalDocumentReader::<UsageLedger>::beside(&paths.data)),
            metrics: Arc::new(LocalDocumentReader::<crate::model::MetricsDocument>::beside(&paths.data)),
            audit: Arc::new(super::LocalAudit::new(&paths.state)),
            reports: Arc::new(LocalReports::new(&paths.state)),
            documents: Arc::new(LocalStore::new(&paths.documents, &paths.data)),
            exports: None,
            sessions: Some(Arc::new(LocalSessions::new(&paths.state))),
            nonces: Arc::new(super::MemoryNonces::default()),
            slack: super::SlackApp::default(),
        }
    }
}
