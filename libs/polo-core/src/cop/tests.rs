//! Each rule on its edges, and the bundled sample's findings: the cases it was built to
//! hold, no more.

use std::collections::BTreeMap;

use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use super::*;
use crate::Money;
use crate::model::{Everything, IndexStatus, InstanceState, Severity};
use crate::ports::{FindingStore as _, MemoryFindings};
use crate::sample::{Scale, generate_with_costs};

const NOW: OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

fn sample() -> (Everything, CostStore) {
    generate_with_costs(42, Scale::Small, NOW)
}

fn run(everything: Everything, costs: &CostStore, config: &Config, now: OffsetDateTime) -> Vec<Candidate> {
    let fleet = Fleet::new(everything);
    let prices =
        crate::pricing::PriceTable::bundled().unwrap().with_spot_discount(config.costs.spot_discount);
    evaluate(&RuleContext::new(&fleet, costs, config, &prices, now))
}

fn ids(found: &[Candidate], rule: &str) -> Vec<String> {
    found.iter().filter(|c| c.rule == rule).map(|c| c.resource_id.clone()).collect()
}

#[test]
fn the_sample_holds_the_cases_it_was_built_for() {
    let (everything, costs) = sample();
    let config = Config::bundled().unwrap();
    let found = run(everything.clone(), &costs, &config, NOW);
    let by_rule: BTreeMap<&str, usize> = found.iter().fold(BTreeMap::new(), |mut m, c| {
        *m.entry(c.rule).or_default() += 1;
        m
    });
    // Past a ttl date and past an expires-at instant; the future ttl is fine.
    assert_eq!(by_rule.get("ttl-expired"), Some(&2), "{by_rule:?}");
    assert_eq!(ids(&found, "orphan-instance").len(), 2);
    let named = |name: &str| {
        everything.instances.iter().find(|i| i.name.as_deref() == Some(name)).unwrap().id.clone()
    };
    assert!(ids(&found, "owner-missing").contains(&named("manual-debug-box")));
    let staging = ids(&found, "staging-long-running");
    assert!(staging.len() >= 2, "{staging:?}");
    // Stopped 95 and 45 days ago are over 30; 2 days ago is not.
    let stopped: Vec<&str> = ids(&found, "stopped-too-long")
        .iter()
        .filter_map(|id| everything.instances.iter().find(|i| &i.id == id))
        .filter_map(|i| i.name.as_deref())
        .filter(|n| n.starts_with("old-notebook"))
        .map(|_| "old")
        .collect();
    assert_eq!(stopped.len(), 2);
    assert!(by_rule.get("index-stuck").is_some_and(|n| *n >= 1));
    assert!(by_rule.get("index-without-instances").is_some_and(|n| *n >= 1));
    assert!(by_rule.get("cost-spike").is_some_and(|n| *n >= 1), "the sample's spike: {by_rule:?}");
    for c in &found {
        assert!(c.message.ends_with('.'), "{c:?}");
        assert!(!c.message.is_empty());
    }
    // Worst first.
    assert!(found.windows(2).all(|w| w[0].severity >= w[1].severity));
}

#[test]
fn stopped_too_long_turns_at_its_threshold() {
    let (mut everything, costs) = sample();
    let config = Config::bundled().unwrap();
    let i = everything.instances.iter_mut().find(|i| i.state == InstanceState::Stopped).unwrap();
    let id = i.id.clone();
    for (ago, expected) in [
        (Duration::days(30) - Duration::minutes(1), false),
        (Duration::days(30) + Duration::minutes(1), true),
    ] {
        let mut e = everything.clone();
        e.instances.iter_mut().find(|x| x.id == id).unwrap().state_since = Some(NOW - ago);
        assert_eq!(ids(&run(e, &costs, &config, NOW), "stopped-too-long").contains(&id), expected, "{ago}");
    }
    let _ = &mut everything;
}

