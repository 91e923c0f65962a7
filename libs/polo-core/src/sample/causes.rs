//! The sample's cost changes and what made them, so `/costs/changes` has causes to find:
//! in the fortnight before the newest complete cost day, an index scaled up by a deploy role
//! (fleet size), an index resized by a person (instance mix), a spot node interrupted and
//! replaced on demand by Auto Scaling (instance mix), a new price table for one type (price),
//! and an index whose transfer grew (other). Who did each comes from the CloudTrail records
//! of `data/sample_cloudtrail.json`, read by the parser the sync uses. Also the usage ledger
//! of the whole sample, and each day's compute cost from it.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use time::{Date, Duration, OffsetDateTime, Time};

use super::{Generator, STORAGE};
use crate::Money;
use crate::model::{
    AccountKind, Change, ChangeKind, Index, IndexStatus, Instance, InstanceState, InstanceUsage, Lifecycle,
    ResourceKind, Span, Text, Trail, TrailEvent, USAGE_FORMAT, USAGE_KEEP_DAYS, UsageEvent, UsageLedger,
    actor_of_record,
};
use crate::pricing::PriceTable;

/// The recorded CloudTrail records of who changed the sample fleet.
const TRAIL_FIXTURE: &str = include_str!("../../../../data/sample_cloudtrail.json");

/// What the sample's costs must show beyond the fleet as it stands.
#[derive(Default)]
pub(super) struct Causes {
    /// Changes syncs saw, for the history and the ledger.
    pub history: Vec<Change>,
    /// Instances gone from EC2 by now, known to the ledger only.
    gone: Vec<(Instance, OffsetDateTime)>,
    /// Type changes: instance id -> (when, the type before).
    resized: HashMap<String, (OffsetDateTime, String)>,
    /// Who made each instance's changes.
    trails: HashMap<String, Vec<TrailEvent>>,
    /// The type whose price the table raised, when, and the price before.
    price_change: Option<(String, OffsetDateTime, Decimal)>,
    /// An index whose other cost (transfer) rose, from when, by how many cents a day.
    pub rise: Option<(String, Date, i64)>,
}

