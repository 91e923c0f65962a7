//! What the daily metrics pull asks CloudWatch (`GetMetricData`), in batches it accepts, and
//! how the answers become the metrics document. The sync sends the batches; everything else
//! is here, so the sample, the tests and the pull agree on what a pull asks and costs.

use std::collections::BTreeMap;

use time::{Date, Duration, OffsetDateTime, Time};

use crate::config::UtilizationSettings;
use crate::model::{Fleet, InstanceState, METRICS_FORMAT, MetricsDocument, index_key};
use crate::pricing::PriceTable;

/// At most this many queries in one `GetMetricData` request (AWS's limit).
pub const MAX_QUERIES: usize = 500;

/// At most this many data points in one answer (AWS's limit).
pub const MAX_POINTS: usize = 100_800;

/// What a query measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Measure {
    /// `AWS/EC2 CPUUtilization`, hourly averages (each day's highest kept).
    Cpu,
    /// `AWS/EC2 NetworkIn`, summed per day.
    NetworkIn,
    /// `AWS/EC2 NetworkOut`, summed per day.
    NetworkOut,
    /// The agent's memory use, each day's maximum.
    Memory,
    /// The agent's GPU use, each day's maximum.
    Gpu,
    /// An index's queries, summed per day.
    Queries,
}

impl Measure {
    /// The statistic and period CloudWatch is asked for.
    pub fn stat(self) -> (&'static str, i32) {
        match self {
            Measure::Cpu => ("Average", 3_600),
            Measure::NetworkIn | Measure::NetworkOut | Measure::Queries => ("Sum", 86_400),
            Measure::Memory | Measure::Gpu => ("Maximum", 86_400),
        }
    }

    /// Points one query of it returns over `days`.
    pub fn points(self, days: u32) -> usize {
        let (_, period) = self.stat();
        (days as usize) * (86_400 / usize::try_from(period).unwrap_or(86_400))
    }
}

/// One metric asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricQuery {
    /// The configured account name and region whose role asks.
    pub account: String,
    pub region: String,
    /// The instance id, or the index key.
    pub subject: String,
    pub measure: Measure,
    pub namespace: String,
    pub metric: String,
    pub dimensions: Vec<(String, String)>,
}

/// The whole UTC days a pull at `now` covers: `days` of them, ending yesterday.
pub fn window(now: OffsetDateTime, days: u32) -> (Date, OffsetDateTime, OffsetDateTime) {
    let end = now.replace_time(Time::MIDNIGHT);
    let start = end - Duration::days(i64::from(days));
    (start.date(), start, end)
}

/// Every metric a pull asks: per running instance its CPU and network (and memory, and GPU
/// on a GPU type, where configured), per ready index its queries (where configured), in
/// account, region and subject order.
pub fn plan(fleet: &Fleet, prices: &PriceTable, s: &UtilizationSettings) -> Vec<MetricQuery> {
    let mut out = Vec::new();
    let by_instance = |id: &str| vec![("InstanceId".to_owned(), id.to_owned())];
    for i in fleet.instances().iter().filter(|i| i.state == InstanceState::Running) {
        let mut ask = |measure, namespace: &str, metric: &str| {
            if !metric.is_empty() {
                out.push(MetricQuery {
                    account: i.account.to_string(),
                    region: i.region.to_string(),
                    subject: i.id.clone(),
                    measure,
                    namespace: namespace.to_owned(),
                    metric: metric.to_owned(),
                    dimensions: by_instance(&i.id),
                });
            }
        };
        ask(Measure::Cpu, "AWS/EC2", "CPUUtilization");
        ask(Measure::NetworkIn, "AWS/EC2", "NetworkIn");
        ask(Measure::NetworkOut, "AWS/EC2", "NetworkOut");
        ask(Measure::Memory, &s.memory_namespace, &s.memory_metric);
        if prices.spec(&i.instance_type).is_some_and(|t| t.gpus > 0) {
            ask(Measure::Gpu, &s.gpu_namespace, &s.gpu_metric);
        }
    }
    if !s.traffic_metric.is_empty() {
        for x in fleet.indexes().iter().filter(|x| x.status == crate::model::IndexStatus::Ready) {
            out.push(MetricQuery {
                account: x.account.clone(),
                region: x.region.clone(),
                subject: index_key(&x.index_id, &x.account, &x.region),
                measure: Measure::Queries,
                namespace: s.traffic_namespace.clone(),
                metric: s.traffic_metric.clone(),
                dimensions: dimensions(&s.traffic_dimensions, &x.index_id, &x.account, &x.region),
            });
        }
    }
    out.sort_by(|a, b| {
        (&a.account, &a.region, &a.subject, a.measure).cmp(&(&b.account, &b.region, &b.subject, b.measure))
    });
    out
}

