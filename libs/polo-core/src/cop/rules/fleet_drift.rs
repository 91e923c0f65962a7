//! The `fleet-*` rules: each kind of drift between what an index's registry item asks for
//! and what runs for it (`crate::drift`), one finding per index and kind, priced a month.
//! `[cop.rules.fleet-…] min_monthly` (dollars, default 0) leaves out drifts that cost less
//! (under-provisioned and zombie findings are never left out: they are about availability
//! and leftovers, whatever they cost).

use rust_decimal::Decimal;

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings};
use crate::drift::{Drift, DriftKind, IndexDrift, NodeRole, absent_index_zombies};
use crate::model::{Index, ResourceKind, Severity};
use crate::money::Money;

/// One kind's rule.
pub struct FleetDrift(pub DriftKind);

/// The rules, one per kind.
pub static UNDER: FleetDrift = FleetDrift(DriftKind::UnderProvisioned);
pub static OVER: FleetDrift = FleetDrift(DriftKind::OverProvisioned);
pub static TYPE: FleetDrift = FleetDrift(DriftKind::TypeDrift);
pub static ZOMBIE: FleetDrift = FleetDrift(DriftKind::Zombie);
pub static STUCK: FleetDrift = FleetDrift(DriftKind::StuckTransition);

fn dollars(m: Money) -> String {
    let sign = if m.amount().is_sign_negative() { "-" } else { "" };
    format!("{sign}${}", m.abs().to_grouped_cents())
}

/// "2 inference nodes (c6i.xlarge) and 1 storage node (r6i.xlarge)".
fn per_role(drifts: &[&Drift], judged: &IndexDrift) -> String {
    drifts
        .iter()
        .map(|d| {
            let role = d.role.map_or("", NodeRole::as_str);
            let wanted = d
                .role
                .and_then(|r| {
                    judged.desired.as_ref().map(|w| w.of(r).instance_type.clone().unwrap_or_default())
                })
                .unwrap_or_default();
            let plural = if d.count == 1 { "node" } else { "nodes" };
            format!("{} {role} {plural} ({wanted})", d.count)
        })
        .collect::<Vec<_>>()
        .join(" and ")
}

impl FleetDrift {
    fn about(&self, index: &Index, judged: &IndexDrift, drifts: &[&Drift]) -> Option<Candidate> {
        let impact: Money = drifts.iter().map(|d| d.monthly_cost_impact).sum::<Money>().round_cents();
        let who = format!("Index {} ({}) of customer {}", index.name, index.index_id, index.customer);
        let (severity, message) = match self.0 {
            DriftKind::UnderProvisioned => {
                let desired = judged.desired.as_ref()?;
                // Critical when a role has nothing left, or storage has fewer nodes than
                // shards (some shard has no copy serving); else a replica short.
                let storage = judged.actual.storage.count;
                let critical = drifts.iter().any(|d| d.role.is_some_and(|r| judged.actual.of(r).count == 0))
                    || (drifts.iter().any(|d| d.role == Some(NodeRole::Storage)) && storage < index.shards);
                let left = format!(
                    "{} of {} inference and {} of {} storage nodes serve",
                    judged.actual.inference.count, desired.inference.count, storage, desired.storage.count
                );
                (
                    if critical { Severity::Critical } else { Severity::Warning },
                    format!(
                        "{who} is short of {}: {left}; restore them ({} a month at the mapped types).",
                        per_role(drifts, judged),
                        dollars(impact.abs())
                    ),
                )
            }
            DriftKind::OverProvisioned => (
                Severity::Warning,
                format!(
                    "{who} runs {} more than its registry asks for, costing {} a month: scale it in, or raise the registry's counts if the load needs them.",
                    per_role(drifts, judged),
                    dollars(impact)
                ),
            ),
            DriftKind::TypeDrift => {
                let actual: Vec<String> = drifts
                    .iter()
                    .filter_map(|d| d.role)
                    .map(|r| {
                        format!(
                            "{} {} nodes run {}",
                            judged.actual.of(r).count,
                            r.as_str(),
                            judged.actual.of(r).instance_type.clone().unwrap_or_default()
                        )
                    })
                    .collect();
                (
                    Severity::Warning,
                    format!(
                        "{who} runs other types than its registry maps to ({}; wanted {}): {} a month against the mapped types. Replace them, or fix [drift]'s mapping.",
                        actual.join(", "),
                        per_role(drifts, judged),
                        dollars(impact)
                    ),
                )
            }
            DriftKind::Zombie => (
                Severity::Warning,
                format!(
                    "{who} is being deleted (since {}) but {} of its instances still run, costing {} a month: terminate them.",
                    index.status_since.map_or_else(|| "an unknown time".to_owned(), crate::text::rfc3339),
                    drifts.iter().map(|d| d.count).sum::<u32>(),
                    dollars(impact)
                ),
            ),
            DriftKind::StuckTransition => (
                Severity::Warning,
                format!(
                    "{who} has been {} since {}: its transition is stuck ({} a month against its desired state). Check the control plane's job for it.",
                    index.status.as_str(),
                    index.status_since.map_or_else(|| "an unknown time".to_owned(), crate::text::rfc3339),
                    dollars(impact)
                ),
            ),
        };
        Some(Candidate {
            rule: self.id(),
            severity,
            resource_kind: ResourceKind::Indexes,
            resource_id: index.index_id.clone(),
            account: index.account.clone(),
            region: index.region.clone(),
            message,
            monthly_cost_impact: Some(impact),
        })
    }
}

