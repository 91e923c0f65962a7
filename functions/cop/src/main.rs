use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use polo_cop::{CopSummary, State, handle};
use polo_core::SystemClock;
use polo_core::config::Config;
use polo_core::data::{FindingTable, S3CostReader, S3SnapshotReader};
use polo_core::store::SNAPSHOT_REVALIDATE;
use polo_core::store::{SNAPSHOT_KEY, s3_client};
use polo_telemetry::emf::Emitter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), polo_lambda::Fatal> {
    polo_telemetry::init(|name| std::env::var(name).ok());
    let need = |name: &str| {
        std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| format!("{name}: required"))
    };
    let (bucket, reports) = (need("DATA_BUCKET_NAME")?, need("DYNAMODB_REPORT_TABLE_NAME")?);
    let config_path = std::env::var("POLO_CONFIG").ok().filter(|v| !v.is_empty());
    let config = Config::load(config_path.as_deref().map(std::path::Path::new))?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let state = Arc::new(State {
        fleet: Arc::new(S3SnapshotReader::new(s3_client(&sdk), &bucket, SNAPSHOT_KEY, SNAPSHOT_REVALIDATE)),
        costs: Arc::new(S3CostReader::new(s3_client(&sdk), &bucket, SNAPSHOT_REVALIDATE)),
        findings: FindingTable::new(polo_core::store::dynamo_client(&sdk), reports),
        config,
        clock: Arc::new(SystemClock),
        delivery: polo_slack::Delivery::from_lookup(|name| std::env::var(name).ok())?,
    });
    let metrics = Arc::new(Emitter::from_lookup(|name| std::env::var(name).ok(), "polo-cop"));
    let service = metrics.service.clone();
    let runtime = lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (state, metrics) = (Arc::clone(&state), Arc::clone(&metrics));
        let budget = polo_lambda::time_left(event.context.deadline, polo_lambda::FINISHING_MARGIN);
        async move {
            let job = Box::pin(handle(&state, &event.context.request_id, budget));
            polo_lambda::measured(&metrics, job, CopSummary::metric_sets).await.map_err(Error::from)
        }
    }));
    Ok(Box::pin(polo_lambda::in_service(&service, runtime)).await?)
}
