//! A test per rule of acting on a finding, and of how states change what Slack hears.

use time::macros::{date, datetime};

use super::*;
use crate::cop::{Candidate, Notice, Renotify, apply_exceptions, due, reconcile};
use crate::model::{ResourceKind, Severity};

const T0: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

fn renotify() -> Renotify {
    Renotify { open: Duration::hours(24), acknowledged: Duration::hours(168) }
}

fn open(id: &str) -> Finding {
    let c = Candidate {
        rule: "instance-idle",
        severity: Severity::Info,
        resource_kind: ResourceKind::Instances,
        resource_id: id.to_owned(),
        account: "prod".into(),
        region: "us-east-1".into(),
        message: format!("{id} was idle."),
        monthly_cost_impact: None,
    };
    let mut f = reconcile(&[], &[c], T0).remove(0);
    f.last_notified = Some(T0);
    f
}

fn alice() -> Actor {
    Actor { name: "alice@example.com".into(), via: Via::Web }
}

#[test]
fn a_snoozed_finding_is_silent_until_its_instant_then_returns() {
    let mut f = open("i-1");
    let snooze = Action::snooze_for("1d", T0).unwrap();
    let entry = act(&mut f, &snooze, &alice(), T0).unwrap();
    assert_eq!((entry.before, entry.after), (FindingState::Open, FindingState::Snoozed));
    assert_eq!(entry.detail, "until 2026-11-25T12:00:00Z");
    // Even past the renotify interval, nothing while snoozed.
    assert_eq!(f.state(T0 + Duration::hours(23)), FindingState::Snoozed);
    assert_eq!(due(&f, T0 + Duration::hours(23), &renotify()), None);
    let after = T0 + Duration::hours(24);
    assert_eq!(f.state(after), FindingState::Open, "it reopens by itself");
    assert_eq!(due(&f, after, &renotify()), Some(Notice::Reminder), "and Slack hears of it again");
    f.last_notified = Some(after);
    assert_eq!(due(&f, after + Duration::hours(1), &renotify()), None, "once");
}

#[test]
fn an_acknowledged_finding_is_told_at_the_longer_interval() {
    let mut f = open("i-1");
    act(&mut f, &Action::Ack, &alice(), T0).unwrap();
    assert_eq!(f.handling.acknowledged_by.as_deref(), Some("alice@example.com"));
    assert_eq!(due(&f, T0 + Duration::hours(30), &renotify()), None, "not after a day");
    assert_eq!(due(&f, T0 + Duration::hours(168), &renotify()), Some(Notice::Reminder), "after a week");
    assert_eq!(
        act(&mut f, &Action::Ack, &alice(), T0),
        Err(ActionError::Refused(format!("{} is already acknowledged", f.id)))
    );
}

#[test]
fn an_excepted_finding_is_silent_and_returns_as_new_when_its_last_day_passes() {
    let mut f = open("i-1");
    let except = Action::Except {
        reason: "the CI fleet idles at weekends".into(),
        until: Some(date!(2026 - 11 - 30)),
    };
    let entry = act(&mut f, &except, &alice(), T0).unwrap();
    assert_eq!(entry.after, FindingState::Excepted);
    assert_eq!(entry.detail, "the CI fleet idles at weekends (until 2026-11-30)");
    let last_day = datetime!(2026-11-30 23:00 UTC);
    assert_eq!(due(&f, last_day, &renotify()), None);
    let mut all = vec![f];
    let next = datetime!(2026-12-01 00:10 UTC);
    apply_exceptions(&mut all, &[], next);
    assert_eq!(all[0].handling.exception, None);
    assert_eq!(due(&all[0], next, &renotify()), Some(Notice::New), "it returns as new");
}

#[test]
fn a_config_exception_applies_by_glob_and_account_and_leaving_the_config_returns_the_finding_as_new() {
    let configured = crate::config::CopException {
        rule: "instance-idle".into(),
        resource: "i-1*".into(),
        account: Some("prod".into()),
        until: None,
        reason: "standby pool".into(),
    };
    let mut all = vec![open("i-10"), open("i-20")];
    apply_exceptions(&mut all, std::slice::from_ref(&configured), T0);
    assert_eq!(all[0].state(T0), FindingState::Excepted);
    assert_eq!(all[0].handling.exception.as_ref().unwrap().by, "polo.toml");
    assert_eq!(all[1].state(T0), FindingState::Open, "i-20 does not match i-1*");
    let in_dev = crate::config::CopException { account: Some("dev".into()), ..configured.clone() };
    let mut other = vec![open("i-10")];
    apply_exceptions(&mut other, &[in_dev], T0);
    assert_eq!(other[0].state(T0), FindingState::Open, "another account's exception");
    // A person cannot reopen what polo.toml excepts; removing it from the config does.
    let refused = act(&mut all[0], &Action::Reopen, &alice(), T0).unwrap_err();
    assert!(refused.to_string().contains("[[cop.exceptions]]"), "{refused}");
    apply_exceptions(&mut all, &[], T0 + Duration::hours(1));
    assert_eq!(all[0].state(T0), FindingState::Open);
    assert_eq!(due(&all[0], T0 + Duration::hours(1), &renotify()), Some(Notice::New));
}

