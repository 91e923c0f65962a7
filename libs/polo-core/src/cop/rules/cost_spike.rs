//! `cost-spike`: an index's or an account's newest complete cost day (never the newest days
//! Cost Explorer still estimates, whose usage is still arriving: a partial day is no spike),
//! on usage only (never a credit, tax or fee) over `factor` (3) times its mean of the
//! `trailing_days` (14) before, and over `min_amount` (50.00 USD).

use rust_decimal::Decimal;
use time::Duration;

use crate::Money;
use crate::cop::{Candidate, Rule, RuleContext, RuleSettings};
use crate::model::{CostDimension, ResourceKind, Severity};

pub struct CostSpike;

/// Causes a spike message names, at most.
const CAUSE_LINES: usize = 3;

/// What the finding says of why: the day against the same weekday a week before, split
/// into causes (`crate::cost_changes`), or where to look when no ledger explains it.
fn causes(ctx: &RuleContext<'_>, breakdown: crate::costs::Breakdown, key: &str, day: time::Date) -> String {
    let week_ago = day - Duration::days(7);
    let lines = ctx
        .usage
        .zip(crate::cost_changes::Comparison::between(week_ago, week_ago, day, day).ok())
        .and_then(|(usage, cmp)| {
            crate::cost_changes::change_of(ctx.costs, usage, ctx.fleet, breakdown, key, &cmp)
        })
        .map(|c| c.lines(1, CAUSE_LINES))
        .unwrap_or_default();
    if lines.is_empty() {
        "look at what changed that day (the cost page shows the trend).".to_owned()
    } else {
        format!("against {week_ago}, {}.", lines.join("; "))
    }
}

/// A threshold read from the config as a decimal (TOML floats are written in decimal).
fn decimal(value: f64) -> Decimal {
    value.to_string().parse().unwrap_or(Decimal::ZERO)
}

impl Rule for CostSpike {
    fn id(&self) -> &'static str {
        "cost-spike"
    }

    fn default_severity(&self) -> Severity {
        Severity::Warning
    }

    fn evaluate(&self, ctx: &RuleContext<'_>, settings: RuleSettings<'_>) -> Vec<Candidate> {
        let Some(day) = ctx.costs.newest_complete_day() else { return Vec::new() };
        let factor = decimal(settings.number("factor", 3.0));
        let trailing = settings.number("trailing_days", 14.0).max(1.0);
        let min = Money::new(decimal(settings.number("min_amount", 50.0)));
        // Whole days (the config holds a count).
        #[allow(clippy::cast_possible_truncation)]
        let n = trailing.round() as i64;
        let (from, to) = (day - Duration::days(n), day - Duration::days(1));
        let mut found = Vec::new();
        for (dimension, kind) in
            [(CostDimension::Index, ResourceKind::Indexes), (CostDimension::Account, ResourceKind::Costs)]
        {
            for key in ctx.costs.dimensions.get(&dimension).into_iter().flat_map(|d| d.keys()) {
                let (account, region, name) = if dimension == CostDimension::Index {
                    let Some(x) = ctx.fleet.index(key) else { continue };
                    (x.account.clone(), x.region.clone(), format!("Index {} ({key})", x.name))
                } else {
                    let accounts = ctx.fleet.accounts();
                    let name =
                        accounts.iter().find(|a| a.id == *key).map_or(key.as_str(), |a| a.name.as_str());
                    (name.to_owned(), "global".to_owned(), format!("Account {name} ({key})"))
                };
                let today = ctx.costs.sum(dimension, key, day, day);
                let before = ctx.costs.sum(dimension, key, from, to);
                let mean = Money::new(before.amount() / Decimal::from(n));
                if today > min && today.amount() > mean.amount() * factor {
                    let breakdown = if dimension == CostDimension::Index {
                        crate::costs::Breakdown::Index
                    } else {
                        crate::costs::Breakdown::Account
                    };
                    let why = causes(ctx, breakdown, key, day);
                    found.push(Candidate {
                        rule: self.id(),
                        severity: Severity::Warning,
                        resource_kind: kind,
                        resource_id: key.clone(),
                        account,
                        region,
                        message: format!(
                            "{name} cost ${} on {day}, over {factor} times its {n}-day mean of ${}: {why}",
                            today.to_grouped_cents(),
                            mean.round_cents().to_grouped_cents()
                        ),
                        monthly_cost_impact: None,
                    });
                }
            }
        }
        found
    }
}
