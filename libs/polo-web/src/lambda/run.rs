//! Running a route table as a Lambda function: JSON logs, metrics, then `lambda_http`.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use lambda_http::LambdaEvent;
use lambda_http::request::LambdaRequest;
// What every function's main shares, HTTP or not (the jobs depend on polo-lambda alone).
pub use polo_lambda::{Fatal, in_service};

use polo_core::ports::Stores;

use crate::app::config::FunctionConfig;
use crate::app::metrics::Metrics;
use crate::lambda::event::{Rejected, rejection_response, sanitize};
use crate::routes::assemble::{Routes, finish};

/// A route function's whole life: its configuration from the environment (`lookup`), its
/// app over `stores` (`polo_aws::DataEnv`), served until the runtime stops.
pub async fn serve(
    routes: Routes,
    stores: Stores,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), Fatal> {
    let config = FunctionConfig::from_lookup(lookup)?;
    let state = config.into_state(stores)?;
    Ok(run(finish(routes.into_router(state)), config.metrics).await?)
}

/// Serves `app` for API Gateway events (HTTP API payload 2.0 and REST 1.0) until the
/// runtime stops, with an access log line and an EMF metrics line per event. Each event is
/// first made safe to become a request ([`crate::lambda::event::sanitize`]); one that cannot
/// is answered 400 naming the problem (logged and counted like any other answer), never an
/// invocation error.
pub async fn run(app: Router, metrics: Metrics) -> Result<(), lambda_http::Error> {
    let service = metrics.service.clone();
    let metrics = Arc::new(metrics);
    let app = app
        .layer(axum::middleware::from_fn(crate::routes::access_log::access_log))
        .layer(axum::middleware::from_fn_with_state(Arc::clone(&metrics), crate::app::metrics::emit));
    let adapter = lambda_http::Adapter::from(app);
    let handler = lambda_http::service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let (adapter, metrics) = (adapter.clone(), Arc::clone(&metrics));
        async move { answer(adapter, &metrics, event).await }
    });
    in_service(&service, lambda_http::lambda_runtime::run(handler)).await
}

/// One event: repaired and handed to the app, or refused with a 400.
async fn answer<S>(
    mut adapter: S,
    metrics: &Metrics,
    event: LambdaEvent<serde_json::Value>,
) -> Result<serde_json::Value, lambda_http::Error>
where
    S: lambda_http::Service<LambdaEvent<LambdaRequest>>,
    S::Response: serde::Serialize,
    S::Error: std::fmt::Display,
{
    let started = Instant::now();
    let LambdaEvent { mut payload, context } = event;
    let rejected = match sanitize(&mut payload) {
        Ok(_) => match serde_json::from_value::<LambdaRequest>(payload.clone()) {
            Ok(request) => {
                // `lambda_http` builds the request in `call`; a panic there is a 400 too.
                let call = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    adapter.call(LambdaEvent::new(request, context))
                }));
                match call {
                    Ok(future) => {
                        let response = future.await.map_err(|e| lambda_http::Error::from(e.to_string()))?;
                        return Ok(serde_json::to_value(response)?);
                    }
                    Err(_) => Rejected { param: "event", message: "the request cannot be read".into() },
                }
            }
            Err(e) => {
                Rejected { param: "event", message: format!("the event is not an API Gateway request: {e}") }
            }
        },
        Err(rejected) => rejected,
    };
    let path = payload
        .get("rawPath")
        .or_else(|| payload.get("path"))
        .and_then(|p| p.as_str())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    tracing::info!(
        method = payload.pointer("/requestContext/http/method").or_else(|| payload.get("httpMethod")).and_then(|m| m.as_str()).unwrap_or(""),
        path = %path,
        status = 400,
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        param = rejected.param,
        error = %rejected.message,
        "request"
    );
    crate::app::metrics::print_line(metrics, 400, started);
    Ok(rejection_response(&rejected))
}
