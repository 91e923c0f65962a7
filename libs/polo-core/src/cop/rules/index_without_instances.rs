//! `index-without-instances`: a ready (or modifying) index that no live instance serves.

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings};
use crate::model::{IndexStatus, InstanceState, Severity};

pub struct IndexWithoutInstances;

impl Rule for IndexWithoutInstances {
    fn id(&self) -> &'static str {
        "index-without-instances"
    }

    fn default_severity(&self) -> Severity {
        Severity::Critical
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, _settings: RuleSettings<'_>) -> Vec<Candidate> {
        ctx.fleet
            .indexes()
            .iter()
            .filter(|x| matches!(x.status, IndexStatus::Ready | IndexStatus::Modifying))
            .filter(|x| {
                !ctx.fleet
                    .instances_of(x)
                    .any(|i| !matches!(i.state, InstanceState::Terminated | InstanceState::ShuttingDown))
            })
            .map(|x| {
                let message = format!(
                    "Index {} ({}) of customer {} is {} but no instance serves it: the customer's searches fail; restore its instances or mark it deleted.",
                    x.name,
                    x.index_id,
                    x.customer,
                    x.status.as_str()
                );
                super::about_index(self.id(), x, message)
            })
            .collect()
    }
}
