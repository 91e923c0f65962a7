//! `orphan-instance`: an instance whose index tag names no index in any registry.

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings, owner_of};
use crate::model::{InstanceState, Severity};

pub struct OrphanInstance;

impl Rule for OrphanInstance {
    fn id(&self) -> &'static str {
        "orphan-instance"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warning
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, _settings: RuleSettings<'_>) -> Vec<Candidate> {
        let tag = &ctx.config.tags.index;
        ctx.fleet
            .instances()
            .iter()
            .filter(|i| !matches!(i.state, InstanceState::Terminated | InstanceState::ShuttingDown))
            .filter_map(|i| {
                let index = i.index.as_deref()?;
                ctx.fleet.index(index).is_none().then(|| {
                    let message = format!(
                        "{} is tagged `{tag}={index}`, an index no registry lists: terminate it if the index is gone, or fix the tag; {}.",
                        super::shown(i),
                        owner_of(i.owner.as_deref(), &i.account)
                    );
                    super::about_instance(self.id(), i, message)
                })
            })
            .collect()
    }
}
