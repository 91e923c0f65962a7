//! Utilization (issue 30's core, judged from numbers; the CloudWatch pull and the rules
//! that use it come after): rightsizing one role of an index (the cheapest instance type of
//! the same class, `r` of `r6i`, and the same kind, GPU or not, that keeps the role's
//! projected p95 CPU under a target and holds the memory it needs, on no fewer nodes than
//! the registry asks for, priced per month), an idle instance (Trusted Advisor's rule) and
//! a dormant index (no queries for days while it costs).

mod judge;
pub mod plan;

pub use judge::{
    IdleInstance, IndexUsage, OptimizerView, RoleLoadView, RoleUsage, fleet_usage, idle_instances,
    index_dormant, index_usage,
};

use time::OffsetDateTime;

use crate::Money;
use crate::config::UtilizationSettings;
use crate::model::{Index, IndexStatus, InstanceMetrics, Lifecycle};
use crate::pricing::{PriceTable, TypeSpec};

/// What one role of an index ran as, and how loaded it was.
#[derive(Clone, Debug, PartialEq)]
pub struct RoleLoad {
    pub instance_type: String,
    pub region: String,
    pub lifecycle: Lifecycle,
    /// Nodes running now.
    pub nodes: u32,
    /// Nodes the registry asks for: never fewer.
    pub desired: u32,
    /// The highest node's p95 CPU, in percent (the max of hourly averages per day, p95 over
    /// the days).
    pub cpu_p95: f64,
    /// Memory the busiest node used, where an agent publishes it (GiB).
    pub memory_used_gib: Option<f64>,
    /// Days with data, and of the points expected how many were missing.
    pub days: u32,
    pub missing_share: f64,
}

/// How far to go (`[utilization]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Targets {
    /// Projected p95 CPU a proposal must stay under, in percent.
    pub cpu_p95: f64,
    /// Room over the measured memory a proposal must have (1.2: a fifth more).
    pub memory_headroom: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets::of(&UtilizationSettings::default())
    }
}

impl Targets {
    /// The targets of `[utilization]`.
    pub fn of(s: &UtilizationSettings) -> Targets {
        Targets { cpu_p95: s.cpu_target_percent, memory_headroom: s.memory_headroom }
    }
}

/// The 95th percentile (nearest rank) of the days with a value: `None` without any.
pub fn p95(days: &[Option<f64>]) -> Option<f64> {
    let mut values: Vec<f64> = days.iter().flatten().copied().filter(|v| v.is_finite()).collect();
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    // Nearest rank: the smallest value at or above 95 % of them.
    let rank = (values.len() * 95).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

/// How idle an instance was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Idle {
    /// Days under both thresholds, of the days with data.
    pub idle_days: usize,
    pub days: usize,
}

/// Trusted Advisor's low-utilization rule: a daily average CPU of at most
/// `idle_cpu_percent` and network of at most `idle_network_mb` on at least `idle_min_days`
/// days (Trusted Advisor: 10 %, 5 MB, 4 of 14). Days without both points count as neither.
pub fn idle(d: &InstanceMetrics, s: &UtilizationSettings) -> Option<Idle> {
    let limit = s.idle_network_mb * 1_000_000.0;
    let pairs = d.cpu_avg.iter().zip(&d.network_bytes).filter_map(|(c, n)| Some(((*c)?, (*n)?)));
    let (days, idle_days) = pairs.fold((0, 0), |(days, idle), (cpu, net)| {
        (days + 1, idle + usize::from(cpu <= s.idle_cpu_percent && net <= limit))
    });
    (idle_days >= s.idle_min_days).then_some(Idle { idle_days, days })
}

/// Why an index is dormant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dormant {
    /// Queries over the days judged.
    pub queries: f64,
    pub days: usize,
    pub monthly_cost: Money,
}

