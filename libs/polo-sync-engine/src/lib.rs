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
pub mod production;
pub mod registry;
pub mod run;

pub use accounts::Reach;
pub use combine::{Combined, Previous, apply_to_table, combine};
pub use run::{DocumentOutcome, SyncPlan, sync, sync_observed};

/// The SDK config every client starts from: credentials, endpoint (`AWS_ENDPOINT_URL`) and
/// region from the environment, `us-east-1` when no region is configured (STS needs one).
pub async fn base_config() -> aws_config::SdkConfig {
    let region = aws_config::meta::region::RegionProviderChain::default_provider().or_else("us-east-1");
    aws_config::defaults(aws_config::BehaviorVersion::latest()).region(region).load().await
}
