//! The dashboard function: `/`, the fleet at a glance.

mod overview;

use axum::routing::get;
use axum::Router;
use polo_web::routes::RouteSpec;
use polo_web::AppState;

/// The routes this function answers.
pub const ROUTES: &[RouteSpec] = &[RouteSpec::page("dashboard", "/")];

/// The dashboard routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/", get(overview::overview))
}
