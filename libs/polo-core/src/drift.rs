//! Fleet drift: what each index's registry item asks for (its desired nodes per role, from
//! `[drift]`'s type mapping) against what runs for it in its own account and region, priced.
//! Positive amounts are money spent beyond the desired state each month; negative ones are
//! money the index should be costing (it runs short). The Cop's `fleet-*` rules, the index
//! pages and the summaries all read [`drift_of`] and [`zombies`], nothing else.

use serde::Serialize;
use time::OffsetDateTime;

use crate::config::DriftSettings;
use crate::model::{Fleet, Index, IndexStatus, Instance, InstanceState, Lifecycle};
use crate::money::Money;
use crate::pricing::PriceTable;

/// What a node does for its index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    Inference,
    Storage,
}

impl NodeRole {
    /// Both roles, in the order pages show them.
    pub const ALL: [NodeRole; 2] = [NodeRole::Inference, NodeRole::Storage];

    /// `inference` or `storage`.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Inference => "inference",
            NodeRole::Storage => "storage",
        }
    }
}

/// A kind of drift (the Cop rule `fleet-{kind}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DriftKind {
    /// Fewer serving nodes of a role than desired: an availability risk.
    UnderProvisioned,
    /// More serving nodes of a role than desired.
    OverProvisioned,
    /// Serving nodes of another EC2 type than the mapping says.
    TypeDrift,
    /// Instances of an index that is being deleted past its grace period.
    Zombie,
    /// A CREATING or MODIFYING index whose status has not changed for `stuck_hours`.
    StuckTransition,
}

impl DriftKind {
    /// Every kind, in the order rules and pages list them.
    pub const ALL: [DriftKind; 5] = [
        DriftKind::UnderProvisioned,
        DriftKind::OverProvisioned,
        DriftKind::TypeDrift,
        DriftKind::Zombie,
        DriftKind::StuckTransition,
    ];

    /// `under-provisioned`, …
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::UnderProvisioned => "under-provisioned",
            DriftKind::OverProvisioned => "over-provisioned",
            DriftKind::TypeDrift => "type-drift",
            DriftKind::Zombie => "zombie",
            DriftKind::StuckTransition => "stuck-transition",
        }
    }

    /// Whether its amounts are money of their own: a stuck transition's is the gap its
    /// index's other kinds already count, which totals must not add twice.
    pub fn adds_up(self) -> bool {
        self != DriftKind::StuckTransition
    }

    /// The kind `text` names.
    pub fn parse(text: &str) -> Option<DriftKind> {
        DriftKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// The nodes of one role: an EC2 type (the desired one; for actual nodes the most common,
/// `None` without any) and how many.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Nodes {
    #[serde(rename = "type")]
    pub instance_type: Option<String>,
    pub count: u32,
}

/// Both roles.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ByRole {
    pub inference: Nodes,
    pub storage: Nodes,
}

impl ByRole {
    /// The nodes of `role`.
    pub fn of(&self, role: NodeRole) -> &Nodes {
        match role {
            NodeRole::Inference => &self.inference,
            NodeRole::Storage => &self.storage,
        }
    }

    fn of_mut(&mut self, role: NodeRole) -> &mut Nodes {
        match role {
            NodeRole::Inference => &mut self.inference,
            NodeRole::Storage => &mut self.storage,
        }
    }
}

/// One drift of an index.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub kind: DriftKind,
    /// The role it is about (`None` for a whole index: zombie, stuck transition).
    pub role: Option<NodeRole>,
    /// How many nodes (missing, extra, of another type, left running).
    pub count: u32,
    /// What it does to the monthly bill: positive is waste, negative money the index should
    /// be costing. Types the price table does not know count zero.
    pub monthly_cost_impact: Money,
}

