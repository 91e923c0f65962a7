//! The scheduled sync function: each EventBridge scheduled event runs one full sync.

use std::sync::Arc;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use polo_core::Clock;
use polo_core::config::Config;
use polo_core::data::ResourceTable;
use polo_core::store::S3Store;
use polo_sync_engine::production::{RunSummary, run};

/// Clients and configuration, built once per container.
pub struct State {
    pub config: Config,
    pub sdk: aws_config::SdkConfig,
    pub store: Arc<S3Store>,
    pub table: ResourceTable,
    pub clock: Arc<dyn Clock>,
}

/// The environment the function needs, read once at cold start.
#[derive(Debug)]
pub struct Env {
    pub bucket: String,
    pub table: String,
    pub polo_config: Option<std::path::PathBuf>,
}

impl Env {
    /// Reads `DATA_BUCKET_NAME`, `DYNAMODB_TABLE_NAME` and `POLO_CONFIG` through `get`;
    /// a missing one is an error naming it.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Env, String> {
        let need =
            |name: &str| get(name).filter(|v| !v.is_empty()).ok_or_else(|| format!("{name}: required"));
        Ok(Env {
            bucket: need("DATA_BUCKET_NAME")?,
            table: need("DYNAMODB_TABLE_NAME")?,
            polo_config: get("POLO_CONFIG").filter(|v| !v.is_empty()).map(Into::into),
        })
    }
}

/// Runs one sync for one scheduled event.
pub async fn handle(state: &State, event: EventBridgeEvent<serde_json::Value>) -> Result<RunSummary, String> {
    tracing::info!(detail_type = %event.detail_type, source = %event.source, "sync started");
    let summary =
        Box::pin(run(&state.config, &state.sdk, Arc::clone(&state.store), &state.table, state.clock.now()))
            .await
            .map_err(|e| e.to_string())?;
    tracing::info!(
        pulls = summary.pulls,
        failed = summary.failed.len(),
        instances = summary.instances,
        indexes = summary.indexes,
        changes = summary.changes,
        "sync finished"
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_missing_variable() {
        let env = |vars: &'static [(&str, &str)]| {
            Env::from_lookup(move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned()))
        };
        assert_eq!(env(&[]).unwrap_err(), "DATA_BUCKET_NAME: required");
        assert_eq!(env(&[("DATA_BUCKET_NAME", "b")]).unwrap_err(), "DYNAMODB_TABLE_NAME: required");
        assert_eq!(env(&[("DATA_BUCKET_NAME", "b"), ("DYNAMODB_TABLE_NAME", "t")]).unwrap().table, "t");
    }
}
