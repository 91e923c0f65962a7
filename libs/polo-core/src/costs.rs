//! What each index, customer, account, service and charge costs, from the cost store: this
//! month so far, the previous month, the trailing 30 days and a month-end forecast. Usage is
//! attributed to index, customer, account and service; what no key accounts for is the
//! unattributed row (untagged usage only), and the charges other than usage (credits,
//! refunds, tax, support, fees) are the other-charges row. For every dimension the items,
//! the unattributed row and the other charges make the total to the cent, and the total is
//! the whole bill, the same for all five.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, Duration};

use crate::Money;
use crate::listing::{Column, Direction, Sort};
use crate::model::{CostDimension, CostStore, Fleet, MONTHLY_RECORD_TYPES};

/// The breakdowns of `/costs/{dimension}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Breakdown {
    Index,
    /// Derived: each index's cost goes to its registry customer.
    Customer,
    Account,
    Service,
    /// The bill by Cost Explorer record type: usage and every other charge.
    Charge,
}

impl Breakdown {
    /// Every breakdown, in page order.
    pub const ALL: [Breakdown; 5] =
        [Breakdown::Index, Breakdown::Customer, Breakdown::Account, Breakdown::Service, Breakdown::Charge];

    /// `index`, `customer`, `account`, `service`, `charge`.
    pub fn as_str(self) -> &'static str {
        match self {
            Breakdown::Index => "index",
            Breakdown::Customer => "customer",
            Breakdown::Account => "account",
            Breakdown::Service => "service",
            Breakdown::Charge => "charge",
        }
    }

    /// The cost store dimension it is read from (customers: from the index tag).
    pub fn source(self) -> CostDimension {
        match self {
            Breakdown::Index | Breakdown::Customer => CostDimension::Index,
            Breakdown::Account => CostDimension::Account,
            Breakdown::Service => CostDimension::Service,
            Breakdown::Charge => CostDimension::Charge,
        }
    }

    /// The breakdown named `text`.
    pub fn from_param(text: &str) -> Option<Breakdown> {
        Breakdown::ALL.into_iter().find(|b| b.as_str() == text)
    }
}

/// The periods of a breakdown on one local date of the report time zone: this month is
/// the month of `today` there, and its cost days run through `as_of`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Periods {
    /// The newest cost day counted: the newest in the data, but never after today.
    pub as_of: Date,
    pub month_start: Date,
    pub month_end: Date,
    pub previous_month_start: Date,
    pub previous_month_end: Date,
    pub trailing_start: Date,
    /// Days of the month after the last one counted, which the forecast fills in.
    pub days_left: i64,
    /// Days of this month counted so far that Cost Explorer still estimates: the month to
    /// date includes them, and they may change.
    pub estimated_days: usize,
    /// The newest complete day (at most `as_of`, [`CostStore::newest_complete_day`]): the
    /// forecast learns from the days through it.
    pub final_through: Date,
}

impl Periods {
    /// The periods on local date `today` with cost data through `newest`.
    pub fn at(today: Date, newest: Date) -> Periods {
        let as_of = newest.min(today);
        let month_start = today.replace_day(1).unwrap_or(today);
        let month_end = month_start + Duration::days(i64::from(today.month().length(today.year())) - 1);
        let previous_month_end = month_start - Duration::days(1);
        let previous_month_start = previous_month_end.replace_day(1).unwrap_or(previous_month_end);
        let counted_through = as_of.max(previous_month_end);
        Periods {
            as_of,
            month_start,
            month_end,
            previous_month_start,
            previous_month_end,
            trailing_start: as_of - Duration::days(29),
            days_left: (month_end - counted_through).whole_days(),
            estimated_days: 0,
            final_through: as_of,
        }
    }

    /// The periods of `store` on local date `today` (`None`: no cost data).
    pub fn of(store: &CostStore, today: Date) -> Option<Periods> {
        let mut p = Periods::at(today, store.as_of()?);
        p.estimated_days = store.estimated_days(p.month_start, p.as_of);
        p.final_through = store.newest_complete_day().map_or(p.as_of, |d| d.min(p.as_of));
        Some(p)
    }

    /// Days of this month with cost data (0 before the first day's data arrives).
    pub fn days_counted(&self) -> i64 {
        (self.as_of - self.month_start).whole_days().max(-1) + 1
    }