/// One index judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IndexDrift {
    /// What the registry asks for; `None` when its type or class has no mapping (then
    /// `not_judged` says which).
    pub desired: Option<ByRole>,
    /// Serving nodes (running or pending) in the index's own account and region.
    pub actual: ByRole,
    pub drift: Vec<Drift>,
    /// Why it was not judged, when it was not: an unmapped type, or a grace period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_judged: Option<String>,
    /// Instances tagged with the index in other accounts or regions: not counted.
    #[serde(skip_serializing_if = "is_zero")]
    pub elsewhere: usize,
    /// Nodes whose role could not be told (no role tag, no role in the name): not counted.
    #[serde(skip_serializing_if = "is_zero")]
    pub without_role: usize,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if shape
fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl IndexDrift {
    /// The sum of its drifts' monthly impacts.
    pub fn monthly_cost_impact(&self) -> Money {
        self.drift.iter().map(|d| d.monthly_cost_impact).sum()
    }

    /// Its drifts of `kind`.
    pub fn of_kind(&self, kind: DriftKind) -> impl Iterator<Item = &Drift> {
        self.drift.iter().filter(move |d| d.kind == kind)
    }
}

/// Whether an instance serves (and costs compute): running or pending.
pub fn serving(instance: &Instance) -> bool {
    matches!(instance.state, InstanceState::Running | InstanceState::Pending)
}

/// The role of `instance`: its role tag (`[drift] role_tag`), else a `-inference-` or
/// `-storage-` part of its Name.
pub fn role_of(instance: &Instance, settings: &DriftSettings) -> Option<NodeRole> {
    let parse = |text: &str| match text.to_ascii_lowercase().as_str() {
        "inference" => Some(NodeRole::Inference),
        "storage" => Some(NodeRole::Storage),
        _ => None,
    };
    if let Some(role) = instance.tags.get(settings.role_tag.as_str()).and_then(|t| parse(t)) {
        return Some(role);
    }
    // The last role word wins: `acme-storage-inference-0` is an inference node of an index
    // named "storage".
    instance.name.as_deref()?.rsplit(['-', '_', '.']).find_map(parse)
}

/// What the registry asks of `index`: `inference_count` nodes of its inference type's EC2
/// type, `shards × (replicas + 1)` of its storage class's; `Err` naming what has no mapping.
pub fn desired_of(index: &Index, settings: &DriftSettings) -> Result<ByRole, String> {
    let inference = settings.inference_types.get(&index.inference_type);
    let storage = settings.storage_classes.get(&index.storage_class);
    match (inference, storage) {
        (Some(inference), Some(storage)) => Ok(ByRole {
            inference: Nodes { instance_type: Some(inference.clone()), count: index.inference_count },
            storage: Nodes {
                instance_type: Some(storage.clone()),
                count: index.shards.saturating_mul(index.replicas.saturating_add(1)),
            },
        }),
        (None, _) => Err(format!(
            "inference type {:?} has no EC2 type in [drift.inference_types]",
            index.inference_type
        )),
        (_, None) => {
            Err(format!("storage class {:?} has no EC2 type in [drift.storage_classes]", index.storage_class))
        }
    }
}

/// The monthly price of one node of `instance_type` in `region` (on-demand unless `lifecycle`).
fn monthly(prices: &PriceTable, region: &str, instance_type: &str, lifecycle: Lifecycle) -> Option<Money> {
    prices.hourly(region, instance_type, lifecycle).map(Money::hourly_to_monthly)
}

/// What a serving node costs an hour: its type's price at its lifecycle (a pending node too:
/// it is billed once running, which is what it is becoming).
fn node_hourly(prices: &PriceTable, node: &Instance) -> Option<Money> {
    prices.hourly(&node.region, &node.instance_type, node.lifecycle)
}

/// Whether `index` has been in its status for less than `hours` at `now`. Without a
/// `status_since`, its creation stands in (never "forever within").
fn within(index: &Index, now: OffsetDateTime, hours: u32) -> bool {
    let since = index.status_since.unwrap_or(index.created_at);
    now - since < time::Duration::hours(i64::from(hours))
}

