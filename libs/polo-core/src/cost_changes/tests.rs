//! One test per cause kind, each with amounts worked out by hand in its comment.

use std::collections::HashSet;

use rust_decimal::Decimal;
use time::macros::{date, datetime};
use time::{Date, OffsetDateTime};

use super::*;
use crate::model::{
    AccountKind, AccountSync, ChangeKind, CostDimension, CostRow, CostStore, Everything, Fleet, Instance,
    InstanceState, InstanceUsage, Lifecycle, Span, Trail, TrailEvent, UsageEvent, UsageLedger,
};
use crate::pricing::PriceTable;

const ACCOUNT: &str = "111111111111";
/// Before: Nov 1-7; after: Nov 8-14 (168 hours each).
const FROM: Date = date!(2026 - 11 - 08);
const TO: Date = date!(2026 - 11 - 14);
const AFTER_START: OffsetDateTime = datetime!(2026-11-08 00:00 UTC);
const OBSERVED: OffsetDateTime = datetime!(2026-11-20 00:00 UTC);

fn fleet() -> Fleet {
    Fleet::new(Everything {
        generated_at: OBSERVED,
        price_table_version: String::new(),
        accounts: vec![AccountSync {
            name: "prod".into(),
            id: ACCOUNT.into(),
            kind: AccountKind::Prod,
            documents: Vec::new(),
        }],
        instances: Vec::new(),
        indexes: Vec::new(),
        cost_facts: crate::model::CostFacts::default(),
        history: Vec::new(),
        findings: Vec::new(),
    })
}

/// The account's bill: `before` cents each day of Nov 1-7, `after` each day of Nov 8-14.
fn store(before: &[i64; 7], after: &[i64; 7]) -> CostStore {
    let rows: Vec<CostRow> = before
        .iter()
        .chain(after)
        .enumerate()
        .map(|(n, cents)| CostRow {
            date: date!(2026 - 11 - 01) + time::Duration::days(i64::try_from(n).unwrap()),
            dimension: CostDimension::Account,
            key: ACCOUNT.into(),
            amount: Money::from_scaled(*cents, 2),
        })
        .collect();
    CostStore::from_rows(&rows).unwrap()
}

fn span(
    from: OffsetDateTime,
    to: Option<OffsetDateTime>,
    ty: &str,
    lifecycle: Lifecycle,
    hourly: &str,
) -> Span {
    Span { from, to, instance_type: ty.into(), lifecycle, index: None, hourly: Some(hourly.parse().unwrap()) }
}

fn instance(id: &str, spans: Vec<Span>, events: Vec<UsageEvent>) -> InstanceUsage {
    InstanceUsage {
        id: id.into(),
        account: "prod".into(),
        account_id: ACCOUNT.into(),
        region: "us-east-1".into(),
        spans,
        events,
        trail: None,
    }
}

fn event(at: OffsetDateTime, what: ChangeKind) -> UsageEvent {
    UsageEvent { at, seen_at: None, what }
}

fn ledger(instances: Vec<InstanceUsage>) -> UsageLedger {
    let mut instances = instances;
    instances.sort_by(|a, b| a.id.cmp(&b.id));
    UsageLedger {
        format: crate::model::USAGE_FORMAT,
        observed_at: Some(OBSERVED),
        started_at: Some(datetime!(2026-09-01 00:00 UTC)),
        instances,
    }
}

fn explain(store: &CostStore, ledger: &UsageLedger) -> CostChange {
    let cmp = Comparison::of(FROM, TO).unwrap();
    change_of(store, ledger, &fleet(), Breakdown::Account, ACCOUNT, &cmp).unwrap()
}

fn amount(c: &CostChange, kind: CauseKind) -> String {
    c.cause(kind).unwrap().amount.to_string()
}

fn adds_up(c: &CostChange) {
    let sum: Money = c.causes.iter().map(|c| c.amount).sum();
    assert_eq!(sum, c.change, "{c:#?}");
}

const EARLY: OffsetDateTime = datetime!(2026-10-01 00:00 UTC);

