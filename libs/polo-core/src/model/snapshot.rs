use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Change, CostFacts, Finding, Index, Instance};

/// The combined snapshot of the whole fleet: what every list page reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Everything {
    /// When the combine step built it.
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// The version of the price table its run-rates were meant for.
    #[serde(default)]
    pub price_table_version: String,
    /// Every configured account, with how each of its sync documents fared.
    pub accounts: Vec<AccountSync>,
    pub instances: Vec<Instance>,
    pub indexes: Vec<Index>,
    /// The cost facts inventory pages show (the daily costs are in the cost store).
    #[serde(default)]
    pub cost_facts: CostFacts,
    /// Every change syncs have seen, oldest first (the local stand-in for the history items
    /// of the resource table).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<Change>,
    /// Cloud Cop findings, open and resolved (the local stand-in for the Cop's store).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
}

/// One account and the state of each document its sync wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountSync {
    pub name: String,
    pub id: String,
    pub kind: AccountKind,
    pub documents: Vec<DocumentStatus>,
}

/// How one resource/account/region sync document fared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentStatus {
    pub resource: ResourceKind,
    /// The region, or `global` for costs.
    pub region: String,
    /// When its items were last pulled successfully.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub synced_at: Option<OffsetDateTime>,
    pub status: SyncStatus,
    /// Why the last pull failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
}

/// The kinds of resource a sync pulls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Instances,
    Indexes,
    Costs,
}

impl ResourceKind {
    /// `instances`, `indexes` or `costs`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Instances => "instances",
            ResourceKind::Indexes => "indexes",
            ResourceKind::Costs => "costs",
        }
    }
}

impl ResourceKind {
    /// How old a successful pull may be before its data counts as stale: the inventory is
    /// synced every few minutes, Cost Explorer data only a few times a day.
    pub fn stale_after(self) -> Duration {
        match self {
            ResourceKind::Instances | ResourceKind::Indexes => Duration::hours(2),
            ResourceKind::Costs => Duration::hours(36),
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the last pull of a document worked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyncStatus {
    Ok,
    Error,
}

/// What an account is for; rules may differ by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Prod,
    Staging,
    Dev,
}

impl AccountKind {
    /// `prod`, `staging` or `dev`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Prod => "prod",
            AccountKind::Staging => "staging",
            AccountKind::Dev => "dev",
        }
    }
}

impl fmt::Display for AccountKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AccountSync {
    /// The oldest successful pull of its inventory (instances and indexes) documents;
    /// `None` when one never succeeded.
    pub fn inventory_synced_at(&self) -> Option<OffsetDateTime> {
        self.documents
            .iter()
            .filter(|d| d.resource != ResourceKind::Costs)
            .map(|d| d.synced_at)
            .try_fold(None, |acc: Option<OffsetDateTime>, t| t.map(|t| Some(acc.map_or(t, |a| a.min(t)))))
            .flatten()
    }

    /// The documents whose last pull failed.
    pub fn failures(&self) -> impl Iterator<Item = &DocumentStatus> {
        self.documents.iter().filter(|d| d.status == SyncStatus::Error)
    }

    /// Stale when a pull failed, a document never synced, or one is older than its
    /// resource's [`ResourceKind::stale_after`].
    pub fn is_stale(&self, now: OffsetDateTime) -> bool {
        self.documents.iter().any(|d| {
            d.status == SyncStatus::Error || d.synced_at.is_none_or(|t| now - t > d.resource.stale_after())
        })
    }
}
