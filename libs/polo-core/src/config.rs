//! The typed `polo.toml`: read and validated once at start.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::AccountKind;

/// The configuration bundled into every binary (`config/polo.toml`).
pub const BUNDLED: &str = include_str!("../../../config/polo.toml");

/// The report types whose TTL the config may set.
pub const REPORT_TYPES: [&str; 5] =
    ["daily-cost", "weekly-summary", "monthly-close", "inventory-changes", "idle-resources"];

/// The Cloud Cop rule ids the config may tune.
pub const RULE_IDS: [&str; 16] = [
    "owner-missing",
    "ttl-expired",
    "staging-long-running",
    "stopped-too-long",
    "orphan-instance",
    "index-without-instances",
    "index-stuck",
    "cost-spike",
    "fleet-under-provisioned",
    "fleet-over-provisioned",
    "fleet-type-drift",
    "fleet-zombie",
    "fleet-stuck-transition",
    "index-oversized",
    "index-dormant",
    "instance-idle",
];

/// Polo's whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub tags: TagKeys,
    pub accounts: Vec<Account>,
    #[serde(default)]
    pub costs: CostSettings,
    #[serde(default)]
    pub reports: ReportSettings,
    #[serde(default)]
    pub cop: CopSettings,
    #[serde(default)]
    pub retention: Retention,
    #[serde(default)]
    pub auth: AuthSettings,
    #[serde(default)]
    pub drift: DriftSettings,
    #[serde(default)]
    pub utilization: UtilizationSettings,
    #[serde(default)]
    pub slack: SlackSettings,
}

/// Slack beyond the webhook (issue 31): where the app's bot posts, and who may act on
/// findings from its buttons.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SlackSettings {
    /// Who may act on findings from Slack: Slack user ids (`U…`, `W…`), or e-mail addresses
    /// matched to the person pressing through `users.info`.
    pub operators: Vec<String>,
    /// The channel id (`C…`, `G…`) the app's bot posts digests and reports to, with buttons;
    /// without it (or without a bot token) they go by webhook, without buttons.
    pub channel: Option<String>,
}

/// How Polo judges utilization (`crate::utilization`): rightsizing targets, idle instances
/// and dormant indexes.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UtilizationSettings {
    /// A proposal must keep a role's projected p95 CPU under this (percent).
    pub cpu_target_percent: f64,
    /// Room over a role's measured memory a proposal must have (1.2: a fifth more).
    pub memory_headroom: f64,
    /// An instance is idle on a day with CPU at most this (percent) …
    pub idle_cpu_percent: f64,
    /// … and network in and out at most this (MB): Trusted Advisor's thresholds.
    pub idle_network_mb: f64,
    /// Idle on at least this many of the days judged (Trusted Advisor: 4 of 14).
    pub idle_min_days: usize,
    /// A ready index older than this, with no traffic over this many days, is dormant …
    pub dormant_days: usize,
    /// … when it had fewer queries than this over them …
    pub dormant_max_queries: f64,
    /// … and costs at least this a month (USD).
    pub dormant_min_monthly: u32,
    /// Days the daily metrics pull asks CloudWatch for (whole UTC days before the pull).
    pub days: u32,
    /// Memory use an agent publishes per instance (`InstanceId` dimension), in percent; an
    /// empty metric asks for none.
    pub memory_namespace: String,
    pub memory_metric: String,
    /// GPU use an agent publishes per GPU instance (`InstanceId` dimension), in percent.
    pub gpu_namespace: String,
    pub gpu_metric: String,
    /// Each index's queries: a metric summed per day, its dimensions a template over
    /// `{index_id}`, `{account}`, `{region}` (`IndexId={index_id},Stage=prod`); an empty
    /// metric asks for none (and no index is judged dormant).
    pub traffic_namespace: String,
    pub traffic_metric: String,
    pub traffic_dimensions: String,
    /// A day without a traffic point had no traffic (a metric published only when there is
    /// some), once the metric answered for any index; false: such a day is unknown, and an
    /// index is judged dormant only on whole data.
    pub traffic_gaps_are_zero: bool,
}

