//! Cost Explorer: the daily cost in the configured metric (`[costs] metric`, amortized by
//! default) of the usage record types grouped by the index cost-allocation tag, by linked
//! account and by service, and of the whole bill grouped by record type (credits, refunds,
//! tax, support and fees apart from usage), every page, turned into whole cents that still
//! add up: each day's amounts of one grouping are rounded so that they sum to that day's
//! rounded total (largest remainder), so breakdowns reconcile to the cent.
//!
//! A refresh is incremental (it reads again only the days that can still change), bounded
//! by a deadline, counts the requests it makes (each is billed), and after a failure backs
//! off ([`RefreshLog::retry_at`]).

use std::collections::BTreeMap;

use anyhow::{Context as _, anyhow, bail};
use aws_config::SdkConfig;
use aws_sdk_costexplorer::error::DisplayErrorContext;
use aws_sdk_costexplorer::types::{
    DateInterval, Dimension, DimensionValues, Expression, Granularity, GroupDefinition, GroupDefinitionType,
    ResultByTime, TagValues,
};
use polo_core::Money;
use polo_core::model::{CostDimension, CostMetric, CostRow, CostStore, UsageTypes};
use rust_decimal::Decimal;
use time::{Date, Duration, OffsetDateTime};

/// The days Polo asks for at `now`: from the first day of the month 13 months back (Cost
/// Explorer keeps 13 months by default) through yesterday (today is still moving).
pub fn window(now: OffsetDateTime) -> (Date, Date) {
    let today = now.date();
    let mut start = today.replace_day(1).unwrap_or(today);
    for _ in 0..13 {
        start = (start - Duration::days(1)).replace_day(1).unwrap_or(start);
    }
    (start, today)
}

/// What a refresh asks Cost Explorer for.
#[derive(Clone, Debug)]
pub struct RefreshSettings {
    /// The index cost-allocation tag (`[tags] index`).
    pub tag_key: String,
    pub metric: CostMetric,
    /// A successful answer younger than this is not asked again (`[costs] cache_hours`).
    pub cache_hours: u32,
    /// A month can still change this many days after it ends (`[reports]
    /// month_final_after_days`): until then it is read again.
    pub month_final_after_days: u32,
    /// Less time than this left in a run: the refresh waits for the next run.
    pub min_budget: std::time::Duration,
}

impl RefreshSettings {
    /// The settings of `config`.
    pub fn of(config: &polo_core::config::Config) -> RefreshSettings {
        RefreshSettings {
            tag_key: config.tags.index.clone(),
            metric: config.costs.metric,
            cache_hours: config.costs.cache_hours,
            month_final_after_days: config.reports.month_final_after_days,
            min_budget: MIN_BUDGET,
        }
    }
}

/// The days a refresh at `now` reads: `(from, to)` with `to` exclusive, and whether it is a
/// whole pull. A store of another metric, without charges apart, or empty is pulled whole;
/// otherwise only the days that can still change: from the first day Cost Explorer still
/// estimates, or of the month not yet final (the previous one, for `month_final_after_days`
/// after it ends, else the current one), whichever is earlier.
pub fn refresh_window(
    current: &CostStore,
    settings: &RefreshSettings,
    now: OffsetDateTime,
) -> (Date, Date, bool) {
    let (start, to) = window(now);
    let whole = current.as_of().is_none() || current.metric != settings.metric || !current.charges_apart();
    if whole {
        return (start, to, true);
    }
    let settled = now.date() - Duration::days(i64::from(settings.month_final_after_days));
    let open_month = settled.replace_day(1).unwrap_or(settled);
    let mut from = open_month;
    if let Some(first) = current.estimated.first() {
        from = from.min(*first);
    }
    // A store whose newest day is older than that: read from the day after it.
    if let Some(as_of) = current.as_of().and_then(Date::next_day) {
        from = from.min(as_of);
    }
    let from = from.max(start);
    (from, to, from == start)
}

