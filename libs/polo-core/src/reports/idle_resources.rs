//! `idle-resources` (a day): instances stopped for long, indexes that no instance serves,
//! and spend with no index.

use time::{Duration, OffsetDateTime};

use super::body::{fact, money};
use super::{Period, ReportBody, ReportInputs, Section};
use crate::Money;
use crate::model::{CostDimension, InstanceState};
use crate::text::age;

/// Days stopped before an instance counts as idle, unless `[cop.rules.stopped-too-long]
/// days` says otherwise.
const STOPPED_DAYS: i64 = 14;

pub(super) fn build(period: Period, inputs: &ReportInputs<'_>, end: OffsetDateTime) -> ReportBody {
    let (store, fleet) = (inputs.costs, inputs.fleet);
    let days = inputs
        .config
        .cop
        .rules
        .get("stopped-too-long")
        .and_then(|r| r.get("days"))
        .and_then(toml::Value::as_integer)
        .unwrap_or(STOPPED_DAYS);
    let cutoff = end - Duration::days(days);
    let mut stopped = Section::new(
        format!("Stopped for more than {days} days"),
        &[
            ("Instance", false),
            ("Name", false),
            ("Account", false),
            ("Type", false),
            ("Owner", false),
            ("Stopped for", false),
        ],
    );
    let mut long_stopped: Vec<_> = fleet
        .instances()
        .iter()
        .filter(|i| i.state == InstanceState::Stopped && i.state_since.is_some_and(|t| t <= cutoff))
        .collect();
    long_stopped.sort_by_key(|i| (i.state_since, i.id.clone()));
    for i in &long_stopped {
        stopped.push(vec![
            i.id.clone(),
            i.name.clone().unwrap_or_default(),
            i.account.clone(),
            i.instance_type.clone(),
            i.owner.clone().unwrap_or_default(),
            i.state_since.map(|t| age(t, end)).unwrap_or_default(),
        ]);
    }
    let mut lonely = Section::new(
        "Indexes no instance serves",
        &[("Index", false), ("Name", false), ("Customer", false), ("Account", false), ("Status", false)],
    );
    let mut without: Vec<_> =
        fleet.indexes().iter().filter(|x| fleet.instances_of(x).next().is_none()).collect();
    without.sort_by(|a, b| a.index_id.cmp(&b.index_id));
    for x in &without {
        lonely.push(vec![
            x.index_id.clone(),
            x.name.clone(),
            x.customer.clone(),
            x.account.clone(),
            x.status.as_str().to_owned(),
        ]);
    }
    let day = period.first_day();
    let mut untagged = Section::new("Spend with no index", &[("Index tag", false), ("Amount", true)])
        .with_note("Spend on the day with no index tag, or a tag naming no known index.");
    let mut orphan_total = Money::ZERO;
    let mut orphans: Vec<(String, Money)> = store
        .dimensions
        .get(&CostDimension::Index)
        .into_iter()
        .flat_map(|d| d.keys())
        .filter(|key| key.is_empty() || fleet.index(key).is_none())
        .map(|key| (key.clone(), store.sum(CostDimension::Index, key, day, day)))
        .filter(|(_, amount)| *amount != Money::ZERO)
        .collect();
    orphans.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (key, amount) in orphans {
        orphan_total += amount;
        let label = if key.is_empty() { "(no tag)".to_owned() } else { key };
        untagged.push(vec![label, money(amount)]);
    }
    untagged.push_total(vec!["Total".to_owned(), money(orphan_total)]);
    ReportBody {
        headline: format!(
            "{} instances stopped for more than {days} days, {} indexes without instances, ${} spent with no index.",
            long_stopped.len(),
            without.len(),
            money(orphan_total)
        ),
        facts: vec![
            fact("Stopped long", long_stopped.len()),
            fact("Indexes without instances", without.len()),
            fact("Spend with no index", format!("${}", money(orphan_total))),
        ],
        sections: vec![stopped, lonely, untagged],
        trend: Vec::new(),
    }
}
