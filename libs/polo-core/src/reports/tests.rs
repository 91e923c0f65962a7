//! Reports over the bundled sample: numbers that match the costs pages, tables that add up,
//! idempotent runs, lifetimes, and refusals.

use std::sync::Arc;

use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

use super::*;
use crate::Money;
use crate::costs::{Breakdown, breakdown};
use crate::model::CostDimension;
use crate::ports::{InMemoryCosts, LocalDataService, MemoryReports, ReportFilter, ReportStore as _};
use crate::sample::{Scale, generate_with_costs};

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

struct Sample {
    data: LocalDataService,
    costs: InMemoryCosts,
    usage: crate::ports::InMemoryUsage,
    metrics: crate::ports::InMemoryDocument<crate::model::MetricsDocument>,
    store: MemoryReports,
    config: Config,
}

impl Sample {
    fn new() -> Sample {
        let crate::sample::Generated { everything, costs, usage, metrics } =
            crate::sample::generate_all(42, Scale::Small, NOW);
        Sample {
            data: LocalDataService::from_snapshot(everything),
            costs: InMemoryCosts(Arc::new(costs)),
            usage: crate::ports::InMemoryUsage(Arc::new(usage)),
            metrics: crate::ports::InMemoryDocument(Arc::new(metrics)),
            store: MemoryReports::default(),
            config: Config::bundled().unwrap(),
        }
    }

    fn sources(&self) -> ReportSources<'_> {
        ReportSources {
            fleet: &self.data,
            costs: &self.costs,
            changes: &self.data,
            findings: &self.data,
            store: &self.store,
            config: &self.config,
            usage: Some(&self.usage),
            metrics: Some(&self.metrics),
        }
    }

    async fn run(&self, kind: ReportType, period: Option<&str>) -> Result<RunOutcome, RunError> {
        run_report(kind, period, &self.sources(), NOW, false).await
    }
}

fn money(text: &str) -> Money {
    text.replace(['$', ',', '+'], "").parse().unwrap()
}

/// Every row above the Total row of `section` in column `col` adds up to the Total row.
fn assert_adds_up(section: &Section, col: usize) -> Money {
    let (total, rows) = section.rows.split_last().unwrap();
    assert!(!total[col].is_empty());
    let sum: Money = rows.iter().map(|r| money(&r[col])).sum();
    assert_eq!(sum, money(&total[col]), "{}: rows add up to the total", section.title);
    sum
}

#[tokio::test]
async fn daily_cost_matches_the_cost_store_and_adds_up() {
    let s = Sample::new();
    let report = s.run(ReportType::DailyCost, Some("2026-11-20")).await.unwrap().report().clone();
    let costs = s.costs.0.clone();
    let day = date!(2026 - 11 - 20);
    let total = costs.bill(day, day);
    assert!(total > Money::ZERO);
    assert!(
        report
            .body
            .headline
            .starts_with(&format!("${} spent on Friday 2026-11-20", total.to_grouped_cents()))
    );
    for (i, section) in report.body.sections.iter().enumerate().filter(|(_, s)| s.title != "Why it changed") {
        assert_eq!(assert_adds_up(section, 1), total, "{}: today", section.title);
        let week_ago = costs.bill(day - Duration::days(7), day - Duration::days(7));
        assert_eq!(assert_adds_up(section, 2), week_ago, "{}: a week earlier", section.title);
        if i == 2 {
            // The top index is the one the costs detail page shows for that day.
            let first = &section.rows[0];
            let key = first[0].rsplit_once(" (").unwrap().1.trim_end_matches(')');
            assert_eq!(money(&first[1]), costs.sum(CostDimension::Index, key, day, day));
        }
    }
    assert_eq!(report.body.trend.len(), 28);
    assert_eq!(report.start, datetime!(2026-11-20 00:00 UTC));
    assert_eq!(report.end, datetime!(2026-11-21 00:00 UTC));
}

