//! The app over real HTTP: spawned on port 0 with the sample (or a crafted snapshot), driven
//! with reqwest.

mod harness;

mod errors;
mod escaping;
mod pages;
mod snapshots;
mod static_assets;
mod tables;