/// The default [`RefreshSettings::min_budget`]: a few pages' time.
pub const MIN_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// What a refresh did.
#[derive(Debug)]
pub enum Refreshed {
    /// Not asked: the stored answer is fresh, or a failed attempt is being backed off.
    NotDue { why: String },
    /// Asked: the store to write (new days merged with the kept ones, the log updated).
    Stored { store: Box<CostStore>, from: Date, whole: bool, requests: u32 },
    /// Asked and failed: the error, and the store to write back with only its log updated
    /// (the numbers stay as they were).
    Failed { store: Box<CostStore>, error: anyhow::Error },
}

/// Refreshes `current` at `now`, asking Cost Explorer through `source` for at most `budget`;
/// a request that would end after it is not made. Whatever happens, the attempt and its
/// requests are in the store's log.
pub async fn refresh_costs(
    source: &SdkConfig,
    settings: &RefreshSettings,
    current: &CostStore,
    now: OffsetDateTime,
    budget: std::time::Duration,
) -> Refreshed {
    let fresh = current
        .fetched_at
        .is_some_and(|at| now - at < Duration::hours(i64::from(settings.cache_hours)) && at <= now);
    if fresh && current.metric == settings.metric && current.charges_apart() && current.refresh.failures == 0
    {
        return Refreshed::NotDue {
            why: format!("the Cost Explorer answer is younger than {} hours", settings.cache_hours),
        };
    }
    if let Some(retry) = current.refresh.retry_at().filter(|at| *at > now) {
        return Refreshed::NotDue {
            why: format!(
                "{} failed attempts in a row; the next at {}",
                current.refresh.failures,
                polo_core::text::rfc3339(retry)
            ),
        };
    }
    if budget < settings.min_budget {
        return Refreshed::NotDue {
            why: format!("{} s left in this run; the next run asks", budget.as_secs()),
        };
    }
    let (from, to, whole) = refresh_window(current, settings, now);
    let attempts = polo_aws::Attempts::default();
    let ce = client(source, &attempts);
    let deadline = tokio::time::Instant::now() + budget;
    let pulled = async {
        // A closed month Cost Explorer changed since (a late refund, credit or fee) is read
        // again too: one request over the kept months says which.
        let from = if whole {
            from
        } else {
            let (start, _) = window(now);
            closed_month_moved(&ce, settings.metric, current, (start, from), deadline)
                .await?
                .map_or(from, |m| m.min(from))
        };
        let (rows, estimated) = pull_costs(&ce, settings, from, to, deadline).await?;
        anyhow::Ok((from, rows, estimated))
    }
    .await;
    // Running out of time is this run's budget, not Cost Explorer failing: recorded, but it
    // does not back the next attempt off.
    let out_of_time = tokio::time::Instant::now() >= deadline;
    let merged = pulled.and_then(|(from, rows, estimated)| {
        let (start, _) = window(now);
        // The kept days: those before `from` still in the window.
        let mut all: Vec<CostRow> = if whole {
            Vec::new()
        } else {
            current.rows().filter(|r| r.date >= start && r.date < from).collect()
        };
        all.extend(rows);
        let mut store = CostStore::from_rows(&all)?;
        store.metric = settings.metric;
        store.estimated = estimated;
        store.fetched_at = Some(now);
        store.refresh = current.refresh.clone();
        store.refresh.last_from = Some(from);
        Ok((from, store))
    });
    let merged = match merged {
        Ok((from, mut store)) => {
            // What `other` is made of for the keys that moved most: a failure here keeps
            // the last answer and never fails the refresh.
            store.usage_types = match pull_usage_types(&ce, settings, &store, deadline).await {
                Ok(types) => types,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "usage types not refreshed; the last ones stay");
                    current.usage_types.clone()
                }
            };
            Ok((from, store))
        }
        Err(e) => Err(e),
    };
    let requests = attempts.get();
    match merged {
        Ok((from, mut store)) => {
            store.refresh.record(now, requests, None);
            Refreshed::Stored { store: Box::new(store), from, whole, requests }
        }
        Err(error) => {
            let mut store = current.clone();
            let failures = store.refresh.failures;
            store.refresh.record(now, requests, Some(format!("{error:#}")));
            if out_of_time {
                store.refresh.failures = failures;
            }
            Refreshed::Failed { store: Box::new(store), error }
        }
    }
}

