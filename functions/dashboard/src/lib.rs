//! The dashboard function: `/` (the fleet at a glance), `/search` and `/cop` (the Cloud
//! Cop's findings).

mod cop;
mod overview;
mod search;

use axum::Router;
use axum::routing::get;
use polo_web::AppState;
use polo_web::routes::RouteSpec;

/// The routes this function answers.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec::page("dashboard", "/"),
    RouteSpec::page("dashboard", "/search"),
    RouteSpec::page("dashboard", "/cop"),
    RouteSpec::public("dashboard", "/auth/login"),
    RouteSpec::public("dashboard", "/auth/callback"),
    RouteSpec::public("dashboard", "/auth/logout"),
];

/// The dashboard's page routes (the sign-in routes are [`polo_web::auth::router`]).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::overview))
        .route("/search", get(search::search_page))
        .route("/cop", get(cop::list))
}
