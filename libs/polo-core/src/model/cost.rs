use std::fmt;

use serde::{Deserialize, Serialize};
use time::Date;

use crate::Money;

/// One day's unblended cost of one key of one Cost Explorer grouping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostRow {
    pub date: Date,
    pub dimension: CostDimension,
    /// The index id, account id or service name; empty for cost that carries no index tag.
    pub key: String,
    pub amount: Money,
}

/// The groupings Polo asks Cost Explorer for. Each covers the whole bill, so each sums
/// to the same daily total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CostDimension {
    /// By the index cost-allocation tag.
    Index,
    /// By linked account id.
    Account,
    /// By AWS service name.
    Service,
}

impl CostDimension {
    /// `index`, `account` or `service`.
    pub fn as_str(self) -> &'static str {
        match self {
            CostDimension::Index => "index",
            CostDimension::Account => "account",
            CostDimension::Service => "service",
        }
    }
}

impl fmt::Display for CostDimension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
