//! Running a route table as a Lambda function: JSON logs, metrics, then `lambda_http`.

use std::sync::Arc;

use axum::Router;
use tracing::Instrument as _;

use crate::metrics::Metrics;

/// JSON logs on stdout, one object per line, level from `RUST_LOG` (default info). Each
/// line carries its spans: the service, and per invocation the Lambda request id.
pub fn init_json_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .with_target(false)
        .try_init();
}

/// Runs `future` inside the `service` span, so every log line names the service.
pub async fn in_service<F: std::future::Future>(service: &str, future: F) -> F::Output {
    future.instrument(tracing::info_span!("service", service = %service)).await
}

/// Serves `app` for API Gateway events (HTTP API payload 2.0 and REST 1.0) until the
/// runtime stops, with an access log line and an EMF metrics line per request.
pub async fn run(app: Router, metrics: Metrics) -> Result<(), lambda_http::Error> {
    let service = metrics.service.clone();
    let app = app
        .layer(axum::middleware::from_fn(crate::access_log::access_log))
        .layer(axum::middleware::from_fn_with_state(Arc::new(metrics), crate::metrics::emit));
    in_service(&service, lambda_http::run(app)).await
}

/// The error a function's `main` returns: printed by Rust as `Error: {message}`, one line,
/// rather than a Debug dump.
pub struct Fatal(String);

impl std::fmt::Debug for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.replace('\n', " "))
    }
}

impl<E: std::fmt::Display> From<E> for Fatal {
    fn from(e: E) -> Self {
        Fatal(e.to_string())
    }
}
