use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use async_trait::async_trait;

use super::{ChangeReader, DataError, FindingReader, FleetReader, ResourceReader};
use crate::model::{Change, Everything, Finding, Fleet, Index, Instance, ResourceKind};

/// Reads a snapshot file (`local_data.json`) or an in-memory snapshot. A file is read
/// again when its modification time changes, so a `polo sync` shows without a restart; a
/// changed file that cannot be read leaves the last good snapshot served, and says why
/// ([`FleetReader::problem`]) until a good one replaces it.
pub struct LocalDataService {
    path: Option<PathBuf>,
    current: RwLock<Loaded>,
}

struct Loaded {
    modified: Option<SystemTime>,
    /// `None` until a lazily opened file is first read.
    fleet: Option<Arc<Fleet>>,
    /// A version of the file (by modification time) that could not be read, and why: kept so
    /// it is not read again on every request.
    broken: Option<Broken>,
}

struct Broken {
    modified: Option<SystemTime>,
    source_name: String,
    problem: String,
}

impl Broken {
    fn error(&self) -> DataError {
        DataError::Unreadable { source_name: self.source_name.clone(), problem: self.problem.clone() }
    }
}

fn poisoned() -> DataError {
    DataError::Store("snapshot lock poisoned".into())
}

impl LocalDataService {
    /// Serves a snapshot held in memory.
    pub fn from_snapshot(everything: Everything) -> Self {
        LocalDataService {
            path: None,
            current: RwLock::new(Loaded {
                modified: None,
                fleet: Some(Arc::new(Fleet::new(everything))),
                broken: None,
            }),
        }
    }

    /// Serves the snapshot file at `path`, failing now if it cannot be read.
    pub fn from_file(path: &Path) -> Result<Self, DataError> {
        let service = LocalDataService::on_first_use(path);
        service.current()?;
        Ok(service)
    }

    /// Serves the snapshot file at `path`, read on first use, as the S3 snapshot is: a
    /// function's start does not wait for it (an unreadable file is the first request's error).
    pub fn on_first_use(path: &Path) -> Self {
        LocalDataService {
            path: Some(path.to_path_buf()),
            current: RwLock::new(Loaded { modified: None, fleet: None, broken: None }),
        }
    }

    /// The snapshot as loaded now (read again if its file changed).
    pub fn loaded(&self) -> Result<Arc<Fleet>, DataError> {
        self.current()
    }

    fn current(&self) -> Result<Arc<Fleet>, DataError> {
        let loaded = self.current.read().map_err(|_| poisoned())?;
        let Some(path) = &self.path else { return loaded.fleet.clone().ok_or_else(poisoned) };
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let known_broken = loaded.broken.as_ref().filter(|b| b.modified == modified);
        match (&loaded.fleet, known_broken) {
            (Some(fleet), _) if modified == loaded.modified || known_broken.is_some() => {
                return Ok(Arc::clone(fleet));
            }
            // Never read, and this version is known unreadable: the same error, not a re-read.
            (None, Some(broken)) => return Err(broken.error()),
            _ => {}
        }
        drop(loaded);
        match read_file(path) {
            Ok((modified, fleet)) => {
                let fleet = Arc::new(fleet);
                let mut loaded = self.current.write().map_err(|_| poisoned())?;
                if loaded.fleet.is_some() {
                    tracing::info!(path = %path.display(), "snapshot reloaded");
                }
                *loaded = Loaded { modified, fleet: Some(Arc::clone(&fleet)), broken: None };
                Ok(fleet)
            }
            Err(e) => {
                let mut loaded = self.current.write().map_err(|_| poisoned())?;
                let (source_name, problem) = match &e {
                    DataError::Unreadable { source_name, problem } => (source_name.clone(), problem.clone()),
                    other => (path.display().to_string(), other.to_string()),
                };
                loaded.broken = Some(Broken { modified, source_name, problem });
                // A half-written or broken file never replaces what was served.
                let Some(fleet) = loaded.fleet.clone() else { return Err(e) };
                tracing::warn!(error = %e, "snapshot changed but cannot be read; serving the previous one");
                Ok(fleet)
            }
        }
    }
}

