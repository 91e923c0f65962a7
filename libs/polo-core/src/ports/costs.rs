//! Reading the documents the sync keeps beside the snapshot for the cost pages: the cost
//! store (`costs.json`) and the usage ledger (`usage.json`), local files or in the data
//! bucket. Loaded on first use, so functions that never show costs never read them.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;
use serde::de::DeserializeOwned;

use super::{DataError, read_document};
use crate::model::{
    COST_STORE_FORMAT, CostStore, METRICS_FORMAT, MetricsDocument, USAGE_FORMAT, UsageLedger,
};

/// The key of the cost store in the data bucket.
pub const COSTS_KEY: &str = "costs.json";

/// The key of the usage ledger in the data bucket.
pub const USAGE_KEY: &str = "usage.json";

/// The key of the fleet's daily metrics in the data bucket.
pub const METRICS_KEY: &str = "metrics.json";

/// A versioned document kept beside the snapshot: where it lives and what an absent one is.
pub trait StoredDocument: DeserializeOwned + Send + Sync + 'static {
    /// Its key in the data bucket.
    const KEY: &'static str;
    /// Its local file: `x.json` -> `x.{SUFFIX}.json`.
    const SUFFIX: &'static str;
    /// The newest shape this build reads.
    const FORMAT: u32;
    /// Its shape version.
    fn format(&self) -> u32;
    /// What no document yet means.
    fn empty() -> Self;
}

/// A document whose `format` field and `empty()` are its shape version and its absence.
macro_rules! stored_document {
    ($doc:ty, $key:expr, $suffix:literal, $format:expr) => {
        impl StoredDocument for $doc {
            const KEY: &'static str = $key;
            const SUFFIX: &'static str = $suffix;
            const FORMAT: u32 = $format;
            fn format(&self) -> u32 {
                self.format
            }
            fn empty() -> Self {
                <$doc>::empty()
            }
        }
    };
}

stored_document!(CostStore, COSTS_KEY, "costs", COST_STORE_FORMAT);
stored_document!(MetricsDocument, METRICS_KEY, "metrics", METRICS_FORMAT);
stored_document!(UsageLedger, USAGE_KEY, "usage", USAGE_FORMAT);

/// Reads the cost store.
#[async_trait]
pub trait CostReader: Send + Sync {
    /// The current store (empty when no cost data exists yet).
    async fn costs(&self) -> Result<Arc<CostStore>, DataError>;
}

/// Reads the usage ledger.
#[async_trait]
pub trait UsageReader: Send + Sync {
    /// The current ledger (empty before the first sync that keeps one).
    async fn usage(&self) -> Result<Arc<UsageLedger>, DataError>;
}

/// The ledger `reader` holds, for naming causes; `None` without a reader or when it cannot be
/// read (the caller goes on without causes: they explain, they are never needed).
pub async fn usage_if_any(reader: Option<&dyn UsageReader>) -> Option<Arc<UsageLedger>> {
    match reader?.usage().await {
        Ok(ledger) => Some(ledger),
        Err(e) => {
            tracing::warn!(error = %e, "usage ledger unreadable: cost changes name no causes");
            None
        }
    }
}

/// Reads a document kept beside the snapshot (the metrics; the cost store and the ledger
/// have readers of their own, older than this one).
#[async_trait]
pub trait DocumentReader<T>: Send + Sync {
    /// The current document (empty before the first sync that writes one).
    async fn read(&self) -> Result<Arc<T>, DataError>;
}

/// Reads the fleet's daily metrics.
pub type MetricsReader = dyn DocumentReader<MetricsDocument>;

/// The document `reader` holds; `None` without a reader or when it cannot be read (the
/// caller goes on without what it adds, saying so).
pub async fn document_if_any<T: StoredDocument>(reader: Option<&dyn DocumentReader<T>>) -> Option<Arc<T>> {
    match reader?.read().await {
        Ok(doc) => Some(doc),
        Err(e) => {
            tracing::warn!(error = %e, document = T::KEY, "unreadable: going on without it");
            None
        }
    }
}

/// A document held in memory (tests, tools).
pub struct InMemoryDocument<T>(pub Arc<T>);

#[async_trait]
impl<T: StoredDocument> DocumentReader<T> for InMemoryDocument<T> {
    async fn read(&self) -> Result<Arc<T>, DataError> {
        Ok(Arc::clone(&self.0))
    }
}

/// A cost store held in memory (tests, tools).
pub struct InMemoryCosts(pub Arc<CostStore>);

#[async_trait]
impl CostReader for InMemoryCosts {
    async fn costs(&self) -> Result<Arc<CostStore>, DataError> {
        Ok(Arc::clone(&self.0))
    }
}

/// A usage ledger held in memory (tests, tools).
pub struct InMemoryUsage(pub Arc<UsageLedger>);

#[async_trait]
impl UsageReader for InMemoryUsage {
    async fn usage(&self) -> Result<Arc<UsageLedger>, DataError> {
        Ok(Arc::clone(&self.0))
    }
}

/// A document file, read again when its modification time changes.
pub struct LocalDocumentReader<T> {
    path: PathBuf,
    cached: Mutex<Option<(Option<SystemTime>, Arc<T>)>>,
}

/// The local cost store.
pub type LocalCostReader = LocalDocumentReader<CostStore>;

impl<T: StoredDocument> LocalDocumentReader<T> {
    /// Reads `path` (see [`super::document_path`]).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalDocumentReader { path: path.into(), cached: Mutex::new(None) }
    }

    /// The document, read again if the file changed.
    pub fn load(&self) -> Result<Arc<T>, DataError> {
        let modified = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        let mut cached =
            self.cached.lock().map_err(|_| DataError::Store(format!("{} lock poisoned", T::KEY)))?;
        if let Some((at, doc)) = cached.as_ref()
            && *at == modified
        {
            return Ok(Arc::clone(doc));
        }
        let doc = Arc::new(read_document::<T>(&self.path)?);
        *cached = Some((modified, Arc::clone(&doc)));
        Ok(doc)
    }
}

#[async_trait]
impl CostReader for LocalDocumentReader<CostStore> {
    async fn costs(&self) -> Result<Arc<CostStore>, DataError> {
        self.load()
    }
}

#[async_trait]
impl UsageReader for LocalDocumentReader<UsageLedger> {
    async fn usage(&self) -> Result<Arc<UsageLedger>, DataError> {
        self.load()
    }
}

#[async_trait]
impl<T: StoredDocument> DocumentReader<T> for LocalDocumentReader<T> {
    async fn read(&self) -> Result<Arc<T>, DataError> {
        self.load()
    }
}