/// `Name=value` pairs of a template (`IndexId={index_id},Stage=prod`), filled in.
pub fn dimensions(template: &str, index_id: &str, account: &str, region: &str) -> Vec<(String, String)> {
    template
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let value = v
                .trim()
                .replace("{index_id}", index_id)
                .replace("{account}", account)
                .replace("{region}", region);
            (k.trim().to_owned(), value)
        })
        .collect()
}

/// Whether a traffic template is well formed: `Name=value` pairs, some naming `{index_id}`.
pub fn template_problem(template: &str) -> Option<String> {
    if template.split(',').any(|p| p.split_once('=').is_none_or(|(k, _)| k.trim().is_empty())) {
        return Some("expected Name=value pairs separated by commas".into());
    }
    (!template.contains("{index_id}"))
        .then(|| "expected {index_id} in a value: each index's own metric".into())
}

/// `queries` cut into requests: one account and region each, at most [`MAX_QUERIES`]
/// queries and [`MAX_POINTS`] points over `days`.
pub fn batches(queries: &[MetricQuery], days: u32) -> Vec<&[MetricQuery]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut points = 0;
    for (n, q) in queries.iter().enumerate() {
        let p = q.measure.points(days);
        let first = &queries[start];
        let same_scope = first.account == q.account && first.region == q.region;
        if n > start && (!same_scope || n - start == MAX_QUERIES || points + p > MAX_POINTS) {
            out.push(&queries[start..n]);
            start = n;
            points = 0;
        }
        points += p;
    }
    if start < queries.len() {
        out.push(&queries[start..]);
    }
    out
}

/// A metrics document being filled from the answers of a pull started at `now`.
pub struct Collecting {
    doc: MetricsDocument,
    first: OffsetDateTime,
    /// Each instance's network in and out, kept apart until both answered.
    network: BTreeMap<String, [Option<Vec<Option<f64>>>; 2]>,
    /// Whether a day without a traffic point had no traffic (see [`Collecting::traffic_gaps_are_zero`]).
    gaps_are_zero: bool,
}

impl Collecting {
    /// An empty document of `days` days before `now`.
    pub fn new(now: OffsetDateTime, days: u32) -> Collecting {
        let (first_day, first, _) = window(now, days);
        let doc = MetricsDocument {
            format: METRICS_FORMAT,
            first_day: Some(first_day),
            days,
            pulled_at: Some(now),
            ..MetricsDocument::default()
        };
        Collecting { doc, first, network: BTreeMap::new(), gaps_are_zero: false }
    }

    /// Counts a day without a traffic point as a day without traffic (a metric published
    /// only when there is traffic), once the metric answered for some index: a metric that
    /// answered for none is misnamed, and its gaps stay unknown.
    #[must_use]
    pub fn traffic_gaps_are_zero(mut self, yes: bool) -> Collecting {
        self.gaps_are_zero = yes;
        self
    }

