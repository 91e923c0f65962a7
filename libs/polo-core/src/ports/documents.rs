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

/// The key of the same snapshot in the binary layout route functions read
/// ([`crate::model::binary`]); the sync writes it before [`SNAPSHOT_KEY`].
pub const SNAPSHOT_BINARY_KEY: &str = "snapshot.bin";

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

/// A [`SyncStore`] that remembers the documents written through it, and answers their reads
/// from memory: a sync's combine reads back every document its pulls have just written (2,416
/// of them at the huge scale), so one run over it reads from the store only the documents
/// its pulls did not write.
pub struct Remembering {
    inner: std::sync::Arc<dyn SyncStore>,
    written: std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl Remembering {
    /// `inner`, remembering what is written through it from now on.
    pub fn new(inner: std::sync::Arc<dyn SyncStore>) -> Remembering {
        Remembering { inner, written: std::sync::Mutex::new(std::collections::HashMap::new()) }
    }

    /// How many documents it holds.
    pub fn remembered(&self) -> usize {
        self.written.lock().map_or(0, |w| w.len())
    }
}

#[async_trait]
impl SyncStore for Remembering {
    async fn read_document(
        &self,
        account: &str,
        region: &str,
        resource: ResourceKind,
    ) -> Result<Option<Vec<u8>>, DataError> {
        let key = document_key(account, region, resource);
        let held = self.written.lock().ok().and_then(|w| w.get(&key).cloned());
        match held {
            Some(bytes) => Ok(Some(bytes)),
            None => self.inner.read_document(account, region, resource).await,
        }
    }

    async fn write_document(
        &self,
        account: &str,
        region: &str,
        resource: ResourceKind,
        bytes: Vec<u8>,
    ) -> Result<(), DataError> {
        self.inner.write_document(account, region, resource, bytes.clone()).await?;
        if let Ok(mut written) = self.written.lock() {
            written.insert(document_key(account, region, resource), bytes);
        }
        Ok(())
    }

    async fn read_snapshot(&self) -> Result<Option<Vec<u8>>, DataError> {
        self.inner.read_snapshot().await
    }

    async fn write_snapshot(&self, bytes: Vec<u8>) -> Result<(), DataError> {
        self.inner.write_snapshot(bytes).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Documents in memory, counting the reads that reach it.
    #[derive(Default)]
    struct Counting {
        documents: Mutex<HashMap<String, Vec<u8>>>,
        reads: AtomicUsize,
    }

    #[async_trait]
    impl SyncStore for Counting {
        async fn read_document(
            &self,
            a: &str,
            r: &str,
            k: ResourceKind,
        ) -> Result<Option<Vec<u8>>, DataError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(self.documents.lock().unwrap().get(&document_key(a, r, k)).cloned())
        }
        async fn write_document(
            &self,
            a: &str,
            r: &str,
            k: ResourceKind,
            b: Vec<u8>,
        ) -> Result<(), DataError> {
            self.documents.lock().unwrap().insert(document_key(a, r, k), b);
            Ok(())
        }
        async fn read_snapshot(&self) -> Result<Option<Vec<u8>>, DataError> {
            Ok(None)
        }
        async fn write_snapshot(&self, _bytes: Vec<u8>) -> Result<(), DataError> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn what_a_run_wrote_is_read_back_from_memory_and_the_rest_from_the_store() {
        let inner = Arc::new(Counting::default());
        inner.write_document("a", "r", ResourceKind::Indexes, b"old".to_vec()).await.unwrap();
        let store = Remembering::new(inner.clone());
        store.write_document("a", "r", ResourceKind::Instances, b"new".to_vec()).await.unwrap();
        let written = store.read_document("a", "r", ResourceKind::Instances).await.unwrap();
        assert_eq!(written.as_deref(), Some(&b"new"[..]));
        assert_eq!(inner.reads.load(Ordering::SeqCst), 0, "from memory");
        let document = inner.read_document("a", "r", ResourceKind::Instances).await.unwrap();
        assert_eq!(document.as_deref(), Some(&b"new"[..]), "and in the store");
        let other = store.read_document("a", "r", ResourceKind::Indexes).await.unwrap();
        assert_eq!(other.as_deref(), Some(&b"old"[..]), "what it did not write comes from the store");
        assert_eq!(store.remembered(), 1);
    }
}
