use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A customer search index, as its account's index registry describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    pub index_id: String,
    pub name: String,
    /// The configured name of the account whose registry lists it.
    pub account: String,
    pub region: String,
    /// The registry's `customer_id`.
    pub customer: String,
    pub status: IndexStatus,
    /// When the index entered its status: the registry's `updated_at`.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub status_since: Option<OffsetDateTime>,
    pub inference_type: String,
    pub inference_count: u32,
    pub storage_class: String,
    pub shards: u32,
    pub replicas: u32,
    pub marqo_version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Index {
    /// Whether it is the index `index_id` of `account` and `region`.
    pub fn is_at(&self, index_id: &str, account: &str, region: &str) -> bool {
        self.index_id == index_id && self.account == account && self.region == region
    }
}

/// An index's identity as one string, `{index_id}#{account}#{region}`: registries in two
/// accounts or regions may hold the same id (a global table, ids reused between
/// environments), so the id alone names no index. The id comes first, so every scope of an
/// id shares the prefix `{index_id}#`.
pub fn index_key(index_id: &str, account: &str, region: &str) -> String {
    format!("{index_id}#{account}#{region}")
}

/// The index that an instance of `account` and `region` tagged with an id serves, among
/// `candidates` (every scope that holds the id, in order): the one in its own account and
/// region, else one in its own account, else the first.
pub fn resolve<'a>(candidates: &[&'a Index], account: &str, region: &str) -> Option<&'a Index> {
    resolve_position(candidates, account, region).map(|p| candidates[p])
}

/// Where in `candidates` the index [`resolve`] chooses is.
pub fn resolve_position<I: std::borrow::Borrow<Index>>(
    candidates: &[I],
    account: &str,
    region: &str,
) -> Option<usize> {
    let of = |x: &I| x.borrow().account == account;
    candidates
        .iter()
        .position(|x| of(x) && x.borrow().region == region)
        .or_else(|| candidates.iter().position(of))
        .or((!candidates.is_empty()).then_some(0))
}

/// The lifecycle status of an index in its registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum IndexStatus {
    Creating,
    Ready,
    Modifying,
    Deleting,
    Failed,
}

impl IndexStatus {
    /// Every status.
    pub const ALL: [IndexStatus; 5] = [
        IndexStatus::Creating,
        IndexStatus::Ready,
        IndexStatus::Modifying,
        IndexStatus::Deleting,
        IndexStatus::Failed,
    ];

    /// The registry's spelling (`READY`).
    pub fn as_str(self) -> &'static str {
        match self {
            IndexStatus::Creating => "CREATING",
            IndexStatus::Ready => "READY",
            IndexStatus::Modifying => "MODIFYING",
            IndexStatus::Deleting => "DELETING",
            IndexStatus::Failed => "FAILED",
        }
    }

    /// True for the statuses an index should only pass through.
    pub fn is_transitional(self) -> bool {
        !matches!(self, IndexStatus::Ready)
    }
}

impl fmt::Display for IndexStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