#[test]
fn reopen_takes_away_acknowledgement_snooze_and_a_persons_exception() {
    let mut f = open("i-1");
    act(&mut f, &Action::Ack, &alice(), T0).unwrap();
    act(&mut f, &Action::snooze_for("7d", T0).unwrap(), &alice(), T0).unwrap();
    act(&mut f, &Action::Assign { to: "bob@example.com".into() }, &alice(), T0).unwrap();
    let entry = act(&mut f, &Action::Reopen, &alice(), T0).unwrap();
    assert_eq!((entry.before, entry.after), (FindingState::Snoozed, FindingState::Open));
    assert_eq!(f.handling.assignee.as_deref(), Some("bob@example.com"), "the assignee stays");
    assert!(f.handling.acknowledged_by.is_none() && f.handling.snoozed_until.is_none());
    assert!(
        matches!(act(&mut f, &Action::Reopen, &alice(), T0), Err(ActionError::Refused(_))),
        "already open"
    );
}

#[test]
fn refused_actions_change_nothing() {
    let mut resolved = open("i-1");
    resolved.resolved_at = Some(T0);
    let before = resolved.clone();
    assert!(matches!(act(&mut resolved, &Action::Ack, &alice(), T0), Err(ActionError::Refused(_))));
    assert_eq!(resolved, before);
    let mut f = open("i-2");
    let before = f.clone();
    for bad in [
        Action::Snooze { until: T0 - Duration::hours(1) },
        Action::Snooze { until: T0 + Duration::days(91) },
        Action::Except { reason: "  ".into(), until: None },
        Action::Except { reason: "ok".into(), until: Some(date!(2026 - 11 - 23)) },
        Action::Except { reason: "two\nlines".into(), until: None },
        Action::Assign { to: "x".repeat(501) },
    ] {
        assert!(matches!(act(&mut f, &bad, &alice(), T0), Err(ActionError::Invalid(_))), "{bad:?}");
        assert_eq!(f, before, "{bad:?}");
    }
    assert!(Action::snooze_for("2w", T0).unwrap_err().to_string().contains("1d, 7d or 30d"));
    let nobody = Actor { name: String::new(), via: Via::Slack };
    assert!(act(&mut f, &Action::Ack, &nobody, T0).is_err());
}

#[test]
fn the_same_exception_or_assignment_sent_twice_is_one_action() {
    let mut f = open("i-3");
    let except = Action::Except { reason: "standby".into(), until: Some(date!(2027 - 01 - 31)) };
    let assign = Action::Assign { to: "bob@example.com".into() };
    for action in [&except, &assign] {
        act(&mut f, action, &alice(), T0).unwrap();
        let once = f.clone();
        let again = act(&mut f, action, &alice(), T0 + Duration::seconds(5)).unwrap_err();
        assert!(matches!(again, ActionError::Refused(ref m) if m.contains("already")), "{again:?}");
        assert_eq!(f, once);
    }
    // A different reason, day or person is a new action.
    act(&mut f, &Action::Except { reason: "standby".into(), until: None }, &alice(), T0).unwrap();
    act(&mut f, &Action::Assign { to: "carol@example.com".into() }, &alice(), T0).unwrap();
}

#[tokio::test]
async fn an_action_waits_for_a_cop_run_saving_and_lands_in_the_audit_log() {
    use crate::ports::{AuditStore as _, FindingStore as _, MemoryAudit, MemoryFindings};
    let store = MemoryFindings::default();
    let audit = MemoryAudit::default();
    let f = open("i-1");
    store.save(std::slice::from_ref(&f)).await.unwrap();
    // A run holds the lease: the action is refused, nothing changed.
    assert!(store.acquire("cop-run", T0, std::time::Duration::from_mins(1)).await.unwrap());
    let busy = act_on(&store, &audit, &f.id, &Action::Ack, &alice(), T0).await;
    assert!(matches!(busy, Err(ActOnError::Busy)), "{busy:?}");
    assert!(audit.entries().await.unwrap().is_empty());
    store.release("cop-run", T0).await.unwrap();
    let (after, entry) = act_on(&store, &audit, &f.id, &Action::Ack, &alice(), T0).await.unwrap();
    assert_eq!(after.state(T0), FindingState::Acknowledged);
    assert_eq!(store.all().await.unwrap()[0].state(T0), FindingState::Acknowledged);
    assert_eq!(audit.entries().await.unwrap(), [entry]);
    assert!(matches!(
        act_on(&store, &audit, "nope", &Action::Ack, &alice(), T0).await,
        Err(ActOnError::NotFound(_))
    ));
    // The lease was given back: a run may take it again.
    assert!(store.acquire("cop-run", T0, std::time::Duration::from_mins(1)).await.unwrap());
}