#[test]
fn staging_long_running_turns_at_its_threshold_and_keeps_what_is_kept() {
    let (everything, costs) = sample();
    let config = Config::bundled().unwrap();
    let id = everything
        .instances
        .iter()
        .find(|i| i.account == "staging" && i.state == InstanceState::Running)
        .unwrap()
        .id
        .clone();
    let with = |ago: Duration, keep: bool| {
        let mut e = everything.clone();
        let i = e.instances.iter_mut().find(|x| x.id == id).unwrap();
        i.state_since = Some(NOW - ago);
        i.tags.remove("keep");
        if keep {
            i.tags.insert("keep".into(), "true".into());
        }
        ids(&run(e, &costs, &config, NOW), "staging-long-running").contains(&id)
    };
    assert!(!with(Duration::days(7) - Duration::minutes(1), false));
    assert!(with(Duration::days(7) + Duration::minutes(1), false));
    assert!(!with(Duration::days(70), true), "the keep tag keeps it");
}

#[test]
fn ttl_expired_turns_at_the_instant_and_after_the_date() {
    let (everything, costs) = sample();
    let config = Config::bundled().unwrap();
    let id = everything.instances.iter().find(|i| i.state == InstanceState::Running).unwrap().id.clone();
    let with = |key: &str, value: &str| {
        let mut e = everything.clone();
        let i = e.instances.iter_mut().find(|x| x.id == id).unwrap();
        i.tags.remove("ttl");
        i.tags.remove("expires-at");
        i.tags.insert(key.into(), value.into());
        run(e, &costs, &config, NOW).into_iter().find(|c| c.rule == "ttl-expired" && c.resource_id == id)
    };
    assert!(with("expires-at", "2026-11-24T12:00:01Z").is_none());
    assert!(with("expires-at", "2026-11-24T12:00:00Z").is_some());
    assert!(with("ttl", "2026-11-24").is_none(), "a date lasts to its end");
    assert!(with("ttl", "2026-11-23").is_some());
    let unreadable = with("ttl", "next tuesday").unwrap();
    assert!(unreadable.message.contains("cannot read (\"next tuesday\")"), "{}", unreadable.message);
}

#[test]
fn index_stuck_turns_at_its_threshold() {
    let (everything, costs) = sample();
    let config = Config::bundled().unwrap();
    let id = everything.indexes[0].index_id.clone();
    let with = |status: IndexStatus, ago: Duration| {
        let mut e = everything.clone();
        let x = e.indexes.iter_mut().find(|x| x.index_id == id).unwrap();
        x.status = status;
        x.status_since = Some(NOW - ago);
        ids(&run(e, &costs, &config, NOW), "index-stuck").contains(&id)
    };
    assert!(!with(IndexStatus::Modifying, Duration::hours(6) - Duration::minutes(1)));
    assert!(with(IndexStatus::Modifying, Duration::hours(6) + Duration::minutes(1)));
    assert!(with(IndexStatus::Failed, Duration::hours(7)));
    assert!(!with(IndexStatus::Ready, Duration::hours(700)));
}

#[test]
fn cost_spike_needs_the_factor_and_the_minimum() {
    let (everything, _) = sample();
    let config = Config::bundled().unwrap();
    let index = everything.indexes[0].index_id.clone();
    let day = time::macros::date!(2026 - 11 - 23);
    let store = |today_cents: i64| {
        let mut rows: Vec<crate::model::CostRow> = (1..=14)
            .map(|n| crate::model::CostRow {
                date: day - Duration::days(n),
                dimension: crate::model::CostDimension::Index,
                key: index.clone(),
                amount: Money::from_scaled(2_000, 2),
            })
            .collect();
        rows.push(crate::model::CostRow {
            date: day,
            dimension: crate::model::CostDimension::Index,
            key: index.clone(),
            amount: Money::from_scaled(today_cents, 2),
        });
        CostStore::from_rows(&rows).unwrap()
    };
    let spiked = |cents: i64| {
        ids(&run(everything.clone(), &store(cents), &config, NOW), "cost-spike").contains(&index)
    };
    // Mean 20.00; three times is 60.00, and the minimum is 50.00.
    assert!(!spiked(6_000), "exactly three times is not over");
    assert!(spiked(6_001));
    let mut quiet = config.clone();
    quiet.cop.rules.insert("cost-spike".into(), toml::toml! { factor = 3.0 min_amount = 100 });
    assert!(
        ids(&run(everything.clone(), &store(9_000), &quiet, NOW), "cost-spike").is_empty(),
        "under the minimum"
    );
}

