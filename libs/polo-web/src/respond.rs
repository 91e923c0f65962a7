//! Building responses: pages, JSON and CSV.

use askama::Template;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::AppError;

/// Renders an askama page.
pub fn html<T: Template>(page: &T) -> Result<Response, AppError> {
    let body = page.render().map_err(|e| AppError::Internal(format!("template: {e}")))?;
    Ok(html_body(body))
}

/// An HTML body with its content type.
pub fn html_body(body: String) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], body).into_response()
}

/// A JSON body with its content type.
pub fn json_body<T: Serialize + ?Sized>(value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], bytes).into_response()
        }
        Err(e) => AppError::Internal(format!("json: {e}")).into_response(),
    }
}

/// JSON, as a handler result.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Response, AppError> {
    Ok(json_body(value))
}

/// A CSV body with its content type, offered as a download named `filename`.
pub fn csv(body: String, filename: &str) -> Result<Response, AppError> {
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{filename}\""))
        .map_err(|e| AppError::Internal(format!("header: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}
