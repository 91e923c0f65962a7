//! Daily costs kept for reading: one document per fleet (`costs.json` beside the snapshot),
//! each dimension a map of key to a column of whole cents per day. Only what shows costs
//! loads it; the inventory snapshot carries the few cost facts other pages need
//! ([`CostFacts`]), so a list page's cold start never parses cost rows.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use super::{CostDimension, CostMetric, CostRow};
use crate::Money;

/// An estimated day this many days older than the newest day held counts as complete
/// ([`CostStore::newest_complete_day`]): Cost Explorer's data trails usage by up to a day.
pub const COMPLETE_AFTER_DAYS: i64 = 2;

/// The shape version this build writes and reads.
pub const COST_STORE_FORMAT: u32 = 1;

/// Every day's cost of every key of every dimension, as whole cents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostStore {
    pub format: u32,
    /// Always `USD`.
    pub currency: String,
    /// The day of each column's first value; column `n` is `first_day + n` days.
    pub first_day: Date,
    /// Number of days (columns).
    pub days: u32,
    /// dimension -> key -> cents per day (`""` is the unattributed remainder of `index`).
    pub dimensions: BTreeMap<CostDimension, BTreeMap<String, Vec<i64>>>,
    /// The Cost Explorer metric of every amount (stores without it were unblended).
    #[serde(default = "CostMetric::of_older_stores")]
    pub metric: CostMetric,
    /// The days Cost Explorer still estimated when it answered (`Estimated: true`): recent
    /// days, whose amounts keep changing. Every other day is final. Sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub estimated: Vec<Date>,
    /// When Cost Explorer answered (the sync does not ask again within `costs.cache_hours`);
    /// absent for generated data.
    #[serde(with = "time::serde::rfc3339::option", default, skip_serializing_if = "Option::is_none")]
    pub fetched_at: Option<time::OffsetDateTime>,
    /// How the refreshes have gone: the last attempt, failures in a row (backed off), and the
    /// billed Cost Explorer requests made.
    #[serde(default, skip_serializing_if = "RefreshLog::is_empty")]
    pub refresh: RefreshLog,
    /// For the few indexes whose cost moved most, what Cost Explorer says they spent by
    /// usage type over the days compared: what `other` in a cost change is made of. Asked
    /// with each refresh ([`crate::cost_changes`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub usage_types: BTreeMap<String, UsageTypes>,
}

/// One key's cost by Cost Explorer usage type (`USE1-DataTransfer-Out-Bytes`), whole cents
/// per day from `first_day`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTypes {
    pub first_day: Date,
    pub days: u32,
    pub by_type: BTreeMap<String, Vec<i64>>,
}

impl UsageTypes {
    /// Each usage type's cents over `[from, to]`, `None` when the days held do not cover it.
    pub fn sums(&self, from: Date, to: Date) -> Option<BTreeMap<&str, i64>> {
        let last = self.first_day + Duration::days(i64::from(self.days) - 1);
        if from < self.first_day || to > last || from > to {
            return None;
        }
        let a = usize::try_from((from - self.first_day).whole_days()).ok()?;
        let b = usize::try_from((to - self.first_day).whole_days()).ok()? + 1;
        Some(
            self.by_type
                .iter()
                .map(|(k, s)| (k.as_str(), s.get(a..b).map_or(0, |d| d.iter().sum())))
                .collect(),
        )
    }

    /// Whether a usage type is instance-hours (EC2 bills compute under `BoxUsage`,
    /// `SpotUsage`, `DedicatedUsage` and `HostUsage`): what the fleet parts explain.
    pub fn is_compute(usage_type: &str) -> bool {
        ["BoxUsage", "SpotUsage", "DedicatedUsage", "HostUsage"].iter().any(|c| usage_type.contains(c))
    }
}

/// Cost Explorer charges this per request (each page of an answer is one).
pub const COST_EXPLORER_REQUEST_PRICE_CENTS: i64 = 1;

