//! The scheduled reporter function: an EventBridge scheduled event starts one run.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use lambda_runtime::{Error, LambdaEvent, service_fn};

/// Answers one scheduled event. The reporter job itself lands with its feature; until then a
/// run fails loudly rather than pretending to have done something.
async fn handle(event: LambdaEvent<EventBridgeEvent<serde_json::Value>>) -> Result<serde_json::Value, Error> {
    tracing::warn!(request_id = %event.context.request_id, detail_type = %event.payload.detail_type, "reporter is not implemented in this build");
    Err("reporter is not implemented in this build".into())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    polo_web::lambda::init_json_logs();
    let service = std::env::var("POWERTOOLS_SERVICE_NAME").unwrap_or_else(|_| "polo-reporter".to_owned());
    polo_web::lambda::in_service(&service, lambda_runtime::run(service_fn(handle))).await
}
