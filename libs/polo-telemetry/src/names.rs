//! Every metric Polo's functions emit, by name. The CDK app's catalog
//! (`cdk/lib/monitoring/metrics.ts`) names the same metrics for its alarms and dashboard; a
//! CDK test checks each of its names is one of these.

/// Dimension on every metric: the function's service name (`polo-{function}`).
pub const SERVICE: &str = "service";
/// Dimension of open findings: `info`, `warning`, `critical`.
pub const SEVERITY: &str = "severity";

/// Route functions: requests answered (Count).
pub const REQUESTS: &str = "requests";
/// Route functions: answers with a 5xx status (Count).
pub const ERRORS: &str = "errors";
/// Route functions: time to answer (Milliseconds).
pub const LATENCY: &str = "latency";
/// Every function: 1 on the first request or run of a process, else 0 (Count).
pub const COLD_STARTS: &str = "cold_starts";

/// Scheduled functions: runs (Count).
pub const RUNS: &str = "runs";
/// Scheduled functions: runs that failed (Count).
pub const RUN_FAILURES: &str = "run_failures";
/// Scheduled functions: time a run took (Milliseconds).
pub const RUN_DURATION: &str = "run_duration";

/// Sync: account × region × resource pulls made (Count).
pub const SCOPES: &str = "scopes";
/// Sync: pulls that failed and kept their last good items (Count).
pub const SCOPES_FAILED: &str = "scopes_failed";
/// Sync: instances and indexes in the snapshot written (Count).
pub const ITEMS: &str = "items";
/// Sync: 1 when the run wrote the snapshot (Count). Its absence for three sync intervals
/// means the dashboard's data is going stale.
pub const SNAPSHOTS_WRITTEN: &str = "snapshots_written";
// Per account, the sync logs a line (`account pulled`: account, items, failed, pull_ms) for
// Logs Insights rather than a metric dimension: $0.30 a metric-month each, ~$90 a month at
// 100 accounts.

/// Cop, per severity: findings open after the run (Count).
pub const FINDINGS_OPEN: &str = "findings_open";
/// Cop: findings new in the run (Count).
pub const FINDINGS_NEW: &str = "findings_new";
/// Reporter: reports stored new or changed (Count).
pub const REPORTS_STORED: &str = "reports_stored";
/// Cop and reporter: Slack messages accepted in the run (Count).
pub const SLACK_SENT: &str = "slack_sent";
/// Cop and reporter: messages still in the Slack outbox after the run (Count).
pub const OUTBOX_LEFT: &str = "outbox_left";