    /// The same days of the previous month (its first `days_counted`, at most all of it):
    /// `None` when no day of this month is counted yet.
    pub fn previous_month_to_date(&self) -> Option<(Date, Date)> {
        let days = self.days_counted();
        (days > 0).then(|| {
            let end = self.previous_month_start + Duration::days(days - 1);
            (self.previous_month_start, end.min(self.previous_month_end))
        })
    }
}

/// One row of a breakdown: exact cents, shown as money.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CostLine {
    pub key: String,
    pub name: String,
    pub month_to_date: Money,
    pub previous_month: Money,
    pub trailing_30d: Money,
    /// The month's final days, plus each day after them to the month's end as the last 7
    /// final days' mean shaped by weekday (usage); the charges booked so far plus the
    /// monthly ones not booked yet (other charges).
    pub forecast: Money,
}

/// Cents of one series over the periods.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Cents {
    month: i64,
    previous: i64,
    trailing: i64,
    forecast: i64,
}

impl std::ops::AddAssign for Cents {
    fn add_assign(&mut self, o: Cents) {
        self.month += o.month;
        self.previous += o.previous;
        self.trailing += o.trailing;
        self.forecast += o.forecast;
    }
}

/// The columns of each period, worked out once per breakdown.
struct Windows {
    month: std::ops::Range<usize>,
    previous: std::ops::Range<usize>,
    trailing: std::ops::Range<usize>,
    forecast: Forecast,
}

impl Windows {
    fn of(store: &CostStore, p: &Periods) -> Windows {
        Windows {
            month: store.columns(p.month_start, p.as_of),
            previous: store.columns(p.previous_month_start, p.previous_month_end),
            trailing: store.columns(p.trailing_start, p.as_of),
            forecast: Forecast::new(store, p.final_through, p.as_of, p.month_end),
        }
    }
}

fn sum(series: &[i64], r: &std::ops::Range<usize>) -> i64 {
    series.get(r.clone()).map_or(0, |s| s.iter().sum::<i64>())
}

/// Usage: month to date, and the weekday-aware forecast.
fn usage_cents(series: &[i64], w: &Windows) -> Cents {
    Cents {
        month: sum(series, &w.month),
        previous: sum(series, &w.previous),
        trailing: sum(series, &w.trailing),
        forecast: w.forecast.month_end(series),
    }
}

/// Days of a month a charge must be booked on to be forecast like usage, day by day (as the
/// amortized metric books a Savings Plan's unused commitment).
const DAILY_CHARGE_DAYS: usize = 20;

/// A charge other than usage of record type `key`. One booked (nearly) every day last month
/// is forecast like usage; any other is counted as booked, never extrapolated, and a monthly
/// one (support, tax, recurring fees) not booked yet this month is expected at last month's
/// amount.
fn charge_cents(key: &str, series: &[i64], w: &Windows) -> Cents {
    let previous_days = series.get(w.previous.clone()).map_or(0, |s| s.iter().filter(|c| **c != 0).count());
    if previous_days >= DAILY_CHARGE_DAYS {
        return usage_cents(series, w);
    }
    let month = sum(series, &w.month);
    let previous = sum(series, &w.previous);
    let expected = if month == 0 && MONTHLY_RECORD_TYPES.contains(&key) { previous } else { 0 };
    Cents { month, previous, trailing: sum(series, &w.trailing), forecast: month + expected }
}

/// The month-end forecast of a series, from the days Cost Explorer no longer estimates: the
/// month's final days as they are, and each later day of the month as the mean of the last 7
/// final days shaped by its weekday's share of the last 28 (a day still estimated counts at
/// least what it already holds). Whole cents, rounded half away from zero per series.
#[derive(Clone, Debug)]
pub struct Forecast {
    /// The month's final days.
    month_final: std::ops::Range<usize>,
    /// The 7 and 28 final days the forecast learns from.
    last7: std::ops::Range<usize>,
    last28: std::ops::Range<usize>,
    /// The weekday (Monday = 0) of each of `last28`'s columns.
    last28_weekdays: Vec<usize>,
    /// Each day to forecast: its weekday, and its column while Cost Explorer still estimates it.
    ahead: Vec<(usize, Option<usize>)>,
}

