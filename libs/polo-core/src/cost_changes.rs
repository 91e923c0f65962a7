//! Why a key's cost changed between two periods of equal length: the change split into
//! `fleet_size` (instance-hours added or removed, at the earlier prices), `instance_mix`
//! (type, spot and on-demand, at the earlier prices), `price` (the same usage at the new
//! prices) and `other` (what compute does not explain: storage, transfer, other services,
//! and whatever the bill does differently from the price table). The compute parts come
//! from the usage ledger ([`UsageLedger`]), the change from the cost store; the parts add
//! up to the change to the cent because `other` is the rest. Each part lists the events
//! that made it, largest first, with who made them where CloudTrail said.
//!
//! With `H` instance-hours, `C*` a period's cost at the earlier prices (those of the
//! before period's last moment) and `C` at the prices of the time:
//! `fleet_size = (H_after - H_before) * C*_before / H_before`,
//! `instance_mix = C*_after - H_after * C*_before / H_before`,
//! `price = (C_after - C*_after) - (C_before - C*_before)`,
//! so the three make `C_after - C_before` exactly.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde::Serialize;
use time::{Date, Duration, OffsetDateTime};

use crate::Money;
use crate::costs::Breakdown;
use crate::listing::{Column, Direction, Sort};
use crate::model::{CostStore, Fleet, InstanceUsage, Lifecycle, Span, UsageEvent, UsageLedger};

/// Keys the sync asks Cost Explorer about by usage type, per refresh.
pub const USAGE_TYPE_KEYS: usize = 5;

/// Events listed per cause; the rest are counted.
pub const EVENTS_PER_CAUSE: usize = 5;

/// The longest period compared (a quarter).
pub const MAX_PERIOD_DAYS: i64 = 92;

/// The two periods compared: `before` ends the day before `after` begins, and both are as
/// long. Days are UTC, as Cost Explorer's are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Comparison {
    pub before_from: Date,
    pub before_to: Date,
    pub from: Date,
    pub to: Date,
}

/// Why two periods cannot be compared.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ComparisonError {
    #[error("from {from} is after to {to}")]
    Reversed { from: Date, to: Date },
    #[error("{days} days is longer than the {MAX_PERIOD_DAYS} a comparison may span")]
    TooLong { days: i64 },
    #[error("no cost data yet")]
    NoData,
    #[error("the periods differ in length: {before} days against {after}")]
    Unequal { before: i64, after: i64 },
}

impl Comparison {
    /// `[from, to]` against as many days just before it.
    pub fn of(from: Date, to: Date) -> Result<Comparison, ComparisonError> {
        if from > to {
            return Err(ComparisonError::Reversed { from, to });
        }
        let days = (to - from).whole_days() + 1;
        if days > MAX_PERIOD_DAYS {
            return Err(ComparisonError::TooLong { days });
        }
        Ok(Comparison {
            before_from: from - Duration::days(days),
            before_to: from - Duration::days(1),
            from,
            to,
        })
    }

    /// `[from, to]` against `[before_from, before_to]`, as long and ending before it (a day
    /// against the same weekday a week earlier).
    pub fn between(
        before_from: Date,
        before_to: Date,
        from: Date,
        to: Date,
    ) -> Result<Comparison, ComparisonError> {
        let after = Comparison::of(from, to)?;
        let before = Comparison::of(before_from, before_to)?;
        if before.days() != after.days() {
            return Err(ComparisonError::Unequal { before: before.days(), after: after.days() });
        }
        if before_to >= from {
            return Err(ComparisonError::Reversed { from: before_to, to: from });
        }
        Ok(Comparison { before_from, before_to, from, to })
    }

    /// The last 7 complete days of `store` against the 7 before.
    pub fn default_for(store: &CostStore) -> Result<Comparison, ComparisonError> {
        let to = store.newest_complete_day().ok_or(ComparisonError::NoData)?;
        Comparison::of(to - Duration::days(6), to)
    }

    /// Days in each period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).whole_days() + 1
    }

    fn instants(&self) -> [OffsetDateTime; 3] {
        let start = |d: Date| d.midnight().assume_utc();
        [start(self.before_from), start(self.from), start(self.to) + Duration::days(1)]
    }
}

/// The kinds of cause, in the order they are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    FleetSize,
    InstanceMix,
    Price,
    Other,
}

impl CauseKind {
    pub const ALL: [CauseKind; 4] =
        [CauseKind::FleetSize, CauseKind::InstanceMix, CauseKind::Price, CauseKind::Other];

    /// `fleet_size`, `instance_mix`, `price`, `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            CauseKind::FleetSize => "fleet_size",
            CauseKind::InstanceMix => "instance_mix",
            CauseKind::Price => "price",
            CauseKind::Other => "other",
        }
    }

    /// How pages name it.
    pub fn title(self) -> &'static str {
        match self {
            CauseKind::FleetSize => "Fleet size",
            CauseKind::InstanceMix => "Instance mix",
            CauseKind::Price => "Price",
            CauseKind::Other => "Other",
        }
    }
}

