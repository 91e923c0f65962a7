//! The report pages function: `/reports` (the newest of each type and every stored report as a
//! table) and `/reports/{type}/{period}` (one report's facts, tables and trend).

mod detail;
mod list;

use polo_web::routes::Routes;

/// The routes this function answers.
pub fn routes() -> Routes {
    Routes::new("report-pages").page("/reports", list::list).page("/reports/{type}/{period}", detail::detail)
}