impl Default for UtilizationSettings {
    fn default() -> Self {
        UtilizationSettings {
            cpu_target_percent: 60.0,
            memory_headroom: 1.2,
            idle_cpu_percent: 10.0,
            idle_network_mb: 5.0,
            idle_min_days: 4,
            dormant_days: 14,
            dormant_max_queries: 1.0,
            dormant_min_monthly: 50,
            days: 14,
            memory_namespace: "CWAgent".to_owned(),
            memory_metric: "mem_used_percent".to_owned(),
            gpu_namespace: "CWAgent".to_owned(),
            gpu_metric: "nvidia_smi_utilization_gpu".to_owned(),
            traffic_namespace: "Marqo/Indexes".to_owned(),
            traffic_metric: "Queries".to_owned(),
            traffic_dimensions: "IndexId={index_id}".to_owned(),
            traffic_gaps_are_zero: true,
        }
    }
}

impl UtilizationSettings {
    fn validate(&self) -> Result<(), (String, String)> {
        let key = |field: &str| format!("utilization.{field}");
        if !(self.cpu_target_percent > 0.0 && self.cpu_target_percent <= 100.0) {
            return Err((key("cpu_target_percent"), "expected a percentage above 0, at most 100".into()));
        }
        if !(self.memory_headroom >= 1.0 && self.memory_headroom.is_finite()) {
            return Err((
                key("memory_headroom"),
                "expected at least 1.0 (1.2: a fifth more than measured)".into(),
            ));
        }
        if !(1..=63).contains(&self.days) {
            return Err((
                key("days"),
                "expected 1 to 63 days (CloudWatch keeps hourly CPU that long in reach)".into(),
            ));
        }
        if self.idle_min_days > self.days as usize || self.dormant_days > self.days as usize {
            return Err((
                key("days"),
                "expected at least idle_min_days and dormant_days: they are judged on the days pulled".into(),
            ));
        }
        if !self.traffic_metric.is_empty()
            && let Some(problem) = crate::utilization::plan::template_problem(&self.traffic_dimensions)
        {
            return Err((key("traffic_dimensions"), problem));
        }
        Ok(())
    }
}

/// How Polo tells what each index should run (fleet drift, `crate::drift`).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct DriftSettings {
    /// The instance tag naming its role (`inference` or `storage`); without it, a
    /// `-inference-` or `-storage-` part of the instance's Name.
    pub role_tag: String,
    /// The registry's `inference_type` → the EC2 type of an inference node.
    pub inference_types: BTreeMap<String, String>,
    /// The registry's `storage_class` → the EC2 type of a storage node.
    pub storage_classes: BTreeMap<String, String>,
    /// A CREATING or DELETING index is not judged for this long after its status changed.
    pub grace_hours: u32,
    /// A CREATING or MODIFYING index whose status has not changed for this long is stuck.
    pub stuck_hours: u32,
}

impl Default for DriftSettings {
    fn default() -> Self {
        let map =
            |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        DriftSettings {
            role_tag: "role".to_owned(),
            inference_types: map(&[
                ("marqo.CPU.small", "c6i.xlarge"),
                ("marqo.CPU.large", "c6i.2xlarge"),
                ("marqo.GPU", "g5.xlarge"),
            ]),
            storage_classes: map(&[
                ("marqo.basic", "r6i.large"),
                ("marqo.balanced.storage", "r6i.xlarge"),
                ("marqo.balanced.throughput", "m6i.xlarge"),
                ("marqo.performance", "i4i.xlarge"),
            ]),
            grace_hours: 2,
            stuck_hours: 6,
        }
    }
}