/// Only the record types of usage in `metric`: what indexes, accounts and services are
/// charged.
fn usage_only(metric: CostMetric) -> Expression {
    Expression::builder()
        .dimensions(
            DimensionValues::builder()
                .key(Dimension::RecordType)
                .set_values(Some(metric.usage_record_types().iter().map(|t| (*t).to_owned()).collect()))
                .build(),
        )
        .build()
}

/// The Cost Explorer client of `config`, counting each request it sends in `attempts`.
fn client(config: &SdkConfig, attempts: &polo_aws::Attempts) -> aws_sdk_costexplorer::Client {
    // Cost Explorer is a global service answered in us-east-1. Every attempt is billed,
    // retries included: each one is counted.
    aws_sdk_costexplorer::Client::from_conf(
        aws_sdk_costexplorer::config::Builder::from(config)
            .region(aws_config::Region::new("us-east-1"))
            .interceptor(polo_aws::SdkOutcome)
            .interceptor(attempts.clone())
            .build(),
    )
}

/// The first of the whole months of `[start, from)` whose bill Cost Explorer now says
/// differs from the stored one by more than rounding (a cent a day), if any: one MONTHLY
/// request over them.
async fn closed_month_moved(
    ce: &aws_sdk_costexplorer::Client,
    metric: CostMetric,
    current: &CostStore,
    (start, from): (Date, Date),
    deadline: tokio::time::Instant,
) -> anyhow::Result<Option<Date>> {
    let end = from.replace_day(1).unwrap_or(from);
    if end <= start {
        return Ok(None);
    }
    let period = DateInterval::builder().start(start.to_string()).end(end.to_string()).build()?;
    let send = ce
        .get_cost_and_usage()
        .time_period(period)
        .granularity(Granularity::Monthly)
        .metrics(metric.cost_explorer_name())
        .send();
    let context = || "GetCostAndUsage of the closed months".to_owned();
    let answer = tokio::time::timeout_at(deadline, send)
        .await
        .map_err(|_| anyhow!("out of time waiting for the answer"))
        .with_context(context)?
        .map_err(|e| anyhow!("{}", DisplayErrorContext(&e)))
        .with_context(context)?;
    let name = metric.cost_explorer_name();
    let mut moved = None;
    for result in answer.results_by_time() {
        let first = result.time_period().map(DateInterval::start).unwrap_or_default();
        let Ok(month) = Date::parse(first, time::macros::format_description!("[year]-[month]-[day]")) else {
            bail!("Cost Explorer's closed months: a month {first:?} that is not a date");
        };
        let amount = result.total().and_then(|t| t.get(name)).and_then(|m| m.amount()).unwrap_or("0");
        let Ok(amount) = amount.parse::<Decimal>() else {
            bail!("Cost Explorer's closed months: {month} amount {amount:?} is not a number");
        };
        let days = month.month().length(month.year());
        let last = month + Duration::days(i64::from(days) - 1);
        let stored = current.bill(month, last).amount();
        if (amount - stored).abs() * Decimal::from(100) > Decimal::from(days) {
            tracing::info!(%month, %amount, %stored, "a closed month changed; read again");
            moved = Some(moved.map_or(month, |m: Date| m.min(month)));
        }
    }
    Ok(moved)
}

