//! `stopped-too-long`: an instance stopped for more than `days` (30); its volumes still cost.

use time::Duration;

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings, owner_of};
use crate::model::{InstanceState, Severity};

pub struct StoppedTooLong;

impl Rule for StoppedTooLong {
    fn id(&self) -> &'static str {
        "stopped-too-long"
    }

    fn default_severity(&self) -> Severity {
        Severity::Info
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, settings: RuleSettings<'_>) -> Vec<Candidate> {
        let days = settings.number("days", 30.0);
        let limit = Duration::seconds_f64(days * 86_400.0);
        ctx.fleet
            .instances()
            .iter()
            .filter(|i| i.state == InstanceState::Stopped)
            .filter_map(|i| {
                let since = i.state_since?;
                (ctx.now - since > limit).then(|| {
                    let message = format!(
                        "{} has been stopped for {} (more than {days} days); its volumes are still billed: terminate it (snapshot first if needed); {}.",
                        super::shown(i),
                        crate::text::age(since, ctx.now),
                        owner_of(i.owner.as_deref(), &i.account)
                    );
                    super::about_instance(self.id(), i, message)
                })
            })
            .collect()
    }
}