#[test]
fn fleet_size_is_the_added_hours_at_the_earlier_mean_price() {
    // A runs throughout; B (same type) starts Nov 11 00:00: 96 more hours after.
    // Mean before = 0.096/h; fleet_size = 96 × 0.096 = 9.216 → 9.22. Bill: 21.00 → 30.20,
    // change 9.20, so other = 9.20 − 9.22 = −0.02.
    let launched = datetime!(2026-11-11 00:00 UTC);
    let mut b = instance(
        "i-b",
        vec![span(launched, None, "m6i.large", Lifecycle::OnDemand, "0.096")],
        vec![event(launched, ChangeKind::Appeared)],
    );
    b.trail = Some(Trail {
        checked_at: OBSERVED,
        events: vec![TrailEvent {
            at: datetime!(2026-11-10 23:58 UTC),
            name: "RunInstances".into(),
            actor: "role deploy-bot".into(),
        }],
        unavailable: None,
    });
    let l = ledger(vec![
        instance("i-a", vec![span(EARLY, None, "m6i.large", Lifecycle::OnDemand, "0.096")], vec![]),
        b,
    ]);
    let c = explain(&store(&[300; 7], &[300, 300, 300, 530, 530, 530, 530]), &l);
    assert_eq!(c.change.to_string(), "9.20");
    assert_eq!(amount(&c, CauseKind::FleetSize), "9.22");
    assert_eq!(amount(&c, CauseKind::InstanceMix), "0.00");
    assert_eq!(amount(&c, CauseKind::Price), "0.00");
    assert_eq!(amount(&c, CauseKind::Other), "-0.02");
    adds_up(&c);
    let events = &c.cause(CauseKind::FleetSize).unwrap().events;
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = &events[0];
    assert_eq!(
        (e.resource_id.as_str(), e.what.as_str(), e.actor.as_str()),
        ("i-b", "launched m6i.large on-demand", "role deploy-bot")
    );
    assert_eq!((e.hours, e.amount.to_string()), (Decimal::from(96), "9.22".to_owned()));
    assert_eq!(e.at, Some(launched));
    assert_eq!(
        c.lines(7, 2),
        ["+$1.32/day: launched m6i.large on-demand 2026-11-11 00:00 by role deploy-bot (100%)"]
    );
}

#[test]
fn a_type_change_is_instance_mix_at_the_earlier_prices() {
    // r6i.large (0.126/h) becomes r6i.xlarge (0.252/h) at the start of the after period:
    // 168 h either side, so fleet_size = 0 and mix = 168 × 0.252 − 168 × 0.126 = 21.168 → 21.17.
    let changed = AFTER_START;
    let l = ledger(vec![instance(
        "i-a",
        vec![
            span(EARLY, Some(changed), "r6i.large", Lifecycle::OnDemand, "0.126"),
            span(changed, None, "r6i.xlarge", Lifecycle::OnDemand, "0.252"),
        ],
        vec![event(changed, ChangeKind::TypeChanged { from: "r6i.large".into(), to: "r6i.xlarge".into() })],
    )]);
    let c = explain(&store(&[400; 7], &[700; 7]), &l);
    assert_eq!(c.change.to_string(), "21.00");
    assert_eq!(amount(&c, CauseKind::FleetSize), "0.00");
    assert_eq!(amount(&c, CauseKind::InstanceMix), "21.17");
    assert_eq!(amount(&c, CauseKind::Price), "0.00");
    assert_eq!(amount(&c, CauseKind::Other), "-0.17");
    adds_up(&c);
    let e = &c.cause(CauseKind::InstanceMix).unwrap().events[0];
    assert_eq!(e.what, "type r6i.large → r6i.xlarge");
    assert_eq!(e.actor, "unknown");
    assert_eq!(e.actor_note.as_deref(), Some(NOT_LOOKED_UP));
}