#[tokio::test]
async fn daily_cost_says_why_the_indexes_that_moved_most_changed() {
    let s = Sample::new();
    let report = s.run(ReportType::DailyCost, Some("2026-11-20")).await.unwrap().report().clone();
    let why = report.body.sections.iter().find(|x| x.title == "Why it changed").expect("the section");
    let largest =
        report.body.facts.iter().find(|f| f.label == "Largest change").expect("the fact Slack shows");
    assert!(largest.value.starts_with(&why.rows[0][0]) && largest.value.contains("%)"), "{}", largest.value);
    assert!((1..=5).contains(&why.rows.len()), "{:?}", why.rows);
    let costs = s.costs.0.clone();
    let (day, week_ago) = (date!(2026 - 11 - 20), date!(2026 - 11 - 13));
    for row in &why.rows {
        let key = row[0].rsplit_once(" (").unwrap().1.trim_end_matches(')');
        let change = costs.sum(CostDimension::Index, key, day, day)
            - costs.sum(CostDimension::Index, key, week_ago, week_ago);
        assert_eq!(money(&row[1].replace('+', "")), change, "{row:?}");
        assert!(row[2].contains("%)"), "each row names its causes: {row:?}");
    }
}

#[tokio::test]
async fn monthly_close_matches_the_costs_pages_for_every_dimension() {
    let s = Sample::new();
    let report = s.run(ReportType::MonthlyClose, None).await.unwrap().report().clone();
    assert_eq!(report.period, "2026-10", "the last complete month at {NOW}");
    let fleet = s.data.loaded().unwrap();
    for (section, dimension) in report.body.sections.iter().zip(Breakdown::ALL) {
        let b = breakdown(&s.costs.0, &fleet, dimension, date!(2026 - 10 - 31));
        let total = assert_adds_up(section, 2);
        assert_eq!(total, b.sum.month_to_date, "{dimension:?}");
        assert_eq!(assert_adds_up(section, 3), b.sum.previous_month, "{dimension:?}");
    }
    let october = s.costs.0.bill(date!(2026 - 10 - 01), date!(2026 - 10 - 31));
    assert_eq!(money(&report.body.facts[0].value), october);
    assert_eq!(report.body.trend.len(), 31);
}

#[tokio::test]
async fn every_type_builds_on_the_sample() {
    let s = Sample::new();
    for kind in ReportType::ALL {
        let outcome = s.run(kind, None).await.unwrap();
        let report = outcome.report();
        assert!(matches!(outcome, RunOutcome::Stored(_)), "{kind:?}");
        assert!(!report.body.headline.is_empty());
        assert!(!report.body.sections.is_empty(), "{kind:?}");
        for section in &report.body.sections {
            assert!(section.rows.iter().all(|r| r.len() == section.columns.len()), "{}", section.title);
        }
        // Far below DynamoDB's 400 KB item limit.
        assert!(serde_json::to_vec(report).unwrap().len() < 100_000, "{kind:?}");
    }
    let idle = s.store.get(ReportType::IdleResources, "2026-11-23", NOW).await.unwrap().unwrap();
    assert!(idle.body.headline.contains("indexes without instances"), "{}", idle.body.headline);
    let week = s.store.get(ReportType::WeeklySummary, "2026-W47", NOW).await.unwrap().unwrap();
    assert_eq!(week.body.trend.len(), 7);
}

#[tokio::test]
async fn a_second_run_of_a_period_keeps_one_report_with_the_same_body() {
    let s = Sample::new();
    let first = s.run(ReportType::DailyCost, Some("2026-11-20")).await.unwrap();
    assert!(matches!(first, RunOutcome::Stored(_)));
    let again = s.run(ReportType::DailyCost, Some("2026-11-20")).await.unwrap();
    assert!(matches!(again, RunOutcome::Unchanged(_)));
    assert_eq!(again.report().body, first.report().body);
    let all = s.store.list(&ReportFilter::default(), NOW).await.unwrap();
    assert_eq!(all.len(), 1);
}

