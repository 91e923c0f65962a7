//! Each case worked out by hand from the bundled price table (us-east-1 on-demand: r6i.large
//! 0.126, r6i.xlarge 0.252, g5.xlarge 1.006, g5.2xlarge 1.212 per hour; 730 hours a month).

use super::*;
use crate::config::UtilizationSettings;
use crate::model::InstanceMetrics;

fn load(instance_type: &str, nodes: u32, desired: u32, cpu_p95: f64, memory: Option<f64>) -> RoleLoad {
    RoleLoad {
        instance_type: instance_type.into(),
        region: "us-east-1".into(),
        lifecycle: Lifecycle::OnDemand,
        nodes,
        desired,
        cpu_p95,
        memory_used_gib: memory,
        days: 14,
        missing_share: 0.0,
    }
}

fn table() -> PriceTable {
    PriceTable::bundled().unwrap()
}

#[test]
fn an_idle_memory_light_role_steps_down_a_size() {
    // 3 × r6i.xlarge (4 vCPU) at 20 %: 2.4 vCPU busy; r6i.large (2 vCPU) gives 40 % ≤ 60.
    // Memory 10 GiB × 1.2 = 12 ≤ 16. Now 3 × 0.252 × 730 = 551.88; after 3 × 0.126 × 730
    // = 275.94; saves 275.94 a month.
    let r = rightsize(&load("r6i.xlarge", 3, 3, 20.0, Some(10.0)), &table(), &Targets::default()).unwrap();
    assert_eq!((r.instance_type.as_str(), r.nodes), ("r6i.large", 3));
    assert!((r.projected_cpu_p95 - 40.0).abs() < 1e-9);
    assert_eq!((r.monthly_now.to_string(), r.monthly_after.to_string()), ("551.88".into(), "275.94".into()));
    assert_eq!(r.monthly_savings.to_string(), "275.94");
    assert_eq!(r.confidence, Confidence::High);
}

#[test]
fn a_busy_role_stays_as_it_is() {
    // At 35 %, r6i.large would run at 70 % > 60: nothing cheaper fits.
    assert_eq!(rightsize(&load("r6i.xlarge", 3, 3, 35.0, Some(10.0)), &table(), &Targets::default()), None);
}

#[test]
fn without_a_memory_metric_the_current_memory_is_needed() {
    // r6i.large has 16 GiB, the role's nodes 32: unmeasured, the memory stays.
    assert_eq!(rightsize(&load("r6i.xlarge", 3, 3, 20.0, None), &table(), &Targets::default()), None);
}

#[test]
fn a_gpu_role_stays_on_gpus() {
    // 2 × g5.2xlarge (8 vCPU) at 10 %: g5.xlarge (4 vCPU, 16 GiB, 1 GPU) gives 20 %;
    // 12 GiB × 1.2 = 14.4 ≤ 16. Now 2 × 1.212 × 730 = 1,769.52; after 2 × 1.006 × 730 =
    // 1,468.76; saves 300.76. Never a CPU type, however cheap.
    let r = rightsize(&load("g5.2xlarge", 2, 2, 10.0, Some(12.0)), &table(), &Targets::default()).unwrap();
    assert_eq!(r.instance_type, "g5.xlarge");
    assert_eq!(r.monthly_savings.to_string(), "300.76");
}

#[test]
fn never_fewer_nodes_than_the_registry_asks_for() {
    // 2 × r6i.xlarge at 20 % where 3 are asked for: 0.8 vCPU busy on each, 1.6 in all,
    // spread over 3 nodes is 0.53 each: 26.7 % of an r6i.large. 3 × r6i.large costs 275.94
    // against 2 × r6i.xlarge's 367.92: saves 91.98, on 3 nodes.
    let r = rightsize(&load("r6i.xlarge", 2, 3, 20.0, Some(10.0)), &table(), &Targets::default()).unwrap();
    assert_eq!((r.instance_type.as_str(), r.nodes), ("r6i.large", 3));
    assert!((r.projected_cpu_p95 - 26.7).abs() < 1e-9);
    assert_eq!(r.monthly_savings.to_string(), "91.98");
    // Where 5 are asked for, 5 × r6i.large (459.90) costs more than now: no proposal.
    assert_eq!(rightsize(&load("r6i.xlarge", 2, 5, 20.0, Some(10.0)), &table(), &Targets::default()), None);
}

