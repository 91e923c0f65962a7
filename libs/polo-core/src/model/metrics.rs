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
    /// Queries not answered (out of time, or a request failed): asked again later that day.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left: u32,
    /// Pulls made on the day of `pulled_at`: the first, and retries for what was left.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// Compute Optimizer's advice per instance id, where its account has opted in (free;
    /// shown beside Polo's own proposals, never mixed into them).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub optimizer: BTreeMap<String, OptimizerAdvice>,
    /// Scopes Compute Optimizer said nothing for, and why (not opted in, not allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub optimizer_unavailable: Vec<String>,
}

/// What Compute Optimizer says of one instance: its finding and its first-ranked option.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerAdvice {
    /// `over-provisioned`, `under-provisioned`, `optimized` or `not-optimized`.
    pub finding: String,
    pub current_type: String,
    /// The first-ranked option's type; `None` when it offers none.
    #[serde(default)]
    pub recommended_type: Option<String>,
    /// What that option saves a month at on-demand prices, as Compute Optimizer estimates.
    #[serde(default)]
    pub monthly_savings: Option<Money>,
    /// Its performance risk, 0 (none) to 4 (high).
    #[serde(default)]
    pub performance_risk: Option<f64>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if shape
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One instance's days, oldest first; `None` where CloudWatch had no point.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct InstanceMetrics {
    /// Each day's highest hourly average `CPUUtilization` (percent): what sizing reads.
    #[serde(default)]
    pub cpu_max: Vec<Option<f64>>,
    /// Each day's average `CPUUtilization` (percent): what the idle rule reads, as Trusted
    /// Advisor does.
    #[serde(default)]
    pub cpu_avg: Vec<Option<f64>>,
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

    /// What the pull's metrics cost ($0.01 per 1,000, prorated), to the cent.
    pub fn cost(&self) -> Money {
        Money::new(Decimal::from(self.metrics_asked) / Decimal::from(METRICS_PER_CENT * 100)).round_cents()
    }

    /// Takes from `earlier`, a pull of the same days, what this one has not: instances and
    /// indexes it has no point for, and Compute Optimizer's advice it lacks. Counts the
    /// pull as one more of the day.
    pub fn fill_from(&mut self, earlier: &MetricsDocument) {
        let same_days = earlier.first_day == self.first_day && earlier.days == self.days;
        let same_day = same_days
            && earlier.pulled_at.map(OffsetDateTime::date) == self.pulled_at.map(OffsetDateTime::date);
        self.attempts = if same_day { earlier.attempts.max(1) + 1 } else { 1 };
        if !same_days {
            return;
        }
        let blank = |days: &[Option<f64>]| days.iter().all(Option::is_none);
        for (id, m) in &earlier.instances {
            let mine = self.instances.entry(id.clone()).or_default();
            if blank(&mine.cpu_max) && !blank(&m.cpu_max) {
                *mine = m.clone();
            }
        }
        for (key, days) in &earlier.indexes {
            let mine = self.indexes.entry(key.clone()).or_default();
            if blank(mine) && !blank(days) {
                mine.clone_from(days);
            }
        }
        for (id, advice) in &earlier.optimizer {
            self.optimizer.entry(id.clone()).or_insert_with(|| advice.clone());
        }
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
    fn a_thousand_metrics_is_a_cent_prorated() {
        let mut d = MetricsDocument::empty();
        d.metrics_asked = 2_001;
        assert_eq!(d.cost().to_string(), "0.02");
        d.metrics_asked = 351_500;
        assert_eq!(d.cost().to_string(), "3.52");
        d.metrics_asked = 0;
        assert_eq!(d.cost().to_string(), "0.00");
    }

    #[test]
    fn a_retry_keeps_what_the_first_pull_of_the_day_had() {
        let at = time::macros::datetime!(2026-11-24 03:00 UTC);
        let mut first = MetricsDocument {
            first_day: Some(time::macros::date!(2026 - 11 - 10)),
            days: 2,
            pulled_at: Some(at),
            ..MetricsDocument::empty()
        };
        let known = InstanceMetrics { cpu_max: vec![Some(5.0), Some(6.0)], ..Default::default() };
        first.instances.insert("i-1".into(), known.clone());
        first
            .instances
            .insert("i-2".into(), InstanceMetrics { cpu_max: vec![None, None], ..Default::default() });
        first.left = 2;
        first.attempts = 1;
        let mut retry = MetricsDocument { pulled_at: Some(at + time::Duration::hours(2)), ..first.clone() };
        retry.instances.clear();
        retry
            .instances
            .insert("i-2".into(), InstanceMetrics { cpu_max: vec![Some(1.0), None], ..Default::default() });
        retry.left = 0;
        retry.fill_from(&first);
        assert_eq!(retry.instances["i-1"], known, "what the retry did not get, the first pull had");
        assert_eq!(retry.instances["i-2"].cpu_max, [Some(1.0), None], "what the retry got wins");
        assert_eq!(retry.attempts, 2);
        // Another day's window: nothing taken, a first pull.
        let mut tomorrow = MetricsDocument {
            first_day: Some(time::macros::date!(2026 - 11 - 11)),
            pulled_at: Some(at + time::Duration::days(1)),
            ..MetricsDocument::empty()
        };
        tomorrow.days = 2;
        tomorrow.fill_from(&first);
        assert!(tomorrow.instances.is_empty());
        assert_eq!(tomorrow.attempts, 1);
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