#[test]
fn a_spot_fallback_to_on_demand_is_instance_mix() {
    // A spot m6i.large (0.0336/h) is terminated as the after period starts and an on-demand
    // one (0.096/h) takes its place: the same 168 hours, so fleet_size = 0 and
    // mix = 168 × 0.096 − 168 × 0.0336 = 16.128 − 5.6448 = 10.4832 → 10.48, all of it the
    // new instance's (the old one's hours leave at the mean, which is its own price).
    let at = AFTER_START;
    let l = ledger(vec![
        instance(
            "i-spot",
            vec![span(EARLY, Some(at), "m6i.large", Lifecycle::Spot, "0.0336")],
            vec![event(at, ChangeKind::Vanished)],
        ),
        instance(
            "i-od",
            vec![span(at, None, "m6i.large", Lifecycle::OnDemand, "0.096")],
            vec![event(at, ChangeKind::Appeared)],
        ),
    ]);
    let c = explain(&store(&[100; 7], &[250; 7]), &l);
    assert_eq!(amount(&c, CauseKind::FleetSize), "0.00");
    assert_eq!(amount(&c, CauseKind::InstanceMix), "10.48");
    assert_eq!(amount(&c, CauseKind::Other), "0.02");
    adds_up(&c);
    let mix = c.cause(CauseKind::InstanceMix).unwrap();
    assert_eq!(mix.events.len(), 1, "{mix:#?}");
    assert_eq!(mix.events[0].what, "launched m6i.large on-demand");
    assert_eq!(mix.events[0].amount.to_string(), "10.48");
}

#[test]
fn a_new_price_at_the_same_usage_is_price() {
    // The same m6i.large runs throughout; from Nov 8 the table prices it at 0.100/h instead
    // of 0.096/h: price = 168 × (0.100 − 0.096) = 0.672 → 0.67; nothing else moves.
    let l = ledger(vec![instance(
        "i-a",
        vec![
            span(EARLY, Some(AFTER_START), "m6i.large", Lifecycle::OnDemand, "0.096"),
            span(AFTER_START, None, "m6i.large", Lifecycle::OnDemand, "0.100"),
        ],
        vec![],
    )]);
    let c = explain(&store(&[231; 7], &[241; 7]), &l);
    assert_eq!(c.change.to_string(), "0.70");
    assert_eq!(amount(&c, CauseKind::FleetSize), "0.00");
    assert_eq!(amount(&c, CauseKind::InstanceMix), "0.00");
    assert_eq!(amount(&c, CauseKind::Price), "0.67");
    assert_eq!(amount(&c, CauseKind::Other), "0.03");
    adds_up(&c);
    let e = &c.cause(CauseKind::Price).unwrap().events[0];
    assert_eq!(e.resource_id, "m6i.large");
    assert_eq!(e.what, "m6i.large on-demand in us-east-1: $0.0960 → $0.1000 per hour");
    assert_eq!(e.at, Some(AFTER_START));
}

#[test]
fn what_compute_does_not_explain_is_other() {
    // The same instance runs throughout at one price; the bill rises by 5.00 (storage,
    // transfer): all of it other, with no events.
    let l = ledger(vec![instance(
        "i-a",
        vec![span(EARLY, None, "m6i.large", Lifecycle::OnDemand, "0.096")],
        vec![],
    )]);
    let c = explain(&store(&[300; 7], &[300, 300, 300, 300, 300, 300, 800]), &l);
    assert_eq!(amount(&c, CauseKind::Other), "5.00");
    for kind in [CauseKind::FleetSize, CauseKind::InstanceMix, CauseKind::Price] {
        assert_eq!(amount(&c, kind), "0.00");
    }
    assert!(c.causes.iter().all(|c| c.events.is_empty()));
    assert_eq!(c.lines(1, 3), ["+$5.00: not compute (storage, transfer, other services, billing) (100%)"]);
}

#[test]
fn a_stop_removes_hours_and_names_who_stopped_it() {
    // Two m6i.large; one stops Nov 12 12:00: it runs 84 h of the after period, 84 fewer.
    // fleet_size = −84 × 0.096 = −8.064 → −8.06.
    let stopped = datetime!(2026-11-11 12:00 UTC);
    let mut b = instance(
        "i-b",
        vec![span(EARLY, Some(stopped), "m6i.large", Lifecycle::OnDemand, "0.096")],
        vec![event(stopped, ChangeKind::StateChanged { from: "running".into(), to: "stopped".into() })],
    );
    b.trail = Some(Trail {
        checked_at: OBSERVED,
        events: vec![
            TrailEvent {
                at: datetime!(2026-11-01 09:00 UTC),
                name: "StopInstances".into(),
                actor: "user old".into(),
            },
            TrailEvent {
                at: datetime!(2026-11-11 11:59 UTC),
                name: "StopInstances".into(),
                actor: "user alice".into(),
            },
        ],
        unavailable: None,
    });
    let l = ledger(vec![
        instance("i-a", vec![span(EARLY, None, "m6i.large", Lifecycle::OnDemand, "0.096")], vec![]),
        b,
    ]);
    let c = explain(&store(&[461; 7], &[461, 461, 461, 346, 230, 230, 230]), &l);
    assert_eq!(amount(&c, CauseKind::FleetSize), "-8.06");
    adds_up(&c);
    let e = &c.cause(CauseKind::FleetSize).unwrap().events[0];
    assert_eq!((e.what.as_str(), e.actor.as_str(), e.hours), ("stopped", "user alice", Decimal::from(-84)));
}