#[tokio::test]
async fn a_report_past_its_lifetime_is_gone_for_every_reader() {
    let s = Sample::new();
    let report = s.run(ReportType::DailyCost, Some("2026-11-20")).await.unwrap().report().clone();
    assert_eq!(report.expires_at, NOW + Duration::days(35), "ttl_days of daily-cost");
    let later = report.expires_at;
    assert!(
        s.store.get(ReportType::DailyCost, "2026-11-20", later - Duration::SECOND).await.unwrap().is_some()
    );
    assert!(s.store.get(ReportType::DailyCost, "2026-11-20", later).await.unwrap().is_none());
    assert!(s.store.list(&ReportFilter::default(), later).await.unwrap().is_empty());
    assert!(s.store.latest(later).await.unwrap().is_empty());
}

#[tokio::test]
async fn refused_periods_store_nothing() {
    let s = Sample::new();
    let e = s.run(ReportType::DailyCost, Some("2026-11-24")).await.unwrap_err().to_string();
    assert!(e.starts_with("period 2026-11-24 is not complete until 2026-11-25T00:00:00Z (UTC)"), "{e}");
    let e = s.run(ReportType::WeeklySummary, Some("2026-11-20")).await.unwrap_err().to_string();
    assert_eq!(e, "period \"2026-11-20\": expected an ISO week like 2026-W10");
    let dry = run_report(ReportType::DailyCost, None, &s.sources(), NOW, true).await.unwrap();
    assert!(matches!(dry, RunOutcome::DryRun(_)));
    assert!(plain_text(dry.report()).contains("By account"));
    assert!(s.store.list(&ReportFilter::default(), NOW).await.unwrap().is_empty());
    assert_eq!(
        ReportType::parse("weekly").unwrap_err().to_string().split(':').next(),
        Some("unknown report type \"weekly\"")
    );
}

#[tokio::test]
async fn inventory_changes_lists_the_history_of_its_day_only() {
    let s = Sample::new();
    let fleet = s.data.loaded().unwrap();
    let day = fleet.history().iter().map(|c| c.at.date()).filter(|d| *d < NOW.date()).max().unwrap();
    let period = day.to_string();
    let report = s.run(ReportType::InventoryChanges, Some(&period)).await.unwrap().report().clone();
    let expected = fleet.history().iter().filter(|c| c.at.date() == day).count();
    let listed = report.body.sections[0].rows.len() + report.body.sections[0].more;
    assert_eq!(listed, expected);
    assert!(expected > 0);
}

#[tokio::test]
async fn a_cost_report_over_an_estimated_day_is_not_final_until_cost_explorer_settles() {
    let s = Sample::new();
    // The sample's newest two days (22 and 23 November) are estimated.
    let estimated = s.run(ReportType::DailyCost, Some("2026-11-23")).await.unwrap();
    assert!(!estimated.report().is_final);
    let trend = &estimated.report().body.trend;
    assert!(trend.last().is_some_and(|p| p.estimated && p.date == date!(2026 - 11 - 23)), "{trend:?}");
    assert!(trend.iter().filter(|p| p.estimated).count() == 2, "the chart draws both estimated days apart");
    let settled = s.run(ReportType::DailyCost, Some("2026-11-21")).await.unwrap();
    assert!(settled.report().is_final);
    assert!(!s.run(ReportType::WeeklySummary, Some("2026-W47")).await.unwrap().report().is_final);
    assert!(s.run(ReportType::IdleResources, Some("2026-11-23")).await.unwrap().report().is_final);
    // Run again once Cost Explorer calls the day final: the same body, now final, replaces it.
    let mut costs = (*s.costs.0).clone();
    costs.estimated.clear();
    let later = Sample { costs: InMemoryCosts(Arc::new(costs)), ..s };
    let revised = later.run(ReportType::DailyCost, Some("2026-11-23")).await.unwrap();
    assert!(matches!(revised, RunOutcome::Stored(ref r) if r.is_final), "{revised:?}");
    let again = later.run(ReportType::DailyCost, Some("2026-11-23")).await.unwrap();
    assert!(matches!(again, RunOutcome::Unchanged(_)));
}

