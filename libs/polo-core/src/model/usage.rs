//! The usage ledger: what each instance ran, when, as what and at what price, and what
//! changed it, indexed per instance. The sync keeps it (`usage.json` beside the snapshot):
//! each run observes the fleet and closes or opens billed spans, so instance-hours over any
//! days are a walk over a few spans per instance, never a scan of the whole history. Cost
//! changes are explained from it ([`crate::costs::changes`]).

use std::collections::{BTreeMap, HashMap, HashSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

use super::{Change, ChangeKind, Instance, Lifecycle, ResourceKind};
use crate::Money;
use crate::pricing::PriceTable;

/// The shape version this build writes and reads.
pub const USAGE_FORMAT: u32 = 1;

/// How long spans and events are kept: the cost store's 90 days and a margin.
pub const USAGE_KEEP_DAYS: i64 = 100;

/// Every instance's billed spans and events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageLedger {
    pub format: u32,
    /// The newest sync it observed: open spans run at least until then.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub observed_at: Option<OffsetDateTime>,
    /// Its first observation: what ran and ended before then is not in it.
    #[serde(with = "time::serde::rfc3339::option", default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<OffsetDateTime>,
    /// Sorted by id.
    pub instances: Vec<InstanceUsage>,
}

/// One instance: where it is, when it was billed, what happened to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceUsage {
    pub id: String,
    /// The account's configured name.
    pub account: String,
    pub account_id: String,
    pub region: String,
    /// Billed (running) spans, oldest first, never overlapping.
    #[serde(default)]
    pub spans: Vec<Span>,
    /// What the syncs saw change, oldest first.
    #[serde(default)]
    pub events: Vec<UsageEvent>,
    /// Who made its changes, from CloudTrail, once looked up ([`Trail`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trail: Option<Trail>,
}

/// A stretch of time an instance was billed as one type, at one price, for one index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    /// `None`: still running at the ledger's `observed_at`.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub to: Option<OffsetDateTime>,
    #[serde(rename = "type")]
    pub instance_type: String,
    pub lifecycle: Lifecycle,
    /// The index tag it carried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    /// The hourly price the price table gave when the span began (`None`: not in the table):
    /// a new price table or spot discount starts a new span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly: Option<Money>,
}

/// One change a sync saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvent {
    /// When it happened: EC2's state time where it tells one, else the sync's time.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// When the sync that saw it ran (`at` is no later).
    #[serde(with = "time::serde::rfc3339::option", default, skip_serializing_if = "Option::is_none")]
    pub seen_at: Option<OffsetDateTime>,
    #[serde(flatten)]
    pub what: ChangeKind,
}

/// What CloudTrail said about an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trail {
    /// When it was asked, and up to when its answer reaches.
    #[serde(with = "time::serde::rfc3339")]
    pub checked_at: OffsetDateTime,
    /// The management events of the instance, oldest first.
    #[serde(default)]
    pub events: Vec<TrailEvent>,
    /// Why nobody could be named (no permission, CloudTrail failed): shown as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// One CloudTrail management event on an instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrailEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `RunInstances`, `StartInstances`, `StopInstances`, `ModifyInstanceAttribute`,
    /// `TerminateInstances`.
    pub name: String,
    /// Who: `role deploy-bot`, `user alice`, `service autoscaling.amazonaws.com`.
    pub actor: String,
}

/// The CloudTrail event names that explain each kind of change.
pub const TRAIL_EVENT_NAMES: [&str; 5] =
    ["RunInstances", "StartInstances", "StopInstances", "ModifyInstanceAttribute", "TerminateInstances"];

