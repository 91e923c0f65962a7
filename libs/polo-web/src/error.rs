//! The one error type of every handler (`response::errors` shows it, in one place).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use polo_core::ports::DataError;
use serde::Serialize;

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
    /// The person is signed in but may not do this (outside the allowed groups or domains,
    /// or a viewer asking for an operator's action); the text says why.
    #[error("{0}")]
    Forbidden(String),
    /// A bearer token or sign-in answer that is not valid.
    #[error("{0}")]
    SignInRefused(String),
    /// `Accept` admits no representation of the page.
    #[error("{0}")]
    NotAcceptable(String),
    /// The request does not fit the resource as it stands (acting on a resolved finding).
    #[error("{0}")]
    Conflict(String),
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
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::Conflict(_) => StatusCode::CONFLICT,
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
            // The provider's own words, URLs and AWS error text stay in the log, with the
            // request id the page shows.
            AppError::Upstream(detail) => {
                tracing::error!(error = %detail, "upstream failure");
                "the identity provider did not answer as expected; try again".to_owned()
            }
            AppError::Data(DataError::NoDataYet(when)) => {
                format!("No data yet: {when}. This page fills in after it.")
            }
            AppError::Data(e) => {
                tracing::error!(error = %e, "data unavailable");
                match e {
                    DataError::Unreadable { .. } => "the stored data could not be read; it has been logged",
                    _ => "the data store did not answer; try again in a minute",
                }
                .to_owned()
            }
            other => other.to_string(),
        };
        let param = match self {
            AppError::BadParam { param, .. } => Some(param.clone()),
            _ => None,
        };
        ErrorReport { status: status.as_u16(), message, param, request_id: None }
    }
}

/// What the user is told about an error, in whatever format they asked for.
#[derive(Clone, Debug, Serialize)]
pub struct ErrorReport {
    pub status: u16,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The id the log lines of this request carry (Lambda's request id), so a person can quote
    /// it and an operator can find what happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl IntoResponse for AppError {
    /// An empty response carrying the report; `render_errors` gives it a body in the
    /// format the request asked for.
    fn into_response(self) -> Response {
        let report = self.report();
        let mut response = self.status().into_response();
        response.extensions_mut().insert(report);
        response
    }
}
