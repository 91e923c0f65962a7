//! The sample's fortnight of CloudWatch metrics: what a pull would have recorded (the same
//! plan and the same recording as the sync's), with oversized, dormant and healthy indexes
//! and idle instances among the rest. Drawn from a generator of its own, so the snapshot,
//! the costs and the ledger are what they were without it.

use time::{Duration, OffsetDateTime};

use super::Rng;
use crate::config::UtilizationSettings;
use crate::model::{Fleet, IndexStatus, MetricsDocument};
use crate::pricing::PriceTable;
use crate::utilization::plan::{Collecting, Measure, MetricQuery, batches, plan, window};

/// How a subject behaves over the fortnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Load {
    /// Busy enough for its size.
    Healthy,
    /// An index whose nodes idle: a smaller type would do.
    Oversized,
    /// An index nobody queries, busy with its own background work.
    Dormant,
    /// A stray instance doing nothing on most days.
    Idle,
}

/// What every running instance and ready index of `fleet` measured over the `days` before
/// `now`.
pub(super) fn metrics(fleet: &Fleet, prices: &PriceTable, seed: u64, now: OffsetDateTime) -> MetricsDocument {
    let settings = UtilizationSettings::default();
    let mut rng = Rng(seed ^ 0x6d65_7472_6963_7321);
    let queries = plan(fleet, prices, &settings);
    let mut doc = Collecting::new(now, settings.days).traffic_gaps_are_zero(settings.traffic_gaps_are_zero);
    let (_, first, _) = window(now, settings.days);
    let load_of = loads(fleet, prices);
    for q in &queries {
        let load = load_of(q);
        let points = points(&mut rng, q, load, first, settings.days);
        doc.record(q, &points);
    }
    advise(&mut doc, fleet, prices, &load_of);
    // Asked as the pull asks: a request per batch, one page each.
    for batch in batches(&queries, settings.days) {
        doc.asked(batch.len(), 1);
    }
    doc.finish()
}

/// Compute Optimizer as an opted-in `prod` would answer: an oversized or idle node
/// over-provisioned, with the next smaller type of its class ranked first; a busy one
/// optimized. The other accounts have not opted in.
fn advise(doc: &mut Collecting, fleet: &Fleet, prices: &PriceTable, load_of: &impl Fn(&MetricQuery) -> Load) {
    let mut advice = std::collections::BTreeMap::new();
    let mut scopes = std::collections::BTreeSet::new();
    for i in fleet.instances().iter().filter(|i| i.state == crate::model::InstanceState::Running) {
        if i.account != "prod" {
            scopes.insert((i.account.clone(), i.region.clone()));
            continue;
        }
        let probe = MetricQuery {
            account: i.account.to_string(),
            region: i.region.to_string(),
            subject: i.id.clone(),
            measure: Measure::Cpu,
            namespace: String::new(),
            metric: String::new(),
            dimensions: Vec::new(),
        };
        let class = crate::pricing::TypeSpec::class(&i.instance_type);
        let vcpu = prices.spec(&i.instance_type).map_or(0, |s| s.vcpu);
        let smaller = prices
            .specs
            .iter()
            .filter(|(t, s)| crate::pricing::TypeSpec::class(t) == class && s.vcpu < vcpu)
            .max_by_key(|(_, s)| s.vcpu)
            .map(|(t, _)| t.clone());
        let over = matches!(load_of(&probe), Load::Oversized | Load::Idle) && smaller.is_some();
        let saving = smaller.as_deref().filter(|_| over).and_then(|t| {
            let now = prices.hourly(&i.region, &i.instance_type, i.lifecycle)?;
            let after = prices.hourly(&i.region, t, i.lifecycle)?;
            Some((now - after).hourly_to_monthly().round_cents())
        });
        advice.insert(
            i.id.clone(),
            crate::model::OptimizerAdvice {
                finding: if over { "over-provisioned" } else { "optimized" }.to_owned(),
                current_type: i.instance_type.to_string(),
                recommended_type: if over { smaller } else { None },
                monthly_savings: saving,
                performance_risk: over.then_some(1.0),
            },
        );
    }
    doc.advised(advice);
    for (account, region) in scopes {
        doc.not_advised(format!("{account} {region}: the account has not opted in to Compute Optimizer"));
    }
}

