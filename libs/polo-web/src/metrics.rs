//! CloudWatch embedded-metric-format lines: one per request, with its count and latency.

use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

/// Where metrics go: the namespace and the service dimension.
#[derive(Clone, Debug)]
pub struct Metrics {
    pub namespace: String,
    pub service: String,
}

impl Metrics {
    /// The EMF object of one request.
    pub fn request_line(&self, timestamp_ms: u128, status: u16, latency_ms: f64) -> serde_json::Value {
        json!({
            "_aws": {
                "Timestamp": u64::try_from(timestamp_ms).unwrap_or(u64::MAX),
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [["service"]],
                    "Metrics": [
                        { "Name": "requests", "Unit": "Count" },
                        { "Name": "errors", "Unit": "Count" },
                        { "Name": "latency", "Unit": "Milliseconds" }
                    ]
                }]
            },
            "service": self.service,
            "requests": 1,
            "errors": u8::from(status >= 500),
            "latency": latency_ms,
            "status": status,
        })
    }
}

/// Middleware: prints the request's EMF line on stdout once it is answered.
pub async fn emit(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    print_line(&metrics, response.status().as_u16(), started);
    response
}

/// Prints the EMF line of one answer with `status`, started at `started`.
pub fn print_line(metrics: &Metrics, status: u16, started: Instant) {
    let latency = (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let line = metrics.request_line(now, status, latency);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}