impl UsageEvent {
    /// The CloudTrail events that make this change (empty: one no API call names: a
    /// resource seen again after a failed pull, an owner or index tag).
    pub fn trail_names(&self) -> &'static [&'static str] {
        match &self.what {
            ChangeKind::Appeared => &["RunInstances", "StartInstances"],
            ChangeKind::Vanished => &["TerminateInstances"],
            ChangeKind::StateChanged { to, .. } => match to.as_str() {
                // First seen pending, then running: the launch itself.
                "running" | "pending" => &["StartInstances", "RunInstances"],
                "stopped" | "stopping" => &["StopInstances"],
                "terminated" | "shutting-down" => &["TerminateInstances"],
                _ => &[],
            },
            ChangeKind::TypeChanged { .. } => &["ModifyInstanceAttribute"],
            ChangeKind::CameBack | ChangeKind::OwnerChanged { .. } | ChangeKind::IndexChanged { .. } => &[],
        }
    }

    /// Whether the change can change what the instance costs.
    pub fn moves_cost(&self) -> bool {
        matches!(
            self.what,
            ChangeKind::Appeared
                | ChangeKind::CameBack
                | ChangeKind::Vanished
                | ChangeKind::StateChanged { .. }
                | ChangeKind::TypeChanged { .. }
        )
    }

    /// How long before `at` its API call may have been: a resize is made while the instance
    /// is stopped, so up to a day before it runs again; anything else minutes before EC2's
    /// state time.
    fn lead(&self) -> Duration {
        match self.what {
            ChangeKind::TypeChanged { .. } => Duration::days(1),
            _ => Duration::hours(1),
        }
    }
}

impl Trail {
    /// Who made `event`: the newest CloudTrail event of one of its names from a little
    /// before it ([`UsageEvent::lead`]) to a quarter hour after the sync saw it.
    pub fn actor_of(&self, event: &UsageEvent) -> Option<&TrailEvent> {
        let names = event.trail_names();
        let (from, to) = (event.at - event.lead(), event.seen_at.unwrap_or(event.at) + Duration::minutes(15));
        self.events
            .iter()
            .filter(|t| names.contains(&t.name.as_str()) && t.at >= from && t.at <= to)
            .max_by_key(|t| t.at)
    }

    /// This answer with the events of an earlier one it does not repeat: a lookup covers
    /// only the days around the events wanted then.
    #[must_use]
    pub fn merged(mut self, earlier: Option<&Trail>) -> Trail {
        if let Some(earlier) = earlier {
            for e in &earlier.events {
                if !self.events.contains(e) {
                    self.events.push(e.clone());
                }
            }
            self.events.sort_by_key(|e| e.at);
        }
        self
    }
}

/// Hours (with fractions) in `seconds`.
fn hours(seconds: i64) -> Decimal {
    Decimal::from(seconds) / Decimal::from(3600)
}

impl Span {
    /// Billed seconds between `from` and `to`; an open span runs until `open_until`.
    pub fn seconds_within(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        open_until: OffsetDateTime,
    ) -> i64 {
        let end = self.to.unwrap_or(open_until).min(to);
        let start = self.from.max(from);
        if end <= start { 0 } else { (end - start).whole_seconds() }
    }

    /// Billed hours between `from` and `to`; an open span runs until `open_until`.
    pub fn hours_within(
        &self,
        from: OffsetDateTime,
        to: OffsetDateTime,
        open_until: OffsetDateTime,
    ) -> Decimal {
        hours(self.seconds_within(from, to, open_until))
    }

    fn same_billing(
        &self,
        instance_type: &str,
        lifecycle: Lifecycle,
        index: Option<&str>,
        hourly: Option<Money>,
    ) -> bool {
        self.instance_type == instance_type
            && self.lifecycle == lifecycle
            && self.index.as_deref() == index
            && self.hourly == hourly
    }
}

impl UsageLedger {
    /// A ledger that has seen nothing.
    pub fn empty() -> UsageLedger {
        UsageLedger { format: USAGE_FORMAT, observed_at: None, started_at: None, instances: Vec::new() }
    }

    /// The instance `id`.
    pub fn instance(&self, id: &str) -> Option<&InstanceUsage> {
        self.instances.binary_search_by(|u| u.id.as_str().cmp(id)).ok().map(|n| &self.instances[n])
    }

