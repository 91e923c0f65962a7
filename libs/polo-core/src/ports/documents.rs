//! Where sync documents and the combined snapshot live: a local folder (here), or the
//! S3 data bucket (`polo-aws`).

use async_trait::async_trait;

use super::DataError;
use crate::model::ResourceKind;

/// The key of a sync document: `sync/{account}/{region}/{resource}.json`.
pub fn document_key(account: &str, region: &str, resource: ResourceKind) -> String {
    format!("sync/{account}/{region}/{resource}.json")
}

/// The key of the combined snapshot.
pub const SNAPSHOT_KEY: &str = "snapshot.json";

/// How often a warm container asks S3 whether the snapshot (or the cost store) changed.
pub const SNAPSHOT_REVALIDATE: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads and writes sync documents and the snapshot. Writes replace whole objects, so a
/// reader never sees half of one.
#[async_trait]
pub trait SyncStore: Send + Sync {
    /// A sync document's bytes, if it exists.
    async fn read_document(
        &self,
        account: &str,
        region: &str,
        resource: ResourceKind,
    ) -> Result<Option<Vec<u8>>, DataError>;
    /// Replaces a sync document.
    async fn write_document(
        &self,
        account: &str,
        region: &str,
        resource: ResourceKind,
        bytes: Vec<u8>,
    ) -> Result<(), DataError>;
    /// The snapshot's bytes, if it exists.
    async fn read_snapshot(&self) -> Result<Option<Vec<u8>>, DataError>;
    /// Replaces the snapshot.
    async fn write_snapshot(&self, bytes: Vec<u8>) -> Result<(), DataError>;
}