/// Who may sign in, with which role, and for how long (route functions; `polo serve`'s local
/// user is always an operator).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// Only members of one of these groups may enter (the ID token's `cognito:groups` or
    /// `groups`); empty: any group, or none.
    pub allowed_groups: Vec<String>,
    /// Only e-mail addresses of these domains may enter (the `email` claim, which must not be
    /// marked unverified); empty: any.
    pub allowed_email_domains: Vec<String>,
    /// Members of these groups are operators; everyone else who may enter is a viewer.
    pub operator_groups: Vec<String>,
    /// A session ends this many hours after sign-in, however it is used.
    pub session_hours: u32,
    /// A session ends after this many minutes without a request.
    pub idle_minutes: u32,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            allowed_groups: Vec::new(),
            allowed_email_domains: Vec::new(),
            operator_groups: vec!["polo-operators".to_owned()],
            session_hours: 12,
            idle_minutes: 120,
        }
    }
}

/// How long the resource table keeps what is no longer current (DynamoDB deletes an item
/// within a few days of its `ttl`).
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    /// Days a resource stays after a sync stopped seeing it (its page, "came back").
    pub vanished_days: u32,
    /// Days a change stays in a resource's history: at least the 400 days reports read.
    pub history_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { vanished_days: 30, history_days: 400 }
    }
}

/// The fewest days of history a deployment may keep: reports reach 400 days back.
pub const MIN_HISTORY_DAYS: u32 = 400;

/// The tag keys Polo reads from EC2.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TagKeys {
    pub owner: String,
    /// Also the cost-allocation tag.
    pub index: String,
    pub customer: String,
    /// Tags holding an RFC 3339 date/time or a date after which the resource should be gone.
    pub expiry: Vec<String>,
    pub keep: String,
}

impl Default for TagKeys {
    fn default() -> Self {
        TagKeys {
            owner: "owner".into(),
            index: "marqo-index".into(),
            customer: "customer".into(),
            expiry: vec!["ttl".into(), "expires-at".into()],
            keep: "keep".into(),
        }
    }
}

/// One AWS account of the fleet.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// What `-p` selects and pages show.
    pub name: String,
    /// The 12-digit account id.
    pub id: String,
    pub kind: AccountKind,
    pub regions: Vec<String>,
    /// Assumed by sync in production.
    pub role_arn: String,
    /// Used by local `polo sync` instead of `role_arn` when set.
    pub profile: Option<String>,
    /// The account's index registry table, in each of its regions.
    #[serde(default = "default_index_table")]
    pub index_table: String,
}

fn default_index_table() -> String {
    "marqo-indexes".into()
}

/// Where cost data comes from and how long it is cached.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CostSettings {
    /// The Cost Explorer metric every cost page, report and rule shows: `amortized` (the
    /// default), `net_amortized` or `unblended`.
    pub metric: crate::model::CostMetric,
    pub source_account: String,
    pub cache_hours: u32,
    /// The share of the on-demand price spot instances save, for run-rates (0.65 = 65 % off).
    pub spot_discount: crate::pricing::SpotDiscount,
}

impl Default for CostSettings {
    fn default() -> Self {
        CostSettings {
            metric: crate::model::CostMetric::default(),
            source_account: "core".into(),
            cache_hours: 12,
            spot_discount: crate::pricing::SpotDiscount::default(),
        }
    }
}

/// Report time zone and lifetimes.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSettings {
    /// The IANA time zone of months, days and report periods; `REPORT_TIMEZONE` overrides it.
    pub timezone: crate::calendar::ReportZone,
    /// Days each report type is kept, by type.
    pub ttl_days: BTreeMap<String, u32>,
    /// Days after a month ends before its `monthly-close` can be final: credits, refunds,
    /// tax and fee finalisation keep changing a month for days after it ends.
    pub month_final_after_days: u32,
    /// A cost report Slack already has is sent again, marked as a revision, only when its
    /// total moves by more than this share of what Slack heard (0.02: 2 %); smaller
    /// revisions update the page silently.
    pub revision_share: f64,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            timezone: crate::calendar::ReportZone::utc(),
            ttl_days: [
                ("daily-cost", 35),
                ("weekly-summary", 120),
                ("monthly-close", 800),
                ("inventory-changes", 35),
                ("idle-resources", 35),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            month_final_after_days: 5,
            revision_share: 0.02,
        }
    }
}