impl Rule for FleetDrift {
    fn id(&self) -> &'static str {
        match self.0 {
            DriftKind::UnderProvisioned => "fleet-under-provisioned",
            DriftKind::OverProvisioned => "fleet-over-provisioned",
            DriftKind::TypeDrift => "fleet-type-drift",
            DriftKind::Zombie => "fleet-zombie",
            DriftKind::StuckTransition => "fleet-stuck-transition",
        }
    }

    fn default_severity(&self) -> Severity {
        match self.0 {
            DriftKind::UnderProvisioned => Severity::Critical,
            _ => Severity::Warning,
        }
    }

    /// Under-provisioned findings grade themselves by how much is left.
    fn grades_itself(&self) -> bool {
        self.0 == DriftKind::UnderProvisioned
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, settings: RuleSettings<'_>) -> Vec<Candidate> {
        let min = Decimal::try_from(settings.number("min_monthly", 0.0)).unwrap_or_default();
        let counts = |impact: Money| {
            matches!(self.0, DriftKind::UnderProvisioned | DriftKind::Zombie) || impact.amount().abs() >= min
        };
        let mut found: Vec<Candidate> = ctx
            .fleet
            .indexes()
            .iter()
            .zip(ctx.drift())
            .filter_map(|(index, judged)| {
                let drifts: Vec<&Drift> = judged.of_kind(self.0).collect();
                if drifts.is_empty() {
                    return None;
                }
                self.about(index, judged, &drifts).filter(|c| c.monthly_cost_impact.is_some_and(counts))
            })
            .collect();
        if self.0 == DriftKind::Zombie {
            // Instances of an index no registry lists at all.
            for (tag, account, region, drift) in absent_index_zombies(ctx.fleet, ctx.prices) {
                let impact = drift.monthly_cost_impact.round_cents();
                found.push(Candidate {
                    rule: self.id(),
                    severity: Severity::Warning,
                    resource_kind: ResourceKind::Indexes,
                    resource_id: tag.to_owned(),
                    account: account.to_owned(),
                    region: region.to_owned(),
                    message: format!(
                        "{} running instance(s) in {account} {region} are tagged `{}={tag}`, an index no registry lists, costing {} a month: terminate them if the index is gone.",
                        drift.count,
                        ctx.config.tags.index,
                        dollars(impact)
                    ),
                    monthly_cost_impact: Some(impact),
                });
            }
        }
        found
    }
}
