//! The EMF line of each answered request: its count, 5xx error, latency and whether it was
//! the process's first (a cold start).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use polo_telemetry::emf::{Emitter, MetricSet};
use polo_telemetry::names;

/// Where a route function's metrics go: its namespace and service.
pub type Metrics = Emitter;

/// The metric set of one answer.
pub(crate) fn request_set(metrics: &Metrics, status: u16, started: Instant) -> MetricSet {
    MetricSet::new()
        .count(names::REQUESTS, 1)
        .count(names::ERRORS, usize::from(status >= 500))
        .millis(names::LATENCY, started.elapsed())
        .count(names::COLD_STARTS, metrics.cold_start())
}

/// Middleware: prints the request's EMF line on stdout once it is answered.
pub(crate) async fn emit(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let response = next.run(request).await;
    print_line(&metrics, response.status().as_u16(), started);
    response
}

/// Prints the EMF line of one answer with `status`, started at `started`.
pub(crate) fn print_line(metrics: &Metrics, status: u16, started: Instant) {
    metrics.print(&[request_set(metrics, status, started)]);
}