/// One key's change and its causes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CostChange {
    pub key: String,
    pub name: String,
    pub before: Money,
    pub after: Money,
    pub change: Money,
    /// One per [`CauseKind`], in that order; the amounts add up to `change`.
    pub causes: Vec<Cause>,
    /// Instance-hours the price table could not price (their cost is in `other`).
    #[serde(serialize_with = "hours_number")]
    pub unpriced_hours: Decimal,
    /// The instance events of fleet size and instance mix not written yet: [`changes`]
    /// writes them only for the changes shown ([`CostChange::with_events`]).
    #[serde(skip)]
    pending: Vec<Pending>,
}

/// An instance event a change lists, not written yet.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Pending {
    kind: CauseKind,
    /// The instance's position in the ledger.
    position: usize,
    seconds: i64,
    amount: Money,
}

/// One part of a change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Cause {
    pub kind: CauseKind,
    pub amount: Money,
    /// The largest, by size of what they added or took away.
    pub events: Vec<CauseEvent>,
    /// Events not listed, and what they add up to.
    pub more_events: usize,
    pub more_amount: Money,
}

/// One event behind a cause: an instance's change, or a price change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CauseEvent {
    /// The instance id, or the instance type whose price changed.
    pub resource_id: String,
    /// When it happened (`None`: nothing in the history, only hours that differ).
    #[serde(with = "time::serde::rfc3339::option")]
    pub at: Option<OffsetDateTime>,
    /// `launched g5.2xlarge on-demand`, `stopped`, `type r6i.large → r6i.xlarge`.
    pub what: String,
    /// Who made it (`role deploy-bot`), or `unknown`.
    pub actor: String,
    /// Why the actor is unknown, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_note: Option<String>,
    /// Instance-hours it added (negative: took away), rounded to the hundredth.
    #[serde(serialize_with = "hours_number")]
    pub hours: Decimal,
    pub amount: Money,
}

/// What the actor of an instance without CloudTrail answers is, and why.
const NOT_LOOKED_UP: &str = "CloudTrail not asked yet: the sync looks up the events shown";
const NOT_IN_TRAIL: &str = "no matching CloudTrail event (older than 90 days, or done by AWS itself)";

/// The sums of one instance (or one price) within one key, exactly, in integers: seconds,
/// and seconds times hourly prices in hundred-millionths of a dollar ([`PRICE_SCALE`]).
#[derive(Clone, Debug, Default)]
struct Sums {
    hours_before: i64,
    hours_after: i64,
    /// At the prices of the time.
    cost_before: i128,
    cost_after: i128,
    /// At the earlier prices.
    ref_before: i128,
    ref_after: i128,
}

/// Decimal places of an hourly price in [`Sums`]: the price table has at most five.
const PRICE_SCALE: u32 = 8;

/// An hourly price in units of [`PRICE_SCALE`].
fn price_units(m: Money) -> i128 {
    use rust_decimal::prelude::ToPrimitive;
    (m.amount() * Decimal::from(10u64.pow(PRICE_SCALE))).round().to_i128().unwrap_or(0)
}

/// Half a cent in seconds times price units: less than that rounds to nothing.
const HALF_CENT: i128 = 3600 * 10i128.pow(PRICE_SCALE) / 200;

/// Seconds times price units as money, rounded to the cent.
fn money_of(units: i128) -> Money {
    Money::new(Decimal::from_i128_with_scale(units, PRICE_SCALE) / Decimal::from(3600)).round_cents()
}

/// Seconds as hours, to the hundredth.
fn hours_of(seconds: i64) -> Decimal {
    round_hours(Decimal::from(seconds) / Decimal::from(3600))
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.hours_before += o.hours_before;
        self.hours_after += o.hours_after;
        self.cost_before += o.cost_before;
        self.cost_after += o.cost_after;
        self.ref_before += o.ref_before;
        self.ref_after += o.ref_after;
    }

    fn price_part(&self) -> i128 {
        (self.cost_after - self.ref_after) - (self.cost_before - self.ref_before)
    }
}

/// A price's identity: region, type, lifecycle.
type Config<'a> = (&'a str, &'a str, Lifecycle);

/// What one key collects: its sums per instance and per price, and unpriced hours.
#[derive(Default)]
struct KeyUsage {
    /// Per instance, in the ledger's (id) order: its position there and its sums.
    instances: Vec<(usize, Sums)>,
    /// Per price configuration ([`Configs`]): its sums, when a new price began, the earlier
    /// price and the new one.
    prices: Vec<(u32, Sums, Option<OffsetDateTime>, i128, i128)>,
    unpriced_seconds: i64,
}