/// Pulls every grouping over `[from, to)` through `ce`: the rows, and the days Cost
/// Explorer still estimates (in any grouping).
pub async fn pull_costs(
    ce: &aws_sdk_costexplorer::Client,
    settings: &RefreshSettings,
    from: Date,
    to: Date,
    deadline: tokio::time::Instant,
) -> anyhow::Result<(Vec<CostRow>, Vec<Date>)> {
    let tag = GroupDefinition::builder().r#type(GroupDefinitionType::Tag).key(&settings.tag_key).build();
    let by = |key: &str| GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key(key).build();
    let mut rows = Vec::new();
    let mut estimated = std::collections::BTreeSet::new();
    // One grouping after another: the requests per second Cost Explorer allows are few, and
    // an incremental refresh is a few pages.
    for (dimension, group, filter) in [
        (CostDimension::Index, tag, Some(usage_only(settings.metric))),
        (CostDimension::Account, by("LINKED_ACCOUNT"), Some(usage_only(settings.metric))),
        (CostDimension::Service, by("SERVICE"), Some(usage_only(settings.metric))),
        (CostDimension::Charge, by("RECORD_TYPE"), None),
    ] {
        let query = Query {
            dimension,
            label: dimension.as_str(),
            group,
            filter,
            tag_key: &settings.tag_key,
            metric: settings.metric,
        };
        let (raw, days) = pull_grouping(ce, query, from, to, deadline).await?;
        rows.extend(to_cents(dimension, settings.metric, raw));
        estimated.extend(days);
    }
    Ok((rows, estimated.into_iter().collect()))
}

/// For the [`USAGE_TYPE_KEYS`] indexes of `store` whose cost moved most between the default
/// compared weeks, their daily cost by `USAGE_TYPE` over those weeks (usage record types,
/// filtered by the index tag): one request (and its pages) per index, counted like every
/// other.
///
/// [`USAGE_TYPE_KEYS`]: polo_core::cost_changes::USAGE_TYPE_KEYS
async fn pull_usage_types(
    ce: &aws_sdk_costexplorer::Client,
    settings: &RefreshSettings,
    store: &CostStore,
    deadline: tokio::time::Instant,
) -> anyhow::Result<BTreeMap<String, UsageTypes>> {
    use polo_core::cost_changes::{Comparison, USAGE_TYPE_KEYS, most_moved};
    let Ok(cmp) = Comparison::default_for(store) else { return Ok(BTreeMap::new()) };
    let mut out = BTreeMap::new();
    for key in most_moved(store, CostDimension::Index, &cmp, USAGE_TYPE_KEYS) {
        let tag = Expression::builder()
            .tags(TagValues::builder().key(&settings.tag_key).values(&key).build())
            .build();
        let filter = Expression::builder().and(usage_only(settings.metric)).and(tag).build();
        let group =
            GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key("USAGE_TYPE").build();
        let query = Query {
            dimension: CostDimension::Service,
            label: "usage type",
            group,
            filter: Some(filter),
            tag_key: &settings.tag_key,
            metric: settings.metric,
        };
        let end = cmp.to.next_day().unwrap_or(cmp.to);
        let (raw, _) = pull_grouping(ce, query, cmp.before_from, end, deadline)
            .await
            .with_context(|| format!("usage types of {key}"))?;
        let days = u32::try_from((cmp.to - cmp.before_from).whole_days() + 1).unwrap_or(0);
        let width = usize::try_from(days).unwrap_or(0);
        let mut by_type: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for row in round_days(CostDimension::Service, raw) {
            let n = usize::try_from((row.date - cmp.before_from).whole_days()).unwrap_or(usize::MAX);
            if let Some(cell) = by_type.entry(row.key).or_insert_with(|| vec![0; width]).get_mut(n) {
                *cell = i64::try_from((row.amount.amount() * Decimal::from(100)).round()).unwrap_or(0);
            }
        }
        by_type.retain(|_, s| s.iter().any(|c| *c != 0));
        out.insert(key, UsageTypes { first_day: cmp.before_from, days, by_type });
    }
    Ok(out)
}

/// One grouping's question.
struct Query<'a> {
    dimension: CostDimension,
    /// What errors call the grouping.
    label: &'a str,
    group: GroupDefinition,
    filter: Option<Expression>,
    tag_key: &'a str,
    metric: CostMetric,
}

