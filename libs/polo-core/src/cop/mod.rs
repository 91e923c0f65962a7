//! Cloud Cop: policy rules over the inventory and the cost store. Each rule is one file
//! under `rules/` and one line of [`RULES`]; `[cop.rules.<id>]` sets `enabled`, `severity`
//! and the rule's thresholds.

mod actions;
mod rules;
mod run;
mod state;

use time::OffsetDateTime;

use crate::config::Config;
use crate::model::{CostStore, Fleet, ResourceKind, Severity};

pub use actions::{
    ACTION_LEASE, ActOnError, Action, ActionError, Actor, AuditEntry, MAX_TEXT, Via, act, act_on,
};
pub use rules::RULES;
pub use run::{CopRun, CopSources, run_cop};
pub use state::{Notice, Renotify, apply_exceptions, due, reconcile};

/// What a rule reads.
pub struct RuleContext<'a> {
    pub fleet: &'a Fleet,
    pub costs: &'a CostStore,
    pub config: &'a Config,
    /// What instances cost an hour (the bundled table with the configured spot discount).
    pub prices: &'a crate::pricing::PriceTable,
    pub now: OffsetDateTime,
    /// Every index's drift, by fleet position: judged once, for all five `fleet-*` rules.
    drift: std::sync::OnceLock<Vec<crate::drift::IndexDrift>>,
    /// What each instance ran: the causes `cost-spike` names (`None`: it names none).
    pub usage: Option<&'a crate::model::UsageLedger>,
    /// The fleet's daily metrics: what `index-oversized`, `index-dormant` and
    /// `instance-idle` judge (`None`: they find nothing).
    pub metrics: Option<&'a crate::model::MetricsDocument>,
    /// Every index measured, by fleet position (on first use).
    utilization: std::sync::OnceLock<Vec<crate::utilization::IndexUsage>>,
}

impl<'a> RuleContext<'a> {
    /// The context of one run.
    pub fn new(
        fleet: &'a Fleet,
        costs: &'a CostStore,
        config: &'a Config,
        prices: &'a crate::pricing::PriceTable,
        now: OffsetDateTime,
    ) -> RuleContext<'a> {
        RuleContext {
            fleet,
            costs,
            config,
            prices,
            now,
            drift: std::sync::OnceLock::new(),
            usage: None,
            metrics: None,
            utilization: std::sync::OnceLock::new(),
        }
    }

    /// The same context, naming the causes of cost changes from `usage`.
    #[must_use]
    pub fn with_usage(mut self, usage: Option<&'a crate::model::UsageLedger>) -> RuleContext<'a> {
        self.usage = usage;
        self
    }

    /// The same context, judging utilization from `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Option<&'a crate::model::MetricsDocument>) -> RuleContext<'a> {
        self.metrics = metrics;
        self
    }

    /// Every index measured, by its position in the fleet (`None` without metrics).
    pub fn utilization(&self) -> Option<&[crate::utilization::IndexUsage]> {
        let metrics = self.metrics?;
        Some(self.utilization.get_or_init(|| {
            crate::utilization::fleet_usage(
                self.fleet,
                self.drift(),
                metrics,
                self.prices,
                &self.config.drift,
                &self.config.utilization,
            )
        }))
    }

    /// Every index's drift, by its position in the fleet (judged on first use).
    pub fn drift(&self) -> &[crate::drift::IndexDrift] {
        self.drift.get_or_init(|| {
            crate::drift::fleet_drift(self.fleet, &self.config.drift, self.prices, self.now)
                .map(|(_, d)| d)
                .collect()
        })
    }
}

/// The `[cop.rules.<id>]` table of one rule (validated when the config is read).
#[derive(Clone, Copy, Debug)]
pub struct RuleSettings<'a> {
    table: Option<&'a toml::Table>,
}