/// `index` judged at `now`: desired against actual per role, and each drift priced.
pub fn drift_of(
    fleet: &Fleet,
    index: &Index,
    settings: &DriftSettings,
    prices: &PriceTable,
    now: OffsetDateTime,
) -> IndexDrift {
    let tagged: Vec<&Instance> = fleet.instances_of(index).collect();
    let here: Vec<&Instance> =
        tagged.iter().copied().filter(|i| i.account == index.account && i.region == index.region).collect();
    let elsewhere = tagged.len() - here.len();
    let mut actual = ByRole::default();
    let mut without_role = 0;
    let mut serving_by_role: [Vec<&Instance>; 2] = [Vec::new(), Vec::new()];
    for instance in here.iter().copied().filter(|i| serving(i)) {
        match role_of(instance, settings) {
            Some(role) => serving_by_role[role as usize].push(instance),
            None => without_role += 1,
        }
    }
    for role in NodeRole::ALL {
        let nodes = &serving_by_role[role as usize];
        let count = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
        *actual.of_mut(role) = Nodes { instance_type: most_common_type(nodes), count };
    }
    let desired = desired_of(index, settings);
    let mut judged = IndexDrift {
        desired: desired.as_ref().ok().cloned(),
        actual,
        drift: Vec::new(),
        not_judged: None,
        elsewhere,
        without_role,
    };
    let deleting = index.status == IndexStatus::Deleting;
    let transition = matches!(index.status, IndexStatus::Creating | IndexStatus::Deleting);
    if transition && within(index, now, settings.grace_hours) {
        judged.not_judged = Some(format!(
            "{} for less than {} h (the grace period)",
            index.status.as_str(),
            settings.grace_hours
        ));
        return judged;
    }
    if deleting {
        // Everything still serving an index being deleted past its grace is left over.
        let left: Vec<&Instance> = here.iter().copied().filter(|i| serving(i)).collect();
        if !left.is_empty() {
            judged.drift.push(zombie(&left, prices));
        }
        return judged;
    }
    let desired = match desired {
        Ok(desired) => desired,
        Err(why) => {
            judged.not_judged = Some(why);
            return judged;
        }
    };
    for role in NodeRole::ALL {
        let want = desired.of(role);
        let want_type = want.instance_type.as_deref().unwrap_or_default();
        let nodes = &serving_by_role[role as usize];
        // Nodes counted as extra are priced whole there, not again as another type.
        let mut kept: Vec<&Instance> = nodes.clone();
        let have = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
        let desired_node =
            monthly(prices, &index.region, want_type, Lifecycle::OnDemand).unwrap_or(Money::ZERO);
        if have < want.count {
            let missing = want.count - have;
            let cost = Money::ZERO - desired_node * rust_decimal::Decimal::from(missing);
            judged.drift.push(Drift {
                kind: DriftKind::UnderProvisioned,
                role: Some(role),
                count: missing,
                monthly_cost_impact: cost,
            });
        } else if have > want.count {
            // The extra nodes are the newest ones (what a scale-out left), priced as they run.
            kept.sort_by(|a, b| b.launch_time.cmp(&a.launch_time).then_with(|| a.id.cmp(&b.id)));
            let extra = have - want.count;
            let extras: Vec<&Instance> = kept.drain(..extra as usize).collect();
            let cost =
                extras.iter().filter_map(|i| node_hourly(prices, i)).sum::<Money>().hourly_to_monthly();
            judged.drift.push(Drift {
                kind: DriftKind::OverProvisioned,
                role: Some(role),
                count: extra,
                monthly_cost_impact: cost,
            });
        }
        let other: Vec<&Instance> = kept.iter().copied().filter(|i| i.instance_type != want_type).collect();
        if !other.is_empty() {
            // What each runs at, less what the mapped type would at the same lifecycle.
            let cost = other
                .iter()
                .filter_map(|i| {
                    let runs = node_hourly(prices, i)?;
                    let would = prices.hourly(&i.region, want_type, i.lifecycle)?;
                    Some(runs - would)
                })
                .sum::<Money>()
                .hourly_to_monthly();
            judged.drift.push(Drift {
                kind: DriftKind::TypeDrift,
                role: Some(role),
                count: u32::try_from(other.len()).unwrap_or(u32::MAX),
                monthly_cost_impact: cost,
            });
        }
    }
    if matches!(index.status, IndexStatus::Creating | IndexStatus::Modifying)
        && !within(index, now, settings.stuck_hours)
    {
        // The gap the stuck transition leaves open: what the index's other drift costs (zero
        // when the fleet already matches). That money is already counted under its kinds, so
        // totals leave it out ([`DriftKind::adds_up`]).
        let counted: Money = judged.drift.iter().map(|d| d.monthly_cost_impact).sum();
        judged.drift.push(Drift {
            kind: DriftKind::StuckTransition,
            role: None,
            count: u32::try_from(here.iter().filter(|i| serving(i)).count()).unwrap_or(u32::MAX),
            monthly_cost_impact: counted,
        });
    }
    judged
}