/// Cloud Cop settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CopSettings {
    pub renotify_hours: u32,
    /// An acknowledged finding is told again after this long instead.
    pub acknowledged_renotify_hours: u32,
    /// Per rule id: enabled, severity and the rule's own thresholds.
    pub rules: BTreeMap<String, toml::Table>,
    /// Findings known and accepted (`[[cop.exceptions]]`): silent while they apply.
    pub exceptions: Vec<CopException>,
}

impl Default for CopSettings {
    fn default() -> Self {
        CopSettings {
            renotify_hours: 24,
            acknowledged_renotify_hours: 168,
            rules: BTreeMap::new(),
            exceptions: Vec::new(),
        }
    }
}

/// Who an exception from `[[cop.exceptions]]` is by.
pub const CONFIG_EXCEPTION_BY: &str = "polo.toml";

/// One `[[cop.exceptions]]`: findings of `rule` about resources matching `resource` (a glob:
/// `*` any run of characters, `?` one), in `account` when given, accepted for `reason`
/// through `until` (a date, inclusive; none: for good).
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CopException {
    pub rule: String,
    #[serde(default = "any_resource")]
    pub resource: String,
    #[serde(default)]
    pub account: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub until: Option<String>,
    pub reason: String,
}

fn any_resource() -> String {
    "*".to_owned()
}

impl CopException {
    /// Its last day, when it has one (checked when the config is read).
    pub fn until_date(&self) -> Option<time::Date> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        self.until.as_deref().and_then(|d| time::Date::parse(d, &format).ok())
    }

    /// Whether it still applies at `now`.
    pub fn applies(&self, now: time::OffsetDateTime) -> bool {
        self.until_date().is_none_or(|last| now.date() <= last)
    }

    /// Whether it is about `finding`.
    pub fn matches(&self, finding: &crate::model::Finding) -> bool {
        self.rule == finding.rule
            && self.account.as_ref().is_none_or(|a| *a == finding.account)
            && crate::text::glob_match(&self.resource, &finding.resource_id)
    }

    /// The exception a matching finding carries.
    pub fn exception(&self) -> crate::model::Exception {
        crate::model::Exception {
            reason: self.reason.clone(),
            until: self.until_date(),
            by: CONFIG_EXCEPTION_BY.to_owned(),
        }
    }
}

/// A configuration that cannot be used, naming the file, the key and what was expected.
/// An environment variable that cannot start a binary: one line naming it.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct EnvError {
    pub variable: &'static str,
    pub problem: String,
}

/// The variable `name` through `get`, when it is set to something: an empty value counts as
/// unset (CloudFormation and `sam local` pass empty strings for absent parameters).
pub fn env_value(get: &impl Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name).filter(|v| !v.is_empty())
}

impl EnvError {
    /// `variable` is missing.
    pub fn required(variable: &'static str) -> EnvError {
        EnvError { variable, problem: "required".into() }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {key}: {problem}")]
pub struct ConfigError {
    pub file: String,
    /// The dotted path of the offending key (`accounts[1].kind`), or `-` for the whole file.
    pub key: String,
    pub problem: String,
}

impl Config {
    /// The bundled default configuration.
    pub fn bundled() -> Result<Config, ConfigError> {
        Config::parse(BUNDLED, "config/polo.toml (bundled)")
    }

    /// Reads `explicit`, else `./polo.toml` when it exists, else the bundled default.
    pub fn load(explicit: Option<&Path>) -> Result<Config, ConfigError> {
        let path: Option<PathBuf> = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("polo.toml")).filter(|p| p.exists()),
        };
        match path {
            None => Config::bundled(),
            Some(path) => {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(&path).map_err(|e| ConfigError {
                    file: name.clone(),
                    key: "-".into(),
                    problem: format!("cannot read: {e}"),
                })?;
                Config::parse(&text, &name)
            }
        }
    }