fn read_file(path: &Path) -> Result<(Option<SystemTime>, Fleet), DataError> {
    let name = path.display().to_string();
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let bytes = std::fs::read(path)
        .map_err(|e| DataError::Unreadable { source_name: name.clone(), problem: e.to_string() })?;
    Ok((modified, open_snapshot(bytes, &name)?))
}

/// Where the document `T` of the snapshot at `snapshot` lives: `x.json` -> `x.costs.json`,
/// `x.usage.json`.
pub fn document_path<T: super::StoredDocument>(snapshot: &Path) -> PathBuf {
    let stem = snapshot.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    snapshot.with_file_name(format!("{stem}.{}.json", T::SUFFIX))
}

/// Every file the document `T` of the snapshot at `snapshot` may be read from, one per key
/// it is read under ([`super::StoredDocument::READ_KEYS`]): `x.json` -> `x.costs.bin`,
/// `x.costs.json`.
pub fn document_paths<T: super::StoredDocument>(snapshot: &Path) -> Vec<PathBuf> {
    let stem = snapshot.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    T::READ_KEYS.iter().map(|key| snapshot.with_file_name(format!("{stem}.{key}"))).collect()
}

/// Where the cost store of the snapshot at `snapshot` lives: `x.json` -> `x.costs.json`.
pub fn cost_store_path(snapshot: &Path) -> PathBuf {
    document_path::<crate::model::CostStore>(snapshot)
}

/// Reads a document file; a missing file is an empty document (nothing synced yet), one of
/// a newer shape is refused.
pub fn read_document<T: super::StoredDocument>(path: &Path) -> Result<T, DataError> {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => {
            let doc: T = T::decode(&bytes)
                .map_err(|problem| DataError::Unreadable { source_name: name.clone(), problem })?;
            if doc.format() > T::FORMAT {
                return Err(DataError::Unreadable {
                    source_name: name,
                    problem: format!("format {} is newer than this build reads", doc.format()),
                });
            }
            Ok(doc)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(T::empty()),
        Err(e) => Err(DataError::Unreadable { source_name: name, problem: e.to_string() }),
    }
}

/// Reads a cost store file; a missing file is an empty store (no cost data yet).
pub fn read_cost_store(path: &Path) -> Result<crate::model::CostStore, DataError> {
    read_document(path)
}

/// Parses a snapshot in either layout: the binary one ([`crate::model::binary`], known by
/// its first bytes) or JSON, whose errors name the field path that is wrong.
pub fn parse_snapshot_bytes(bytes: &[u8], source_name: &str) -> Result<Everything, DataError> {
    let parsed = if crate::model::binary::is_binary(bytes) {
        crate::model::binary::decode(bytes)
    } else {
        crate::json::decode(bytes)
    };
    parsed.map_err(|problem| DataError::Unreadable { source_name: source_name.to_owned(), problem })
}

/// A snapshot in either layout as a [`Fleet`] for pages: a binary one is opened
/// ([`Fleet::open_binary`]: checked in full, its instances built when first asked for), a
/// JSON one parsed.
pub fn open_snapshot(bytes: Vec<u8>, source_name: &str) -> Result<Fleet, DataError> {
    let unreadable = |problem| DataError::Unreadable { source_name: source_name.to_owned(), problem };
    if crate::model::binary::is_binary(&bytes) {
        Fleet::open_binary(bytes).map_err(unreadable)
    } else {
        crate::json::decode(&bytes).map(Fleet::new).map_err(unreadable)
    }
}

/// Parses a snapshot from text; errors name `source_name` and the JSON path.
pub fn parse_snapshot(json: &str, source_name: &str) -> Result<Everything, DataError> {
    parse_snapshot_bytes(json.as_bytes(), source_name)
}