/// One grouping's amounts by day and key, and the days Cost Explorer estimated.
type Grouping = (BTreeMap<Date, BTreeMap<String, Decimal>>, Vec<Date>);

#[tracing::instrument(name = "pages", skip_all, fields(pages = "GetCostAndUsage"))]
async fn pull_grouping(
    ce: &aws_sdk_costexplorer::Client,
    q: Query<'_>,
    from: Date,
    to: Date,
    deadline: tokio::time::Instant,
) -> anyhow::Result<Grouping> {
    let dimension = q.label;
    let period = DateInterval::builder().start(from.to_string()).end(to.to_string()).build()?;
    let mut out: BTreeMap<Date, BTreeMap<String, Decimal>> = BTreeMap::new();
    let mut estimated = Vec::new();
    let mut token: Option<String> = None;
    for page in 1.. {
        if tokio::time::Instant::now() >= deadline {
            bail!("GetCostAndUsage by {dimension}: out of time before page {page}");
        }
        let send = ce
            .get_cost_and_usage()
            .time_period(period.clone())
            .granularity(Granularity::Daily)
            .metrics(q.metric.cost_explorer_name())
            .group_by(q.group.clone())
            .set_filter(q.filter.clone())
            .set_next_page_token(token.take())
            .send();
        let answer = tokio::time::timeout_at(deadline, send)
            .await
            .map_err(|_| anyhow!("out of time waiting for the answer"))
            .with_context(|| format!("GetCostAndUsage by {dimension}, page {page}"))?
            .map_err(|e| anyhow!("{}", DisplayErrorContext(&e)))
            .with_context(|| format!("GetCostAndUsage by {dimension}, page {page}"))?;
        add_results(&mut out, answer.results_by_time(), q.dimension, q.tag_key, q.metric)?;
        estimated.extend(estimated_days(answer.results_by_time()));
        match answer.next_page_token().filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    Ok((out, estimated))
}

/// The days of `results` that Cost Explorer still estimates (`Estimated: true`): their
/// amounts may change on a later answer.
pub(crate) fn estimated_days(results: &[ResultByTime]) -> impl Iterator<Item = Date> + '_ {
    results.iter().filter(|r| r.estimated()).filter_map(|r| {
        let start = r.time_period().map(DateInterval::start)?;
        Date::parse(start, time::macros::format_description!("[year]-[month]-[day]")).ok()
    })
}

/// The largest daily amount of one group believed (a quadrillion dollars): beyond it an
/// answer is malformed, and the sums of [`to_cents`] stay far from `Decimal`'s range.
const MAX_DAILY_AMOUNT: Decimal = Decimal::from_parts(0xA4C6_8000, 0x0003_8D7E, 0, false, 0);