/// The actor of the fixture's record `name`.
fn fixture_actor(name: &str) -> String {
    let records: serde_json::Value = serde_json::from_str(TRAIL_FIXTURE).unwrap_or_default();
    records
        .get("records")
        .and_then(|r| r.get(name))
        .and_then(|r| actor_of_record(&r.to_string()))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn trail(name: &str, at: OffsetDateTime, record: &str) -> TrailEvent {
    TrailEvent { at, name: name.to_owned(), actor: fixture_actor(record) }
}

fn change(i: &Instance, at: OffsetDateTime, what: ChangeKind) -> Change {
    Change {
        at,
        resource: ResourceKind::Instances,
        id: i.id.clone(),
        account: i.account.to_string(),
        region: i.region.to_string(),
        what,
    }
}

impl Generator {
    /// Makes the sample's cost changes (see the module), on ready indexes with all their
    /// nodes other than those drift cases use (`taken`). The first complete cost day is two
    /// days before `now`'s: every change falls within the 14 days before it.
    pub(super) fn cost_causes(&mut self, indexes: &mut [Index], spiking: Option<&str>) -> Causes {
        let mut causes = Causes::default();
        let today = self.now.date();
        let day = |back: i64, h: u8, m: u8| {
            (today - Duration::days(back))
                .with_time(Time::from_hms(h, m, 0).unwrap_or(Time::MIDNIGHT))
                .assume_utc()
        };
        let (launch_at, resize_at, fallback_at, price_at) =
            (day(7, 14, 2), day(8, 9, 30), day(9, 3, 10), day(6, 0, 0));
        let nodes = |instances: &[Instance], x: &Index| {
            u32::try_from(
                instances.iter().filter(|i| i.index.as_deref() == Some(x.index_id.as_str())).count(),
            )
            .unwrap_or(u32::MAX)
        };
        // Ready, with all its nodes, every one running since before the compared weeks.
        let settled = self.now - Duration::days(21);
        let complete = |instances: &[Instance], x: &Index| {
            x.status == IndexStatus::Ready
                && nodes(instances, x) == x.inference_count + x.shards * (x.replicas + 1)
        };
        let full = |instances: &[Instance], x: &Index| {
            complete(instances, x)
                && instances
                    .iter()
                    .filter(|i| i.index.as_deref() == Some(x.index_id.as_str()))
                    .all(|i| i.launch_time < settled)
        };
        let kind_of = |g: &Generator, x: &Index| g.accounts[g.account_of(&x.account)].kind;
        // Scaled up by three inference nodes: the spiking index where it can be.
        let candidates: Vec<usize> = (0..indexes.len())
            .rev()
            .filter(|&n| {
                kind_of(self, &indexes[n]) == AccountKind::Prod && full(&self.instances, &indexes[n])
            })
            .collect();
        let scaled = spiking
            .and_then(|id| candidates.iter().copied().find(|&n| indexes[n].index_id == id))
            .or_else(|| candidates.first().copied());
        if let Some(n) = scaled {
            let x = &mut indexes[n];
            x.inference_count += 3;
            let ec2 = super::INFERENCE.iter().find(|i| i.0 == x.inference_type).map_or("c6i.xlarge", |i| i.1);
            let account = self.account_of(&x.account);
            for k in 0..3 {
                let mut i = self.new_instance(account, &x.region.clone(), ec2);
                i.launch_time = launch_at;
                i.state_since = Some(launch_at);
                Self::set_name(
                    &mut i,
                    format!("{}-{}-inference-{}", x.customer, x.name, x.inference_count - 3 + k),
                );
                Self::set_tag(&mut i, "marqo-index", &x.index_id);
                Self::set_tag(&mut i, "customer", &x.customer);
                Self::set_tag(&mut i, "role", "inference");
                causes.trails.insert(
                    i.id.clone(),
                    vec![trail("RunInstances", launch_at - Duration::minutes(1), "launch")],
                );
                self.instances.push(i);
            }
        }
        // Resized from the basic storage class to balanced storage, node by node.
        let resizable = |n: &usize| Some(*n) != scaled && indexes[*n].storage_class != STORAGE[1].0;
        let resized = candidates
            .iter()
            .copied()
            .filter(resizable)
            .find(|&n| indexes[n].storage_class == STORAGE[0].0)
            .or_else(|| candidates.iter().copied().find(resizable));
        if let Some(n) = resized {
            STORAGE[1].0.clone_into(&mut indexes[n].storage_class);
            let id = indexes[n].index_id.clone();
            let storage = self.instances.iter_mut().filter(|i| {
                i.index.as_deref() == Some(id.as_str())
                    && i.tags.get("role").map(Text::as_str) == Some("storage")
            });
            for (k, i) in (0i64..).zip(storage) {
                let at = resize_at + Duration::minutes(5 * k);
                causes.resized.insert(i.id.clone(), (at, i.instance_type.to_string()));
                i.instance_type = Text::from(STORAGE[1].1);
                causes.trails.insert(
                    i.id.clone(),
                    vec![trail("ModifyInstanceAttribute", at - Duration::minutes(2), "resize")],
                );
            }
        }
        // An index whose transfer grows by $12 a day.
        causes.rise = candidates
            .iter()
            .find(|&&n| Some(n) != scaled && Some(n) != resized)
            .map(|&n| (indexes[n].index_id.clone(), day(8, 0, 0).date(), 1_200));
        // A spot inference node in staging interrupted, replaced on demand a few minutes on.
        let spot = self.instances.iter().position(|i| {
            i.lifecycle == Lifecycle::Spot
                && i.state == InstanceState::Running
                && i.launch_time < fallback_at - Duration::days(14)
                && i.index.as_deref().is_some_and(|id| {
                    indexes.iter().any(|x| {
                        x.index_id == id
                            && kind_of(self, x) == AccountKind::Staging
                            && complete(&self.instances, x)
                    })
                })
        });
        if let Some(pos) = spot {
            let old = self.instances.remove(pos);
            let account = self.account_of(&old.account);
            let mut new = self.new_instance(account, &old.region.clone(), &old.instance_type.clone());
            new.launch_time = fallback_at + Duration::minutes(3);
            new.state_since = Some(new.launch_time);
            new.name.clone_from(&old.name);
            new.tags.clone_from(&old.tags);
            new.index.clone_from(&old.index);
            new.customer.clone_from(&old.customer);
            new.owner.clone_from(&old.owner);
            causes.trails.insert(
                new.id.clone(),
                vec![trail("RunInstances", new.launch_time - Duration::minutes(1), "fallback")],
            );
            // EC2 itself ended the spot node: CloudTrail names nobody for it.
            causes.trails.insert(old.id.clone(), Vec::new());
            causes.history.push(change(&old, old.launch_time, ChangeKind::Appeared));
            causes.history.push(change(&old, fallback_at + Duration::minutes(10), ChangeKind::Vanished));
            causes.gone.push((old, fallback_at));
            self.instances.push(new);
        }
        // A new price table: r6i.large had cost 4 % less.
        causes.price_change = Some((STORAGE[0].1.to_owned(), price_at, Decimal::new(96, 2)));
        causes
    }
}

/// The spans an instance of the sample ran, with the causes' changes.
fn spans_of(i: &Instance, causes: &Causes, prices: &PriceTable, end: Option<OffsetDateTime>) -> Vec<Span> {
    let hourly = |ty: &str| prices.hourly(&i.region, ty, i.lifecycle);
    let (from, to) = match (i.state, end) {
        (_, Some(end)) => (i.launch_time, Some(end)),
        (InstanceState::Running, None) => (i.state_since.unwrap_or(i.launch_time), None),
        (InstanceState::Pending, None) => return Vec::new(),
        (_, None) => match i.state_since.filter(|s| *s > i.launch_time) {
            Some(until) => (i.launch_time, Some(until)),
            None => return Vec::new(),
        },
    };
    let span = |from, to, ty: &str| Span {
        from,
        to,
        instance_type: ty.to_owned(),
        lifecycle: i.lifecycle,
        index: i.index.as_deref().map(str::to_owned),
        hourly: hourly(ty),
    };
    let mut out = match causes.resized.get(&i.id) {
        Some((at, before)) if *at > from => {
            vec![span(from, Some(*at), before), span(*at, to, &i.instance_type)]
        }
        _ => vec![span(from, to, &i.instance_type)],
    };
    if let Some((ty, at, factor)) = &causes.price_change
        && i.lifecycle == Lifecycle::OnDemand
    {
        out = out
            .into_iter()
            .flat_map(|s| {
                if s.instance_type != *ty || s.from >= *at {
                    return vec![s];
                }
                let old = s.hourly.map(|h| Money::new((h.amount() * factor).round_dp(4).normalize()));
                if s.to.is_some_and(|t| t <= *at) {
                    return vec![Span { hourly: old, ..s }];
                }
                vec![Span { to: Some(*at), hourly: old, ..s.clone() }, Span { from: *at, ..s }]
            })
            .collect();
    }
    out
}

/// The ledger a sync kept over the sample's fleet and history, and `causes`.
pub(super) fn ledger(
    instances: &[Instance],
    history: &[Change],
    causes: &Causes,
    prices: &PriceTable,
    now: OffsetDateTime,
) -> UsageLedger {
    let mut events: HashMap<&str, Vec<UsageEvent>> = HashMap::new();
    for c in history.iter().filter(|c| c.resource == ResourceKind::Instances) {
        events.entry(c.id.as_str()).or_default().push(UsageEvent {
            at: c.at,
            seen_at: Some(c.at),
            what: c.what.clone(),
        });
    }
    let current = instances.iter().map(|i| (i, None));
    let gone = causes.gone.iter().map(|(i, end)| (i, Some(*end)));
    let mut out: Vec<InstanceUsage> = current
        .chain(gone)
        .map(|(i, end)| {
            let mut evs = events.remove(i.id.as_str()).unwrap_or_default();
            evs.sort_by_key(|e| e.at);
            let recorded = causes.trails.get(&i.id).map(|t| Trail {
                checked_at: now,
                events: t.clone(),
                unavailable: None,
            });
            // Every other change of the last weeks was made by the index service.
            let recorded = recorded.or_else(|| {
                evs.iter().any(|e| e.at > now - Duration::days(21) && e.what == ChangeKind::Appeared).then(
                    || Trail {
                        checked_at: now,
                        events: evs
                            .iter()
                            .filter(|e| e.what == ChangeKind::Appeared)
                            .map(|e| trail("RunInstances", e.at - Duration::minutes(1), "provision"))
                            .collect(),
                        unavailable: None,
                    },
                )
            });
            InstanceUsage {
                id: i.id.clone(),
                account: i.account.to_string(),
                account_id: i.account_id.to_string(),
                region: i.region.to_string(),
                spans: spans_of(i, causes, prices, end),
                events: evs,
                trail: recorded,
            }
        })
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    // As if the sync had kept it since the cost data begins.
    let started_at = Some(now - Duration::days(USAGE_KEEP_DAYS));
    UsageLedger { format: USAGE_FORMAT, observed_at: Some(now), started_at, instances: out }
}

/// Each day's compute cost in whole cents from `first` for `days` days, by (index tag or
/// `""`, account name): billed seconds at each span's price.
pub(super) fn daily_compute(
    ledger: &UsageLedger,
    first: Date,
    days: usize,
) -> BTreeMap<(String, String), Vec<Decimal>> {
    let mut out: BTreeMap<(String, String), Vec<Decimal>> = BTreeMap::new();
    let start = first.midnight().assume_utc();
    let open_until = ledger.observed_at.unwrap_or(start);
    for u in &ledger.instances {
        for s in &u.spans {
            let Some(hourly) = s.hourly.map(Money::amount) else { continue };
            let key = (s.index.clone().unwrap_or_default(), u.account.clone());
            let series = out.entry(key).or_insert_with(|| vec![Decimal::ZERO; days]);
            let (from, to) = (s.from.max(start), s.to.unwrap_or(open_until));
            let mut day = usize::try_from((from - start).whole_days()).unwrap_or(0);
            while day < days {
                let d0 = start + Duration::days(i64::try_from(day).unwrap_or(0));
                if d0 >= to {
                    break;
                }
                series[day] += s.hours_within(d0, d0 + Duration::days(1), open_until) * hourly;
                day += 1;
            }
        }
    }
    out
}

/// Adds the history of the causes to `history`, in time order.
pub(super) fn with_history(mut history: Vec<Change>, causes: &Causes, instances: &[Instance]) -> Vec<Change> {
    history.extend(causes.history.iter().cloned());
    for (id, (at, before)) in &causes.resized {
        if let Some(i) = instances.iter().find(|i| &i.id == id) {
            history.push(change(
                i,
                *at,
                ChangeKind::TypeChanged { from: before.clone(), to: i.instance_type.to_string() },
            ));
        }
    }
    history.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
    history
}
