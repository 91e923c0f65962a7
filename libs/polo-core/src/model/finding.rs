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
    /// What people did about it (issue 31): acknowledged, snoozed, excepted, assigned.
    #[serde(flatten, default)]
    pub handling: Handling,
}

/// What people did about a finding. Every change is also an audit entry.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handling {
    /// Who acknowledged it, and when: still told, at the longer `acknowledged_renotify_hours`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option", default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<OffsetDateTime>,
    /// Silent until then; it reopens by itself after.
    #[serde(with = "time::serde::rfc3339::option", default, skip_serializing_if = "Option::is_none")]
    pub snoozed_until: Option<OffsetDateTime>,
    /// Known and accepted: silent while it applies, listed apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<Exception>,
    /// Who is on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

/// Why a finding is accepted, by whom, and until when (`None`: for good).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exception {
    pub reason: String,
    /// The last day it applies (UTC); `None`: for good.
    #[serde(default)]
    pub until: Option<time::Date>,
    /// Who made it: a person, or `polo.toml` for `[[cop.exceptions]]`.
    pub by: String,
}

impl Exception {
    /// Whether it still applies at `now`.
    pub fn applies(&self, now: OffsetDateTime) -> bool {
        self.until.is_none_or(|last| now.date() <= last)
    }
}

/// Where a finding stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingState {
    Open,
    Acknowledged,
    Snoozed,
    Excepted,
    Resolved,
}

impl FindingState {
    /// Every state, in the order pages list them.
    pub const ALL: [FindingState; 5] = [
        FindingState::Open,
        FindingState::Acknowledged,
        FindingState::Snoozed,
        FindingState::Excepted,
        FindingState::Resolved,
    ];

    /// `open`, `acknowledged`, `snoozed`, `excepted` or `resolved`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingState::Open => "open",
            FindingState::Acknowledged => "acknowledged",
            FindingState::Snoozed => "snoozed",
            FindingState::Excepted => "excepted",
            FindingState::Resolved => "resolved",
        }
    }

    /// Whether Slack hears nothing of it while it stands.
    pub fn silent(self) -> bool {
        matches!(self, FindingState::Snoozed | FindingState::Excepted)
    }
}

impl Finding {
    /// Where it stands at `now`: resolved, else excepted while its exception applies, else
    /// snoozed until its instant, else acknowledged, else open.
    pub fn state(&self, now: OffsetDateTime) -> FindingState {
        let h = &self.handling;
        if self.resolved_at.is_some() {
            FindingState::Resolved
        } else if h.exception.as_ref().is_some_and(|e| e.applies(now)) {
            FindingState::Excepted
        } else if h.snoozed_until.is_some_and(|until| now < until) {
            FindingState::Snoozed
        } else if h.acknowledged_by.is_some() {
            FindingState::Acknowledged
        } else {
            FindingState::Open
        }
    }
}

/// The open findings as `/` shows them: how many of each severity, and the fleet drift the
/// open `fleet-*` findings price. Counted without copying a finding.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenSummary {
    pub critical: usize,
    pub warning: usize,
    pub info: usize,
    pub drift: crate::drift::DriftTotals,
}

impl OpenSummary {
    /// The summary of `open` (open findings).
    pub fn of<'a>(open: impl IntoIterator<Item = &'a Finding>) -> OpenSummary {
        let mut s = OpenSummary::default();
        for f in open {
            match f.severity {
                Severity::Critical => s.critical += 1,
                Severity::Warning => s.warning += 1,
                Severity::Info => s.info += 1,
            }
            s.drift.add(f);
        }
        s
    }

    /// How many open findings have `severity`.
    pub fn count(&self, severity: Severity) -> usize {
        match severity {
            Severity::Critical => self.critical,
            Severity::Warning => self.warning,
            Severity::Info => self.info,
        }
    }
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
