use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use polo_reporter::{RunSummary, State, handle};
use polo_telemetry::emf::Emitter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), polo_lambda::Fatal> {
    polo_telemetry::init(|name| std::env::var(name).ok());
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let state = Arc::new(State::from_env(|name| std::env::var(name).ok(), &sdk)?);
    let metrics = Arc::new(Emitter::from_lookup(|name| std::env::var(name).ok(), "polo-reporter"));
    let service = metrics.service.clone();
    let runtime = lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (state, metrics) = (Arc::clone(&state), Arc::clone(&metrics));
        // Slack gets what is left of the invocation, less a margin to record what was sent.
        let budget = polo_lambda::time_left(event.context.deadline, polo_lambda::FINISHING_MARGIN);
        async move {
            let job = handle(&state, event.payload, budget);
            polo_lambda::measured(&metrics, job, RunSummary::metric_sets).await.map_err(Error::from)
        }
    }));
    Ok(polo_lambda::in_service(&service, runtime).await?)
}