    /// A deployed binary's configuration: `POLO_CONFIG` (else as [`Config::load`]) with
    /// `REPORT_TIMEZONE` over its report time zone, read through `get`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, EnvError> {
        let set = |name: &str| env_value(&get, name);
        let zone = match set("REPORT_TIMEZONE") {
            Some(name) => Some(
                crate::calendar::ReportZone::parse(&name)
                    .map_err(|e| EnvError { variable: "REPORT_TIMEZONE", problem: e.to_string() })?,
            ),
            None => None,
        };
        let path = set("POLO_CONFIG").map(PathBuf::from);
        let config = Config::load(path.as_deref())
            .map_err(|e| EnvError { variable: "POLO_CONFIG", problem: e.to_string() })?;
        Ok(config.with_report_zone(zone))
    }

    /// The same configuration with its report time zone replaced by `zone` (from
    /// `REPORT_TIMEZONE`) when one is given.
    #[must_use]
    pub fn with_report_zone(mut self, zone: Option<crate::calendar::ReportZone>) -> Config {
        if let Some(zone) = zone {
            self.reports.timezone = zone;
        }
        self
    }

    /// Parses and validates TOML text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Config, ConfigError> {
        let error = |key: String, problem: String| ConfigError { file: file.to_owned(), key, problem };
        let value: toml::Table = toml::from_str(text)
            .map_err(|e| error("-".into(), format!("not valid TOML: {}", e.message().trim())))?;
        let config: Config = serde_path_to_error::deserialize(toml::Value::Table(value)).map_err(|e| {
            let key = e.path().to_string();
            let key = if key == "." { "-".to_owned() } else { key };
            error(key, first_line(&e.inner().to_string()))
        })?;
        config.validate().map_err(|(key, problem)| error(key, problem))?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        self.utilization.validate()?;
        let slack_id = |id: &str, first: &[char]| {
            id.len() >= 2 && id.starts_with(first) && id.chars().all(|c| c.is_ascii_alphanumeric())
        };
        let email = |e: &str| {
            e.split_once('@').is_some_and(|(who, domain)| !who.is_empty() && domain.contains('.'))
                && !e.contains(char::is_whitespace)
        };
        if let Some((n, bad)) =
            self.slack.operators.iter().enumerate().find(|(_, id)| !(slack_id(id, &['U', 'W']) || email(id)))
        {
            return Err((
                format!("slack.operators[{n}]"),
                format!("{bad:?} is neither a Slack user id (U… or W…) nor an e-mail address"),
            ));
        }
        if let Some(bad) = self.slack.channel.as_ref().filter(|c| !slack_id(c, &['C', 'G'])) {
            return Err(("slack.channel".into(), format!("{bad:?} is not a Slack channel id (C… or G…)")));
        }
        if self.accounts.is_empty() {
            return Err(("accounts".into(), "expected at least one [[accounts]] table".into()));
        }
        let mut names = BTreeSet::new();
        for (i, account) in self.accounts.iter().enumerate() {
            let key = |field: &str| format!("accounts[{i}].{field}");
            if account.name.is_empty()
                || !account.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err((key("name"), "expected a name of letters, digits, '-' or '_'".into()));
            }
            if !names.insert(account.name.as_str()) {
                return Err((key("name"), format!("duplicate account name {:?}", account.name)));
            }
            if account.id.len() != 12 || !account.id.bytes().all(|b| b.is_ascii_digit()) {
                return Err((key("id"), "expected a 12-digit AWS account id".into()));
            }
            if account.regions.is_empty() {
                return Err((key("regions"), "expected at least one region".into()));
            }
            if let Some(bad) = account.regions.iter().find(|r| !is_region_name(r)) {
                return Err((key("regions"), format!("{bad:?} is not an AWS region name")));
            }
            if let Some((i, twice)) =
                account.regions.iter().enumerate().find(|(i, r)| account.regions[..*i].contains(r))
            {
                return Err((
                    key("regions"),
                    format!("{twice:?} is listed twice (regions[{i}]); each region is pulled once"),
                ));
            }
            if !account.role_arn.starts_with("arn:aws") || !account.role_arn.contains(":role/") {
                return Err((key("role_arn"), "expected an IAM role ARN (arn:aws:iam::ID:role/NAME)".into()));
            }
            if account.index_table.is_empty() {
                return Err((key("index_table"), "expected a table name".into()));
            }
        }
        for (name, field) in [
            ("owner", &self.tags.owner),
            ("index", &self.tags.index),
            ("customer", &self.tags.customer),
            ("keep", &self.tags.keep),
        ] {
            if field.is_empty() {
                return Err((format!("tags.{name}"), "expected a tag key".into()));
            }
        }
        if !(0.0..=10.0).contains(&self.reports.revision_share) {
            return Err((
                "reports.revision_share".into(),
                "expected a share of the total between 0 and 10 (0.02 is 2 %)".into(),
            ));
        }
        if self.retention.history_days < MIN_HISTORY_DAYS {
            return Err((
                "retention.history_days".into(),
                format!("expected at least {MIN_HISTORY_DAYS} days: reports read that far back"),
            ));
        }
        if self.retention.vanished_days == 0 {
            return Err(("retention.vanished_days".into(), "expected days above 0".into()));
        }
        if !(1..=24 * 30).contains(&self.auth.session_hours) {
            return Err(("auth.session_hours".into(), "expected hours between 1 and 720".into()));
        }
        if self.auth.idle_minutes == 0 || self.auth.idle_minutes > self.auth.session_hours * 60 {
            return Err((
                "auth.idle_minutes".into(),
                "expected minutes above 0 and within auth.session_hours".into(),
            ));
        }
        if let Some(bad) = self.auth.allowed_email_domains.iter().find(|d| d.is_empty() || d.contains('@')) {
            return Err((
                "auth.allowed_email_domains".into(),
                format!("expected domains such as \"example.com\", got {bad:?}"),
            ));
        }
        if self.drift.role_tag.is_empty() {
            return Err(("drift.role_tag".into(), "expected a tag key".into()));
        }
        if self.drift.stuck_hours == 0 {
            return Err(("drift.stuck_hours".into(), "expected a number of hours above 0".into()));
        }
        if self.costs.cache_hours == 0 {
            return Err(("costs.cache_hours".into(), "expected a number of hours above 0".into()));
        }
        for (report, days) in &self.reports.ttl_days {
            if !REPORT_TYPES.contains(&report.as_str()) {
                return Err((
                    format!("reports.ttl_days.{report}"),
                    format!("unknown report type; expected one of {}", REPORT_TYPES.join(", ")),
                ));
            }
            if *days == 0 {
                return Err((format!("reports.ttl_days.{report}"), "expected days above 0".into()));
            }
        }
        for (n, e) in self.cop.exceptions.iter().enumerate() {
            let key = |field: &str| format!("cop.exceptions[{n}].{field}");
            if !RULE_IDS.contains(&e.rule.as_str()) {
                return Err((key("rule"), format!("unknown rule; expected one of {}", RULE_IDS.join(", "))));
            }
            if e.reason.trim().is_empty() {
                return Err((key("reason"), "expected why the findings are accepted".into()));
            }
            if e.resource.is_empty() {
                return Err((key("resource"), "expected a resource id or a glob (`*` for any)".into()));
            }
            if e.until.is_some() && e.until_date().is_none() {
                return Err((key("until"), "expected a date, YYYY-MM-DD".into()));
            }
        }
        if self.cop.acknowledged_renotify_hours < self.cop.renotify_hours {
            return Err((
                "cop.acknowledged_renotify_hours".into(),
                format!(
                    "expected at least renotify_hours ({}): acknowledged findings are told less often",
                    self.cop.renotify_hours
                ),
            ));
        }
        for (rule, settings) in &self.cop.rules {
            if !RULE_IDS.contains(&rule.as_str()) {
                return Err((
                    format!("cop.rules.{rule}"),
                    format!("unknown rule; expected one of {}", RULE_IDS.join(", ")),
                ));
            }
            for (k, v) in settings {
                let ok = match k.as_str() {
                    "enabled" => v.is_bool(),
                    "severity" => v.as_str().is_some_and(|s| ["info", "warning", "critical"].contains(&s)),
                    _ => v.as_integer().is_some_and(|n| n >= 0) || v.as_float().is_some_and(|n| n >= 0.0),
                };
                if !ok {
                    let expected = match k.as_str() {
                        "enabled" => "true or false",
                        "severity" => "one of info, warning, critical",
                        _ => "a non-negative number",
                    };
                    return Err((format!("cop.rules.{rule}.{k}"), format!("expected {expected}")));
                }
            }
        }
        Ok(())
    }

    /// The account with this configured name.
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }
}

