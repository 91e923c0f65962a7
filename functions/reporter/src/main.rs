use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use polo_core::SystemClock;
use polo_core::config::Config;
use polo_reporter::{RunSummary, State, handle};
use polo_telemetry::emf::Emitter;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), polo_lambda::Fatal> {
    let env = |name: &str| std::env::var(name).ok();
    polo_telemetry::init(env);
    let sdk = polo_aws::sdk_config().await;
    let stores = polo_aws::stores(&polo_aws::AwsEnv::from_lookup(env)?, &sdk);
    let config = Config::from_lookup(env)?;
    let delivery = polo_slack::Delivery::from_lookup(env, polo_aws::slack_webhook_secret(env, &sdk))
        .with_app(&stores.slack, &config.slack);
    let state = Arc::new(State::new(&stores, config, Arc::new(SystemClock), delivery));
    let metrics = Arc::new(Emitter::from_lookup(env, "polo-reporter"));
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