/// The drift of `left`, serving an index that is gone or going.
fn zombie(left: &[&Instance], prices: &PriceTable) -> Drift {
    Drift {
        kind: DriftKind::Zombie,
        role: None,
        count: u32::try_from(left.len()).unwrap_or(u32::MAX),
        monthly_cost_impact: left
            .iter()
            .filter_map(|i| node_hourly(prices, i))
            .sum::<Money>()
            .hourly_to_monthly(),
    }
}

/// Instances tagged with an index no registry lists, serving, grouped by the tag's value,
/// account and region: each group a zombie, priced.
pub fn absent_index_zombies<'a>(
    fleet: &'a Fleet,
    prices: &PriceTable,
) -> Vec<(&'a str, &'a str, &'a str, Drift)> {
    let mut groups: std::collections::BTreeMap<(&str, &str, &str), Vec<&Instance>> =
        std::collections::BTreeMap::new();
    for instance in fleet.instances().iter().filter(|i| serving(i)) {
        if let Some(tag) = instance.index.as_deref()
            && fleet.index(tag).is_none()
        {
            groups
                .entry((tag, instance.account.as_str(), instance.region.as_str()))
                .or_default()
                .push(instance);
        }
    }
    groups
        .into_iter()
        .map(|((tag, account, region), left)| (tag, account, region, zombie(&left, prices)))
        .collect()
}

/// The most common EC2 type among `nodes` (ties: the first in name order).
pub fn most_common_type(nodes: &[&Instance]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for node in nodes {
        *counts.entry(node.instance_type.as_str()).or_default() += 1;
    }
    let most = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == most).map(|(t, _)| t.to_owned())
}

/// Every index of the fleet judged at `now`, in snapshot order.
pub fn fleet_drift<'a>(
    fleet: &'a Fleet,
    settings: &'a DriftSettings,
    prices: &'a PriceTable,
    now: OffsetDateTime,
) -> impl Iterator<Item = (&'a Index, IndexDrift)> + 'a {
    fleet.indexes().iter().map(move |index| (index, drift_of(fleet, index, settings, prices, now)))
}

/// The month's priced drift over the fleet, as the `fleet-*` findings price it (one amount
/// per index and kind, and per absent index, each rounded to the cent), from `judged` (each
/// index's drift, by fleet position, as [`fleet_drift`] gives it): the sum of the positive
/// ones (what runs beyond desired: waste), and of the negative ones (what should run and
/// does not).
pub fn priced_waste(fleet: &Fleet, judged: &[IndexDrift], prices: &PriceTable) -> DriftTotals {
    let mut amounts: Vec<Money> = absent_index_zombies(fleet, prices)
        .into_iter()
        .map(|(_, _, _, d)| d.monthly_cost_impact.round_cents())
        .collect();
    for judged in judged {
        for kind in DriftKind::ALL.into_iter().filter(|k| k.adds_up()) {
            let mut of_kind = judged.of_kind(kind).peekable();
            if of_kind.peek().is_some() {
                amounts.push(of_kind.map(|d| d.monthly_cost_impact).sum::<Money>().round_cents());
            }
        }
    }
    let mut totals = DriftTotals::default();
    for amount in amounts {
        if amount.amount().is_sign_negative() {
            totals.short += amount;
        } else {
            totals.waste += amount;
        }
    }
    totals
}

/// The month's drift of the open `fleet-*` findings among `findings`, as `/` and the weekly
/// summary show it: each finding's amount once (stuck transitions, whose amounts other kinds
/// count, left out).
pub fn totals_of_findings<'a>(findings: impl IntoIterator<Item = &'a crate::model::Finding>) -> DriftTotals {
    let mut totals = DriftTotals::default();
    for f in findings {
        totals.add(f);
    }
    totals
}