/// Each subject's load: every ninth ready index with nodes from the fifth dormant; of the
/// rest, every other one that runs a type with a cheaper size in the price table oversized;
/// one in eight running instances that serve no index idle.
fn loads<'a>(fleet: &'a Fleet, prices: &PriceTable) -> impl Fn(&MetricQuery) -> Load + 'a {
    let mut by_subject = std::collections::HashMap::new();
    let served = fleet
        .indexes()
        .iter()
        .filter(|x| x.status == IndexStatus::Ready && fleet.instances_of(x).next().is_some());
    let shrinks = |t: &str| {
        let class = crate::pricing::TypeSpec::class(t);
        let vcpu = prices.spec(t).map_or(0, |s| s.vcpu);
        prices.specs.iter().any(|(other, s)| crate::pricing::TypeSpec::class(other) == class && s.vcpu < vcpu)
    };
    let mut shrinkable = 0;
    for (k, x) in served.enumerate() {
        let can_shrink = fleet.instances_of(x).any(|i| shrinks(&i.instance_type));
        let load = if k % 9 == 4 {
            Load::Dormant
        } else if can_shrink {
            shrinkable += 1;
            if shrinkable % 2 == 1 { Load::Oversized } else { Load::Healthy }
        } else {
            Load::Healthy
        };
        by_subject.insert(crate::model::index_key(&x.index_id, &x.account, &x.region), load);
        for node in fleet.instances_of(x) {
            by_subject.insert(node.id.clone(), load);
        }
    }
    let strays = fleet.instances().iter().filter(|i| i.index.is_none());
    for (k, i) in strays.enumerate() {
        by_subject.entry(i.id.clone()).or_insert(if k % 8 == 0 { Load::Idle } else { Load::Healthy });
    }
    move |q: &MetricQuery| by_subject.get(&q.subject).copied().unwrap_or(Load::Healthy)
}

/// A query's points over the window, as CloudWatch gives them (a point per period, a few
/// missing as when an agent or an instance pauses).
fn points(
    rng: &mut Rng,
    q: &MetricQuery,
    load: Load,
    first: OffsetDateTime,
    days: u32,
) -> Vec<(OffsetDateTime, f64)> {
    let (_, period) = q.measure.stat();
    let per_day = 86_400 / period;
    // Idle strays run no agent.
    if matches!(q.measure, Measure::Memory | Measure::Gpu) && load == Load::Idle {
        return Vec::new();
    }
    let mut out = Vec::new();
    for day in 0..i64::from(days) {
        // Idle strays wake up two days a fortnight.
        let busy_day = load == Load::Idle && (day == 3 || day == 10);
        // Each day peaks somewhere in its range; its other hours run lower.
        let peak_hour = rng.range(0, i64::from(per_day) - 1);
        let mut peak = None;
        for slot in 0..i64::from(per_day) {
            // The traffic metric publishes every day, zeros too (a gap would be unknown).
            if q.measure != Measure::Queries && rng.chance(2) {
                continue;
            }
            let at = first + Duration::days(day) + Duration::seconds(slot * i64::from(period));
            let (lo, hi) = match (q.measure, load, busy_day) {
                (Measure::Cpu, _, true) => (25, 40),
                (Measure::Cpu, Load::Healthy | Load::Dormant, _) => (30, 52),
                (Measure::Cpu, Load::Oversized, _) => (4, 12),
                (Measure::Cpu, Load::Idle, _) => (1, 6),
                (Measure::Memory, Load::Oversized, _) => (18, 28),
                (Measure::Memory, _, _) => (55, 75),
                (Measure::Gpu, Load::Oversized, _) => (3, 10),
                (Measure::Gpu, _, _) => (25, 60),
                // Bytes a day in each direction.
                (Measure::NetworkIn | Measure::NetworkOut, Load::Idle, false) => (200_000, 2_000_000),
                (Measure::NetworkIn | Measure::NetworkOut, _, _) => (2_000_000_000, 20_000_000_000),
                (Measure::Queries, Load::Dormant, _) => (0, 0),
                (Measure::Queries, _, _) => (200, 5_000),
            };
            let day_peak = *peak.get_or_insert_with(|| rng.range(lo, hi.max(lo)));
            let value = if slot == peak_hour { day_peak } else { rng.range(lo.min(day_peak) / 2, day_peak) };
            #[allow(clippy::cast_precision_loss)] // small sample numbers
            out.push((at, value as f64));
        }
    }
    out
}
