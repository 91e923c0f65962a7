//! The daily metrics pull (`metrics.json` beside the snapshot): CloudWatch's
//! `GetMetricData` through each fleet account's role, in the batches
//! [`polo_core::utilization::plan`] cuts (at most 500 queries and 100,800 points a request),
//! scopes side by side, within a deadline of its own. A scope whose role may not read
//! CloudWatch is reported in the document, not failed; what the deadline leaves is asked
//! again by the next run. What to ask and how answers become the document is the plan's.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_cloudwatch::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy};
use futures_util::StreamExt as _;
use polo_core::config::Config;
use polo_core::model::{Fleet, MetricsDocument};
use polo_core::pricing::PriceTable;
use polo_core::utilization::plan::{Collecting, MetricQuery, batches, plan, window};
use serde::Serialize;
use time::OffsetDateTime;

use crate::Reach;

/// The longest one run spends pulling metrics.
pub const METRICS_BUDGET: Duration = Duration::from_mins(2);

/// Account-and-region scopes asked at once (each is one role's sequence of requests;
/// CloudWatch allows 50 `GetMetricData` a second per account and region).
pub const SCOPES_AT_ONCE: usize = 8;

/// What the pull did in a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MetricsRun {
    /// Not asked: today's pull is stored and whole.
    NotDue { why: String },
    /// Asked: requests sent, metrics billed, what that cost, the scopes denied, and the
    /// queries left for the next run.
    Pulled { requests: u32, metrics: u32, dollars: String, denied: Vec<String>, left: u32 },
    /// Asked, and nothing answered: the stored document was kept.
    Kept { why: String },
}

/// Whether a pull is due at `now` after `stored`: once a UTC day, and again while the last
/// one left queries unasked.
pub fn due(stored: Option<&MetricsDocument>, now: OffsetDateTime) -> Result<(), String> {
    match stored.and_then(|m| m.pulled_at.map(|at| (at, m.left))) {
        Some((at, 0)) if at.date() == now.date() => {
            Err(format!("pulled today at {}", polo_core::text::rfc3339(at)))
        }
        _ => Ok(()),
    }
}

/// What one scope's requests did.
#[derive(Default)]
struct ScopeRun {
    answers: Vec<(MetricQuery, Vec<(OffsetDateTime, f64)>)>,
    requests: Vec<usize>,
    denied: Option<String>,
    left: usize,
    failed: usize,
}

/// Pulls every metric `fleet` needs at `now` through the fleet roles, before `deadline`.
pub async fn pull(
    config: &Config,
    base: &SdkConfig,
    fleet: &Fleet,
    prices: &PriceTable,
    now: OffsetDateTime,
    deadline: tokio::time::Instant,
) -> MetricsDocument {
    let days = config.utilization.days;
    let queries = plan(fleet, prices, &config.utilization);
    let mut scopes: BTreeMap<(String, String), Vec<MetricQuery>> = BTreeMap::new();
    for q in queries {
        scopes.entry((q.account.clone(), q.region.clone())).or_default().push(q);
    }
    let runs: Vec<((String, String), ScopeRun)> = futures_util::stream::iter(scopes)
        .map(|((account, region), queries)| async move {
            let run = match config.account(&account) {
                None => ScopeRun { left: queries.len(), ..ScopeRun::default() },
                Some(a) => {
                    let assumed = tokio::time::timeout_at(
                        deadline,
                        crate::accounts::account_config(base, a, Reach::Roles),
                    )
                    .await
                    .unwrap_or_else(|_| Err("out of time assuming the role".to_owned()));
                    match assumed {
                        Ok(sdk) => {
                            let sdk = sdk.to_builder().region(Region::new(region.clone())).build();
                            pull_scope(&sdk, &queries, now, days, deadline).await
                        }
                        Err(e) => {
                            tracing::warn!(%account, error = %e, "no credentials for the metrics pull");
                            ScopeRun { left: queries.len(), ..ScopeRun::default() }
                        }
                    }
                }
            };
            ((account, region), run)
        })
        .buffer_unordered(SCOPES_AT_ONCE)
        .collect()
        .await;
    let mut doc = Collecting::new(now, days);
    let (mut left, mut failed) = (0, 0);
    for ((account, region), run) in runs {
        for (q, points) in &run.answers {
            doc.record(q, points);
        }
        for asked in run.requests {
            doc.asked(asked);
        }
        if let Some(why) = run.denied {
            doc.denied(format!("{account} {region}: {why}"));
        }
        left += run.left;
        failed += run.failed;
    }
    let mut doc = doc.finish();
    doc.left = u32::try_from(left + failed).unwrap_or(u32::MAX);
    doc
}

