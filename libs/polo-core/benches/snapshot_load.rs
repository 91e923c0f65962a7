//! What a route function pays at cold start for its data, on the large sample: the
//! inventory snapshot and the cost store, each as JSON (what Polo writes) and as
//! MessagePack (a binary serde format that keeps the models' serde attributes), read and
//! decoded, then indexed (`Fleet::new`). Median of 15 runs; numbers to
//! `bench/snapshot_load.json` (`cargo bench -p polo-core --bench snapshot_load`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::hint::black_box;
use std::time::Instant;

use polo_core::model::{CostStore, Everything, Fleet};
use polo_core::sample::{Scale, generate_with_costs};
use serde_json::json;
use time::macros::datetime;

const RUNS: usize = 15;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn median_ms(mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[RUNS / 2] * 100.0).round() / 100.0
}

fn main() {
    let (everything, store) = generate_with_costs(42, Scale::Large, datetime!(2026-11-24 12:00 UTC));
    let snapshot_json = serde_json::to_vec(&everything).unwrap();
    // The S3 snapshot route functions read in production carries no history (that is in
    // the resource table): the sync clears it before writing.
    let mut production = everything.clone();
    production.history.clear();
    let production_json = serde_json::to_vec(&production).unwrap();
    let snapshot_msgpack = rmp_serde::to_vec_named(&everything).unwrap();
    let costs_json = serde_json::to_vec(&store).unwrap();
    let costs_msgpack = rmp_serde::to_vec_named(&store).unwrap();
    let costs_binary = polo_core::model::cost_binary::encode(&store);
    let back: Everything = rmp_serde::from_slice(&snapshot_msgpack).unwrap();
    assert_eq!(back, everything, "MessagePack reads back the same snapshot");

    let snapshot_json_ms = median_ms(|| {
        black_box(serde_json::from_slice::<Everything>(black_box(&snapshot_json)).unwrap());
    });
    let snapshot_msgpack_ms = median_ms(|| {
        black_box(rmp_serde::from_slice::<Everything>(black_box(&snapshot_msgpack)).unwrap());
    });
    let production_json_ms = median_ms(|| {
        black_box(serde_json::from_slice::<Everything>(black_box(&production_json)).unwrap());
    });
    let path_tracking_ms = median_ms(|| {
        black_box(polo_core::ports::parse_snapshot_bytes(black_box(&production_json), "bench").unwrap());
    });
    let fleet_ms = median_ms(|| {
        black_box(Fleet::new(black_box(everything.clone())));
    });
    let clone_ms = median_ms(|| {
        black_box(black_box(&everything).clone());
    });
    let costs_json_ms = median_ms(|| {
        black_box(serde_json::from_slice::<CostStore>(black_box(&costs_json)).unwrap());
    });
    let costs_msgpack_ms = median_ms(|| {
        black_box(rmp_serde::from_slice::<CostStore>(black_box(&costs_msgpack)).unwrap());
    });
    let costs_binary_ms = median_ms(|| {
        black_box(polo_core::model::cost_binary::decode(black_box(&costs_binary)).unwrap());
    });
    let mb = |bytes: &[u8]| (bytes.len() as f64 / 1e4).round() / 100.0;
    let round = |ms: f64| (ms * 100.0).round() / 100.0;
    let results = json!({
        "what": "large sample (10,000 instances, 1,000 indexes, 400 cost days); decode = bytes in memory to the model; median of 15, optimized build, this machine",
        "snapshot": {
            "json": { "mb": mb(&snapshot_json), "decode_ms": snapshot_json_ms, "mb_per_s": (mb(&snapshot_json) / snapshot_json_ms * 1e3).round() },
            "msgpack": { "mb": mb(&snapshot_msgpack), "decode_ms": snapshot_msgpack_ms },
            "json_as_production_writes_it": { "mb": mb(&production_json), "decode_ms": production_json_ms, "decode_with_serde_path_to_error_ms": path_tracking_ms },
            "fleet_new_ms": round((fleet_ms - clone_ms).max(0.0)),
        },
        "cost_store": {
            "json": { "mb": mb(&costs_json), "decode_ms": costs_json_ms },
            "msgpack": { "mb": mb(&costs_msgpack), "decode_ms": costs_msgpack_ms },
            "binary": { "mb": mb(&costs_binary), "decode_ms": costs_binary_ms },
        },
    });
    let text = serde_json::to_string_pretty(&results).unwrap();
    println!("{text}");
    let out = std::path::PathBuf::from(
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").to_owned()),
    )
    .join("../../bench/snapshot_load.json");
    std::fs::write(out, text + "\n").unwrap();
}
