//! Cost Explorer: the daily cost in the configured metric (`[costs] metric`, amortized by
//! default) grouped by the index cost-allocation tag, by linked account and by service, every page, turned into whole cents that still add up: each
//! day's amounts of one grouping are rounded so that they sum to that day's rounded total
//! (largest remainder), so breakdowns reconcile to the cent.

use std::collections::BTreeMap;

use anyhow::{Context as _, anyhow, bail};
use aws_config::SdkConfig;
use aws_sdk_costexplorer::error::DisplayErrorContext;
use aws_sdk_costexplorer::types::{
    DateInterval, Granularity, GroupDefinition, GroupDefinitionType, ResultByTime,
};
use polo_core::Money;
use polo_core::model::{CostDimension, CostMetric, CostRow};
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

/// Pulls every grouping over `[from, to)` through the Cost Explorer client of `config`: the
/// rows, and the days Cost Explorer still estimates (in any grouping).
pub async fn pull_costs(
    config: &SdkConfig,
    tag_key: &str,
    metric: CostMetric,
    from: Date,
    to: Date,
) -> anyhow::Result<(Vec<CostRow>, Vec<Date>)> {
    // Cost Explorer is a global service answered in us-east-1.
    let ce = aws_sdk_costexplorer::Client::from_conf(
        aws_sdk_costexplorer::config::Builder::from(config)
            .region(aws_config::Region::new("us-east-1"))
            .interceptor(polo_aws::SdkOutcome)
            .build(),
    );
    let mut rows = Vec::new();
    let mut estimated = std::collections::BTreeSet::new();
    for (dimension, group) in [
        (
            CostDimension::Index,
            GroupDefinition::builder().r#type(GroupDefinitionType::Tag).key(tag_key).build(),
        ),
        (
            CostDimension::Account,
            GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key("LINKED_ACCOUNT").build(),
        ),
        (
            CostDimension::Service,
            GroupDefinition::builder().r#type(GroupDefinitionType::Dimension).key("SERVICE").build(),
        ),
    ] {
        let (raw, days) = pull_grouping(&ce, (dimension, group), tag_key, metric, from, to).await?;
        rows.extend(to_cents(dimension, raw));
        estimated.extend(days);
    }
    Ok((rows, estimated.into_iter().collect()))
}

async fn pull_grouping(
    ce: &aws_sdk_costexplorer::Client,
    (dimension, group): (CostDimension, GroupDefinition),
    tag_key: &str,
    metric: CostMetric,
    from: Date,
    to: Date,
) -> anyhow::Result<(BTreeMap<Date, BTreeMap<String, Decimal>>, Vec<Date>)> {
    let period = DateInterval::builder().start(from.to_string()).end(to.to_string()).build()?;
    let mut out: BTreeMap<Date, BTreeMap<String, Decimal>> = BTreeMap::new();
    let mut estimated = Vec::new();
    let mut token: Option<String> = None;
    for page in 1.. {
        let answer = ce
            .get_cost_and_usage()
            .time_period(period.clone())
            .granularity(Granularity::Daily)
            .metrics(metric.cost_explorer_name())
            .group_by(group.clone())
            .set_next_page_token(token.take())
            .send()
            .await
            .map_err(|e| anyhow!("{}", DisplayErrorContext(&e)))
            .with_context(|| format!("GetCostAndUsage by {dimension}, page {page}"))?;
        add_results(&mut out, answer.results_by_time(), dimension, tag_key, metric)?;
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

/// The cost store after asking Cost Explorer at `now` for `metric`, or `None` when `current`
/// holds that metric and was fetched less than `cache_hours` ago (not asked again). A
/// malformed answer is an error naming the day and group; the caller keeps serving `current`.
pub async fn refresh_costs(
    source: &SdkConfig,
    tag_key: &str,
    metric: CostMetric,
    current: &polo_core::model::CostStore,
    cache_hours: u32,
    now: OffsetDateTime,
) -> anyhow::Result<Option<polo_core::model::CostStore>> {
    let fresh =
        current.fetched_at.is_some_and(|at| now - at < Duration::hours(i64::from(cache_hours)) && at <= now);
    if fresh && current.metric == metric {
        return Ok(None);
    }
    let (from, to) = window(now);
    let (rows, estimated) = pull_costs(source, tag_key, metric, from, to).await?;
    let mut store = polo_core::model::CostStore::from_rows(&rows)?;
    store.metric = metric;
    store.estimated = estimated;
    store.fetched_at = Some(now);
    Ok(Some(store))
}

/// Whole cents per day and key, each day summing to its rounded total (largest remainder).
pub fn to_cents(dimension: CostDimension, raw: BTreeMap<Date, BTreeMap<String, Decimal>>) -> Vec<CostRow> {
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
        let rows = to_cents(CostDimension::Service, BTreeMap::from([(date!(2026 - 03 - 01), day)]));
        let total: Money = rows.iter().map(|r| r.amount).sum();
        assert_eq!(total.to_string(), "1.00");
        assert!(rows.iter().all(|r| r.amount.to_string() == "0.33" || r.amount.to_string() == "0.34"));
    }

    #[test]
    fn the_window_is_thirteen_months_through_yesterday() {
        assert_eq!(window(datetime!(2026-11-25 10:00 UTC)), (date!(2025 - 10 - 01), date!(2026 - 11 - 25)));
    }
}
