//! `weekly-summary` (an ISO week): spend against the week before, the fleet's size and what
//! changed in it, the indexes whose spend moved most, the findings open now, and fleet drift
//! (the open `fleet-*` findings: what runs beyond the registries' ask, and the indexes at
//! risk).

use std::collections::BTreeMap;

use time::{Duration, OffsetDateTime};

use super::body::{fact, money, signed};
use super::daily_cost::{Comparison, compare, key_name};
use super::{Period, ReportBody, ReportInputs, Section, TrendPoint, within};
use crate::Money;
use crate::model::{ChangeKind, CostDimension, InstanceState};

const MOVERS: usize = 10;

pub(super) fn build(
    period: Period,
    inputs: &ReportInputs<'_>,
    bounds: (OffsetDateTime, OffsetDateTime),
) -> ReportBody {
    let (store, fleet) = (inputs.costs, inputs.fleet);
    let (first, last) = (period.first_day(), period.last_day());
    let (before_first, before_last) = (first - Duration::days(7), last - Duration::days(7));
    let spend = store.bill(first, last);
    let before = store.bill(before_first, before_last);
    let running = fleet.instances().iter().filter(|i| i.state == InstanceState::Running).count();
    let mut changes: BTreeMap<&'static str, usize> = BTreeMap::new();
    for change in within(inputs.changes, bounds) {
        *changes.entry(change_label(&change.what)).or_default() += 1;
    }
    let open: Vec<_> = inputs.findings.iter().filter(|f| f.resolved_at.is_none()).collect();
    let mut by_severity: BTreeMap<_, usize> = BTreeMap::new();
    for f in &open {
        *by_severity.entry(f.severity).or_default() += 1;
    }
    let mut facts = vec![
        fact("Spent", format!("${}", money(spend))),
        fact("The week before", format!("${}", money(before))),
        fact("Change", signed(spend - before)),
        fact("Instances now", format!("{} ({running} running)", fleet.instances().len())),
        fact("Indexes now", fleet.indexes().len()),
        fact("Changes seen", changes.values().sum::<usize>()),
        fact("Open findings", open.len()),
    ];
    if let Some(as_of) = store.as_of().filter(|d| *d < last) {
        facts.push(fact("Cost data through", as_of));
    }
    let (drift, waste, short, at_risk) = drift_section(&open);
    facts.push(fact("Drift waste / month", format!("${}", money(waste))));
    facts.push(fact("Drift short / month", format!("${}", money(short.abs()))));
    facts.push(fact("Indexes at risk", at_risk));
    let mut change_table = Section::new("Changes in the week", &[("Change", false), ("Resources", true)]);
    for (label, n) in &changes {
        change_table.push(vec![(*label).to_owned(), n.to_string()]);
    }
    let mut findings = Section::new("Open findings", &[("Severity", false), ("Findings", true)]);
    for (severity, n) in by_severity.iter().rev() {
        findings.push(vec![severity.as_str().to_owned(), n.to_string()]);
    }
    let mut movers = Section::new(
        "Top movers",
        &[("Index", false), ("This week", true), ("The week before", true), ("Change", true)],
    )
    .with_note("The indexes whose spend changed most against the week before, either way.");
    let mut moved: Vec<(String, Money, Money)> = store
        .dimensions
        .get(&CostDimension::Index)
        .into_iter()
        .flat_map(|d| d.keys())
        .filter_map(|key| {
            let name = key_name(CostDimension::Index, key, fleet, store)?;
            let a = store.sum(CostDimension::Index, key, first, last);
            let b = store.sum(CostDimension::Index, key, before_first, before_last);
            Some((name, a, b))
        })
        .collect();
    moved.sort_by(|x, y| (y.1 - y.2).abs().cmp(&(x.1 - x.2).abs()).then_with(|| x.0.cmp(&y.0)));
    for (name, a, b) in moved.into_iter().take(MOVERS) {
        movers.push(vec![name, money(a), money(b), signed(a - b)]);
    }
    let c = Comparison {
        days: (first, last),
        earlier: (before_first, before_last),
        earlier_label: "The week before",
    };
    ReportBody {
        headline: format!(
            "Week {period}: ${} spent ({} vs the week before), {} changes, {} findings open.",
            money(spend),
            signed(spend - before),
            changes.values().sum::<usize>(),
            open.len()
        ),
        facts,
        sections: vec![
            compare("By account", CostDimension::Account, store, fleet, c, usize::MAX),
            movers,
            change_table,
            findings,
            drift,
        ],
        trend: period.days().map(|date| TrendPoint::total_on(store, date)).collect(),
    }
}

/// The open `fleet-*` findings by kind, with their monthly impact; the fleet's drift totals
/// (`crate::drift::totals_of_findings`, as `/` shows them); and how many indexes are
/// under-provisioned. Stuck transitions are counted apart: their amount is the gap the other
/// kinds already price.
fn drift_section(open: &[&crate::model::Finding]) -> (Section, Money, Money, usize) {
    use crate::drift::DriftKind;
    let totals = crate::drift::totals_of_findings(open.iter().copied());
    let mut section = Section::new(
        "Fleet drift",
        &[("Drift", false), ("Findings", true), ("Monthly impact", true)],
    )
    .with_note(
        "What the index registries ask for against what runs, priced a month: positive is waste, negative is what should run and does not (the fleet-* findings). Stuck transitions are counted apart: their gap is priced in the rows above.",
    );
    let of =
        |kind: DriftKind| open.iter().filter(move |f| f.rule.strip_prefix("fleet-") == Some(kind.as_str()));
    let mut count = 0;
    for kind in DriftKind::ALL.into_iter().filter(|k| k.adds_up()) {
        let n = of(kind).count();
        if n > 0 {
            let amount: Money = of(kind).map(|f| f.monthly_cost_impact.unwrap_or(Money::ZERO)).sum();
            section.push(vec![kind.as_str().to_owned(), n.to_string(), signed(amount)]);
            count += n;
        }
    }
    section.push(vec!["Total".to_owned(), count.to_string(), signed(totals.waste + totals.short)]);
    let stuck = of(DriftKind::StuckTransition).count();
    if stuck > 0 {
        section.note =
            Some(format!("{} {stuck} stuck transition(s) are open.", section.note.unwrap_or_default()));
    }
    let at_risk: std::collections::BTreeSet<_> = of(DriftKind::UnderProvisioned)
        .map(|f| (f.account.as_str(), f.region.as_str(), f.resource_id.as_str()))
        .collect();
    (section, totals.waste, totals.short, at_risk.len())
}

/// A change's kind, as a row label.
pub(super) fn change_label(what: &ChangeKind) -> &'static str {
    match what {
        ChangeKind::Appeared => "appeared",
        ChangeKind::CameBack => "came back",
        ChangeKind::Vanished => "vanished",
        ChangeKind::StateChanged { .. } => "state changed",
        ChangeKind::TypeChanged { .. } => "type changed",
        ChangeKind::OwnerChanged { .. } => "owner changed",
        ChangeKind::IndexChanged { .. } => "index changed",
    }
}