#[test]
fn confidence_follows_the_days_of_data() {
    let mut l = load("r6i.xlarge", 3, 3, 20.0, Some(10.0));
    l.days = 9;
    assert_eq!(rightsize(&l, &table(), &Targets::default()).unwrap().confidence, Confidence::Medium);
    l.days = 14;
    l.missing_share = 0.3;
    assert_eq!(rightsize(&l, &table(), &Targets::default()).unwrap().confidence, Confidence::Medium);
    l.days = 3;
    assert_eq!(rightsize(&l, &table(), &Targets::default()).unwrap().confidence, Confidence::Low);
}

#[test]
fn p95_is_the_nearest_rank_of_the_days_with_data() {
    // 14 days 1..=14: rank ceil(14 × 0.95) = 14 → 14; a missing day is left out.
    let days: Vec<Option<f64>> = (1..=14).map(|d| Some(f64::from(d))).collect();
    assert_eq!(p95(&days), Some(14.0));
    // 20 values 1..=20: rank 19.
    let days: Vec<Option<f64>> = (1..=20).map(|d| Some(f64::from(d))).collect();
    assert_eq!(p95(&days), Some(19.0));
    assert_eq!(p95(&[None, Some(3.0), None]), Some(3.0));
    assert_eq!(p95(&[None, None]), None);
}

fn settings() -> UtilizationSettings {
    UtilizationSettings::default()
}

#[test]
fn an_instance_idle_on_most_days_is_idle_and_busy_days_or_gaps_do_not_count() {
    // 14 days: 9 at 2 % daily average CPU and 1 MB, 3 busy (40 %), 2 missing: 9 idle days ≥ 4.
    let mut d = InstanceMetrics::default();
    for n in 0..14 {
        let (cpu, net) = match n {
            0..=8 => (Some(2.0), Some(1_000_000.0)),
            9..=11 => (Some(40.0), Some(1_000_000.0)),
            _ => (None, None),
        };
        d.cpu_avg.push(cpu);
        // A daily peak does not make a day busy: Trusted Advisor reads the average.
        d.cpu_max.push(cpu.map(|c| c * 10.0));
        d.network_bytes.push(net);
    }
    assert_eq!(idle(&d, &settings()), Some(Idle { idle_days: 9, days: 12 }));
    // Idle on 3 days only: fewer than 4.
    let mut few = d.clone();
    few.cpu_avg[3..9].fill(Some(40.0));
    assert_eq!(idle(&few, &settings()), None);
    // Low CPU but 6 MB a day of network: not idle (both thresholds hold, or neither day counts).
    d.network_bytes = vec![Some(6_000_000.0); 14];
    assert_eq!(idle(&d, &settings()), None);
}

fn ready_index(created_days_ago: i64) -> Index {
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let mut x = crate::sample::generate(42, crate::sample::Scale::Small, now)
        .indexes
        .into_iter()
        .find(|x| x.status == IndexStatus::Ready)
        .unwrap();
    x.created_at = now - time::Duration::days(created_days_ago);
    x
}

