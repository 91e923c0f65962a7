//! Polo's domain: what runs in the fleet, what it costs, how it is configured, and how
//! the rest of Polo reads it ([`ports`]). Nothing here knows about AWS, HTTP or Lambda.

pub mod calendar;
pub mod clock;
pub mod config;
pub mod cop;
pub mod cost_changes;
pub mod costs;
pub mod drift;
pub mod json;
pub mod listing;
pub mod model;
pub mod money;
pub mod ports;
pub mod price_list;
pub mod pricing;
pub mod reports;
#[cfg(feature = "sample")]
pub mod sample;
pub mod search;
pub mod summary;
pub mod text;
pub mod utilization;

pub use clock::{Clock, FixedClock, SystemClock};
pub use money::Money;
