//! Each report type built over the large sample (10,000 instances, 1,000 indexes, 400 cost
//! days, its history), in process: the generator alone, inputs already loaded. Median of
//! 15; numbers to `bench/reports.json` (`cargo bench -p polo-core --bench reports`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Instant;

use polo_core::config::Config;
use polo_core::model::Fleet;
use polo_core::reports::{Period, ReportInputs, ReportType, generate};
use polo_core::sample::{Scale, generate_with_costs};
use serde_json::json;
use time::macros::datetime;

const RUNS: usize = 15;
const TARGET_MS: f64 = 100.0;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let now = datetime!(2026-11-24 12:00 UTC);
    let (everything, costs) = generate_with_costs(42, Scale::Large, now);
    let changes = everything.history.clone();
    let findings = everything.findings.clone();
    let fleet = Fleet::new(everything);
    let config = Config::bundled().unwrap();
    let inputs = ReportInputs {
        fleet: &fleet,
        costs: &costs,
        changes: &changes,
        findings: &findings,
        config: &config,
        usage: None,
        metrics: None,
    };
    let mut results = serde_json::Map::new();
    let mut misses = Vec::new();
    for kind in ReportType::ALL {
        let period = Period::last_complete(kind.granularity(), now, &config.reports.timezone);
        let mut times: Vec<f64> = (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                black_box(generate(kind, period, black_box(&inputs), now));
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let (p50, max) = (times[RUNS / 2], times[RUNS - 1]);
        let round = |ms: f64| (ms * 100.0).round() / 100.0;
        println!("{:<18} {period}  p50 {:>7.2} ms  max {:>7.2} ms", kind.as_str(), p50, max);
        if p50 >= TARGET_MS {
            misses.push(kind.as_str());
        }
        results.insert(
            kind.as_str().to_owned(),
            json!({"period": period.to_string(), "p50_ms": round(p50), "max_ms": round(max), "target_ms": TARGET_MS, "pass": p50 < TARGET_MS}),
        );
    }
    let out = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned()),
    )
    .join("../../bench/reports.json");
    let doc = json!({"what": "each report type over the large sample, generator only, inputs loaded; median and max of 15, optimized build", "reports": results});
    std::fs::write(out, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    assert!(misses.is_empty(), "over {TARGET_MS} ms: {misses:?}");
}
