//! What every Polo route function shares: app state, the error type and how it is shown,
//! content negotiation, table parameters, the page layout, identity, security headers and
//! the Lambda bootstrap.

pub mod access_log;
pub mod auth;
pub mod chart;
pub mod config;
pub mod error;
pub mod htmx;
pub mod identity;
pub mod lambda;
pub mod lambda_event;
pub mod layout;
pub mod metrics;
pub mod negotiate;
pub mod params;
pub mod path;
pub mod respond;
pub mod routes;
pub mod security;
pub mod settings;
pub mod state;
pub mod table;
pub mod table_route;
pub mod tabular;

pub use error::AppError;
pub use identity::CurrentUser;
pub use layout::Chrome;
pub use negotiate::Format;
pub use state::AppState;