fn weekday(d: Date) -> usize {
    usize::from(d.weekday().number_days_from_monday())
}

impl Forecast {
    /// The forecast of the month ending `month_end`, with final days through `final_through`
    /// and estimated ones through `as_of`.
    pub fn new(store: &CostStore, final_through: Date, as_of: Date, month_end: Date) -> Forecast {
        let month_start = month_end.replace_day(1).unwrap_or(month_end);
        let last28 = store.columns(final_through - Duration::days(27), final_through);
        let mut ahead = Vec::new();
        let mut day = final_through.max(month_start - Duration::days(1));
        while day < month_end {
            day = day.next_day().unwrap_or(month_end);
            let held = (day <= as_of).then(|| store.columns(day, day).start);
            ahead.push((weekday(day), held));
        }
        Forecast {
            month_final: store.columns(month_start, final_through),
            last7: store.columns(final_through - Duration::days(6), final_through),
            last28_weekdays: last28.clone().map(|n| weekday(store.day(n))).collect(),
            last28,
            ahead,
        }
    }

    /// The forecast month total of `series`, in cents.
    pub fn month_end(&self, series: &[i64]) -> i64 {
        let last7 = i128::from(sum(series, &self.last7));
        // Each weekday's weight over the last four weeks; without four whole weeks, or with
        // nothing spent in them, every weekday weighs the same.
        let mut weights = [1i128; 7];
        let mut denominator = 7i128;
        if let Some(days) = series.get(self.last28.clone()).filter(|d| d.len() == 28) {
            let total: i128 = days.iter().map(|c| i128::from(*c)).sum();
            if total > 0 && days.iter().all(|c| *c >= 0) {
                weights = [0; 7];
                for (c, w) in days.iter().zip(&self.last28_weekdays) {
                    weights[*w] += i128::from(*c);
                }
                denominator = total;
            }
        }
        let ahead: i128 = self
            .ahead
            .iter()
            .map(|(w, held)| {
                let predicted = last7 * weights[*w];
                // A day still estimated keeps at least what it holds (its usage still arriving).
                match held.and_then(|n| series.get(n)).map(|c| i128::from(*c) * denominator) {
                    Some(held) if held.abs() > predicted.abs() => held,
                    _ => predicted,
                }
            })
            .sum();
        i64::try_from(rounded_div(ahead, denominator)).unwrap_or(0) + sum(series, &self.month_final)
    }

    /// Today's simpler method, kept for the backtest: the month through `as_of` plus the
    /// mean of its last 7 days for each day left.
    pub fn flat(store: &CostStore, series: &[i64], as_of: Date, month_end: Date) -> i64 {
        let month_start = month_end.replace_day(1).unwrap_or(month_end);
        let month = sum(series, &store.columns(month_start, as_of));
        let last7 = i128::from(sum(series, &store.columns(as_of - Duration::days(6), as_of)));
        let days_left = i128::from((month_end - as_of.max(month_start - Duration::days(1))).whole_days());
        month + i64::try_from(rounded_div(last7 * days_left, 7)).unwrap_or(0)
    }
}

/// `n / d` rounded half away from zero (`d` > 0).
fn rounded_div(n: i128, d: i128) -> i128 {
    (2 * n + n.signum() * d) / (2 * d)
}

fn line(key: &str, name: &str, c: Cents) -> CostLine {
    CostLine {
        key: key.to_owned(),
        name: name.to_owned(),
        month_to_date: Money::from_scaled(c.month, 2),
        previous_month: Money::from_scaled(c.previous, 2),
        trailing_30d: Money::from_scaled(c.trailing, 2),
        forecast: Money::from_scaled(c.forecast, 2),
    }
}

/// A whole breakdown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CostBreakdown {
    /// The Cost Explorer metric of every amount (the store's).
    pub metric: crate::model::CostMetric,
    pub periods: Option<Periods>,
    pub items: Vec<CostLine>,
    /// Usage no item accounts for (no index tag, or a tag naming no known index); always
    /// present, zero where a dimension covers all usage. Never a credit or a fee.
    pub unattributed: CostLine,
    /// The charges other than usage (credits, refunds, tax, support, fees), which no index,
    /// account or service holds; zero in the charge breakdown, whose items are every record
    /// type.
    pub other_charges: CostLine,
    /// Items plus unattributed plus other charges: the whole bill.
    pub sum: CostLine,
}