#[test]
fn cost_spike_judges_the_newest_final_day_not_an_estimated_one() {
    let (everything, _) = sample();
    let config = Config::bundled().unwrap();
    let index = everything.indexes[0].index_id.clone();
    let day = time::macros::date!(2026 - 11 - 23);
    let row = |date, cents| crate::model::CostRow {
        date,
        dimension: crate::model::CostDimension::Index,
        key: index.clone(),
        amount: Money::from_scaled(cents, 2),
    };
    let mut rows: Vec<_> = (2..=15).map(|n| row(day - Duration::days(n), 2_000)).collect();
    rows.push(row(day - Duration::days(1), 2_000));
    rows.push(row(day, 9_000));
    let mut store = CostStore::from_rows(&rows).unwrap();
    assert!(ids(&run(everything.clone(), &store, &config, NOW), "cost-spike").contains(&index));
    // The same amounts while Cost Explorer still estimates the newest day: a partial day is
    // no spike, and the day before it is an ordinary one.
    store.estimated = vec![day];
    assert!(ids(&run(everything, &store, &config, NOW), "cost-spike").is_empty());
}

#[test]
fn rules_can_be_switched_off_and_their_severity_set() {
    let (everything, costs) = sample();
    let mut config = Config::bundled().unwrap();
    config.cop.rules.insert("owner-missing".into(), toml::toml! { enabled = false });
    config.cop.rules.insert("orphan-instance".into(), toml::toml! { severity = "critical" });
    let found = run(everything, &costs, &config, NOW);
    assert!(ids(&found, "owner-missing").is_empty());
    assert!(found.iter().filter(|c| c.rule == "orphan-instance").all(|c| c.severity == Severity::Critical));
    assert_eq!(RULES.len(), crate::config::RULE_IDS.len());
    for (rule, id) in RULES.iter().zip(crate::config::RULE_IDS) {
        assert_eq!(rule.id(), id);
    }
}

#[tokio::test]
async fn a_run_remembers_findings_and_tells_each_change_once() {
    use crate::ports::{InMemoryCosts, LocalDataService};
    let (everything, costs) = sample();
    let config = Config::bundled().unwrap();
    let costs = InMemoryCosts(std::sync::Arc::new(costs));
    let store = MemoryFindings::default();
    let data = LocalDataService::from_snapshot(everything.clone());
    let sources = CopSources::new(&data, &costs, &store, &config);

    let dry = run_cop(&sources, NOW, true).await.unwrap();
    assert!(!dry.due.is_empty());
    assert!(store.all().await.unwrap().is_empty(), "a dry run changes no state");

    let first = run_cop(&sources, NOW, false).await.unwrap();
    assert!(first.due.iter().all(|(_, n)| *n == Notice::New));
    let ids: Vec<String> = first.due.iter().map(|(f, _)| f.id.clone()).collect();
    store.mark_notified(&ids, NOW).await.unwrap();
    let again = run_cop(&sources, NOW + Duration::hours(1), false).await.unwrap();
    assert!(again.due.is_empty(), "nothing new within renotify_hours");
    let reminder = run_cop(&sources, NOW + Duration::hours(24), false).await.unwrap();
    // A day on, every finding told is due again (and a rule may have found a new one).
    let told_again: Vec<&String> =
        reminder.due.iter().filter(|(_, n)| *n == Notice::Reminder).map(|(f, _)| &f.id).collect();
    assert_eq!(told_again.len(), ids.len());
    let all: Vec<String> = reminder.due.iter().map(|(f, _)| f.id.clone()).collect();
    store.mark_notified(&all, NOW + Duration::hours(24)).await.unwrap();

    // The orphans vanish: their findings resolve, and only they are due.
    let mut fewer = everything;
    fewer.instances.retain(|i| !i.name.as_deref().is_some_and(|n| n.starts_with("orphan-storage")));
    let data = LocalDataService::from_snapshot(fewer);
    let sources = CopSources::new(&data, &costs, &store, &config);
    let resolved = run_cop(&sources, NOW + Duration::hours(25), false).await.unwrap();
    assert!(resolved.due.iter().all(|(_, n)| *n == Notice::Resolved), "{:?}", resolved.due);
    assert_eq!(resolved.due.iter().filter(|(f, _)| f.rule == "orphan-instance").count(), 2);
}