/// The month's drift of a fleet: what runs beyond the registries' ask (waste, positive) and
/// what they ask for that does not run (short, negative).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DriftTotals {
    pub waste: Money,
    pub short: Money,
}

impl DriftTotals {
    /// Adds what `f` prices, when it is an open `fleet-*` finding of a kind that adds up.
    pub fn add(&mut self, f: &crate::model::Finding) {
        let adds = f.rule.strip_prefix("fleet-").and_then(DriftKind::parse).is_some_and(DriftKind::adds_up);
        if f.resolved_at.is_some() || !adds {
            return;
        }
        let amount = f.monthly_cost_impact.unwrap_or(Money::ZERO);
        if amount.amount().is_sign_negative() {
            self.short += amount;
        } else {
            self.waste += amount;
        }
    }
}

#[cfg(test)]
mod tests {

    use time::macros::datetime;

    use super::*;
    use crate::model::{Everything, IndexStatus, InstanceState};

    const NOW: OffsetDateTime = datetime!(2026-12-01 12:00 UTC);

    fn index(status: IndexStatus, hours_in_status: i64) -> Index {
        Index {
            index_id: "idx-1".into(),
            name: "docs".into(),
            account: "prod".into(),
            region: "us-east-1".into(),
            customer: "acme".into(),
            status,
            status_since: Some(NOW - time::Duration::hours(hours_in_status)),
            inference_type: "marqo.CPU.small".into(),
            inference_count: 2,
            storage_class: "marqo.basic".into(),
            shards: 1,
            replicas: 1,
            marqo_version: "2.0".into(),
            created_at: NOW - time::Duration::days(30),
        }
    }

    fn node(n: u32, role: &str, instance_type: &str) -> Instance {
        Instance {
            id: format!("i-{role}-{n}"),
            account: "prod".into(),
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
            az: "us-east-1a".into(),
            name: Some(format!("acme-docs-{role}-{n}").into()),
            instance_type: instance_type.into(),
            state: InstanceState::Running,
            lifecycle: Lifecycle::OnDemand,
            launch_time: NOW - time::Duration::days(10) + time::Duration::minutes(i64::from(n)),
            state_since: None,
            private_ip: None,
            owner: Some("search".into()),
            index: Some("idx-1".into()),
            customer: Some("acme".into()),
            tags: crate::model::Tags::from([("role", role)]),
        }
    }

    /// The desired fleet of [`index`]: 2 × c6i.xlarge inference, 2 × r6i.large storage.
    fn matching() -> Vec<Instance> {
        vec![
            node(0, "inference", "c6i.xlarge"),
            node(1, "inference", "c6i.xlarge"),
            node(0, "storage", "r6i.large"),
            node(1, "storage", "r6i.large"),
        ]
    }

    /// A fleet of `index` and `instances`, nothing else.
    fn fleet_of(index: Index, instances: Vec<Instance>) -> Fleet {
        Fleet::new(Everything {
            generated_at: NOW,
            price_table_version: String::new(),
            accounts: Vec::new(),
            instances,
            indexes: vec![index],
            cost_facts: crate::model::CostFacts::default(),
            history: Vec::new(),
            findings: Vec::new(),
        })
    }

    fn judge(index: Index, instances: Vec<Instance>) -> IndexDrift {
        let fleet = fleet_of(index, instances);
        let prices = PriceTable::bundled().unwrap();
        drift_of(&fleet, &fleet.indexes()[0], &DriftSettings::default(), &prices, NOW)
    }

