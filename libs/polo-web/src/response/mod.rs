//! Answering: HTML through askama templates in the page layout, JSON and CSV, the error page
//! and envelope, server-drawn charts, security headers.

pub(crate) mod chart;
pub(crate) mod errors;
pub(crate) mod layout;
pub(crate) mod percent_chart;
pub(crate) mod respond;
pub(crate) mod security;
pub(crate) mod waterfall;

pub use chart::Chart;
pub use errors::unavailable;
pub use layout::Chrome;
pub use percent_chart::PercentChart;
pub use respond::{csv, html, html_body, json};
pub use waterfall::Waterfall;
