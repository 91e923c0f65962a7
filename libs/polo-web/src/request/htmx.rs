//! htmx requests: the handler answers the partial it asked for, or the whole page.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// Whether the request wants only a fragment: sent by htmx (`HX-Request`) and not a
/// history restore (`HX-History-Restore-Request`), which needs the whole page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Htmx {
    pub partial: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for Htmx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let has = |name: &str| parts.headers.get(name).is_some_and(|v| v.as_bytes() == b"true");
        Ok(Htmx { partial: has("hx-request") && !has("hx-history-restore-request") })
    }
}