    /// Takes in one sync at `now`: the instances it holds (`current`), the changes it found
    /// (`changes`), and the account and region pairs it pulled (`pulled`: an instance absent
    /// from a pulled scope has gone; one in a failed scope is left as it was). A billed
    /// instance opens a span when it starts, changes type, index or price; a span closes
    /// when the instance stops or goes. Spans and events older than [`USAGE_KEEP_DAYS`] go.
    pub fn observe<S: std::hash::BuildHasher>(
        &mut self,
        current: &[Instance],
        changes: &[Change],
        pulled: &HashSet<(String, String), S>,
        prices: &PriceTable,
        now: OffsetDateTime,
    ) {
        // A late run (one the ledger has already seen past) would rewrite newer spans with
        // older facts: it observes nothing.
        if self.observed_at.is_some_and(|t| t >= now) {
            return;
        }
        let since = self.observed_at;
        let mut by_id: BTreeMap<String, InstanceUsage> =
            std::mem::take(&mut self.instances).into_iter().map(|u| (u.id.clone(), u)).collect();
        // When a change seen now happened: EC2's time for the state, within this interval.
        let when = |i: &Instance| -> OffsetDateTime {
            let floor = since.unwrap_or(i.launch_time).max(i.launch_time);
            i.state_since.unwrap_or(now).clamp(floor.min(now), now)
        };
        let mut seen: HashSet<&str> = HashSet::with_capacity(current.len());
        let at_of: HashMap<&str, OffsetDateTime> = current.iter().map(|i| (i.id.as_str(), when(i))).collect();
        for i in current {
            seen.insert(&i.id);
            let usage = by_id.entry(i.id.clone()).or_insert_with(|| InstanceUsage {
                id: i.id.clone(),
                account: i.account.to_string(),
                account_id: i.account_id.to_string(),
                region: i.region.to_string(),
                spans: Vec::new(),
                events: Vec::new(),
                trail: None,
            });
            let at = when(i);
            let open = usage.spans.last_mut().filter(|s| s.to.is_none());
            if i.state.is_billed() {
                let hourly = prices.hourly(&i.region, &i.instance_type, i.lifecycle);
                let index = i.index.as_deref();
                match open {
                    Some(span) if span.same_billing(&i.instance_type, i.lifecycle, index, hourly) => {}
                    open => {
                        // A resize happens stopped: the new span starts when it ran again. An
                        // index or price change starts it now.
                        let resized = open.as_ref().is_some_and(|s| s.instance_type != i.instance_type);
                        let from = match &open {
                            Some(s) if resized => at.max(s.from),
                            Some(_) => now,
                            None => at,
                        };
                        if let Some(span) = open {
                            span.to = Some(from);
                        }
                        usage.spans.push(Span {
                            from,
                            to: None,
                            instance_type: i.instance_type.to_string(),
                            lifecycle: i.lifecycle,
                            index: i.index.as_deref().map(str::to_owned),
                            hourly,
                        });
                    }
                }
            } else if let Some(span) = open {
                span.to = Some(at.max(span.from));
            }
        }
        for usage in by_id.values_mut() {
            let gone = !seen.contains(usage.id.as_str())
                && pulled.contains(&(usage.account.clone(), usage.region.clone()));
            if gone && let Some(span) = usage.spans.last_mut().filter(|s| s.to.is_none()) {
                span.to = Some(now.max(span.from));
            }
        }
        for c in changes.iter().filter(|c| c.resource == ResourceKind::Instances) {
            if let Some(usage) = by_id.get_mut(&c.id) {
                let at = match c.what {
                    ChangeKind::Vanished => c.at,
                    _ => at_of.get(c.id.as_str()).copied().unwrap_or(c.at),
                };
                usage.events.push(UsageEvent { at, seen_at: Some(c.at), what: c.what.clone() });
            }
        }
        let keep_from = now - Duration::days(USAGE_KEEP_DAYS);
        self.instances = by_id
            .into_values()
            .filter_map(|mut u| {
                u.spans.retain(|s| s.to.is_none_or(|to| to >= keep_from));
                u.events.retain(|e| e.at >= keep_from);
                (!u.spans.is_empty() || !u.events.is_empty()).then_some(u)
            })
            .collect();
        self.format = USAGE_FORMAT;
        self.observed_at = Some(now);
        self.started_at = Some(self.started_at.unwrap_or(now));
    }
}