#[async_trait]
impl FleetReader for LocalDataService {
    async fn fleet(&self) -> Result<Arc<Fleet>, DataError> {
        self.current()
    }

    fn problem(&self) -> Option<String> {
        let loaded = self.current.read().ok()?;
        let broken = loaded.broken.as_ref()?;
        loaded.fleet.as_ref()?;
        // Only while the file is still that unreadable version (not put back as it was).
        let path = self.path.as_ref()?;
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        (broken.modified == modified).then(|| {
            format!(
                "the snapshot file changed but cannot be read ({}); showing the last good one",
                broken.error()
            )
        })
    }
}

#[async_trait]
impl ResourceReader for LocalDataService {
    async fn instance(&self, id: &str) -> Result<Option<Instance>, DataError> {
        Ok(self.current()?.instance(id).cloned())
    }

    async fn indexes(&self, index_id: &str) -> Result<Vec<Index>, DataError> {
        Ok(self.current()?.indexes_with_id(index_id).cloned().collect())
    }

    async fn instances_of_index(&self, index: &Index) -> Result<Vec<Instance>, DataError> {
        let fleet = self.current()?;
        let mut instances: Vec<Instance> = fleet.instances_of(index).cloned().collect();
        instances.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(instances)
    }

    async fn history(&self, kind: ResourceKind, key: &str) -> Result<Vec<Change>, DataError> {
        let fleet = self.current()?;
        let mut changes: Vec<Change> =
            fleet.history().iter().filter(|c| c.resource == kind && c.key() == key).cloned().collect();
        changes.sort_by_key(|c| c.at);
        Ok(changes)
    }
}

#[async_trait]
impl ChangeReader for LocalDataService {
    async fn changes_between(
        &self,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
    ) -> Result<Vec<Change>, DataError> {
        let fleet = self.current()?;
        let mut changes: Vec<Change> =
            fleet.history().iter().filter(|c| c.at >= start && c.at < end).cloned().collect();
        changes.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        Ok(changes)
    }
}

#[async_trait]
impl FindingReader for LocalDataService {
    async fn open_findings(&self) -> Result<Vec<Finding>, DataError> {
        let fleet = self.current()?;
        Ok(fleet.findings().iter().filter(|f| f.resolved_at.is_none()).cloned().collect())
    }

    async fn all_findings(&self) -> Result<Vec<Arc<Finding>>, DataError> {
        Ok(self.current()?.findings().iter().cloned().map(Arc::new).collect())
    }