#[tokio::test]
async fn the_sample_has_every_drift_kind_priced_in_every_account_kind() {
    let (everything, costs) = sample();
    let config = Config::bundled().unwrap();
    let found = run(everything, &costs, &config, NOW);
    for rule in [
        "fleet-under-provisioned",
        "fleet-over-provisioned",
        "fleet-type-drift",
        "fleet-zombie",
        "fleet-stuck-transition",
    ] {
        for account in ["prod", "staging", "dev"] {
            let priced: Vec<&Candidate> = found
                .iter()
                .filter(|c| c.rule == rule && c.account == account)
                .filter(|c| c.monthly_cost_impact.is_some_and(|m| !m.is_zero()))
                .collect();
            assert!(
                !priced.is_empty(),
                "{rule} in {account}: {:?}",
                found.iter().filter(|c| c.rule == rule).collect::<Vec<_>>()
            );
        }
    }
    // `/` shows the sums of the same amounts, to the cent (stuck transitions apart: their
    // gap is priced under the other kinds), and the live judgement agrees with the findings.
    let (mut waste, mut short) = (crate::Money::ZERO, crate::Money::ZERO);
    for c in found.iter().filter(|c| c.rule.starts_with("fleet-") && c.rule != "fleet-stuck-transition") {
        let m = c.monthly_cost_impact.unwrap();
        if m.amount().is_sign_negative() { short += m } else { waste += m }
    }
    let (everything, _) = sample();
    let prices =
        crate::pricing::PriceTable::bundled().unwrap().with_spot_discount(config.costs.spot_discount);
    let fleet = Fleet::new(everything);
    let judged: Vec<_> =
        crate::drift::fleet_drift(&fleet, &config.drift, &prices, NOW).map(|(_, d)| d).collect();
    let totals = crate::drift::priced_waste(&fleet, &judged, &prices);
    let findings = super::reconcile(&[], &found, NOW);
    assert_eq!(crate::drift::totals_of_findings(&findings), totals);
    let summary = crate::summary::summarize(&fleet, &prices, totals, NOW);
    assert_eq!((summary.drift_waste, summary.drift_short), (waste, short));
    assert!(!waste.is_zero() && !short.is_zero());
    // `/` counts the open findings without copying them: the same severities and drift.
    let open: Vec<_> = findings.iter().filter(|f| f.resolved_at.is_none()).cloned().collect();
    let counted = crate::model::OpenSummary::of(&open);
    assert_eq!(counted.drift, totals);
    for severity in [Severity::Critical, Severity::Warning, Severity::Info] {
        assert_eq!(counted.count(severity), open.iter().filter(|f| f.severity == severity).count());
    }
    assert_eq!(counted.critical + counted.warning + counted.info, open.len());
    let store = MemoryFindings::default();
    store.save(&findings).await.unwrap();
    let in_place = crate::ports::FindingReader::open_summary(&store).await.unwrap();
    assert_eq!(in_place, counted, "the memory store counts in place what the default counts of copies");
    // `/cop` shares the store's findings; a write after it copies only what it changes.
    let held = crate::ports::FindingReader::all_findings(&store).await.unwrap();
    assert_eq!(held.len(), findings.len());
    let first = held[0].id.clone();
    store.mark_notified(std::slice::from_ref(&first), NOW).await.unwrap();
    assert_eq!(held[0].last_notified, findings[0].last_notified, "what a page holds does not change");
    let again = crate::ports::FindingReader::all_findings(&store).await.unwrap();
    assert_eq!(again[0].last_notified, Some(NOW));
    assert!(std::sync::Arc::ptr_eq(&held[1], &again[1]), "the others are still shared");
    // Under-provisioned is an availability risk (negative: money the index should cost);
    // over-provisioned and zombies are waste.
    let sign = |rule: &str| {
        found
            .iter()
            .filter(|c| c.rule == rule)
            .all(|c| c.monthly_cost_impact.unwrap().amount().is_sign_negative())
    };
    assert!(sign("fleet-under-provisioned"));
    assert!(!sign("fleet-over-provisioned") && !sign("fleet-zombie"));
}

