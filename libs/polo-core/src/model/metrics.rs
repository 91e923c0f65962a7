//! What CloudWatch said about the fleet's last days (issue 30): per running instance its
//! daily CPU, network and, where an agent publishes them, memory and GPU; per index its
//! daily queries from a configured traffic metric. Kept beside the snapshot
//! (`metrics.json`) by a daily pull, with what the pull asked and what that cost.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::Money;

/// The shape version this build writes and reads.
pub const METRICS_FORMAT: u32 = 1;

/// CloudWatch bills `GetMetricData` per metric asked: $0.01 per 1,000.
pub const METRICS_PER_CENT: u32 = 1_000;

/// The fleet's daily metrics.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricsDocument {
    pub format: u32,
    /// The day of each series' first value; value `n` is `first_day + n` days.
    #[serde(default)]
    pub first_day: Option<Date>,
    pub days: u32,
    /// When the pull ran.
    #[serde(with = "time::serde::rfc3339::option", default)]
    pub pulled_at: Option<OffsetDateTime>,
    /// Instance id -> its days.
    #[serde(default)]
    pub instances: BTreeMap<String, InstanceMetrics>,
    /// Index key -> its queries per day.
    #[serde(default)]
    pub indexes: BTreeMap<String, Vec<Option<f64>>>,
    /// `GetMetricData` requests the pull made, and the metrics they asked for (billed).
    #[serde(default)]
    pub requests: u32,
    #[serde(default)]
    pub metrics_asked: u32,
    /// Accounts and regions whose role may not read CloudWatch: reported, not failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied: Vec<String>,
    /// Queries not answered (out of time, or a request failed): the next run asks again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left: u32,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if shape
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One instance's days, oldest first; `None` where CloudWatch had no point.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceMetrics {
    /// Each day's highest hourly average `CPUUtilization` (percent).
    #[serde(default)]
    pub cpu_max: Vec<Option<f64>>,
    /// Each day's `NetworkIn` plus `NetworkOut` (bytes).
    #[serde(default)]
    pub network_bytes: Vec<Option<f64>>,
    /// Each day's highest memory use (percent), where an agent publishes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub memory_percent: Vec<Option<f64>>,
    /// Each day's highest GPU use (percent), where an agent publishes it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu_percent: Vec<Option<f64>>,
}

impl MetricsDocument {
    /// No metrics yet.
    pub fn empty() -> MetricsDocument {
        MetricsDocument { format: METRICS_FORMAT, ..MetricsDocument::default() }
    }

    /// What the pull's metrics cost, to the cent (rounded up: a started thousand is billed).
    pub fn cost(&self) -> Money {
        let cents = self.metrics_asked.div_ceil(METRICS_PER_CENT);
        Money::new(Decimal::from(cents) / Decimal::from(100))
    }

    /// The days of instance `id`.
    pub fn instance(&self, id: &str) -> Option<&InstanceMetrics> {
        self.instances.get(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_started_thousand_metrics_is_a_cent() {
        let mut d = MetricsDocument::empty();
        d.metrics_asked = 2_001;
        assert_eq!(d.cost().to_string(), "0.03");
        d.metrics_asked = 0;
        assert_eq!(d.cost().to_string(), "0.00");
    }

    #[test]
    fn missing_points_survive_the_round_trip_as_null() {
        let mut d = MetricsDocument::empty();
        d.instances.insert(
            "i-1".into(),
            InstanceMetrics {
                cpu_max: vec![Some(3.5), None],
                network_bytes: vec![None, Some(10.0)],
                ..Default::default()
            },
        );
        let text = serde_json::to_string(&d).unwrap();
        assert!(text.contains("\"cpu_max\":[3.5,null]"), "{text}");
        assert_eq!(serde_json::from_str::<MetricsDocument>(&text).unwrap(), d);
    }
}
