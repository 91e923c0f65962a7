//! The dashboard function: `/` (the fleet at a glance), `/search` and `/cop` (the Cloud
//! Cop's findings, and operators' actions on them).

mod audit;
mod cop;
mod cop_actions;
mod overview;
mod search;
mod slack_actions;

use polo_web::routes::Routes;

/// The routes this function answers: its pages and the sign-in flow.
pub fn routes() -> Routes {
    let pages = Routes::new("dashboard")
        .page("/", overview::overview)
        .page("/search", search::search_page)
        .page("/cop", cop::list)
        .action("/cop/{id}/{action}", cop_actions::act)
        .page("/audit", audit::list)
        .public_post("/slack/interactions", slack_actions::interactions);
    polo_web::routes::with_sign_in(pages)
}
