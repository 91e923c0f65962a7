//! The route table: each function's routes ([`Routes`]), assembled the same way for
//! Lambda, the dev server and `polo manifest --json` (which the CDK app reads).

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{HeaderValue, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;

use crate::app::identity::require_identity;
use crate::app::state::AppState;
use crate::response::errors::{not_found, render_errors};
use crate::response::security::security_headers;

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

    /// A POST route of `function` that changes something: a signed-in user, and the handler
    /// checks the role and the form's CSRF token.
    pub const fn action(function: &'static str, path: &'static str) -> RouteSpec {
        RouteSpec { method: "POST", path, function, authorized: true }
    }

    /// A POST route of `function` that checks its caller itself (logout, by its CSRF token).
    pub const fn public_post(function: &'static str, path: &'static str) -> RouteSpec {
        RouteSpec { method: "POST", path, function, authorized: false }
    }
}

/// A function's routes, each path written once, in API Gateway's form (`/instances/{id}`,
/// `/static/{proxy+}`): the spec the manifest and the CDK app read, and the axum route
/// (`{proxy+}` becomes `{*proxy}`) the function serves, are made from the same call.
pub struct Routes<S = AppState> {
    function: &'static str,
    specs: Vec<RouteSpec>,
    pages: Router<S>,
    public: Router<S>,
}

/// The axum form of an API Gateway path: a greedy `{name+}` becomes `{*name}`.
fn axum_path(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
            Some(name) => format!("{{*{name}}}"),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    /// No routes yet, for `function` (its directory under `functions/`).
    pub fn new(function: &'static str) -> Routes<S> {
        Routes { function, specs: Vec::new(), pages: Router::new(), public: Router::new() }
    }

    /// A GET route open to everyone (sign-in, static files).
    #[must_use]
    pub fn public<H: Handler<T, S>, T: 'static>(mut self, path: &'static str, handler: H) -> Routes<S> {
        self.public = self.public.route(&axum_path(path), get(handler));
        self.specs.push(RouteSpec::public(self.function, path));
        self
    }

    /// A POST route that checks its caller itself (logout: the session's CSRF token).
    #[must_use]
    pub fn public_post<H: Handler<T, S>, T: 'static>(mut self, path: &'static str, handler: H) -> Routes<S> {
        self.public = self.public.route(&axum_path(path), axum::routing::post(handler));
        self.specs.push(RouteSpec::public_post(self.function, path));
        self
    }

    /// What the manifest says of these routes.
    pub fn specs(&self) -> &[RouteSpec] {
        &self.specs
    }
}

impl Routes<AppState> {
    /// A GET page that needs a signed-in user.
    #[must_use]
    pub fn page<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, handler: H) -> Routes {
        self.pages = self.pages.route(&axum_path(path), get(handler));
        self.specs.push(RouteSpec::page(self.function, path));
        self
    }

    /// A POST that changes something, behind the identity check like a page.
    #[must_use]
    pub fn action<H: Handler<T, AppState>, T: 'static>(mut self, path: &'static str, handler: H) -> Routes {
        self.pages = self.pages.route(&axum_path(path), axum::routing::post(handler));
        self.specs.push(RouteSpec::action(self.function, path));
        self
    }

    /// The routes served with `state`: pages behind the identity check, public routes open.
    pub fn into_router(self, state: AppState) -> Router {
        pages(self.pages, state.clone()).merge(public(self.public, state))
    }
}

impl Routes<()> {
    /// Routes that need no state (only public ones: a page needs the identity check's state).
    pub fn into_stateless_router(self) -> Router {
        self.public
    }
}

/// Page routes: identity required, state attached.
fn pages(router: Router<AppState>, state: AppState) -> Router {
    router.layer(from_fn_with_state(state.clone(), require_identity)).with_state(state)
}

/// Routes open to everyone (the sign-in flow), state attached.
fn public(router: Router<AppState>, state: AppState) -> Router {
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
/// `HX-Request`, `HX-History-Restore-Request` and `Accept` and is never stored (`no-store`:
/// it shows a signed-in user's fleet, which no cache and no shared disk should keep): a page,
/// its htmx fragment and its JSON share one URL, and back/forward must never show a bare
/// fragment.
pub(crate) async fn dynamic_caching(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        headers
            .append(header::VARY, HeaderValue::from_static("HX-Request, HX-History-Restore-Request, Accept"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::axum_path;

    #[test]
    fn a_greedy_api_gateway_segment_is_an_axum_wildcard() {
        assert_eq!(axum_path("/static/{proxy+}"), "/static/{*proxy}");
        assert_eq!(axum_path("/instances/{id}"), "/instances/{id}");
        assert_eq!(axum_path("/"), "/");
    }
}