#[test]
fn a_month_stays_provisional_for_days_after_it_ends() {
    let (_, costs) = generate_with_costs(42, Scale::Small, NOW);
    let config = Config::bundled().unwrap();
    assert_eq!(config.reports.month_final_after_days, 5);
    let october = Period::parse("2026-10", Granularity::Month).unwrap();
    // Every October day is final in the store; credits and tax may still land for five days.
    assert!(!is_final(ReportType::MonthlyClose, &october, &costs, datetime!(2026-11-05 12:00 UTC), &config));
    assert!(is_final(ReportType::MonthlyClose, &october, &costs, datetime!(2026-11-06 00:00 UTC), &config));
    let november = Period::parse("2026-11", Granularity::Month).unwrap();
    assert!(!is_final(ReportType::MonthlyClose, &november, &costs, datetime!(2026-12-31 00:00 UTC), &config));
}

/// The sample's costs with `cents` added to `day`'s usage in every grouping (Cost Explorer
/// revising the day).
fn revised(costs: &crate::model::CostStore, day: time::Date, cents: i64) -> crate::model::CostStore {
    let mut costs = costs.clone();
    let column = costs.columns(day, day).start;
    for (dimension, key) in [
        (CostDimension::Index, ""),
        (CostDimension::Account, "111111111111"),
        (CostDimension::Service, "AWS Lambda"),
        (CostDimension::Charge, "Usage"),
    ] {
        costs.dimensions.get_mut(&dimension).unwrap().get_mut(key).unwrap()[column] += cents;
    }
    costs
}

#[tokio::test]
async fn slack_hears_a_revision_only_when_the_total_moves_by_more_than_the_share() {
    let s = Sample::new();
    let day = date!(2026 - 11 - 21);
    let first = s.run(ReportType::DailyCost, Some("2026-11-21")).await.unwrap().report().clone();
    let total = first.total.unwrap();
    assert_eq!(total, s.costs.0.bill(day, day));
    s.store.mark_sent(&first, NOW).await.unwrap();
    assert!((s.config.reports.revision_share - 0.02).abs() < 1e-9);
    // A revision under 2 %: the page changes, Slack has it already.
    let small = total.amount() * rust_decimal::Decimal::new(1, 2) * rust_decimal::Decimal::from(100);
    let small = i64::try_from(small.trunc()).unwrap();
    let later = Sample { costs: InMemoryCosts(Arc::new(revised(&s.costs.0, day, small))), ..s };
    let quiet = later.run(ReportType::DailyCost, Some("2026-11-21")).await.unwrap().report().clone();
    assert_eq!(quiet.sent_at, Some(NOW), "not sent again");
    assert_eq!((quiet.heard_total, quiet.revised_from), (Some(total), None));
    // Another small revision on top: together over 2 % of what Slack heard, so it is sent,
    // marked as a revision from the total Slack heard.
    let costs = revised(&later.costs.0, day, small * 2);
    let again = Sample { costs: InMemoryCosts(Arc::new(costs)), ..later };
    let loud = again.run(ReportType::DailyCost, Some("2026-11-21")).await.unwrap().report().clone();
    assert_eq!((loud.sent_at, loud.revised_from), (None, Some(total)), "in the outbox again, as a revision");
    assert!(loud.total.unwrap() > total);
    // Not sent yet and revised once more: it stays a revision of what Slack heard.
    let costs = revised(&again.costs.0, day, 1);
    let once_more = Sample { costs: InMemoryCosts(Arc::new(costs)), ..again };
    let pending = once_more.run(ReportType::DailyCost, Some("2026-11-21")).await.unwrap().report().clone();
    assert_eq!((pending.sent_at, pending.revised_from), (None, Some(total)));
}

