use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use polo_core::SystemClock;
use polo_core::config::Config;
use polo_core::data::{
    DynamoDataService, NoFindings, ReportTable, ResourceTable, S3CostReader, S3SnapshotReader,
};
use polo_core::store::{SNAPSHOT_KEY, s3_client};
use polo_reporter::{RunSummary, State, handle};
use polo_telemetry::emf::Emitter;
use polo_web::config::SNAPSHOT_REVALIDATE;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), polo_web::lambda::Fatal> {
    polo_telemetry::init(|name| std::env::var(name).ok());
    let need = |name: &str| {
        std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| format!("{name}: required"))
    };
    let (bucket, table, reports) =
        (need("DATA_BUCKET_NAME")?, need("DYNAMODB_TABLE_NAME")?, need("DYNAMODB_REPORT_TABLE_NAME")?);
    let zone = match std::env::var("REPORT_TIMEZONE").ok().filter(|v| !v.is_empty()) {
        Some(name) => {
            Some(polo_core::calendar::ReportZone::parse(&name).map_err(|e| format!("REPORT_TIMEZONE: {e}"))?)
        }
        None => None,
    };
    let config_path = std::env::var("POLO_CONFIG").ok().filter(|v| !v.is_empty());
    let config = Config::load(config_path.as_deref().map(std::path::Path::new))?.with_report_zone(zone);
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let dynamo = polo_core::store::dynamo_client(&sdk);
    let state = Arc::new(State {
        fleet: Arc::new(S3SnapshotReader::new(s3_client(&sdk), &bucket, SNAPSHOT_KEY, SNAPSHOT_REVALIDATE)),
        costs: Arc::new(S3CostReader::new(s3_client(&sdk), &bucket, SNAPSHOT_REVALIDATE)),
        changes: Arc::new(DynamoDataService::new(ResourceTable::new(dynamo.clone(), table))),
        findings: Arc::new(NoFindings),
        store: Arc::new(ReportTable::new(dynamo, reports)),
        config,
        clock: Arc::new(SystemClock),
        delivery: polo_slack::Delivery::from_lookup(|name| std::env::var(name).ok())?,
    });
    let metrics = Arc::new(Emitter::from_lookup(|name| std::env::var(name).ok(), "polo-reporter"));
    let service = metrics.service.clone();
    let runtime = lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (state, metrics) = (Arc::clone(&state), Arc::clone(&metrics));
        // Slack gets what is left of the invocation, less a margin to record what was sent.
        let budget = polo_web::lambda::time_left(event.context.deadline, polo_web::lambda::FINISHING_MARGIN);
        async move {
            let job = handle(&state, event.payload, budget);
            polo_web::lambda::measured(&metrics, job, RunSummary::metric_sets).await.map_err(Error::from)
        }
    }));
    Ok(polo_web::lambda::in_service(&service, runtime).await?)
}