/// Serde's TOML messages add context lines; the key already says where.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_owned()
}

fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[[accounts]]
name = "prod"
id = "111111111111"
kind = "prod"
regions = ["us-east-1"]
role_arn = "arn:aws:iam::111111111111:role/polo-read"
"#;

    #[test]
    fn bundled_config_is_valid() {
        let config = Config::bundled().unwrap();
        assert!(!config.accounts.is_empty());
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let config = Config::parse(MINIMAL, "polo.toml").unwrap();
        assert_eq!(config.tags.index, "marqo-index");
        assert_eq!(config.accounts[0].index_table, "marqo-indexes");
        assert_eq!(config.reports.ttl_days["monthly-close"], 800);
    }

    fn err(text: &str) -> String {
        Config::parse(text, "x.toml").unwrap_err().to_string()
    }

    #[test]
    fn errors_name_file_key_and_expectation() {
        let e = err(&format!("colour = 1\n{MINIMAL}"));
        assert!(e.starts_with("x.toml: colour: unknown field `colour`"), "{e}");
        let e = err(&MINIMAL.replace("kind = \"prod\"", "kind = \"qa\""));
        assert!(e.starts_with("x.toml: accounts[0].kind: unknown variant `qa`"), "{e}");
        let e = err(&MINIMAL.replace("111111111111\"\n", "1111\"\n"));
        assert_eq!(e, "x.toml: accounts[0].id: expected a 12-digit AWS account id");
        let e = err(&MINIMAL.replace("us-east-1", "mars"));
        assert_eq!(e, "x.toml: accounts[0].regions: \"mars\" is not an AWS region name");
        let e = err(&format!("{MINIMAL}\n[cop.rules.nosuch]\ndays = 3\n"));
        assert!(e.starts_with("x.toml: cop.rules.nosuch: unknown rule"), "{e}");
        let e = err(&format!("{MINIMAL}\n[cop.rules.stopped-too-long]\ndays = \"x\"\n"));
        assert_eq!(e, "x.toml: cop.rules.stopped-too-long.days: expected a non-negative number");
        let exception = |body: &str| err(&format!("{MINIMAL}\n[[cop.exceptions]]\n{body}\n"));
        let e = exception("rule = \"nosuch\"\nreason = \"x\"");
        assert!(e.starts_with("x.toml: cop.exceptions[0].rule: unknown rule"), "{e}");
        let e = exception("rule = \"instance-idle\"\nreason = \" \"");
        assert_eq!(e, "x.toml: cop.exceptions[0].reason: expected why the findings are accepted");
        let e = exception("rule = \"instance-idle\"\nreason = \"standby\"\nuntil = \"31/03/2027\"");
        assert_eq!(e, "x.toml: cop.exceptions[0].until: expected a date, YYYY-MM-DD");
        let e = err(&format!("{MINIMAL}\n[cop]\nrenotify_hours = 48\nacknowledged_renotify_hours = 24\n"));
        assert!(
            e.starts_with("x.toml: cop.acknowledged_renotify_hours: expected at least renotify_hours (48)"),
            "{e}"
        );
        let e = err(&format!("{MINIMAL}\n[retention]\nhistory_days = 90\n"));
        assert!(e.starts_with("x.toml: retention.history_days: expected at least 400 days"), "{e}");
        let e = err(&format!("{MINIMAL}\n[reports]\nrevision_share = -0.5\n"));
        assert!(e.starts_with("x.toml: reports.revision_share: expected a share"), "{e}");
        let e = err(&format!("{MINIMAL}\n[costs]\ncache_hours = -1\n"));
        assert!(e.starts_with("x.toml: costs.cache_hours: invalid value"), "{e}");
        let e = err(&format!("{MINIMAL}\n[reports]\ntimezone = \"Europe/Pariss\"\n"));
        assert!(e.starts_with("x.toml: reports.timezone: unknown time zone \"Europe/Pariss\""), "{e}");
        let e = err(&format!("{MINIMAL}\n[costs]\nspot_discount = 1.5\n"));
        assert_eq!(e, "x.toml: costs.spot_discount: expected a fraction from 0 to below 1, got 1.5");
        let e = err("accounts = [");
        assert!(e.starts_with("x.toml: -: not valid TOML"), "{e}");
        let e = err("");
        assert!(e.starts_with("x.toml: -: missing field `accounts`"), "{e}");
        let e = err(&format!("{MINIMAL}{}", MINIMAL.replace("111111111111", "222222222222")));
        assert_eq!(e, "x.toml: accounts[1].name: duplicate account name \"prod\"");
    }

    #[test]
    fn slack_operators_are_user_ids_or_addresses_and_the_channel_a_channel_id() {
        let slack = |body: &str| Config::parse(&format!("{MINIMAL}\n[slack]\n{body}\n"), "x.toml");
        let config =
            slack("operators = [\"U0ADA\", \"W0GRACE\", \"ada@example.com\"]\nchannel = \"C0FINDINGS\"")
                .unwrap();
        assert_eq!(config.slack.channel.as_deref(), Some("C0FINDINGS"));
        assert_eq!(
            slack("operators = [\"U0ADA\", \"ada\"]").unwrap_err().to_string(),
            "x.toml: slack.operators[1]: \"ada\" is neither a Slack user id (U… or W…) nor an e-mail address"
        );
        assert_eq!(
            slack("channel = \"#findings\"").unwrap_err().to_string(),
            "x.toml: slack.channel: \"#findings\" is not a Slack channel id (C… or G…)"
        );
    }

    #[test]
    fn a_region_listed_twice_is_refused() {
        let e = err(&MINIMAL.replace(r#"["us-east-1"]"#, r#"["us-east-1", "eu-west-1", "us-east-1"]"#));
        assert_eq!(
            e,
            "x.toml: accounts[0].regions: \"us-east-1\" is listed twice (regions[2]); each region is pulled once"
        );
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    use super::Config;

    const BUNDLED: &str = include_str!("../../../config/polo.toml");

    fn refused_naming_the_file(text: &str) {
        if let Err(e) = Config::parse(text, "polo.toml") {
            let message = e.to_string();
            assert!(message.contains("polo.toml"), "{message}");
            assert!(!message.contains('\n') || message.lines().count() < 20, "{message}");
        }
    }

    proptest! {
        #![proptest_config(polo_fuzz::config(256))]

        #[test]
        fn fuzz_config_any_text(text in any::<String>()) {
            refused_naming_the_file(&text);
        }

        #[test]
        fn fuzz_config_edited(text in polo_fuzz::mutated_text(BUNDLED.as_bytes().to_vec())) {
            refused_naming_the_file(&text);
        }
    }
}
