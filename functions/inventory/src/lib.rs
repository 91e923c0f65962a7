//! The inventory function: `/instances`, `/instances/{id}`, `/indexes`, `/indexes/{index_id}`.

mod indexes;
mod instances;
pub mod items;

use axum::Router;
use axum::routing::get;
use polo_web::AppState;
use polo_web::routes::RouteSpec;

/// The routes this function answers.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec::page("inventory", "/instances"),
    RouteSpec::page("inventory", "/instances/{id}"),
    RouteSpec::page("inventory", "/indexes"),
    RouteSpec::page("inventory", "/indexes/{index_id}"),
];

/// The inventory routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/instances", get(instances::list))
        .route("/instances/{id}", get(instances::detail))
        .route("/indexes", get(indexes::list))
        .route("/indexes/{index_id}", get(indexes::detail))
}
