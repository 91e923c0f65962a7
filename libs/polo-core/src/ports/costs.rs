//! Reading the cost store: a local file beside the snapshot, or `costs.json` in the data
//! bucket. Loaded on first use, so functions that never show costs never read it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use async_trait::async_trait;

use super::{DataError, read_cost_store};
use crate::model::CostStore;

/// The key of the cost store in the data bucket.
pub const COSTS_KEY: &str = "costs.json";

/// Reads the cost store.
#[async_trait]
pub trait CostReader: Send + Sync {
    /// The current store (empty when no cost data exists yet).
    async fn costs(&self) -> Result<Arc<CostStore>, DataError>;
}

/// A store held in memory (tests, tools).
pub struct InMemoryCosts(pub Arc<CostStore>);

#[async_trait]
impl CostReader for InMemoryCosts {
    async fn costs(&self) -> Result<Arc<CostStore>, DataError> {
        Ok(Arc::clone(&self.0))
    }
}

/// A cost store file, read again when its modification time changes.
pub struct LocalCostReader {
    path: PathBuf,
    cached: Mutex<Option<(Option<SystemTime>, Arc<CostStore>)>>,
}

impl LocalCostReader {
    /// Reads `path` (see [`super::cost_store_path`]).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalCostReader { path: path.into(), cached: Mutex::new(None) }
    }
}

#[async_trait]
impl CostReader for LocalCostReader {
    async fn costs(&self) -> Result<Arc<CostStore>, DataError> {
        let modified = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        let mut cached =
            self.cached.lock().map_err(|_| DataError::Store("cost store lock poisoned".into()))?;
        if let Some((at, store)) = cached.as_ref()
            && *at == modified
        {
            return Ok(Arc::clone(store));
        }
        let store = Arc::new(read_cost_store(&self.path)?);
        *cached = Some((modified, Arc::clone(&store)));
        Ok(store)
    }
}
