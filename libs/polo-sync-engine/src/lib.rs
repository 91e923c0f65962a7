//! The sync: pull instances (EC2) and indexes (each account's index registry) from every
//! configured account and region, concurrently with a bound; write one document per
//! resource/account/region; combine the documents into the snapshot; in production, upsert
//! the resource table with the history of what changed.

pub mod accounts;
pub mod combine;
pub mod costs;
#[cfg(test)]
mod fuzz;
pub mod instances;
pub mod metrics;
pub mod optimizer;
pub mod production;
pub mod registry;
pub mod run;
pub mod usage;

pub use accounts::Reach;
pub use combine::{Combined, Duplicate, Previous, apply_to_table, combine};
pub use run::{DocumentOutcome, SyncPlan, sync, sync_observed};