/// What the cost refreshes did, kept with the store they refresh.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshLog {
    /// The last attempt, whether it succeeded or not.
    #[serde(with = "time::serde::rfc3339::option", default, skip_serializing_if = "Option::is_none")]
    pub attempted_at: Option<time::OffsetDateTime>,
    /// Attempts that failed in a row since the last success (0: the last one succeeded).
    #[serde(default)]
    pub failures: u32,
    /// Why the last attempt failed (absent after a success).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The first day the last successful refresh read again (older days came from the store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_from: Option<Date>,
    /// Requests the last attempt made.
    #[serde(default)]
    pub last_requests: u32,
    /// Requests made per calendar month (`2026-12`), the last 13 months.
    #[serde(default)]
    pub requests_by_month: BTreeMap<String, u32>,
}

impl RefreshLog {
    fn is_empty(&self) -> bool {
        *self == RefreshLog::default()
    }

    /// The month key of `day`.
    pub fn month_of(day: Date) -> String {
        format!("{}-{:02}", day.year(), u8::from(day.month()))
    }

    /// Requests made in the month of `day`.
    pub fn requests_in_month(&self, day: Date) -> u32 {
        self.requests_by_month.get(&RefreshLog::month_of(day)).copied().unwrap_or(0)
    }

    /// What the requests of the month of `day` cost.
    pub fn cost_in_month(&self, day: Date) -> Money {
        Money::from_scaled(i64::from(self.requests_in_month(day)) * COST_EXPLORER_REQUEST_PRICE_CENTS, 2)
    }

    /// Counts an attempt at `now` that made `requests`; `error` is why it failed.
    pub fn record(&mut self, now: time::OffsetDateTime, requests: u32, error: Option<String>) {
        self.attempted_at = Some(now);
        self.last_requests = requests;
        let month = RefreshLog::month_of(now.date());
        *self.requests_by_month.entry(month).or_default() += requests;
        while self.requests_by_month.len() > 13 {
            self.requests_by_month.pop_first();
        }
        self.failures = if error.is_some() { self.failures.saturating_add(1) } else { 0 };
        self.last_error = error;
    }

    /// When a failed refresh may be tried again: 30 minutes after the first failure,
    /// doubling with each one after, at most 12 hours. `None` after a success.
    pub fn retry_at(&self) -> Option<time::OffsetDateTime> {
        let at = self.attempted_at?;
        (self.failures > 0).then(|| {
            let minutes = 30i64.saturating_mul(1 << self.failures.saturating_sub(1).min(5));
            at + Duration::minutes(minutes.min(12 * 60))
        })
    }
}

/// Why rows cannot become a store.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CostStoreError {
    #[error("{day} {dimension} {key:?}: {amount} is not a whole number of cents")]
    SubCent { day: Date, dimension: CostDimension, key: String, amount: Money },
    #[error("{day} {dimension} {key:?}: {amount} does not fit")]
    TooLarge { day: Date, dimension: CostDimension, key: String, amount: Money },
    #[error("the same day, dimension and key twice: {day} {dimension} {key:?}")]
    Duplicate { day: Date, dimension: CostDimension, key: String },
}

fn cents(amount: Money) -> Option<i64> {
    let scaled = amount.amount() * Decimal::from(100);
    if scaled.fract() != Decimal::ZERO {
        return None;
    }
    i64::try_from(scaled.trunc()).ok()
}

impl CostStore {
    /// A store of `rows`; days without a row are zero.
    pub fn from_rows(rows: &[CostRow]) -> Result<CostStore, CostStoreError> {
        let (Some(first), Some(last)) =
            (rows.iter().map(|r| r.date).min(), rows.iter().map(|r| r.date).max())
        else {
            return Ok(CostStore::empty());
        };
        let days = u32::try_from((last - first).whole_days() + 1).unwrap_or(u32::MAX);
        let width = usize::try_from(days).unwrap_or(0);
        let mut dimensions: BTreeMap<CostDimension, BTreeMap<String, Vec<i64>>> = BTreeMap::new();
        let mut seen: std::collections::BTreeSet<(CostDimension, &str, Date)> =
            std::collections::BTreeSet::new();
        for r in rows {
            let err_key = || (r.date, r.dimension, r.key.clone());
            if !seen.insert((r.dimension, r.key.as_str(), r.date)) {
                let (day, dimension, key) = err_key();
                return Err(CostStoreError::Duplicate { day, dimension, key });
            }
            let scaled = r.amount.amount() * Decimal::from(100);
            let value = match cents(r.amount) {
                Some(v) => v,
                None if scaled.fract() != Decimal::ZERO => {
                    let (day, dimension, key) = err_key();
                    return Err(CostStoreError::SubCent { day, dimension, key, amount: r.amount });
                }
                None => {
                    let (day, dimension, key) = err_key();
                    return Err(CostStoreError::TooLarge { day, dimension, key, amount: r.amount });
                }
            };
            let column = usize::try_from((r.date - first).whole_days()).unwrap_or(0);
            let series = dimensions
                .entry(r.dimension)
                .or_default()
                .entry(r.key.clone())
                .or_insert_with(|| vec![0; width]);
            series[column] = value;
        }
        Ok(CostStore {
            format: COST_STORE_FORMAT,
            currency: "USD".into(),
            first_day: first,
            days,
            dimensions,
            metric: CostMetric::default(),
            estimated: Vec::new(),
            fetched_at: None,
            refresh: RefreshLog::default(),
            usage_types: BTreeMap::new(),
        })
    }