/// Adds one GetCostAndUsage page's daily groups to `out` (amounts of a key on a day summed).
/// A day that is no date, a group without the metric, a unit other than USD or an amount that
/// is no number is an error naming the day, dimension and group.
pub(crate) fn add_results(
    out: &mut BTreeMap<Date, BTreeMap<String, Decimal>>,
    results: &[ResultByTime],
    dimension: CostDimension,
    tag_key: &str,
    metric: CostMetric,
) -> anyhow::Result<()> {
    let name = metric.cost_explorer_name();
    for result in results {
        let start = result.time_period().map(DateInterval::start).unwrap_or_default();
        let day = Date::parse(start, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| anyhow!("Cost Explorer by {dimension}: a day {start:?} that is not a date"))?;
        let groups = out.entry(day).or_default();
        for g in result.groups() {
            let raw_key = g.keys().first().map_or("", String::as_str);
            let key = match dimension {
                // Tag groups come as `key$value`; an empty value is spend with no tag.
                CostDimension::Index => {
                    raw_key.strip_prefix(&format!("{tag_key}$")).unwrap_or(raw_key).to_owned()
                }
                _ => raw_key.to_owned(),
            };
            let metric = g
                .metrics()
                .and_then(|m| m.get(name))
                .ok_or_else(|| anyhow!("Cost Explorer {day} {dimension} {raw_key:?}: no {name}"))?;
            let unit = metric.unit().unwrap_or("");
            if unit != "USD" {
                bail!("Cost Explorer {day} {dimension} {raw_key:?}: unit {unit:?}, expected USD");
            }
            // An amount too small for `Decimal` (below 1e-28, as `3E-29`) is nothing.
            let amount = metric
                .amount()
                .and_then(|a| {
                    a.parse::<Decimal>()
                        .ok()
                        .or_else(|| a.parse::<f64>().ok().filter(|v| v.abs() < 1e-20).map(|_| Decimal::ZERO))
                })
                .ok_or_else(|| {
                    anyhow!(
                        "Cost Explorer {day} {dimension} {raw_key:?}: amount {:?} is not a number",
                        metric.amount()
                    )
                })?;
            let sum = groups.entry(key).or_default();
            *sum = sum.checked_add(amount).filter(|s| s.abs() <= MAX_DAILY_AMOUNT).ok_or_else(|| {
                anyhow!("Cost Explorer {day} {dimension} {raw_key:?}: amount {amount} is out of range")
            })?;
        }
    }
    Ok(())
}

/// Whole cents per day and key, each day summing to its rounded total (largest remainder).
/// By record type, usage and the other charges are rounded apart, so that the usage is the
/// same number of cents as in the usage groupings.
pub fn to_cents(
    dimension: CostDimension,
    metric: CostMetric,
    raw: BTreeMap<Date, BTreeMap<String, Decimal>>,
) -> Vec<CostRow> {
    if dimension != CostDimension::Charge {
        return round_days(dimension, raw);
    }
    let (mut usage, mut other): (BTreeMap<Date, BTreeMap<String, Decimal>>, BTreeMap<_, BTreeMap<_, _>>) =
        (BTreeMap::new(), BTreeMap::new());
    for (day, groups) in raw {
        for (key, amount) in groups {
            let part = if metric.is_usage(&key) { &mut usage } else { &mut other };
            part.entry(day).or_default().insert(key, amount);
        }
    }
    let mut rows = round_days(dimension, usage);
    rows.extend(round_days(dimension, other));
    rows
}

