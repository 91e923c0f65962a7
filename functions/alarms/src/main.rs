use std::sync::Arc;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use polo_alarms::{State, handle};
use polo_slack::SlackWebhook;

#[tokio::main]
async fn main() -> Result<(), polo_lambda::Fatal> {
    polo_telemetry::init(|name| std::env::var(name).ok());
    let url = std::env::var("SLACK_WEBHOOK_URL")
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or("SLACK_WEBHOOK_URL: required")?;
    let state = Arc::new(State { slack: SlackWebhook::new(url)? });
    let service = std::env::var("POWERTOOLS_SERVICE_NAME").unwrap_or_else(|_| "polo-alarms".to_owned());
    let runtime = lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let state = Arc::clone(&state);
        let budget = polo_lambda::time_left(event.context.deadline, std::time::Duration::from_secs(2));
        async move { handle(&state, &event.payload, budget).await.map_err(Error::from) }
    }));
    Ok(polo_lambda::in_service(&service, runtime).await?)
}