    /// No cost data.
    pub fn empty() -> CostStore {
        CostStore {
            format: COST_STORE_FORMAT,
            currency: "USD".into(),
            first_day: Date::MIN,
            days: 0,
            dimensions: BTreeMap::new(),
            metric: CostMetric::default(),
            estimated: Vec::new(),
            fetched_at: None,
            refresh: RefreshLog::default(),
            usage_types: BTreeMap::new(),
        }
    }

    /// The newest day held.
    pub fn as_of(&self) -> Option<Date> {
        (self.days > 0).then(|| self.first_day + Duration::days(i64::from(self.days) - 1))
    }

    /// Whether Cost Explorer still estimated `day` (its amount may change).
    pub fn is_estimated(&self, day: Date) -> bool {
        self.estimated.binary_search(&day).is_ok()
    }

    /// The newest day whose amount is final (no longer estimated).
    pub fn newest_final_day(&self) -> Option<Date> {
        let mut day = self.as_of()?;
        while self.is_estimated(day) {
            day = day.previous_day().filter(|d| *d >= self.first_day)?;
        }
        Some(day)
    }

    /// The newest complete day: one Cost Explorer no longer estimates, or one at least
    /// [`COMPLETE_AFTER_DAYS`] older than the newest day held, whose usage has arrived even
    /// while Cost Explorer estimates the whole open month. Spikes are judged and forecasts
    /// learn on complete days; reports stay provisional until their days are final.
    pub fn newest_complete_day(&self) -> Option<Date> {
        let lagged = self.as_of()? - Duration::days(COMPLETE_AFTER_DAYS);
        let day = self.newest_final_day().map_or(lagged, |d| d.max(lagged));
        (day >= self.first_day).then_some(day)
    }

    /// How many days of `[from, to]` are estimated.
    pub fn estimated_days(&self, from: Date, to: Date) -> usize {
        self.estimated.iter().filter(|d| (from..=to).contains(*d)).count()
    }

    /// The day of column `n`.
    pub fn day(&self, n: usize) -> Date {
        self.first_day + Duration::days(i64::try_from(n).unwrap_or(0))
    }

    /// The cost of `key` in `dimension` over `[from, to]`.
    pub fn sum(&self, dimension: CostDimension, key: &str, from: Date, to: Date) -> Money {
        let Some(series) = self.dimensions.get(&dimension).and_then(|d| d.get(key)) else {
            return Money::ZERO;
        };
        Money::from_scaled(self.window(series, from, to).iter().sum(), 2)
    }

    /// Whether the store holds the bill by record type, with the other groupings usage only
    /// (stores written before kept every charge in every grouping, and no `charge`).
    pub fn charges_apart(&self) -> bool {
        self.dimensions.contains_key(&CostDimension::Charge)
    }

    /// The record types other than usage over `[from, to]` (credits, refunds, tax, support,
    /// fees): what no index, account or service line holds. Zero for a store without them.
    pub fn other_charges(&self, from: Date, to: Date) -> Money {
        let cents: i64 = self
            .dimensions
            .get(&CostDimension::Charge)
            .into_iter()
            .flatten()
            .filter(|(key, _)| !self.metric.is_usage(key))
            .map(|(_, s)| self.window(s, from, to).iter().sum::<i64>())
            .sum();
        Money::from_scaled(cents, 2)
    }

