//! The `polo` command line, as a library so tests drive the same app and commands.

pub mod cli;
pub mod cop;
pub mod manifest;
pub mod prices;
pub mod progress;
pub mod report;
pub mod serve;
pub mod sessions;
pub mod sync;

use axum::Router;
use polo_web::AppState;
use polo_web::routes::{RouteSpec, finish};

/// Every route of every function, in the order `polo manifest` prints them.
pub fn all_routes() -> Vec<RouteSpec> {
    [
        polo_dashboard::routes().specs(),
        polo_inventory::routes().specs(),
        polo_costs::routes().specs(),
        polo_report_pages::routes().specs(),
        polo_static::routes().specs(),
    ]
    .concat()
}

/// Every function's routes merged into one app: what `polo serve` runs.
pub fn app(state: AppState) -> Router {
    let routes = polo_dashboard::routes()
        .into_router(state.clone())
        .merge(polo_inventory::routes().into_router(state.clone()))
        .merge(polo_costs::routes().into_router(state.clone()))
        .merge(polo_report_pages::routes().into_router(state))
        .merge(polo_static::routes().into_stateless_router());
    finish(routes).layer(axum::middleware::from_fn(polo_web::routes::access_log))
}
