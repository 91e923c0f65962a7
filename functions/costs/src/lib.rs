//! The costs function: `/costs` (where the money goes and where the month is heading),
//! `/costs/{dimension}` (a table per index, customer, account, service) and
//! `/costs/{dimension}/{key}` (one key's daily trend as a server-drawn SVG chart, and its
//! change split into causes as a waterfall), `/costs/changes` (why each key's cost changed).

mod changes;
mod detail;
mod overview;
mod table;

use polo_core::costs::Breakdown;
use polo_web::routes::Routes;
use polo_web::{AppError, AppState};

/// The routes this function answers.
pub fn routes() -> Routes {
    Routes::new("costs")
        .page("/costs", overview::overview)
        .page("/costs/changes", changes::list)
        .page("/costs/{dimension}", table::list)
        .page("/costs/{dimension}/{key}", detail::detail)
}

/// The breakdown a path names, or a 404.
fn dimension(text: &str) -> Result<Breakdown, AppError> {
    Breakdown::from_param(text).ok_or_else(|| {
        AppError::NotFound(format!("no cost breakdown {text:?}: index, customer, account or service"))
    })
}

/// Seconds from the end of the newest cost day to `now` (how old the data is).
fn data_age_seconds(as_of: Option<time::Date>, now: time::OffsetDateTime) -> Option<i64> {
    let end = as_of?.next_day()?.midnight().assume_utc();
    Some((now - end).whole_seconds().max(0))
}

/// Today's date in the report time zone: where this month begins and ends.
fn today(state: &AppState) -> time::Date {
    state.config.reports.timezone.today(state.clock.now())
}