    /// Records the points CloudWatch gave for `query` (timestamps at each period's start).
    pub fn record(&mut self, query: &MetricQuery, points: &[(OffsetDateTime, f64)]) {
        let days = self.doc.days as usize;
        // Per day: the highest, the sum and the count of the points.
        let mut daily: Vec<Option<(f64, f64, u32)>> = vec![None; days];
        for (at, value) in points.iter().filter(|(_, v)| v.is_finite()) {
            let Ok(day) = usize::try_from((*at - self.first).whole_days()) else { continue };
            let (Some(slot), true) = (daily.get_mut(day), *at >= self.first) else { continue };
            *slot = Some(match *slot {
                Some((high, sum, n)) => (high.max(*value), sum + value, n + 1),
                None => (*value, *value, 1),
            });
        }
        let highest = || daily.iter().map(|d| d.map(|(high, _, _)| high)).collect::<Vec<_>>();
        let summed = || daily.iter().map(|d| d.map(|(_, sum, _)| sum)).collect::<Vec<_>>();
        let id = query.subject.clone();
        match query.measure {
            Measure::Queries => {
                self.doc.indexes.insert(id, summed());
            }
            Measure::NetworkIn | Measure::NetworkOut => {
                let slot = usize::from(query.measure == Measure::NetworkOut);
                self.network.entry(id).or_default()[slot] = Some(summed());
            }
            Measure::Cpu => {
                let entry = self.doc.instances.entry(id).or_default();
                entry.cpu_max = highest();
                #[allow(clippy::cast_precision_loss)] // hours in a day
                // To a hundredth of a percent: what anyone reads, and it reads back exactly.
                let average = daily
                    .iter()
                    .map(|d| d.map(|(_, sum, n)| (sum / f64::from(n) * 100.0).round() / 100.0))
                    .collect();
                entry.cpu_avg = average;
            }
            Measure::Memory => self.doc.instances.entry(id).or_default().memory_percent = highest(),
            Measure::Gpu => self.doc.instances.entry(id).or_default().gpu_percent = highest(),
        }
    }

    /// Counts a request of `metrics` queries sent, answered in `pages` calls (each billed
    /// for the metrics it asks).
    pub fn asked(&mut self, metrics: usize, pages: usize) {
        let pages = u32::try_from(pages.max(1)).unwrap_or(u32::MAX);
        self.doc.requests += pages;
        self.doc.metrics_asked += u32::try_from(metrics).unwrap_or(u32::MAX).saturating_mul(pages);
    }

    /// Notes a scope whose role may not read CloudWatch.
    pub fn denied(&mut self, scope: String) {
        if !self.doc.denied.contains(&scope) {
            self.doc.denied.push(scope);
        }
    }

    /// Keeps Compute Optimizer's advice for a scope's instances.
    pub fn advised(&mut self, advice: std::collections::BTreeMap<String, crate::model::OptimizerAdvice>) {
        self.doc.optimizer.extend(advice);
    }

    /// Notes a scope Compute Optimizer said nothing for, and why.
    pub fn not_advised(&mut self, scope: String) {
        self.doc.optimizer_unavailable.push(scope);
    }

    /// The document.
    pub fn finish(mut self) -> MetricsDocument {
        let days = self.doc.days as usize;
        // Network is known on a day both directions answered for.
        for (id, [inbound, outbound]) in std::mem::take(&mut self.network) {
            let both = match (inbound, outbound) {
                (Some(i), Some(o)) => {
                    i.into_iter().zip(o).map(|(a, b)| a.zip(b).map(|(a, b)| a + b)).collect()
                }
                _ => vec![None; days],
            };
            self.doc.instances.entry(id).or_default().network_bytes = both;
        }
        if self.gaps_are_zero && self.doc.indexes.values().flatten().any(Option::is_some) {
            for day in self.doc.indexes.values_mut().flatten() {
                day.get_or_insert(0.0);
            }
        }
        // An instance asked for nothing that answered still has its days, all unknown.
        for m in self.doc.instances.values_mut() {
            for series in [&mut m.cpu_max, &mut m.cpu_avg, &mut m.network_bytes] {
                series.resize(days, None);
            }
        }
        self.doc.denied.sort();
        self.doc.optimizer_unavailable.sort();
        self.doc
    }
}