impl RuleSettings<'_> {
    /// The number `key`, else `default`.
    pub fn number(&self, key: &str, default: f64) -> f64 {
        self.table
            .and_then(|t| t.get(key))
            .and_then(|v| {
                v.as_float().or_else(|| v.as_integer().and_then(|n| i32::try_from(n).ok()).map(f64::from))
            })
            .unwrap_or(default)
    }

    /// Whether the rule runs (default yes).
    pub fn enabled(&self) -> bool {
        self.table.and_then(|t| t.get("enabled")).and_then(toml::Value::as_bool).unwrap_or(true)
    }

    /// The severity its findings get.
    pub fn severity(&self, default: Severity) -> Severity {
        self.configured_severity().unwrap_or(default)
    }

    /// The severity `[cop.rules.<id>] severity` sets, if it does.
    pub fn configured_severity(&self) -> Option<Severity> {
        match self.table.and_then(|t| t.get("severity")).and_then(toml::Value::as_str) {
            Some("info") => Some(Severity::Info),
            Some("warning") => Some(Severity::Warning),
            Some("critical") => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// What a rule found wrong with one resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    pub rule: &'static str,
    pub severity: Severity,
    pub resource_kind: ResourceKind,
    pub resource_id: String,
    pub account: String,
    pub region: String,
    /// What is wrong, what to do, and who owns it.
    pub message: String,
    /// What it costs a month, where the rule prices it.
    pub monthly_cost_impact: Option<crate::money::Money>,
}

impl Candidate {
    /// The finding's id: one per rule and resource. An index's names its account and region
    /// (`rule:indexes:{account}:{region}:{index_id}`): two registries may hold one id.
    pub fn id(&self) -> String {
        match self.resource_kind {
            ResourceKind::Indexes => format!(
                "{}:{}:{}:{}:{}",
                self.rule,
                self.resource_kind.as_str(),
                self.account,
                self.region,
                self.resource_id
            ),
            ResourceKind::Instances | ResourceKind::Costs => self.unscoped_id(),
        }
    }

    /// The id findings had before index ids named their scope: `rule:kind:resource_id`. An
    /// open finding of that id about the same account and region is the same finding.
    pub fn unscoped_id(&self) -> String {
        format!("{}:{}:{}", self.rule, self.resource_kind.as_str(), self.resource_id)
    }
}

/// One policy rule.
pub trait Rule: Sync {
    /// Its id (CONTRACT.md).
    fn id(&self) -> &'static str;
    /// The severity of its findings unless configured.
    fn default_severity(&self) -> Severity;
    /// Everything it finds, at `ctx.now`, with `settings`' thresholds (severity set later).
    fn evaluate(&self, ctx: &RuleContext<'_>, settings: RuleSettings<'_>) -> Vec<Candidate>;
    /// Whether its findings carry their own severity (kept unless `severity` is configured);
    /// otherwise every finding gets the rule's.
    fn grades_itself(&self) -> bool {
        false
    }
}

/// Every enabled rule over `ctx`, each finding at its configured severity, by severity
/// (worst first), rule, account and resource.
pub fn evaluate(ctx: &RuleContext<'_>) -> Vec<Candidate> {
    let mut found = Vec::new();
    for rule in RULES {
        let settings = RuleSettings { table: ctx.config.cop.rules.get(rule.id()) };
        if !settings.enabled() {
            continue;
        }
        let severity = settings.severity(rule.default_severity());
        let keep_own = rule.grades_itself() && settings.configured_severity().is_none();
        found.extend(
            rule.evaluate(ctx, settings)
                .into_iter()
                .map(|c| if keep_own { c } else { Candidate { severity, ..c } }),
        );
    }
    found.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(b.rule))
            .then_with(|| a.account.cmp(&b.account))
            .then_with(|| a.resource_id.cmp(&b.resource_id))
    });
    found
}

/// Who to ask about an instance: its owner, or the account when nobody is named.
pub(crate) fn owner_of(owner: Option<&str>, account: &str) -> String {
    owner.map_or_else(
        || format!("no owner is tagged; ask the {account} account's team"),
        |o| format!("owner {o}"),
    )
}

#[cfg(test)]
mod tests;
