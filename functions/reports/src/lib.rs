//! The reports function. Its pages come with the reports feature; until then it answers no route,
//! and every path is the shared 404.

use axum::Router;
use polo_web::AppState;
use polo_web::routes::RouteSpec;

/// The routes this function answers (none yet).
pub const ROUTES: &[RouteSpec] = &[];

/// The reports routes.
pub fn router() -> Router<AppState> {
    Router::new()
}