#[test]
fn a_ready_index_without_queries_that_costs_is_dormant_until_traffic_returns() {
    let now = time::macros::datetime!(2026-11-24 12:00 UTC);
    let costly = Money::from_scaled(12_000, 2);
    let quiet = vec![Some(0.0); 14];
    let d = dormant(&ready_index(60), &quiet, costly, &settings(), now).unwrap();
    assert_eq!((d.days, d.queries), (14, 0.0));
    // Traffic back on one day: no longer dormant.
    let mut busy = quiet.clone();
    busy[13] = Some(250.0);
    assert_eq!(dormant(&ready_index(60), &busy, costly, &settings(), now), None);
    // Too young, too cheap, a day unknown, or too few days: not judged dormant.
    assert_eq!(dormant(&ready_index(5), &quiet, costly, &settings(), now), None);
    assert_eq!(dormant(&ready_index(60), &quiet, Money::from_scaled(4_000, 2), &settings(), now), None);
    let mut gap = quiet.clone();
    gap[3] = None;
    assert_eq!(dormant(&ready_index(60), &gap, costly, &settings(), now), None);
    assert_eq!(dormant(&ready_index(60), &quiet[..10], costly, &settings(), now), None);
}

mod sample {
    use time::macros::datetime;

    use crate::config::Config;
    use crate::model::Fleet;
    use crate::sample::{Scale, generate_all};
    use crate::utilization::{fleet_usage, idle_instances, index_dormant};

    const NOW: time::OffsetDateTime = datetime!(2026-11-24 12:00 UTC);

    #[test]
    fn the_sample_has_oversized_dormant_healthy_and_idle_and_never_proposes_fewer_nodes_than_desired() {
        let generated = generate_all(42, Scale::Small, NOW);
        let metrics = generated.metrics;
        let fleet = Fleet::new(generated.everything);
        let config = Config::bundled().unwrap();
        let prices = crate::pricing::PriceTable::configured(&config).unwrap();
        let drift: Vec<_> =
            crate::drift::fleet_drift(&fleet, &config.drift, &prices, NOW).map(|(_, d)| d).collect();
        let usage = fleet_usage(&fleet, &drift, &metrics, &prices, &config.drift, &config.utilization);
        let mut oversized = 0;
        let mut healthy = 0;
        for u in &usage {
            for r in &u.roles {
                if let Some(p) = &r.recommendation {
                    assert!(p.nodes >= r.load.desired && p.nodes >= r.load.nodes, "{r:?}");
                    assert!(p.monthly_savings > crate::Money::ZERO);
                    assert_eq!(p.monthly_now - p.monthly_after, p.monthly_savings);
                }
            }
            if u.oversized() {
                oversized += 1;
            } else if u.cpu_p95.is_some() {
                healthy += 1;
            }
        }
        let dormant = fleet
            .indexes()
            .iter()
            .zip(&usage)
            .filter(|(x, u)| index_dormant(x, u, &config.utilization, NOW).is_some())
            .count();
        let idle = idle_instances(&fleet, &metrics, &prices, &config.utilization).count();
        assert!(oversized >= 3, "{oversized} oversized");
        assert!(healthy >= 10, "{healthy} healthy");
        assert!(dormant >= 2, "{dormant} dormant");
        assert!(idle >= 5, "{idle} idle");
        assert_eq!(
            metrics.metrics_asked as usize,
            crate::utilization::plan::plan(&fleet, &prices, &config.utilization).len()
        );
    }
}

mod pull {
    use time::macros::{date, datetime};

    use crate::utilization::plan::{
        Collecting, MAX_POINTS, MAX_QUERIES, Measure, MetricQuery, batches, dimensions, template_problem,
        window,
    };

    fn query(account: &str, subject: &str, measure: Measure) -> MetricQuery {
        MetricQuery {
            account: account.into(),
            region: "us-east-1".into(),
            subject: subject.into(),
            measure,
            namespace: "AWS/EC2".into(),
            metric: "CPUUtilization".into(),
            dimensions: vec![("InstanceId".into(), subject.into())],
        }
    }

