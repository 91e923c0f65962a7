//! `daily-cost`: the day's spend by account, service and top indexes, each against the same
//! weekday a week earlier, and the four weeks before as a trend.

use time::{Date, Duration};

use super::body::{fact, money, signed};
use super::{Period, ReportBody, ReportInputs, Section, TrendPoint};
use crate::Money;
use crate::model::{CostDimension, CostStore, Fleet};

/// Indexes the report names; the rest are summed in one row.
const TOP_INDEXES: usize = 10;

pub(super) fn build(period: Period, inputs: &ReportInputs<'_>) -> ReportBody {
    let (store, fleet) = (inputs.costs, inputs.fleet);
    let day = period.first_day();
    let week_ago = day - Duration::days(7);
    let earlier_label = format!("{} {week_ago}", week_ago.weekday());
    let c = Comparison { days: (day, day), earlier: (week_ago, week_ago), earlier_label: &earlier_label };
    let total = store.bill(day, day);
    let before = store.bill(week_ago, week_ago);
    let weekday = day.weekday();
    let headline = match store.as_of() {
        Some(as_of) if as_of >= day => format!(
            "${} spent on {weekday} {day}, {} vs {weekday} {week_ago}.",
            money(total),
            signed(total - before)
        ),
        Some(as_of) => format!("No cost data for {day} yet: Cost Explorer data runs through {as_of}."),
        None => format!("No cost data for {day}: Polo has not read Cost Explorer yet."),
    };
    let mut body = ReportBody {
        headline,
        facts: vec![
            fact("Spent", format!("${}", money(total))),
            fact(&earlier_label, format!("${}", money(before))),
            fact("Change", signed(total - before)),
            fact("Cost data through", store.as_of().map_or_else(|| "none".to_owned(), |d| d.to_string())),
        ],
        sections: vec![
            compare("By account", CostDimension::Account, store, fleet, c, usize::MAX),
            compare("By service", CostDimension::Service, store, fleet, c, usize::MAX),
            compare("Top indexes", CostDimension::Index, store, fleet, c, TOP_INDEXES)
                .with_note("The ten indexes that cost most that day; other indexes and spend with no index tag are summed below them."),
        ],
        trend: Vec::new(),
    };
    if let Some(usage) = inputs.usage {
        let (section, largest) = causes(store, usage, fleet, day, week_ago, &earlier_label);
        // The largest change and its main cause reach Slack with the facts.
        if let Some(largest) = largest {
            body.facts.push(fact("Largest change", largest));
        }
        body.sections.push(section);
    }
    if store.charges_apart() {
        body.sections.push(
            compare("By charge", CostDimension::Charge, store, fleet, c, usize::MAX)
                .with_note("The bill by Cost Explorer record type: usage, and the credits, refunds, tax, support and fees the tables above show as other charges."),
        );
    }
    body.trend = (0..28)
        .rev()
        .map(|n| day - Duration::days(n))
        .map(|date| TrendPoint::total_on(store, date))
        .collect();
    body
}

/// Indexes whose change the report explains.
const EXPLAINED_INDEXES: usize = 5;

/// The indexes that moved most against the same weekday a week earlier, each with its
/// largest causes (`crate::cost_changes`): what was launched, resized or stopped, by whom.
fn causes(
    store: &CostStore,
    usage: &crate::model::UsageLedger,
    fleet: &Fleet,
    day: Date,
    week_ago: Date,
    earlier_label: &str,
) -> (Section, Option<String>) {
    let mut section =
        Section::new("Why it changed", &[("Index", false), ("Change", true), ("Causes", false)]);
    let mut largest = None;
    if let Ok(cmp) = crate::cost_changes::Comparison::between(week_ago, week_ago, day, day) {
        let all = crate::cost_changes::changes(store, usage, fleet, crate::costs::Breakdown::Index, &cmp);
        for c in all.iter().filter(|c| !c.change.is_zero()).take(EXPLAINED_INDEXES) {
            let c = c.with_events(usage, &cmp);
            let lines = c.lines(1, 2);
            if largest.is_none() {
                largest = lines.first().map(|l| format!("{} ({}) {}; {l}", c.name, c.key, signed(c.change)));
            }
            section.push(vec![format!("{} ({})", c.name, c.key), signed(c.change), lines.join("; ")]);
        }
    }
    let section = section.with_note(format!(
        "The {EXPLAINED_INDEXES} indexes whose cost moved most against {earlier_label}, each change split into fleet size, instance mix, price and other (the cost pages show every event)."
    ));
    (section, largest)
}