/// The sample's findings of the utilization rules, judged with its metrics.
fn utilization_findings() -> (Vec<Candidate>, Everything) {
    let generated = crate::sample::generate_all(42, Scale::Small, NOW);
    let config = Config::bundled().unwrap();
    let fleet = Fleet::new(generated.everything.clone());
    let prices = crate::pricing::PriceTable::configured(&config).unwrap();
    let ctx = RuleContext::new(&fleet, &generated.costs, &config, &prices, NOW)
        .with_metrics(Some(&generated.metrics));
    (evaluate(&ctx), generated.everything)
}

#[test]
fn index_oversized_names_each_role_and_its_monthly_saving() {
    let (found, everything) = utilization_findings();
    let oversized: Vec<&Candidate> = found.iter().filter(|c| c.rule == "index-oversized").collect();
    assert!(oversized.len() >= 3, "{}", oversized.len());
    for c in oversized {
        let saving = c.monthly_cost_impact.unwrap();
        assert!(saving >= Money::new(rust_decimal::Decimal::from(20)), "{c:?}");
        assert!(
            c.message.contains("would run at") && c.message.contains(&saving.to_grouped_cents()),
            "{}",
            c.message
        );
        let index = everything.indexes.iter().find(|x| x.index_id == c.resource_id).unwrap();
        assert_eq!(index.status, IndexStatus::Ready);
    }
}

#[test]
fn index_dormant_prices_the_month_and_ends_when_traffic_returns() {
    let generated = crate::sample::generate_all(42, Scale::Small, NOW);
    let config = Config::bundled().unwrap();
    let fleet = Fleet::new(generated.everything);
    let prices = crate::pricing::PriceTable::configured(&config).unwrap();
    let judge = |metrics: &crate::model::MetricsDocument| {
        let ctx =
            RuleContext::new(&fleet, &generated.costs, &config, &prices, NOW).with_metrics(Some(metrics));
        evaluate(&ctx).into_iter().filter(|c| c.rule == "index-dormant").collect::<Vec<_>>()
    };
    let dormant = judge(&generated.metrics);
    assert!(dormant.len() >= 2);
    assert!(
        dormant.iter().all(|c| c.monthly_cost_impact.unwrap() >= Money::new(rust_decimal::Decimal::from(50)))
    );
    // A query on the last day: that index is no longer dormant; a gap: not judged either.
    let first = &dormant[0];
    let key = |c: &Candidate| crate::model::index_key(&c.resource_id, &c.account, &c.region);
    let mut returned = generated.metrics.clone();
    *returned.indexes.get_mut(&key(first)).unwrap().last_mut().unwrap() = Some(12.0);
    let second = &dormant[1];
    *returned.indexes.get_mut(&key(second)).unwrap().first_mut().unwrap() = None;
    let after = judge(&returned);
    assert_eq!(after.len(), dormant.len() - 2);
    assert!(!after.iter().any(|c| c.resource_id == first.resource_id || c.resource_id == second.resource_id));
}

#[test]
fn instance_idle_finds_strays_only_and_prices_them() {
    let (found, everything) = utilization_findings();
    let idle: Vec<&Candidate> = found.iter().filter(|c| c.rule == "instance-idle").collect();
    assert!(idle.len() >= 5);
    for c in idle {
        let i = everything.instances.iter().find(|i| i.id == c.resource_id).unwrap();
        assert!(i.index.is_none() && i.state == InstanceState::Running, "{c:?}");
        assert!(c.monthly_cost_impact.is_some() && c.message.contains("was idle on"), "{}", c.message);
    }
}

#[test]
fn without_metrics_the_utilization_rules_find_nothing() {
    let (everything, costs) = sample();
    let found = run(everything, &costs, &Config::bundled().unwrap(), NOW);
    assert!(!found.iter().any(|c| matches!(c.rule, "index-oversized" | "index-dormant" | "instance-idle")));
}
