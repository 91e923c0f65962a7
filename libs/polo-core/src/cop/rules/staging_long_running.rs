//! `staging-long-running`: an instance of a staging account running longer than `days`
//! (7) without the keep tag.

use time::Duration;

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings, owner_of};
use crate::model::AccountKind;
use crate::model::{InstanceState, Severity};

pub struct StagingLongRunning;

impl Rule for StagingLongRunning {
    fn id(&self) -> &'static str {
        "staging-long-running"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warning
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, settings: RuleSettings<'_>) -> Vec<Candidate> {
        let days = settings.number("days", 7.0);
        let limit = Duration::seconds_f64(days * 86_400.0);
        let staging: Vec<&str> = ctx
            .fleet
            .accounts()
            .iter()
            .filter(|a| a.kind == AccountKind::Staging)
            .map(|a| a.name.as_str())
            .collect();
        let keep = &ctx.config.tags.keep;
        ctx.fleet
            .instances()
            .iter()
            .filter(|i| i.state == InstanceState::Running && staging.contains(&i.account.as_str()) && !i.tags.contains_key(keep.as_str()))
            .filter_map(|i| {
                let since = i.state_since.unwrap_or(i.launch_time);
                let running = ctx.now - since;
                (running > limit).then(|| {
                    let message = format!(
                        "{} has run in staging for {} (more than {days} days) with no `{keep}` tag: stop it, or tag it `{keep}` if it must stay; {}.",
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