/// The breakdown of `store` by `dimension` on local date `today`; names and the index ->
/// customer mapping come from `fleet`.
pub fn breakdown(store: &CostStore, fleet: &Fleet, dimension: Breakdown, today: Date) -> CostBreakdown {
    let Some(p) = Periods::of(store, today) else {
        return CostBreakdown {
            metric: store.metric,
            periods: None,
            items: Vec::new(),
            unattributed: line("", "Unattributed", Cents::default()),
            other_charges: line("", "Other charges", Cents::default()),
            sum: line("", "Total", Cents::default()),
        };
    };
    let source = dimension.source();
    let account_names: BTreeMap<&str, &str> =
        fleet.accounts().iter().map(|a| (a.id.as_str(), a.name.as_str())).collect();
    let windows = Windows::of(store, &p);
    let mut items: BTreeMap<String, (String, Cents)> = BTreeMap::new();
    let mut unattributed = Cents::default();
    let mut other = Cents::default();
    for (key, series) in store.dimensions.get(&source).into_iter().flatten() {
        let c = if source == CostDimension::Charge && !store.metric.is_usage(key) {
            charge_cents(key, series, &windows)
        } else {
            usage_cents(series, &windows)
        };
        let target = match dimension {
            Breakdown::Index => fleet.index(key).map(|x| (key.clone(), x.name.clone())),
            Breakdown::Customer => fleet.index(key).map(|x| (x.customer.clone(), x.customer.clone())),
            Breakdown::Account => Some((
                key.clone(),
                account_names.get(key.as_str()).map_or_else(|| key.clone(), |n| (*n).to_owned()),
            )),
            Breakdown::Service => Some((key.clone(), key.clone())),
            Breakdown::Charge => Some((key.clone(), store.metric.record_type_name(key).to_owned())),
        };
        match target.filter(|(k, _)| !k.is_empty()) {
            Some((k, name)) => items.entry(k).or_insert_with(|| (name, Cents::default())).1 += c,
            None => unattributed += c,
        }
    }
    if dimension != Breakdown::Charge {
        for (key, series) in store.dimensions.get(&CostDimension::Charge).into_iter().flatten() {
            if !store.metric.is_usage(key) {
                other += charge_cents(key, series, &windows);
            }
        }
    }
    let mut total = unattributed;
    total += other;
    let items: Vec<CostLine> = items
        .into_iter()
        .map(|(k, (name, c))| {
            total += c;
            line(&k, &name, c)
        })
        .collect();
    CostBreakdown {
        metric: store.metric,
        periods: Some(p),
        items,
        unattributed: line("", "Unattributed", unattributed),
        other_charges: line("", "Other charges", other),
        sum: line("", "Total", total),
    }
}

/// The columns of a cost table, in JSON order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CostColumn {
    Key,
    Name,
    MonthToDate,
    PreviousMonth,
    Trailing30d,
    Forecast,
}

impl Column for CostColumn {
    const ALL: &'static [Self] = &[
        CostColumn::Key,
        CostColumn::Name,
        CostColumn::MonthToDate,
        CostColumn::PreviousMonth,
        CostColumn::Trailing30d,
        CostColumn::Forecast,
    ];

    fn name(self) -> &'static str {
        match self {
            CostColumn::Key => "key",
            CostColumn::Name => "name",
            CostColumn::MonthToDate => "month_to_date",
            CostColumn::PreviousMonth => "previous_month",
            CostColumn::Trailing30d => "trailing_30d",
            CostColumn::Forecast => "forecast",
        }
    }
}