/// Asks one account and region for `queries`, batch after batch, before `deadline`.
async fn pull_scope(
    sdk: &SdkConfig,
    queries: &[MetricQuery],
    now: OffsetDateTime,
    days: u32,
    deadline: tokio::time::Instant,
) -> ScopeRun {
    let client = aws_sdk_cloudwatch::Client::new(sdk);
    let (_, start, end) = window(now, days);
    let mut run = ScopeRun::default();
    let cut = batches(queries, days);
    for (n, batch) in cut.iter().enumerate() {
        if tokio::time::Instant::now() >= deadline {
            run.left += cut[n..].iter().map(|b| b.len()).sum::<usize>();
            break;
        }
        run.requests.push(batch.len());
        match tokio::time::timeout_at(deadline, ask(&client, batch, start, end)).await {
            Err(_) => {
                run.left += cut[n..].iter().map(|b| b.len()).sum::<usize>();
                break;
            }
            Ok(Ok(answers)) => run.answers.extend(answers),
            Ok(Err(Refused::Denied(why))) => {
                run.denied = Some(why);
                run.left += cut[n + 1..].iter().map(|b| b.len()).sum::<usize>();
                break;
            }
            Ok(Err(Refused::Failed(why))) => {
                tracing::warn!(error = %why, queries = batch.len(), "a GetMetricData request failed; asked again next run");
                run.failed += batch.len();
            }
        }
    }
    run
}

/// Why a request gave nothing.
enum Refused {
    /// The role may not read CloudWatch here: the rest of the scope is not asked.
    Denied(String),
    /// Anything else (after the SDK's retries): this batch is asked again next run.
    Failed(String),
}

/// One `GetMetricData` request for `batch`, every page of it.
async fn ask(
    client: &aws_sdk_cloudwatch::Client,
    batch: &[MetricQuery],
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<Vec<(MetricQuery, Vec<(OffsetDateTime, f64)>)>, Refused> {
    let mut points: Vec<Vec<(OffsetDateTime, f64)>> = vec![Vec::new(); batch.len()];
    let request = client
        .get_metric_data()
        .set_metric_data_queries(Some(batch.iter().enumerate().map(|(n, q)| query(n, q)).collect()))
        .start_time(DateTime::from_secs(start.unix_timestamp()))
        .end_time(DateTime::from_secs(end.unix_timestamp()))
        .scan_by(ScanBy::TimestampAscending);
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let code = e.code().unwrap_or_default().to_owned();
            if code.starts_with("AccessDenied") {
                Refused::Denied(format!(
                    "CloudWatch GetMetricData is not allowed ({code}): the fleet role needs cloudwatch:GetMetricData"
                ))
            } else {
                Refused::Failed(DisplayErrorContext(&e).to_string())
            }
        })?;
        for result in page.metric_data_results() {
            // Ids are `q{n}`, the query's place in the batch.
            let Some(n) =
                result.id().and_then(|id| id.strip_prefix('q')).and_then(|n| n.parse::<usize>().ok())
            else {
                continue;
            };
            let Some(slot) = points.get_mut(n) else { continue };
            for (at, value) in result.timestamps().iter().zip(result.values()) {
                if let Ok(at) = OffsetDateTime::from_unix_timestamp(at.secs()) {
                    slot.push((at, *value));
                }
            }
        }
    }
    Ok(batch.iter().cloned().zip(points).collect())
}

/// The SDK query of `q`, `q{n}` in its request.
fn query(n: usize, q: &MetricQuery) -> MetricDataQuery {
    let (stat, period) = q.measure.stat();
    let metric = Metric::builder()
        .namespace(&q.namespace)
        .metric_name(&q.metric)
        .set_dimensions(Some(
            q.dimensions
                .iter()
                .map(|(name, value)| Dimension::builder().name(name).value(value).build())
                .collect(),
        ))
        .build();
    MetricDataQuery::builder()
        .id(format!("q{n}"))
        .metric_stat(MetricStat::builder().metric(metric).period(period).stat(stat).build())
        .return_data(true)
        .build()
}

impl MetricsRun {
    /// The run of a pull that wrote `doc`.
    pub fn of(doc: &MetricsDocument) -> MetricsRun {
        MetricsRun::Pulled {
            requests: doc.requests,
            metrics: doc.metrics_asked,
            dollars: doc.cost().to_string(),
            denied: doc.denied.clone(),
            left: doc.left,
        }
    }
}