    #[test]
    fn a_batch_holds_one_scope_at_most_500_queries_and_100800_points() {
        // 14 days of daily sums: 14 points each, so 500 queries a request.
        let daily: Vec<MetricQuery> =
            (0..1_201).map(|n| query("prod", &format!("i-{n:05}"), Measure::NetworkIn)).collect();
        let sizes: Vec<usize> = batches(&daily, 14).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [MAX_QUERIES, MAX_QUERIES, 201]);
        // Hourly CPU over 14 days is 336 points: 300 queries fill 100,800.
        let hourly: Vec<MetricQuery> =
            (0..400).map(|n| query("prod", &format!("i-{n:05}"), Measure::Cpu)).collect();
        let cut = batches(&hourly, 14);
        assert_eq!(cut.iter().map(|b| b.len()).collect::<Vec<_>>(), [300, 100]);
        assert!(cut.iter().all(|b| b.iter().map(|q| q.measure.points(14)).sum::<usize>() <= MAX_POINTS));
        // Another account's role asks its own.
        let mixed = [query("dev", "i-1", Measure::Cpu), query("prod", "i-2", Measure::Cpu)];
        assert_eq!(batches(&mixed, 14).len(), 2);
        assert!(batches(&[], 14).is_empty());
    }

    #[test]
    fn hourly_cpu_becomes_each_days_highest_and_network_in_plus_out() {
        let now = datetime!(2026-11-24 12:00 UTC);
        let (first_day, start, end) = window(now, 2);
        assert_eq!((first_day, end), (date!(2026 - 11 - 22), datetime!(2026-11-24 00:00 UTC)));
        let mut c = Collecting::new(now, 2);
        let hour = time::Duration::hours(1);
        c.record(
            &query("prod", "i-1", Measure::Cpu),
            &[(start, 10.0), (start + hour, 35.5), (start + 24 * hour, 4.0)],
        );
        let day = time::Duration::days(1);
        c.record(&query("prod", "i-1", Measure::NetworkIn), &[(start, 100.0), (start + day, 50.0)]);
        // Out misses the second day: that day's network is unknown.
        c.record(&query("prod", "i-1", Measure::NetworkOut), &[(start, 20.0), (end, 999.0)]);
        c.asked(3, 1);
        let doc = c.finish();
        let i = doc.instance("i-1").unwrap();
        assert_eq!(i.cpu_max, [Some(35.5), Some(4.0)]);
        assert_eq!(i.network_bytes, [Some(120.0), None]);
        assert_eq!((doc.requests, doc.metrics_asked, doc.first_day), (1, 3, Some(first_day)));
    }

    #[test]
    fn a_traffic_template_names_each_index() {
        assert_eq!(
            dimensions("IndexId={index_id}, Stage = {account}", "idx-1", "prod", "us-east-1"),
            [("IndexId".to_owned(), "idx-1".to_owned()), ("Stage".to_owned(), "prod".to_owned())]
        );
        assert!(template_problem("IndexId={index_id}").is_none());
        assert!(template_problem("Stage=prod").unwrap().contains("{index_id}"));
        assert!(template_problem("IndexId").unwrap().contains("Name=value"));
    }

    #[test]
    fn a_bad_utilization_setting_is_refused_by_name() {
        let base = include_str!("../../../../config/polo.toml");
        for (from, to, key) in [
            ("days = 14 ", "days = 0 ", "utilization.days"),
            ("cpu_target_percent = 60.0", "cpu_target_percent = 160.0", "utilization.cpu_target_percent"),
            ("memory_headroom = 1.2", "memory_headroom = 0.5", "utilization.memory_headroom"),
            (
                "traffic_dimensions = \"IndexId={index_id}\"",
                "traffic_dimensions = \"Stage=prod\"",
                "utilization.traffic_dimensions",
            ),
        ] {
            assert!(base.contains(from), "{from}");
            let text = base.replace(from, to);
            let e = crate::config::Config::parse(&text, "polo.toml").unwrap_err().to_string();
            assert!(e.contains(key), "{key}: {e}");
        }
    }
}
