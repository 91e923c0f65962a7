//! The fleet at a glance: counts by kind, account, region and state, run-rates, month to
//! date, and how fresh each account's data is.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use time::OffsetDateTime;

use crate::Money;
use crate::model::{AccountSync, Fleet, Index, IndexStatus, Instance, InstanceState};
use crate::pricing::PriceTable;

/// Counts and run-rate of one account or region.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub key: String,
    pub instances: usize,
    pub running: usize,
    pub indexes: usize,
    /// Per hour, exact.
    pub hourly_cost: Money,
    /// Billed instances the price table cannot price.
    pub unpriced: usize,
}

/// Month-to-date cost from Cost Explorer rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MonthToDate {
    pub amount: Money,
    /// The newest day with cost rows.
    pub as_of: time::Date,
}

/// How fresh one account's data is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Freshness {
    pub account: String,
    pub account_id: String,
    pub kind: String,
    /// The oldest successful pull of its inventory documents.
    #[serde(with = "time::serde::rfc3339::option")]
    pub synced_at: Option<OffsetDateTime>,
    pub stale: bool,
    /// `resource/region: error` of each failed pull.
    pub errors: Vec<String>,
}

/// Everything the `/` page shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FleetSummary {
    #[serde(with = "time::serde::rfc3339")]
    pub generated_at: OffsetDateTime,
    /// Counts, groups and run-rate: of the snapshot alone.
    #[serde(flatten)]
    pub counts: FleetCounts,
    pub monthly_cost: Money,
    /// Fleet drift a month (`crate::drift`): what runs beyond what the registries ask for
    /// (waste), and what they ask for and does not run (negative), as the `fleet-*`
    /// findings price it.
    pub drift_waste: Money,
    pub drift_short: Money,
    pub price_table_version: String,
    pub month_to_date: Option<MonthToDate>,
    pub freshness: Vec<Freshness>,
}

/// What `/` counts of one snapshot at one price table: everything of [`FleetSummary`] that
/// does not depend on the hour or the findings. Counted once per snapshot ([`count`]) however
/// many pages ask.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetCounts {
    pub instances: usize,
    pub running: usize,
    pub indexes: usize,
    #[serde(deserialize_with = "states")]
    pub by_state: BTreeMap<&'static str, usize>,
    #[serde(deserialize_with = "statuses")]
    pub by_status: BTreeMap<&'static str, usize>,
    pub by_account: Vec<GroupSummary>,
    pub by_region: Vec<GroupSummary>,
    pub hourly_cost: Money,
    pub unpriced: usize,
}

/// Counts keyed by the names of `names`; any other name is refused.
fn named<'de, D: Deserializer<'de>>(
    d: D,
    names: impl Iterator<Item = &'static str>,
    what: &str,
) -> Result<BTreeMap<&'static str, usize>, D::Error> {
    let names: Vec<&'static str> = names.collect();
    BTreeMap::<String, usize>::deserialize(d)?
        .into_iter()
        .map(|(name, n)| match names.iter().find(|known| **known == name) {
            Some(known) => Ok((*known, n)),
            None => Err(serde::de::Error::custom(format!("unknown {what} {name:?}"))),
        })
        .collect()
}

fn states<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<&'static str, usize>, D::Error> {
    named(d, InstanceState::ALL.iter().map(|s| s.as_str()), "instance state")
}

fn statuses<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<&'static str, usize>, D::Error> {
    named(d, IndexStatus::ALL.iter().map(|s| s.as_str()), "index status")
}

/// [`FleetCounts`] as the sync counts them when it writes the binary snapshot, with what
/// they were priced at: a route function's cold start takes them instead of building every
/// instance to count, when its own price table is the same ([`PriceTable::fingerprint`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricedCounts {
    /// How they were counted ([`COUNTS_FORMAT`]).
    pub format: u32,
    /// The [`PriceTable::fingerprint`] of the table they were priced at.
    pub prices: String,
    pub counts: FleetCounts,
}

