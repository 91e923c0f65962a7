//! An index's utilization from the metrics document: each role's nodes aggregated into one
//! load (the busiest node's p95 CPU, the memory it used, how whole the data is), the
//! proposal for it, and the index's traffic. Rules, reports and pages read this, nothing else.

use serde::Serialize;

use super::{Recommendation, RoleLoad, Targets, dormant, p95, rightsize};
use crate::config::{DriftSettings, UtilizationSettings};
use crate::drift::{IndexDrift, NodeRole, role_of, serving};
use crate::model::{Fleet, Index, Instance, MetricsDocument, index_key};
use crate::money::Money;
use crate::pricing::PriceTable;

/// One role of an index, measured.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoleUsage {
    pub role: NodeRole,
    #[serde(flatten)]
    pub load: RoleLoadView,
    /// Each day's highest CPU over the role's nodes (percent; `None`: no node had a point).
    pub daily_cpu_max: Vec<Option<f64>>,
    /// The cheaper way to run it, when there is one.
    pub recommendation: Option<Recommendation>,
    /// What Compute Optimizer says of its nodes, where their account has opted in: shown
    /// beside Polo's proposal, never mixed into it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub optimizer: Option<OptimizerView>,
}

/// Compute Optimizer's advice for one role's nodes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptimizerView {
    /// Nodes it has advice for, and of them the over-provisioned.
    pub advised: u32,
    pub over_provisioned: u32,
    /// The type it ranks first for most over-provisioned nodes.
    pub suggested_type: Option<String>,
    /// What its first-ranked options save a month over the over-provisioned nodes.
    pub monthly_savings: Money,
}

/// Compute Optimizer's advice over `nodes`, when it has any.
fn optimizer_view(nodes: &[&Instance], metrics: &MetricsDocument) -> Option<OptimizerView> {
    let advice: Vec<&crate::model::OptimizerAdvice> =
        nodes.iter().filter_map(|n| metrics.optimizer.get(&n.id)).collect();
    if advice.is_empty() {
        return None;
    }
    let over: Vec<&&crate::model::OptimizerAdvice> =
        advice.iter().filter(|a| a.finding == "over-provisioned").collect();
    let mut types: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for t in over.iter().filter_map(|a| a.recommended_type.as_deref()) {
        *types.entry(t).or_default() += 1;
    }
    let most = types.values().copied().max();
    Some(OptimizerView {
        advised: u32::try_from(advice.len()).unwrap_or(u32::MAX),
        over_provisioned: u32::try_from(over.len()).unwrap_or(u32::MAX),
        suggested_type: types.into_iter().find(|(_, n)| Some(*n) == most).map(|(t, _)| t.to_owned()),
        monthly_savings: over.iter().filter_map(|a| a.monthly_savings).sum(),
    })
}

/// What a role's load is, as shown.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoleLoadView {
    #[serde(rename = "type")]
    pub instance_type: String,
    pub nodes: u32,
    pub desired: u32,
    /// `None` without any CPU point.
    pub cpu_p95: Option<f64>,
    pub memory_used_gib: Option<f64>,
    pub days: u32,
    pub missing_share: f64,
}

/// An index measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct IndexUsage {
    /// Its serving roles, in [`NodeRole::ALL`]'s order.
    pub roles: Vec<RoleUsage>,
    /// The busiest role's p95 CPU (`None`: no role has data).
    pub cpu_p95: Option<f64>,
    /// What the roles' proposals save a month together.
    pub monthly_savings: Money,
    /// What its serving nodes cost a month at the price table's prices.
    pub monthly_cost: Money,
    /// Its queries per day from the traffic metric (empty: none configured or pulled).
    pub daily_queries: Vec<Option<f64>>,
}

impl IndexUsage {
    /// Whether any role has a proposal.
    pub fn oversized(&self) -> bool {
        self.roles.iter().any(|r| r.recommendation.is_some())
    }
}

/// `index` measured from `metrics`: its serving nodes in its own account and region by role.
pub fn index_usage(
    fleet: &Fleet,
    index: &Index,
    drift: Option<&IndexDrift>,
    metrics: &MetricsDocument,
    prices: &PriceTable,
    drift_settings: &DriftSettings,
    settings: &UtilizationSettings,
) -> IndexUsage {
    let nodes: Vec<&Instance> = fleet
        .instances_of(index)
        .filter(|i| i.account == index.account && i.region == index.region && serving(i))
        .collect();
    let monthly_cost: Money = nodes
        .iter()
        .filter_map(|n| prices.hourly(&n.region, &n.instance_type, n.lifecycle))
        .map(Money::hourly_to_monthly)
        .sum::<Money>()
        .round_cents();
    let targets = Targets::of(settings);
    let roles: Vec<RoleUsage> = NodeRole::ALL
        .into_iter()
        .filter_map(|role| {
            let of_role: Vec<&Instance> =
                nodes.iter().copied().filter(|n| role_of(n, drift_settings) == Some(role)).collect();
            let desired = drift.and_then(|d| d.desired.as_ref()).map_or(0, |d| d.of(role).count);
            // Only a ready index is sized: one being created, changed or deleted is not its
            // steady load.
            let proposing = index.status == crate::model::IndexStatus::Ready;
            role_usage(role, &of_role, desired, metrics, prices, proposing.then_some(&targets))
        })
        .collect();
    let cpu_p95 = roles.iter().filter_map(|r| r.load.cpu_p95).max_by(f64::total_cmp);
    let monthly_savings =
        roles.iter().filter_map(|r| r.recommendation.as_ref()).map(|r| r.monthly_savings).sum();
    let daily_queries = metrics
        .indexes
        .get(&index_key(&index.index_id, &index.account, &index.region))
        .cloned()
        .unwrap_or_default();
    IndexUsage { roles, cpu_p95, monthly_savings, monthly_cost, daily_queries }
}

