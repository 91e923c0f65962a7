//! Running a route table as a Lambda function: JSON logs, then `lambda_http`.

use axum::Router;

/// JSON logs on stdout, one object per line, level from `RUST_LOG` (default info).
pub fn init_json_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_target(false)
        .without_time()
        .try_init();
}

/// Serves `app` for API Gateway events (HTTP API payload 2.0 and REST 1.0) until the
/// runtime stops.
pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(app).await
}