#[test]
fn a_key_with_nothing_before_is_all_fleet_size() {
    // Nothing ran before; one m6i.large runs all 168 h after: fleet_size = 168 × 0.096 =
    // 16.128 → 16.13 (no earlier mean, so no mix).
    let l = ledger(vec![instance(
        "i-a",
        vec![span(AFTER_START, None, "m6i.large", Lifecycle::OnDemand, "0.096")],
        vec![event(AFTER_START, ChangeKind::Appeared)],
    )]);
    let c = explain(&store(&[0; 7], &[231; 7]), &l);
    assert_eq!(amount(&c, CauseKind::FleetSize), "16.13");
    assert_eq!(amount(&c, CauseKind::InstanceMix), "0.00");
    adds_up(&c);
}

#[test]
fn periods_are_checked() {
    assert!(matches!(Comparison::of(TO, FROM), Err(ComparisonError::Reversed { .. })));
    assert!(matches!(
        Comparison::of(date!(2026 - 01 - 01), date!(2026 - 12 - 01)),
        Err(ComparisonError::TooLong { .. })
    ));
    let c = Comparison::of(FROM, TO).unwrap();
    assert_eq!((c.before_from, c.before_to), (date!(2026 - 11 - 01), date!(2026 - 11 - 07)));
}

fn running(id: &str, ty: &str, since: OffsetDateTime) -> Instance {
    let mut i = crate::sample::generate(1, crate::sample::Scale::Small, OBSERVED).instances[0].clone();
    i.id = id.into();
    i.account = "prod".into();
    i.region = "us-east-1".into();
    i.instance_type = ty.into();
    i.lifecycle = Lifecycle::OnDemand;
    i.state = InstanceState::Running;
    i.launch_time = since;
    i.state_since = Some(since);
    i.index = None;
    i
}

#[test]
fn the_ledger_opens_and_closes_spans_as_syncs_see_the_fleet() {
    let prices = PriceTable::bundled().unwrap();
    let pulled: HashSet<(String, String)> = [("prod".to_owned(), "us-east-1".to_owned())].into();
    let t = |h: i64| datetime!(2026-11-10 00:00 UTC) + time::Duration::hours(h);
    let mut l = UsageLedger::empty();
    // First seen running since an hour before the first sync.
    let mut a = running("i-a", "m6i.large", t(-1));
    l.observe(&[a.clone()], &[], &pulled, &prices, t(0));
    assert_eq!(l.instance("i-a").unwrap().spans.len(), 1);
    assert_eq!(l.instance("i-a").unwrap().spans[0].from, t(-1));
    // Stopped at t(2), seen at t(3): the span ends when EC2 says it stopped.
    a.state = InstanceState::Stopped;
    a.state_since = Some(t(2));
    let stop = crate::model::Change {
        at: t(3),
        resource: crate::model::ResourceKind::Instances,
        id: "i-a".into(),
        account: "prod".into(),
        region: "us-east-1".into(),
        what: ChangeKind::StateChanged { from: "running".into(), to: "stopped".into() },
    };
    l.observe(&[a.clone()], &[stop], &pulled, &prices, t(3));
    let u = l.instance("i-a").unwrap();
    assert_eq!(u.spans[0].to, Some(t(2)));
    assert_eq!(u.events[0].at, t(2), "EC2's time, not the sync's");
    // Started again, then resized: a new span each time.
    a.state = InstanceState::Running;
    a.state_since = Some(t(4));
    l.observe(&[a.clone()], &[], &pulled, &prices, t(5));
    // Resized: stopped, changed, started again at t(5) + 30 min (the new span starts then).
    a.instance_type = "m6i.xlarge".into();
    a.state_since = Some(t(5) + time::Duration::minutes(30));
    l.observe(&[a.clone()], &[], &pulled, &prices, t(6));
    let spans = &l.instance("i-a").unwrap().spans;
    assert_eq!(spans.len(), 3);
    assert_eq!((spans[1].from, spans[1].to), (t(4), Some(t(5) + time::Duration::minutes(30))));
    assert_eq!(spans[2].instance_type, "m6i.xlarge");
    assert_eq!(spans[2].hourly, prices.hourly("us-east-1", "m6i.xlarge", Lifecycle::OnDemand));
    // A late run, older than what the ledger saw, changes nothing.
    let before = l.clone();
    l.observe(&[], &[], &pulled, &prices, t(4));
    assert_eq!(l, before, "a late run observes nothing");
    // A failed pull leaves it running; gone from a pulled scope ends it.
    l.observe(&[], &[], &HashSet::new(), &prices, t(7));
    assert_eq!(l.instance("i-a").unwrap().spans[2].to, None);
    l.observe(&[], &[], &pulled, &prices, t(8));
    assert_eq!(l.instance("i-a").unwrap().spans[2].to, Some(t(8)));
    // Hours: 3 + 1.5 + 2.5 over the day.
    let hours: Decimal =
        l.instance("i-a").unwrap().spans.iter().map(|s| s.hours_within(t(-24), t(24), t(8))).sum();
    assert_eq!(hours, Decimal::from(7));
    assert_eq!(l.started_at, Some(t(0)), "the first observation");
    assert_eq!(explained_from(&l), Some(date!(2026 - 11 - 11)), "the first whole day after it");
    // Kept 100 days, then dropped.
    l.observe(&[], &[], &pulled, &prices, t(24 * 102));
    assert!(l.instance("i-a").is_none());
}