/// The role's most common type, and its nodes of that type measured.
fn role_usage(
    role: NodeRole,
    nodes: &[&Instance],
    desired: u32,
    metrics: &MetricsDocument,
    prices: &PriceTable,
    targets: Option<&Targets>,
) -> Option<RoleUsage> {
    let instance_type = crate::drift::most_common_type(nodes)?;
    let first = nodes.iter().find(|n| n.instance_type == instance_type)?;
    let days = metrics.days as usize;
    let series: Vec<&crate::model::InstanceMetrics> =
        nodes.iter().filter_map(|n| metrics.instance(&n.id)).collect();
    let daily_cpu_max: Vec<Option<f64>> = (0..days)
        .map(|d| series.iter().filter_map(|s| s.cpu_max.get(d).copied().flatten()).max_by(f64::total_cmp))
        .collect();
    let cpu_p95 = series.iter().filter_map(|s| p95(&s.cpu_max)).max_by(f64::total_cmp);
    let memory_gib = prices.spec(&instance_type).map(|s| s.memory_gib);
    let memory_used_gib = series
        .iter()
        .filter_map(|s| p95(&s.memory_percent))
        .max_by(f64::total_cmp)
        .zip(memory_gib)
        .map(|(percent, gib)| (percent / 100.0 * gib * 10.0).round() / 10.0);
    let expected = days * nodes.len();
    let present: usize = series.iter().map(|s| s.cpu_max.iter().take(days).flatten().count()).sum();
    #[allow(clippy::cast_precision_loss)] // counts of days and nodes
    let missing_share = if expected == 0 { 1.0 } else { 1.0 - present as f64 / expected as f64 };
    let node_count = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
    let load = RoleLoad {
        instance_type: instance_type.clone(),
        region: first.region.to_string(),
        lifecycle: first.lifecycle,
        nodes: node_count,
        desired,
        cpu_p95: cpu_p95.unwrap_or(0.0),
        memory_used_gib,
        days: u32::try_from(daily_cpu_max.iter().flatten().count()).unwrap_or(u32::MAX),
        missing_share,
    };
    // Without a single CPU point there is nothing to size on.
    let recommendation = cpu_p95.zip(targets).and_then(|(_, targets)| rightsize(&load, prices, targets));
    Some(RoleUsage {
        role,
        load: RoleLoadView {
            instance_type,
            nodes: node_count,
            desired,
            cpu_p95,
            memory_used_gib,
            days: load.days,
            missing_share: (missing_share * 1000.0).round() / 1000.0,
        },
        daily_cpu_max,
        recommendation,
        optimizer: optimizer_view(nodes, metrics),
    })
}

/// Every index of the fleet measured, by fleet position (`judged`: each index's drift, as
/// [`crate::drift::fleet_drift`] gives it, for the registry's desired counts).
pub fn fleet_usage(
    fleet: &Fleet,
    judged: &[IndexDrift],
    metrics: &MetricsDocument,
    prices: &PriceTable,
    drift_settings: &DriftSettings,
    settings: &UtilizationSettings,
) -> Vec<IndexUsage> {
    fleet
        .indexes()
        .iter()
        .enumerate()
        .map(|(n, index)| index_usage(fleet, index, judged.get(n), metrics, prices, drift_settings, settings))
        .collect()
}

/// Whether `usage` of `index` is dormant at `now`.
pub fn index_dormant(
    index: &Index,
    usage: &IndexUsage,
    settings: &UtilizationSettings,
    now: time::OffsetDateTime,
) -> Option<super::Dormant> {
    dormant(index, &usage.daily_queries, usage.monthly_cost, settings, now)
}

/// A running instance that serves no index, idle by Trusted Advisor's rule, with what it
/// costs a month (`None`: its type is not in the price table).
pub struct IdleInstance<'a> {
    pub instance: &'a Instance,
    pub idle: super::Idle,
    pub monthly: Option<Money>,
}

/// Every idle instance of `fleet` that serves no index.
pub fn idle_instances<'a>(
    fleet: &'a Fleet,
    metrics: &'a MetricsDocument,
    prices: &'a PriceTable,
    settings: &'a UtilizationSettings,
) -> impl Iterator<Item = IdleInstance<'a>> + 'a {
    fleet
        .instances()
        .iter()
        .filter(|i| i.state == crate::model::InstanceState::Running && i.index.is_none())
        .filter_map(move |instance| {
            let idle = super::idle(metrics.instance(&instance.id)?, settings)?;
            let monthly = prices
                .hourly(&instance.region, &instance.instance_type, instance.lifecycle)
                .map(|h| h.hourly_to_monthly().round_cents());
            Some(IdleInstance { instance, idle, monthly })
        })
}
