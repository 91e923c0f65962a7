use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ResourceKind;

/// One Cloud Cop finding about one resource (CONTRACT.md "Findings").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    /// The rule id (`owner-missing`, …).
    pub rule: String,
    pub severity: Severity,
    pub resource_kind: ResourceKind,
    pub resource_id: String,
    pub account: String,
    pub region: String,
    /// What is wrong and what to do.
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub first_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub last_notified: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub resolved_at: Option<OffsetDateTime>,
    /// What it costs a month (the `fleet-*` rules): positive is waste, negative money the
    /// resource should be costing.
    #[serde(default)]
    pub monthly_cost_impact: Option<crate::money::Money>,
}

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// `info`, `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl crate::listing::Filterable for Finding {
    fn field(&self, field: crate::listing::FilterField) -> Option<&str> {
        use crate::listing::FilterField;
        match field {
            FilterField::Rule => Some(&self.rule),
            FilterField::Severity => Some(self.severity.as_str()),
            FilterField::Account => Some(&self.account),
            FilterField::Region => Some(&self.region),
            FilterField::State => Some(if self.resolved_at.is_some() { "resolved" } else { "open" }),
            _ => None,
        }
    }

    fn search_text(&self) -> String {
        crate::listing::haystack([
            self.rule.as_str(),
            self.resource_id.as_str(),
            self.account.as_str(),
            self.region.as_str(),
            self.message.as_str(),
        ])
    }
}
