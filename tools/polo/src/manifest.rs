//! `polo manifest`: every function — what it is and needs, declared once in its Cargo.toml's
//! `[package.metadata.polo]` — with its routes, each written once in its router. The CDK
//! app, the CDK tests, `just zip`, `scripts/lambda-assets` and the benchmarks read the JSON
//! form (`cdk/manifest.json`, kept equal to this by a test): no other list of functions or
//! routes exists.

use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/functions.rs"));

/// What runs the function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Answers HTTP routes behind API Gateway.
    Route,
    /// Runs on schedules, one run at a time.
    Job,
    /// Polo's own operations (the alarm forwarder).
    Ops,
}

/// A piece of Polo's data a function may read, write or scan: a table, or objects of the
/// data bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum Data {
    #[serde(rename = "resource-table")]
    ResourceTable,
    #[serde(rename = "report-table")]
    ReportTable,
    /// Browser sessions: every function with a signed-in route reads and writes it.
    #[serde(rename = "session-table")]
    SessionTable,
    /// The snapshot in both layouts: `snapshot.bin`, which route functions read, and
    /// `snapshot.json`, for people and scripts (and their fallback).
    #[serde(rename = "snapshot.*")]
    Snapshot,
    /// The cost store in both layouts: `costs.bin`, which route functions read, and
    /// `costs.json`, for people and scripts (and their fallback).
    #[serde(rename = "costs.*")]
    Costs,
    /// The usage ledger: what each instance ran, for why costs changed.
    #[serde(rename = "usage.json")]
    Usage,
    /// The fleet's daily metrics: utilization, idle instances, dormant indexes.
    #[serde(rename = "metrics.json")]
    Metrics,
    #[serde(rename = "sync/*")]
    SyncDocuments,
    #[serde(rename = "exports/*")]
    Exports,
}

impl Data {
    fn is_table(self) -> bool {
        matches!(self, Data::ResourceTable | Data::ReportTable | Data::SessionTable)
    }
}

/// Roles a function assumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The read-only role in each fleet account (config/polo.toml).
    FleetRoles,
    /// The Cost Explorer role in the payer account (`coreRoleArn`).
    CoreRole,
}

/// Which Slack webhook a function posts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Slack {
    /// Reports and the Cop's digest (`slackWebhookUrl`), with links to the dashboard.
    Reports,
    /// Polo's own alarms (`opsSlackWebhookUrl`, else `slackWebhookUrl`).
    Ops,
}

/// How a function uses the Slack app (issue 31), beside any webhook.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlackApp {
    /// Posts as the app's bot (its token), with buttons.
    Bot,
    /// Answers the app's interactions: the signing secret and the bot token.
    Interactions,
}

/// What a function is notified by besides routes and schedules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topic {
    /// The SNS topic every alarm notifies.
    AlarmTopic,
    /// The sync writing a new `snapshot.json` or `costs.json` (the bucket's S3 events, through
    /// EventBridge): what runs right after each sync, and again when its cost refresh lands,
    /// never on a clock offset from it.
    DataWritten,
}

/// One schedule of a job.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all(deserialize = "kebab-case"), deny_unknown_fields)]
pub struct Schedule {
    /// Names the schedule (`{env}-polo-{name}`).
    pub name: String,
    /// An EventBridge `rate(…)` or `cron(…)` expression.
    pub expression: String,
    /// Evaluated in the report time zone (EventBridge Scheduler keeps its DST), not UTC.
    #[serde(default)]
    pub in_report_zone: bool,
    /// The event the function receives (a plain scheduled event without it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<serde_json::Value>,
}

/// What a Cargo.toml declares.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Declared {
    kind: Kind,
    memory_mb: u32,
    timeout_seconds: u32,
    #[serde(default)]
    reads: Vec<Data>,
    #[serde(default)]
    writes: Vec<Data>,
    #[serde(default)]
    batch_writes: Vec<Data>,
    #[serde(default)]
    assumes: Vec<Role>,
    #[serde(default)]
    slack: Option<Slack>,
    #[serde(default)]
    slack_app: Option<SlackApp>,
    #[serde(default)]
    subscribes: Option<Topic>,
    #[serde(default)]
    schedules: Vec<Schedule>,
}

/// One route of a function.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Route {
    pub method: &'static str,
    /// The API Gateway path (`/instances/{id}`).
    pub path: &'static str,
    /// Whether the route needs a signed-in user.
    pub authorized: bool,
}

/// One function.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Function {
    /// Its directory under `functions/`, its binary, and `{env}-polo-{name}`.
    pub name: String,
    pub kind: Kind,
    pub memory_mb: u32,
    pub timeout_seconds: u32,
    pub reads: Vec<Data>,
    pub writes: Vec<Data>,
    /// Tables written many items a call (BatchWriteItem), besides one at a time.
    pub batch_writes: Vec<Data>,
    pub assumes: Vec<Role>,
    pub slack: Option<Slack>,
    pub slack_app: Option<SlackApp>,
    pub subscribes: Option<Topic>,
    pub schedules: Vec<Schedule>,
    pub routes: Vec<Route>,
}

/// Every function, by name.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Manifest {
    pub functions: Vec<Function>,
}

/// The first name of sorted `names` that comes twice.
fn repeated<'a>(names: &[&'a str]) -> Option<&'a str> {
    names.windows(2).find_map(|w| match w {
        [a, b] if a == b => Some(*a),
        _ => None,
    })
}