/// A name for a key of `dimension`.
pub(super) fn key_name(
    dimension: CostDimension,
    key: &str,
    fleet: &Fleet,
    store: &CostStore,
) -> Option<String> {
    match dimension {
        CostDimension::Account => Some(
            fleet
                .accounts()
                .iter()
                .find(|a| a.id == key)
                .map_or_else(|| key.to_owned(), |a| format!("{} ({key})", a.name)),
        ),
        CostDimension::Service => Some(key.to_owned()),
        CostDimension::Index => fleet.index(key).map(|x| format!("{} ({key})", x.name)),
        CostDimension::Charge => Some(store.metric.record_type_name(key).to_owned()),
    }
}

/// Days compared: the period's and the earlier ones, each as an inclusive range, and the
/// heading of the earlier column.
#[derive(Clone, Copy)]
pub(super) struct Comparison<'a> {
    pub days: (Date, Date),
    pub earlier: (Date, Date),
    pub earlier_label: &'a str,
}

/// One row per key of `dimension` (the `top` largest, the rest in one row) with the
/// period's amount, the earlier one and the change; spend of keys that name nothing
/// (untagged, or an unknown index) is the unattributed row; the charges other than usage
/// (credits, tax, fees: no usage grouping holds them) are one row; a total closes the
/// table, so the rows add up to it and to the whole bill.
pub(super) fn compare(
    title: &str,
    dimension: CostDimension,
    store: &CostStore,
    fleet: &Fleet,
    c: Comparison<'_>,
    top: usize,
) -> Section {
    let (label, plural) = match dimension {
        CostDimension::Account => ("Account", "accounts"),
        CostDimension::Service => ("Service", "services"),
        CostDimension::Index => ("Index", "indexes"),
        CostDimension::Charge => ("Charge", "charges"),
    };
    let mut section =
        Section::new(title, &[(label, false), ("Amount", true), (c.earlier_label, true), ("Change", true)]);
    let mut named: Vec<(String, Money, Money)> = Vec::new();
    let mut unattributed = (Money::ZERO, Money::ZERO);
    for key in store.dimensions.get(&dimension).into_iter().flat_map(|d| d.keys()) {
        let a = store.sum(dimension, key, c.days.0, c.days.1);
        let b = store.sum(dimension, key, c.earlier.0, c.earlier.1);
        if let Some(name) = key_name(dimension, key, fleet, store).filter(|_| !key.is_empty()) {
            named.push((name, a, b));
        } else {
            unattributed.0 += a;
            unattributed.1 += b;
        }
    }
    named.retain(|(_, a, b)| *a != Money::ZERO || *b != Money::ZERO);
    named.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    let row = |name: String, a: Money, b: Money| vec![name, money(a), money(b), signed(a - b)];
    let rest: Vec<(String, Money, Money)> = named.split_off(top.min(named.len()));
    let (mut total_a, mut total_b) = unattributed;
    for (name, a, b) in named {
        total_a += a;
        total_b += b;
        section.push(row(name, a, b));
    }
    if !rest.is_empty() {
        let (a, b) = rest.iter().fold((Money::ZERO, Money::ZERO), |(x, y), r| (x + r.1, y + r.2));
        total_a += a;
        total_b += b;
        section.push_total(row(format!("{} other {plural}", rest.len()), a, b));
    }
    if dimension == CostDimension::Index || unattributed != (Money::ZERO, Money::ZERO) {
        section.push_total(row("Unattributed".to_owned(), unattributed.0, unattributed.1));
    }
    if dimension != CostDimension::Charge {
        let (a, b) = (store.other_charges(c.days.0, c.days.1), store.other_charges(c.earlier.0, c.earlier.1));
        if a != Money::ZERO || b != Money::ZERO {
            total_a += a;
            total_b += b;
            section.push_total(row("Other charges".to_owned(), a, b));
        }
    }
    section.push_total(row("Total".to_owned(), total_a, total_b));
    section
}
