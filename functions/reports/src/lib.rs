//! The reports function: `/reports` (the newest of each type and every stored report as a
//! table) and `/reports/{type}/{period}` (one report's facts, tables and trend).

mod detail;
mod list;

use axum::Router;
use axum::routing::get;
use polo_web::AppState;
use polo_web::routes::RouteSpec;

/// The routes this function answers.
pub const ROUTES: &[RouteSpec] =
    &[RouteSpec::page("reports", "/reports"), RouteSpec::page("reports", "/reports/{type}/{period}")];

/// The reports routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/reports", get(list::list)).route("/reports/{type}/{period}", get(detail::detail))
}