/// The lines matching every free-text term (key or name), sorted (default: most spent this
/// month first, then key).
pub fn list_lines<'a>(
    lines: &'a [CostLine],
    terms: &[String],
    sort: Option<Sort<CostColumn>>,
) -> Vec<&'a CostLine> {
    let mut rows: Vec<&CostLine> = lines
        .iter()
        .filter(|l| {
            let hay = format!("{} {}", l.key, l.name).to_lowercase();
            terms.iter().all(|t| hay.contains(t.as_str()))
        })
        .collect();
    let sort = sort.unwrap_or(Sort { column: CostColumn::MonthToDate, direction: Direction::Descending });
    rows.sort_by(|a, b| {
        let ord = match sort.column {
            CostColumn::Key => a.key.cmp(&b.key),
            CostColumn::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            CostColumn::MonthToDate => a.month_to_date.cmp(&b.month_to_date),
            CostColumn::PreviousMonth => a.previous_month.cmp(&b.previous_month),
            CostColumn::Trailing30d => a.trailing_30d.cmp(&b.trailing_30d),
            CostColumn::Forecast => a.forecast.cmp(&b.forecast),
        };
        let ord = if sort.direction == Direction::Descending { ord.reverse() } else { ord };
        if ord == Ordering::Equal { a.key.cmp(&b.key) } else { ord }
    });
    rows
}

/// One day of one key's series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DailyCost {
    pub date: Date,
    pub amount: Money,
    /// Cost Explorer still estimates the day: its amount may change.
    pub estimated: bool,
}