#[test]
fn on_the_sample_every_change_adds_up_and_the_top_movers_have_events_and_actors() {
    let g = crate::sample::generate_all(42, crate::sample::Scale::Small, datetime!(2026-11-24 12:00 UTC));
    let fleet = Fleet::new(g.everything);
    let cmp = Comparison::default_for(&g.costs).unwrap();
    assert_eq!((cmp.from, cmp.to), (date!(2026 - 11 - 15), date!(2026 - 11 - 21)));
    let mut named = 0;
    for dimension in [Breakdown::Index, Breakdown::Customer, Breakdown::Account] {
        let all: Vec<CostChange> = changes(&g.costs, &g.usage, &fleet, dimension, &cmp)
            .iter()
            .map(|c| c.with_events(&g.usage, &cmp))
            .collect();
        assert!(!all.is_empty());
        for c in &all {
            adds_up(c);
            named += c.causes.iter().flat_map(|c| &c.events).filter(|e| e.actor != "unknown").count();
        }
        for c in all.iter().take(5) {
            assert!(
                c.causes.iter().any(|c| !c.events.is_empty()),
                "{dimension:?} top mover without events: {c:#?}"
            );
        }
    }
    assert!(named > 0, "an event names who made it");
    // The list writes events only for what it shows; written, they are one key's own.
    let lazy = changes(&g.costs, &g.usage, &fleet, Breakdown::Index, &cmp);
    assert!(
        lazy[0]
            .causes
            .iter()
            .all(|c| c.events.is_empty() || c.kind == CauseKind::Price || c.kind == CauseKind::Other)
    );
    // Every key's change in the list, with its events, is the one `change_of` splits alone
    // (an index's cost page takes it from the list).
    for dimension in [Breakdown::Index, Breakdown::Customer, Breakdown::Account] {
        for c in changes(&g.costs, &g.usage, &fleet, dimension, &cmp) {
            assert_eq!(
                Some(c.with_events(&g.usage, &cmp)),
                change_of(&g.costs, &g.usage, &fleet, dimension, &c.key, &cmp),
                "{dimension:?} {}",
                c.key
            );
        }
    }
    let index: Vec<CostChange> = changes(&g.costs, &g.usage, &fleet, Breakdown::Index, &cmp)
        .iter()
        .map(|c| c.with_events(&g.usage, &cmp))
        .collect();
    let kinds: Vec<CauseKind> = CauseKind::ALL
        .into_iter()
        .filter(|k| {
            index.iter().any(|c| {
                c.cause(*k).is_some_and(|c| {
                    !c.events.is_empty() || (*k == CauseKind::Other && c.amount.amount() > Decimal::from(50))
                })
            })
        })
        .collect();
    assert_eq!(kinds, CauseKind::ALL, "the sample has every kind of cause");
    let whats: Vec<&str> =
        index.iter().flat_map(|c| &c.causes).flat_map(|c| &c.events).map(|e| e.what.as_str()).collect();
    assert!(
        index.iter().any(|c| c
            .cause(CauseKind::Other)
            .is_some_and(|o| o.events.iter().any(|e| e.what.ends_with("-DataTransfer-Out-Bytes")))),
        "other names the usage types Cost Explorer gave for the keys that moved most"
    );
    for (starts, ends) in [("type ", ""), ("launched ", " on-demand"), ("terminated ", " spot")] {
        assert!(
            whats.iter().any(|w| w.starts_with(starts) && w.ends_with(ends)),
            "{starts}…{ends}: {whats:?}"
        );
    }
}

