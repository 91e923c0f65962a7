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
    /// The keys readers look for it under, the first one there: a document also kept in a
    /// layout made for reading (the cost store's `costs.bin`) names that one before its JSON.
    const READ_KEYS: &'static [&'static str] = &[Self::KEY];
    /// The document in `bytes`, in any layout it is kept in (JSON unless it says otherwise).
    fn decode(bytes: &[u8]) -> Result<Self, String> {
        crate::json::decode(bytes)
    }
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

/// The key of the cost store in its binary layout ([`crate::model::cost_binary`]), which route
/// functions read first.
pub const COSTS_BINARY_KEY: &str = "costs.bin";

impl StoredDocument for CostStore {
    const KEY: &'static str = COSTS_KEY;
    const SUFFIX: &'static str = "costs";
    const FORMAT: u32 = COST_STORE_FORMAT;
    const READ_KEYS: &'static [&'static str] = &[COSTS_BINARY_KEY, COSTS_KEY];
    fn format(&self) -> u32 {
        self.format
    }
    fn empty() -> Self {
        CostStore::empty()
    }
    fn decode(bytes: &[u8]) -> Result<Self, String> {
        if crate::model::cost_binary::is_binary(bytes) {
            crate::model::cost_binary::decode(bytes)
        } else {
            crate::json::decode(bytes)
        }
    }
}
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
    /// The files it may be in, in [`StoredDocument::READ_KEYS`] order.
    paths: Vec<PathBuf>,
    /// The file read, when it was modified, the document.
    cached: Mutex<Option<Loaded<T>>>,
}

type Loaded<T> = (PathBuf, Option<SystemTime>, Arc<T>);

/// The local cost store.
pub type LocalCostReader = LocalDocumentReader<CostStore>;

impl<T: StoredDocument> LocalDocumentReader<T> {
    /// Reads the document kept beside the snapshot at `snapshot` ([`super::document_paths`]):
    /// of its files, the one modified last (the first on a tie), so a JSON file edited or
    /// written after the binary one is what shows.
    pub fn beside(snapshot: &std::path::Path) -> Self {
        LocalDocumentReader { paths: super::document_paths::<T>(snapshot), cached: Mutex::new(None) }
    }

    /// The document, read again if its file changed.
    pub fn load(&self) -> Result<Arc<T>, DataError> {
        let modified = |p: &PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let mut newest: Option<(&PathBuf, SystemTime)> = None;
        for path in &self.paths {
            if let Some(at) = modified(path)
                && newest.is_none_or(|(_, n)| at > n)
            {
                newest = Some((path, at));
            }
        }
        // None there: the last one, which reads as the empty document.
        let (path, at) = match newest {
            Some((path, at)) => (path, Some(at)),
            None => {
                (self.paths.last().ok_or_else(|| DataError::Store(format!("{}: no file", T::KEY)))?, None)
            }
        };
        let mut cached =
            self.cached.lock().map_err(|_| DataError::Store(format!("{} lock poisoned", T::KEY)))?;
        if let Some((read, when, doc)) = cached.as_ref()
            && read == path
            && *when == at
        {
            return Ok(Arc::clone(doc));
        }
        let doc = Arc::new(read_document::<T>(path)?);
        *cached = Some((path.clone(), at, Arc::clone(&doc)));
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::model::CostDimension;

    fn store(cents: i64) -> CostStore {
        let mut store = CostStore::empty();
        store.dimensions.insert(CostDimension::Account, BTreeMap::from([("1".to_owned(), vec![cents])]));
        store
    }

    fn write(path: &std::path::Path, bytes: &[u8], at: SystemTime) {
        std::fs::write(path, bytes).unwrap();
        std::fs::File::options().write(true).open(path).unwrap().set_modified(at).unwrap();
    }

    #[test]
    fn the_local_cost_store_is_the_newest_of_its_two_layouts() {
        let dir = std::env::temp_dir().join(format!("polo-cost-layouts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let snapshot = dir.join("x.json");
        let [bin, json] =
            <[PathBuf; 2]>::try_from(crate::ports::document_paths::<CostStore>(&snapshot)).unwrap();
        assert_eq!(
            (bin.file_name().unwrap(), json.file_name().unwrap()),
            ("x.costs.bin".as_ref(), "x.costs.json".as_ref())
        );
        let reader = LocalCostReader::beside(&snapshot);
        assert_eq!(*reader.load().unwrap(), CostStore::empty(), "neither there: no cost data yet");
        let t = SystemTime::UNIX_EPOCH + Duration::from_hours(500_000);
        write(&json, &serde_json::to_vec(&store(1)).unwrap(), t);
        assert_eq!(*reader.load().unwrap(), store(1));
        write(&bin, &crate::model::cost_binary::encode(&store(2)), t + Duration::from_secs(1));
        assert_eq!(*reader.load().unwrap(), store(2), "the binary one, written after");
        // The JSON edited after it (by hand, or a local tool that writes JSON only) shows.
        write(&json, &serde_json::to_vec(&store(3)).unwrap(), t + Duration::from_secs(2));
        assert_eq!(*reader.load().unwrap(), store(3));
        // Written at once: the binary one.
        write(&bin, &crate::model::cost_binary::encode(&store(4)), t + Duration::from_secs(2));
        assert_eq!(*reader.load().unwrap(), store(4));
        // A damaged binary one is refused by name, not misread.
        write(&bin, b"POLOCOST", t + Duration::from_secs(3));
        let error = reader.load().unwrap_err().to_string();
        assert!(error.contains("x.costs.bin") && error.contains("truncated"), "{error}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
