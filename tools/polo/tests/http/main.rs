//! The app over real HTTP: spawned on port 0 with the sample (or a crafted snapshot), driven
//! with reqwest.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_possible_truncation)]

mod harness;

mod cli;
mod cop;
mod cost_changes;
mod costs;
mod errors;
mod escaping;
mod faults;
mod fuzz;
mod hostile;
mod layouts;
mod pages;
mod reports;
mod sign_in;
mod slack;
mod snapshots;
mod static_assets;
mod tables;
mod utilization;
