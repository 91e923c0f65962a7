//! The route table: each function's routes, assembled the same way for Lambda, the dev
//! server and `polo routes --json` (which the CDK app reads).

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use serde::Serialize;

use crate::error::{not_found, render_errors};
use crate::identity::require_identity;
use crate::security::security_headers;
use crate::state::AppState;

/// One route of one function.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct RouteSpec {
    pub method: &'static str,
    /// The API Gateway path (`/instances/{id}`).
    pub path: &'static str,
    /// The function (crate under `functions/`) that answers it.
    pub function: &'static str,
    /// Whether the route needs a signed-in user.
    pub authorized: bool,
}

impl RouteSpec {
    /// A GET page route of `function` that needs a signed-in user.
    pub const fn page(function: &'static str, path: &'static str) -> RouteSpec {
        RouteSpec { method: "GET", path, function, authorized: true }
    }

    /// A GET route of `function` open to everyone (sign-in, static files).
    pub const fn public(function: &'static str, path: &'static str) -> RouteSpec {
        RouteSpec { method: "GET", path, function, authorized: false }
    }
}

/// Page routes: identity required, state attached.
pub fn pages(router: Router<AppState>, state: AppState) -> Router {
    router.layer(from_fn_with_state(state.clone(), require_identity)).with_state(state)
}

/// Routes open to everyone (the sign-in flow), state attached.
pub fn public(router: Router<AppState>, state: AppState) -> Router {
    router.with_state(state)
}

/// The outer layers every function has: 404 fallback, errors rendered by format,
/// caching headers, security headers.
pub fn finish(router: Router) -> Router {
    router
        .fallback(not_found)
        .layer(from_fn(render_errors))
        .layer(from_fn(dynamic_caching))
        .layer(from_fn(security_headers))
}

/// Middleware: every answer that sets no caching of its own (static assets do) depends on
/// `HX-Request`, `HX-History-Restore-Request` and `Accept` and must be revalidated: a page, its htmx fragment and its JSON
/// share one URL, and back/forward must never show a bare fragment.
pub async fn dynamic_caching(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
        headers
            .append(header::VARY, HeaderValue::from_static("HX-Request, HX-History-Restore-Request, Accept"));
    }
    response
}
