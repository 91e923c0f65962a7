//! `index-oversized`: an index whose roles would run on a cheaper type of their class at
//! under `[utilization] cpu_target_percent` p95 CPU, on no fewer nodes than the registry
//! asks for, saving at least `min_monthly_savings` (20) a month.

use rust_decimal::Decimal;

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings};
use crate::model::Severity;
use crate::money::Money;
use crate::utilization::RoleUsage;

pub struct IndexOversized;

impl Rule for IndexOversized {
    fn id(&self) -> &'static str {
        "index-oversized"
    }

    fn default_severity(&self) -> Severity {
        Severity::Info
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, settings: RuleSettings<'_>) -> Vec<Candidate> {
        let minimum =
            Money::new(Decimal::try_from(settings.number("min_monthly_savings", 20.0)).unwrap_or_default());
        let Some(judged) = ctx.utilization() else { return Vec::new() };
        ctx.fleet
            .indexes()
            .iter()
            .zip(judged)
            .filter(|(_, u)| u.oversized() && u.monthly_savings >= minimum)
            .map(|(x, u)| {
                let roles: Vec<String> = u.roles.iter().filter_map(proposal).collect();
                let message = format!(
                    "Index {} ({}) of customer {} is oversized: {}. Together ${} a month; change its registry mapping ([drift]) or its type.",
                    x.name,
                    x.index_id,
                    x.customer,
                    roles.join("; "),
                    u.monthly_savings.round_cents().to_grouped_cents()
                );
                Candidate {
                    monthly_cost_impact: Some(u.monthly_savings.round_cents()),
                    ..super::about_index(self.id(), x, message)
                }
            })
            .collect()
    }
}

/// "storage runs 6 × r6i.2xlarge at 12.5 % p95 CPU; 6 × r6i.large would run at 50.0 % and save
/// $826.92 a month (high confidence, 14 days)".
fn proposal(role: &RoleUsage) -> Option<String> {
    let r = role.recommendation.as_ref()?;
    Some(format!(
        "{} runs {} × {} at {:.1} % p95 CPU; {} × {} would run at {:.1} % and save ${} a month ({} confidence, {} days)",
        role.role.as_str(),
        role.load.nodes,
        role.load.instance_type,
        role.load.cpu_p95.unwrap_or(0.0),
        r.nodes,
        r.instance_type,
        r.projected_cpu_p95,
        r.monthly_savings.to_grouped_cents(),
        r.confidence.as_str(),
        role.load.days
    ))
}