    async fn findings_for(&self, kind: ResourceKind, id: &str) -> Result<Vec<Finding>, DataError> {
        let fleet = self.current()?;
        let mut found: Vec<Finding> = fleet
            .findings()
            .iter()
            .filter(|f| f.resource_kind == kind && f.resource_id == id)
            .cloned()
            .collect();
        found.sort_by(|a, b| {
            a.resolved_at.is_some().cmp(&b.resolved_at.is_some()).then(b.last_seen.cmp(&a.last_seen))
        });
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::conformance;
    use crate::sample::{Scale, generate};
    use time::macros::datetime;

    #[tokio::test]
    async fn passes_the_shared_behaviour_suite() {
        let sample = generate(42, Scale::Small, datetime!(2026-11-24 12:00 UTC));
        conformance::check(&LocalDataService::from_snapshot(sample.clone()), &sample).await.unwrap();
    }

    #[tokio::test]
    async fn rereads_a_changed_file_and_keeps_serving_through_a_broken_one() {
        let dir = std::env::temp_dir().join(format!("polo-local-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("snapshot.json");
        let first = generate(1, Scale::Small, datetime!(2026-11-24 12:00 UTC));
        std::fs::write(&path, serde_json::to_vec(&first).unwrap()).unwrap();
        let service = LocalDataService::from_file(&path).unwrap();
        assert_eq!(service.fleet().await.unwrap().instances(), first.instances.as_slice());
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&path, b"{ half a file").unwrap();
        assert_eq!(
            service.fleet().await.unwrap().instances(),
            first.instances.as_slice(),
            "a broken file is not served"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = generate(2, Scale::Small, datetime!(2026-11-24 12:00 UTC));
        std::fs::write(&path, serde_json::to_vec(&second).unwrap()).unwrap();
        assert_eq!(service.fleet().await.unwrap().instances(), second.instances.as_slice());
        let broken = LocalDataService::from_file(&dir.join("nosuch.json")).err().unwrap().to_string();
        assert!(broken.starts_with("cannot read"), "{broken}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn a_truncated_or_corrupt_binary_snapshot_keeps_the_last_good_one_served() {
        use crate::model::binary;
        let dir = std::env::temp_dir().join(format!("polo-local-bin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("snapshot.bin");
        // As a fleet holds it (rows in id order).
        let loaded =
            |seed| Fleet::new(generate(seed, Scale::Small, datetime!(2026-11-24 12:00 UTC))).to_everything();
        let first = loaded(1);
        let good = binary::encode(&first);
        std::fs::write(&path, &good).unwrap();
        let service = LocalDataService::from_file(&path).unwrap();
        assert_eq!(service.fleet().await.unwrap().to_everything(), first);
        let mut corrupt = good.clone();
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 1;
        for (broken, why) in [(good[..good.len() - 1].to_vec(), "truncated"), (corrupt, "checksum")] {
            std::thread::sleep(std::time::Duration::from_millis(20));
            std::fs::write(&path, broken).unwrap();
            assert_eq!(service.fleet().await.unwrap().to_everything(), first, "a {why} file is not served");
            let problem = service.problem().unwrap();
            assert!(problem.contains(why) && problem.contains("snapshot.bin"), "{problem}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = loaded(2);
        std::fs::write(&path, binary::encode(&second)).unwrap();
        assert_eq!(service.fleet().await.unwrap().to_everything(), second);
        assert_eq!(service.problem(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::parse_snapshot_bytes;
    use crate::model::{CostStore, Fleet};

    const SAMPLE: &[u8] = include_bytes!("../../../../data/sample_data.json");

    fn binary_sample() -> Vec<u8> {
        static BINARY: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        BINARY
            .get_or_init(|| crate::model::binary::encode(&parse_snapshot_bytes(SAMPLE, "sample").unwrap()))
            .clone()
    }
    const COSTS: &[u8] = include_bytes!("../../../../data/sample_data.costs.json");

    proptest! {
        #![proptest_config(polo_fuzz::config(64))]

        #[test]
        fn fuzz_snapshot_edited(bytes in polo_fuzz::mutated(SAMPLE.to_vec())) {
            match parse_snapshot_bytes(&bytes, "local_data.json") {
                // What reads must also index: the fleet's lookups are built on load.
                Ok(everything) => drop(Fleet::new(everything)),
                Err(e) => prop_assert!(e.to_string().contains("local_data.json")),
            }
        }

        /// The same, of the sample in the binary layout (its checksum catches most edits;
        /// `model::binary`'s own test rewrites the checksum to reach the decoder).
        #[test]
        fn fuzz_binary_snapshot_edited(bytes in polo_fuzz::mutated(binary_sample())) {
            match parse_snapshot_bytes(&bytes, "snapshot.bin") {
                Ok(everything) => drop(Fleet::new(everything)),
                Err(e) => prop_assert!(e.to_string().contains("snapshot.bin")),
            }
        }

        #[test]
        fn fuzz_cost_store_edited(bytes in polo_fuzz::mutated(COSTS.to_vec())) {
            if let Ok(store) = crate::json::decode::<CostStore>(&bytes) {
                let _ = store.rows().count();
            }
        }
    }
}