/// The key of `dimension` a span of `usage` counts for (`None`: none of its keys).
fn key_of<'a>(
    fleet: &'a Fleet,
    dimension: Breakdown,
    usage: &'a InstanceUsage,
    span: &'a Span,
) -> Option<&'a str> {
    match dimension {
        Breakdown::Index => span.index.as_deref(),
        Breakdown::Customer => fleet.index(span.index.as_deref()?).map(|x| x.customer.as_str()),
        Breakdown::Account => Some(usage.account_id.as_str()),
        Breakdown::Service | Breakdown::Charge => None,
    }
}

/// Every span's price configuration as a small number (in the ledger's order of instances
/// and spans), the configurations, and the earlier price of each: the one in effect at the
/// end of the before period, else the first one seen after it (none known: no price change).
struct Configs<'a> {
    ids: Vec<u32>,
    all: Vec<Config<'a>>,
    earlier: Vec<Option<i128>>,
}

fn configs(ledger: &UsageLedger, at: OffsetDateTime, until: OffsetDateTime) -> Configs<'_> {
    let mut index: HashMap<Config<'_>, u32> = HashMap::new();
    let mut out = Configs { ids: Vec::new(), all: Vec::new(), earlier: Vec::new() };
    let mut held: Vec<Option<(bool, OffsetDateTime, i128)>> = Vec::new();
    for u in &ledger.instances {
        for s in &u.spans {
            let config = (u.region.as_str(), s.instance_type.as_str(), s.lifecycle);
            let id = *index.entry(config).or_insert_with(|| {
                out.all.push(config);
                held.push(None);
                u32::try_from(out.all.len() - 1).unwrap_or(u32::MAX)
            });
            out.ids.push(id);
            let Some(price) = s.hourly else { continue };
            let end = s.to.unwrap_or(until);
            let covers = s.from < at && end >= at;
            if !covers && (s.from < at || s.from >= until) {
                continue;
            }
            let candidate = (covers, s.from, price_units(price));
            if let Some(slot) = held.get_mut(id as usize) {
                // One that covers the moment wins; among the rest, the earliest.
                match slot {
                    Some(h) if !((candidate.0 && !h.0) || (candidate.0 == h.0 && candidate.1 < h.1)) => {}
                    _ => *slot = Some(candidate),
                }
            }
        }
    }
    out.earlier = held.into_iter().map(|h| h.map(|(_, _, p)| p)).collect();
    out
}

/// The cost of every key of `dimension` before and after (customers: their indexes'), in
/// one pass over the store.
fn costs_by_key<'a>(
    store: &'a CostStore,
    fleet: &'a Fleet,
    dimension: Breakdown,
    cmp: &Comparison,
) -> HashMap<&'a str, (Money, Money)> {
    let mut out: HashMap<&'a str, (Money, Money)> = HashMap::new();
    let source = dimension.source();
    let (before, after) = (store.columns(cmp.before_from, cmp.before_to), store.columns(cmp.from, cmp.to));
    let cents = |series: &[i64], columns: &std::ops::Range<usize>| {
        Money::from_scaled(series.get(columns.clone()).map_or(0, |d| d.iter().sum()), 2)
    };
    for (key, series) in store.dimensions.get(&source).into_iter().flatten() {
        let target = match dimension {
            Breakdown::Customer => fleet.index(key).map(|x| x.customer.as_str()),
            Breakdown::Index => fleet.index(key).map(|_| key.as_str()),
            _ => Some(key.as_str()),
        };
        if let Some(target) = target.filter(|k| !k.is_empty()) {
            let sums = out.entry(target).or_default();
            sums.0 += cents(series, &before);
            sums.1 += cents(series, &after);
        }
    }
    out
}

/// The name a page shows for `key`.
fn name_of(fleet: &Fleet, dimension: Breakdown, key: &str) -> String {
    match dimension {
        Breakdown::Index => fleet.index(key).map_or_else(|| key.to_owned(), |x| x.name.clone()),
        Breakdown::Account => {
            fleet.accounts().iter().find(|a| a.id == key).map_or_else(|| key.to_owned(), |a| a.name.clone())
        }
        _ => key.to_owned(),
    }
}