fn round_days(dimension: CostDimension, raw: BTreeMap<Date, BTreeMap<String, Decimal>>) -> Vec<CostRow> {
    let hundred = Decimal::from(100);
    let mut rows = Vec::new();
    for (day, groups) in raw {
        let total: Decimal = groups.values().copied().sum();
        let target = (total * hundred).round();
        let mut floors: Vec<(String, Decimal, Decimal)> = groups
            .into_iter()
            .map(|(k, a)| {
                let scaled = a * hundred;
                let floor = scaled.floor();
                (k, floor, scaled - floor)
            })
            .collect();
        let mut left = target - floors.iter().map(|(_, f, _)| *f).sum::<Decimal>();
        let mut order: Vec<usize> = (0..floors.len()).collect();
        order.sort_by(|a, b| floors[*b].2.cmp(&floors[*a].2).then_with(|| floors[*a].0.cmp(&floors[*b].0)));
        for i in order {
            if left <= Decimal::ZERO {
                break;
            }
            floors[i].1 += Decimal::ONE;
            left -= Decimal::ONE;
        }
        for (key, cents, _) in floors {
            let cents = i64::try_from(cents).unwrap_or(0);
            if cents != 0 || key.is_empty() {
                rows.push(CostRow { date: day, dimension, key, amount: Money::from_scaled(cents, 2) });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn rounding_keeps_each_day_s_total() {
        let mut day = BTreeMap::new();
        for (k, a) in [("a", "0.333333"), ("b", "0.333333"), ("c", "0.333334")] {
            day.insert(k.to_owned(), a.parse::<Decimal>().unwrap());
        }
        let rows = to_cents(
            CostDimension::Service,
            CostMetric::Amortized,
            BTreeMap::from([(date!(2026 - 03 - 01), day)]),
        );
        let total: Money = rows.iter().map(|r| r.amount).sum();
        assert_eq!(total.to_string(), "1.00");
        assert!(rows.iter().all(|r| r.amount.to_string() == "0.33" || r.amount.to_string() == "0.34"));
    }

    fn settings() -> RefreshSettings {
        RefreshSettings {
            tag_key: "marqo-index".into(),
            metric: CostMetric::Amortized,
            cache_hours: 12,
            month_final_after_days: 5,
            min_budget: MIN_BUDGET,
        }
    }

    fn store_through(last: Date, estimated: &[Date]) -> CostStore {
        let rows: Vec<CostRow> = [CostDimension::Account, CostDimension::Charge]
            .into_iter()
            .flat_map(|dimension| {
                (0..400).map(move |n| CostRow {
                    date: last - Duration::days(n),
                    dimension,
                    key: "Usage".into(),
                    amount: Money::from_scaled(100, 2),
                })
            })
            .collect();
        let mut store = CostStore::from_rows(&rows).unwrap();
        store.estimated = estimated.to_vec();
        store
    }

    #[test]
    fn an_incremental_refresh_reads_the_estimated_days_and_the_months_not_final() {
        let s = settings();
        // 7 December: November ended more than 5 days ago, so only December is read again.
        let store = store_through(date!(2026 - 12 - 06), &[date!(2026 - 12 - 05), date!(2026 - 12 - 06)]);
        assert_eq!(
            refresh_window(&store, &s, datetime!(2026-12-07 06:00 UTC)),
            (date!(2026 - 12 - 01), date!(2026 - 12 - 07), false)
        );
        // 3 December: November may still change.
        let store = store_through(date!(2026 - 12 - 02), &[date!(2026 - 12 - 02)]);
        assert_eq!(refresh_window(&store, &s, datetime!(2026-12-03 06:00 UTC)).0, date!(2026 - 11 - 01));
        // Cost Explorer still estimating an older day: read from it.
        let store = store_through(date!(2026 - 12 - 20), &[date!(2026 - 11 - 28), date!(2026 - 12 - 20)]);
        assert_eq!(refresh_window(&store, &s, datetime!(2026-12-21 06:00 UTC)).0, date!(2026 - 11 - 28));
        // Another metric, or a store without charges apart: the whole window.
        let mut other = s.clone();
        other.metric = CostMetric::Unblended;
        assert!(refresh_window(&store, &other, datetime!(2026-12-21 06:00 UTC)).2);
        assert!(refresh_window(&CostStore::empty(), &s, datetime!(2026-12-21 06:00 UTC)).2);
    }

    #[test]
    fn usage_and_other_charges_are_rounded_apart() {
        let mut day = BTreeMap::new();
        for (k, a) in [
            ("Usage", "10.004"),
            ("SavingsPlanCoveredUsage", "5.004"),
            ("Tax", "0.004"),
            ("Credit", "-1.004"),
        ] {
            day.insert(k.to_owned(), a.parse::<Decimal>().unwrap());
        }
        let rows = to_cents(
            CostDimension::Charge,
            CostMetric::Amortized,
            BTreeMap::from([(date!(2026 - 03 - 01), day)]),
        );
        let usage: Money =
            rows.iter().filter(|r| CostMetric::Amortized.is_usage(&r.key)).map(|r| r.amount).sum();
        assert_eq!(usage.to_string(), "15.01", "what the usage groupings round 15.008 to");
    }

    #[test]
    fn the_window_is_thirteen_months_through_yesterday() {
        assert_eq!(window(datetime!(2026-11-25 10:00 UTC)), (date!(2025 - 10 - 01), date!(2026 - 11 - 25)));
    }
}
