//! Polo's ports: every trait through which the domain reads and keeps data, the error
//! they answer with, and their local-file and in-memory implementations. The AWS ones
//! (S3, DynamoDB) live in `polo-aws`; [`Stores`] bundles one of each.

mod audit;
pub mod conformance;
mod costs;
mod documents;
mod documents_local;
mod exports;
mod findings;
mod local;
mod nonces;
mod reports;
mod secrets;
mod sessions;
mod stores;

use std::sync::Arc;

use async_trait::async_trait;

use crate::model::{Change, Finding, Fleet, Index, Instance, ResourceKind};

pub use audit::{AuditStore, LocalAudit, MemoryAudit, latest_first};
pub use costs::{
    COSTS_BINARY_KEY, COSTS_KEY, CostReader, DocumentReader, InMemoryCosts, InMemoryDocument, InMemoryUsage,
    LocalCostReader, LocalDocumentReader, METRICS_KEY, MetricsReader, StoredDocument, USAGE_KEY, UsageReader,
    document_if_any, usage_if_any,
};
pub use documents::{
    Remembering, SNAPSHOT_BINARY_KEY, SNAPSHOT_KEY, SNAPSHOT_REVALIDATE, SyncStore, document_key,
};
pub use documents_local::LocalStore;
pub use exports::ExportStore;
pub use findings::{FindingStore, LocalFindings, MemoryFindings, Which, open_first};
pub use local::{
    LocalDataService, cost_store_path, document_path, document_paths, open_snapshot, parse_snapshot,
    parse_snapshot_bytes, read_cost_store, read_document,
};
pub use nonces::{MemoryNonces, Nonces};
pub use reports::{LocalReports, MemoryReports, ReportFilter, ReportStore, newest_first};
pub use secrets::{FixedSecret, SecretSource, SlackApp};
pub use sessions::{LocalSessions, MemorySessions, Role, Session, SessionStore, newest_sessions_first};
pub use stores::{LocalPaths, Stores};

/// Data that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A snapshot or document that is missing or malformed.
    #[error("cannot read {source_name}: {problem}")]
    Unreadable { source_name: String, problem: String },
    /// A store that failed to answer.
    #[error("data store failed: {0}")]
    Store(String),
    /// Nothing synced yet (a fresh deployment before its first sync); says when data comes.
    #[error("no data yet: {0}")]
    NoDataYet(String),
}

/// Reads the whole fleet, for list pages and overviews.
#[async_trait]
pub trait FleetReader: Send + Sync {
    /// The current snapshot, indexed.
    async fn fleet(&self) -> Result<Arc<Fleet>, DataError>;

    /// Why the fleet served may be older than the newest one stored (a newer snapshot that
    /// could not be read), for pages to say so.
    fn problem(&self) -> Option<String> {
        None
    }
}

/// Reads single resources by key, for detail pages.
#[async_trait]
pub trait ResourceReader: Send + Sync {
    /// One instance by EC2 id.
    async fn instance(&self, id: &str) -> Result<Option<Instance>, DataError>;
    /// Every index with the id `index_id`, one per account and region that holds it, by
    /// account and region.
    async fn indexes(&self, index_id: &str) -> Result<Vec<Index>, DataError>;
    /// The instances that serve `index`: tagged with its id, in its account and region, or
    /// elsewhere when no index of theirs has the id ([`crate::model::resolve`]); by id.
    async fn instances_of_index(&self, index: &Index) -> Result<Vec<Instance>, DataError>;
    /// The changes syncs saw in one resource, oldest first; `key` is its
    /// [`crate::model::Tracked::key`] (an index's includes its account and region).
    async fn history(&self, kind: ResourceKind, key: &str) -> Result<Vec<Change>, DataError>;
}

/// Reads Cloud Cop findings: what the Cop writes, detail pages and `/cop` read.
#[async_trait]
pub trait FindingReader: Send + Sync {
    /// The findings about one resource, open first, then newest.
    async fn findings_for(&self, kind: ResourceKind, id: &str) -> Result<Vec<Finding>, DataError>;
    /// Every open finding.
    async fn open_findings(&self) -> Result<Vec<Finding>, DataError>;
    /// Every finding, open and resolved (the `/cop` table); a store holding them in memory
    /// shares them instead of copying.
    async fn all_findings(&self) -> Result<Vec<std::sync::Arc<Finding>>, DataError>;
    /// The open findings counted by severity, with the drift they price (`/`); a store
    /// holding them in memory counts them in place.
    async fn open_summary(&self) -> Result<crate::model::OpenSummary, DataError> {
        Ok(crate::model::OpenSummary::of(&self.open_findings().await?))
    }
}

/// Reads the resource history across resources, for reports.
#[async_trait]
pub trait ChangeReader: Send + Sync {
    /// Every change seen in `[start, end)`, oldest first.
    async fn changes_between(
        &self,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Vec<Change>, DataError>;
}