/// The changes of every key of `dimension` between the periods of `cmp`, largest change
/// (either way) first. Service and charge breakdowns have no fleet behind them: their
/// changes are all `other`. Instance events are written only for the changes shown
/// ([`CostChange::with_events`]): at the huge scale they are most of the work.
pub fn changes(
    store: &CostStore,
    ledger: &UsageLedger,
    fleet: &Fleet,
    dimension: Breakdown,
    cmp: &Comparison,
) -> Vec<CostChange> {
    let costs = costs_by_key(store, fleet, dimension, cmp);
    let (usage, configs) = collect(ledger, fleet, dimension, cmp, None);
    let mut out: Vec<CostChange> = costs
        .into_iter()
        .map(|(key, (b, a))| {
            let mut c = decompose(key, name_of(fleet, dimension, key), b, a, usage.get(key), &configs);
            explain_other(&mut c, store, dimension, cmp);
            c
        })
        .collect();
    out.sort_by(|x, y| y.change.abs().cmp(&x.change.abs()).then_with(|| x.key.cmp(&y.key)));
    out
}

/// The change of one key (`None`: the breakdown has no such key).
pub fn change_of(
    store: &CostStore,
    ledger: &UsageLedger,
    fleet: &Fleet,
    dimension: Breakdown,
    key: &str,
    cmp: &Comparison,
) -> Option<CostChange> {
    let (b, a) = costs_by_key(store, fleet, dimension, cmp).get(key).copied()?;
    let (usage, configs) = collect(ledger, fleet, dimension, cmp, Some(key));
    let mut c = decompose(key, name_of(fleet, dimension, key), b, a, usage.get(key), &configs);
    explain_other(&mut c, store, dimension, cmp);
    Some(c.with_events(ledger, cmp))
}

/// Gives `other` its events where Cost Explorer's usage types of the key cover the days
/// compared: each usage type's change, compute (which the fleet parts explain) left out.
fn explain_other(c: &mut CostChange, store: &CostStore, dimension: Breakdown, cmp: &Comparison) {
    if dimension != Breakdown::Index {
        return;
    }
    let Some(types) = store.usage_types.get(&c.key) else { return };
    let (Some(before), Some(after)) =
        (types.sums(cmp.before_from, cmp.before_to), types.sums(cmp.from, cmp.to))
    else {
        return;
    };
    // Compute as billed against compute as the price table has it (Savings Plans, Reserved
    // Instances, spot at its real price, licences): the part of `other` that is compute.
    let compute = |sums: &BTreeMap<&str, i64>| -> i64 {
        sums.iter().filter(|(t, _)| crate::model::UsageTypes::is_compute(t)).map(|(_, c)| c).sum()
    };
    let modelled: Money = c.causes.iter().filter(|x| x.kind != CauseKind::Other).map(|x| x.amount).sum();
    let billed = CauseEvent {
        resource_id: "compute".to_owned(),
        at: None,
        what: "compute billed unlike the price table (Savings Plans, Reserved Instances, spot prices)"
            .to_owned(),
        actor: String::new(),
        actor_note: None,
        hours: Decimal::ZERO,
        amount: Money::from_scaled(compute(&after) - compute(&before), 2) - modelled,
    };
    let events = after
        .iter()
        .filter(|(t, _)| !crate::model::UsageTypes::is_compute(t))
        .map(|(t, a)| (*t, a - before.get(t).copied().unwrap_or(0)))
        .chain(
            before
                .iter()
                .filter(|(t, _)| !after.contains_key(*t) && !crate::model::UsageTypes::is_compute(t))
                .map(|(t, b)| (*t, -b)),
        )
        .map(|(t, cents)| CauseEvent {
            resource_id: t.to_owned(),
            at: None,
            what: format!("usage type {t}"),
            actor: String::new(),
            actor_note: None,
            hours: Decimal::ZERO,
            amount: Money::from_scaled(cents, 2),
        })
        .chain(std::iter::once(billed))
        .collect();
    if let Some(other) = c.causes.iter_mut().find(|x| x.kind == CauseKind::Other) {
        *other = cause(CauseKind::Other, other.amount, events);
    }
}

/// The `top` keys of `dimension` in `store` whose cost moved most (either way) between the
/// periods of `cmp`, largest first: those Cost Explorer is asked about by usage type.
pub fn most_moved(
    store: &CostStore,
    dimension: crate::model::CostDimension,
    cmp: &Comparison,
    top: usize,
) -> Vec<String> {
    let mut moved: Vec<(Money, &String)> = store
        .dimensions
        .get(&dimension)
        .into_iter()
        .flat_map(|d| d.keys())
        .filter(|k| !k.is_empty())
        .map(|k| {
            let change = store.sum(dimension, k, cmp.from, cmp.to)
                - store.sum(dimension, k, cmp.before_from, cmp.before_to);
            (change.abs(), k)
        })
        .collect();
    moved.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    moved.into_iter().take(top).map(|(_, k)| k.clone()).collect()
}

