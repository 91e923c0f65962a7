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
pub(crate) fn json_body<T: Serialize + ?Sized>(value: &T) -> Response {
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

/// A CSV answer of any size: inline up to the function's limit, else stored in the export
/// store and answered with a 303 to its short-lived URL (a Lambda answer cannot exceed 6 MB).
pub(crate) async fn csv_export(
    state: &crate::AppState,
    body: String,
    filename: &str,
) -> Result<Response, AppError> {
    let limit = state.settings.inline_csv_limit.unwrap_or(usize::MAX);
    if json_escaped_len(&body) <= limit {
        return csv(body, filename);
    }
    let Some(exports) = &state.exports else {
        return Err(AppError::Unavailable(format!(
            "this CSV is {:.1} MB, more than one answer can carry, and no export bucket is configured \
             (DATA_BUCKET_NAME): narrow it with filters",
            f64::from(u32::try_from(body.len()).unwrap_or(u32::MAX)) / 1e6
        )));
    };
    let url =
        exports.publish(filename, "text/csv; charset=utf-8", body.into_bytes(), state.clock.now()).await?;
    let location = HeaderValue::from_str(&url).map_err(|e| AppError::Internal(format!("export url: {e}")))?;
    Ok((
        axum::http::StatusCode::SEE_OTHER,
        [(header::LOCATION, location), (header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
    )
        .into_response())
}

/// How long `text` is once written as a JSON string: what counts against Lambda's 6 MB
/// response limit (a quote or newline takes two bytes, other control bytes six).
pub(crate) fn json_escaped_len(text: &str) -> usize {
    text.bytes()
        .map(|b| match b {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0..0x20 => 6,
            _ => 1,
        })
        .sum()
}
