//! Each case worked out by hand from the bundled price table (us-east-1 on-demand: r6i.large
//! 0.126, r6i.xlarge 0.252, g5.xlarge 1.006, g5.2xlarge 1.212 per hour; 730 hours a month).

use super::*;

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
