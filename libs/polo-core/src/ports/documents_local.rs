use std::path::{Path, PathBuf};

use async_trait::async_trait;

use super::DataError;
use super::SyncStore;
use crate::model::ResourceKind;

/// Sync documents under a folder (`data/sync/{account}/{region}/{resource}.json`) and the
/// snapshot in one file (`local_data.json`).
#[derive(Clone, Debug)]
pub struct LocalStore {
    documents: PathBuf,
    snapshot: PathBuf,
}

impl LocalStore {
    /// Documents under `documents`, the snapshot at `snapshot`.
    pub fn new(documents: impl Into<PathBuf>, snapshot: impl Into<PathBuf>) -> Self {
        LocalStore { documents: documents.into(), snapshot: snapshot.into() }
    }

    fn document_path(&self, account: &str, region: &str, resource: ResourceKind) -> PathBuf {
        self.documents.join(account).join(region).join(format!("{resource}.json"))
    }
}

async fn read(path: &Path) -> Result<Option<Vec<u8>>, DataError> {
    match tokio::fs::read(path).await {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(DataError::Store(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes through a temporary file in the same folder and a rename.
async fn write(path: &Path, bytes: Vec<u8>) -> Result<(), DataError> {
    let fail = |e: std::io::Error| DataError::Store(format!("cannot write {}: {e}", path.display()));
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent).await.map_err(fail)?;
    }
    let tmp = path.with_extension("json.tmp");
    tokio::fs::write(&tmp, bytes).await.map_err(fail)?;
    tokio::fs::rename(&tmp, path).await.map_err(fail)
}

#[async_trait]
impl SyncStore for LocalStore {
    async fn read_document(
        &self,
        account: &str,
        region: &str,
        resource: ResourceKind,
    ) -> Result<Option<Vec<u8>>, DataError> {
        read(&self.document_path(account, region, resource)).await
    }

    async fn write_document(
        &self,
        account: &str,
        region: &str,
        resource: ResourceKind,
        bytes: Vec<u8>,
    ) -> Result<(), DataError> {
        write(&self.document_path(account, region, resource), bytes).await
    }

    async fn read_snapshot(&self) -> Result<Option<Vec<u8>>, DataError> {
        read(&self.snapshot).await
    }

    async fn write_snapshot(&self, bytes: Vec<u8>) -> Result<(), DataError> {
        write(&self.snapshot, bytes).await
    }
}