    fn monthly_of(instance_type: &str) -> Money {
        PriceTable::bundled()
            .unwrap()
            .hourly("us-east-1", instance_type, Lifecycle::OnDemand)
            .unwrap()
            .hourly_to_monthly()
    }

    #[test]
    fn a_fleet_that_matches_its_registry_has_no_drift() {
        let judged = judge(index(IndexStatus::Ready, 100), matching());
        assert_eq!(judged.drift, []);
        assert_eq!(judged.desired.as_ref().unwrap().storage.count, 2, "shards × (replicas + 1)");
        assert_eq!(judged.actual.inference, Nodes { instance_type: Some("c6i.xlarge".into()), count: 2 });
    }

    #[test]
    fn under_provisioned_counts_the_missing_nodes_at_the_mapped_price_as_negative() {
        let mut fleet = matching();
        fleet[3].state = InstanceState::Stopped;
        let judged = judge(index(IndexStatus::Ready, 100), fleet);
        let d: Vec<&Drift> = judged.of_kind(DriftKind::UnderProvisioned).collect();
        assert_eq!(d.len(), 1);
        assert_eq!((d[0].role, d[0].count), (Some(NodeRole::Storage), 1));
        assert_eq!(d[0].monthly_cost_impact, Money::ZERO - monthly_of("r6i.large"));
    }

    #[test]
    fn over_provisioned_prices_the_newest_extra_nodes_as_they_run() {
        let mut fleet = matching();
        let mut extra = node(2, "inference", "c6i.2xlarge");
        extra.lifecycle = Lifecycle::OnDemand;
        fleet.push(extra);
        let judged = judge(index(IndexStatus::Ready, 100), fleet);
        let d: Vec<&Drift> = judged.of_kind(DriftKind::OverProvisioned).collect();
        assert_eq!((d[0].role, d[0].count), (Some(NodeRole::Inference), 1));
        assert_eq!(d[0].monthly_cost_impact, monthly_of("c6i.2xlarge"), "the newest node is the extra one");
    }

    #[test]
    fn a_pending_node_is_priced_as_it_will_run_and_extras_are_not_type_drift_too() {
        let mut fleet = matching();
        let mut extra = node(2, "inference", "c6i.2xlarge");
        extra.state = InstanceState::Pending;
        fleet.push(extra);
        let judged = judge(index(IndexStatus::Ready, 100), fleet);
        let over: Vec<&Drift> = judged.of_kind(DriftKind::OverProvisioned).collect();
        assert_eq!(over[0].monthly_cost_impact, monthly_of("c6i.2xlarge"), "pending, priced as it will run");
        assert_eq!(judged.of_kind(DriftKind::TypeDrift).count(), 0, "the extra node is priced once");
    }

    #[test]
    fn an_index_without_a_status_time_is_judged_from_its_creation() {
        let mut x = index(IndexStatus::Creating, 0);
        x.status_since = None;
        let judged = judge(x, Vec::new());
        assert!(judged.not_judged.is_none(), "created 30 days ago: past the grace");
        assert_eq!(judged.of_kind(DriftKind::UnderProvisioned).count(), 2);
    }

    #[test]
    fn type_drift_is_what_the_other_type_costs_beyond_the_mapped_one() {
        let mut fleet = matching();
        fleet[0].instance_type = "c6i.2xlarge".into();
        let judged = judge(index(IndexStatus::Ready, 100), fleet);
        let d: Vec<&Drift> = judged.of_kind(DriftKind::TypeDrift).collect();
        assert_eq!((d[0].role, d[0].count), (Some(NodeRole::Inference), 1));
        assert_eq!(d[0].monthly_cost_impact, monthly_of("c6i.2xlarge") - monthly_of("c6i.xlarge"));
        assert!(d[0].monthly_cost_impact.amount().is_sign_positive());
    }

    #[test]
    fn zombie_is_every_node_still_serving_a_deleted_index_after_the_grace() {
        let judged = judge(index(IndexStatus::Deleting, 3), matching());
        let d: Vec<&Drift> = judged.of_kind(DriftKind::Zombie).collect();
        assert_eq!(d[0].count, 4);
        assert_eq!(
            d[0].monthly_cost_impact,
            monthly_of("c6i.xlarge") * 2.into() + monthly_of("r6i.large") * 2.into()
        );
    }