    /// The whole bill over `[from, to]`: usage (every account's) and the other charges.
    pub fn bill(&self, from: Date, to: Date) -> Money {
        self.total(CostDimension::Account, from, to) + self.other_charges(from, to)
    }

    /// The cost of every key of `dimension` over `[from, to]`.
    pub fn total(&self, dimension: CostDimension, from: Date, to: Date) -> Money {
        let cents: i64 = self
            .dimensions
            .get(&dimension)
            .into_iter()
            .flat_map(|d| d.values())
            .map(|s| self.window(s, from, to).iter().sum::<i64>())
            .sum();
        Money::from_scaled(cents, 2)
    }

    fn window<'a>(&self, series: &'a [i64], from: Date, to: Date) -> &'a [i64] {
        series.get(self.columns(from, to)).unwrap_or(&[])
    }

    /// The columns of the days `[from, to]` (clamped to the days held).
    pub fn columns(&self, from: Date, to: Date) -> std::ops::Range<usize> {
        let days = i64::from(self.days);
        let index = |d: Date| usize::try_from((d - self.first_day).whole_days().clamp(0, days)).unwrap_or(0);
        let (a, b) = (index(from), index(to + Duration::days(1)));
        if a >= b { 0..0 } else { a..b }
    }

    /// Every non-zero day as a row (for tools and tests).
    pub fn rows(&self) -> impl Iterator<Item = CostRow> + '_ {
        self.dimensions.iter().flat_map(move |(dimension, keys)| {
            keys.iter().flat_map(move |(key, series)| {
                series.iter().enumerate().filter(|(_, c)| **c != 0).map(move |(n, c)| CostRow {
                    date: self.day(n),
                    dimension: *dimension,
                    key: key.clone(),
                    amount: Money::from_scaled(*c, 2),
                })
            })
        })
    }
}

/// The cost facts inventory pages show, precomputed into the snapshot from the cost store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostFacts {
    /// The newest cost day.
    #[serde(default)]
    pub as_of: Option<Date>,
    /// The month of `as_of`, through `as_of`: the whole bill (usage and other charges).
    #[serde(default)]
    pub month_to_date: Option<Money>,
    /// Each index's cost over the 30 days ending at `as_of` (the data's day, never the
    /// index's own last day: a deleted index's old spend must not read as recent).
    #[serde(default)]
    pub index_last_30_days: BTreeMap<String, Money>,
}

