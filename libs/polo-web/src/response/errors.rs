//! How errors are shown: every handler's [`AppError`] (and axum's own rejections) becomes
//! the HTML error page or the JSON envelope, in the format the request asked for.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

use crate::error::{AppError, ErrorReport};
use crate::request::negotiate::Format;

/// Why a part of a page is missing, as the page says it, for a store that could not be read
/// while the rest of the page could: the store's own error text (names, AWS messages) stays
/// in the log.
pub fn unavailable(part: &str, e: &polo_core::ports::DataError) -> &'static str {
    tracing::warn!(part, error = %e, "a part of a page could not be read; the page shows the rest");
    match e {
        polo_core::ports::DataError::NoDataYet(_) => "nothing stored yet",
        polo_core::ports::DataError::Unreadable { .. } => "what is stored could not be read",
        polo_core::ports::DataError::Store(_) => {
            "the store did not answer (throttled, unreachable or denied); see the function's log"
        }
    }
}

/// The JSON error envelope: `{"error": {"status", "message", "param"}}`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a ErrorReport,
}

/// Middleware: turns every [`ErrorReport`] (and axum's own plain-text rejections) into an
/// HTML page, JSON or CSV-client-friendly JSON, as the request asked.
pub(crate) async fn render_errors(request: Request, next: Next) -> Response {
    let format = Format::lenient(request.uri().query(), request.headers());
    let lambda_request = request.extensions().get::<lambda_http::Context>().map(|c| c.request_id.clone());
    let response = next.run(request).await;
    let status = response.status();
    let report = match response.extensions().get::<ErrorReport>() {
        Some(report) => report.clone(),
        None if status.is_client_error() || status.is_server_error() => {
            if response.headers().contains_key(header::CONTENT_TYPE)
                && response.headers().get(header::CONTENT_TYPE)
                    != Some(&HeaderValue::from_static("text/plain; charset=utf-8"))
            {
                return response;
            }
            ErrorReport {
                status: status.as_u16(),
                message: status.canonical_reason().unwrap_or("error").to_lowercase(),
                param: None,
                request_id: None,
            }
        }
        None => return response,
    };
    let mut report = report;
    if status.is_server_error() {
        // Lambda's request id is on every log line of the invocation; elsewhere (polo serve)
        // a fresh one is logged here with the error.
        let id = lambda_request.or_else(|| crate::auth::flow::random_token(9).ok()).unwrap_or_default();
        tracing::warn!(request_id = %id, status = status.as_u16(), "answered with an error page");
        report.request_id = Some(id);
    }
    let (mut parts, _) = response.into_parts();
    parts.extensions.remove::<ErrorReport>();
    let mut rendered = match format {
        Format::Html => crate::response::layout::error_page(&report),
        Format::Json | Format::Csv => crate::response::respond::json_body(&ErrorBody { error: &report }),
    };
    *rendered.status_mut() = status;
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rendered.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rendered
}

/// The fallback of every router: a 404 naming the path.
pub(crate) async fn not_found(request: Request) -> AppError {
    AppError::NotFound(format!("no page at {}", request.uri().path()))
}