    #[test]
    fn zombie_counts_instances_of_an_index_no_registry_lists() {
        let mut gone = matching();
        for i in &mut gone {
            i.index = Some("idx-gone".into());
        }
        let fleet = fleet_of(index(IndexStatus::Ready, 100), gone);
        let zombies = absent_index_zombies(&fleet, &PriceTable::bundled().unwrap());
        assert_eq!(zombies.len(), 1);
        assert_eq!((zombies[0].0, zombies[0].1, zombies[0].3.count), ("idx-gone", "prod", 4));
    }

    #[test]
    fn stuck_transition_carries_the_gap_it_leaves_open_without_adding_it_again() {
        let mut fleet = matching();
        fleet.push(node(2, "storage", "r6i.large"));
        let judged = judge(index(IndexStatus::Modifying, 7), fleet.clone());
        let d: Vec<&Drift> = judged.of_kind(DriftKind::StuckTransition).collect();
        assert_eq!(d[0].monthly_cost_impact, monthly_of("r6i.large"), "the gap it leaves: one storage node");
        assert!(!DriftKind::StuckTransition.adds_up(), "counted under over-provisioned, not twice");
        // A transition stuck with the fleet already matching leaves no gap.
        let matched = judge(index(IndexStatus::Modifying, 7), matching());
        assert_eq!(
            matched.of_kind(DriftKind::StuckTransition).next().unwrap().monthly_cost_impact,
            Money::ZERO
        );
        assert!(
            judge(index(IndexStatus::Modifying, 5), fleet)
                .of_kind(DriftKind::StuckTransition)
                .next()
                .is_none()
        );
    }

    #[test]
    fn creating_and_deleting_indexes_are_not_judged_within_the_grace_period() {
        for status in [IndexStatus::Creating, IndexStatus::Deleting] {
            let judged = judge(index(status, 1), Vec::new());
            assert_eq!(judged.drift, [], "{status:?}");
            assert!(judged.not_judged.as_deref().unwrap().contains("grace"), "{status:?}");
        }
        // After it, a CREATING index with nothing running is under-provisioned.
        let late = judge(index(IndexStatus::Creating, 3), Vec::new());
        assert_eq!(late.of_kind(DriftKind::UnderProvisioned).count(), 2);
    }

    #[test]
    fn an_unmapped_type_is_reported_never_guessed() {
        let mut x = index(IndexStatus::Ready, 100);
        x.inference_type = "marqo.TPU".into();
        let judged = judge(x, matching());
        assert_eq!(judged.drift, []);
        assert!(judged.desired.is_none());
        assert!(judged.not_judged.as_deref().unwrap().contains("\"marqo.TPU\""), "{judged:?}");
    }

    #[test]
    fn instances_in_another_account_are_not_counted_for_the_index() {
        let mut fleet = matching();
        for i in &mut fleet {
            i.account = "staging".into();
        }
        let judged = judge(index(IndexStatus::Ready, 100), fleet);
        assert_eq!(judged.elsewhere, 4);
        assert_eq!(judged.actual, ByRole::default());
        assert_eq!(judged.of_kind(DriftKind::UnderProvisioned).map(|d| d.count).sum::<u32>(), 4);
    }

    #[test]
    fn a_role_is_told_by_its_tag_else_its_name() {
        let settings = DriftSettings::default();
        let mut n = node(0, "storage", "r6i.large");
        assert_eq!(role_of(&n, &settings), Some(NodeRole::Storage));
        n.tags.clear();
        n.name = Some("acme-docs-inference-3".into());
        assert_eq!(role_of(&n, &settings), Some(NodeRole::Inference));
        n.name = Some("acme-storage-inference-0".into());
        assert_eq!(role_of(&n, &settings), Some(NodeRole::Inference), "an index named storage");
        n.name = Some("bastion".into());
        assert_eq!(role_of(&n, &settings), None);
    }
}