/// The manifest of this build: every function's declaration and routes, checked (a route
/// function has routes and only route functions do; a job has schedules or an event; only tables are
/// scanned; each route belongs to a function that exists).
pub fn manifest() -> Result<Manifest, String> {
    let routes = crate::all_routes();
    let mut functions = Vec::new();
    for (name, cargo_toml) in DECLARED {
        let problem = |p: String| format!("functions/{name}/Cargo.toml: [package.metadata.polo]: {p}");
        let table: toml::Table = cargo_toml.parse().map_err(|e: toml::de::Error| problem(e.to_string()))?;
        let declared = table
            .get("package")
            .and_then(|p| p.get("metadata"))
            .and_then(|m| m.get("polo"))
            .cloned()
            .ok_or_else(|| problem("missing: every function says what it is and needs".into()))?;
        let d: Declared =
            declared.try_into().map_err(|e: toml::de::Error| problem(e.message().to_owned()))?;
        let own: Vec<Route> = routes
            .iter()
            .filter(|r| r.function == *name)
            .map(|r| Route { method: r.method, path: r.path, authorized: r.authorized })
            .collect();
        match d.kind {
            Kind::Route if own.is_empty() => return Err(problem("a route function without routes".into())),
            Kind::Job | Kind::Ops if !own.is_empty() => {
                return Err(problem(format!("{:?} functions answer no routes", d.kind)));
            }
            Kind::Job if d.schedules.is_empty() && d.subscribes.is_none() => {
                return Err(problem("a job without a schedule or an event".into()));
            }
            _ => {}
        }
        if let Some(data) = d.batch_writes.iter().find(|s| !s.is_table()) {
            return Err(problem(format!("{data:?}: only tables are batch-written")));
        }
        if let Some(data) = d.batch_writes.iter().find(|t| !d.writes.contains(t)) {
            return Err(problem(format!("batch-writes {data:?} without writes {data:?}")));
        }
        // A presigned download is signed by the function's own role: it must read what it parks.
        if d.writes.contains(&Data::Exports) && !d.reads.contains(&Data::Exports) {
            return Err(problem(
                "writes exports/* without reading it: its presigned URLs would be refused".into(),
            ));
        }
        // A signed-in route reads its session and marks it used; only such functions may.
        let signs_in = own.iter().any(|r| r.authorized);
        let sessions = d.reads.contains(&Data::SessionTable) && d.writes.contains(&Data::SessionTable);
        if signs_in != sessions {
            return Err(problem(if signs_in {
                "signed-in routes need reads and writes \"session-table\"".into()
            } else {
                "only functions with signed-in routes use \"session-table\"".into()
            }));
        }
        let mut names: Vec<&str> = d.schedules.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        if let Some(twice) = repeated(&names) {
            return Err(problem(format!("two schedules named {twice}")));
        }
        functions.push(Function {
            name: (*name).to_owned(),
            kind: d.kind,
            memory_mb: d.memory_mb,
            timeout_seconds: d.timeout_seconds,
            reads: d.reads,
            writes: d.writes,
            batch_writes: d.batch_writes,
            assumes: d.assumes,
            slack: d.slack,
            slack_app: d.slack_app,
            subscribes: d.subscribes,
            schedules: d.schedules,
            routes: own,
        });
    }
    let mut schedules: Vec<&str> =
        functions.iter().flat_map(|f| f.schedules.iter().map(|s| s.name.as_str())).collect();
    schedules.sort_unstable();
    if let Some(twice) = repeated(&schedules) {
        return Err(format!(
            "two functions have a schedule named {twice} (it names `{{env}}-polo-{{name}}`)"
        ));
    }
    if let Some(stray) = routes.iter().find(|r| !functions.iter().any(|f| f.name == r.function)) {
        return Err(format!(
            "route {} names function {}, which has no directory under functions/",
            stray.path, stray.function
        ));
    }
    Ok(Manifest { functions })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use polo_core::reports::ReportType;

    use super::{Data, Kind, manifest};

    #[test]
    fn every_function_declares_what_it_is_and_needs() {
        let m = manifest().unwrap();
        assert!(m.functions.len() >= 9, "{:?}", m.functions.iter().map(|f| &f.name).collect::<Vec<_>>());
        for f in &m.functions {
            assert!(f.memory_mb >= 128 && f.timeout_seconds > 0, "{}", f.name);
        }
    }

    #[test]
    fn every_report_type_has_a_schedule_of_the_reporter() {
        let m = manifest().unwrap();
        let reporter = m.functions.iter().find(|f| f.name == "reporter").unwrap();
        let inputs: Vec<String> = reporter
            .schedules
            .iter()
            .filter_map(|s| s.input.as_ref()?.get("type")?.as_str().map(str::to_owned))
            .collect();
        for kind in ReportType::ALL {
            assert!(inputs.iter().any(|i| i == kind.as_str()), "{} has no schedule", kind.as_str());
        }
    }

    #[test]
    fn only_the_sync_writes_the_snapshot_and_assumes_roles() {
        let m = manifest().unwrap();
        let writers: Vec<&str> = m
            .functions
            .iter()
            .filter(|f| f.writes.contains(&Data::Snapshot))
            .map(|f| f.name.as_str())
            .collect();
        assert_eq!(writers, ["sync"]);
        let assuming: Vec<&str> =
            m.functions.iter().filter(|f| !f.assumes.is_empty()).map(|f| f.name.as_str()).collect();
        assert_eq!(assuming, ["sync"]);
        assert!(m.functions.iter().filter(|f| f.kind == Kind::Route).all(|f| !f.routes.is_empty()));
    }
}
