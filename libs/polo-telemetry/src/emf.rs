//! CloudWatch embedded-metric-format lines: one JSON object on stdout per metric set, which
//! CloudWatch Logs turns into metrics under the namespace, without an API call.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::names;

/// A metric's unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
        }
    }
}

/// Values sharing one set of dimensions (besides `service`, which every set has).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricSet {
    pub dimensions: Vec<(&'static str, String)>,
    pub values: Vec<(&'static str, Unit, f64)>,
}

impl MetricSet {
    /// A set with no dimension but `service`.
    pub fn new() -> MetricSet {
        MetricSet::default()
    }

    /// Adds the dimension `name` = `value`.
    #[must_use]
    pub fn dimension(mut self, name: &'static str, value: impl Into<String>) -> MetricSet {
        self.dimensions.push((name, value.into()));
        self
    }

    /// Adds a count.
    #[must_use]
    pub fn count(mut self, name: &'static str, n: usize) -> MetricSet {
        #[allow(clippy::cast_precision_loss)] // counts stay far below 2^52
        self.values.push((name, Unit::Count, n as f64));
        self
    }

    /// Adds a duration in milliseconds (to the microsecond).
    #[must_use]
    pub fn millis(mut self, name: &'static str, elapsed: Duration) -> MetricSet {
        self.values.push((name, Unit::Milliseconds, (elapsed.as_secs_f64() * 1e6).round() / 1e3));
        self
    }
}

/// Writes a function's metrics: its namespace and service, and whether it has reported
/// its cold start yet.
#[derive(Debug)]
pub struct Emitter {
    pub namespace: String,
    pub service: String,
    cold: AtomicBool,
}

impl Clone for Emitter {
    fn clone(&self) -> Emitter {
        Emitter {
            namespace: self.namespace.clone(),
            service: self.service.clone(),
            cold: AtomicBool::new(self.cold.load(Ordering::Relaxed)),
        }
    }
}

impl Emitter {
    /// The emitter of `service` into `namespace`, before its first request or run.
    pub fn new(namespace: impl Into<String>, service: impl Into<String>) -> Emitter {
        Emitter { namespace: namespace.into(), service: service.into(), cold: AtomicBool::new(true) }
    }

    /// The emitter `POWERTOOLS_METRICS_NAMESPACE` and `POWERTOOLS_SERVICE_NAME` name (read
    /// through `get`), else namespace `Polo` and `default_service`.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>, default_service: &str) -> Emitter {
        let set = |name: &str| get(name).filter(|v| !v.is_empty());
        Emitter::new(
            set("POWERTOOLS_METRICS_NAMESPACE").unwrap_or_else(|| "Polo".to_owned()),
            set("POWERTOOLS_SERVICE_NAME").unwrap_or_else(|| default_service.to_owned()),
        )
    }

    /// 1 the first time it is asked in this process (the cold start), then 0.
    pub fn cold_start(&self) -> usize {
        usize::from(self.cold.swap(false, Ordering::Relaxed))
    }

    /// The EMF object of `set` at `timestamp_ms`.
    pub fn line(&self, set: &MetricSet, timestamp_ms: u128) -> Value {
        let mut dimensions = vec![Value::from(names::SERVICE)];
        dimensions.extend(set.dimensions.iter().map(|(name, _)| Value::from(*name)));
        let definitions: Vec<Value> =
            set.values.iter().map(|(name, unit, _)| json!({ "Name": name, "Unit": unit.as_str() })).collect();
        let mut object = Map::new();
        object.insert(
            "_aws".into(),
            json!({
                "Timestamp": u64::try_from(timestamp_ms).unwrap_or(u64::MAX),
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [dimensions],
                    "Metrics": definitions,
                }]
            }),
        );
        object.insert(names::SERVICE.into(), Value::String(self.service.clone()));
        for (name, value) in &set.dimensions {
            object.insert((*name).into(), Value::String(value.clone()));
        }
        for (name, _, value) in &set.values {
            object.insert((*name).into(), json!(value));
        }
        Value::Object(object)
    }

    /// Prints each set as one line on stdout.
    pub fn print(&self, sets: &[MetricSet]) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let mut out = std::io::stdout().lock();
        for set in sets {
            let _ = writeln!(out, "{}", self.line(set, now));
        }
    }

    /// The sets of one scheduled run that took `elapsed`: the run itself (failed when
    /// `outcome` is an error), then what the run reports of itself.
    pub fn job_sets<E>(&self, outcome: Result<Vec<MetricSet>, E>, elapsed: Duration) -> Vec<MetricSet> {
        let failed = outcome.is_err();
        let run = MetricSet::new()
            .count(names::RUNS, 1)
            .count(names::RUN_FAILURES, usize::from(failed))
            .millis(names::RUN_DURATION, elapsed)
            .count(names::COLD_STARTS, self.cold_start());
        let mut sets = vec![run];
        sets.extend(outcome.unwrap_or_default());
        sets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_declares_every_value_under_its_dimensions() {
        let emitter = Emitter::new("Polo/prod", "polo-cop");
        let set = MetricSet::new().dimension(names::SEVERITY, "warning").count(names::FINDINGS_OPEN, 12);
        let line = emitter.line(&set, 1_700_000_000_000);
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "Polo/prod");
        assert_eq!(directive["Dimensions"], json!([["service", "severity"]]));
        assert_eq!(directive["Metrics"], json!([{ "Name": "findings_open", "Unit": "Count" }]));
        assert_eq!(line["service"], "polo-cop");
        assert_eq!(line["severity"], "warning");
        assert_eq!(line["findings_open"], 12.0);
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000_u64);
    }

    #[test]
    fn a_run_counts_itself_its_failure_and_its_cold_start_once() {
        let emitter = Emitter::new("Polo/dev", "polo-cop");
        let first = emitter.job_sets::<()>(
            Ok(vec![MetricSet::new().count(names::FINDINGS_NEW, 2)]),
            Duration::from_millis(1500),
        );
        assert_eq!(first.len(), 2);
        let value = |set: &MetricSet, name: &str| set.values.iter().find(|(n, _, _)| *n == name).map(|v| v.2);
        assert_eq!(value(&first[0], names::RUNS), Some(1.0));
        assert_eq!(value(&first[0], names::RUN_FAILURES), Some(0.0));
        assert_eq!(value(&first[0], names::RUN_DURATION), Some(1500.0));
        assert_eq!(value(&first[0], names::COLD_STARTS), Some(1.0));
        let failed = emitter.job_sets(Err("boom"), Duration::from_millis(5));
        assert_eq!(failed.len(), 1, "a failed run reports only itself");
        assert_eq!(value(&failed[0], names::RUN_FAILURES), Some(1.0));
        assert_eq!(value(&failed[0], names::COLD_STARTS), Some(0.0));
    }
}
