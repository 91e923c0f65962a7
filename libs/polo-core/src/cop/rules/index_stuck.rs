//! `index-stuck`: an index CREATING, MODIFYING, DELETING or FAILED for more than `hours` (6).

use time::Duration;

use crate::cop::{Candidate, Rule, RuleContext, RuleSettings};
use crate::model::{IndexStatus, Severity};

pub struct IndexStuck;

impl Rule for IndexStuck {
    fn id(&self) -> &'static str {
        "index-stuck"
    }

    fn default_severity(&self) -> Severity {
        Severity::Critical
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, settings: RuleSettings<'_>) -> Vec<Candidate> {
        let hours = settings.number("hours", 6.0);
        let limit = Duration::seconds_f64(hours * 3_600.0);
        ctx.fleet
            .indexes()
            .iter()
            .filter(|x| x.status != IndexStatus::Ready)
            .filter_map(|x| {
                let since = x.status_since?;
                (ctx.now - since > limit).then(|| {
                    let message = format!(
                        "Index {} ({}) of customer {} has been {} for {} (more than {hours} hours): check its control-plane workflow and the customer's ticket.",
                        x.name,
                        x.index_id,
                        x.customer,
                        x.status.as_str(),
                        crate::text::age(since, ctx.now)
                    );
                    super::about_index(self.id(), x, message)
                })
            })
            .collect()
    }
}
