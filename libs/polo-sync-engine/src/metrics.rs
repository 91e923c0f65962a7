//! The daily metrics pull (`metrics.json` beside the snapshot): CloudWatch's
//! `GetMetricData` through each fleet account's role, in the batches
//! [`polo_core::utilization::plan`] cuts (at most 500 queries and 100,800 points a request),
//! scopes side by side, within a deadline of its own. A scope whose role may not read
//! CloudWatch is reported in the document, not failed; what the deadline leaves is asked
//! again by the next run. What to ask and how answers become the document is the plan's.
//! Compute Optimizer's advice for the same instances is asked through the same role.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use aws_config::{Region, SdkConfig};
use aws_sdk_cloudwatch::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode};
use futures_util::StreamExt as _;
use polo_core::config::Config;
use polo_core::model::{Fleet, MetricsDocument};
use polo_core::pricing::PriceTable;
use polo_core::utilization::plan::{Collecting, Measure, MetricQuery, batches, plan, window};
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
}

/// A day's pull starts this long after midnight UTC, once CloudWatch has the day's last
/// points (EC2 publishes basic monitoring every 5 minutes, a few minutes late).
pub const PULL_FROM: time::Duration = time::Duration::hours(1);

/// A pull that left queries unanswered (out of time, a failed request) is tried again this
/// long after, at most [`RETRIES`] times a day.
pub const RETRY_AFTER: time::Duration = time::Duration::hours(2);

/// Pulls again a day at most, after the first.
pub const RETRIES: u32 = 2;

/// Whether a pull is due at `now` after `stored`: once a UTC day from [`PULL_FROM`], and
/// again [`RETRY_AFTER`] a pull that left queries unanswered, at most [`RETRIES`] times.
/// Denied or unreachable scopes are reported, not retried.
pub fn due(stored: Option<&MetricsDocument>, now: OffsetDateTime) -> Result<(), String> {
    let today_from = now.replace_time(time::Time::MIDNIGHT) + PULL_FROM;
    let Some(at) = stored.and_then(|m| m.pulled_at) else {
        return Ok(());
    };
    if at < today_from {
        return if now >= today_from {
            Ok(())
        } else {
            Err(format!("the day's pull starts at {}", polo_core::text::rfc3339(today_from)))
        };
    }
    let (left, tries) = stored.map_or((0, 0), |m| (m.left, m.attempts));
    let when = polo_core::text::rfc3339(at);
    if left == 0 {
        Err(format!("pulled today at {when}"))
    } else if tries > RETRIES {
        Err(format!("pulled today at {when}; {left} queries unanswered after {tries} pulls"))
    } else if now - at < RETRY_AFTER {
        Err(format!(
            "pulled today at {when}; {left} queries unanswered, asked again from {}",
            polo_core::text::rfc3339(at + RETRY_AFTER)
        ))
    } else {
        Ok(())
    }
}

/// What one scope's requests did.
#[derive(Default)]
struct ScopeRun {
    answers: Vec<(MetricQuery, Vec<(OffsetDateTime, f64)>)>,
    /// Each request's metrics and the pages it took.
    requests: Vec<(usize, usize)>,
    /// Why the scope was not asked, or not wholly: reported, not retried.
    denied: Option<String>,
    /// Queries not answered for lack of time or after a failure: asked again later.
    left: usize,
    /// Compute Optimizer's advice for the scope's instances, or why there is none.
    optimizer: Option<Result<BTreeMap<String, polo_core::model::OptimizerAdvice>, String>>,
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
                None => ScopeRun {
                    denied: Some("not among polo.toml's accounts".to_owned()),
                    ..ScopeRun::default()
                },
                Some(a) => {
                    let assumed = tokio::time::timeout_at(
                        deadline,
                        crate::accounts::account_config(base, a, Reach::Roles),
                    )
                    .await;
                    match assumed {
                        Ok(Ok(sdk)) => {
                            let sdk = sdk.to_builder().region(Region::new(region.clone())).build();
                            let mut run = pull_scope(&sdk, &queries, now, days, deadline).await;
                            let ids: HashSet<&str> = queries
                                .iter()
                                .filter(|q| q.measure == Measure::Cpu)
                                .map(|q| q.subject.as_str())
                                .collect();
                            run.optimizer = Some(crate::optimizer::advice(&sdk, &ids, deadline).await);
                            run
                        }
                        Ok(Err(e)) => {
                            tracing::warn!(%account, error = %e, "no credentials for the metrics pull");
                            ScopeRun { denied: Some(format!("no credentials: {e}")), ..ScopeRun::default() }
                        }
                        // Out of time before asking: asked again later.
                        Err(_) => ScopeRun { left: queries.len(), ..ScopeRun::default() },
                    }
                }
            };
            ((account, region), run)
        })
        .buffer_unordered(SCOPES_AT_ONCE)
        .collect()
        .await;
    let mut doc = Collecting::new(now, days).traffic_gaps_are_zero(config.utilization.traffic_gaps_are_zero);
    let mut left = 0;
    for ((account, region), run) in runs {
        for (q, points) in &run.answers {
            doc.record(q, points);
        }
        for (metrics, pages) in run.requests {
            doc.asked(metrics, pages);
        }
        if let Some(why) = run.denied {
            doc.denied(format!("{account} {region}: {why}"));
        }
        match run.optimizer {
            Some(Ok(advice)) => doc.advised(advice),
            Some(Err(why)) => doc.not_advised(format!("{account} {region}: {why}")),
            None => {}
        }
        left += run.left;
    }
    let mut doc = doc.finish();
    doc.left = u32::try_from(left).unwrap_or(u32::MAX);
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
        match tokio::time::timeout_at(deadline, ask(&client, batch, start, end)).await {
            Err(_) => {
                run.requests.push((batch.len(), 1));
                run.left += cut[n..].iter().map(|b| b.len()).sum::<usize>();
                break;
            }
            Ok(Ok(answered)) => {
                run.requests.push((batch.len(), answered.pages));
                run.left += answered.failed;
                run.answers.extend(answered.answers);
            }
            Ok(Err(Refused::Denied(why))) => {
                run.requests.push((batch.len(), 1));
                // The role may not: the rest of the scope is not asked, and that is
                // reported, not retried.
                run.denied = Some(why);
                break;
            }
            Ok(Err(Refused::Failed(why))) => {
                run.requests.push((batch.len(), 1));
                tracing::warn!(error = %why, queries = batch.len(), "a GetMetricData request failed; asked again later");
                run.left += batch.len();
            }
        }
    }
    run
}

