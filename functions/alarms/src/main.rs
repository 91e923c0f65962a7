use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use polo_alarms::{State, handle};
use polo_telemetry::emf::Emitter;

#[tokio::main]
async fn main() -> Result<(), polo_lambda::Fatal> {
    let env = |name: &str| std::env::var(name).ok();
    polo_telemetry::init(env);
    // The ops webhook's URL lives in Secrets Manager; the function has only its ARN.
    let secret = polo_aws::slack_webhook_secret(env, &polo_aws::sdk_config().await)
        .ok_or("SLACK_WEBHOOK_SECRET_ARN: required")?;
    let state = Arc::new(State { slack: polo_slack::Delivery::from_lookup(env, Some(secret)) });
    let service = Emitter::from_lookup(env, "polo-alarms").service;
    let runtime = lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let state = Arc::clone(&state);
        let budget = polo_lambda::time_left(event.context.deadline, std::time::Duration::from_secs(2));
        async move { handle(&state, &event.payload, budget).await.map_err(Error::from) }
    }));
    Ok(polo_lambda::in_service(&service, runtime).await?)
}