/// Walks the ledger once: per key, the sums of each instance and each price.
fn collect<'a>(
    ledger: &'a UsageLedger,
    fleet: &'a Fleet,
    dimension: Breakdown,
    cmp: &Comparison,
    only: Option<&str>,
) -> (HashMap<&'a str, KeyUsage>, Vec<Config<'a>>) {
    let [b0, a0, a1] = cmp.instants();
    let open_until = ledger.observed_at.unwrap_or(a1);
    let configs = configs(ledger, a0, a1);
    let mut out: HashMap<&'a str, KeyUsage> = HashMap::new();
    let mut next_span = 0;
    for (position, u) in ledger.instances.iter().enumerate() {
        let first_span = next_span;
        next_span += u.spans.len();
        for (n, s) in u.spans.iter().enumerate() {
            if s.from >= a1 || s.to.unwrap_or(open_until) <= b0 {
                continue;
            }
            let config = configs.ids.get(first_span + n).copied().unwrap_or(u32::MAX);
            let Some(key) = key_of(fleet, dimension, u, s) else { continue };
            if only.is_some_and(|k| k != key) {
                continue;
            }
            let hb = s.seconds_within(b0, a0, open_until);
            let ha = s.seconds_within(a0, a1, open_until);
            let entry = out.entry(key).or_default();
            let Some(price) = s.hourly.map(price_units) else {
                entry.unpriced_seconds += hb + ha;
                continue;
            };
            let earlier = configs.earlier.get(config as usize).copied().flatten().unwrap_or(price);
            let sums = Sums {
                hours_before: hb,
                hours_after: ha,
                cost_before: i128::from(hb) * price,
                cost_after: i128::from(ha) * price,
                ref_before: i128::from(hb) * earlier,
                ref_after: i128::from(ha) * earlier,
            };
            // An instance's spans come together: its sums are the last entry, or a new one.
            match entry.instances.last_mut() {
                Some((p, held)) if *p == position => held.add(&sums),
                _ => entry.instances.push((position, sums.clone())),
            }
            let at = if let Some(at) = entry.prices.iter().position(|p| p.0 == config) {
                at
            } else {
                entry.prices.push((config, Sums::default(), None, earlier, price));
                entry.prices.len() - 1
            };
            let p = &mut entry.prices[at];
            p.1.add(&sums);
            if price != earlier && ha > 0 {
                p.2 = Some(p.2.map_or(s.from.max(a0), |t: OffsetDateTime| t.min(s.from.max(a0))));
                p.4 = price;
            }
        }
    }
    (out, configs.all)
}

/// Hours as a JSON number (they are rounded to the hundredth: no money, no exactness lost
/// that matters).
fn hours_number<S: serde::Serializer>(h: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    use rust_decimal::prelude::ToPrimitive;
    s.serialize_f64(h.to_f64().unwrap_or(0.0))
}

fn round_hours(h: Decimal) -> Decimal {
    h.round_dp(2).normalize()
}

/// The events of an instance within the compared days that move cost, newest last.
fn events_within<'a>(u: &'a InstanceUsage, cmp: &Comparison) -> Vec<&'a UsageEvent> {
    let [b0, _, a1] = cmp.instants();
    u.events.iter().filter(|e| e.at >= b0 && e.at < a1 && e.moves_cost()).collect()
}

/// How an event reads in a cause: `launched g5.2xlarge on-demand`.
fn describe(event: &UsageEvent, u: &InstanceUsage, at: OffsetDateTime) -> String {
    use crate::model::ChangeKind;
    let span = u.spans.iter().rev().find(|s| s.from <= at + Duration::minutes(1)).or_else(|| u.spans.first());
    let config = span.map(|s| format!("{} {}", s.instance_type, s.lifecycle)).unwrap_or_default();
    match &event.what {
        ChangeKind::Appeared => format!("launched {config}").trim_end().to_owned(),
        ChangeKind::CameBack => "came back".to_owned(),
        ChangeKind::Vanished => format!("terminated {config}").trim_end().to_owned(),
        ChangeKind::StateChanged { to, .. } => match to.as_str() {
            "running" => format!("started {config}").trim_end().to_owned(),
            "terminated" | "shutting-down" => format!("terminated {config}").trim_end().to_owned(),
            other => other.to_owned(),
        },
        other => other.describe(),
    }
}

/// The event of one instance: its newest cost-moving change in the compared days, with who
/// made it.
fn instance_event(u: &InstanceUsage, cmp: &Comparison, hours: Decimal, amount: Money) -> CauseEvent {
    let events = events_within(u, cmp);
    let Some(event) = events.last() else {
        let what = if hours >= Decimal::ZERO { "ran more hours" } else { "ran fewer hours" };
        return CauseEvent {
            resource_id: u.id.clone(),
            at: None,
            what: what.to_owned(),
            actor: "unknown".to_owned(),
            actor_note: Some("no change in the history: only its hours differ".to_owned()),
            hours: round_hours(hours),
            amount,
        };
    };
    let mut what: Vec<String> = events.iter().rev().take(3).rev().map(|e| describe(e, u, e.at)).collect();
    what.dedup();
    let (actor, actor_note) = match &u.trail {
        None => ("unknown".to_owned(), Some(NOT_LOOKED_UP.to_owned())),
        Some(t) if t.unavailable.is_some() => ("unknown".to_owned(), t.unavailable.clone()),
        Some(t) => match t.actor_of(event) {
            Some(found) => (found.actor.clone(), None),
            None => ("unknown".to_owned(), Some(NOT_IN_TRAIL.to_owned())),
        },
    };
    CauseEvent {
        resource_id: u.id.clone(),
        at: Some(event.at),
        what: what.join("; "),
        actor,
        actor_note,
        hours: round_hours(hours),
        amount,
    }
}

