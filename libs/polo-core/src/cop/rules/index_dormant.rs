//! `index-dormant`: a ready index older than `[utilization] dormant_days` (14) that had fewer
//! than `dormant_max_queries` queries over them while its nodes cost at least
//! `dormant_min_monthly` a month. Traffic returning resolves it.

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings};
use crate::model::Severity;
use crate::utilization::index_dormant;

pub struct IndexDormant;

impl Rule for IndexDormant {
    fn id(&self) -> &'static str {
        "index-dormant"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warning
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, _settings: RuleSettings<'_>) -> Vec<Candidate> {
        let Some(judged) = ctx.utilization() else { return Vec::new() };
        let settings = &ctx.config.utilization;
        ctx.fleet
            .indexes()
            .iter()
            .zip(judged)
            .filter_map(|(x, u)| {
                let dormant = index_dormant(x, u, settings, ctx.now)?;
                let message = format!(
                    "Index {} ({}) of customer {} had {} queries in the last {} days while its nodes cost ${} a month: ask the customer whether to delete it or scale it down.",
                    x.name,
                    x.index_id,
                    x.customer,
                    dormant.queries,
                    dormant.days,
                    dormant.monthly_cost.to_grouped_cents()
                );
                Some(Candidate {
                    severity: Severity::Warning,
                    monthly_cost_impact: Some(dormant.monthly_cost),
                    ..super::about_index(self.id(), x, message)
                })
            })
            .collect()
    }
}
