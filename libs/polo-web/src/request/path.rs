//! The id in a detail page's path (`/instances/{id}`).

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::error::AppError;

/// Longest id a path may name; anything longer names nothing.
const MAX_ID_CHARS: usize = 200;

/// A resource id from the path. A segment that is not UTF-8 once percent-decoded, or is
/// too long, names no resource: 404, like any other unknown id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(id)) if id.chars().count() <= MAX_ID_CHARS => Ok(PathId(id)),
            _ => Err(AppError::NotFound(format!("no page at {}", parts.uri.path()))),
        }
    }
}