/// The largest events first, the rest counted.
fn cause(kind: CauseKind, amount: Money, mut events: Vec<CauseEvent>) -> Cause {
    events.retain(|e| !e.amount.is_zero());
    events
        .sort_by(|a, b| b.amount.abs().cmp(&a.amount.abs()).then_with(|| a.resource_id.cmp(&b.resource_id)));
    let rest = events.split_off(events.len().min(EVENTS_PER_CAUSE));
    Cause { kind, amount, events, more_events: rest.len(), more_amount: rest.iter().map(|e| e.amount).sum() }
}

fn decompose(
    key: &str,
    name: String,
    before: Money,
    after: Money,
    usage: Option<&KeyUsage>,
    configs: &[Config<'_>],
) -> CostChange {
    let empty = KeyUsage::default();
    let usage = usage.unwrap_or(&empty);
    let mut total = Sums::default();
    for (_, sums) in &usage.instances {
        total.add(sums);
    }
    // Hours added or removed at the earlier mean price per instance-hour (all of what runs
    // after when nothing ran before).
    let size_of = |s: &Sums| {
        if total.hours_before > 0 {
            i128::from(s.hours_after - s.hours_before) * total.ref_before / i128::from(total.hours_before)
        } else {
            s.ref_after - s.ref_before
        }
    };
    let fleet_size = money_of(size_of(&total));
    let instance_mix = money_of(total.ref_after - total.ref_before - size_of(&total));
    let price = money_of(total.price_part());
    let change = after - before;
    let other = change - fleet_size - instance_mix - price;
    // Each instance's part, as money; the largest are kept to be written as events.
    let mut size_parts = Vec::new();
    let mut mix_parts = Vec::new();
    // Kept in integers until the few listed: most instances ran alike in both periods, and
    // their parts are nothing.
    for (position, sums) in &usage.instances {
        let seconds = sums.hours_after - sums.hours_before;
        let size = size_of(sums);
        if size.abs() >= HALF_CENT {
            size_parts.push((size, seconds, *position));
        }
        let mix = sums.ref_after - sums.ref_before - size;
        if mix.abs() >= HALF_CENT {
            mix_parts.push((mix, seconds, *position));
        }
    }
    let mut pending = Vec::new();
    // Largest first; alike ones in the ledger's order, which is the instances' ids'.
    let mut events_of =
        |kind: CauseKind, mut parts: Vec<(i128, i64, usize)>| -> (Vec<CauseEvent>, usize, Money) {
            parts.sort_by(|a, b| b.0.abs().cmp(&a.0.abs()).then_with(|| a.2.cmp(&b.2)));
            let rest = parts.split_off(parts.len().min(EVENTS_PER_CAUSE));
            pending.extend(parts.into_iter().filter_map(|(units, seconds, position)| {
                let amount = money_of(units);
                (!amount.is_zero()).then_some(Pending { kind, position, seconds, amount })
            }));
            (Vec::new(), rest.len(), money_of(rest.iter().map(|r| r.0).sum()))
        };
    let size_listed = events_of(CauseKind::FleetSize, size_parts);
    let mix_listed = events_of(CauseKind::InstanceMix, mix_parts);
    let price_events = usage
        .prices
        .iter()
        .filter(|(id, s, _, _, _)| !money_of(s.price_part()).is_zero() && configs.get(*id as usize).is_some())
        .filter_map(|(id, s, at, earlier, now)| {
            let (region, instance_type, lifecycle) = configs.get(*id as usize)?;
            let per_hour = |units: i128| Decimal::from_i128_with_scale(units, PRICE_SCALE);
            let (earlier, now) = (per_hour(*earlier), per_hour(*now));
            Some(CauseEvent {
                resource_id: (*instance_type).to_owned(),
                at: *at,
                what: format!("{instance_type} {lifecycle} in {region}: ${earlier:.4} → ${now:.4} per hour"),
                actor: "price table".to_owned(),
                actor_note: None,
                hours: hours_of(s.hours_after),
                amount: money_of(s.price_part()),
            })
        })
        .collect();
    let listed = |kind, amount, (events, more_events, more_amount): (Vec<CauseEvent>, usize, Money)| Cause {
        kind,
        amount,
        events,
        more_events,
        more_amount,
    };
    CostChange {
        key: key.to_owned(),
        name,
        before,
        after,
        change,
        causes: vec![
            listed(CauseKind::FleetSize, fleet_size, size_listed),
            listed(CauseKind::InstanceMix, instance_mix, mix_listed),
            cause(CauseKind::Price, price, price_events),
            cause(CauseKind::Other, other, Vec::new()),
        ],
        unpriced_hours: hours_of(usage.unpriced_seconds),
        pending,
    }
}

impl CostChange {
    /// The same change with its instance events written (from `ledger`, the one it was
    /// split from, over the periods of `cmp`): what it shows.
    #[must_use]
    pub fn with_events(&self, ledger: &UsageLedger, cmp: &Comparison) -> CostChange {
        let mut out = self.clone();
        for p in std::mem::take(&mut out.pending) {
            let (Some(u), Some(cause)) =
                (ledger.instances.get(p.position), out.causes.iter_mut().find(|c| c.kind == p.kind))
            else {
                continue;
            };
            cause.events.push(instance_event(u, cmp, hours_of(p.seconds), p.amount));
        }
        out
    }

    /// The cause of `kind`.
    pub fn cause(&self, kind: CauseKind) -> Option<&Cause> {
        self.causes.iter().find(|c| c.kind == kind)
    }

    /// One line per cause, largest first, at most `limit`, leaving out those under 5 % of
    /// the causes' sizes: `+$412.00/day: 3 × launched g5.2xlarge on-demand 2026-11-19 14:02
    /// by role deploy-bot (78%)`. Amounts are per day over the `days` compared.
    pub fn lines(&self, days: i64, limit: usize) -> Vec<String> {
        let total: Decimal = self.causes.iter().map(|c| c.amount.amount().abs()).sum();
        if total.is_zero() {
            return Vec::new();
        }
        let mut causes: Vec<&Cause> = self.causes.iter().filter(|c| !c.amount.is_zero()).collect();
        causes.sort_by(|a, b| b.amount.abs().cmp(&a.amount.abs()).then(a.kind.cmp(&b.kind)));
        let per = |m: Money| -> Money {
            if days > 1 { Money::new(m.amount() / Decimal::from(days)).round_cents() } else { m }
        };
        causes
            .into_iter()
            .map(|c| (c, (c.amount.amount().abs() * Decimal::from(100) / total).round()))
            // Less than a twentieth, or less than a cent a day, is not a cause worth a line.
            .filter(|(c, share)| *share >= Decimal::from(5) && !per(c.amount).is_zero())
            .take(limit)
            .map(|(c, share)| {
                let unit = if days > 1 { "/day" } else { "" };
                format!("{}{unit}: {} ({share}%)", signed(per(c.amount)), c.summary())
            })
            .collect()
    }
}

/// `+$1.00` or `-$1.00`.
pub fn signed(m: Money) -> String {
    if m < Money::ZERO {
        format!("-${}", m.abs().to_grouped_cents())
    } else {
        format!("+${}", m.to_grouped_cents())
    }
}

impl Cause {
    /// What the cause was, in a few words: its largest group of alike events (`3 × launched
    /// g5.2xlarge on-demand 11-19 14:02 by role deploy-bot`), else its kind.
    pub fn summary(&self) -> String {
        let Some(top) =
            self.events.first().filter(|e| (e.amount < Money::ZERO) == (self.amount < Money::ZERO))
        else {
            return match self.kind {
                CauseKind::Other => "not compute (storage, transfer, other services, billing)".to_owned(),
                kind => kind.title().to_lowercase(),
            };
        };
        let alike = self.events.iter().filter(|e| e.what == top.what && e.actor == top.actor).count();
        let mut text = if alike > 1 { format!("{alike} × {}", top.what) } else { top.what.clone() };
        if let Some(at) = top.at {
            let _ = write!(text, " {} {:02}:{:02}", at.date(), at.hour(), at.minute());
        }
        if !top.actor.is_empty() && top.actor != "unknown" && self.kind != CauseKind::Price {
            let _ = write!(text, " by {}", top.actor);
        }
        let label = match self.kind {
            CauseKind::FleetSize => "",
            CauseKind::InstanceMix => "mix: ",
            CauseKind::Price => "price: ",
            CauseKind::Other => "not compute: ",
        };
        format!("{label}{text}")
    }
}

/// The columns of a table of changes, in JSON order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeColumn {
    Key,
    Name,
    Before,
    After,
    Change,
    FleetSize,
    InstanceMix,
    Price,
    Other,
}

