//! The one error type of every handler, and the one place it becomes a response.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use polo_core::ports::DataError;
use serde::Serialize;

use crate::negotiate::Format;

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A query parameter that is unknown or malformed.
    #[error("{message}")]
    BadParam { param: String, message: String },
    /// No such page or resource.
    #[error("{0}")]
    NotFound(String),
    /// The request carries no identity.
    #[error("sign-in required")]
    Unauthorized,
    /// A bearer token or sign-in answer that is not valid.
    #[error("{0}")]
    SignInRefused(String),
    /// `Accept` admits no representation of the page.
    #[error("{0}")]
    NotAcceptable(String),
    /// A service Polo needs is not set up (sign-in without an issuer, say).
    #[error("{0}")]
    Unavailable(String),
    /// A service Polo asked failed (the identity provider).
    #[error("{0}")]
    Upstream(String),
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A bug or a failure the user cannot act on.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    /// A 400 naming the parameter.
    pub fn bad_param(param: &str, message: impl Into<String>) -> Self {
        AppError::BadParam { param: param.to_owned(), message: message.into() }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadParam { .. } => StatusCode::BAD_REQUEST,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Unauthorized | AppError::SignInRefused(_) => StatusCode::UNAUTHORIZED,
            AppError::Unavailable(_) | AppError::Data(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Upstream(_) => StatusCode::BAD_GATEWAY,
            AppError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn report(&self) -> ErrorReport {
        let status = self.status();
        let message = match self {
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                "something went wrong on our side; it has been logged".to_owned()
            }
            AppError::Upstream(detail) => {
                tracing::error!(error = %detail, "upstream failure");
                detail.clone()
            }
            AppError::Data(DataError::NoDataYet(when)) => {
                format!("No data yet: {when}. This page fills in after it.")
            }
            AppError::Data(e) => {
                tracing::error!(error = %e, "data unavailable");
                format!("the data is unavailable right now: {e}")
            }
            other => other.to_string(),
        };
        let param = match self {
            AppError::BadParam { param, .. } => Some(param.clone()),
            _ => None,
        };
        ErrorReport { status: status.as_u16(), message, param }
    }
}

/// What the user is told about an error, in whatever format they asked for.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorReport {
    pub status: u16,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

/// The JSON error envelope: `{"error": {"status", "message", "param"}}`.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a ErrorReport,
}

impl IntoResponse for AppError {
    /// An empty response carrying the report; [`render_errors`] gives it a body in the
    /// format the request asked for.
    fn into_response(self) -> Response {
        let report = self.report();
        let mut response = self.status().into_response();
        response.extensions_mut().insert(report);
        response
    }
}

/// Middleware: turns every [`ErrorReport`] (and axum's own plain-text rejections) into an
/// HTML page, JSON or CSV-client-friendly JSON, as the request asked.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let format = Format::lenient(request.uri().query(), request.headers());
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
            }
        }
        None => return response,
    };
    let (mut parts, _) = response.into_parts();
    parts.extensions.remove::<ErrorReport>();
    let mut rendered = match format {
        Format::Html => crate::layout::error_page(&report),
        Format::Json | Format::Csv => crate::respond::json_body(&ErrorBody { error: &report }),
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
pub async fn not_found(request: Request) -> AppError {
    AppError::NotFound(format!("no page at {}", request.uri().path()))
}
