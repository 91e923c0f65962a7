//! `idle-resources` (a day): instances stopped for long, indexes that no instance serves,
//! spend with no index, and from the metrics pulled: roles a cheaper type would carry,
//! idle instances and dormant indexes, each priced a month.

use std::fmt::Write as _;

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
            i.name.as_deref().unwrap_or_default().to_owned(),
            i.account.to_string(),
            i.instance_type.to_string(),
            i.owner.as_deref().unwrap_or_default().to_owned(),
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
    let measured = Measured::of(inputs, end);
    let mut headline = format!(
        "{} instances stopped for more than {days} days, {} indexes without instances, ${} spent with no index.",
        long_stopped.len(),
        without.len(),
        money(orphan_total)
    );
    let mut facts = vec![
        fact("Stopped long", long_stopped.len()),
        fact("Indexes without instances", without.len()),
        fact("Spend with no index", format!("${}", money(orphan_total))),
    ];
    let mut sections = vec![stopped, lonely, untagged];
    match measured {
        Ok(m) => {
            let _ = write!(
                headline,
                " Rightsizing would save ${} a month; {} idle instances, {} dormant indexes.",
                money(m.savings),
                m.idle_count,
                m.dormant_count
            );
            facts.push(fact("Rightsizing / month", format!("${}", money(m.savings))));
            facts.push(fact("Idle instances", m.idle_count));
            facts.push(fact("Dormant indexes", m.dormant_count));
            sections.extend(m.sections);
        }
        Err(why) => sections
            .push(Section::new("Rightsizing", &[("Index", false), ("Saving / month", true)]).with_note(why)),
    }
    ReportBody { headline, facts, sections, trend: Vec::new() }
}

/// What the metrics say: proposals, idle instances, dormant indexes.
struct Measured {
    sections: Vec<Section>,
    /// The sum of every proposal's saving, to the cent.
    savings: Money,
    idle_count: usize,
    dormant_count: usize,
}

impl Measured {
    /// From the inputs' metrics at `at`; `Err` saying why there is nothing to judge.
    fn of(inputs: &ReportInputs<'_>, at: OffsetDateTime) -> Result<Measured, String> {
        let metrics = inputs
            .metrics
            .filter(|m| m.pulled_at.is_some())
            .ok_or("No metrics yet: the sync's daily CloudWatch pull writes them (metrics.json).")?;
        let config = inputs.config;
        let prices = crate::pricing::PriceTable::configured(config).map_err(|e| e.to_string())?;
        let fleet = inputs.fleet;
        let drift: Vec<_> =
            crate::drift::fleet_drift(fleet, &config.drift, &prices, at).map(|(_, d)| d).collect();
        let usage = crate::utilization::fleet_usage(
            fleet,
            &drift,
            metrics,
            &prices,
            &config.drift,
            &config.utilization,
        );
        let window = format!(
            "{} days of CloudWatch from {}",
            metrics.days,
            metrics.first_day.map(|d| d.to_string()).unwrap_or_default()
        );

        let mut proposals = Section::new(
            "Rightsizing",
            &[
                ("Index", false),
                ("Customer", false),
                ("Role", false),
                ("Now", false),
                ("Proposed", false),
                ("p95 CPU now → after", false),
                ("Confidence", false),
                ("Saving / month", true),
            ],
        )
        .with_note(format!(
            "{window}: the cheapest type of each role's class that keeps its p95 CPU under {} % with the memory it needs, on no fewer nodes than the registry asks for.",
            config.utilization.cpu_target_percent
        ));
        let mut rows: Vec<(Money, Vec<String>)> = Vec::new();
        for (x, u) in fleet.indexes().iter().zip(&usage) {
            for r in &u.roles {
                let Some(p) = &r.recommendation else { continue };
                rows.push((
                    p.monthly_savings,
                    vec![
                        format!("{} ({})", x.name, x.index_id),
                        x.customer.clone(),
                        r.role.as_str().to_owned(),
                        format!("{} × {}", r.load.nodes, r.load.instance_type),
                        format!("{} × {}", p.nodes, p.instance_type),
                        format!("{:.1} % → {:.1} %", r.load.cpu_p95.unwrap_or(0.0), p.projected_cpu_p95),
                        p.confidence.as_str().to_owned(),
                        money(p.monthly_savings),
                    ],
                ));
            }
        }
        rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let savings: Money = rows.iter().map(|(m, _)| *m).sum();
        for (_, row) in rows {
            proposals.push(row);
        }
        let mut total = vec!["Total".to_owned()];
        total.extend(std::iter::repeat_n(String::new(), 6));
        total.push(money(savings));
        proposals.push_total(total);

        let s = &config.utilization;
        let mut idle = Section::new(
            "Idle instances",
            &[("Instance", false), ("Name", false), ("Account", false), ("Type", false), ("Idle days", true), ("Cost / month", true)],
        )
        .with_note(format!(
            "Running, serving no index, with CPU at most {} % and network at most {} MB on at least {} of the days measured.",
            s.idle_cpu_percent, s.idle_network_mb, s.idle_min_days
        ));
        let mut idle_total = Money::ZERO;
        let mut idle_count = 0;
        for crate::utilization::IdleInstance { instance: i, idle: judged, monthly } in
            crate::utilization::idle_instances(fleet, metrics, &prices, s)
        {
            idle_total += monthly.unwrap_or(Money::ZERO);
            idle_count += 1;
            idle.push(vec![
                i.id.clone(),
                i.name.as_deref().unwrap_or_default().to_owned(),
                i.account.to_string(),
                i.instance_type.to_string(),
                format!("{} of {}", judged.idle_days, judged.days),
                monthly.map(money).unwrap_or_default(),
            ]);
        }
        idle.push_total(vec![
            "Total".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            money(idle_total),
        ]);

        let mut dormant = Section::new(
            "Dormant indexes",
            &[("Index", false), ("Customer", false), ("Account", false), ("Queries", true), ("Cost / month", true)],
        )
        .with_note(format!(
            "Ready, older than {} days, fewer than {} queries over the last {} days, costing at least ${} a month.",
            s.dormant_days, s.dormant_max_queries, s.dormant_days, s.dormant_min_monthly
        ));
        let mut dormant_total = Money::ZERO;
        let mut dormant_count = 0;
        for (x, u) in fleet.indexes().iter().zip(&usage) {
            let Some(d) = crate::utilization::index_dormant(x, u, s, at) else { continue };
            dormant_total += d.monthly_cost;
            dormant_count += 1;
            dormant.push(vec![
                format!("{} ({})", x.name, x.index_id),
                x.customer.clone(),
                x.account.clone(),
                d.queries.to_string(),
                money(d.monthly_cost),
            ]);
        }
        dormant.push_total(vec![
            "Total".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            money(dormant_total),
        ]);
        Ok(Measured { sections: vec![proposals, idle, dormant], savings, idle_count, dormant_count })
    }
}
