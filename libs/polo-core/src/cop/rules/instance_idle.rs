//! `instance-idle`: a running instance that serves no index with CPU and network under
//! `[utilization]`'s thresholds (Trusted Advisor's: 10 %, 5 MB) on `idle_min_days` (8) of the
//! days measured.

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings, owner_of};
use crate::model::Severity;
use crate::utilization::{IdleInstance, idle_instances};

pub struct InstanceIdle;

impl Rule for InstanceIdle {
    fn id(&self) -> &'static str {
        "instance-idle"
    }

    fn default_severity(&self) -> Severity {
        Severity::Info
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, _settings: RuleSettings<'_>) -> Vec<Candidate> {
        let Some(metrics) = ctx.metrics else { return Vec::new() };
        let settings = &ctx.config.utilization;
        idle_instances(ctx.fleet, metrics, ctx.prices, settings)
            .map(|IdleInstance { instance: i, idle: judged, monthly }| {
                let cost = monthly.map_or_else(
                    || format!("{} is not in the price table", i.instance_type),
                    |m| format!("it costs ${} a month", m.to_grouped_cents()),
                );
                let message = format!(
                    "{} ({}) was idle on {} of {} days (CPU at most {} %, network at most {} MB a day): stop or terminate it; {cost}; {}.",
                    super::shown(i),
                    i.instance_type,
                    judged.idle_days,
                    judged.days,
                    settings.idle_cpu_percent,
                    settings.idle_network_mb,
                    owner_of(i.owner.as_deref(), &i.account)
                );
                Candidate { monthly_cost_impact: monthly, ..super::about_instance(self.id(), i, message) }
            })
            .collect()
    }
}