/// A ready index, older than `dormant_days`, with fewer than `dormant_max_queries` queries
/// over its last `dormant_days` days of traffic (all of them known), costing at least
/// `dormant_min_monthly` a month. Traffic returning ends it.
pub fn dormant(
    index: &Index,
    queries: &[Option<f64>],
    monthly_cost: Money,
    s: &UtilizationSettings,
    now: OffsetDateTime,
) -> Option<Dormant> {
    let days = s.dormant_days;
    if index.status != IndexStatus::Ready
        || now - index.created_at < time::Duration::days(i64::try_from(days).unwrap_or(i64::MAX))
        || monthly_cost < Money::new(rust_decimal::Decimal::from(s.dormant_min_monthly))
        || queries.len() < days
    {
        return None;
    }
    let recent = &queries[queries.len() - days..];
    // A day CloudWatch has nothing for is not a quiet day: judged only on whole data.
    let total: Option<f64> = recent.iter().copied().sum();
    let total = total?;
    (total < s.dormant_max_queries).then_some(Dormant { queries: total, days, monthly_cost })
}

/// How much a proposal rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Under a week of data.
    Low,
    /// A week or more, or two weeks with more than a tenth of the points missing.
    Medium,
    /// Two weeks, nearly whole.
    High,
}

/// A cheaper way to run a role.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Recommendation {
    pub instance_type: String,
    pub nodes: u32,
    /// The role's p95 CPU on it, spread as now.
    pub projected_cpu_p95: f64,
    pub monthly_now: Money,
    pub monthly_after: Money,
    pub monthly_savings: Money,
    pub confidence: Confidence,
}

impl Confidence {
    /// `low`, `medium` or `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

fn confidence(load: &RoleLoad) -> Confidence {
    match load.days {
        d if d >= 14 && load.missing_share <= 0.1 => Confidence::High,
        d if d >= 7 => Confidence::Medium,
        _ => Confidence::Low,
    }
}

/// The cheapest type that fits `load` under `targets`, when it costs less than now.
pub fn rightsize(load: &RoleLoad, table: &PriceTable, targets: &Targets) -> Option<Recommendation> {
    let current = table.spec(&load.instance_type)?;
    let now_hourly = table.hourly(&load.region, &load.instance_type, load.lifecycle)?;
    let nodes = load.nodes.max(load.desired);
    if nodes == 0 {
        return None;
    }
    let memory_needed = load.memory_used_gib.map_or(current.memory_gib, |m| m * targets.memory_headroom);
    // The load spreads over the nodes as now: more nodes carry less each.
    let load_vcpus = load.cpu_p95 * f64::from(current.vcpu) * f64::from(load.nodes) / f64::from(nodes);
    let class = TypeSpec::class(&load.instance_type);
    let monthly =
        |hourly: Money, n: u32| (hourly * rust_decimal::Decimal::from(n)).hourly_to_monthly().round_cents();
    let now = monthly(now_hourly, load.nodes);
    let best = table
        .regions
        .get(&load.region)?
        .keys()
        .filter(|t| TypeSpec::class(t) == class)
        .filter_map(|t| Some((t, table.spec(t)?, table.hourly(&load.region, t, load.lifecycle)?)))
        .filter(|(_, spec, _)| (spec.gpus > 0) == (current.gpus > 0) && spec.memory_gib >= memory_needed)
        .map(|(t, spec, hourly)| (t, load_vcpus / f64::from(spec.vcpu), monthly(hourly, nodes)))
        .filter(|(_, projected, _)| *projected <= targets.cpu_p95)
        .min_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(b.0)))?;
    let (instance_type, projected, after) = best;
    (after < now).then(|| Recommendation {
        instance_type: instance_type.clone(),
        nodes,
        projected_cpu_p95: (projected * 10.0).round() / 10.0,
        monthly_now: now,
        monthly_after: after,
        monthly_savings: now - after,
        confidence: confidence(load),
    })
}

#[cfg(test)]
mod tests;