#[tokio::test]
async fn the_weekly_summary_prices_drift_as_the_open_findings_do_to_the_cent() {
    let (mut everything, costs) = generate_with_costs(42, Scale::Small, NOW);
    let config = Config::bundled().unwrap();
    let fleet = crate::model::Fleet::new(everything.clone());
    let prices =
        crate::pricing::PriceTable::bundled().unwrap().with_spot_discount(config.costs.spot_discount);
    let context = crate::cop::RuleContext::new(&fleet, &costs, &config, &prices, NOW);
    everything.findings = crate::cop::reconcile(&[], &crate::cop::evaluate(&context), NOW);
    let (waste, short) = everything
        .findings
        .iter()
        // Every priced fleet-* finding but stuck transitions (their gap is priced by the others).
        .filter(|f| f.rule.starts_with("fleet-") && f.rule != "fleet-stuck-transition")
        .filter_map(|f| f.monthly_cost_impact)
        .fold((Money::ZERO, Money::ZERO), |(w, s), m| {
            if m.amount().is_sign_negative() { (w, s + m) } else { (w + m, s) }
        });
    let s = Sample {
        data: LocalDataService::from_snapshot(everything),
        costs: InMemoryCosts(Arc::new(costs)),
        usage: crate::ports::InMemoryUsage(Arc::new(crate::model::UsageLedger::empty())),
        metrics: crate::ports::InMemoryDocument(Arc::new(crate::model::MetricsDocument::empty())),
        store: MemoryReports::default(),
        config,
    };
    s.run(ReportType::WeeklySummary, Some("2026-W47")).await.unwrap();
    let week = s.store.get(ReportType::WeeklySummary, "2026-W47", NOW).await.unwrap().unwrap();
    let fact =
        |label: &str| week.body.facts.iter().find(|f| f.label == label).map(|f| f.value.clone()).unwrap();
    assert_eq!(fact("Drift waste / month"), format!("${}", waste.to_grouped_cents()));
    assert_eq!(fact("Drift short / month"), format!("${}", short.abs().to_grouped_cents()));
    assert!(fact("Indexes at risk").parse::<usize>().unwrap() >= 3, "one per account kind at least");
    let drift = week.body.sections.iter().find(|x| x.title == "Fleet drift").unwrap();
    assert_eq!(drift.rows.len(), 5, "every kind that adds up, and the total");
    assert_eq!(assert_adds_up(drift, 2), waste + short);
}

#[tokio::test]
async fn idle_resources_totals_equal_the_sum_of_their_recommendations_to_the_cent() {
    let s = Sample::new();
    s.run(ReportType::IdleResources, Some("2026-11-23")).await.unwrap();
    let idle = s.store.get(ReportType::IdleResources, "2026-11-23", NOW).await.unwrap().unwrap();
    let section = |title: &str| idle.body.sections.iter().find(|s| s.title == title).unwrap();
    let rightsizing = section("Rightsizing");
    assert!(rightsizing.rows.len() > 3, "proposals and a total");
    assert_eq!(rightsizing.more, 0);
    let savings = assert_adds_up(rightsizing, 7);
    assert!(savings > Money::ZERO);
    let fact = idle.body.facts.iter().find(|f| f.label == "Rightsizing / month").unwrap();
    assert_eq!(money(&fact.value), savings);
    assert!(
        idle.body.headline.contains(&format!("${}", savings.to_grouped_cents())),
        "{}",
        idle.body.headline
    );
    // Never fewer nodes than run: "3 × c6i.2xlarge" → "3 × c6i.xlarge".
    for row in &rightsizing.rows[..rightsizing.rows.len() - 1] {
        let nodes = |cell: &str| cell.split(' ').next().unwrap().parse::<u32>().unwrap();
        assert!(nodes(&row[4]) >= nodes(&row[3]), "{row:?}");
    }
    assert!(assert_adds_up(section("Idle instances"), 5) > Money::ZERO);
    assert!(assert_adds_up(section("Dormant indexes"), 4) > Money::ZERO);
}

#[tokio::test]
async fn idle_resources_without_metrics_says_why_it_proposes_nothing() {
    let mut s = Sample::new();
    s.metrics = crate::ports::InMemoryDocument(Arc::new(crate::model::MetricsDocument::empty()));
    s.run(ReportType::IdleResources, Some("2026-11-23")).await.unwrap();
    let idle = s.store.get(ReportType::IdleResources, "2026-11-23", NOW).await.unwrap().unwrap();
    let rightsizing = idle.body.sections.iter().find(|s| s.title == "Rightsizing").unwrap();
    assert!(rightsizing.rows.is_empty());
    assert!(rightsizing.note.as_deref().unwrap().contains("No metrics yet"));
    assert!(!idle.body.facts.iter().any(|f| f.label == "Rightsizing / month"));
}