/// How [`count`] counts: raised whenever what it counts changes, so counts a sync made the old
/// way are counted again rather than shown.
pub const COUNTS_FORMAT: u32 = 1;

impl PricedCounts {
    /// The counts of a snapshot's parts at `prices`.
    pub fn of(
        accounts: &[AccountSync],
        instances: &[Instance],
        indexes: &[Index],
        prices: &PriceTable,
    ) -> Self {
        PricedCounts {
            format: COUNTS_FORMAT,
            prices: prices.fingerprint(),
            counts: count_parts(accounts, instances, indexes, prices),
        }
    }

    /// The counts, if they were counted as this build counts, at `prices`.
    pub fn at(&self, prices: &PriceTable) -> Option<&FleetCounts> {
        (self.format == COUNTS_FORMAT && self.prices == prices.fingerprint()).then_some(&self.counts)
    }
}

/// Counts the fleet, its groups and its run-rate at `prices`.
pub fn count(fleet: &Fleet, prices: &PriceTable) -> FleetCounts {
    count_parts(fleet.accounts(), fleet.instances(), fleet.indexes(), prices)
}

/// Counts a snapshot's accounts, instances and indexes (in any order) at `prices`.
fn count_parts(
    accounts_synced: &[AccountSync],
    instances: &[Instance],
    indexes: &[Index],
    prices: &PriceTable,
) -> FleetCounts {
    let mut states = [0usize; InstanceState::ALL.len()];
    let mut statuses = [0usize; IndexStatus::ALL.len()];
    // Keyed by a fast hasher and sorted once at the end: a tree keyed by name was most of
    // the count's time at 100k instances.
    let mut accounts: foldhash::HashMap<&str, GroupSummary> = foldhash::HashMap::default();
    let mut regions: foldhash::HashMap<&str, GroupSummary> = foldhash::HashMap::default();
    for account in accounts_synced {
        accounts.entry(&account.name).or_default();
    }
    let mut running = 0;
    for i in instances {
        if let Some(n) = InstanceState::ALL.iter().position(|s| *s == i.state) {
            states[n] += 1;
        }
        let price = prices.instance_hourly(i);
        let is_running = i.state == InstanceState::Running;
        running += usize::from(is_running);
        for (map, key) in [(&mut accounts, &i.account), (&mut regions, &i.region)] {
            let g = map.entry(key).or_default();
            g.instances += 1;
            g.running += usize::from(is_running);
            match price {
                Some(p) => g.hourly_cost += p,
                None => g.unpriced += 1,
            }
        }
    }
    for x in indexes {
        if let Some(n) = IndexStatus::ALL.iter().position(|s| *s == x.status) {
            statuses[n] += 1;
        }
        accounts.entry(&x.account).or_default().indexes += 1;
        regions.entry(&x.region).or_default().indexes += 1;
    }
    let keyed = |map: foldhash::HashMap<&str, GroupSummary>| {
        let mut groups: Vec<GroupSummary> =
            map.into_iter().map(|(key, g)| GroupSummary { key: key.to_owned(), ..g }).collect();
        groups.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        groups
    };
    let by_account = keyed(accounts);
    // Every instance is in one account: the fleet's run-rate is theirs, summed exactly.
    let hourly = by_account.iter().map(|g| g.hourly_cost).sum();
    let unpriced = by_account.iter().map(|g| g.unpriced).sum();
    FleetCounts {
        instances: instances.len(),
        running,
        indexes: indexes.len(),
        // Every known state, even at zero; `unknown` only when some instance is in it.
        by_state: InstanceState::ALL
            .iter()
            .zip(states)
            .filter(|(s, n)| **s != InstanceState::Unknown || *n > 0)
            .map(|(s, n)| (s.as_str(), n))
            .collect(),
        by_status: IndexStatus::ALL.iter().zip(statuses).map(|(s, n)| (s.as_str(), n)).collect(),
        by_account,
        by_region: keyed(regions),
        hourly_cost: hourly,
        unpriced,
    }
}

