//! The `polo` command line, as a library so tests drive the same app and commands.

pub mod cli;
pub mod cop;
pub mod prices;
pub mod progress;
pub mod report;
pub mod serve;
pub mod sync;

use axum::Router;
use polo_web::AppState;
use polo_web::routes::{RouteSpec, finish, pages, public};

/// Every route of every function, in the order `polo routes` prints them.
pub fn all_routes() -> Vec<RouteSpec> {
    [
        polo_dashboard::ROUTES,
        polo_inventory::ROUTES,
        polo_costs::ROUTES,
        polo_reports::ROUTES,
        polo_static::ROUTES,
    ]
    .concat()
}

/// Every function's router merged into one app: what `polo serve` runs.
pub fn app(state: AppState) -> Router {
    let page_routes = polo_dashboard::router()
        .merge(polo_inventory::router())
        .merge(polo_costs::router())
        .merge(polo_reports::router());
    let sign_in = public(polo_web::auth::router(), state.clone());
    finish(pages(page_routes, state).merge(sign_in).merge(polo_static::router()))
        .layer(axum::middleware::from_fn(polo_web::access_log::access_log))
}
