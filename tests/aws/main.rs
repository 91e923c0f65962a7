//! The AWS data plane against a real local AWS emulator (moto server, started by
//! `scripts/test`, which exports `POLO_TEST_AWS_ENDPOINT`). Each test works in AWS accounts
//! of its own (reached by AssumeRole), so tests run in parallel without sharing state.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::too_many_lines,
    clippy::similar_names,
    clippy::large_futures,
    clippy::assigning_clones,
    clippy::collapsible_if
)]

mod cbor;
mod fleet;
mod harness;
mod proxy;
#[allow(dead_code)]
#[path = "../lambda/runtime_api.rs"]
mod runtime_api;

mod bench_costs;
mod bench_huge;
mod bench_jobs;
mod bench_sync;
mod cop;
mod costs;
mod data_services;
mod faults;
mod history;
mod index_identity;
mod large_export;
mod metrics;
mod partial_outage;
mod prices;
mod reports;
mod sessions;
mod snapshot_s3;
mod sync;
mod sync_function;
mod table_mirror;
mod traces;
mod trail;