impl CostFacts {
    /// The facts of `store`.
    pub fn of(store: &CostStore) -> CostFacts {
        let Some(as_of) = store.as_of() else { return CostFacts::default() };
        let month_start = as_of.replace_day(1).unwrap_or(as_of);
        let window_start = as_of - Duration::days(29);
        CostFacts {
            as_of: Some(as_of),
            month_to_date: Some(store.bill(month_start, as_of)),
            index_last_30_days: store
                .dimensions
                .get(&CostDimension::Index)
                .into_iter()
                .flat_map(|d| d.keys())
                .filter(|k| !k.is_empty())
                .map(|k| (k.clone(), store.sum(CostDimension::Index, k, window_start, as_of)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_newest_final_day_walks_back_over_estimated_days() {
        use time::macros::date;
        let row = |date| super::CostRow {
            date,
            dimension: super::CostDimension::Index,
            key: "i".into(),
            amount: crate::Money::from_scaled(100, 2),
        };
        let mut store =
            super::CostStore::from_rows(&[row(date!(2026 - 11 - 21)), row(date!(2026 - 11 - 23))]).unwrap();
        assert_eq!(store.newest_final_day(), Some(date!(2026 - 11 - 23)));
        store.estimated = vec![date!(2026 - 11 - 22), date!(2026 - 11 - 23)];
        assert_eq!(store.newest_final_day(), Some(date!(2026 - 11 - 21)));
        assert_eq!(store.estimated_days(date!(2026 - 11 - 01), date!(2026 - 11 - 22)), 1);
        assert!(store.is_estimated(date!(2026 - 11 - 23)) && !store.is_estimated(date!(2026 - 11 - 21)));
        store.estimated = vec![date!(2026 - 11 - 21), date!(2026 - 11 - 22), date!(2026 - 11 - 23)];
        assert_eq!(store.newest_final_day(), None, "every day estimated: none is final");
        assert_eq!(
            store.newest_complete_day(),
            Some(date!(2026 - 11 - 21)),
            "with the whole month estimated, days two before the newest are complete"
        );
    }

    use super::*;
    use time::macros::date;

    fn row(date: Date, dimension: CostDimension, key: &str, cents: i64) -> CostRow {
        CostRow { date, dimension, key: key.into(), amount: Money::from_scaled(cents, 2) }
    }

    #[test]
    fn rows_round_trip_through_columns_of_cents() {
        let rows = vec![
            row(date!(2026 - 03 - 01), CostDimension::Index, "idx-a", 1234),
            row(date!(2026 - 03 - 03), CostDimension::Index, "idx-a", 99),
            row(date!(2026 - 03 - 02), CostDimension::Account, "111111111111", 50_000),
        ];
        let store = CostStore::from_rows(&rows).unwrap();
        assert_eq!(store.days, 3);
        assert_eq!(store.as_of(), Some(date!(2026 - 03 - 03)));
        let mut back: Vec<CostRow> = store.rows().collect();
        back.sort_by_key(|r| (r.date, r.dimension));
        let mut want = rows.clone();
        want.sort_by_key(|r| (r.date, r.dimension));
        assert_eq!(back, want);
        assert_eq!(
            store
                .sum(CostDimension::Index, "idx-a", date!(2026 - 03 - 02), date!(2026 - 03 - 09))
                .to_string(),
            "0.99"
        );
    }

    #[test]
    fn sub_cent_amounts_and_duplicates_are_refused_by_name() {
        let mut bad = row(date!(2026 - 03 - 01), CostDimension::Service, "Amazon EC2", 1);
        bad.amount = Money::from_scaled(1, 3);
        assert!(matches!(CostStore::from_rows(&[bad]), Err(CostStoreError::SubCent { .. })));
        let a = row(date!(2026 - 03 - 01), CostDimension::Service, "EC2", 1);
        assert!(matches!(CostStore::from_rows(&[a.clone(), a]), Err(CostStoreError::Duplicate { .. })));
    }

    #[test]
    fn a_failed_refresh_backs_off_doubling_and_a_success_clears_it() {
        use time::macros::datetime;
        let mut log = RefreshLog::default();
        let t = datetime!(2026-12-07 00:00 UTC);
        log.record(t, 4, Some("throttled".into()));
        assert_eq!(log.retry_at(), Some(t + Duration::minutes(30)));
        log.record(t, 0, Some("deadline".into()));
        assert_eq!(log.retry_at(), Some(t + Duration::minutes(60)));
        for _ in 0..10 {
            log.record(t, 1, Some("throttled".into()));
        }
        assert_eq!(log.retry_at(), Some(t + Duration::hours(12)), "at most 12 hours");
        log.record(t + Duration::hours(12), 8, None);
        assert_eq!((log.retry_at(), log.failures, log.last_error.clone()), (None, 0, None));
        assert_eq!(log.requests_in_month(t.date()), 4 + 10 + 8);
        assert_eq!(log.cost_in_month(t.date()).to_string(), "0.22");
        log.record(datetime!(2027-01-01 00:00 UTC), 3, None);
        assert_eq!(log.requests_in_month(t.date()), 22, "counted per month");
    }

    #[test]
    fn facts_are_anchored_on_the_data_day() {
        let rows = vec![
            row(date!(2026 - 01 - 31), CostDimension::Account, "1", 100),
            row(date!(2026 - 02 - 01), CostDimension::Account, "1", 200),
            row(date!(2026 - 02 - 02), CostDimension::Account, "1", 300),
            row(date!(2026 - 01 - 01), CostDimension::Index, "old", 700),
            row(date!(2026 - 02 - 02), CostDimension::Index, "new", 300),
        ];
        let facts = CostFacts::of(&CostStore::from_rows(&rows).unwrap());
        assert_eq!(facts.month_to_date.unwrap().to_string(), "5.00");
        assert_eq!(facts.index_last_30_days["old"].to_string(), "0.00", "a month-old spend is not recent");
        assert_eq!(facts.index_last_30_days["new"].to_string(), "3.00");
    }
}