/// Summarizes the fleet at `now`.
/// `drift` is the fleet's drift totals ([`crate::drift::priced_waste`]).
pub fn summarize(
    fleet: &Fleet,
    prices: &PriceTable,
    drift: crate::drift::DriftTotals,
    now: OffsetDateTime,
) -> FleetSummary {
    summarize_counted(&count(fleet, prices), fleet, prices, drift, now)
}

/// Summarizes the fleet at `now` from its `counts` (of `fleet` at `prices`, [`count`]): adds
/// the drift, month to date and each account's freshness.
pub fn summarize_counted(
    counts: &FleetCounts,
    fleet: &Fleet,
    prices: &PriceTable,
    drift: crate::drift::DriftTotals,
    now: OffsetDateTime,
) -> FleetSummary {
    let freshness = fleet
        .accounts()
        .iter()
        .map(|a| Freshness {
            account: a.name.clone(),
            account_id: a.id.clone(),
            kind: a.kind.as_str().to_owned(),
            synced_at: a.inventory_synced_at(),
            stale: a.is_stale(now),
            errors: a
                .failures()
                .map(|d| format!("{}/{}: {}", d.resource, d.region, d.error.as_deref().unwrap_or("failed")))
                .collect(),
        })
        .collect();
    FleetSummary {
        generated_at: fleet.generated_at(),
        counts: counts.clone(),
        monthly_cost: counts.hourly_cost.hourly_to_monthly(),
        drift_waste: drift.waste,
        drift_short: drift.short,
        price_table_version: prices.version.clone(),
        month_to_date: month_to_date(fleet),
        freshness,
    }
}

/// The cost of the month of the newest cost day, through that day (all accounts), as the
/// snapshot's cost facts hold it.
fn month_to_date(fleet: &Fleet) -> Option<MonthToDate> {
    let facts = fleet.cost_facts();
    Some(MonthToDate { amount: facts.month_to_date?, as_of: facts.as_of? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::{Scale, generate};
    use time::Duration;
    use time::macros::datetime;

    #[test]
    fn groups_add_up_to_the_whole() {
        let now = datetime!(2026-11-24 12:00 UTC);
        let fleet = Fleet::new(generate(42, Scale::Small, now));
        let prices = PriceTable::bundled().unwrap();
        let s = summarize(&fleet, &prices, crate::drift::DriftTotals::default(), now);
        assert_eq!(s.counts.by_account.iter().map(|g| g.instances).sum::<usize>(), s.counts.instances);
        assert_eq!(s.counts.by_region.iter().map(|g| g.hourly_cost).sum::<Money>(), s.counts.hourly_cost);
        assert_eq!(s.counts.by_state.values().sum::<usize>(), s.counts.instances);
        assert_eq!(s.counts.by_status.values().sum::<usize>(), s.counts.indexes);
        assert_eq!(s.month_to_date.as_ref().unwrap().as_of, datetime!(2026-11-23 0:00 UTC).date());
        assert!(s.freshness.iter().all(|f| !f.stale));
        let later =
            summarize(&fleet, &prices, crate::drift::DriftTotals::default(), now + Duration::hours(3));
        assert!(later.freshness.iter().all(|f| f.stale));
    }

    #[test]
    fn counts_kept_from_an_earlier_hour_summarize_as_a_fresh_count_does() {
        let now = datetime!(2026-11-24 12:00 UTC);
        let fleet = Fleet::new(generate(42, Scale::Small, now));
        let prices = PriceTable::bundled().unwrap();
        let drift = crate::drift::DriftTotals { waste: Money::new(12.into()), short: Money::ZERO };
        let counts = count(&fleet, &prices);
        let later = now + Duration::hours(3);
        assert_eq!(
            summarize_counted(&counts, &fleet, &prices, drift, later),
            summarize(&fleet, &prices, drift, later)
        );
        assert_eq!(counts.by_account.iter().map(|g| g.indexes).sum::<usize>(), counts.indexes);
    }
}
