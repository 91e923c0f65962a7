use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{ResourceKind, SyncStatus};

/// What one pull of one resource in one account and region left behind
/// (`data/sync/{account}/{region}/{resource}.json`, S3 `sync/…`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDocument<T> {
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