impl Column for ChangeColumn {
    const ALL: &'static [Self] = &[
        ChangeColumn::Key,
        ChangeColumn::Name,
        ChangeColumn::Before,
        ChangeColumn::After,
        ChangeColumn::Change,
        ChangeColumn::FleetSize,
        ChangeColumn::InstanceMix,
        ChangeColumn::Price,
        ChangeColumn::Other,
    ];

    fn name(self) -> &'static str {
        match self {
            ChangeColumn::Key => "key",
            ChangeColumn::Name => "name",
            ChangeColumn::Before => "before",
            ChangeColumn::After => "after",
            ChangeColumn::Change => "change",
            ChangeColumn::FleetSize => "fleet_size",
            ChangeColumn::InstanceMix => "instance_mix",
            ChangeColumn::Price => "price",
            ChangeColumn::Other => "other",
        }
    }
}

impl CostChange {
    /// The amount of the cause of `kind` (zero when absent).
    pub fn amount_of(&self, kind: CauseKind) -> Money {
        self.cause(kind).map_or(Money::ZERO, |c| c.amount)
    }
}

/// The changes matching every free-text term (key or name), sorted (default: the largest
/// change either way first, as [`changes`] gives them).
pub fn list_changes<'a>(
    items: &'a [CostChange],
    terms: &[String],
    sort: Option<Sort<ChangeColumn>>,
) -> Vec<&'a CostChange> {
    let mut rows: Vec<&CostChange> = items
        .iter()
        .filter(|c| {
            let hay = format!("{} {}", c.key, c.name).to_lowercase();
            terms.iter().all(|t| hay.contains(t.as_str()))
        })
        .collect();
    if let Some(sort) = sort {
        rows.sort_by(|a, b| {
            let ord = match sort.column {
                ChangeColumn::Key => a.key.cmp(&b.key),
                ChangeColumn::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                ChangeColumn::Before => a.before.cmp(&b.before),
                ChangeColumn::After => a.after.cmp(&b.after),
                ChangeColumn::Change => a.change.cmp(&b.change),
                ChangeColumn::FleetSize => {
                    a.amount_of(CauseKind::FleetSize).cmp(&b.amount_of(CauseKind::FleetSize))
                }
                ChangeColumn::InstanceMix => {
                    a.amount_of(CauseKind::InstanceMix).cmp(&b.amount_of(CauseKind::InstanceMix))
                }
                ChangeColumn::Price => a.amount_of(CauseKind::Price).cmp(&b.amount_of(CauseKind::Price)),
                ChangeColumn::Other => a.amount_of(CauseKind::Other).cmp(&b.amount_of(CauseKind::Other)),
            };
            let ord = if sort.direction == Direction::Descending { ord.reverse() } else { ord };
            ord.then_with(|| a.key.cmp(&b.key))
        });
    }
    rows
}