/// The daily costs of `key` in `dimension` (customers: the sum of their indexes), every
/// day of the store; `None` for a key the breakdown does not have.
pub fn daily(store: &CostStore, fleet: &Fleet, dimension: Breakdown, key: &str) -> Option<Vec<DailyCost>> {
    let width = usize::try_from(store.days).unwrap_or(0);
    let mut cents = vec![0i64; width];
    let mut found = false;
    let mut add = |series: &[i64]| {
        found = true;
        for (total, c) in cents.iter_mut().zip(series) {
            *total += c;
        }
    };
    if dimension == Breakdown::Customer {
        for (k, series) in store.dimensions.get(&CostDimension::Index).into_iter().flatten() {
            if fleet.index(k).is_some_and(|x| x.customer == key) {
                add(series);
            }
        }
    } else {
        let source = dimension.source();
        if dimension == Breakdown::Index && fleet.index(key).is_none() {
            return None;
        }
        if let Some(series) = store.dimensions.get(&source).and_then(|d| d.get(key)) {
            add(series);
        }
    }
    found.then(|| {
        cents
            .iter()
            .enumerate()
            .map(|(n, c)| {
                let date = store.day(n);
                DailyCost { date, amount: Money::from_scaled(*c, 2), estimated: store.is_estimated(date) }
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CostRow;
    use crate::sample::{Scale, generate_with_costs};
    use time::macros::{date, datetime};

    #[test]
    fn every_breakdown_reconciles_to_the_cent_and_to_the_same_total() {
        let (everything, store) = generate_with_costs(42, Scale::Small, datetime!(2026-11-24 12:00 UTC));
        let fleet = Fleet::new(everything);
        let today = date!(2026 - 11 - 24);
        let sums: Vec<CostLine> = Breakdown::ALL
            .into_iter()
            .map(|d| {
                let b = breakdown(&store, &fleet, d, today);
                let add = |f: fn(&CostLine) -> Money| {
                    b.items.iter().map(f).sum::<Money>() + f(&b.unattributed) + f(&b.other_charges)
                };
                assert_eq!(add(|l| l.month_to_date), b.sum.month_to_date, "{d:?}");
                assert_eq!(add(|l| l.previous_month), b.sum.previous_month, "{d:?}");
                assert_eq!(add(|l| l.trailing_30d), b.sum.trailing_30d, "{d:?}");
                assert_eq!(add(|l| l.forecast), b.sum.forecast, "{d:?}");
                b.sum
            })
            .collect();
        for s in &sums[1..] {
            assert_eq!(
                (s.month_to_date, s.previous_month, s.trailing_30d),
                (sums[0].month_to_date, sums[0].previous_month, sums[0].trailing_30d)
            );
        }
        let index = breakdown(&store, &fleet, Breakdown::Index, today);
        assert!(index.unattributed.month_to_date > Money::ZERO, "untagged spend and orphan tags are shown");
    }

    proptest::proptest! {
        /// For any cost rows, any mix of known and unknown index keys: every breakdown's
        /// rows plus its unattributed row make its total, to the cent, in every period.
        #[test]
        fn any_cost_rows_reconcile_to_the_cent(
            days in 1u32..70,
            start in 0i64..800,
            cells in proptest::collection::vec((0usize..4, 0usize..8, 0u32..70, -500i64..2_000_000), 1..300),
            today_offset in 0i64..80,
        ) {
            let (everything, _) = generate_with_costs(3, Scale::Small, datetime!(2026-11-24 12:00 UTC));
            let known: Vec<String> = everything.indexes.iter().take(4).map(|x| x.index_id.clone()).collect();
            let fleet = Fleet::new(everything);
            let first = date!(2024 - 01 - 01) + Duration::days(start);
            let dims = [CostDimension::Index, CostDimension::Account, CostDimension::Service, CostDimension::Charge];
            let record_types = ["Usage", "DiscountedUsage", "Credit", "Refund", "Tax", "Support", "RIFee", "Fee"];
            let mut seen = std::collections::BTreeSet::new();
            let rows: Vec<CostRow> = cells
                .into_iter()
                .filter(|(_, _, day, _)| *day < days)
                .filter_map(|(d, k, day, cents)| {
                    let key = match (d, k) {
                        (0, k) if k < known.len() => known[k].clone(),
                        (0, 4) => String::new(),
                        (3, k) => record_types[k].to_owned(),
                        (_, k) => format!("k{k}"),
                    };
                    seen.insert((d, key.clone(), day)).then(|| CostRow {
                        date: first + Duration::days(i64::from(day)),
                        dimension: dims[d],
                        key,
                        amount: Money::from_scaled(cents, 2),
                    })
                })
                .collect();
            let store = CostStore::from_rows(&rows).unwrap();
            let today = first + Duration::days(today_offset);
            for d in Breakdown::ALL {
                let b = breakdown(&store, &fleet, d, today);
                let add = |f: fn(&CostLine) -> Money| b.items.iter().map(f).sum::<Money>() + f(&b.unattributed) + f(&b.other_charges);
                proptest::prop_assert_eq!(add(|l| l.month_to_date), b.sum.month_to_date);
                proptest::prop_assert_eq!(add(|l| l.previous_month), b.sum.previous_month);
                proptest::prop_assert_eq!(add(|l| l.trailing_30d), b.sum.trailing_30d);
                proptest::prop_assert_eq!(add(|l| l.forecast), b.sum.forecast);
            }
        }

        /// Month to date and the previous month follow the calendar of the report zone across
        /// every month end, whatever day the data reaches.
        #[test]
        fn periods_hold_for_any_day(offset in 0i64..3_000, lag in -2i64..40) {
            let today = date!(2020 - 01 - 01) + Duration::days(offset);
            let p = Periods::at(today, today - Duration::days(lag));
            proptest::prop_assert!(p.as_of <= today);
            proptest::prop_assert_eq!((p.month_start.year(), p.month_start.month(), p.month_start.day()), (today.year(), today.month(), 1));
            proptest::prop_assert_eq!(p.month_end.month(), today.month());
            proptest::prop_assert_ne!((p.month_end + Duration::days(1)).month(), today.month());
            proptest::prop_assert_eq!(p.previous_month_end + Duration::days(1), p.month_start);
            proptest::prop_assert_eq!(p.previous_month_start.day(), 1);
            proptest::prop_assert_eq!(p.previous_month_start.month(), p.previous_month_end.month());
            // Counted days plus the days the forecast fills make the whole month.
            proptest::prop_assert_eq!(p.days_counted() + p.days_left, i64::from(today.month().length(today.year())));
        }

        /// Around month ends that fall near DST changes in New York (1 November 2026, with
        /// the clocks going back that night) and Berlin (29 March and 25 October 2026), the
        /// month to date at any minute is the cost days of the local month through the local
        /// day, and never a day of another month.
        #[test]
        fn month_to_date_follows_the_local_month_across_dst(
            zone in proptest::sample::select(vec!["America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]),
            around in proptest::sample::select(vec![datetime!(2026-11-01 00:00 UTC), datetime!(2026-04-01 00:00 UTC), datetime!(2026-10-31 12:00 UTC), datetime!(2026-03-01 00:00 UTC)]),
            minutes in -4_320i64..4_320,
        ) {
            let zone = crate::calendar::ReportZone::parse(zone).unwrap();
            let now = around + Duration::minutes(minutes);
            let today = zone.today(now);
            // The local day holds `now`, and lasts 23, 24 or 25 hours.
            let (start, end) = (zone.start_of(today), zone.start_of(today + Duration::days(1)));
            proptest::prop_assert!(start <= now && now < end);
            proptest::prop_assert!([23, 24, 25].contains(&(end - start).whole_hours()));
            // One cent a day from December 2025 to 2026's end: month to date counts the local month's days.
            let first = date!(2025 - 12 - 01);
            let rows: Vec<CostRow> = (0..400)
                .map(|n| CostRow {
                    date: first + Duration::days(n),
                    dimension: CostDimension::Account,
                    key: "a".into(),
                    amount: Money::from_scaled(1, 2),
                })
                .collect();
            let store = CostStore::from_rows(&rows).unwrap();
            let (everything, _) = generate_with_costs(3, Scale::Small, datetime!(2026-11-24 12:00 UTC));
            let b = breakdown(&store, &Fleet::new(everything), Breakdown::Account, today);
            proptest::prop_assert_eq!(b.sum.month_to_date, Money::from_scaled(i64::from(today.day()), 2));
            let previous = today.replace_day(1).unwrap() - Duration::days(1);
            proptest::prop_assert_eq!(b.sum.previous_month, Money::from_scaled(i64::from(previous.day()), 2));
        }
    }

    fn store_of(rows: &[(Date, CostDimension, &str, i64)]) -> CostStore {
        let rows: Vec<CostRow> = rows
            .iter()
            .map(|(date, dimension, key, cents)| CostRow {
                date: *date,
                dimension: *dimension,
                key: (*key).to_owned(),
                amount: Money::from_scaled(*cents, 2),
            })
            .collect();
        CostStore::from_rows(&rows).unwrap()
    }

    fn empty_fleet() -> Fleet {
        Fleet::new(crate::model::Everything {
            generated_at: datetime!(2026-11-24 12:00 UTC),
            price_table_version: String::new(),
            accounts: Vec::new(),
            instances: Vec::new(),
            indexes: Vec::new(),
            cost_facts: crate::model::CostFacts::default(),
            history: Vec::new(),
            findings: Vec::new(),
        })
    }

    #[test]
    fn the_forecast_gives_each_remaining_day_its_weekday_s_share() {
        // Weekdays cost 10.00, weekends 4.00, for eight weeks through Tuesday 17 November.
        let first = date!(2026 - 09 - 23);
        let rows: Vec<(Date, CostDimension, &str, i64)> = (0..56)
            .map(|n| {
                let d = first + Duration::days(n);
                let weekend = matches!(d.weekday(), time::Weekday::Saturday | time::Weekday::Sunday);
                (d, CostDimension::Account, "a", if weekend { 400 } else { 1000 })
            })
            .collect();
        let store = store_of(&rows);
        let b = breakdown(&store, &empty_fleet(), Breakdown::Account, date!(2026 - 11 - 18));
        // November: 21 weekdays and 9 weekend days.
        assert_eq!(b.sum.forecast, Money::from_scaled(21 * 1000 + 9 * 400, 2));
        let flat = Forecast::flat(
            &store,
            &store.dimensions[&CostDimension::Account]["a"],
            date!(2026 - 11 - 17),
            date!(2026 - 11 - 30),
        );
        assert_ne!(flat, 21 * 1000 + 9 * 400, "the mean of the last 7 days misses the 4 weekend days left");
    }

    #[test]
    fn the_forecast_learns_from_final_days_and_keeps_what_an_estimated_day_holds() {
        let first = date!(2026 - 10 - 01);
        let mut rows: Vec<(Date, CostDimension, &str, i64)> =
            (0..30).map(|n| (first + Duration::days(n), CostDimension::Account, "a", 1000)).collect();
        // The newest two days are partial, and estimated.
        rows.push((date!(2026 - 10 - 31), CostDimension::Account, "a", 200));
        rows.push((date!(2026 - 11 - 01), CostDimension::Account, "a", 1500));
        let mut store = store_of(&rows);
        store.estimated = vec![date!(2026 - 10 - 31), date!(2026 - 11 - 01)];
        let b = breakdown(&store, &empty_fleet(), Breakdown::Account, date!(2026 - 11 - 02));
        let p = b.periods.unwrap();
        assert_eq!((p.final_through, p.estimated_days), (date!(2026 - 10 - 30), 1));
        // 1 November holds 15.00 (over the 10.00 a day learnt): it counts 15.00; the 29 days
        // after it 10.00 each.
        assert_eq!(b.sum.forecast, Money::from_scaled(1500 + 29 * 1000, 2));
    }

    #[test]
    fn credits_and_fees_are_other_charges_and_unattributed_is_untagged_usage_only() {
        let d = date!(2026 - 11 - 02);
        let store = store_of(&[
            (d, CostDimension::Index, "", 3000),
            (d, CostDimension::Account, "111", 3000),
            (d, CostDimension::Service, "EC2", 3000),
            (d, CostDimension::Charge, "Usage", 3000),
            (d, CostDimension::Charge, "Credit", -5000),
            (d, CostDimension::Charge, "Tax", 700),
        ]);
        for dimension in Breakdown::ALL {
            let b = breakdown(&store, &empty_fleet(), dimension, d);
            assert_eq!(b.sum.month_to_date, Money::from_scaled(3000 - 5000 + 700, 2), "{dimension:?}");
            assert!(b.unattributed.month_to_date >= Money::ZERO, "{dimension:?}");
            let other = if dimension == Breakdown::Charge { 0 } else { -4300 };
            assert_eq!(b.other_charges.month_to_date, Money::from_scaled(other, 2), "{dimension:?}");
        }
        let charges = breakdown(&store, &empty_fleet(), Breakdown::Charge, d);
        let names: Vec<&str> = charges.items.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["Credit", "Tax", "Usage"]);
        assert_eq!(store.bill(d, d), Money::from_scaled(-1300, 2));
    }

    #[test]
    fn a_monthly_charge_not_booked_yet_is_forecast_at_last_month_s_amount() {
        let store = store_of(&[
            (date!(2026 - 10 - 01), CostDimension::Charge, "Support", 10_000),
            (date!(2026 - 10 - 01), CostDimension::Charge, "Credit", -2_000),
            (date!(2026 - 11 - 01), CostDimension::Charge, "Credit", -500),
            (date!(2026 - 11 - 03), CostDimension::Account, "a", 0),
        ]);
        let b = breakdown(&store, &empty_fleet(), Breakdown::Charge, date!(2026 - 11 - 03));
        let forecast: BTreeMap<&str, Money> = b.items.iter().map(|l| (l.key.as_str(), l.forecast)).collect();
        assert_eq!(forecast["Support"], Money::from_scaled(10_000, 2), "support comes every month");
        assert_eq!(forecast["Credit"], Money::from_scaled(-500, 2), "a credit is never extrapolated");
    }

    #[test]
    fn periods_follow_the_calendar() {
        let p = Periods::at(date!(2024 - 03 - 01), date!(2024 - 03 - 01));
        assert_eq!(
            (p.previous_month_start, p.previous_month_end),
            (date!(2024 - 02 - 01), date!(2024 - 02 - 29))
        );
        assert_eq!(p.days_left, 30);
        let p = Periods::at(date!(2026 - 02 - 28), date!(2026 - 02 - 28));
        assert_eq!(p.days_left, 0);
        assert_eq!(p.trailing_start, date!(2026 - 01 - 30));
    }

    #[test]
    fn a_month_without_data_yet_counts_no_day_and_forecasts_all_of_them() {
        let p = Periods::at(date!(2026 - 12 - 01), date!(2026 - 11 - 30));
        assert_eq!(p.as_of, date!(2026 - 11 - 30));
        assert_eq!((p.days_counted(), p.days_left), (0, 31));
        assert_eq!(p.previous_month_to_date(), None);
        let p = Periods::at(date!(2026 - 03 - 31), date!(2026 - 03 - 31));
        assert_eq!(p.previous_month_to_date(), Some((date!(2026 - 02 - 01), date!(2026 - 02 - 28))));
    }

    #[test]
    fn cost_days_after_the_local_today_are_not_counted_yet() {
        // 19:00 on 30 November in Los Angeles is 03:00 on 1 December in UTC, when Cost
        // Explorer already has a (partial) 1 December.
        let p = Periods::at(date!(2026 - 11 - 30), date!(2026 - 12 - 01));
        assert_eq!((p.as_of, p.month_start, p.days_left), (date!(2026 - 11 - 30), date!(2026 - 11 - 01), 0));
    }
}