#[test]
fn a_cost_spike_finding_names_its_causes_from_the_ledger() {
    let g = crate::sample::generate_all(42, crate::sample::Scale::Small, datetime!(2026-11-24 12:00 UTC));
    let fleet = Fleet::new(g.everything);
    let config = crate::config::Config::bundled().unwrap();
    let prices = PriceTable::bundled().unwrap();
    let now = datetime!(2026-11-24 12:00 UTC);
    let spikes = |usage: Option<&UsageLedger>| -> Vec<String> {
        let ctx = crate::cop::RuleContext::new(&fleet, &g.costs, &config, &prices, now).with_usage(usage);
        crate::cop::evaluate(&ctx).into_iter().filter(|c| c.rule == "cost-spike").map(|c| c.message).collect()
    };
    let with = spikes(Some(&g.usage));
    assert!(!with.is_empty());
    for m in &with {
        assert!(m.contains(": against 2026-11-14, +$"), "{m}");
        assert!(m.contains("%)"), "each cause with its share: {m}");
    }
    for m in spikes(None) {
        assert!(m.ends_with("look at what changed that day (the cost page shows the trend)."), "{m}");
    }
}

#[test]
fn each_change_is_matched_to_the_cloudtrail_call_that_makes_it() {
    let t = |h: i64| datetime!(2026-11-10 00:00 UTC) + time::Duration::hours(h);
    let call = |at, name: &str, actor: &str| TrailEvent { at, name: name.into(), actor: actor.into() };
    let trail = Trail {
        checked_at: t(48),
        events: vec![
            call(t(-30), "StopInstances", "user yesterday"),
            call(t(0), "RunInstances", "role deploy-bot"),
            call(t(5), "StopInstances", "user alice"),
            call(t(6), "ModifyInstanceAttribute", "user bob"),
            call(t(20), "StartInstances", "user bob"),
        ],
        unavailable: None,
    };
    let seen = |at, seen_at, what| UsageEvent { at, seen_at: Some(seen_at), what };
    let state = |from: &str, to: &str| ChangeKind::StateChanged { from: from.into(), to: to.into() };
    let actor = |e: &UsageEvent| trail.actor_of(e).map(|x| x.actor.as_str());
    // First seen pending, then running: the launch.
    assert_eq!(actor(&seen(t(0), t(0), state("pending", "running"))), Some("role deploy-bot"));
    // A stop at EC2's time: the call just before it, never yesterday's.
    assert_eq!(actor(&seen(t(5), t(5), state("running", "stopped"))), Some("user alice"));
    assert_eq!(actor(&seen(t(30), t(30), state("running", "stopped"))), None, "nothing near it");
    // A resize is made while stopped: up to a day before the instance runs again.
    let resized = ChangeKind::TypeChanged { from: "r6i.large".into(), to: "r6i.xlarge".into() };
    assert_eq!(actor(&seen(t(20), t(21), resized)), Some("user bob"));
    // Seen again after a failed pull: no call made it.
    assert_eq!(actor(&seen(t(20), t(21), ChangeKind::CameBack)), None);
    // A later lookup keeps what an earlier one found.
    let later = Trail {
        checked_at: t(60),
        events: vec![call(t(50), "TerminateInstances", "user carol")],
        unavailable: None,
    };
    let merged = later.merged(Some(&trail));
    assert_eq!(merged.events.len(), 6);
    assert!(merged.events.windows(2).all(|w| w[0].at <= w[1].at));
    assert_eq!(merged.checked_at, t(60));
}