/// The instances whose actors the largest changes need and CloudTrail has not told yet (not
/// asked, or asked before the event): from the events of the `top` largest of `all`, at most
/// `max`, each with when to ask from (a day before its earliest such event). An instance
/// CloudTrail could not be asked about (no permission) is asked again a day later.
pub fn actors_wanted(
    all: &[CostChange],
    ledger: &UsageLedger,
    cmp: &Comparison,
    top: usize,
    max: usize,
    now: OffsetDateTime,
) -> Vec<(String, OffsetDateTime)> {
    let mut out: BTreeMap<String, OffsetDateTime> = BTreeMap::new();
    let shown: Vec<CostChange> = all.iter().take(top).map(|c| c.with_events(ledger, cmp)).collect();
    let events = shown
        .iter()
        .flat_map(|c| &c.causes)
        .filter(|c| matches!(c.kind, CauseKind::FleetSize | CauseKind::InstanceMix))
        .flat_map(|c| &c.events);
    for e in events {
        let Some(at) = e.at else { continue };
        let stale = ledger.instance(&e.resource_id).is_some_and(|u| {
            u.trail.as_ref().is_none_or(|t| {
                t.checked_at < at || (t.unavailable.is_some() && now - t.checked_at > Duration::days(1))
            })
        });
        if stale {
            let since = at - Duration::days(1);
            out.entry(e.resource_id.clone()).and_modify(|s| *s = (*s).min(since)).or_insert(since);
        }
    }
    out.into_iter().take(max).collect()
}

/// The first day a ledger explains: what ran and ended before its first observation, or
/// longer ago than it keeps spans, is not in it, so fleet parts before then would be wrong.
pub fn explained_from(ledger: &UsageLedger) -> Option<Date> {
    let kept = ledger.observed_at.map(|t| t - Duration::days(crate::model::USAGE_KEEP_DAYS));
    let first = ledger.started_at?.max(kept.unwrap_or(ledger.started_at?));
    first.date().next_day()
}

#[cfg(test)]
mod tests;
