use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{ResourceKind, SyncStatus};

/// The shape version this build writes. Version 1 documents (written before the field
/// existed) have the same fields and read as they are; a version above this one was written
/// by a newer Polo and is never read or overwritten by this one.
pub const SYNC_DOCUMENT_FORMAT: u32 = 2;

fn format_v1() -> u32 {
    1
}

/// What one pull of one resource in one account and region left behind
/// (`data/sync/{account}/{region}/{resource}.json`, S3 `sync/…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDocument<T> {
    /// The shape version ([`SYNC_DOCUMENT_FORMAT`]); absent means 1.
    #[serde(default = "format_v1")]
    pub format: u32,
    pub account: String,
    /// The region, or `global`.
    pub region: String,
    pub resource: ResourceKind,
    /// When `items` were pulled: the last successful pull.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub synced_at: Option<OffsetDateTime>,
    /// When the last pull, successful or not, was tried.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub attempted_at: Option<OffsetDateTime>,
    pub status: SyncStatus,
    /// Why the last pull failed.
    #[serde(default)]
    pub error: Option<String>,
    /// Items skipped or oddities met on a pull that still worked (a malformed registry item).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The items of the last successful pull: a failed pull keeps them.
    pub items: Vec<T>,
}

impl<T> SyncDocument<T> {
    /// The document of a successful pull.
    pub fn ok(
        account: &str,
        region: &str,
        resource: ResourceKind,
        items: Vec<T>,
        now: OffsetDateTime,
    ) -> Self {
        SyncDocument {
            format: SYNC_DOCUMENT_FORMAT,
            account: account.to_owned(),
            region: region.to_owned(),
            resource,
            synced_at: Some(now),
            attempted_at: Some(now),
            status: SyncStatus::Ok,
            error: None,
            warnings: Vec::new(),
            items,
        }
    }

    /// The document of a failed pull: the previous document's items and `synced_at` stay.
    pub fn failed(
        previous: Option<SyncDocument<T>>,
        account: &str,
        region: &str,
        resource: ResourceKind,
        error: String,
        now: OffsetDateTime,
    ) -> Self {
        let (synced_at, items) = previous.map_or((None, Vec::new()), |p| (p.synced_at, p.items));
        SyncDocument {
            format: SYNC_DOCUMENT_FORMAT,
            account: account.to_owned(),
            region: region.to_owned(),
            resource,
            synced_at,
            attempted_at: Some(now),
            status: SyncStatus::Error,
            error: Some(error),
            warnings: Vec::new(),
            items,
        }
    }
}

/// Why a stored document could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("written by a newer Polo (format {0}, this build reads up to {SYNC_DOCUMENT_FORMAT})")]
    Newer(u32),
    #[error("unreadable sync document: {0}")]
    Malformed(String),
}

impl<T: serde::de::DeserializeOwned> SyncDocument<T> {
    /// Reads a stored document of this format or an older one.
    pub fn parse(bytes: &[u8]) -> Result<SyncDocument<T>, DocumentError> {
        #[derive(Deserialize)]
        struct Version {
            #[serde(default = "format_v1")]
            format: u32,
        }
        // One parse when the document reads; the version is probed only to explain a failure.
        match serde_json::from_slice::<SyncDocument<T>>(bytes) {
            Ok(doc) if doc.format > SYNC_DOCUMENT_FORMAT => Err(DocumentError::Newer(doc.format)),
            Ok(doc) => Ok(doc),
            Err(e) => match serde_json::from_slice::<Version>(bytes) {
                Ok(v) if v.format > SYNC_DOCUMENT_FORMAT => Err(DocumentError::Newer(v.format)),
                _ => Err(DocumentError::Malformed(e.to_string())),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Instance;

    #[test]
    fn a_version_1_document_reads_and_a_newer_one_is_refused() {
        let v1 = br#"{"account":"prod","region":"us-east-1","resource":"instances","synced_at":"2026-11-24T12:00:00Z","status":"ok","items":[]}"#;
        let doc = SyncDocument::<Instance>::parse(v1).unwrap();
        assert_eq!(doc.format, 1);
        let v9 = br#"{"format":9,"account":"prod","region":"us-east-1","resource":"instances","status":"ok","items":[{"new":"shape"}]}"#;
        assert!(matches!(SyncDocument::<Instance>::parse(v9), Err(DocumentError::Newer(9))));
        assert!(matches!(SyncDocument::<Instance>::parse(b"{"), Err(DocumentError::Malformed(_))));
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::SyncDocument;
    use crate::model::{Index, Instance};

    proptest! {
        #![proptest_config(polo_fuzz::config(256))]

        #[test]
        fn fuzz_sync_document_instances(bytes in polo_fuzz::mutated(polo_fuzz::seed("sync_instances.json"))) {
            if let Err(e) = SyncDocument::<Instance>::parse(&bytes) {
                prop_assert!(!e.to_string().is_empty());
            }
        }

        #[test]
        fn fuzz_sync_document_indexes(bytes in polo_fuzz::mutated(polo_fuzz::seed("sync_indexes.json"))) {
            if let Err(e) = SyncDocument::<Index>::parse(&bytes) {
                prop_assert!(!e.to_string().is_empty());
            }
        }

        #[test]
        fn fuzz_sync_document_reshaped(doc in polo_fuzz::mutated_json(
            serde_json::from_slice(&polo_fuzz::seed("sync_instances.json")).unwrap_or_default(),
            &["format", "account", "region", "resource", "instances", "indexes", "costs", "synced_at", "status",
              "ok", "error", "items", "id", "state", "running", "launch_time", "tags", "2026-11-24T12:00:00Z"],
        )) {
            let bytes = serde_json::to_vec(&doc).unwrap_or_default();
            if let Err(e) = SyncDocument::<Instance>::parse(&bytes) {
                prop_assert!(!e.to_string().is_empty());
            }
        }

        #[test]
        fn fuzz_sync_document_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let starts_an_object = bytes.first() == Some(&b'{');
            prop_assert!(SyncDocument::<Instance>::parse(&bytes).is_err() || starts_an_object, "{:?}", bytes);
        }
    }
}