/// Why a request gave nothing.
enum Refused {
    /// The role may not read CloudWatch here: the rest of the scope is not asked.
    Denied(String),
    /// Anything else (after the SDK's retries): this batch is asked again later.
    Failed(String),
}

/// What one request answered.
struct Answered {
    answers: Vec<(MetricQuery, Vec<(OffsetDateTime, f64)>)>,
    pages: usize,
    /// Queries CloudWatch answered `InternalError` or `Forbidden` for: asked again later.
    failed: usize,
}

/// One `GetMetricData` request for `batch`, every page of it.
async fn ask(
    client: &aws_sdk_cloudwatch::Client,
    batch: &[MetricQuery],
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<Answered, Refused> {
    let mut points: Vec<Vec<(OffsetDateTime, f64)>> = vec![Vec::new(); batch.len()];
    let mut broken = vec![false; batch.len()];
    let mut pages = 0;
    let request = client
        .get_metric_data()
        .set_metric_data_queries(Some(batch.iter().enumerate().map(|(n, q)| query(n, q)).collect()))
        .start_time(DateTime::from_secs(start.unix_timestamp()))
        .end_time(DateTime::from_secs(end.unix_timestamp()))
        .scan_by(ScanBy::TimestampAscending);
    let mut stream = request.into_paginator().send();
    while let Some(page) = stream.next().await {
        pages += 1;
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
            let (Some(slot), Some(bad)) = (points.get_mut(n), broken.get_mut(n)) else { continue };
            // `PartialData` goes on in the next page; an error for one query leaves it
            // unanswered, never recorded as days without points.
            if matches!(result.status_code(), Some(StatusCode::InternalError | StatusCode::Forbidden)) {
                tracing::warn!(id = ?result.id(), status = ?result.status_code(), messages = ?result.messages(), "a metric not answered");
                *bad = true;
                continue;
            }
            for (at, value) in result.timestamps().iter().zip(result.values()) {
                if let Ok(at) = OffsetDateTime::from_unix_timestamp(at.secs()) {
                    slot.push((at, *value));
                }
            }
        }
    }
    let failed = broken.iter().filter(|b| **b).count();
    let answers = batch
        .iter()
        .cloned()
        .zip(points)
        .zip(broken)
        .filter(|(_, bad)| !bad)
        .map(|(answer, _)| answer)
        .collect();
    Ok(Answered { answers, pages, failed })
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

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn pulled(at: OffsetDateTime, left: u32, attempts: u32) -> MetricsDocument {
        MetricsDocument { pulled_at: Some(at), left, attempts, ..MetricsDocument::empty() }
    }

    #[test]
    fn a_pull_is_due_once_a_day_from_one_oclock_and_retried_for_what_it_left() {
        let now = datetime!(2026-11-24 12:00 UTC);
        assert!(due(None, now).is_ok(), "never pulled");
        assert!(due(Some(&pulled(datetime!(2026-11-23 01:10 UTC), 0, 1)), now).is_ok(), "yesterday's");
        let early = datetime!(2026-11-24 00:30 UTC);
        let why = due(Some(&pulled(datetime!(2026-11-23 01:10 UTC), 0, 1)), early).unwrap_err();
        assert!(why.contains("starts at 2026-11-24T01:00:00Z"), "{why}");
        assert!(
            due(Some(&pulled(datetime!(2026-11-24 01:10 UTC), 0, 1)), now)
                .unwrap_err()
                .starts_with("pulled today")
        );
        // Left queries: again two hours later, at most twice more.
        let left = pulled(datetime!(2026-11-24 11:00 UTC), 40, 1);
        assert!(due(Some(&left), now).unwrap_err().contains("asked again from 2026-11-24T13:00:00Z"));
        assert!(due(Some(&left), datetime!(2026-11-24 13:00 UTC)).is_ok());
        let tired = pulled(datetime!(2026-11-24 05:00 UTC), 40, 3);
        assert!(due(Some(&tired), now).unwrap_err().contains("after 3 pulls"));
    }
}
