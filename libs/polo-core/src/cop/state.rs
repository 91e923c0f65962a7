//! Findings with memory: what a run found, set against what was open before. A finding is
//! new (first seen now), open (seen before and again), or resolved (open before, not found
//! now: fixed, or its resource vanished). Slack hears of a finding when it is new, again only
//! after `renotify_hours`, and once when it is resolved; `last_notified` records the last
//! notice Slack accepted.

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::Candidate;
use crate::model::Finding;

/// Why a finding is in the next digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Notice {
    /// Found, and Slack has not heard of it yet.
    New,
    /// Still open `renotify_hours` after the last notice.
    Reminder,
    /// Resolved since the last notice.
    Resolved,
}

impl Notice {
    /// How the digest labels it.
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::New => "new",
            Notice::Reminder => "still open",
            Notice::Resolved => "resolved",
        }
    }
}

/// Every finding after a run at `now`: `previous` (all stored findings) updated by `found`.
/// Open findings found again keep their `first_seen` and take the new message and
/// severity; open ones not found are resolved at `now`; found ones with no open finding
/// are new (a finding resolved earlier and found again opens anew, from `now`).
pub fn reconcile(previous: &[Finding], found: &[Candidate], now: OffsetDateTime) -> Vec<Finding> {
    let mut by_id: BTreeMap<String, Finding> = previous.iter().map(|f| (f.id.clone(), f.clone())).collect();
    let found_ids: std::collections::BTreeSet<String> = found
        .iter()
        .flat_map(|c| {
            // The old id stands for this candidate only if it is about the same scope.
            let old = c.unscoped_id();
            let same = by_id
                .get(&old)
                .is_some_and(|f| f.resolved_at.is_none() && f.account == c.account && f.region == c.region);
            [Some(c.id()), same.then_some(old)]
        })
        .flatten()
        .collect();
    for f in by_id.values_mut() {
        if f.resolved_at.is_none() && !found_ids.contains(&f.id) {
            f.resolved_at = Some(now);
        }
    }
    for c in found {
        let mut id = c.id();
        // An open finding kept under the id it had before index ids named their scope.
        let old = c.unscoped_id();
        if id != old
            && !by_id.contains_key(&id)
            && by_id
                .get(&old)
                .is_some_and(|f| f.resolved_at.is_none() && f.account == c.account && f.region == c.region)
        {
            id = old;
        }
        match by_id.get_mut(&id) {
            Some(f) if f.resolved_at.is_none() => {
                f.last_seen = now;
                f.message.clone_from(&c.message);
                f.severity = c.severity;
                f.monthly_cost_impact = c.monthly_cost_impact;
            }
            _ => {
                by_id.insert(
                    id.clone(),
                    Finding {
                        id,
                        rule: c.rule.to_owned(),
                        severity: c.severity,
                        resource_kind: c.resource_kind,
                        resource_id: c.resource_id.clone(),
                        account: c.account.clone(),
                        region: c.region.clone(),
                        message: c.message.clone(),
                        first_seen: now,
                        last_seen: now,
                        last_notified: None,
                        resolved_at: None,
                        monthly_cost_impact: c.monthly_cost_impact,
                        handling: crate::model::Handling::default(),
                    },
                );
            }
        }
    }
    by_id.into_values().collect()
}

/// How long after a notice an open finding is told again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Renotify {
    /// `[cop] renotify_hours`.
    pub open: Duration,
    /// `[cop] acknowledged_renotify_hours`: someone knows, so less often.
    pub acknowledged: Duration,
}

impl Renotify {
    /// The intervals of `[cop]`.
    pub fn of(settings: &crate::config::CopSettings) -> Renotify {
        Renotify {
            open: Duration::hours(i64::from(settings.renotify_hours)),
            acknowledged: Duration::hours(i64::from(settings.acknowledged_renotify_hours)),
        }
    }
}

/// Whether `finding` is due in a digest at `now`, and why:
/// - open and never notified: new;
/// - open and notified `renotify.open` ago or longer (`renotify.acknowledged` once
///   acknowledged): a reminder; a snooze that ended after the last notice: a reminder now;
/// - snoozed or excepted: nothing, however long;
/// - resolved after its last notice: resolved (a finding resolved before any notice was never
///   told, so nothing is due).
pub fn due(finding: &Finding, now: OffsetDateTime, renotify: &Renotify) -> Option<Notice> {
    use crate::model::FindingState;
    let state = finding.state(now);
    if state.silent() {
        return None;
    }
    let every = if state == FindingState::Acknowledged { renotify.acknowledged } else { renotify.open };
    match (finding.resolved_at, finding.last_notified) {
        (None, None) => Some(Notice::New),
        (None, Some(at)) => {
            let woke = finding.handling.snoozed_until.is_some_and(|until| at < until && until <= now);
            (woke || now - at >= every).then_some(Notice::Reminder)
        }
        (Some(resolved), Some(at)) => (at < resolved).then_some(Notice::Resolved),
        (Some(_), None) => None,
    }
}

