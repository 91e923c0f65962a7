//! `monthly-close` (a calendar month): the month's total by index, customer, account,
//! service and charge (each table adding up to the total to the cent), against the previous month and
//! against the forecast the costs pages showed mid-month.

use time::Duration;

use super::body::{fact, money, signed};
use super::{Period, ReportBody, ReportInputs, Section, TrendPoint};
use crate::Money;
use crate::costs::{Breakdown, CostBreakdown, CostLine, breakdown};

/// Rows a breakdown names; the rest are summed in one row.
const TOP: usize = 20;
/// The day of the month whose forecast the close is held against.
const MID_MONTH: i64 = 15;

pub(super) fn build(period: Period, inputs: &ReportInputs<'_>) -> ReportBody {
    let (store, fleet) = (inputs.costs, inputs.fleet);
    let (first, last) = (period.first_day(), period.last_day());
    // On the month's last day, the costs pages' month to date is the whole month.
    let tables: Vec<_> = Breakdown::ALL.into_iter().map(|d| (d, breakdown(store, fleet, d, last))).collect();
    let (total, previous) = tables
        .first()
        .map_or((Money::ZERO, Money::ZERO), |(_, b)| (b.sum.month_to_date, b.sum.previous_month));
    let mid = first + Duration::days(MID_MONTH - 1);
    let forecast = breakdown(store, fleet, Breakdown::Account, mid).sum.forecast;
    let mut facts = vec![
        fact("Total", format!("${}", money(total))),
        fact("Previous month", format!("${}", money(previous))),
        fact("Change", signed(total - previous)),
        fact(&format!("Forecast on {mid}"), format!("${}", money(forecast))),
        fact("Against the forecast", signed(total - forecast)),
    ];
    let complete = store.as_of().is_some_and(|d| d >= last);
    if !complete {
        facts.push(fact(
            "Cost data through",
            store.as_of().map_or_else(|| "none".to_owned(), |d| d.to_string()),
        ));
    }
    let sections = tables
        .iter()
        .map(|(d, b)| {
            let title = match d {
                Breakdown::Index => "By index",
                Breakdown::Customer => "By customer",
                Breakdown::Account => "By account",
                Breakdown::Service => "By service",
                Breakdown::Charge => "By charge",
            };
            table(title, b)
        })
        .collect();
    ReportBody {
        headline: format!(
            "{period} closed at ${} ({} vs the previous month, {} vs the forecast of {mid}){}.",
            money(total),
            signed(total - previous),
            signed(total - forecast),
            if complete { "" } else { "; Cost Explorer data does not cover the whole month yet" }
        ),
        facts,
        sections,
        trend: period.days().map(|date| TrendPoint::total_on(store, date)).collect(),
    }
}

/// The `TOP` largest lines, the rest in one row, the unattributed row, the other charges and
/// the total.
fn table(title: &str, b: &CostBreakdown) -> Section {
    let (items, unattributed, sum) = (&b.items, &b.unattributed, &b.sum);
    let mut section = Section::new(
        title,
        &[("Key", false), ("Name", false), ("Month", true), ("Previous month", true), ("Change", true)],
    );
    let mut lines: Vec<&CostLine> =
        items.iter().filter(|l| l.month_to_date != Money::ZERO || l.previous_month != Money::ZERO).collect();
    lines.sort_by(|a, b| b.month_to_date.cmp(&a.month_to_date).then_with(|| a.key.cmp(&b.key)));
    let row = |key: &str, name: &str, a: Money, b: Money| {
        vec![key.to_owned(), name.to_owned(), money(a), money(b), signed(a - b)]
    };
    let rest = lines.split_off(TOP.min(lines.len()));
    for l in lines {
        section.push(row(&l.key, &l.name, l.month_to_date, l.previous_month));
    }
    if !rest.is_empty() {
        let a = rest.iter().map(|l| l.month_to_date).sum();
        let b = rest.iter().map(|l| l.previous_month).sum();
        section.push_total(row("", &format!("{} others", rest.len()), a, b));
    }
    section.push_total(row("", "Unattributed", unattributed.month_to_date, unattributed.previous_month));
    let other = &b.other_charges;
    if other.month_to_date != Money::ZERO || other.previous_month != Money::ZERO {
        section.push_total(row("", "Other charges", other.month_to_date, other.previous_month));
    }
    section.push_total(row("", "Total", sum.month_to_date, sum.previous_month));
    section
}