/// Who made a CloudTrail management event, from its record's `userIdentity` (the JSON text
/// `LookupEvents` answers in `CloudTrailEvent`): `role deploy-bot`, `role AdminAccess as
/// alice@example.com` (a role session named for a person), `user alice`, `root`, `service
/// autoscaling.amazonaws.com`. `None` when the record says nobody.
pub fn actor_of_record(record: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(record).ok()?;
    let who = v.get("userIdentity")?;
    let text =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_owned);
    // A service acting through a role (Auto Scaling's service-linked role): the service.
    if let Some(service) = text(who, "invokedBy") {
        return Some(format!("service {service}"));
    }
    match text(who, "type")?.as_str() {
        "AssumedRole" => {
            let role = who
                .get("sessionContext")
                .and_then(|c| c.get("sessionIssuer"))
                .and_then(|i| text(i, "userName"));
            // The session name is the last part of arn:aws:sts::…:assumed-role/ROLE/SESSION.
            let session = text(who, "arn").and_then(|a| a.rsplit('/').next().map(str::to_owned));
            match (role, session) {
                (Some(role), Some(session)) if session != role && session.contains('@') => {
                    Some(format!("role {role} as {session}"))
                }
                (Some(role), _) => Some(format!("role {role}")),
                (None, Some(session)) => Some(format!("role session {session}")),
                (None, None) => None,
            }
        }
        "IAMUser" | "IdentityCenterUser" | "SAMLUser" | "WebIdentityUser" => {
            text(who, "userName").map(|u| format!("user {u}"))
        }
        "AWSAccount" => text(who, "accountId").map(|a| format!("account {a}")),
        "Root" => Some("root".to_owned()),
        "AWSService" => text(&v, "sourceIPAddress").map(|s| format!("service {s}")),
        "FederatedUser" => {
            text(who, "arn").and_then(|a| a.rsplit('/').next().map(|u| format!("federated {u}")))
        }
        other => text(who, "arn").or_else(|| Some(other.to_owned())),
    }
}

#[cfg(test)]
mod actor_tests {
    use super::actor_of_record;

    #[test]
    fn each_identity_type_names_its_actor() {
        let role = r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111111111111:assumed-role/deploy-bot/gha-run-1",
            "sessionContext":{"sessionIssuer":{"type":"Role","userName":"deploy-bot"}}}}"#;
        assert_eq!(actor_of_record(role).as_deref(), Some("role deploy-bot"));
        let person = r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSReservedSSO_Admin_0f/alice@example.com",
            "sessionContext":{"sessionIssuer":{"userName":"AWSReservedSSO_Admin_0f"}}}}"#;
        assert_eq!(
            actor_of_record(person).as_deref(),
            Some("role AWSReservedSSO_Admin_0f as alice@example.com")
        );
        let user = r#"{"userIdentity":{"type":"IAMUser","userName":"bob"}}"#;
        assert_eq!(actor_of_record(user).as_deref(), Some("user bob"));
        let service = r#"{"userIdentity":{"type":"AWSService","invokedBy":"autoscaling.amazonaws.com"}}"#;
        assert_eq!(actor_of_record(service).as_deref(), Some("service autoscaling.amazonaws.com"));
        assert_eq!(actor_of_record(r#"{"userIdentity":{"type":"Root"}}"#).as_deref(), Some("root"));
        let autoscaling = r#"{"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/AWSServiceRoleForAutoScaling/AutoScaling",
            "invokedBy":"autoscaling.amazonaws.com","sessionContext":{"sessionIssuer":{"userName":"AWSServiceRoleForAutoScaling"}}}}"#;
        assert_eq!(actor_of_record(autoscaling).as_deref(), Some("service autoscaling.amazonaws.com"));
        let account = r#"{"userIdentity":{"type":"AWSAccount","accountId":"222222222222"}}"#;
        assert_eq!(actor_of_record(account).as_deref(), Some("account 222222222222"));
        let sso = r#"{"userIdentity":{"type":"IdentityCenterUser","userName":"carol"}}"#;
        assert_eq!(actor_of_record(sso).as_deref(), Some("user carol"));
        assert_eq!(actor_of_record("not json"), None);
        assert_eq!(actor_of_record("{}"), None);
    }
}
