//! `owner-missing`: a running instance with no owner tag.

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings};
use crate::model::{InstanceState, Severity};

pub struct OwnerMissing;

impl Rule for OwnerMissing {
    fn id(&self) -> &'static str {
        "owner-missing"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warning
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, _settings: RuleSettings<'_>) -> Vec<Candidate> {
        let tag = &ctx.config.tags.owner;
        ctx.fleet
            .instances()
            .iter()
            .filter(|i| i.state == InstanceState::Running && i.owner.is_none())
            .map(|i| {
                let message = format!(
                    "{} runs in {} with no `{tag}` tag: tag it with the person or team who owns it, or stop it; ask the {} account's team.",
                    super::shown(i),
                    i.region,
                    i.account
                );
                super::about_instance(self.id(), i, message)
            })
            .collect()
    }
}