/// Applies `[[cop.exceptions]]` at `now` to the open findings: one a configured exception
/// matches is excepted by `polo.toml`; an exception that no longer applies (expired, or gone
/// from the config) is taken away and the finding returns as new.
pub fn apply_exceptions(
    findings: &mut [Finding],
    configured: &[crate::config::CopException],
    now: OffsetDateTime,
) {
    for f in findings.iter_mut().filter(|f| f.resolved_at.is_none()) {
        let matching = configured.iter().find(|e| e.matches(f) && e.applies(now));
        let from_config =
            f.handling.exception.as_ref().is_some_and(|e| e.by == crate::config::CONFIG_EXCEPTION_BY);
        match matching {
            Some(e) => f.handling.exception = Some(e.exception()),
            None if from_config => {
                f.handling.exception = None;
                f.last_notified = None;
            }
            None => {
                if f.handling.exception.as_ref().is_some_and(|e| !e.applies(now)) {
                    f.handling.exception = None;
                    f.last_notified = None;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::model::{ResourceKind, Severity};

    const T0: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

    fn candidate(id: &str) -> Candidate {
        Candidate {
            rule: "owner-missing",
            severity: Severity::Warning,
            resource_kind: ResourceKind::Instances,
            resource_id: id.to_owned(),
            account: "prod".into(),
            region: "us-east-1".into(),
            message: format!("{id} has no owner."),
            monthly_cost_impact: None,
        }
    }

    fn notified(mut findings: Vec<Finding>, at: OffsetDateTime) -> Vec<Finding> {
        for f in &mut findings {
            f.last_notified = Some(at);
        }
        findings
    }

    fn index_candidate(id: &str, account: &str) -> Candidate {
        Candidate {
            rule: "index-without-instances",
            severity: Severity::Critical,
            resource_kind: ResourceKind::Indexes,
            resource_id: id.to_owned(),
            account: account.into(),
            region: "us-east-1".into(),
            message: format!("{id} in {account} has no instance."),
            monthly_cost_impact: None,
        }
    }

    #[test]
    fn one_index_id_in_two_accounts_is_two_findings() {
        let found = [index_candidate("idx-1", "golf"), index_candidate("idx-1", "hotel")];
        let findings = reconcile(&[], &found, T0);
        let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "index-without-instances:indexes:golf:us-east-1:idx-1",
                "index-without-instances:indexes:hotel:us-east-1:idx-1"
            ]
        );
    }

    #[test]
    fn an_open_index_finding_under_its_old_id_stays_the_same_finding() {
        // Stored before index ids named their scope: `rule:indexes:idx-1`, about golf.
        let mut old = reconcile(&[], &[index_candidate("idx-1", "golf")], T0);
        old[0].id = "index-without-instances:indexes:idx-1".into();
        let old = notified(old, T0);
        let later = T0 + Duration::hours(1);
        let findings =
            reconcile(&old, &[index_candidate("idx-1", "golf"), index_candidate("idx-1", "hotel")], later);
        let golf = findings.iter().find(|f| f.account == "golf").unwrap();
        assert_eq!(golf.id, "index-without-instances:indexes:idx-1", "kept, not resolved and opened anew");
        assert_eq!((golf.first_seen, golf.resolved_at, golf.last_notified), (T0, None, Some(T0)));
        let hotel = findings.iter().find(|f| f.account == "hotel").unwrap();
        assert_eq!(hotel.id, "index-without-instances:indexes:hotel:us-east-1:idx-1");
        assert_eq!(findings.len(), 2);
    }

    fn every(hours: i64) -> Renotify {
        Renotify { open: Duration::hours(hours), acknowledged: Duration::hours(hours * 7) }
    }

    #[test]
    fn new_then_silent_then_reminded_then_resolved_once() {
        let day = &every(24);
        let first = reconcile(&[], &[candidate("i-1")], T0);
        assert_eq!(due(&first[0], T0, day), Some(Notice::New));
        let first = notified(first, T0);
        let again = reconcile(&first, &[candidate("i-1")], T0 + Duration::hours(23));
        assert_eq!(again[0].first_seen, T0);
        assert_eq!(due(&again[0], T0 + Duration::hours(23), day), None, "silent within renotify_hours");
        let later = reconcile(&again, &[candidate("i-1")], T0 + Duration::hours(24));
        assert_eq!(due(&later[0], T0 + Duration::hours(24), day), Some(Notice::Reminder));
        let later = notified(later, T0 + Duration::hours(24));
        let fixed = reconcile(&later, &[], T0 + Duration::hours(30));
        assert_eq!(fixed[0].resolved_at, Some(T0 + Duration::hours(30)));
        assert_eq!(due(&fixed[0], T0 + Duration::hours(30), day), Some(Notice::Resolved));
        let told = notified(fixed, T0 + Duration::hours(31));
        assert_eq!(due(&told[0], T0 + Duration::hours(40), day), None, "resolved is told once");
        let still = reconcile(&told, &[], T0 + Duration::hours(50));
        assert_eq!(still[0].resolved_at, Some(T0 + Duration::hours(30)), "stays resolved when it was");
    }

    #[test]
    fn a_finding_resolved_before_any_notice_is_not_told_and_one_found_again_opens_anew() {
        let day = &every(24);
        let first = reconcile(&[], &[candidate("i-1")], T0);
        let gone = reconcile(&first, &[], T0 + Duration::hours(1));
        assert_eq!(due(&gone[0], T0 + Duration::hours(1), day), None);
        let back = reconcile(&gone, &[candidate("i-1")], T0 + Duration::hours(2));
        assert_eq!(back.len(), 1);
        assert_eq!((back[0].first_seen, back[0].resolved_at), (T0 + Duration::hours(2), None));
        assert_eq!(due(&back[0], T0 + Duration::hours(2), day), Some(Notice::New));
    }
}
